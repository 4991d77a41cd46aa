//! Replication to another repository: set difference, snapshots last, resumable, verified.

mod check;
mod common;

use std::fs;
use std::path::Path;
use std::sync::Arc;

use common::Installation;
use mailvault::{
    Backend, FailAfter, LocalBackend, MoxBackupOptions, MoxRestoreSelection, NoProgress,
    Repository, RestoreOptions, backup_mox, replicate, restore_mox, verify,
};

/// A repository holding both fixture states, message files hardlinked into it.
fn source_repo() -> (tempfile::TempDir, Installation, Repository) {
    let inst = Installation::new("small-state1");
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(&dir.path().join("source")).unwrap();
    backup_mox(&repo, &inst.root, &MoxBackupOptions::default(), &NoProgress).unwrap();
    inst.switch_to("small-state2");
    backup_mox(&repo, &inst.root, &MoxBackupOptions::default(), &NoProgress).unwrap();
    (dir, inst, repo)
}

fn raw_objects(repo: &Path) -> usize {
    walkdir::WalkDir::new(repo.join("objects"))
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".r"))
        .count()
}

#[test]
fn replica_holds_every_snapshot_and_restores_identically() {
    let (dir, inst, source) = source_repo();
    let target = Repository::init(&dir.path().join("offsite")).unwrap();
    let first = replicate(&source, &target, &NoProgress).unwrap();
    assert!(first.complete());
    assert_eq!(first.snapshots_copied, 2);
    assert!(first.blobs_copied > 300, "{first:?}");

    let ids = |r: &Repository| -> Vec<_> {
        r.snapshots()
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    };
    assert_eq!(ids(&source), ids(&target));
    // Hardlinked objects of the source are stored as ordinary objects in the replica.
    assert!(raw_objects(source.path()) > 0);
    assert_eq!(raw_objects(target.path()), 0);

    for (_, snap) in target.snapshots().unwrap() {
        assert!(verify(&target, &snap, &NoProgress).unwrap().ok());
    }
    let (_, latest) = target.snapshots().unwrap().pop().unwrap();
    let out = tempfile::tempdir().unwrap();
    restore_mox(
        &target,
        &latest,
        out.path(),
        &MoxRestoreSelection::default(),
        &RestoreOptions::default(),
        &NoProgress,
    )
    .unwrap();
    assert!(common::file_contents(&inst.data()) == common::file_contents(&out.path().join("data")));

    // Nothing new: nothing copied. A new night: only its new blobs.
    let again = replicate(&source, &target, &NoProgress).unwrap();
    assert_eq!((again.snapshots_copied, again.blobs_copied), (0, 0));
    assert_eq!(again.snapshots_present, 2);
    backup_mox(
        &source,
        &inst.root,
        &MoxBackupOptions::default(),
        &NoProgress,
    )
    .unwrap();
    let third = replicate(&source, &target, &NoProgress).unwrap();
    assert_eq!(third.snapshots_copied, 1);
    assert!(third.blobs_copied < 10, "{third:?}");
}

/// A replication that fails after N writes to the target leaves it readable with only complete
/// snapshots, and the next run finishes the job.
#[test]
fn interrupted_replication_resumes() {
    let (dir, _inst, source) = source_repo();
    let root = dir.path().join("offsite");
    Repository::init(&root).unwrap();
    let want: Vec<_> = source
        .snapshots()
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let mut interrupted = 0;
    for n in [0, 1, 2, 3, 5, 8] {
        let _ = fs::remove_dir_all(&root);
        Repository::init(&root).unwrap();
        let faulty = Arc::new(FailAfter::new(Arc::new(LocalBackend::new(&root)), n));
        let target = Repository::open_with_backend(&root, faulty.clone() as Arc<dyn Backend>);
        if let Ok(target) = target {
            let result = replicate(&source, &target, &NoProgress);
            if faulty.tripped() {
                interrupted += 1;
                assert!(result.is_err() || !result.unwrap().complete(), "n={n}");
            }
        }
        let target = Repository::open(&root).unwrap();
        for (_, snap) in target.snapshots().unwrap() {
            assert!(verify(&target, &snap, &NoProgress).unwrap().ok(), "n={n}");
        }
        let resumed = replicate(&source, &target, &NoProgress).unwrap();
        assert!(resumed.complete(), "n={n}");
        let got: Vec<_> = target
            .snapshots()
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(got, want, "n={n}");
    }
    assert!(interrupted >= 4, "only {interrupted} runs were cut short");
}

#[test]
fn damaged_source_blob_keeps_its_snapshot_out_and_names_the_blob() {
    let (dir, _inst, source) = source_repo();
    // Damage a framed (not hardlinked) data object used by the newest snapshot only: a
    // database chunk of state 2.
    let (_, old) = source.snapshots().unwrap().remove(0);
    let (_, new) = source.snapshots().unwrap().pop().unwrap();
    let old_blobs: Vec<_> = mailvault::snapshot_blobs(&source, &old)
        .data
        .into_iter()
        .map(|(b, _)| b)
        .collect();
    let (victim, _) = mailvault::snapshot_blobs(&source, &new)
        .data
        .into_iter()
        .find(|(b, what)| !old_blobs.contains(b) && what.ends_with(".db"))
        .unwrap();
    check::damage_blob(&source, &victim);

    let target = Repository::init(&dir.path().join("offsite")).unwrap();
    let summary = replicate(&source, &target, &NoProgress).unwrap();
    assert!(!summary.complete());
    assert_eq!(summary.snapshots_copied, 1, "the older snapshot is copied");
    assert_eq!(summary.skipped.len(), 1);
    assert!(
        summary.skipped[0]
            .damaged
            .iter()
            .any(|d| d.id == victim.to_hex()),
        "{:?}",
        summary.skipped
    );
    assert_eq!(target.snapshots().unwrap().len(), 1);
}

/// A snapshot file of an older snapshot version is copied byte for byte: it keeps its id in
/// the replica (and is not rewritten in the current version).
#[test]
fn older_snapshot_files_keep_their_id() {
    let dir = tempfile::tempdir().unwrap();
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/repo-v2");
    let root = dir.path().join("source");
    check::copy_dir(&golden, &root);
    let source = Repository::open(&root).unwrap();
    let target = Repository::init(&dir.path().join("offsite")).unwrap();
    let summary = replicate(&source, &target, &NoProgress).unwrap();
    assert!(summary.complete(), "{summary:?}");
    assert_eq!(summary.snapshots_copied, 1);
    let (id, _) = source.snapshots().unwrap().remove(0);
    let copied = target.snapshot_file(&id).unwrap();
    assert_eq!(
        copied,
        fs::read(root.join("snapshots").join(id.to_hex())).unwrap()
    );
    assert_eq!(&copied[4..8], &1u32.to_le_bytes(), "still a version 1 file");
    assert!(
        verify(&target, &target.load_snapshot(&id).unwrap(), &NoProgress)
            .unwrap()
            .ok()
    );
}

/// A copy-mode source with chunked messages: the replica gets the chunk lists and chunks,
/// verifies and restores byte-identical; a second run copies nothing.
#[test]
fn chunked_messages_are_replicated() {
    let (inst, ids) = common::large_messages(3, 400 << 10, true);
    let dir = tempfile::tempdir().unwrap();
    let source = Repository::init(&dir.path().join("source")).unwrap();
    let opts = MoxBackupOptions {
        link: false,
        ..MoxBackupOptions::default()
    };
    let s = backup_mox(&source, &inst.root, &opts, &NoProgress).unwrap();
    let target = Repository::init(&dir.path().join("offsite")).unwrap();
    let first = replicate(&source, &target, &NoProgress).unwrap();
    assert!(first.complete());
    assert_eq!(first.snapshots_copied, 1);

    let snap = target.load_snapshot(&s.snapshot).unwrap();
    let mut chunked = 0;
    for (_, m) in common::all_messages(&target, &snap) {
        if !m.chunked {
            continue;
        }
        chunked += usize::from(ids.contains(&m.id));
        assert!(target.has_blob(&m.blob));
        for c in mailvault::message_chunks(&target, &m).unwrap() {
            assert!(target.has_blob(&c));
        }
    }
    assert!(chunked >= ids.len());
    assert!(verify(&target, &snap, &NoProgress).unwrap().ok());
    let out = tempfile::tempdir().unwrap();
    restore_mox(
        &target,
        &snap,
        out.path(),
        &MoxRestoreSelection::default(),
        &RestoreOptions::default(),
        &NoProgress,
    )
    .unwrap();
    let msgs = |root: &Path| {
        let mut all = common::file_contents(root);
        all.retain(|k, _| k.contains("/msg/"));
        all
    };
    assert!(msgs(&inst.data()) == msgs(&out.path().join("data")));
    let again = replicate(&source, &target, &NoProgress).unwrap();
    assert_eq!((again.snapshots_copied, again.blobs_copied), (0, 0));
}
