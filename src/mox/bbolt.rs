//! A read-only reader of bbolt database files, as written by mox (go.etcd.io/bbolt, format
//! version 2, little-endian page headers).
//!
//! The file is held in memory, or read page by page on demand (a copy that does not change).
//! Every offset is checked before use: damaged input gives an error naming the file and page,
//! never a panic. Page cycles and runaway depth are refused.
//!
//! Layout (all integers little-endian):
//! - page header, 16 bytes: `id u64, flags u16, count u16, overflow u32`;
//! - meta (pages 0 and 1, after the header): `magic u32, version u32, page_size u32, flags u32,
//!   root {pgid u64, sequence u64}, freelist u64, high_water u64, txid u64, checksum u64`, the
//!   checksum being FNV-1a 64 over the 56 bytes before it;
//! - branch element, 16 bytes: `pos u32, ksize u32, pgid u64`;
//! - leaf element, 16 bytes: `flags u32, pos u32, ksize u32, vsize u32`;
//!   `pos` counts from the element itself. Flag 0x01 marks a sub-bucket whose value starts with
//!   a bucket header `{root u64, sequence u64}`; root 0 means an inline bucket whose page follows.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use super::MoxError;

/// The magic number in a bbolt meta page.
pub const MAGIC: u32 = 0xED0C_DAED;
/// The only bbolt file format version there is.
pub const FORMAT_VERSION: u32 = 2;

// The layout, shared with the writer (`bbolt_write`): nothing else knows these bytes.
pub(super) const PAGE_HEADER_LEN: usize = 16;
pub(super) const ELEMENT_LEN: usize = 16;
pub(super) const BUCKET_HEADER_LEN: usize = 16;
const META_LEN: usize = 64;
/// Bytes of the meta fields covered by the checksum (magic through txid).
pub(super) const META_CHECKSUMMED_LEN: usize = 56;

/// Offsets in the page header.
const PAGE_ID: usize = 0;
const PAGE_FLAGS: usize = 8;
const PAGE_COUNT: usize = 10;
pub(super) const PAGE_OVERFLOW: usize = 12;

pub(super) const FLAG_BRANCH: u16 = 0x01;
pub(super) const FLAG_LEAF: u16 = 0x02;
pub(super) const FLAG_META: u16 = 0x04;
pub(super) const FLAG_FREELIST: u16 = 0x10;
/// Leaf element flag: the value is a sub-bucket.
pub(super) const LEAF_FLAG_BUCKET: u32 = 0x01;

/// Deeper trees than this are refused (a real tree of 4 KiB pages never gets near it).
const MAX_DEPTH: usize = 64;
const MIN_PAGE_SIZE: u32 = 512;
const MAX_PAGE_SIZE: u32 = 1 << 20;

/// Pages per slot chunk of the page cache of a file-backed database.
const CACHE_CHUNK: usize = 1024;

/// A lazily filled cache slot for one page (with its overflow pages).
type PageSlot = OnceLock<Box<[u8]>>;

/// Where the pages come from.
enum Storage {
    /// The whole file in memory.
    Memory(Vec<u8>),
    /// Read from the file on first use and kept: memory grows with the pages visited, not with
    /// the file. Slots are allocated per chunk of pages as they are touched.
    File {
        file: File,
        chunks: Vec<OnceLock<Box<[PageSlot]>>>,
    },
}

/// A bbolt database, read-only: held in memory, or read page by page from a file that does not
/// change (a copy).
pub struct Bolt {
    path: PathBuf,
    storage: Storage,
    /// File length in bytes.
    len: u64,
    /// Pages read from the file so far (file-backed only).
    pages_read: AtomicU64,
    page_size: u32,
    root: u64,
    root_sequence: u64,
    high_water: u64,
    txid: u64,
}

impl std::fmt::Debug for Bolt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bolt")
            .field("path", &self.path)
            .field("len", &self.len)
            .field("in_memory", &matches!(self.storage, Storage::Memory(_)))
            .field("page_size", &self.page_size)
            .field("txid", &self.txid)
            .finish()
    }
}

/// A meta page's fields.
pub(super) struct Meta {
    pub(super) page_size: u32,
    pub(super) root: u64,
    pub(super) root_sequence: u64,
    pub(super) freelist: u64,
    pub(super) high_water: u64,
    pub(super) txid: u64,
}

impl Meta {
    /// Writes the meta and its checksum at the start of `m` (the bytes after the page header).
    pub(super) fn write(&self, m: &mut [u8]) {
        put_u32(m, 0, MAGIC);
        put_u32(m, 4, FORMAT_VERSION);
        put_u32(m, 8, self.page_size);
        put_u32(m, 12, 0); // flags
        put_u64(m, 16, self.root);
        put_u64(m, 24, self.root_sequence);
        put_u64(m, 32, self.freelist);
        put_u64(m, 40, self.high_water);
        put_u64(m, 48, self.txid);
        let sum = fnv1a64(&m[..META_CHECKSUMMED_LEN]);
        put_u64(m, META_CHECKSUMMED_LEN, sum);
    }
}

// Little-endian integers at an offset; reads past the end give 0 (callers check lengths
// first: this only keeps damaged input from panicking).
pub(super) fn u16_at(b: &[u8], off: usize) -> u16 {
    b.get(off..off + 2)
        .map_or(0, |s| u16::from_le_bytes([s[0], s[1]]))
}

pub(super) fn u32_at(b: &[u8], off: usize) -> u32 {
    b.get(off..off + 4)
        .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

pub(super) fn u64_at(b: &[u8], off: usize) -> u64 {
    let mut a = [0u8; 8];
    if let Some(s) = b.get(off..off + 8) {
        a.copy_from_slice(s);
    }
    u64::from_le_bytes(a)
}

pub(super) fn put_u32(buf: &mut [u8], off: usize, v: u32) {
    buf[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

pub(super) fn put_u64(buf: &mut [u8], off: usize, v: u64) {
    buf[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

/// Writes a page header at the start of `page`.
pub(super) fn put_page_header(page: &mut [u8], id: u64, flags: u16, count: u16, overflow: u32) {
    page[PAGE_ID..PAGE_ID + 8].copy_from_slice(&id.to_le_bytes());
    page[PAGE_FLAGS..PAGE_FLAGS + 2].copy_from_slice(&flags.to_le_bytes());
    page[PAGE_COUNT..PAGE_COUNT + 2].copy_from_slice(&count.to_le_bytes());
    put_u32(page, PAGE_OVERFLOW, overflow);
}

/// Flags and element count of the page starting at `page`.
pub(super) fn page_flags_count(page: &[u8]) -> (u16, usize) {
    (
        u16_at(page, PAGE_FLAGS),
        usize::from(u16_at(page, PAGE_COUNT)),
    )
}

/// A leaf element: flags, key, value.
pub(super) type LeafElement<'a> = (u32, &'a [u8], &'a [u8]);

/// `len` bytes at `start` of `page`; Err((start, len)) when they are not all in the page.
fn element_bytes(page: &[u8], start: u64, len: u64) -> Result<&[u8], (u64, u64)> {
    match start.checked_add(len).filter(|&e| e <= page.len() as u64) {
        Some(end) => Ok(&page[start as usize..end as usize]),
        None => Err((start, len)),
    }
}

/// Key and child page of branch element `i` of `page` (whose header says it has element
/// `i`). A key outside the page gives its (start, length).
pub(super) fn branch_element(page: &[u8], i: usize) -> Result<(&[u8], u64), (u64, u64)> {
    let off = PAGE_HEADER_LEN + i * ELEMENT_LEN;
    let pos = u64::from(u32_at(page, off));
    let ksize = u64::from(u32_at(page, off + 4));
    let key = element_bytes(page, off as u64 + pos, ksize)?;
    Ok((key, u64_at(page, off + 8)))
}

/// Flags, key and value of leaf element `i` of `page` (whose header says it has element
/// `i`). A key or value outside the page gives its (start, length).
pub(super) fn leaf_element(page: &[u8], i: usize) -> Result<LeafElement<'_>, (u64, u64)> {
    let off = PAGE_HEADER_LEN + i * ELEMENT_LEN;
    let start = off as u64 + u64::from(u32_at(page, off + 4));
    let ksize = u64::from(u32_at(page, off + 8));
    let vsize = u64::from(u32_at(page, off + 12));
    let key = element_bytes(page, start, ksize)?;
    let value = element_bytes(page, start + ksize, vsize)?;
    Ok((u32_at(page, off), key, value))
}

/// Writes a leaf page into `page`: header, element headers, then keys and values.
pub(super) fn put_leaf<'e>(
    page: &mut [u8],
    id: u64,
    elems: impl ExactSizeIterator<Item = LeafElement<'e>>,
) {
    let n = elems.len();
    put_page_header(page, id, FLAG_LEAF, count_u16(n), 0);
    let mut data = PAGE_HEADER_LEN + n * ELEMENT_LEN;
    for (i, (flags, key, value)) in elems.enumerate() {
        let h = PAGE_HEADER_LEN + i * ELEMENT_LEN;
        put_u32(page, h, flags);
        put_u32(page, h + 4, (data - h) as u32);
        put_u32(page, h + 8, key.len() as u32);
        put_u32(page, h + 12, value.len() as u32);
        page[data..data + key.len()].copy_from_slice(key);
        data += key.len();
        page[data..data + value.len()].copy_from_slice(value);
        data += value.len();
    }
}

/// Writes a branch page into `page`: per child, its first key and page id.
pub(super) fn put_branch(page: &mut [u8], id: u64, children: &[(Vec<u8>, u64)]) {
    put_page_header(page, id, FLAG_BRANCH, count_u16(children.len()), 0);
    let mut data = PAGE_HEADER_LEN + children.len() * ELEMENT_LEN;
    for (i, (key, child)) in children.iter().enumerate() {
        let h = PAGE_HEADER_LEN + i * ELEMENT_LEN;
        put_u32(page, h, (data - h) as u32);
        put_u32(page, h + 4, key.len() as u32);
        put_u64(page, h + 8, *child);
        page[data..data + key.len()].copy_from_slice(key);
        data += key.len();
    }
}

/// Bytes of a freelist page listing `n` page ids.
pub(super) fn freelist_len(n: usize) -> usize {
    PAGE_HEADER_LEN + 8 * n + if n >= 0xFFFF { 8 } else { 0 }
}

/// Writes a freelist page listing `ids` into `page` (a count of 0xFFFF in the header means
/// the real count is the first u64).
pub(super) fn put_freelist(page: &mut [u8], id: u64, overflow: u32, ids: &[u64]) {
    let mut data = PAGE_HEADER_LEN;
    let count = if ids.len() >= 0xFFFF {
        put_u64(page, data, ids.len() as u64);
        data += 8;
        0xFFFF
    } else {
        ids.len() as u16
    };
    put_page_header(page, id, FLAG_FREELIST, count, overflow);
    for &p in ids {
        put_u64(page, data, p);
        data += 8;
    }
}

/// The page ids listed by the freelist page `page` (with its overflow pages).
pub(super) fn freelist_ids(page: &[u8]) -> Result<Vec<u64>, &'static str> {
    let (flags, mut count) = page_flags_count(page);
    if flags != FLAG_FREELIST {
        return Err("not a freelist page");
    }
    let mut at = PAGE_HEADER_LEN;
    if count == 0xFFFF {
        count = usize::try_from(u64_at(page, at)).unwrap_or(usize::MAX);
        at += 8;
    }
    if count
        .checked_mul(8)
        .and_then(|n| n.checked_add(at))
        .is_none_or(|end| end > page.len())
    {
        return Err("freelist longer than its pages");
    }
    Ok((0..count).map(|i| u64_at(page, at + i * 8)).collect())
}

fn count_u16(n: usize) -> u16 {
    u16::try_from(n).expect("a page holds fewer than 65536 elements")
}

/// FNV-1a, 64 bits: the meta page checksum.
pub(super) fn fnv1a64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Parses a meta page's first bytes (header and meta). None if it is not a valid meta.
pub(super) fn parse_meta(page_start: Option<&[u8]>) -> Option<Meta> {
    let m = page_start?.get(PAGE_HEADER_LEN..PAGE_HEADER_LEN + META_LEN)?;
    if u32_at(m, 0) != MAGIC || u32_at(m, 4) != FORMAT_VERSION {
        return None;
    }
    if u64_at(m, META_CHECKSUMMED_LEN) != fnv1a64(&m[..META_CHECKSUMMED_LEN]) {
        return None;
    }
    Some(Meta {
        page_size: u32_at(m, 8),
        root: u64_at(m, 16),
        root_sequence: u64_at(m, 24),
        freelist: u64_at(m, 32),
        high_water: u64_at(m, 40),
        txid: u64_at(m, 48),
    })
}

impl Bolt {
    /// Reads the whole file at `path` into memory.
    pub fn open(path: &Path) -> Result<Bolt, MoxError> {
        let data = std::fs::read(path).map_err(|e| MoxError::io(path, e))?;
        Bolt::from_bytes(path.to_path_buf(), data)
    }

    /// Opens the file at `path` and reads pages only when they are visited (each at most once).
    /// The file must not change while the `Bolt` is in use: use it on copies.
    pub fn open_lazy(path: &Path) -> Result<Bolt, MoxError> {
        Bolt::open_lazy_named(path, path.to_path_buf())
    }

    /// Like [`Bolt::open_lazy`], naming the database `path_for_errors` in errors (e.g. the live
    /// file that `path` is a copy of).
    pub fn open_lazy_named(path: &Path, path_for_errors: PathBuf) -> Result<Bolt, MoxError> {
        let file = File::open(path).map_err(|e| MoxError::io(path, e))?;
        let len = file.metadata().map_err(|e| MoxError::io(path, e))?.len();
        let fetch = |off: u64| -> Result<Option<Vec<u8>>, MoxError> {
            if off >= len {
                return Ok(None);
            }
            let n = (len - off).min((PAGE_HEADER_LEN + META_LEN) as u64) as usize;
            let mut buf = vec![0u8; n];
            file.read_exact_at(&mut buf, off)
                .map_err(|e| MoxError::io(path, e))?;
            Ok(Some(buf))
        };
        let meta = read_meta(&path_for_errors, len, fetch)?;
        let pages = meta.high_water as usize;
        let chunks = (0..pages.div_ceil(CACHE_CHUNK))
            .map(|_| OnceLock::new())
            .collect();
        Ok(Bolt::with_meta(
            path_for_errors,
            Storage::File { file, chunks },
            len,
            meta,
        ))
    }

    /// Uses `data` as the file's contents; `path_for_errors` names it in errors.
    pub fn from_bytes(path_for_errors: PathBuf, data: Vec<u8>) -> Result<Bolt, MoxError> {
        let len = data.len() as u64;
        let meta = read_meta(&path_for_errors, len, |off| {
            Ok(data
                .get(off as usize..)
                .map(|d| d[..d.len().min(PAGE_HEADER_LEN + META_LEN)].to_vec()))
        })?;
        Ok(Bolt::with_meta(
            path_for_errors,
            Storage::Memory(data),
            len,
            meta,
        ))
    }

    fn with_meta(path: PathBuf, storage: Storage, len: u64, meta: Meta) -> Bolt {
        Bolt {
            path,
            storage,
            len,
            pages_read: AtomicU64::new(0),
            page_size: meta.page_size,
            root: meta.root,
            root_sequence: meta.root_sequence,
            high_water: meta.high_water,
            txid: meta.txid,
        }
    }

    /// The file named in errors.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The page size from the meta page.
    pub fn page_size(&self) -> u32 {
        self.page_size
    }

    /// Pages in use according to the current meta page (its high-water mark).
    pub fn page_count(&self) -> u64 {
        self.high_water
    }

    /// The transaction id of the current meta page.
    pub fn txid(&self) -> u64 {
        self.txid
    }

    /// Pages (with their overflow pages, counted once) read from the file so far; 0 for a
    /// database held in memory. Shows how much of a file a query touched.
    pub fn pages_read(&self) -> u64 {
        self.pages_read.load(Ordering::Relaxed)
    }

    /// Pages currently held in the page cache of a file-backed database.
    pub fn cached_pages(&self) -> usize {
        match &self.storage {
            Storage::Memory(_) => 0,
            Storage::File { chunks, .. } => chunks
                .iter()
                .filter_map(OnceLock::get)
                .map(|c| c.iter().filter(|s| s.get().is_some()).count())
                .sum(),
        }
    }

    /// The length of the file in bytes.
    pub fn file_len(&self) -> u64 {
        self.len
    }

    /// The root bucket, holding the top-level buckets.
    pub fn root(&self) -> Bucket<'_> {
        Bucket {
            bolt: self,
            root: self.root,
            sequence: self.root_sequence,
            inline: None,
        }
    }

    fn page_error(&self, page: u64, what: impl Into<String>) -> MoxError {
        MoxError::Page {
            path: self.path.clone(),
            page,
            what: what.into(),
        }
    }

    /// Loads a branch or leaf page with its overflow pages.
    fn node(&self, id: u64) -> Result<Node<'_>, MoxError> {
        let buf = match &self.storage {
            Storage::Memory(data) => {
                let (start, end) = self.page_range(id, &data[..])?;
                &data[start..end]
            }
            Storage::File { file, chunks } => {
                self.check_page_id(id)?;
                let (c, i) = (id as usize / CACHE_CHUNK, id as usize % CACHE_CHUNK);
                let chunk =
                    chunks[c].get_or_init(|| (0..CACHE_CHUNK).map(|_| OnceLock::new()).collect());
                let slot = &chunk[i];
                match slot.get() {
                    Some(b) => b,
                    None => {
                        let b = self.read_page(file, id)?;
                        // Another thread may have filled it meanwhile: same bytes.
                        let _ = slot.set(b);
                        slot.get().expect("slot filled above")
                    }
                }
            }
        };
        Node::parse(buf, id, self)
    }

    fn check_page_id(&self, id: u64) -> Result<(), MoxError> {
        if id < 2 || id >= self.high_water {
            return Err(self.page_error(
                id,
                format!(
                    "page id out of range (database has {} pages)",
                    self.high_water
                ),
            ));
        }
        // The high-water mark is within the file (checked when opening).
        Ok(())
    }

    /// Checks page `id` given its header (at least the first page) and returns the byte range
    /// of the page with its overflow pages.
    fn page_range(&self, id: u64, data_or_header: &[u8]) -> Result<(usize, usize), MoxError> {
        self.check_page_id(id)?;
        let ps = u64::from(self.page_size);
        // id < high_water <= file pages, so these cannot overflow.
        let start = (id * ps) as usize;
        let header = match &self.storage {
            Storage::Memory(_) => &data_or_header[start..start + PAGE_HEADER_LEN],
            Storage::File { .. } => &data_or_header[..PAGE_HEADER_LEN],
        };
        let stored_id = u64_at(header, PAGE_ID);
        if stored_id != id {
            return Err(self.page_error(id, format!("page header names page {stored_id}")));
        }
        let overflow = u64::from(u32_at(header, PAGE_OVERFLOW));
        let last = id + overflow;
        if last >= self.high_water {
            return Err(self.page_error(
                id,
                format!("{overflow} overflow pages run past the end of the database"),
            ));
        }
        Ok((start, ((last + 1) * ps) as usize))
    }

    /// Page `id` with its overflow pages as an owned copy, not kept in the page cache.
    fn page_uncached(&self, id: u64) -> Result<Box<[u8]>, MoxError> {
        match &self.storage {
            Storage::Memory(data) => {
                let (start, end) = self.page_range(id, &data[..])?;
                Ok(Box::from(&data[start..end]))
            }
            Storage::File { file, chunks } => {
                self.check_page_id(id)?;
                let cached = chunks[id as usize / CACHE_CHUNK]
                    .get()
                    .and_then(|c| c[id as usize % CACHE_CHUNK].get());
                match cached {
                    Some(b) => Ok(b.clone()),
                    None => self.read_page(file, id),
                }
            }
        }
    }

    /// Reads page `id` and its overflow pages from the file.
    fn read_page(&self, file: &File, id: u64) -> Result<Box<[u8]>, MoxError> {
        self.pages_read.fetch_add(1, Ordering::Relaxed);
        let ps = self.page_size as usize;
        let mut first = vec![0u8; ps];
        file.read_exact_at(&mut first, id * ps as u64)
            .map_err(|e| MoxError::io(&self.path, e))?;
        let (start, end) = self.page_range(id, &first)?;
        if end - start == ps {
            return Ok(first.into_boxed_slice());
        }
        let mut all = first;
        all.resize(end - start, 0);
        file.read_exact_at(&mut all[ps..], (start + ps) as u64)
            .map_err(|e| MoxError::io(&self.path, e))?;
        Ok(all.into_boxed_slice())
    }
}

/// Finds the current meta page. `fetch(offset)` returns the bytes at a file offset (at least a
/// page header and a meta, when the file is that long).
fn read_meta(
    path: &Path,
    len: u64,
    fetch: impl Fn(u64) -> Result<Option<Vec<u8>>, MoxError>,
) -> Result<Meta, MoxError> {
    let page_err = |page: u64, what: String| MoxError::Page {
        path: path.to_path_buf(),
        page,
        what,
    };
    // Meta 0 is at offset 0 and names the page size; meta 1 is one page further. If meta 0
    // is damaged, look for meta 1 at every plausible page size.
    let meta0 = parse_meta(fetch(0)?.as_deref()).filter(|m| valid_page_size(m.page_size));
    let mut meta1 = None;
    match &meta0 {
        Some(m0) => {
            meta1 = parse_meta(fetch(u64::from(m0.page_size))?.as_deref())
                .filter(|m| m.page_size == m0.page_size);
        }
        None => {
            let mut ps = MIN_PAGE_SIZE;
            while ps <= MAX_PAGE_SIZE {
                let m = parse_meta(fetch(u64::from(ps))?.as_deref());
                if let Some(m) = m.filter(|m| m.page_size == ps) {
                    meta1 = Some(m);
                    break;
                }
                ps *= 2;
            }
        }
    }
    let (meta, meta_page) = match (meta0, meta1) {
        (Some(a), Some(b)) => {
            if b.txid > a.txid {
                (b, 1)
            } else {
                (a, 0)
            }
        }
        (Some(a), None) => (a, 0),
        (None, Some(b)) => (b, 1),
        (None, None) => {
            if len < (PAGE_HEADER_LEN + META_LEN) as u64 {
                return Err(page_err(
                    0,
                    format!("file too short for a bbolt database ({len} bytes)"),
                ));
            }
            return Err(page_err(
                0,
                "no valid meta page (bad magic, version or checksum in pages 0 and 1)".into(),
            ));
        }
    };
    if meta.high_water < 2 || meta.root < 2 || meta.root >= meta.high_water {
        return Err(page_err(
            meta_page,
            format!(
                "meta names root page {} of {} pages",
                meta.root, meta.high_water
            ),
        ));
    }
    // A consistent file always holds every page up to the high-water mark.
    let file_pages = len / u64::from(meta.page_size);
    if file_pages < meta.high_water {
        return Err(page_err(
            file_pages,
            format!(
                "file is truncated: it ends at page {file_pages}, the database uses {} pages",
                meta.high_water
            ),
        ));
    }
    Ok(meta)
}

fn valid_page_size(ps: u32) -> bool {
    (MIN_PAGE_SIZE..=MAX_PAGE_SIZE).contains(&ps) && ps.is_power_of_two()
}

/// One branch or leaf page (or an inline bucket's page).
#[derive(Clone, Copy)]
struct Node<'a> {
    /// The page id; for an inline page, the page holding it (for errors).
    id: u64,
    leaf: bool,
    count: usize,
    buf: &'a [u8],
}

impl<'a> Node<'a> {
    fn parse(buf: &'a [u8], id: u64, bolt: &Bolt) -> Result<Node<'a>, MoxError> {
        if buf.len() < PAGE_HEADER_LEN {
            return Err(bolt.page_error(id, "page shorter than its header"));
        }
        let (flags, count) = page_flags_count(buf);
        let leaf = match flags {
            FLAG_LEAF => true,
            FLAG_BRANCH => false,
            other => {
                return Err(bolt.page_error(
                    id,
                    format!("expected a branch or leaf page, found flags {other:#x}"),
                ));
            }
        };
        if PAGE_HEADER_LEN + count * ELEMENT_LEN > buf.len() {
            return Err(bolt.page_error(id, format!("{count} elements do not fit in the page")));
        }
        if !leaf && count == 0 {
            return Err(bolt.page_error(id, "branch page without elements"));
        }
        Ok(Node {
            id,
            leaf,
            count,
            buf,
        })
    }

    fn outside(&self, bolt: &Bolt, i: usize, (start, len): (u64, u64)) -> MoxError {
        bolt.page_error(
            self.id,
            format!("element {i} points outside the page ({start}+{len})"),
        )
    }

    /// Key and child page of branch element `i`.
    fn branch(&self, bolt: &Bolt, i: usize) -> Result<(&'a [u8], u64), MoxError> {
        branch_element(self.buf, i).map_err(|r| self.outside(bolt, i, r))
    }

    /// Flags, key and value of leaf element `i`.
    fn leaf(&self, bolt: &Bolt, i: usize) -> Result<LeafElement<'a>, MoxError> {
        leaf_element(self.buf, i).map_err(|r| self.outside(bolt, i, r))
    }

    fn key(&self, bolt: &Bolt, i: usize) -> Result<&'a [u8], MoxError> {
        if self.leaf {
            Ok(self.leaf(bolt, i)?.1)
        } else {
            Ok(self.branch(bolt, i)?.0)
        }
    }

    /// The first index whose key is >= `key`, and whether that key is `key`.
    fn search(&self, bolt: &Bolt, key: &[u8]) -> Result<(usize, bool), MoxError> {
        let (mut lo, mut hi) = (0usize, self.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.key(bolt, mid)?.cmp(key) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Equal => return Ok((mid, true)),
                std::cmp::Ordering::Greater => hi = mid,
            }
        }
        Ok((lo, false))
    }

    /// A leaf's data value at `i` when `exact` (a copy, with the page id); None for a bucket.
    fn owned_value(
        &self,
        bolt: &Bolt,
        i: usize,
        exact: bool,
    ) -> Result<Option<(Vec<u8>, u64)>, MoxError> {
        if !exact {
            return Ok(None);
        }
        let (flags, _, value) = self.leaf(bolt, i)?;
        Ok((flags & LEAF_FLAG_BUCKET == 0).then(|| (value.to_vec(), self.id)))
    }
}

/// A bucket: a B+tree of keys to values or sub-buckets.
#[derive(Clone, Copy)]
pub struct Bucket<'a> {
    bolt: &'a Bolt,
    root: u64,
    sequence: u64,
    /// The page of an inline bucket, and the id of the page holding it.
    inline: Option<(&'a [u8], u64)>,
}

impl std::fmt::Debug for Bucket<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bucket")
            .field("root", &self.root)
            .field("sequence", &self.sequence)
            .field("inline", &self.inline.is_some())
            .finish()
    }
}

/// A value in a bucket: plain data or a nested bucket.
#[derive(Debug, Clone, Copy)]
pub enum Value<'a> {
    Data(&'a [u8]),
    Bucket(Bucket<'a>),
}

impl<'a> Bucket<'a> {
    fn from_value(bolt: &'a Bolt, page: u64, value: &'a [u8]) -> Result<Bucket<'a>, MoxError> {
        if value.len() < BUCKET_HEADER_LEN {
            return Err(bolt.page_error(page, "bucket value shorter than a bucket header"));
        }
        let root = u64_at(value, 0);
        let sequence = u64_at(value, 8);
        let inline = if root == 0 {
            let p = &value[BUCKET_HEADER_LEN..];
            if p.len() < PAGE_HEADER_LEN {
                return Err(bolt.page_error(page, "inline bucket shorter than a page header"));
            }
            Some((p, page))
        } else {
            None
        };
        Ok(Bucket {
            bolt,
            root,
            sequence,
            inline,
        })
    }

    /// Whether the bucket is stored inline, inside its parent's leaf.
    pub fn is_inline(&self) -> bool {
        self.inline.is_some()
    }

    /// The bucket's sequence (bstore's autoincrement counter for `records`).
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// The bucket's root page (for an inline bucket, the page holding it); for error messages.
    pub fn page_id(&self) -> u64 {
        match self.inline {
            Some((_, page)) => page,
            None => self.root,
        }
    }

    fn root_node(&self) -> Result<Node<'a>, MoxError> {
        match self.inline {
            Some((buf, page)) => Node::parse(buf, page, self.bolt),
            None => self.bolt.node(self.root),
        }
    }

    /// A cursor over the bucket's keys, in order.
    pub fn cursor(&self) -> Cursor<'a> {
        Cursor {
            bucket: *self,
            stack: Vec::new(),
            loads: 0,
        }
    }

    /// The nested bucket `name`, if there is one.
    pub fn bucket(&self, name: &[u8]) -> Result<Option<Bucket<'a>>, MoxError> {
        let mut c = self.cursor();
        match c.seek(name)? {
            Some((k, Value::Bucket(b))) if k == name => Ok(Some(b)),
            _ => Ok(None),
        }
    }

    /// The value of `key`; None if absent or if `key` names a bucket.
    pub fn get(&self, key: &[u8]) -> Result<Option<&'a [u8]>, MoxError> {
        let mut c = self.cursor();
        match c.seek(key)? {
            Some((k, Value::Data(v))) if k == key => Ok(Some(v)),
            _ => Ok(None),
        }
    }

    /// The value of `key` as an owned copy (None if absent or a bucket), with the id of the
    /// leaf page holding it. Branch pages are kept as by a cursor; the leaf is read without
    /// being kept, so that looking up every record of a large database one by one keeps the
    /// branches in memory, not the database.
    pub fn get_owned(&self, key: &[u8]) -> Result<Option<(Vec<u8>, u64)>, MoxError> {
        let bolt = self.bolt;
        let mut node = self.root_node()?;
        for _ in 0..MAX_DEPTH {
            let (i, exact) = node.search(bolt, key)?;
            if node.leaf {
                return node.owned_value(bolt, i, exact);
            }
            let (_, pgid) = node.branch(bolt, if exact { i } else { i.saturating_sub(1) })?;
            let page = bolt.page_uncached(pgid)?;
            let child = Node::parse(&page, pgid, bolt)?;
            if child.leaf {
                let (i, exact) = child.search(bolt, key)?;
                return child.owned_value(bolt, i, exact);
            }
            // A branch is kept: the next lookup passes it again.
            node = bolt.node(pgid)?;
        }
        Err(bolt.page_error(
            self.page_id(),
            format!("tree deeper than {MAX_DEPTH} levels"),
        ))
    }

    /// A walk over the data entries that keeps no pages (see [`Stream`]).
    pub fn stream(&self) -> Stream<'a> {
        let root = match self.inline {
            Some((buf, page)) => (page, Some(Box::from(buf))),
            None => (self.root, None),
        };
        Stream {
            bolt: self.bolt,
            root,
            stack: Vec::new(),
            loads: 0,
            started: false,
        }
    }

    /// Every key and value, in key order.
    pub fn iter(&self) -> Iter<'a> {
        Iter {
            cursor: self.cursor(),
            started: false,
            done: false,
        }
    }
}

/// An ordered position in a bucket. Moving returns the key and value there, or None past the
/// ends.
pub struct Cursor<'a> {
    bucket: Bucket<'a>,
    stack: Vec<(Node<'a>, usize)>,
    /// Pages loaded since the last absolute positioning; bounds work on damaged trees.
    loads: u64,
}

type Entry<'a> = (&'a [u8], Value<'a>);

impl<'a> Cursor<'a> {
    fn bolt(&self) -> &'a Bolt {
        self.bucket.bolt
    }

    fn reset(&mut self) -> Result<(), MoxError> {
        self.stack.clear();
        self.loads = 0;
        let root = self.bucket.root_node()?;
        self.stack.push((root, 0));
        Ok(())
    }

    fn load_child(&mut self, pgid: u64) -> Result<Node<'a>, MoxError> {
        let bolt = self.bolt();
        let parent = self.stack.last().map(|(n, _)| n.id).unwrap_or(0);
        if self.stack.len() >= MAX_DEPTH {
            return Err(bolt.page_error(parent, format!("tree deeper than {MAX_DEPTH} levels")));
        }
        if self.stack.iter().any(|(n, _)| n.id == pgid) {
            return Err(bolt.page_error(parent, format!("cycle: child page {pgid} is an ancestor")));
        }
        self.loads += 1;
        if self.loads > 2 * bolt.high_water + 2 * MAX_DEPTH as u64 {
            return Err(bolt.page_error(parent, "tree visits pages more than once (cycle)"));
        }
        bolt.node(pgid)
    }

    /// Descends from the top of the stack to the leftmost (or rightmost) leaf.
    fn descend(&mut self, rightmost: bool) -> Result<(), MoxError> {
        loop {
            let (node, idx) = *self.stack.last().expect("stack not empty");
            if node.leaf {
                return Ok(());
            }
            let (_, pgid) = node.branch(self.bolt(), idx)?;
            let child = self.load_child(pgid)?;
            let cidx = if rightmost {
                child.count.saturating_sub(1)
            } else {
                0
            };
            self.stack.push((child, cidx));
        }
    }

    fn current(&self) -> Result<Option<Entry<'a>>, MoxError> {
        let Some(&(node, idx)) = self.stack.last() else {
            return Ok(None);
        };
        if idx >= node.count {
            return Ok(None);
        }
        let bolt = self.bolt();
        let (flags, key, value) = node.leaf(bolt, idx)?;
        let value = if flags & LEAF_FLAG_BUCKET != 0 {
            Value::Bucket(Bucket::from_value(bolt, node.id, value)?)
        } else {
            Value::Data(value)
        };
        Ok(Some((key, value)))
    }

    /// The page holding the current entry (for an inline bucket, the page holding the bucket).
    pub fn page_id(&self) -> Option<u64> {
        self.stack.last().map(|(n, _)| n.id)
    }

    /// The first entry.
    pub fn first(&mut self) -> Result<Option<Entry<'a>>, MoxError> {
        self.reset()?;
        self.descend(false)?;
        if self.stack.last().is_some_and(|(n, _)| n.count == 0) {
            return self.next();
        }
        self.current()
    }

    /// The last entry.
    pub fn last(&mut self) -> Result<Option<Entry<'a>>, MoxError> {
        self.reset()?;
        if let Some(top) = self.stack.last_mut() {
            top.1 = top.0.count.saturating_sub(1);
        }
        self.descend(true)?;
        if self.stack.last().is_some_and(|(n, _)| n.count == 0) {
            return self.prev();
        }
        self.current()
    }

    /// The entry after the current one.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Entry<'a>>, MoxError> {
        loop {
            let Some(level) = self.stack.iter().rposition(|(n, i)| i + 1 < n.count) else {
                // Past the end: stay there.
                if let Some(top) = self.stack.last_mut() {
                    top.1 = top.0.count;
                }
                return Ok(None);
            };
            self.stack.truncate(level + 1);
            self.stack[level].1 += 1;
            self.descend(false)?;
            if self.stack.last().is_some_and(|(n, _)| n.count == 0) {
                continue;
            }
            return self.current();
        }
    }

    /// The entry before the current one.
    pub fn prev(&mut self) -> Result<Option<Entry<'a>>, MoxError> {
        loop {
            let Some(level) = self.stack.iter().rposition(|(_, i)| *i > 0) else {
                self.stack.clear();
                return Ok(None);
            };
            self.stack.truncate(level + 1);
            self.stack[level].1 -= 1;
            self.descend(true)?;
            if self.stack.last().is_some_and(|(n, _)| n.count == 0) {
                continue;
            }
            return self.current();
        }
    }

    /// The first entry whose key is >= `key`.
    pub fn seek(&mut self, key: &[u8]) -> Result<Option<Entry<'a>>, MoxError> {
        self.reset()?;
        loop {
            let bolt = self.bolt();
            let (node, _) = *self.stack.last().expect("stack not empty");
            let (lo, exact) = node.search(bolt, key)?;
            if node.leaf {
                self.stack.last_mut().expect("stack not empty").1 = lo;
                if lo >= node.count {
                    return self.next();
                }
                return self.current();
            }
            // In a branch, the child holding `key` is the last one whose first key is <= `key`.
            let idx = if exact { lo } else { lo.saturating_sub(1) };
            self.stack.last_mut().expect("stack not empty").1 = idx;
            let (_, pgid) = node.branch(bolt, idx)?;
            let child = self.load_child(pgid)?;
            self.stack.push((child, 0));
        }
    }
}

/// Walks a bucket's data entries in key order without keeping the pages it reads: memory
/// stays bounded by the tree's depth, whatever the size of the bucket. Sub-buckets are skipped.
pub struct Stream<'a> {
    bolt: &'a Bolt,
    /// The root page (an inline bucket's page copied out of its parent).
    root: (u64, Option<Box<[u8]>>),
    /// Per level: page bytes, page id, current index.
    stack: Vec<(Box<[u8]>, u64, usize)>,
    loads: u64,
    started: bool,
}

impl<'a> Stream<'a> {
    fn node(&self, level: usize) -> Result<Node<'_>, MoxError> {
        let (buf, id, _) = &self.stack[level];
        Node::parse(buf, *id, self.bolt)
    }

    fn load(&mut self, pgid: u64) -> Result<Box<[u8]>, MoxError> {
        let bolt = self.bolt;
        let parent = self.stack.last().map(|(_, id, _)| *id).unwrap_or(0);
        if self.stack.len() >= MAX_DEPTH {
            return Err(bolt.page_error(parent, format!("tree deeper than {MAX_DEPTH} levels")));
        }
        if self.stack.iter().any(|(_, id, _)| *id == pgid) {
            return Err(bolt.page_error(parent, format!("cycle: child page {pgid} is an ancestor")));
        }
        self.loads += 1;
        if self.loads > 2 * bolt.high_water + 2 * MAX_DEPTH as u64 {
            return Err(bolt.page_error(parent, "tree visits pages more than once (cycle)"));
        }
        bolt.page_uncached(pgid)
    }

    fn descend(&mut self) -> Result<(), MoxError> {
        loop {
            let level = self.stack.len() - 1;
            let node = self.node(level)?;
            if node.leaf {
                return Ok(());
            }
            let (_, pgid) = node.branch(self.bolt, self.stack[level].2)?;
            let child = self.load(pgid)?;
            // Checked like every page: parse it before going on.
            Node::parse(&child, pgid, self.bolt)?;
            self.stack.push((child, pgid, 0));
        }
    }

    /// Moves to the next data entry and hands `f` its page id, key and value.
    pub fn next_with<R>(
        &mut self,
        f: impl FnOnce(u64, &[u8], &[u8]) -> R,
    ) -> Result<Option<R>, MoxError> {
        if !self.started {
            self.started = true;
            let (id, inline) = &self.root;
            let buf = match inline {
                Some(b) => b.clone(),
                None => self.bolt.page_uncached(*id)?,
            };
            Node::parse(&buf, *id, self.bolt)?;
            self.stack.push((buf, *id, 0));
            self.descend()?;
        } else if !self.advance()? {
            return Ok(None);
        }
        loop {
            let level = self.stack.len() - 1;
            let node = self.node(level)?;
            let idx = self.stack[level].2;
            if idx < node.count {
                let (flags, k, v) = node.leaf(self.bolt, idx)?;
                if flags & LEAF_FLAG_BUCKET == 0 {
                    return Ok(Some(f(node.id, k, v)));
                }
            }
            if !self.advance()? {
                return Ok(None);
            }
        }
    }

    /// Steps to the next leaf position; false at the end.
    fn advance(&mut self) -> Result<bool, MoxError> {
        loop {
            let mut level = None;
            for l in (0..self.stack.len()).rev() {
                let count = self.node(l)?.count;
                if self.stack[l].2 + 1 < count {
                    level = Some(l);
                    break;
                }
            }
            let Some(level) = level else {
                self.stack.clear();
                return Ok(false);
            };
            self.stack.truncate(level + 1);
            self.stack[level].2 += 1;
            self.descend()?;
            if self.node(self.stack.len() - 1)?.count > 0 {
                return Ok(true);
            }
        }
    }
}

/// Iterates over a bucket; after an error, it ends.
pub struct Iter<'a> {
    cursor: Cursor<'a>,
    started: bool,
    done: bool,
}

impl Iter<'_> {
    /// The page holding the entry last returned.
    pub fn page_id(&self) -> Option<u64> {
        self.cursor.page_id()
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = Result<(&'a [u8], Value<'a>), MoxError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let r = if self.started {
            self.cursor.next()
        } else {
            self.started = true;
            self.cursor.first()
        };
        match r {
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_reference_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn garbage_is_an_error_naming_page_zero() {
        let e = Bolt::from_bytes("x.db".into(), vec![7u8; 8192]).unwrap_err();
        let s = e.to_string();
        assert!(s.contains("x.db") && s.contains("page 0"), "{s}");
        let e = Bolt::from_bytes("y.db".into(), vec![]).unwrap_err();
        assert!(e.to_string().contains("y.db"));
    }
}
