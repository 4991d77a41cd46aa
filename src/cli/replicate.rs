//! `mailvault replicate --to <DIR>`: copies the snapshots another repository lacks.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::render::{self, Renderer};
use super::{EXIT_ERROR, EXIT_INCOMPLETE, EXIT_OK, Global};

#[derive(Debug, Args)]
pub struct ReplicateArgs {
    /// The target repository: a directory (created when missing or empty) or
    /// `s3://BUCKET/PREFIX` (initialised when it holds no repository).
    #[arg(long)]
    pub to: PathBuf,
}

pub fn run(global: &Global, args: ReplicateArgs) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let to = args.to.display().to_string();
    let result = replicate(global, args);
    let copied = result.as_ref().ok().map(|(_, n, _)| *n);
    super::metrics::record(
        global,
        &super::metrics::RunMetrics {
            command: "replicate".into(),
            source: to,
            // A snapshot not copied (a damaged blob) is a failure to watch.
            success: result.as_ref().is_ok_and(|(_, _, ok)| *ok),
            duration_secs: started.elapsed().as_secs_f64(),
            values: copied
                .map(|n| vec![("mailvault_snapshots_copied", n as f64)])
                .unwrap_or_default(),
        },
    );
    result.map(|(code, _, _)| code)
}

/// Runs the replication: exit code, snapshots copied, and whether every snapshot was copied.
fn replicate(global: &Global, args: ReplicateArgs) -> anyhow::Result<(ExitCode, u64, bool)> {
    let source = super::open_repo(global)?;
    let target = match super::remote_spec(&Some(args.to.clone())) {
        Some(url) => match mailvault::Repository::open_spec_unlocked(
            &url,
            mailvault::LockMode::Shared,
            global.lock_wait,
            &global.unlock,
        ) {
            Ok(r) => r,
            Err(mailvault::Error::Invalid(m)) if m.contains("no config file") => {
                mailvault::Repository::init_url(&url)?
            }
            Err(e) => return Err(e.into()),
        },
        None => {
            let empty = match std::fs::read_dir(&args.to) {
                Ok(mut entries) => entries.next().is_none(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
                Err(e) => anyhow::bail!("{}: {e}", args.to.display()),
            };
            if empty {
                mailvault::Repository::init(&args.to)?
            } else {
                mailvault::Repository::open_unlocked(
                    &args.to,
                    mailvault::LockMode::Shared,
                    global.lock_wait,
                    &global.unlock,
                )?
            }
        }
    };
    let out = Renderer::new(global.json);
    let result = mailvault::replicate(&source, &target, &out);
    out.finish();
    let summary = result?;
    if global.json {
        let mut v = serde_json::to_value(&summary)?;
        v["type"] = "summary".into();
        v["complete"] = summary.complete().into();
        out.json_line(&v);
    } else {
        outln!(
            "replicated to {}: {} snapshots copied ({} already there), {} blobs copied ({}), {} already there",
            args.to.display(),
            summary.snapshots_copied,
            summary.snapshots_present,
            summary.blobs_copied,
            render::bytes(summary.bytes_copied),
            summary.blobs_present
        );
        if let Some(t) = &summary.transfer {
            outln!(
                "  {} packs, {} requests, {} sent, {} received, in {:.1} s",
                summary.packs_written,
                t.requests,
                render::bytes(t.bytes_sent),
                render::bytes(t.bytes_received),
                summary.duration_ms as f64 / 1000.0
            );
        }
        for s in &summary.skipped {
            outln!("  NOT copied: snapshot {}:", &s.snapshot[..8]);
            for d in &s.damaged {
                outln!("    {} ({}): {}", d.id, d.used_by, d.error);
            }
        }
        for u in &summary.unreadable {
            outln!("  NOT copied: unreadable snapshot file: {}", u.error);
        }
    }
    let code = ExitCode::from(if !summary.skipped.is_empty() {
        EXIT_ERROR
    } else if !summary.unreadable.is_empty() {
        EXIT_INCOMPLETE
    } else {
        EXIT_OK
    });
    Ok((code, summary.snapshots_copied, summary.skipped.is_empty()))
}
