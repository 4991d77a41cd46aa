//! Where repository files live. A backend is a dumb store of named files; everything that
//! knows what the bytes mean sits above it. Names are relative, '/'-separated
//! (`packs/<hex>`, `index/<hex>`, `snapshots/<hex>`, `config`).
//!
//! [`Backend`] has only what every object store has: list, head, get, get range, create-only
//! put, delete. A local directory has more: hardlinks and reflinks of source files, publishing
//! a temp file by rename, replacing a file durably, and one `syncfs` for many files. Those live
//! in [`LocalStore`], which a backend offers through [`Backend::local`] when it is a directory.
//!
//! Durability contract (see docs/format.md, "Write order"):
//! - [`Backend::put_new`] is atomic (a reader sees nothing or the whole file) and durable when
//!   it returns; it never replaces: an existing name is `AlreadyExists`.
//! - [`LocalStore::link`] publishes atomically but not durably: [`LocalStore::sync`] makes
//!   every earlier link durable.
//! - [`LocalStore::publish`] and [`LocalStore::replace_durable`] are durable when they return.

use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A store of named, immutable files: what an object store offers.
pub trait Backend: Send + Sync + fmt::Debug {
    /// The names (not paths) directly inside directory `dir`, sorted; empty when it is missing.
    fn list(&self, dir: &str) -> io::Result<Vec<String>>;
    /// The files directly inside `dir` with their sizes and last-modified times (what an
    /// object store's LIST returns), sorted by name; empty when it is missing.
    fn list_meta(&self, dir: &str) -> io::Result<Vec<ObjectMeta>>;
    /// The size of `name`, or `None` when it does not exist.
    fn head(&self, name: &str) -> io::Result<Option<u64>>;
    /// The whole content of `name`.
    fn get(&self, name: &str) -> io::Result<Vec<u8>>;
    /// Up to `len` bytes of `name` from `offset` (fewer at the end of the file).
    fn get_range(&self, name: &str, offset: u64, len: usize) -> io::Result<Vec<u8>>;
    /// Creates `name` with `data`, atomically and durably; `AlreadyExists` when it exists.
    fn put_new(&self, name: &str, data: &[u8]) -> io::Result<()>;
    /// [`Backend::put_new`] with shared bytes: a store that would copy them keeps them
    /// instead (a pack is tens of MiB).
    fn put_new_bytes(&self, name: &str, data: bytes::Bytes) -> io::Result<()> {
        self.put_new(name, &data)
    }
    /// Removes `name`; missing is not an error.
    fn delete(&self, name: &str) -> io::Result<()>;
    /// The local-directory capabilities, when the store is a local directory.
    fn local(&self) -> Option<&dyn LocalStore> {
        None
    }
    /// Requests made and bytes moved so far, for stores that count them (remote ones).
    fn transfer(&self) -> Option<TransferStats> {
        None
    }
}

/// Retries the operations of a remote store that fail for a reason that may pass (a dropped
/// connection, a timeout, a server error): up to `attempts` times, with exponential backoff
/// from 100 ms. Not found, already exists, permission denied and invalid input are answers,
/// not failures, and are returned at once.
#[derive(Debug)]
pub struct Retry {
    inner: Arc<dyn Backend>,
    attempts: u32,
    retried: AtomicU64,
}

impl Retry {
    pub fn new(inner: Arc<dyn Backend>, attempts: u32) -> Retry {
        Retry {
            inner,
            attempts: attempts.max(1),
            retried: AtomicU64::new(0),
        }
    }

    /// How many operations were tried again.
    pub fn retried(&self) -> u64 {
        self.retried.load(Ordering::Relaxed)
    }

    fn run<T>(&self, op: impl Fn() -> io::Result<T>) -> io::Result<T> {
        let mut delay = std::time::Duration::from_millis(100);
        let mut attempt = 1;
        loop {
            match op() {
                Err(e) if attempt < self.attempts && transient(&e) => {
                    self.retried.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(std::time::Duration::from_secs(10));
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

fn transient(e: &io::Error) -> bool {
    !matches!(
        e.kind(),
        io::ErrorKind::NotFound
            | io::ErrorKind::AlreadyExists
            | io::ErrorKind::PermissionDenied
            | io::ErrorKind::InvalidInput
            | io::ErrorKind::InvalidData
            | io::ErrorKind::Unsupported
    )
}

impl Backend for Retry {
    fn list(&self, dir: &str) -> io::Result<Vec<String>> {
        self.run(|| self.inner.list(dir))
    }
    fn list_meta(&self, dir: &str) -> io::Result<Vec<ObjectMeta>> {
        self.run(|| self.inner.list_meta(dir))
    }
    fn head(&self, name: &str) -> io::Result<Option<u64>> {
        self.run(|| self.inner.head(name))
    }
    fn get(&self, name: &str) -> io::Result<Vec<u8>> {
        self.run(|| self.inner.get(name))
    }
    fn get_range(&self, name: &str, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        self.run(|| self.inner.get_range(name, offset, len))
    }
    fn put_new(&self, name: &str, data: &[u8]) -> io::Result<()> {
        // A put that reached the store but whose answer was lost comes back as "already
        // exists": the callers verify or accept what is there.
        self.run(|| self.inner.put_new(name, data))
    }
    fn put_new_bytes(&self, name: &str, data: bytes::Bytes) -> io::Result<()> {
        self.run(|| self.inner.put_new_bytes(name, data.clone()))
    }
    fn delete(&self, name: &str) -> io::Result<()> {
        self.run(|| self.inner.delete(name))
    }
    fn transfer(&self) -> Option<TransferStats> {
        self.inner.transfer()
    }
}

/// What a remote store was asked to do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TransferStats {
    pub requests: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

/// A stored file as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// The name inside its directory.
    pub name: String,
    pub size: u64,
    /// Last modified, ns since the epoch (for a local file the later of mtime and ctime: a
    /// hardlink made today of an old file counts from today).
    pub modified_ns: i64,
}

/// How a source file was published into the repository by [`LocalStore::link`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkKind {
    /// A copy-on-write clone (`FICLONE`): no bytes copied, an inode of its own.
    Reflink,
    /// A hardlink: the source's own inode.
    Hardlink,
}

/// What a repository in a local directory can do beyond an object store.
pub trait LocalStore: Send + Sync {
    /// The repository directory.
    fn root(&self) -> &Path;
    /// The directory for temp files (same filesystem as the repository).
    fn tmp_dir(&self) -> &Path;
    /// Publishes the immutable file `src` at `name` as a reflink (when `reflink` and the
    /// filesystem supports it) or a hardlink; replaces a leftover of the same name. Atomic,
    /// durable after [`LocalStore::sync`]. Fails (e.g. `CrossesDevices`) when neither works.
    fn link(&self, src: &Path, name: &str, reflink: bool) -> io::Result<LinkKind>;
    /// Publishes the complete temp file `tmp` (inside [`LocalStore::tmp_dir`]) at `name`:
    /// fsync, create-only rename, fsync of the directory. `AlreadyExists` when `name` exists
    /// (the temp file is then left to the caller).
    fn publish(&self, tmp: &Path, name: &str) -> io::Result<()>;
    /// Writes `name` (create or replace) atomically and durably: only for the config, which a
    /// format migration rewrites.
    fn replace_durable(&self, name: &str, data: &[u8]) -> io::Result<()>;
    /// Makes every earlier `link` durable (`syncfs`).
    fn sync(&self) -> io::Result<()>;
}

/// A repository in a local directory. Temp files go to `tmp/` inside it (same filesystem, so
/// rename is atomic).
#[derive(Debug)]
pub struct LocalBackend {
    root: PathBuf,
    tmp: PathBuf,
    /// Cleared after the first failed reflink: the filesystem does not support it.
    reflink_ok: AtomicBool,
}

/// Numbers temp files across every repository handle of the process (two handles of one
/// repository must not pick the same name).
pub(crate) static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Mode of every directory the repository creates: the data is private mail.
pub(crate) const DIR_MODE: u32 = 0o700;
/// Mode of every file the repository writes (linked source files keep their own).
pub(crate) const FILE_MODE: u32 = 0o600;

/// Creates `dir` and its missing parents with mode 0700.
pub(crate) fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
}

impl LocalBackend {
    pub fn new(root: &Path) -> LocalBackend {
        LocalBackend {
            root: root.to_path_buf(),
            tmp: root.join("tmp"),
            reflink_ok: AtomicBool::new(true),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    fn temp_name(&self, what: &str) -> PathBuf {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        self.tmp.join(format!("{what}-{}-{n}", std::process::id()))
    }

    /// Writes `data` to a new private temp file, fsynced when `durable` (a caller that
    /// publishes it through [`LocalStore::publish`] gets the fsync there).
    fn write_temp(&self, data: &[u8], durable: bool) -> io::Result<PathBuf> {
        let path = self.temp_name("put");
        let mut f = match create_private_file(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                create_private_dir(&self.tmp)?;
                create_private_file(&path)?
            }
            other => other?,
        };
        let res = f
            .write_all(data)
            .and_then(|_| if durable { f.sync_all() } else { Ok(()) });
        if res.is_err() {
            let _ = std::fs::remove_file(&path);
        }
        res.map(|_| path)
    }

    /// Renames `from` over `to` (replacing), creating `to`'s directory when it is missing.
    fn rename_into(from: &Path, to: &Path) -> io::Result<()> {
        match std::fs::rename(from, to) {
            Err(e) if e.kind() == io::ErrorKind::NotFound && from.exists() => {
                if let Some(parent) = to.parent() {
                    create_private_dir(parent)?;
                }
                std::fs::rename(from, to)
            }
            other => other,
        }
    }

    /// Hardlinks `from` at `to` (create-only), creating `to`'s directory when it is missing.
    fn link_new(from: &Path, to: &Path) -> io::Result<()> {
        match std::fs::hard_link(from, to) {
            Err(e) if e.kind() == io::ErrorKind::NotFound && from.exists() => {
                if let Some(parent) = to.parent() {
                    create_private_dir(parent)?;
                }
                std::fs::hard_link(from, to)
            }
            other => other,
        }
    }

    fn reflink_into(&self, src: &Path, tmp: &Path) -> io::Result<()> {
        let from = open_regular_nofollow(src)?;
        let to = create_private_file(tmp)?;
        // The clone is an inode of the repository's own: it stays 0600.
        rustix::fs::ioctl_ficlone(&to, &from).map_err(io::Error::from)
    }
}

/// Opens a regular file without following a symlink in its place.
fn open_regular_nofollow(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)?;
    if !f.metadata()?.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    Ok(f)
}

/// Fails unless `path` is a regular file (not a symlink: link(2) would link the symlink).
fn check_regular(path: &Path) -> io::Result<()> {
    if std::fs::symlink_metadata(path)?.is_file() {
        Ok(())
    } else {
        Err(io::Error::other(
            "not a regular file; a symlink is never linked",
        ))
    }
}

/// Creates a new file with mode 0600 (never wider, whatever the umask).
pub(crate) fn create_private_file(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .read(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl Backend for LocalBackend {
    fn list(&self, dir: &str) -> io::Result<Vec<String>> {
        let rd = match std::fs::read_dir(self.path(dir)) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        for entry in rd {
            let entry = entry?;
            if let Some(name) = entry.file_name().to_str() {
                out.push(name.to_string());
            }
        }
        out.sort();
        Ok(out)
    }

    fn list_meta(&self, dir: &str) -> io::Result<Vec<ObjectMeta>> {
        use std::os::unix::fs::MetadataExt;
        let mut out = Vec::new();
        for name in self.list(dir)? {
            let meta = match std::fs::symlink_metadata(self.path(dir).join(&name)) {
                Ok(m) => m,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            if !meta.is_file() {
                continue;
            }
            let mtime = meta.mtime().saturating_mul(1_000_000_000) + meta.mtime_nsec();
            let ctime = meta.ctime().saturating_mul(1_000_000_000) + meta.ctime_nsec();
            out.push(ObjectMeta {
                name,
                size: meta.len(),
                modified_ns: mtime.max(ctime),
            });
        }
        Ok(out)
    }

    fn head(&self, name: &str) -> io::Result<Option<u64>> {
        match std::fs::symlink_metadata(self.path(name)) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn get(&self, name: &str) -> io::Result<Vec<u8>> {
        std::fs::read(self.path(name))
    }

    fn get_range(&self, name: &str, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        use std::os::unix::fs::FileExt;
        let f = File::open(self.path(name))?;
        // Never more than the file holds: `len` may come from a damaged index.
        let size = f.metadata()?.len();
        let len = len.min(size.saturating_sub(offset) as usize);
        let mut out = vec![0u8; len];
        let mut done = 0;
        while done < len {
            match f.read_at(&mut out[done..], offset + done as u64) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        out.truncate(done);
        Ok(out)
    }

    fn put_new(&self, name: &str, data: &[u8]) -> io::Result<()> {
        let tmp = self.write_temp(data, false)?;
        let res = self.publish(&tmp, name);
        let _ = std::fs::remove_file(&tmp);
        res
    }

    fn delete(&self, name: &str) -> io::Result<()> {
        match std::fs::remove_file(self.path(name)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    fn local(&self) -> Option<&dyn LocalStore> {
        Some(self)
    }
}

impl LocalStore for LocalBackend {
    fn root(&self) -> &Path {
        &self.root
    }

    fn tmp_dir(&self) -> &Path {
        &self.tmp
    }

    fn link(&self, src: &Path, name: &str, reflink: bool) -> io::Result<LinkKind> {
        let dest = self.path(name);
        if reflink && self.reflink_ok.load(Ordering::Relaxed) {
            let tmp = self.temp_name("reflink");
            match self.reflink_into(src, &tmp) {
                Ok(()) => {
                    let res = Self::rename_into(&tmp, &dest);
                    if res.is_err() {
                        let _ = std::fs::remove_file(&tmp);
                    }
                    return res.map(|_| LinkKind::Reflink);
                }
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    let unsupported = matches!(
                        e.raw_os_error(),
                        Some(libc_errno::EOPNOTSUPP)
                            | Some(libc_errno::EINVAL)
                            | Some(libc_errno::EXDEV)
                            | Some(libc_errno::ENOTTY)
                            | Some(libc_errno::EPERM)
                    );
                    if !unsupported {
                        return Err(e);
                    }
                    self.reflink_ok.store(false, Ordering::Relaxed);
                }
            }
        }
        // link(2) links a symlink itself: the source must be a regular file, and what was
        // linked is checked again (the source may be swapped in between).
        check_regular(src)?;
        // A new name: link(2) publishes it atomically with the whole file, no temp needed.
        // An existing one (a leftover, possibly torn) is replaced through a temp link.
        match Self::link_new(src, &dest) {
            Ok(()) => {
                if let Err(e) = check_regular(&dest) {
                    let _ = std::fs::remove_file(&dest);
                    return Err(e);
                }
                return Ok(LinkKind::Hardlink);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        let tmp = self.temp_name("link");
        Self::link_new(src, &tmp)?;
        if let Err(e) = check_regular(&tmp) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        let res = Self::rename_into(&tmp, &dest);
        // rename(2) does nothing when both names are links to the same inode: drop the temp.
        let _ = std::fs::remove_file(&tmp);
        res.map(|_| LinkKind::Hardlink)
    }

    fn publish(&self, tmp: &Path, name: &str) -> io::Result<()> {
        let dest = self.path(name);
        File::open(tmp)?.sync_all()?;
        Self::link_new(tmp, &dest)?;
        std::fs::remove_file(tmp)?;
        sync_dir(dest.parent().unwrap_or(&self.root))
    }

    fn replace_durable(&self, name: &str, data: &[u8]) -> io::Result<()> {
        let dest = self.path(name);
        let tmp = self.write_temp(data, true)?;
        let res = Self::rename_into(&tmp, &dest);
        if res.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        res?;
        sync_dir(dest.parent().unwrap_or(&self.root))
    }

    fn sync(&self) -> io::Result<()> {
        let dir = File::open(&self.root)?;
        rustix::fs::syncfs(&dir).map_err(io::Error::from)
    }
}

/// The errno values that mean "this filesystem cannot reflink here".
mod libc_errno {
    pub const EPERM: i32 = 1;
    pub const EXDEV: i32 = 18;
    pub const EINVAL: i32 = 22;
    pub const ENOTTY: i32 = 25;
    pub const EOPNOTSUPP: i32 = 95;
}

/// Fault injection: lets the first `budget` mutating operations (put_new, link, publish,
/// replace, delete, sync) through, then fails every later one, as a process killed at that
/// point would stop. Reads always pass. Used by the crash-consistency tests, which also ask it
/// what a power loss could take away ([`FailAfter::unsynced`]).
#[derive(Debug)]
pub struct FailAfter {
    inner: Arc<LocalBackend>,
    remaining: AtomicI64,
    tripped: AtomicBool,
    used: AtomicU64,
    unsynced: Mutex<Vec<String>>,
}

impl FailAfter {
    pub fn new(inner: Arc<LocalBackend>, budget: u64) -> FailAfter {
        FailAfter {
            inner,
            remaining: AtomicI64::new(budget as i64),
            tripped: AtomicBool::new(false),
            used: AtomicU64::new(0),
            unsynced: Mutex::new(Vec::new()),
        }
    }

    /// Mutating operations that went through.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::SeqCst)
    }

    /// Names published by `link` since the last successful `sync`: what a power loss may take
    /// away or leave torn.
    pub fn unsynced(&self) -> Vec<String> {
        self.unsynced.lock().expect("poisoned").clone()
    }

    fn published(&self, name: &str) {
        self.unsynced
            .lock()
            .expect("poisoned")
            .push(name.to_string());
    }

    /// Whether a write was refused.
    pub fn tripped(&self) -> bool {
        self.tripped.load(Ordering::SeqCst)
    }

    fn spend(&self) -> io::Result<()> {
        if self.remaining.fetch_sub(1, Ordering::SeqCst) <= 0 {
            self.tripped.store(true, Ordering::SeqCst);
            return Err(io::Error::other("injected fault: write refused"));
        }
        self.used.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

impl Backend for FailAfter {
    fn list(&self, dir: &str) -> io::Result<Vec<String>> {
        self.inner.list(dir)
    }
    fn list_meta(&self, dir: &str) -> io::Result<Vec<ObjectMeta>> {
        self.inner.list_meta(dir)
    }
    fn head(&self, name: &str) -> io::Result<Option<u64>> {
        self.inner.head(name)
    }
    fn get(&self, name: &str) -> io::Result<Vec<u8>> {
        self.inner.get(name)
    }
    fn get_range(&self, name: &str, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        self.inner.get_range(name, offset, len)
    }
    fn put_new(&self, name: &str, data: &[u8]) -> io::Result<()> {
        self.spend()?;
        self.inner.put_new(name, data)
    }
    fn delete(&self, name: &str) -> io::Result<()> {
        self.spend()?;
        self.inner.delete(name)
    }
    fn local(&self) -> Option<&dyn LocalStore> {
        Some(self)
    }
}

impl LocalStore for FailAfter {
    fn root(&self) -> &Path {
        self.inner.root()
    }
    fn tmp_dir(&self) -> &Path {
        self.inner.tmp_dir()
    }
    fn link(&self, src: &Path, name: &str, reflink: bool) -> io::Result<LinkKind> {
        self.spend()?;
        let kind = self.inner.link(src, name, reflink)?;
        self.published(name);
        Ok(kind)
    }
    fn publish(&self, tmp: &Path, name: &str) -> io::Result<()> {
        self.spend()?;
        self.inner.publish(tmp, name)
    }
    fn replace_durable(&self, name: &str, data: &[u8]) -> io::Result<()> {
        self.spend()?;
        self.inner.replace_durable(name, data)
    }
    fn sync(&self) -> io::Result<()> {
        self.spend()?;
        self.inner.sync()?;
        self.unsynced.lock().expect("poisoned").clear();
        Ok(())
    }
}
