//! `mailvault ls <SNAPSHOT>`: lists the entries of a snapshot's tree.

use std::process::ExitCode;

use clap::Args;
use mailvault::{EntryKind, Tree};
use serde_json::json;

use super::render::{self, Renderer};
use super::{EXIT_OK, Global};

#[derive(Debug, Args)]
pub struct LsArgs {
    /// `latest`, a snapshot id, or a unique prefix of one (at least 4 hex digits).
    pub snapshot: String,
}

fn mode_string(kind: EntryKind, mode: u32) -> String {
    let mut s = String::with_capacity(10);
    s.push(match kind {
        EntryKind::Dir => 'd',
        EntryKind::Symlink => 'l',
        EntryKind::File => '-',
    });
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    s
}

pub fn run(global: &Global, args: LsArgs) -> anyhow::Result<ExitCode> {
    let repo = super::open_repo(global)?;
    let id = repo.resolve_snapshot(&args.snapshot)?;
    let snap = repo.load_snapshot(&id)?;
    let tree = Tree::load(&repo, &snap.tree)?;
    let out = Renderer::new(global.json);
    for e in &tree.entries {
        if global.json {
            out.json_line(&json!({
                "type": "entry",
                "path": e.path,
                "kind": format!("{:?}", e.kind).to_lowercase(),
                "mode": e.mode,
                "size": e.size,
                "mtime": render::rfc3339(e.mtime_ns),
                "uid": e.uid,
                "gid": e.gid,
                "link_group": e.link_group,
                "chunks": e.chunks.len(),
                "target": e.target,
            }));
        } else {
            let target = e
                .target
                .as_deref()
                .map(|t| format!(" -> {t}"))
                .unwrap_or_default();
            outln!(
                "{} {:>5}:{:<5} {:>10}  {}  {}{}",
                mode_string(e.kind, e.mode),
                e.uid,
                e.gid,
                e.size,
                render::rfc3339(e.mtime_ns),
                e.path,
                target
            );
        }
    }
    for a in &snap.accounts {
        if global.json {
            out.json_line(
                &json!({"type": "account", "name": a.name, "manifest": a.manifest.to_hex()}),
            );
        } else {
            outln!("account {} (manifest {})", a.name, a.manifest.short());
        }
    }
    Ok(ExitCode::from(EXIT_OK))
}
