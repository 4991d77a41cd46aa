//! The mail-aware backup of a mox installation.
//!
//! First run: the coverage of `mox backup` (config directory, every database copied consistently,
//! every live message file and queue file, other files with a warning). Later runs: per account,
//! compare `SyncState.LastModSeq` and each mailbox's modseq with the parent snapshot's manifest,
//! reuse what did not move, and read only message files that have no blob yet.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use crate::backup::capture::{BoundedCache, capture_entry, open_regular};
use crate::backup::list::{encode_root, page_of, update_pages};
use crate::backup::{BackupPlan, BackupSummary};
use crate::chunk::{
    Chunking, chunking_for, hash_file, store_file, store_file_paged, store_message_file,
};
use crate::manifest::{
    AccountManifest, ListBody, ListPage, ListPager, MailboxEntry, MessageEntry, Owner,
};
use crate::mox::{self, AccountDb, MoxError, Source};
use crate::repo::{BlobKind, Repository};
use crate::restore::mox::{
    load_list, load_list_lenient, load_list_page, load_list_root, message_stored,
};
use crate::snapshot::{AccountRef, Notice, Snapshot, SourceKind, normalize_tags};
use crate::tree::{Entry, PagedEntry, Tree, entry_from_metadata, store_entries_counted};
use crate::{BlobId, Error, Event, IoContext, Progress, Result, SnapshotId};

mod execute;
mod plan;

use plan::{AccountPlan, MailboxWork, Pending};

/// mox's database page size: databases are split at their page size (read from the meta page),
/// so a night that touches a few pages stores those pages.
pub const DB_CHUNK_SIZE: usize = 4096;

/// The progress phase of everything but account message files (configuration, databases,
/// queue, other files); it runs side by side with the accounts' phases.
const FILES_PHASE: &str = "configuration and databases";
/// An account whose database is larger than this is worked on when no other large one is
/// (about 30,000 messages): the plan of an account is held in memory while it is carried out.
pub const LARGE_ACCOUNT_DB: u64 = 96 << 20;
/// Source inodes with several links whose blob is kept (in two generations of this many).
const INODE_CACHE: usize = 65_536;

/// What to do, beyond the defaults.
#[derive(Debug, Clone)]
pub struct MoxBackupOptions {
    /// Hardlink message files into the repository when it shares their filesystem.
    pub link: bool,
    /// Ask the running server for a consistent copy through its control socket.
    pub via_ctl: bool,
    /// Compare against this snapshot instead of the latest mox snapshot of the same source.
    pub parent: Option<SnapshotId>,
    /// Reuse nothing of the parent snapshot: copy every database, read every message file.
    pub force_read: bool,
    /// Tags of the snapshot (each checked by [`crate::check_tag`]; repeats are dropped).
    pub tags: Vec<String>,
    /// Accounts whose database is larger than this many bytes are worked on one at a time
    /// (each one's messages still read in parallel), so that memory holds one large account's
    /// plan, not several; smaller accounts run in parallel. Default [`LARGE_ACCOUNT_DB`].
    pub large_account_bytes: u64,
}

impl Default for MoxBackupOptions {
    fn default() -> Self {
        Self {
            link: true,
            via_ctl: false,
            parent: None,
            force_read: false,
            tags: Vec::new(),
            large_account_bytes: LARGE_ACCOUNT_DB,
        }
    }
}

/// True when `path` names a mox installation: a `mox.conf`, a directory holding `mox.conf` or
/// `config/mox.conf`, or a data directory (accounts, queue or global databases).
pub fn is_mox_source(path: &Path) -> bool {
    path.is_file()
        || path.join("config/mox.conf").is_file()
        || path.join("mox.conf").is_file()
        || path.join("accounts").is_dir()
        || path.join(mox::QUEUE_DB).is_file()
        || mox::GLOBAL_DBS.iter().any(|db| path.join(db).is_file())
}

/// Backs up the mox installation at `source` (a `mox.conf`, a directory holding
/// `config/mox.conf`, or a data directory) into `repo` and commits a snapshot.
///
/// A server that is running (a database is locked) is an error unless `via_ctl` is set. Anything
/// that could not be saved is listed in the snapshot's problems, and the snapshot is incomplete.
pub fn backup_mox(
    repo: &Repository,
    source: &Path,
    opts: &MoxBackupOptions,
    progress: &dyn Progress,
) -> Result<BackupSummary> {
    repo.ensure_writable()?;
    normalize_tags(&opts.tags)?;
    run(repo, source, opts, false, progress, |r| r.execute())
}

/// What a backup of `source` would do, counted against its parent snapshot, with nothing
/// stored: mailboxes kept or written again, message files to read, databases to copy, other
/// files to read. Databases are copied (to a private temporary directory, not the repository)
/// because the plan reads them, as a backup does. The repository is only read.
pub fn plan_backup_mox(
    repo: &Repository,
    source: &Path,
    opts: &MoxBackupOptions,
    progress: &dyn Progress,
) -> Result<BackupPlan> {
    run(repo, source, opts, true, progress, |r| r.plan())
}

/// Gathers the installation at `source` (through the running server's copy with `via_ctl`)
/// and hands the run to `finish`: commit, or count (`dry`).
fn run<T>(
    repo: &Repository,
    source: &Path,
    opts: &MoxBackupOptions,
    dry: bool,
    progress: &dyn Progress,
    finish: fn(Run) -> Result<T>,
) -> Result<T> {
    let located = Source::locate(source)?;
    // Snapshots of one installation are found by its data directory, however it was named.
    let label = fs::canonicalize(&located.data_dir)
        .unwrap_or_else(|_| located.data_dir.clone())
        .display()
        .to_string();
    if !opts.via_ctl {
        return finish(Run::new(repo, &located, label, opts, dry, progress)?);
    }
    with_server_copy(&located, progress, |staged| {
        finish(Run::new(repo, staged, label, opts, dry, progress)?)
    })
}

/// Asks the running server for a consistent copy (through its control socket), runs `work` on
/// it and removes it.
fn with_server_copy<T>(
    located: &Source,
    progress: &dyn Progress,
    work: impl FnOnce(&Source) -> Result<T>,
) -> Result<T> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    // The server writes the copy itself, with hardlinked message files: it must be on the data
    // directory's filesystem. mox never backs up its own tmp/, so the copy is invisible to it.
    let staging = located
        .data_dir
        .join("tmp")
        .join(format!("mailvault-{}-{stamp}", std::process::id()));
    progress.event(Event::Phase {
        name: "server copy".into(),
        total: None,
    });
    let ctl_result = mox::backup_via_ctl(&located.data_dir.join("ctl"), &staging, false, progress);
    let result = ctl_result.map_err(Error::from).and_then(|()| {
        // The server writes `config/` and `data/` side by side, whatever DataDir says (an
        // absolute DataDir would point back at the live directory).
        let mut staged = Source::locate(&staging)?;
        staged.data_dir = staging.join("data");
        work(&staged)
    });
    if staging.exists()
        && let Err(e) = fs::remove_dir_all(&staging)
    {
        progress.event(Event::Warning {
            path: Some(staging.clone()),
            message: format!("could not remove the server's staging copy: {e}"),
        });
    }
    result
}

/// What became of a database.
enum DbCopy {
    /// Copied consistently; the copy is at this path, for reading.
    Copied(PathBuf),
    /// Not written since the parent snapshot: the parent's chunks were taken.
    Unchanged,
    /// Could not be saved; a problem was reported.
    Failed,
}

/// The previous state of one account: its manifest blob and decoded manifest.
struct PrevAccount {
    blob: BlobId,
    manifest: AccountManifest,
}

/// The parent's message lists of one account, checked against the repository: only what is
/// still there may be reused.
#[derive(Default)]
struct PrevLists {
    /// Mailboxes whose list or some message blob is missing or damaged: rescanned in full.
    damaged: HashSet<i64>,
    /// Message blobs the lists name that the repository lacks: their files are read again.
    missing: HashSet<BlobId>,
}

/// An account after its first part ([`Run::prepare_account`]).
enum Prepared {
    /// Nothing left to do: kept from the parent, or not saved (a problem was reported).
    Done(Option<AccountRef>),
    /// Its database copied: to plan and carry out.
    Copied {
        name: String,
        dir: PathBuf,
        db_path: PathBuf,
        copy: PathBuf,
        prev_lists: Option<PrevLists>,
    },
}

/// One backup run: shared state for the worker threads.
struct Run<'a> {
    repo: &'a Repository,
    source: &'a Source,
    label: String,
    opts: &'a MoxBackupOptions,
    progress: &'a dyn Progress,
    started: Instant,
    time_ns: i64,
    parent: Option<SnapshotId>,
    prev: HashMap<String, PrevAccount>,
    /// The parent snapshot's tree entries by path: databases and other files whose size, times,
    /// inode and mode did not change reuse their chunks without being copied or read.
    /// Large files' chunk lists stay in their chunk pages (named, not read).
    prev_entries: HashMap<String, PagedEntry>,
    staging: tempfile::TempDir,
    /// Planning only: nothing is stored.
    dry: bool,
    entries: Mutex<Vec<PagedEntry>>,
    dirs_seen: Mutex<HashSet<String>>,
    problems: Mutex<Vec<Notice>>,
    warnings: Mutex<Vec<Notice>>,
    /// Blob of each source inode already read in this run: hardlinked files are read once.
    /// Bounded: once every file has several links (all linked into a repository), each one
    /// would be kept.
    inodes: Mutex<BoundedCache<(u64, u64), (BlobId, bool)>>,
    link_groups: Mutex<HashMap<(u64, u64), u64>>,
    counters: Counters,
}

#[derive(Default)]
struct Counters {
    files_total: AtomicU64,
    files_read: AtomicU64,
    bytes_read: AtomicU64,
    bytes_added: AtomicU64,
    accounts_total: AtomicU64,
    accounts_skipped: AtomicU64,
    mailboxes_total: AtomicU64,
    mailboxes_skipped: AtomicU64,
    messages_total: AtomicU64,
    messages_read: AtomicU64,
    /// Bytes of the message files read (or, planning, to read: from the database's sizes).
    message_bytes_read: AtomicU64,
    /// Mailboxes whose paged list is updated page by page.
    mailboxes_paged: AtomicU64,
    databases: AtomicU64,
    databases_unchanged: AtomicU64,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

impl<'a> Run<'a> {
    fn new(
        repo: &'a Repository,
        source: &'a Source,
        label: String,
        opts: &'a MoxBackupOptions,
        dry: bool,
        progress: &'a dyn Progress,
    ) -> Result<Self> {
        // Database copies are as secret as the databases: readable by us alone. A dry run
        // writes nothing into the repository: its copies go to the system's temporary directory.
        let tmp = match dry {
            true => std::env::temp_dir(),
            false => repo.tmp_dir().to_path_buf(),
        };
        let staging = tempfile::Builder::new()
            .prefix("mox-dbcopy-")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir_in(&tmp)
            .at(&tmp)?;
        let mut run = Run {
            repo,
            source,
            label,
            opts,
            progress,
            started: Instant::now(),
            time_ns: Repository::now_ns(),
            parent: None,
            prev: HashMap::new(),
            prev_entries: HashMap::new(),
            staging,
            dry,
            entries: Mutex::new(Vec::new()),
            dirs_seen: Mutex::new(HashSet::new()),
            problems: Mutex::new(Vec::new()),
            warnings: Mutex::new(Vec::new()),
            inodes: Mutex::new(BoundedCache::new(INODE_CACHE)),
            link_groups: Mutex::new(HashMap::new()),
            counters: Counters::default(),
        };
        run.load_parent()?;
        Ok(run)
    }

    /// Finds the parent snapshot (explicit, or the latest mox snapshot of the same source) and
    /// decodes its account manifests. Message lists are loaded later, per account.
    ///
    /// A damaged parent never stops the night: a snapshot whose tree cannot be read gives way
    /// to the newest older one whose tree can (or to none: everything is read), and an account
    /// whose manifest cannot be read is scanned in full; each with a warning naming the damage.
    fn load_parent(&mut self) -> Result<()> {
        let candidates = match self.opts.parent {
            Some(id) => vec![(id, self.repo.load_snapshot(&id)?)],
            None => crate::backup::parent_candidates(
                self.repo,
                SourceKind::Mox,
                &crate::backup::host_name(),
                &self.label,
            )?,
        };
        if self.opts.force_read {
            // Recorded as the parent, but nothing of it is reused.
            self.parent = candidates.first().map(|(id, _)| *id);
            return Ok(());
        }
        let mut chosen = None;
        let mut damaged = false;
        for (id, snapshot) in candidates {
            match Tree::load_shallow(self.repo, &snapshot.tree) {
                Ok(tree) => {
                    chosen = Some((id, snapshot, tree));
                    break;
                }
                Err(e) => {
                    damaged = true;
                    self.warning(
                        None,
                        format!(
                            "parent snapshot {} is damaged and not used: {e}",
                            id.short()
                        ),
                    );
                }
            }
        }
        let Some((id, snapshot, tree)) = chosen else {
            if damaged {
                self.warning(None, "no intact parent snapshot: everything is read");
            }
            return Ok(());
        };
        self.parent = Some(id);
        self.prev_entries = tree
            .into_iter()
            .map(|e| (e.entry.path.clone(), e))
            .collect();
        for account in &snapshot.accounts {
            let manifest = self.repo.get_blob(&account.manifest).and_then(|bytes| {
                AccountManifest::decode(&bytes).map_err(|e| {
                    Error::corrupt(
                        format!("manifest {} of account {}", account.manifest, account.name),
                        e.to_string(),
                    )
                })
            });
            match manifest {
                Ok(manifest) => {
                    self.prev.insert(
                        account.name.clone(),
                        PrevAccount {
                            blob: account.manifest,
                            manifest,
                        },
                    );
                }
                Err(e) => self.warning(
                    None,
                    format!(
                        "account {} of parent snapshot {} is damaged ({e}); it is scanned in full",
                        account.name,
                        id.short()
                    ),
                ),
            }
        }
        Ok(())
    }

    /// Reads the parent's message lists of an account and checks that every blob they name is
    /// still in the repository (a damaged object may have been moved aside, a file lost).
    fn check_prev_lists(&self, name: &str, prev: &PrevAccount) -> PrevLists {
        let mut out = PrevLists::default();
        for m in &prev.manifest.mailboxes {
            match load_list(self.repo, &m.list) {
                Ok(list) => {
                    let check = self.repo.blobs_may_be_missing();
                    let missing: Vec<BlobId> = list
                        .messages
                        .iter()
                        .filter(|e| check && !message_stored(self.repo, e))
                        .map(|e| e.blob)
                        .collect();
                    if !missing.is_empty() {
                        self.warning(
                            None,
                            format!(
                                "mailbox {} of account {name}: {} message blobs of the parent \
                                 snapshot are missing from the repository; read again",
                                m.name,
                                missing.len()
                            ),
                        );
                        out.damaged.insert(m.id);
                        out.missing.extend(missing);
                    }
                }
                Err(e) => {
                    self.damaged_list(name, &m.name, &e);
                    out.damaged.insert(m.id);
                }
            }
        }
        out
    }

    /// The warning for a parent's message list that cannot be read: its mailbox is rescanned.
    fn damaged_list(&self, account: &str, mailbox: &str, e: &Error) {
        self.warning(
            None,
            format!(
                "mailbox {mailbox} of account {account}: the parent's message list is damaged \
                 ({e}); rescanned"
            ),
        );
    }

    fn problem(&self, path: Option<&Path>, message: impl Into<String>) {
        let message = message.into();
        self.progress.event(Event::Problem {
            path: path.map(Path::to_path_buf),
            message: message.clone(),
        });
        self.problems.lock().expect("poisoned").push(Notice {
            path: path.map(|p| p.display().to_string()),
            message,
        });
    }

    fn warning(&self, path: Option<&Path>, message: impl Into<String>) {
        let message = message.into();
        self.progress.event(Event::Warning {
            path: path.map(Path::to_path_buf),
            message: message.clone(),
        });
        self.warnings.lock().expect("poisoned").push(Notice {
            path: path.map(|p| p.display().to_string()),
            message,
        });
    }

    fn data(&self, rel: &str) -> PathBuf {
        self.source.data_dir.join(rel)
    }

    /// Records the directories above `rel` (a tree path like `data/accounts/alice/index.db`) with
    /// their modes, once each.
    fn add_parents(&self, rel: &str) {
        let mut prefix = String::new();
        let parts: Vec<&str> = rel.split('/').collect();
        for part in &parts[..parts.len().saturating_sub(1)] {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            if !self
                .dirs_seen
                .lock()
                .expect("poisoned")
                .insert(prefix.clone())
            {
                continue;
            }
            let abs = self.tree_path_to_source(&prefix);
            // An account directory may be a symlink to another disk, followed deliberately: it
            // is saved as the directory it is for mox.
            let account_dir =
                prefix.starts_with("data/accounts/") && prefix.matches('/').count() == 2;
            let meta = match account_dir {
                true => fs::metadata(&abs),
                false => fs::symlink_metadata(&abs),
            };
            if let Ok(meta) = meta
                && meta.is_dir()
            {
                self.entries
                    .lock()
                    .expect("poisoned")
                    .push(entry_from_metadata(&prefix, &meta).into());
            }
        }
    }

    /// Where a tree path (`config/...` or `data/...`) lives in the source.
    fn tree_path_to_source(&self, rel: &str) -> PathBuf {
        if let Some(rest) = rel.strip_prefix("data") {
            return self.source.data_dir.join(rest.trim_start_matches('/'));
        }
        match (&self.source.config_dir, rel.strip_prefix("config")) {
            (Some(config), Some(rest)) => config.join(rest.trim_start_matches('/')),
            _ => PathBuf::from(rel),
        }
    }

    fn push_entry(&self, entry: impl Into<PagedEntry>) {
        let entry = entry.into();
        self.add_parents(&entry.entry.path);
        self.entries.lock().expect("poisoned").push(entry);
    }

    /// The hardlink group of a source inode: equal for every path of the same inode.
    fn link_group(&self, meta: &fs::Metadata) -> u64 {
        if meta.nlink() < 2 {
            return 0;
        }
        let mut groups = self.link_groups.lock().expect("poisoned");
        let next = groups.len() as u64 + 1;
        *groups.entry((meta.dev(), meta.ino())).or_insert(next)
    }

    /// Stores a regular file, symlink or directory as a plain tree entry.
    fn add_plain(&self, abs: &Path, rel: &str, chunking: Option<Chunking>) {
        let meta = match fs::symlink_metadata(abs) {
            Ok(m) => m,
            Err(e) => return self.problem(Some(abs), format!("cannot read: {e}")),
        };
        if let Some(entry) = self.unchanged_entry(rel, &meta) {
            add(&self.counters.files_total, 1);
            return self.push_entry(entry);
        }
        let ft = meta.file_type();
        if !(ft.is_file() || ft.is_dir() || ft.is_symlink()) {
            use std::os::unix::fs::FileTypeExt;
            if !ft.is_socket() {
                self.warning(Some(abs), "special file skipped");
            }
            return;
        }
        let mut entry = match capture_entry(abs, Path::new(rel), &meta) {
            Ok(entry) => entry,
            Err(message) => return self.problem(Some(abs), message),
        };
        if meta.is_file() && self.dry {
            add(&self.counters.files_total, 1);
            add(&self.counters.files_read, 1);
            add(&self.counters.bytes_read, meta.len());
        } else if meta.is_file() {
            add(&self.counters.files_total, 1);
            let chunking = chunking.unwrap_or_else(|| chunking_for(abs, meta.len()));
            match store_file(self.repo, abs, chunking) {
                Ok(stored) => {
                    add(&self.counters.files_read, 1);
                    add(&self.counters.bytes_read, stored.bytes_read);
                    add(&self.counters.bytes_added, stored.bytes_added);
                    self.progress.event(Event::Advance {
                        phase: FILES_PHASE.into(),
                        items: 1,
                        bytes: stored.bytes_read,
                    });
                    entry.size = stored.size;
                    entry.chunks = stored.chunks;
                    entry.link_group = self.link_group(&meta);
                }
                Err(e) => return self.problem(Some(abs), format!("not saved: {e}")),
            }
        }
        self.push_entry(entry);
    }

    /// Walks a directory and stores everything in it as plain entries; `warn` marks each file
    /// as unknown to the reference backup.
    fn add_plain_tree(&self, abs: &Path, rel: &str, warn: Option<&str>) {
        for item in walkdir::WalkDir::new(abs).sort_by_file_name() {
            let item = match item {
                Ok(item) => item,
                Err(e) => {
                    let path = e.path().unwrap_or(abs).to_path_buf();
                    self.problem(Some(&path), format!("cannot read: {e}"));
                    continue;
                }
            };
            let sub = item
                .path()
                .strip_prefix(abs)
                .expect("walkdir stays below its root");
            let item_rel = if sub.as_os_str().is_empty() {
                rel.to_string()
            } else {
                format!("{rel}/{}", sub.display())
            };
            if let (Some(msg), false) = (warn, item.file_type().is_dir()) {
                self.warning(Some(item.path()), msg);
            }
            self.add_plain(item.path(), &item_rel, None);
        }
    }

    /// The parent's entry for a file whose metadata shows it has not been written since (size,
    /// mtime, ctime, inode and mode equal, chunks present), as the entry of this snapshot.
    fn unchanged_entry(&self, rel: &str, meta: &fs::Metadata) -> Option<PagedEntry> {
        let paged = self.prev_entries.get(rel)?;
        let prev = &paged.entry;
        let now = entry_from_metadata(rel, meta);
        let same = prev.kind == now.kind
            && meta.is_file()
            && prev.size == now.size
            && prev.mtime_ns == now.mtime_ns
            && prev.ctime_ns == now.ctime_ns
            && prev.ino == now.ino
            && prev.mode == now.mode
            && (prev.size == 0 || paged.has_content())
            && (!self.repo.blobs_may_be_missing() || self.content_present(paged));
        same.then(|| PagedEntry {
            entry: Entry {
                link_group: self.link_group(meta),
                ..prev.clone()
            },
            pages: paged.pages.clone(),
        })
    }

    /// Whether every blob of a parent entry's content is in the repository: its chunk pages,
    /// and the chunks they (or the entry) name.
    fn content_present(&self, paged: &PagedEntry) -> bool {
        let pages = paged.pages.as_deref().unwrap_or_default();
        pages.iter().all(|p| self.repo.has_blob(p))
            && paged
                .chunks(self.repo)
                .is_ok_and(|chunks| chunks.iter().all(|c| self.repo.has_blob(c)))
    }

    /// Copies a database consistently (shared flock, copy, release) and stores the copy in
    /// page-aligned chunks, unless `reuse` allows taking the parent's chunks of a database
    /// that was not written since. A locked database is fatal: the server is running.
    fn add_db(&self, abs: &Path, rel: &str, reuse: bool) -> Result<DbCopy> {
        let live_meta = match fs::symlink_metadata(abs) {
            Ok(m) => m,
            Err(e) => {
                self.problem(Some(abs), format!("database not readable: {e}"));
                return Ok(DbCopy::Failed);
            }
        };
        if live_meta.file_type().is_symlink() {
            // Its target could be any file of the system: never followed, never read.
            self.problem(
                Some(abs),
                "database is a symlink where a regular file should be: not followed",
            );
            return Ok(DbCopy::Failed);
        }
        if reuse && let Some(entry) = self.unchanged_entry(rel, &live_meta) {
            add(&self.counters.files_total, 1);
            add(&self.counters.databases_unchanged, 1);
            self.push_entry(entry);
            return Ok(DbCopy::Unchanged);
        }
        let n = self.counters.databases.fetch_add(1, Ordering::Relaxed);
        let copy = self.staging.path().join(format!("{n}.db"));
        match mox::copy_database(abs, &copy) {
            Ok(_) => {}
            Err(e @ MoxError::ServerRunning { .. }) => return Err(e.into()),
            Err(e) => {
                self.problem(Some(abs), format!("database not copied: {e}"));
                return Ok(DbCopy::Failed);
            }
        }
        add(&self.counters.files_total, 1);
        if self.dry {
            add(&self.counters.files_read, 1);
            add(
                &self.counters.bytes_read,
                fs::metadata(&copy).map_or(0, |m| m.len()),
            );
            self.push_entry(entry_from_metadata(rel, &live_meta));
            return Ok(DbCopy::Copied(copy));
        }
        match store_file_paged(self.repo, &copy, db_chunking(self.repo, &copy)) {
            Ok(stored) => {
                add(&self.counters.files_read, 1);
                add(&self.counters.bytes_read, stored.bytes_read);
                add(&self.counters.bytes_added, stored.bytes_added);
                self.progress.event(Event::Advance {
                    phase: FILES_PHASE.into(),
                    items: 1,
                    bytes: stored.bytes_read,
                });
                let mut entry = entry_from_metadata(rel, &live_meta);
                entry.size = stored.size;
                entry.chunks = stored.chunks;
                entry.link_group = 0;
                self.push_entry(PagedEntry {
                    entry,
                    pages: stored.pages,
                });
                Ok(DbCopy::Copied(copy))
            }
            Err(e) => {
                self.problem(Some(abs), format!("database copy not stored: {e}"));
                Ok(DbCopy::Failed)
            }
        }
    }

    /// Hashes an immutable file (once per inode) and stores it, linked when possible.
    /// Returns the blob, whether it is a chunk list (`chunk`: a large message file that is
    /// copied, not linked, is stored in content-defined chunks) and the file's metadata.
    /// A symlink in the file's place is an error naming the path; its target is never read.
    fn store_immutable(
        &self,
        abs: &Path,
        phase: &str,
        chunk: bool,
    ) -> Result<(BlobId, bool, fs::Metadata)> {
        let (mut file, meta) = open_regular(abs).at(abs)?;
        // Only a file with several links can be met again: the cache holds just those.
        let key = (meta.nlink() > 1).then(|| (meta.dev(), meta.ino()));
        if let Some(key) = key
            && let Some((id, chunked)) = self.inodes.lock().expect("poisoned").get(&key)
        {
            // Done, without reading: one more item of the phase, no bytes.
            self.progress.event(Event::Advance {
                phase: phase.to_string(),
                items: 1,
                bytes: 0,
            });
            return Ok((id, chunked, meta));
        }
        // Read in pieces (a large message is never whole in memory): hashed, then linked;
        // else cut into chunks as it is read; a file stored as one blob is read whole.
        let (id, chunked, stored_bytes, read) = if self.opts.link && self.repo.can_link() {
            let (id, read) = hash_file(&mut file, abs)?;
            let outcome = self.repo.put_file(abs, id, true, self.progress)?;
            (outcome.id, false, outcome.stored_bytes, read)
        } else if chunk {
            let (stored, read) = store_message_file(self.repo, &mut file, abs)?;
            (stored.blob, stored.chunked, stored.stored_bytes, read)
        } else {
            let mut data = Vec::with_capacity(meta.len() as usize);
            file.read_to_end(&mut data).at(abs)?;
            let outcome = self.repo.put_blob(BlobKind::Data, &data)?;
            (outcome.id, false, outcome.stored_bytes, data.len() as u64)
        };
        add(&self.counters.files_read, 1);
        add(&self.counters.bytes_read, read);
        add(&self.counters.bytes_added, stored_bytes);
        self.progress.event(Event::Advance {
            phase: phase.to_string(),
            items: 1,
            bytes: read,
        });
        if let Some(key) = key {
            self.inodes
                .lock()
                .expect("poisoned")
                .insert(key, (id, chunked));
        }
        Ok((id, chunked, meta))
    }

    /// Tries the lock of every database before anything is read or stored: a running server
    /// (one locked database is enough) is refused before the accounts are worked on, with
    /// nothing written to the repository.
    fn check_locks(&self) -> Result<()> {
        let mut dbs: Vec<PathBuf> = mox::GLOBAL_DBS.iter().map(|db| self.data(db)).collect();
        dbs.push(self.data(mox::QUEUE_DB));
        for name in &self.source.accounts {
            let dir = self.data(&format!("accounts/{name}"));
            dbs.push(dir.join("index.db"));
            dbs.push(dir.join("junkfilter.db"));
        }
        for db in dbs {
            mox::probe_lock(&db)?;
        }
        Ok(())
    }

    /// Everything of the installation, gathered (or, planning, counted).
    /// Works on the accounts, in parallel: small ones each on its own, large ones (a database
    /// above `large_account_bytes`) one after the other, so that the plans of two of them are
    /// never in memory at once. A large account's messages are read in parallel anyway, and
    /// the next one's database is copied and stored while it is read. In the order of names.
    fn add_accounts(&self) -> Result<Vec<AccountRef>> {
        type Named<'n> = Vec<(usize, &'n String)>;
        let (large, small): (Named, Named) =
            self.source
                .accounts
                .iter()
                .enumerate()
                .partition(|(_, name)| {
                    mox::check_account_name(name).is_ok()
                        && fs::metadata(self.data(&format!("accounts/{name}/index.db")))
                            .is_ok_and(|m| m.len() > self.opts.large_account_bytes)
                });
        let (small, large) = rayon::join(
            || -> Result<Vec<(usize, Option<AccountRef>)>> {
                small
                    .par_iter()
                    .map(|&(i, name)| Ok((i, self.add_account(name)?)))
                    .collect()
            },
            || -> Result<Vec<(usize, Option<AccountRef>)>> {
                let mut out = Vec::with_capacity(large.len());
                let mut next = large.first().map(|(_, name)| self.prepare_account(name));
                for (k, &(i, _)) in large.iter().enumerate() {
                    let current = next.take().expect("prepared before its turn")?;
                    let (done, prepared) = rayon::join(
                        || self.finish_account(current),
                        || large.get(k + 1).map(|(_, name)| self.prepare_account(name)),
                    );
                    out.push((i, done?));
                    next = prepared;
                }
                Ok(out)
            },
        );
        let mut found = small?;
        found.extend(large?);
        found.sort_by_key(|(i, _)| *i);
        Ok(found.into_iter().filter_map(|(_, a)| a).collect())
    }

    fn gather(&self) -> Result<Vec<AccountRef>> {
        self.check_locks()?;
        self.progress.event(Event::Phase {
            name: FILES_PHASE.into(),
            total: None,
        });
        // Accounts run in parallel with each other and with the global files: one account's
        // database copy and chunking (one core) overlaps another's message reading.
        let (global, accounts) = rayon::join(
            || -> Result<()> {
                if let Some(config) = &self.source.config_dir {
                    self.add_plain_tree(config, "config", None);
                }
                self.add_global_files()?;
                self.add_queue()
            },
            || self.add_accounts(),
        );
        global?;
        let accounts = accounts?;
        self.add_rest()?;
        Ok(accounts)
    }

    fn execute(self) -> Result<BackupSummary> {
        let accounts = self.gather()?;
        self.commit(accounts)
    }

    /// A dry run: gathers with nothing stored and returns the counts.
    fn plan(self) -> Result<BackupPlan> {
        self.gather()?;
        let stats = self.stats();
        Ok(BackupPlan {
            parent: self.parent,
            stats,
            problems: self.problems.into_inner().expect("poisoned"),
            warnings: self.warnings.into_inner().expect("poisoned"),
        })
    }

    /// The counters as the snapshot's statistics.
    fn stats(&self) -> BTreeMap<String, u64> {
        let c = &self.counters;
        let mut stats = BTreeMap::new();
        for (key, counter) in [
            ("files_total", &c.files_total),
            ("files_read", &c.files_read),
            ("bytes_read", &c.bytes_read),
            ("bytes_added", &c.bytes_added),
            ("accounts_total", &c.accounts_total),
            ("accounts_skipped", &c.accounts_skipped),
            ("mailboxes_total", &c.mailboxes_total),
            ("mailboxes_skipped", &c.mailboxes_skipped),
            ("mailboxes_paged", &c.mailboxes_paged),
            ("messages_total", &c.messages_total),
            ("messages_read", &c.messages_read),
            ("message_bytes_read", &c.message_bytes_read),
            ("databases_copied", &c.databases),
            ("databases_unchanged", &c.databases_unchanged),
        ] {
            stats.insert(key.to_string(), counter.load(Ordering::Relaxed));
        }
        // Message files count as files of the snapshot, read or not.
        *stats.get_mut("files_total").expect("set above") += stats["messages_total"];
        stats
    }

    /// The global databases, `receivedid.key` and `acme/`.
    fn add_global_files(&self) -> Result<()> {
        for name in mox::GLOBAL_DBS {
            let abs = self.data(name);
            if abs.exists() {
                self.add_db(&abs, &format!("data/{name}"), true)?;
            }
        }
        let key = self.data("receivedid.key");
        if key.exists() {
            self.add_plain(&key, "data/receivedid.key", Some(Chunking::Whole));
        }
        let acme = self.data("acme");
        if acme.is_dir() {
            self.add_plain_tree(&acme, "data/acme", None);
        }
        Ok(())
    }

    /// `queue/index.db` and the file of every queued message; other files with a warning.
    fn add_queue(&self) -> Result<()> {
        let queue_dir = self.data("queue");
        let db = queue_dir.join("index.db");
        if !db.exists() {
            if queue_dir.exists() {
                self.warning(Some(&db), "queue database missing");
            }
            return Ok(());
        }
        // The queue's messages are listed from its database: always copied and read.
        let DbCopy::Copied(copy) = self.add_db(&db, "data/queue/index.db", false)? else {
            return Ok(());
        };
        let msgs = match mox::read_queue(&copy) {
            Ok(m) => m,
            Err(e) => {
                self.problem(Some(&db), format!("queue database unreadable: {e}"));
                return Ok(());
            }
        };
        let max_id = msgs.iter().map(|m| m.id).max().unwrap_or(0);
        let mut known = HashSet::new();
        for msg in &msgs {
            let rel = format!("queue/{}", mox::message_path(msg.id));
            known.insert(rel.clone());
            let abs = self.data(&rel);
            let tree_rel = format!("data/{rel}");
            if let Ok(meta) = fs::symlink_metadata(&abs)
                && let Some(entry) = self.unchanged_entry(&tree_rel, &meta)
            {
                add(&self.counters.files_total, 1);
                self.push_entry(entry);
                continue;
            }
            add(&self.counters.files_total, 1);
            if self.dry {
                add(&self.counters.files_read, 1);
                add(
                    &self.counters.bytes_read,
                    fs::symlink_metadata(&abs).map_or(0, |m| m.len()),
                );
                continue;
            }
            match self.store_immutable(&abs, FILES_PHASE, false) {
                Ok((id, _, meta)) => {
                    let mut entry = entry_from_metadata(&tree_rel, &meta);
                    entry.chunks = vec![id];
                    entry.link_group = self.link_group(&meta);
                    self.push_entry(entry);
                }
                Err(e) => self.problem(Some(&abs), format!("queued message not saved: {e}")),
            }
        }
        // Anything else below queue/: a message delivered after the copy (higher id) is skipped;
        // the rest is unknown to mox and kept with a warning, as the reference backup does.
        for item in walkdir::WalkDir::new(&queue_dir).sort_by_file_name() {
            let Ok(item) = item else { continue };
            if item.file_type().is_dir() {
                continue;
            }
            let rel = match item.path().strip_prefix(&self.source.data_dir) {
                Ok(r) => r.display().to_string(),
                Err(_) => continue,
            };
            if rel == "queue/index.db" || known.contains(&rel) {
                continue;
            }
            let name = item.file_name().to_string_lossy();
            if name.parse::<i64>().is_ok_and(|id| id > max_id) {
                continue;
            }
            self.warning(Some(item.path()), "unknown file in queue directory, copied");
            self.add_plain(item.path(), &format!("data/{rel}"), None);
        }
        Ok(())
    }

    /// Everything in the data directory that no other step covers.
    fn add_rest(&self) -> Result<()> {
        let configured: HashSet<&str> = self.source.accounts.iter().map(String::as_str).collect();
        let mut top: Vec<_> = match fs::read_dir(&self.source.data_dir) {
            Ok(rd) => rd.filter_map(|e| e.ok()).collect(),
            Err(e) => {
                self.problem(Some(&self.source.data_dir), format!("cannot list: {e}"));
                return Ok(());
            }
        };
        top.sort_by_key(|e| e.file_name());
        for item in top {
            let name = item.file_name().to_string_lossy().to_string();
            let handled = mox::GLOBAL_DBS.contains(&name.as_str())
                || matches!(
                    name.as_str(),
                    "queue" | "acme" | "tmp" | "ctl" | "receivedid.key"
                );
            if handled {
                continue;
            }
            let abs = item.path();
            let rel = format!("data/{name}");
            if name == "accounts" && abs.is_dir() {
                let mut accounts: Vec<_> = fs::read_dir(&abs)
                    .map(|rd| rd.filter_map(|e| e.ok()).collect())
                    .unwrap_or_default();
                accounts.sort_by_key(|e| e.file_name());
                for acc in accounts {
                    let acc_name = acc.file_name().to_string_lossy().to_string();
                    if configured.contains(acc_name.as_str()) {
                        continue;
                    }
                    self.add_plain_tree(
                        &acc.path(),
                        &format!("data/accounts/{acc_name}"),
                        Some("not a configured account, copied as plain files"),
                    );
                }
                continue;
            }
            let warn = match name.as_str() {
                "lastknownversion" | "moxversion" => None,
                _ => Some("unknown file in data directory, copied"),
            };
            self.add_plain_tree(&abs, &rel, warn);
        }
        Ok(())
    }

    /// One configured account: its databases, its manifest, and its message files.
    fn add_account(&self, name: &str) -> Result<Option<AccountRef>> {
        let prepared = self.prepare_account(name)?;
        self.finish_account(prepared)
    }

    /// The first part of an account: its databases copied and stored, its other files; what
    /// is left is planning and carrying out the plan ([`Run::finish_account`]).
    fn prepare_account(&self, name: &str) -> Result<Prepared> {
        add(&self.counters.accounts_total, 1);
        // A name from domains.conf becomes a path here and at restore: `../x` or `/x` would
        // read (and later write) outside the data directory.
        if let Err(why) = mox::check_account_name(name) {
            self.problem(
                Some(&self.source.data_dir.join("accounts")),
                format!("account {name:?} not saved: {why}"),
            );
            return Ok(Prepared::Done(None));
        }
        let dir = self.data(&format!("accounts/{name}"));
        let rel_dir = format!("data/accounts/{name}");
        let db_path = dir.join("index.db");
        if !db_path.exists() {
            // mox creates an account's directory on first use.
            self.warning(Some(&dir), "account has no database yet (never used)");
            return Ok(Prepared::Done(None));
        }
        // An account database not written since the parent snapshot holds the parent's state:
        // its manifest is reused without copying or reading the database.
        let reusable = self
            .prev
            .get(name)
            .filter(|p| p.manifest.mailboxes.iter().all(|m| m.complete));
        // What of the parent's lists and message blobs is still in the repository: an account
        // that lost some is planned again, and its damaged mailboxes rescanned. Blobs listed by
        // the index stay until a repair drops them or their pack goes, which the repository
        // knows: only then are the parent's lists read to check them.
        let prev_lists = reusable
            .filter(|_| self.repo.blobs_may_be_missing())
            .map(|p| self.check_prev_lists(name, p));
        let reusable = reusable.filter(|_| {
            prev_lists
                .as_ref()
                .is_none_or(|l: &PrevLists| l.damaged.is_empty())
        });
        let copy =
            match self.add_db(&db_path, &format!("{rel_dir}/index.db"), reusable.is_some())? {
                DbCopy::Failed => return Ok(Prepared::Done(None)),
                DbCopy::Copied(copy) => Some(copy),
                DbCopy::Unchanged => None,
            };
        for junk in ["junkfilter.db", "junkfilter.bloom"] {
            let abs = dir.join(junk);
            if !abs.exists() {
                continue;
            }
            let rel = format!("{rel_dir}/{junk}");
            if junk.ends_with(".db") {
                self.add_db(&abs, &rel, true)?;
            } else {
                // Rewritten in place by mox: fixed chunks store only what changed.
                self.add_plain(
                    &abs,
                    &rel,
                    Some(Chunking::Fixed {
                        size: self.repo.config().chunk.fixed_size as usize,
                    }),
                );
            }
        }
        self.add_msg_dirs(&dir, &rel_dir);
        let Some(copy) = copy else {
            let p = reusable.expect("reuse only with a parent manifest");
            self.count_reused_account(
                p.manifest.mailboxes.len() as u64,
                p.manifest.message_count(),
            );
            return Ok(Prepared::Done(Some(AccountRef {
                name: name.to_string(),
                manifest: p.blob,
            })));
        };
        Ok(Prepared::Copied {
            name: name.to_string(),
            dir,
            db_path,
            copy,
            prev_lists,
        })
    }

    /// Plans an account whose database was copied, and carries the plan out (or, planning
    /// only, counts it).
    fn finish_account(&self, prepared: Prepared) -> Result<Option<AccountRef>> {
        let (name, dir, db_path, copy, prev_lists) = match prepared {
            Prepared::Done(done) => return Ok(done),
            Prepared::Copied {
                name,
                dir,
                db_path,
                copy,
                prev_lists,
            } => (name, dir, db_path, copy, prev_lists),
        };
        let name = name.as_str();
        let db = match AccountDb::open(&copy) {
            Ok(db) => db,
            Err(e) => {
                self.problem(
                    Some(&db_path),
                    format!("account database unreadable, messages not saved: {e}"),
                );
                return Ok(None);
            }
        };
        let prev_lists = match (prev_lists, self.prev.get(name)) {
            (Some(lists), _) => lists,
            // Lists are read as the plan needs them: a damaged one is found then.
            (None, Some(p)) if self.repo.blobs_may_be_missing() => self.check_prev_lists(name, p),
            (None, _) => PrevLists::default(),
        };
        let planned = self
            .plan_account(name, &dir, &db, &prev_lists)
            .and_then(|plan| match self.dry {
                true => {
                    self.count_plan(&plan);
                    Ok(AccountRef {
                        name: name.to_string(),
                        manifest: BlobId::hash(b""),
                    })
                }
                false => self.execute_account(name, &dir, &db, plan),
            });
        match planned {
            Ok(account) => Ok(Some(account)),
            Err(Error::Mox(e)) => {
                self.problem(
                    Some(&db_path),
                    format!("account database unreadable, messages not saved: {e}"),
                );
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The account's `msg/` directory and its subdirectories (modes and owners, restored as
    /// they were; message files are in the manifest). `msg` may be a symlink to another disk:
    /// it is recorded as the directory it leads to.
    fn add_msg_dirs(&self, dir: &Path, rel_dir: &str) {
        let msg = dir.join("msg");
        let Ok(meta) = fs::metadata(&msg) else {
            return;
        };
        if !meta.is_dir() {
            return;
        }
        let mut found = vec![entry_from_metadata(&format!("{rel_dir}/msg"), &meta)];
        if let Ok(rd) = fs::read_dir(&msg) {
            for item in rd.flatten() {
                let name = item.file_name();
                if let (Some(name), Ok(m)) = (name.to_str(), fs::symlink_metadata(item.path()))
                    && m.is_dir()
                {
                    found.push(entry_from_metadata(&format!("{rel_dir}/msg/{name}"), &m));
                }
            }
        }
        for entry in found {
            self.push_entry(entry);
        }
    }

    fn commit(self, accounts: Vec<AccountRef>) -> Result<BackupSummary> {
        let mut entries = std::mem::take(&mut *self.entries.lock().expect("poisoned"));
        entries.sort_by(|a, b| a.entry.path.cmp(&b.entry.path));
        entries.dedup_by(|a, b| a.entry.path == b.entry.path);
        let stored = store_entries_counted(
            self.repo,
            entries.iter().map(|e| (&e.entry, e.pages.as_deref())),
        )?;
        let tree = stored.id;
        add(&self.counters.bytes_added, stored.stored_bytes);
        let mut stats = self.stats();
        let problems = self.problems.into_inner().expect("poisoned");
        let warnings = self.warnings.into_inner().expect("poisoned");
        let links = self.repo.link_counts();
        stats.insert("objects_reflinked".to_string(), links.reflinked);
        stats.insert("objects_hardlinked".to_string(), links.hardlinked);
        stats.insert(
            "duration_ms".to_string(),
            self.started.elapsed().as_millis() as u64,
        );
        let snapshot = Snapshot {
            time_ns: self.time_ns,
            host: crate::backup::host_name(),
            source: self.label.clone(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            kind: SourceKind::Mox,
            parent: self.parent,
            tree,
            accounts,
            complete: problems.is_empty(),
            problems: problems.clone(),
            warnings: warnings.clone(),
            stats: stats.clone(),
            tags: normalize_tags(&self.opts.tags)?,
            original: None,
        };
        let id = self.repo.commit_snapshot(&snapshot)?;
        // Every blob this snapshot reuses was checked against the index (when it had to be).
        self.repo.mark_blobs_checked();
        Ok(BackupSummary {
            snapshot: id,
            complete: snapshot.complete,
            stats,
            problems,
            warnings,
        })
    }
}

/// A bbolt database is split at its own page size (from its meta page; 4 KiB for mox), so a
/// night stores the pages that changed; the repository's fixed chunk size when the meta page
/// cannot be read.
fn db_chunking(repo: &Repository, copy: &Path) -> Chunking {
    let size = mox::Bolt::open_lazy(copy)
        .map(|db| db.page_size() as usize)
        .unwrap_or(repo.config().chunk.fixed_size as usize);
    Chunking::Fixed { size }
}
