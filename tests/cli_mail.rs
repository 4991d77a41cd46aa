//! The mail-aware commands through the real binary, on the mox fixtures: `backup --json` summaries
//! and exit codes, `snapshots`, `verify` on a sound and a damaged repository, `diff`, `export`,
//! `restore` and `inspect`.

mod check;
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, UNIX_EPOCH};

use common::Installation;
use serde_json::Value;

/// The keys every mail-aware backup summary carries.
const SUMMARY_KEYS: [&str; 15] = [
    "snapshot",
    "complete",
    "files_total",
    "files_read",
    "duration_ms",
    "accounts_total",
    "accounts_skipped",
    "mailboxes_total",
    "mailboxes_skipped",
    "messages_total",
    "messages_read",
    "bytes_read",
    "bytes_added",
    "warnings",
    "problems",
];

/// A repository in a temporary directory, driven through the binary.
struct Repo {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("repo");
        let repo = Repo { _dir: dir, path };
        let o = repo.run(&["init"]);
        assert_eq!(o.status.code(), Some(0), "init: {}", stderr(&o));
        repo
    }

    /// Runs `mailvault --repo REPO ARGS...`.
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_mailvault"))
            .env_remove("MAILVAULT_REPO")
            .arg("--repo")
            .arg(&self.path)
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs a command with `--json` that must exit with `code`; returns its JSON lines.
    fn json(&self, args: &[&str], code: i32) -> Vec<Value> {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let o = self.run(&all);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr(&o));
        json_lines(&o)
    }

    /// `backup --json SOURCE`, expecting `code`; returns the summary line after checking that
    /// every line is a typed JSON object and the summary carries every key.
    fn backup(&self, source: &Path, code: i32) -> Value {
        let lines = self.json(&["backup", source.to_str().unwrap()], code);
        let summary = lines.last().expect("backup printed nothing").clone();
        assert_eq!(summary["type"], "summary");
        for key in SUMMARY_KEYS {
            assert!(!summary[key].is_null(), "summary has no {key}: {summary}");
        }
        // Problems are also reported as events, one per problem, before the summary.
        let events = lines.iter().filter(|l| l["type"] == "problem").count();
        assert_eq!(events, summary["problems"].as_array().unwrap().len());
        summary
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_lines(o: &Output) -> Vec<Value> {
    let stdout = String::from_utf8(o.stdout.clone()).unwrap();
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    for l in &lines {
        assert!(l["type"].is_string(), "untyped JSON line: {l}");
    }
    lines
}

fn n(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} is not a count in {v}"))
}

/// Live messages in a fixture's ground truth, and its mailboxes.
fn truth_counts(state: &str) -> (u64, u64, u64) {
    let truth = common::truth(state);
    let accounts = truth["Accounts"].as_array().unwrap();
    let mailboxes: usize = accounts
        .iter()
        .map(|a| a["Mailboxes"].as_array().unwrap().len())
        .sum();
    let live: u64 = accounts.iter().map(|a| n(a, "NumLiveMessages")).sum();
    (accounts.len() as u64, mailboxes as u64, live)
}

fn small_diff() -> Value {
    let path = common::fixtures_dir().join("small-diff.json");
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn backup_json_summary_first_run_then_incremental_then_unchanged() {
    let inst = Installation::new("small-state1");
    let repo = Repo::new();

    let first = repo.backup(&inst.root, 0);
    assert_eq!(first["complete"], true);
    assert_eq!(first["problems"], serde_json::json!([]));
    assert_eq!(n(&first, "accounts_total"), 3);
    assert_eq!(n(&first, "mailboxes_total"), 23);
    assert_eq!(n(&first, "messages_total"), 336);
    assert_eq!(truth_counts("small-state1"), (3, 23, 336));
    // The first run has nothing to compare with: every message file is read.
    assert_eq!(n(&first, "accounts_skipped"), 0);
    assert_eq!(n(&first, "mailboxes_skipped"), 0);
    assert_eq!(n(&first, "messages_read"), 336);
    assert!(n(&first, "bytes_read") > 0 && n(&first, "bytes_added") > 0);

    inst.switch_to("small-state2");
    // A message file of a mailbox whose modseq did not move (alice's Archive) is gone: the
    // planner never looks at it, so the run is complete and the file is still in the snapshot.
    let truth2 = common::truth("small-state2");
    let archived = truth2["Accounts"][0]["Messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["Mailbox"] == "Archive" && m["Expunged"] == false)
        .unwrap();
    assert_eq!(truth2["Accounts"][0]["Name"], "alice");
    let untouched_rel = format!("accounts/alice/{}", archived["Path"].as_str().unwrap());
    let untouched = inst.data().join(&untouched_rel);
    let untouched_bytes = fs::read(&untouched).unwrap();
    fs::remove_file(&untouched).unwrap();
    // A dry run says what the night will do and stores nothing.
    let stored = |repo: &Repo| {
        ["packs", "index", "snapshots", "objects"]
            .iter()
            .map(|d| common::file_contents(&repo.path.join(d)))
            .collect::<Vec<_>>()
    };
    let before = stored(&repo);
    let plan = repo
        .json(&["backup", "--dry-run", inst.root.to_str().unwrap()], 0)
        .pop()
        .unwrap();
    assert_eq!(plan["type"], "plan");
    assert_eq!(plan["parent"], first["snapshot"]);
    assert_eq!(stored(&repo), before, "a dry run stores nothing");
    let o = repo.run(&["backup", "--dry-run", inst.root.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.starts_with("dry run: nothing stored"), "{text}");
    assert!(text.contains("files to read: 12 "), "{text}");
    let second = repo.backup(&inst.root, 0);
    // The plan's counts are the night's.
    for key in [
        "messages_read",
        "messages_total",
        "mailboxes_total",
        "mailboxes_skipped",
        "accounts_skipped",
        "databases_copied",
        "databases_unchanged",
    ] {
        assert_eq!(plan[key], second[key], "{key}");
    }
    assert_eq!(second["complete"], true);
    let diff = small_diff();
    let new_files = diff["files_added"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f.as_str().unwrap().starts_with("accounts/"))
        .count() as u64;
    let unchanged = diff["mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["changed"] == false)
        .count() as u64;
    assert_eq!((new_files, unchanged), (12, 18));
    // Only the new message files are read; every unchanged mailbox is skipped.
    assert_eq!(n(&second, "messages_read"), 12);
    assert_eq!(n(&second, "mailboxes_skipped"), 18);
    assert_eq!(n(&second, "mailboxes_total"), 23);
    assert_eq!(n(&second, "accounts_total"), 3);
    assert_eq!(n(&second, "messages_total"), truth_counts("small-state2").2);
    // Every account changed in state 2.
    assert_eq!(n(&second, "accounts_skipped"), 0);

    // Nothing changed: every account reuses its manifest and no message file is read.
    let third = repo.backup(&inst.root, 0);
    assert_eq!(n(&third, "accounts_skipped"), 3);
    assert_eq!(n(&third, "mailboxes_skipped"), 23);
    assert_eq!(n(&third, "messages_read"), 0);
    assert_eq!(n(&third, "messages_total"), n(&second, "messages_total"));

    // The restored installation has the file that was never looked at, from the first run.
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("restored");
    let o = repo.run(&["restore", "latest", "--target", target.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(fs::read(target.join("data").join(&untouched_rel)).unwrap() == untouched_bytes);

    // `snapshots --json` lists the three runs, oldest first, each the parent of the next.
    let o = repo.run(&["snapshots", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let list: Value = serde_json::from_slice(&o.stdout).unwrap();
    let list = list.as_array().unwrap();
    let ids: Vec<&Value> = [&first, &second, &third]
        .iter()
        .map(|s| &s["snapshot"])
        .collect();
    assert_eq!(list.iter().map(|s| &s["id"]).collect::<Vec<_>>(), ids);
    assert_eq!(list[0]["parent"], Value::Null);
    assert_eq!(list[1]["parent"], *ids[0]);
    assert_eq!(list[2]["parent"], *ids[1]);
    for (s, summary) in list.iter().zip([&first, &second, &third]) {
        assert_eq!(s["kind"], "mox");
        assert_eq!(s["complete"], true);
        assert_eq!(s["accounts"], serde_json::json!(["alice", "bob", "carol"]));
        assert_eq!(s["stats"]["messages_total"], summary["messages_total"]);
        assert_eq!(s["stats"]["messages_read"], summary["messages_read"]);
    }
}

#[test]
fn missing_message_file_exits_3_and_names_the_file() {
    let inst = Installation::new("small-state1");
    // A live message of bob's, from the ground truth.
    let truth = common::truth("small-state1");
    let bob = common::truth_account(&truth, "bob");
    let victim = bob["Messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["Expunged"] == false)
        .unwrap();
    let missing = inst
        .data()
        .join("accounts/bob")
        .join(victim["Path"].as_str().unwrap());
    let saved = fs::read(&missing).unwrap();
    fs::remove_file(&missing).unwrap();

    let repo = Repo::new();
    let summary = repo.backup(&inst.root, 3);
    assert_eq!(summary["complete"], false);
    let problems = summary["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0]["path"], missing.to_str().unwrap());
    assert!(
        problems[0]["message"].as_str().unwrap().contains("missing"),
        "{problems:?}"
    );
    // The rest is saved: every other live message is in the snapshot.
    assert_eq!(n(&summary, "messages_total"), 335);

    let o = repo.run(&["snapshots", "--json"]);
    let list: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(list[0]["complete"], false);
    assert_eq!(list[0]["problems"][0]["path"], missing.to_str().unwrap());
    let o = repo.run(&["snapshots"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("INCOMPLETE"));

    // The file comes back: the next run reads exactly that file and is complete, although no
    // modseq moved (the mailbox that missed it is rescanned).
    fs::write(&missing, saved).unwrap();
    let next = repo.backup(&inst.root, 0);
    assert_eq!(next["complete"], true);
    assert_eq!(n(&next, "messages_read"), 1);
    assert_eq!(n(&next, "messages_total"), 336);
    assert_eq!(n(&next, "accounts_skipped"), 2);
    assert_eq!(n(&next, "mailboxes_skipped"), 22);
}

#[test]
fn verify_passes_then_names_a_damaged_blob() {
    let inst = Installation::new("small-state1");
    let repo = Repo::new();
    let summary = repo.backup(&inst.root, 0);
    let snapshot = summary["snapshot"].as_str().unwrap();

    let lines = repo.json(&["verify", "latest"], 0);
    let report = lines.last().unwrap();
    assert_eq!(report["type"], "summary");
    assert_eq!(report["snapshot"], snapshot);
    assert_eq!(report["ok"], true);
    assert_eq!(report["damaged"], serde_json::json!([]));
    // Structure blobs, database chunks, config files and 336 messages (fewer blobs when
    // identical messages share one).
    assert!(n(report, "blobs") > 300, "{report}");

    // Damage one packed data blob (a database page or a small file): flip a byte of its
    // payload. Its content no longer matches its id.
    let handle = mailvault::Repository::open(&repo.path).unwrap();
    let (victim, _) = handle
        .list_blobs()
        .unwrap()
        .into_iter()
        .find(|(_, i)| i.kind == mailvault::BlobKind::Data && !i.raw && !i.grouped)
        .expect("a packed data blob");
    check::damage_blob(&handle, &victim);
    drop(handle);
    let id = victim.to_hex();

    let lines = repo.json(&["verify", "latest"], 1);
    let report = lines.last().unwrap();
    assert_eq!(report["ok"], false);
    let damaged = report["damaged"].as_array().unwrap();
    assert_eq!(damaged.len(), 1, "{damaged:?}");
    assert_eq!(damaged[0]["id"], id.as_str());
    assert!(!damaged[0]["used_by"].as_str().unwrap().is_empty());

    // Reading changed nothing: the blob is still named on the next run.
    let o = repo.run(&["verify", "latest"]);
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("DAMAGED") && text.contains(&id), "{text}");
    let o = repo.run(&["verify", "all"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn diff_json_lists_the_changes_of_small_diff() {
    let inst = Installation::new("small-state1");
    let repo = Repo::new();
    let a = repo.backup(&inst.root, 0)["snapshot"]
        .as_str()
        .unwrap()
        .to_string();
    inst.switch_to("small-state2");
    let b = repo.backup(&inst.root, 0)["snapshot"]
        .as_str()
        .unwrap()
        .to_string();

    let lines = repo.json(&["diff", &a[..8], &b], 0);
    assert_eq!(lines.len(), 1);
    let diff = &lines[0];
    assert_eq!(diff["type"], "diff");
    let expected = small_diff();
    let accounts = diff["accounts"].as_array().unwrap();
    for want in expected["accounts"].as_array().unwrap() {
        let got = accounts
            .iter()
            .find(|a| a["account"] == want["account"])
            .unwrap();
        assert_eq!(got["status"], "changed");
        assert_eq!(got["last_modseq_before"], want["lastmodseq_before"]);
        assert_eq!(got["last_modseq_after"], want["lastmodseq_after"]);
    }
    let mut seen = 0;
    for want in expected["mailboxes"].as_array().unwrap() {
        let account = accounts
            .iter()
            .find(|a| a["account"] == want["account"])
            .unwrap();
        let got = account["mailboxes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == want["id"])
            .unwrap_or_else(|| panic!("no mailbox {want}"));
        assert_eq!(got["name"], want["mailbox"]);
        for key in [
            "changed",
            "modseq_before",
            "modseq_after",
            "messages_before",
            "messages_after",
        ] {
            assert_eq!(got[key], want[key], "{key} of {want}");
        }
        seen += 1;
    }
    assert_eq!(
        seen,
        accounts
            .iter()
            .map(|a| a["mailboxes"].as_array().unwrap().len())
            .sum::<usize>()
    );

    // The message files the fixture added and removed are the messages the diff names.
    let ids = |key: &str| -> BTreeSet<i64> {
        accounts
            .iter()
            .filter(|a| a["account"] == "alice")
            .flat_map(|a| a["mailboxes"].as_array().unwrap())
            .flat_map(|m| m[key].as_array().unwrap())
            .map(|v| v.as_i64().unwrap())
            .collect()
    };
    let files = |key: &str| -> BTreeSet<i64> {
        expected[key]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f.as_str().unwrap().strip_prefix("accounts/alice/msg/"))
            .map(|p| p.rsplit('/').next().unwrap().parse().unwrap())
            .collect()
    };
    assert_eq!(ids("added"), files("files_added"));
    assert_eq!(ids("removed"), files("files_removed"));

    // The human form says the same in words.
    let o = repo.run(&["diff", &a, &b]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("12 added") && text.contains("3 removed"),
        "{text}"
    );
    assert!(
        text.contains("moved in") && text.contains("moved out"),
        "{text}"
    );
}

#[test]
fn export_maildir_writes_every_message_as_mox_serves_it() {
    let inst = Installation::new("small-state1");
    let repo = Repo::new();
    repo.backup(&inst.root, 0);

    // id → FullSHA256 (MsgPrefix + file) of alice's live messages.
    let truth = common::truth("small-state1");
    let alice = common::truth_account(&truth, "alice");
    let want: BTreeMap<i64, String> = alice["Messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["Expunged"] == false)
        .map(|m| {
            (
                m["ID"].as_i64().unwrap(),
                m["FullSHA256"].as_str().unwrap().to_string(),
            )
        })
        .collect();

    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("alice");
    let lines = repo.json(
        &[
            "export",
            "latest",
            "--account",
            "alice",
            "--format",
            "maildir",
            "--output",
            dest.to_str().unwrap(),
        ],
        0,
    );
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(n(summary, "messages"), want.len() as u64);
    assert_eq!(
        n(summary, "mailboxes"),
        alice["Mailboxes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["Expunged"] == false)
            .count() as u64
    );
    assert!(dest.join("Inbox/cur").is_dir());
    assert!(dest.join("Lists/golang/cur").is_dir());

    // Every file under */cur is one message: `<received>.M<id>.mailvault:2,<flags>`.
    let mut got = BTreeMap::new();
    for e in walkdir::WalkDir::new(&dest) {
        let e = e.unwrap();
        if !e.file_type().is_file() || e.path().parent().unwrap().file_name().unwrap() != "cur" {
            continue;
        }
        let name = e.file_name().to_str().unwrap();
        let id = common::maildir_message_id(name);
        let hash = common::sha256_hex(&fs::read(e.path()).unwrap());
        assert!(
            got.insert(id, hash).is_none(),
            "message {id} exported twice"
        );
    }
    assert_eq!(got, want);

    // A second export into the same directory is refused.
    let o = repo.run(&[
        "export",
        "latest",
        "--account",
        "alice",
        "--format",
        "mbox",
        "--output",
        dest.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not empty"), "{}", stderr(&o));

    // One mailbox as mbox: one `From ` separator per message of the mailbox.
    let mbox_dir = out.path().join("mbox");
    let o = repo.run(&[
        "export",
        "latest",
        "--account",
        "alice",
        "--mailbox",
        "Lists/golang",
        "--format",
        "mbox",
        "--output",
        mbox_dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mbox = fs::read(mbox_dir.join("Lists/golang.mbox")).unwrap();
    let separators = mbox
        .split(|&b| b == b'\n')
        .filter(|l| l.starts_with(b"From mailvault "))
        .count();
    let golang = alice["Mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["Name"] == "Lists/golang")
        .unwrap();
    assert_eq!(separators as u64, n(golang, "Messages"));
}

#[test]
fn restore_at_a_time_one_account_and_refusals() {
    let inst = Installation::new("small-state1");
    let fixture1 = common::extract_fixture("small-state1");
    let repo = Repo::new();
    let first = repo.backup(&inst.root, 0);
    inst.switch_to("small-state2");
    repo.backup(&inst.root, 0);

    let o = repo.run(&["snapshots", "--json"]);
    let list: Value = serde_json::from_slice(&o.stdout).unwrap();
    let t1 = list[0]["time_ns"].as_u64().unwrap();
    let at = humantime::format_rfc3339_nanos(UNIX_EPOCH + Duration::from_nanos(t1)).to_string();

    // --at the first snapshot's time picks it, not the later one.
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("alice");
    let lines = repo.json(
        &[
            "restore",
            "--at",
            &at,
            "--account",
            "alice",
            "--target",
            target.to_str().unwrap(),
        ],
        0,
    );
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["snapshot"], first["snapshot"]);
    // The account directory as it was in state 1, byte for byte (no other account's files).
    let fixture_alice = fixture1.path().join("data/accounts/alice");
    let want = common::file_contents(&fixture_alice);
    let got = common::file_contents(&target);
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>()
    );
    assert!(want == got, "alice restored differs from state 1");

    // A non-empty target is refused and left as it was.
    let o = repo.run(&["restore", "latest", "--target", target.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not empty"), "{}", stderr(&o));
    assert!(common::file_contents(&target) == want);

    // An account the snapshot does not hold is an error that lists the accounts.
    let o = repo.run(&[
        "restore",
        "latest",
        "--account",
        "nobody",
        "--target",
        out.path().join("x").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("alice, bob, carol"), "{}", stderr(&o));

    // Before the first snapshot there is nothing to restore.
    let o = repo.run(&[
        "restore",
        "--at",
        "2000-01-01T00:00:00Z",
        "--target",
        out.path().join("y").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no snapshot"), "{}", stderr(&o));
}

#[test]
fn inspect_json_on_the_source_matches_the_truth() {
    let inst = Installation::new("small-state2");
    // inspect needs no repository.
    for source in [inst.root.clone(), inst.data()] {
        let o = Command::new(env!("CARGO_BIN_EXE_mailvault"))
            .env_remove("MAILVAULT_REPO")
            .args(["inspect", "--json", source.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let report: Value = serde_json::from_slice(&o.stdout).unwrap();
        common::assert_report_matches_truth(&report, "small-state2");
    }
}

#[test]
fn a_running_server_is_an_error_and_nothing_is_committed() {
    let inst = Installation::new("small-state1");
    let repo = Repo::new();
    // mox holds an exclusive flock on every database it has open.
    let db = inst.data().join("accounts/alice/index.db");
    let held = fs::File::open(&db).unwrap();
    rustix::fs::flock(&held, rustix::fs::FlockOperation::NonBlockingLockExclusive).unwrap();

    let o = repo.run(&["backup", inst.root.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains(db.to_str().unwrap()), "{err}");
    assert!(err.contains("--via-ctl"), "{err}");
    let o = repo.run(&["snapshots", "--json"]);
    assert_eq!(
        serde_json::from_slice::<Value>(&o.stdout).unwrap(),
        serde_json::json!([])
    );

    // Released: the same backup goes through.
    drop(held);
    let summary = repo.backup(&inst.root, 0);
    assert_eq!(n(&summary, "messages_total"), 336);
}

#[test]
fn no_link_plain_and_ls() {
    let inst = Installation::new("small-state1");
    let repo = Repo::new();
    let raw_objects = |repo: &Repo| {
        walkdir::WalkDir::new(repo.path.join("objects"))
            .into_iter()
            .filter(|e| e.as_ref().unwrap().path().extension() == Some("r".as_ref()))
            .count()
    };

    // --no-link: every message is copied into framed objects, none is linked.
    let lines = repo.json(&["backup", "--no-link", inst.root.to_str().unwrap()], 0);
    let mox = lines.last().unwrap();
    assert_eq!(n(mox, "messages_total"), 336);
    assert_eq!(raw_objects(&repo), 0);

    // --plain: the same directory as a plain tree, without manifests.
    let lines = repo.json(&["backup", "--plain", inst.root.to_str().unwrap()], 0);
    let plain = lines.last().unwrap();
    assert_eq!(plain["complete"], true);
    assert!(plain.get("accounts_total").is_none(), "{plain}");
    let o = repo.run(&["snapshots", "--json"]);
    let list: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(list[0]["kind"], "mox");
    assert_eq!(list[1]["kind"], "tree");
    assert_eq!(list[1]["accounts"], serde_json::json!([]));

    // ls of the mox snapshot: databases in the tree, message files in the manifests.
    let lines = repo.json(
        &["ls", "--files", &mox["snapshot"].as_str().unwrap()[..12]],
        0,
    );
    let paths: Vec<&str> = lines
        .iter()
        .filter(|l| l["type"] == "entry")
        .map(|l| l["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"data/accounts/alice/index.db"));
    assert!(paths.contains(&"config/mox.conf"));
    assert!(paths.contains(&"data/queue/index.db"));
    // The msg/ directories are in the tree (their owners and modes), the files are not.
    assert!(paths.contains(&"data/accounts/alice/msg/a"));
    assert!(
        !lines
            .iter()
            .any(|l| l["kind"] == "file" && l["path"].as_str().unwrap().contains("/msg/")),
        "{paths:?}"
    );
    assert!(!paths.iter().any(|p| p.starts_with("data/tmp")));
    let accounts: Vec<&str> = lines
        .iter()
        .filter(|l| l["type"] == "account")
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(accounts, ["alice", "bob", "carol"]);

    // A linked backup into a fresh repository on the same filesystem stores messages as raw
    // objects (hardlinks of the message files).
    let linked = Repo::new();
    linked.backup(&inst.root, 0);
    assert!(raw_objects(&linked) > 0);
}
