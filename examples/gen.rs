//! Generates a mox data directory, or applies a night to one.
//!
//! ```text
//! cargo run --release --example gen -- --accounts 20 --messages 5000 --seed 1 --out DIR
//! cargo run --release --example gen -- --out DIR --mutate 1
//! ```
//! `--json` prints the full report (every message record and file) instead of a summary;
//! `--only-deliver N` makes the night exactly N new messages in the first account.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use mailvault::mox::generator::{GenOptions, MutateOptions, generate, mutate};

fn main() -> anyhow::Result<()> {
    let mut opts = GenOptions::default();
    let mut out: Option<PathBuf> = None;
    let mut night: Option<f64> = None;
    let mut only_deliver: Option<usize> = None;
    let mut json = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--accounts" => opts.accounts = val()?.parse()?,
            "--messages" => opts.messages = val()?.parse()?,
            "--seed" => opts.seed = val()?.parse()?,
            "--shared" => opts.shared_percent = val()?.parse()?,
            "--attachments" => opts.attachment_percent = val()?.parse()?,
            "--queue" => opts.queue = val()?.parse()?,
            "--out" => out = Some(PathBuf::from(val()?)),
            "--mutate" => night = Some(val()?.parse()?),
            "--only-deliver" => only_deliver = Some(val()?.parse()?),
            "--json" => json = true,
            "-h" | "--help" => {
                println!(
                    "usage: gen --accounts N --messages M --seed S --out DIR [--mutate PCT] [--json]\n\
                     \x20      [--shared PCT] [--attachments PCT] [--queue N] [--only-deliver N]\n\
                     Without --mutate, writes DIR/config and DIR/data; with it, applies a night\n\
                     (PCT % new messages per account, flag changes, an expunge, a move) to DIR;\n\
                     --only-deliver N: exactly N new messages in the first account, nothing else."
                );
                return Ok(());
            }
            other => bail!("unknown argument {other:?} (try --help)"),
        }
    }
    let out = out.context("--out DIR is required")?;
    // Only the JSON report needs every message record and every file.
    opts.detailed_report = json;
    if only_deliver.is_some() && night.is_none() {
        night = Some(0.0);
    }
    let start = Instant::now();
    if let Some(percent) = night {
        let r = mutate(
            &out,
            &MutateOptions {
                percent,
                seed: opts.seed,
                only_deliver,
                detailed_report: json,
                ..MutateOptions::default()
            },
        )?;
        let secs = start.elapsed().as_secs_f64();
        if json {
            println!("{}", serde_json::to_string_pretty(&r)?);
            return Ok(());
        }
        for a in &r.accounts {
            let boxes: Vec<String> = a
                .changed_mailboxes
                .iter()
                .map(|m| format!("{} {}→{}", m.name, m.mod_seq_before, m.mod_seq_after))
                .collect();
            println!(
                "{}: +{} delivered, {} flag changes, {} expunged, {} moved; modseq {}→{}; {}",
                a.name,
                a.delivered.len(),
                a.flags_changed.len(),
                a.expunged.len(),
                a.moved.len(),
                a.last_modseq_before,
                a.after.last_modseq,
                boxes.join(", ")
            );
        }
        println!(
            "night applied in {secs:.2} s: {} files added, {} removed, {} changed in place; {} databases updated, {} restarted; queue -{}",
            r.files_added.len(),
            r.files_removed.len(),
            r.files_changed.len(),
            r.databases_rewritten.len(),
            r.databases_restarted.len(),
            r.queue_removed.len()
        );
        return Ok(());
    }
    let r = generate(&opts, &out)?;
    let secs = start.elapsed().as_secs_f64();
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    let t = &r.totals;
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    println!("generated {} in {secs:.2} s", out.display());
    println!(
        "  {} accounts, {} mailboxes, {} live messages ({} records with tombstones), {} queued",
        t.accounts,
        t.mailboxes,
        t.live_messages,
        t.message_records,
        r.queue.len()
    );
    println!(
        "  message files: {} paths, {:.1} MiB; {} distinct, {:.1} MiB (hardlinks)",
        t.message_files,
        mib(t.message_bytes),
        t.distinct_message_files,
        mib(t.distinct_message_bytes)
    );
    println!(
        "  databases: {:.1} MiB; data dir on disk: {:.1} MiB in {} files",
        mib(t.database_bytes),
        mib(t.data_bytes),
        t.files
    );
    Ok(())
}
