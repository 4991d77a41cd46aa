//! Writing bbolt files from scratch: the whole database is built in memory from a sorted tree
//! of buckets and laid out in one pass, as a bulk loader ([`build`]), or written to the file as
//! its pages fill, big buckets streamed from sorted entries ([`StreamWriter`]).
//!
//! Layout of a written file (page size [`PAGE_SIZE`], all integers little-endian):
//! - pages 0 and 1: meta pages (the current transaction id in page `txid % 2`, the previous one
//!   in the other page; both describe the same tree, so either is a valid starting point);
//! - page 2: the freelist, always empty (every page is in use);
//! - pages 3..: the bucket pages, children before parents, the root bucket last.
//!
//! Leaves and branches are filled up to the page size; an element that does not fit a page on
//! its own gets a page with overflow pages. A bucket without sub-buckets whose page would take at
//! most a quarter page is stored inline in its parent's value, as bbolt itself does.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use super::bbolt::{
    BUCKET_HEADER_LEN, ELEMENT_LEN, FLAG_BRANCH, FLAG_LEAF, FLAG_META, LEAF_FLAG_BUCKET,
    META_CHECKSUMMED_LEN, Meta, PAGE_HEADER_LEN, PAGE_OVERFLOW, freelist_ids, freelist_len,
    leaf_element, page_flags_count, parse_meta, put_branch, put_freelist, put_leaf,
    put_page_header, put_u32, u32_at, u64_at,
};
use super::{Bolt, Bucket, MoxError, Value};

#[path = "bbolt_patch.rs"]
mod patch;
pub use patch::{BucketChanges, patch_file};

/// Page size of every file we write (the size mox uses on the platforms it runs on).
pub const PAGE_SIZE: usize = 4096;

const MAX_INLINE_BUCKET_SIZE: usize = PAGE_SIZE / 4;

/// A bucket to write: sorted keys to values or sub-buckets, and the bucket's sequence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BoltBucket {
    pub entries: BTreeMap<Vec<u8>, BoltEntry>,
    pub sequence: u64,
}

/// One key of a bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BoltEntry {
    Value(Vec<u8>),
    Bucket(BoltBucket),
    /// A sub-bucket already laid out by a [`StreamWriter`]: the value its parent stores for it
    /// (the bucket header, with the inline page when the bucket is small).
    Written(Vec<u8>),
}

impl BoltBucket {
    /// An empty bucket with sequence 0.
    pub fn new() -> BoltBucket {
        BoltBucket::default()
    }

    /// Sets `key` to `value` (replacing a value, or a sub-bucket, of that name).
    pub fn put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.entries
            .insert(key.into(), BoltEntry::Value(value.into()));
    }

    /// The sub-bucket `name`, created empty if missing (a value of that name is replaced).
    pub fn bucket_mut(&mut self, name: &[u8]) -> &mut BoltBucket {
        let entry = self
            .entries
            .entry(name.to_vec())
            .or_insert_with(|| BoltEntry::Bucket(BoltBucket::new()));
        if !matches!(entry, BoltEntry::Bucket(_)) {
            *entry = BoltEntry::Bucket(BoltBucket::new());
        }
        match entry {
            BoltEntry::Bucket(b) => b,
            BoltEntry::Value(_) | BoltEntry::Written(_) => unreachable!("replaced above"),
        }
    }

    /// The sub-bucket `name`, if there is one.
    pub fn bucket(&self, name: &[u8]) -> Option<&BoltBucket> {
        match self.entries.get(name) {
            Some(BoltEntry::Bucket(b)) => Some(b),
            _ => None,
        }
    }

    /// Copies a bucket of an existing file (read with [`Bolt`]) into a tree that can be
    /// changed and written again.
    pub fn load(bucket: &Bucket<'_>) -> Result<BoltBucket, MoxError> {
        let mut out = BoltBucket {
            entries: BTreeMap::new(),
            sequence: bucket.sequence(),
        };
        for item in bucket.iter() {
            let (key, value) = item?;
            let entry = match value {
                Value::Data(v) => BoltEntry::Value(v.to_vec()),
                Value::Bucket(b) => BoltEntry::Bucket(BoltBucket::load(&b)?),
            };
            out.entries.insert(key.to_vec(), entry);
        }
        Ok(out)
    }

    /// Reads a whole bbolt file into a tree.
    pub fn read_file(path: &Path) -> Result<BoltBucket, MoxError> {
        let bolt = Bolt::open(path)?;
        BoltBucket::load(&bolt.root())
    }

    /// The value of `key`, if it is a value.
    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        match self.entries.get(key) {
            Some(BoltEntry::Value(v)) => Some(v),
            _ => None,
        }
    }
}

/// Lays out a whole bbolt file for the tree under `root` with transaction id `txid` (≥ 1).
pub fn build(root: &BoltBucket, txid: u64) -> Vec<u8> {
    let mut w = PageWriter {
        buf: vec![0; 3 * PAGE_SIZE],
        base: 0,
        next_pgid: 3,
        free: BTreeSet::new(),
        sink: None,
    };
    let root_pgid = w.write_tree(root);
    // Freelist: page 2, no free pages.
    put_freelist(&mut w.buf[2 * PAGE_SIZE..], 2, 0, &[]);
    w.finish(root_pgid, root.sequence, 2, txid.max(1))
}

/// Writes the tree under `root` over an existing file `old` as one bbolt transaction does:
/// pages whose content is unchanged stay where they are, changed leaves and the branches above
/// them are written to free pages (or appended), the pages they replace go to the freelist,
/// and the meta pages name the new root with the next transaction id. A night that changes a
/// few records therefore changes a few pages, as it does under mox.
pub fn update(old: &[u8], path: &Path, root: &BoltBucket) -> Result<Vec<u8>, MoxError> {
    let meta = OldFile::parse(old, path)?;
    let mut w = PageWriter {
        buf: old[..meta.high_water as usize * PAGE_SIZE].to_vec(),
        base: 0,
        next_pgid: meta.high_water,
        free: meta.free.iter().copied().collect(),
        sink: None,
    };
    for p in meta.freelist..=meta.freelist + u64::from(meta.freelist_overflow) {
        w.free.insert(p);
    }
    let root_pgid = w.update_tree(root, Some(&meta.root));
    // The freelist takes free pages itself: size it for the list before taking them.
    let (fl, overflow) = w.alloc(freelist_len(w.free.len()));
    let ids: Vec<u64> = w.free.iter().copied().collect();
    put_freelist(&mut w.buf[fl as usize * PAGE_SIZE..], fl, overflow, &ids);
    Ok(w.finish(root_pgid, root.sequence, fl, meta.txid + 1))
}

/// Writes `root` to `path`: over the existing file with [`update`] if there is one, else a
/// fresh file with [`build`]. Returns the new size.
pub fn update_file(path: &Path, root: &BoltBucket) -> Result<u64, MoxError> {
    let bytes = match std::fs::read(path) {
        Ok(old) => update(&old, path, root)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => build(root, 2),
        Err(source) => {
            return Err(MoxError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    std::fs::write(path, &bytes).map_err(|source| MoxError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(bytes.len() as u64)
}

/// Writes the file for `root` to `path` (created or truncated) and returns its size.
pub fn write_file(path: &Path, root: &BoltBucket, txid: u64) -> Result<u64, MoxError> {
    let bytes = build(root, txid);
    std::fs::write(path, &bytes).map_err(|source| MoxError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(bytes.len() as u64)
}

/// A bbolt file written page by page, for databases too large to build in memory: big buckets
/// are streamed from sorted entries with [`StreamWriter::bucket`] (their pages go to the file as
/// they fill), then [`StreamWriter::finish`] lays out the rest of the tree, which names them as
/// [`BoltEntry::Written`]. The layout follows the same rules as [`build`].
pub struct StreamWriter {
    w: PageWriter,
}

impl StreamWriter {
    /// Creates (or truncates) `path` with mode `mode`.
    pub fn create(path: &Path, mode: u32) -> Result<StreamWriter, MoxError> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(path)
            .map_err(|source| MoxError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(StreamWriter {
            w: PageWriter {
                buf: vec![0; 3 * PAGE_SIZE],
                base: 0,
                next_pgid: 3,
                free: BTreeSet::new(),
                sink: Some((file, path.to_path_buf())),
            },
        })
    }

    /// Writes a bucket without sub-buckets from its entries in ascending key order (no
    /// duplicates); returns the entry to put under its name in the parent.
    pub fn bucket<E: From<MoxError>>(
        &mut self,
        sequence: u64,
        entries: impl IntoIterator<Item = Result<(Vec<u8>, Vec<u8>), E>>,
    ) -> Result<BoltEntry, E> {
        let mut header = Vec::with_capacity(BUCKET_HEADER_LEN);
        // Elements of the leaf being filled, and its size.
        let mut cur: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        let mut size = PAGE_HEADER_LEN;
        // Whether the bucket may still be inline (nothing written yet, at most a quarter page).
        let mut inline = true;
        let mut level: Vec<(Vec<u8>, u64)> = Vec::new();
        for e in entries {
            let (k, v) = e?;
            let esize = ELEMENT_LEN + k.len() + v.len();
            if inline && size + esize > MAX_INLINE_BUCKET_SIZE {
                inline = false;
            }
            if !cur.is_empty() && size + esize > PAGE_SIZE {
                level.push(self.leaf(&cur, size));
                cur.clear();
                size = PAGE_HEADER_LEN;
                if self.w.buf.len() >= 4 << 20 {
                    self.w.flush()?;
                }
            }
            size += esize;
            cur.push((k, v));
        }
        if inline {
            header.extend_from_slice(&0u64.to_le_bytes());
            header.extend_from_slice(&sequence.to_le_bytes());
            let start = header.len();
            header.resize(start + size, 0);
            put_leaf(
                &mut header[start..],
                0,
                cur.iter().map(|(k, v)| (0, k.as_slice(), v.as_slice())),
            );
            return Ok(BoltEntry::Written(header));
        }
        if !cur.is_empty() {
            level.push(self.leaf(&cur, size));
        }
        let root = self.w.write_branches(level);
        self.w.flush()?;
        header.extend_from_slice(&root.to_le_bytes());
        header.extend_from_slice(&sequence.to_le_bytes());
        Ok(BoltEntry::Written(header))
    }

    fn leaf(&mut self, cur: &[(Vec<u8>, Vec<u8>)], size: usize) -> (Vec<u8>, u64) {
        let elems: Vec<LeafElem<'_>> = cur
            .iter()
            .map(|(k, v)| LeafElem {
                flags: 0,
                key: k,
                value: std::borrow::Cow::Borrowed(v.as_slice()),
            })
            .collect();
        self.w.write_leaf(&elems, size)
    }

    /// Lays out `root` (its [`BoltEntry::Written`] entries as they were written), the freelist
    /// and the meta pages with transaction id `txid`; returns the file size.
    pub fn finish(mut self, root: &BoltBucket, txid: u64) -> Result<u64, MoxError> {
        use std::os::unix::fs::FileExt;
        let root_pgid = self.w.write_tree(root);
        self.w.flush()?;
        let high_water = self.w.next_pgid;
        let Some((file, path)) = self.w.sink.take() else {
            unreachable!("a StreamWriter has a file");
        };
        let mut head = PageWriter {
            buf: vec![0; 3 * PAGE_SIZE],
            base: 0,
            next_pgid: high_water,
            free: BTreeSet::new(),
            sink: None,
        };
        put_freelist(&mut head.buf[2 * PAGE_SIZE..], 2, 0, &[]);
        let head = head.finish(root_pgid, root.sequence, 2, txid.max(1));
        let io = |source| MoxError::Io {
            path: path.clone(),
            source,
        };
        file.write_all_at(&head, 0).map_err(io)?;
        let len = high_water * PAGE_SIZE as u64;
        file.set_len(len).map_err(io)?;
        Ok(len)
    }
}

/// The pages of a bucket in an existing file.
#[derive(Debug, Default)]
struct OldBucket {
    /// 0 for an inline bucket.
    root: u64,
    leaves: Vec<OldLeaf>,
    /// Branch pages: (page id, overflow).
    branches: Vec<(u64, u32)>,
    subs: HashMap<Vec<u8>, OldBucket>,
}

/// A leaf element as stored: (flags, key, value).
type StoredElem = (u32, Vec<u8>, Vec<u8>);

#[derive(Debug)]
struct OldLeaf {
    pgid: u64,
    overflow: u32,
    elems: Vec<StoredElem>,
}

/// What `update` needs from an existing file: the current meta, the freelist, the page map.
struct OldFile {
    txid: u64,
    high_water: u64,
    freelist: u64,
    freelist_overflow: u32,
    free: Vec<u64>,
    root: OldBucket,
}

impl OldFile {
    fn parse(file: &[u8], path: &Path) -> Result<OldFile, MoxError> {
        let bad = |what: String| MoxError::Corrupt {
            path: path.to_path_buf(),
            what,
        };
        let mut best: Option<Meta> = None;
        for p in 0..2usize {
            let start = p * PAGE_SIZE;
            if file.len() < start + PAGE_HEADER_LEN + META_CHECKSUMMED_LEN + 8 {
                return Err(bad(format!("page {p}: file too short for a meta page")));
            }
            let Some(meta) = parse_meta(file.get(start..)) else {
                continue;
            };
            if meta.page_size as usize != PAGE_SIZE {
                return Err(bad(format!(
                    "page {p}: page size {} (this writer uses {PAGE_SIZE})",
                    meta.page_size
                )));
            }
            if best.as_ref().is_none_or(|b| meta.txid > b.txid) {
                best = Some(meta);
            }
        }
        let Meta {
            txid,
            root,
            freelist,
            high_water,
            ..
        } = best.ok_or_else(|| bad("no valid meta page".into()))?;
        if (high_water as usize).saturating_mul(PAGE_SIZE) > file.len() || high_water < 3 {
            return Err(bad(format!("high-water mark {high_water} beyond the file")));
        }
        let mut r = PageReader {
            file,
            high_water,
            path,
            visits: 0,
        };
        let (fl_page, fl_overflow) = r.page(freelist)?;
        let free = freelist_ids(fl_page).map_err(|what| bad(format!("page {freelist}: {what}")))?;
        if let Some(p) = free.iter().find(|&&p| p < 2 || p >= high_water) {
            return Err(bad(format!("page {freelist}: free page {p} out of range")));
        }
        let root = r.bucket_pages(root, 0)?;
        Ok(OldFile {
            txid,
            high_water,
            freelist,
            freelist_overflow: fl_overflow,
            free,
            root,
        })
    }
}

/// Bounds-checked page access for [`OldFile::parse`].
struct PageReader<'a> {
    file: &'a [u8],
    high_water: u64,
    path: &'a Path,
    visits: usize,
}

impl<'a> PageReader<'a> {
    fn bad(&self, what: String) -> MoxError {
        MoxError::Corrupt {
            path: self.path.to_path_buf(),
            what,
        }
    }

    /// The bytes of page `pgid` with its overflow pages, and the overflow count.
    fn page(&mut self, pgid: u64) -> Result<(&'a [u8], u32), MoxError> {
        self.visits += 1;
        if self.visits > 4 * self.high_water as usize + 16 {
            return Err(self.bad("page references loop".into()));
        }
        if pgid < 2 || pgid >= self.high_water {
            return Err(self.bad(format!("page {pgid}: out of range")));
        }
        let off = pgid as usize * PAGE_SIZE;
        let overflow = u32_at(self.file, off + PAGE_OVERFLOW);
        let end = pgid + 1 + u64::from(overflow);
        if end > self.high_water {
            return Err(self.bad(format!("page {pgid}: overflow beyond the high-water mark")));
        }
        Ok((&self.file[off..end as usize * PAGE_SIZE], overflow))
    }

    fn bucket_pages(&mut self, root: u64, depth: usize) -> Result<OldBucket, MoxError> {
        if depth > 64 {
            return Err(self.bad("buckets nested too deep".into()));
        }
        let mut b = OldBucket {
            root,
            ..OldBucket::default()
        };
        self.node(root, &mut b, depth, 0)?;
        Ok(b)
    }

    fn node(
        &mut self,
        pgid: u64,
        b: &mut OldBucket,
        depth: usize,
        level: usize,
    ) -> Result<(), MoxError> {
        if level > 64 {
            return Err(self.bad(format!("page {pgid}: branches nested too deep")));
        }
        let (page, overflow) = self.page(pgid)?;
        let (flags, count) = page_flags_count(page);
        if PAGE_HEADER_LEN + count * ELEMENT_LEN > page.len() {
            return Err(self.bad(format!("page {pgid}: too many elements")));
        }
        match flags {
            FLAG_BRANCH => {
                b.branches.push((pgid, overflow));
                for i in 0..count {
                    let h = PAGE_HEADER_LEN + i * ELEMENT_LEN;
                    let child = u64_at(page, h + 8);
                    self.node(child, b, depth, level + 1)?;
                }
            }
            FLAG_LEAF => {
                let elems = self.leaf_elems(page, pgid, b, depth)?;
                b.leaves.push(OldLeaf {
                    pgid,
                    overflow,
                    elems,
                });
            }
            other => return Err(self.bad(format!("page {pgid}: unexpected flags {other:#x}"))),
        }
        Ok(())
    }

    fn leaf_elems(
        &mut self,
        page: &'a [u8],
        pgid: u64,
        b: &mut OldBucket,
        depth: usize,
    ) -> Result<Vec<StoredElem>, MoxError> {
        let (_, count) = page_flags_count(page);
        let mut out = Vec::with_capacity(count);
        for i in 0..count {
            let (flags, key, value) = leaf_element(page, i)
                .map_err(|_| self.bad(format!("page {pgid}: element {i} out of bounds")))?;
            let (key, value) = (key.to_vec(), value.to_vec());
            if flags & LEAF_FLAG_BUCKET != 0 {
                if value.len() < BUCKET_HEADER_LEN {
                    return Err(self.bad(format!("page {pgid}: short bucket header")));
                }
                let root = u64_at(&value, 0);
                let sub = if root == 0 {
                    // Inline: no pages of its own, and (as bbolt requires) no sub-buckets.
                    OldBucket::default()
                } else {
                    self.bucket_pages(root, depth + 1)?
                };
                b.subs.insert(key.clone(), sub);
            }
            out.push((flags, key, value));
        }
        Ok(out)
    }
}

struct PageWriter {
    /// Pages from `base` on (all of them unless written to `sink` already).
    buf: Vec<u8>,
    base: u64,
    next_pgid: u64,
    /// Free pages that may be reused (update only).
    free: BTreeSet<u64>,
    /// The file pages are flushed to ([`StreamWriter`] only; pages are then only appended).
    sink: Option<(std::fs::File, std::path::PathBuf)>,
}

/// A leaf element about to be written.
struct LeafElem<'a> {
    flags: u32,
    key: &'a [u8],
    value: std::borrow::Cow<'a, [u8]>,
}

impl LeafElem<'_> {
    fn size(&self) -> usize {
        ELEMENT_LEN + self.key.len() + self.value.len()
    }

    fn parts(&self) -> (u32, &[u8], &[u8]) {
        (self.flags, self.key, &self.value)
    }
}

impl PageWriter {
    /// Offset of page `pgid` in `buf`.
    fn off(&self, pgid: u64) -> usize {
        (pgid - self.base) as usize * PAGE_SIZE
    }

    /// Writes the pages held so far to the sink (when there is one) and drops them.
    fn flush(&mut self) -> Result<(), MoxError> {
        use std::os::unix::fs::FileExt;
        let Some((file, path)) = &self.sink else {
            return Ok(());
        };
        file.write_all_at(&self.buf, self.base * PAGE_SIZE as u64)
            .map_err(|source| MoxError::Io {
                path: path.clone(),
                source,
            })?;
        self.base = self.next_pgid;
        self.buf.clear();
        Ok(())
    }

    /// Writes one leaf page of `chunk` (at least one element); returns (first key, page id).
    fn write_leaf(&mut self, chunk: &[LeafElem<'_>], size: usize) -> (Vec<u8>, u64) {
        let (pgid, overflow) = self.alloc(size);
        let off = self.off(pgid);
        put_leaf(
            &mut self.buf[off..off + size],
            pgid,
            chunk.iter().map(LeafElem::parts),
        );
        set_overflow(&mut self.buf, off, overflow);
        let first = chunk.first().map(|e| e.key.to_vec()).unwrap_or_default();
        (first, pgid)
    }

    /// Reserves pages for `bytes` bytes of page content, from the free pages when a run of
    /// them is long enough, else at the end; returns the first page id and the overflow.
    fn alloc(&mut self, bytes: usize) -> (u64, u32) {
        let npages = bytes.div_ceil(PAGE_SIZE).max(1) as u64;
        let pgid = match take_free_run(&mut self.free, npages) {
            Some(start) => start,
            None => {
                let p = self.next_pgid;
                self.next_pgid += npages;
                self.buf
                    .resize((self.next_pgid - self.base) as usize * PAGE_SIZE, 0);
                p
            }
        };
        let off = self.off(pgid);
        self.buf[off..off + npages as usize * PAGE_SIZE].fill(0);
        (pgid, (npages - 1) as u32)
    }

    fn free_pages(&mut self, pgid: u64, overflow: u32) {
        for p in pgid..=pgid + u64::from(overflow) {
            self.free.insert(p);
        }
    }

    /// Frees every page of an old bucket, its sub-buckets included.
    fn free_bucket(&mut self, old: &OldBucket) {
        for l in &old.leaves {
            self.free_pages(l.pgid, l.overflow);
        }
        for &(p, o) in &old.branches {
            self.free_pages(p, o);
        }
        for sub in old.subs.values() {
            self.free_bucket(sub);
        }
    }

    /// The meta pages; returns the finished file.
    fn finish(mut self, root_pgid: u64, root_seq: u64, freelist: u64, txid: u64) -> Vec<u8> {
        for (pgid, meta_txid) in [(txid % 2, txid), ((txid - 1) % 2, txid - 1)] {
            let off = pgid as usize * PAGE_SIZE;
            self.buf[off..off + PAGE_SIZE].fill(0);
            write_page_header(&mut self.buf, pgid, FLAG_META, 0, 0);
            let m = off + PAGE_HEADER_LEN;
            Meta {
                page_size: PAGE_SIZE as u32,
                root: root_pgid,
                root_sequence: root_seq,
                freelist,
                high_water: self.next_pgid,
                txid: meta_txid,
            }
            .write(&mut self.buf[m..off + PAGE_SIZE]);
        }
        self.buf
    }

    /// The elements of `bucket`, with sub-buckets already written (children first).
    fn elements<'a>(
        &mut self,
        bucket: &'a BoltBucket,
        old: Option<&OldBucket>,
    ) -> Vec<LeafElem<'a>> {
        if let Some(old) = old {
            for (name, sub) in &old.subs {
                if bucket.bucket(name).is_none() {
                    self.free_bucket(sub);
                }
            }
        }
        bucket
            .entries
            .iter()
            .map(|(key, entry)| match entry {
                BoltEntry::Value(v) => LeafElem {
                    flags: 0,
                    key,
                    value: std::borrow::Cow::Borrowed(v.as_slice()),
                },
                BoltEntry::Bucket(b) => LeafElem {
                    flags: LEAF_FLAG_BUCKET,
                    key,
                    value: std::borrow::Cow::Owned(
                        self.bucket_value(b, old.and_then(|o| o.subs.get(key))),
                    ),
                },
                BoltEntry::Written(v) => LeafElem {
                    flags: LEAF_FLAG_BUCKET,
                    key,
                    value: std::borrow::Cow::Borrowed(v.as_slice()),
                },
            })
            .collect()
    }

    /// The value stored in the parent for a sub-bucket: its header, inline page included.
    fn bucket_value(&mut self, bucket: &BoltBucket, old: Option<&OldBucket>) -> Vec<u8> {
        let has_sub = bucket
            .entries
            .values()
            .any(|e| !matches!(e, BoltEntry::Value(_)));
        let inline_size = PAGE_HEADER_LEN
            + bucket
                .entries
                .iter()
                .map(|(k, e)| {
                    ELEMENT_LEN
                        + k.len()
                        + match e {
                            BoltEntry::Value(v) => v.len(),
                            BoltEntry::Bucket(_) | BoltEntry::Written(_) => 0,
                        }
                })
                .sum::<usize>();
        let mut out = Vec::with_capacity(BUCKET_HEADER_LEN + inline_size);
        if !has_sub && inline_size <= MAX_INLINE_BUCKET_SIZE {
            if let Some(old) = old {
                self.free_bucket(old);
            }
            out.extend_from_slice(&0u64.to_le_bytes());
            out.extend_from_slice(&bucket.sequence.to_le_bytes());
            let elems = self.elements(bucket, None);
            let start = out.len();
            out.resize(start + inline_size, 0);
            put_leaf(&mut out[start..], 0, elems.iter().map(LeafElem::parts));
        } else {
            let root = self.update_tree(bucket, old.filter(|o| o.root != 0));
            out.extend_from_slice(&root.to_le_bytes());
            out.extend_from_slice(&bucket.sequence.to_le_bytes());
        }
        out
    }

    /// Writes the pages of a bucket stored in its own pages; returns its root page id.
    fn write_tree(&mut self, bucket: &BoltBucket) -> u64 {
        self.update_tree(bucket, None)
    }

    /// Writes a bucket stored in its own pages, reusing the leaves of `old` whose content is
    /// unchanged (and the whole bucket when nothing changed); returns its root page id.
    fn update_tree(&mut self, bucket: &BoltBucket, old: Option<&OldBucket>) -> u64 {
        let elems = self.elements(bucket, old);
        let Some(old) = old.filter(|o| o.root != 0 && !o.leaves.is_empty()) else {
            let leaves = self.write_leaves(&elems);
            return self.write_branches(leaves);
        };
        // Each old leaf owns the keys from its first key up to the next leaf's first key
        // (the first leaf also owns everything before).
        let mut leaves: Vec<(Vec<u8>, u64)> = Vec::new();
        let mut changed = false;
        let mut i = 0;
        for (li, leaf) in old.leaves.iter().enumerate() {
            let end = match old.leaves.get(li + 1).and_then(|n| n.elems.first()) {
                Some((_, next_first, _)) => {
                    i + elems[i..].partition_point(|e| e.key < next_first.as_slice())
                }
                None => elems.len(),
            };
            let group = &elems[i..end];
            i = end;
            let same = group.len() == leaf.elems.len()
                && group.iter().zip(&leaf.elems).all(|(e, (f, k, v))| {
                    e.flags == *f && e.key == k.as_slice() && e.value.as_ref() == v.as_slice()
                });
            if same && !group.is_empty() {
                leaves.push((group[0].key.to_vec(), leaf.pgid));
            } else {
                changed = true;
                self.free_pages(leaf.pgid, leaf.overflow);
                if !group.is_empty() {
                    leaves.extend(self.write_leaves(group));
                }
            }
        }
        if !changed {
            return old.root;
        }
        for &(p, o) in &old.branches {
            self.free_pages(p, o);
        }
        if leaves.is_empty() {
            leaves = self.write_leaves(&elems);
        }
        self.write_branches(leaves)
    }

    /// Leaves filled up to the page size: (first key, page id) of each.
    fn write_leaves(&mut self, elems: &[LeafElem<'_>]) -> Vec<(Vec<u8>, u64)> {
        let mut level: Vec<(Vec<u8>, u64)> = Vec::new();
        let mut start = 0;
        loop {
            let mut end = start;
            let mut size = PAGE_HEADER_LEN;
            while end < elems.len() && (end == start || size + elems[end].size() <= PAGE_SIZE) {
                size += elems[end].size();
                end += 1;
            }
            level.push(self.write_leaf(&elems[start..end], size));
            start = end;
            if start >= elems.len() {
                break;
            }
        }
        level
    }

    /// Branch levels over `level` until one page remains; returns the root page id.
    fn write_branches(&mut self, mut level: Vec<(Vec<u8>, u64)>) -> u64 {
        while level.len() > 1 {
            let mut next = Vec::new();
            let mut start = 0;
            while start < level.len() {
                let mut end = start;
                let mut size = PAGE_HEADER_LEN;
                while end < level.len()
                    && (end - start < 2 || size + ELEMENT_LEN + level[end].0.len() <= PAGE_SIZE)
                {
                    size += ELEMENT_LEN + level[end].0.len();
                    end += 1;
                }
                let (pgid, overflow) = self.alloc(size);
                let off = self.off(pgid);
                put_branch(&mut self.buf[off..off + size], pgid, &level[start..end]);
                set_overflow(&mut self.buf, off, overflow);
                next.push((level[start].0.clone(), pgid));
                start = end;
            }
            level = next;
        }
        level[0].1
    }
}

/// Takes the first run of `npages` consecutive ids out of `free` and returns its first id;
/// None when no run is that long.
pub(super) fn take_free_run(free: &mut BTreeSet<u64>, npages: u64) -> Option<u64> {
    let (mut start, mut len) = (0u64, 0u64);
    let found = free.iter().any(|&p| {
        if len > 0 && p == start + len {
            len += 1;
        } else {
            start = p;
            len = 1;
        }
        len == npages
    });
    if !found {
        return None;
    }
    for q in start..start + npages {
        free.remove(&q);
    }
    Some(start)
}

fn write_page_header(buf: &mut [u8], pgid: u64, flags: u16, count: u16, overflow: u32) {
    let off = pgid as usize * PAGE_SIZE;
    put_page_header(&mut buf[off..], pgid, flags, count, overflow);
}

fn set_overflow(buf: &mut [u8], off: usize, overflow: u32) {
    put_u32(buf, off + PAGE_OVERFLOW, overflow);
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::mox::bbolt::fnv1a64;

    /// (bucket path, key, value).
    pub(super) type Walked = (Vec<Vec<u8>>, Vec<u8>, Vec<u8>);

    /// A minimal independent walker: collects (path, key, value) of every value in the file,
    /// and checks what bbolt's consistency check does about pages: every page below the
    /// high-water mark is a meta page, the freelist, or part of exactly one node.
    pub(super) fn walk(file: &[u8]) -> Vec<Walked> {
        let m = if u64_at(file, PAGE_HEADER_LEN + 48)
            > u64_at(file, PAGE_SIZE + PAGE_HEADER_LEN + 48)
        {
            PAGE_HEADER_LEN
        } else {
            PAGE_SIZE + PAGE_HEADER_LEN
        };
        let hw = u64_at(file, m + 40) as usize;
        let mut seen = vec![0u32; hw];
        seen[0] = 1;
        seen[1] = 1;
        // The freelist page(s) and the pages it lists.
        let fl = u64_at(file, m + 32) as usize;
        let fl_off = fl * PAGE_SIZE;
        for n in &mut seen[fl..=fl + u32_at(file, fl_off + 12) as usize] {
            *n += 1;
        }
        let count = u16::from_le_bytes([file[fl_off + 10], file[fl_off + 11]]) as usize;
        for i in 0..count {
            seen[u64_at(file, fl_off + PAGE_HEADER_LEN + i * 8) as usize] += 1;
        }
        fn mark(file: &[u8], p: usize, seen: &mut Vec<u32>) {
            let overflow = u32_at(file, p * PAGE_SIZE + 12) as usize;
            assert_eq!(u64_at(file, p * PAGE_SIZE), p as u64, "page id");
            for n in &mut seen[p..=p + overflow] {
                *n += 1;
            }
            let flags = u16::from_le_bytes([file[p * PAGE_SIZE + 8], file[p * PAGE_SIZE + 9]]);
            let count = u16::from_le_bytes([file[p * PAGE_SIZE + 10], file[p * PAGE_SIZE + 11]]);
            for i in 0..count as usize {
                let h = p * PAGE_SIZE + PAGE_HEADER_LEN + i * ELEMENT_LEN;
                if flags == FLAG_BRANCH {
                    mark(file, u64_at(file, h + 8) as usize, seen);
                } else if u32_at(file, h) == LEAF_FLAG_BUCKET {
                    let pos = h + u32_at(file, h + 4) as usize + u32_at(file, h + 8) as usize;
                    let root = u64_at(file, pos) as usize;
                    if root != 0 {
                        mark(file, root, seen);
                    }
                }
            }
        }
        mark(file, u64_at(file, m + 16) as usize, &mut seen);
        assert!(seen.iter().all(|&n| n == 1), "page use: {seen:?}");
        walk_values(file)
    }

    fn walk_values(file: &[u8]) -> Vec<Walked> {
        let meta = |p: usize| {
            let m = p * PAGE_SIZE + PAGE_HEADER_LEN;
            assert_eq!(u32_at(file, m), crate::mox::bbolt::MAGIC);
            assert_eq!(
                u64_at(file, m + META_CHECKSUMMED_LEN),
                fnv1a64(&file[m..m + META_CHECKSUMMED_LEN])
            );
            (u64_at(file, m + 48), u64_at(file, m + 16))
        };
        let (t0, r0) = meta(0);
        let (t1, r1) = meta(1);
        let root = if t0 > t1 { r0 } else { r1 };
        let mut out = Vec::new();
        fn page(file: &[u8], p: &[u8], path: &[Vec<u8>], out: &mut Vec<Walked>) {
            let flags = u16::from_le_bytes([p[8], p[9]]);
            let count = u16::from_le_bytes([p[10], p[11]]) as usize;
            for i in 0..count {
                let h = PAGE_HEADER_LEN + i * ELEMENT_LEN;
                if flags == FLAG_BRANCH {
                    let child = u64_at(p, h + 8) as usize;
                    page(file, &file[child * PAGE_SIZE..], path, out);
                } else {
                    assert_eq!(flags, FLAG_LEAF);
                    let pos = h + u32_at(p, h + 4) as usize;
                    let ks = u32_at(p, h + 8) as usize;
                    let vs = u32_at(p, h + 12) as usize;
                    let key = p[pos..pos + ks].to_vec();
                    let val = &p[pos + ks..pos + ks + vs];
                    if u32_at(p, h) == LEAF_FLAG_BUCKET {
                        let mut sub = path.to_vec();
                        sub.push(key);
                        let r = u64_at(val, 0) as usize;
                        if r == 0 {
                            page(file, &val[BUCKET_HEADER_LEN..], &sub, out);
                        } else {
                            page(file, &file[r * PAGE_SIZE..], &sub, out);
                        }
                    } else {
                        out.push((path.to_vec(), key, val.to_vec()));
                    }
                }
            }
        }
        page(file, &file[root as usize * PAGE_SIZE..], &[], &mut out);
        out
    }

    #[test]
    fn update_keeps_unchanged_pages_and_frees_replaced_ones() {
        let mut root = BoltBucket::new();
        for b in 0..4u8 {
            let bucket = root.bucket_mut(&[b'b', b]);
            for i in 0..4000u32 {
                bucket.put(i.to_be_bytes().to_vec(), vec![b; 30]);
            }
            bucket.bucket_mut(b"small").put(b"x", b"y");
        }
        let first = build(&root, 4);
        let path = Path::new("t.db");

        // One value changes, one key is added at the end, one bucket goes away.
        let b1 = root.bucket_mut(b"b\x01");
        b1.put(17u32.to_be_bytes().to_vec(), b"changed".to_vec());
        b1.put(9999u32.to_be_bytes().to_vec(), b"new".to_vec());
        b1.sequence = 9;
        root.entries.remove(b"b\x03".as_slice());
        let second = update(&first, path, &root).unwrap();
        walk(&second);
        let bolt = Bolt::from_bytes(path.into(), second.clone()).unwrap();
        assert_eq!(bolt.txid(), 5);
        assert_eq!(BoltBucket::load(&bolt.root()).unwrap(), root);
        let differing = first
            .chunks(PAGE_SIZE)
            .zip(second.chunks(PAGE_SIZE))
            .filter(|(a, b)| a != b)
            .count();
        let pages = first.len() / PAGE_SIZE;
        assert!(differing < 12, "{differing} of {pages} pages changed");
        assert!(second.len() <= first.len() + 4 * PAGE_SIZE);

        // Nothing changed: only the meta and freelist pages are written again.
        let third = update(&second, path, &root).unwrap();
        let differing = second
            .chunks(PAGE_SIZE)
            .zip(third.chunks(PAGE_SIZE))
            .filter(|(a, b)| a != b)
            .count();
        assert!(differing <= 3, "{differing}");
        walk(&third);

        // A later update reuses the freed pages instead of growing the file.
        root.entries.remove(b"b\x02".as_slice());
        root.bucket_mut(b"b\x00").put(b"zzz".to_vec(), vec![1; 50]);
        let fourth = update(&third, path, &root).unwrap();
        walk(&fourth);
        assert!(fourth.len() <= third.len());
        let bolt = Bolt::from_bytes(path.into(), fourth).unwrap();
        assert_eq!(BoltBucket::load(&bolt.root()).unwrap(), root);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 48,
            failure_persistence: None,
            ..Default::default()
        })]

        /// Several generations of random changes, each written over the previous file: the
        /// reader sees exactly the new tree, and every page is in use once or free once.
        #[test]
        fn updates_read_back_and_account_for_every_page(seed in proptest::prelude::any::<u64>()) {
            let mut s = seed | 1;
            let mut next = move || {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                s
            };
            let mut root = BoltBucket::new();
            let mut file = build(&root, 2);
            for _gen in 0..4 {
                for _ in 0..(next() % 2500) {
                    let b = root.bucket_mut(format!("b{}", next() % 4).as_bytes());
                    let target = if next() % 5 == 0 { b.bucket_mut(b"nested") } else { b };
                    let key = format!("k{:06}", next() % 5000).into_bytes();
                    match next() % 10 {
                        0 => {
                            target.entries.remove(&key);
                        }
                        1 => target.put(key, vec![7u8; 4000 + (next() % 9000) as usize]),
                        _ => target.put(key, vec![(next() % 256) as u8; (next() % 60) as usize]),
                    }
                }
                if next() % 4 == 0 {
                    root.entries.remove(format!("b{}", next() % 4).as_bytes());
                }
                file = update(&file, Path::new("p.db"), &root).unwrap();
                walk(&file);
                let bolt = Bolt::from_bytes("p.db".into(), file.clone()).unwrap();
                proptest::prop_assert_eq!(BoltBucket::load(&bolt.root()).unwrap(), root.clone());
            }
        }
    }

    #[test]
    fn update_over_damaged_files_fails_cleanly() {
        let mut root = BoltBucket::new();
        for i in 0..3000u32 {
            root.bucket_mut(b"a")
                .put(i.to_be_bytes().to_vec(), vec![1; 20]);
        }
        let good = build(&root, 2);
        let mut s = 0x1234_5678_9abc_def1u64;
        let mut errors = 0;
        for round in 0..400 {
            let mut bad = good.clone();
            for _ in 0..1 + round % 8 {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                // Damage anything after the meta pages (whose checksums would refuse it).
                let at = 2 * PAGE_SIZE + (s as usize % (bad.len() - 2 * PAGE_SIZE));
                bad[at] ^= (s >> 40) as u8 | 1;
            }
            if round % 50 == 0 {
                bad.truncate(bad.len() / 2);
            }
            // Must not panic; a damaged page map is an error naming the file.
            if let Err(e) = update(&bad, Path::new("bad.db"), &root) {
                assert!(e.to_string().contains("bad.db"), "{e}");
                errors += 1;
            }
        }
        assert!(errors > 0);
    }

    #[test]
    fn empty_database_has_valid_metas() {
        let file = build(&BoltBucket::new(), 3);
        assert_eq!(file.len(), 4 * PAGE_SIZE);
        assert!(walk(&file).is_empty());
        let m1 = PAGE_SIZE + PAGE_HEADER_LEN;
        assert_eq!(u64_at(&file, m1 + 48), 3);
        assert_eq!(u64_at(&file, m1 + 40), 4);
    }

    #[test]
    fn nested_inline_and_large_buckets_read_back_in_order() {
        let mut root = BoltBucket::new();
        let big = root.bucket_mut(b"big");
        big.sequence = 77;
        for i in 0..5000u32 {
            big.put(i.to_be_bytes().to_vec(), vec![i as u8; (i % 50) as usize]);
        }
        big.put(b"huge".to_vec(), vec![7u8; 3 * PAGE_SIZE + 5]);
        root.bucket_mut(b"small").put(b"k".to_vec(), b"v".to_vec());
        root.bucket_mut(b"nest")
            .bucket_mut(b"inner")
            .put(b"a", b"b");
        let file = build(&root, 9);
        let got = walk(&file);
        let big_vals: Vec<_> = got
            .iter()
            .filter(|(p, _, _)| p == &[b"big".to_vec()])
            .collect();
        assert_eq!(big_vals.len(), 5001);
        let keys: Vec<_> = big_vals.iter().map(|(_, k, _)| k.clone()).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert!(
            big_vals
                .iter()
                .any(|(_, k, v)| k == b"huge" && v.len() == 3 * PAGE_SIZE + 5)
        );
        assert!(got.contains(&(vec![b"small".to_vec()], b"k".to_vec(), b"v".to_vec())));
        assert!(got.contains(&(
            vec![b"nest".to_vec(), b"inner".to_vec()],
            b"a".to_vec(),
            b"b".to_vec()
        )));
        // Every page below the high-water mark is used exactly once: the file is exactly as
        // long as the meta page says.
        let m = PAGE_SIZE + PAGE_HEADER_LEN;
        assert_eq!(u64_at(&file, m + 40) as usize * PAGE_SIZE, file.len());

        // The reader sees the same tree, sequences included.
        let bolt = Bolt::from_bytes("w.db".into(), file).unwrap();
        assert_eq!(bolt.txid(), 9);
        assert_eq!(BoltBucket::load(&bolt.root()).unwrap(), root);
    }
}
