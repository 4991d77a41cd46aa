//! `mailvault repair index` and `mailvault migrate`: maintenance under the exclusive lock.

use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::render::Renderer;
use super::{EXIT_INCOMPLETE, EXIT_OK, Global};

#[derive(Debug, Args)]
pub struct RepairArgs {
    #[command(subcommand)]
    pub what: RepairWhat,
}

#[derive(Debug, Subcommand)]
pub enum RepairWhat {
    /// Rebuild the index from the packs and raw objects (every blob read and verified; damaged
    /// ones are left out and stored again by the next backup that meets them).
    Index,
    /// Rewrite snapshots that reference blobs the repository lost: without them, marked
    /// incomplete, naming what was lost (the next backup rescans what they touched).
    Snapshots(SnapshotsArgs),
}

#[derive(Debug, Args)]
pub struct SnapshotsArgs {
    /// The snapshots to repair (default: every snapshot).
    pub snapshots: Vec<String>,
    /// Say what would be left out; write nothing.
    #[arg(long, short = 'n')]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {}

pub fn run_repair(global: &Global, args: RepairArgs) -> anyhow::Result<ExitCode> {
    let args = match args.what {
        RepairWhat::Index => return run_repair_index(global),
        RepairWhat::Snapshots(a) => a,
    };
    let repo = match args.dry_run {
        true => super::open_repo(global)?,
        false => super::open_repo_exclusive(global)?,
    };
    let ids = args
        .snapshots
        .iter()
        .map(|s| repo.resolve_snapshot(s))
        .collect::<Result<Vec<_>, _>>()?;
    let out = Renderer::new(global.json);
    let result = mailvault::repair_snapshots(&repo, &ids, args.dry_run, &out);
    out.finish();
    let repaired = result?;
    if global.json {
        for r in &repaired {
            let mut v = serde_json::to_value(r)?;
            v["type"] = "snapshot".into();
            out.json_line(&v);
        }
        out.json_line(&serde_json::json!({
            "type": "summary",
            "command": "repair snapshots",
            "dry_run": args.dry_run,
            "repaired": repaired.len(),
        }));
    } else {
        for r in &repaired {
            match &r.replaced_by {
                Some(new) => outln!(
                    "snapshot {} replaced by {} (incomplete), {} lost:",
                    &r.snapshot[..8],
                    &new[..8],
                    r.lost.len()
                ),
                None => outln!(
                    "snapshot {} would be replaced, {} lost:",
                    &r.snapshot[..8],
                    r.lost.len()
                ),
            }
            for l in &r.lost {
                outln!("  {l}");
            }
        }
        outln!(
            "{} snapshots {}",
            repaired.len(),
            if args.dry_run {
                "would be repaired"
            } else {
                "repaired"
            }
        );
    }
    Ok(ExitCode::from(EXIT_OK))
}

fn run_repair_index(global: &Global) -> anyhow::Result<ExitCode> {
    let mut repo = super::open_repo_exclusive(global)?;
    let out = Renderer::new(global.json);
    let result = repo.repair_index(&out);
    out.finish();
    let report = result?;
    if global.json {
        let mut v = serde_json::to_value(&report)?;
        v["type"] = "summary".into();
        out.json_line(&v);
    } else {
        outln!(
            "index rebuilt: {} packs read, {} blobs and {} raw objects indexed, {} index files replaced",
            report.packs_read,
            report.blobs_indexed,
            report.raw_objects_indexed,
            report.index_files_replaced
        );
        for d in &report.damaged {
            outln!("  left out: {d}");
        }
    }
    Ok(exit_code(&report.damaged))
}

pub fn run_migrate(global: &Global, _args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let mut repo = super::open_repo_exclusive(global)?;
    let out = Renderer::new(global.json);
    let result = repo.migrate(&out);
    out.finish();
    let report = result?;
    if global.json {
        let mut v = serde_json::to_value(&report)?;
        v["type"] = "summary".into();
        out.json_line(&v);
    } else if report.from_version == report.to_version {
        outln!("repository is already format {}", report.to_version);
    } else {
        outln!(
            "repository converted from format {} to {}: {} blobs packed into {} packs, {} raw objects indexed",
            report.from_version,
            report.to_version,
            report.blobs_packed,
            report.packs_written,
            report.raw_objects_indexed
        );
        for d in &report.damaged {
            outln!("  left out: {d}");
        }
    }
    Ok(exit_code(&report.damaged))
}

/// 0 when nothing was left out, 3 (incomplete) otherwise.
fn exit_code(left_out: &[String]) -> ExitCode {
    ExitCode::from(if left_out.is_empty() {
        EXIT_OK
    } else {
        EXIT_INCOMPLETE
    })
}
