//! `mailvault snapshots`: lists snapshots, oldest first.

use std::process::ExitCode;

use clap::Args;

use super::render::{self, Renderer};
use super::{EXIT_OK, Global};

#[derive(Debug, Args)]
pub struct SnapshotsArgs {}

pub fn run(global: &Global, _args: SnapshotsArgs) -> anyhow::Result<ExitCode> {
    let repo = super::open_repo(global)?;
    let (snaps, damaged) = repo.snapshots_lenient()?;
    for e in &damaged {
        eprintln!("mailvault: warning: {e}");
    }
    if global.json {
        let list: Vec<_> = snaps
            .iter()
            .map(|(id, s)| render::snapshot_json(id, s))
            .collect();
        Renderer::new(true).json_line(&serde_json::Value::Array(list));
        return Ok(ExitCode::from(EXIT_OK));
    }
    outln!(
        "{:<8}  {:<20}  {:<4}  {:<10}  {:>8}  {:>8}  {:>10}  source",
        "id",
        "time",
        "kind",
        "result",
        "accounts",
        "messages",
        "added"
    );
    for (id, s) in &snaps {
        outln!(
            "{:<8}  {:<20}  {:<4}  {:<10}  {:>8}  {:>8}  {:>10}  {}:{}",
            id.short(),
            render::rfc3339(s.time_ns),
            s.kind.as_str(),
            if s.complete { "complete" } else { "INCOMPLETE" },
            s.accounts.len(),
            s.stat("messages_total"),
            render::bytes(s.stat("bytes_added")),
            s.host,
            s.source
        );
    }
    Ok(ExitCode::from(EXIT_OK))
}
