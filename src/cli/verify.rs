//! `mailvault verify <SNAPSHOT>`: every blob the snapshot needs exists and hashes right.

use std::process::ExitCode;

use clap::Args;

use super::render::{self, Renderer};
use super::{EXIT_ERROR, EXIT_INCOMPLETE, EXIT_OK, Global, SnapshotSelect};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// `latest`, a snapshot id, or a unique prefix; `all` (the default) verifies every snapshot
    /// (of `--host` and `--source` when given).
    pub snapshot: Option<String>,
    #[command(flatten)]
    pub select: SnapshotSelect,
}

pub fn run(global: &Global, args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let repo = super::open_repo(global)?;
    let out = Renderer::new(global.json);
    // A snapshot file that cannot be read is named; every other snapshot is still verified.
    let spec = args.snapshot.as_deref().unwrap_or("all");
    let (snapshots, unreadable) = if spec == "all" {
        let (list, unreadable) = repo.snapshots_lenient()?;
        (args.select.filter().apply(list), unreadable)
    } else {
        let id = args.select.resolve(&repo, spec)?;
        (vec![(id, repo.load_snapshot(&id)?)], Vec::new())
    };
    for e in &unreadable {
        let message = format!("snapshot file cannot be read, not verified: {e}");
        if global.json {
            out.json_line(&serde_json::json!({
                "type": "problem",
                "path": e.path(),
                "message": message,
            }));
        } else {
            eprintln!("problem: {message}");
        }
    }
    let mut all_ok = true;
    for (id, snap) in snapshots {
        let result = mailvault::verify(&repo, &snap, &out);
        out.finish();
        let report = result?;
        all_ok &= report.ok();
        if global.json {
            let mut v = serde_json::to_value(&report)?;
            v["type"] = "summary".into();
            v["snapshot"] = id.to_hex().into();
            v["ok"] = report.ok().into();
            out.json_line(&v);
        } else {
            outln!(
                "snapshot {}: {} blobs, {} verified: {}",
                id.short(),
                report.blobs,
                render::bytes(report.bytes),
                if report.ok() { "ok" } else { "DAMAGED" }
            );
            for d in &report.damaged {
                outln!("  {} ({}): {}", d.id, d.used_by, d.error);
            }
        }
    }
    Ok(ExitCode::from(if !all_ok {
        EXIT_ERROR
    } else if !unreadable.is_empty() {
        EXIT_INCOMPLETE
    } else {
        EXIT_OK
    }))
}
