//! Where repository files live. A backend is a dumb store of named files; everything that
//! knows what the bytes mean sits above it. Names are relative, '/'-separated
//! (`objects/ab/<hex>`, `snapshots/<hex>`, `config`).
//!
//! Durability contract (see docs/format.md, "Write order"):
//! - [`Backend::put`] and [`Backend::link`] publish atomically (a reader sees nothing or the
//!   whole file) but not durably: after a crash the name may be missing.
//! - [`Backend::sync`] makes every earlier `put`/`link` durable.
//! - [`Backend::put_durable`] is durable when it returns (temp, fsync, rename, fsync dir).
//!
//! Names are content addresses, so `put` of an existing name may replace it: the content is the
//! same by construction, and replacing heals a file damaged by a crash before its sync.

use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A store of named files.
pub trait Backend: Send + Sync + fmt::Debug {
    /// Publishes `data` at `name` atomically (create or replace), not yet durably.
    fn put(&self, name: &str, data: &[u8]) -> io::Result<()>;
    /// Publishes `data` at `name` atomically and durably.
    fn put_durable(&self, name: &str, data: &[u8]) -> io::Result<()>;
    /// Publishes the existing file `src` at `name` as a hardlink (atomic, not yet durable).
    /// Fails (e.g. `CrossesDevices`, `PermissionDenied`) when a hardlink is impossible.
    fn link(&self, src: &Path, name: &str) -> io::Result<()>;
    /// The whole content of `name`.
    fn get(&self, name: &str) -> io::Result<Vec<u8>>;
    /// Up to `len` bytes of `name` from `offset` (fewer at the end of the file).
    fn get_range(&self, name: &str, offset: u64, len: usize) -> io::Result<Vec<u8>>;
    /// The size of `name`, or `None` when it does not exist.
    fn size(&self, name: &str) -> io::Result<Option<u64>>;
    /// The file names (not paths) directly inside directory `dir`; empty when it is missing.
    fn list(&self, dir: &str) -> io::Result<Vec<String>>;
    /// Removes `name`; missing is not an error.
    fn delete(&self, name: &str) -> io::Result<()>;
    /// Makes every earlier `put` and `link` durable.
    fn sync(&self) -> io::Result<()>;
    /// The local file behind `name`, when the backend is a local directory (for hardlinks).
    fn local_path(&self, name: &str) -> Option<PathBuf>;
}

/// A repository in a local directory. Temp files go to `tmp/` inside it (same filesystem, so
/// rename is atomic).
#[derive(Debug)]
pub struct LocalBackend {
    root: PathBuf,
    tmp: PathBuf,
    counter: AtomicU64,
}

impl LocalBackend {
    pub fn new(root: &Path) -> LocalBackend {
        LocalBackend {
            root: root.to_path_buf(),
            tmp: root.join("tmp"),
            counter: AtomicU64::new(0),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    fn temp_name(&self, what: &str) -> PathBuf {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        self.tmp.join(format!("{what}-{}-{n}", std::process::id()))
    }

    /// Renames `tmp` to `dest`, creating the parent directory when it is missing (a copied
    /// repository may have lost its empty object directories).
    fn publish(&self, tmp: tempfile::NamedTempFile, dest: &Path) -> io::Result<()> {
        match tmp.persist(dest) {
            Ok(_) => Ok(()),
            Err(e) if e.error.kind() == io::ErrorKind::NotFound => {
                if let Some(parent) = dest.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                e.file.persist(dest).map(|_| ()).map_err(|e| e.error)
            }
            Err(e) => Err(e.error),
        }
    }

    fn write_temp(&self, data: &[u8], durable: bool) -> io::Result<tempfile::NamedTempFile> {
        let builder = || {
            tempfile::Builder::new()
                .prefix("put-")
                .tempfile_in(&self.tmp)
        };
        let mut tmp = match builder() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                std::fs::create_dir_all(&self.tmp)?;
                builder()?
            }
            other => other?,
        };
        tmp.write_all(data)?;
        if durable {
            tmp.as_file().sync_all()?;
        }
        Ok(tmp)
    }
}

impl Backend for LocalBackend {
    fn put(&self, name: &str, data: &[u8]) -> io::Result<()> {
        let tmp = self.write_temp(data, false)?;
        self.publish(tmp, &self.path(name))
    }

    fn put_durable(&self, name: &str, data: &[u8]) -> io::Result<()> {
        let dest = self.path(name);
        let tmp = self.write_temp(data, true)?;
        self.publish(tmp, &dest)?;
        let dir = dest.parent().unwrap_or(&self.root);
        File::open(dir)?.sync_all()
    }

    fn link(&self, src: &Path, name: &str) -> io::Result<()> {
        // A new name: link(2) publishes it atomically with the whole file, no temp needed.
        // An existing one is replaced through a temp link, as `put` replaces.
        let dest = self.path(name);
        match std::fs::hard_link(src, &dest) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound && src.exists() => {}
            Err(e) => return Err(e),
        }
        let tmp = self.temp_name("link");
        if let Err(e) = std::fs::hard_link(src, &tmp) {
            if e.kind() != io::ErrorKind::NotFound || !src.exists() {
                return Err(e);
            }
            std::fs::create_dir_all(&self.tmp)?;
            std::fs::hard_link(src, &tmp)?;
        }
        let mut res = std::fs::rename(&tmp, &dest);
        if matches!(&res, Err(e) if e.kind() == io::ErrorKind::NotFound)
            && let Some(parent) = dest.parent()
        {
            std::fs::create_dir_all(parent)?;
            res = std::fs::rename(&tmp, &dest);
        }
        // rename(2) does nothing when both names are links to the same inode: drop the temp.
        match std::fs::remove_file(&tmp) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) if res.is_ok() => return Err(e),
            Err(_) => {}
        }
        res
    }

    fn get(&self, name: &str) -> io::Result<Vec<u8>> {
        std::fs::read(self.path(name))
    }

    fn get_range(&self, name: &str, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = File::open(self.path(name))?;
        f.seek(SeekFrom::Start(offset))?;
        let mut out = Vec::with_capacity(len);
        f.take(len as u64).read_to_end(&mut out)?;
        Ok(out)
    }

    fn size(&self, name: &str) -> io::Result<Option<u64>> {
        match std::fs::metadata(self.path(name)) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

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

    fn delete(&self, name: &str) -> io::Result<()> {
        match std::fs::remove_file(self.path(name)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    fn sync(&self) -> io::Result<()> {
        let dir = File::open(&self.root)?;
        rustix::fs::syncfs(&dir).map_err(io::Error::from)
    }

    fn local_path(&self, name: &str) -> Option<PathBuf> {
        Some(self.path(name))
    }
}

/// Fault injection: lets the first `budget` mutating operations (put, put_durable, link, delete,
/// sync) through, then fails every later one, as a process killed at that point would stop.
/// Reads always pass. Used by the crash-consistency tests.
#[derive(Debug)]
pub struct FailAfter {
    inner: Arc<dyn Backend>,
    remaining: AtomicI64,
    tripped: AtomicBool,
    used: AtomicU64,
    unsynced: Mutex<Vec<String>>,
}

impl FailAfter {
    pub fn new(inner: Arc<dyn Backend>, budget: u64) -> FailAfter {
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

    /// Names published by `put`/`link` since the last successful `sync`: what a power loss
    /// may take away.
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
    fn put(&self, name: &str, data: &[u8]) -> io::Result<()> {
        self.spend()?;
        self.inner.put(name, data)?;
        self.published(name);
        Ok(())
    }
    fn put_durable(&self, name: &str, data: &[u8]) -> io::Result<()> {
        self.spend()?;
        self.inner.put_durable(name, data)
    }
    fn link(&self, src: &Path, name: &str) -> io::Result<()> {
        self.spend()?;
        self.inner.link(src, name)?;
        self.published(name);
        Ok(())
    }
    fn get(&self, name: &str) -> io::Result<Vec<u8>> {
        self.inner.get(name)
    }
    fn get_range(&self, name: &str, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        self.inner.get_range(name, offset, len)
    }
    fn size(&self, name: &str) -> io::Result<Option<u64>> {
        self.inner.size(name)
    }
    fn list(&self, dir: &str) -> io::Result<Vec<String>> {
        self.inner.list(dir)
    }
    fn delete(&self, name: &str) -> io::Result<()> {
        self.spend()?;
        self.inner.delete(name)
    }
    fn sync(&self) -> io::Result<()> {
        self.spend()?;
        self.inner.sync()?;
        self.unsynced.lock().expect("poisoned").clear();
        Ok(())
    }
    fn local_path(&self, name: &str) -> Option<PathBuf> {
        self.inner.local_path(name)
    }
}
