//! `mailvault inspect`: what a mox data directory holds, read from consistent copies of its
//! databases.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::MoxError;
use super::bbolt::Bolt;
use super::datadir::{GLOBAL_DBS, QUEUE_DB, Source, message_path};
use super::dbcopy::copy_database;
use super::gotime::rfc3339_nanos;
use super::records::{AccountDb, queue_messages};

/// Everything `inspect` reports.
#[derive(Debug, Clone, Serialize)]
pub struct InspectReport {
    pub config_dir: Option<String>,
    pub data_dir: String,
    pub accounts: Vec<AccountReport>,
    pub queue: Vec<QueueReport>,
    /// Every database found, relative to the data dir.
    pub databases: Vec<DatabaseReport>,
}

/// A bbolt database file.
#[derive(Debug, Clone, Serialize)]
pub struct DatabaseReport {
    pub path: String,
    pub bytes: u64,
    pub page_size: u32,
    /// Pages in use (the meta page's high-water mark).
    pub pages: u64,
    pub txid: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountReport {
    pub name: String,
    /// False if the account has no database yet (mox creates it on first use).
    pub has_database: bool,
    pub last_modseq: i64,
    pub highest_deleted_modseq: i64,
    /// The last assigned message id.
    pub message_sequence: u64,
    pub message_records: u64,
    pub live_messages: u64,
    pub message_erase: u64,
    pub mailboxes: Vec<MailboxReport>,
    /// Every message record, tombstones included (only with `--messages`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<MessageReport>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MailboxReport {
    pub id: i64,
    pub name: String,
    pub parent_id: i64,
    pub expunged: bool,
    pub modseq: i64,
    pub createseq: i64,
    pub uidvalidity: u32,
    pub uidnext: u32,
    pub total: i64,
    pub deleted: i64,
    pub unread: i64,
    pub unseen: i64,
    pub size: i64,
    pub keywords: Vec<String>,
    pub special_use: Vec<&'static str>,
    /// Live messages in the mailbox.
    pub messages: u64,
    /// Expunged message records (tombstones) in the mailbox.
    pub expunged_records: u64,
    /// Highest message modseq, by a seek on `index.MailboxID+ModSeq` (0: no messages).
    pub max_message_modseq: i64,
    /// Sum of the sizes of the live messages.
    pub live_size: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MessageReport {
    pub id: i64,
    pub mailbox_id: i64,
    pub uid: u32,
    pub modseq: i64,
    pub createseq: i64,
    pub expunged: bool,
    pub size: i64,
    pub msgprefix_len: usize,
    /// The message file relative to the account dir ("msg/a/1"); None for expunged records.
    pub path: Option<String>,
    pub flags: Vec<&'static str>,
    pub keywords: Vec<String>,
    /// RFC 3339 in UTC, None if unset.
    pub received: Option<String>,
    pub thread_id: i64,
    pub message_id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct QueueReport {
    pub id: i64,
    pub base_id: i64,
    pub size: i64,
    pub msgprefix_len: usize,
    /// The message file relative to the data dir ("queue/a/1").
    pub path: String,
    pub hold: bool,
    pub sender: String,
    pub recipient: String,
}

/// Copies each database of `source` (under a short shared lock) into a temporary directory and
/// reports what the copies hold. A database locked by a running mox gives
/// [`MoxError::ServerRunning`].
pub fn inspect(source: &Source, with_messages: bool) -> Result<InspectReport, MoxError> {
    let tmp = tempfile::tempdir().map_err(|e| MoxError::io(std::env::temp_dir(), e))?;
    let mut n = 0;
    let mut copy = |rel: &str| -> Result<Option<Bolt>, MoxError> {
        let live = source.data_dir.join(rel);
        if !live.is_file() {
            return Ok(None);
        }
        n += 1;
        let dest = tmp.path().join(format!("{n}.db"));
        copy_database(&live, &dest)?;
        // Read from the copy, page by page; errors name the live file.
        Ok(Some(Bolt::open_lazy_named(&dest, live)?))
    };
    let mut databases = Vec::new();
    let mut record_db = |rel: &str, b: &Bolt| {
        databases.push(DatabaseReport {
            path: rel.to_string(),
            bytes: b.file_len(),
            page_size: b.page_size(),
            pages: b.page_count(),
            txid: b.txid(),
        });
    };
    for db in GLOBAL_DBS {
        if let Some(b) = copy(db)? {
            record_db(db, &b);
        }
    }
    let mut queue = Vec::new();
    if let Some(b) = copy(QUEUE_DB)? {
        record_db(QUEUE_DB, &b);
        for m in queue_messages(&b)? {
            queue.push(QueueReport {
                id: m.id,
                base_id: m.base_id,
                size: m.size,
                msgprefix_len: m.msgprefix.len(),
                path: format!("queue/{}", message_path(m.id)),
                hold: m.hold,
                sender: m.sender,
                recipient: m.recipient,
            });
        }
    }
    let mut accounts = Vec::new();
    for name in &source.accounts {
        let junk_rel = format!("accounts/{name}/junkfilter.db");
        if let Some(b) = copy(&junk_rel)? {
            record_db(&junk_rel, &b);
        }
        let rel = format!("accounts/{name}/index.db");
        let Some(bolt) = copy(&rel)? else {
            accounts.push(AccountReport {
                name: name.clone(),
                has_database: false,
                last_modseq: 0,
                highest_deleted_modseq: 0,
                message_sequence: 0,
                message_records: 0,
                live_messages: 0,
                message_erase: 0,
                mailboxes: Vec::new(),
                messages: with_messages.then(Vec::new),
            });
            continue;
        };
        record_db(&rel, &bolt);
        accounts.push(account_report(
            name,
            AccountDb::from_bolt(bolt),
            with_messages,
        )?);
    }
    Ok(InspectReport {
        config_dir: source
            .config_dir
            .as_deref()
            .map(|p| p.display().to_string()),
        data_dir: source.data_dir.display().to_string(),
        accounts,
        queue,
        databases,
    })
}

fn account_report(
    name: &str,
    db: AccountDb,
    with_messages: bool,
) -> Result<AccountReport, MoxError> {
    let sync = db.sync_state()?;
    let mailboxes = db.mailboxes()?;
    let messages = db.messages()?;
    #[derive(Default)]
    struct Counts {
        live: u64,
        expunged: u64,
        live_size: i64,
    }
    let mut counts: BTreeMap<i64, Counts> = BTreeMap::new();
    for m in &messages {
        let c = counts.entry(m.mailbox_id).or_default();
        if m.expunged {
            c.expunged += 1;
        } else {
            c.live += 1;
            c.live_size += m.size;
        }
    }
    let mut mreports = Vec::with_capacity(mailboxes.len());
    for mb in mailboxes {
        let c = counts.remove(&mb.id).unwrap_or_default();
        let su = mb.special_use;
        let special_use = [
            (su.archive, "\\Archive"),
            (su.draft, "\\Drafts"),
            (su.junk, "\\Junk"),
            (su.sent, "\\Sent"),
            (su.trash, "\\Trash"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| *n)
        .collect();
        mreports.push(MailboxReport {
            id: mb.id,
            max_message_modseq: db.max_message_modseq(mb.id)?.unwrap_or(0),
            name: mb.name,
            parent_id: mb.parent_id,
            expunged: mb.expunged,
            modseq: mb.modseq,
            createseq: mb.createseq,
            uidvalidity: mb.uidvalidity,
            uidnext: mb.uidnext,
            total: mb.total,
            deleted: mb.deleted,
            unread: mb.unread,
            unseen: mb.unseen,
            size: mb.size,
            keywords: mb.keywords,
            special_use,
            messages: c.live,
            expunged_records: c.expunged,
            live_size: c.live_size,
        });
    }
    let live = messages.iter().filter(|m| !m.expunged).count() as u64;
    let message_records = messages.len() as u64;
    let msg_reports = with_messages.then(|| {
        messages
            .into_iter()
            .map(|m| MessageReport {
                id: m.id,
                mailbox_id: m.mailbox_id,
                uid: m.uid,
                modseq: m.modseq,
                createseq: m.createseq,
                expunged: m.expunged,
                size: m.size,
                msgprefix_len: m.msgprefix.len(),
                path: (!m.expunged).then(|| format!("msg/{}", message_path(m.id))),
                flags: m.flags.names(),
                keywords: m.keywords,
                received: m.received.map(rfc3339_nanos),
                thread_id: m.thread_id,
                message_id: m.message_id,
            })
            .collect()
    });
    Ok(AccountReport {
        name: name.to_string(),
        has_database: true,
        last_modseq: sync.last_modseq,
        highest_deleted_modseq: sync.highest_deleted_modseq,
        message_sequence: db.message_sequence()?,
        message_records,
        live_messages: live,
        message_erase: db.message_erase_ids()?.len() as u64,
        mailboxes: mreports,
        messages: msg_reports,
    })
}

/// Inspects the installation at `path` (see [`Source::locate`]).
pub fn inspect_path(path: &Path, with_messages: bool) -> Result<InspectReport, MoxError> {
    inspect(&Source::locate(path)?, with_messages)
}
