//! Trees: the list of entries of a backed-up directory, stored as blobs of kind Tree.
//! Only this module knows the tree blob bytes (docs/format.md, "Tree").
//!
//! Version 3 (written) is paged, so that a backup stores only the parts that changed:
//!
//! ```text
//! root        "MVTR" 3  postcard(Root { pages: Vec<BlobId> })            entry pages, in order
//! entry page  "MVTP" 1  postcard(Vec<StoredEntry>)                       1 to 256 entries
//! chunk page  "MVTC" 1  postcard(Vec<BlobId>)                            1 to 1024 chunk ids
//! ```
//!
//! A stored entry is [`Entry`] with `chunks` replaced by `Content::Chunks` (at most 64 ids,
//! inline) or `Content::Pages` (the chunk pages of a larger file). Pages end at content-defined
//! boundaries: an entry page after an entry whose path hash hits 1 in 32 (or at 256 entries),
//! a chunk page after a chunk id that hits 1 in 128 (or at 1024 ids); so a change touches the
//! page holding it (and a neighbour when a boundary moves), and every other page keeps its id.
//!
//! Versions 1 and 2 (read) are one blob: "MVTR" version, `postcard(Vec<Entry>)`. Version 2
//! appended `raw_path` and `raw_target` (names that are not UTF-8, as their exact bytes); a
//! version 1 entry is read with both `None`.

use std::collections::{HashMap, HashSet};

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::id::BlobId;
use crate::repo::{BlobKind, Repository};

/// The magic at the start of a tree root blob.
pub const TREE_MAGIC: [u8; 4] = *b"MVTR";
/// The tree format version this build writes (and the highest it reads).
pub const TREE_VERSION: u8 = 3;
/// The magic of an entry page (version 3).
pub const PAGE_MAGIC: [u8; 4] = *b"MVTP";
/// The entry page format version.
const PAGE_VERSION: u8 = 1;
/// The magic of a chunk page (version 3).
pub const CHUNKS_MAGIC: [u8; 4] = *b"MVTC";
/// The chunk page format version.
const CHUNKS_VERSION: u8 = 1;
/// The oldest tree format version this build reads.
const TREE_VERSION_MIN: u8 = 1;

/// What an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum EntryKind {
    #[default]
    File,
    Dir,
    Symlink,
}

/// One file, directory or symlink, with its metadata and content.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Entry {
    /// Relative to the tree root, '/'-separated, no `.` or `..` components. Lossy when the
    /// name is not UTF-8: then `raw_path` holds the exact bytes (see [`Entry::fs_path`]).
    pub path: String,
    pub kind: EntryKind,
    /// Permission bits (`st_mode & 0o7777`).
    pub mode: u32,
    /// Modification time, ns since the epoch.
    pub mtime_ns: i64,
    pub uid: u32,
    pub gid: u32,
    /// Content length (files), target length (symlinks), 0 (directories).
    pub size: u64,
    /// Inode number in the source (used to detect unchanged files).
    pub ino: u64,
    /// 0 = none; entries with the same non-zero value were one inode in the source.
    pub link_group: u64,
    /// Content blobs in order (files only); empty for an empty file.
    pub chunks: Vec<BlobId>,
    /// Symlink target.
    pub target: Option<String>,
    /// Inode change time, ns since the epoch (used to detect unchanged files).
    pub ctime_ns: i64,
    /// The exact bytes of the path when they are not UTF-8 (`path` then holds a lossy form, for
    /// display only); `None` when `path` is exact. Since version 2.
    pub raw_path: Option<Vec<u8>>,
    /// The exact bytes of a symlink target that is not UTF-8 (`target` is then lossy).
    pub raw_target: Option<Vec<u8>>,
}

/// An entry as tree version 1 wrote it (no raw names).
#[derive(Deserialize)]
struct EntryV1 {
    path: String,
    kind: EntryKind,
    mode: u32,
    mtime_ns: i64,
    uid: u32,
    gid: u32,
    size: u64,
    ino: u64,
    link_group: u64,
    chunks: Vec<BlobId>,
    target: Option<String>,
    ctime_ns: i64,
}

impl From<EntryV1> for Entry {
    fn from(e: EntryV1) -> Entry {
        Entry {
            path: e.path,
            kind: e.kind,
            mode: e.mode,
            mtime_ns: e.mtime_ns,
            uid: e.uid,
            gid: e.gid,
            size: e.size,
            ino: e.ino,
            link_group: e.link_group,
            chunks: e.chunks,
            target: e.target,
            ctime_ns: e.ctime_ns,
            raw_path: None,
            raw_target: None,
        }
    }
}

impl Entry {
    /// The path as the filesystem names it, relative to the tree root: exact bytes.
    pub fn fs_path(&self) -> &Path {
        match &self.raw_path {
            Some(raw) => Path::new(OsStr::from_bytes(raw)),
            None => Path::new(&self.path),
        }
    }

    /// Sets the path from filesystem bytes, keeping them exactly when they are not UTF-8.
    pub fn set_fs_path(&mut self, rel: &Path) {
        let (text, raw) = split_name(rel.as_os_str());
        self.path = text;
        self.raw_path = raw;
    }

    /// The symlink target, exact bytes.
    pub fn fs_target(&self) -> Option<PathBuf> {
        match (&self.raw_target, &self.target) {
            (Some(raw), _) => Some(PathBuf::from(OsStr::from_bytes(raw))),
            (None, Some(t)) => Some(PathBuf::from(t)),
            (None, None) => None,
        }
    }

    /// Sets the symlink target from filesystem bytes.
    pub fn set_fs_target(&mut self, target: &Path) {
        let (text, raw) = split_name(target.as_os_str());
        self.target = Some(text);
        self.raw_target = raw;
    }
}

/// A name as text, and its bytes when the text is only a lossy rendering of them.
fn split_name(name: &OsStr) -> (String, Option<Vec<u8>>) {
    match name.to_str() {
        Some(s) => (s.to_string(), None),
        None => (
            name.to_string_lossy().into_owned(),
            Some(name.as_bytes().to_vec()),
        ),
    }
}

/// A directory tree, entries sorted by path (so parents come before their children).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Tree {
    pub entries: Vec<Entry>,
}

/// What [`Tree::store_counted`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeStored {
    /// The root blob.
    pub id: BlobId,
    /// Tree blobs of this tree (root, entry pages, chunk pages; each distinct one once).
    pub blobs: u64,
    /// Of those, the ones this call stored (the others were already in the repository).
    pub blobs_added: u64,
    /// Bytes written into the repository for them.
    pub stored_bytes: u64,
}

impl Tree {
    /// Sorts the entries by path bytes (parents before children).
    pub fn sort(&mut self) {
        self.entries
            .sort_by(|a, b| a.fs_path().as_os_str().cmp(b.fs_path().as_os_str()));
    }

    /// Stores the tree (version 3: chunk pages, entry pages, then the root) and returns the
    /// root's id. Pages that did not change since an earlier tree are already stored.
    pub fn store(&self, repo: &Repository) -> Result<BlobId> {
        Ok(self.store_counted(repo)?.id)
    }

    /// [`Tree::store`], counting what was written.
    pub fn store_counted(&self, repo: &Repository) -> Result<TreeStored> {
        store_entries_counted(repo, self.entries.iter().map(|e| (e, None)))
    }

    /// Encodes the tree as version 3 blobs, handing each (kind Tree) to `put`, which returns
    /// its id: every chunk page and entry page before the root that names it. Returns the
    /// root's id.
    pub fn store_with(&self, put: &mut dyn FnMut(&[u8]) -> Result<BlobId>) -> Result<BlobId> {
        store_entries_with(self.entries.iter().map(|e| (e, None)), put)
    }

    /// Loads a tree like [`Tree::load`], but leaves the chunk pages of large files unread:
    /// such an entry comes with its chunk pages and no chunks. What a backup keeps of its
    /// parent: the page ids of an unchanged file are all it needs to name its content again.
    pub fn load_shallow(repo: &Repository, id: &BlobId) -> Result<Vec<PagedEntry>> {
        let mut walk = TreeWalk::default();
        let mut pages = Vec::new();
        read_tree_with(repo, id, &mut walk, true, Some(&mut pages))?;
        Ok(walk
            .tree
            .entries
            .into_iter()
            .zip(pages)
            .map(|(entry, pages)| PagedEntry { entry, pages })
            .collect())
    }

    /// Loads a tree (any version this build reads), reading and verifying every blob of it:
    /// the root, then its entry pages, then their chunk pages. The first blob that cannot be
    /// read or decoded is the error.
    pub fn load(repo: &Repository, id: &BlobId) -> Result<Tree> {
        let mut walk = TreeWalk::default();
        read_tree(repo, id, &mut walk, true)?;
        Ok(walk.tree)
    }
}

/// An entry as a backup holds it: the chunk list of a large file may already be stored as
/// chunk pages ([`ChunkPager`]), so that it is not kept in memory; then `entry.chunks` is empty
/// and `pages` names them, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagedEntry {
    pub entry: Entry,
    pub pages: Option<Vec<BlobId>>,
}

impl From<Entry> for PagedEntry {
    fn from(entry: Entry) -> PagedEntry {
        PagedEntry { entry, pages: None }
    }
}

impl PagedEntry {
    /// Whether the entry names content (chunks or chunk pages).
    pub fn has_content(&self) -> bool {
        !self.entry.chunks.is_empty() || self.pages.is_some()
    }

    /// The chunks of the entry: its own, or those of its chunk pages (read and checked).
    pub fn chunks(&self, repo: &Repository) -> Result<Vec<BlobId>> {
        let Some(pages) = &self.pages else {
            return Ok(self.entry.chunks.clone());
        };
        let mut out = Vec::new();
        for page in pages {
            out.extend(chunk_page(repo, page)?);
        }
        Ok(out)
    }

    /// Hands the entry's chunks to `f` a group at a time (its own chunks, or one chunk page's):
    /// a large file's chunk list is never whole in memory.
    pub fn for_each_chunk_group(
        &self,
        repo: &Repository,
        f: &mut dyn FnMut(&[BlobId]) -> Result<()>,
    ) -> Result<()> {
        match &self.pages {
            None => f(&self.entry.chunks),
            Some(pages) => pages
                .iter()
                .try_for_each(|page| f(&chunk_page(repo, page)?)),
        }
    }
}

/// The chunk ids of one tree chunk page, read and checked.
pub fn chunk_page(repo: &Repository, id: &BlobId) -> Result<Vec<BlobId>> {
    decode_chunk_page(&repo.get_blob(id)?, &repo.blob_path(id))
}

/// Builds the content of a file from its chunk ids as they come, storing each chunk page as
/// soon as it is complete: a file of a million chunks never has its whole list in memory. The
/// pages are those [`Tree::store`] cuts from the whole list (same boundaries, same ids).
#[derive(Debug, Default)]
pub struct ChunkPager {
    /// Ids not yet in a stored page (all of them while the file may still be inline).
    open: Vec<BlobId>,
    pages: Vec<BlobId>,
    count: usize,
}

impl ChunkPager {
    pub fn new() -> ChunkPager {
        ChunkPager::default()
    }

    /// Adds the next chunk; `put` stores a chunk page (kind Tree) and returns its id.
    pub fn push(&mut self, id: BlobId, put: &mut dyn FnMut(&[u8]) -> Result<BlobId>) -> Result<()> {
        self.open.push(id);
        self.count += 1;
        if self.count == INLINE_CHUNKS_MAX + 1 {
            // No longer inline: the complete pages of what is held are stored.
            let mut done = 0;
            for piece in split_chunks(&self.open) {
                let last = piece.last().expect("pieces are not empty");
                if piece.len() < CHUNK_PAGE_MAX && !chunk_ends_page(last) {
                    break;
                }
                self.pages
                    .push(put(&encode_blob(CHUNKS_MAGIC, CHUNKS_VERSION, piece))?);
                done += piece.len();
            }
            self.open.drain(..done);
        } else if self.count > INLINE_CHUNKS_MAX
            && (self.open.len() >= CHUNK_PAGE_MAX || chunk_ends_page(&id))
        {
            self.pages
                .push(put(&encode_blob(CHUNKS_MAGIC, CHUNKS_VERSION, &self.open))?);
            self.open.clear();
        }
        Ok(())
    }

    /// The file's content: its chunks inline (at most 64), or its chunk pages, the last one
    /// stored now.
    pub fn finish(
        mut self,
        put: &mut dyn FnMut(&[u8]) -> Result<BlobId>,
    ) -> Result<(Vec<BlobId>, Option<Vec<BlobId>>)> {
        if self.count <= INLINE_CHUNKS_MAX {
            return Ok((self.open, None));
        }
        if !self.open.is_empty() {
            self.pages
                .push(put(&encode_blob(CHUNKS_MAGIC, CHUNKS_VERSION, &self.open))?);
        }
        Ok((Vec::new(), Some(self.pages)))
    }
}

/// Stores entries (sorted by path) as a version 3 tree, counting what was written. An entry
/// with chunk pages names them; one with more than 64 chunks gets them stored.
pub fn store_entries_counted<'a>(
    repo: &Repository,
    entries: impl Iterator<Item = (&'a Entry, Option<&'a [BlobId]>)>,
) -> Result<TreeStored> {
    let mut seen = HashSet::new();
    let mut blobs_added = 0;
    let mut stored_bytes = 0;
    let id = store_entries_with(entries, &mut |bytes| {
        let put = repo.put_blob(BlobKind::Tree, bytes)?;
        seen.insert(put.id);
        if put.added {
            blobs_added += 1;
            stored_bytes += put.stored_bytes;
        }
        Ok(put.id)
    })?;
    Ok(TreeStored {
        id,
        blobs: seen.len() as u64,
        blobs_added,
        stored_bytes,
    })
}

/// [`store_entries_counted`] with `put` storing each blob: chunk pages and entry pages before
/// the root that names them. Returns the root's id.
pub fn store_entries_with<'a>(
    entries: impl Iterator<Item = (&'a Entry, Option<&'a [BlobId]>)>,
    put: &mut dyn FnMut(&[u8]) -> Result<BlobId>,
) -> Result<BlobId> {
    let mut pages = Vec::new();
    let mut page: Vec<StoredEntry> = Vec::new();
    for (entry, chunk_pages) in entries {
        let content = match chunk_pages {
            Some(ids) => Content::Pages(ids.to_vec()),
            None => {
                let mut pager = ChunkPager::new();
                for id in &entry.chunks {
                    pager.push(*id, put)?;
                }
                match pager.finish(put)? {
                    (_, Some(ids)) => Content::Pages(ids),
                    (chunks, None) => Content::Chunks(chunks),
                }
            }
        };
        page.push(StoredEntry::new(entry, content));
        if page.len() >= ENTRY_PAGE_MAX || entry_ends_page(entry) {
            pages.push(put(&encode_blob(PAGE_MAGIC, PAGE_VERSION, &page))?);
            page.clear();
        }
    }
    if !page.is_empty() {
        pages.push(put(&encode_blob(PAGE_MAGIC, PAGE_VERSION, &page))?);
    }
    put(&encode_blob(TREE_MAGIC, TREE_VERSION, &Root { pages }))
}

/// One tree blob read by [`walk_tree`].
#[derive(Debug, Clone)]
pub struct TreeBlobRead {
    pub id: BlobId,
    /// "tree", "tree page 3 of 12", "chunk page 2 of file data/x".
    pub what: String,
    /// Its length (content, after decompression).
    pub bytes: u64,
}

/// A tree blob that could not be read or decoded.
#[derive(Debug)]
pub struct TreeFailure {
    pub id: BlobId,
    pub what: String,
    pub error: Error,
}

/// Everything a stored tree is made of, as far as it could be read.
#[derive(Debug, Default)]
pub struct TreeWalk {
    /// The entries whose pages could all be read (all of them when `failed` is empty).
    pub tree: Tree,
    /// Every tree blob read, each distinct one once, the root first.
    pub blobs: Vec<TreeBlobRead>,
    /// Tree blobs that could not be read or decoded (what they list is left out of `tree`).
    pub failed: Vec<TreeFailure>,
}

/// Reads every blob of the tree `id`, going on past blobs that cannot be read (for `verify`
/// and the naming of uses: what can be read is listed, what cannot is named).
pub fn walk_tree(repo: &Repository, id: &BlobId) -> TreeWalk {
    let mut walk = TreeWalk::default();
    // Lenient: failures are recorded in `walk`, never returned.
    let _ = read_tree(repo, id, &mut walk, false);
    walk
}

/// The level of a tree blob: what a blob is expected to be where it is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TreeLevel {
    /// Named by a snapshot: "MVTR" (any version read).
    Root,
    /// Named by a version 3 root: "MVTP".
    Page,
    /// Named by an entry page: "MVTC".
    ChunkPage,
}

impl TreeLevel {
    /// The level of the tree blobs a blob of this level names.
    pub fn child(self) -> TreeLevel {
        match self {
            TreeLevel::Root => TreeLevel::Page,
            TreeLevel::Page | TreeLevel::ChunkPage => TreeLevel::ChunkPage,
        }
    }

    /// How messages name a blob of this level.
    pub fn name(self) -> &'static str {
        match self {
            TreeLevel::Root => "tree",
            TreeLevel::Page => "tree page",
            TreeLevel::ChunkPage => "tree chunk page",
        }
    }
}

/// The blobs one tree blob names.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Children {
    /// Tree blobs (of level `level.child()`), in order, each once.
    pub structure: Vec<BlobId>,
    /// Data blobs (file chunks).
    pub data: Vec<BlobId>,
}

/// Decodes one tree blob expected at `level` and names what it references: a version 1 or 2
/// root names its chunks (data), a version 3 root its entry pages (structure), an entry page
/// the chunks of its small files (data) and the chunk pages of its large ones (structure), a
/// chunk page its chunks (data). A blob of another kind than `level` expects is an error, so a
/// walk from a root never goes deeper than root → page → chunk page.
pub fn tree_blob_children(bytes: &[u8], what: &Path, level: TreeLevel) -> Result<Children> {
    let mut out = Children::default();
    match level {
        TreeLevel::Root => match decode_root(bytes, what)? {
            RootContent::Flat(entries) => {
                out.data = entries.into_iter().flat_map(|e| e.chunks).collect();
            }
            RootContent::Paged(pages) => out.structure = pages,
        },
        TreeLevel::Page => {
            for entry in decode_page(bytes, what)? {
                match entry.content {
                    Content::Chunks(c) => out.data.extend(c),
                    Content::Pages(p) => out.structure.extend(p),
                }
            }
        }
        TreeLevel::ChunkPage => out.data = decode_chunk_page(bytes, what)?,
    }
    let mut seen = HashSet::new();
    out.structure.retain(|id| seen.insert(*id));
    Ok(out)
}

/// Files with more chunks than this keep them in chunk pages.
pub const INLINE_CHUNKS_MAX: usize = 64;
/// At most this many entries in an entry page.
pub const ENTRY_PAGE_MAX: usize = 256;
/// At most this many chunk ids in a chunk page.
pub const CHUNK_PAGE_MAX: usize = 1024;
/// An entry page ends after an entry whose path hash is 0 modulo this (1 in 32).
const ENTRY_SPLIT: u32 = 32;
/// A chunk page ends after a chunk id that is 0 modulo this (1 in 128).
const CHUNK_SPLIT: u32 = 128;
/// Reads of pages are batched (a remote repository fetches neighbours together).
const READ_BATCH: usize = 256;

/// Whether an entry page ends after `entry`: the first 4 bytes of BLAKE3 of its exact path
/// bytes, little-endian, are 0 modulo 32.
fn entry_ends_page(entry: &Entry) -> bool {
    let hash = blake3::hash(entry.fs_path().as_os_str().as_bytes());
    let b = hash.as_bytes();
    u32::from_le_bytes([b[0], b[1], b[2], b[3]]).is_multiple_of(ENTRY_SPLIT)
}

/// Whether a chunk page ends after `id`: its first 4 bytes, little-endian, are 0 modulo 128.
fn chunk_ends_page(id: &BlobId) -> bool {
    let b = &id.0;
    u32::from_le_bytes([b[0], b[1], b[2], b[3]]).is_multiple_of(CHUNK_SPLIT)
}

/// A chunk list cut into pages: after every id that ends a page, and after 1024 ids.
fn split_chunks(chunks: &[BlobId]) -> Vec<&[BlobId]> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, id) in chunks.iter().enumerate() {
        if i + 1 - start >= CHUNK_PAGE_MAX || chunk_ends_page(id) {
            out.push(&chunks[start..=i]);
            start = i + 1;
        }
    }
    if start < chunks.len() {
        out.push(&chunks[start..]);
    }
    out
}

/// The bytes of a version 3 blob: magic, version, postcard body.
fn encode_blob<T: Serialize + ?Sized>(magic: [u8; 4], version: u8, body: &T) -> Vec<u8> {
    let mut out = magic.to_vec();
    out.push(version);
    postcard::to_extend(body, out).expect("tree blob encodes")
}

/// The root of a version 3 tree.
#[derive(Serialize, Deserialize)]
struct Root {
    /// Entry pages, in path order.
    pages: Vec<BlobId>,
}

/// A file's content in an entry page.
#[derive(Debug, Serialize, Deserialize)]
enum Content {
    /// The chunks themselves (at most 64 of them).
    Chunks(Vec<BlobId>),
    /// Chunk pages, in order; their chunks, concatenated, are the file's.
    Pages(Vec<BlobId>),
}

/// An entry as an entry page holds it: [`Entry`] with `chunks` replaced by [`Content`].
#[derive(Debug, Serialize, Deserialize)]
struct StoredEntry {
    path: String,
    kind: EntryKind,
    mode: u32,
    mtime_ns: i64,
    uid: u32,
    gid: u32,
    size: u64,
    ino: u64,
    link_group: u64,
    content: Content,
    target: Option<String>,
    ctime_ns: i64,
    raw_path: Option<Vec<u8>>,
    raw_target: Option<Vec<u8>>,
}

impl StoredEntry {
    fn new(e: &Entry, content: Content) -> StoredEntry {
        StoredEntry {
            path: e.path.clone(),
            kind: e.kind,
            mode: e.mode,
            mtime_ns: e.mtime_ns,
            uid: e.uid,
            gid: e.gid,
            size: e.size,
            ino: e.ino,
            link_group: e.link_group,
            content,
            target: e.target.clone(),
            ctime_ns: e.ctime_ns,
            raw_path: e.raw_path.clone(),
            raw_target: e.raw_target.clone(),
        }
    }

    fn into_entry(self, chunks: Vec<BlobId>) -> Entry {
        Entry {
            path: self.path,
            kind: self.kind,
            mode: self.mode,
            mtime_ns: self.mtime_ns,
            uid: self.uid,
            gid: self.gid,
            size: self.size,
            ino: self.ino,
            link_group: self.link_group,
            chunks,
            target: self.target,
            ctime_ns: self.ctime_ns,
            raw_path: self.raw_path,
            raw_target: self.raw_target,
        }
    }
}

/// The magic of the three kinds of tree blob, for errors naming what was found instead.
fn kind_of(bytes: &[u8]) -> &'static str {
    match bytes.get(0..4) {
        Some(m) if m == TREE_MAGIC => "a tree root",
        Some(m) if m == PAGE_MAGIC => "a tree page",
        Some(m) if m == CHUNKS_MAGIC => "a tree chunk page",
        _ => "not a tree blob",
    }
}

/// Checks magic and version; returns the version and the body.
fn header<'a>(
    bytes: &'a [u8],
    what: &Path,
    magic: [u8; 4],
    versions: std::ops::RangeInclusive<u8>,
    expected: &str,
) -> Result<(u8, &'a [u8])> {
    if bytes.len() < 5 || bytes[0..4] != magic {
        return Err(Error::corrupt(
            what,
            format!("expected {expected}, found {}", kind_of(bytes)),
        ));
    }
    let version = bytes[4];
    if !versions.contains(&version) {
        return Err(Error::UnsupportedVersion {
            path: what.to_path_buf(),
            found: u32::from(version),
            supported: u32::from(*versions.end()),
        });
    }
    Ok((version, &bytes[5..]))
}

/// Decodes a whole version 3 body: nothing may follow the value.
fn body<'a, T: Deserialize<'a>>(bytes: &'a [u8], what: &Path, name: &str) -> Result<T> {
    let (value, rest) = postcard::take_from_bytes(bytes)
        .map_err(|e| Error::corrupt(what, format!("{name}: {e}")))?;
    if !rest.is_empty() {
        return Err(Error::corrupt(
            what,
            format!("{name}: {} bytes after the end", rest.len()),
        ));
    }
    Ok(value)
}

/// What a root holds: all entries (versions 1 and 2) or its entry pages (version 3).
enum RootContent {
    Flat(Vec<Entry>),
    Paged(Vec<BlobId>),
}

fn decode_root(bytes: &[u8], what: &Path) -> Result<RootContent> {
    let (version, rest) = header(
        bytes,
        what,
        TREE_MAGIC,
        TREE_VERSION_MIN..=TREE_VERSION,
        "a tree root",
    )?;
    let bad = |e: postcard::Error| Error::corrupt(what, format!("tree: {e}"));
    Ok(match version {
        1 => {
            let old: Vec<EntryV1> = postcard::from_bytes(rest).map_err(bad)?;
            RootContent::Flat(old.into_iter().map(Entry::from).collect())
        }
        2 => RootContent::Flat(postcard::from_bytes(rest).map_err(bad)?),
        _ => RootContent::Paged(body::<Root>(rest, what, "tree root")?.pages),
    })
}

fn decode_page(bytes: &[u8], what: &Path) -> Result<Vec<StoredEntry>> {
    let (_, rest) = header(
        bytes,
        what,
        PAGE_MAGIC,
        PAGE_VERSION..=PAGE_VERSION,
        "a tree page",
    )?;
    let entries: Vec<StoredEntry> = body(rest, what, "tree page")?;
    if entries.is_empty() || entries.len() > ENTRY_PAGE_MAX {
        return Err(Error::corrupt(
            what,
            format!(
                "tree page of {} entries (1 to {ENTRY_PAGE_MAX})",
                entries.len()
            ),
        ));
    }
    if let Some(e) = entries
        .iter()
        .find(|e| matches!(&e.content, Content::Pages(p) if p.is_empty()))
    {
        return Err(Error::corrupt(
            what,
            format!(
                "tree page: file {} has an empty list of chunk pages",
                e.path
            ),
        ));
    }
    Ok(entries)
}

fn decode_chunk_page(bytes: &[u8], what: &Path) -> Result<Vec<BlobId>> {
    let (_, rest) = header(
        bytes,
        what,
        CHUNKS_MAGIC,
        CHUNKS_VERSION..=CHUNKS_VERSION,
        "a tree chunk page",
    )?;
    let chunks: Vec<BlobId> = body(rest, what, "tree chunk page")?;
    if chunks.is_empty() || chunks.len() > CHUNK_PAGE_MAX {
        return Err(Error::corrupt(
            what,
            format!(
                "tree chunk page of {} chunks (1 to {CHUNK_PAGE_MAX})",
                chunks.len()
            ),
        ));
    }
    Ok(chunks)
}

/// Reads the tree `id` into `walk`. `strict`: the first failure is returned; otherwise
/// failures are recorded and what depends on them left out.
fn read_tree(repo: &Repository, id: &BlobId, walk: &mut TreeWalk, strict: bool) -> Result<()> {
    read_tree_with(repo, id, walk, strict, None)
}

/// [`read_tree`]; with `shallow`, chunk pages are not read: each entry's chunk pages (or
/// `None`) are pushed to it, in the order of `walk.tree.entries`, and its chunks left empty.
fn read_tree_with(
    repo: &Repository,
    id: &BlobId,
    walk: &mut TreeWalk,
    strict: bool,
    mut shallow: Option<&mut Vec<Option<Vec<BlobId>>>>,
) -> Result<()> {
    // A failure: returned when strict, else recorded.
    let fail = |walk: &mut TreeWalk, id: BlobId, what: String, error: Error| {
        if strict {
            Err(error)
        } else {
            walk.failed.push(TreeFailure { id, what, error });
            Ok(())
        }
    };
    let root = match repo
        .get_blob(id)
        .and_then(|bytes| Ok((bytes.len(), decode_root(&bytes, &repo.blob_path(id))?)))
    {
        Ok(r) => r,
        Err(e) => return fail(walk, *id, "tree".into(), e),
    };
    walk.blobs.push(TreeBlobRead {
        id: *id,
        what: "tree".into(),
        bytes: root.0 as u64,
    });
    let pages = match root.1 {
        RootContent::Flat(entries) => {
            if let Some(pages) = shallow {
                pages.resize(entries.len(), None);
            }
            walk.tree.entries = entries;
            return Ok(());
        }
        RootContent::Paged(pages) => pages,
    };
    // Entry pages, each distinct one read once.
    let mut page_entries: HashMap<BlobId, Option<Vec<StoredEntry>>> = HashMap::new();
    let distinct: Vec<BlobId> = {
        let mut seen = HashSet::new();
        pages.iter().copied().filter(|p| seen.insert(*p)).collect()
    };
    let n = pages.len();
    let position: HashMap<BlobId, usize> = pages
        .iter()
        .enumerate()
        .rev()
        .map(|(i, p)| (*p, i))
        .collect();
    for batch in distinct.chunks(READ_BATCH) {
        for (page, read) in batch.iter().zip(repo.get_blobs(batch)) {
            let what = format!("tree page {} of {n}", position[page] + 1);
            match read
                .and_then(|bytes| Ok((bytes.len(), decode_page(&bytes, &repo.blob_path(page))?)))
            {
                Ok((len, entries)) => {
                    walk.blobs.push(TreeBlobRead {
                        id: *page,
                        what,
                        bytes: len as u64,
                    });
                    page_entries.insert(*page, Some(entries));
                }
                Err(e) => {
                    fail(walk, *page, what, e)?;
                    page_entries.insert(*page, None);
                }
            }
        }
    }
    // Chunk pages of the large files, each distinct one read once; named by the first file.
    let mut wanted: Vec<(BlobId, String)> = Vec::new();
    // A shallow read leaves them unread.
    let mut seen = HashSet::new();
    for page in pages.iter().filter(|_| shallow.is_none()) {
        let Some(Some(entries)) = page_entries.get(page) else {
            continue;
        };
        for e in entries {
            if let Content::Pages(ids) = &e.content {
                for (i, c) in ids.iter().enumerate() {
                    if seen.insert(*c) {
                        wanted.push((
                            *c,
                            format!("chunk page {} of {} of file {}", i + 1, ids.len(), e.path),
                        ));
                    }
                }
            }
        }
    }
    let mut chunk_pages: HashMap<BlobId, Option<Vec<BlobId>>> = HashMap::new();
    for batch in wanted.chunks(READ_BATCH) {
        let ids: Vec<BlobId> = batch.iter().map(|(id, _)| *id).collect();
        for ((id, what), read) in batch.iter().zip(repo.get_blobs(&ids)) {
            match read.and_then(|bytes| {
                Ok((bytes.len(), decode_chunk_page(&bytes, &repo.blob_path(id))?))
            }) {
                Ok((len, chunks)) => {
                    walk.blobs.push(TreeBlobRead {
                        id: *id,
                        what: what.clone(),
                        bytes: len as u64,
                    });
                    chunk_pages.insert(*id, Some(chunks));
                }
                Err(e) => {
                    fail(walk, *id, what.clone(), e)?;
                    chunk_pages.insert(*id, None);
                }
            }
        }
    }
    // The entries, in page order.
    for page in &pages {
        let entries = match page_entries.get_mut(page) {
            // A page named twice by a (hostile) root: its entries are listed once.
            Some(entries) => match entries.take() {
                Some(entries) => entries,
                None => continue,
            },
            None => continue,
        };
        'entries: for e in entries {
            if let Some(out) = shallow.as_deref_mut() {
                match &e.content {
                    Content::Pages(ids) => {
                        out.push(Some(ids.clone()));
                        walk.tree.entries.push(e.into_entry(Vec::new()));
                    }
                    Content::Chunks(c) => {
                        out.push(None);
                        let chunks = c.clone();
                        walk.tree.entries.push(e.into_entry(chunks));
                    }
                }
                continue;
            }
            let chunks = match &e.content {
                Content::Chunks(c) => c.clone(),
                Content::Pages(ids) => {
                    let mut all = Vec::new();
                    for id in ids {
                        match chunk_pages.get(id) {
                            Some(Some(c)) => all.extend_from_slice(c),
                            _ => continue 'entries,
                        }
                    }
                    all
                }
            };
            walk.tree.entries.push(e.into_entry(chunks));
        }
    }
    Ok(())
}

/// Builds an entry from lstat of a path (no content, no link group, no symlink target).
pub fn entry_from_metadata(rel: &str, meta: &std::fs::Metadata) -> Entry {
    entry_from_fs(Path::new(rel), meta)
}

/// [`entry_from_metadata`] for a path of any bytes.
pub fn entry_from_fs(rel: &Path, meta: &std::fs::Metadata) -> Entry {
    let mut entry = entry_from_metadata_text(meta);
    entry.set_fs_path(rel);
    entry
}

fn entry_from_metadata_text(meta: &std::fs::Metadata) -> Entry {
    let ft = meta.file_type();
    let kind = if ft.is_dir() {
        EntryKind::Dir
    } else if ft.is_symlink() {
        EntryKind::Symlink
    } else {
        EntryKind::File
    };
    Entry {
        path: String::new(),
        kind,
        mode: meta.mode() & 0o7777,
        mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
        uid: meta.uid(),
        gid: meta.gid(),
        size: if kind == EntryKind::Dir {
            0
        } else {
            meta.len()
        },
        ino: meta.ino(),
        link_group: 0,
        chunks: Vec::new(),
        target: None,
        ctime_ns: meta.ctime() * 1_000_000_000 + meta.ctime_nsec(),
        raw_path: None,
        raw_target: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn repo() -> (tempfile::TempDir, Repository) {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(&dir.path().join("repo")).unwrap();
        (dir, repo)
    }

    /// Version 2 bytes (one blob), as the previous build wrote them.
    fn encode_v2(t: &Tree) -> Vec<u8> {
        let mut out = b"MVTR\x02".to_vec();
        out.extend_from_slice(&postcard::to_stdvec(&t.entries).unwrap());
        out
    }

    fn decode_flat(bytes: &[u8]) -> Result<Tree> {
        match decode_root(bytes, Path::new("t"))? {
            RootContent::Flat(entries) => Ok(Tree { entries }),
            RootContent::Paged(_) => panic!("a paged root"),
        }
    }

    fn id(n: u64) -> BlobId {
        BlobId::hash(&n.to_le_bytes())
    }

    #[test]
    fn round_trip_and_version() {
        let (_dir, repo) = repo();
        let mut t = Tree {
            entries: vec![
                Entry {
                    path: "a/b".into(),
                    chunks: vec![BlobId::hash(b"x")],
                    size: 1,
                    ..Default::default()
                },
                Entry {
                    path: "a".into(),
                    kind: EntryKind::Dir,
                    mode: 0o755,
                    ..Default::default()
                },
                Entry {
                    path: "a.b".into(),
                    kind: EntryKind::Symlink,
                    target: Some("a/b".into()),
                    ..Default::default()
                },
            ],
        };
        t.sort();
        let paths: Vec<&str> = t.entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["a", "a.b", "a/b"]);
        let root = t.store(&repo).unwrap();
        assert_eq!(Tree::load(&repo, &root).unwrap(), t);
        let bytes = repo.get_blob(&root).unwrap();
        assert_eq!(&bytes[..5], b"MVTR\x03");
        let mut newer = bytes.clone();
        newer[4] = 4;
        assert!(matches!(
            decode_root(&newer, Path::new("t")),
            Err(Error::UnsupportedVersion { found: 4, .. })
        ));
        newer[4] = 0;
        assert!(decode_root(&newer, Path::new("t")).is_err());
        // The empty tree: a root without pages.
        let empty = Tree::default().store(&repo).unwrap();
        assert_eq!(Tree::load(&repo, &empty).unwrap(), Tree::default());
        // Version 2 blobs are still read.
        let v2 = repo.put_blob(BlobKind::Tree, &encode_v2(&t)).unwrap().id;
        assert_eq!(Tree::load(&repo, &v2).unwrap(), t);
        let c = tree_blob_children(&encode_v2(&t), Path::new("t"), TreeLevel::Root).unwrap();
        assert_eq!(c.structure, []);
        assert_eq!(c.data, [BlobId::hash(b"x")]);
    }

    #[test]
    fn raw_names_round_trip_and_version_1_still_reads() {
        let (_dir, repo) = repo();
        let name = Path::new(OsStr::from_bytes(b"caf\xe9/\xff"));
        let mut e = Entry {
            kind: EntryKind::Symlink,
            ..Default::default()
        };
        e.set_fs_path(name);
        e.set_fs_target(Path::new(OsStr::from_bytes(b"../\xfe")));
        assert_eq!(e.fs_path(), name);
        assert_eq!(e.path, "caf\u{fffd}/\u{fffd}");
        let t = Tree { entries: vec![e] };
        let back = Tree::load(&repo, &t.store(&repo).unwrap()).unwrap();
        assert_eq!(back, t);
        assert_eq!(
            back.entries[0].fs_target().unwrap().as_os_str().as_bytes(),
            b"../\xfe"
        );
        assert_eq!(decode_flat(&encode_v2(&t)).unwrap(), t);

        // Version 1 bytes: the same fields without the raw names.
        #[derive(Serialize)]
        struct V1<'a>(
            &'a str,
            EntryKind,
            u32,
            i64,
            u32,
            u32,
            u64,
            u64,
            u64,
            Vec<BlobId>,
            Option<&'a str>,
            i64,
        );
        let mut v1 = b"MVTR\x01".to_vec();
        let old = vec![V1(
            "a",
            EntryKind::File,
            0o640,
            5,
            1,
            2,
            3,
            4,
            0,
            vec![BlobId::hash(b"a")],
            None,
            6,
        )];
        v1.extend_from_slice(&postcard::to_stdvec(&old).unwrap());
        let read = decode_flat(&v1).unwrap();
        assert_eq!(read.entries[0].path, "a");
        assert_eq!(read.entries[0].mode, 0o640);
        assert_eq!(read.entries[0].ctime_ns, 6);
        assert_eq!(read.entries[0].raw_path, None);
        let stored = repo.put_blob(BlobKind::Tree, &v1).unwrap().id;
        assert_eq!(Tree::load(&repo, &stored).unwrap(), read);
    }

    #[test]
    fn boundaries_follow_the_rule() {
        let chunks: Vec<BlobId> = (0..50_000).map(id).collect();
        let pages = split_chunks(&chunks);
        assert_eq!(pages.concat(), chunks);
        for (i, p) in pages.iter().enumerate() {
            assert!(!p.is_empty() && p.len() <= CHUNK_PAGE_MAX);
            // A page ends at a hit or at the cap (the last one at the end); no hit inside.
            assert!(p[..p.len() - 1].iter().all(|c| !chunk_ends_page(c)));
            assert!(
                chunk_ends_page(p.last().unwrap())
                    || p.len() == CHUNK_PAGE_MAX
                    || i == pages.len() - 1
            );
        }
        // About 1 in 128.
        assert!((250..550).contains(&pages.len()), "{}", pages.len());
        let same = vec![id(1); 3000];
        let pages = split_chunks(&same);
        assert!(pages.iter().all(|p| p.len() <= CHUNK_PAGE_MAX));
        assert_eq!(pages.concat(), same);
    }

    /// A tree of 2,000 entries, one a database of 200,000 chunks.
    fn big_tree() -> Tree {
        let mut entries = Vec::new();
        for i in 0..2000u64 {
            let mut e = Entry {
                path: format!("d{:02}/f{i:05}", i % 50),
                size: 10 * i,
                mtime_ns: i as i64,
                chunks: (0..(i % 100))
                    .map(|c| id(1_000_000 * (i + 1) + c))
                    .collect(),
                ..Default::default()
            };
            if i == 700 {
                e.path = "d00/db".into();
                e.chunks = (0..200_000).map(|c| id(1 << 40 | c)).collect();
                e.size = 200_000 * 4096;
            }
            entries.push(e);
        }
        for d in 0..50 {
            entries.push(Entry {
                path: format!("d{d:02}"),
                kind: EntryKind::Dir,
                ..Default::default()
            });
        }
        let mut t = Tree { entries };
        t.sort();
        t
    }

    #[test]
    fn large_tree_round_trips_and_a_change_stores_little() {
        let (_dir, repo) = repo();
        let mut t = big_tree();
        let first = t.store_counted(&repo).unwrap();
        assert_eq!(first.blobs, first.blobs_added);
        assert!(first.blobs > 1500, "{first:?}");
        assert_eq!(Tree::load(&repo, &first.id).unwrap(), t);
        // Stored again: nothing new.
        let again = t.store_counted(&repo).unwrap();
        assert_eq!(
            (again.id, again.blobs_added, again.stored_bytes),
            (first.id, 0, 0)
        );

        // One chunk of the database changes (a page of it was written).
        let db = t.entries.iter().position(|e| e.path == "d00/db").unwrap();
        t.entries[db].chunks[100_000] = BlobId::hash(b"a new page");
        t.entries[db].mtime_ns += 1;
        let changed = t.store_counted(&repo).unwrap();
        assert_ne!(changed.id, first.id);
        assert!(changed.blobs_added <= 4, "{changed:?}");
        assert!(
            changed.stored_bytes * 20 < first.stored_bytes,
            "{changed:?} after {first:?}"
        );
        assert_eq!(Tree::load(&repo, &changed.id).unwrap(), t);
        println!(
            "first store: {} tree blobs, {} bytes; one chunk changed: {} new blobs, {} bytes",
            first.blobs, first.stored_bytes, changed.blobs_added, changed.stored_bytes
        );

        // One entry inserted: its page (or the two it splits into) and the root.
        t.entries.push(Entry {
            path: "d17/new".into(),
            chunks: vec![id(7)],
            size: 7,
            ..Default::default()
        });
        t.sort();
        let inserted = t.store_counted(&repo).unwrap();
        assert!(inserted.blobs_added <= 3, "{inserted:?}");
        assert_eq!(Tree::load(&repo, &inserted.id).unwrap(), t);
        println!(
            "one entry inserted: {} new blobs, {} bytes",
            inserted.blobs_added, inserted.stored_bytes
        );

        // The walk names every blob and lists what the tree references.
        let walk = walk_tree(&repo, &inserted.id);
        assert!(walk.failed.is_empty());
        assert_eq!(walk.tree, t);
        assert_eq!(walk.blobs.len() as u64, inserted.blobs);
        assert_eq!(walk.blobs[0].what, "tree");
        let mut structure = HashSet::new();
        let mut data = HashSet::new();
        let mut todo = vec![(inserted.id, TreeLevel::Root)];
        while let Some((blob, level)) = todo.pop() {
            if !structure.insert(blob) {
                continue;
            }
            let bytes = repo.get_blob(&blob).unwrap();
            let c = tree_blob_children(&bytes, Path::new("t"), level).unwrap();
            data.extend(c.data);
            todo.extend(c.structure.into_iter().map(|s| (s, level.child())));
        }
        assert_eq!(structure.len() as u64, inserted.blobs);
        let expected: HashSet<BlobId> = t.entries.iter().flat_map(|e| e.chunks.clone()).collect();
        assert_eq!(data, expected);
    }

    /// Stores `bytes` as a tree blob.
    fn put(repo: &Repository, bytes: &[u8]) -> BlobId {
        repo.put_blob(BlobKind::Tree, bytes).unwrap().id
    }

    fn root_of(repo: &Repository, pages: &[BlobId]) -> BlobId {
        put(
            repo,
            &encode_blob(
                TREE_MAGIC,
                TREE_VERSION,
                &Root {
                    pages: pages.to_vec(),
                },
            ),
        )
    }

    fn page_of(repo: &Repository, content: Content) -> BlobId {
        let e = StoredEntry::new(
            &Entry {
                path: "f".into(),
                ..Default::default()
            },
            content,
        );
        put(repo, &encode_blob(PAGE_MAGIC, PAGE_VERSION, &vec![e]))
    }

    #[test]
    fn hostile_trees_are_errors() {
        let (_dir, repo) = repo();
        let load_err = |root: BlobId| -> String {
            let e = Tree::load(&repo, &root).unwrap_err().to_string();
            let walk = walk_tree(&repo, &root);
            assert!(!walk.failed.is_empty(), "{e}");
            e
        };
        let chunks = put(
            &repo,
            &encode_blob(CHUNKS_MAGIC, CHUNKS_VERSION, &vec![id(1)]),
        );
        let good_page = page_of(&repo, Content::Pages(vec![chunks]));
        // Sound, for reference.
        let sound = root_of(&repo, &[good_page]);
        assert_eq!(
            Tree::load(&repo, &sound).unwrap().entries[0].chunks,
            [id(1)]
        );

        // A root naming itself cannot: its id would be its own hash. A root naming another
        // root, a chunk page where a page is expected, a page where a chunk page is.
        let inner = root_of(&repo, &[good_page]);
        assert!(
            load_err(root_of(&repo, &[inner])).contains("expected a tree page, found a tree root")
        );
        assert!(load_err(root_of(&repo, &[chunks])).contains("found a tree chunk page"));
        let wrong = page_of(&repo, Content::Pages(vec![good_page]));
        assert!(load_err(root_of(&repo, &[wrong])).contains("expected a tree chunk page"));
        // A page naming a missing chunk page; a missing page.
        let missing = page_of(&repo, Content::Pages(vec![id(99)]));
        assert!(load_err(root_of(&repo, &[missing])).contains("missing"));
        assert!(load_err(root_of(&repo, &[id(98)])).contains("missing"));
        // Empty and oversized pages, an empty list of chunk pages, bytes after the end.
        let empty: Vec<StoredEntry> = Vec::new();
        let e = put(&repo, &encode_blob(PAGE_MAGIC, PAGE_VERSION, &empty));
        assert!(load_err(root_of(&repo, &[e])).contains("0 entries"));
        let e = put(
            &repo,
            &encode_blob(CHUNKS_MAGIC, CHUNKS_VERSION, &vec![id(1); 1025]),
        );
        assert!(
            load_err(root_of(&repo, &[page_of(&repo, Content::Pages(vec![e]))]))
                .contains("1025 chunks")
        );
        let e = page_of(&repo, Content::Pages(Vec::new()));
        assert!(load_err(root_of(&repo, &[e])).contains("empty list"));
        let mut long = encode_blob(CHUNKS_MAGIC, CHUNKS_VERSION, &vec![id(1)]);
        long.push(0);
        let e = put(&repo, &long);
        assert!(
            load_err(root_of(&repo, &[page_of(&repo, Content::Pages(vec![e]))]))
                .contains("after the end")
        );
        let mut v = encode_blob(PAGE_MAGIC, 2, &empty);
        v[4] = 2;
        let e = put(&repo, &v);
        assert!(matches!(
            Tree::load(&repo, &root_of(&repo, &[e])),
            Err(Error::UnsupportedVersion { found: 2, .. })
        ));
        // A walk goes on past a bad page: the other pages' entries are listed.
        let walk = walk_tree(&repo, &root_of(&repo, &[id(98), good_page]));
        assert_eq!(walk.failed.len(), 1);
        assert_eq!(walk.failed[0].what, "tree page 1 of 2");
        assert_eq!(walk.tree.entries.len(), 1);

        // Every truncation of every kind of blob, at every level: an error, never a panic.
        let big = big_tree();
        let mut blobs: Vec<Vec<u8>> = Vec::new();
        big.store_with(&mut |b| {
            blobs.push(b.to_vec());
            Ok(BlobId::hash(b))
        })
        .unwrap();
        let kinds: Vec<&[u8]> = [b"MVTR".as_slice(), b"MVTP", b"MVTC"]
            .into_iter()
            .filter(|m| blobs.iter().any(|b| b.starts_with(m)))
            .collect();
        assert_eq!(kinds.len(), 3);
        let samples: Vec<&Vec<u8>> = kinds
            .iter()
            .map(|m| {
                blobs
                    .iter()
                    .filter(|b| b.starts_with(m))
                    .max_by_key(|b| b.len())
                    .unwrap()
            })
            .collect();
        for bytes in samples {
            let step = (bytes.len() / 500).max(1);
            for cut in (0..bytes.len()).step_by(step) {
                for level in [TreeLevel::Root, TreeLevel::Page, TreeLevel::ChunkPage] {
                    assert!(tree_blob_children(&bytes[..cut], Path::new("t"), level).is_err());
                }
            }
            let mut flipped = bytes.clone();
            for i in (5..flipped.len()).step_by(step) {
                flipped[i] ^= 0x5a;
                for level in [TreeLevel::Root, TreeLevel::Page, TreeLevel::ChunkPage] {
                    let _ = tree_blob_children(&flipped, Path::new("t"), level);
                }
            }
        }
    }

    /// The pager cuts a chunk list as it grows into the same pages as the whole list is cut
    /// into, inline up to 64 chunks, at every length around the limits.
    #[test]
    fn the_pager_cuts_what_the_whole_list_cuts() {
        let mut stored = HashMap::new();
        for len in [0usize, 1, 63, 64, 65, 66, 200, 1023, 1024, 1025, 5000] {
            for seed in 0..3u64 {
                let chunks: Vec<BlobId> = (0..len as u64).map(|c| id(seed << 32 | c)).collect();
                let mut put = |bytes: &[u8]| {
                    let id = BlobId::hash(bytes);
                    stored.insert(id, bytes.to_vec());
                    Ok(id)
                };
                let mut pager = ChunkPager::new();
                for c in &chunks {
                    pager.push(*c, &mut put).unwrap();
                }
                let (inline, pages) = pager.finish(&mut put).unwrap();
                if len <= INLINE_CHUNKS_MAX {
                    assert_eq!((inline, pages), (chunks, None), "{len}");
                    continue;
                }
                assert!(inline.is_empty());
                let expected: Vec<BlobId> = split_chunks(&chunks)
                    .into_iter()
                    .map(|p| BlobId::hash(&encode_blob(CHUNKS_MAGIC, CHUNKS_VERSION, p)))
                    .collect();
                assert_eq!(pages.as_ref(), Some(&expected), "{len}");
                let mut back = Vec::new();
                for p in pages.unwrap() {
                    back.extend(decode_chunk_page(&stored[&p], Path::new("t")).unwrap());
                }
                assert_eq!(back, chunks, "{len}");
            }
        }
    }

    /// A shallow load names the chunk pages of large files instead of reading them; stored
    /// again as it is, the tree is the same tree, and its pages give the chunks back.
    #[test]
    fn a_shallow_tree_stores_the_same_tree() {
        let (_d, repo) = repo();
        let t = big_tree();
        let id = t.store(&repo).unwrap();
        let shallow = Tree::load_shallow(&repo, &id).unwrap();
        assert_eq!(shallow.len(), t.entries.len());
        let mut paged = 0;
        for (s, e) in shallow.iter().zip(&t.entries) {
            assert_eq!(s.entry.path, e.path);
            assert_eq!(
                s.pages.is_some(),
                e.chunks.len() > INLINE_CHUNKS_MAX,
                "{}",
                e.path
            );
            if s.pages.is_some() {
                paged += 1;
                assert!(s.entry.chunks.is_empty());
            }
            assert_eq!(s.chunks(&repo).unwrap(), e.chunks, "{}", e.path);
        }
        assert!(paged > 1);
        let again = store_entries_counted(
            &repo,
            shallow.iter().map(|e| (&e.entry, e.pages.as_deref())),
        )
        .unwrap();
        assert_eq!(again.id, id);
        assert_eq!(again.blobs_added, 0);
    }
}
