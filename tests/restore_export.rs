//! Point-in-time restore, mailbox export and diff on the real mox fixtures.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::process::Command;

use common::Installation;
use common::sha256_hex;
use mailvault::{
    BackupSummary, ExportFormat, ExportOptions, MoxBackupOptions, NoProgress, Repository,
    SnapshotId, backup_mox, diff, export, mboxrd_unquote, snapshot_at,
};

/// Backs up state 1, then state 2, of one installation into one repository.
fn two_snapshots() -> (tempfile::TempDir, Repository, [BackupSummary; 2]) {
    let inst = Installation::new("small-state1");
    let repo_dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(&repo_dir.path().join("repo")).unwrap();
    let opts = MoxBackupOptions::default();
    let first = backup_mox(&repo, &inst.root, &opts, &NoProgress).unwrap();
    inst.switch_to("small-state2");
    let second = backup_mox(&repo, &inst.root, &opts, &NoProgress).unwrap();
    assert!(first.complete && second.complete);
    (repo_dir, repo, [first, second])
}

/// Live messages of each account in the ground truth: id → (FullSHA256, flags and keywords).
fn truth_messages(state: &str) -> BTreeMap<String, BTreeMap<i64, (String, BTreeSet<String>)>> {
    let truth = common::truth(state);
    let mut out = BTreeMap::new();
    for account in truth["Accounts"].as_array().unwrap() {
        let mut msgs = BTreeMap::new();
        for m in account["Messages"].as_array().unwrap() {
            if m["Expunged"].as_bool().unwrap() {
                continue;
            }
            let mut flags = BTreeSet::new();
            for key in ["Flags", "Keywords"] {
                for f in m[key].as_array().into_iter().flatten() {
                    flags.insert(f.as_str().unwrap().to_string());
                }
            }
            msgs.insert(
                m["ID"].as_i64().unwrap(),
                (m["FullSHA256"].as_str().unwrap().to_string(), flags),
            );
        }
        out.insert(account["Name"].as_str().unwrap().to_string(), msgs);
    }
    out
}

/// Reads a maildir export back: message id (from the file name) → (sha256, flags and keywords).
fn read_maildirs(root: &Path) -> BTreeMap<i64, (String, BTreeSet<String>)> {
    let mut out = BTreeMap::new();
    for item in walkdir::WalkDir::new(root) {
        let item = item.unwrap();
        if !item.file_type().is_file()
            || item.path().parent().unwrap().file_name().unwrap() != "cur"
        {
            continue;
        }
        let maildir = item.path().parent().unwrap().parent().unwrap();
        let keywords: Vec<String> = fs::read_to_string(maildir.join("dovecot-keywords"))
            .map(|t| {
                t.lines()
                    .map(|l| l.split_once(' ').unwrap().1.to_string())
                    .collect()
            })
            .unwrap_or_default();
        let name = item.file_name().to_string_lossy().to_string();
        let (base, info) = name.split_once(":2,").expect("maildir info");
        let id = common::maildir_message_id(base);
        let mut flags = BTreeSet::new();
        for c in info.chars() {
            let flag = match c {
                'D' => "\\Draft".to_string(),
                'F' => "\\Flagged".to_string(),
                'P' => "$Forwarded".to_string(),
                'R' => "\\Answered".to_string(),
                'S' => "\\Seen".to_string(),
                'T' => "\\Deleted".to_string(),
                'a'..='z' => keywords[(c as u8 - b'a') as usize].clone(),
                other => panic!("unexpected maildir flag {other} in {name}"),
            };
            flags.insert(flag);
        }
        let sha = sha256_hex(&fs::read(item.path()).unwrap());
        assert!(out.insert(id, (sha, flags)).is_none(), "message {id} twice");
    }
    out
}

#[test]
fn maildir_export_of_every_mailbox_matches_the_truth() {
    let (_dir, repo, snaps) = two_snapshots();
    for (summary, state) in snaps.iter().zip(["small-state1", "small-state2"]) {
        let snap = repo.load_snapshot(&summary.snapshot).unwrap();
        for (account, truth) in truth_messages(state) {
            let out = tempfile::tempdir().unwrap();
            let target = out.path().join("export");
            let opts = ExportOptions {
                account: account.clone(),
                mailboxes: Vec::new(),
                format: ExportFormat::Maildir,
            };
            let written = export(&repo, &snap, &opts, &target, &NoProgress).unwrap();
            assert_eq!(written.messages as usize, truth.len(), "{state} {account}");
            let got = read_maildirs(&target);
            assert_eq!(got, truth, "{state} {account}: content or flags differ");
        }
    }
}

#[test]
fn nested_mailboxes_export_as_folders() {
    let (_dir, repo, snaps) = two_snapshots();
    let snap = repo.load_snapshot(&snaps[1].snapshot).unwrap();
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("x");
    let opts = ExportOptions {
        account: "alice".into(),
        mailboxes: vec!["Lists/golang".into(), "Inbox".into()],
        format: ExportFormat::Maildir,
    };
    let summary = export(&repo, &snap, &opts, &target, &NoProgress).unwrap();
    assert_eq!(summary.mailboxes, 2);
    assert_eq!(summary.messages, 15 + 87);
    assert!(target.join("Lists/golang/cur").is_dir());
    assert_eq!(
        fs::read_dir(target.join("Lists/golang/cur"))
            .unwrap()
            .count(),
        15
    );
    // An unknown mailbox is a clear error naming it; a non-empty output is refused.
    let err = export(
        &repo,
        &snap,
        &ExportOptions {
            mailboxes: vec!["Nope".into()],
            ..opts.clone()
        },
        &out.path().join("y"),
        &NoProgress,
    )
    .unwrap_err();
    assert!(err.to_string().contains("Nope"), "{err}");
    let err = export(&repo, &snap, &opts, &target, &NoProgress).unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err}");
}

/// Python's standard `mailbox` module reads our mbox files; after removing the flag headers we
/// put first and undoing mboxrd quoting, each message hashes to the truth's FullSHA256.
#[test]
fn mbox_export_round_trips_through_python_mailbox() {
    let (_dir, repo, snaps) = two_snapshots();
    let snap = repo.load_snapshot(&snaps[1].snapshot).unwrap();
    let truth = truth_messages("small-state2");
    let out = tempfile::tempdir().unwrap();
    for (account, messages) in &truth {
        let target = out.path().join(account);
        let opts = ExportOptions {
            account: account.clone(),
            mailboxes: Vec::new(),
            format: ExportFormat::Mbox,
        };
        export(&repo, &snap, &opts, &target, &NoProgress).unwrap();
        let script = r#"
import mailbox, sys, os
for root, _, files in os.walk(sys.argv[1]):
    for f in sorted(files):
        box = mailbox.mbox(os.path.join(root, f), create=False)
        for key in box.iterkeys():
            data = box.get_bytes(key)
            sys.stdout.write(data.hex() + "\n")
"#;
        let output = Command::new("python3")
            .args(["-c", script])
            .arg(&target)
            .output()
            .expect("python3 runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let mut hashes = BTreeSet::new();
        let mut count = 0;
        for line in String::from_utf8(output.stdout).unwrap().lines() {
            let bytes: Vec<u8> = (0..line.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&line[i..i + 2], 16).unwrap())
                .collect();
            let body = strip_flag_headers(&bytes);
            let body = mboxrd_unquote(body);
            hashes.insert(sha256_hex(&body));
            count += 1;
        }
        let want: BTreeSet<String> = messages.values().map(|(sha, _)| sha.clone()).collect();
        assert_eq!(count, messages.len(), "{account}: message count");
        assert_eq!(hashes, want, "{account}: contents differ");
    }
}

/// Removes the `Status`, `X-Status` and `X-Keywords` lines the export puts before a message.
fn strip_flag_headers(mut data: &[u8]) -> &[u8] {
    for name in [&b"Status: "[..], b"X-Status: ", b"X-Keywords: "] {
        if data.starts_with(name) {
            let end = data.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
            data = &data[end..];
        }
    }
    data
}

#[test]
fn diff_of_the_fixture_states_is_small_diff_json() {
    let (_dir, repo, snaps) = two_snapshots();
    let a = repo.load_snapshot(&snaps[0].snapshot).unwrap();
    let b = repo.load_snapshot(&snaps[1].snapshot).unwrap();
    let d = diff(&repo, &a, &b).unwrap();
    let expected: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(common::fixtures_dir().join("small-diff.json")).unwrap(),
    )
    .unwrap();
    let mut compared = 0;
    for m in expected["mailboxes"].as_array().unwrap() {
        let account = d
            .accounts
            .iter()
            .find(|a| a.account == m["account"].as_str().unwrap())
            .unwrap();
        let got = account
            .mailboxes
            .iter()
            .find(|x| x.id == m["id"].as_i64().unwrap())
            .unwrap();
        let what = format!("{}/{}", m["account"], m["mailbox"]);
        assert_eq!(got.name, m["mailbox"].as_str().unwrap(), "{what}");
        assert_eq!(got.modseq_before, m["modseq_before"].as_i64(), "{what}");
        assert_eq!(got.modseq_after, m["modseq_after"].as_i64(), "{what}");
        assert_eq!(
            got.messages_before,
            m["messages_before"].as_u64().unwrap(),
            "{what}"
        );
        assert_eq!(
            got.messages_after,
            m["messages_after"].as_u64().unwrap(),
            "{what}"
        );
        assert_eq!(got.changed, m["changed"].as_bool().unwrap(), "{what}");
        compared += 1;
    }
    assert_eq!(compared, 23);
    // Files added and removed are the messages added to and removed from the accounts.
    let mut added = Vec::new();
    let mut removed = Vec::new();
    let mut moved = 0;
    for account in &d.accounts {
        for m in &account.mailboxes {
            for id in &m.added {
                added.push(format!("accounts/{}/msg/a/{id}", account.account));
            }
            for id in &m.removed {
                removed.push(format!("accounts/{}/msg/a/{id}", account.account));
            }
            moved += m.moved_in.len();
        }
    }
    added.sort();
    removed.sort();
    let expect_added: Vec<String> = expected["files_added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let expect_removed: Vec<String> = expected["files_removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .filter(|p| p.starts_with("accounts/"))
        .collect();
    assert_eq!(added, expect_added);
    assert_eq!(removed, expect_removed);
    // carol moved one message from Inbox to Archive: same id, no file change.
    assert_eq!(moved, 1);
    let carol = d.accounts.iter().find(|a| a.account == "carol").unwrap();
    let inbox = carol.mailboxes.iter().find(|m| m.name == "Inbox").unwrap();
    let archive = carol
        .mailboxes
        .iter()
        .find(|m| m.name == "Archive")
        .unwrap();
    assert_eq!(inbox.moved_out, archive.moved_in);
    // bob's flag changes touched messages of Archive only.
    let bob = d.accounts.iter().find(|a| a.account == "bob").unwrap();
    for m in &bob.mailboxes {
        assert_eq!(
            m.changed_messages.is_empty(),
            m.name != "Archive",
            "{}",
            m.name
        );
    }
}

#[test]
fn at_picks_the_last_snapshot_at_or_before_a_time() {
    let inst = Installation::new("small-state1");
    let repo_dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(&repo_dir.path().join("repo")).unwrap();
    let opts = MoxBackupOptions::default();
    let mut ids: Vec<SnapshotId> = Vec::new();
    for state in ["small-state1", "small-state2", "small-state2"] {
        inst.switch_to(state);
        ids.push(
            backup_mox(&repo, &inst.root, &opts, &NoProgress)
                .unwrap()
                .snapshot,
        );
    }
    let times: Vec<i64> = ids
        .iter()
        .map(|id| repo.load_snapshot(id).unwrap().time_ns)
        .collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]));
    assert!(snapshot_at(&repo, times[0] - 1).unwrap().is_none());
    for (i, t) in times.iter().enumerate() {
        assert_eq!(snapshot_at(&repo, *t).unwrap().unwrap().0, ids[i]);
        let next = times.get(i + 1).copied().unwrap_or(i64::MAX);
        assert_eq!(snapshot_at(&repo, next - 1).unwrap().unwrap().0, ids[i]);
    }

    // The CLI takes an RFC 3339 time and restores the snapshot of that moment.
    let at = humantime::format_rfc3339_nanos(
        std::time::UNIX_EPOCH + std::time::Duration::from_nanos((times[1] + 1) as u64),
    )
    .to_string();
    let target = repo_dir.path().join("restored");
    let out = Command::new(env!("CARGO_BIN_EXE_mailvault"))
        .arg("--repo")
        .arg(repo.path())
        .args(["restore", "--at", &at, "--json", "--target"])
        .arg(&target)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = String::from_utf8(out.stdout).unwrap();
    let summary: serde_json::Value = serde_json::from_str(last.lines().last().unwrap()).unwrap();
    assert_eq!(summary["snapshot"], ids[1].to_hex());
    // State 2: alice's new message 162 is there, the expunged 121 is not.
    assert!(target.join("data/accounts/alice/msg/a/162").is_file());
    assert!(!target.join("data/accounts/alice/msg/a/121").exists());
    // Restoring into the now non-empty target is refused.
    let again = Command::new(env!("CARGO_BIN_EXE_mailvault"))
        .arg("--repo")
        .arg(repo.path())
        .args(["restore", "latest", "--target"])
        .arg(&target)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
}

/// Export names the accounts that exist when asked for another; `inbox` finds `Inbox` (and
/// `INBOX/x` its children) as IMAP compares names; `restore --at` takes any RFC 3339 offset.
#[test]
fn export_and_at_accept_what_users_type() {
    let (dir, repo, snaps) = two_snapshots();
    let snap = repo.load_snapshot(&snaps[1].snapshot).unwrap();
    let opts = |account: &str, mailboxes: &[&str]| ExportOptions {
        account: account.into(),
        mailboxes: mailboxes.iter().map(|m| m.to_string()).collect(),
        format: ExportFormat::Mbox,
    };
    let out = tempfile::tempdir().unwrap();
    let err = export(
        &repo,
        &snap,
        &opts("nobody", &[]),
        &out.path().join("a"),
        &NoProgress,
    )
    .unwrap_err();
    assert!(err.to_string().contains("alice, bob, carol"), "{err}");

    let summary = export(
        &repo,
        &snap,
        &opts("alice", &["inbox", "lists/golang"]),
        &out.path().join("b"),
        &NoProgress,
    );
    // Only INBOX is case-insensitive: `lists/golang` is not `Lists/golang`.
    assert!(summary.unwrap_err().to_string().contains("lists/golang"));
    let summary = export(
        &repo,
        &snap,
        &opts("alice", &["inbox"]),
        &out.path().join("c"),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(summary.messages, 87);
    assert!(summary.outputs.contains_key("Inbox"));

    // One hour ahead of UTC, just after the second snapshot: the second snapshot.
    let times: Vec<i64> = snaps
        .iter()
        .map(|s| repo.load_snapshot(&s.snapshot).unwrap().time_ns)
        .collect();
    let utc = humantime::format_rfc3339_nanos(
        std::time::UNIX_EPOCH
            + std::time::Duration::from_nanos((times[1] + 3_600_000_000_000 + 1) as u64),
    )
    .to_string();
    let at = format!("{}+01:00", utc.strip_suffix('Z').unwrap());
    for (at, code, snapshot) in [
        (at.clone(), 0, Some(&snaps[1].snapshot)),
        (at.replace("+01:00", "+01:00:00"), 1, None),
    ] {
        let target = dir.path().join(format!("restored-{code}"));
        let out = Command::new(env!("CARGO_BIN_EXE_mailvault"))
            .arg("--repo")
            .arg(repo.path())
            .args(["restore", "--json", "--at", &at, "--account", "alice"])
            .arg("--target")
            .arg(&target)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{at}: {stderr}");
        if let Some(id) = snapshot {
            let stdout = String::from_utf8(out.stdout).unwrap();
            let summary: serde_json::Value =
                serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
            assert_eq!(summary["snapshot"], id.to_hex());
        } else {
            assert!(stderr.contains("RFC 3339"), "{stderr}");
        }
    }
}

/// Chunked messages (copy mode, large files) read as whole ones do: `export` (mbox and
/// maildir) writes what it writes from a linked repository, `dump` returns the file after its
/// MsgPrefix, and the restore of one account gives the files back.
#[test]
fn chunked_messages_export_dump_and_restore_one_account() {
    let (inst, ids) = common::large_messages(2, 300 << 10, true);
    let dir = tempfile::tempdir().unwrap();
    let backup = |name: &str, link: bool| {
        let repo = Repository::init(&dir.path().join(name)).unwrap();
        let opts = MoxBackupOptions {
            link,
            ..MoxBackupOptions::default()
        };
        let s = backup_mox(&repo, &inst.root, &opts, &NoProgress).unwrap();
        let snap = repo.load_snapshot(&s.snapshot).unwrap();
        (repo, snap)
    };
    let (copied, copied_snap) = backup("copied", false);
    let (linked, linked_snap) = backup("linked", true);
    let chunked: Vec<_> = common::all_messages(&copied, &copied_snap)
        .into_iter()
        .filter(|(_, m)| m.chunked)
        .collect();
    assert!(chunked.len() >= ids.len());

    for format in [ExportFormat::Mbox, ExportFormat::Maildir] {
        let exported = |repo: &Repository, snap: &mailvault::Snapshot| {
            let out = tempfile::tempdir().unwrap();
            let opts = ExportOptions {
                account: "alice".into(),
                mailboxes: Vec::new(),
                format,
            };
            export(repo, snap, &opts, out.path(), &NoProgress).unwrap();
            let files = common::file_contents(out.path());
            assert!(!files.is_empty());
            files
        };
        assert!(exported(&copied, &copied_snap) == exported(&linked, &linked_snap));
    }

    let account = copied_snap
        .accounts
        .iter()
        .find(|a| a.name == "alice")
        .unwrap();
    let manifest = mailvault::load_manifest(&copied, account).unwrap();
    for mb in &manifest.mailboxes {
        for m in mailvault::load_list(&copied, &mb.list).unwrap().messages {
            if !m.chunked {
                continue;
            }
            let file = fs::read(
                inst.data()
                    .join("accounts/alice/msg")
                    .join(mailvault::mox::message_path(m.id)),
            )
            .unwrap();
            let dumped =
                mailvault::message_content(&copied, &copied_snap, "alice", &mb.name, m.uid)
                    .unwrap();
            assert!(dumped.len() >= file.len() && dumped.ends_with(&file));
        }
    }

    let out = tempfile::tempdir().unwrap();
    mailvault::restore_mox(
        &copied,
        &copied_snap,
        out.path(),
        &mailvault::MoxRestoreSelection {
            account: Some("alice".into()),
        },
        &mailvault::RestoreOptions::default(),
        &NoProgress,
    )
    .unwrap();
    let msgs = |root: &Path| {
        let mut all = common::file_contents(root);
        all.retain(|k, _| k.starts_with("msg/"));
        all
    };
    let want = msgs(&inst.data().join("accounts/alice"));
    assert!(want.len() > 10);
    assert!(msgs(out.path()) == want);
}
