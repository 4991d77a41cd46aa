//! The mail-aware backup under damage and hostile input: a running server refused before any
//! work, symlinks where files should be, symlinks the operator put there, a damaged repository
//! or parent snapshot that the next backup repairs or works around.

mod common;

use common::Installation;

use std::fs;
use std::path::{Path, PathBuf};

use mailvault::{
    BackupSummary, Collect, Event, MoxBackupOptions, MoxRestoreSelection, NoProgress, Repository,
    RestoreOptions, SnapshotId, backup_mox, restore_mox,
};

fn new_repo() -> (tempfile::TempDir, PathBuf, Repository) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repo");
    let repo = Repository::init(&path).unwrap();
    (dir, path, repo)
}

fn backup(repo: &Repository, inst: &Installation) -> BackupSummary {
    backup_mox(repo, &inst.root, &MoxBackupOptions::default(), &NoProgress).unwrap()
}

fn stat(summary: &BackupSummary, key: &str) -> u64 {
    summary
        .stats
        .get(key)
        .copied()
        .unwrap_or_else(|| panic!("no {key}"))
}

/// Every object file of a repository, damaged ones included.
fn object_files(repo: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(repo.join("objects"))
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| !e.file_type().is_dir())
        .map(|e| e.path().to_path_buf())
        .collect()
}

fn restore_whole(repo: &Repository, id: &SnapshotId) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let snap = repo.load_snapshot(id).unwrap();
    restore_mox(
        repo,
        &snap,
        out.path(),
        &MoxRestoreSelection::default(),
        &RestoreOptions::default(),
        &NoProgress,
    )
    .unwrap();
    out
}

/// Regular files and symlinks below `root`: relative path → content or `-> target`.
fn contents(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = common::file_contents(root);
    for e in walkdir::WalkDir::new(root) {
        let e = e.unwrap();
        if e.file_type().is_symlink() {
            let rel = e.path().strip_prefix(root).unwrap().display().to_string();
            let target = fs::read_link(e.path()).unwrap();
            out.insert(rel, format!("-> {}", target.display()).into_bytes());
        }
    }
    out
}

fn assert_same(expected: &Path, actual: &Path) {
    let want = contents(expected);
    let got = contents(actual);
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>(),
        "file sets differ under {}",
        actual.display()
    );
    for (name, content) in &want {
        assert!(&got[name] == content, "{name} differs after restore");
    }
}

fn verify_ok(repo: &Repository, id: &SnapshotId) {
    let snap = repo.load_snapshot(id).unwrap();
    let report = mailvault::verify(repo, &snap, &NoProgress).unwrap();
    assert!(report.ok(), "verify: {:?}", report.damaged);
}

fn warnings_of(events: &Collect) -> Vec<String> {
    events
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Warning { path, message } => Some(format!(
                "{}: {message}",
                path.map(|p| p.display().to_string()).unwrap_or_default()
            )),
            _ => None,
        })
        .collect()
}

fn lock_exclusive(path: &Path) -> fs::File {
    let f = fs::File::open(path).unwrap();
    rustix::fs::flock(&f, rustix::fs::FlockOperation::NonBlockingLockExclusive).unwrap();
    f
}

/// A running server holds its databases: every lock is tried before any account is worked on,
/// so the refusal comes with nothing written to the repository (first run and later runs).
#[test]
fn a_locked_database_is_refused_before_anything_is_written() {
    let inst = Installation::new("small-state1");
    let (_dir, repo_path, repo) = new_repo();
    for db in ["auth.db", "accounts/carol/index.db", "queue/index.db"] {
        let held = lock_exclusive(&inst.data().join(db));
        let err =
            backup_mox(&repo, &inst.root, &MoxBackupOptions::default(), &NoProgress).unwrap_err();
        assert!(
            matches!(&err, mailvault::Error::Mox(mailvault::mox::MoxError::ServerRunning { path })
                if path.ends_with(db)),
            "{err}"
        );
        assert!(err.to_string().contains("--via-ctl"), "{err}");
        assert_eq!(object_files(&repo_path), Vec::<PathBuf>::new(), "{db}");
        drop(held);
    }
    assert!(repo.snapshots().unwrap().is_empty());

    // Later runs too: nothing new is stored before the refusal.
    let first = backup(&repo, &inst);
    assert!(first.complete);
    let before = object_files(&repo_path).len();
    inst.switch_to("small-state2");
    let held = lock_exclusive(&inst.data().join("auth.db"));
    let err = backup_mox(&repo, &inst.root, &MoxBackupOptions::default(), &NoProgress).unwrap_err();
    assert!(err.to_string().contains("auth.db"), "{err}");
    assert_eq!(object_files(&repo_path).len(), before);
    assert_eq!(repo.snapshots().unwrap().len(), 1);
    drop(held);
}

/// Incompressible bytes that appear in no fixture.
fn secret_bytes() -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn repository_holds(repo_path: &Path, repo: &Repository, secret: &[u8]) -> bool {
    let id = mailvault::BlobId::hash(secret);
    if repo.has_blob(&id) {
        return true;
    }
    walkdir::WalkDir::new(repo_path)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .any(|e| {
            let data = fs::read(e.path()).unwrap();
            data.windows(secret.len()).any(|w| w == secret)
                || e.path().display().to_string().contains(&id.to_hex())
        })
}

/// A message file (and a database file) replaced by a symlink to a file outside the source: the
/// link is never followed, the path is named as a problem, and the target's bytes are nowhere in
/// the repository.
#[test]
fn a_symlink_in_place_of_a_message_or_database_is_never_followed() {
    let inst = Installation::new("small-state1");
    let outside = tempfile::tempdir().unwrap();
    let secret_path = outside.path().join("shadow");
    let secret = secret_bytes();
    fs::write(&secret_path, &secret).unwrap();
    let (_dir, repo_path, repo) = new_repo();

    let message = inst.data().join("accounts/alice/msg/a/3");
    fs::remove_file(&message).unwrap();
    std::os::unix::fs::symlink(&secret_path, &message).unwrap();
    let summary = backup(&repo, &inst);
    assert!(!summary.complete);
    let named: Vec<&str> = summary
        .problems
        .iter()
        .filter_map(|p| p.path.as_deref())
        .collect();
    assert_eq!(named.len(), 1, "{:?}", summary.problems);
    assert!(named[0].ends_with("accounts/alice/msg/a/3"), "{named:?}");
    assert!(
        summary.problems[0].message.contains("symlink"),
        "{:?}",
        summary.problems
    );
    assert!(!repository_holds(&repo_path, &repo, &secret));

    // A later run (the account is rescanned) and a database replaced the same way.
    let junk = inst.data().join("accounts/alice/junkfilter.db");
    fs::remove_file(&junk).unwrap();
    std::os::unix::fs::symlink(&secret_path, &junk).unwrap();
    let next = backup(&repo, &inst);
    assert!(!next.complete);
    let named: Vec<&str> = next
        .problems
        .iter()
        .filter_map(|p| p.path.as_deref())
        .collect();
    assert!(
        named.iter().any(|p| p.ends_with("accounts/alice/msg/a/3")),
        "{named:?}"
    );
    assert!(
        named
            .iter()
            .any(|p| p.ends_with("accounts/alice/junkfilter.db")),
        "{named:?}"
    );
    assert!(!repository_holds(&repo_path, &repo, &secret));
}

/// Symlinks in `config/` are saved with their targets and restored; a `msg/` directory that is
/// a symlink to another disk is followed deliberately and restored as a directory.
#[test]
fn symlinks_of_the_installation_are_saved_and_restored() {
    let inst = Installation::new("small-state1");
    let other_disk = tempfile::tempdir().unwrap();
    let (_dir, _repo_path, repo) = new_repo();
    std::os::unix::fs::symlink(
        "/etc/ssl/certs/some-cert.pem",
        inst.root.join("config/cert.pem"),
    )
    .unwrap();
    std::os::unix::fs::symlink("domains.conf", inst.root.join("config/domains-link.conf")).unwrap();
    // alice's messages live on another disk.
    let msg = inst.data().join("accounts/alice/msg");
    let moved = other_disk.path().join("alice-msg");
    fs::rename(&msg, &moved)
        .or_else(|_| {
            fs::create_dir(&moved)?;
            for e in walkdir::WalkDir::new(&msg).min_depth(1) {
                let e = e?;
                let dest = moved.join(e.path().strip_prefix(&msg).unwrap());
                if e.file_type().is_dir() {
                    fs::create_dir(&dest)?;
                } else {
                    fs::copy(e.path(), &dest)?;
                }
            }
            fs::remove_dir_all(&msg)
        })
        .unwrap();
    std::os::unix::fs::symlink(&moved, &msg).unwrap();

    let events = Collect::default();
    let summary = backup_mox(&repo, &inst.root, &MoxBackupOptions::default(), &events).unwrap();
    assert!(summary.complete, "{:?}", summary.problems);
    assert_eq!(stat(&summary, "messages_total"), 336);
    let warnings = warnings_of(&events);
    assert!(
        !warnings.iter().any(|w| w.contains("alice/msg")),
        "{warnings:?}"
    );
    let snap = repo.load_snapshot(&summary.snapshot).unwrap();
    let tree = mailvault::Tree::load(&repo, &snap.tree).unwrap();
    let cert = tree
        .entries
        .iter()
        .find(|e| e.path == "config/cert.pem")
        .unwrap();
    assert_eq!(cert.kind, mailvault::EntryKind::Symlink);
    assert_eq!(cert.target.as_deref(), Some("/etc/ssl/certs/some-cert.pem"));
    assert!(
        !tree
            .entries
            .iter()
            .any(|e| e.path.starts_with("data/accounts/alice/msg"))
    );

    let out = restore_whole(&repo, &summary.snapshot);
    let expected = common::extract_fixture("small-state1");
    std::os::unix::fs::symlink(
        "/etc/ssl/certs/some-cert.pem",
        expected.path().join("config/cert.pem"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        "domains.conf",
        expected.path().join("config/domains-link.conf"),
    )
    .unwrap();
    assert_same(expected.path(), out.path());
    assert!(
        out.path()
            .join("data/accounts/alice/msg")
            .symlink_metadata()
            .unwrap()
            .is_dir()
    );

    // An unchanged night finds the same and reads nothing.
    let again = backup(&repo, &inst);
    assert!(again.complete, "{:?}", again.problems);
    assert_eq!(stat(&again, "messages_read"), 0);
}
