//! `mailvault inspect <SOURCE>`: accounts, mailboxes, messages, queue and databases of a mox
//! installation, read from consistent copies of its databases.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use mailvault::mox::{InspectReport, Source, inspect};

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A mox.conf, a directory holding config/mox.conf, or a mox data directory.
    pub source: PathBuf,
    /// List every message record (tombstones included).
    #[arg(long)]
    pub messages: bool,
}

pub fn run(args: InspectArgs, json: bool) -> anyhow::Result<ExitCode> {
    let source = Source::locate(&args.source)?;
    let report = inspect(&source, args.messages)?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_human(&report);
    }
    Ok(ExitCode::from(super::EXIT_OK))
}

fn print_human(r: &InspectReport) {
    if let Some(c) = &r.config_dir {
        outln!("config:  {c}");
    }
    outln!("data:    {}", r.data_dir);
    for a in &r.accounts {
        outln!();
        if !a.has_database {
            outln!("account {} (no database yet)", a.name);
            continue;
        }
        outln!(
            "account {}: last modseq {}, {} messages live, {} records, {} awaiting erasure",
            a.name,
            a.last_modseq,
            a.live_messages,
            a.message_records,
            a.message_erase
        );
        outln!(
            "  {:>4}  {:<28} {:>8} {:>8} {:>9} {:>12}",
            "id",
            "mailbox",
            "modseq",
            "messages",
            "expunged",
            "size"
        );
        for m in &a.mailboxes {
            let name = if m.expunged {
                format!("{} (deleted)", m.name)
            } else {
                m.name.clone()
            };
            outln!(
                "  {:>4}  {:<28} {:>8} {:>8} {:>9} {:>12}",
                m.id,
                name,
                m.modseq,
                m.messages,
                m.expunged_records,
                m.size
            );
        }
        if let Some(msgs) = &a.messages {
            outln!(
                "  {:>8} {:>6} {:>8} {:>8} {:>10}  path",
                "id",
                "mbox",
                "uid",
                "modseq",
                "size"
            );
            for m in msgs {
                outln!(
                    "  {:>8} {:>6} {:>8} {:>8} {:>10}  {}",
                    m.id,
                    m.mailbox_id,
                    m.uid,
                    m.modseq,
                    m.size,
                    m.path.as_deref().unwrap_or("(expunged)")
                );
            }
        }
    }
    outln!();
    outln!("queue: {} messages", r.queue.len());
    for q in &r.queue {
        outln!(
            "  {:>6} base {:>6} {:>10} bytes  {}  {} -> {}{}",
            q.id,
            q.base_id,
            q.size,
            q.path,
            q.sender,
            q.recipient,
            if q.hold { " (held)" } else { "" }
        );
    }
    outln!();
    outln!("databases:");
    for d in &r.databases {
        outln!(
            "  {:<32} {:>6} pages of {} bytes, txid {}",
            d.path,
            d.pages,
            d.page_size,
            d.txid
        );
    }
}
