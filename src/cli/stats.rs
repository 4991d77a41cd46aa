//! `mailvault stats`: repository size, deduplication, bytes per snapshot and per account.

use std::process::ExitCode;

use clap::Args;

use super::render::{self, Renderer};
use super::{EXIT_OK, Global};

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// The snapshot whose accounts are listed (default: the newest mox snapshot).
    pub snapshot: Option<String>,
}

pub fn run(global: &Global, args: StatsArgs) -> anyhow::Result<ExitCode> {
    let repo = super::open_repo(global)?;
    let pick = match &args.snapshot {
        Some(s) => Some(repo.resolve_snapshot(s)?),
        None => None,
    };
    let st = mailvault::stats(&repo, pick.as_ref())?;
    if global.json {
        let mut v = serde_json::to_value(&st)?;
        v["type"] = "summary".into();
        v["command"] = "stats".into();
        Renderer::new(true).json_line(&v);
        return Ok(ExitCode::from(EXIT_OK));
    }
    outln!("snapshots:        {}", st.snapshots);
    outln!(
        "packs:            {} ({})",
        st.packs,
        render::bytes(st.pack_bytes)
    );
    outln!(
        "raw objects:      {} ({}), of which hardlinked with the mail server: {} ({})",
        st.raw_objects,
        render::bytes(st.raw_bytes),
        st.raw_linked,
        render::bytes(st.raw_linked_bytes)
    );
    outln!(
        "stored:           {} (packs and raw objects not shared with the server)",
        render::bytes(st.stored_bytes)
    );
    outln!(
        "blobs:            {} ({} of content)",
        st.blobs,
        render::bytes(st.blob_bytes)
    );
    outln!(
        "all snapshots:    {} restored in total; deduplication and compression: {:.1}x",
        render::bytes(st.logical_bytes),
        st.dedup_ratio
    );
    outln!();
    outln!(
        "{:<10}  {:<20}  {:>9}  {:>11}  {:>11}  source",
        "snapshot",
        "time",
        "messages",
        "size",
        "added"
    );
    for s in &st.per_snapshot {
        outln!(
            "{:<10}  {:<20}  {:>9}  {:>11}  {:>11}  {}",
            &s.id[..8],
            render::rfc3339(s.time_ns),
            s.messages,
            render::bytes(s.logical_bytes),
            render::bytes(s.bytes_added),
            s.source
        );
    }
    if let Some(of) = &st.accounts_of {
        outln!();
        outln!("accounts of snapshot {}:", &of[..8]);
        outln!(
            "{:<24}  {:>9}  {:>9}  {:>11}  {:>11}  {:>11}",
            "account",
            "mailboxes",
            "messages",
            "messages",
            "distinct",
            "database"
        );
        for a in &st.per_account {
            outln!(
                "{:<24}  {:>9}  {:>9}  {:>11}  {:>11}  {:>11}",
                a.account,
                a.mailboxes,
                a.messages,
                render::bytes(a.message_bytes),
                render::bytes(a.unique_message_bytes),
                render::bytes(a.database_bytes)
            );
        }
    }
    Ok(ExitCode::from(EXIT_OK))
}
