//! `mailvault backup <SOURCE>`: backs up a mox installation (mail-aware) or any directory, and
//! commits a snapshot.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::render::{self, Renderer};
use super::{EXIT_INCOMPLETE, EXIT_OK, Global};

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// A mox installation (`mox.conf`, a directory holding `config/mox.conf`, or a data
    /// directory), or any directory to back up as a plain tree.
    pub dir: PathBuf,
    /// Compare against this snapshot instead of the newest one of the same source.
    #[arg(long)]
    pub parent: Option<String>,
    /// Read every file, even those unchanged since the parent snapshot.
    #[arg(long)]
    pub force_read: bool,
    /// Back up as a plain directory tree even if it is a mox installation.
    #[arg(long)]
    pub plain: bool,
    /// The server is running: ask it through its control socket (`<data>/ctl`) for a consistent
    /// copy, back that up, and remove it.
    #[arg(long)]
    pub via_ctl: bool,
    /// Copy message files into the repository instead of hardlinking them.
    #[arg(long)]
    pub no_link: bool,
    /// Tag the snapshot (repeatable): `forget --keep-tag` keeps tagged snapshots.
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Plan only (a mox installation): print what the backup would do against its parent
    /// (mailboxes kept or written again, message files to read, databases to copy) and store
    /// nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Backs up `args.dir`. This is the one entry point of `backup`: source-specific backups (a mox
/// data directory) are dispatched from here.
pub fn run(global: &Global, args: BackupArgs) -> anyhow::Result<ExitCode> {
    if args.dry_run {
        return dry_run(global, args);
    }
    let started = std::time::Instant::now();
    let source = args.dir.display().to_string();
    let result = backup(global, args);
    let mut run = super::metrics::RunMetrics {
        command: "backup".into(),
        source,
        success: result.is_ok(),
        duration_secs: started.elapsed().as_secs_f64(),
        values: Vec::new(),
    };
    if let Ok((_, summary)) = &result {
        let stat = |k: &str| summary.stats.get(k).copied().unwrap_or(0) as f64;
        run.values = vec![
            ("mailvault_bytes_added", stat("bytes_added")),
            ("mailvault_messages_read", stat("messages_read")),
            ("mailvault_messages_total", stat("messages_total")),
            (
                "mailvault_snapshot_complete",
                f64::from(u8::from(summary.complete)),
            ),
        ];
    }
    super::metrics::record(global, &run);
    result.map(|(code, _)| code)
}

fn backup(
    global: &Global,
    args: BackupArgs,
) -> anyhow::Result<(ExitCode, mailvault::BackupSummary)> {
    if let Err(e) = std::fs::metadata(&args.dir) {
        anyhow::bail!(
            "{}: cannot back up: {e}; give a mox installation (mox.conf, its directory or the \
             data directory) or a directory",
            args.dir.display()
        );
    }
    let repo = super::open_repo(global)?;
    let out = Renderer::new(global.json);
    let parent = match &args.parent {
        Some(spec) => Some(repo.resolve_snapshot(spec)?),
        None => None,
    };
    let result = if !args.plain && mailvault::is_mox_source(&args.dir) {
        mailvault::backup_mox(&repo, &args.dir, &mox_options(&args, parent), &out)
    } else {
        if args.via_ctl {
            anyhow::bail!(
                "{}: --via-ctl needs a mox installation, and this is not one",
                args.dir.display()
            );
        }
        let opts = mailvault::TreeBackupOptions {
            parent,
            force_read: args.force_read,
            tags: args.tags.clone(),
        };
        mailvault::backup_tree(&repo, &args.dir, &opts, &out)
    };
    out.finish();
    let summary = result?;
    if global.json {
        out.json_line(&render::backup_summary_json(&summary));
    } else {
        outln!("{}", render::backup_summary_text(&summary));
    }
    let code = ExitCode::from(if summary.complete {
        EXIT_OK
    } else {
        EXIT_INCOMPLETE
    });
    Ok((code, summary))
}

/// `backup --dry-run`: the plan's counts, nothing stored. Exit 0, or 3 when something could
/// not be planned (the backup would be incomplete).
fn dry_run(global: &Global, args: BackupArgs) -> anyhow::Result<ExitCode> {
    if args.plain || !mailvault::is_mox_source(&args.dir) {
        anyhow::bail!(
            "{}: --dry-run plans the backup of a mox installation, and this is not one",
            args.dir.display()
        );
    }
    let repo = super::open_repo(global)?;
    let out = Renderer::new(global.json);
    let parent = match &args.parent {
        Some(spec) => Some(repo.resolve_snapshot(spec)?),
        None => None,
    };
    let result = mailvault::plan_backup_mox(&repo, &args.dir, &mox_options(&args, parent), &out);
    out.finish();
    let plan = result?;
    if global.json {
        out.json_line(&render::backup_plan_json(&plan));
    } else {
        outln!("{}", render::backup_plan_text(&plan));
    }
    Ok(ExitCode::from(if plan.problems.is_empty() {
        EXIT_OK
    } else {
        EXIT_INCOMPLETE
    }))
}

/// The options of a mox backup, from the command line.
fn mox_options(
    args: &BackupArgs,
    parent: Option<mailvault::SnapshotId>,
) -> mailvault::MoxBackupOptions {
    mailvault::MoxBackupOptions {
        link: !args.no_link,
        via_ctl: args.via_ctl,
        parent,
        force_read: args.force_read,
        tags: args.tags.clone(),
        ..mailvault::MoxBackupOptions::default()
    }
}
