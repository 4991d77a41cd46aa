//! Trees: the list of entries of a backed-up directory, stored as one blob of kind Tree.
//! Only this module knows the tree blob bytes.
//!
//! ```text
//! offset size  field
//! 0      4     magic "MVTR"
//! 4      1     format version (2; 1 is still read)
//! 5      ...   postcard(Vec<Entry>), sorted by path
//! ```
//!
//! Version 2 appended `raw_path` and `raw_target`: names that are not UTF-8 are kept as their
//! exact bytes. A version 1 entry is read with both `None`.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::id::BlobId;
use crate::repo::{BlobKind, Repository};

/// The magic at the start of a tree blob.
pub const TREE_MAGIC: [u8; 4] = *b"MVTR";
/// The tree format version this build writes (and the highest it reads).
pub const TREE_VERSION: u8 = 2;
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

impl Tree {
    /// Sorts the entries by path bytes (parents before children).
    pub fn sort(&mut self) {
        self.entries
            .sort_by(|a, b| a.fs_path().as_os_str().cmp(b.fs_path().as_os_str()));
    }

    /// The tree blob bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.entries.len() * 64);
        out.extend_from_slice(&TREE_MAGIC);
        out.push(TREE_VERSION);
        out.extend_from_slice(&postcard::to_stdvec(&self.entries).expect("tree encodes"));
        out
    }

    /// Parses tree blob bytes; `what` names the blob in errors.
    pub fn decode(bytes: &[u8], what: &Path) -> Result<Tree> {
        if bytes.len() < 5 || bytes[0..4] != TREE_MAGIC {
            return Err(Error::corrupt(what, "not a tree blob"));
        }
        let version = bytes[4];
        if !(TREE_VERSION_MIN..=TREE_VERSION).contains(&version) {
            return Err(Error::UnsupportedVersion {
                path: what.to_path_buf(),
                found: u32::from(version),
                supported: u32::from(TREE_VERSION),
            });
        }
        let bad = |e: postcard::Error| Error::corrupt(what, format!("tree: {e}"));
        let entries = if version == 1 {
            let old: Vec<EntryV1> = postcard::from_bytes(&bytes[5..]).map_err(bad)?;
            old.into_iter().map(Entry::from).collect()
        } else {
            postcard::from_bytes(&bytes[5..]).map_err(bad)?
        };
        Ok(Tree { entries })
    }

    /// Stores the tree as one blob of kind Tree.
    pub fn store(&self, repo: &Repository) -> Result<BlobId> {
        Ok(repo.put_blob(BlobKind::Tree, &self.encode())?.id)
    }

    /// Loads and verifies a tree blob.
    pub fn load(repo: &Repository, id: &BlobId) -> Result<Tree> {
        let bytes = repo.get_blob(id)?;
        Tree::decode(&bytes, &repo.blob_path(id))
    }
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

    #[test]
    fn round_trip_and_version() {
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
        let bytes = t.encode();
        assert_eq!(Tree::decode(&bytes, Path::new("t")).unwrap(), t);
        let mut newer = bytes.clone();
        newer[4] = 3;
        assert!(matches!(
            Tree::decode(&newer, Path::new("t")),
            Err(Error::UnsupportedVersion { found: 3, .. })
        ));
        newer[4] = 0;
        assert!(Tree::decode(&newer, Path::new("t")).is_err());
    }

    #[test]
    fn raw_names_round_trip_and_version_1_still_reads() {
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
        let back = Tree::decode(&t.encode(), Path::new("t")).unwrap();
        assert_eq!(back, t);
        assert_eq!(
            back.entries[0].fs_target().unwrap().as_os_str().as_bytes(),
            b"../\xfe"
        );

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
        let read = Tree::decode(&v1, Path::new("t")).unwrap();
        assert_eq!(read.entries[0].path, "a");
        assert_eq!(read.entries[0].mode, 0o640);
        assert_eq!(read.entries[0].ctime_ns, 6);
        assert_eq!(read.entries[0].raw_path, None);
    }
}
