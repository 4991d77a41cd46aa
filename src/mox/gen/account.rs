//! One account as mox keeps it, and the operations that change it the way mox changes it:
//! delivery, flag changes, expunge (with erasure) and move, each with its modseq bookkeeping.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::super::bbolt_write::{self, BoltBucket, BucketChanges, StreamWriter};
use super::super::bstore_encode::{GoTime, Record, StoreData, Value, index_keys, int64_key};
use super::content::Rng;
use super::table::MessageTable;
use super::{MailboxReport, MessageReport, SCHEMA_ACCOUNT, io_err, mkdirs};
use crate::Error as GenError;
use crate::mox::message_path as datadir_path;

/// Special-use fields in mox's field order, with their IMAP names (RFC 6154).
pub(crate) const SPECIAL_USE: [(&str, &str); 5] = [
    ("Archive", "\\Archive"),
    ("Draft", "\\Drafts"),
    ("Junk", "\\Junk"),
    ("Sent", "\\Sent"),
    ("Trash", "\\Trash"),
];

/// A message about to be delivered.
pub(crate) struct NewMessage {
    /// Every field but ID, UID, MailboxID, ModSeq, CreateSeq (set by `deliver`).
    pub record: Record,
    /// File content, or an existing file to hardlink (another account's delivery).
    pub file: FileSource,
    pub prefix_len: usize,
}

pub(crate) enum FileSource {
    Bytes(Vec<u8>),
    Link(PathBuf),
}

pub(crate) struct Account {
    pub name: String,
    /// The account directory (`<data>/accounts/<name>`).
    pub dir: PathBuf,
    /// Every type but the Message records and their indices (those are in `messages`).
    pub store: StoreData,
    /// Mailbox records by id.
    pub mailboxes: BTreeMap<i64, Record>,
    /// Every Message record by id, tombstones included (spilled to a temporary file).
    pub messages: MessageTable,
    /// Changed Message records (a loaded account; a new one writes every record).
    dirty: BTreeSet<i64>,
    pub last_modseq: i64,
    pub next_uidvalidity: u32,
    /// Files written or removed (relative to the account dir), in order (a loaded account
    /// only: a new one writes them all).
    pub files_added: Vec<String>,
    pub files_removed: Vec<String>,
    /// The bbolt transaction id of the file this account was read from (0 when new).
    pub txid: u64,
    /// The store as read (a loaded account; its Message type holds no records): what
    /// `finish` compares the store with.
    loaded: Option<StoreData>,
}

impl Account {
    /// A new account with the standard mailboxes, as mox creates it (all at modseq 2).
    pub(crate) fn create(name: &str, dir: &Path, uidvalidity: u32) -> Result<Account, GenError> {
        let store = StoreData::from_schema_lines(SCHEMA_ACCOUNT)?;
        mkdirs(dir)?;
        let messages = MessageTable::new(store.type_data("Message")?.schema.clone(), dir)?;
        let mut a = Account {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            store,
            mailboxes: BTreeMap::new(),
            messages,
            dirty: BTreeSet::new(),
            last_modseq: 1,
            next_uidvalidity: uidvalidity,
            files_added: Vec::new(),
            files_removed: Vec::new(),
            txid: 0,
            loaded: None,
        };
        let modseq = a.next_modseq();
        let uidvalidity = a.take_uidvalidity();
        for (name, special) in [
            ("Inbox", None),
            ("Archive", Some("Archive")),
            ("Drafts", Some("Draft")),
            ("Junk", Some("Junk")),
            ("Sent", Some("Sent")),
            ("Trash", Some("Trash")),
        ] {
            a.add_mailbox(name, special, modseq, uidvalidity);
        }
        Ok(a)
    }

    /// Reads an account database written earlier, without holding it in memory: the Message
    /// records stream from their bucket into the table (their index buckets are not read; a
    /// change's index keys are derived from the record before and after), the other types are
    /// read into the store, and a copy of them is kept to find what changed.
    pub(crate) fn load(name: &str, dir: &Path) -> Result<Account, GenError> {
        let db = dir.join("index.db");
        let bolt = crate::mox::Bolt::open_lazy(&db)?;
        let txid = bolt.txid();
        let root = bolt.root();
        let mut tree = BoltBucket::new();
        tree.sequence = root.sequence();
        let mut records = None;
        for item in root.iter() {
            let (name, value) = item?;
            let crate::mox::Value::Bucket(b) = value else {
                continue;
            };
            if name != b"Message" {
                *tree.bucket_mut(name) = BoltBucket::load(&b)?;
                continue;
            }
            let mb = tree.bucket_mut(name);
            mb.sequence = b.sequence();
            if let Some(t) = b.bucket(b"types")? {
                *mb.bucket_mut(b"types") = BoltBucket::load(&t)?;
            }
            if let Some(r) = b.bucket(b"records")? {
                mb.bucket_mut(b"records").sequence = r.sequence();
                records = Some(r);
            }
        }
        let store = StoreData::from_bucket(&tree)?;
        drop(tree);
        let decode_all = |t: &str| -> Result<BTreeMap<i64, Record>, GenError> {
            let td = store.type_data(t)?;
            let mut out = BTreeMap::new();
            for (pk, v) in &td.records {
                let r = super::super::bstore_encode::decode_record(&td.schema, pk, v)
                    .map_err(|e| GenError::corrupt(&db, e.to_string()))?;
                out.insert(r.int("ID"), r);
            }
            Ok(out)
        };
        let mailboxes = decode_all("Mailbox")?;
        let schema = store.type_data("Message")?.schema.clone();
        let mut messages = MessageTable::new(schema.clone(), dir)?;
        if let Some(records) = records {
            let mut stream = records.stream();
            while let Some(r) = stream.next_with(|_, pk, v| {
                super::super::bstore_encode::decode_record(&schema, pk, v)
                    .map_err(|e| GenError::corrupt(&db, e.to_string()))
            })? {
                messages.put(&r?)?;
            }
        }
        messages.track_changes();
        let sync = decode_all("SyncState")?;
        let next = decode_all("NextUIDValidity")?;
        Ok(Account {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            mailboxes,
            messages,
            dirty: BTreeSet::new(),
            last_modseq: sync.get(&1).map(|r| r.int("LastModSeq")).unwrap_or(1),
            next_uidvalidity: next.get(&1).map(|r| r.int("Next") as u32).unwrap_or(1),
            files_added: Vec::new(),
            files_removed: Vec::new(),
            txid,
            loaded: Some(store.clone()),
            store,
        })
    }

    /// The next account-wide modseq (mox: `nextModSeq`, the first one handed out is 2).
    pub(crate) fn next_modseq(&mut self) -> i64 {
        self.last_modseq += 1;
        self.last_modseq
    }

    fn take_uidvalidity(&mut self) -> u32 {
        let v = self.next_uidvalidity;
        self.next_uidvalidity += 1;
        v
    }

    fn add_mailbox(&mut self, name: &str, special: Option<&str>, modseq: i64, uidvalidity: u32) {
        let id = self.mailboxes.keys().next_back().copied().unwrap_or(0) + 1;
        let parent_id = name
            .rsplit_once('/')
            .and_then(|(parent, _)| self.mailbox_id(parent))
            .unwrap_or(0);
        let mut r = Record::new()
            .with("ID", Value::Int(id))
            .with("CreateSeq", Value::Int(modseq))
            .with("ModSeq", Value::Int(modseq))
            .with("ParentID", Value::Int(parent_id))
            .with("Name", Value::Str(name.to_string()))
            .with("UIDValidity", Value::Uint(u64::from(uidvalidity)))
            .with("UIDNext", Value::Uint(1))
            .with("HaveCounts", Value::Bool(true));
        if let Some(s) = special {
            r.set(s, Value::Bool(true));
        }
        self.mailboxes.insert(id, r);
    }

    /// Creates a mailbox and its missing parents, with one modseq and one UIDValidity each
    /// (as an IMAP CREATE of a nested name does).
    pub(crate) fn create_mailbox(&mut self, name: &str) -> i64 {
        if let Some(id) = self.mailbox_id(name) {
            return id;
        }
        let modseq = self.next_modseq();
        let mut path = String::new();
        for (i, part) in name.split('/').enumerate() {
            if i > 0 {
                path.push('/');
            }
            path.push_str(part);
            if self.mailbox_id(&path).is_none() {
                let v = self.take_uidvalidity();
                self.add_mailbox(&path.clone(), None, modseq, v);
            }
        }
        self.mailbox_id(name).unwrap_or(0)
    }

    pub(crate) fn mailbox_id(&self, name: &str) -> Option<i64> {
        self.mailboxes
            .values()
            .find(|m| m.str("Name") == name && !m.bool("Expunged"))
            .map(|m| m.int("ID"))
    }

    fn message_seq(&self) -> i64 {
        let t = self
            .store
            .type_data("Message")
            .map(|t| t.sequence)
            .unwrap_or(0) as i64;
        t.max(self.messages.max_id())
    }

    fn bump_mailbox(&mut self, mailbox_id: i64, modseq: i64, keywords: &[String]) {
        if let Some(mb) = self.mailboxes.get_mut(&mailbox_id) {
            mb.set("ModSeq", Value::Int(modseq));
            let mut kw = mb.strings("Keywords");
            let before = kw.len();
            for k in keywords {
                if !kw.contains(k) {
                    kw.push(k.clone());
                }
            }
            if kw.len() != before {
                mb.set(
                    "Keywords",
                    Value::List(kw.into_iter().map(Value::Str).collect()),
                );
            }
        }
    }

    fn take_uid(&mut self, mailbox_id: i64) -> u32 {
        let mb = self.mailboxes.get_mut(&mailbox_id).expect("mailbox exists");
        let uid = mb.int("UIDNext") as u32;
        mb.set("UIDNext", Value::Uint(u64::from(uid) + 1));
        uid
    }

    /// Delivers a message (mox `MessageAdd`): new id, UID = UIDNext, ModSeq = CreateSeq = the
    /// next modseq, the file at `msg/<dir>/<id>`. Returns the id.
    pub(crate) fn deliver(&mut self, mailbox_id: i64, m: NewMessage) -> Result<i64, GenError> {
        let id = self.message_seq() + 1;
        let uid = self.take_uid(mailbox_id);
        let modseq = self.next_modseq();
        let mut r = m.record;
        r.set("ID", Value::Int(id));
        r.set("UID", Value::Uint(u64::from(uid)));
        r.set("MailboxID", Value::Int(mailbox_id));
        r.set("ModSeq", Value::Int(modseq));
        r.set("CreateSeq", Value::Int(modseq));
        if r.int("ThreadID") == 0 {
            r.set("ThreadID", Value::Int(id));
        }
        let rel = format!("msg/{}", datadir_path(id));
        let path = self.dir.join(&rel);
        if let Some(parent) = path.parent() {
            mkdirs(parent)?;
        }
        let file_len = match &m.file {
            FileSource::Bytes(b) => {
                write_file(&path, b, 0o660)?;
                b.len()
            }
            FileSource::Link(src) => {
                std::fs::hard_link(src, &path).map_err(|e| {
                    let what = format!("linking to {}: {e}", src.display());
                    io_err(&path, std::io::Error::new(e.kind(), what))
                })?;
                std::fs::metadata(&path)
                    .map_err(|e| io_err(&path, e))?
                    .len() as usize
            }
        };
        r.set("Size", Value::Int((m.prefix_len + file_len) as i64));
        let keywords = r.strings("Keywords");
        self.bump_mailbox(mailbox_id, modseq, &keywords);
        self.messages.put(&r)?;
        self.mark(id);
        if self.txid != 0 {
            self.files_added.push(rel);
        }
        Ok(id)
    }

    /// Notes a changed record (a new account writes them all anyway).
    fn mark(&mut self, id: i64) {
        if self.txid != 0 {
            self.dirty.insert(id);
        }
    }

    /// The absolute path of message `id`'s file.
    pub(crate) fn message_file(&self, id: i64) -> PathBuf {
        self.dir.join("msg").join(datadir_path(id))
    }

    /// Changes flags/keywords of `ids` (all in `mailbox_id`) with one new modseq, as one
    /// IMAP STORE does.
    pub(crate) fn store_flags(
        &mut self,
        mailbox_id: i64,
        ids: &[i64],
        mut change: impl FnMut(&mut Record),
    ) -> Result<i64, GenError> {
        let modseq = self.next_modseq();
        let mut keywords = Vec::new();
        for &id in ids {
            if let Some(mut r) = self.messages.get(id)? {
                change(&mut r);
                r.set("ModSeq", Value::Int(modseq));
                for k in r.strings("Keywords") {
                    if !keywords.contains(&k) {
                        keywords.push(k);
                    }
                }
                self.messages.put(&r)?;
                self.mark(id);
            }
        }
        self.bump_mailbox(mailbox_id, modseq, &keywords);
        Ok(modseq)
    }

    /// The record a message is cleared to when erased (mox `Message.erase`).
    fn erased(r: &Record, id: i64, modseq: i64) -> Record {
        Record::new()
            .with("ID", Value::Int(id))
            .with("UID", Value::Uint(r.int("UID") as u64))
            .with("MailboxID", Value::Int(r.int("MailboxID")))
            .with("ModSeq", Value::Int(modseq))
            .with("CreateSeq", Value::Int(r.int("CreateSeq")))
            .with("Expunged", Value::Bool(true))
            .with("ThreadID", Value::Int(r.int("ThreadID")))
    }

    /// Expunges `ids` from `mailbox_id` with one new modseq and erases them right away: the
    /// records become tombstones, the files are removed.
    pub(crate) fn expunge(&mut self, mailbox_id: i64, ids: &[i64]) -> Result<i64, GenError> {
        let modseq = self.next_modseq();
        for &id in ids {
            let Some(r) = self.messages.get(id)? else {
                continue;
            };
            let t = Self::erased(&r, id, modseq);
            self.messages.put(&t)?;
            self.mark(id);
            let path = self.message_file(id);
            std::fs::remove_file(&path).map_err(|e| io_err(&path, e))?;
            if self.txid != 0 {
                self.files_removed.push(format!("msg/{}", datadir_path(id)));
            }
        }
        self.bump_mailbox(mailbox_id, modseq, &[]);
        Ok(modseq)
    }

    /// Moves `ids` from `src` to `dst` with one new modseq (mox `xmoveMessages`): each message
    /// keeps its id and file and gets a new UID; a tombstone with a new id and the old UID is
    /// left in `src` (already erased: its temporary hardlink is never made).
    pub(crate) fn move_messages(
        &mut self,
        src: i64,
        dst: i64,
        ids: &[i64],
        now: GoTime,
    ) -> Result<Vec<i64>, GenError> {
        let modseq = self.next_modseq();
        let mut keywords = Vec::new();
        let mut tombs = Vec::new();
        for &id in ids {
            let Some(mut r) = self.messages.get(id)? else {
                continue;
            };
            let tomb_id = self.message_seq() + 1;
            let tomb = Self::erased(&r, tomb_id, modseq);
            self.messages.put(&tomb)?;
            self.mark(tomb_id);
            tombs.push(tomb_id);
            let uid = self.take_uid(dst);
            r.set("MailboxID", Value::Int(dst));
            r.set("UID", Value::Uint(u64::from(uid)));
            r.set("ModSeq", Value::Int(modseq));
            r.set("CreateSeq", Value::Int(modseq));
            r.set("SaveDate", Value::Ptr(Box::new(Value::Time(now))));
            for k in r.strings("Keywords") {
                if !keywords.contains(&k) {
                    keywords.push(k);
                }
            }
            self.messages.put(&r)?;
            self.mark(id);
        }
        self.bump_mailbox(src, modseq, &[]);
        self.bump_mailbox(dst, modseq, &keywords);
        Ok(tombs)
    }

    /// Live messages of a mailbox, by id.
    pub(crate) fn live_in(&self, mailbox_id: i64) -> Vec<i64> {
        self.messages
            .live(mailbox_id)
            .map(|l| l.to_vec())
            .unwrap_or_default()
    }

    /// The `i`-th live message of a mailbox (by id), `i` below [`Account::live_count`].
    pub(crate) fn live_at(&self, mailbox_id: i64, i: usize) -> i64 {
        self.messages.live(mailbox_id).map_or(0, |l| l.get(i))
    }

    /// Number of live messages in a mailbox.
    pub(crate) fn live_count(&self, mailbox_id: i64) -> usize {
        self.messages.live(mailbox_id).map_or(0, |l| l.len())
    }

    /// `n` distinct live messages of a mailbox, ascending: what [`super::pick_n`] picks from
    /// [`Account::live_in`], without listing the mailbox.
    pub(crate) fn pick_live(&self, rng: &mut Rng, mailbox_id: i64, n: usize) -> Vec<i64> {
        match self.messages.live(mailbox_id) {
            Some(l) => super::pick_indices(rng, l.len(), n)
                .into_iter()
                .map(|i| l.get(i))
                .collect(),
            None => Vec::new(),
        }
    }

    /// Mailbox counts (Total, Deleted, Unread, Unseen, Size) recomputed from the messages,
    /// as mox counts them.
    fn counts(&self) -> BTreeMap<i64, [i64; 5]> {
        let mut c: BTreeMap<i64, [i64; 5]> = BTreeMap::new();
        for (_, m) in self.messages.metas() {
            if m.expunged {
                continue;
            }
            let e = c.entry(m.mailbox_id).or_default();
            if m.deleted {
                e[1] += 1;
            } else {
                e[0] += 1;
            }
            if !m.seen {
                e[3] += 1;
                if !m.deleted {
                    e[2] += 1;
                }
            }
            e[4] += m.size;
        }
        c
    }

    /// Sum of the sizes of live messages (what `DiskUsage` holds).
    pub(crate) fn disk_usage(&self) -> i64 {
        self.messages
            .metas()
            .filter(|(_, m)| !m.expunged)
            .map(|(_, m)| m.size)
            .sum()
    }

    /// Writes every changed record and the account-wide singletons, then `index.db`.
    /// Returns the size of the database file.
    pub(crate) fn finish(&mut self) -> Result<u64, GenError> {
        let counts = self.counts();
        let names: Vec<(i64, String)> = self
            .mailboxes
            .iter()
            .map(|(id, r)| (*id, r.str("Name").to_string()))
            .collect();
        for (id, mb) in self.mailboxes.iter_mut() {
            let c = counts.get(id).copied().unwrap_or_default();
            for (i, f) in ["Total", "Deleted", "Unread", "Unseen", "Size"]
                .iter()
                .enumerate()
            {
                mb.set(f, Value::Int(c[i]));
            }
        }
        for mb in self.mailboxes.values() {
            self.store.insert("Mailbox", mb)?;
        }
        for (_, name) in &names {
            self.store.insert(
                "Subscription",
                &Record::new().with("Name", Value::Str(name.clone())),
            )?;
        }
        let disk = self.disk_usage();
        let st = &mut self.store;
        st.insert(
            "SyncState",
            &Record::new()
                .with("ID", Value::Int(1))
                .with("LastModSeq", Value::Int(self.last_modseq))
                .with("HighestDeletedModSeq", Value::Int(-1)),
        )?;
        st.insert(
            "NextUIDValidity",
            &Record::new()
                .with("ID", Value::Int(1))
                .with("Next", Value::Uint(u64::from(self.next_uidvalidity))),
        )?;
        st.insert(
            "DiskUsage",
            &Record::new()
                .with("ID", Value::Int(1))
                .with("MessageSize", Value::Int(disk)),
        )?;
        st.insert(
            "Upgrade",
            &Record::new()
                .with("ID", Value::Uint(1))
                .with("Threads", Value::Uint(2))
                .with("MailboxModSeq", Value::Bool(true))
                .with("MailboxParentID", Value::Bool(true))
                .with("MailboxCounts", Value::Bool(true))
                .with("MessageParseVersion", Value::Int(2)),
        )?;
        st.insert("Settings", &Record::new().with("ID", Value::Uint(1)))?;
        mkdirs(&self.dir)?;
        let path = self.dir.join("index.db");
        if self.txid == 0 {
            self.txid = 2;
            self.write_new(&path)
        } else {
            // Over the existing file, as a transaction: unchanged pages stay in place.
            let changes = self.changes()?;
            self.txid += 1;
            Ok(bbolt_write::patch_file(&path, &changes)?)
        }
    }

    /// What changed in the database of a loaded account: the changed Message records and the
    /// index keys they drop and gain, and every difference between the store and the store as
    /// read (the other types).
    fn changes(&mut self) -> Result<BucketChanges, GenError> {
        let before = self
            .loaded
            .take()
            .ok_or_else(|| GenError::Invalid("changes of a new account".into()))?;
        let mut ch = BucketChanges::default();
        for (name, td) in &self.store.types {
            let Some(old) = before.types.get(name) else {
                return Err(GenError::Invalid(format!(
                    "type {name} not in the database"
                )));
            };
            let tb = ch.bucket_mut(name.as_bytes());
            let rb = tb.bucket_mut(b"records");
            for (pk, v) in &td.records {
                if old.records.get(pk) != Some(v) {
                    rb.put(pk.clone(), v.clone());
                }
            }
            for pk in old.records.keys() {
                if !td.records.contains_key(pk) {
                    rb.delete(pk.clone());
                }
            }
            if td.sequence != old.sequence {
                rb.sequence = Some(td.sequence);
            }
            for (idx, (keys, old_keys)) in td
                .schema
                .indices
                .iter()
                .zip(td.index_keys.iter().zip(&old.index_keys))
            {
                let ib = tb.bucket_mut(format!("index.{}", idx.name).as_bytes());
                for k in keys.difference(old_keys) {
                    ib.put(k.clone(), Vec::new());
                }
                for k in old_keys.difference(keys) {
                    ib.delete(k.clone());
                }
            }
        }
        // The Message records live in the table: only the changed ones are looked at.
        let tv = self.store.type_data("Message")?.schema.clone();
        let mb = ch.bucket_mut(b"Message");
        let dirty = std::mem::take(&mut self.dirty);
        for &id in &dirty {
            let pk = int64_key(id);
            let decode = |v: &[u8]| super::super::bstore_encode::decode_record(&tv, &pk, v);
            let new = self
                .messages
                .encoded(id)?
                .ok_or_else(|| GenError::Invalid(format!("no message record {id}")))?;
            let old = self.messages.original(id)?;
            if old.as_deref() == Some(new.as_slice()) {
                continue;
            }
            let new_r = decode(&new)?;
            let old_r = old.as_deref().map(decode).transpose()?;
            for idx in &tv.indices {
                let keys: BTreeSet<Vec<u8>> =
                    index_keys(&tv, idx, &new_r, &pk)?.into_iter().collect();
                let old_keys: BTreeSet<Vec<u8>> = match &old_r {
                    Some(r) => index_keys(&tv, idx, r, &pk)?.into_iter().collect(),
                    None => BTreeSet::new(),
                };
                let ib = mb.bucket_mut(format!("index.{}", idx.name).as_bytes());
                for k in keys.difference(&old_keys) {
                    ib.put(k.clone(), Vec::new());
                }
                for k in old_keys.difference(&keys) {
                    ib.delete(k.clone());
                }
            }
            mb.bucket_mut(b"records").put(pk.to_vec(), new);
        }
        let sequence = self.message_seq() as u64;
        let old_sequence = before.type_data("Message")?.sequence;
        if sequence != old_sequence {
            mb.bucket_mut(b"records").sequence = Some(sequence);
        }
        Ok(ch)
    }

    /// Writes `index.db` of a new account without holding it in memory: the Message records
    /// stream from the table into their bucket's pages, each index's keys go through a
    /// temporary file and are sorted one index at a time; the other types come from the store.
    fn write_new(&mut self, path: &Path) -> Result<u64, GenError> {
        use std::io::{BufWriter, Read, Seek, Write};
        let tv = self.store.type_data("Message")?.schema.clone();
        let sequence = self.message_seq() as u64;
        let mut w = StreamWriter::create(path, 0o640)?;
        let mut spills = Vec::with_capacity(tv.indices.len());
        for _ in &tv.indices {
            let f = tempfile::tempfile_in(&self.dir).map_err(|e| io_err(&self.dir, e))?;
            spills.push(BufWriter::with_capacity(1 << 20, f));
        }
        let spill_err = |e| io_err(Path::new("index spill file"), e);
        let table = &self.messages;
        let records = w.bucket(
            sequence,
            table
                .ids()
                .map(|id| -> Result<(Vec<u8>, Vec<u8>), GenError> {
                    let pk = int64_key(id).to_vec();
                    let v = table
                        .encoded(id)?
                        .ok_or_else(|| GenError::Invalid(format!("no message record {id}")))?;
                    let r = super::super::bstore_encode::decode_record(&tv, &pk, &v)?;
                    for (idx, spill) in tv.indices.iter().zip(spills.iter_mut()) {
                        for key in index_keys(&tv, idx, &r, &pk)? {
                            spill
                                .write_all(&(key.len() as u32).to_le_bytes())
                                .and_then(|()| spill.write_all(&key))
                                .map_err(spill_err)?;
                        }
                    }
                    Ok((pk, v))
                }),
        )?;
        let mut written = vec![(b"records".to_vec(), records)];
        for (idx, spill) in tv.indices.iter().zip(spills) {
            let mut f = spill.into_inner().map_err(|e| spill_err(e.into_error()))?;
            let size = f.metadata().map_err(spill_err)?.len() as usize;
            let mut buf = Vec::with_capacity(size);
            f.rewind()
                .and_then(|()| f.read_to_end(&mut buf))
                .map_err(spill_err)?;
            drop(f);
            let mut keys: Vec<(usize, usize)> = Vec::new();
            let mut at = 0;
            while at + 4 <= buf.len() {
                let len = u32::from_le_bytes(buf[at..at + 4].try_into().expect("4 bytes")) as usize;
                keys.push((at + 4, len));
                at += 4 + len;
            }
            let key = |&(o, l): &(usize, usize)| &buf[o..o + l];
            keys.sort_unstable_by(|a, b| key(a).cmp(key(b)));
            keys.dedup_by(|a, b| key(a) == key(b));
            let entry = w.bucket(
                0,
                keys.iter()
                    .map(|k| Ok::<_, GenError>((key(k).to_vec(), Vec::new()))),
            )?;
            written.push((format!("index.{}", idx.name).into_bytes(), entry));
        }
        let mut root = self.store.to_bucket();
        let mb = root.bucket_mut(b"Message");
        for (name, entry) in written {
            mb.entries.insert(name, entry);
        }
        Ok(w.finish(&root, self.txid)?)
    }

    /// What the account holds now, for the report.
    /// `detailed`: with every message record (else `messages` is empty).
    pub(crate) fn report(&self, detailed: bool) -> Result<super::AccountReport, GenError> {
        // Per mailbox: live, tombstones, highest message modseq.
        let mut per_box: BTreeMap<i64, (u64, u64, Option<i64>)> = BTreeMap::new();
        let mut live_messages = 0;
        for (_, m) in self.messages.metas() {
            let e = per_box.entry(m.mailbox_id).or_default();
            if m.expunged {
                e.1 += 1;
            } else {
                e.0 += 1;
                live_messages += 1;
            }
            e.2 = Some(e.2.map_or(m.mod_seq, |x| x.max(m.mod_seq)));
        }
        let mut messages = Vec::new();
        if detailed {
            messages.reserve(self.messages.len());
            for id in self.messages.ids() {
                messages.push(MessageReport::from_record(&self.messages.must(id)?));
            }
        }
        let mailboxes = self
            .mailboxes
            .values()
            .map(|mb| {
                let id = mb.int("ID");
                let (live, tomb, max_modseq) = per_box.get(&id).copied().unwrap_or_default();
                MailboxReport {
                    id,
                    name: mb.str("Name").to_string(),
                    parent_id: mb.int("ParentID"),
                    expunged: mb.bool("Expunged"),
                    create_seq: mb.int("CreateSeq"),
                    mod_seq: mb.int("ModSeq"),
                    uid_validity: mb.int("UIDValidity") as u32,
                    uid_next: mb.int("UIDNext") as u32,
                    special_use: SPECIAL_USE
                        .iter()
                        .filter(|(f, _)| mb.bool(f))
                        .map(|(_, n)| n.to_string())
                        .collect(),
                    keywords: mb.strings("Keywords"),
                    total: mb.int("Total"),
                    deleted: mb.int("Deleted"),
                    unread: mb.int("Unread"),
                    unseen: mb.int("Unseen"),
                    size: mb.int("Size"),
                    messages: live,
                    tombstones: tomb,
                    max_message_modseq: max_modseq,
                }
            })
            .collect();
        Ok(super::AccountReport {
            name: self.name.clone(),
            last_modseq: self.last_modseq,
            next_uid_validity: self.next_uidvalidity,
            disk_usage: self.disk_usage(),
            message_sequence: self.message_seq() as u64,
            live_messages,
            message_records: self.messages.len() as u64,
            mailboxes,
            messages,
        })
    }

    /// Inserts a record of another type (e.g. Recipient) with the next id of that type.
    pub(crate) fn insert_with_next_id(
        &mut self,
        type_name: &str,
        mut r: Record,
    ) -> Result<i64, GenError> {
        let td = self.store.type_mut(type_name)?;
        let id = td.sequence as i64 + 1;
        r.set("ID", Value::Int(id));
        td.insert(&r)?;
        Ok(id)
    }
}

/// Writes a file with `mode` (created or truncated).
pub(crate) fn write_file(path: &Path, data: &[u8], mode: u32) -> Result<(), GenError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .map_err(|e| io_err(path, e))?;
    f.write_all(data).map_err(|e| io_err(path, e))
}

/// Writes a bbolt database file (mode 0640, like mox's); returns its size.
pub(crate) fn write_db(path: &Path, root: &BoltBucket, txid: u64) -> Result<u64, GenError> {
    let bytes = bbolt_write::build(root, txid);
    write_file(path, &bytes, 0o640)?;
    Ok(bytes.len() as u64)
}
