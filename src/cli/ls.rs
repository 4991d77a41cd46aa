//! `mailvault ls <SNAPSHOT> [ACCOUNT[/MAILBOX]]`: the mail of a mox snapshot (accounts, the
//! mailboxes of one, the messages of one), or the entries of a snapshot's tree (`--files`, and
//! always for a plain tree).

use std::process::ExitCode;

use clap::Args;
use mailvault::{EntryKind, Snapshot, SourceKind, Tree};
use serde_json::json;

use super::render::{self, Renderer};
use super::{EXIT_OK, Global, SnapshotSelect};

#[derive(Debug, Args)]
pub struct LsArgs {
    /// `latest`, a snapshot id, or a unique prefix of one (at least 4 hex digits).
    pub snapshot: String,
    /// An account (its mailboxes), or ACCOUNT/MAILBOX (its messages); a mox snapshot only.
    #[arg(conflicts_with = "files")]
    pub path: Option<String>,
    /// List the files of the snapshot's tree (databases, configuration) and the accounts'
    /// manifests, as for a plain tree.
    #[arg(long)]
    pub files: bool,
    #[command(flatten)]
    pub select: SnapshotSelect,
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
    let id = args.select.resolve(&repo, &args.snapshot)?;
    let snap = repo.load_snapshot(&id)?;
    let out = Renderer::new(global.json);
    if args.files || snap.kind != SourceKind::Mox {
        if args.path.is_some() {
            anyhow::bail!(
                "snapshot {} is a plain tree: it has no accounts or mailboxes to list",
                id.short()
            );
        }
        return files(global, &repo, &snap, &out);
    }
    match args.path.as_deref() {
        None => accounts(global, &repo, &snap, &out),
        Some(path) => match path.split_once('/') {
            // An account name has no '/': the rest is the mailbox (which may have some).
            Some((account, mailbox)) => messages(global, &repo, &id, &snap, account, mailbox, &out),
            None => mailboxes(global, &repo, &snap, path, &out),
        },
    }
}

fn accounts(
    global: &Global,
    repo: &mailvault::Repository,
    snap: &Snapshot,
    out: &Renderer,
) -> anyhow::Result<ExitCode> {
    let list = mailvault::list_accounts(repo, snap)?;
    if !global.json {
        outln!(
            "{:<24}  {:>9}  {:>9}  {:>10}",
            "account",
            "mailboxes",
            "messages",
            "size"
        );
    }
    for a in &list {
        if global.json {
            let mut v = serde_json::to_value(a)?;
            v["type"] = "account".into();
            out.json_line(&v);
        } else {
            outln!(
                "{:<24}  {:>9}  {:>9}  {:>10}",
                a.name,
                a.mailboxes,
                a.messages,
                render::bytes(a.size)
            );
        }
    }
    Ok(ExitCode::from(EXIT_OK))
}

fn mailboxes(
    global: &Global,
    repo: &mailvault::Repository,
    snap: &Snapshot,
    account: &str,
    out: &Renderer,
) -> anyhow::Result<ExitCode> {
    let list = mailvault::list_mailboxes(repo, snap, account)?;
    if !global.json {
        outln!("{:<32}  {:>9}  {:>10}", "mailbox", "messages", "size");
    }
    for m in &list {
        if global.json {
            let mut v = serde_json::to_value(m)?;
            v["type"] = "mailbox".into();
            v["account"] = account.into();
            out.json_line(&v);
        } else {
            outln!(
                "{:<32}  {:>9}  {:>10}",
                m.name,
                m.messages,
                render::bytes(m.size)
            );
        }
    }
    Ok(ExitCode::from(EXIT_OK))
}

fn messages(
    global: &Global,
    repo: &mailvault::Repository,
    id: &mailvault::SnapshotId,
    snap: &Snapshot,
    account: &str,
    mailbox: &str,
    out: &Renderer,
) -> anyhow::Result<ExitCode> {
    let list = mailvault::list_messages(repo, id, snap, account, mailbox, out)?;
    out.finish();
    if !global.json {
        outln!(
            "{:>6}  {:<20}  {:<32}  {:<50}  {:>9}",
            "uid",
            "date",
            "from",
            "subject",
            "size"
        );
    }
    for m in &list {
        if global.json {
            let mut v = super::find::message_json(m);
            v["type"] = "message".into();
            out.json_line(&v);
        } else {
            outln!(
                "{:>6}  {:<20}  {:<32}  {:<50}  {:>9}",
                m.uid,
                super::find::shown_date(m),
                super::find::cut(&m.header.from, 32),
                super::find::cut(&m.header.subject, 50),
                m.size
            );
        }
    }
    Ok(ExitCode::from(EXIT_OK))
}

/// The tree's entries, then one line per account with its manifest.
fn files(
    global: &Global,
    repo: &mailvault::Repository,
    snap: &Snapshot,
    out: &Renderer,
) -> anyhow::Result<ExitCode> {
    let tree = Tree::load(repo, &snap.tree)?;
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
