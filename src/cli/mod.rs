//! Argument parsing and dispatch. Each subcommand lives in its own file and renders its own output.

/// `println!` for command output: a closed pipe (`mailvault inspect | head`) ends the program
/// quietly instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            panic!("cannot write to standard output: {e}");
        }
    }};
}

mod backup;
mod check;
mod diff;
mod dump;
mod export;
mod find;
mod forget;
mod generate;
mod init;
mod inspect;
mod key;
mod ls;
pub mod metrics;
mod prune;
pub mod render;
mod repair;
mod replicate;
mod restore;
mod snapshots;
mod stats;
mod tag;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code: success, a complete snapshot.
pub const EXIT_OK: u8 = 0;
/// Exit code: an error; nothing was committed by this command.
pub const EXIT_ERROR: u8 = 1;
/// Exit code: a snapshot was written but it is incomplete (problems listed in it), or a
/// restore left out paths it could not restore (each listed).
pub const EXIT_INCOMPLETE: u8 = 3;
/// Exit code: `check` found damage (each problem listed).
pub const EXIT_DAMAGED: u8 = 4;

#[derive(Debug, Parser)]
#[command(
    name = "mailvault",
    version,
    about = "Incremental, content-addressed backups of mox data directories"
)]
pub struct Cli {
    /// The repository (default: $MAILVAULT_REPO).
    #[arg(short = 'r', long, global = true, env = "MAILVAULT_REPO")]
    pub repo: Option<PathBuf>,
    /// Print JSON lines (events, then a summary) instead of human output.
    #[arg(long, global = true)]
    pub json: bool,
    /// Wait this long for a repository another command holds (e.g. `10m`; default: fail at
    /// once, naming the holder).
    #[arg(long, global = true, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub lock_wait: Option<std::time::Duration>,
    /// No progress and no warnings: only errors, problems and the final summary.
    #[arg(short = 'q', long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More events: each phase as it starts and ends, every progress step in JSON.
    #[arg(short = 'v', long, global = true)]
    pub verbose: bool,
    /// Threads for reading and writing (default: the number of CPUs; 16 when the repository
    /// is in object storage, where each read is a request that mostly waits).
    #[arg(short = 'j', long, global = true, value_name = "N")]
    pub jobs: Option<usize>,
    /// After `backup`, `replicate`, `forget`, `prune` or `check`, write the run's metrics to this file in the Prometheus
    /// text format (for node_exporter's textfile collector), atomically.
    #[arg(long, global = true, value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,
    /// A key file of an encrypted repository: the master key, or a put-only key (which backs
    /// up and replicates but reads and removes nothing).
    #[arg(long, global = true, env = "MAILVAULT_KEY_FILE", value_name = "PATH")]
    pub key_file: Option<PathBuf>,
    /// Read the password of an encrypted repository from this file (first line); default:
    /// $MAILVAULT_PASSWORD, else a prompt.
    #[arg(long, global = true, value_name = "PATH")]
    pub password_file: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a repository.
    Init(init::InitArgs),
    /// Back up a directory and commit a snapshot.
    Backup(backup::BackupArgs),
    /// List snapshots, oldest first.
    Snapshots(snapshots::SnapshotsArgs),
    /// List the files of a snapshot.
    Ls(ls::LsArgs),
    /// Restore a snapshot into a directory.
    Restore(restore::RestoreArgs),
    /// Show what a mox installation holds: accounts, mailboxes, messages, queue, databases.
    Inspect(inspect::InspectArgs),
    /// Export mailboxes of a snapshot as mbox or maildir (for `mox import`).
    Export(export::ExportArgs),
    /// Show which messages were added, removed, moved or changed between two snapshots.
    Diff(diff::DiffArgs),
    /// Read every blob one snapshot needs and check its hash (`check --read-data` checks the
    /// whole repository).
    Verify(verify::VerifyArgs),
    /// Check the repository: snapshots, index, packs; with --read-data, every blob's content.
    Check(check::CheckArgs),
    /// Repository size, deduplication, bytes per snapshot and per account.
    Stats(stats::StatsArgs),
    /// Remove what no snapshot references; repack mostly unused packs (exclusive lock).
    Prune(prune::PruneArgs),
    /// Copy the snapshots another repository (another disk) lacks, snapshots last.
    Replicate(replicate::ReplicateArgs),
    /// Repair the repository (takes the exclusive lock).
    Repair(repair::RepairArgs),
    /// Convert a repository of an older format to the current one (takes the exclusive lock).
    Migrate(repair::MigrateArgs),
    /// Keys of an encrypted repository: list, add (a password, a put-only key file), remove,
    /// change a password.
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Remove snapshots by a retention policy or by id (takes the exclusive lock).
    Forget(forget::ForgetArgs),
    /// Add, remove or set tags of snapshots (takes the exclusive lock).
    Tag(tag::TagArgs),
    /// Find messages in snapshots by account, mailbox, sender, recipient, subject, Message-ID
    /// or received time.
    Find(find::FindArgs),
    /// Write one message of a snapshot as mox stores it (MsgPrefix and file).
    Dump(dump::DumpArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(generate::CompletionsArgs),
    /// Write man pages (mailvault.1 and one per command) into a directory.
    Man(generate::ManArgs),
}

/// The options every subcommand sees.
#[derive(Debug, Clone)]
pub struct Global {
    pub repo: Option<PathBuf>,
    pub json: bool,
    pub lock_wait: std::time::Duration,
    pub quiet: bool,
    pub verbose: bool,
    pub metrics_file: Option<PathBuf>,
    /// How an encrypted repository is unlocked.
    pub unlock: mailvault::Unlock,
}

/// The password of an encrypted repository: $MAILVAULT_PASSWORD, the first line of
/// --password-file, or a prompt on the terminal.
pub fn password_source(
    file: Option<PathBuf>,
    env: &'static str,
    prompt: &'static str,
    confirm: bool,
) -> mailvault::PasswordSource {
    std::sync::Arc::new(move || {
        if let Some(p) = &file {
            let text = std::fs::read_to_string(p).map_err(|e| {
                mailvault::Error::Key(format!(
                    "{}: cannot read the password file: {e}",
                    p.display()
                ))
            })?;
            return Ok(text.lines().next().unwrap_or("").to_string());
        }
        if let Ok(p) = std::env::var(env) {
            return Ok(p);
        }
        use std::io::IsTerminal;
        if !std::io::stdin().is_terminal() {
            return Err(mailvault::Error::Key(format!(
                "the repository is encrypted and no password was given (set {env}, give \
                 --password-file or --key-file, or run on a terminal)"
            )));
        }
        let read = |p: &str| {
            rpassword::prompt_password(p)
                .map_err(|e| mailvault::Error::Key(format!("cannot read the password: {e}")))
        };
        let first = read(prompt)?;
        if confirm && read("again: ")? != first {
            return Err(mailvault::Error::Key(
                "the two passwords differ: nothing was changed".into(),
            ));
        }
        Ok(first)
    })
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let remote = remote_spec(&cli.repo).is_some();
    let jobs = match cli.jobs {
        Some(0) => anyhow::bail!("--jobs 0: give at least 1"),
        Some(n) => Some(n),
        None if remote => Some(16),
        None => None,
    };
    if let Some(n) = jobs {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| anyhow::anyhow!("--jobs {n}: {e}"))?;
    }
    let global = Global {
        repo: cli.repo,
        json: cli.json,
        lock_wait: cli.lock_wait.unwrap_or_default(),
        quiet: cli.quiet,
        verbose: cli.verbose,
        metrics_file: cli.metrics_file,
        unlock: mailvault::Unlock {
            key_file: cli.key_file,
            password: Some(password_source(
                cli.password_file,
                "MAILVAULT_PASSWORD",
                "repository password: ",
                matches!(cli.command, Command::Init(_)),
            )),
        },
    };
    render::set_verbosity(global.quiet, global.verbose);
    match cli.command {
        Command::Init(args) => init::run(&global, args),
        Command::Backup(args) => backup::run(&global, args),
        Command::Snapshots(args) => snapshots::run(&global, args),
        Command::Ls(args) => ls::run(&global, args),
        Command::Restore(args) => restore::run(&global, args),
        Command::Inspect(args) => inspect::run(args, global.json),
        Command::Export(args) => export::run(&global, args),
        Command::Diff(args) => diff::run(&global, args),
        Command::Verify(args) => verify::run(&global, args),
        Command::Check(args) => measured(&global, "check", || check::run(&global, args)),
        Command::Prune(args) => measured(&global, "prune", || prune::run(&global, args)),
        Command::Stats(args) => stats::run(&global, args),
        Command::Replicate(args) => replicate::run(&global, args),
        Command::Repair(args) => repair::run_repair(&global, args),
        Command::Migrate(args) => repair::run_migrate(&global, args),
        Command::Key(cmd) => key::run(&global, cmd),
        Command::Forget(args) => measured(&global, "forget", || forget::run(&global, args)),
        Command::Tag(args) => tag::run(&global, args),
        Command::Find(args) => find::run(&global, args),
        Command::Dump(args) => dump::run(&global, args),
        Command::Completions(args) => generate::completions(args),
        Command::Man(args) => generate::man(args),
    }
}

/// Runs a maintenance command and records it in `--metrics-file` (success: exit code 0),
/// labelled with the repository.
fn measured(
    global: &Global,
    command: &str,
    run: impl FnOnce() -> anyhow::Result<ExitCode>,
) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let result = run();
    metrics::record(
        global,
        &metrics::RunMetrics {
            command: command.into(),
            source: global
                .repo
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            success: matches!(&result, Ok(code) if *code == ExitCode::SUCCESS),
            duration_secs: started.elapsed().as_secs_f64(),
            values: Vec::new(),
        },
    );
    result
}

/// `--host` and `--source`: which snapshots `latest` (and the other snapshot arguments) may
/// name.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SnapshotSelect {
    /// `latest` is the newest snapshot of this host (the others must be of it).
    #[arg(long)]
    pub host: Option<String>,
    /// `latest` is the newest snapshot of this source: the path as `snapshots` lists it, or the
    /// installation as given to `backup` (mox.conf, its directory, the data directory).
    #[arg(long)]
    pub source: Option<String>,
    /// `latest` is the newest snapshot carrying this tag (repeatable: every tag given).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
}

impl SnapshotSelect {
    pub fn filter(&self) -> mailvault::SnapshotFilter {
        mailvault::SnapshotFilter {
            host: self.host.clone(),
            source: self.source.clone(),
            tags: self.tags.clone(),
        }
    }

    /// Resolves a snapshot argument under this selection.
    pub fn resolve(
        &self,
        repo: &mailvault::Repository,
        spec: &str,
    ) -> anyhow::Result<mailvault::SnapshotId> {
        Ok(mailvault::resolve_snapshot(repo, spec, &self.filter())?)
    }
}

/// Opens the repository of `--repo` or `$MAILVAULT_REPO`. A directory that is not a repository
/// (a mox installation given by mistake, a typo) is one sentence saying so and what to do.
pub fn open_repo(global: &Global) -> anyhow::Result<mailvault::Repository> {
    open_repo_mode(global, mailvault::LockMode::Shared)
}

/// [`open_repo`] under the exclusive lock, for commands that remove or rewrite snapshots or
/// packs (forget, tag, prune, repair snapshots).
pub fn open_repo_exclusive(global: &Global) -> anyhow::Result<mailvault::Repository> {
    open_repo_mode(global, mailvault::LockMode::Exclusive)
}

fn open_repo_mode(
    global: &Global,
    mode: mailvault::LockMode,
) -> anyhow::Result<mailvault::Repository> {
    if let Some(url) = remote_spec(&global.repo) {
        return Ok(mailvault::Repository::open_spec_unlocked(
            &url,
            mode,
            global.lock_wait,
            &global.unlock,
        )?);
    }
    Ok(mailvault::Repository::open_unlocked(
        &checked_repo_path(global)?,
        mode,
        global.lock_wait,
        &global.unlock,
    )?)
}

/// The repository when it is an object store URL (`s3://BUCKET/PREFIX`).
pub fn remote_spec(repo: &Option<PathBuf>) -> Option<String> {
    let s = repo.as_ref()?.to_str()?;
    s.starts_with("s3://").then(|| s.to_string())
}

/// The repository path, checked to hold a repository (or one sentence saying what it is).
fn checked_repo_path(global: &Global) -> anyhow::Result<PathBuf> {
    let path = repo_path(&global.repo)?;
    let shown = path.display();
    if !path.join("config").is_file() {
        if !path.exists() {
            anyhow::bail!(
                "{shown}: no such repository: check --repo, or create one with `mailvault init {shown}`"
            );
        }
        if mailvault::is_mox_source(&path) {
            anyhow::bail!(
                "{shown}: this is a mox installation, not a mailvault repository: give the \
                 repository with --repo (the installation is the argument of `backup`), or \
                 create one with `mailvault init <DIR>`"
            );
        }
        anyhow::bail!(
            "{shown}: not a mailvault repository (it has no config file): check --repo, or \
             create one with `mailvault init <DIR>` in a new or empty directory"
        );
    }
    Ok(path)
}

/// The text of an error and its causes, each said once: an I/O error that already names its
/// OS error is not followed by the same OS error again.
pub fn error_text(err: &anyhow::Error) -> String {
    let mut text = err.to_string();
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

/// The repository path from `--repo` or `$MAILVAULT_REPO`, or a clear error.
pub fn repo_path(cli_repo: &Option<PathBuf>) -> anyhow::Result<PathBuf> {
    cli_repo
        .clone()
        .ok_or_else(|| anyhow::anyhow!("no repository given: use --repo or set MAILVAULT_REPO"))
}
