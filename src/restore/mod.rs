//! Restore of a tree: plan (check paths and conflicts), then execute (directories, file
//! contents in parallel, hardlink groups, symlinks, then metadata deepest first).

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path};
use std::sync::Mutex;

pub mod mox;

use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, IoContext, Result};
use crate::id::BlobId;
use crate::progress::{Event, Progress};
use crate::repo::Repository;
use crate::tree::{Entry, EntryKind, Tree};

/// How to restore.
#[derive(Debug, Clone, Copy, Default)]
pub struct RestoreOptions {
    /// Hardlink raw objects (immutable files such as messages) into the target when it shares
    /// the repository's filesystem, instead of copying. The restored file then *is* the
    /// repository object: never modify it in place.
    pub link: bool,
    /// Replace paths that already exist under the target.
    pub overwrite: bool,
}

/// What a restore did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RestoreStats {
    pub files: u64,
    pub dirs: u64,
    pub symlinks: u64,
    /// Files created as a hardlink to another restored file (hardlink groups).
    pub hardlinks: u64,
    /// Files hardlinked from the repository instead of written.
    pub linked: u64,
    pub bytes_written: u64,
}

/// Checks that a tree path is relative and stays inside the target.
fn safe_rel(path: &str) -> Result<&Path> {
    let p = Path::new(path);
    let ok = !path.is_empty() && p.components().all(|c| matches!(c, Component::Normal(_)));
    if ok {
        Ok(p)
    } else {
        Err(Error::Invalid(format!(
            "tree entry {path:?} is not a plain relative path: refusing to restore it"
        )))
    }
}

fn ts(ns: i64) -> rustix::fs::Timespec {
    rustix::fs::Timespec {
        tv_sec: ns.div_euclid(1_000_000_000),
        tv_nsec: ns.rem_euclid(1_000_000_000) as _,
    }
}

fn set_times(path: &Path, mtime_ns: i64) -> Result<()> {
    let t = ts(mtime_ns);
    rustix::fs::utimensat(
        rustix::fs::CWD,
        path,
        &rustix::fs::Timestamps {
            last_access: t,
            last_modification: t,
        },
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    )
    .map_err(|e| Error::io(path, e.into()))
}

fn set_owner(path: &Path, e: &Entry, progress: &dyn Progress) {
    if !rustix::process::geteuid().is_root() {
        return;
    }
    let r = rustix::fs::chownat(
        rustix::fs::CWD,
        path,
        Some(rustix::fs::Uid::from_raw(e.uid)),
        Some(rustix::fs::Gid::from_raw(e.gid)),
        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
    );
    if let Err(err) = r {
        progress.event(Event::Warning {
            path: Some(path.to_path_buf()),
            message: format!("cannot set owner {}:{}: {err}", e.uid, e.gid),
        });
    }
}

/// Removes whatever is at `path` (for overwrite).
fn remove_existing(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path).at(path),
        Ok(_) => std::fs::remove_file(path).at(path),
        Err(_) => Ok(()),
    }
}

/// Restores the entries of `tree` under `target`: contents, modes, mtimes, symlinks, hardlink
/// groups (and owners when running as root).
pub fn restore_tree(
    repo: &Repository,
    tree: &Tree,
    target: &Path,
    opts: &RestoreOptions,
    progress: &dyn Progress,
) -> Result<RestoreStats> {
    // Plan: validate every path and find conflicts before touching anything.
    let mut conflicts = Vec::new();
    for e in &tree.entries {
        let rel = safe_rel(&e.path)?;
        let dest = target.join(rel);
        if let Ok(m) = std::fs::symlink_metadata(&dest) {
            let same_dir = m.is_dir() && e.kind == EntryKind::Dir;
            if !same_dir {
                conflicts.push(dest);
            }
        }
    }
    if !conflicts.is_empty() && !opts.overwrite {
        return Err(Error::Invalid(format!(
            "{}: {} path(s) already exist (first: {}); restore into an empty directory or \
             allow overwriting",
            target.display(),
            conflicts.len(),
            conflicts[0].display()
        )));
    }
    std::fs::create_dir_all(target).at(target)?;
    for c in &conflicts {
        remove_existing(c)?;
    }

    let mut stats = RestoreStats::default();
    // Directories first, writable by us until their own metadata is applied at the end.
    for e in tree.entries.iter().filter(|e| e.kind == EntryKind::Dir) {
        let dest = target.join(&e.path);
        match std::fs::create_dir(&dest) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(err) => return Err(Error::io(&dest, err)),
        }
        std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o700)).at(&dest)?;
        stats.dirs += 1;
    }

    // Trees need not list every directory (a partial tree, a subset): create missing parents.
    let parents: std::collections::BTreeSet<&Path> = tree
        .entries
        .iter()
        .filter_map(|e| Path::new(&e.path).parent())
        .filter(|p| !p.as_os_str().is_empty())
        .collect();
    for p in parents {
        let dest = target.join(p);
        std::fs::create_dir_all(&dest).at(&dest)?;
    }

    // Files: one per hardlink group is written, the others linked to it.
    let mut leaders: HashMap<u64, &Entry> = HashMap::new();
    let mut write: Vec<&Entry> = Vec::new();
    let mut twins: Vec<(&Entry, &Entry)> = Vec::new();
    for e in tree.entries.iter().filter(|e| e.kind == EntryKind::File) {
        if e.link_group != 0 {
            if let Some(l) = leaders.get(&e.link_group) {
                twins.push((e, l));
                continue;
            }
            leaders.insert(e.link_group, e);
        }
        write.push(e);
    }
    progress.event(Event::Phase {
        name: "restore".into(),
        total: Some(write.len() as u64),
    });
    // A repository object may be hardlinked into the target once: two unrelated files with
    // the same content must not become one inode.
    let linked_blobs: Mutex<HashSet<BlobId>> = Mutex::new(HashSet::new());
    let outcomes: Vec<(u64, bool)> = write
        .par_iter()
        .map(|e| -> Result<(u64, bool)> {
            let dest = target.join(&e.path);
            let linked = restore_file(repo, e, &dest, opts, &linked_blobs)?;
            std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(e.mode)).at(&dest)?;
            set_times(&dest, e.mtime_ns)?;
            set_owner(&dest, e, progress);
            progress.event(Event::Advance {
                phase: "restore".into(),
                items: 1,
                bytes: e.size,
            });
            Ok((if linked { 0 } else { e.size }, linked))
        })
        .collect::<Result<_>>()?;
    for (bytes, linked) in outcomes {
        stats.files += 1;
        stats.bytes_written += bytes;
        stats.linked += u64::from(linked);
    }
    for (e, leader) in twins {
        let dest = target.join(&e.path);
        std::fs::hard_link(target.join(&leader.path), &dest).at(&dest)?;
        stats.files += 1;
        stats.hardlinks += 1;
    }

    for e in tree.entries.iter().filter(|e| e.kind == EntryKind::Symlink) {
        let dest = target.join(&e.path);
        let t = e.target.as_deref().unwrap_or_default();
        std::os::unix::fs::symlink(t, &dest).at(&dest)?;
        set_owner(&dest, e, progress);
        set_times(&dest, e.mtime_ns)?;
        stats.symlinks += 1;
    }

    // Directory metadata last, children before parents (writing inside changes the mtime).
    for e in tree
        .entries
        .iter()
        .rev()
        .filter(|e| e.kind == EntryKind::Dir)
    {
        let dest = target.join(&e.path);
        set_owner(&dest, e, progress);
        std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(e.mode)).at(&dest)?;
        set_times(&dest, e.mtime_ns)?;
    }
    Ok(stats)
}

/// Writes one file's content; returns whether it was hardlinked from the repository.
fn restore_file(
    repo: &Repository,
    e: &Entry,
    dest: &Path,
    opts: &RestoreOptions,
    linked_blobs: &Mutex<HashSet<BlobId>>,
) -> Result<bool> {
    match e.chunks.as_slice() {
        [] => {
            std::fs::File::create_new(dest).at(dest)?;
            Ok(false)
        }
        [one] => {
            let may_link = opts.link
                && repo.blob_info(one).is_some_and(|i| i.raw)
                && linked_blobs.lock().expect("poisoned").insert(*one);
            repo.restore_blob(one, dest, may_link)?;
            if may_link {
                // restore_blob falls back to a copy; tell the two apart by the inode count.
                use std::os::unix::fs::MetadataExt;
                let nlink = std::fs::symlink_metadata(dest).at(dest)?.nlink();
                return Ok(nlink > 1);
            }
            Ok(false)
        }
        many => {
            let mut f = std::fs::File::create_new(dest).at(dest)?;
            for c in many {
                let data = repo.get_blob(c)?;
                f.write_all(&data).at(dest)?;
            }
            Ok(false)
        }
    }
}
