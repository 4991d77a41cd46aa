//! The content-addressed repository: blobs named by their BLAKE3 hash, stored in packs (or, for
//! linked message files, as raw objects), found through append-only index files, with
//! snapshots as the single commit point, a repository lock, and a rebuildable local catalog.
//!
//! Layout (bytes in docs/format.md):
//! ```text
//! REPO/config               repository config (magic, version, postcard)
//! REPO/packs/<hex>          pack of framed blobs; <hex> = BLAKE3 of the pack
//! REPO/index/<hex>          index file: blob -> pack, offset, length; raw objects
//! REPO/objects/ab/<hex>.r   raw object: exactly the blob bytes (a reflink or hardlink)
//! REPO/objects/ab/<hex>     framed object of repository format 1 (read only)
//! REPO/snapshots/<hex>      snapshot file; <hex> = BLAKE3 of the file
//! REPO/lock, REPO/locks/    the repository lock and who holds it
//! REPO/catalog.redb         cache of the index, rebuildable
//! REPO/tmp/                 temp files (open packs, staging)
//! ```

mod backend;
mod catalog;
pub(crate) mod config;
pub(crate) mod index;
mod keyring;
pub(crate) mod keys;
mod lock;
mod maintain;
pub(crate) mod object;
pub(crate) mod pack;
mod packer;
mod repair;
mod s3;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

pub use backend::{
    Backend, FailAfter, LinkKind, LocalBackend, LocalStore, ObjectMeta, Retry, TransferStats,
};
pub use catalog::BlobInfo;
use catalog::{Catalog, Location, Opened, Place};
pub use config::{ChunkParams, PackParams, RepoConfig};
use index::IndexFile;
pub use keyring::KeyInfo;
pub use keys::{Argon2Params, PasswordSource, Unlock};
use lock::RepoLock;
pub use lock::{LockMode, LockRecord};
pub use maintain::RewriteOutcome;
pub(crate) use maintain::{IndexView, Rewrite};
pub use object::BlobKind;
use packer::{Packer, Unindexed};
pub use repair::{IndexRepair, MigrateSummary};
pub use s3::{S3Backend, S3Url};

use crate::error::{Error, IoContext, Result};
use crate::id::{BlobId, IndexId, SnapshotId};
use crate::progress::{Event, Progress};
use crate::snapshot::Snapshot;

/// Name of the catalog file inside the repository.
pub const CATALOG_FILE: &str = "catalog.redb";
/// Blobs written but not yet listed by an index file before one is written mid-run.
const FLUSH_AT: usize = 10_000;

/// Snapshots with their ids, oldest first.
pub type SnapshotList = Vec<(SnapshotId, Snapshot)>;

/// What a `put_*` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PutOutcome {
    pub id: BlobId,
    /// Whether this call stored a new object.
    pub added: bool,
    /// Bytes written into the repository (0 when linked or already present).
    pub stored_bytes: u64,
}

/// How many message files were linked into the repository, and how.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct LinkCounts {
    /// Copy-on-write clones: no bytes copied, an inode of their own.
    pub reflinked: u64,
    /// Hardlinks: the mail server's own inode (an in-place write reaches the backup).
    pub hardlinked: u64,
}

/// The blobs the index lists, when the catalog is held by another process.
type MemoryIndex = RwLock<HashMap<BlobId, Location>>;

/// A repository opened for reading and writing. `Send + Sync`: the `put_*` methods may be called
/// concurrently.
#[derive(Debug)]
pub struct Repository {
    path: PathBuf,
    tmp: PathBuf,
    backend: Arc<dyn Backend>,
    config: RepoConfig,
    catalog: Option<Catalog>,
    /// The index in memory, used when the catalog cannot be (another process holds it).
    memory: Option<MemoryIndex>,
    packer: Packer,
    /// One index file at a time.
    flushing: Mutex<()>,
    /// Blobs a thread is storing right now: another thread with the same content (a message
    /// delivered to several accounts) leaves it to that one instead of storing it twice.
    claims: Mutex<HashSet<BlobId>>,
    /// Index files that could not be read (named by `check`/`verify`; `repair index` fixes).
    index_problems: Vec<Error>,
    /// Packs the index lists that are not in the repository: their blobs count as absent.
    missing_packs: HashSet<crate::id::PackId>,
    /// Whether blobs that snapshots reference may have left the index (a pack is missing, an
    /// index file could not be read, or a repair dropped damaged blobs).
    may_miss: AtomicBool,
    /// The live index files written by `repair index` (they supersede others).
    repairs: BTreeSet<IndexId>,
    /// Every pack the index lists.
    index_packs: HashSet<crate::id::PackId>,
    /// Set after the first failed link: later files are copied without trying again.
    link_failed: AtomicBool,
    reflinked: AtomicU64,
    hardlinked: AtomicU64,
    lock_mode: LockMode,
    _lock: RepoLock,
    /// The local temp directory of a remote repository (open packs), removed on drop.
    _local_tmp: Option<tempfile::TempDir>,
    /// Recently read group bodies: the pages of one database file are read one after the
    /// other, and each is a member of the same few groups.
    groups: GroupCache,
    /// The keys of an encrypted repository.
    keys: Option<Arc<keys::Keys>>,
}

/// Decodes the pack entries of a repository: plainly, or opened with its keys.
pub(crate) struct Codec<'a> {
    keys: Option<&'a keys::Keys>,
}

impl pack::EntryCodec for Codec<'_> {
    fn decode_entry(&self, bytes: &[u8], id: &BlobId, path: &Path) -> Result<(BlobKind, Vec<u8>)> {
        let Some(keys) = self.keys else {
            return pack::decode_entry(bytes, id, path);
        };
        let (header, payload) = pack::split_entry(bytes, id, path)?;
        if header.compression != object::COMPRESSION_SEALED {
            return Err(Error::corrupt(
                path,
                format!("blob {id}: a plaintext entry in an encrypted repository"),
            ));
        }
        let inner = keys
            .open_blob(header.kind, id, payload)
            .map_err(|e| match e {
                Error::Key(what) => Error::corrupt(path, what),
                other => other,
            })?;
        let data = object::decode_inner(inner, header.raw_len, path)?;
        if keys.storage_id(&BlobId::hash(&data)) != *id {
            return Err(Error::corrupt(
                path,
                format!("blob {id}: content does not match its id"),
            ));
        }
        Ok((header.kind, data))
    }

    fn member_id(&self, content: &[u8]) -> BlobId {
        match self.keys {
            Some(k) => k.storage_id(&BlobId::hash(content)),
            None => BlobId::hash(content),
        }
    }
}

/// A group entry: its pack and offset.
type GroupKey = (crate::id::PackId, u64);

/// The last few group bodies read (verified against their id), by pack and offset.
#[derive(Debug, Default)]
struct GroupCache {
    recent: Mutex<std::collections::VecDeque<(GroupKey, Arc<Vec<u8>>)>>,
}

/// Group bodies kept (each at most 64 KiB of pages).
const GROUP_CACHE: usize = 64;

impl GroupCache {
    fn get(&self, pack: crate::id::PackId, offset: u64) -> Option<Arc<Vec<u8>>> {
        let recent = self.recent.lock().expect("group cache poisoned");
        recent
            .iter()
            .find(|(k, _)| *k == (pack, offset))
            .map(|(_, b)| b.clone())
    }

    fn put(&self, pack: crate::id::PackId, offset: u64, body: Vec<u8>) -> Arc<Vec<u8>> {
        let body = Arc::new(body);
        let mut recent = self.recent.lock().expect("group cache poisoned");
        if recent.len() >= GROUP_CACHE {
            recent.pop_front();
        }
        recent.push_back(((pack, offset), body.clone()));
        body
    }
}

/// `objects/ab/<hex>` for framed (format 1), `objects/ab/<hex>.r` for raw objects.
fn object_name(id: &BlobId, raw: bool) -> String {
    let hex = id.to_hex();
    let suffix = if raw { ".r" } else { "" };
    format!("objects/{}/{hex}{suffix}", &hex[..2])
}

fn snapshot_name(id: &SnapshotId) -> String {
    format!("snapshots/{}", id.to_hex())
}

fn index_name(id: &IndexId) -> String {
    format!("index/{}", id.to_hex())
}

pub(crate) fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

/// The directories of a new repository.
const DIRS: [&str; 7] = [
    "snapshots",
    "tmp",
    "objects",
    "packs",
    "index",
    "locks",
    "keys",
];

impl Repository {
    /// Creates a repository at `path` (missing or an empty directory).
    pub fn init(path: &Path) -> Result<Repository> {
        Repository::init_with(path, PackParams::default())
    }

    /// Creates a repository whose packs close at the given sizes.
    pub fn init_with(path: &Path, pack: PackParams) -> Result<Repository> {
        Repository::make_dirs(path)?;
        let backend = LocalBackend::new(path);
        // The config is written last: a directory with a config is a complete repository.
        let config = RepoConfig {
            pack,
            ..RepoConfig::new(path)
        };
        backend
            .put_new("config", &config.encode())
            .at(path.join("config"))?;
        Repository::open(path)
    }

    /// The directories of a new local repository (`path` missing or empty).
    fn make_dirs(path: &Path) -> Result<()> {
        if path.exists() {
            let mut rd = std::fs::read_dir(path).at(path)?;
            if rd.next().is_some() {
                return Err(Error::Invalid(format!(
                    "{}: directory is not empty; a repository needs a new or empty directory",
                    path.display()
                )));
            }
        }
        backend::create_private_dir(path).at(path)?;
        set_private(path)?;
        for dir in DIRS {
            let d = path.join(dir);
            backend::create_private_dir(&d).at(&d)?;
        }
        for b in 0..=255u8 {
            let d = path.join(format!("objects/{b:02x}"));
            backend::create_private_dir(&d).at(&d)?;
        }
        let backend = LocalBackend::new(path);
        backend.sync().at(path)
    }

    /// Opens an existing repository under a shared lock; loads new index files into the
    /// catalog (rebuilds it when missing, unreadable or stale).
    pub fn open(path: &Path) -> Result<Repository> {
        Repository::open_with(
            path,
            Arc::new(LocalBackend::new(path)),
            LockMode::Shared,
            Duration::ZERO,
            &Unlock::default(),
        )
    }

    /// Opens a repository under the lock of `mode`, waiting up to `wait` for another process
    /// to release it (then `Error::Locked`, naming the holder).
    pub fn open_waiting(path: &Path, mode: LockMode, wait: Duration) -> Result<Repository> {
        Repository::open_with(
            path,
            Arc::new(LocalBackend::new(path)),
            mode,
            wait,
            &Unlock::default(),
        )
    }

    /// Opens a repository under the exclusive lock (repair, migrate, forget, tag, prune).
    pub fn open_exclusive(path: &Path) -> Result<Repository> {
        Repository::open_with(
            path,
            Arc::new(LocalBackend::new(path)),
            LockMode::Exclusive,
            Duration::ZERO,
            &Unlock::default(),
        )
    }

    /// Opens a repository whose files are reached through `backend` (e.g. a fault-injecting
    /// wrapper); the catalog and the lock stay local files under `path`.
    pub fn open_with_backend(path: &Path, backend: Arc<dyn Backend>) -> Result<Repository> {
        Repository::open_with(
            path,
            backend,
            LockMode::Shared,
            Duration::ZERO,
            &Unlock::default(),
        )
    }

    /// [`Repository::open_with_backend`] under the exclusive lock (fault-injection tests of
    /// prune and repair).
    pub fn open_exclusive_with_backend(
        path: &Path,
        backend: Arc<dyn Backend>,
    ) -> Result<Repository> {
        Repository::open_with(
            path,
            backend,
            LockMode::Exclusive,
            Duration::ZERO,
            &Unlock::default(),
        )
    }

    /// Creates a repository in object storage (`s3://BUCKET/PREFIX`; the bucket must exist
    /// and hold nothing under the prefix).
    pub fn init_url(url: &str) -> Result<Repository> {
        let (shown, backend) = remote_backend(url)?;
        Repository::init_remote(&shown, backend, PackParams::default())
    }

    /// Creates an encrypted repository (a directory or an `s3://BUCKET/PREFIX` URL) whose
    /// master key is sealed with `password` (Argon2id), and opens it with that key.
    pub fn init_encrypted(spec: &str, password: &str) -> Result<Repository> {
        Repository::init_encrypted_with(spec, password, keys::default_kdf())
    }

    /// [`Repository::init_encrypted`] with a given Argon2id cost (tests use a small one).
    pub fn init_encrypted_with(
        spec: &str,
        password: &str,
        kdf: keys::Argon2Params,
    ) -> Result<Repository> {
        if password.is_empty() {
            return Err(Error::Key("the password is empty".into()));
        }
        let (shown, backend) = match S3Url::parse(spec) {
            Some(_) => remote_backend(spec)?,
            None => {
                let path = Path::new(spec);
                Repository::make_dirs(path)?;
                (
                    path.to_path_buf(),
                    Arc::new(LocalBackend::new(path)) as Arc<dyn Backend>,
                )
            }
        };
        if backend.local().is_none() {
            Repository::check_empty_remote(&shown, backend.as_ref())?;
        }
        let mut config = RepoConfig::new(&shown);
        let (secrets, params) = keys::generate(&config.id)?;
        config.version = config::REPO_VERSION_ENCRYPTED;
        config.encryption = Some(params);
        let slot = keys::KeyFile {
            repo: config.id,
            created_ns: now_ns(),
            host: lock::host(),
            label: "created with the repository".into(),
            body: keys::password_slot(&secrets, &config.id, password.as_bytes(), kdf)?,
        };
        let bytes = slot.encode();
        let name = format!("keys/{}", BlobId::hash(&bytes).to_hex());
        backend.put_new(&name, &bytes).at(shown.join(&name))?;
        // The config is written last: a directory with a config is a complete repository.
        backend
            .put_new("config", &config.encode())
            .at(shown.join("config"))?;
        Repository::open_with(
            &shown,
            backend,
            LockMode::Shared,
            Duration::ZERO,
            &Unlock::with_password(password),
        )
    }

    /// Creates a repository in a remote store reached through `backend`; `shown` names it in
    /// messages.
    pub fn init_remote(
        shown: &Path,
        backend: Arc<dyn Backend>,
        pack: PackParams,
    ) -> Result<Repository> {
        Repository::check_empty_remote(shown, backend.as_ref())?;
        let config = RepoConfig {
            pack,
            ..RepoConfig::new(shown)
        };
        backend
            .put_new("config", &config.encode())
            .at(shown.join("config"))?;
        Repository::open_with(
            shown,
            backend,
            LockMode::Shared,
            Duration::ZERO,
            &Unlock::default(),
        )
    }

    /// Refuses a remote prefix that already holds something.
    fn check_empty_remote(shown: &Path, backend: &dyn Backend) -> Result<()> {
        let taken: Vec<String> = ["config", "snapshots", "packs", "index", "keys"]
            .iter()
            .map(|d| backend.list(d).map(|l| (d, l)))
            .collect::<io::Result<Vec<_>>>()
            .at(shown)?
            .into_iter()
            .filter(|(_, l)| !l.is_empty())
            .map(|(d, _)| d.to_string())
            .collect();
        if !taken.is_empty() || matches!(backend.head("config"), Ok(Some(_))) {
            return Err(Error::Invalid(format!(
                "{}: not empty (it holds {}); a repository needs a new prefix",
                shown.display(),
                if taken.is_empty() {
                    "a config".to_string()
                } else {
                    taken.join(", ")
                }
            )));
        }
        Ok(())
    }

    /// Opens a repository given as a directory or an `s3://BUCKET/PREFIX` URL.
    pub fn open_spec(spec: &str, mode: LockMode, wait: Duration) -> Result<Repository> {
        Repository::open_spec_unlocked(spec, mode, wait, &Unlock::default())
    }

    /// [`Repository::open_waiting`] of a directory that may hold an encrypted repository.
    pub fn open_unlocked(
        path: &Path,
        mode: LockMode,
        wait: Duration,
        unlock: &Unlock,
    ) -> Result<Repository> {
        Repository::open_with(path, Arc::new(LocalBackend::new(path)), mode, wait, unlock)
    }

    /// [`Repository::open_spec`] of a repository that may be encrypted: `unlock` gives the key
    /// file or the password (asked for only when the repository is encrypted).
    pub fn open_spec_unlocked(
        spec: &str,
        mode: LockMode,
        wait: Duration,
        unlock: &Unlock,
    ) -> Result<Repository> {
        match S3Url::parse(spec) {
            Some(_) => {
                let (shown, backend) = remote_backend(spec)?;
                Repository::open_with(&shown, backend, mode, wait, unlock)
            }
            None => {
                let path = Path::new(spec);
                Repository::open_with(path, Arc::new(LocalBackend::new(path)), mode, wait, unlock)
            }
        }
    }

    /// Opens a repository in a remote store reached through `backend` (tests wrap one).
    pub fn open_remote(
        shown: &Path,
        backend: Arc<dyn Backend>,
        mode: LockMode,
    ) -> Result<Repository> {
        Repository::open_with(shown, backend, mode, Duration::ZERO, &Unlock::default())
    }

    /// [`Repository::open_remote`] of an encrypted repository.
    pub fn open_remote_unlocked(
        shown: &Path,
        backend: Arc<dyn Backend>,
        mode: LockMode,
        unlock: &Unlock,
    ) -> Result<Repository> {
        Repository::open_with(shown, backend, mode, Duration::ZERO, unlock)
    }

    /// Whether the repository is a local directory.
    pub fn is_local(&self) -> bool {
        self.backend.local().is_some()
    }

    /// Packs this handle published so far.
    pub fn packs_written(&self) -> u64 {
        self.packer.published()
    }

    /// Requests and bytes of a remote repository's store so far.
    pub fn transfer(&self) -> Option<TransferStats> {
        self.backend.transfer()
    }

    fn open_with(
        path: &Path,
        backend: Arc<dyn Backend>,
        mode: LockMode,
        wait: Duration,
        unlock: &Unlock,
    ) -> Result<Repository> {
        let config_path = path.join("config");
        let bytes = match backend.get("config") {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::Invalid(format!(
                    "{}: not a mailvault repository (it has no config file); create one with \
                     `mailvault init {}`, or give the path of an existing repository",
                    path.display(),
                    path.display()
                )));
            }
            Err(e) if e.kind() == io::ErrorKind::IsADirectory => {
                return Err(Error::Invalid(format!(
                    "{}: not a mailvault repository ({} is a directory)",
                    path.display(),
                    config_path.display()
                )));
            }
            Err(e) => return Err(Error::io(config_path, e)),
        };
        let config = RepoConfig::decode(&bytes, &config_path)?;
        let keys = match &config.encryption {
            Some(params) => Some(Arc::new(keys::unlock(
                backend.as_ref(),
                path,
                &config.id,
                params,
                unlock,
            )?)),
            None => None,
        };
        let remote = backend.local().is_none();
        let local_tmp = match remote {
            true => Some(
                tempfile::Builder::new()
                    .prefix("mailvault-")
                    .tempdir()
                    .map_err(|e| Error::io(std::env::temp_dir(), e))?,
            ),
            false => None,
        };
        let tmp = match &local_tmp {
            Some(t) => t.path().to_path_buf(),
            None => path.join("tmp"),
        };
        let deadline = std::time::Instant::now() + wait;
        let lock = loop {
            let taken = match remote {
                true => RepoLock::acquire_remote(backend.clone(), path, mode, "mailvault"),
                false => RepoLock::acquire(path, mode, "mailvault", &|| clean_tmp(&tmp)),
            };
            match taken {
                Err(Error::Locked(_)) if std::time::Instant::now() < deadline => {
                    // A remote try costs requests: less often.
                    let pause = if remote { 2000 } else { 200 };
                    std::thread::sleep(Duration::from_millis(pause));
                }
                other => break other?,
            }
        };
        // A remote repository keeps its index in memory (no local cache of it yet).
        let catalog = match remote {
            true => None,
            false => {
                let catalog_path = path.join(CATALOG_FILE);
                // redb's full integrity check reads the whole catalog (the largest part of
                // opening a big repository); it runs under the exclusive lock (repair,
                // migrate). Other opens rely on redb's own crash safety: every blob read is
                // verified against its id anyway.
                match Catalog::open(&catalog_path, mode == LockMode::Exclusive) {
                    Opened::Ready { catalog, fresh } => Some((catalog, fresh)),
                    Opened::Busy => None,
                }
            }
        };
        let mut repo = Repository {
            path: path.to_path_buf(),
            packer: Packer::new(config.pack, &tmp),
            tmp,
            backend,
            config,
            catalog: None,
            memory: None,
            flushing: Mutex::new(()),
            claims: Mutex::new(HashSet::new()),
            index_problems: Vec::new(),
            missing_packs: HashSet::new(),
            may_miss: AtomicBool::new(false),
            repairs: BTreeSet::new(),
            index_packs: HashSet::new(),
            link_failed: AtomicBool::new(false),
            reflinked: AtomicU64::new(0),
            hardlinked: AtomicU64::new(0),
            lock_mode: mode,
            _lock: lock,
            _local_tmp: local_tmp,
            groups: GroupCache::default(),
            keys,
        };
        repo.load_index(catalog)?;
        repo.check_packs()?;
        Ok(repo)
    }

    /// Lists `packs/` and notes the packs the index names that are not there (one listing,
    /// no reads): their blobs count as absent, so the next backup stores that content again.
    fn check_packs(&mut self) -> Result<()> {
        let present: HashSet<crate::id::PackId> = self
            .backend
            .list("packs")
            .at(self.path.join("packs"))?
            .iter()
            .filter_map(|n| n.parse().ok())
            .collect();
        self.missing_packs = self.index_packs.difference(&present).copied().collect();
        let checked = self
            .catalog
            .as_ref()
            .is_some_and(|c| c.repair_checked(&self.repairs));
        let lost = !self.missing_packs.is_empty()
            || !self.index_problems.is_empty()
            || (!self.repairs.is_empty() && !checked);
        self.may_miss.store(lost, Ordering::Relaxed);
        Ok(())
    }

    /// Whether blobs that earlier snapshots reference may be gone from the index: a pack it
    /// names is missing, an index file is unreadable, or `repair index` dropped damaged blobs
    /// and no backup has checked its parent since. A backup then checks every blob it reuses.
    pub fn blobs_may_be_missing(&self) -> bool {
        self.may_miss.load(Ordering::Relaxed)
    }

    /// A backup checked every blob it reused against the current index: later runs need not
    /// (until the next repair). Recorded in the catalog, a cache: losing it only means one
    /// more check.
    pub fn mark_blobs_checked(&self) {
        if !self.blobs_may_be_missing() || !self.missing_packs.is_empty() {
            return;
        }
        if !self.index_problems.is_empty() {
            return;
        }
        if let Some(cat) = &self.catalog
            && cat.set_repair_checked(&self.repairs).is_ok()
        {
            self.may_miss.store(false, Ordering::Relaxed);
        }
    }

    /// Reads the index files the catalog has not absorbed (all of them when it is fresh, a file
    /// it absorbed is gone, or a new one supersedes others), or builds the index in memory when
    /// the catalog is held by another process.
    fn load_index(&mut self, catalog: Option<(Catalog, bool)>) -> Result<()> {
        let on_disk = self.index_ids_on_disk()?;
        let Some((cat, fresh)) = catalog else {
            let (files, problems) = self.read_index_files(&on_disk);
            self.index_problems = problems;
            let mut map = HashMap::new();
            let (packs, repairs) = summarize(live_files(&files));
            for (_, file) in live_files(&files) {
                add_locations(&mut map, file);
            }
            self.memory = Some(RwLock::new(map));
            self.index_packs = packs.into_iter().map(|(id, _)| id).collect();
            self.repairs = repairs;
            return Ok(());
        };
        let absorbed = cat.index_ids().unwrap_or_default();
        let new: BTreeSet<IndexId> = on_disk.difference(&absorbed).copied().collect();
        let incremental = !fresh && absorbed.is_subset(&on_disk);
        let (files, problems) = if incremental {
            self.read_index_files(&new)
        } else {
            self.read_index_files(&on_disk)
        };
        self.index_problems = problems;
        let supersedes = files.iter().any(|(_, f)| !f.supersedes.is_empty());
        let result = if incremental && !supersedes {
            let mut map = HashMap::new();
            for (_, f) in &files {
                add_locations(&mut map, f);
            }
            let rows: Vec<(BlobId, Location)> = map.into_iter().collect();
            let (packs, _) = summarize(files.iter().map(|(id, f)| (id, f)));
            let ids: Vec<(IndexId, bool)> = files.iter().map(|(id, _)| (*id, false)).collect();
            cat.record(&rows, &ids, &packs)
        } else {
            let (files, problems) = if incremental {
                self.read_index_files(&on_disk)
            } else {
                (files, Vec::new())
            };
            self.index_problems.extend(problems);
            let mut map = HashMap::new();
            for (_, f) in live_files(&files) {
                add_locations(&mut map, f);
            }
            let rows: Vec<(BlobId, Location)> = map.into_iter().collect();
            let (packs, repairs) = summarize(live_files(&files));
            let ids: Vec<(IndexId, bool)> = files
                .iter()
                .map(|(id, _)| (*id, repairs.contains(id)))
                .collect();
            cat.replace_all(&rows, &ids, &packs)
        };
        if result.is_err() {
            // A catalog that cannot be brought up to date is not used: the index goes to
            // memory instead.
            return self.load_index(None);
        }
        self.index_packs = cat.pack_ids().unwrap_or_default();
        self.repairs = cat.repair_ids().unwrap_or_default();
        self.catalog = Some(cat);
        Ok(())
    }

    /// The index files in `index/`.
    pub(crate) fn index_ids_on_disk(&self) -> Result<BTreeSet<IndexId>> {
        Ok(self
            .backend
            .list("index")
            .at(self.path.join("index"))?
            .iter()
            .filter_map(|n| n.parse().ok())
            .collect())
    }

    /// Reads and decodes index files; those that cannot be read are returned as errors.
    fn read_index_files(&self, ids: &BTreeSet<IndexId>) -> (Vec<(IndexId, IndexFile)>, Vec<Error>) {
        let mut files = Vec::new();
        let mut problems = Vec::new();
        for id in ids {
            let name = index_name(id);
            let path = self.path.join(&name);
            let read = self.backend.get(&name).at(&path).and_then(|bytes| {
                if IndexId::hash(&bytes) != *id {
                    return Err(Error::corrupt(&path, "index file does not match its name"));
                }
                self.decode_index(&bytes, &path)
            });
            match read {
                Ok(f) => files.push((*id, f)),
                Err(e) => problems.push(e),
            }
        }
        (files, problems)
    }

    /// Index files that could not be read when the repository was opened.
    pub fn index_problems(&self) -> &[Error] {
        &self.index_problems
    }

    /// The repository directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `REPO/tmp`: on the repository's filesystem, for callers' own staging files (private,
    /// and removed by the next run that finds the repository otherwise unused).
    pub fn tmp_dir(&self) -> &Path {
        &self.tmp
    }

    /// The repository config.
    pub fn config(&self) -> &RepoConfig {
        &self.config
    }

    /// Whether the repository uses the catalog (false when another process holds it).
    pub fn has_catalog(&self) -> bool {
        self.catalog.is_some()
    }

    /// Whether the repository is encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.keys.is_some()
    }

    /// Whether snapshots and blobs can be read: always for a plaintext repository; for an
    /// encrypted one only with the master key (a put-only key adds backups, reads nothing).
    pub fn can_read(&self) -> bool {
        self.keys.as_ref().is_none_or(|k| k.can_read())
    }

    /// Fails with `Error::PutOnly` naming `what` unless the repository can be read.
    pub fn ensure_readable(&self, what: &str) -> Result<()> {
        match self.can_read() {
            true => Ok(()),
            false => Err(Error::PutOnly(format!("{}: {what}", self.path.display()))),
        }
    }

    /// The id under which the blob of content id `id` is stored: `id` itself, or in an
    /// encrypted repository its keyed BLAKE3.
    pub fn storage_id(&self, id: &BlobId) -> BlobId {
        match &self.keys {
            Some(k) => k.storage_id(id),
            None => *id,
        }
    }

    /// How this repository's pack entries are decoded.
    pub(crate) fn codec(&self) -> Codec<'_> {
        Codec {
            keys: self.keys.as_deref(),
        }
    }

    /// The entry of a blob (content `data`, stored under `sid`): framed, or sealed.
    fn encode_entry(&self, sid: &BlobId, kind: BlobKind, data: &[u8]) -> Result<Vec<u8>> {
        match &self.keys {
            None => Ok(pack::encode_entry(sid, kind, data)),
            Some(k) => {
                // One buffer: id, header, envelope (sealed in place); the header is filled in
                // once the envelope's length is known.
                let (compression, packed) = object::compressed(data);
                let payload = packed.as_deref().unwrap_or(data);
                let head = pack::ENTRY_ID_LEN + object::HEADER_LEN;
                let mut out = Vec::with_capacity(head + keys::SEALED_OVERHEAD + 1 + payload.len());
                out.extend_from_slice(&sid.0);
                out.resize(head, 0);
                k.seal_blob_into(kind, sid, &[&[compression], payload], &mut out)?;
                let stored = (out.len() - head) as u64;
                out[pack::ENTRY_ID_LEN..head].copy_from_slice(&object::sealed_header(
                    kind,
                    data.len() as u64,
                    stored,
                ));
                Ok(out)
            }
        }
    }

    /// The bytes of an index file: plain, or sealed with the index key.
    pub(crate) fn encode_index(&self, file: &IndexFile) -> Result<Vec<u8>> {
        match &self.keys {
            None => Ok(file.encode()),
            Some(k) => Ok(keys::wrap_file(
                keys::SEALED_INDEX_MAGIC,
                &k.seal_index(&file.encode())?,
            )),
        }
    }

    /// Decodes an index file (opened with the index key in an encrypted repository).
    pub(crate) fn decode_index(&self, bytes: &[u8], path: &Path) -> Result<IndexFile> {
        match &self.keys {
            None => IndexFile::decode(bytes, path),
            Some(k) => {
                let envelope = keys::unwrap_file(bytes, keys::SEALED_INDEX_MAGIC, path)?;
                let plain = k.open_index(envelope).ok_or_else(|| {
                    Error::corrupt(
                        path,
                        "index file fails authentication (damaged, or not written with this \
                         repository's key)",
                    )
                })?;
                IndexFile::decode(&plain, path)
            }
        }
    }

    /// The keys of an encrypted repository.
    pub(crate) fn keys(&self) -> Option<&keys::Keys> {
        self.keys.as_deref()
    }

    /// The backend (key management writes key files through it).
    pub(crate) fn backend(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    /// Fails with a clear message when the repository is of a format this build only reads.
    pub fn ensure_writable(&self) -> Result<()> {
        if self.config.is_legacy() {
            return Err(Error::Invalid(format!(
                "{}: repository format {} is read-only for this version of mailvault; run \
                 `mailvault migrate` once to convert it to format {}",
                self.path.display(),
                self.config.version,
                config::REPO_VERSION
            )));
        }
        Ok(())
    }

    /// Where a blob lives, if the repository has it.
    fn locate(&self, id: &BlobId) -> Option<Location> {
        let id = &self.storage_id(id);
        match self.packer.lookup(id) {
            Some(Unindexed::Done(loc)) => return Some(loc),
            Some(Unindexed::Open { len, kind, .. }) => {
                return Some(Location {
                    kind,
                    place: Place::Packed {
                        pack: crate::id::PackId([0; 32]),
                        offset: 0,
                    },
                    len,
                });
            }
            None => {}
        }
        let found = match (&self.catalog, &self.memory) {
            (Some(cat), _) => cat.get(id),
            (None, Some(mem)) => mem.read().expect("index poisoned").get(id).copied(),
            (None, None) => None,
        };
        if let Some(loc) = found {
            return match loc.place {
                // A pack missing at open may have been written again since (same content).
                Place::Packed { pack, .. } | Place::Member { pack, .. }
                    if self.missing_packs.contains(&pack)
                        && !matches!(self.backend.head(&packer::pack_name(&pack)), Ok(Some(_))) =>
                {
                    None
                }
                // A raw object is a file of its own, which may have been removed: one stat.
                Place::Raw => match self.backend.head(&object_name(id, true)) {
                    Ok(Some(size)) if size == loc.len => Some(loc),
                    _ => None,
                },
                _ => Some(loc),
            };
        }
        if self.config.is_legacy() {
            return self.locate_legacy(id);
        }
        None
    }

    /// A format 1 repository has no index: its objects are files of their own.
    fn locate_legacy(&self, id: &BlobId) -> Option<Location> {
        for raw in [false, true] {
            let name = object_name(id, raw);
            if let Ok(Some(size)) = self.backend.head(&name) {
                let kind = if raw {
                    BlobKind::Data
                } else {
                    self.backend
                        .get_range(&name, 0, object::HEADER_LEN)
                        .ok()
                        .and_then(|h| object::Header::decode(&h, Path::new(&name)).ok())
                        .map(|h| h.kind)?
                };
                let place = if raw { Place::Raw } else { Place::Framed };
                return Some(Location {
                    kind,
                    place,
                    len: size,
                });
            }
        }
        None
    }

    /// Whether the blob is stored (listed by a durable index, or written by this process).
    pub fn has_blob(&self, id: &BlobId) -> bool {
        self.locate(id).is_some()
    }

    /// What the repository knows about a stored blob.
    pub fn blob_info(&self, id: &BlobId) -> Option<BlobInfo> {
        self.locate(id).map(|l| l.info())
    }

    /// The file that holds a blob (its pack or object), for messages naming it.
    pub fn blob_path(&self, id: &BlobId) -> PathBuf {
        if let Some(Unindexed::Open { tmp, .. }) = self.packer.lookup(&self.storage_id(id)) {
            return tmp.to_path_buf();
        }
        match self.locate(id).map(|l| l.place) {
            Some(Place::Packed { pack, .. } | Place::Member { pack, .. }) => {
                self.path.join(packer::pack_name(&pack))
            }
            Some(Place::Raw) => self.path.join(object_name(id, true)),
            _ => self.path.join(object_name(id, false)),
        }
    }

    /// The file that holds a blob and the byte range of its entry there (a pack entry: id,
    /// object header, payload; for a member of a group, the whole group entry; a raw object:
    /// the whole file). For diagnostics, and for tests that damage a blob on purpose.
    pub fn blob_entry(&self, id: &BlobId) -> Option<(PathBuf, u64, u64)> {
        if let Some(Unindexed::Open {
            tmp, offset, len, ..
        }) = self.packer.lookup(&self.storage_id(id))
        {
            return Some((tmp.to_path_buf(), offset, len));
        }
        let loc = self.locate(id)?;
        let path = self.blob_path(id);
        match loc.place {
            Place::Packed { offset, .. } | Place::Member { offset, .. } => {
                Some((path, offset, loc.len))
            }
            Place::Raw | Place::Framed => Some((path, 0, loc.len)),
        }
    }

    /// Whether the raw object of `id` no longer looks like the file it was linked from: a
    /// hardlink (the live file's own inode) whose size or mtime moved, or a reflink whose size
    /// did. One stat; false for blobs that are not raw objects.
    pub fn raw_object_changed(&self, id: &BlobId, size: u64, mtime_ns: i64) -> bool {
        use std::os::unix::fs::MetadataExt;
        let Some(path) = self.raw_object_path(id) else {
            return false;
        };
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            return false;
        };
        let mtime = i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec());
        meta.len() != size || (meta.nlink() > 1 && mtime != i128::from(mtime_ns))
    }

    /// A local file holding exactly the blob's bytes, when it is a raw object (for restores
    /// that link instead of copying). The file is shared: callers must not change it.
    pub fn raw_object_path(&self, id: &BlobId) -> Option<PathBuf> {
        match self.locate(id)?.place {
            Place::Raw => {
                let local = self.backend.local()?;
                Some(local.root().join(object_name(id, true)))
            }
            _ => None,
        }
    }

    fn after_write(&self) -> Result<()> {
        if self.packer.unindexed() >= FLUSH_AT {
            self.flush()?;
        } else if !self.is_local() && self.packer.has_published() {
            // On a remote store every published pack is indexed at once: an interrupted run
            // (say, replication) resumes without sending it again.
            self.index_published()?;
        }
        Ok(())
    }

    /// Writes an index file of the packs published so far (open packs stay open).
    fn index_published(&self) -> Result<()> {
        let _one = self.flushing.lock().expect("flush poisoned");
        let batch = self.packer.take_unindexed();
        if batch.is_empty() {
            return Ok(());
        }
        self.write_index(&batch)
    }

    /// Makes every blob written so far durable and lists it in a new index file.
    pub fn flush(&self) -> Result<()> {
        let _one = self.flushing.lock().expect("flush poisoned");
        self.packer.finish_open(self.backend.as_ref())?;
        let batch = self.packer.take_unindexed();
        if batch.is_empty() {
            return Ok(());
        }
        if !batch.loose.is_empty()
            && let Some(local) = self.backend.local()
        {
            // Links are published without fsync: one syncfs makes them all durable.
            local.sync().at(&self.path)?;
        }
        self.write_index(&batch)
    }

    /// Writes the index file of `batch` and records it (the caller holds `flushing`).
    fn write_index(&self, batch: &packer::Batch) -> Result<()> {
        let file = IndexFile {
            supersedes: Vec::new(),
            packs: batch.packs.clone(),
            loose: batch.loose.clone(),
        };
        let bytes = self.encode_index(&file)?;
        let id = IndexId::hash(&bytes);
        let name = index_name(&id);
        match self.backend.put_new(&name, &bytes) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io(self.path.join(&name), e)),
        }
        let rows = batch.locations();
        if let Some(cat) = &self.catalog {
            // The catalog is a cache: if this fails, the index file is new to it and the next
            // open loads it.
            let packs: Vec<(crate::id::PackId, u64)> =
                batch.packs.iter().map(|p| (p.id, p.size)).collect();
            let _ = cat.record(&rows, &[(id, false)], &packs);
        }
        if let Some(mem) = &self.memory {
            mem.write().expect("index poisoned").extend(rows);
        }
        self.packer.indexed(batch);
        Ok(())
    }

    /// Claims `id` for this thread; false when it is stored or another thread is storing it.
    fn claim(&self, id: &BlobId) -> bool {
        !self.has_blob(id) && self.claims.lock().expect("claims poisoned").insert(*id)
    }

    fn release(&self, id: &BlobId) {
        self.claims.lock().expect("claims poisoned").remove(id);
    }

    /// Stores bytes as a framed blob in a pack (zstd if it shrinks). Idempotent; with several
    /// threads storing the same content, one stores it.
    pub fn put_blob(&self, kind: BlobKind, data: &[u8]) -> Result<PutOutcome> {
        let id = BlobId::hash(data);
        if !self.claim(&id) {
            return Ok(PutOutcome {
                id,
                added: false,
                stored_bytes: 0,
            });
        }
        let result = self.put_claimed(id, kind, data);
        self.release(&id);
        result
    }

    fn put_claimed(&self, id: BlobId, kind: BlobKind, data: &[u8]) -> Result<PutOutcome> {
        self.ensure_writable()?;
        if data.len() as u64 > object::MAX_RAW_LEN {
            return Err(Error::Invalid(format!(
                "a blob of {} bytes is larger than a repository holds ({} bytes)",
                data.len(),
                object::MAX_RAW_LEN
            )));
        }
        let sid = self.storage_id(&id);
        let entry = self.encode_entry(&sid, kind, data)?;
        self.packer
            .append(self.backend.as_ref(), sid, kind, data.len() as u64, &entry)?;
        self.after_write()?;
        Ok(PutOutcome {
            id,
            added: true,
            stored_bytes: entry.len() as u64,
        })
    }

    /// Stores several small data blobs (consecutive pages of one file) as one group entry
    /// compressed together, each still a blob of its own; those already stored are skipped, and
    /// a single new one is stored alone. Returns one outcome per blob, in order.
    pub fn put_group(&self, blobs: &[&[u8]]) -> Result<Vec<PutOutcome>> {
        let ids: Vec<BlobId> = blobs.iter().map(|b| BlobId::hash(b)).collect();
        let mut out: Vec<PutOutcome> = ids
            .iter()
            .map(|id| PutOutcome {
                id: *id,
                added: false,
                stored_bytes: 0,
            })
            .collect();
        let mut seen = HashSet::new();
        let new: Vec<usize> = (0..blobs.len())
            .filter(|&i| seen.insert(ids[i]) && self.claim(&ids[i]))
            .collect();
        let result = self.put_group_claimed(blobs, &ids, &new, &mut out);
        for &i in &new {
            self.release(&ids[i]);
        }
        result?;
        Ok(out)
    }

    fn put_group_claimed(
        &self,
        blobs: &[&[u8]],
        ids: &[BlobId],
        new: &[usize],
        out: &mut [PutOutcome],
    ) -> Result<()> {
        if new.len() < 2 || new.len() > pack::GROUP_MAX_MEMBERS {
            for &i in new {
                out[i] = self.put_claimed(ids[i], BlobKind::Data, blobs[i])?;
            }
            return Ok(());
        }
        self.ensure_writable()?;
        let members: Vec<&[u8]> = new.iter().map(|&i| blobs[i]).collect();
        let body = pack::encode_group(&members);
        let group_id = self.storage_id(&BlobId::hash(&body));
        let entry = self.encode_entry(&group_id, BlobKind::Group, &body)?;
        let spans = pack::group_members(&body, &self.path)?;
        let entry_blobs: Vec<packer::EntryBlob> = new
            .iter()
            .zip(&spans)
            .map(|(&i, &span)| {
                let sid = self.storage_id(&ids[i]);
                (sid, BlobKind::Data, blobs[i].len() as u64, Some(span))
            })
            .collect();
        self.packer
            .append_entry(self.backend.as_ref(), BlobKind::Group, &entry, &entry_blobs)?;
        // The entry's bytes are shared by its members: counted once, on the first.
        for (k, &i) in new.iter().enumerate() {
            out[i] = PutOutcome {
                id: ids[i],
                added: true,
                stored_bytes: if k == 0 { entry.len() as u64 } else { 0 },
            };
        }
        self.after_write()
    }

    /// Stores the content of an immutable file whose BLAKE3 id the caller already computed:
    /// links it as a raw object when `link` is true and the repository is a local directory
    /// that shares the filesystem (a reflink where the filesystem can, a hardlink otherwise;
    /// falls back to copying, with one Warning event the first time), otherwise copies it into
    /// a pack. Does nothing when the blob exists.
    pub fn put_file(
        &self,
        path: &Path,
        id: BlobId,
        link: bool,
        progress: &dyn Progress,
    ) -> Result<PutOutcome> {
        if !self.claim(&id) {
            return Ok(PutOutcome {
                id,
                added: false,
                stored_bytes: 0,
            });
        }
        let result = self.put_file_claimed(path, id, link, progress);
        self.release(&id);
        result
    }

    fn put_file_claimed(
        &self,
        path: &Path,
        id: BlobId,
        link: bool,
        progress: &dyn Progress,
    ) -> Result<PutOutcome> {
        self.ensure_writable()?;
        if link
            && self.keys.is_none()
            && !self.link_failed.load(Ordering::Relaxed)
            && let Some(local) = self.backend.local()
        {
            let name = object_name(&id, true);
            match local.link(path, &name, true) {
                Ok(kind) => {
                    let size = std::fs::symlink_metadata(path).at(path)?.len();
                    match kind {
                        LinkKind::Reflink => self.reflinked.fetch_add(1, Ordering::Relaxed),
                        LinkKind::Hardlink => self.hardlinked.fetch_add(1, Ordering::Relaxed),
                    };
                    self.packer.add_loose(id, size);
                    self.after_write()?;
                    return Ok(PutOutcome {
                        id,
                        added: true,
                        stored_bytes: 0,
                    });
                }
                Err(e) => {
                    if !self.link_failed.swap(true, Ordering::Relaxed) {
                        progress.event(Event::Warning {
                            path: Some(path.to_path_buf()),
                            message: format!(
                                "cannot link into the repository ({e}); copying files instead"
                            ),
                        });
                    }
                }
            }
        }
        let data = std::fs::read(path).at(path)?;
        let got = BlobId::hash(&data);
        if got != id {
            return Err(Error::corrupt(
                path,
                format!("content hashes to {got}, expected {id} (file changed?)"),
            ));
        }
        self.put_claimed(id, BlobKind::Data, &data)
    }

    /// False once linking into the repository has failed (another filesystem) or the
    /// repository is not a local directory: callers that hold a file's bytes already store
    /// them with [`Repository::put_blob`] instead.
    pub fn can_link(&self) -> bool {
        !self.link_failed.load(Ordering::Relaxed)
            && self.backend.local().is_some()
            && self.keys.is_none()
    }

    /// How many files this process linked into the repository, by kind.
    pub fn link_counts(&self) -> LinkCounts {
        LinkCounts {
            reflinked: self.reflinked.load(Ordering::Relaxed),
            hardlinked: self.hardlinked.load(Ordering::Relaxed),
        }
    }

    /// Reads a blob and verifies its hash; damage is `Error::Corrupt` naming the pack or
    /// object file (and the blob). Reading never changes the repository: damage is reported,
    /// and `repair index` acts on it.
    pub fn get_blob(&self, id: &BlobId) -> Result<Vec<u8>> {
        use pack::EntryCodec;
        self.ensure_readable("reading backed-up content")?;
        let sid = self.storage_id(id);
        // A blob in a pack still being written may move to its published pack meanwhile.
        for _ in 0..3 {
            if let Some(Unindexed::Open {
                tmp,
                offset,
                len,
                member,
                ..
            }) = self.packer.lookup(&sid)
            {
                match read_range(tmp.as_path(), offset, len) {
                    Ok(bytes) => {
                        return match member {
                            Some((start, mlen)) => {
                                self.decode_member(&bytes, id, start, mlen, &tmp)
                            }
                            None => self
                                .codec()
                                .decode_entry(&bytes, &sid, &tmp)
                                .map(|(_, d)| d),
                        };
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(Error::io(tmp.as_path(), e)),
                }
            }
            break;
        }
        let Some(loc) = self.locate(id) else {
            return Err(Error::MissingBlob { id: *id });
        };
        self.read_at(id, &loc)
    }

    /// Reads several blobs, in order. From a remote store, entries that lie close together
    /// in the same pack are fetched with one ranged GET (spans of up to 2 MiB, gaps of up to
    /// 64 KiB), the spans in parallel; locally this is [`Repository::get_blob`] for each.
    pub fn get_blobs(&self, ids: &[BlobId]) -> Vec<Result<Vec<u8>>> {
        use rayon::prelude::*;
        if self.is_local() || ids.len() < 2 {
            return ids.iter().map(|id| self.get_blob(id)).collect();
        }
        const GAP: u64 = 64 << 10;
        const SPAN: u64 = 2 << 20;
        // (pack, offset, len, index) of every plain packed entry; the rest is read alone.
        let mut packed = Vec::new();
        let mut alone = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            match (self.packer.lookup(id), self.locate(id)) {
                (
                    None,
                    Some(Location {
                        place: Place::Packed { pack, offset },
                        len,
                        ..
                    }),
                ) => packed.push((pack, offset, len, i)),
                _ => alone.push(i),
            }
        }
        packed.sort();
        // (pack, start, end, entries as (offset, length, index in ids))
        type Span = (crate::id::PackId, u64, u64, Vec<(u64, u64, usize)>);
        let mut spans: Vec<Span> = Vec::new();
        for (pack, offset, len, i) in packed {
            if let Some(last) = spans.last_mut()
                && last.0 == pack
                && offset >= last.1
                && offset <= last.2.saturating_add(GAP)
                && offset.saturating_add(len) - last.1 <= SPAN
            {
                last.2 = last.2.max(offset + len);
                last.3.push((offset, len, i));
                continue;
            }
            spans.push((
                pack,
                offset,
                offset.saturating_add(len),
                vec![(offset, len, i)],
            ));
        }
        let mut out: Vec<Option<Result<Vec<u8>>>> = (0..ids.len()).map(|_| None).collect();
        let fetched: Vec<Vec<(usize, Result<Vec<u8>>)>> = spans
            .par_iter()
            .map(|(pack, start, end, items)| {
                let name = packer::pack_name(pack);
                let path = self.path.join(&name);
                let bytes = usize::try_from(end - start)
                    .map_err(|_| Error::corrupt(&path, "span too long"))
                    .and_then(|n| self.backend.get_range(&name, *start, n).at(&path));
                items
                    .iter()
                    .map(|&(offset, len, i)| {
                        let from = (offset - start) as usize;
                        let one = match &bytes {
                            Ok(b) => match b.get(from..from + len as usize) {
                                Some(entry) => {
                                    use pack::EntryCodec;
                                    self.codec()
                                        .decode_entry(entry, &self.storage_id(&ids[i]), &path)
                                        .map(|(_, d)| d)
                                }
                                // Cut short: read it alone (names the damage precisely).
                                None => self.get_blob(&ids[i]),
                            },
                            Err(_) => self.get_blob(&ids[i]),
                        };
                        (i, one)
                    })
                    .collect()
            })
            .collect();
        for (i, r) in fetched.into_iter().flatten() {
            out[i] = Some(r);
        }
        let rest: Vec<(usize, Result<Vec<u8>>)> = alone
            .par_iter()
            .map(|&i| (i, self.get_blob(&ids[i])))
            .collect();
        for (i, r) in rest {
            out[i] = Some(r);
        }
        out.into_iter()
            .map(|r| r.expect("every blob read"))
            .collect()
    }

    /// The member `id` (plain content id) of the group entry in `bytes`.
    fn decode_member(
        &self,
        bytes: &[u8],
        id: &BlobId,
        start: u64,
        len: u64,
        path: &Path,
    ) -> Result<Vec<u8>> {
        use pack::EntryCodec;
        let group = pack::entry_id(bytes, path)?;
        let (kind, body) = self.codec().decode_entry(bytes, &group, path)?;
        if kind != BlobKind::Group {
            return Err(Error::corrupt(
                path,
                format!("blob {id}: not in a group entry"),
            ));
        }
        pack::member_of(&body, id, start, len, path)
    }

    fn read_at(&self, id: &BlobId, loc: &Location) -> Result<Vec<u8>> {
        use pack::EntryCodec;
        match loc.place {
            Place::Packed { pack, offset } => {
                let sid = self.storage_id(id);
                let (bytes, path) = self.read_entry(id, pack, offset, loc.len)?;
                self.codec()
                    .decode_entry(&bytes, &sid, &path)
                    .map(|(_, d)| d)
            }
            Place::Member {
                pack,
                offset,
                start,
                len,
            } => {
                let path = self.path.join(packer::pack_name(&pack));
                let body = match self.groups.get(pack, offset) {
                    Some(body) => body,
                    None => {
                        let (bytes, path) = self.read_entry(id, pack, offset, loc.len)?;
                        let group = pack::entry_id(&bytes, &path)?;
                        let (kind, body) = self.codec().decode_entry(&bytes, &group, &path)?;
                        if kind != BlobKind::Group {
                            return Err(Error::corrupt(
                                &path,
                                format!("blob {id}: not in a group entry"),
                            ));
                        }
                        self.groups.put(pack, offset, body)
                    }
                };
                pack::member_of(&body, id, u64::from(start), u64::from(len), &path)
            }
            Place::Framed => {
                let name = object_name(id, false);
                let path = self.path.join(&name);
                let bytes = self.get_file(&name, id)?;
                let (_, data) = object::decode(&bytes, &path)?;
                if BlobId::hash(&data) != *id {
                    return Err(Error::corrupt(path, "content does not match its id"));
                }
                Ok(data)
            }
            Place::Raw => {
                let name = object_name(id, true);
                let path = self.path.join(&name);
                let data = self.get_file(&name, id)?;
                if BlobId::hash(&data) != *id {
                    let shared = std::fs::symlink_metadata(&path)
                        .map(|m| std::os::unix::fs::MetadataExt::nlink(&m) > 1)
                        .unwrap_or(false);
                    let what = if shared {
                        "changed in place since the backup (a hardlinked object shares the \
                         mail server's file): content does not match its id"
                    } else {
                        "content does not match its id"
                    };
                    return Err(Error::corrupt(path, what));
                }
                Ok(data)
            }
        }
    }

    /// The bytes of the pack entry at `offset` (`len` bytes) that holds blob `id`.
    fn read_entry(
        &self,
        id: &BlobId,
        pack: crate::id::PackId,
        offset: u64,
        len: u64,
    ) -> Result<(Vec<u8>, PathBuf)> {
        let name = packer::pack_name(&pack);
        let path = self.path.join(&name);
        let len = usize::try_from(len)
            .ok()
            .filter(|l| *l as u64 <= object::MAX_RAW_LEN * 2)
            .ok_or_else(|| Error::corrupt(&path, format!("blob {id}: bad length")))?;
        match self.backend.get_range(&name, offset, len) {
            Ok(b) => Ok((b, path)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Error::corrupt(
                &path,
                format!("blob {id}: its pack is missing"),
            )),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    fn get_file(&self, name: &str, id: &BlobId) -> Result<Vec<u8>> {
        match self.backend.get(name) {
            Ok(b) => Ok(b),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Error::MissingBlob { id: *id }),
            Err(e) => Err(Error::io(self.path.join(name), e)),
        }
    }

    /// Commits a snapshot: publishes every open pack, writes the index file of everything
    /// written (after making links durable), then the snapshot file. The snapshot file is the
    /// commit point.
    pub fn commit_snapshot(&self, snapshot: &Snapshot) -> Result<SnapshotId> {
        self.ensure_writable()?;
        self.flush()?;
        self.put_snapshot_file(&snapshot.encode())
    }

    /// Commits a snapshot file as it is (`replicate` copies files byte for byte, so a file of
    /// an older snapshot version keeps its id). The bytes must decode as a snapshot.
    pub fn commit_snapshot_file(&self, bytes: &[u8]) -> Result<SnapshotId> {
        self.ensure_writable()?;
        let id = self.snapshot_id_of(bytes);
        Snapshot::decode(bytes, &self.path.join(snapshot_name(&id)))?;
        self.flush()?;
        self.put_snapshot_file(bytes)
    }

    /// Writes a snapshot file create-only and durably (an existing one is the same file).
    fn put_snapshot_file(&self, bytes: &[u8]) -> Result<SnapshotId> {
        let id = self.snapshot_id_of(bytes);
        let name = snapshot_name(&id);
        let sealed;
        let bytes = match &self.keys {
            None => bytes,
            Some(k) => {
                sealed =
                    keys::wrap_file(keys::SEALED_SNAPSHOT_MAGIC, &k.seal_snapshot(&id, bytes)?);
                &sealed
            }
        };
        match self.backend.put_new(&name, bytes) {
            Ok(()) => Ok(id),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(id),
            Err(e) => Err(Error::io(self.path.join(&name), e)),
        }
    }

    /// Writes `new` in place of snapshot `old` (a rewrite such as `tag`): the new snapshot file
    /// first (create-only, durable), then `old` is removed. A crash in between leaves both.
    /// Returns the id of the new file; when it equals `old`, nothing is removed.
    pub fn replace_snapshot(&self, old: &SnapshotId, new: &Snapshot) -> Result<SnapshotId> {
        self.ensure_writable()?;
        self.ensure_readable("rewriting snapshots")?;
        let id = self.put_snapshot_file(&new.encode())?;
        if id != *old {
            self.remove_snapshot(old)?;
        }
        Ok(id)
    }

    /// Removes a snapshot file (`forget`), durably; the blobs it references stay. A snapshot
    /// that is already gone is not an error.
    pub fn remove_snapshot(&self, id: &SnapshotId) -> Result<()> {
        self.ensure_writable()?;
        self.ensure_readable("removing snapshots")?;
        let name = snapshot_name(id);
        self.backend.delete(&name).at(self.path.join(&name))?;
        if let Some(local) = self.backend.local() {
            local.sync().at(self.path.join("snapshots"))?;
        }
        Ok(())
    }

    /// The id a snapshot file with these plain bytes has here: their BLAKE3, or in an
    /// encrypted repository their keyed BLAKE3.
    pub fn snapshot_id_of(&self, plain: &[u8]) -> SnapshotId {
        match &self.keys {
            Some(k) => k.snapshot_id(plain),
            None => SnapshotId::hash(plain),
        }
    }

    /// The ids of the snapshot files (one listing, nothing read: a put-only key can do this).
    pub fn snapshot_ids(&self) -> Result<BTreeSet<SnapshotId>> {
        let names = self
            .backend
            .list("snapshots")
            .at(self.path.join("snapshots"))?;
        Ok(names.iter().filter_map(|n| n.parse().ok()).collect())
    }

    /// Every snapshot, oldest first. A damaged snapshot file is an error naming it.
    pub fn snapshots(&self) -> Result<Vec<(SnapshotId, Snapshot)>> {
        let (good, mut bad) = self.snapshots_lenient()?;
        match bad.is_empty() {
            true => Ok(good),
            false => Err(bad.swap_remove(0)),
        }
    }

    /// Every readable snapshot, oldest first, and the errors of those that cannot be read
    /// (so one damaged file does not hide the others or block the next backup).
    pub fn snapshots_lenient(&self) -> Result<(SnapshotList, Vec<Error>)> {
        self.ensure_readable("reading snapshots")?;
        let mut out = Vec::new();
        let mut bad = Vec::new();
        for id in self.snapshot_ids()? {
            match self.load_snapshot(&id) {
                Ok(s) => out.push((id, s)),
                Err(e) => bad.push(e),
            }
        }
        out.sort_by(|a, b| a.1.time_ns.cmp(&b.1.time_ns).then(a.0.cmp(&b.0)));
        Ok((out, bad))
    }

    /// Reads one snapshot file, verifying it against its id.
    pub fn load_snapshot(&self, id: &SnapshotId) -> Result<Snapshot> {
        let bytes = self.snapshot_file(id)?;
        Snapshot::decode(&bytes, &self.path.join(snapshot_name(id)))
    }

    /// The bytes of one snapshot file, verified against its id (not decoded).
    pub fn snapshot_file(&self, id: &SnapshotId) -> Result<Vec<u8>> {
        let name = snapshot_name(id);
        let path = self.path.join(&name);
        let bytes = match self.backend.get(&name) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::NoSuchSnapshot(id.to_hex()));
            }
            Err(e) => return Err(Error::io(path, e)),
        };
        if let Some(k) = &self.keys {
            self.ensure_readable("reading snapshots")?;
            let envelope = keys::unwrap_file(&bytes, keys::SEALED_SNAPSHOT_MAGIC, &path)?;
            return k.open_snapshot(id, envelope).map_err(|e| match e {
                Error::Key(what) => Error::corrupt(&path, what),
                other => other,
            });
        }
        if SnapshotId::hash(&bytes) != *id {
            return Err(Error::corrupt(path, "snapshot file does not match its id"));
        }
        Ok(bytes)
    }

    /// `latest`, a full id, or a unique hex prefix of at least 4 digits.
    pub fn resolve_snapshot(&self, spec: &str) -> Result<SnapshotId> {
        let spec = spec.trim();
        if spec == "latest" {
            return self
                .snapshots_lenient()?
                .0
                .pop()
                .map(|(id, _)| id)
                .ok_or_else(|| Error::NoSuchSnapshot("latest (the repository has none)".into()));
        }
        let ids = self.snapshot_ids()?;
        if let Ok(id) = spec.parse::<SnapshotId>() {
            return if ids.contains(&id) {
                Ok(id)
            } else {
                Err(Error::NoSuchSnapshot(spec.to_string()))
            };
        }
        let lower = spec.to_ascii_lowercase();
        if lower.len() < 4 || !lower.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::Invalid(format!(
                "{spec:?}: give `latest`, a snapshot id, or at least 4 hex digits of one"
            )));
        }
        let matches: Vec<SnapshotId> = ids
            .into_iter()
            .filter(|id| id.to_hex().starts_with(&lower))
            .collect();
        match matches.as_slice() {
            [one] => Ok(*one),
            [] => Err(Error::NoSuchSnapshot(spec.to_string())),
            _ => Err(Error::Invalid(format!(
                "{spec:?} matches {} snapshots; give more digits",
                matches.len()
            ))),
        }
    }

    /// Every blob the index lists (pack entries and raw objects), read from the index files
    /// (not the catalog), with those written by this process and not yet indexed.
    pub fn list_blobs(&self) -> Result<Vec<(BlobId, BlobInfo)>> {
        let on_disk = self.index_ids_on_disk()?;
        let (files, _) = self.read_index_files(&on_disk);
        let mut map = HashMap::new();
        for (_, f) in live_files(&files) {
            add_locations(&mut map, f);
        }
        if self.config.is_legacy() {
            self.add_legacy_objects(&mut map)?;
        }
        let mut out: Vec<(BlobId, BlobInfo)> =
            map.into_iter().map(|(id, l)| (id, l.info())).collect();
        out.sort_by_key(|(id, _)| *id);
        Ok(out)
    }

    /// The object files of a format 1 repository whose header and length are sound.
    fn add_legacy_objects(&self, map: &mut HashMap<BlobId, Location>) -> Result<()> {
        for b in 0..=255u8 {
            let dir = format!("objects/{b:02x}");
            for name in self.backend.list(&dir).at(self.path.join(&dir))? {
                let hex = name.strip_suffix(".r").unwrap_or(&name);
                let Ok(id) = hex.parse::<BlobId>() else {
                    continue;
                };
                if let Some(loc) = self.locate_legacy(&id) {
                    map.entry(id).or_insert(loc);
                }
            }
        }
        Ok(())
    }

    /// Rebuilds the catalog from the index files.
    pub fn rebuild_catalog(&mut self) -> Result<()> {
        let catalog = self.catalog.take().map(|c| (c, true));
        if catalog.is_none() {
            return Ok(());
        }
        self.memory = None;
        self.load_index(catalog)
    }

    /// Number of blobs the catalog records (for diagnostics and tests).
    pub fn catalog_blob_count(&self) -> Result<u64> {
        match &self.catalog {
            Some(cat) => cat.blob_count(),
            None => Ok(0),
        }
    }

    /// The current time in ns since the epoch (snapshot times).
    pub(crate) fn now_ns() -> i64 {
        now_ns()
    }
}

/// The store of an `s3://` URL, and the URL as a path for messages.
fn remote_backend(url: &str) -> Result<(PathBuf, Arc<dyn Backend>)> {
    let parsed = match S3Url::parse(url) {
        Some(Ok(u)) => u,
        Some(Err(e)) => return Err(Error::Invalid(e)),
        None => return Err(Error::Invalid(format!("{url}: not an s3:// URL"))),
    };
    let shown = PathBuf::from(parsed.to_string());
    let backend = S3Backend::from_env(&parsed).at(&shown)?;
    // The client retries HTTP failures itself; this also covers a failure between requests.
    Ok((shown, Arc::new(backend::Retry::new(Arc::new(backend), 4))))
}

/// The packs the given index files list (with their sizes), and those of the files that
/// supersede others (written by `repair index`).
fn summarize<'a>(
    files: impl Iterator<Item = (&'a IndexId, &'a IndexFile)>,
) -> (Vec<(crate::id::PackId, u64)>, BTreeSet<IndexId>) {
    let mut packs = Vec::new();
    let mut repairs = BTreeSet::new();
    for (id, f) in files {
        if !f.supersedes.is_empty() {
            repairs.insert(*id);
        }
        packs.extend(f.packs.iter().map(|p| (p.id, p.size)));
    }
    (packs, repairs)
}

/// The index files that no other one supersedes.
fn live_files(files: &[(IndexId, IndexFile)]) -> impl Iterator<Item = (&IndexId, &IndexFile)> {
    let superseded: HashSet<IndexId> = files
        .iter()
        .flat_map(|(_, f)| f.supersedes.iter().copied())
        .collect();
    files
        .iter()
        .filter(move |(id, _)| !superseded.contains(id))
        .map(|(id, f)| (id, f))
}

fn add_locations(map: &mut HashMap<BlobId, Location>, file: &IndexFile) {
    let batch = packer::Batch {
        packs: file.packs.clone(),
        loose: file.loose.clone(),
    };
    map.extend(batch.locations());
}

fn read_range(path: &Path, offset: u64, len: u64) -> io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let f = std::fs::File::open(path)?;
    let mut out = vec![0u8; len as usize];
    f.read_exact_at(&mut out, offset)?;
    Ok(out)
}

/// Narrows a directory to 0700.
fn set_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(backend::DIR_MODE)).at(path)
}

/// Removes every leftover of crashed runs from `REPO/tmp` (open packs, temp links, database
/// staging). Called only while no other process holds the repository.
fn clean_tmp(tmp: &Path) {
    let Ok(rd) = std::fs::read_dir(tmp) else {
        return;
    };
    for entry in rd.flatten() {
        let p = entry.path();
        let _ = match entry.file_type() {
            Ok(t) if t.is_dir() => std::fs::remove_dir_all(&p),
            _ => std::fs::remove_file(&p),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::TreeLevel;
    use proptest::prelude::*;

    #[test]
    fn repository_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Repository>();
    }

    proptest! {
        /// Decoders of anything read from disk return errors on garbage, never panic.
        #[test]
        fn decoders_survive_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..512), magic in 0u8..10) {
            let mut bytes = bytes;
            let prefix: &[u8] = match magic {
                0 => b"MVOB\x01",
                1 => b"MVSN\x01\x00\x00\x00",
                2 => b"MVTR\x01",
                3 => b"MVRP\x02\x00\x00\x00",
                4 => b"MVIX\x01\x00\x00\x00",
                5 => b"MVLK\x01\x00\x00\x00",
                6 => b"MVTR\x03",
                7 => b"MVTP\x01",
                8 => b"MVTC\x01",
                _ => b"",
            };
            bytes.splice(0..0, prefix.iter().copied());
            let p = Path::new("x");
            let _ = object::decode(&bytes, p);
            let _ = crate::snapshot::Snapshot::decode(&bytes, p);
            for level in [TreeLevel::Root, TreeLevel::Page, TreeLevel::ChunkPage] {
                let _ = crate::tree::tree_blob_children(&bytes, p, level);
            }
            let _ = RepoConfig::decode(&bytes, p);
            let _ = IndexFile::decode(&bytes, p);
            let _ = LockRecord::decode(&bytes, p);
        }
    }
}
