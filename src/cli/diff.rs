//! `mailvault diff <SNAPSHOT_A> <SNAPSHOT_B>`: what changed in the mail between two snapshots.

use std::process::ExitCode;

use clap::Args;

use super::render::Renderer;
use super::{EXIT_OK, Global, SnapshotSelect};

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier snapshot (`latest`, an id or a unique prefix).
    pub a: String,
    /// The later snapshot.
    pub b: String,
    /// Also list mailboxes that did not change.
    #[arg(long)]
    pub all: bool,
    /// Counts only: do not list the added, removed and moved messages.
    #[arg(long)]
    pub counts: bool,
    #[command(flatten)]
    pub select: SnapshotSelect,
}

pub fn run(global: &Global, args: DiffArgs) -> anyhow::Result<ExitCode> {
    let repo = super::open_repo(global)?;
    let a_id = args.select.resolve(&repo, &args.a)?;
    let b_id = args.select.resolve(&repo, &args.b)?;
    let a = repo.load_snapshot(&a_id)?;
    let b = repo.load_snapshot(&b_id)?;
    let mut diff = mailvault::diff(&repo, &a, &b)?;
    if !args.counts {
        let out = Renderer::new(global.json);
        mailvault::describe_changes(&repo, (&a_id, &a), (&b_id, &b), &mut diff, &out)?;
        out.finish();
    }
    if global.json {
        let mut v = serde_json::to_value(&diff)?;
        v["type"] = "diff".into();
        Renderer::new(true).json_line(&v);
        return Ok(ExitCode::from(EXIT_OK));
    }
    for account in &diff.accounts {
        outln!(
            "{} ({}, modseq {} -> {})",
            account.account,
            account.status,
            opt(account.last_modseq_before),
            opt(account.last_modseq_after)
        );
        for m in &account.mailboxes {
            if !m.changed && !args.all {
                continue;
            }
            let mut parts = Vec::new();
            for (n, what) in [
                (m.added.len(), "added"),
                (m.removed.len(), "removed"),
                (m.moved_in.len(), "moved in"),
                (m.moved_out.len(), "moved out"),
                (m.changed_messages.len(), "flags changed"),
            ] {
                if n > 0 {
                    parts.push(format!("{n} {what}"));
                }
            }
            outln!(
                "  {:<24} modseq {} -> {}, messages {} -> {}{}{}",
                m.name,
                opt(m.modseq_before),
                opt(m.modseq_after),
                m.messages_before,
                m.messages_after,
                if parts.is_empty() { "" } else { ": " },
                parts.join(", ")
            );
            for msg in &m.messages {
                let mark = match msg.change {
                    "added" => "+",
                    "removed" => "-",
                    "moved_in" => ">",
                    _ => "<",
                };
                let date = msg
                    .date
                    .as_deref()
                    .map(|d| match mailvault::mox::parse_rfc3339(d) {
                        Some(ns) => super::render::rfc3339(ns),
                        None => d.to_string(),
                    })
                    .unwrap_or_else(|| "-".into());
                outln!(
                    "    {mark} uid {:<6} {:<20}  {:<28}  {}",
                    msg.uid,
                    date,
                    super::find::cut(&msg.from, 28),
                    msg.subject
                );
            }
        }
    }
    Ok(ExitCode::from(EXIT_OK))
}

fn opt(v: Option<i64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}
