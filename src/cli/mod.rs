//! Argument parsing and dispatch. Each subcommand lives in its own file and renders its own output.

mod inspect;
mod render;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code: success, a complete snapshot.
pub const EXIT_OK: u8 = 0;
/// Exit code: an error; nothing was committed by this command.
pub const EXIT_ERROR: u8 = 1;
/// Exit code: a snapshot was written but it is incomplete (problems listed in it).
pub const EXIT_INCOMPLETE: u8 = 3;

#[derive(Debug, Parser)]
#[command(
    name = "mailvault",
    version,
    about = "Incremental, content-addressed backups of mox data directories"
)]
pub struct Cli {
    /// The repository (default: $MAILVAULT_REPO).
    #[arg(long, global = true, env = "MAILVAULT_REPO")]
    pub repo: Option<PathBuf>,
    /// Print JSON lines (events, then a summary) instead of human output.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what a mox installation holds: accounts, mailboxes, messages, queue, databases.
    Inspect(inspect::InspectArgs),
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let _ = (&cli.repo, cli.json);
    match cli.command {
        Command::Inspect(args) => inspect::run(args, cli.json),
    }
}

/// The repository path from `--repo` or `$MAILVAULT_REPO`, or a clear error.
pub fn repo_path(cli_repo: &Option<PathBuf>) -> anyhow::Result<PathBuf> {
    cli_repo
        .clone()
        .ok_or_else(|| anyhow::anyhow!("no repository given: use --repo or set MAILVAULT_REPO"))
}
