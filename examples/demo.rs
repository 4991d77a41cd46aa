//! A tour of the main job on the shipped sample mox installation: back it up, let a day of mail
//! happen, back it up again, restore, and check the restore byte for byte.
//!
//! `cargo run --release --example demo`

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mailvault::{
    BackupSummary, NoProgress, Repository, RestoreOptions, Tree, TreeBackupOptions, backup_tree,
    restore_tree,
};

fn extract(name: &str, dest: &Path) -> anyhow::Result<()> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("{name}.tar.zst"));
    let mut archive = tar::Archive::new(zstd::Decoder::new(std::fs::File::open(&path)?)?);
    archive.set_preserve_permissions(true);
    archive.set_preserve_mtime(true);
    archive.unpack(dest)?;
    Ok(())
}

/// path → BLAKE3 of every file below `root`.
fn contents(root: &Path) -> anyhow::Result<BTreeMap<PathBuf, blake3::Hash>> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(root) {
        let e = e?;
        if e.file_type().is_file() {
            let rel = e.path().strip_prefix(root)?.to_path_buf();
            out.insert(rel, blake3::hash(&std::fs::read(e.path())?));
        }
    }
    Ok(out)
}

fn report(label: &str, s: &BackupSummary) {
    let n = |k: &str| s.stats.get(k).copied().unwrap_or(0);
    println!(
        "{label}: snapshot {} {} — {} files, {} read ({} bytes), {} bytes added, {} ms",
        s.snapshot.short(),
        if s.complete { "complete" } else { "INCOMPLETE" },
        n("files_total"),
        n("files_read"),
        n("bytes_read"),
        n("bytes_added"),
        n("duration_ms"),
    );
}

fn main() -> anyhow::Result<()> {
    let work = tempfile::tempdir()?;
    let source = work.path().join("mox");
    let repo_dir = work.path().join("repo");
    println!(
        "sample mox installation and repository under {}",
        work.path().display()
    );

    extract("small-state1", &source)?;
    let repo = Repository::init(&repo_dir)?;
    let opts = TreeBackupOptions::default();
    let first = backup_tree(&repo, &source, &opts, &NoProgress)?;
    report("night 1", &first);

    let again = backup_tree(&repo, &source, &opts, &NoProgress)?;
    report("night 2, nothing changed", &again);

    // A day of mail: new messages, expunges, database pages rewritten.
    std::fs::remove_dir_all(&source)?;
    extract("small-state2", &source)?;
    let third = backup_tree(&repo, &source, &opts, &NoProgress)?;
    report("night 3, after a day of mail", &third);

    let target = work.path().join("restored");
    let snap = repo.load_snapshot(&repo.resolve_snapshot("latest")?)?;
    let tree = Tree::load(&repo, &snap.tree)?;
    let stats = restore_tree(
        &repo,
        &tree,
        &target,
        &RestoreOptions::default(),
        &NoProgress,
    )?;
    let same = contents(&source)? == contents(&target)?;
    println!(
        "restore of the latest snapshot: {} files, {} hardlinks, {} bytes written — {}",
        stats.files,
        stats.hardlinks,
        stats.bytes_written,
        if same {
            "identical to the source"
        } else {
            "DIFFERENT from the source"
        }
    );
    println!("snapshots in the repository:");
    for (id, s) in repo.snapshots()? {
        println!("  {} {} files", id.short(), s.stat("files_total"));
    }
    anyhow::ensure!(same, "restore differs from the source");
    Ok(())
}
