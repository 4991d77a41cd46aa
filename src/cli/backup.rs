//! `mailvault backup <DIR>`: backs up a directory and commits a snapshot.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::render::{self, Renderer};
use super::{EXIT_INCOMPLETE, EXIT_OK, Global};

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The directory to back up.
    pub dir: PathBuf,
    /// Compare against this snapshot instead of the newest one of the same source.
    #[arg(long)]
    pub parent: Option<String>,
    /// Read every file, even those unchanged since the parent snapshot.
    #[arg(long)]
    pub force_read: bool,
}

/// Backs up `args.dir`. This is the one entry point of `backup`: source-specific backups (a mox
/// data directory) are dispatched from here.
pub fn run(global: &Global, args: BackupArgs) -> anyhow::Result<ExitCode> {
    let repo = mailvault::Repository::open(&super::repo_path(&global.repo)?)?;
    let out = Renderer::new(global.json);
    let parent = match &args.parent {
        Some(spec) => Some(repo.resolve_snapshot(spec)?),
        None => None,
    };
    let opts = mailvault::TreeBackupOptions {
        parent,
        force_read: args.force_read,
    };
    let result = mailvault::backup_tree(&repo, &args.dir, &opts, &out);
    out.finish();
    let summary = result?;
    if global.json {
        out.json_line(&render::backup_summary_json(&summary));
    } else {
        println!("{}", render::backup_summary_text(&summary));
    }
    Ok(ExitCode::from(if summary.complete {
        EXIT_OK
    } else {
        EXIT_INCOMPLETE
    }))
}
