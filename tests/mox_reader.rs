//! The mox reader against the fixtures' ground truth: every account, mailbox, message and queue
//! field that `inspect` reports, for both states, plus the lower-level API.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use mailvault::mox::{
    AccountDb, Bolt, FieldValue, FileClass, Source, Store, Value, classify, inspect, message_path,
    read_queue,
};
use serde_json::Value as Json;

const STATES: [&str; 2] = ["small-state1", "small-state2"];

/// `null` and "" (Go zero values in the truth) read as absent.
fn opt_str(v: &Json) -> Option<&str> {
    v.as_str().filter(|s| !s.is_empty())
}

/// A JSON list of strings; `null` is empty.
fn strs(v: &Json) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn i(v: &Json) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

fn b(v: &Json) -> bool {
    v.as_bool().unwrap_or_else(|| panic!("not a bool: {v}"))
}

#[test]
fn inspect_json_reproduces_ground_truth() {
    for state in STATES {
        let dir = common::extract_fixture(state);
        let truth = common::truth(state);
        let source = Source::locate(dir.path()).unwrap();
        let report = serde_json::to_value(inspect(&source, true).unwrap()).unwrap();
        check_against_truth(state, &report, &truth);
    }
}

fn check_against_truth(state: &str, report: &Json, truth: &Json) {
    let taccounts = truth["Accounts"].as_array().unwrap();
    let raccounts = report["accounts"].as_array().unwrap();
    assert_eq!(raccounts.len(), taccounts.len(), "{state}: accounts");
    let mut nmessages = 0;
    for (ta, ra) in taccounts.iter().zip(raccounts) {
        let name = ta["Name"].as_str().unwrap();
        let ctx = format!("{state}/{name}");
        assert_eq!(ra["name"], name, "{ctx}");
        assert_eq!(
            i(&ra["last_modseq"]),
            i(&ta["SyncStateLastModSeq"]),
            "{ctx}"
        );
        assert_eq!(
            i(&ra["highest_deleted_modseq"]),
            i(&ta["HighestDeletedModSeq"]),
            "{ctx}"
        );
        assert_eq!(
            i(&ra["message_sequence"]),
            i(&ta["MessageSequence"]),
            "{ctx}"
        );
        assert_eq!(i(&ra["message_erase"]), i(&ta["MessageErase"]), "{ctx}");
        assert_eq!(
            i(&ra["message_records"]),
            i(&ta["NumMessageRecords"]),
            "{ctx}"
        );
        assert_eq!(i(&ra["live_messages"]), i(&ta["NumLiveMessages"]), "{ctx}");

        let tmb = ta["Mailboxes"].as_array().unwrap();
        let rmb = ra["mailboxes"].as_array().unwrap();
        assert_eq!(rmb.len(), tmb.len(), "{ctx}: mailboxes");
        for (t, r) in tmb.iter().zip(rmb) {
            let ctx = format!("{ctx}/{}", t["Name"].as_str().unwrap());
            let pairs = [
                ("id", "ID"),
                ("parent_id", "ParentID"),
                ("createseq", "CreateSeq"),
                ("modseq", "ModSeq"),
                ("uidvalidity", "UIDValidity"),
                ("uidnext", "UIDNext"),
                ("messages", "Messages"),
                ("expunged_records", "ExpungedRecords"),
                ("max_message_modseq", "MaxMessageModSeq"),
                ("max_message_modseq", "IndexMaxModSeq"),
                ("live_size", "LiveSize"),
            ];
            for (rk, tk) in pairs {
                assert_eq!(i(&r[rk]), i(&t[tk]), "{ctx}: {rk} vs {tk}");
            }
            for (rk, tk) in [
                ("total", "Total"),
                ("deleted", "Deleted"),
                ("unread", "Unread"),
                ("unseen", "Unseen"),
                ("size", "Size"),
            ] {
                assert_eq!(i(&r[rk]), i(&t["Counts"][tk]), "{ctx}: {rk}");
            }
            assert_eq!(r["name"], t["Name"], "{ctx}");
            assert_eq!(b(&r["expunged"]), b(&t["Expunged"]), "{ctx}");
            assert_eq!(strs(&r["keywords"]), strs(&t["Keywords"]), "{ctx}");
            let su = &t["SpecialUse"];
            let want: Vec<String> = [
                ("Archive", "\\Archive"),
                ("Draft", "\\Drafts"),
                ("Junk", "\\Junk"),
                ("Sent", "\\Sent"),
                ("Trash", "\\Trash"),
            ]
            .iter()
            .filter(|(k, _)| b(&su[*k]))
            .map(|(_, n)| n.to_string())
            .collect();
            assert_eq!(strs(&r["special_use"]), want, "{ctx}");
        }

        let tm = ta["Messages"].as_array().unwrap();
        let rm = ra["messages"].as_array().unwrap();
        assert_eq!(rm.len(), tm.len(), "{ctx}: messages");
        for (t, r) in tm.iter().zip(rm) {
            let ctx = format!("{ctx}/message {}", t["ID"]);
            for (rk, tk) in [
                ("id", "ID"),
                ("mailbox_id", "MailboxID"),
                ("uid", "UID"),
                ("modseq", "ModSeq"),
                ("createseq", "CreateSeq"),
                ("size", "Size"),
                ("msgprefix_len", "MsgPrefix"),
                ("thread_id", "ThreadID"),
            ] {
                assert_eq!(i(&r[rk]), i(&t[tk]), "{ctx}: {rk}");
            }
            assert_eq!(b(&r["expunged"]), b(&t["Expunged"]), "{ctx}");
            assert_eq!(opt_str(&r["path"]), opt_str(&t["Path"]), "{ctx}: path");
            assert_eq!(strs(&r["flags"]), strs(&t["Flags"]), "{ctx}: flags");
            assert_eq!(
                strs(&r["keywords"]),
                strs(&t["Keywords"]),
                "{ctx}: keywords"
            );
            assert_eq!(
                opt_str(&r["received"]),
                opt_str(&t["Received"]),
                "{ctx}: received"
            );
            assert_eq!(
                opt_str(&r["message_id"]),
                opt_str(&t["MessageID"]),
                "{ctx}: message_id"
            );
            nmessages += 1;
        }
    }
    assert!(
        nmessages > 300,
        "{state}: only {nmessages} messages compared"
    );

    let tq = truth["Queue"].as_array().unwrap();
    let rq = report["queue"].as_array().unwrap();
    assert_eq!(rq.len(), tq.len(), "{state}: queue");
    for (t, r) in tq.iter().zip(rq) {
        let ctx = format!("{state}/queue {}", t["ID"]);
        for (rk, tk) in [
            ("id", "ID"),
            ("base_id", "BaseID"),
            ("size", "Size"),
            ("msgprefix_len", "MsgPrefix"),
        ] {
            assert_eq!(i(&r[rk]), i(&t[tk]), "{ctx}: {rk}");
        }
        assert_eq!(r["path"], t["Path"], "{ctx}");
        assert_eq!(r["hold"], t["Hold"], "{ctx}");
        assert_eq!(r["sender"], t["Sender"], "{ctx}");
        assert_eq!(r["recipient"], t["Recipient"], "{ctx}");
    }

    // Every database in the data dir is reported with its page count.
    let dbs: Vec<&str> = report["databases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    for f in truth["Files"].as_array().unwrap() {
        let p = f["Path"].as_str().unwrap();
        if p.ends_with(".db") {
            assert!(dbs.contains(&p), "{state}: database {p} not reported");
        }
    }
    for d in report["databases"].as_array().unwrap() {
        assert!(i(&d["pages"]) >= 4, "{state}: {d}");
        assert_eq!(i(&d["page_size"]), 4096, "{state}: {d}");
    }
}

#[test]
fn cli_inspect_json_matches_the_library() {
    let dir = common::extract_fixture("small-state2");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mailvault"))
        .args(["inspect", "--json", "--messages"])
        .arg(dir.path().join("config/mox.conf"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Json = serde_json::from_slice(&out.stdout).unwrap();
    check_against_truth(
        "small-state2 (cli)",
        &printed,
        &common::truth("small-state2"),
    );

    // Without --json: a human summary naming every account.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mailvault"))
        .arg("inspect")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for a in [
        "account alice",
        "account bob",
        "account carol",
        "queue: 4 messages",
    ] {
        assert!(text.contains(a), "{a} missing from:\n{text}");
    }
}

#[test]
fn source_is_located_from_conf_root_or_data_dir() {
    let dir = common::extract_fixture("small-state1");
    let data = dir.path().join("data").canonicalize().unwrap();
    let from_conf = Source::locate(&dir.path().join("config/mox.conf")).unwrap();
    let from_root = Source::locate(dir.path()).unwrap();
    let from_data = Source::locate(&dir.path().join("data")).unwrap();
    for s in [&from_conf, &from_root, &from_data] {
        assert_eq!(s.data_dir.canonicalize().unwrap(), data);
        assert_eq!(s.accounts, ["alice", "bob", "carol"]);
        assert!(s.accounts_configured);
    }
    // The data dir's sibling config/ is found, since its DataDir points back.
    assert_eq!(
        from_data
            .config_dir
            .as_ref()
            .unwrap()
            .canonicalize()
            .unwrap(),
        dir.path().join("config").canonicalize().unwrap()
    );
    // A data dir alone (no config next to it): its account directories are the accounts.
    let elsewhere = tempfile::tempdir().unwrap();
    let moved = elsewhere.path().join("mail");
    std::fs::rename(dir.path().join("data"), &moved).unwrap();
    std::fs::create_dir(moved.join("accounts/zed")).unwrap();
    let alone = Source::locate(&moved).unwrap();
    assert!(alone.config_dir.is_none() && !alone.accounts_configured);
    assert_eq!(alone.accounts, ["alice", "bob", "carol", "zed"]);
    assert!(Source::locate(&dir.path().join("config/domains.conf")).is_err());
    let empty = tempfile::tempdir().unwrap();
    assert!(Source::locate(empty.path()).is_err());
}

#[test]
fn files_are_classified_like_the_reference_backup() {
    let dir = common::extract_fixture("small-state1");
    let truth = common::truth("small-state1");
    let source = Source::locate(dir.path()).unwrap();
    let mut live: BTreeMap<String, i64> = BTreeMap::new();
    for a in truth["Accounts"].as_array().unwrap() {
        for m in a["Messages"].as_array().unwrap() {
            if !b(&m["Expunged"]) {
                let p = format!(
                    "accounts/{}/{}",
                    a["Name"].as_str().unwrap(),
                    m["Path"].as_str().unwrap()
                );
                live.insert(p, i(&m["ID"]));
            }
        }
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for f in truth["Files"].as_array().unwrap() {
        let p = f["Path"].as_str().unwrap();
        let class = classify(p, &source);
        let kind = match &class {
            FileClass::GlobalDb => "global",
            FileClass::QueueDb => "queuedb",
            FileClass::QueueMessage(id) => {
                assert_eq!(p, format!("queue/{}", message_path(*id)));
                "queuemsg"
            }
            FileClass::AccountDb { .. } => "accountdb",
            FileClass::JunkDb { account } | FileClass::JunkBloom { account } => {
                assert_eq!(account, "alice");
                "junk"
            }
            FileClass::AccountMessage { id, .. } => {
                assert_eq!(live.get(p), Some(id), "{p}");
                "msg"
            }
            FileClass::ReceivedIdKey => "key",
            other => panic!("{p}: unexpected {other:?}"),
        };
        *counts.entry(kind).or_default() += 1;
    }
    assert_eq!(counts["global"], 6);
    assert_eq!(counts["queuedb"], 1);
    assert_eq!(counts["queuemsg"], 5);
    assert_eq!(counts["accountdb"], 3);
    assert_eq!(counts["junk"], 2);
    assert_eq!(counts["key"], 1);
    // Every live message has its file, and each file is a live message (no pending erasures).
    assert_eq!(counts["msg"], live.len());
    assert_eq!(live.len(), 336);
}

#[test]
fn account_db_index_seeks_agree_with_records() {
    for state in STATES {
        let dir = common::extract_fixture(state);
        for account in ["alice", "bob", "carol"] {
            let path = dir.path().join(format!("data/accounts/{account}/index.db"));
            let db = AccountDb::open(&path).unwrap();
            let messages = db.messages().unwrap();
            assert_eq!(
                db.message_sequence().unwrap(),
                messages.iter().map(|m| m.id).max().unwrap() as u64
            );
            assert!(db.message_erase_ids().unwrap().is_empty());
            for mb in db.mailboxes().unwrap() {
                let mut mine: Vec<(i64, i64)> = messages
                    .iter()
                    .filter(|m| m.mailbox_id == mb.id)
                    .map(|m| (m.modseq, m.id))
                    .collect();
                mine.sort();
                let max = mine.iter().map(|x| x.0).max();
                assert_eq!(
                    db.max_message_modseq(mb.id).unwrap(),
                    max,
                    "{account}/{}",
                    mb.name
                );
                // The mailbox's own modseq is a high-water mark of its messages' modseqs.
                assert!(max.unwrap_or(0) <= mb.modseq);
                for after in [0, 1, 50, 100, 149, 150, 163, 1000] {
                    let want: Vec<(i64, i64)> =
                        mine.iter().copied().filter(|(ms, _)| *ms > after).collect();
                    assert_eq!(
                        db.changed_since(mb.id, after).unwrap(),
                        want,
                        "{state} {account}/{} after {after}",
                        mb.name
                    );
                }
            }
            assert_eq!(db.max_message_modseq(9999).unwrap(), None);
            assert!(db.changed_since(9999, 0).unwrap().is_empty());
            for m in messages.iter().step_by(7) {
                assert_eq!(db.message(m.id).unwrap().as_ref(), Some(m));
            }
            assert_eq!(db.message(0).unwrap(), None);
            assert_eq!(db.message(1_000_000).unwrap(), None);
        }
    }
}

#[test]
fn state_diff_matches_modseq_comparison() {
    let diff: Json = serde_json::from_str(
        &std::fs::read_to_string(common::fixtures_dir().join("small-diff.json")).unwrap(),
    )
    .unwrap();
    let mut reports = Vec::new();
    for state in STATES {
        let dir = common::extract_fixture(state);
        reports.push(inspect(&Source::locate(dir.path()).unwrap(), false).unwrap());
    }
    for d in diff["mailboxes"].as_array().unwrap() {
        let account = d["account"].as_str().unwrap();
        let id = i(&d["id"]);
        let find = |k: usize| {
            let a = reports[k]
                .accounts
                .iter()
                .find(|a| a.name == account)
                .unwrap();
            a.mailboxes.iter().find(|m| m.id == id).unwrap().clone()
        };
        let (before, after) = (find(0), find(1));
        assert_eq!(before.modseq, i(&d["modseq_before"]));
        assert_eq!(after.modseq, i(&d["modseq_after"]));
        assert_eq!(before.messages as i64, i(&d["messages_before"]));
        assert_eq!(after.messages as i64, i(&d["messages_after"]));
        assert_eq!(
            before.modseq != after.modseq,
            b(&d["changed"]),
            "{account}/{id}"
        );
    }
    for d in diff["accounts"].as_array().unwrap() {
        let account = d["account"].as_str().unwrap();
        let lm = |k: usize| {
            reports[k]
                .accounts
                .iter()
                .find(|a| a.name == account)
                .unwrap()
                .last_modseq
        };
        assert_eq!(lm(0), i(&d["lastmodseq_before"]));
        assert_eq!(lm(1), i(&d["lastmodseq_after"]));
    }
}

/// Every record of every bstore type in every fixture database decodes.
#[test]
fn every_record_of_every_database_decodes() {
    for state in STATES {
        let dir = common::extract_fixture(state);
        let truth = common::truth(state);
        let data = dir.path().join("data");
        let mut dbs = Vec::new();
        for f in truth["Files"].as_array().unwrap() {
            let p = f["Path"].as_str().unwrap();
            if p.ends_with(".db") {
                dbs.push(p.to_string());
            }
        }
        assert_eq!(dbs.len(), 11);
        let mut total = 0;
        for rel in &dbs {
            let bolt = Bolt::open(&data.join(rel)).unwrap();
            let store = Store::new(&bolt);
            let types = store.type_names().unwrap();
            assert!(!types.is_empty(), "{rel}");
            for t in &types {
                let schema = store.schema(t).unwrap();
                for r in store.records(t).unwrap() {
                    let (_, rec) = r.unwrap_or_else(|e| panic!("{rel}: {e}"));
                    assert_eq!(rec.fields.len() + 1, schema.latest().fields().len());
                    total += 1;
                }
                // The sequence is at least every id in use, for int64 keys.
                let seq = store.sequence(t).unwrap();
                for r in store.records(t).unwrap() {
                    if let Some(id) = r.unwrap().0.as_i64() {
                        assert!(
                            id as u64 <= seq || seq == 0,
                            "{rel} {t}: id {id} > seq {seq}"
                        );
                    }
                }
            }
            if rel.starts_with("accounts/") && rel.ends_with("index.db") {
                let account = rel.split('/').nth(1).unwrap();
                let ta = truth["Accounts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|a| a["Name"] == account)
                    .unwrap();
                let want: Vec<String> = ta["TypeVersions"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .cloned()
                    .collect();
                let mut got = types.clone();
                got.sort();
                assert_eq!(got, want, "{rel}");
                assert_eq!(i(&ta["NextUIDValidity"]), {
                    let (_, r) = store
                        .records("NextUIDValidity")
                        .unwrap()
                        .next()
                        .unwrap()
                        .unwrap();
                    r.i64("Next")
                });
                let (_, du) = store.records("DiskUsage").unwrap().next().unwrap().unwrap();
                assert_eq!(du.i64("MessageSize"), i(&ta["DiskUsage"]), "{rel}");
                let (_, up) = store.records("Upgrade").unwrap().next().unwrap().unwrap();
                assert_eq!(up.i64("Threads"), i(&ta["Upgrade"]["Threads"]));
                assert_eq!(up.bool("MailboxModSeq"), b(&ta["Upgrade"]["MailboxModSeq"]));
            }
        }
        assert!(total > 700, "{state}: {total} records");
    }
}

#[test]
fn queue_structs_and_references_decode() {
    let dir = common::extract_fixture("small-state1");
    let path = dir.path().join("data/queue/index.db");
    let q = read_queue(&path).unwrap();
    assert_eq!(q.iter().map(|m| m.id).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    assert_eq!(q[1].base_id, 1);
    let bolt = Bolt::open(&path).unwrap();
    let store = Store::new(&bolt);
    let (_, rec) = store.records("Msg").unwrap().next().unwrap().unwrap();
    // RecipientDomain refers to SenderDomain's struct type by sequence (-2).
    let dom = rec.get("RecipientDomain").field("Domain").field("ASCII");
    assert_eq!(dom, &FieldValue::String("example.net".into()));
    assert_eq!(
        rec.get("SenderDomain")
            .field("Domain")
            .field("ASCII")
            .as_str(),
        "example.org"
    );
    assert_eq!(store.sequence("Msg").unwrap(), 5);
}

#[test]
fn bbolt_cursor_walks_both_ways_and_seeks() {
    let dir = common::extract_fixture("small-state2");
    let path = dir.path().join("data/accounts/alice/index.db");
    let bolt = Bolt::open(&path).unwrap();
    let records = bolt
        .root()
        .bucket(b"Message")
        .unwrap()
        .unwrap()
        .bucket(b"records")
        .unwrap()
        .unwrap();
    let keys: Vec<Vec<u8>> = records.iter().map(|e| e.unwrap().0.to_vec()).collect();
    assert_eq!(keys.len(), 162);
    assert!(keys.windows(2).all(|w| w[0] < w[1]));
    // Backwards gives the same keys reversed.
    let mut c = records.cursor();
    let mut back = Vec::new();
    let mut e = c.last().unwrap();
    while let Some((k, _)) = e {
        back.push(k.to_vec());
        e = c.prev().unwrap();
    }
    back.reverse();
    assert_eq!(back, keys);
    // Seek finds each key, and the next key for a key in between.
    for (n, k) in keys.iter().enumerate() {
        let (found, _) = c.seek(k).unwrap().unwrap();
        assert_eq!(found, &k[..]);
        let mut between = k.clone();
        between.push(0);
        let next = c.seek(&between).unwrap().map(|(k, _)| k.to_vec());
        assert_eq!(next, keys.get(n + 1).cloned());
    }
    assert!(c.seek(&[0xff; 9]).unwrap().is_none());
    assert_eq!(c.seek(&[]).unwrap().unwrap().0, &keys[0][..]);
    // Values are data, sub-buckets are buckets.
    for e in bolt.root().iter() {
        assert!(matches!(e.unwrap().1, Value::Bucket(_)));
    }
    assert!(bolt.root().get(b"Message").unwrap().is_none());
    assert!(records.bucket(&keys[0]).unwrap().is_none());
    assert!(bolt.page_count() * u64::from(bolt.page_size()) <= bolt.file_len());
}

#[test]
fn copy_database_copies_the_bytes() {
    let dir = common::extract_fixture("small-state1");
    let live = dir.path().join("data/accounts/bob/index.db");
    let dest = dir.path().join("copy.db");
    let n = mailvault::mox::copy_database(&live, &dest).unwrap();
    assert_eq!(n, std::fs::metadata(&live).unwrap().len());
    assert_eq!(std::fs::read(&dest).unwrap(), std::fs::read(&live).unwrap());
    // The destination must not exist yet.
    assert!(mailvault::mox::copy_database(&live, &dest).is_err());
    assert!(
        mailvault::mox::copy_database(Path::new("/nonexistent/x.db"), &dir.path().join("y"))
            .is_err()
    );
}

fn lock(path: &Path, op: rustix::fs::FlockOperation) -> std::fs::File {
    let f = std::fs::File::open(path).unwrap();
    rustix::fs::flock(&f, op).unwrap();
    f
}

#[test]
fn locked_database_means_server_running() {
    use rustix::fs::FlockOperation;
    let dir = common::extract_fixture("small-state1");
    let live = dir.path().join("data/accounts/alice/index.db");
    // A running mox holds LOCK_EX on its open databases (a separate open file description).
    let held = lock(&live, FlockOperation::NonBlockingLockExclusive);
    let (tx, rx) = std::sync::mpsc::channel();
    let (l, d) = (live.clone(), dir.path().join("copy.db"));
    std::thread::spawn(move || tx.send(mailvault::mox::copy_database(&l, &d)).unwrap());
    // Non-blocking: the answer comes at once (a blocking lock would never return here).
    let err = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("copy_database blocked on a locked database")
        .unwrap_err();
    assert!(matches!(&err, mailvault::mox::MoxError::ServerRunning { path } if path == &live));
    let msg = err.to_string();
    for needle in [
        "server is running",
        "--via-ctl",
        "stop mox",
        "snapshot",
        "alice/index.db",
    ] {
        assert!(msg.contains(needle), "{needle:?} missing from {msg}");
    }
    assert!(
        !dir.path().join("copy.db").exists(),
        "partial copy left behind"
    );
    // inspect says the same.
    let source = Source::locate(dir.path()).unwrap();
    let err = inspect(&source, false).unwrap_err();
    assert!(
        matches!(err, mailvault::mox::MoxError::ServerRunning { .. }),
        "{err}"
    );
    drop(held);

    // Other readers (shared locks) do not stand in the way, and the copy releases its lock at
    // once: an exclusive lock can be taken right after.
    let reader = lock(&live, FlockOperation::NonBlockingLockShared);
    mailvault::mox::copy_database(&live, &dir.path().join("copy.db")).unwrap();
    drop(reader);
    let _exclusive = lock(&live, FlockOperation::NonBlockingLockExclusive);
}

#[test]
fn readers_can_move_across_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<AccountDb>();
    send_sync::<Bolt>();
    send_sync::<Source>();
    send_sync::<mailvault::mox::InspectReport>();
}

#[test]
fn projected_decoding_agrees_with_full_decoding() {
    let dir = common::extract_fixture("small-state2");
    let bolt = Bolt::open(&dir.path().join("data/accounts/alice/index.db")).unwrap();
    let store = Store::new(&bolt);
    const ONLY: &[&str] = &["UID", "MsgPrefix", "Keywords", "Received", "ParsedBuf"];
    let full: Vec<_> = store
        .records("Message")
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let part: Vec<_> = store
        .records_only("Message", ONLY)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(full.len(), part.len());
    let mut nonzero = 0;
    for ((fk, f), (pk, p)) in full.iter().zip(&part) {
        assert_eq!(fk, pk);
        assert_eq!(p.fields.len(), ONLY.len());
        for name in ONLY {
            assert_eq!(f.get(name), p.get(name), "{fk:?} {name}");
            nonzero += usize::from(*p.get(name) != FieldValue::Zero);
        }
        assert_eq!(p.get("Preview"), &FieldValue::Zero);
    }
    assert!(nonzero > 400);
}

#[test]
fn configured_account_without_database_and_absolute_data_dir() {
    let dir = common::extract_fixture("small-state1");
    let data = dir.path().join("data");
    // mox creates an account's directory on first use: a configured account may have none.
    std::fs::remove_dir_all(data.join("accounts/carol")).unwrap();
    // A stray directory of an account that is not configured is not read as an account.
    std::fs::create_dir_all(data.join("accounts/zed")).unwrap();
    // An absolute DataDir in a mox.conf elsewhere.
    let conf_dir = tempfile::tempdir().unwrap();
    let conf = std::fs::read_to_string(dir.path().join("config/mox.conf"))
        .unwrap()
        .replace("DataDir: ../data", &format!("DataDir: {}", data.display()));
    std::fs::write(conf_dir.path().join("mox.conf"), conf).unwrap();
    std::fs::copy(
        dir.path().join("config/domains.conf"),
        conf_dir.path().join("domains.conf"),
    )
    .unwrap();
    let source = Source::locate(&conf_dir.path().join("mox.conf")).unwrap();
    assert_eq!(source.data_dir, data);
    assert_eq!(source.accounts, ["alice", "bob", "carol"]);
    assert_eq!(classify("accounts/zed/index.db", &source), FileClass::Other);
    let report = inspect(&source, true).unwrap();
    let carol = &report.accounts[2];
    assert_eq!(carol.name, "carol");
    assert!(!carol.has_database && carol.mailboxes.is_empty());
    assert_eq!(carol.messages.as_ref().map(Vec::len), Some(0));
    assert!(report.accounts[0].has_database && report.accounts[1].has_database);
    // The data dir's own sibling config still names the configured accounts only.
    let from_data = Source::locate(&data).unwrap();
    assert_eq!(from_data.accounts, ["alice", "bob", "carol"]);
}

#[test]
fn message_iterator_matches_the_list() {
    let dir = common::extract_fixture("small-state2");
    let db = AccountDb::open(&dir.path().join("data/accounts/bob/index.db")).unwrap();
    let list = db.messages().unwrap();
    let iter: Vec<_> = db.messages_iter().unwrap().map(Result::unwrap).collect();
    assert_eq!(list, iter);
    // The page-dropping walk agrees with the cursor over the cached pages.
    let by_cursor: Vec<_> = db
        .store()
        .records("Message")
        .unwrap()
        .map(|r| {
            let (k, rec) = r.unwrap();
            mailvault::mox::Message::from_record(&k, &rec)
        })
        .collect();
    assert_eq!(list, by_cursor);
    assert_eq!(list.len(), 110);
    assert_eq!(list.iter().filter(|m| m.expunged).count(), 4);
    // Tombstones keep ids and modseqs but no content.
    for m in list.iter().filter(|m| m.expunged) {
        assert!(m.uid > 0 && m.modseq >= m.createseq && m.size == 0 && m.msgprefix.is_empty());
    }
}

/// The fixtures exercise inline buckets, multi-level trees and overflow pages.
#[test]
fn fixtures_cover_inline_buckets_branches_and_overflow() {
    fn visit(b: mailvault::mox::Bucket<'_>, stats: &mut (usize, usize, usize)) {
        if b.is_inline() {
            stats.0 += 1;
        }
        for e in b.iter() {
            match e.unwrap() {
                (_, Value::Bucket(sub)) => visit(sub, stats),
                (_, Value::Data(v)) => {
                    if v.len() > 4096 {
                        stats.1 += 1;
                    }
                    stats.2 += 1;
                }
            }
        }
    }
    let dir = common::extract_fixture("small-state2");
    let bolt = Bolt::open(&dir.path().join("data/accounts/alice/index.db")).unwrap();
    let mut stats = (0, 0, 0);
    visit(bolt.root(), &mut stats);
    let (inline, big, values) = stats;
    assert!(inline > 10, "{stats:?}");
    assert!(big > 0, "no value spans overflow pages: {stats:?}");
    assert!(values > 1000, "{stats:?}");
    // More records than fit one leaf: the tree has branch pages.
    let records = bolt.root().bucket(b"Message").unwrap().unwrap();
    let records = records.bucket(b"records").unwrap().unwrap();
    assert!(!records.is_inline());
    let mut c = records.cursor();
    c.first().unwrap();
    let first_page = c.page_id();
    c.last().unwrap();
    assert_ne!(first_page, c.page_id(), "first and last record on one page");
}

/// A no-change check reads a few pages, not the file; a full message walk keeps no pages.
#[test]
fn lazy_reads_touch_only_what_a_query_needs() {
    let dir = common::extract_fixture("small-state2");
    let db = AccountDb::open(&dir.path().join("data/accounts/alice/index.db")).unwrap();
    let total = db.bolt().page_count();
    assert!(total > 200);
    db.sync_state().unwrap();
    for mb in db.mailboxes().unwrap() {
        db.max_message_modseq(mb.id).unwrap();
    }
    let read = db.bolt().pages_read();
    assert!(
        read > 0 && read * 10 < total,
        "read {read} of {total} pages"
    );
    let cached = db.bolt().cached_pages();
    let n = db.messages().unwrap().len();
    assert_eq!(n, 162);
    // The walk read the message pages but did not keep them.
    assert!(db.bolt().pages_read() > read + 20);
    assert!(
        db.bolt().cached_pages() <= cached + 8,
        "walk filled the cache"
    );
}

#[test]
fn cli_inspect_reports_a_running_server() {
    use rustix::fs::FlockOperation;
    let dir = common::extract_fixture("small-state1");
    let _held = lock(
        &dir.path().join("data/queue/index.db"),
        FlockOperation::NonBlockingLockExclusive,
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mailvault"))
        .arg("inspect")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("queue/index.db")
            && err.contains("server is running")
            && err.contains("--via-ctl"),
        "{err}"
    );
}
