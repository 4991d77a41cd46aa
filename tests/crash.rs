//! Crash consistency: a backend that refuses every write after N operations stands in for a
//! process killed at that point (optionally followed by a power loss that takes away every
//! file published since the last sync). For every N: the repository opens, every earlier
//! snapshot restores identically, and the next backup works.

mod check;

use std::path::Path;
use std::sync::Arc;

use mailvault::{
    Backend, FailAfter, LocalBackend, NoProgress, PackParams, Repository, TreeBackupOptions,
    backup_tree,
};

/// Small packs: every few blobs a pack is published, so a run has many crash points.
const SMALL_PACKS: PackParams = PackParams {
    data_size: 64 << 10,
    meta_size: 8 << 10,
    max_blobs: 4,
};

/// What a power loss does to a file published without fsync: gone, or torn (cut short).
fn lose(path: &Path, torn: bool) {
    if torn {
        if let Ok(f) = std::fs::OpenOptions::new().write(true).open(path) {
            let len = f.metadata().unwrap().len();
            f.set_len(len / 2).unwrap();
        }
    } else {
        std::fs::remove_file(path).ok();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.unwrap();
        let dest = to.join(e.path().strip_prefix(from).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
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
        copy_dir(&base, &root);
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
