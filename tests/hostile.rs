//! The mail-aware backup under damage and hostile input: a running server refused before any
//! work, symlinks where files should be, symlinks the operator put there, a damaged repository
//! or parent snapshot that the next backup repairs or works around.

mod common;

use common::Installation;

use std::fs;
use std::path::{Path, PathBuf};

use mailvault::{
    BackupSummary, Collect, Event, MoxBackupOptions, NoProgress, Repository, SnapshotId, backup_mox,
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

/// Every stored file of a repository (objects, packs, index files, snapshots, temp files).
fn object_files(repo: &Path) -> Vec<PathBuf> {
    ["objects", "packs", "index", "snapshots", "tmp"]
        .iter()
        .flat_map(|d| walkdir::WalkDir::new(repo.join(d)))
        .map(|e| e.unwrap())
        .filter(|e| !e.file_type().is_dir())
        .map(|e| e.path().to_path_buf())
        .collect()
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

/// Copies a directory tree (another disk: new inodes, hardlinks not kept).
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir(to).unwrap();
    for e in walkdir::WalkDir::new(from).min_depth(1) {
        let e = e.unwrap();
        let dest = to.join(e.path().strip_prefix(from).unwrap());
        if e.file_type().is_dir() {
            fs::create_dir(&dest).unwrap();
        } else {
            fs::copy(e.path(), &dest).unwrap();
        }
    }
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
    copy_tree(&msg, &moved);
    fs::remove_dir_all(&msg).unwrap();
    std::os::unix::fs::symlink(&moved, &msg).unwrap();
    // bob's whole account directory too.
    let bob = inst.data().join("accounts/bob");
    let bob_moved = other_disk.path().join("bob");
    copy_tree(&bob, &bob_moved);
    fs::remove_dir_all(&bob).unwrap();
    std::os::unix::fs::symlink(&bob_moved, &bob).unwrap();

    let events = Collect::default();
    let summary = backup_mox(&repo, &inst.root, &MoxBackupOptions::default(), &events).unwrap();
    assert!(summary.complete, "{:?}", summary.problems);
    assert_eq!(stat(&summary, "messages_total"), 336);
    let warnings = warnings_of(&events);
    assert!(
        !warnings
            .iter()
            .any(|w| w.contains("alice/msg") || w.contains("accounts/bob")),
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
    // Message files are in the manifests; the tree holds only the msg/ directories.
    assert!(
        !tree
            .entries
            .iter()
            .any(|e| e.path.starts_with("data/accounts/alice/msg")
                && e.kind != mailvault::EntryKind::Dir)
    );

    let out = common::restore_whole(&repo, &summary.snapshot);
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
    for dir in ["data/accounts/alice/msg", "data/accounts/bob"] {
        assert!(out.path().join(dir).symlink_metadata().unwrap().is_dir());
    }

    // An unchanged night finds the same and reads nothing.
    let again = backup(&repo, &inst);
    assert!(again.complete, "{:?}", again.problems);
    assert_eq!(stat(&again, "messages_read"), 0);
}

/// Loses a blob as a disk would: a raw object's file is removed; a packed blob goes with the
/// whole pack that holds it (packs are the unit of storage).
fn delete_blob(repo: &Repository, id: &mailvault::BlobId) {
    let path = repo.blob_path(id);
    assert!(path.exists(), "blob {id} has no file at {}", path.display());
    fs::remove_file(&path).unwrap();
}

/// Flips a byte in the payload of a blob's pack entry (layout per docs/format.md: the 32-byte
/// id, a 23-byte object header, the payload).
fn flip_byte(repo: &Repository, id: &mailvault::BlobId) {
    let (path, offset, len) = repo.blob_entry(id).unwrap();
    let mut bytes = fs::read(&path).unwrap();
    bytes[(offset + 55 + (len - 55) / 2) as usize] ^= 0x55;
    fs::write(&path, bytes).unwrap();
}

/// What an operator does after `verify` names damage: `repair index` drops the damaged blobs
/// from the index, so the next backup checks what it reuses and stores them again.
fn repair_index(repo: Repository, path: &Path) -> Repository {
    drop(repo);
    let mut exclusive = Repository::open_exclusive(path).unwrap();
    let report = exclusive.repair_index(&NoProgress).unwrap();
    assert!(!report.damaged.is_empty());
    drop(exclusive);
    Repository::open(path).unwrap()
}

/// Closes the repository, removes its catalog (a cache) and opens it again: the catalog is
/// rebuilt from the object files, as after any damage found without it.
fn reopen_without_catalog(repo: Repository, path: &Path) -> Repository {
    drop(repo);
    fs::remove_file(path.join("catalog.redb")).unwrap();
    Repository::open(path).unwrap()
}

fn account<'a>(snap: &'a mailvault::Snapshot, name: &str) -> &'a mailvault::AccountRef {
    snap.accounts.iter().find(|a| a.name == name).unwrap()
}

fn assert_restores_as(repo: &Repository, id: &SnapshotId, state: &str) {
    let out = common::restore_whole(repo, id);
    let fixture = common::extract_fixture(state);
    for part in ["data", "config"] {
        assert_same(&fixture.path().join(part), &out.path().join(part));
    }
}

/// A message object and a database chunk lost from the repository: the next backup, with no
/// source change, stores both again, and its snapshot verifies and restores byte-identical.
/// `--force-read` reads everything again.
#[test]
fn blobs_lost_from_the_repository_are_stored_again_by_the_next_backup() {
    let inst = Installation::new("small-state1");
    let (_dir, repo_path, repo) = new_repo();
    let first = backup(&repo, &inst);
    assert!(first.complete);
    let snap = repo.load_snapshot(&first.snapshot).unwrap();
    let manifest = mailvault::load_manifest(&repo, account(&snap, "alice")).unwrap();
    let inbox = manifest.mailboxes.iter().find(|m| m.messages > 0).unwrap();
    let message = mailvault::load_list(&repo, &inbox.list).unwrap().messages[0].blob;
    let tree = mailvault::Tree::load(&repo, &snap.tree).unwrap();
    let db = tree
        .entries
        .iter()
        .find(|e| e.path == "data/accounts/alice/index.db")
        .unwrap();
    let chunk = db.chunks[0];
    delete_blob(&repo, &message);
    delete_blob(&repo, &chunk);
    let repo = reopen_without_catalog(repo, &repo_path);
    assert!(!repo.has_blob(&message) && !repo.has_blob(&chunk));

    let events = Collect::default();
    let second = backup_mox(&repo, &inst.root, &MoxBackupOptions::default(), &events).unwrap();
    assert!(second.complete, "{:?}", second.problems);
    assert!(repo.has_blob(&message) && repo.has_blob(&chunk));
    // The messages with that content (identical messages share a blob) are read again
    let sharing: u64 = snap
        .accounts
        .iter()
        .flat_map(|a| mailvault::load_manifest(&repo, a).unwrap().mailboxes)
        .map(|m| {
            let list = mailvault::load_list(&repo, &m.list).unwrap();
            list.messages.iter().filter(|e| e.blob == message).count() as u64
        })
        .sum();
    // (an account checked after another one stored it again finds it present).
    let read = stat(&second, "messages_read");
    assert!(
        read >= 1 && read <= sharing,
        "{read} read, {sharing} share the blob"
    );
    assert!(
        warnings_of(&events).iter().any(|w| w.contains("alice")),
        "{:?}",
        warnings_of(&events)
    );
    verify_ok(&repo, &second.snapshot);
    assert_restores_as(&repo, &second.snapshot, "small-state1");

    let forced = backup_mox(
        &repo,
        &inst.root,
        &MoxBackupOptions {
            force_read: true,
            ..Default::default()
        },
        &NoProgress,
    )
    .unwrap();
    assert!(forced.complete, "{:?}", forced.problems);
    assert_eq!(stat(&forced, "messages_read"), 336);
    assert_eq!(stat(&forced, "accounts_skipped"), 0);
    assert_eq!(
        repo.load_snapshot(&forced.snapshot).unwrap().parent,
        Some(second.snapshot)
    );
}

/// The latest snapshot's tree is gone: the next backup falls back to the newest intact parent,
/// says so, and completes.
#[test]
fn a_parent_without_its_tree_gives_way_to_an_older_one() {
    let inst = Installation::new("small-state1");
    let (_dir, repo_path, repo) = new_repo();
    let first = backup(&repo, &inst);
    inst.switch_to("small-state2");
    let second = backup(&repo, &inst);
    let tree = repo.load_snapshot(&second.snapshot).unwrap().tree;
    delete_blob(&repo, &tree);
    let repo = reopen_without_catalog(repo, &repo_path);

    let events = Collect::default();
    let third = backup_mox(&repo, &inst.root, &MoxBackupOptions::default(), &events).unwrap();
    assert!(third.complete, "{:?}", third.problems);
    let warnings = warnings_of(&events);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains(&second.snapshot.short())),
        "{warnings:?}"
    );
    assert_eq!(
        repo.load_snapshot(&third.snapshot).unwrap().parent,
        Some(first.snapshot)
    );
    verify_ok(&repo, &third.snapshot);
    assert_restores_as(&repo, &third.snapshot, "small-state2");
}

/// A damaged account manifest (and a damaged message list of another account) in the parent:
/// that account is scanned in full, that mailbox rescanned, with warnings; the night completes.
#[test]
fn a_damaged_manifest_or_list_in_the_parent_means_a_rescan() {
    let inst = Installation::new("small-state1");
    let (_dir, _repo_path, repo) = new_repo();
    let first = backup(&repo, &inst);
    let snap = repo.load_snapshot(&first.snapshot).unwrap();
    let bob = mailvault::load_manifest(&repo, account(&snap, "bob")).unwrap();
    let bob_box = bob.mailboxes.iter().find(|m| m.messages > 0).unwrap();
    flip_byte(&repo, &account(&snap, "alice").manifest);
    flip_byte(&repo, &bob_box.list);
    // A parent manifest is read by every backup, so its damage is found at once; a list of an
    // unchanged account is not read, so its damage waits for verify and `repair index`.
    let repo = repair_index(repo, &_repo_path);

    let events = Collect::default();
    let second = backup_mox(&repo, &inst.root, &MoxBackupOptions::default(), &events).unwrap();
    assert!(second.complete, "{:?}", second.problems);
    let warnings = warnings_of(&events);
    assert!(
        warnings.iter().any(|w| w.contains("account alice")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains(&format!("mailbox {} of account bob", bob_box.name))),
        "{warnings:?}"
    );
    assert_eq!(stat(&second, "messages_total"), 336);
    verify_ok(&repo, &second.snapshot);
    assert_restores_as(&repo, &second.snapshot, "small-state1");
    // The next night is back to reading nothing.
    let third = backup(&repo, &inst);
    assert_eq!(stat(&third, "accounts_skipped"), 3);
    assert_eq!(stat(&third, "messages_read"), 0);
}

/// Mailboxes are looked up by id with a binary search: a manifest whose mailboxes are not in
/// ascending id order (crafted; the backup always sorts them) is refused as malformed.
#[test]
fn a_manifest_with_unordered_mailboxes_is_refused() {
    let mailbox = |id: i64| mailvault::MailboxEntry {
        id,
        name: format!("box{id}"),
        parent_id: 0,
        expunged: false,
        modseq: 1,
        uidvalidity: 1,
        uidnext: 1,
        messages: 0,
        size: 0,
        complete: true,
        list: mailvault::BlobId::hash(b"list"),
    };
    let mut manifest = mailvault::AccountManifest {
        account: "alice".into(),
        last_modseq: 1,
        highest_deleted_modseq: 0,
        message_sequence: 0,
        mailboxes: (1..=1000).map(mailbox).collect(),
    };
    let decoded = mailvault::AccountManifest::decode(&manifest.encode()).unwrap();
    for id in [1, 500, 1000] {
        assert_eq!(decoded.mailbox(id).unwrap().name, format!("box{id}"));
    }
    assert!(decoded.mailbox(1001).is_none());
    manifest.mailboxes.swap(3, 700);
    let err = mailvault::AccountManifest::decode(&manifest.encode()).unwrap_err();
    assert!(err.to_string().contains("order"), "{err}");
}
