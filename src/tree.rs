//! Trees: the list of entries of a backed-up directory, stored as one blob of kind Tree.
//! Only this module knows the tree blob bytes.
//!
//! ```text
//! offset size  field
//! 0      4     magic "MVTR"
//! 4      1     format version (1)
//! 5      ...   postcard(Vec<Entry>), sorted by path
//! ```

use std::os::unix::fs::MetadataExt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::id::BlobId;
use crate::repo::{BlobKind, Repository};

/// The magic at the start of a tree blob.
pub const TREE_MAGIC: [u8; 4] = *b"MVTR";
/// The tree format version this build writes and reads.
pub const TREE_VERSION: u8 = 1;

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
    /// Relative to the tree root, '/'-separated, no `.` or `..` components.
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
}

/// A directory tree, entries sorted by path (so parents come before their children).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Tree {
    pub entries: Vec<Entry>,
}

impl Tree {
    /// Sorts the entries by path (parents before children).
    pub fn sort(&mut self) {
        self.entries.sort_by(|a, b| a.path.cmp(&b.path));
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
    pub fn decode(bytes: &[u8], what: &std::path::Path) -> Result<Tree> {
        if bytes.len() < 5 || bytes[0..4] != TREE_MAGIC {
            return Err(Error::corrupt(what, "not a tree blob"));
        }
        if bytes[4] != TREE_VERSION {
            return Err(Error::UnsupportedVersion {
                path: what.to_path_buf(),
                found: u32::from(bytes[4]),
                supported: u32::from(TREE_VERSION),
            });
        }
        let entries = postcard::from_bytes(&bytes[5..])
            .map_err(|e| Error::corrupt(what, format!("tree: {e}")))?;
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
    let ft = meta.file_type();
    let kind = if ft.is_dir() {
        EntryKind::Dir
    } else if ft.is_symlink() {
        EntryKind::Symlink
    } else {
        EntryKind::File
    };
    Entry {
        path: rel.to_string(),
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
        newer[4] = 2;
        assert!(matches!(
            Tree::decode(&newer, Path::new("t")),
            Err(Error::UnsupportedVersion { found: 2, .. })
        ));
    }
}
