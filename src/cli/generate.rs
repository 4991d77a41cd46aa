//! `mailvault completions <SHELL>` and `mailvault man <DIR>`: generated from the command line
//! definition itself, so they never disagree with it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory};

use super::{Cli, EXIT_OK};

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The directory to write `mailvault.1` and `mailvault-<command>.1` into (created if
    /// missing).
    pub dir: PathBuf,
}

/// Prints the completion script on standard output (e.g. `mailvault completions bash >
/// /etc/bash_completion.d/mailvault`).
pub fn completions(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "mailvault", &mut out);
    outln!("{}", String::from_utf8_lossy(&out).trim_end());
    Ok(ExitCode::from(EXIT_OK))
}

/// Writes one man page for `mailvault` and one per command.
pub fn man(args: ManArgs) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.dir)
        .map_err(|e| anyhow::anyhow!("{}: cannot create: {e}", args.dir.display()))?;
    clap_mangen::generate_to(Cli::command(), &args.dir)
        .map_err(|e| anyhow::anyhow!("{}: cannot write man pages: {e}", args.dir.display()))?;
    Ok(ExitCode::from(EXIT_OK))
}
