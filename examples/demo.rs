//! A tour of the main job on a generated mox installation: back it up, back it up again with
//! nothing changed, let a night of mail happen, back it up again, verify the repository,
//! restore the latest snapshot and check it byte for byte, and export a mailbox.
//!
//! `cargo run --release --example demo [-- --accounts N --messages M --keep DIR]`

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use mailvault::mox::generator::{GenOptions, MutateOptions, generate, mutate};
use mailvault::{
    BackupSummary, ExportFormat, ExportOptions, MoxBackupOptions, MoxRestoreSelection, NoProgress,
    Repository, RestoreOptions, backup_mox, export, restore_mox, verify,
};

/// path → BLAKE3 of every regular file below `root`, except what mox never backs up.
fn contents(root: &Path) -> anyhow::Result<BTreeMap<PathBuf, blake3::Hash>> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(root) {
        let e = e?;
        let rel = e.path().strip_prefix(root)?.to_path_buf();
        if e.file_type().is_file() && !rel.starts_with("tmp") && rel != Path::new("ctl") {
            out.insert(rel, blake3::hash(&std::fs::read(e.path())?));
        }
    }
    Ok(out)
}

fn report(label: &str, s: &BackupSummary) {
    let n = |k: &str| s.stats.get(k).copied().unwrap_or(0);
    println!(
        "{label}\n    snapshot {} {}: {} accounts ({} unchanged), {} mailboxes ({} unchanged), \
         {} messages, {} message files read, {:.1} MiB read, {:.1} MiB added, {} ms",
        s.snapshot.short(),
        if s.complete { "complete" } else { "INCOMPLETE" },
        n("accounts_total"),
        n("accounts_skipped"),
        n("mailboxes_total"),
        n("mailboxes_skipped"),
        n("messages_total"),
        n("messages_read"),
        n("bytes_read") as f64 / 1048576.0,
        n("bytes_added") as f64 / 1048576.0,
        n("duration_ms"),
    );
}

fn main() -> anyhow::Result<()> {
    let mut gen_opts = GenOptions {
        accounts: 5,
        messages: 400,
        ..GenOptions::default()
    };
    let mut keep: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--accounts" => gen_opts.accounts = val()?.parse()?,
            "--messages" => gen_opts.messages = val()?.parse()?,
            "--keep" => keep = Some(PathBuf::from(val()?)),
            other => bail!("unknown argument {other:?}"),
        }
    }
    let temp = tempfile::tempdir()?;
    let work = keep.clone().unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&work)?;
    let install = work.join("mox");
    let repo_dir = work.join("repo");
    println!("working in {}", work.display());

    let t = Instant::now();
    let generated = generate(&gen_opts, &install)?;
    println!(
        "1. generated a mox installation: {} accounts, {} messages, {:.1} MiB of message files, \
         in {:.1} s",
        generated.accounts.len(),
        generated.totals.live_messages,
        generated.totals.message_bytes as f64 / 1048576.0,
        t.elapsed().as_secs_f64()
    );

    let repo = Repository::init(&repo_dir)?;
    let opts = MoxBackupOptions::default();
    let first = backup_mox(&repo, &install, &opts, &NoProgress)?;
    report(
        "2. first backup: every database copied, every message file stored (hardlinked)",
        &first,
    );

    let unchanged = backup_mox(&repo, &install, &opts, &NoProgress)?;
    report(
        "3. second backup, nothing changed: every account reuses its manifest",
        &unchanged,
    );
    ensure!(unchanged.stats["messages_read"] == 0);

    let night = mutate(
        &install,
        &MutateOptions {
            percent: 2.0,
            seed: 7,
            ..MutateOptions::default()
        },
    )?;
    println!(
        "4. a night of mail: {} files added, {} removed, {} databases rewritten",
        night.files_added.len(),
        night.files_removed.len(),
        night.databases_rewritten.len()
    );
    let third = backup_mox(&repo, &install, &opts, &NoProgress)?;
    report(
        "5. backup after the night: only changed mailboxes scanned, only new files read",
        &third,
    );
    let new_messages = night
        .files_added
        .iter()
        .filter(|f| f.starts_with("accounts/"))
        .count() as u64;
    ensure!(third.stats["messages_read"] <= new_messages);

    let snap = repo.load_snapshot(&third.snapshot)?;
    let checked = verify(&repo, &snap, &NoProgress)?;
    println!(
        "6. verified the latest snapshot: {} blobs, {:.1} MiB, {}",
        checked.blobs,
        checked.bytes as f64 / 1048576.0,
        if checked.ok() {
            "all intact"
        } else {
            "DAMAGED"
        }
    );
    ensure!(checked.ok());

    let target = work.join("restored");
    let t = Instant::now();
    let stats = restore_mox(
        &repo,
        &snap,
        &target,
        &MoxRestoreSelection::default(),
        &RestoreOptions::default(),
        &NoProgress,
    )?;
    let same = contents(&install.join("data"))? == contents(&target.join("data"))?
        && contents(&install.join("config"))? == contents(&target.join("config"))?;
    println!(
        "7. restored it into {}: {} files ({} hardlinks), {:.1} MiB written in {:.1} s — {}",
        target.display(),
        stats.files,
        stats.hardlinks,
        stats.bytes_written as f64 / 1048576.0,
        t.elapsed().as_secs_f64(),
        if same {
            "config/ and data/ identical to the installation"
        } else {
            "DIFFERENT from the installation"
        }
    );
    ensure!(same, "restore differs from the source");

    let account = generated.accounts[0].name.clone();
    let out = work.join("export");
    let exported = export(
        &repo,
        &snap,
        &ExportOptions {
            account: account.clone(),
            mailboxes: vec!["Inbox".into()],
            format: ExportFormat::Mbox,
        },
        &out,
        &NoProgress,
    )?;
    println!(
        "8. exported {account}'s Inbox as mbox: {} messages into {}",
        exported.messages,
        exported.outputs["Inbox"].display()
    );
    if keep.is_none() {
        println!("(pass --keep DIR to keep the installation, repository and restore)");
    }
    Ok(())
}
