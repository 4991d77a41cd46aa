//! Finding messages in snapshots, and reading one back: `find`, the mail listings of `ls`,
//! `dump`, and the message lines of `diff`.
//!
//! Where a message is (account, mailbox, UID, size, blob) comes from the account manifests;
//! what it is (received time, Date, From, To, Subject, Message-ID) from the message record of
//! the account database held in the snapshot (mox keeps the parsed header, `ParsedBuf`, in the
//! record), and from the message file only where the record lacks it. Across snapshots an account
//! database whose chunks did not change is not read again.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::Serialize;

use crate::export::{account_db_from_entry, account_db_path};
use crate::header::{envelope_of, normalize_message_id};
use crate::manifest::{AccountManifest, MailboxEntry, MessageEntry};
use crate::mox::{AccountDb, Envelope};
use crate::repo::Repository;
use crate::restore::mox::{load_list, load_manifest, load_message};
use crate::snapshot::{Snapshot, SourceKind};
use crate::tree::Tree;
use crate::{BlobId, Error, Event, Progress, Result, SnapshotId};

/// Which messages to find. Every criterion given must match; text criteria are
/// case-insensitive substrings, `message_id` is compared whole (angle brackets and letter case
/// do not matter).
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    pub account: Option<String>,
    /// A mailbox name, compared as IMAP does (`INBOX` in any case).
    pub mailbox: Option<String>,
    /// Any of these UIDs (none: every UID).
    pub uids: Vec<u32>,
    /// In the From addresses (name or address).
    pub from: Option<String>,
    /// In the To or Cc addresses (name or address).
    pub to: Option<String>,
    pub subject: Option<String>,
    pub message_id: Option<String>,
    /// Received at or after (Unix nanoseconds).
    pub since_ns: Option<i64>,
    /// Received at or before (Unix nanoseconds).
    pub until_ns: Option<i64>,
}

/// A time bound of `--since`/`--until`: RFC 3339 (`2026-03-01T00:00:00Z`, any offset) or a
/// date (`2026-03-01`, UTC). A date as an upper bound (`end_of_day`) means the end of that day.
/// Returns Unix nanoseconds.
pub fn parse_time_bound(text: &str, end_of_day: bool) -> Option<i64> {
    let text = text.trim();
    let b = text.as_bytes();
    let is_date = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if is_date {
        let start = crate::mox::parse_rfc3339(&format!("{text}T00:00:00Z"))?;
        return Some(match end_of_day {
            true => start + 86_400 * 1_000_000_000 - 1,
            false => start,
        });
    }
    crate::mox::parse_rfc3339(text)
}

impl MessageFilter {
    /// Whether the header and time criteria match.
    pub fn matches(&self, received_ns: Option<i64>, h: &MessageHeader) -> bool {
        self.matches_time(received_ns) && self.matches_header(h)
    }

    /// Whether the received time is within `since`/`until` (a message without one is not).
    fn matches_time(&self, received_ns: Option<i64>) -> bool {
        let after = self
            .since_ns
            .is_none_or(|since| received_ns.is_some_and(|r| r >= since));
        let before = self
            .until_ns
            .is_none_or(|until| received_ns.is_some_and(|r| r <= until));
        after && before
    }

    fn matches_header(&self, h: &MessageHeader) -> bool {
        let contains = |hay: &str, needle: &Option<String>| {
            needle
                .as_ref()
                .is_none_or(|n| hay.to_lowercase().contains(&n.to_lowercase()))
        };
        contains(&h.from, &self.from)
            && contains(&h.to, &self.to)
            && contains(&h.subject, &self.subject)
            && self
                .message_id
                .as_ref()
                .is_none_or(|id| normalize_message_id(id) == h.message_id)
    }

    fn wants_uid(&self, uid: u32) -> bool {
        self.uids.is_empty() || self.uids.contains(&uid)
    }

    /// Whether nothing but account and mailbox is asked.
    pub fn is_empty(&self) -> bool {
        self.uids.is_empty()
            && self.from.is_none()
            && self.to.is_none()
            && self.subject.is_none()
            && self.message_id.is_none()
            && self.since_ns.is_none()
            && self.until_ns.is_none()
    }

    /// Whether a message of a manifest, with its record, is selected (UIDs, time, header);
    /// the file is read only when the record holds no parsed header and one is asked about.
    pub(crate) fn selects(
        &self,
        repo: &Repository,
        entry: &MessageEntry,
        record: &crate::mox::Message,
    ) -> Result<bool> {
        if !self.wants_uid(entry.uid) || !self.matches_time(record.received) {
            return Ok(false);
        }
        let needs_header = self.from.is_some()
            || self.to.is_some()
            || self.subject.is_some()
            || self.message_id.is_some();
        if !needs_header {
            return Ok(true);
        }
        let header = match &record.envelope {
            Some(env) => {
                let mut h = MessageHeader::from_envelope(env);
                if h.message_id.is_empty() {
                    h.message_id = normalize_message_id(&record.message_id);
                }
                h
            }
            None => MessageHeader::from_envelope(&envelope_of(&load_message(repo, entry)?)),
        };
        Ok(self.matches_header(&header))
    }
}

/// The header fields shown for a message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MessageHeader {
    /// The `Date:` header (RFC 3339 when mox parsed it, as written otherwise).
    pub date: Option<String>,
    /// The From addresses, `Name <user@host>`, comma separated.
    pub from: String,
    /// The To and Cc addresses, comma separated.
    pub to: String,
    pub subject: String,
    /// As mox indexes it: no angle brackets, lower case.
    pub message_id: String,
}

impl MessageHeader {
    fn from_envelope(env: &Envelope) -> MessageHeader {
        let join = |list: &[crate::mox::Address]| {
            list.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut to = env.to.clone();
        to.extend(env.cc.iter().cloned());
        MessageHeader {
            date: env.date.clone(),
            from: join(&env.from),
            to: join(&to),
            subject: env.subject.clone(),
            message_id: normalize_message_id(&env.message_id),
        }
    }
}

/// One message found.
#[derive(Debug, Clone, Serialize)]
pub struct FoundMessage {
    pub snapshot: SnapshotId,
    /// The snapshot's time, Unix nanoseconds.
    pub snapshot_time_ns: i64,
    pub account: String,
    pub mailbox: String,
    pub mailbox_id: i64,
    pub uid: u32,
    /// The message record's id (its file is `msg/<id / 1000 in letters>/<id>`).
    pub id: i64,
    /// Received time, Unix nanoseconds (None when the record has none).
    pub received_ns: Option<i64>,
    /// `MsgPrefix` plus the file.
    pub size: u64,
    pub blob: BlobId,
    #[serde(flatten)]
    pub header: MessageHeader,
}

/// What a search read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FindStats {
    pub snapshots: u64,
    pub matches: u64,
    /// Account databases read from the repository.
    pub databases_read: u64,
    /// Account databases whose chunks equalled the previous snapshot's: not read again.
    pub databases_reused: u64,
    /// Message files read because the record lacked the header.
    pub files_read: u64,
    /// Snapshots, accounts or mailboxes that could not be read (each reported as a problem).
    pub problems: u64,
}

/// What the search keeps of a message record.
#[derive(Debug, Clone)]
struct RecordInfo {
    received_ns: Option<i64>,
    /// None: the record has no parsed header; the file is read.
    header: Option<MessageHeader>,
}

/// The records of one account database, by message id.
type Records = Arc<HashMap<i64, RecordInfo>>;

/// Searches snapshots, remembering what it read: an account database whose chunks are those of
/// the previous snapshot searched, and a message file whose header was read, are not read again.
pub struct Finder<'r> {
    repo: &'r Repository,
    /// Per account: the chunks of its database and its records.
    databases: HashMap<String, (Vec<BlobId>, Records)>,
    /// Headers read from message files, by blob.
    file_headers: HashMap<BlobId, MessageHeader>,
    pub stats: FindStats,
}

impl<'r> Finder<'r> {
    pub fn new(repo: &'r Repository) -> Finder<'r> {
        Finder {
            repo,
            databases: HashMap::new(),
            file_headers: HashMap::new(),
            stats: FindStats::default(),
        }
    }

    /// Calls `found` for every message of `snapshot` that `filter` matches, account by account
    /// (in the snapshot's order), mailbox by mailbox (by id), message by message (by id). A
    /// snapshot of a plain tree holds no messages. An account or mailbox that cannot be read
    /// is a problem event, and the search goes on.
    pub fn search(
        &mut self,
        id: &SnapshotId,
        snapshot: &Snapshot,
        filter: &MessageFilter,
        progress: &dyn Progress,
        found: &mut dyn FnMut(FoundMessage),
    ) -> Result<()> {
        self.stats.snapshots += 1;
        if snapshot.kind != SourceKind::Mox {
            return Ok(());
        }
        let mut tree: Option<Tree> = None;
        for account in &snapshot.accounts {
            if filter.account.as_ref().is_some_and(|a| *a != account.name) {
                continue;
            }
            let problem = |stats: &mut FindStats, what: String| {
                stats.problems += 1;
                progress.event(Event::Problem {
                    path: None,
                    message: format!("snapshot {}: {what}", id.short()),
                });
            };
            let manifest = match load_manifest(self.repo, account) {
                Ok(m) => m,
                Err(e) => {
                    problem(&mut self.stats, format!("account {}: {e}", account.name));
                    continue;
                }
            };
            let mailboxes = select_mailboxes(&manifest, filter.mailbox.as_deref());
            if mailboxes.is_empty() {
                continue;
            }
            if tree.is_none() {
                tree = Some(Tree::load(self.repo, &snapshot.tree)?);
            }
            let records = match self.records(tree.as_ref().expect("loaded"), &account.name) {
                Ok(r) => r,
                Err(e) => {
                    progress.event(Event::Warning {
                        path: None,
                        message: format!(
                            "snapshot {}: account {}: database not readable, headers read from \
                             the message files: {e}",
                            id.short(),
                            account.name
                        ),
                    });
                    Arc::new(HashMap::new())
                }
            };
            for mb in mailboxes {
                let list = match load_list(self.repo, &mb.list) {
                    Ok(l) => l,
                    Err(e) => {
                        problem(
                            &mut self.stats,
                            format!("account {}: mailbox {}: {e}", account.name, mb.name),
                        );
                        continue;
                    }
                };
                for entry in &list.messages {
                    if !filter.wants_uid(entry.uid) {
                        continue;
                    }
                    let record = records.get(&entry.id);
                    let received_ns = record.and_then(|r| r.received_ns);
                    // Time alone rules a message out before its header is needed.
                    if !filter.matches_time(received_ns) {
                        continue;
                    }
                    let header = match record.and_then(|r| r.header.clone()) {
                        Some(h) => h,
                        None => match self.file_header(entry) {
                            Ok(h) => h,
                            Err(e) => {
                                problem(
                                    &mut self.stats,
                                    format!(
                                        "account {}: mailbox {}: message {}: {e}",
                                        account.name, mb.name, entry.id
                                    ),
                                );
                                continue;
                            }
                        },
                    };
                    if !filter.matches_header(&header) {
                        continue;
                    }
                    self.stats.matches += 1;
                    found(FoundMessage {
                        snapshot: *id,
                        snapshot_time_ns: snapshot.time_ns,
                        account: account.name.clone(),
                        mailbox: mb.name.clone(),
                        mailbox_id: mb.id,
                        uid: entry.uid,
                        id: entry.id,
                        received_ns,
                        size: entry.size,
                        blob: entry.blob,
                        header,
                    });
                }
            }
        }
        Ok(())
    }

    /// The records of an account's database in `tree`, read unless the previous read of this
    /// account had the same chunks.
    fn records(&mut self, tree: &Tree, account: &str) -> Result<Records> {
        let path = account_db_path(account);
        let entry = tree
            .entries
            .iter()
            .find(|e| e.path == path)
            .ok_or_else(|| Error::Invalid(format!("{path} is not in this snapshot")))?;
        if let Some((chunks, records)) = self.databases.get(account)
            && *chunks == entry.chunks
        {
            self.stats.databases_reused += 1;
            return Ok(records.clone());
        }
        let db = account_db_from_entry(self.repo, &entry.clone().into())?;
        let records = Arc::new(read_records(&db)?);
        self.stats.databases_read += 1;
        self.databases
            .insert(account.to_string(), (entry.chunks.clone(), records.clone()));
        Ok(records)
    }

    /// The header of a message read from its file (`MsgPrefix` is header lines too, but mox
    /// adds only trace fields there: the file's header is what counts).
    fn file_header(&mut self, entry: &MessageEntry) -> Result<MessageHeader> {
        if let Some(h) = self.file_headers.get(&entry.blob) {
            return Ok(h.clone());
        }
        let data = load_message(self.repo, entry)?;
        self.stats.files_read += 1;
        let h = MessageHeader::from_envelope(&envelope_of(&data));
        self.file_headers.insert(entry.blob, h.clone());
        Ok(h)
    }
}

fn read_records(db: &AccountDb) -> Result<HashMap<i64, RecordInfo>> {
    let mut out = HashMap::new();
    for m in db.messages_with_envelopes()? {
        let m = m?;
        if m.expunged {
            continue;
        }
        let mut header = m.envelope.as_ref().map(MessageHeader::from_envelope);
        // mox's own index of the Message-ID is authoritative where the envelope lacks it.
        if let Some(h) = &mut header
            && h.message_id.is_empty()
        {
            h.message_id = normalize_message_id(&m.message_id);
        }
        out.insert(
            m.id,
            RecordInfo {
                received_ns: m.received,
                header,
            },
        );
    }
    Ok(out)
}

/// The live mailboxes of a manifest, or the one named (IMAP name rules); by id.
fn select_mailboxes<'m>(
    manifest: &'m AccountManifest,
    name: Option<&str>,
) -> Vec<&'m MailboxEntry> {
    match name {
        Some(name) => manifest.mailbox_by_name(name).into_iter().collect(),
        None => manifest.mailboxes.iter().filter(|m| !m.expunged).collect(),
    }
}

/// Searches every snapshot of `snapshots` (oldest first, as given) and returns the matches
/// with what the search read.
pub fn find(
    repo: &Repository,
    snapshots: &[(SnapshotId, Snapshot)],
    filter: &MessageFilter,
    progress: &dyn Progress,
) -> Result<(Vec<FoundMessage>, FindStats)> {
    let mut finder = Finder::new(repo);
    let mut out = Vec::new();
    for (id, snap) in snapshots {
        finder.search(id, snap, filter, progress, &mut |m| out.push(m))?;
    }
    Ok((out, finder.stats))
}

/// One account of a mox snapshot, as `ls SNAPSHOT` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct AccountListing {
    pub name: String,
    /// Live mailboxes.
    pub mailboxes: u64,
    pub messages: u64,
    /// Sum of the messages' sizes (`MsgPrefix` plus file).
    pub size: u64,
}

/// One mailbox of an account, as `ls SNAPSHOT ACCOUNT` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct MailboxListing {
    pub id: i64,
    pub name: String,
    pub messages: u64,
    pub size: u64,
    pub modseq: i64,
    pub uidvalidity: u32,
    pub uidnext: u32,
}

fn mox_snapshot(snapshot: &Snapshot) -> Result<()> {
    match snapshot.kind {
        SourceKind::Mox => Ok(()),
        SourceKind::Tree => Err(Error::Invalid(
            "this snapshot is of a plain directory, not a mox installation".into(),
        )),
    }
}

fn account_manifest(
    repo: &Repository,
    snapshot: &Snapshot,
    account: &str,
) -> Result<AccountManifest> {
    mox_snapshot(snapshot)?;
    let r = snapshot
        .accounts
        .iter()
        .find(|a| a.name == account)
        .ok_or_else(|| {
            let names: Vec<&str> = snapshot.accounts.iter().map(|a| a.name.as_str()).collect();
            Error::Invalid(format!(
                "account {account:?} is not in this snapshot (accounts: {})",
                names.join(", ")
            ))
        })?;
    load_manifest(repo, r)
}

fn mailbox_of<'m>(manifest: &'m AccountManifest, mailbox: &str) -> Result<&'m MailboxEntry> {
    manifest.mailbox_by_name(mailbox).ok_or_else(|| {
        let names: Vec<&str> = manifest
            .mailboxes
            .iter()
            .filter(|m| !m.expunged)
            .map(|m| m.name.as_str())
            .collect();
        Error::Invalid(format!(
            "mailbox {mailbox:?} is not in account {} (mailboxes: {})",
            manifest.account,
            names.join(", ")
        ))
    })
}

/// The accounts of a mox snapshot with their live mailboxes, messages and sizes (manifests
/// only).
pub fn list_accounts(repo: &Repository, snapshot: &Snapshot) -> Result<Vec<AccountListing>> {
    mox_snapshot(snapshot)?;
    let mut out = Vec::new();
    for a in &snapshot.accounts {
        let m = load_manifest(repo, a)?;
        let live = m.mailboxes.iter().filter(|m| !m.expunged);
        out.push(AccountListing {
            name: a.name.clone(),
            mailboxes: live.clone().count() as u64,
            messages: live.clone().map(|m| m.messages).sum(),
            size: live.map(|m| m.size).sum(),
        });
    }
    Ok(out)
}

/// The live mailboxes of one account of a mox snapshot, by id (manifest only).
pub fn list_mailboxes(
    repo: &Repository,
    snapshot: &Snapshot,
    account: &str,
) -> Result<Vec<MailboxListing>> {
    let manifest = account_manifest(repo, snapshot, account)?;
    Ok(manifest
        .mailboxes
        .iter()
        .filter(|m| !m.expunged)
        .map(|m| MailboxListing {
            id: m.id,
            name: m.name.clone(),
            messages: m.messages,
            size: m.size,
            modseq: m.modseq,
            uidvalidity: m.uidvalidity,
            uidnext: m.uidnext,
        })
        .collect())
}

/// The messages of one mailbox of a mox snapshot, by message id, with their headers.
pub fn list_messages(
    repo: &Repository,
    id: &SnapshotId,
    snapshot: &Snapshot,
    account: &str,
    mailbox: &str,
    progress: &dyn Progress,
) -> Result<Vec<FoundMessage>> {
    let manifest = account_manifest(repo, snapshot, account)?;
    let mb = mailbox_of(&manifest, mailbox)?;
    let filter = MessageFilter {
        account: Some(account.to_string()),
        mailbox: Some(mb.name.clone()),
        ..Default::default()
    };
    let mut out = Vec::new();
    Finder::new(repo).search(id, snapshot, &filter, progress, &mut |m| out.push(m))?;
    Ok(out)
}

/// The message with `uid` in `mailbox` of `account`, as mox stores it: `MsgPrefix` (from the
/// message record of the snapshot's account database) followed by the message file.
pub fn message_content(
    repo: &Repository,
    snapshot: &Snapshot,
    account: &str,
    mailbox: &str,
    uid: u32,
) -> Result<Vec<u8>> {
    let manifest = account_manifest(repo, snapshot, account)?;
    let mb = mailbox_of(&manifest, mailbox)?;
    let list = load_list(repo, &mb.list)?;
    let entry = list.messages.iter().find(|e| e.uid == uid).ok_or_else(|| {
        Error::Invalid(format!(
            "no message with UID {uid} in mailbox {} of account {account} (UIDs {})",
            mb.name,
            uid_ranges(list.messages.iter().map(|e| e.uid))
        ))
    })?;
    let db = crate::export::open_account_db(repo, snapshot, account)?;
    let record = db.message(entry.id)?.ok_or_else(|| {
        Error::corrupt(
            format!("account {account} database in snapshot"),
            format!("message {} of the manifest has no record", entry.id),
        )
    })?;
    let mut data = record.msgprefix;
    data.extend_from_slice(&load_message(repo, entry)?);
    Ok(data)
}

/// `1-5, 7, 9-12` for an error message.
fn uid_ranges(uids: impl Iterator<Item = u32>) -> String {
    let mut uids: Vec<u32> = uids.collect();
    uids.sort_unstable();
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        while i + 1 < uids.len() && uids[i + 1] == uids[i] + 1 {
            i += 1;
        }
        parts.push(match start == uids[i] {
            true => start.to_string(),
            false => format!("{start}-{}", uids[i]),
        });
        i += 1;
    }
    match parts.is_empty() {
        true => "none".into(),
        false => parts.join(", "),
    }
}

/// The headers of messages of one account of a snapshot, by message id (for `diff`).
pub fn describe_messages(
    finder: &mut Finder<'_>,
    id: &SnapshotId,
    snapshot: &Snapshot,
    account: &str,
    ids: &HashSet<i64>,
    progress: &dyn Progress,
) -> Result<HashMap<i64, FoundMessage>> {
    let filter = MessageFilter {
        account: Some(account.to_string()),
        ..Default::default()
    };
    let mut out = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    finder.search(id, snapshot, &filter, progress, &mut |m| {
        if ids.contains(&m.id) {
            out.insert(m.id, m);
        }
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_bounds() {
        let day = parse_time_bound("2026-03-01", false).unwrap();
        assert_eq!(
            day,
            crate::mox::parse_rfc3339("2026-03-01T00:00:00Z").unwrap()
        );
        let end = parse_time_bound("2026-03-31", true).unwrap();
        assert_eq!(
            end + 1,
            crate::mox::parse_rfc3339("2026-04-01T00:00:00Z").unwrap()
        );
        assert_eq!(
            parse_time_bound("2026-03-01T01:00:00+01:00", true),
            Some(day)
        );
        assert_eq!(parse_time_bound("March", false), None);
    }

    #[test]
    fn filters_compare_case_insensitively() {
        let h = MessageHeader {
            date: None,
            from: "Alice <Alice@Example.org>".into(),
            to: "bob@example.org".into(),
            subject: "Quarterly Report".into(),
            message_id: "abc@x".into(),
        };
        let f = MessageFilter {
            from: Some("alice@example".into()),
            subject: Some("REPORT".into()),
            message_id: Some("<ABC@x>".into()),
            ..Default::default()
        };
        assert!(f.matches(None, &h));
        let f = MessageFilter {
            to: Some("carol".into()),
            ..Default::default()
        };
        assert!(!f.matches(None, &h));
        let f = MessageFilter {
            since_ns: Some(10),
            ..Default::default()
        };
        assert!(!f.matches(None, &h));
        assert!(f.matches(Some(10), &h));
        assert!(!f.matches(Some(9), &h));
    }

    #[test]
    fn uid_ranges_are_compact() {
        assert_eq!(uid_ranges([9, 1, 2, 3, 5].into_iter()), "1-3, 5, 9");
        assert_eq!(uid_ranges(std::iter::empty()), "none");
    }
}
