//! Exporting mailboxes of a snapshot as mbox or maildir, for `mox import mbox|maildir`.
//!
//! Flags and keywords travel where mox's importers read them, so that an import gives back
//! every flag and keyword of the message record:
//!
//! - maildir: each message file holds `MsgPrefix` followed by the file, bytes unchanged. The
//!   system flags are info letters (`D F P R S T`); every keyword, including the system
//!   keywords mox keeps as flags (`$Forwarded`, `$Junk`, `$NotJunk`, `$Phishing`, `$MDNSent`),
//!   is a letter `a`-`z` listed in the maildir's `dovecot-keywords` file. The 26 letters go to
//!   the keywords most messages of the mailbox carry; keywords beyond them are reported.
//! - mbox: mboxrd (a line matching `^>*From ` gets one more `>`). Each message is preceded by
//!   one `Status`, `X-Status` (when needed) and `X-Keywords` (when needed) line, and its own
//!   header loses every `Status`, `X-Status`, `X-Keywords` and `Content-Length` field: mox merges
//!   all of them, so a stale line in the stored message would bring back a flag.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::find::MessageFilter;
use crate::mox::{self, AccountDb, Civil};
use crate::repo::Repository;
use crate::restore::mox::{load_list, load_manifest, load_message};
use crate::snapshot::{Snapshot, SourceKind};
use crate::tree::{PagedEntry, Tree};
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
    /// Keywords that could not be written, per message; each was also reported as a problem.
    pub unexported_keywords: Vec<UnexportedKeywords>,
}

/// Keywords of one message that the export could not carry: a maildir has letters for 26
/// keywords, and no format can hold a keyword with a separator (comma, space, control) in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnexportedKeywords {
    pub mailbox: String,
    pub message_id: i64,
    pub keywords: Vec<String>,
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
    /// Keywords, including the system keywords mox keeps as flags (`$Junk`, `$NotJunk`, ...);
    /// `$Forwarded` may be left out when `forwarded` is set (see [`ExportFlags::all_keywords`]).
    pub keywords: Vec<String>,
}

impl ExportFlags {
    /// Every keyword the message carries: `$Forwarded` first when `forwarded` is set, then
    /// `keywords`. These are what an import must give back besides the five system flags.
    pub fn all_keywords(&self) -> Vec<&str> {
        let mut out = Vec::with_capacity(self.keywords.len() + 1);
        if self.forwarded
            && !self
                .keywords
                .iter()
                .any(|k| k.eq_ignore_ascii_case("$Forwarded"))
        {
            out.push("$Forwarded");
        }
        out.extend(self.keywords.iter().map(String::as_str));
        out
    }
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
    export_selected(
        repo,
        snapshot,
        opts,
        &MessageFilter::default(),
        output,
        progress,
    )
}

/// [`export`] of the messages `filter` selects (its UIDs, sender, recipient, subject,
/// Message-ID and received time; its account and mailbox are those of `opts`). With a filter,
/// a mailbox without a selected message is not written.
pub fn export_selected(
    repo: &Repository,
    snapshot: &Snapshot,
    opts: &ExportOptions,
    filter: &MessageFilter,
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
    let filtered = !filter.is_empty();
    let record_of = |id: i64| {
        db.message(id)?.ok_or_else(|| {
            Error::corrupt(
                format!("account {} database in snapshot", opts.account),
                format!("message {id} of the manifest has no record"),
            )
        })
    };
    for mb in selected {
        let mut list = load_list(repo, &mb.list)?;
        if filtered {
            let mut kept = Vec::with_capacity(list.messages.len());
            for entry in list.messages {
                let record = db.message_with_envelope(entry.id)?.ok_or_else(|| {
                    Error::corrupt(
                        format!("account {} database in snapshot", opts.account),
                        format!("message {} of the manifest has no record", entry.id),
                    )
                })?;
                if filter.selects(repo, &entry, &record)? {
                    kept.push(entry);
                }
            }
            list.messages = kept;
            if list.messages.is_empty() {
                continue;
            }
        }
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
        // A maildir's keyword letters are chosen from all of its messages first.
        let letters = match opts.format {
            ExportFormat::Maildir => {
                let mut all = Vec::with_capacity(list.messages.len());
                for entry in &list.messages {
                    all.push(flags_of(&record_of(entry.id)?));
                }
                maildir_keyword_letters(&all)
            }
            ExportFormat::Mbox => Vec::new(),
        };
        let mut writer = MailboxWriter::create(output, &mb.name, opts.format, mode, letters)?;
        for entry in &list.messages {
            let record = record_of(entry.id)?;
            let mut data = record.msgprefix.clone();
            data.extend_from_slice(&load_message(repo, entry)?);
            let flags = flags_of(&record);
            let lost = writer.write(
                entry.mode & 0o666,
                entry.id,
                record.received.unwrap_or(0).div_euclid(1_000_000_000),
                &flags,
                &data,
            )?;
            if !lost.is_empty() {
                let why = match opts.format {
                    ExportFormat::Maildir => {
                        "a maildir has letters for 26 keywords (they went to the keywords most \
                         of its messages carry), and none for a keyword with a comma, space or \
                         control character"
                    }
                    ExportFormat::Mbox => {
                        "X-Keywords cannot hold a keyword with a comma, space or control character"
                    }
                };
                progress.event(Event::Problem {
                    path: None,
                    message: format!(
                        "mailbox {}: message {}: keywords not exported: {} ({why})",
                        mb.name,
                        entry.id,
                        lost.join(" ")
                    ),
                });
                summary.unexported_keywords.push(UnexportedKeywords {
                    mailbox: mb.name.clone(),
                    message_id: entry.id,
                    keywords: lost,
                });
            }
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
    // Large files' chunk pages are read for this one entry only.
    let tree = Tree::load_shallow(repo, &snapshot.tree)?;
    let path = account_db_path(account);
    let entry = tree
        .iter()
        .find(|e| e.entry.path == path)
        .ok_or_else(|| Error::Invalid(format!("{path} is not in this snapshot")))?;
    account_db_from_entry(repo, entry)
}

/// The tree path of an account's `index.db` in a mox snapshot.
pub(crate) fn account_db_path(account: &str) -> String {
    format!("data/accounts/{account}/index.db")
}

/// Opens the account database that a snapshot's tree entry holds: its chunks are written to a
/// private temporary file (unlinked at once; the open handle keeps it until the database is
/// dropped), read page by page as lookups visit them. Memory holds what is visited, not the
/// database.
pub(crate) fn account_db_from_entry(repo: &Repository, entry: &PagedEntry) -> Result<AccountDb> {
    let temp_dir = std::env::temp_dir();
    let mut tmp = tempfile::NamedTempFile::new_in(&temp_dir).at(&temp_dir)?;
    let tmp_path = tmp.path().to_path_buf();
    {
        let mut out = BufWriter::new(tmp.as_file_mut());
        entry.for_each_chunk_group(repo, &mut |chunks| {
            for batch in chunks.chunks(256) {
                for blob in repo.get_blobs(batch) {
                    out.write_all(&blob?).at(&tmp_path)?;
                }
            }
            Ok(())
        })?;
        out.flush().at(&tmp_path)?;
    }
    let bolt = mox::Bolt::open_lazy_named(&tmp_path, PathBuf::from(&entry.entry.path))?;
    drop(tmp);
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

/// Whether a keyword can be written: no format has room for an empty keyword or one holding a
/// character importers split keywords on (`X-Keywords` is comma or space separated,
/// `dovecot-keywords` line based).
fn keyword_fits(kw: &str) -> bool {
    !kw.is_empty()
        && !kw
            .chars()
            .any(|c| c == ',' || c.is_whitespace() || c.is_control())
}

/// The keywords of a maildir, in letter order (`a` is the first): those that fit, the ones
/// most messages carry first (ties in order of first appearance), at most 26.
pub fn maildir_keyword_letters(messages: &[ExportFlags]) -> Vec<String> {
    let mut order: Vec<&str> = Vec::new();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for flags in messages {
        for kw in flags.all_keywords() {
            if !keyword_fits(kw) {
                continue;
            }
            let n = counts.entry(kw).or_insert(0);
            if *n == 0 {
                order.push(kw);
            }
            *n += 1;
        }
    }
    // A stable sort keeps first appearance among equals.
    order.sort_by_key(|kw| std::cmp::Reverse(counts[kw]));
    order.truncate(26);
    order.into_iter().map(str::to_string).collect()
}

/// The header fields mox's mbox import merges flags and keywords from, and `Content-Length`
/// (which some mbox readers trust to find the end of a message), lower case.
const MBOX_STALE_FIELDS: [&str; 4] = ["status", "x-status", "x-keywords", "content-length"];

/// Whether a header line starts a field named in [`MBOX_STALE_FIELDS`].
fn is_stale_field(line: &[u8]) -> bool {
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return false;
    };
    let name = line[..colon].trim_ascii_end();
    MBOX_STALE_FIELDS
        .iter()
        .any(|f| name.eq_ignore_ascii_case(f.as_bytes()))
}

/// `data` without the `Status`, `X-Status`, `X-Keywords` and `Content-Length` fields of its
/// header (the lines before the first empty line, or all of them when there is none), with their
/// continuation lines. Every other byte, the whole body included, stays as it is.
pub fn strip_mbox_flag_fields(data: &[u8]) -> Cow<'_, [u8]> {
    let mut out: Option<Vec<u8>> = None;
    let mut pos = 0;
    let mut dropping = false;
    for line in data.split_inclusive(|&b| b == b'\n') {
        if line == b"\n" || line == b"\r\n" {
            break;
        }
        if !matches!(line[0], b' ' | b'\t') {
            dropping = is_stale_field(line);
        }
        if dropping {
            out.get_or_insert_with(|| data[..pos].to_vec());
        } else if let Some(out) = &mut out {
            out.extend_from_slice(line);
        }
        pos += line.len();
    }
    match out {
        None => Cow::Borrowed(data),
        Some(mut out) => {
            out.extend_from_slice(&data[pos..]);
            Cow::Owned(out)
        }
    }
}

/// The header lines that carry flags in mbox (Thunderbird/mutt conventions, read by mox import):
/// `Status`, `X-Status` when a flag besides `\Seen` is set, `X-Keywords` when there are keywords
/// (those that fit: see [`UnexportedKeywords`]).
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
    let keywords: Vec<&str> = flags
        .all_keywords()
        .into_iter()
        .filter(|kw| keyword_fits(kw))
        .collect();
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
        /// The keyword of each letter, `a` first.
        keywords: Vec<String>,
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
    /// `keywords` are a maildir's keyword letters ([`maildir_keyword_letters`]).
    fn create(
        output: &Path,
        name: &str,
        format: ExportFormat,
        mode: u32,
        keywords: Vec<String>,
    ) -> Result<Self> {
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
                    keywords,
                    mode,
                })
            }
        }
    }

    /// Writes one message; returns the keywords it carries that could not be written.
    fn write(
        &mut self,
        file_mode: u32,
        id: i64,
        received_unix: i64,
        flags: &ExportFlags,
        data: &[u8],
    ) -> Result<Vec<String>> {
        match self {
            MailboxWriter::Mbox { path, out, scratch } => {
                scratch.clear();
                scratch.extend_from_slice(
                    format!("From mailvault {}\n", asctime(received_unix)).as_bytes(),
                );
                scratch.extend_from_slice(mbox_flag_headers(flags).as_bytes());
                let message = strip_mbox_flag_fields(data);
                mboxrd_quote(&message, scratch);
                if !message.ends_with(b"\n") {
                    scratch.push(b'\n');
                }
                scratch.push(b'\n');
                out.write_all(scratch).at(&*path)?;
                Ok(flags
                    .all_keywords()
                    .into_iter()
                    .filter(|kw| !keyword_fits(kw))
                    .map(str::to_string)
                    .collect())
            }
            MailboxWriter::Maildir { dir, keywords, .. } => {
                let mut letters = Vec::new();
                let mut lost = Vec::new();
                for kw in flags.all_keywords() {
                    match keywords.iter().position(|k| k == kw) {
                        Some(i) => letters.push((b'a' + i as u8) as char),
                        None => lost.push(kw.to_string()),
                    }
                }
                letters.sort_unstable();
                letters.dedup();
                let letters: String = letters.into_iter().collect();
                let name = format!(
                    "{received_unix}.M{id}.mailvault{}",
                    maildir_info(flags, &letters)
                );
                let path = dir.join("cur").join(name);
                let mut file = create_file(&path, file_mode)?;
                file.write_all(data).at(&path)?;
                Ok(lost)
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

    #[test]
    fn stale_flag_fields_leave_the_header_only() {
        let msg = b"Status: RO\r\nFrom: a@b\r\nx-status : A\r\n\tF\r\nSubject: s\r\n \
            Status: folded\r\nX-Keywords: foo,\r\n bar\r\nContent-Length: 9\r\nTo: c@d\r\n\r\n\
            Status: RO\r\nX-Status: A\r\n";
        let got = strip_mbox_flag_fields(msg);
        assert_eq!(
            &got[..],
            &b"From: a@b\r\nSubject: s\r\n Status: folded\r\nTo: c@d\r\n\r\n\
            Status: RO\r\nX-Status: A\r\n"[..]
        );
        // Nothing to remove: the message is not copied.
        let clean = b"From: a@b\nSubject: Status: RO\n\nStatus: RO\n";
        assert!(matches!(strip_mbox_flag_fields(clean), Cow::Borrowed(_)));
        // Without an empty line, every line is header.
        assert_eq!(
            &strip_mbox_flag_fields(b"Subject: s\nStatus: R")[..],
            &b"Subject: s\n"[..]
        );
        assert_eq!(&strip_mbox_flag_fields(b"")[..], &b""[..]);
    }

    #[test]
    fn forwarded_is_a_keyword_in_both_formats() {
        let flags = ExportFlags {
            forwarded: true,
            keywords: vec!["$NotJunk".into(), "a,b".into()],
            ..Default::default()
        };
        assert_eq!(flags.all_keywords(), ["$Forwarded", "$NotJunk", "a,b"]);
        assert_eq!(
            mbox_flag_headers(&flags),
            "Status: O\r\nX-Keywords: $Forwarded,$NotJunk\r\n"
        );
        // Already a keyword: not twice.
        let flags = ExportFlags {
            forwarded: true,
            keywords: vec!["$forwarded".into()],
            ..Default::default()
        };
        assert_eq!(flags.all_keywords(), ["$forwarded"]);
    }

    #[test]
    fn maildir_letters_go_to_the_most_used_keywords() {
        let with = |kws: &[&str]| ExportFlags {
            keywords: kws.iter().map(|k| k.to_string()).collect(),
            ..Default::default()
        };
        let many: Vec<String> = (0..30).map(|i| format!("k{i:02}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let mut messages = vec![with(&many), with(&["x y", "k29", "k28"])];
        messages[1].forwarded = true;
        let letters = maildir_keyword_letters(&messages);
        assert_eq!(letters.len(), 26);
        // Used twice first ($Forwarded counts once, after them), then first appearance.
        assert_eq!(&letters[..3], ["k28", "k29", "k00"]);
        assert_eq!(letters[25], "k23");
        assert!(!letters.iter().any(|k| k == "x y" || k == "$Forwarded"));

        let dir = tempfile::tempdir().unwrap();
        let mut w =
            MailboxWriter::create(dir.path(), "M", ExportFormat::Maildir, 0o600, letters).unwrap();
        let lost = w.write(0o600, 1, 0, &messages[0], b"m").unwrap();
        let want: Vec<String> = (24..28).map(|i| format!("k{i:02}")).collect();
        assert_eq!(lost, want);
        let lost = w.write(0o600, 2, 0, &messages[1], b"m").unwrap();
        assert_eq!(lost, ["$Forwarded", "x y"]);
        w.finish().unwrap();
        let keywords = fs::read_to_string(dir.path().join("M/dovecot-keywords")).unwrap();
        assert!(keywords.starts_with("0 k28\n1 k29\n2 k00\n"), "{keywords}");
        assert_eq!(keywords.lines().count(), 26);
        let names: Vec<String> = fs::read_dir(dir.path().join("M/cur"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(
            names.contains(&"0.M2.mailvault:2,Pab".to_string()),
            "{names:?}"
        );
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
