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
}

#[derive(Debug, Args)]
pub struct MigrateArgs {}

pub fn run_repair(global: &Global, args: RepairArgs) -> anyhow::Result<ExitCode> {
    let RepairWhat::Index = args.what;
    let mut repo = mailvault::Repository::open_exclusive(&super::repo_path(&global.repo)?)?;
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
    let mut repo = mailvault::Repository::open_exclusive(&super::repo_path(&global.repo)?)?;
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
