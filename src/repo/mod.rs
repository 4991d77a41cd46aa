//! The content-addressed repository: blobs named by their BLAKE3 hash, snapshots as the single
//! commit point, and a rebuildable local catalog.
//!
//! Layout (bytes in docs/format.md):
//! ```text
//! REPO/config               repository config (magic, version, postcard)
//! REPO/objects/ab/<hex>     framed object (header + payload, zstd when it shrinks)
//! REPO/objects/ab/<hex>.r   raw object: exactly the blob bytes (often a hardlink)
//! REPO/snapshots/<hex>      snapshot file; <hex> = BLAKE3 of the file
//! REPO/catalog.redb         cache, rebuildable
//! REPO/tmp/                 temp files for atomic publish
//! ```

mod backend;
mod catalog;
pub(crate) mod config;
pub(crate) mod object;

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

pub use backend::{Backend, FailAfter, LocalBackend};
pub use catalog::BlobInfo;
use catalog::{Catalog, Opened};
pub use config::{ChunkParams, RepoConfig};
pub use object::BlobKind;

use crate::error::{Error, IoContext, Result};
use crate::id::{BlobId, SnapshotId};
use crate::progress::{Event, Progress};
use crate::snapshot::Snapshot;

/// Name of the catalog file inside the repository.
pub const CATALOG_FILE: &str = "catalog.redb";
/// Written-but-unrecorded blobs held in memory before a sync + catalog flush.
const FLUSH_AT: usize = 200_000;

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

/// A repository opened for reading and writing. `Send + Sync`: the `put_*` methods may be called
/// concurrently.
#[derive(Debug)]
pub struct Repository {
    path: PathBuf,
    tmp: PathBuf,
    backend: Arc<dyn Backend>,
    config: RepoConfig,
    catalog: Option<Catalog>,
    /// Blobs written by this process and not yet recorded in the catalog (not yet durable).
    pending: Mutex<HashMap<BlobId, BlobInfo>>,
    /// Set after the first failed hardlink: later files are copied without trying again.
    link_failed: AtomicBool,
}

/// `objects/ab/<hex>` for framed, `objects/ab/<hex>.r` for raw objects.
fn object_name(id: &BlobId, raw: bool) -> String {
    let hex = id.to_hex();
    let suffix = if raw { ".r" } else { "" };
    format!("objects/{}/{hex}{suffix}", &hex[..2])
}

fn snapshot_name(id: &SnapshotId) -> String {
    format!("snapshots/{}", id.to_hex())
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

impl Repository {
    /// Creates a repository at `path` (missing or an empty directory).
    pub fn init(path: &Path) -> Result<Repository> {
        if path.exists() {
            let mut rd = std::fs::read_dir(path).at(path)?;
            if rd.next().is_some() {
                return Err(Error::Invalid(format!(
                    "{}: directory is not empty; a repository needs a new or empty directory",
                    path.display()
                )));
            }
        }
        std::fs::create_dir_all(path).at(path)?;
        for dir in ["snapshots", "tmp", "objects"] {
            let d = path.join(dir);
            std::fs::create_dir_all(&d).at(&d)?;
        }
        for b in 0..=255u8 {
            let d = path.join(format!("objects/{b:02x}"));
            std::fs::create_dir_all(&d).at(&d)?;
        }
        let backend = LocalBackend::new(path);
        backend.sync().at(path)?;
        // The config is written last: a directory with a config is a complete repository.
        let config = RepoConfig::new(path);
        backend
            .put_durable("config", &config.encode())
            .at(path.join("config"))?;
        Repository::open(path)
    }

    /// Opens an existing repository; rebuilds the catalog when missing, unreadable or stale.
    pub fn open(path: &Path) -> Result<Repository> {
        Repository::open_with_backend(path, Arc::new(LocalBackend::new(path)))
    }

    /// Opens a repository whose files are reached through `backend` (e.g. a fault-injecting
    /// wrapper); the catalog stays a local file under `path`.
    pub fn open_with_backend(path: &Path, backend: Arc<dyn Backend>) -> Result<Repository> {
        let config_path = path.join("config");
        let bytes = match backend.get("config") {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::Invalid(format!(
                    "{}: not a mailvault repository (no config file)",
                    path.display()
                )));
            }
            Err(e) => return Err(Error::io(config_path, e)),
        };
        let config = RepoConfig::decode(&bytes, &config_path)?;
        let catalog_path = path.join(CATALOG_FILE);
        let (catalog, fresh) = match Catalog::open(&catalog_path) {
            Opened::Ready { catalog, fresh } => (Some(catalog), fresh),
            Opened::Busy => (None, false),
        };
        let mut repo = Repository {
            path: path.to_path_buf(),
            tmp: path.join("tmp"),
            backend,
            config,
            catalog,
            pending: Mutex::new(HashMap::new()),
            link_failed: AtomicBool::new(false),
        };
        if let Some(cat) = &repo.catalog {
            let on_disk = repo.snapshot_ids()?;
            let stale = fresh || cat.snapshot_ids().map(|s| s != on_disk).unwrap_or(true);
            if stale && repo.rebuild_catalog().is_err() {
                // A catalog that cannot be brought up to date is not used at all.
                repo.catalog = None;
            }
        }
        clean_tmp(&repo.tmp);
        Ok(repo)
    }

    /// The repository directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `REPO/tmp`: on the repository's filesystem, for callers' own staging files.
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

    /// The path of a blob's framed object file (for messages; the raw form adds `.r`).
    pub fn blob_path(&self, id: &BlobId) -> PathBuf {
        self.path.join(object_name(id, false))
    }

    fn info(&self, id: &BlobId) -> Option<BlobInfo> {
        if let Some(info) = self.pending.lock().expect("pending poisoned").get(id) {
            return Some(*info);
        }
        match &self.catalog {
            Some(cat) => cat.get(id),
            None => {
                // No catalog (held by another process): ask the files.
                for raw in [false, true] {
                    if let Ok(Some(size)) = self.backend.size(&object_name(id, raw)) {
                        return Some(BlobInfo {
                            kind: BlobKind::Data,
                            raw,
                            stored_len: size,
                        });
                    }
                }
                None
            }
        }
    }

    /// Whether the blob is stored (durably, or written by this process).
    pub fn has_blob(&self, id: &BlobId) -> bool {
        self.info(id).is_some()
    }

    /// What the repository knows about a stored blob.
    pub fn blob_info(&self, id: &BlobId) -> Option<BlobInfo> {
        self.info(id)
    }

    fn note_written(&self, id: BlobId, info: BlobInfo) -> Result<()> {
        let full = {
            let mut p = self.pending.lock().expect("pending poisoned");
            p.insert(id, info);
            p.len() >= FLUSH_AT
        };
        if full {
            self.flush()?;
        }
        Ok(())
    }

    /// Makes every blob written so far durable and records it in the catalog.
    pub fn flush(&self) -> Result<()> {
        let pending: Vec<(BlobId, BlobInfo)> = {
            let p = self.pending.lock().expect("pending poisoned");
            p.iter().map(|(k, v)| (*k, *v)).collect()
        };
        self.backend.sync().at(&self.path)?;
        if let Some(cat) = &self.catalog {
            cat.record(&pending, &[])?;
            let mut p = self.pending.lock().expect("pending poisoned");
            for (id, _) in &pending {
                p.remove(id);
            }
        }
        Ok(())
    }

    /// Stores bytes as a framed object (zstd if it shrinks). Idempotent.
    pub fn put_blob(&self, kind: BlobKind, data: &[u8]) -> Result<PutOutcome> {
        let id = BlobId::hash(data);
        if self.has_blob(&id) {
            return Ok(PutOutcome {
                id,
                added: false,
                stored_bytes: 0,
            });
        }
        let framed = object::encode(kind, data);
        let name = object_name(&id, false);
        self.backend.put(&name, &framed).at(self.path.join(&name))?;
        self.note_written(
            id,
            BlobInfo {
                kind,
                raw: false,
                stored_len: framed.len() as u64,
            },
        )?;
        Ok(PutOutcome {
            id,
            added: true,
            stored_bytes: framed.len() as u64,
        })
    }

    /// Stores the content of an immutable file whose BLAKE3 id the caller already computed:
    /// hardlinks it as a raw object when `link` is true and the repository shares the
    /// filesystem (falls back to copying, with one Warning event the first time), otherwise
    /// copies it (framed, zstd when it shrinks). Does nothing when the blob exists.
    pub fn put_file(
        &self,
        path: &Path,
        id: BlobId,
        link: bool,
        progress: &dyn Progress,
    ) -> Result<PutOutcome> {
        if self.has_blob(&id) {
            return Ok(PutOutcome {
                id,
                added: false,
                stored_bytes: 0,
            });
        }
        if link && !self.link_failed.load(Ordering::Relaxed) {
            let name = object_name(&id, true);
            match self.backend.link(path, &name) {
                Ok(()) => {
                    let size = std::fs::symlink_metadata(path).at(path)?.len();
                    self.note_written(
                        id,
                        BlobInfo {
                            kind: BlobKind::Data,
                            raw: true,
                            stored_len: size,
                        },
                    )?;
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
                                "cannot hardlink into the repository ({e}); copying files instead"
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
        self.put_blob(BlobKind::Data, &data)
    }

    /// False once hardlinking into the repository has failed (another filesystem): callers that
    /// hold a file's bytes already store them with [`Repository::put_blob`] instead.
    pub fn can_link(&self) -> bool {
        !self.link_failed.load(Ordering::Relaxed)
    }

    /// Reads a blob and verifies its hash; a mismatch is `Error::Corrupt` naming the object.
    ///
    /// A damaged object is also moved aside (`<name>.damaged`) and forgotten by the catalog, so
    /// the next backup that meets the same content stores it again, which heals every snapshot
    /// that references it.
    pub fn get_blob(&self, id: &BlobId) -> Result<Vec<u8>> {
        let result = self.read_blob(id);
        if let Err(Error::Corrupt { path, .. }) = &result {
            self.quarantine(id, path);
        }
        result
    }

    fn quarantine(&self, id: &BlobId, path: &Path) {
        self.pending.lock().expect("pending poisoned").remove(id);
        if let Some(cat) = &self.catalog {
            let _ = cat.forget(id);
        }
        let mut aside = path.as_os_str().to_owned();
        aside.push(".damaged");
        let _ = std::fs::rename(path, aside);
    }

    fn read_blob(&self, id: &BlobId) -> Result<Vec<u8>> {
        let framed = object_name(id, false);
        let framed_path = self.path.join(&framed);
        match self.backend.get(&framed) {
            Ok(bytes) => {
                let (_, data) = object::decode(&bytes, &framed_path)?;
                if BlobId::hash(&data) != *id {
                    return Err(Error::corrupt(framed_path, "content does not match its id"));
                }
                return Ok(data);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(framed_path, e)),
        }
        let raw = object_name(id, true);
        let raw_path = self.path.join(&raw);
        match self.backend.get(&raw) {
            Ok(data) => {
                if BlobId::hash(&data) != *id {
                    return Err(Error::corrupt(raw_path, "content does not match its id"));
                }
                Ok(data)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Error::MissingBlob { id: *id }),
            Err(e) => Err(Error::io(raw_path, e)),
        }
    }

    /// Writes a blob's content to `dest` (which must not exist): a hardlink of the raw object
    /// when `link` allows and the filesystem is shared, else decoded and copied (hash verified).
    pub fn restore_blob(&self, id: &BlobId, dest: &Path, link: bool) -> Result<()> {
        if link
            && let Some(raw) = self.backend.local_path(&object_name(id, true))
            && std::fs::hard_link(&raw, dest).is_ok()
        {
            return Ok(());
        }
        let data = self.get_blob(id)?;
        write_new(dest, &data)
    }

    /// Commits a snapshot: makes every object durable, then writes the snapshot file (temp,
    /// fsync, rename, fsync dir). The snapshot file is the commit point.
    pub fn commit_snapshot(&self, snapshot: &Snapshot) -> Result<SnapshotId> {
        let bytes = snapshot.encode();
        let id = SnapshotId::hash(&bytes);
        let name = snapshot_name(&id);
        let pending: Vec<(BlobId, BlobInfo)> = {
            let p = self.pending.lock().expect("pending poisoned");
            p.iter().map(|(k, v)| (*k, *v)).collect()
        };
        self.backend.sync().at(&self.path)?;
        self.backend
            .put_durable(&name, &bytes)
            .at(self.path.join(&name))?;
        if let Some(cat) = &self.catalog {
            // The catalog is a cache: if this fails, its snapshot set is stale and the next
            // open rebuilds it.
            if cat.record(&pending, &[(id, snapshot.time_ns)]).is_ok() {
                let mut p = self.pending.lock().expect("pending poisoned");
                for (blob, _) in &pending {
                    p.remove(blob);
                }
            }
        }
        Ok(id)
    }

    fn snapshot_ids(&self) -> Result<BTreeSet<SnapshotId>> {
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
        let name = snapshot_name(id);
        let path = self.path.join(&name);
        let bytes = match self.backend.get(&name) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::NoSuchSnapshot(id.to_hex()));
            }
            Err(e) => return Err(Error::io(path, e)),
        };
        if SnapshotId::hash(&bytes) != *id {
            return Err(Error::corrupt(path, "snapshot file does not match its id"));
        }
        Snapshot::decode(&bytes, &path)
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

    /// Every object file in the repository, read from the files (not the catalog). Objects
    /// whose header or length is damaged are left out.
    pub fn list_blobs(&self) -> Result<Vec<(BlobId, BlobInfo)>> {
        let mut out = Vec::new();
        for b in 0..=255u8 {
            let dir = format!("objects/{b:02x}");
            for name in self.backend.list(&dir).at(self.path.join(&dir))? {
                let (hex, raw) = match name.strip_suffix(".r") {
                    Some(h) => (h, true),
                    None => (name.as_str(), false),
                };
                let Ok(id) = hex.parse::<BlobId>() else {
                    continue;
                };
                let rel = format!("{dir}/{name}");
                let Some(size) = self.backend.size(&rel).at(self.path.join(&rel))? else {
                    continue;
                };
                if raw {
                    out.push((
                        id,
                        BlobInfo {
                            kind: BlobKind::Data,
                            raw,
                            stored_len: size,
                        },
                    ));
                    continue;
                }
                let head = self
                    .backend
                    .get_range(&rel, 0, object::HEADER_LEN)
                    .at(self.path.join(&rel))?;
                match object::Header::decode(&head, &self.path.join(&rel)) {
                    Ok(h) if h.stored_len + object::HEADER_LEN as u64 == size => out.push((
                        id,
                        BlobInfo {
                            kind: h.kind,
                            raw,
                            stored_len: size,
                        },
                    )),
                    _ => {}
                }
            }
        }
        Ok(out)
    }

    /// Rebuilds the catalog from the repository files.
    pub fn rebuild_catalog(&self) -> Result<()> {
        let Some(cat) = &self.catalog else {
            return Ok(());
        };
        let blobs = self.list_blobs()?;
        // Recorded objects must be durable; objects left by a crashed run may not be yet.
        self.backend.sync().at(&self.path)?;
        let mut snaps = Vec::new();
        for id in self.snapshot_ids()? {
            // A damaged snapshot file is reported by the commands that read it, not here.
            let time = self.load_snapshot(&id).map(|s| s.time_ns).unwrap_or(0);
            snaps.push((id, time));
        }
        cat.replace_all(&blobs, &snaps)
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

/// Temp files older than this are leftovers of an interrupted run.
const TMP_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Removes old leftovers from `REPO/tmp` (best effort: a cache of garbage, nothing more).
fn clean_tmp(tmp: &Path) {
    let Ok(rd) = std::fs::read_dir(tmp) else {
        return;
    };
    for entry in rd.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > TMP_MAX_AGE);
        if old {
            let p = entry.path();
            let _ = if p.is_dir() {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            };
        }
    }
}

/// Creates `dest` (must not exist) with `data`.
pub(crate) fn write_new(dest: &Path, data: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dest)
        .at(dest)?;
    f.write_all(data).at(dest)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn repository_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Repository>();
    }

    proptest! {
        /// Decoders of anything read from disk return errors on garbage, never panic.
        #[test]
        fn decoders_survive_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..512), magic in 0u8..5) {
            let mut bytes = bytes;
            let prefix: &[u8] = match magic {
                0 => b"MVOB\x01",
                1 => b"MVSN\x01\x00\x00\x00",
                2 => b"MVTR\x01",
                3 => b"MVRP\x01\x00\x00\x00",
                _ => b"",
            };
            bytes.splice(0..0, prefix.iter().copied());
            let p = Path::new("x");
            let _ = object::decode(&bytes, p);
            let _ = crate::snapshot::Snapshot::decode(&bytes, p);
            let _ = crate::tree::Tree::decode(&bytes, p);
            let _ = RepoConfig::decode(&bytes, p);
        }
    }
}
