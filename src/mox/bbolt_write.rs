//! Writing bbolt files from scratch: the whole database is built in memory from a sorted tree
//! of buckets and laid out in one pass, as a bulk loader.
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

use std::collections::BTreeMap;
use std::path::Path;

use super::{Bolt, Bucket, MoxError, Value};

/// Page size of every file we write (the size mox uses on the platforms it runs on).
pub const PAGE_SIZE: usize = 4096;

const MAGIC: u32 = 0xED0C_DAED;
const VERSION: u32 = 2;
const PAGE_HEADER_SIZE: usize = 16;
const ELEMENT_SIZE: usize = 16;
const BUCKET_HEADER_SIZE: usize = 16;
const MAX_INLINE_BUCKET_SIZE: usize = PAGE_SIZE / 4;
/// Bytes of the meta fields covered by the checksum (magic through txid).
const META_CHECKSUMMED: usize = 56;

const FLAG_BRANCH: u16 = 0x01;
const FLAG_LEAF: u16 = 0x02;
const FLAG_META: u16 = 0x04;
const FLAG_FREELIST: u16 = 0x10;
/// Leaf element flag: the value is a sub-bucket.
const BUCKET_LEAF_FLAG: u32 = 0x01;

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
        if let BoltEntry::Value(_) = entry {
            *entry = BoltEntry::Bucket(BoltBucket::new());
        }
        match entry {
            BoltEntry::Bucket(b) => b,
            BoltEntry::Value(_) => unreachable!("replaced above"),
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
    let txid = txid.max(1);
    let mut w = PageWriter {
        buf: vec![0; 3 * PAGE_SIZE],
        next_pgid: 3,
    };
    let root_pgid = w.write_tree(root);
    let high_water = w.next_pgid;

    // Freelist: no free pages.
    write_page_header(&mut w.buf, 2, FLAG_FREELIST, 0, 0);

    for (pgid, meta_txid) in [(txid % 2, txid), ((txid - 1) % 2, txid - 1)] {
        let off = pgid as usize * PAGE_SIZE;
        write_page_header(&mut w.buf, pgid, FLAG_META, 0, 0);
        let m = off + PAGE_HEADER_SIZE;
        let buf = &mut w.buf;
        put_u32(buf, m, MAGIC);
        put_u32(buf, m + 4, VERSION);
        put_u32(buf, m + 8, PAGE_SIZE as u32);
        put_u32(buf, m + 12, 0); // flags
        put_u64(buf, m + 16, root_pgid);
        put_u64(buf, m + 24, root.sequence);
        put_u64(buf, m + 32, 2); // freelist page
        put_u64(buf, m + 40, high_water);
        put_u64(buf, m + 48, meta_txid);
        let sum = fnv1a64(&buf[m..m + META_CHECKSUMMED]);
        put_u64(buf, m + META_CHECKSUMMED, sum);
    }
    w.buf
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

/// FNV-1a, 64 bits: the meta page checksum.
pub fn fnv1a64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

struct PageWriter {
    buf: Vec<u8>,
    next_pgid: u64,
}

/// A leaf element about to be written.
struct LeafElem<'a> {
    flags: u32,
    key: &'a [u8],
    value: std::borrow::Cow<'a, [u8]>,
}

impl LeafElem<'_> {
    fn size(&self) -> usize {
        ELEMENT_SIZE + self.key.len() + self.value.len()
    }
}

impl PageWriter {
    /// Reserves pages for `bytes` bytes of page content; returns the first page id.
    fn alloc(&mut self, bytes: usize) -> (u64, u32) {
        let npages = bytes.div_ceil(PAGE_SIZE).max(1);
        let pgid = self.next_pgid;
        self.next_pgid += npages as u64;
        self.buf.resize(self.next_pgid as usize * PAGE_SIZE, 0);
        (pgid, (npages - 1) as u32)
    }

    /// The elements of `bucket`, with sub-buckets already written (children first).
    fn elements<'a>(&mut self, bucket: &'a BoltBucket) -> Vec<LeafElem<'a>> {
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
                    flags: BUCKET_LEAF_FLAG,
                    key,
                    value: std::borrow::Cow::Owned(self.bucket_value(b)),
                },
            })
            .collect()
    }

    /// The value stored in the parent for a sub-bucket: its header, inline page included.
    fn bucket_value(&mut self, bucket: &BoltBucket) -> Vec<u8> {
        let has_sub = bucket
            .entries
            .values()
            .any(|e| matches!(e, BoltEntry::Bucket(_)));
        let inline_size = PAGE_HEADER_SIZE
            + bucket
                .entries
                .iter()
                .map(|(k, e)| {
                    ELEMENT_SIZE
                        + k.len()
                        + match e {
                            BoltEntry::Value(v) => v.len(),
                            BoltEntry::Bucket(_) => 0,
                        }
                })
                .sum::<usize>();
        let mut out = Vec::with_capacity(BUCKET_HEADER_SIZE + inline_size);
        if !has_sub && inline_size <= MAX_INLINE_BUCKET_SIZE {
            out.extend_from_slice(&0u64.to_le_bytes());
            out.extend_from_slice(&bucket.sequence.to_le_bytes());
            let elems = self.elements(bucket);
            let start = out.len();
            out.resize(start + inline_size, 0);
            write_leaf(&mut out[start..], 0, &elems);
        } else {
            let root = self.write_tree(bucket);
            out.extend_from_slice(&root.to_le_bytes());
            out.extend_from_slice(&bucket.sequence.to_le_bytes());
        }
        out
    }

    /// Writes the pages of a bucket stored in its own pages; returns its root page id.
    fn write_tree(&mut self, bucket: &BoltBucket) -> u64 {
        let elems = self.elements(bucket);
        // Leaves.
        let mut level: Vec<(Vec<u8>, u64)> = Vec::new();
        let mut start = 0;
        loop {
            let mut end = start;
            let mut size = PAGE_HEADER_SIZE;
            while end < elems.len() && (end == start || size + elems[end].size() <= PAGE_SIZE) {
                size += elems[end].size();
                end += 1;
            }
            let (pgid, overflow) = self.alloc(size);
            let off = pgid as usize * PAGE_SIZE;
            let chunk = &elems[start..end];
            write_leaf(&mut self.buf[off..off + size], pgid, chunk);
            set_overflow(&mut self.buf, off, overflow);
            let first = chunk.first().map(|e| e.key.to_vec()).unwrap_or_default();
            level.push((first, pgid));
            start = end;
            if start >= elems.len() {
                break;
            }
        }
        // Branches, until one page remains.
        while level.len() > 1 {
            let mut next = Vec::new();
            let mut start = 0;
            while start < level.len() {
                let mut end = start;
                let mut size = PAGE_HEADER_SIZE;
                while end < level.len()
                    && (end - start < 2 || size + ELEMENT_SIZE + level[end].0.len() <= PAGE_SIZE)
                {
                    size += ELEMENT_SIZE + level[end].0.len();
                    end += 1;
                }
                let (pgid, overflow) = self.alloc(size);
                let off = pgid as usize * PAGE_SIZE;
                write_branch(&mut self.buf[off..off + size], pgid, &level[start..end]);
                set_overflow(&mut self.buf, off, overflow);
                next.push((level[start].0.clone(), pgid));
                start = end;
            }
            level = next;
        }
        level[0].1
    }
}

fn write_page_header(buf: &mut [u8], pgid: u64, flags: u16, count: u16, overflow: u32) {
    let off = pgid as usize * PAGE_SIZE;
    write_header_at(&mut buf[off..], pgid, flags, count, overflow);
}

fn write_header_at(page: &mut [u8], pgid: u64, flags: u16, count: u16, overflow: u32) {
    page[0..8].copy_from_slice(&pgid.to_le_bytes());
    page[8..10].copy_from_slice(&flags.to_le_bytes());
    page[10..12].copy_from_slice(&count.to_le_bytes());
    page[12..16].copy_from_slice(&overflow.to_le_bytes());
}

fn set_overflow(buf: &mut [u8], off: usize, overflow: u32) {
    buf[off + 12..off + 16].copy_from_slice(&overflow.to_le_bytes());
}

fn count_u16(n: usize) -> u16 {
    u16::try_from(n).expect("a page holds fewer than 65536 elements")
}

/// Writes a leaf page (header, element headers, then key/value data) into `page`.
fn write_leaf(page: &mut [u8], pgid: u64, elems: &[LeafElem<'_>]) {
    write_header_at(page, pgid, FLAG_LEAF, count_u16(elems.len()), 0);
    let mut data = PAGE_HEADER_SIZE + elems.len() * ELEMENT_SIZE;
    for (i, e) in elems.iter().enumerate() {
        let h = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
        put_u32(page, h, e.flags);
        put_u32(page, h + 4, (data - h) as u32);
        put_u32(page, h + 8, e.key.len() as u32);
        put_u32(page, h + 12, e.value.len() as u32);
        page[data..data + e.key.len()].copy_from_slice(e.key);
        data += e.key.len();
        page[data..data + e.value.len()].copy_from_slice(&e.value);
        data += e.value.len();
    }
}

/// Writes a branch page: per child, its first key and page id.
fn write_branch(page: &mut [u8], pgid: u64, children: &[(Vec<u8>, u64)]) {
    write_header_at(page, pgid, FLAG_BRANCH, count_u16(children.len()), 0);
    let mut data = PAGE_HEADER_SIZE + children.len() * ELEMENT_SIZE;
    for (i, (key, child)) in children.iter().enumerate() {
        let h = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
        put_u32(page, h, (data - h) as u32);
        put_u32(page, h + 4, key.len() as u32);
        put_u64(page, h + 8, *child);
        page[data..data + key.len()].copy_from_slice(key);
        data += key.len();
    }
}

fn put_u32(buf: &mut [u8], off: usize, v: u32) {
    buf[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

fn put_u64(buf: &mut [u8], off: usize, v: u64) {
    buf[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_at(b: &[u8], o: usize) -> u32 {
        u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
    }
    fn u64_at(b: &[u8], o: usize) -> u64 {
        u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
    }

    /// (bucket path, key, value).
    type Walked = (Vec<Vec<u8>>, Vec<u8>, Vec<u8>);

    /// A minimal independent walker: collects (path, key, value) of every value in the file,
    /// and checks what bbolt's consistency check does about pages: every page below the
    /// high-water mark is a meta page, the freelist, or part of exactly one node.
    fn walk(file: &[u8]) -> Vec<Walked> {
        let hw = u64_at(file, PAGE_SIZE + PAGE_HEADER_SIZE + 40) as usize;
        let mut seen = vec![0u32; hw];
        seen[0] = 1;
        seen[1] = 1;
        seen[2] = 1;
        fn mark(file: &[u8], p: usize, seen: &mut Vec<u32>) {
            let overflow = u32_at(file, p * PAGE_SIZE + 12) as usize;
            assert_eq!(u64_at(file, p * PAGE_SIZE), p as u64, "page id");
            for n in &mut seen[p..=p + overflow] {
                *n += 1;
            }
            let flags = u16::from_le_bytes([file[p * PAGE_SIZE + 8], file[p * PAGE_SIZE + 9]]);
            let count = u16::from_le_bytes([file[p * PAGE_SIZE + 10], file[p * PAGE_SIZE + 11]]);
            for i in 0..count as usize {
                let h = p * PAGE_SIZE + PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
                if flags == FLAG_BRANCH {
                    mark(file, u64_at(file, h + 8) as usize, seen);
                } else if u32_at(file, h) == BUCKET_LEAF_FLAG {
                    let pos = h + u32_at(file, h + 4) as usize + u32_at(file, h + 8) as usize;
                    let root = u64_at(file, pos) as usize;
                    if root != 0 {
                        mark(file, root, seen);
                    }
                }
            }
        }
        let m = PAGE_SIZE + PAGE_HEADER_SIZE;
        mark(file, u64_at(file, m + 16) as usize, &mut seen);
        assert!(seen.iter().all(|&n| n == 1), "page use: {seen:?}");
        walk_values(file)
    }

    fn walk_values(file: &[u8]) -> Vec<Walked> {
        let meta = |p: usize| {
            let m = p * PAGE_SIZE + PAGE_HEADER_SIZE;
            assert_eq!(u32_at(file, m), MAGIC);
            assert_eq!(
                u64_at(file, m + META_CHECKSUMMED),
                fnv1a64(&file[m..m + META_CHECKSUMMED])
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
                let h = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
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
                    if u32_at(p, h) == BUCKET_LEAF_FLAG {
                        let mut sub = path.to_vec();
                        sub.push(key);
                        let r = u64_at(val, 0) as usize;
                        if r == 0 {
                            page(file, &val[BUCKET_HEADER_SIZE..], &sub, out);
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
    fn empty_database_has_valid_metas() {
        let file = build(&BoltBucket::new(), 3);
        assert_eq!(file.len(), 4 * PAGE_SIZE);
        assert!(walk(&file).is_empty());
        let m1 = PAGE_SIZE + PAGE_HEADER_SIZE;
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
        let m = PAGE_SIZE + PAGE_HEADER_SIZE;
        assert_eq!(u64_at(&file, m + 40) as usize * PAGE_SIZE, file.len());

        // The reader sees the same tree, sequences included.
        let bolt = Bolt::from_bytes("w.db".into(), file).unwrap();
        assert_eq!(bolt.txid(), 9);
        assert_eq!(BoltBucket::load(&bolt.root()).unwrap(), root);
    }
}
