//! Backup of an arbitrary directory tree.
//!
//! Walk (lstat only) → plan (reuse files unchanged since the parent snapshot: same size, mtime,
//! ctime and inode, without reading them) → store the rest in parallel → store the tree →
//! commit the snapshot. An unreadable path is a problem recorded in the snapshot (which is then
//! incomplete); it never aborts the backup.

use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use crate::backup::capture::capture_entry;
use crate::backup::{BackupSummary, find_parent, host_name};
use crate::chunk::{chunking_for, store_file};
use crate::error::{Error, IoContext, Result};
use crate::id::SnapshotId;
use crate::progress::{Event, Progress};
use crate::repo::Repository;
use crate::snapshot::{Notice, Snapshot, SourceKind, normalize_tags};
use crate::tree::{Entry, EntryKind, Tree};

/// Options of a plain tree backup.
#[derive(Debug, Clone, Default)]
pub struct TreeBackupOptions {
    /// Compare against this snapshot instead of the newest one of the same host and source.
    pub parent: Option<SnapshotId>,
    /// Read every file even when the parent says it is unchanged.
    pub force_read: bool,
    /// Tags of the snapshot (each checked by [`crate::check_tag`]; repeats are dropped).
    pub tags: Vec<String>,
}

struct Collector<'a> {
    progress: &'a dyn Progress,
    problems: std::sync::Mutex<Vec<Notice>>,
    warnings: std::sync::Mutex<Vec<Notice>>,
}

impl Collector<'_> {
    fn problem(&self, path: Option<&Path>, rel: Option<String>, message: String) {
        self.progress.event(Event::Problem {
            path: path.map(Path::to_path_buf),
            message: message.clone(),
        });
        self.problems
            .lock()
            .expect("poisoned")
            .push(Notice { path: rel, message });
    }

    fn warning(&self, path: Option<&Path>, rel: Option<String>, message: String) {
        self.progress.event(Event::Warning {
            path: path.map(Path::to_path_buf),
            message: message.clone(),
        });
        self.warnings
            .lock()
            .expect("poisoned")
            .push(Notice { path: rel, message });
    }
}

/// Backs up the directory `source` as a plain tree and commits a snapshot.
pub fn backup_tree(
    repo: &Repository,
    source: &Path,
    opts: &TreeBackupOptions,
    progress: &dyn Progress,
) -> Result<BackupSummary> {
    repo.ensure_writable()?;
    let tags = normalize_tags(&opts.tags)?;
    let started = Instant::now();
    let time_ns = Repository::now_ns();
    let root = std::fs::canonicalize(source).at(source)?;
    if !std::fs::metadata(&root).at(&root)?.is_dir() {
        return Err(Error::Invalid(format!(
            "{}: not a directory",
            source.display()
        )));
    }
    let source_str = root.to_string_lossy().into_owned();
    let host = host_name();
    let log = Collector {
        progress,
        problems: Default::default(),
        warnings: Default::default(),
    };

    // Walk: metadata only.
    progress.event(Event::Phase {
        name: "scan".into(),
        total: None,
    });
    let mut entries: Vec<Entry> = Vec::new();
    // (dev, ino) of files with several links → link group
    let mut groups: HashMap<(u64, u64), u64> = HashMap::new();
    // Never back up the repository into itself.
    let repo_dir = std::fs::canonicalize(repo.path()).ok();
    if let Some(r) = repo_dir.as_deref().filter(|r| r.starts_with(&root)) {
        log.warning(
            Some(r),
            None,
            "the repository is inside the source: skipped".into(),
        );
    }
    for item in walkdir::WalkDir::new(&root)
        .min_depth(1)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| repo_dir.as_deref() != Some(e.path()))
    {
        let de = match item {
            Ok(de) => de,
            Err(e) => {
                let rel = e
                    .path()
                    .and_then(|p| p.strip_prefix(&root).ok())
                    .map(|p| p.to_string_lossy().into_owned());
                log.problem(e.path(), rel, format!("cannot read: {e}"));
                continue;
            }
        };
        let abs = de.path();
        let rel_path = abs
            .strip_prefix(&root)
            .expect("walkdir stays below its root");
        // Names that are not UTF-8 are kept as bytes (`Entry::raw_path`); `rel` is for messages.
        let rel = rel_path.to_string_lossy().into_owned();
        let meta = match de.metadata() {
            Ok(m) => m,
            Err(e) => {
                log.problem(Some(abs), Some(rel), format!("cannot stat: {e}"));
                continue;
            }
        };
        let ft = meta.file_type();
        if !(ft.is_file() || ft.is_dir() || ft.is_symlink()) {
            use std::os::unix::fs::FileTypeExt;
            if !ft.is_socket() {
                log.warning(Some(abs), Some(rel), "special file skipped".into());
            }
            continue;
        }
        let mut entry = match capture_entry(abs, rel_path, &meta) {
            Ok(entry) => entry,
            Err(message) => {
                log.problem(Some(abs), Some(rel), message);
                continue;
            }
        };
        if ft.is_file() && meta.nlink() > 1 {
            let next = groups.len() as u64 + 1;
            entry.link_group = *groups.entry((meta.dev(), meta.ino())).or_insert(next);
        }
        entries.push(entry);
    }

    // Plan: which files to read.
    let parent = match opts.parent {
        Some(id) => Some((id, repo.load_snapshot(&id)?)),
        None => find_parent(repo, SourceKind::Tree, &host, &source_str)?,
    };
    let parent_tree = match &parent {
        Some((id, snap)) => match Tree::load(repo, &snap.tree) {
            Ok(t) => Some(t),
            Err(e) => {
                // Without the parent's tree every file is read: slower, still correct.
                log.warning(
                    None,
                    None,
                    format!(
                        "parent snapshot {} unusable, reading every file: {e}",
                        id.short()
                    ),
                );
                None
            }
        },
        None => None,
    };
    let parent_entries: HashMap<PathBuf, Entry> = parent_tree
        .map(|t| {
            t.entries
                .into_iter()
                .filter(|e| e.kind == EntryKind::File)
                .map(|e| (e.fs_path().to_path_buf(), e))
                .collect()
        })
        .unwrap_or_default();
    let mut leader_of_group: HashMap<u64, usize> = HashMap::new();
    let mut to_read: Vec<usize> = Vec::new();
    let mut followers: Vec<(usize, usize)> = Vec::new();
    let mut files_reused = 0u64;
    for i in 0..entries.len() {
        if entries[i].kind != EntryKind::File {
            continue;
        }
        if entries[i].link_group != 0 {
            match leader_of_group.get(&entries[i].link_group) {
                Some(&leader) => {
                    followers.push((i, leader));
                    continue;
                }
                None => {
                    leader_of_group.insert(entries[i].link_group, i);
                }
            }
        }
        let e = &entries[i];
        let reusable = !opts.force_read
            && parent_entries.get(e.fs_path()).is_some_and(|p| {
                p.size == e.size
                    && p.mtime_ns == e.mtime_ns
                    && p.ctime_ns == e.ctime_ns
                    && p.ino == e.ino
                    && p.chunks.iter().all(|c| repo.has_blob(c))
            });
        if reusable {
            entries[i].chunks = parent_entries[entries[i].fs_path()].chunks.clone();
            files_reused += 1;
        } else {
            to_read.push(i);
        }
    }

    // Store: new and changed files, in parallel.
    progress.event(Event::Phase {
        name: "store".into(),
        total: Some(to_read.len() as u64),
    });
    let bytes_read = AtomicU64::new(0);
    let bytes_added = AtomicU64::new(0);
    type Stored = Result<(crate::chunk::StoredFile, bool)>;
    let results: Vec<(usize, Stored)> = to_read
        .par_iter()
        .map(|&i| {
            let e = &entries[i];
            let abs: PathBuf = root.join(e.fs_path());
            let r = store_file(repo, &abs, chunking_for(&abs, e.size)).map(|s| {
                // Re-stat right after the read: was the file written to meanwhile?
                let changed = s.size != e.size
                    || std::fs::symlink_metadata(&abs).ok().is_none_or(|m| {
                        m.mtime() * 1_000_000_000 + m.mtime_nsec() != e.mtime_ns
                            || m.ctime() * 1_000_000_000 + m.ctime_nsec() != e.ctime_ns
                            || m.len() != s.size
                    });
                (s, changed)
            });
            if let Ok((s, _)) = &r {
                bytes_read.fetch_add(s.bytes_read, Ordering::Relaxed);
                bytes_added.fetch_add(s.bytes_added, Ordering::Relaxed);
                progress.event(Event::Advance {
                    phase: "store".into(),
                    items: 1,
                    bytes: s.bytes_read,
                });
            }
            (i, r)
        })
        .collect();
    let mut failed = vec![false; entries.len()];
    let mut files_read = 0u64;
    for (i, r) in results {
        let abs = root.join(entries[i].fs_path());
        match r {
            Ok((stored, changed)) => {
                files_read += 1;
                if changed {
                    log.warning(
                        Some(&abs),
                        Some(entries[i].path.clone()),
                        format!(
                            "changed while being read ({} bytes at stat, {} read)",
                            entries[i].size, stored.size
                        ),
                    );
                    // The entry keeps the metadata seen before the read, which no longer
                    // matches the file: the next backup reads it again.
                    entries[i].size = stored.size;
                }
                entries[i].chunks = stored.chunks;
            }
            Err(Error::Io { path, source })
                if path == abs && source.kind() == std::io::ErrorKind::NotFound =>
            {
                // Deleted since the walk: not part of this snapshot, nothing lost.
                failed[i] = true;
                log.warning(
                    Some(&abs),
                    Some(entries[i].path.clone()),
                    "vanished during the backup".into(),
                );
            }
            Err(Error::Io { path, source }) if path == abs => {
                failed[i] = true;
                log.problem(
                    Some(&abs),
                    Some(entries[i].path.clone()),
                    format!("cannot read: {source}"),
                );
            }
            // The repository failed (disk full, damaged object...): stop, commit nothing.
            Err(other) => return Err(other),
        }
    }
    for (i, leader) in followers {
        if failed[leader] {
            failed[i] = true;
            log.problem(
                Some(&root.join(entries[i].fs_path())),
                Some(entries[i].path.clone()),
                "not saved: its hardlinked twin could not be read".into(),
            );
        } else {
            entries[i].chunks = entries[leader].chunks.clone();
            entries[i].size = entries[leader].size;
        }
    }
    let mut tree = Tree {
        entries: entries
            .into_iter()
            .zip(failed)
            .filter(|(_, f)| !f)
            .map(|(e, _)| e)
            .collect(),
    };
    tree.sort();

    let tree_outcome = tree.store_counted(repo)?;
    let problems = log.problems.into_inner().expect("poisoned");
    let warnings = log.warnings.into_inner().expect("poisoned");
    let count = |k: EntryKind| tree.entries.iter().filter(|e| e.kind == k).count() as u64;
    let mut stats = BTreeMap::new();
    stats.insert("files_total".to_string(), count(EntryKind::File));
    stats.insert("dirs".to_string(), count(EntryKind::Dir));
    stats.insert("symlinks".to_string(), count(EntryKind::Symlink));
    stats.insert("files_read".to_string(), files_read);
    stats.insert("files_reused".to_string(), files_reused);
    stats.insert(
        "bytes_total".to_string(),
        tree.entries
            .iter()
            .filter(|e| e.kind == EntryKind::File)
            .map(|e| e.size)
            .sum(),
    );
    stats.insert("bytes_read".to_string(), bytes_read.into_inner());
    stats.insert(
        "bytes_added".to_string(),
        bytes_added.into_inner() + tree_outcome.stored_bytes,
    );
    stats.insert(
        "duration_ms".to_string(),
        started.elapsed().as_millis() as u64,
    );
    let complete = problems.is_empty();
    let snapshot = Snapshot {
        time_ns,
        host,
        source: source_str,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        kind: SourceKind::Tree,
        parent: parent.map(|(id, _)| id),
        tree: tree_outcome.id,
        accounts: Vec::new(),
        complete,
        problems: problems.clone(),
        warnings: warnings.clone(),
        stats: stats.clone(),
        tags,
        original: None,
    };
    let id = repo.commit_snapshot(&snapshot)?;
    Ok(BackupSummary {
        snapshot: id,
        complete,
        stats,
        problems,
        warnings,
    })
}
