//! The repository: blobs, raw objects, formats refused by version, damage and catalog rebuilds.

mod check;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use mailvault::{
    BlobId, BlobKind, Collect, Error, Event, NoProgress, Repository, TreeBackupOptions, backup_tree,
};

fn new_repo() -> (tempfile::TempDir, PathBuf, Repository) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    let repo = Repository::init(&root).unwrap();
    (dir, root, repo)
}

fn object_path(root: &Path, id: &BlobId, raw: bool) -> PathBuf {
    let hex = id.to_hex();
    root.join("objects")
        .join(&hex[..2])
        .join(if raw { format!("{hex}.r") } else { hex })
}

#[test]
fn init_open_and_refusals() {
    let (dir, root, repo) = new_repo();
    let id = repo.config().id;
    drop(repo);
    assert_eq!(Repository::open(&root).unwrap().config().id, id);
    // Not empty: refused.
    assert!(matches!(Repository::init(&root), Err(Error::Invalid(_))));
    // Not a repository.
    let err = Repository::open(dir.path()).unwrap_err();
    assert!(
        err.to_string().contains("not a mailvault repository"),
        "{err}"
    );
    // A config of a newer format version is refused, naming the file.
    let config = root.join("config");
    let mut bytes = std::fs::read(&config).unwrap();
    bytes[4] = 4;
    std::fs::write(&config, &bytes).unwrap();
    match Repository::open(&root) {
        Err(Error::UnsupportedVersion { path, found: 4, .. }) => assert_eq!(path, config),
        other => panic!("expected UnsupportedVersion, got {other:?}"),
    }
}

#[test]
fn blobs_are_stored_once_and_read_back() {
    let (_d, root, repo) = new_repo();
    let data = check::bytes(70_000, 5);
    let a = repo.put_blob(BlobKind::Data, &data).unwrap();
    assert!(a.added && a.stored_bytes > 0);
    let b = repo.put_blob(BlobKind::Data, &data).unwrap();
    assert!(!b.added && b.stored_bytes == 0 && a.id == b.id);
    assert_eq!(a.id, BlobId::hash(&data));
    assert!(repo.has_blob(&a.id));
    assert_eq!(repo.get_blob(&a.id).unwrap(), data);
    // Compressible data is stored compressed.
    let zeros = vec![0u8; 100_000];
    let z = repo.put_blob(BlobKind::Data, &zeros).unwrap();
    assert!(z.stored_bytes < 1000);
    assert_eq!(repo.get_blob(&z.id).unwrap(), zeros);
    repo.flush().unwrap();
    assert_eq!(check::object_files(&root), 2);
    // Both went into one pack, found through one index file.
    assert_eq!(std::fs::read_dir(root.join("packs")).unwrap().count(), 1);
    assert_eq!(std::fs::read_dir(root.join("index")).unwrap().count(), 1);
    let missing = BlobId::hash(b"never stored");
    assert!(!repo.has_blob(&missing));
    assert!(matches!(
        repo.get_blob(&missing),
        Err(Error::MissingBlob { .. })
    ));
}

#[test]
fn concurrent_puts_of_the_same_content() {
    let (_d, root, repo) = new_repo();
    let datas: Vec<Vec<u8>> = (0..8).map(|i| check::bytes(10_000, 2 * (i % 3))).collect();
    std::thread::scope(|s| {
        for d in &datas {
            let repo = &repo;
            s.spawn(move || repo.put_blob(BlobKind::Data, d).unwrap());
        }
    });
    repo.flush().unwrap();
    assert_eq!(check::object_files(&root), 3);
    for d in &datas {
        assert_eq!(&repo.get_blob(&BlobId::hash(d)).unwrap(), d);
    }
}

#[test]
fn put_file_links_on_the_same_filesystem() {
    let (dir, root, repo) = new_repo();
    let src = dir.path().join("message");
    std::fs::write(&src, check::bytes(20_000, 1)).unwrap();
    let id = BlobId::hash(&std::fs::read(&src).unwrap());
    let events = Collect::default();
    let out = repo.put_file(&src, id, true, &events).unwrap();
    assert!(out.added);
    assert_eq!(out.stored_bytes, 0);
    let raw = object_path(&root, &id, true);
    assert_eq!(
        std::fs::metadata(&raw).unwrap().ino(),
        std::fs::metadata(&src).unwrap().ino()
    );
    assert_eq!(repo.get_blob(&id).unwrap(), std::fs::read(&src).unwrap());
    assert!(events.events().is_empty());
    // Again: nothing to do.
    assert!(!repo.put_file(&src, id, true, &events).unwrap().added);

    // Restores may link the raw object.
    assert_eq!(repo.raw_object_path(&id), Some(raw));
}

#[test]
fn put_file_copies_and_checks_the_given_id() {
    let (dir, root, repo) = new_repo();
    let src = dir.path().join("message");
    std::fs::write(&src, b"Subject: hi\r\n\r\nbody\r\n").unwrap();
    let wrong = BlobId::hash(b"something else");
    let err = repo.put_file(&src, wrong, false, &NoProgress).unwrap_err();
    assert!(err.to_string().contains("message"), "{err}");
    let id = BlobId::hash(&std::fs::read(&src).unwrap());
    assert!(repo.put_file(&src, id, false, &NoProgress).unwrap().added);
    assert!(!repo.blob_info(&id).unwrap().raw, "copied into a pack");
    assert!(!object_path(&root, &id, true).exists());
    assert_eq!(repo.get_blob(&id).unwrap(), std::fs::read(&src).unwrap());
}

#[test]
fn link_failure_falls_back_to_copy_and_warns_once() {
    let (dir, _root, repo) = new_repo();
    // A directory cannot be hardlinked: stands in for a cross-device source.
    let events = Collect::default();
    let a = dir.path().join("a");
    std::fs::write(&a, b"aaa").unwrap();
    let fake = dir.path().join("not-a-file");
    std::fs::create_dir(&fake).unwrap();
    // Link of a directory fails; the copy then fails too (it is no file) - but the warning
    // comes first, and only once for the repository.
    assert!(
        repo.put_file(&fake, BlobId::hash(b""), true, &events)
            .is_err()
    );
    let out = repo
        .put_file(&a, BlobId::hash(b"aaa"), true, &events)
        .unwrap();
    assert!(out.added && out.stored_bytes > 0, "copied, not linked");
    let warnings = events
        .events()
        .iter()
        .filter(|e| matches!(e, Event::Warning { .. }))
        .count();
    assert_eq!(warnings, 1);
}

fn corrupt_one_byte(path: &Path, at_end: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    let i = bytes.len() - 1 - at_end;
    bytes[i] ^= 0x55;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn damaged_objects_are_named_and_other_snapshots_survive() {
    let (dir, root, repo) = new_repo();
    let src = dir.path().join("src");
    check::generate(&src, 11);
    let first = backup_tree(&repo, &src, &TreeBackupOptions::default(), &NoProgress).unwrap();
    let model1 = check::model(&src);
    std::fs::write(src.join("later.bin"), check::bytes(50_000, 99)).unwrap();
    let second = backup_tree(&repo, &src, &TreeBackupOptions::default(), &NoProgress).unwrap();
    drop(repo);

    // Flip a byte of the blob only the second snapshot references.
    let id = BlobId::hash(&check::bytes(50_000, 99));
    let repo = Repository::open(&root).unwrap();
    let pack = check::damage_blob(&repo, &id);
    match repo.get_blob(&id) {
        Err(Error::Corrupt { path, what }) => {
            assert_eq!(path, pack);
            assert!(what.contains(&id.to_hex()), "{what}");
        }
        other => panic!("expected Corrupt naming the pack and blob, got {other:?}"),
    }
    let snap = repo.load_snapshot(&second.snapshot).unwrap();
    let tree = mailvault::Tree::load(&repo, &snap.tree).unwrap();
    let out = tempfile::tempdir().unwrap();
    // The restore goes on past the damaged blob and names the one path it could not restore.
    let stats = mailvault::restore_tree(&repo, &tree, out.path(), &Default::default(), &NoProgress)
        .unwrap();
    assert_eq!(stats.failed.len(), 1, "{:?}", stats.failed);
    assert!(
        stats.failed[0].error.contains(&id.to_hex()),
        "{:?}",
        stats.failed
    );
    assert!(!out.path().join(&stats.failed[0].path).exists());
    // The first snapshot does not need that blob.
    check::assert_same(
        &model1,
        &check::model(check::restore(&repo, &first.snapshot).path()),
    );
    // Reading changed nothing: the blob is still listed (and still damaged) until a repair.
    assert!(repo.has_blob(&id));
    drop(repo);
    let mut repo = Repository::open_exclusive(&root).unwrap();
    let report = repo.repair_index(&NoProgress).unwrap();
    assert_eq!(report.damaged.len(), 2, "{:?}", report.damaged);
    assert!(report.damaged.iter().any(|d| d.contains(&id.to_hex())));
    assert!(!repo.has_blob(&id));
    assert!(matches!(repo.get_blob(&id), Err(Error::MissingBlob { .. })));
    drop(repo);
    let repo = Repository::open(&root).unwrap();

    // A damaged snapshot file is reported with its path; the others still load.
    let snap_path = root.join("snapshots").join(second.snapshot.to_hex());
    let snap_bytes = std::fs::read(&snap_path).unwrap();
    corrupt_one_byte(&snap_path, 0);
    let err = repo.snapshots().unwrap_err();
    assert!(err.to_string().contains(&second.snapshot.to_hex()), "{err}");
    assert!(repo.load_snapshot(&first.snapshot).is_ok());
    let (good, bad) = repo.snapshots_lenient().unwrap();
    assert_eq!((good.len(), bad.len()), (1, 1));

    // Neither blocks the next backup: it uses the readable parent and stores the content of
    // the damaged object again.
    let third = backup_tree(&repo, &src, &TreeBackupOptions::default(), &NoProgress).unwrap();
    assert!(third.complete);
    assert_eq!(
        repo.load_snapshot(&third.snapshot).unwrap().parent,
        Some(first.snapshot)
    );
    assert_eq!(repo.resolve_snapshot("latest").unwrap(), third.snapshot);
    assert!(repo.has_blob(&id));
    let model2 = check::model(&src);
    check::assert_same(
        &model2,
        &check::model(check::restore(&repo, &third.snapshot).path()),
    );
    // ... which heals the second snapshot too (once its own file is repaired).
    std::fs::write(&snap_path, &snap_bytes).unwrap();
    check::assert_same(
        &model2,
        &check::model(check::restore(&repo, &second.snapshot).path()),
    );

    // A truncated pack is damaged too, named with the blob.
    let pack = repo.blob_path(&id);
    let len = std::fs::metadata(&pack).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&pack).unwrap();
    f.set_len(len - 7).unwrap();
    assert!(matches!(repo.get_blob(&id), Err(Error::Corrupt { .. })));
}

#[test]
fn damaged_raw_object_is_detected() {
    let (dir, root, repo) = new_repo();
    let src = dir.path().join("m");
    std::fs::write(&src, b"an immutable message").unwrap();
    let id = BlobId::hash(b"an immutable message");
    repo.put_file(&src, id, true, &NoProgress).unwrap();
    // Break the link first so the source is not touched, then damage the object.
    let raw = object_path(&root, &id, true);
    let bytes = std::fs::read(&raw).unwrap();
    std::fs::remove_file(&raw).unwrap();
    std::fs::write(&raw, &bytes).unwrap();
    corrupt_one_byte(&raw, 3);
    match repo.get_blob(&id) {
        Err(Error::Corrupt { path, .. }) => assert_eq!(path, raw),
        other => panic!("expected Corrupt naming the raw object, got {other:?}"),
    }
}

fn two_snapshots() -> (
    tempfile::TempDir,
    PathBuf,
    Vec<check::Model>,
    Vec<mailvault::SnapshotId>,
) {
    let (dir, root, repo) = new_repo();
    let src = dir.path().join("src");
    check::generate(&src, 21);
    let mut models = Vec::new();
    let mut ids = Vec::new();
    for round in 0..2 {
        std::fs::write(src.join(format!("round{round}")), check::bytes(3000, round)).unwrap();
        ids.push(
            backup_tree(&repo, &src, &TreeBackupOptions::default(), &NoProgress)
                .unwrap()
                .snapshot,
        );
        models.push(check::model(&src));
    }
    (dir, root, models, ids)
}

fn all_restore(root: &Path, models: &[check::Model], ids: &[mailvault::SnapshotId]) {
    let repo = Repository::open(root).unwrap();
    assert!(repo.has_catalog());
    assert_eq!(
        repo.catalog_blob_count().unwrap(),
        check::object_files(root) as u64,
        "catalog rebuilt from the objects"
    );
    let listed: Vec<_> = repo
        .snapshots()
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(listed, ids);
    for (m, id) in models.iter().zip(ids) {
        check::assert_same(m, &check::model(check::restore(&repo, id).path()));
    }
}

#[test]
fn truncated_catalog_is_rebuilt() {
    let (_d, root, models, ids) = two_snapshots();
    let cat = root.join("catalog.redb");
    let len = std::fs::metadata(&cat).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&cat).unwrap();
    f.set_len(len / 3).unwrap();
    drop(f);
    all_restore(&root, &models, &ids);
}

#[test]
fn deleted_or_garbage_catalog_is_rebuilt() {
    let (_d, root, models, ids) = two_snapshots();
    let cat = root.join("catalog.redb");
    std::fs::remove_file(&cat).unwrap();
    all_restore(&root, &models, &ids);
    std::fs::write(&cat, check::bytes(50_000, 1)).unwrap();
    all_restore(&root, &models, &ids);
}

#[test]
fn stale_catalog_is_rebuilt() {
    let (dir, root, repo) = new_repo();
    let src = dir.path().join("src");
    check::generate(&src, 31);
    backup_tree(&repo, &src, &TreeBackupOptions::default(), &NoProgress).unwrap();
    drop(repo);
    let old_catalog = std::fs::read(root.join("catalog.redb")).unwrap();
    let repo = Repository::open(&root).unwrap();
    std::fs::write(src.join("new"), b"new content").unwrap();
    backup_tree(&repo, &src, &TreeBackupOptions::default(), &NoProgress).unwrap();
    drop(repo);
    // Put back the catalog from before the second snapshot: it misses a snapshot and blobs.
    std::fs::write(root.join("catalog.redb"), old_catalog).unwrap();
    let repo = Repository::open(&root).unwrap();
    assert_eq!(
        repo.catalog_blob_count().unwrap(),
        check::object_files(&root) as u64
    );
    assert!(repo.has_blob(&BlobId::hash(b"new content")));
}

#[test]
fn resolve_snapshot_specs() {
    let (_d, root, _models, ids) = two_snapshots();
    let repo = Repository::open(&root).unwrap();
    assert_eq!(repo.resolve_snapshot("latest").unwrap(), ids[1]);
    assert_eq!(repo.resolve_snapshot(&ids[0].to_hex()).unwrap(), ids[0]);
    assert_eq!(
        repo.resolve_snapshot(&ids[0].to_hex()[..6]).unwrap(),
        ids[0]
    );
    assert!(matches!(
        repo.resolve_snapshot("abc"),
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        repo.resolve_snapshot(&"0".repeat(64)),
        Err(Error::NoSuchSnapshot(_))
    ));
}

#[test]
fn unknown_snapshot_version_is_refused() {
    let (_d, root, repo) = new_repo();
    let mut bytes = b"MVSN".to_vec();
    bytes.extend_from_slice(&9u32.to_le_bytes());
    bytes.extend_from_slice(b"future payload");
    let id = mailvault::SnapshotId::hash(&bytes);
    let path = root.join("snapshots").join(id.to_hex());
    std::fs::write(&path, &bytes).unwrap();
    match repo.load_snapshot(&id) {
        Err(Error::UnsupportedVersion {
            path: p, found: 9, ..
        }) => assert_eq!(p, path),
        other => panic!("expected UnsupportedVersion, got {other:?}"),
    }
}

#[test]
fn missing_empty_directories_are_recreated() {
    // A repository copied by a tool that drops empty directories still accepts writes.
    let (dir, root, repo) = new_repo();
    drop(repo);
    std::fs::remove_dir_all(root.join("tmp")).unwrap();
    for b in 0..=255u8 {
        std::fs::remove_dir(root.join(format!("objects/{b:02x}"))).unwrap();
    }
    let repo = Repository::open(&root).unwrap();
    let src = dir.path().join("src");
    check::generate(&src, 3);
    let s = backup_tree(&repo, &src, &TreeBackupOptions::default(), &NoProgress).unwrap();
    let msg = dir.path().join("msg");
    std::fs::write(&msg, b"linked message").unwrap();
    let id = BlobId::hash(b"linked message");
    assert!(repo.put_file(&msg, id, true, &NoProgress).unwrap().added);
    assert!(object_path(&root, &id, true).exists());
    check::assert_same(
        &check::model(&src),
        &check::model(check::restore(&repo, &s.snapshot).path()),
    );
}

#[test]
fn second_handle_works_without_the_catalog() {
    let (dir, root, first) = new_repo();
    let second = Repository::open(&root).unwrap();
    assert!(first.has_catalog());
    assert!(
        !second.has_catalog(),
        "the catalog is held by the first handle"
    );
    let src = dir.path().join("src");
    check::generate(&src, 8);
    let s = backup_tree(&second, &src, &TreeBackupOptions::default(), &NoProgress).unwrap();
    let again = backup_tree(&second, &src, &TreeBackupOptions::default(), &NoProgress).unwrap();
    assert_eq!(again.stats["files_read"], 0);
    drop(second);
    drop(first);
    // The catalog missed both snapshots: stale, rebuilt on open.
    let repo = Repository::open(&root).unwrap();
    assert_eq!(
        repo.catalog_blob_count().unwrap(),
        check::object_files(&root) as u64
    );
    check::assert_same(
        &check::model(&src),
        &check::model(check::restore(&repo, &s.snapshot).path()),
    );
}

/// The source tree of the golden repository: fixed content, modes and mtimes.
fn golden_source(root: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let t = |secs: u64| {
        std::fs::FileTimes::new()
            .set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
    };
    let file = |rel: &str, data: &[u8], mode: u32, secs: u64| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, data).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_times(t(secs))
            .unwrap();
    };
    file("hello.txt", b"hello, golden world\n", 0o644, 1_700_000_000);
    let text: Vec<u8> = b"Subject: golden\r\n\r\n"
        .iter()
        .chain(
            b"all work and no play makes a dull backup\r\n"
                .repeat(2500)
                .iter(),
        )
        .copied()
        .collect();
    file("accounts/alice/msg/a/1", &text, 0o660, 1_700_000_100);
    file(
        "accounts/alice/index.db",
        &check::bytes(140_000, 2024),
        0o640,
        1_700_000_200,
    );
    std::fs::hard_link(
        root.join("accounts/alice/msg/a/1"),
        root.join("accounts/alice/msg/a/1-twin"),
    )
    .unwrap();
    for (dir, mode, secs) in [
        ("accounts/alice/msg/a", 0o750, 1_700_000_300),
        ("accounts/alice/msg", 0o750, 1_700_000_400),
        ("accounts/alice", 0o750, 1_700_000_500),
        ("accounts", 0o755, 1_700_000_600),
    ] {
        let p = root.join(dir);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        std::fs::File::open(&p).unwrap().set_times(t(secs)).unwrap();
    }
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/repo-v1")
}

/// Writes `tests/golden/repo-v1` (run once per format version, then committed):
/// `cargo test --test repository write_golden_v1 -- --ignored`
#[test]
#[ignore]
fn write_golden_v1() {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    golden_source(&src);
    let root = work.path().join("repo");
    let repo = Repository::init(&root).unwrap();
    let s = backup_tree(&repo, &src, &TreeBackupOptions::default(), &NoProgress).unwrap();
    // Replace the machine-specific fields with fixed ones.
    let mut snap = repo.load_snapshot(&s.snapshot).unwrap();
    snap.host = "example-host".into();
    snap.source = "/srv/mox".into();
    snap.time_ns = 1_700_001_000_000_000_000;
    snap.stats.insert("duration_ms".into(), 7);
    snap.tool_version = "0.1.0".into();
    repo.commit_snapshot(&snap).unwrap();
    std::fs::remove_file(root.join("snapshots").join(s.snapshot.to_hex())).unwrap();
    drop(repo);
    let golden = golden_dir();
    let _ = std::fs::remove_dir_all(&golden);
    for e in walkdir::WalkDir::new(&root) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(&root).unwrap();
        if !e.file_type().is_file() || rel.starts_with("tmp") || rel.ends_with("catalog.redb") {
            continue;
        }
        let dest = golden.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(e.path(), dest).unwrap();
    }
}

#[test]
fn golden_v1_repository_still_reads() {
    // A copy: opening creates the catalog and the empty directories git does not keep.
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("repo");
    for e in walkdir::WalkDir::new(golden_dir()) {
        let e = e.unwrap();
        let dest = root.join(e.path().strip_prefix(golden_dir()).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
    let repo = Repository::open(&root).unwrap();
    let snaps = repo.snapshots().unwrap();
    assert_eq!(snaps.len(), 1);
    let (id, snap) = &snaps[0];
    assert_eq!(snap.host, "example-host");
    assert_eq!(snap.source, "/srv/mox");
    assert_eq!(snap.time_ns, 1_700_001_000_000_000_000);
    assert!(snap.complete);
    assert_eq!(snap.stats["files_total"], 4);
    // Framed objects of every kind used, one of them zstd-compressed.
    let blobs = repo.list_blobs().unwrap();
    assert!(blobs.iter().any(|(_, i)| i.kind == BlobKind::Tree));
    assert!(
        blobs
            .iter()
            .any(|(_, i)| i.kind == BlobKind::Data && i.stored_len < 5000)
    );
    assert_eq!(
        blobs.len(),
        1 + 1 + 1 + 3,
        "tree, hello, message, three db chunks"
    );

    let src = work.path().join("src");
    golden_source(&src);
    check::assert_same(
        &check::model(&src),
        &check::model(check::restore(&repo, id).path()),
    );
}

#[test]
fn a_symlink_is_never_linked_into_the_repository() {
    let (dir, root, repo) = new_repo();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, b"password hashes").unwrap();
    let link = dir.path().join("message");
    std::os::unix::fs::symlink(&secret, &link).unwrap();
    let id = BlobId::hash(b"password hashes");
    let events = Collect::default();
    // Linking refuses the symlink; the copy that follows reads through it only if asked to:
    // put_file's caller opens message files without following symlinks (tests/hostile.rs).
    let _ = repo.put_file(&link, id, true, &events);
    let raw = object_path(&root, &id, true);
    assert!(
        std::fs::symlink_metadata(&raw).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
            || std::fs::symlink_metadata(&raw).unwrap().is_file(),
        "a symlink was published as a raw object"
    );
    assert!(
        events
            .events()
            .iter()
            .any(|e| matches!(e, Event::Warning { .. }))
    );
}
