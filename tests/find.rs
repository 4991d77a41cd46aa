//! `find`, `dump`, the mail listings of `ls` and the message lines of `diff`, against the
//! ground truth of the mox fixtures and headers read from the fixtures' message files.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{Installation, sha256_hex};
use mailvault::{
    Finder, MessageFilter, MoxBackupOptions, NoProgress, Repository, SnapshotId, backup_mox, find,
    message_content,
};
use serde_json::Value;

/// A live message of the ground truth, with what its file says.
#[derive(Debug, Clone)]
struct TruthMessage {
    account: String,
    mailbox: String,
    id: i64,
    uid: u64,
    size: u64,
    full_sha256: String,
    message_id: String,
    subject: String,
    from: String,
}

/// Backs up state 1, then state 2, of one installation into one repository.
struct Fixture {
    _dir: tempfile::TempDir,
    repo_path: PathBuf,
    repo: Repository,
    a: SnapshotId,
    b: SnapshotId,
}

fn two_snapshots() -> Fixture {
    let inst = Installation::new("small-state1");
    let dir = tempfile::tempdir().unwrap();
    let repo_path = dir.path().join("repo");
    let repo = Repository::init(&repo_path).unwrap();
    let opts = MoxBackupOptions::default();
    let a = backup_mox(&repo, &inst.root, &opts, &NoProgress).unwrap();
    inst.switch_to("small-state2");
    let b = backup_mox(&repo, &inst.root, &opts, &NoProgress).unwrap();
    assert!(a.complete && b.complete);
    Fixture {
        _dir: dir,
        repo_path,
        repo,
        a: a.snapshot,
        b: b.snapshot,
    }
}

/// The unfolded value of the first header field `name` of a message file (test's own reading:
/// CRLF or LF lines, continuation lines joined with one space).
fn header_field(data: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(data);
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.split('\n') {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            break;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some(last) = fields.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((n, v)) = line.split_once(':') {
            fields.push((n.to_string(), v.trim().to_string()));
        }
    }
    fields
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Decodes `=?utf-8?b?...?=` and `=?utf-8?q?...?=` words (the encodings the fixtures' subjects
/// use), so the test knows the subject a reader shows.
fn decode_b_words(value: &str) -> String {
    fn b64(s: &str) -> Vec<u8> {
        let table = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = Vec::new();
        let (mut acc, mut bits) = (0u32, 0);
        for c in s.bytes().take_while(|&c| c != b'=') {
            let v = table.iter().position(|&t| t == c).unwrap() as u32;
            acc = (acc << 6) | v;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
            }
        }
        out
    }
    value
        .split(' ')
        .map(|word| {
            if let Some(enc) = word
                .strip_prefix("=?utf-8?b?")
                .and_then(|w| w.strip_suffix("?="))
            {
                return String::from_utf8(b64(enc)).unwrap();
            }
            if let Some(enc) = word
                .strip_prefix("=?utf-8?q?")
                .and_then(|w| w.strip_suffix("?="))
            {
                let mut out = Vec::new();
                let mut bytes = enc.bytes();
                while let Some(c) = bytes.next() {
                    match c {
                        b'=' => {
                            let hex = [bytes.next().unwrap(), bytes.next().unwrap()];
                            let hex = std::str::from_utf8(&hex).unwrap();
                            out.push(u8::from_str_radix(hex, 16).unwrap());
                        }
                        b'_' => out.push(b' '),
                        c => out.push(c),
                    }
                }
                return String::from_utf8(out).unwrap();
            }
            word.to_string()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every live message of a fixture state: the truth, and the Subject and From of its file.
fn truth_messages(state: &str) -> Vec<TruthMessage> {
    let truth = common::truth(state);
    let files = common::extract_fixture(state);
    let mut out = Vec::new();
    for account in truth["Accounts"].as_array().unwrap() {
        let name = account["Name"].as_str().unwrap();
        for m in account["Messages"].as_array().unwrap() {
            if m["Expunged"].as_bool().unwrap() {
                continue;
            }
            let path = files
                .path()
                .join("data/accounts")
                .join(name)
                .join(m["Path"].as_str().unwrap());
            let data = std::fs::read(&path).unwrap();
            assert_eq!(sha256_hex(&data), m["FileSHA256"].as_str().unwrap());
            out.push(TruthMessage {
                account: name.to_string(),
                mailbox: m["Mailbox"].as_str().unwrap().to_string(),
                id: m["ID"].as_i64().unwrap(),
                uid: m["UID"].as_u64().unwrap(),
                size: m["Size"].as_u64().unwrap(),
                full_sha256: m["FullSHA256"].as_str().unwrap().to_string(),
                message_id: m["MessageID"].as_str().unwrap().to_string(),
                subject: decode_b_words(&header_field(&data, "Subject").unwrap_or_default()),
                from: header_field(&data, "From").unwrap_or_default(),
            });
        }
    }
    out
}

fn cli(repo: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailvault"))
        .env_remove("MAILVAULT_REPO")
        .arg("-r")
        .arg(repo)
        .args(args)
        .output()
        .unwrap()
}

fn json_lines(o: &Output) -> Vec<Value> {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn every_live_message_is_found_by_message_id_and_subject_in_its_snapshot_and_mailbox() {
    let f = two_snapshots();
    let snapshots = f.repo.snapshots().unwrap();
    assert_eq!(snapshots.len(), 2);
    // One pass over both snapshots with no criteria: every message with its header.
    let (all, stats) = find(&f.repo, &snapshots, &MessageFilter::default(), &NoProgress).unwrap();
    assert_eq!(stats.problems, 0);
    // Every account database changed between the states: each is read once per snapshot, and
    // mox's parsed headers in the records mean no message file is read.
    assert_eq!(stats.databases_read, 6);
    assert_eq!(stats.files_read, 0);

    for (state, snap) in [("small-state1", f.a), ("small-state2", f.b)] {
        let truth = truth_messages(state);
        let got: Vec<_> = all.iter().filter(|m| m.snapshot == snap).collect();
        assert_eq!(got.len(), truth.len(), "{state}");
        let by_key: HashMap<(&str, i64), _> = got
            .iter()
            .map(|m| ((m.account.as_str(), m.id), *m))
            .collect();
        for t in &truth {
            let m = by_key[&(t.account.as_str(), t.id)];
            assert_eq!(m.mailbox, t.mailbox, "{t:?}");
            assert_eq!(u64::from(m.uid), t.uid, "{t:?}");
            assert_eq!(m.size, t.size, "{t:?}");
            assert_eq!(m.header.message_id, t.message_id, "{t:?}");
            assert_eq!(m.header.subject, t.subject, "{t:?}");
            // The From of the file names the address the search shows.
            let addr = t.from.rsplit('<').next().unwrap().trim_end_matches('>');
            assert!(
                m.header.from.contains(addr),
                "{} vs {}",
                m.header.from,
                t.from
            );
        }
    }

    // Each message by its Message-ID, in one snapshot at a time, through the Finder.
    for (state, snap) in [("small-state1", f.a), ("small-state2", f.b)] {
        let snapshot = f.repo.load_snapshot(&snap).unwrap();
        let mut finder = Finder::new(&f.repo);
        for t in truth_messages(state) {
            let mut found = Vec::new();
            let filter = MessageFilter {
                message_id: Some(format!("<{}>", t.message_id.to_uppercase())),
                ..Default::default()
            };
            finder
                .search(&snap, &snapshot, &filter, &NoProgress, &mut |m| {
                    found.push(m)
                })
                .unwrap();
            assert!(
                found
                    .iter()
                    .any(|m| m.account == t.account && m.id == t.id && m.mailbox == t.mailbox),
                "{state}: {t:?} not found by Message-ID: {found:?}"
            );
            assert!(found.iter().all(|m| m.header.message_id == t.message_id));

            let mut found = Vec::new();
            let filter = MessageFilter {
                account: Some(t.account.clone()),
                subject: Some(t.subject.to_lowercase()),
                ..Default::default()
            };
            finder
                .search(&snap, &snapshot, &filter, &NoProgress, &mut |m| {
                    found.push(m)
                })
                .unwrap();
            assert!(
                found.iter().any(|m| m.id == t.id && m.mailbox == t.mailbox),
                "{state}: {t:?} not found by subject"
            );
            assert!(found.iter().all(|m| {
                m.header
                    .subject
                    .to_lowercase()
                    .contains(&t.subject.to_lowercase())
            }));
        }
        // The database of each account was read once for all these searches.
        assert_eq!(finder.stats.databases_read, 3);
    }
}

#[test]
fn a_message_deleted_in_the_second_state_is_found_in_the_first_snapshot_only() {
    let f = two_snapshots();
    let before: BTreeMap<(String, i64), TruthMessage> = truth_messages("small-state1")
        .into_iter()
        .map(|t| ((t.account.clone(), t.id), t))
        .collect();
    let after: BTreeSet<(String, i64)> = truth_messages("small-state2")
        .into_iter()
        .map(|t| (t.account, t.id))
        .collect();
    let deleted: Vec<&TruthMessage> = before
        .iter()
        .filter(|(k, _)| !after.contains(*k))
        .map(|(_, t)| t)
        .collect();
    assert_eq!(
        deleted.len(),
        3,
        "the fixture deletes three of alice's messages"
    );
    for t in deleted {
        // Through the binary, over every snapshot (the default).
        let lines = json_lines(&cli(
            &f.repo_path,
            &["--json", "find", "--message-id", &t.message_id],
        ));
        let matches: Vec<&Value> = lines.iter().filter(|l| l["type"] == "message").collect();
        assert!(!matches.is_empty(), "{t:?}");
        for m in &matches {
            assert_eq!(m["snapshot"], f.a.to_hex(), "{t:?} found in {m}");
            assert_eq!(m["account"], t.account.as_str());
            assert_eq!(m["mailbox"], t.mailbox.as_str());
            assert_eq!(m["uid"], t.uid);
        }
        let summary = lines.last().unwrap();
        assert_eq!(summary["type"], "summary");
        assert_eq!(summary["snapshots"], 2);
        assert_eq!(summary["matches"], matches.len());
    }
}

#[test]
fn find_filters_by_mailbox_sender_and_received_time() {
    let f = two_snapshots();
    let truth = common::truth("small-state2");
    let received: Vec<(String, String, i64)> = truth["Accounts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| {
            let name = a["Name"].as_str().unwrap().to_string();
            a["Messages"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(move |m| {
                    let r = m["Received"].as_str()?;
                    (!m["Expunged"].as_bool().unwrap())
                        .then(|| (name.clone(), r.to_string(), m["ID"].as_i64().unwrap()))
                })
        })
        .collect();
    // A window on the received times of the truth: the messages in it, no others.
    let mut times: Vec<&str> = received.iter().map(|(_, r, _)| r.as_str()).collect();
    times.sort();
    let (lo, hi) = (times[times.len() / 4], times[times.len() / 2]);
    let want: BTreeSet<(String, i64)> = received
        .iter()
        .filter(|(_, r, _)| r.as_str() >= lo && r.as_str() <= hi)
        .map(|(a, _, id)| (a.clone(), *id))
        .collect();
    let lines = json_lines(&cli(
        &f.repo_path,
        &[
            "--json",
            "find",
            "--at",
            &f.b.to_hex()[..8],
            "--since",
            lo,
            "--until",
            hi,
        ],
    ));
    let got: BTreeSet<(String, i64)> = lines
        .iter()
        .filter(|l| l["type"] == "message")
        .map(|l| {
            (
                l["account"].as_str().unwrap().to_string(),
                l["id"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);

    // A whole day as a date: the messages received that day (UTC).
    let day = &times[0][..10];
    let want: usize = received
        .iter()
        .filter(|(_, r, _)| r.starts_with(day))
        .count();
    let lines = json_lines(&cli(
        &f.repo_path,
        &[
            "--json", "find", "--at", "latest", "--since", day, "--until", day,
        ],
    ));
    assert_eq!(lines.last().unwrap()["matches"], want);

    // Mailbox (any case for INBOX) and sender: the truth's messages of alice's Inbox whose
    // file's From names the sender.
    let truth2 = truth_messages("small-state2");
    let sample = truth2
        .iter()
        .find(|t| t.account == "alice" && t.mailbox == "Inbox")
        .unwrap();
    let addr = sample
        .from
        .rsplit('<')
        .next()
        .unwrap()
        .trim_end_matches('>');
    let want: BTreeSet<i64> = truth2
        .iter()
        .filter(|t| {
            t.account == "alice"
                && t.mailbox == "Inbox"
                && t.from.to_lowercase().contains(&addr.to_lowercase())
        })
        .map(|t| t.id)
        .collect();
    let lines = json_lines(&cli(
        &f.repo_path,
        &[
            "--json",
            "find",
            "--at",
            "latest",
            "--account",
            "alice",
            "--mailbox",
            "inbox",
            "--from",
            &addr.to_uppercase(),
        ],
    ));
    let got: BTreeSet<i64> = lines
        .iter()
        .filter(|l| l["type"] == "message")
        .map(|l| l["id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, want);

    // Bad dates are refused with the option named.
    let o = cli(&f.repo_path, &["find", "--since", "March"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--since"));
}

#[test]
fn unchanged_account_databases_are_read_once_across_snapshots() {
    let inst = Installation::new("small-state1");
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(&dir.path().join("repo")).unwrap();
    let opts = MoxBackupOptions::default();
    for _ in 0..3 {
        backup_mox(&repo, &inst.root, &opts, &NoProgress).unwrap();
    }
    let snapshots = repo.snapshots().unwrap();
    let (found, stats) = find(
        &repo,
        &snapshots,
        &MessageFilter {
            subject: Some("report".into()),
            ..Default::default()
        },
        &NoProgress,
    )
    .unwrap();
    assert_eq!(stats.snapshots, 3);
    assert_eq!(stats.databases_read, 3, "{stats:?}");
    assert_eq!(stats.databases_reused, 6, "{stats:?}");
    // The same messages in each snapshot.
    let per: Vec<usize> = snapshots
        .iter()
        .map(|(id, _)| found.iter().filter(|m| m.snapshot == *id).count())
        .collect();
    assert!(per[0] > 0 && per.iter().all(|&n| n == per[0]), "{per:?}");
}

#[test]
fn dump_gives_msgprefix_and_file_of_every_live_message() {
    let f = two_snapshots();
    let snap_b = f.repo.load_snapshot(&f.b).unwrap();
    let truth = truth_messages("small-state2");
    let alice: Vec<&TruthMessage> = truth.iter().filter(|t| t.account == "alice").collect();
    assert_eq!(alice.len(), 159);
    for t in &alice {
        let data = message_content(&f.repo, &snap_b, "alice", &t.mailbox, t.uid as u32).unwrap();
        assert_eq!(data.len() as u64, t.size, "{t:?}");
        assert_eq!(sha256_hex(&data), t.full_sha256, "{t:?}");
    }
    // Through the binary: to standard output and to a file, each equal to the truth.
    for t in alice.iter().step_by(40) {
        let uid = t.uid.to_string();
        let o = cli(
            &f.repo_path,
            &[
                "dump",
                "latest",
                "--account",
                "alice",
                "--mailbox",
                &t.mailbox,
                "--uid",
                &uid,
            ],
        );
        assert_eq!(o.status.code(), Some(0));
        assert_eq!(sha256_hex(&o.stdout), t.full_sha256);
        let out = f.repo_path.parent().unwrap().join(format!("m{uid}.eml"));
        let o = cli(
            &f.repo_path,
            &[
                "dump",
                &f.b.to_hex()[..10],
                "--account",
                "alice",
                "--mailbox",
                &t.mailbox,
                "--uid",
                &uid,
                "--output",
                out.to_str().unwrap(),
            ],
        );
        assert_eq!(o.status.code(), Some(0));
        assert_eq!(sha256_hex(&std::fs::read(&out).unwrap()), t.full_sha256);
        // Never over an existing file.
        let again = cli(
            &f.repo_path,
            &[
                "dump",
                "latest",
                "--account",
                "alice",
                "--mailbox",
                &t.mailbox,
                "--uid",
                &uid,
                "--output",
                out.to_str().unwrap(),
            ],
        );
        assert_eq!(again.status.code(), Some(1));
    }
    // A deleted message is in the first snapshot only.
    let gone = truth_messages("small-state1")
        .into_iter()
        .find(|t| t.account == "alice" && t.id == 121)
        .unwrap();
    let snap_a = f.repo.load_snapshot(&f.a).unwrap();
    let data = message_content(&f.repo, &snap_a, "alice", &gone.mailbox, gone.uid as u32).unwrap();
    assert_eq!(sha256_hex(&data), gone.full_sha256);
    let err = message_content(&f.repo, &snap_b, "alice", &gone.mailbox, gone.uid as u32)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!("no message with UID {}", gone.uid)),
        "{err}"
    );
}

#[test]
fn ls_lists_accounts_mailboxes_and_messages_as_the_truth_has_them() {
    let f = two_snapshots();
    let truth = common::truth("small-state2");
    let messages = truth_messages("small-state2");
    let lines = json_lines(&cli(&f.repo_path, &["--json", "ls", "latest"]));
    let accounts = truth["Accounts"].as_array().unwrap();
    assert_eq!(lines.len(), accounts.len());
    for ta in accounts {
        let name = ta["Name"].as_str().unwrap();
        let l = lines.iter().find(|l| l["name"] == name).unwrap();
        assert_eq!(l["type"], "account");
        assert_eq!(l["messages"], ta["NumLiveMessages"]);
        let live: Vec<&Value> = ta["Mailboxes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| !m["Expunged"].as_bool().unwrap())
            .collect();
        assert_eq!(l["mailboxes"], live.len());
        let size: u64 = messages
            .iter()
            .filter(|t| t.account == name)
            .map(|t| t.size)
            .sum();
        assert_eq!(l["size"], size);

        let mlines = json_lines(&cli(&f.repo_path, &["--json", "ls", "latest", name]));
        assert_eq!(mlines.len(), live.len());
        for tm in &live {
            let m = mlines.iter().find(|m| m["id"] == tm["ID"]).unwrap();
            assert_eq!(m["type"], "mailbox");
            assert_eq!(m["name"], tm["Name"]);
            assert_eq!(m["messages"], tm["Messages"]);
            assert_eq!(m["size"], tm["LiveSize"]);
        }
    }
    // One mailbox: its UIDs, sizes and subjects.
    for (account, mailbox) in [
        ("alice", "Inbox"),
        ("bob", "Archive"),
        ("alice", "Lists/golang"),
    ] {
        let path = format!("{account}/{mailbox}");
        let got = json_lines(&cli(&f.repo_path, &["--json", "ls", "latest", &path]));
        let want: BTreeMap<u64, &TruthMessage> = messages
            .iter()
            .filter(|t| t.account == account && t.mailbox == mailbox)
            .map(|t| (t.uid, t))
            .collect();
        assert_eq!(got.len(), want.len(), "{path}");
        for l in &got {
            let t = want[&l["uid"].as_u64().unwrap()];
            assert_eq!(l["size"], t.size);
            assert_eq!(l["subject"], t.subject.as_str());
            assert_eq!(l["message_id"], t.message_id.as_str());
        }
    }
    // The text forms name the same things.
    let o = cli(&f.repo_path, &["ls", "latest", "alice/Junk"]);
    let text = String::from_utf8_lossy(&o.stdout);
    for t in messages
        .iter()
        .filter(|t| t.account == "alice" && t.mailbox == "Junk")
    {
        let shown: String = t.subject.chars().take(20).collect();
        assert!(text.contains(&shown), "{shown} not in {text}");
    }
    // The tree is still there with --files.
    let files = json_lines(&cli(&f.repo_path, &["--json", "ls", "--files", "latest"]));
    assert!(
        files
            .iter()
            .any(|l| l["type"] == "entry" && l["path"] == "data/accounts/alice/index.db")
    );
    // Names that are not there are errors naming what is.
    let o = cli(&f.repo_path, &["ls", "latest", "alice/Nope"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Lists/golang"));
}

#[test]
fn diff_lists_added_removed_and_moved_messages_with_their_headers() {
    let f = two_snapshots();
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(common::fixtures_dir().join("small-diff.json")).unwrap(),
    )
    .unwrap();
    let before: HashMap<(String, i64), TruthMessage> = truth_messages("small-state1")
        .into_iter()
        .map(|t| ((t.account.clone(), t.id), t))
        .collect();
    let after: HashMap<(String, i64), TruthMessage> = truth_messages("small-state2")
        .into_iter()
        .map(|t| ((t.account.clone(), t.id), t))
        .collect();
    let lines = json_lines(&cli(
        &f.repo_path,
        &["--json", "diff", &f.a.to_hex(), &f.b.to_hex()],
    ));
    let diff = &lines[0];
    let mut seen: BTreeMap<&str, BTreeSet<i64>> = BTreeMap::new();
    for account in diff["accounts"].as_array().unwrap() {
        let name = account["account"].as_str().unwrap().to_string();
        for mb in account["mailboxes"].as_array().unwrap() {
            let listed = mb["messages"].as_array().cloned().unwrap_or_default();
            for key in ["added", "removed", "moved_in", "moved_out"] {
                let ids: BTreeSet<i64> = mb[key]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_i64().unwrap())
                    .collect();
                let lines: BTreeSet<i64> = listed
                    .iter()
                    .filter(|m| m["change"] == key)
                    .map(|m| m["id"].as_i64().unwrap())
                    .collect();
                assert_eq!(ids, lines, "{name} {} {key}", mb["name"]);
            }
            for m in &listed {
                let change = m["change"].as_str().unwrap();
                let id = m["id"].as_i64().unwrap();
                let side = match change {
                    "added" | "moved_in" => &after,
                    _ => &before,
                };
                let t = &side[&(name.clone(), id)];
                assert_eq!(t.mailbox, mb["name"].as_str().unwrap(), "{m}");
                assert_eq!(m["uid"], t.uid, "{m}");
                assert_eq!(m["subject"], t.subject.as_str(), "{m}");
                assert_eq!(m["size"], t.size, "{m}");
                let addr = t.from.rsplit('<').next().unwrap().trim_end_matches('>');
                assert!(m["from"].as_str().unwrap().contains(addr), "{m}");
                if change == "added" || change == "removed" {
                    seen.entry(if change == "added" {
                        "files_added"
                    } else {
                        "files_removed"
                    })
                    .or_default()
                    .insert(id);
                }
            }
        }
    }
    // The messages listed as added and removed are the message files small-diff.json names.
    for key in ["files_added", "files_removed"] {
        let want: BTreeSet<i64> = expected[key]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p.as_str().unwrap().strip_prefix("accounts/alice/msg/"))
            .map(|p| p.rsplit('/').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(seen[key], want, "{key}");
    }

    // The text lists them too, one line each, with the subject.
    let o = cli(
        &f.repo_path,
        &["diff", &f.a.to_hex()[..8], &f.b.to_hex()[..8]],
    );
    let text = String::from_utf8_lossy(&o.stdout);
    let added = text
        .lines()
        .filter(|l| l.trim_start().starts_with("+ uid"))
        .count();
    let removed = text
        .lines()
        .filter(|l| l.trim_start().starts_with("- uid"))
        .count();
    assert_eq!((added, removed), (12, 3), "{text}");
    let gone = &before[&("alice".to_string(), 121)];
    assert!(text.contains(&gone.subject), "{text}");
    // --counts leaves the lines out.
    let o = cli(
        &f.repo_path,
        &["diff", "--counts", &f.a.to_hex()[..8], &f.b.to_hex()[..8]],
    );
    assert!(!String::from_utf8_lossy(&o.stdout).contains("+ uid"));
}
