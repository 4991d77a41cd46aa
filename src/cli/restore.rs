//! `mailvault restore <SNAPSHOT|latest> --target <DIR>`: restores a snapshot's tree.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use mailvault::{RestoreOptions, Tree};
use serde_json::json;

use super::render::{self, Renderer};
use super::{EXIT_OK, Global};

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// `latest`, a snapshot id, or a unique prefix of one (at least 4 hex digits).
    pub snapshot: String,
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
}

pub fn run(global: &Global, args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let repo = mailvault::Repository::open(&super::repo_path(&global.repo)?)?;
    let id = repo.resolve_snapshot(&args.snapshot)?;
    let snap = repo.load_snapshot(&id)?;
    let tree = Tree::load(&repo, &snap.tree)?;
    let out = Renderer::new(global.json);
    let opts = RestoreOptions {
        link: args.link,
        overwrite: args.overwrite,
    };
    let result = mailvault::restore_tree(&repo, &tree, &args.target, &opts, &out);
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
        println!(
            "restored snapshot {} into {}: {} files ({} hardlinked), {} dirs, {} symlinks, {} written in {:.1}s",
            id.short(),
            args.target.display(),
            stats.files,
            stats.hardlinks + stats.linked,
            stats.dirs,
            stats.symlinks,
            render::bytes(stats.bytes_written),
            duration_ms as f64 / 1000.0
        );
    }
    Ok(ExitCode::from(EXIT_OK))
}
