//! Keeping a repository for years: prune after forgetting nights (generated mox installations,
//! 30 nights), prune under fault injection at every write, prune against a backup holding the
//! repository, and check naming each kind of damage.

mod check;
mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use mailvault::mox::generator::{GenOptions, MutateOptions, generate, mutate};
use mailvault::{
    Backend, BlobId, CheckOptions, FailAfter, LocalBackend, MoxBackupOptions, NoProgress,
    PackParams, PruneOptions, ReadData, Repository, SnapshotId, backup_mox, check, prune,
};

/// Small packs: many packs, so forgetting nights leaves some empty, some partly used.
const SMALL_PACKS: PackParams = PackParams {
    data_size: 256 << 10,
    meta_size: 16 << 10,
    max_blobs: 64,
};

/// Every file below `root` (the tmp directory left out, as a backup does) by content hash.
fn model(root: &Path) -> BTreeMap<String, blake3::Hash> {
    common::file_contents(root)
        .into_iter()
        .filter(|(k, _)| !k.starts_with("tmp/") && !k.starts_with("tmp"))
        .map(|(k, v)| (k, blake3::hash(&v)))
        .collect()
}

fn assert_restores(repo: &Repository, id: &SnapshotId, want: &BTreeMap<String, blake3::Hash>) {
    let out = common::restore_whole(repo, id);
    let got = model(&out.path().join("data"));
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>(),
        "files of snapshot {id}"
    );
    for (k, v) in want {
        assert_eq!(&got[k], v, "{k} differs in snapshot {id}");
    }
}

fn read_all(repo: &Repository) -> mailvault::CheckReport {
    check(
        repo,
        &CheckOptions {
            read_data: ReadData::All,
        },
        &NoProgress,
    )
    .unwrap()
}

fn forget(repo_path: &Path, id: &SnapshotId) {
    std::fs::remove_file(repo_path.join("snapshots").join(id.to_hex())).unwrap();
}

/// Blobs (structure and data) the snapshots reference.
fn referenced(repo: &Repository) -> HashSet<BlobId> {
    let mut out = HashSet::new();
    for (_, snap) in repo.snapshots().unwrap() {
        let walked = mailvault::snapshot_blobs(repo, &snap);
        assert!(walked.damaged.is_empty());
        out.extend(walked.structure.iter().map(|(id, _)| *id));
        out.extend(walked.data.iter().map(|(id, _)| *id));
    }
    out
}

fn stored_bytes(repo_path: &Path) -> u64 {
    walkdir::WalkDir::new(repo_path.join("packs"))
        .into_iter()
        .chain(walkdir::WalkDir::new(repo_path.join("objects")))
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.metadata().unwrap().len())
        .sum()
}

struct Nights {
    _dir: tempfile::TempDir,
    repo_path: PathBuf,
    /// Each night's snapshot and the model of its data directory.
    nights: Vec<(SnapshotId, BTreeMap<String, blake3::Hash>)>,
}

/// A generated installation backed up on `n` nights (copy mode, small packs).
fn nights(n: usize, link: bool) -> Nights {
    nights_with(n, link, 0.0)
}

/// `nights` with a share of messages carrying an attachment (40 KB to 600 KB, cut from one
/// pool: large ones are chunked in copy mode, and share runs).
fn nights_with(n: usize, link: bool, attachment_percent: f64) -> Nights {
    let dir = tempfile::tempdir().unwrap();
    let inst = dir.path().join("mox");
    let report = generate(
        &GenOptions {
            accounts: 2,
            messages: 60,
            seed: 5,
            attachment_percent,
            max_attachment: 600_000,
            queue: 2,
            ..GenOptions::default()
        },
        &inst,
    )
    .unwrap();
    let repo_path = dir.path().join("repo");
    let repo = Repository::init_with(&repo_path, SMALL_PACKS).unwrap();
    let opts = MoxBackupOptions {
        link,
        ..MoxBackupOptions::default()
    };
    let mut out = Vec::new();
    for night in 0..n {
        if night > 0 {
            mutate(
                &inst,
                &MutateOptions {
                    percent: 5.0,
                    seed: 100 + night as u64,
                    restart: true,
                    ..MutateOptions::default()
                },
            )
            .unwrap();
        }
        let s = backup_mox(&repo, &inst, &opts, &NoProgress).unwrap();
        assert!(s.complete);
        out.push((s.snapshot, model(&report.data_dir)));
    }
    Nights {
        _dir: dir,
        repo_path,
        nights: out,
    }
}

/// 30 nights, every other one forgotten: prune removes exactly what only those held (nothing
/// unreferenced is left outside the group entries of used database pages), the rest passes
/// `check --read-data` and restores byte-identical, and the repository shrinks.
#[test]
fn prune_after_forgetting_half_of_30_nights() {
    let n = nights(30, false);
    let before = stored_bytes(&n.repo_path);
    for (i, (id, _)) in n.nights.iter().enumerate() {
        if i % 2 == 0 {
            forget(&n.repo_path, id);
        }
    }
    let mut repo = Repository::open_exclusive(&n.repo_path).unwrap();
    // A dry run changes nothing and says what a run frees.
    let files_before = common::file_contents(&n.repo_path.join("packs"));
    let dry = prune(
        &mut repo,
        &PruneOptions {
            dry_run: true,
            max_unused_percent: 0.0,
            ..PruneOptions::default()
        },
        &NoProgress,
    )
    .unwrap();
    assert_eq!(
        common::file_contents(&n.repo_path.join("packs")),
        files_before
    );
    assert!(dry.bytes_freed() > 0);
    let report = prune(
        &mut repo,
        &PruneOptions {
            max_unused_percent: 0.0,
            ..PruneOptions::default()
        },
        &NoProgress,
    )
    .unwrap();
    assert!(report.damaged.is_empty());
    assert_eq!(report.snapshots, 15);
    assert!(
        report.packs_removed + report.packs_repacked > 0,
        "{report:?}"
    );
    let after = stored_bytes(&n.repo_path);
    assert_eq!(after, report.bytes_after, "the report says what is on disk");
    // The dry run's estimate leaves out only the headers of the new packs.
    let freed = before - after;
    assert!(
        dry.bytes_freed() >= freed && dry.bytes_freed() - freed < 4096,
        "the dry run said what a run frees: {} vs {freed}",
        dry.bytes_freed()
    );
    assert!(after < before, "{after} < {before}");
    drop(repo);

    let repo = Repository::open(&n.repo_path).unwrap();
    let used = referenced(&repo);
    let listed = repo.list_blobs().unwrap();
    for (id, info) in &listed {
        // A database page sits in a group entry with its neighbours: the entry stays while
        // one of them is used.
        assert!(
            used.contains(id) || info.grouped,
            "blob {id} is referenced by no snapshot yet survived the prune"
        );
    }
    let listed: HashSet<BlobId> = listed.into_iter().map(|(id, _)| id).collect();
    assert!(used.is_subset(&listed));
    let report = read_all(&repo);
    assert!(report.ok(), "{:?}", report.problems);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    for (i, (id, want)) in n.nights.iter().enumerate() {
        if i % 2 == 1 {
            assert_restores(&repo, id, want);
        }
    }
    // A second prune has nothing left to do.
    drop(repo);
    let mut repo = Repository::open_exclusive(&n.repo_path).unwrap();
    let again = prune(&mut repo, &PruneOptions::default(), &NoProgress).unwrap();
    assert_eq!(again.bytes_freed(), 0, "{again:?}");
    assert_eq!(again.packs_removed + again.packs_repacked, 0);
}

/// Linked message files of expunged messages go with the last snapshot that needs them.
#[test]
fn prune_removes_linked_message_objects_no_snapshot_needs() {
    let n = nights(3, true);
    let repo = Repository::open(&n.repo_path).unwrap();
    let raw_before: HashSet<BlobId> = repo
        .list_blobs()
        .unwrap()
        .into_iter()
        .filter(|(_, i)| i.raw)
        .map(|(id, _)| id)
        .collect();
    assert!(!raw_before.is_empty(), "messages are linked");
    drop(repo);
    forget(&n.repo_path, &n.nights[0].0);
    forget(&n.repo_path, &n.nights[1].0);
    let mut repo = Repository::open_exclusive(&n.repo_path).unwrap();
    let report = prune(&mut repo, &PruneOptions::default(), &NoProgress).unwrap();
    // Each night expunges a message per account: those of the first two nights are gone.
    assert!(report.raw_removed >= 2, "{report:?}");
    drop(repo);
    let repo = Repository::open(&n.repo_path).unwrap();
    let used = referenced(&repo);
    for id in &raw_before {
        let file = n
            .repo_path
            .join(format!("objects/{}/{}.r", &id.to_hex()[..2], id.to_hex()));
        assert_eq!(file.exists(), used.contains(id), "raw object {id}");
    }
    assert!(read_all(&repo).ok());
    assert_restores(&repo, &n.nights[2].0, &n.nights[2].1);
}

/// A prune stopped after every possible number of writes, and on every other crash point a
/// power loss that undoes the removals not yet synced (every file prune removed comes back;
/// what prune writes is durable before the next step): the repository opens, passes check
/// --read-data, the kept snapshots restore, and a rerun completes and leaves nothing behind.
#[test]
fn prune_survives_a_crash_at_every_write() {
    let n = nights(6, false);
    for (i, (id, _)) in n.nights.iter().enumerate() {
        if i % 2 == 0 {
            forget(&n.repo_path, id);
        }
    }
    let opts = PruneOptions {
        max_unused_percent: 0.0,
        orphan_margin: std::time::Duration::ZERO,
        ..PruneOptions::default()
    };
    let work = tempfile::tempdir().unwrap();
    let mut completed_at = None;
    // Every crash point among the first writes (repacked packs, the index), then every third
    // (the removals, which are all alike).
    let budgets = (0..16u64).chain((16..400).step_by(3));
    for budget in budgets {
        let root = work.path().join(format!("r{budget}"));
        check::copy_dir(&n.repo_path, &root);
        let faulty = Arc::new(FailAfter::new(Arc::new(LocalBackend::new(&root)), budget));
        let result =
            Repository::open_exclusive_with_backend(&root, faulty.clone() as Arc<dyn Backend>)
                .and_then(|mut repo| prune(&mut repo, &opts, &NoProgress));
        match result {
            Ok(_) => completed_at = Some(budget),
            Err(_) => assert!(
                faulty.tripped(),
                "only injected faults fail (budget {budget})"
            ),
        }
        {
            let repo = Repository::open(&root).unwrap();
            let report = read_all(&repo);
            assert!(report.ok(), "budget {budget}: {:?}", report.problems);
            let (id, want) = &n.nights[5];
            assert_restores(&repo, id, want);
        }
        let mut repo = Repository::open_exclusive(&root).unwrap();
        prune(&mut repo, &opts, &NoProgress).unwrap();
        drop(repo);
        let repo = Repository::open(&root).unwrap();
        let report = read_all(&repo);
        assert!(
            report.ok(),
            "after the rerun, budget {budget}: {:?}",
            report.problems
        );
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
        let (id, want) = &n.nights[1];
        assert_restores(&repo, id, want);
        drop(repo);
        std::fs::remove_dir_all(&root).unwrap();
        if completed_at.is_some() {
            break;
        }
    }
    let done = completed_at.expect("prune completes with a large enough budget");
    assert!(done >= 5, "prune took only {done} writes");
    eprintln!("crash points tested: 0..={done}");
}

fn mailvault(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mailvault"));
    c.args(args).env_remove("MAILVAULT_REPO");
    c
}

/// A backup holding the repository (this process) and prune (another process): prune refuses
/// at once by default, naming the holder; with --lock-wait it waits, then runs after the
/// backup committed, and every blob of that snapshot survives.
#[test]
fn prune_never_runs_beside_a_backup() {
    let n = nights(2, false);
    forget(&n.repo_path, &n.nights[0].0);
    let repo_arg = n.repo_path.to_str().unwrap();
    let repo = Repository::open(&n.repo_path).unwrap();

    let refused = mailvault(&["--repo", repo_arg, "prune"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("locked"), "{err}");
    assert!(err.contains(&std::process::id().to_string()), "{err}");

    let mut waiting = mailvault(&[
        "--repo",
        repo_arg,
        "prune",
        "--lock-wait",
        "2m",
        "--orphan-margin",
        "0s",
        "--max-unused",
        "0",
    ])
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(800));
    assert!(waiting.try_wait().unwrap().is_none(), "prune waits");
    // The backup of a new night commits while prune waits.
    let inst = n._dir.path().join("mox");
    mutate(
        &inst,
        &MutateOptions {
            percent: 5.0,
            seed: 999,
            restart: true,
            ..MutateOptions::default()
        },
    )
    .unwrap();
    let s = backup_mox(
        &repo,
        &inst,
        &MoxBackupOptions {
            link: false,
            ..MoxBackupOptions::default()
        },
        &NoProgress,
    )
    .unwrap();
    let want = model(&inst.join("data"));
    drop(repo);
    let out = waiting.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let repo = Repository::open(&n.repo_path).unwrap();
    assert!(read_all(&repo).ok());
    assert_restores(&repo, &s.snapshot, &want);
    assert_restores(&repo, &n.nights[1].0, &n.nights[1].1);
}

/// One repository per damage: check names the pack or blob and the messages that use it, goes
/// on past it, and exits 4.
#[test]
fn check_names_each_kind_of_damage() {
    let n = nights(2, false);
    let repo = Repository::open(&n.repo_path).unwrap();
    assert!(read_all(&repo).ok());
    // A message of the last night, and the pack that holds it.
    let snap = repo.load_snapshot(&n.nights[1].0).unwrap();
    let walked = mailvault::snapshot_blobs(&repo, &snap);
    let (msg, _) = walked
        .data
        .iter()
        .find(|(_, what)| what.starts_with("message "))
        .unwrap()
        .clone();
    let (pack, _, _) = repo.blob_entry(&msg).unwrap();
    drop(repo);
    let work = tempfile::tempdir().unwrap();
    let case = |name: &str, damage: &dyn Fn(&Path), read: bool| -> (String, i32) {
        let root = work.path().join(name);
        check::copy_dir(&n.repo_path, &root);
        damage(&root);
        let mut args = vec!["--repo", root.to_str().unwrap(), "check"];
        if read {
            args.push("--read-data");
        }
        let out = mailvault(&args).output().unwrap();
        (
            String::from_utf8_lossy(&out.stdout).to_string(),
            out.status.code().unwrap(),
        )
    };
    let pack_name = pack.file_name().unwrap().to_str().unwrap().to_string();
    let rel = format!("packs/{pack_name}");

    let (text, code) = case(
        "missing",
        &|r| std::fs::remove_file(r.join(&rel)).unwrap(),
        false,
    );
    assert_eq!(code, 4, "{text}");
    assert!(
        text.contains(&pack_name) && text.contains("pack is missing"),
        "{text}"
    );
    assert!(
        text.contains(&format!("blob {msg} is referenced")),
        "{text}"
    );
    assert!(text.contains("(uid "), "the message is named: {text}");

    let (text, code) = case(
        "truncated",
        &|r| {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(r.join(&rel))
                .unwrap();
            let len = f.metadata().unwrap().len();
            f.set_len(len - 100).unwrap();
        },
        false,
    );
    assert_eq!(code, 4, "{text}");
    assert!(
        text.contains(&pack_name) && text.contains("truncated"),
        "{text}"
    );

    let (text, code) = case(
        "flipped",
        &|r| {
            let repo = Repository::open(r).unwrap();
            check::damage_blob(&repo, &msg);
        },
        false,
    );
    assert_eq!(code, 0, "structure alone does not read content: {text}");
    let (text, code) = case(
        "flipped-read",
        &|r| {
            let repo = Repository::open(r).unwrap();
            check::damage_blob(&repo, &msg);
        },
        true,
    );
    assert_eq!(code, 4, "{text}");
    assert!(text.contains("does not match its name"), "{text}");
    assert!(
        text.contains(&msg.to_hex()),
        "the damaged blob is named: {text}"
    );
    assert!(
        text.contains("used by:") && text.contains("(uid "),
        "{text}"
    );
    // Both snapshots are still listed and the rest was checked.
    assert!(text.contains("2 snapshots"), "{text}");
}

/// The flow after losing a pack: `repair index` drops it, `repair snapshots` rewrites every
/// snapshot that needed it (without the lost files and messages, incomplete, naming them, the
/// first id kept as `original`), after which check passes and prune runs; the next backup stores
/// what the server still has and restores byte-identical.
#[test]
fn lost_data_is_cut_out_of_snapshots_and_the_next_backup_brings_it_back() {
    let n = nights(2, false);
    let repo = Repository::open(&n.repo_path).unwrap();
    let snap = repo.load_snapshot(&n.nights[1].0).unwrap();
    let walked = mailvault::snapshot_blobs(&repo, &snap);
    let (msg, _) = walked
        .data
        .iter()
        .find(|(_, what)| what.starts_with("message "))
        .unwrap()
        .clone();
    let (pack, _, _) = repo.blob_entry(&msg).unwrap();
    drop(repo);
    std::fs::remove_file(&pack).unwrap();
    let mut repo = Repository::open_exclusive(&n.repo_path).unwrap();
    repo.repair_index(&NoProgress).unwrap();
    assert!(!repo.has_blob(&msg));

    // A dry run names the loss and writes nothing.
    let dry = mailvault::repair_snapshots(&repo, &[], true, &NoProgress).unwrap();
    assert!(dry.iter().all(|r| r.replaced_by.is_none()));
    assert_eq!(repo.snapshots().unwrap().len(), 2);
    let fixed = mailvault::repair_snapshots(&repo, &[], false, &NoProgress).unwrap();
    assert_eq!(fixed.len(), dry.len());
    let night2 = fixed
        .iter()
        .find(|r| r.snapshot == n.nights[1].0.to_hex())
        .expect("the second night lost a message");
    assert!(
        night2.lost.iter().any(|l| l.contains("(uid ")),
        "{:?}",
        night2.lost
    );
    let new_id: SnapshotId = night2.replaced_by.as_ref().unwrap().parse().unwrap();
    let new = repo.load_snapshot(&new_id).unwrap();
    assert!(!new.complete);
    assert_eq!(new.original, Some(n.nights[1].0));
    assert!(new.problems.iter().any(|p| p.message.contains("(uid ")));
    assert!(
        repo.load_snapshot(&n.nights[1].0).is_err(),
        "the old file is gone"
    );
    let report = read_all(&repo);
    assert!(report.ok(), "{:?}", report.problems);
    let pruned = prune(&mut repo, &PruneOptions::default(), &NoProgress).unwrap();
    assert!(pruned.damaged.is_empty());
    drop(repo);

    // The next backup rescans the incomplete mailboxes and stores the lost message again.
    let repo = Repository::open(&n.repo_path).unwrap();
    let inst = n._dir.path().join("mox");
    let s = backup_mox(
        &repo,
        &inst,
        &MoxBackupOptions {
            link: false,
            ..MoxBackupOptions::default()
        },
        &NoProgress,
    )
    .unwrap();
    assert!(s.complete);
    assert!(repo.has_blob(&msg));
    assert_restores(&repo, &s.snapshot, &n.nights[1].1);
    assert!(read_all(&repo).ok());
}

/// `forget --prune` through the binary: the policy, then prune, in one command.
#[test]
fn forget_with_prune_shrinks_the_repository() {
    let n = nights(4, false);
    let before = stored_bytes(&n.repo_path);
    let out = mailvault(&[
        "--repo",
        n.repo_path.to_str().unwrap(),
        "--json",
        "forget",
        "--keep-last",
        "1",
        "--prune",
        "--orphan-margin",
        "0s",
    ])
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let prune_summary = lines
        .iter()
        .find(|v| v["type"] == "summary" && v["command"] == "prune")
        .expect("a prune summary");
    let after = stored_bytes(&n.repo_path);
    assert!(after < before);
    assert_eq!(prune_summary["bytes_after"].as_u64(), Some(after));
    let repo = Repository::open(&n.repo_path).unwrap();
    assert_eq!(repo.snapshots().unwrap().len(), 1);
    assert!(read_all(&repo).ok());
    assert_restores(&repo, &n.nights[3].0, &n.nights[3].1);
}

/// Chunk lists and chunks of the chunked messages of a snapshot.
fn chunk_blobs(repo: &Repository, id: &SnapshotId) -> HashSet<BlobId> {
    let snap = repo.load_snapshot(id).unwrap();
    let mut out = HashSet::new();
    for (_, m) in common::all_messages(repo, &snap) {
        if m.chunked {
            out.insert(m.blob);
            out.extend(mailvault::message_chunks(repo, &m).unwrap());
        }
    }
    out
}

/// Large messages in copy mode are chunks behind chunk lists: prune keeps every chunk a kept
/// snapshot needs (they restore byte-identical and pass `check --read-data`), and removes the
/// chunks and chunk lists once no snapshot references them.
#[test]
fn prune_keeps_chunked_messages_and_removes_them_with_their_last_snapshot() {
    let n = nights_with(4, false, 40.0);
    let repo = Repository::open(&n.repo_path).unwrap();
    let chunked: Vec<HashSet<BlobId>> = n
        .nights
        .iter()
        .map(|(id, _)| chunk_blobs(&repo, id))
        .collect();
    drop(repo);
    assert!(chunked.iter().all(|c| c.len() > 20), "{chunked:?}");
    for (id, _) in &n.nights[..3] {
        forget(&n.repo_path, id);
    }
    // Every unused entry goes (no pack kept for being mostly used).
    let prune_all = || {
        let mut repo = Repository::open_exclusive(&n.repo_path).unwrap();
        let opts = PruneOptions {
            max_unused_percent: 0.0,
            ..PruneOptions::default()
        };
        prune(&mut repo, &opts, &NoProgress).unwrap();
    };
    prune_all();
    let repo = Repository::open(&n.repo_path).unwrap();
    let (last, model_last) = &n.nights[3];
    assert_restores(&repo, last, model_last);
    let report = read_all(&repo);
    assert!(report.ok(), "{:?}", report.problems);
    let kept = referenced(&repo);
    assert!(chunked[3].is_subset(&kept));
    for c in chunked.iter().flatten() {
        assert_eq!(repo.has_blob(c), kept.contains(c), "blob {c}");
    }

    // Another source's snapshot, nothing chunked; the last night forgotten: its chunks go.
    let other = tempfile::tempdir().unwrap();
    generate(
        &GenOptions {
            accounts: 1,
            messages: 10,
            seed: 9,
            attachment_percent: 0.0,
            ..GenOptions::default()
        },
        &other.path().join("mox"),
    )
    .unwrap();
    let opts = MoxBackupOptions {
        link: false,
        ..MoxBackupOptions::default()
    };
    let s = backup_mox(&repo, &other.path().join("mox"), &opts, &NoProgress).unwrap();
    drop(repo);
    forget(&n.repo_path, last);
    prune_all();
    let repo = Repository::open(&n.repo_path).unwrap();
    for c in chunked.iter().flatten() {
        assert!(!repo.has_blob(c), "blob {c} outlived its snapshots");
    }
    assert!(read_all(&repo).ok());
    assert!(common::restore_whole(&repo, &s.snapshot).path().exists());
}
