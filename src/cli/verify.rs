//! `mailvault verify <SNAPSHOT>`: every blob the snapshot needs exists and hashes right.

use std::process::ExitCode;

use clap::Args;

use super::render::{self, Renderer};
use super::{EXIT_ERROR, EXIT_OK, Global};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// `latest`, a snapshot id, or a unique prefix; `all` verifies every snapshot.
    pub snapshot: String,
}

pub fn run(global: &Global, args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let repo = mailvault::Repository::open(&super::repo_path(&global.repo)?)?;
    let ids = if args.snapshot == "all" {
        repo.snapshots()?.into_iter().map(|(id, _)| id).collect()
    } else {
        vec![repo.resolve_snapshot(&args.snapshot)?]
    };
    let out = Renderer::new(global.json);
    let mut all_ok = true;
    for id in ids {
        let snap = repo.load_snapshot(&id)?;
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
    Ok(ExitCode::from(if all_ok { EXIT_OK } else { EXIT_ERROR }))
}
