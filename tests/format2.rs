//! Repository format 2: packs, index files rebuilt from packs, the repository lock, format 1
//! repositories (read as they are, converted by `migrate`) and the golden format 2 repository.

mod check;
mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::Installation;
use mailvault::{
    BlobKind, Error, MoxBackupOptions, MoxRestoreSelection, NoProgress, Repository, RestoreOptions,
    TreeBackupOptions, backup_mox, backup_tree, restore_mox,
};

/// Every regular file under `root` with its SHA-256, by relative path.
fn file_hashes(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(root) {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let rel = e
                .path()
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            out.insert(rel, common::sha256_hex(&std::fs::read(e.path()).unwrap()));
        }
    }
    out
}

/// The message list of alice's Inbox in a snapshot of the fixture.
fn inbox_messages(repo: &Repository, snap: &mailvault::Snapshot) -> Vec<mailvault::MessageEntry> {
    let alice = snap.accounts.iter().find(|a| a.name == "alice").unwrap();
    let manifest = mailvault::load_manifest(repo, alice).unwrap();
    let inbox = manifest.mailbox_by_name("Inbox").unwrap();
    mailvault::load_list(repo, &inbox.list).unwrap().messages
}

fn files_under(root: &Path, dir: &str) -> usize {
    walkdir::WalkDir::new(root.join(dir))
        .into_iter()
        .filter(|e| e.as_ref().unwrap().file_type().is_file())
        .count()
}

/// The databases the snapshot holds are consistent copies, not the live files: compare what
/// mox does not rewrite (message files, config).
fn assert_messages_and_config_equal(source: &Path, restored: &Path) {
    let keep = |m: BTreeMap<String, String>| -> BTreeMap<String, String> {
        m.into_iter()
            .filter(|(p, _)| p.contains("/msg/") || p.starts_with("config/"))
            .collect()
    };
    let want = keep(file_hashes(source));
    assert!(want.len() > 300, "{} files", want.len());
    assert_eq!(keep(file_hashes(restored)), want);
}

#[test]
fn copy_mode_packs_messages_into_few_files() {
    let inst = Installation::new("small-state1");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    let repo = Repository::init(&root).unwrap();
    let opts = MoxBackupOptions {
        link: false,
        ..MoxBackupOptions::default()
    };
    let s = backup_mox(&repo, &inst.root, &opts, &NoProgress).unwrap();
    assert!(s.complete);
    assert_eq!(s.stats["messages_total"], 336);
    // 336 message files, database pages and structure in a handful of packs and one index
    // file; no object files of their own.
    let packs = files_under(&root, "packs");
    assert!((2..=8).contains(&packs), "{packs} packs");
    assert_eq!(files_under(&root, "index"), 1);
    assert_eq!(files_under(&root, "objects"), 0);
    let blobs = repo.list_blobs().unwrap();
    assert!(blobs.len() > 336, "{} blobs", blobs.len());
    assert!(blobs.iter().all(|(_, i)| !i.raw));
    // Metadata and data go to separate packs.
    assert!(blobs.iter().any(|(_, i)| i.kind == BlobKind::Manifest));
    let restored = common::restore_whole(&repo, &s.snapshot);
    assert_messages_and_config_equal(&inst.root, restored.path());
}

#[test]
fn database_pages_added_per_night_follow_the_pages_changed() {
    // The fixture night: state 2 rewrites pages of the account databases in place.
    let inst = Installation::new("small-state1");
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(&dir.path().join("repo")).unwrap();
    backup_mox(&repo, &inst.root, &MoxBackupOptions::default(), &NoProgress).unwrap();
    inst.switch_to("small-state2");
    let night = backup_mox(&repo, &inst.root, &MoxBackupOptions::default(), &NoProgress).unwrap();
    // Every byte added is accounted for by 4 KiB pages, new message files and structure:
    // far below one 64 KiB chunk per changed database.
    let db_bytes: u64 = walkdir::WalkDir::new(inst.data().join("accounts"))
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name() == "index.db")
        .map(|e| e.metadata().unwrap().len())
        .sum();
    assert!(
        night.stats["bytes_added"] < db_bytes / 4,
        "{} bytes added for {} bytes of account databases",
        night.stats["bytes_added"],
        db_bytes
    );
}

#[test]
fn index_is_rebuilt_from_packs() {
    let inst = Installation::new("small-state1");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    let repo = Repository::init(&root).unwrap();
    let opts = MoxBackupOptions {
        link: false,
        ..MoxBackupOptions::default()
    };
    let s = backup_mox(&repo, &inst.root, &opts, &NoProgress).unwrap();
    let before = repo.list_blobs().unwrap();
    drop(repo);
    // Lose every index file and the catalog: the blobs are unknown, the snapshot unreadable.
    for e in std::fs::read_dir(root.join("index")).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }
    std::fs::remove_file(root.join("catalog.redb")).unwrap();
    let repo = Repository::open(&root).unwrap();
    assert!(repo.list_blobs().unwrap().is_empty());
    let snap = repo.load_snapshot(&s.snapshot).unwrap();
    assert!(matches!(
        mailvault::load_manifest(&repo, &snap.accounts[0]),
        Err(Error::MissingBlob { .. })
    ));
    // A shared holder keeps `repair` out.
    match Repository::open_exclusive(&root) {
        Err(Error::Locked(msg)) => {
            assert!(msg.contains(&std::process::id().to_string()), "{msg}");
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    drop(repo);
    let mut repo = Repository::open_exclusive(&root).unwrap();
    let report = repo.repair_index(&NoProgress).unwrap();
    assert!(report.damaged.is_empty(), "{:?}", report.damaged);
    assert_eq!(repo.list_blobs().unwrap(), before);
    drop(repo);
    let repo = Repository::open(&root).unwrap();
    let restored = common::restore_whole(&repo, &s.snapshot);
    assert_messages_and_config_equal(&inst.root, restored.path());
}

#[test]
fn lock_shared_exclusive_and_stale() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    let exclusive = {
        Repository::init(&root).unwrap();
        Repository::open_exclusive(&root).unwrap()
    };
    // Held exclusively: a shared open is refused, naming pid, host and time.
    match Repository::open(&root) {
        Err(Error::Locked(msg)) => {
            assert!(msg.contains("exclusively"), "{msg}");
            assert!(
                msg.contains(&format!("pid {}", std::process::id())),
                "{msg}"
            );
            assert!(msg.contains(&mailvault::host_name()), "{msg}");
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    drop(exclusive);
    // Shared with shared is fine.
    let a = Repository::open(&root).unwrap();
    let b = Repository::open(&root).unwrap();
    drop((a, b));
    // A record left by a process that is gone is stale: removed, never named.
    let record = mailvault::LockRecord {
        pid: 999_999_999,
        host: mailvault::host_name(),
        time_ns: 1,
        exclusive: true,
        purpose: "crashed".into(),
    };
    let stale = root.join("locks/stale");
    std::fs::write(&stale, record.encode()).unwrap();
    let held = Repository::open(&root).unwrap();
    match Repository::open_exclusive(&root) {
        Err(Error::Locked(msg)) => assert!(!msg.contains("999999999"), "{msg}"),
        other => panic!("expected Locked, got {other:?}"),
    }
    drop(held);
    assert!(!stale.exists());
    // Leftovers of crashed runs go when the repository is otherwise unused.
    std::fs::write(root.join("tmp/pack-1-0"), b"torn").unwrap();
    let _repo = Repository::open(&root).unwrap();
    assert!(!root.join("tmp/pack-1-0").exists());
}

#[test]
fn two_concurrent_backups_both_commit_and_the_catalog_stays_usable() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("repo");
    Repository::init(&root).unwrap();
    let srcs: Vec<PathBuf> = (0..2)
        .map(|i| {
            let s = work.path().join(format!("src{i}"));
            check::generate(&s, 40 + i);
            s
        })
        .collect();
    let ids: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = srcs
            .iter()
            .map(|src| {
                let root = &root;
                scope.spawn(move || {
                    let repo = Repository::open(root).unwrap();
                    backup_tree(&repo, src, &TreeBackupOptions::default(), &NoProgress)
                        .unwrap()
                        .snapshot
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let repo = Repository::open(&root).unwrap();
    assert!(repo.has_catalog());
    assert_eq!(
        repo.catalog_blob_count().unwrap(),
        repo.list_blobs().unwrap().len() as u64
    );
    for (src, id) in srcs.iter().zip(&ids) {
        check::assert_same(
            &check::model(src),
            &check::model(check::restore(&repo, id).path()),
        );
    }
}

fn golden(version: u32) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/repo-v{version}"))
}

#[test]
fn format_1_is_read_refused_for_writes_and_migrated() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("repo");
    check::copy_dir(&golden(1), &root);
    let repo = Repository::open(&root).unwrap();
    let (id, _) = repo.snapshots().unwrap().remove(0);
    let before = check::model(check::restore(&repo, &id).path());
    // Writes need the conversion first, and say so.
    let src = work.path().join("src");
    check::generate(&src, 2);
    let err = backup_tree(&repo, &src, &TreeBackupOptions::default(), &NoProgress).unwrap_err();
    assert!(err.to_string().contains("mailvault migrate"), "{err}");
    drop(repo);

    let mut repo = Repository::open_exclusive(&root).unwrap();
    let report = repo.migrate(&NoProgress).unwrap();
    assert_eq!((report.from_version, report.to_version), (1, 2));
    assert_eq!(report.blobs_packed, 6);
    assert!(report.damaged.is_empty());
    drop(repo);
    // Loose framed objects are gone; the snapshot restores the same from packs.
    let loose = walkdir::WalkDir::new(root.join("objects"))
        .into_iter()
        .filter(|e| e.as_ref().unwrap().file_type().is_file())
        .count();
    assert_eq!(loose, 0);
    let repo = Repository::open(&root).unwrap();
    assert_eq!(repo.config().version, 2);
    check::assert_same(&before, &check::model(check::restore(&repo, &id).path()));
    let s = backup_tree(&repo, &src, &TreeBackupOptions::default(), &NoProgress).unwrap();
    check::assert_same(
        &check::model(&src),
        &check::model(check::restore(&repo, &s.snapshot).path()),
    );
}

/// The hashes of the installation the golden format 2 repository was written from.
fn golden_v2_hashes() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/repo-v2.sha256")
}

/// Writes `tests/golden/repo-v2` (once, when format 2 was released):
/// `cargo test --test format2 write_golden_v2 -- --ignored`
#[test]
#[ignore]
fn write_golden_v2() {
    let work = tempfile::tempdir().unwrap();
    let inst = work.path().join("mox");
    let opts = mailvault::mox::generator::GenOptions {
        accounts: 2,
        messages: 12,
        seed: 5,
        attachment_percent: 0.0,
        max_attachment: 50_000,
        queue: 1,
        junk_every: 0,
        ..Default::default()
    };
    mailvault::mox::generator::generate(&opts, &inst).unwrap();
    let root = work.path().join("repo");
    let repo = Repository::init(&root).unwrap();
    let s = backup_mox(&repo, &inst, &MoxBackupOptions::default(), &NoProgress).unwrap();
    assert!(s.complete && s.stats["objects_hardlinked"] + s.stats["objects_reflinked"] > 0);
    drop(repo);
    let out = golden(2);
    let _ = std::fs::remove_dir_all(&out);
    check::copy_repository_files(&root, &out);
    let lines: String = file_hashes(&inst)
        .into_iter()
        .filter(|(p, _)| p.contains("/msg/") || p.starts_with("config/"))
        .map(|(p, h)| format!("{h}  {p}\n"))
        .collect();
    std::fs::write(golden_v2_hashes(), lines).unwrap();
}

#[test]
fn golden_v2_repository_still_restores() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("repo");
    check::copy_dir(&golden(2), &root);
    let repo = Repository::open(&root).unwrap();
    assert_eq!(repo.config().version, 2);
    let snaps = repo.snapshots().unwrap();
    assert_eq!(snaps.len(), 1);
    let (id, snap) = &snaps[0];
    assert_eq!(snap.accounts.len(), 2);
    // Raw objects (linked messages), data and metadata packs, one index file.
    let blobs = repo.list_blobs().unwrap();
    assert!(blobs.iter().any(|(_, i)| i.raw));
    assert!(blobs.iter().any(|(_, i)| i.kind == BlobKind::Manifest));
    assert!(
        blobs
            .iter()
            .any(|(_, i)| i.kind == BlobKind::Data && !i.raw)
    );
    let restored = common::restore_whole(&repo, id);
    let want: BTreeMap<String, String> = std::fs::read_to_string(golden_v2_hashes())
        .unwrap()
        .lines()
        .map(|l| {
            let (h, p) = l.split_once("  ").unwrap();
            (p.to_string(), h.to_string())
        })
        .collect();
    assert!(want.len() > 20);
    let got: BTreeMap<String, String> = file_hashes(restored.path())
        .into_iter()
        .filter(|(p, _)| want.contains_key(p))
        .collect();
    assert_eq!(got, want);
    // Every blob verifies.
    assert!(mailvault::verify(&repo, snap, &NoProgress).unwrap().ok());
}

#[test]
fn repository_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let inst = Installation::new("small-state1");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    let repo = Repository::init(&root).unwrap();
    let opts = MoxBackupOptions {
        link: false,
        ..MoxBackupOptions::default()
    };
    backup_mox(&repo, &inst.root, &opts, &NoProgress).unwrap();
    let mut seen = 0;
    for e in walkdir::WalkDir::new(&root) {
        let e = e.unwrap();
        let mode = e.metadata().unwrap().permissions().mode() & 0o777;
        let want = if e.file_type().is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode, want, "{}", e.path().display());
        seen += 1;
    }
    assert!(seen > 260);
}

#[test]
fn a_torn_raw_object_is_never_present() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    let repo = Repository::init(&root).unwrap();
    let msg = dir.path().join("message");
    std::fs::write(&msg, b"Subject: torn\r\n\r\nbody\r\n").unwrap();
    let id = mailvault::BlobId::hash(&std::fs::read(&msg).unwrap());
    // What a power loss can leave of a reflinked object published before the sync.
    let hex = id.to_hex();
    let raw = root
        .join("objects")
        .join(&hex[..2])
        .join(format!("{hex}.r"));
    std::fs::write(&raw, b"").unwrap();
    assert!(!repo.has_blob(&id));
    assert!(repo.put_file(&msg, id, true, &NoProgress).unwrap().added);
    repo.flush().unwrap();
    drop(repo);
    let repo = Repository::open(&root).unwrap();
    assert_eq!(repo.get_blob(&id).unwrap(), std::fs::read(&msg).unwrap());
}

/// A linked message shares its inode with the repository (and, hardlinked, with the server):
/// a restore that would have to change its mode copies instead, and the object keeps its
/// metadata; a message changed in place is reported as such, and nothing is moved aside.
#[test]
fn linked_objects_are_never_changed_by_restore_and_in_place_changes_are_named() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let inst = Installation::new("small-state1");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    let repo = Repository::init(&root).unwrap();
    let s = backup_mox(&repo, &inst.root, &MoxBackupOptions::default(), &NoProgress).unwrap();
    // The summary says how message files were linked.
    assert!(s.stats["objects_hardlinked"] + s.stats["objects_reflinked"] > 250);
    let snap = repo.load_snapshot(&s.snapshot).unwrap();
    let entry = inbox_messages(&repo, &snap)[0].clone();
    let raw = repo.raw_object_path(&entry.blob).expect("a linked message");
    // The object's mode now differs from the one to restore.
    std::fs::set_permissions(&raw, std::fs::Permissions::from_mode(0o604)).unwrap();
    let before = std::fs::metadata(&raw).unwrap();
    let out = tempfile::tempdir().unwrap();
    let opts = RestoreOptions {
        link: true,
        ..RestoreOptions::default()
    };
    restore_mox(
        &repo,
        &snap,
        out.path(),
        &MoxRestoreSelection::default(),
        &opts,
        &NoProgress,
    )
    .unwrap();
    let restored = out
        .path()
        .join("data/accounts/alice/msg")
        .join(mailvault::mox::message_path(entry.id));
    let got = std::fs::metadata(&restored).unwrap();
    assert_ne!(got.ino(), before.ino(), "copied, not linked");
    assert_eq!(got.mode() & 0o7777, entry.mode);
    let after = std::fs::metadata(&raw).unwrap();
    assert_eq!(
        (after.mode(), after.mtime(), after.ctime()),
        (before.mode(), before.mtime(), before.ctime())
    );

    // An in-place write to the shared file: verify names it, the object stays where it is.
    if before.nlink() > 1 {
        let mut bytes = std::fs::read(&raw).unwrap();
        bytes[0] ^= 1;
        let f = std::fs::OpenOptions::new().write(true).open(&raw).unwrap();
        std::os::unix::fs::FileExt::write_at(&f, &bytes[..1], 0).unwrap();
        let report = mailvault::verify(&repo, &snap, &NoProgress).unwrap();
        assert!(
            report
                .damaged
                .iter()
                .any(|d| d.id == entry.blob.to_hex() && d.error.contains("changed in place")),
            "{:?}",
            report.damaged
        );
        assert!(raw.exists());
    }
}

/// On a filesystem that can reflink (XFS, btrfs: `.ci/run` mounts an XFS image and names it in
/// `MAILVAULT_TEST_REFLINK_DIR`), message files are cloned, not hardlinked: an inode of the
/// repository's own, so an in-place write to the live file leaves the backup intact.
#[test]
fn reflinked_messages_survive_in_place_writes() {
    use std::os::unix::fs::MetadataExt;
    let Some(base) = std::env::var_os("MAILVAULT_TEST_REFLINK_DIR") else {
        eprintln!("skipped: MAILVAULT_TEST_REFLINK_DIR names no reflink-capable directory");
        return;
    };
    let dir = tempfile::tempdir_in(base).unwrap();
    let inst = dir.path().join("mox");
    std::fs::create_dir(&inst).unwrap();
    common::extract_fixture_into("small-state1", &inst);
    let root = dir.path().join("repo");
    let repo = Repository::init(&root).unwrap();
    let s = backup_mox(&repo, &inst, &MoxBackupOptions::default(), &NoProgress).unwrap();
    assert!(s.complete);
    // 282 distinct message files (deliveries to several accounts are one file).
    assert!(s.stats["objects_reflinked"] > 250, "{:?}", s.stats);
    assert_eq!(s.stats["objects_hardlinked"], 0);
    let snap = repo.load_snapshot(&s.snapshot).unwrap();
    let entry = inbox_messages(&repo, &snap)[0].clone();
    let live = inst
        .join("data/accounts/alice/msg")
        .join(mailvault::mox::message_path(entry.id));
    let raw = repo.raw_object_path(&entry.blob).unwrap();
    assert_ne!(
        std::fs::metadata(&raw).unwrap().ino(),
        std::fs::metadata(&live).unwrap().ino()
    );
    let original = std::fs::read(&live).unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&live).unwrap();
    std::os::unix::fs::FileExt::write_at(&f, b"X", 0).unwrap();
    assert!(mailvault::verify(&repo, &snap, &NoProgress).unwrap().ok());
    let out = common::restore_whole(&repo, &s.snapshot);
    let restored = out
        .path()
        .join("data/accounts/alice/msg")
        .join(mailvault::mox::message_path(entry.id));
    assert_eq!(std::fs::read(restored).unwrap(), original);
}

/// A message file written in place through its hardlink: the next backup that scans its
/// mailbox (its modseq moved) sees the linked object's size or time moved and stores the file
/// again.
#[test]
fn a_message_changed_in_place_is_stored_again() {
    use std::os::unix::fs::MetadataExt;
    let inst = Installation::new("small-state1");
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(&dir.path().join("repo")).unwrap();
    let first = backup_mox(&repo, &inst.root, &MoxBackupOptions::default(), &NoProgress).unwrap();
    let snap = repo.load_snapshot(&first.snapshot).unwrap();
    let entry = inbox_messages(&repo, &snap)[0].clone();
    let live = inst
        .data()
        .join("accounts/alice/msg")
        .join(mailvault::mox::message_path(entry.id));
    if std::fs::metadata(&live).unwrap().nlink() < 2 {
        eprintln!("skipped: the message was not hardlinked (reflinks keep their own copy)");
        return;
    }
    // A night in which alice's Inbox changes (state 2's database and new files), and in which
    // one of its old message files is written in place (same inode, new time).
    let night = common::extract_fixture("small-state2");
    let alice_dir = inst.data().join("accounts/alice");
    let night_alice = night.path().join("data/accounts/alice");
    std::fs::remove_file(alice_dir.join("index.db")).unwrap();
    std::fs::copy(night_alice.join("index.db"), alice_dir.join("index.db")).unwrap();
    for e in walkdir::WalkDir::new(night_alice.join("msg")) {
        let e = e.unwrap();
        let dest = alice_dir.join(e.path().strip_prefix(&night_alice).unwrap());
        if e.file_type().is_file() && !dest.exists() {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
    assert!(
        night_alice
            .join("msg")
            .join(mailvault::mox::message_path(entry.id))
            .exists()
    );
    let f = std::fs::OpenOptions::new().write(true).open(&live).unwrap();
    std::os::unix::fs::FileExt::write_at(&f, b"X", 0).unwrap();
    drop(f);
    let events = mailvault::Collect::default();
    let opts = MoxBackupOptions::default();
    let second = backup_mox(&repo, &inst.root, &opts, &events).unwrap();
    let snap2 = repo.load_snapshot(&second.snapshot).unwrap();
    let entry2 = inbox_messages(&repo, &snap2)
        .into_iter()
        .find(|m| m.id == entry.id)
        .unwrap();
    assert_eq!(
        entry2.blob,
        mailvault::BlobId::hash(&std::fs::read(&live).unwrap())
    );
    assert_ne!(entry2.blob, entry.blob);
    let warned = events.events().iter().any(|e| {
        matches!(e, mailvault::Event::Warning { message, .. } if message.contains("changed in place"))
    });
    assert!(warned);
}

fn copy_backup(inst: &Installation) -> (tempfile::TempDir, Repository, mailvault::BackupSummary) {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(&dir.path().join("repo")).unwrap();
    let opts = MoxBackupOptions {
        link: false,
        ..MoxBackupOptions::default()
    };
    let s = backup_mox(&repo, &inst.root, &opts, &NoProgress).unwrap();
    assert!(s.complete);
    (dir, repo, s)
}

/// Copy mode stores a large message file as content-defined chunks behind a chunk list: two
/// messages sharing a long run store it once (the repository grows by about one run, not two),
/// and everything restores byte for byte. Linking is unchanged: whole raw objects.
#[test]
fn large_messages_are_chunked_in_copy_mode_and_shared_runs_stored_once() {
    let run = 1 << 20;
    let (shared, ids) = common::large_messages(2, run, true);
    let (own, own_ids) = common::large_messages(2, run, false);
    assert_eq!(ids, own_ids);
    let (_d1, repo, s) = copy_backup(&shared);
    let (_d2, own_repo, own_s) = copy_backup(&own);

    let snap = repo.load_snapshot(&s.snapshot).unwrap();
    let all = common::all_messages(&repo, &snap);
    // Exactly the files above the threshold are chunked (the fixture has a few of its own).
    for (_, m) in &all {
        assert_eq!(m.chunked, m.file_size > mailvault::MESSAGE_WHOLE_MAX as u64);
    }
    let chunked: Vec<mailvault::MessageEntry> = all
        .into_iter()
        .filter(|(account, m)| account == "alice" && ids.contains(&m.id))
        .map(|(_, m)| m)
        .collect();
    assert!(chunked.len() >= ids.len());
    for m in &chunked {
        assert!(m.file_size > run as u64);
        let chunks = mailvault::message_chunks(&repo, m).unwrap();
        assert!(chunks.len() > 4, "{} chunks", chunks.len());
        assert_eq!(
            mailvault::load_message(&repo, m).unwrap().len() as u64,
            m.file_size
        );
        // The chunk list is metadata; its chunks are data.
        assert_eq!(repo.blob_info(&m.blob).unwrap().kind, BlobKind::Manifest);
        assert!(
            chunks
                .iter()
                .all(|c| repo.blob_info(c).unwrap().kind == BlobKind::Data)
        );
    }
    // The shared run is stored once: the other repository holds two runs of their own.
    let (added, own_added) = (s.stats["bytes_added"], own_s.stats["bytes_added"]);
    assert!(
        own_added > added + run as u64 / 2 && own_added < added + 2 * run as u64,
        "{added} bytes added with a shared run, {own_added} with two runs"
    );
    let restored = common::restore_whole(&repo, &s.snapshot);
    assert_messages_and_config_equal(&shared.root, restored.path());
    let restored = common::restore_whole(&own_repo, &own_s.snapshot);
    assert_messages_and_config_equal(&own.root, restored.path());
    // Every structure and data blob, chunk lists and chunks included, read back and hashed.
    let report = mailvault::check(
        &repo,
        &mailvault::CheckOptions {
            read_data: mailvault::ReadData::All,
        },
        &NoProgress,
    )
    .unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert!(mailvault::verify(&repo, &snap, &NoProgress).unwrap().ok());

    // Linked: the same files are whole raw objects, nothing chunked.
    let dir = tempfile::tempdir().unwrap();
    let linked = Repository::init(&dir.path().join("repo")).unwrap();
    let l = backup_mox(
        &linked,
        &shared.root,
        &MoxBackupOptions::default(),
        &NoProgress,
    )
    .unwrap();
    let lsnap = linked.load_snapshot(&l.snapshot).unwrap();
    for (_, m) in common::all_messages(&linked, &lsnap) {
        assert!(!m.chunked);
        if ids.contains(&m.id) {
            assert!(linked.raw_object_path(&m.blob).is_some());
        }
    }
}

/// A damaged chunk is found by `check --read-data` and traced to its message; restore fails
/// that message alone.
#[test]
fn a_damaged_chunk_is_traced_to_its_message() {
    let (inst, ids) = common::large_messages(1, 600 << 10, false);
    let (dir, repo, s) = copy_backup(&inst);
    let snap = repo.load_snapshot(&s.snapshot).unwrap();
    let (_, entry) = common::all_messages(&repo, &snap)
        .into_iter()
        .find(|(_, m)| m.id == ids[0])
        .unwrap();
    assert!(entry.chunked);
    let chunk = mailvault::message_chunks(&repo, &entry).unwrap()[1];
    let (pack, offset, len) = repo.blob_entry(&chunk).unwrap();
    let mut bytes = std::fs::read(&pack).unwrap();
    bytes[(offset + len / 2) as usize] ^= 0xff;
    std::fs::write(&pack, &bytes).unwrap();
    drop(repo);
    let repo = Repository::open(&dir.path().join("repo")).unwrap();

    let report = mailvault::check(
        &repo,
        &mailvault::CheckOptions {
            read_data: mailvault::ReadData::All,
        },
        &NoProgress,
    )
    .unwrap();
    assert!(!report.ok());
    assert!(
        report.uses.iter().any(
            |u| u.blob == chunk.to_hex() && u.what.starts_with(&format!("message {} ", ids[0]))
        ),
        "{:?}",
        report.uses
    );
    let out = tempfile::tempdir().unwrap();
    let stats = restore_mox(
        &repo,
        &snap,
        out.path(),
        &MoxRestoreSelection::default(),
        &RestoreOptions::default(),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(stats.failed.len(), 1, "{:?}", stats.failed);
    assert_eq!(stats.failed[0].message.as_ref().unwrap().id, ids[0]);
}
