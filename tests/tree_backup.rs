//! Plain tree backup and restore: fixtures, generated trees, incremental runs, the CLI.

mod check;
mod common;

use std::os::unix::ffi::OsStrExt;
use std::process::Command;

use mailvault::{
    Collect, NoProgress, Repository, RestoreOptions, Tree, TreeBackupOptions, backup_tree,
};

fn backup(repo: &Repository, dir: &std::path::Path) -> mailvault::BackupSummary {
    backup_tree(repo, dir, &TreeBackupOptions::default(), &NoProgress).unwrap()
}

#[test]
fn fixture_round_trip_is_identical() {
    let src = common::extract_fixture("small-state1");
    let before = check::model(src.path());
    assert!(
        !before.link_sets.is_empty(),
        "fixture has hardlinked messages"
    );
    let repo_dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(&repo_dir.path().join("r")).unwrap();
    let s = backup(&repo, src.path());
    assert!(s.complete, "{:?}", s.problems);
    let files = before
        .nodes
        .values()
        .filter(|n| matches!(n, check::Node::File { .. }))
        .count() as u64;
    assert_eq!(s.stats["files_total"], files);

    let out = check::restore(&repo, &s.snapshot);
    check::assert_same(&before, &check::model(out.path()));
    // The truth file agrees on sizes of the restored data directory.
    for f in common::truth("small-state1")["Files"].as_array().unwrap() {
        let rel = f["Path"].as_str().unwrap();
        let len = std::fs::metadata(out.path().join("data").join(rel))
            .unwrap()
            .len();
        assert_eq!(len, f["Size"].as_u64().unwrap(), "{rel}");
    }
}

#[test]
fn second_backup_reads_only_changed_files() {
    let src = tempfile::tempdir().unwrap();
    check::generate(src.path(), 1);
    let repo_dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(&repo_dir.path().join("r")).unwrap();
    let first = backup(&repo, src.path());
    assert_eq!(first.stats["files_total"], 8);
    assert_eq!(first.stats["files_read"], 7, "hardlink twin read once");

    let again = backup(&repo, src.path());
    assert_eq!(again.stats["files_read"], 0);
    assert_eq!(again.stats["bytes_read"], 0);
    assert_eq!(again.stats["files_reused"], 7);
    let snap = repo.load_snapshot(&again.snapshot).unwrap();
    assert_eq!(snap.parent, Some(first.snapshot));

    std::fs::write(src.path().join("a/b/c/deep.bin"), b"changed").unwrap();
    std::fs::write(src.path().join("new.txt"), b"new file").unwrap();
    let third = backup(&repo, src.path());
    assert_eq!(third.stats["files_read"], 2);
    assert_eq!(third.stats["bytes_read"], 7 + 8);

    // Every snapshot restores to what the tree was at its time.
    let model_now = check::model(src.path());
    check::assert_same(
        &model_now,
        &check::model(check::restore(&repo, &third.snapshot).path()),
    );
    let old = check::model(check::restore(&repo, &first.snapshot).path());
    assert!(old.nodes.contains_key("a/b/c/deep.bin") && !old.nodes.contains_key("new.txt"));
}

#[test]
fn identical_content_is_stored_once() {
    let src = tempfile::tempdir().unwrap();
    let payload = check::bytes(100_000, 9);
    for i in 0..5 {
        std::fs::write(src.path().join(format!("copy{i}")), &payload).unwrap();
    }
    std::fs::write(src.path().join("other"), b"other").unwrap();
    let repo_dir = tempfile::tempdir().unwrap();
    let root = repo_dir.path().join("r");
    let repo = Repository::init(&root).unwrap();
    backup(&repo, src.path());
    // two distinct contents + the tree (a root and one entry page)
    assert_eq!(check::object_files(&root), 4);

    // A new snapshot holding the same content under new names adds only its tree.
    std::fs::write(src.path().join("copy-later"), &payload).unwrap();
    let s = backup(&repo, src.path());
    assert_eq!(check::object_files(&root), 6);
    assert_eq!(s.stats["files_read"], 1);
    assert_eq!(repo.snapshots().unwrap().len(), 2);
    assert_eq!(
        repo.catalog_blob_count().unwrap(),
        check::object_files(&root) as u64
    );
}

/// The tree blobs (root, entry pages, chunk pages) of a snapshot.
fn tree_blobs(repo: &Repository, id: &mailvault::SnapshotId) -> Vec<(mailvault::BlobId, String)> {
    let snap = repo.load_snapshot(id).unwrap();
    let walked = mailvault::snapshot_blobs(repo, &snap);
    assert!(walked.damaged.is_empty(), "{:?}", walked.damaged);
    walked.structure
}

#[test]
fn chunked_files_deduplicate_unchanged_pages() {
    let src = tempfile::tempdir().unwrap();
    let mut db = check::bytes(1 << 20, 3);
    std::fs::write(src.path().join("index.db"), &db).unwrap();
    let repo_dir = tempfile::tempdir().unwrap();
    let root = repo_dir.path().join("r");
    let repo = Repository::init(&root).unwrap();
    let first = backup(&repo, src.path());
    let before = check::object_files(&root);
    let first_tree = tree_blobs(&repo, &first.snapshot);
    // The root, one entry page, the chunk pages of the file's 256 chunk ids.
    assert!(first_tree.len() >= 3, "{first_tree:?}");
    assert_eq!(
        before,
        256 + first_tree.len(),
        "256 page-sized chunks and the tree"
    );
    db[5 * 4096 + 17] ^= 0xff; // one page changes
    std::fs::write(src.path().join("index.db"), &db).unwrap();
    let s = backup(&repo, src.path());
    let new_tree = tree_blobs(&repo, &s.snapshot)
        .into_iter()
        .filter(|b| !first_tree.contains(b))
        .count();
    // The root, the entry page, and the chunk page holding the changed id (two when a
    // boundary moved).
    assert!((3..=4).contains(&new_tree), "{new_tree}");
    assert_eq!(
        check::object_files(&root),
        before + 1 + new_tree,
        "one chunk and the tree's changed pages"
    );
    // One 4 KiB page, and the changed pages of the tree.
    assert!(s.stats["bytes_added"] < 16_000, "{:?}", s.stats);
    let out = check::restore(&repo, &s.snapshot);
    assert_eq!(std::fs::read(out.path().join("index.db")).unwrap(), db);
}

/// Trees of many pages: a night stores only the pages that changed; forgetting, pruning and
/// checking keep every page a snapshot needs; each kept snapshot restores byte-identical; a
/// damaged page is named by check with its snapshot.
#[test]
fn paged_trees_survive_forget_prune_check_and_restore() {
    use mailvault::{CheckOptions, PruneOptions, ReadData, check, prune};
    let src = tempfile::tempdir().unwrap();
    let write = |rel: &str, data: &[u8]| {
        let p = src.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    };
    for i in 0..600u64 {
        write(
            &format!("d{:02}/file{i:04}.txt", i % 20),
            format!("file {i}\n").as_bytes(),
        );
    }
    // 3 MiB in 4 KiB chunks: 768 chunk ids, several chunk pages.
    let mut db = check::bytes(3 << 20, 11);
    write("d05/index.db", &db);
    let repo_dir = tempfile::tempdir().unwrap();
    let root = repo_dir.path().join("r");
    let repo = Repository::init(&root).unwrap();
    let s1 = backup(&repo, src.path());
    let want1 = check::model(src.path());
    let tree1 = tree_blobs(&repo, &s1.snapshot);
    let pages = tree1
        .iter()
        .filter(|(_, w)| w.starts_with("tree page"))
        .count();
    let chunk_pages = tree1
        .iter()
        .filter(|(_, w)| w.starts_with("chunk page"))
        .count();
    assert!(pages >= 8, "{tree1:?}");
    assert!(chunk_pages >= 3, "{tree1:?}");
    let tree1_bytes: u64 = {
        let snap = repo.load_snapshot(&s1.snapshot).unwrap();
        mailvault::snapshot_blobs(&repo, &snap).structure_bytes
    };

    // A night: one page of the database changes, one file arrives.
    db[(3 << 19) + 100] ^= 0xff;
    write("d05/index.db", &db);
    write("d11/new.txt", b"a new file\n");
    let s2 = backup(&repo, src.path());
    let want2 = check::model(src.path());
    let tree2 = tree_blobs(&repo, &s2.snapshot);
    let new = tree2.iter().filter(|b| !tree1.contains(b)).count();
    assert!(new <= 8, "{new} of {} tree blobs are new", tree2.len());
    println!(
        "tree of {} blobs ({tree1_bytes} bytes); a night stored {new} new tree blobs, {} bytes in all",
        tree1.len(),
        s2.stats["bytes_added"]
    );
    assert!(s2.stats["bytes_added"] * 3 < tree1_bytes, "{:?}", s2.stats);

    // Another night: files go.
    for i in (0..600u64).step_by(7) {
        std::fs::remove_file(src.path().join(format!("d{:02}/file{i:04}.txt", i % 20))).unwrap();
    }
    let s3 = backup(&repo, src.path());
    let want3 = check::model(src.path());
    check::assert_same(
        &want1,
        &check::model(check::restore(&repo, &s1.snapshot).path()),
    );
    drop(repo);

    // Forget the first night, prune, check.
    std::fs::remove_file(root.join("snapshots").join(s1.snapshot.to_hex())).unwrap();
    let mut repo = Repository::open_exclusive(&root).unwrap();
    let report = prune(
        &mut repo,
        &PruneOptions {
            max_unused_percent: 0.0,
            ..PruneOptions::default()
        },
        &NoProgress,
    )
    .unwrap();
    assert_eq!(report.snapshots, 2);
    assert!(
        report.packs_removed + report.packs_repacked > 0,
        "{report:?}"
    );
    drop(repo);
    let repo = Repository::open(&root).unwrap();
    let all = CheckOptions {
        read_data: ReadData::All,
    };
    let report = check(&repo, &all, &NoProgress).unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    // Only the first night's own pages went.
    let kept: std::collections::HashSet<_> = repo
        .list_blobs()
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    for (id, what) in tree_blobs(&repo, &s2.snapshot)
        .iter()
        .chain(&tree_blobs(&repo, &s3.snapshot))
    {
        assert!(kept.contains(id), "{what} of a kept snapshot was pruned");
    }
    assert!(tree1.iter().any(|(id, _)| !kept.contains(id)));
    check::assert_same(
        &want2,
        &check::model(check::restore(&repo, &s2.snapshot).path()),
    );
    check::assert_same(
        &want3,
        &check::model(check::restore(&repo, &s3.snapshot).path()),
    );

    // A damaged entry page of the last night: check names it and the snapshot.
    let page = tree_blobs(&repo, &s3.snapshot)
        .into_iter()
        .find(|(id, what)| {
            what.starts_with("tree page")
                && !tree_blobs(&repo, &s2.snapshot).iter().any(|(b, _)| b == id)
        })
        .unwrap()
        .0;
    check::damage_blob(&repo, &page);
    drop(repo);
    let repo = Repository::open(&root).unwrap();
    let report = check(&repo, &all, &NoProgress).unwrap();
    assert!(
        report.problems.iter().any(|p| p.snapshot.as_deref()
            == Some(s3.snapshot.to_hex().as_str())
            && p.blob.as_deref() == Some(page.to_hex().as_str())
            && p.message.contains("tree page")),
        "{:?}",
        report.problems
    );
    // The other snapshot still restores.
    check::assert_same(
        &want2,
        &check::model(check::restore(&repo, &s2.snapshot).path()),
    );
}

/// Names that are not UTF-8 (a file, a directory and what is below it, a symlink and its
/// target) are saved and restored byte for byte (tree format version 2).
#[test]
fn non_utf8_names_round_trip_exactly() {
    use std::os::unix::fs::PermissionsExt;
    let src = tempfile::tempdir().unwrap();
    check::generate(src.path(), 2);
    let os = |b: &'static [u8]| std::ffi::OsStr::from_bytes(b);
    std::fs::write(src.path().join(os(b"bad\xffname")), b"x").unwrap();
    std::fs::set_permissions(
        src.path().join(os(b"bad\xffname")),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    std::fs::create_dir(src.path().join(os(b"caf\xe9"))).unwrap();
    std::fs::write(src.path().join(os(b"caf\xe9/\xfe\xfd")), b"deep").unwrap();
    // Same lossy rendering as bad\xffname: only the bytes tell them apart.
    std::fs::write(src.path().join(os(b"bad\xfename")), b"y").unwrap();
    std::os::unix::fs::symlink(os(b"caf\xe9/\xfe\xfd"), src.path().join(os(b"l\xff"))).unwrap();
    let repo_dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(&repo_dir.path().join("r")).unwrap();
    let s = backup(&repo, src.path());
    assert!(s.complete, "{:?}", s.problems);

    let out = tempfile::tempdir().unwrap();
    let tree = Tree::load(&repo, &repo.load_snapshot(&s.snapshot).unwrap().tree).unwrap();
    let stats = mailvault::restore_tree(
        &repo,
        &tree,
        out.path(),
        &RestoreOptions::default(),
        &NoProgress,
    )
    .unwrap();
    assert!(stats.complete(), "{:?}", stats.failed);
    let names = |root: &std::path::Path| -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = walkdir::WalkDir::new(root)
            .min_depth(1)
            .into_iter()
            .map(|e| {
                let e = e.unwrap();
                e.path()
                    .strip_prefix(root)
                    .unwrap()
                    .as_os_str()
                    .as_bytes()
                    .to_vec()
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(src.path()), names(out.path()));
    let o = out.path();
    assert_eq!(std::fs::read(o.join(os(b"bad\xffname"))).unwrap(), b"x");
    assert_eq!(std::fs::read(o.join(os(b"bad\xfename"))).unwrap(), b"y");
    assert_eq!(
        std::fs::read(o.join(os(b"caf\xe9/\xfe\xfd"))).unwrap(),
        b"deep"
    );
    assert_eq!(
        std::fs::symlink_metadata(o.join(os(b"bad\xffname")))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777,
        0o640
    );
    assert_eq!(
        std::fs::read_link(o.join(os(b"l\xff")))
            .unwrap()
            .as_os_str()
            .as_bytes(),
        b"caf\xe9/\xfe\xfd"
    );

    // An unchanged second run reuses every file, the odd names included.
    let again = backup(&repo, src.path());
    assert_eq!(again.stats["files_read"], 0);
}

#[test]
fn restore_refuses_to_overwrite_unless_asked() {
    let src = tempfile::tempdir().unwrap();
    check::generate(src.path(), 4);
    let repo_dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(&repo_dir.path().join("r")).unwrap();
    let s = backup(&repo, src.path());
    let tree = Tree::load(&repo, &repo.load_snapshot(&s.snapshot).unwrap().tree).unwrap();
    let out = tempfile::tempdir().unwrap();
    std::fs::write(out.path().join("empty"), b"precious").unwrap();
    let err = mailvault::restore_tree(
        &repo,
        &tree,
        out.path(),
        &RestoreOptions::default(),
        &NoProgress,
    )
    .unwrap_err();
    assert!(err.to_string().contains("already exist"), "{err}");
    assert_eq!(
        std::fs::read(out.path().join("empty")).unwrap(),
        b"precious"
    );
    let opts = RestoreOptions {
        overwrite: true,
        ..Default::default()
    };
    mailvault::restore_tree(&repo, &tree, out.path(), &opts, &NoProgress).unwrap();
    check::assert_same(&check::model(src.path()), &check::model(out.path()));
}

#[test]
fn restore_rejects_escaping_paths() {
    let repo_dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(&repo_dir.path().join("r")).unwrap();
    let tree = Tree {
        entries: vec![mailvault::Entry {
            path: "../escape".into(),
            ..Default::default()
        }],
    };
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("t");
    assert!(
        mailvault::restore_tree(
            &repo,
            &tree,
            &target,
            &RestoreOptions::default(),
            &NoProgress
        )
        .is_err()
    );
    assert!(!out.path().join("escape").exists());
}

fn cli(repo: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mailvault"))
        .env("MAILVAULT_REPO", repo)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn cli_backup_snapshots_ls_restore() {
    let src = common::extract_fixture("small-state1");
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("r");
    let o = cli(&repo, &["init", repo.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let o = cli(
        &repo,
        &["--json", "backup", "--plain", src.path().to_str().unwrap()],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let stdout = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.iter().all(|l| l["type"].is_string()));
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["complete"], true);
    let files = check::model(src.path())
        .nodes
        .values()
        .filter(|n| matches!(n, check::Node::File { .. }))
        .count();
    assert_eq!(summary["files_total"], files);
    for key in ["files_read", "bytes_read", "bytes_added", "duration_ms"] {
        assert!(summary[key].is_u64(), "{key}");
    }
    let id = summary["snapshot"].as_str().unwrap().to_string();

    let o = cli(&repo, &["snapshots", "--json"]);
    assert!(o.status.success());
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["complete"], true);
    assert_eq!(list[0]["kind"], "tree");
    humantime::parse_rfc3339(list[0]["time"].as_str().unwrap()).unwrap();

    let o = cli(&repo, &["ls", &id[..8]]);
    assert!(o.status.success());
    let ls = String::from_utf8(o.stdout).unwrap();
    assert!(ls.contains("data/accounts/alice/index.db"));

    let target = tmp.path().join("restored");
    let o = cli(
        &repo,
        &["restore", "latest", "--target", target.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    check::assert_same(&check::model(src.path()), &check::model(&target));

    // A second restore into the same place is refused (exit 1) and names the problem.
    let o = cli(
        &repo,
        &["restore", "latest", "--target", target.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not empty"));
}

/// A restore that cannot read one file restores the rest, names the file and exits 3.
#[test]
fn cli_exit_code_3_when_incomplete() {
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("ok"), b"fine").unwrap();
    std::fs::write(src.path().join("lost"), b"damaged soon").unwrap();
    std::fs::write(src.path().join(std::ffi::OsStr::from_bytes(b"\xfe")), b"x").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("r");
    assert!(
        cli(&repo, &["init", repo.to_str().unwrap()])
            .status
            .success()
    );
    let o = cli(&repo, &["--json", "backup", src.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let id = mailvault::BlobId::hash(b"damaged soon");
    let hex = id.to_hex();
    check::damage_blob(&Repository::open(&repo).unwrap(), &id);

    let target = tmp.path().join("out");
    let o = cli(
        &repo,
        &[
            "--json",
            "restore",
            "latest",
            "--target",
            target.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(3));
    let last: serde_json::Value =
        serde_json::from_str(String::from_utf8(o.stdout).unwrap().lines().last().unwrap()).unwrap();
    assert_eq!(last["type"], "summary");
    let failed = last["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{last}");
    assert_eq!(failed[0]["path"], "lost");
    assert!(failed[0]["error"].as_str().unwrap().contains(&hex));
    assert_eq!(std::fs::read(target.join("ok")).unwrap(), b"fine");
    assert!(!target.join("lost").exists());
}

#[test]
fn repository_inside_the_source_is_skipped() {
    let src = tempfile::tempdir().unwrap();
    check::generate(src.path(), 5);
    let expected = check::model(src.path());
    let repo = Repository::init(&src.path().join("backups")).unwrap();
    let events = Collect::default();
    let s = backup_tree(&repo, src.path(), &TreeBackupOptions::default(), &events).unwrap();
    assert!(s.complete);
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    let out = check::restore(&repo, &s.snapshot);
    check::assert_same(&expected, &check::model(out.path()));
}

#[test]
fn cli_names_a_damaged_object_and_rebuilds_a_deleted_catalog() {
    let src = tempfile::tempdir().unwrap();
    check::generate(src.path(), 12);
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("r");
    assert!(
        cli(&repo, &["init", repo.to_str().unwrap()])
            .status
            .success()
    );
    assert!(
        cli(&repo, &["backup", src.path().to_str().unwrap()])
            .status
            .success()
    );
    // Damage a.txt's content (stored whole, in a pack).
    let id = mailvault::BlobId::hash(&check::bytes(5000, 12));
    let hex = id.to_hex();
    check::damage_blob(&Repository::open(&repo).unwrap(), &id);
    std::fs::remove_file(repo.join("catalog.redb")).unwrap();

    let target = tmp.path().join("out");
    let o = cli(
        &repo,
        &["restore", "latest", "--target", target.to_str().unwrap()],
    );
    // Everything else is restored; the damaged file is named, and the restore is incomplete.
    assert_eq!(o.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains(&hex), "{stderr}");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("FAILED a/b/c/deep.bin"), "{stdout}");
    assert!(target.join("big/blob.bin").is_file());
    assert!(
        repo.join("catalog.redb").exists(),
        "catalog rebuilt on open"
    );

    // Reading changed nothing; `repair index` drops the damaged blob from the index (exit 3,
    // naming it), and the next backup stores the content again: that snapshot restores exactly.
    let o = cli(&repo, &["repair", "index"]);
    assert_eq!(o.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains(&hex), "{stdout}");
    assert!(
        cli(&repo, &["backup", src.path().to_str().unwrap()])
            .status
            .success()
    );
    let target2 = tmp.path().join("out2");
    let o = cli(
        &repo,
        &["restore", "latest", "--target", target2.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    check::assert_same(&check::model(src.path()), &check::model(&target2));
}

#[test]
fn restore_of_a_partial_tree_creates_parents() {
    let src = tempfile::tempdir().unwrap();
    check::generate(src.path(), 6);
    let repo_dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(&repo_dir.path().join("r")).unwrap();
    let s = backup(&repo, src.path());
    let mut tree = Tree::load(&repo, &repo.load_snapshot(&s.snapshot).unwrap().tree).unwrap();
    tree.entries.retain(|e| e.path == "a/b/c/deep.bin");
    let out = tempfile::tempdir().unwrap();
    mailvault::restore_tree(
        &repo,
        &tree,
        out.path(),
        &RestoreOptions::default(),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(
        std::fs::read(out.path().join("a/b/c/deep.bin")).unwrap(),
        std::fs::read(src.path().join("a/b/c/deep.bin")).unwrap()
    );
}
