//! The mail-aware backup on the real mox fixtures: first run, incremental run, restore, damage.

mod common;

use common::Installation;

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use mailvault::mox::{self, Source};
use mailvault::{
    BackupSummary, Collect, MoxBackupOptions, MoxRestoreSelection, NoProgress, Repository,
    RestoreOptions, backup_mox, restore_mox,
};

fn backup(repo: &Repository, inst: &Installation) -> BackupSummary {
    backup_mox(repo, &inst.root, &MoxBackupOptions::default(), &NoProgress).unwrap()
}

/// Restores a whole snapshot into a new temporary directory.
fn stat(summary: &BackupSummary, key: &str) -> u64 {
    *summary
        .stats
        .get(key)
        .unwrap_or_else(|| panic!("summary has no {key}: {:?}", summary.stats))
}

fn assert_same_files(expected: &Path, actual: &Path) {
    let want = common::file_contents(expected);
    let got = common::file_contents(actual);
    let want_names: Vec<_> = want.keys().collect();
    let got_names: Vec<_> = got.keys().collect();
    assert_eq!(
        want_names,
        got_names,
        "file sets differ under {}",
        actual.display()
    );
    for (name, content) in &want {
        assert!(
            &got[name] == content,
            "{name} differs after restore ({} vs {} bytes)",
            content.len(),
            got[name].len()
        );
    }
}

/// Restored message files of the same content share an inode, as the reference backup's links do.
fn assert_identical_messages_linked(data: &Path) {
    let mut by_content: HashMap<Vec<u8>, Vec<u64>> = HashMap::new();
    for item in walkdir::WalkDir::new(data.join("accounts")) {
        let item = item.unwrap();
        if item.file_type().is_file() && item.path().components().any(|c| c.as_os_str() == "msg") {
            let ino = item.metadata().unwrap().ino();
            by_content
                .entry(fs::read(item.path()).unwrap())
                .or_default()
                .push(ino);
        }
    }
    assert!(by_content.values().any(|inos| inos.len() > 1));
    for inos in by_content.values() {
        assert!(
            inos.iter().all(|i| *i == inos[0]),
            "identical messages not hardlinked"
        );
    }
}

/// Compares what `inspect` reads from a directory with the fixture's ground truth.
fn assert_matches_truth(source_root: &Path, state: &str) {
    let source = Source::locate(source_root).unwrap();
    let report = serde_json::to_value(mox::inspect(&source, true).unwrap()).unwrap();
    common::assert_report_matches_truth(&report, state);
}

fn mailboxes_unchanged_in_diff() -> u64 {
    let diff: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(common::fixtures_dir().join("small-diff.json")).unwrap(),
    )
    .unwrap();
    diff["mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["changed"] == false)
        .count() as u64
}

#[test]
fn first_run_incremental_run_and_restore_of_both_states() {
    let inst = Installation::new("small-state1");
    let repo_dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(&repo_dir.path().join("repo")).unwrap();
    // A certificate kept elsewhere, linked into the configuration.
    let cert_target = "/etc/mox-certs/cert.pem";
    std::os::unix::fs::symlink(cert_target, inst.root.join("config/cert.pem")).unwrap();

    let first = backup(&repo, &inst);
    assert!(first.complete, "problems: {:?}", first.problems);
    assert_eq!(stat(&first, "accounts_total"), 3);
    assert_eq!(stat(&first, "mailboxes_total"), 23);
    assert_eq!(stat(&first, "messages_total"), 336);
    // Every live message file is read once per inode: 341 files, fewer inodes.
    assert_eq!(stat(&first, "messages_read"), 336);

    // A night passes.
    inst.switch_to("small-state2");
    let second = backup(&repo, &inst);
    assert!(second.complete, "problems: {:?}", second.problems);
    assert_eq!(
        stat(&second, "messages_read"),
        12,
        "exactly the new message files"
    );
    assert_eq!(
        stat(&second, "mailboxes_skipped"),
        mailboxes_unchanged_in_diff()
    );
    assert_eq!(stat(&second, "messages_total"), 336 + 12 - 3);
    let new_bytes: u64 = (151..=162)
        .map(|id| {
            fs::metadata(inst.data().join(format!("accounts/alice/msg/a/{id}")))
                .unwrap()
                .len()
        })
        .sum();
    let db_bytes: u64 = walkdir::WalkDir::new(inst.data())
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".db"))
        .map(|e| e.metadata().unwrap().len())
        .sum();
    // New messages are linked (no bytes); what is added is changed database pages and the manifests.
    assert!(
        stat(&second, "bytes_added") < db_bytes / 4,
        "added {} bytes for a night with {new_bytes} bytes of new mail; databases are {db_bytes} bytes",
        stat(&second, "bytes_added")
    );

    // Nothing changed: every account reuses its manifest, no message file is touched.
    let third = backup(&repo, &inst);
    assert_eq!(stat(&third, "accounts_skipped"), 3);
    assert_eq!(stat(&third, "mailboxes_skipped"), 23);
    assert_eq!(stat(&third, "messages_read"), 0);
    // Databases not written since are not even copied; only the queue's is read (it lists the
    // queued messages).
    assert_eq!(stat(&third, "files_read"), 1);
    assert_eq!(
        stat(&third, "bytes_read"),
        fs::metadata(inst.data().join("queue/index.db"))
            .unwrap()
            .len()
    );

    // A database written without any modseq moving (mox saves previews, restarts rewrite meta
    // pages) is copied and stored again; its manifest is still reused.
    let bob_db = inst.data().join("accounts/bob/index.db");
    let bytes = fs::read(&bob_db).unwrap();
    fs::write(&bob_db, &bytes).unwrap();
    let fourth = backup(&repo, &inst);
    assert_eq!(stat(&fourth, "files_read"), 2);
    assert_eq!(stat(&fourth, "accounts_skipped"), 3);
    assert_eq!(stat(&fourth, "messages_read"), 0);

    // Restore both states; the source has moved on, the repository holds everything.
    for (summary, state) in [(&first, "small-state1"), (&second, "small-state2")] {
        let out = common::restore_whole(&repo, &summary.snapshot);
        let fixture = common::extract_fixture(state);
        assert_same_files(&fixture.path().join("data"), &out.path().join("data"));
        assert_same_files(&fixture.path().join("config"), &out.path().join("config"));
        assert_identical_messages_linked(&out.path().join("data"));
        assert_matches_truth(out.path(), state);
    }
    let out = common::restore_whole(&repo, &first.snapshot);
    assert_eq!(
        fs::read_link(out.path().join("config/cert.pem")).unwrap(),
        Path::new(cert_target)
    );
}

#[test]
fn restore_one_account() {
    let inst = Installation::new("small-state2");
    let repo_dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(&repo_dir.path().join("repo")).unwrap();
    let summary = backup(&repo, &inst);
    let snap = repo.load_snapshot(&summary.snapshot).unwrap();
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("bob");
    restore_mox(
        &repo,
        &snap,
        &target,
        &MoxRestoreSelection {
            account: Some("bob".into()),
        },
        &RestoreOptions::default(),
        &NoProgress,
    )
    .unwrap();
    assert_same_files(&inst.data().join("accounts/bob"), &target);
}

#[test]
fn missing_and_unreadable_message_files_make_an_incomplete_snapshot_and_the_next_run_heals() {
    let inst = Installation::new("small-state1");
    let repo_dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(&repo_dir.path().join("repo")).unwrap();

    let missing = inst.data().join("accounts/carol/msg/a/5");
    let unreadable = inst.data().join("accounts/bob/msg/a/7");
    let missing_copy = fs::read(&missing).unwrap();
    let unreadable_copy = fs::read(&unreadable).unwrap();
    fs::remove_file(&missing).unwrap();
    // Root reads any file regardless of its mode: a directory in the file's place cannot be read.
    fs::remove_file(&unreadable).unwrap();
    fs::create_dir(&unreadable).unwrap();

    let events = Collect::default();
    let summary = backup_mox(&repo, &inst.root, &MoxBackupOptions::default(), &events).unwrap();
    assert!(!summary.complete);
    let named: Vec<String> = summary
        .problems
        .iter()
        .filter_map(|p| p.path.clone())
        .collect();
    assert!(
        named.iter().any(|p| p.ends_with("carol/msg/a/5")),
        "{named:?}"
    );
    assert!(
        named.iter().any(|p| p.ends_with("bob/msg/a/7")),
        "{named:?}"
    );
    assert_eq!(summary.problems.len(), 2, "{:?}", summary.problems);
    let snap = repo.load_snapshot(&summary.snapshot).unwrap();
    assert!(!snap.complete);
    assert_eq!(snap.problems.len(), 2);
    assert_eq!(stat(&summary, "messages_total"), 334);

    // The files come back; the mailboxes are rescanned although their modseq did not move.
    fs::write(&missing, &missing_copy).unwrap();
    fs::remove_dir(&unreadable).unwrap();
    fs::write(&unreadable, &unreadable_copy).unwrap();
    let healed = backup(&repo, &inst);
    assert!(healed.complete, "{:?}", healed.problems);
    assert_eq!(stat(&healed, "messages_total"), 336);
    assert_eq!(stat(&healed, "messages_read"), 2);

    let out = common::restore_whole(&repo, &healed.snapshot);
    assert_matches_truth(out.path(), "small-state1");
}

#[test]
fn corrupt_account_database_is_named_and_the_next_run_is_correct() {
    let inst = Installation::new("small-state1");
    let repo_dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(&repo_dir.path().join("repo")).unwrap();
    let good = backup(&repo, &inst);
    assert!(good.complete);

    let db = inst.data().join("accounts/bob/index.db");
    let original = fs::read(&db).unwrap();
    let mut damaged = original.clone();
    // Zero the two meta pages: no valid bbolt file remains.
    damaged[..8192].fill(0);
    fs::write(&db, &damaged).unwrap();

    let result = backup_mox(&repo, &inst.root, &MoxBackupOptions::default(), &NoProgress);
    let summary = result.unwrap();
    assert!(!summary.complete);
    assert!(
        summary.problems.iter().any(|p| p
            .path
            .as_deref()
            .is_some_and(|p| p.ends_with("accounts/bob/index.db"))),
        "{:?}",
        summary.problems
    );
    // alice and carol are still saved; bob is absent from this snapshot, not silently empty.
    let snap = repo.load_snapshot(&summary.snapshot).unwrap();
    let names: Vec<&str> = snap.accounts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["alice", "carol"]);

    fs::write(&db, &original).unwrap();
    let next = backup(&repo, &inst);
    assert!(next.complete, "{:?}", next.problems);
    assert_eq!(stat(&next, "messages_total"), 336);
    let out = common::restore_whole(&repo, &next.snapshot);
    assert_matches_truth(out.path(), "small-state1");
}

/// A running server holds its databases locked: the backup says so and names the remedy; with
/// `via_ctl` it asks the server (a protocol peer here) for its own consistent copy, backs that up
/// and removes it.
#[test]
fn running_server_is_detected_and_backed_up_through_the_control_socket() {
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::net::UnixListener;

    let inst = Installation::new("small-state1");
    let repo_dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(&repo_dir.path().join("repo")).unwrap();

    // The "server": an exclusive lock on an account database, and the control socket.
    let locked = fs::File::open(inst.data().join("accounts/alice/index.db")).unwrap();
    rustix::fs::flock(
        &locked,
        rustix::fs::FlockOperation::NonBlockingLockExclusive,
    )
    .unwrap();
    let err = backup_mox(&repo, &inst.root, &MoxBackupOptions::default(), &NoProgress)
        .unwrap_err()
        .to_string();
    assert!(err.contains("accounts/alice/index.db"), "{err}");
    assert!(err.contains("--via-ctl"), "{err}");
    assert!(repo.snapshots().unwrap().is_empty(), "nothing committed");

    let listener = UnixListener::bind(inst.data().join("ctl")).unwrap();
    let live_data = inst.data();
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.write_all(b"ctlv0\n").unwrap();
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        let mut line = || {
            let mut s = String::new();
            reader.read_line(&mut s).unwrap();
            s.trim_end_matches('\n').to_string()
        };
        assert_eq!(line(), "backup");
        let dest = PathBuf::from(line());
        let _verbose = line();
        // The server writes config/ and data/ of one consistent moment into the destination,
        // the config copied as it is: here with an absolute DataDir naming the live directory.
        common::extract_fixture_into("small-state1", &dest);
        let conf = dest.join("config/mox.conf");
        let text = fs::read_to_string(&conf).unwrap().replace(
            "DataDir: ../data",
            &format!("DataDir: {}", live_data.display()),
        );
        assert!(text.contains(&format!("DataDir: {}", live_data.display())));
        fs::write(&conf, text).unwrap();
        let log = "backup finished\n";
        write!(conn, "{}\n{log}", log.len()).unwrap();
        assert_eq!(line(), "ok");
        conn.write_all(b"0\nok\n").unwrap();
        dest
    });
    let opts = MoxBackupOptions {
        via_ctl: true,
        ..Default::default()
    };
    let summary = backup_mox(&repo, &inst.root, &opts, &NoProgress).unwrap();
    let staging = server.join().unwrap();
    assert!(summary.complete, "{:?}", summary.problems);
    assert_eq!(stat(&summary, "messages_total"), 336);
    assert!(
        staging.starts_with(inst.data().join("tmp")),
        "{}",
        staging.display()
    );
    assert!(!staging.exists(), "staging copy removed");
    drop(locked);

    // The snapshot belongs to the installation, not to the staging copy: a direct run later
    // finds it as its parent and reads nothing.
    let snap = repo.load_snapshot(&summary.snapshot).unwrap();
    assert_eq!(
        snap.source,
        fs::canonicalize(inst.data()).unwrap().display().to_string()
    );
    let direct = backup(&repo, &inst);
    assert_eq!(stat(&direct, "accounts_skipped"), 3);
    assert_eq!(stat(&direct, "messages_read"), 0);

    let out = common::restore_whole(&repo, &summary.snapshot);
    assert_matches_truth(out.path(), "small-state1");
}
