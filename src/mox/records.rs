//! Typed views of the mox records a backup needs: account `SyncState`, `Mailbox`, `Message`,
//! `MessageErase`, and the queue's `Msg`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::MoxError;
use super::bbolt::{Bolt, Value};
use super::bstore::{Key, Record, Store, TypeSchema, decode_entry, int64_from_key, int64_key};
use super::gotime::time_unix_nanos;

/// Index of `Message` by mailbox and modseq: keys are `MailboxID (8) ModSeq (8) ID (8)`, each a
/// sign-flipped big-endian int64.
const INDEX_MAILBOX_MODSEQ: &str = "MailboxID+ModSeq";

/// The account's modseq counters (`SyncState`, a singleton).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SyncState {
    /// The last modseq handed out in the account.
    pub last_modseq: i64,
    pub highest_deleted_modseq: i64,
}

/// The special-use flags of a mailbox.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SpecialUse {
    pub archive: bool,
    pub draft: bool,
    pub junk: bool,
    pub sent: bool,
    pub trash: bool,
}

/// A mailbox record (deleted mailboxes stay, with `expunged` set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mailbox {
    pub id: i64,
    pub name: String,
    pub parent_id: i64,
    pub expunged: bool,
    /// Modseq of the last change in the mailbox (or of its deletion).
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
    pub special_use: SpecialUse,
}

/// The system and well-known flags of a message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Flags {
    pub seen: bool,
    pub answered: bool,
    pub flagged: bool,
    pub forwarded: bool,
    pub junk: bool,
    pub notjunk: bool,
    pub deleted: bool,
    pub draft: bool,
    pub phishing: bool,
    pub mdnsent: bool,
}

impl Flags {
    /// The set flags as IMAP names, in mox's order (system flags, then `$` keywords).
    pub fn names(&self) -> Vec<&'static str> {
        let all = [
            (self.seen, "\\Seen"),
            (self.answered, "\\Answered"),
            (self.flagged, "\\Flagged"),
            (self.deleted, "\\Deleted"),
            (self.draft, "\\Draft"),
            (self.forwarded, "$Forwarded"),
            (self.junk, "$Junk"),
            (self.notjunk, "$NotJunk"),
            (self.phishing, "$Phishing"),
            (self.mdnsent, "$MDNSent"),
        ];
        all.iter().filter(|(on, _)| *on).map(|(_, n)| *n).collect()
    }
}

/// A message record; expunged records (tombstones) carry little more than ids and modseqs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub id: i64,
    pub mailbox_id: i64,
    pub uid: u32,
    pub modseq: i64,
    pub createseq: i64,
    pub expunged: bool,
    /// len(msgprefix) + size of the message file.
    pub size: i64,
    /// Header lines served before the file's content.
    pub msgprefix: Vec<u8>,
    pub flags: Flags,
    pub keywords: Vec<String>,
    /// Received time, Unix nanoseconds (None if unset or unreadable).
    pub received: Option<i64>,
    pub thread_id: i64,
    pub message_id: String,
    /// What mox parsed of the message's header (`ParsedBuf`), when the record was read with
    /// it and holds it ([`AccountDb::messages_with_envelopes`],
    /// [`AccountDb::message_with_envelope`]); None otherwise.
    pub envelope: Option<Envelope>,
}

/// The header fields mox parsed from a message and keeps in its record (the envelope of
/// `Message.ParsedBuf`, IMAP ENVELOPE style). Strings are as mox decoded them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Envelope {
    /// The `Date:` header, RFC 3339 with its offset (None when absent or unparsable).
    pub date: Option<String>,
    pub subject: String,
    pub from: Vec<Address>,
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    /// The `Message-ID:` header as written (with its angle brackets).
    pub message_id: String,
}

/// An address of an [`Envelope`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    #[serde(rename = "Name", default)]
    pub name: String,
    #[serde(rename = "User", default)]
    pub user: String,
    #[serde(rename = "Host", default)]
    pub host: String,
}

impl Address {
    /// `user@host`, or the user alone without a host.
    pub fn addr(&self) -> String {
        match self.host.is_empty() {
            true => self.user.clone(),
            false => format!("{}@{}", self.user, self.host),
        }
    }
}

impl std::fmt::Display for Address {
    /// `Name <user@host>`, or `user@host` without a name.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.name.is_empty() {
            true => write!(f, "{}", self.addr()),
            false => write!(f, "{} <{}>", self.name, self.addr()),
        }
    }
}

impl Envelope {
    /// The envelope of a `ParsedBuf` (the JSON of mox's `message.Part`). None when the buffer
    /// is empty, is not such JSON, or has no envelope.
    pub fn from_parsed_buf(buf: &[u8]) -> Option<Envelope> {
        #[derive(Deserialize)]
        struct Part {
            #[serde(rename = "Envelope")]
            envelope: Option<Raw>,
        }
        #[derive(Deserialize)]
        struct Raw {
            #[serde(rename = "Date", default)]
            date: Option<String>,
            #[serde(rename = "Subject", default)]
            subject: Option<String>,
            #[serde(rename = "From", default)]
            from: Option<Vec<Address>>,
            #[serde(rename = "To", default)]
            to: Option<Vec<Address>>,
            #[serde(rename = "CC", default)]
            cc: Option<Vec<Address>>,
            #[serde(rename = "MessageID", default)]
            message_id: Option<String>,
        }
        if buf.is_empty() {
            return None;
        }
        let raw = serde_json::from_slice::<Part>(buf).ok()?.envelope?;
        Some(Envelope {
            // Go's zero time stands for a message without a (parsable) date.
            date: raw.date.filter(|d| !d.starts_with("0001-01-01")),
            subject: raw.subject.unwrap_or_default(),
            from: raw.from.unwrap_or_default(),
            to: raw.to.unwrap_or_default(),
            cc: raw.cc.unwrap_or_default(),
            message_id: raw.message_id.unwrap_or_default(),
        })
    }
}

/// A `MessageErase` record: an expunged message whose file and record still await erasure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MessageErase {
    pub id: i64,
    pub skip_update_disk_usage: bool,
}

/// An outgoing message in the queue (`queue.Msg`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueMsg {
    pub id: i64,
    /// The first Msg.ID of a multi-recipient submission (which share one hardlinked file); 0 if
    /// the message stands alone.
    pub base_id: i64,
    pub size: i64,
    pub msgprefix: Vec<u8>,
    pub hold: bool,
    pub sender: String,
    pub recipient: String,
}

fn key_i64(key: &Key) -> i64 {
    key.as_i64().unwrap_or(0)
}

fn u32_of(r: &Record, name: &str) -> u32 {
    u32::try_from(r.u64(name)).unwrap_or(u32::MAX)
}

fn received_nanos(r: &Record) -> Option<i64> {
    let b = r.bytes("Received");
    if b.is_empty() {
        return None;
    }
    time_unix_nanos(b).and_then(|n| i64::try_from(n).ok())
}

/// The `Message` fields the typed view reads, and any extra ones.
macro_rules! message_fields {
    ($($extra:literal),*) => {
        &[
            "MailboxID", "UID", "ModSeq", "CreateSeq", "Expunged", "Size", "MsgPrefix", "Seen",
            "Answered", "Flagged", "Forwarded", "Junk", "Notjunk", "Deleted", "Draft", "Phishing",
            "MDNSent", "Keywords", "Received", "ThreadID", "MessageID", $($extra),*
        ]
    };
}

/// The `Message` fields the typed view reads.
const MESSAGE_FIELDS: &[&str] = message_fields!();

/// [`MESSAGE_FIELDS`] and the parsed message (`ParsedBuf`), for readers of headers.
const MESSAGE_ENVELOPE_FIELDS: &[&str] = message_fields!("ParsedBuf");

impl Mailbox {
    /// The typed view of a `Mailbox` record.
    pub fn from_record(key: &Key, r: &Record) -> Mailbox {
        Mailbox {
            id: key_i64(key),
            name: r.str("Name").to_string(),
            parent_id: r.i64("ParentID"),
            expunged: r.bool("Expunged"),
            modseq: r.i64("ModSeq"),
            createseq: r.i64("CreateSeq"),
            uidvalidity: u32_of(r, "UIDValidity"),
            uidnext: u32_of(r, "UIDNext"),
            total: r.i64("Total"),
            deleted: r.i64("Deleted"),
            unread: r.i64("Unread"),
            unseen: r.i64("Unseen"),
            size: r.i64("Size"),
            keywords: r.strings("Keywords"),
            special_use: SpecialUse {
                archive: r.bool("Archive"),
                draft: r.bool("Draft"),
                junk: r.bool("Junk"),
                sent: r.bool("Sent"),
                trash: r.bool("Trash"),
            },
        }
    }
}

impl Message {
    /// The typed view of a `Message` record.
    pub fn from_record(key: &Key, r: &Record) -> Message {
        Message {
            id: key_i64(key),
            mailbox_id: r.i64("MailboxID"),
            uid: u32_of(r, "UID"),
            modseq: r.i64("ModSeq"),
            createseq: r.i64("CreateSeq"),
            expunged: r.bool("Expunged"),
            size: r.i64("Size"),
            msgprefix: r.bytes("MsgPrefix").to_vec(),
            flags: Flags {
                seen: r.bool("Seen"),
                answered: r.bool("Answered"),
                flagged: r.bool("Flagged"),
                forwarded: r.bool("Forwarded"),
                junk: r.bool("Junk"),
                notjunk: r.bool("Notjunk"),
                deleted: r.bool("Deleted"),
                draft: r.bool("Draft"),
                phishing: r.bool("Phishing"),
                mdnsent: r.bool("MDNSent"),
            },
            keywords: r.strings("Keywords"),
            received: received_nanos(r),
            thread_id: r.i64("ThreadID"),
            message_id: r.str("MessageID").to_string(),
            envelope: None,
        }
    }

    /// [`Message::from_record`] with the [`Envelope`] of the record's `ParsedBuf`.
    pub fn from_record_with_envelope(key: &Key, r: &Record) -> Message {
        Message {
            envelope: Envelope::from_parsed_buf(r.bytes("ParsedBuf")),
            ..Message::from_record(key, r)
        }
    }
}

impl QueueMsg {
    /// The typed view of a queue `Msg` record.
    pub fn from_record(key: &Key, r: &Record) -> QueueMsg {
        let addr = |local: &str, dom: &str| {
            let l = r.str(local);
            let d = r.str(dom);
            if l.is_empty() && d.is_empty() {
                String::new()
            } else {
                format!("{l}@{d}")
            }
        };
        QueueMsg {
            id: key_i64(key),
            base_id: r.i64("BaseID"),
            size: r.i64("Size"),
            msgprefix: r.bytes("MsgPrefix").to_vec(),
            hold: r.bool("Hold"),
            sender: addr("SenderLocalpart", "SenderDomainStr"),
            recipient: addr("RecipientLocalpart", "RecipientDomainStr"),
        }
    }
}

/// An account database opened read-only (always a COPY, never the live file).
pub struct AccountDb {
    bolt: Bolt,
    /// Schemas parsed so far, shared by every query.
    schemas: Mutex<HashMap<String, Arc<TypeSchema>>>,
}

impl std::fmt::Debug for AccountDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountDb")
            .field("bolt", &self.bolt)
            .finish()
    }
}

impl AccountDb {
    /// Opens the database file at `path`, a copy (see [`super::copy_database`]) that does not
    /// change while it is read. Pages are read as they are visited.
    pub fn open(path: &Path) -> Result<AccountDb, MoxError> {
        Ok(AccountDb::from_bolt(Bolt::open_lazy(path)?))
    }

    /// Uses an already read database.
    pub fn from_bolt(bolt: Bolt) -> AccountDb {
        AccountDb {
            bolt,
            schemas: Mutex::new(HashMap::new()),
        }
    }

    /// The bbolt file underneath.
    pub fn bolt(&self) -> &Bolt {
        &self.bolt
    }

    /// A bstore view of the database, for records without a typed view.
    pub fn store(&self) -> Store<'_> {
        Store::with_schemas(&self.bolt, self.cached_schemas().clone())
    }

    fn cached_schemas(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<TypeSchema>>> {
        // The map is only ever extended: a poisoned lock still holds valid entries.
        self.schemas.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The schema of `type_name`, parsed once per database.
    fn schema(&self, type_name: &str) -> Result<(), MoxError> {
        if self.cached_schemas().contains_key(type_name) {
            return Ok(());
        }
        let schema = Store::new(&self.bolt).schema(type_name)?;
        self.cached_schemas().insert(type_name.to_string(), schema);
        Ok(())
    }

    /// A store with the schema of `type_name` ready.
    fn store_for(&self, type_name: &str) -> Result<Store<'_>, MoxError> {
        self.schema(type_name)?;
        Ok(self.store())
    }

    /// The account's `SyncState`.
    pub fn sync_state(&self) -> Result<SyncState, MoxError> {
        let store = self.store_for("SyncState")?;
        let first = store.records("SyncState")?.next().transpose()?;
        let (_, rec) = match first {
            Some(r) => r,
            None => {
                return Err(MoxError::Page {
                    path: self.bolt.path().to_path_buf(),
                    page: store.records_bucket("SyncState")?.page_id(),
                    what: "account database has no SyncState record".into(),
                });
            }
        };
        Ok(SyncState {
            last_modseq: rec.i64("LastModSeq"),
            highest_deleted_modseq: rec.i64("HighestDeletedModSeq"),
        })
    }

    /// Every mailbox record, deleted ones included, by id.
    pub fn mailboxes(&self) -> Result<Vec<Mailbox>, MoxError> {
        let mut out = Vec::new();
        for r in self.store_for("Mailbox")?.records("Mailbox")? {
            let (k, rec) = r?;
            out.push(Mailbox::from_record(&k, &rec));
        }
        Ok(out)
    }

    /// Every message record, tombstones included, by id.
    pub fn messages(&self) -> Result<Vec<Message>, MoxError> {
        self.messages_iter()?.collect()
    }

    /// Every message record, tombstones included, by id, one at a time. Pages are read and
    /// dropped as the walk goes: memory stays bounded for accounts of any size.
    pub fn messages_iter(
        &self,
    ) -> Result<impl Iterator<Item = Result<Message, MoxError>> + '_, MoxError> {
        self.messages_iter_of(MESSAGE_FIELDS, Message::from_record)
    }

    /// Like [`AccountDb::messages_iter`], with each record's [`Envelope`] (what mox parsed of
    /// the header: subject, from, to, date, Message-ID) where the record holds one.
    pub fn messages_with_envelopes(
        &self,
    ) -> Result<impl Iterator<Item = Result<Message, MoxError>> + '_, MoxError> {
        self.messages_iter_of(MESSAGE_ENVELOPE_FIELDS, Message::from_record_with_envelope)
    }

    fn messages_iter_of(
        &self,
        fields: &'static [&'static str],
        view: fn(&Key, &Record) -> Message,
    ) -> Result<impl Iterator<Item = Result<Message, MoxError>> + '_, MoxError> {
        let store = self.store_for("Message")?;
        let schema = store.schema("Message")?;
        let mut stream = store.records_bucket("Message")?.stream();
        let path = self.bolt.path().to_path_buf();
        let mut done = false;
        Ok(std::iter::from_fn(move || {
            if done {
                return None;
            }
            let r = stream.next_with(|page, k, v| {
                decode_entry(&schema, &path, page, k, v, Some(fields))
                    .map(|(key, rec)| view(&key, &rec))
            });
            match r {
                Ok(Some(Ok(m))) => Some(Ok(m)),
                Ok(None) => {
                    done = true;
                    None
                }
                Ok(Some(Err(e))) | Err(e) => {
                    done = true;
                    Some(Err(e))
                }
            }
        }))
    }

    /// The message record with `id`.
    pub fn message(&self, id: i64) -> Result<Option<Message>, MoxError> {
        let key = int64_key(id);
        Ok(self
            .store_for("Message")?
            .get("Message", &key)?
            .map(|rec| Message::from_record(&Key::Int(id), &rec)))
    }

    /// The message record with `id`, with its [`Envelope`].
    pub fn message_with_envelope(&self, id: i64) -> Result<Option<Message>, MoxError> {
        let key = int64_key(id);
        Ok(self
            .store_for("Message")?
            .get("Message", &key)?
            .map(|rec| Message::from_record_with_envelope(&Key::Int(id), &rec)))
    }

    /// Message ids of `mailbox_id` whose ModSeq > `after`, via index.MailboxID+ModSeq (seek; cost
    /// proportional to the result). Returns (modseq, id) pairs in index order.
    pub fn changed_since(&self, mailbox_id: i64, after: i64) -> Result<Vec<(i64, i64)>, MoxError> {
        let index = self.store().index("Message", INDEX_MAILBOX_MODSEQ)?;
        let prefix = int64_key(mailbox_id);
        let mut start = prefix.to_vec();
        match after.checked_add(1) {
            Some(from) => start.extend_from_slice(&int64_key(from)),
            None => return Ok(Vec::new()),
        }
        let mut out = Vec::new();
        let mut c = index.cursor();
        let mut e = c.seek(&start)?;
        while let Some((k, v)) = e {
            if !k.starts_with(&prefix) {
                break;
            }
            out.push(self.parse_index_key(k, v, c.page_id())?);
            e = c.next()?;
        }
        Ok(out)
    }

    /// Highest message ModSeq in the mailbox by a seek on the same index (None if no messages).
    pub fn max_message_modseq(&self, mailbox_id: i64) -> Result<Option<i64>, MoxError> {
        let index = self.store().index("Message", INDEX_MAILBOX_MODSEQ)?;
        let prefix = int64_key(mailbox_id);
        // Greater than every 24-byte key with this prefix.
        let mut after = prefix.to_vec();
        after.extend_from_slice(&[0xff; 17]);
        let mut c = index.cursor();
        let e = match c.seek(&after)? {
            Some(_) => c.prev()?,
            None => c.last()?,
        };
        match e {
            Some((k, v)) if k.starts_with(&prefix) => {
                Ok(Some(self.parse_index_key(k, v, c.page_id())?.0))
            }
            _ => Ok(None),
        }
    }

    fn parse_index_key(
        &self,
        k: &[u8],
        v: Value<'_>,
        page: Option<u64>,
    ) -> Result<(i64, i64), MoxError> {
        let bad = || MoxError::Page {
            path: self.bolt.path().to_path_buf(),
            page: page.unwrap_or(0),
            what: format!(
                "Message index {INDEX_MAILBOX_MODSEQ}: bad key {}",
                super::bstore::hex(k)
            ),
        };
        if k.len() != 24 || !matches!(v, Value::Data(_)) {
            return Err(bad());
        }
        let modseq = int64_from_key(&k[8..16]).ok_or_else(bad)?;
        let id = int64_from_key(&k[16..24]).ok_or_else(bad)?;
        Ok((modseq, id))
    }

    /// Ids of the `MessageErase` records (expunged messages whose files still exist).
    pub fn message_erase_ids(&self) -> Result<Vec<i64>, MoxError> {
        Ok(self.message_erases()?.into_iter().map(|e| e.id).collect())
    }

    /// The `MessageErase` records.
    pub fn message_erases(&self) -> Result<Vec<MessageErase>, MoxError> {
        let mut out = Vec::new();
        for r in self.store_for("MessageErase")?.records("MessageErase")? {
            let (k, rec) = r?;
            out.push(MessageErase {
                id: key_i64(&k),
                skip_update_disk_usage: rec.bool("SkipUpdateDiskUsage"),
            });
        }
        Ok(out)
    }

    /// The last assigned message id (bbolt sequence of `Message/records`).
    pub fn message_sequence(&self) -> Result<u64, MoxError> {
        self.store().sequence("Message")
    }
}

/// Reads the queue database (`queue/index.db`, a copy) and returns its messages by id.
pub fn read_queue(path: &Path) -> Result<Vec<QueueMsg>, MoxError> {
    let bolt = Bolt::open_lazy(path)?;
    queue_messages(&bolt)
}

/// The queue messages of an already read queue database.
pub fn queue_messages(bolt: &Bolt) -> Result<Vec<QueueMsg>, MoxError> {
    let store = Store::new(bolt);
    let mut out = Vec::new();
    for r in store.records("Msg")? {
        let (k, rec) = r?;
        out.push(QueueMsg::from_record(&k, &rec));
    }
    Ok(out)
}
