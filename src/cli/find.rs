//! `mailvault find [--at SNAPSHOT] [filters]`: messages by account, mailbox, sender, recipient,
//! subject, Message-ID and received time, in one snapshot or all of them.

use std::process::ExitCode;

use clap::Args;
use mailvault::{FoundMessage, MessageFilter};
use serde_json::json;

use super::render::{self, Renderer};
use super::{EXIT_INCOMPLETE, EXIT_OK, Global, SnapshotSelect};

/// The message filters `find` and `export` share.
#[derive(Debug, Clone, Args)]
pub struct FilterArgs {
    /// Messages whose From (name or address) contains this, any letter case.
    #[arg(long)]
    pub from: Option<String>,
    /// Messages whose To or Cc (name or address) contains this, any letter case.
    #[arg(long)]
    pub to: Option<String>,
    /// Messages whose subject contains this, any letter case.
    #[arg(long)]
    pub subject: Option<String>,
    /// The message with this Message-ID (with or without angle brackets).
    #[arg(long)]
    pub message_id: Option<String>,
    /// Received at or after this time: RFC 3339 (2026-03-01T08:00:00+01:00) or a date
    /// (2026-03-01, from its start, UTC).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Received at or before this time: RFC 3339, or a date (2026-03-31, to its end, UTC).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
}

impl FilterArgs {
    /// The library filter (account, mailbox and UIDs left empty).
    pub fn filter(&self) -> anyhow::Result<MessageFilter> {
        let bound = |text: &Option<String>, option: &str, end: bool| {
            text.as_deref()
                .map(|t| {
                    mailvault::parse_time_bound(t, end).ok_or_else(|| {
                        anyhow::anyhow!(
                            "{option} {t:?}: not a date (2026-03-01) or an RFC 3339 time \
                             (2026-03-01T08:00:00Z)"
                        )
                    })
                })
                .transpose()
        };
        Ok(MessageFilter {
            from: self.from.clone(),
            to: self.to.clone(),
            subject: self.subject.clone(),
            message_id: self.message_id.clone(),
            since_ns: bound(&self.since, "--since", false)?,
            until_ns: bound(&self.until, "--until", true)?,
            ..Default::default()
        })
    }
}

#[derive(Debug, Args)]
pub struct FindArgs {
    /// Search this snapshot only (`latest`, an id or a unique prefix); default: every snapshot.
    #[arg(long, value_name = "SNAPSHOT")]
    pub at: Option<String>,
    /// Only this account.
    #[arg(long)]
    pub account: Option<String>,
    /// Only this mailbox (`INBOX` in any letter case).
    #[arg(long)]
    pub mailbox: Option<String>,
    #[command(flatten)]
    pub filters: FilterArgs,
    #[command(flatten)]
    pub select: SnapshotSelect,
}

pub fn run(global: &Global, args: FindArgs) -> anyhow::Result<ExitCode> {
    let repo = super::open_repo(global)?;
    let mut filter = args.filters.filter()?;
    filter.account = args.account.clone();
    filter.mailbox = args.mailbox.clone();
    let snapshots = match &args.at {
        Some(spec) => {
            let id = args.select.resolve(&repo, spec)?;
            vec![(id, repo.load_snapshot(&id)?)]
        }
        None => {
            let (list, unreadable) = repo.snapshots_lenient()?;
            for e in &unreadable {
                eprintln!("mailvault: warning: snapshot file cannot be read, not searched: {e}");
            }
            args.select.filter().apply(list)
        }
    };
    let out = Renderer::new(global.json);
    if !global.json {
        outln!(
            "{:<8}  {:<20}  {:<10}  {:<14}  {:>6}  {:<20}  {:<28}  {:<40}  {:>9}",
            "snapshot",
            "time",
            "account",
            "mailbox",
            "uid",
            "date",
            "from",
            "subject",
            "size"
        );
    }
    let mut finder = mailvault::Finder::new(&repo);
    for (id, snap) in &snapshots {
        finder.search(id, snap, &filter, &out, &mut |m| {
            print_match(global, &out, &m)
        })?;
    }
    out.finish();
    let stats = finder.stats;
    if global.json {
        let mut v = serde_json::to_value(&stats)?;
        v["type"] = "summary".into();
        out.json_line(&v);
    } else {
        outln!(
            "{} messages in {} snapshots",
            stats.matches,
            stats.snapshots
        );
    }
    Ok(ExitCode::from(match stats.problems {
        0 => EXIT_OK,
        _ => EXIT_INCOMPLETE,
    }))
}

/// The date of a message as shown: its `Date:` in UTC when it parses, as written otherwise.
pub fn shown_date(m: &FoundMessage) -> String {
    match m.header.date.as_deref() {
        Some(d) => match mailvault::mox::parse_rfc3339(d) {
            Some(ns) => render::rfc3339(ns),
            None => d.to_string(),
        },
        None => "-".into(),
    }
}

/// `text` cut to `width` characters (an ellipsis marks the cut).
pub fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// One message as a JSON object (`find`, `ls`, `diff`).
pub fn message_json(m: &FoundMessage) -> serde_json::Value {
    json!({
        "snapshot": m.snapshot.to_hex(),
        "time": render::rfc3339(m.snapshot_time_ns),
        "account": m.account,
        "mailbox": m.mailbox,
        "uid": m.uid,
        "id": m.id,
        "received": m.received_ns.map(mailvault::mox::rfc3339_nanos),
        "date": m.header.date,
        "from": m.header.from,
        "to": m.header.to,
        "subject": m.header.subject,
        "message_id": m.header.message_id,
        "size": m.size,
    })
}

fn print_match(global: &Global, out: &Renderer, m: &FoundMessage) {
    if global.json {
        let mut v = message_json(m);
        v["type"] = "message".into();
        out.json_line(&v);
        return;
    }
    outln!(
        "{:<8}  {:<20}  {:<10}  {:<14}  {:>6}  {:<20}  {:<28}  {:<40}  {:>9}",
        m.snapshot.short(),
        render::rfc3339(m.snapshot_time_ns),
        cut(&m.account, 10),
        cut(&m.mailbox, 14),
        m.uid,
        shown_date(m),
        cut(&m.header.from, 28),
        cut(&m.header.subject, 40),
        m.size
    );
}
