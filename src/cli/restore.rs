//! `mailvault restore <SNAPSHOT|latest> --target <DIR>` (or `--at TIME`): restores a snapshot:
//! a plain tree as it was, a mox snapshot as `config/` + `data/` (or one account with
//! `--account`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use mailvault::{MoxRestoreSelection, RestoreOptions, SourceKind, Tree};
use serde_json::json;

use super::render::{self, Renderer};
use super::{EXIT_INCOMPLETE, EXIT_OK, Global, SnapshotSelect};

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// `latest`, a snapshot id, or a unique prefix of one (at least 4 hex digits).
    #[arg(required_unless_present = "at", conflicts_with = "at")]
    pub snapshot: Option<String>,
    /// Restore the last snapshot taken at or before this RFC 3339 time, any offset
    /// (e.g. 2026-11-30T06:00:00Z or 2026-11-30T07:00:00+01:00).
    #[arg(long)]
    pub at: Option<String>,
    /// Restore only this account's directory (index.db, junk filter, messages) into the target,
    /// to be put in place with the server stopped.
    #[arg(long)]
    pub account: Option<String>,
    /// The directory to restore into (created if missing).
    #[arg(long)]
    pub target: PathBuf,
    /// Replace files that already exist in the target.
    #[arg(long)]
    pub overwrite: bool,
    /// Hardlink immutable objects from the repository instead of copying (same filesystem
    /// only; the restored files then share storage with the repository: never edit them).
    #[arg(long)]
    pub link: bool,
    #[command(flatten)]
    pub select: SnapshotSelect,
}

pub fn run(global: &Global, args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let repo = super::open_repo(global)?;
    let id = match (&args.snapshot, &args.at) {
        (Some(spec), _) => args.select.resolve(&repo, spec)?,
        (None, Some(at)) => {
            let ns = mailvault::mox::parse_rfc3339(at).ok_or_else(|| {
                anyhow::anyhow!(
                    "--at {at:?}: not an RFC 3339 time (e.g. 2026-11-30T06:00:00Z or \
                     2026-11-30T07:00:00+01:00)"
                )
            })?;
            let filter = args.select.filter();
            let found = match filter.is_empty() {
                true => mailvault::snapshot_at(&repo, ns)?.map(|(id, _)| id),
                // Of that host or source: the last one taken at or before the time.
                false => filter
                    .apply(repo.snapshots_lenient()?.0)
                    .into_iter()
                    .rfind(|(_, s)| s.time_ns <= ns)
                    .map(|(id, _)| id),
            };
            found.ok_or_else(|| anyhow::anyhow!("no snapshot was taken at or before {at}"))?
        }
        (None, None) => unreachable!("clap requires a snapshot or --at"),
    };
    let snap = repo.load_snapshot(&id)?;
    if !args.overwrite
        && let Ok(mut entries) = std::fs::read_dir(&args.target)
        && entries.next().is_some()
    {
        anyhow::bail!(
            "{}: not empty; restore into a new or empty directory, or pass --overwrite",
            args.target.display()
        );
    }
    let out = Renderer::new(global.json);
    let opts = RestoreOptions {
        link: args.link,
        overwrite: args.overwrite,
    };
    let result = match snap.kind {
        SourceKind::Mox => {
            let selection = MoxRestoreSelection {
                account: args.account.clone(),
            };
            mailvault::restore_mox(&repo, &snap, &args.target, &selection, &opts, &out)
        }
        SourceKind::Tree => {
            if args.account.is_some() {
                anyhow::bail!("--account needs a snapshot of a mox installation");
            }
            let tree = Tree::load(&repo, &snap.tree)?;
            mailvault::restore_tree(&repo, &tree, &args.target, &opts, &out)
        }
    };
    out.finish();
    let stats = result?;
    let duration_ms = started.elapsed().as_millis() as u64;
    if global.json {
        let mut v = json!({
            "type": "summary",
            "snapshot": id.to_hex(),
            "target": args.target,
            "duration_ms": duration_ms,
        });
        if let serde_json::Value::Object(m) = serde_json::to_value(&stats)? {
            for (k, val) in m {
                v[k] = val;
            }
        }
        out.json_line(&v);
    } else {
        for f in &stats.failed {
            match &f.message {
                Some(m) => outln!(
                    "FAILED {} (message {} in {}/{}): {}",
                    f.path,
                    m.id,
                    m.account,
                    m.mailbox,
                    f.error
                ),
                None => outln!("FAILED {}: {}", f.path, f.error),
            }
        }
        outln!(
            "restored snapshot {} into {}{}: {} files ({} hardlinked), {} dirs, {} symlinks, {} written in {:.1}s",
            id.short(),
            args.target.display(),
            if stats.complete() {
                String::new()
            } else {
                format!(" INCOMPLETE ({} paths not restored)", stats.failed.len())
            },
            stats.files,
            stats.hardlinks + stats.linked,
            stats.dirs,
            stats.symlinks,
            render::bytes(stats.bytes_written),
            duration_ms as f64 / 1000.0
        );
    }
    Ok(ExitCode::from(if stats.complete() {
        EXIT_OK
    } else {
        EXIT_INCOMPLETE
    }))
}
