//! Crash consistency: a backend that refuses every write after N operations stands in for a
//! process killed at that point (optionally followed by a power loss that takes away every
//! file published since the last sync). For every N: the repository opens, every earlier
//! snapshot restores identically, and the next backup works.

mod check;
mod common;

use std::path::Path;
use std::sync::Arc;

use mailvault::{
    Backend, FailAfter, LocalBackend, MoxBackupOptions, MoxRestoreSelection, NoProgress,
    PackParams, Repository, RestoreOptions, SnapshotId, TreeBackupOptions, backup_mox, backup_tree,
    restore_mox,
};

/// Small packs: every few blobs a pack is published, so a run has many crash points.
const SMALL_PACKS: PackParams = PackParams {
    data_size: 64 << 10,
    meta_size: 8 << 10,
    max_blobs: 4,
};

/// What a power loss does to a file published without fsync: gone, or torn (cut short). A
/// hardlink is a new name for a durable inode: only the name can go, its bytes cannot tear.
fn lose(path: &Path, torn: bool) {
    use std::os::unix::fs::MetadataExt;
    let shared = std::fs::symlink_metadata(path).is_ok_and(|m| m.nlink() > 1);
    if torn && !shared {
        if let Ok(f) = std::fs::OpenOptions::new().write(true).open(path) {
            let len = f.metadata().unwrap().len();
            f.set_len(len / 2).unwrap();
        }
    } else {
        std::fs::remove_file(path).ok();
    }
}

/// Restores every snapshot and compares it with the model of its source at the time.
fn verify(root: &Path, expected: &[(mailvault::SnapshotId, check::Model)]) {
    let repo = Repository::open(root).unwrap();
    let listed: Vec<_> = repo
        .snapshots()
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    for (id, model) in expected {
        assert!(listed.contains(id), "snapshot {id} lost");
        check::assert_same(model, &check::model(check::restore(&repo, id).path()));
    }
}

fn run_crash_points(power_loss: bool) {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    check::generate(&src, 7);
    let base = work.path().join("base");
    let repo = Repository::init_with(&base, SMALL_PACKS).unwrap();
    let first = backup_tree(&repo, &src, &TreeBackupOptions::default(), &NoProgress).unwrap();
    drop(repo);
    let model1 = check::model(&src);

    // The second backup changes some files, adds others, and reuses the rest.
    std::fs::write(src.join("a/one.txt"), b"edited\n").unwrap();
    std::fs::write(src.join("big/more.bin"), check::bytes(1_200_000, 77)).unwrap();
    let mut db = std::fs::read(src.join("big/store.db")).unwrap();
    db[70_000] ^= 1;
    std::fs::write(src.join("big/store.db"), db).unwrap();
    for i in 0..6 {
        std::fs::write(
            src.join(format!("new{i}")),
            check::bytes(1000 + i, 100 + i as u64),
        )
        .unwrap();
    }
    let model2 = check::model(&src);

    let mut completed_at = None;
    for n in 0..500u64 {
        let root = work.path().join(format!("r{n}"));
        check::copy_dir(&base, &root);
        let faulty = Arc::new(FailAfter::new(Arc::new(LocalBackend::new(&root)), n));
        let result = Repository::open_with_backend(&root, faulty.clone() as Arc<dyn Backend>)
            .and_then(|repo| backup_tree(&repo, &src, &TreeBackupOptions::default(), &NoProgress));
        let mut expected = vec![(first.snapshot, model1.clone())];
        match result {
            Ok(summary) => {
                assert!(!faulty.tripped());
                expected.push((summary.snapshot, model2.clone()));
                completed_at = Some(n);
            }
            Err(_) => assert!(faulty.tripped(), "only injected faults may fail (n={n})"),
        }
        if power_loss {
            for (i, name) in faulty.unsynced().iter().enumerate() {
                lose(&root.join(name), i % 2 == 0);
            }
            // Temp files of open packs are cut short too.
            for e in std::fs::read_dir(root.join("tmp")).unwrap() {
                lose(&e.unwrap().path(), true);
            }
        }
        verify(&root, &expected);

        // The repository stays usable: the next backup works and restores exactly.
        let repo = Repository::open(&root).unwrap();
        let next = backup_tree(&repo, &src, &TreeBackupOptions::default(), &NoProgress).unwrap();
        assert!(next.complete);
        drop(repo);
        expected.push((next.snapshot, model2.clone()));
        verify(&root, &expected);
        std::fs::remove_dir_all(&root).unwrap();
        if completed_at.is_some() {
            break;
        }
    }
    let n = completed_at.expect("the backup completes with a large enough budget");
    assert!(
        n >= 6,
        "the backup took only {n} writes: the test would not exercise much"
    );
    eprintln!("crash points tested: 0..={n}");
}

#[test]
fn killed_backup_leaves_earlier_snapshots_intact() {
    run_crash_points(false);
}

#[test]
fn power_loss_after_kill_loses_only_unreferenced_objects() {
    run_crash_points(true);
}

/// Restores a mox snapshot and compares `data/` and `config/` with a fixture state, byte for
/// byte (the databases of a stopped installation are copied as they are).
fn assert_mox_restores_as(repo: &Repository, id: &SnapshotId, state: &str) {
    let out = tempfile::tempdir().unwrap();
    let snap = repo.load_snapshot(id).unwrap();
    let stats = restore_mox(
        repo,
        &snap,
        out.path(),
        &MoxRestoreSelection::default(),
        &RestoreOptions::default(),
        &NoProgress,
    )
    .unwrap();
    assert!(stats.failed.is_empty(), "{:?}", stats.failed);
    let fixture = common::extract_fixture(state);
    for part in ["data", "config"] {
        let want = common::file_contents(&fixture.path().join(part));
        let got = common::file_contents(&out.path().join(part));
        assert_eq!(
            want.keys().collect::<Vec<_>>(),
            got.keys().collect::<Vec<_>>(),
            "{state}: {part}"
        );
        let differ: Vec<&String> = want.keys().filter(|k| want[*k] != got[*k]).collect();
        assert!(differ.is_empty(), "{state}: {part}: {differ:?} differ");
    }
}

/// The mail-aware backup killed after every few writes (message files linked into the
/// repository, pages and lists packed, the index, the snapshot), with and without a power loss
/// that removes or tears what was not yet synced: the first snapshot always restores exactly,
/// the repository opens, and the next backup completes and restores exactly.
#[test]
fn killed_mail_backup_with_links_and_packs() {
    let work = tempfile::tempdir().unwrap();
    let inst = common::Installation::new("small-state1");
    let base = work.path().join("base");
    let repo = Repository::init_with(&base, SMALL_PACKS).unwrap();
    let first = backup_mox(&repo, &inst.root, &MoxBackupOptions::default(), &NoProgress).unwrap();
    assert!(first.complete);
    drop(repo);
    inst.switch_to("small-state2");

    let mut completed_at = None;
    let mut n = 0u64;
    let mut step = 1u64;
    let mut tried = 0;
    while completed_at.is_none() {
        for power_loss in [false, true] {
            let root = work.path().join(format!("r{n}-{power_loss}"));
            check::copy_dir(&base, &root);
            let faulty = Arc::new(FailAfter::new(Arc::new(LocalBackend::new(&root)), n));
            let result = Repository::open_with_backend(&root, faulty.clone() as Arc<dyn Backend>)
                .and_then(|repo| {
                    backup_mox(&repo, &inst.root, &MoxBackupOptions::default(), &NoProgress)
                });
            match &result {
                Ok(s) => {
                    assert!(!faulty.tripped() && s.complete);
                    completed_at = Some(n);
                }
                Err(_) => assert!(faulty.tripped(), "only injected faults may fail (n={n})"),
            }
            if power_loss {
                for (i, name) in faulty.unsynced().iter().enumerate() {
                    lose(&root.join(name), i % 2 == 0);
                }
                for e in std::fs::read_dir(root.join("tmp")).unwrap() {
                    lose(&e.unwrap().path(), true);
                }
            }
            let repo = Repository::open(&root).unwrap();
            assert_mox_restores_as(&repo, &first.snapshot, "small-state1");
            if let Ok(s) = &result {
                assert_mox_restores_as(&repo, &s.snapshot, "small-state2");
            }
            let next =
                backup_mox(&repo, &inst.root, &MoxBackupOptions::default(), &NoProgress).unwrap();
            assert!(next.complete, "n={n}: {:?}", next.problems);
            assert_mox_restores_as(&repo, &next.snapshot, "small-state2");
            drop(repo);
            std::fs::remove_dir_all(&root).unwrap();
            tried += 1;
        }
        n += step;
        step += 1;
    }
    let n = completed_at.unwrap();
    assert!(n >= 10, "the backup took only {n} writes");
    eprintln!("mail backup: {tried} crash runs up to {n} writes");
}
