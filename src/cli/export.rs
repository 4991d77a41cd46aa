//! `mailvault export <SNAPSHOT> --account A [--mailbox M ...] --format mbox|maildir --output DIR`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use mailvault::{ExportFormat, ExportOptions};
use serde_json::json;

use super::render::Renderer;
use super::{EXIT_INCOMPLETE, EXIT_OK, Global, SnapshotSelect};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Mbox,
    Maildir,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// `latest`, a snapshot id, or a unique prefix of one.
    pub snapshot: String,
    /// The account whose mailboxes to export.
    #[arg(long)]
    pub account: String,
    /// A mailbox to export (repeatable); all mailboxes of the account when absent.
    #[arg(long = "mailbox")]
    pub mailboxes: Vec<String>,
    #[arg(long, value_enum)]
    pub format: Format,
    /// The directory to write into (created; must be empty): `<mailbox>.mbox` files or one
    /// maildir per mailbox, nested mailboxes as folders.
    #[arg(long)]
    pub output: PathBuf,
    /// Only the message with this UID (repeatable; with one `--mailbox`, the UIDs that `find`
    /// and `ls` show).
    #[arg(long = "uid", value_name = "UID")]
    pub uids: Vec<u32>,
    #[command(flatten)]
    pub filters: super::find::FilterArgs,
    #[command(flatten)]
    pub select: SnapshotSelect,
}

pub fn run(global: &Global, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let repo = super::open_repo(global)?;
    let id = args.select.resolve(&repo, &args.snapshot)?;
    let snap = repo.load_snapshot(&id)?;
    let mut filter = args.filters.filter()?;
    if !args.uids.is_empty() && args.mailboxes.len() != 1 {
        anyhow::bail!("--uid needs exactly one --mailbox: UIDs are numbered per mailbox");
    }
    filter.uids = args.uids;
    let opts = ExportOptions {
        account: args.account,
        mailboxes: args.mailboxes,
        format: match args.format {
            Format::Mbox => ExportFormat::Mbox,
            Format::Maildir => ExportFormat::Maildir,
        },
    };
    let out = Renderer::new(global.json);
    let result = mailvault::export_selected(&repo, &snap, &opts, &filter, &args.output, &out);
    out.finish();
    let summary = result?;
    if global.json {
        let mut v = json!({"type": "summary", "snapshot": id.to_hex()});
        if let serde_json::Value::Object(m) = serde_json::to_value(&summary)? {
            for (k, val) in m {
                v[k] = val;
            }
        }
        out.json_line(&v);
    } else {
        for (mailbox, path) in &summary.outputs {
            outln!("{mailbox} -> {}", path.display());
        }
        outln!(
            "exported {} messages ({}) from {} mailboxes of snapshot {}",
            summary.messages,
            super::render::bytes(summary.bytes),
            summary.mailboxes,
            id.short()
        );
        if !summary.unexported_keywords.is_empty() {
            outln!(
                "incomplete: keywords of {} messages could not be exported (each named above)",
                summary.unexported_keywords.len()
            );
        }
    }
    // Every message was written, but some lost keywords: the export is not the snapshot's mail.
    Ok(ExitCode::from(
        match summary.unexported_keywords.is_empty() {
            true => EXIT_OK,
            false => EXIT_INCOMPLETE,
        },
    ))
}
