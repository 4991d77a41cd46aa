//! `mailvault prune`: remove what no snapshot references, repack mostly unused packs.

use std::process::ExitCode;

use clap::Args;

use super::render::{self, Renderer};
use super::{EXIT_INCOMPLETE, EXIT_OK, Global};

#[derive(Debug, Args, Clone)]
pub struct PruneArgs {
    /// Say what would be removed and freed; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Repack a pack when more than this share of it is unused (percent, 0-100).
    #[arg(long, value_name = "PERCENT", default_value_t = 10.0)]
    pub max_unused: f64,
    /// Remove packs and raw objects that no index lists (left by interrupted runs) only when
    /// older than this.
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = humantime::parse_duration)]
    pub orphan_margin: std::time::Duration,
}

impl PruneArgs {
    pub fn options(&self) -> anyhow::Result<mailvault::PruneOptions> {
        if !(0.0..=100.0).contains(&self.max_unused) {
            anyhow::bail!(
                "--max-unused {}: give a percentage from 0 to 100",
                self.max_unused
            );
        }
        Ok(mailvault::PruneOptions {
            dry_run: self.dry_run,
            max_unused_percent: self.max_unused,
            orphan_margin: self.orphan_margin,
        })
    }
}

pub fn run(global: &Global, args: PruneArgs) -> anyhow::Result<ExitCode> {
    let opts = args.options()?;
    let mut repo = super::open_repo_exclusive(global)?;
    prune_open(global, &mut repo, &opts)
}

/// Prunes an open repository (also the end of `forget --prune`) and prints the report.
pub fn prune_open(
    global: &Global,
    repo: &mut mailvault::Repository,
    opts: &mailvault::PruneOptions,
) -> anyhow::Result<ExitCode> {
    let out = Renderer::new(global.json);
    let result = mailvault::prune(repo, opts, &out);
    out.finish();
    let report = result?;
    if global.json {
        let mut v = serde_json::to_value(&report)?;
        v["type"] = "summary".into();
        v["command"] = "prune".into();
        v["bytes_freed"] = report.bytes_freed().into();
        out.json_line(&v);
    } else {
        let verb = if report.dry_run {
            "would free"
        } else {
            "freed"
        };
        outln!(
            "{} snapshots use {} blobs; {} packs: {} removed, {} repacked ({} copied), {} kept ({} unused left)",
            report.snapshots,
            report.blobs_used,
            report.packs_total,
            report.packs_removed,
            report.packs_repacked,
            render::bytes(report.bytes_repacked),
            report.packs_kept,
            render::bytes(report.bytes_unused_kept),
        );
        outln!(
            "raw objects removed: {} ({}); orphans removed: {}, left until older than the margin: {}",
            report.raw_removed,
            render::bytes(report.raw_removed_bytes),
            report.orphans_removed,
            report.orphans_young
        );
        if report.missing_packs_dropped > 0 {
            outln!(
                "index entries of {} missing packs dropped",
                report.missing_packs_dropped
            );
        }
        outln!(
            "{verb} {} ({} -> {})",
            render::bytes(report.bytes_freed()),
            render::bytes(report.bytes_before),
            render::bytes(report.bytes_after)
        );
        for d in &report.damaged {
            outln!("  kept, damaged: {d}");
        }
    }
    Ok(ExitCode::from(if report.damaged.is_empty() {
        EXIT_OK
    } else {
        EXIT_INCOMPLETE
    }))
}
