//! The Message records of one account under construction, kept out of memory: each record is
//! encoded once and appended to an unnamed temporary file; memory holds its place, a few
//! fields the generator consults (mailbox, flags, size, modseq) and, per mailbox, the ids of
//! its live messages in an order-statistics list. A million messages cost tens of megabytes,
//! not gigabytes.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use super::super::bstore_encode::{
    Record, TypeVersion, Value, decode_record, encode_value, int64_key,
};
use super::io_err;
use crate::Error as GenError;

/// What the generator reads of a message without decoding it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct MsgMeta {
    pub mailbox_id: i64,
    pub mod_seq: i64,
    pub size: i64,
    pub expunged: bool,
    pub seen: bool,
    pub deleted: bool,
    /// `Received`, Unix seconds (None for tombstones).
    pub received: Option<i64>,
}

impl MsgMeta {
    fn of(r: &Record) -> MsgMeta {
        MsgMeta {
            mailbox_id: r.int("MailboxID"),
            mod_seq: r.int("ModSeq"),
            size: r.int("Size"),
            expunged: r.bool("Expunged"),
            seen: r.bool("Seen"),
            deleted: r.bool("Deleted"),
            received: match r.get("Received") {
                Some(Value::Time(t)) => Some(t.unix),
                _ => None,
            },
        }
    }
}

/// Where a record's encoded bytes are: offset and length in the spill file.
#[derive(Debug, Clone, Copy)]
struct Slot {
    off: u64,
    len: u32,
    meta: MsgMeta,
}

/// Sorted ids in blocks: insert, remove and the i-th element without a scan of every id.
#[derive(Debug, Default)]
pub(crate) struct LiveSet {
    blocks: Vec<Vec<i64>>,
    len: usize,
}

const BLOCK: usize = 2048;

impl LiveSet {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn block_of(&self, id: i64) -> usize {
        let b = self
            .blocks
            .partition_point(|blk| blk.last().is_some_and(|&l| l < id));
        b.min(self.blocks.len().saturating_sub(1))
    }

    fn insert(&mut self, id: i64) {
        if self.blocks.is_empty() {
            self.blocks.push(vec![id]);
            self.len = 1;
            return;
        }
        let b = self.block_of(id);
        let blk = &mut self.blocks[b];
        if let Err(pos) = blk.binary_search(&id) {
            blk.insert(pos, id);
            self.len += 1;
            if blk.len() > 2 * BLOCK {
                let tail = blk.split_off(BLOCK);
                self.blocks.insert(b + 1, tail);
            }
        }
    }

    fn remove(&mut self, id: i64) {
        if self.blocks.is_empty() {
            return;
        }
        let b = self.block_of(id);
        let blk = &mut self.blocks[b];
        if let Ok(pos) = blk.binary_search(&id) {
            blk.remove(pos);
            self.len -= 1;
            if blk.is_empty() {
                self.blocks.remove(b);
            }
        }
    }

    /// The `i`-th smallest id.
    pub(crate) fn get(&self, mut i: usize) -> i64 {
        for blk in &self.blocks {
            if i < blk.len() {
                return blk[i];
            }
            i -= blk.len();
        }
        panic!("LiveSet index out of range")
    }

    pub(crate) fn to_vec(&self) -> Vec<i64> {
        self.blocks.iter().flatten().copied().collect()
    }
}

/// The Message records of an account, by id.
pub(crate) struct MessageTable {
    schema: Arc<TypeVersion>,
    file: File,
    /// Bytes appended but not yet written to `file`, starting at offset `flushed`.
    pending: Vec<u8>,
    flushed: u64,
    /// By id (index 0 unused); None where no record has that id.
    slots: Vec<Option<Slot>>,
    count: usize,
    live: BTreeMap<i64, LiveSet>,
    /// When tracking changes: per changed id, where its first version was (None: no record
    /// had that id). The spill file is only appended to, so those bytes are still there.
    originals: Option<HashMap<i64, Option<Slot>>>,
}

impl MessageTable {
    /// An empty table spilling into an unnamed temporary file in `dir`.
    pub(crate) fn new(schema: Arc<TypeVersion>, dir: &Path) -> Result<MessageTable, GenError> {
        let file = tempfile::tempfile_in(dir).map_err(|e| io_err(dir, e))?;
        Ok(MessageTable {
            schema,
            file,
            pending: Vec::new(),
            flushed: 0,
            slots: vec![None],
            count: 0,
            live: BTreeMap::new(),
            originals: None,
        })
    }

    /// From now on, remembers the version of each record before its first change (see
    /// [`MessageTable::original`]).
    pub(crate) fn track_changes(&mut self) {
        self.originals = Some(HashMap::new());
    }

    /// The stored bytes of record `id` as they were when [`MessageTable::track_changes`] was
    /// called (None if there was no such record then).
    pub(crate) fn original(&self, id: i64) -> Result<Option<Vec<u8>>, GenError> {
        match self.originals.as_ref().and_then(|o| o.get(&id)) {
            Some(slot) => slot.map(|s| self.read_slot(&s)).transpose(),
            None => self.encoded(id),
        }
    }

    /// Number of records (tombstones included).
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// The highest id, 0 when empty.
    pub(crate) fn max_id(&self) -> i64 {
        self.slots.iter().rposition(Option::is_some).unwrap_or(0) as i64
    }

    fn slot(&self, id: i64) -> Option<&Slot> {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.slots.get(i))
            .and_then(Option::as_ref)
    }

    /// Ids with a record, ascending.
    pub(crate) fn ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_some())
            .map(|(i, _)| i as i64)
    }

    /// (id, meta) of every record, ascending.
    pub(crate) fn metas(&self) -> impl Iterator<Item = (i64, MsgMeta)> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.map(|s| (i as i64, s.meta)))
    }

    /// Live ids of a mailbox.
    pub(crate) fn live(&self, mailbox_id: i64) -> Option<&LiveSet> {
        self.live.get(&mailbox_id)
    }

    /// Stores `r` (its ID field is the id), replacing an earlier version.
    pub(crate) fn put(&mut self, r: &Record) -> Result<(), GenError> {
        let id = r.int("ID");
        let value = encode_value(&self.schema, r)?;
        self.put_encoded(id, &value, MsgMeta::of(r))
    }

    fn put_encoded(&mut self, id: i64, value: &[u8], meta: MsgMeta) -> Result<(), GenError> {
        let idx = usize::try_from(id)
            .ok()
            .filter(|&i| i > 0)
            .ok_or_else(|| GenError::Invalid(format!("message id {id}")))?;
        if self.slots.len() <= idx {
            self.slots.resize(idx + 1, None);
        }
        if let Some(o) = &mut self.originals {
            o.entry(id).or_insert(self.slots[idx]);
        }
        if let Some(old) = self.slots[idx] {
            if !old.meta.expunged
                && let Some(l) = self.live.get_mut(&old.meta.mailbox_id)
            {
                l.remove(id);
            }
        } else {
            self.count += 1;
        }
        if !meta.expunged {
            self.live.entry(meta.mailbox_id).or_default().insert(id);
        }
        let off = self.flushed + self.pending.len() as u64;
        self.pending.extend_from_slice(value);
        self.slots[idx] = Some(Slot {
            off,
            len: value.len() as u32,
            meta,
        });
        if self.pending.len() >= 1 << 20 {
            self.file
                .write_all_at(&self.pending, self.flushed)
                .map_err(|e| io_err(Path::new("message spill file"), e))?;
            self.flushed += self.pending.len() as u64;
            self.pending.clear();
        }
        Ok(())
    }

    /// The stored bytes of record `id`.
    pub(crate) fn encoded(&self, id: i64) -> Result<Option<Vec<u8>>, GenError> {
        let Some(s) = self.slot(id) else {
            return Ok(None);
        };
        self.read_slot(s).map(Some)
    }

    fn read_slot(&self, s: &Slot) -> Result<Vec<u8>, GenError> {
        if s.off >= self.flushed {
            let start = (s.off - self.flushed) as usize;
            return Ok(self.pending[start..start + s.len as usize].to_vec());
        }
        let mut buf = vec![0; s.len as usize];
        self.file
            .read_exact_at(&mut buf, s.off)
            .map_err(|e| io_err(Path::new("message spill file"), e))?;
        Ok(buf)
    }

    /// Record `id`, decoded.
    pub(crate) fn get(&self, id: i64) -> Result<Option<Record>, GenError> {
        let Some(v) = self.encoded(id)? else {
            return Ok(None);
        };
        Ok(Some(decode_record(&self.schema, &int64_key(id), &v)?))
    }

    /// Record `id`, which must exist.
    pub(crate) fn must(&self, id: i64) -> Result<Record, GenError> {
        self.get(id)?
            .ok_or_else(|| GenError::Invalid(format!("no message record {id}")))
    }
}
