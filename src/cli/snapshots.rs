//! `mailvault snapshots`: lists snapshots, oldest first.

use std::process::ExitCode;

use clap::Args;

use super::render::{self, Renderer};
use super::{EXIT_OK, Global};

#[derive(Debug, Args)]
pub struct SnapshotsArgs {
    /// Only snapshots carrying this tag (repeatable: every tag given).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Only snapshots of this host.
    #[arg(long)]
    pub host: Option<String>,
    /// Only snapshots of this source (the path as listed).
    #[arg(long)]
    pub source: Option<String>,
}

pub fn run(global: &Global, args: SnapshotsArgs) -> anyhow::Result<ExitCode> {
    let repo = super::open_repo(global)?;
    let (mut snaps, damaged) = repo.snapshots_lenient()?;
    for e in &damaged {
        eprintln!("mailvault: warning: {e}");
    }
    snaps.retain(|(_, s)| {
        args.tags.iter().all(|t| s.has_tag(t))
            && args.host.as_ref().is_none_or(|h| *h == s.host)
            && args.source.as_ref().is_none_or(|src| *src == s.source)
    });
    if global.json {
        let list: Vec<_> = snaps
            .iter()
            .map(|(id, s)| render::snapshot_json(id, s))
            .collect();
        Renderer::new(true).json_line(&serde_json::Value::Array(list));
        return Ok(ExitCode::from(EXIT_OK));
    }
    outln!(
        "{:<8}  {:<20}  {:<4}  {:<10}  {:>8}  {:>8}  {:>10}  {:<16}  source",
        "id",
        "time",
        "kind",
        "result",
        "accounts",
        "messages",
        "added",
        "tags"
    );
    for (id, s) in &snaps {
        outln!(
            "{:<8}  {:<20}  {:<4}  {:<10}  {:>8}  {:>8}  {:>10}  {:<16}  {}:{}",
            id.short(),
            render::rfc3339(s.time_ns),
            s.kind.as_str(),
            if s.complete { "complete" } else { "INCOMPLETE" },
            s.accounts.len(),
            s.stat("messages_total"),
            render::bytes(s.stat("bytes_added")),
            s.tags.join(","),
            s.host,
            s.source
        );
    }
    Ok(ExitCode::from(EXIT_OK))
}
