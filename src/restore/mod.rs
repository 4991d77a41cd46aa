//! Restore of a tree: plan (check paths and conflicts; nothing is touched), then execute:
//! directories, file contents in parallel, hardlink groups, symlinks, then directory metadata
//! deepest first.
//!
//! The order and the way each file is created are what make a restore trustworthy with a
//! damaged or hostile snapshot, or a target that already holds something:
//! - Restore writes only below directories it has checked, component by component with
//!   `lstat`, to be real directories, and creates every symlink of the snapshot only after all
//!   files are written. Nothing is written through a symlink: neither one the snapshot holds (a
//!   crafted tree could hold `msg/a -> /etc`) nor one found in the target. With `overwrite`, a
//!   symlink in the way is removed itself, never what it points to.
//! - A file is created with `O_EXCL | O_NOFOLLOW` and only the owner bits of its mode; its
//!   owner is set (as root), then its exact mode, both on the open descriptor. It is never
//!   readable by anyone who could not read it in the source, and chown before chmod keeps
//!   setuid and setgid bits (chown clears them). Directories are created 0700 and get their
//!   owner and mode at the end.
//! - A blob that cannot be read fails its path alone: everything else is restored, and every
//!   path that failed is listed in [`RestoreStats::failed`] and reported as a problem.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
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
    /// Every path that could not be restored, by path. Empty for a complete restore.
    pub failed: Vec<RestoreFailure>,
}

impl RestoreStats {
    /// True when every path was restored.
    pub fn complete(&self) -> bool {
        self.failed.is_empty()
    }
}

/// A path that could not be restored, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestoreFailure {
    /// Relative to the target.
    pub path: String,
    /// For a message file: which message it is.
    pub message: Option<MessageRef>,
    pub error: String,
}

/// A message of a mox snapshot, as a failure names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageRef {
    pub account: String,
    pub mailbox: String,
    pub id: i64,
}

/// One thing to restore: a tree entry, and for a message file which message it is.
pub(crate) struct Item {
    pub entry: Entry,
    pub message: Option<MessageRef>,
}

/// Checks that a tree path is relative and stays inside the target.
fn safe_rel(path: &Path) -> Result<&Path> {
    let ok = !path.as_os_str().is_empty()
        && path.components().all(|c| matches!(c, Component::Normal(_)));
    if ok {
        Ok(path)
    } else {
        Err(Error::Invalid(format!(
            "tree entry {:?} is not a plain relative path: refusing to restore it",
            path
        )))
    }
}

/// Whether a repository file already has the owner (when restoring as root), mode and mtime
/// of `e`.
fn same_metadata(meta: &fs::Metadata, e: &Entry) -> bool {
    let mtime = i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec());
    (!is_root() || (meta.uid(), meta.gid()) == (e.uid, e.gid))
        && meta.mode() & 0o7777 == e.mode & 0o7777
        && mtime == i128::from(e.mtime_ns)
}

/// What is at a relative path below the target, found without following any symlink.
enum Found {
    Nothing,
    Dir,
    /// A file, symlink or other non-directory at the path itself.
    NonDir,
    /// A non-directory at this shallower path, where a directory is needed.
    Blocked(PathBuf),
}

fn probe(target: &Path, rel: &Path) -> std::io::Result<Found> {
    let parts: Vec<Component<'_>> = rel.components().collect();
    let mut abs = target.to_path_buf();
    let mut sofar = PathBuf::new();
    for (i, part) in parts.iter().enumerate() {
        abs.push(part);
        sofar.push(part);
        let last = i + 1 == parts.len();
        match fs::symlink_metadata(&abs) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Found::Nothing),
            Err(e) => return Err(e),
            Ok(m) if m.is_dir() => {
                if last {
                    return Ok(Found::Dir);
                }
            }
            Ok(_) if last => return Ok(Found::NonDir),
            Ok(_) => return Ok(Found::Blocked(sofar)),
        }
    }
    Ok(Found::Nothing)
}

/// Makes `target/rel` a directory, creating missing components 0700; a component that is a
/// symlink or a file is an error, never followed.
fn ensure_dir(target: &Path, rel: &Path) -> std::io::Result<()> {
    let mut abs = target.to_path_buf();
    for part in rel.components() {
        abs.push(part);
        match fs::symlink_metadata(&abs) {
            Ok(m) if m.is_dir() => continue,
            Ok(_) => {
                return Err(std::io::Error::other(format!(
                    "{} is not a directory (restore does not write through symlinks)",
                    abs.display()
                )));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        match fs::DirBuilder::new().mode(0o700).create(&abs) {
            Ok(()) => {}
            // Created meanwhile by another worker: check it again.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if !fs::symlink_metadata(&abs)?.is_dir() {
                    return Err(std::io::Error::other(format!(
                        "{} is not a directory",
                        abs.display()
                    )));
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn ts(ns: i64) -> rustix::fs::Timespec {
    rustix::fs::Timespec {
        tv_sec: ns.div_euclid(1_000_000_000),
        tv_nsec: ns.rem_euclid(1_000_000_000) as _,
    }
}

fn times(mtime_ns: i64) -> rustix::fs::Timestamps {
    rustix::fs::Timestamps {
        last_access: ts(mtime_ns),
        last_modification: ts(mtime_ns),
    }
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Restores the entries of `tree` under `target`: contents, modes, mtimes, symlinks, hardlink
/// groups (and owners when running as root). A file whose content cannot be read is listed in
/// the result's `failed` and the rest is restored; an unsafe path in the tree, or a conflict
/// with the target's contents without `overwrite`, is an error before anything is written.
pub fn restore_tree(
    repo: &Repository,
    tree: &Tree,
    target: &Path,
    opts: &RestoreOptions,
    progress: &dyn Progress,
) -> Result<RestoreStats> {
    let items = tree
        .entries
        .iter()
        .map(|e| Item {
            entry: e.clone(),
            message: None,
        })
        .collect();
    restore_items(repo, items, target, opts, progress)
}

/// The restore engine: `items` sorted by path (parents before children).
pub(crate) fn restore_items(
    repo: &Repository,
    items: Vec<Item>,
    target: &Path,
    opts: &RestoreOptions,
    progress: &dyn Progress,
) -> Result<RestoreStats> {
    let mut engine = Engine::new(repo, target, opts, progress)?;
    for item in &items {
        engine.check(item.entry.fs_path(), item.entry.kind)?;
    }
    engine.start(&items)?;
    engine.write_plain(&items);
    let messages: Vec<&Item> = items
        .iter()
        .filter(|i| i.message.is_some() && i.entry.kind != EntryKind::Symlink)
        .collect();
    let message_files = messages
        .iter()
        .filter(|i| i.entry.kind == EntryKind::File)
        .count();
    if message_files > 0 {
        let name = format!("{message_files} message files");
        engine.phase(&name, message_files as u64);
        engine.write(&messages, &name);
    }
    Ok(engine.finish(&items))
}

/// The restore engine, in steps, so that a large restore can hand it its files in batches:
/// [`Engine::check`] every path (before anything is written), [`Engine::start`] (conflicts,
/// the target, the directories of the first items), [`Engine::write`] batches of directories
/// and files (any number of times), [`Engine::finish`] (symlinks, then directory metadata).
/// Hardlink groups span batches: a file of a group whose first file was written in an earlier
/// batch is linked to it.
pub(crate) struct Engine<'a> {
    run: Run<'a>,
    fresh: bool,
    conflicts: BTreeSet<PathBuf>,
    stats: RestoreStats,
    bad_dirs: HashSet<PathBuf>,
    /// Directories created from items: their metadata is applied at the end.
    made_dirs: Vec<Entry>,
    /// Parents created for files, so each is checked once.
    ensured: HashSet<PathBuf>,
    /// Hardlink group → the path of its first file and whether it was written.
    leaders: HashMap<u64, (PathBuf, String, bool)>,
    /// A repository object may be hardlinked into the target once: two unrelated files with
    /// the same content must not become one inode.
    linked_blobs: Mutex<HashSet<BlobId>>,
}

impl<'a> Engine<'a> {
    pub(crate) fn new(
        repo: &'a Repository,
        target: &'a Path,
        opts: &'a RestoreOptions,
        progress: &'a dyn Progress,
    ) -> Result<Engine<'a>> {
        let fresh = match fs::read_dir(target) {
            Ok(mut rd) => rd.next().is_none(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(e) => return Err(Error::io(target, e)),
        };
        Ok(Engine {
            run: Run {
                repo,
                target,
                opts,
                progress,
                failed: Mutex::new(Vec::new()),
            },
            fresh,
            conflicts: BTreeSet::new(),
            stats: RestoreStats::default(),
            bad_dirs: HashSet::new(),
            made_dirs: Vec::new(),
            ensured: HashSet::new(),
            leaders: HashMap::new(),
            linked_blobs: Mutex::new(HashSet::new()),
        })
    }

    /// Checks a path to be restored (relative, inside the target) and, in a target that is not
    /// empty, whether something is in its way. Every path is checked before [`Engine::start`].
    pub(crate) fn check(&mut self, rel: &Path, kind: EntryKind) -> Result<()> {
        safe_rel(rel)?;
        if self.fresh {
            return Ok(());
        }
        let target = self.run.target;
        match probe(target, rel).at(target.join(rel))? {
            Found::Nothing => {}
            Found::Dir if kind == EntryKind::Dir => {}
            Found::Dir | Found::NonDir => {
                self.conflicts.insert(rel.to_path_buf());
            }
            Found::Blocked(at) => {
                self.conflicts.insert(at);
            }
        }
        Ok(())
    }

    /// Refuses conflicts (or, overwriting, removes them), creates the target and the
    /// directories among `items`.
    pub(crate) fn start(&mut self, items: &[Item]) -> Result<()> {
        let target = self.run.target;
        if let Some(first) = self.conflicts.first()
            && !self.run.opts.overwrite
        {
            return Err(Error::Invalid(format!(
                "{}: {} path(s) already exist (first: {}); restore into an empty directory or \
                 allow overwriting",
                target.display(),
                self.conflicts.len(),
                target.join(first).display()
            )));
        }
        fs::create_dir_all(target).at(target)?;
        // Shallower paths first: removing a directory or symlink removes what was below it.
        for rel in &self.conflicts {
            let abs = target.join(rel);
            match probe(target, rel).at(&abs)? {
                Found::Nothing => {}
                Found::Dir => fs::remove_dir_all(&abs).at(&abs)?,
                Found::NonDir => fs::remove_file(&abs).at(&abs)?,
                Found::Blocked(at) => {
                    return Err(Error::Invalid(format!(
                        "{}: still in the way after removing conflicts",
                        target.join(at).display()
                    )));
                }
            }
        }
        self.conflicts.clear();
        self.make_dirs(items.iter().filter(|i| i.entry.kind == EntryKind::Dir));
        Ok(())
    }

    /// Directories, created 0700 until their own metadata is applied at the end. A directory
    /// that cannot be made fails itself and everything below it.
    fn make_dirs<'i>(&mut self, dirs: impl Iterator<Item = &'i Item>) {
        for item in dirs {
            let rel = item.entry.fs_path();
            if under_any(rel, &self.bad_dirs) {
                self.run
                    .fail(item, "its directory could not be created".into());
                continue;
            }
            match ensure_dir(self.run.target, rel) {
                Ok(()) => {
                    self.stats.dirs += 1;
                    self.ensured.insert(rel.to_path_buf());
                    self.made_dirs.push(item.entry.clone());
                }
                Err(e) => {
                    self.run.fail(item, format!("cannot create directory: {e}"));
                    self.bad_dirs.insert(rel.to_path_buf());
                }
            }
        }
    }

    /// Starts a progress phase of `total` items.
    pub(crate) fn phase(&self, name: &str, total: u64) {
        self.run.progress.event(Event::Phase {
            name: name.to_string(),
            total: Some(total),
        });
    }

    /// Writes the directories and files of `items` that are not message files, as the phase
    /// "restore".
    pub(crate) fn write_plain(&mut self, items: &[Item]) {
        let plain: Vec<&Item> = items
            .iter()
            .filter(|i| i.message.is_none() && i.entry.kind != EntryKind::Symlink)
            .collect();
        let files = plain
            .iter()
            .filter(|i| i.entry.kind == EntryKind::File)
            .count();
        self.phase("restore", files as u64);
        self.write(&plain, "restore");
    }

    /// Writes a batch: its directories (not made by [`Engine::start`]), then its files, one
    /// per hardlink group written and the others linked to it, advancing `phase`. Symlinks
    /// are left to [`Engine::finish`].
    pub(crate) fn write(&mut self, items: &[&Item], phase: &str) {
        let new_dirs: Vec<&Item> = items
            .iter()
            .copied()
            .filter(|i| i.entry.kind == EntryKind::Dir && !self.ensured.contains(i.entry.fs_path()))
            .collect();
        self.make_dirs(new_dirs.into_iter());
        // Trees need not list every directory (a subset of a tree, message files): create
        // missing parents the same way.
        let parents: BTreeSet<&Path> = items
            .iter()
            .filter(|i| i.entry.kind == EntryKind::File)
            .filter_map(|i| i.entry.fs_path().parent())
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        for p in parents {
            if under_any(p, &self.bad_dirs) || self.ensured.contains(p) {
                continue;
            }
            match ensure_dir(self.run.target, p) {
                Ok(()) => {
                    self.ensured.insert(p.to_path_buf());
                }
                Err(e) => {
                    self.run.progress.event(Event::Problem {
                        path: Some(self.run.target.join(p)),
                        message: format!("cannot create directory: {e}"),
                    });
                    self.bad_dirs.insert(p.to_path_buf());
                }
            }
        }
        let run = &self.run;
        let bad_dirs = &self.bad_dirs;
        let parent_ok = |item: &Item| -> bool {
            let ok = !under_any(item.entry.fs_path(), bad_dirs);
            if !ok {
                run.fail(item, "its directory could not be created".into());
            }
            ok
        };

        // One file per hardlink group is written, the others linked to it.
        let mut write: Vec<&Item> = Vec::new();
        let mut twins: Vec<&Item> = Vec::new();
        let mut leading: HashMap<u64, &Item> = HashMap::new();
        for &item in items {
            if item.entry.kind != EntryKind::File || !parent_ok(item) {
                continue;
            }
            let group = item.entry.link_group;
            if group != 0 {
                if self.leaders.contains_key(&group) || leading.contains_key(&group) {
                    twins.push(item);
                    continue;
                }
                leading.insert(group, item);
            }
            write.push(item);
        }
        let repo = run.repo;
        let linked_blobs = &self.linked_blobs;
        let advance = |r: &Written| {
            if let Ok((bytes, _)) = r {
                run.progress.event(Event::Advance {
                    phase: phase.to_string(),
                    items: 1,
                    bytes: *bytes,
                });
            }
        };
        let outcomes: Vec<(&Item, Written)> = if repo.is_local() {
            write
                .par_iter()
                .map(|&item| {
                    let r = run.write_file(&item.entry, linked_blobs, None);
                    advance(&r);
                    (item, r)
                })
                .collect()
        } else {
            // From a remote store, files of one chunk (messages) are read in batches in pack
            // order, so that neighbours in a pack come in one ranged read.
            let batches = remote_batches(repo, &write);
            batches
                .par_iter()
                .flat_map_iter(|batch| {
                    let ids: Vec<BlobId> = batch
                        .iter()
                        .filter_map(|item| match item.entry.chunks.as_slice() {
                            [one] => Some(*one),
                            _ => None,
                        })
                        .collect();
                    let mut data = repo.get_blobs(&ids).into_iter();
                    batch
                        .iter()
                        .map(|&item| {
                            let e = &item.entry;
                            let pre = match e.chunks.as_slice() {
                                [_] => data.next(),
                                _ => None,
                            };
                            let r = run.write_file(e, linked_blobs, pre);
                            advance(&r);
                            (item, r)
                        })
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        let mut written: HashSet<*const Item> = HashSet::new();
        for (item, outcome) in outcomes {
            match outcome {
                Ok((bytes, linked)) => {
                    written.insert(item as *const Item);
                    self.stats.files += 1;
                    self.stats.bytes_written += if linked { 0 } else { bytes };
                    self.stats.linked += u64::from(linked);
                }
                Err(e) => self.run.fail(item, e),
            }
        }
        for (group, item) in leading {
            let ok = written.contains(&(item as *const Item));
            self.leaders.insert(
                group,
                (
                    item.entry.fs_path().to_path_buf(),
                    item.entry.path.clone(),
                    ok,
                ),
            );
        }
        for item in twins {
            let (lead_rel, lead_name, ok) = &self.leaders[&item.entry.link_group];
            if !ok {
                self.run.fail(
                    item,
                    format!("not restored: its hardlinked twin {lead_name} could not be restored"),
                );
                continue;
            }
            let target = self.run.target;
            let dest = target.join(item.entry.fs_path());
            match fs::hard_link(target.join(lead_rel), &dest) {
                Ok(()) => {
                    self.stats.files += 1;
                    self.stats.hardlinks += 1;
                    self.run.progress.event(Event::Advance {
                        phase: phase.to_string(),
                        items: 1,
                        bytes: 0,
                    });
                }
                Err(e) => self
                    .run
                    .fail(item, format!("cannot link to {lead_name}: {e}")),
            }
        }
    }

    /// Creates the symlinks among `items` (after every file: no file or directory is ever
    /// created through one), then applies directory metadata, children before parents
    /// (writing inside changes the mtime).
    pub(crate) fn finish(mut self, items: &[Item]) -> RestoreStats {
        for item in items.iter().filter(|i| i.entry.kind == EntryKind::Symlink) {
            if under_any(item.entry.fs_path(), &self.bad_dirs) {
                self.run
                    .fail(item, "its directory could not be created".into());
                continue;
            }
            match self.run.make_symlink(&item.entry) {
                Ok(()) => self.stats.symlinks += 1,
                Err(e) => self.run.fail(item, e),
            }
        }
        self.made_dirs
            .sort_by(|a, b| a.fs_path().as_os_str().cmp(b.fs_path().as_os_str()));
        for entry in self.made_dirs.iter().rev() {
            if let Err(e) = self.run.dir_metadata(entry) {
                self.run.fail(
                    &Item {
                        entry: entry.clone(),
                        message: None,
                    },
                    e,
                );
            }
        }
        let mut failed = self.run.failed.into_inner().expect("poisoned");
        failed.sort_by(|a, b| a.path.cmp(&b.path));
        self.stats.failed = failed;
        self.stats
    }
}

/// A file written (bytes, hardlinked from the repository), or why not.
type Written = std::result::Result<(u64, bool), String>;

/// Whether `path` is one of `dirs` or below one.
fn under_any(path: &Path, dirs: &HashSet<PathBuf>) -> bool {
    !dirs.is_empty() && path.ancestors().any(|a| dirs.contains(a))
}

struct Run<'a> {
    repo: &'a Repository,
    target: &'a Path,
    opts: &'a RestoreOptions,
    progress: &'a dyn Progress,
    failed: Mutex<Vec<RestoreFailure>>,
}

impl Run<'_> {
    fn fail(&self, item: &Item, error: String) {
        let what = match &item.message {
            Some(m) => format!(
                "message {} in {}/{} not restored: {error}",
                m.id, m.account, m.mailbox
            ),
            None => format!("not restored: {error}"),
        };
        self.progress.event(Event::Problem {
            path: Some(self.target.join(item.entry.fs_path())),
            message: what,
        });
        self.failed.lock().expect("poisoned").push(RestoreFailure {
            path: item.entry.path.clone(),
            message: item.message.clone(),
            error,
        });
    }

    fn warn_owner(&self, path: &Path, e: &Entry, err: impl std::fmt::Display) {
        self.progress.event(Event::Warning {
            path: Some(path.to_path_buf()),
            message: format!("cannot set owner {}:{}: {err}", e.uid, e.gid),
        });
    }

    /// Writes one file; returns its size and whether it was hardlinked from the repository.
    /// Writes one file; `pre` is its one chunk when already read (a batch from a remote store).
    fn write_file(
        &self,
        e: &Entry,
        linked_blobs: &Mutex<HashSet<BlobId>>,
        pre: Option<Result<Vec<u8>>>,
    ) -> Written {
        let dest = self.target.join(e.fs_path());
        if let [one] = e.chunks.as_slice()
            && self.opts.link
            && self.repo.blob_info(one).is_some_and(|i| i.raw)
            && linked_blobs.lock().expect("poisoned").insert(*one)
        {
            // A linked object is shared with the repository (and, for a hardlink, with the
            // mail server): its metadata is never changed, so it is linked only when it already
            // has the owner, mode and time to restore, and copied otherwise.
            if let Some(raw) = self.repo.raw_object_path(one)
                && fs::symlink_metadata(&raw).is_ok_and(|m| same_metadata(&m, e))
                && fs::hard_link(&raw, &dest).is_ok()
            {
                return Ok((e.size, true));
            }
        }
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .mode(e.mode & 0o700)
            .open(&dest)
            .map_err(|err| format!("cannot create: {err}"))?;
        let filled = match pre {
            Some(data) => data.map_err(|err| err.to_string()).and_then(|data| {
                (&file)
                    .write_all(&data)
                    .map_err(|err| format!("cannot write: {err}"))?;
                Ok(data.len() as u64)
            }),
            None => self.fill(&file, e),
        };
        let written = filled.and_then(|n| {
            self.file_metadata(&file, &dest, e)?;
            Ok(n)
        });
        if written.is_err() {
            // Half a file is not a restored file: remove what this restore created.
            drop(file);
            let _ = fs::remove_file(&dest);
        }
        Ok((written?, false))
    }

    fn fill(&self, mut file: &fs::File, e: &Entry) -> std::result::Result<u64, String> {
        // (A file of one chunk from a remote store comes here only outside a batch.)
        // From a remote store each read is a request that mostly waits: a window of chunks
        // (up to 4 MiB stored) is fetched at once, close entries in one ranged read, then
        // written in order.
        let remote = !self.repo.is_local();
        let mut n = 0u64;
        let mut rest = e.chunks.as_slice();
        while !rest.is_empty() {
            let mut take = 1;
            if remote {
                let mut bytes = 0u64;
                take = 0;
                while take < rest.len() && take < 1024 && bytes < 4 << 20 {
                    bytes += self.repo.blob_info(&rest[take]).map_or(0, |i| i.stored_len);
                    take += 1;
                }
            }
            let (part, tail) = rest.split_at(take);
            rest = tail;
            for data in self.repo.get_blobs(part) {
                let data = data.map_err(|err| err.to_string())?;
                file.write_all(&data)
                    .map_err(|err| format!("cannot write: {err}"))?;
                n += data.len() as u64;
            }
        }
        Ok(n)
    }

    /// Owner (as root), then the exact mode, then times, on the open file.
    fn file_metadata(
        &self,
        file: &fs::File,
        dest: &Path,
        e: &Entry,
    ) -> std::result::Result<(), String> {
        if is_root()
            && let Err(err) = rustix::fs::fchown(
                file,
                Some(rustix::fs::Uid::from_raw(e.uid)),
                Some(rustix::fs::Gid::from_raw(e.gid)),
            )
        {
            self.warn_owner(dest, e, err);
        }
        file.set_permissions(fs::Permissions::from_mode(e.mode & 0o7777))
            .map_err(|err| format!("cannot set mode: {err}"))?;
        rustix::fs::futimens(file, &times(e.mtime_ns))
            .map_err(|err| format!("cannot set times: {err}"))
    }

    fn path_times(&self, dest: &Path, e: &Entry) -> std::result::Result<(), String> {
        rustix::fs::utimensat(
            rustix::fs::CWD,
            dest,
            &times(e.mtime_ns),
            rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(|err| format!("cannot set times: {err}"))
    }

    fn make_symlink(&self, e: &Entry) -> std::result::Result<(), String> {
        let dest = self.target.join(e.fs_path());
        let t = e.fs_target().unwrap_or_default();
        std::os::unix::fs::symlink(&t, &dest).map_err(|err| format!("cannot create: {err}"))?;
        if is_root()
            && let Err(err) = std::os::unix::fs::lchown(&dest, Some(e.uid), Some(e.gid))
        {
            self.warn_owner(&dest, e, err);
        }
        self.path_times(&dest, e)
    }

    /// Owner (as root), mode and times of a directory, through a descriptor opened without
    /// following a symlink.
    fn dir_metadata(&self, e: &Entry) -> std::result::Result<(), String> {
        use rustix::fs::{Mode, OFlags};
        let dest = self.target.join(e.fs_path());
        let dir = rustix::fs::open(
            &dest,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|err| format!("cannot open directory: {err}"))?;
        if is_root()
            && let Err(err) = rustix::fs::fchown(
                &dir,
                Some(rustix::fs::Uid::from_raw(e.uid)),
                Some(rustix::fs::Gid::from_raw(e.gid)),
            )
        {
            self.warn_owner(&dest, e, err);
        }
        rustix::fs::fchmod(&dir, Mode::from_raw_mode(e.mode & 0o7777))
            .map_err(|err| format!("cannot set mode: {err}"))?;
        rustix::fs::futimens(&dir, &times(e.mtime_ns))
            .map_err(|err| format!("cannot set times: {err}"))
    }
}
/// The files in batches for a remote store: in the order of their first chunk's place (pack,
/// offset), each batch up to 128 files or 2 MiB stored (memory: a batch per thread).
fn remote_batches<'i>(repo: &Repository, items: &[&'i Item]) -> Vec<Vec<&'i Item>> {
    // (place of the first chunk: pack and offset, its stored length, the item's index)
    type Keyed = (Option<(PathBuf, u64)>, u64, usize);
    let mut keyed: Vec<Keyed> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let first = item.entry.chunks.first();
            let place = first.and_then(|c| repo.blob_entry(c));
            let len = place.as_ref().map_or(0, |(_, _, l)| *l);
            (place.map(|(p, o, _)| (p, o)), len, i)
        })
        .collect();
    keyed.sort();
    let mut out: Vec<Vec<&Item>> = Vec::new();
    let mut bytes = 0u64;
    for (_, len, i) in keyed {
        match out.last_mut() {
            Some(batch) if batch.len() < 128 && bytes + len <= 2 << 20 => {
                batch.push(items[i]);
                bytes += len;
            }
            _ => {
                out.push(vec![items[i]]);
                bytes = len;
            }
        }
    }
    out
}
