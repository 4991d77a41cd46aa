//! `mailvault tag`: changes the tags of snapshots. Each changed snapshot is written again (a
//! new id, `original` naming the first one) and its old file removed.

use std::process::ExitCode;

use clap::Args;
use mailvault::TagChange;
use serde_json::json;

use super::render::Renderer;
use super::{EXIT_OK, Global};

#[derive(Debug, Args)]
pub struct TagArgs {
    /// The snapshots to change: `latest`, ids or unique prefixes.
    #[arg(required = true)]
    pub snapshots: Vec<String>,
    /// Add this tag (repeatable).
    #[arg(long, value_name = "TAG")]
    pub add: Vec<String>,
    /// Remove this tag (repeatable).
    #[arg(long, value_name = "TAG")]
    pub remove: Vec<String>,
    /// Replace every tag by these (repeatable); `--set ''` removes every tag. Applied before
    /// --add and --remove.
    #[arg(long, value_name = "TAG")]
    pub set: Option<Vec<String>>,
}

pub fn run(global: &Global, args: TagArgs) -> anyhow::Result<ExitCode> {
    let change = TagChange {
        set: args
            .set
            .map(|tags| tags.into_iter().filter(|t| !t.is_empty()).collect()),
        add: args.add,
        remove: args.remove,
    };
    if change.is_empty() {
        anyhow::bail!("no tag change given: use --add, --remove or --set");
    }
    // Bad tags are refused before the repository is locked.
    change.apply(&[])?;
    let repo = super::open_repo_exclusive(global)?;
    repo.ensure_writable()?;
    // Every name is resolved before anything changes: a typo changes nothing.
    let mut ids = Vec::new();
    for spec in &args.snapshots {
        let id = repo.resolve_snapshot(spec)?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let out = Renderer::new(global.json);
    let mut changed = 0u64;
    for id in &ids {
        let r = mailvault::retag(&repo, id, &change)?;
        changed += u64::from(r.changed);
        if global.json {
            out.json_line(&json!({
                "type": "snapshot",
                "id": r.old.to_hex(),
                "new_id": r.new.to_hex(),
                "changed": r.changed,
                "tags": r.tags,
            }));
        } else if r.changed {
            outln!(
                "{} -> {}  tags: {}",
                r.old.short(),
                r.new.short(),
                r.tags.join(", ")
            );
        } else {
            outln!("{} unchanged  tags: {}", r.old.short(), r.tags.join(", "));
        }
    }
    if global.json {
        out.json_line(&json!({
            "type": "summary",
            "changed": changed,
            "unchanged": ids.len() as u64 - changed,
        }));
    }
    Ok(ExitCode::from(EXIT_OK))
}
