//! Checks shared by the repository, tree backup and crash tests: a comparable model of a
//! directory tree, generated trees, and restore-and-compare.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use mailvault::{NoProgress, Repository, RestoreOptions, SnapshotId, Tree};

/// What must survive a backup and restore, per path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Dir {
        mode: u32,
        mtime_ns: i64,
    },
    File {
        mode: u32,
        mtime_ns: i64,
        blake3: String,
        size: u64,
    },
    Symlink {
        target: String,
        mtime_ns: i64,
    },
}

/// The model of a tree: every path below `root`, and the sets of paths that share an inode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    pub nodes: BTreeMap<String, Node>,
    pub link_sets: BTreeSet<BTreeSet<String>>,
}

pub fn model(root: &Path) -> Model {
    let mut nodes = BTreeMap::new();
    let mut inodes: BTreeMap<(u64, u64), BTreeSet<String>> = BTreeMap::new();
    for e in walkdir::WalkDir::new(root).min_depth(1).sort_by_file_name() {
        let e = e.unwrap();
        let rel = e
            .path()
            .strip_prefix(root)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let m = e.path().symlink_metadata().unwrap();
        let mtime_ns = m.mtime() * 1_000_000_000 + m.mtime_nsec();
        let node = if m.is_dir() {
            Node::Dir {
                mode: m.permissions().mode() & 0o7777,
                mtime_ns,
            }
        } else if m.file_type().is_symlink() {
            Node::Symlink {
                target: std::fs::read_link(e.path())
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_string(),
                mtime_ns,
            }
        } else {
            let data = std::fs::read(e.path()).unwrap();
            if m.nlink() > 1 {
                inodes
                    .entry((m.dev(), m.ino()))
                    .or_default()
                    .insert(rel.clone());
            }
            Node::File {
                mode: m.permissions().mode() & 0o7777,
                mtime_ns,
                blake3: blake3::hash(&data).to_hex().to_string(),
                size: data.len() as u64,
            }
        };
        nodes.insert(rel, node);
    }
    Model {
        nodes,
        link_sets: inodes.into_values().filter(|s| s.len() > 1).collect(),
    }
}

/// Asserts two models are equal, reporting the first differing path.
pub fn assert_same(expected: &Model, got: &Model) {
    for (path, node) in &expected.nodes {
        assert_eq!(got.nodes.get(path), Some(node), "path {path}");
    }
    for path in got.nodes.keys() {
        assert!(expected.nodes.contains_key(path), "unexpected path {path}");
    }
    assert_eq!(expected.link_sets, got.link_sets, "hardlink groups");
}

/// Restores a snapshot's tree into a new temporary directory.
pub fn restore(repo: &Repository, id: &SnapshotId) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let snap = repo.load_snapshot(id).unwrap();
    let tree = Tree::load(repo, &snap.tree).unwrap();
    mailvault::restore_tree(
        repo,
        &tree,
        dir.path(),
        &RestoreOptions::default(),
        &NoProgress,
    )
    .unwrap();
    dir
}

/// Deterministic pseudo-random bytes.
pub fn bytes(len: usize, mut seed: u64) -> Vec<u8> {
    seed = seed.wrapping_mul(2).wrapping_add(1);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        out.extend_from_slice(&seed.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A small generated tree: nested dirs, small and large files (whole, fixed and CDC chunking),
/// duplicate content, a hardlink pair, a symlink, an empty file, odd modes.
pub fn generate(root: &Path, seed: u64) {
    let w = |rel: &str, data: &[u8], mode: u32| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, data).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    w("a/one.txt", b"hello world\n", 0o644);
    w("a/dup.txt", b"hello world\n", 0o600);
    w("a/b/c/deep.bin", &bytes(5000, seed), 0o640);
    w("big/blob.bin", &bytes(1_500_000, seed + 1), 0o644);
    w("big/store.db", &bytes(300_000, seed + 2), 0o600);
    w("empty", b"", 0o644);
    w("exec.sh", b"#!/bin/sh\necho hi\n", 0o755);
    std::fs::hard_link(root.join("a/one.txt"), root.join("a/one.link")).unwrap();
    std::os::unix::fs::symlink("a/one.txt", root.join("sym")).unwrap();
    std::fs::create_dir_all(root.join("emptydir")).unwrap();
    std::fs::set_permissions(
        root.join("emptydir"),
        std::fs::Permissions::from_mode(0o750),
    )
    .unwrap();
}

/// Number of blobs the repository's index files list (packed and raw), with those another
/// open handle has written but not yet indexed left out.
pub fn object_files(repo: &Path) -> usize {
    Repository::open(repo).unwrap().list_blobs().unwrap().len()
}

/// Flips one byte inside the stored payload of blob `id` (its pack entry, the whole group
/// entry for a page of a group, or its raw object file), as bit rot would; returns the damaged
/// file. A pack entry is the 32-byte id, a 23-byte object header, then the payload
/// (docs/format.md).
pub fn damage_blob(repo: &Repository, id: &mailvault::BlobId) -> PathBuf {
    let (path, offset, len) = repo.blob_entry(id).expect("a stored blob");
    let mut bytes = std::fs::read(&path).unwrap();
    let at = if path.extension().is_some_and(|e| e == "r") {
        bytes.len() / 2
    } else {
        (offset + 55 + (len - 55) / 2) as usize
    };
    bytes[at] ^= 0x55;
    // A new file, so that a raw object's other links (the source file) keep their bytes.
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Copies a directory tree (files as copies, so hardlinks become files of their own).
pub fn copy_dir(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.unwrap();
        let dest = to.join(e.path().strip_prefix(from).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

/// Copies a repository's files (not its lock, lock records, temp files or catalog) into `to`:
/// what a golden repository keeps.
pub fn copy_repository_files(root: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(root) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(root).unwrap();
        let top = rel
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned());
        if !e.file_type().is_file()
            || matches!(
                top.as_deref(),
                Some("tmp" | "locks" | "lock" | "catalog.redb")
            )
        {
            continue;
        }
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(e.path(), dest).unwrap();
    }
}
