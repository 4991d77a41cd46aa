//! Exporting mailboxes of a snapshot as mbox or maildir, for `mox import mbox|maildir`.
//!
//! Each message is written as mox serves it over IMAP: `MsgPrefix` followed by the file, bytes
//! unchanged. Flags and keywords travel in the places importers read them: maildir info flags and
//! a `dovecot-keywords` file, or mbox `Status`, `X-Status` and `X-Keywords` headers placed before
//! the message. mbox uses the mboxrd convention: a line matching `^>*From ` gets one more `>`.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::mox::{self, AccountDb, Civil};
use crate::repo::Repository;
use crate::restore::mox::{load_list, load_manifest};
use crate::snapshot::{Snapshot, SourceKind};
use crate::tree::Tree;
use crate::{Error, Event, IoContext, Progress, Result};

/// Output format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Mbox,
    Maildir,
}

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub account: String,
    /// Mailbox names; empty means every mailbox of the account.
    pub mailboxes: Vec<String>,
    pub format: ExportFormat,
}

/// What an export wrote.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExportSummary {
    pub mailboxes: u64,
    pub messages: u64,
    pub bytes: u64,
    /// Mailbox name → path written.
    pub outputs: BTreeMap<String, PathBuf>,
}

/// The flags of a message, as exported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportFlags {
    pub seen: bool,
    pub answered: bool,
    pub flagged: bool,
    pub forwarded: bool,
    pub deleted: bool,
    pub draft: bool,
    /// Keywords, including the system keywords mox keeps as flags (`$Junk`, `$NotJunk`, ...).
    pub keywords: Vec<String>,
}

/// Exports mailboxes of `snapshot` under `output` (a directory, created; must be empty or absent).
/// Mailbox `A/B` becomes `output/A/B.mbox` or the maildir `output/A/B/`.
pub fn export(
    repo: &Repository,
    snapshot: &Snapshot,
    opts: &ExportOptions,
    output: &Path,
    progress: &dyn Progress,
) -> Result<ExportSummary> {
    if snapshot.kind != SourceKind::Mox {
        return Err(Error::Invalid(
            "this snapshot is of a plain directory, not a mox installation".into(),
        ));
    }
    let account = snapshot
        .accounts
        .iter()
        .find(|a| a.name == opts.account)
        .ok_or_else(|| {
            let names: Vec<&str> = snapshot.accounts.iter().map(|a| a.name.as_str()).collect();
            Error::Invalid(format!(
                "account {:?} is not in this snapshot (accounts: {})",
                opts.account,
                names.join(", ")
            ))
        })?;
    let manifest = load_manifest(repo, account)?;
    let mut selected = Vec::new();
    if opts.mailboxes.is_empty() {
        selected.extend(manifest.mailboxes.iter().filter(|m| !m.expunged));
    } else {
        for name in &opts.mailboxes {
            let mb = manifest.mailbox_by_name(name).ok_or_else(|| {
                let names: Vec<&str> = manifest
                    .mailboxes
                    .iter()
                    .filter(|m| !m.expunged)
                    .map(|m| m.name.as_str())
                    .collect();
                Error::Invalid(format!(
                    "mailbox {name:?} is not in account {} (mailboxes: {})",
                    opts.account,
                    names.join(", ")
                ))
            })?;
            selected.push(mb);
        }
    }
    // Mailbox names of the snapshot become paths: all are checked before anything is written.
    for mb in &selected {
        mailbox_rel_path(&mb.name)?;
    }
    if output.exists() && fs::read_dir(output).at(output)?.next().is_some() {
        return Err(Error::Invalid(format!(
            "{}: not empty; export writes into a new or empty directory",
            output.display()
        )));
    }
    make_dirs(output)?;

    // The records (flags, keywords, MsgPrefix) come from the database copy in the snapshot.
    let db = open_account_db(repo, snapshot, &opts.account)?;

    let mut summary = ExportSummary::default();
    for mb in selected {
        let list = load_list(repo, &mb.list)?;
        let phase = format!("mailbox {}", mb.name);
        progress.event(Event::Phase {
            name: phase.clone(),
            total: Some(list.messages.len() as u64),
        });
        // Messages are as secret as their files: the mailbox file is readable by whom every
        // one of its messages was (mode 0640 messages make a 0640 mbox), never more.
        let mode = match list.messages.is_empty() {
            true => 0o600,
            false => list.messages.iter().fold(0o666, |m, e| m & e.mode),
        };
        let mut writer = MailboxWriter::create(output, &mb.name, opts.format, mode)?;
        for entry in &list.messages {
            let record = db.message(entry.id)?.ok_or_else(|| {
                Error::corrupt(
                    format!("account {} database in snapshot", opts.account),
                    format!("message {} of the manifest has no record", entry.id),
                )
            })?;
            let mut data = record.msgprefix.clone();
            data.extend_from_slice(&repo.get_blob(&entry.blob)?);
            let flags = flags_of(&record);
            writer.write(
                entry.mode & 0o666,
                entry.id,
                record.received.unwrap_or(0).div_euclid(1_000_000_000),
                &flags,
                &data,
            )?;
            summary.messages += 1;
            summary.bytes += data.len() as u64;
            progress.event(Event::Advance {
                phase: phase.clone(),
                items: 1,
                bytes: data.len() as u64,
            });
        }
        let path = writer.finish()?;
        summary.mailboxes += 1;
        summary.outputs.insert(mb.name.clone(), path);
    }
    Ok(summary)
}

/// Writes an account's `index.db` from the snapshot to a temporary file and opens it.
pub(crate) fn open_account_db(
    repo: &Repository,
    snapshot: &Snapshot,
    account: &str,
) -> Result<AccountDb> {
    let tree = Tree::load(repo, &snapshot.tree)?;
    let path = format!("data/accounts/{account}/index.db");
    let entry = tree
        .entries
        .iter()
        .find(|e| e.path == path)
        .ok_or_else(|| Error::Invalid(format!("{path} is not in this snapshot")))?;
    // The size comes from the snapshot: it sizes nothing beyond a sane start (the bytes
    // that really come grow the buffer).
    let mut bytes = Vec::with_capacity(entry.size.min(64 << 20) as usize);
    for chunk in &entry.chunks {
        bytes.extend_from_slice(&repo.get_blob(chunk)?);
    }
    let bolt = mox::Bolt::from_bytes(PathBuf::from(path), bytes)?;
    Ok(AccountDb::from_bolt(bolt))
}

fn flags_of(m: &mox::Message) -> ExportFlags {
    let f = &m.flags;
    let mut keywords = m.keywords.clone();
    for (set, name) in [
        (f.junk, "$Junk"),
        (f.notjunk, "$NotJunk"),
        (f.phishing, "$Phishing"),
        (f.mdnsent, "$MDNSent"),
    ] {
        if set && !keywords.iter().any(|k| k.eq_ignore_ascii_case(name)) {
            keywords.push(name.to_string());
        }
    }
    ExportFlags {
        seen: f.seen,
        answered: f.answered,
        flagged: f.flagged,
        forwarded: f.forwarded,
        deleted: f.deleted,
        draft: f.draft,
        keywords,
    }
}

/// The maildir info flags (`:2,` suffix), in the ASCII order the maildir specification asks for.
pub fn maildir_info(flags: &ExportFlags, keyword_letters: &str) -> String {
    let mut s = String::from(":2,");
    for (set, c) in [
        (flags.draft, 'D'),
        (flags.flagged, 'F'),
        (flags.forwarded, 'P'),
        (flags.answered, 'R'),
        (flags.seen, 'S'),
        (flags.deleted, 'T'),
    ] {
        if set {
            s.push(c);
        }
    }
    s.push_str(keyword_letters);
    s
}

/// The header lines that carry flags in mbox (Thunderbird/mutt conventions, read by mox import).
pub fn mbox_flag_headers(flags: &ExportFlags) -> String {
    let mut out = String::new();
    out.push_str(if flags.seen {
        "Status: RO\r\n"
    } else {
        "Status: O\r\n"
    });
    let mut xs = String::new();
    for (set, c) in [
        (flags.answered, 'A'),
        (flags.flagged, 'F'),
        (flags.draft, 'T'),
        (flags.deleted, 'D'),
    ] {
        if set {
            xs.push(c);
        }
    }
    if !xs.is_empty() {
        out.push_str(&format!("X-Status: {xs}\r\n"));
    }
    let mut keywords = flags.keywords.clone();
    if flags.forwarded {
        keywords.insert(0, "$Forwarded".into());
    }
    if !keywords.is_empty() {
        out.push_str(&format!("X-Keywords: {}\r\n", keywords.join(",")));
    }
    out
}

/// Appends `data` to `out` with mboxrd quoting: every line matching `^>*From ` gets a `>`.
pub fn mboxrd_quote(data: &[u8], out: &mut Vec<u8>) {
    for line in data.split_inclusive(|&b| b == b'\n') {
        let rest = &line[line.iter().take_while(|&&b| b == b'>').count()..];
        if rest.starts_with(b"From ") {
            out.push(b'>');
        }
        out.extend_from_slice(line);
    }
}

/// Reverses [`mboxrd_quote`] for one message body.
pub fn mboxrd_unquote(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for line in data.split_inclusive(|&b| b == b'\n') {
        let gts = line.iter().take_while(|&&b| b == b'>').count();
        if gts > 0 && line[gts..].starts_with(b"From ") {
            out.extend_from_slice(&line[1..]);
        } else {
            out.extend_from_slice(line);
        }
    }
    out
}

enum MailboxWriter {
    Mbox {
        path: PathBuf,
        out: BufWriter<fs::File>,
        scratch: Vec<u8>,
    },
    Maildir {
        dir: PathBuf,
        keywords: Vec<String>,
        messages: Vec<(i64, ExportFlags)>,
        mode: u32,
    },
}

/// Creates `dir` and its missing parents 0700: an export holds mail, readable by us alone
/// until the operator decides otherwise.
fn make_dirs(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .at(dir)
}

/// Opens a new file with `mode` (the umask may narrow it), never through a symlink.
fn create_file(path: &Path, mode: u32) -> Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::File::options()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
        .at(path)
}

/// The relative path of a mailbox, refusing names that would leave the output directory.
fn mailbox_rel_path(name: &str) -> Result<PathBuf> {
    let mut rel = PathBuf::new();
    for part in name.split('/') {
        if part.is_empty() || part == "." || part == ".." {
            return Err(Error::Invalid(format!(
                "mailbox name {name:?} cannot be used as a path"
            )));
        }
        rel.push(part);
    }
    Ok(rel)
}

impl MailboxWriter {
    fn create(output: &Path, name: &str, format: ExportFormat, mode: u32) -> Result<Self> {
        let rel = mailbox_rel_path(name)?;
        match format {
            ExportFormat::Mbox => {
                let mut path = output.join(&rel);
                let file_name = format!(
                    "{}.mbox",
                    path.file_name().expect("non-empty name").to_string_lossy()
                );
                path.set_file_name(file_name);
                if let Some(parent) = path.parent() {
                    make_dirs(parent)?;
                }
                let file = create_file(&path, mode)?;
                Ok(MailboxWriter::Mbox {
                    path,
                    out: BufWriter::new(file),
                    scratch: Vec::new(),
                })
            }
            ExportFormat::Maildir => {
                let dir = output.join(&rel);
                for sub in ["cur", "new", "tmp"] {
                    make_dirs(&dir.join(sub))?;
                }
                Ok(MailboxWriter::Maildir {
                    dir,
                    keywords: Vec::new(),
                    messages: Vec::new(),
                    mode,
                })
            }
        }
    }

    fn write(
        &mut self,
        file_mode: u32,
        id: i64,
        received_unix: i64,
        flags: &ExportFlags,
        data: &[u8],
    ) -> Result<()> {
        match self {
            MailboxWriter::Mbox { path, out, scratch } => {
                scratch.clear();
                scratch.extend_from_slice(
                    format!("From mailvault {}\n", asctime(received_unix)).as_bytes(),
                );
                scratch.extend_from_slice(mbox_flag_headers(flags).as_bytes());
                mboxrd_quote(data, scratch);
                if !data.ends_with(b"\n") {
                    scratch.push(b'\n');
                }
                scratch.push(b'\n');
                out.write_all(scratch).at(&*path)
            }
            MailboxWriter::Maildir {
                dir,
                keywords,
                messages,
                ..
            } => {
                let mut letters = String::new();
                for kw in &flags.keywords {
                    let index = match keywords.iter().position(|k| k == kw) {
                        Some(i) => Some(i),
                        None if keywords.len() < 26 => {
                            keywords.push(kw.clone());
                            Some(keywords.len() - 1)
                        }
                        // Maildir has 26 keyword letters; the rest cannot be carried.
                        None => None,
                    };
                    if let Some(i) = index {
                        letters.push((b'a' + i as u8) as char);
                    }
                }
                let mut sorted: Vec<char> = letters.chars().collect();
                sorted.sort_unstable();
                let letters: String = sorted.into_iter().collect();
                let name = format!(
                    "{received_unix}.M{id}.mailvault{}",
                    maildir_info(flags, &letters)
                );
                let path = dir.join("cur").join(name);
                let mut file = create_file(&path, file_mode)?;
                file.write_all(data).at(&path)?;
                messages.push((id, flags.clone()));
                Ok(())
            }
        }
    }

    fn finish(self) -> Result<PathBuf> {
        match self {
            MailboxWriter::Mbox { path, mut out, .. } => {
                out.flush().at(&path)?;
                Ok(path)
            }
            MailboxWriter::Maildir {
                dir,
                keywords,
                mode,
                ..
            } => {
                if !keywords.is_empty() {
                    let mut text = String::new();
                    for (i, kw) in keywords.iter().enumerate() {
                        text.push_str(&format!("{i} {kw}\n"));
                    }
                    let path = dir.join("dovecot-keywords");
                    create_file(&path, mode)?
                        .write_all(text.as_bytes())
                        .at(&path)?;
                }
                Ok(dir)
            }
        }
    }
}

/// `Mon Jan  2 15:04:05 2006` in UTC, the date format of mbox `From ` lines.
pub fn asctime(unix: i64) -> String {
    let c = Civil::from_unix(unix);
    format!(
        "{} {} {:>2} {:02}:{:02}:{:02} {}",
        c.weekday, c.month_name, c.day, c.hour, c.minute, c.second, c.year
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn asctime_matches_known_dates() {
        assert_eq!(asctime(0), "Thu Jan  1 00:00:00 1970");
        assert_eq!(asctime(1_136_214_245), "Mon Jan  2 15:04:05 2006");
        assert_eq!(asctime(1_796_019_750), "Mon Nov 30 06:22:30 2026");
    }

    #[test]
    fn maildir_flags_are_ordered() {
        let flags = ExportFlags {
            seen: true,
            answered: true,
            flagged: true,
            draft: true,
            ..Default::default()
        };
        assert_eq!(maildir_info(&flags, "ab"), ":2,DFRSab");
    }

    #[test]
    fn quoting_only_touches_from_lines() {
        let body = b"Subject: x\r\n\r\nFrom here\r\n>From there\r\nNot From\r\nFrom";
        let mut out = Vec::new();
        mboxrd_quote(body, &mut out);
        assert_eq!(
            out,
            b"Subject: x\r\n\r\n>From here\r\n>>From there\r\nNot From\r\nFrom".to_vec()
        );
        assert_eq!(mboxrd_unquote(&out), body.to_vec());
    }

    proptest! {
        #[test]
        fn quote_round_trips(lines in proptest::collection::vec("(>{0,3}From |[a-z ]{0,5})[a-z]{0,5}\r?\n", 0..20)) {
            let body: Vec<u8> = lines.concat().into_bytes();
            let mut out = Vec::new();
            mboxrd_quote(&body, &mut out);
            // No line of the quoted body starts an mbox message.
            prop_assert!(!out.split(|&b| b == b'\n').any(|l| l.starts_with(b"From ")));
            prop_assert_eq!(mboxrd_unquote(&out), body);
        }
    }
}
