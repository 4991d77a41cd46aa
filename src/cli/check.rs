//! `mailvault check`: the repository's structure and, with --read-data, its content.

use std::process::ExitCode;

use clap::Args;

use super::render::{self, Renderer};
use super::{EXIT_DAMAGED, EXIT_OK, Global};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Also read every pack and raw object and verify every blob.
    #[arg(long, conflicts_with = "read_data_subset")]
    pub read_data: bool,
    /// Read part N of M (`2/7`: run 1/7 .. 7/7 on seven nights) or a random P% (`10%`).
    #[arg(long, value_name = "N/M|P%", value_parser = parse_subset)]
    pub read_data_subset: Option<mailvault::ReadData>,
}

fn parse_subset(s: &str) -> Result<mailvault::ReadData, String> {
    mailvault::ReadData::parse_subset(s)
}

pub fn run(global: &Global, args: CheckArgs) -> anyhow::Result<ExitCode> {
    let repo = super::open_repo(global)?;
    let read_data = match (args.read_data, args.read_data_subset) {
        (true, _) => mailvault::ReadData::All,
        (false, Some(s)) => s,
        (false, None) => mailvault::ReadData::None,
    };
    let out = Renderer::new(global.json);
    let result = mailvault::check(&repo, &mailvault::CheckOptions { read_data }, &out);
    out.finish();
    let report = result?;
    if global.json {
        for p in &report.problems {
            let mut v = serde_json::to_value(p)?;
            v["type"] = "problem".into();
            v["kind"] = p.kind.into();
            out.json_line(&v);
        }
        for u in &report.uses {
            let mut v = serde_json::to_value(u)?;
            v["type"] = "use".into();
            out.json_line(&v);
        }
        for w in &report.warnings {
            out.json_line(&serde_json::json!({"type": "warning", "message": w}));
        }
        let mut v = serde_json::to_value(&report)?;
        if let Some(m) = v.as_object_mut() {
            m.remove("problems");
            m.remove("uses");
            m.remove("warnings");
        }
        v["type"] = "summary".into();
        v["command"] = "check".into();
        v["problems"] = report.problems.len().into();
        v["ok"] = report.ok().into();
        out.json_line(&v);
    } else {
        for p in &report.problems {
            outln!("problem ({}): {}", p.kind, p.message);
        }
        if !report.uses.is_empty() {
            outln!("used by:");
            for u in &report.uses {
                outln!(
                    "  snapshot {}: {} (blob {})",
                    &u.snapshot[..12],
                    u.what,
                    &u.blob[..12]
                );
            }
        }
        for w in &report.warnings {
            outln!("warning: {w}");
        }
        outln!(
            "{} snapshots, {} index files, {} packs, {} raw objects, {} blobs referenced; read {} packs and {} raw objects ({}): {}",
            report.snapshots,
            report.index_files,
            report.packs,
            report.raw_objects,
            report.blobs_referenced,
            report.packs_read,
            report.raw_objects_read,
            render::bytes(report.bytes_read),
            if report.ok() {
                "no problems".to_string()
            } else {
                format!("{} PROBLEMS", report.problems.len())
            }
        );
    }
    Ok(ExitCode::from(if report.ok() {
        EXIT_OK
    } else {
        EXIT_DAMAGED
    }))
}
