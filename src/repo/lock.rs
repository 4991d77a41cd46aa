//! The repository lock (`REPO/lock` and `REPO/locks/<name>`). Only this module knows the bytes
//! of a lock record.
//!
//! Mutual exclusion comes from `flock(2)` on `REPO/lock`: shared for backup, restore, export,
//! check and replicate, exclusive for repair, migrate, forget, tag and prune. The kernel drops a
//! lock when its holder dies, so a lock can never be left behind by a crash. Each holder also
//! writes a record into `REPO/locks/` (pid, host, start time, purpose) so that a refusal can
//! say who holds the repository; a record whose process is gone is stale and removed.
//!
//! Record layout:
//! ```text
//! offset size  field
//! 0      4     magic "MVLK"
//! 4      4     lock record version, u32 LE (1)
//! 8      ...   postcard(LockRecord)
//! ```

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::repo::backend::{Backend, create_private_dir, create_private_file};

pub const LOCK_MAGIC: [u8; 4] = *b"MVLK";
pub const LOCK_VERSION: u32 = 1;
/// The file every holder flocks.
pub const LOCK_FILE: &str = "lock";
/// The directory of lock records.
pub const LOCKS_DIR: &str = "locks";
/// How long a shared request waits for another process's clean-up (milliseconds).
const SHARED_WAIT_MS: u64 = 10_000;

/// Who holds (or held) the lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockRecord {
    pub pid: u32,
    pub host: String,
    /// Start time, ns since the epoch.
    pub time_ns: i64,
    pub exclusive: bool,
    /// The command that took it (`backup`, `repair index`, ...).
    pub purpose: String,
}

impl LockRecord {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = LOCK_MAGIC.to_vec();
        out.extend_from_slice(&LOCK_VERSION.to_le_bytes());
        out.extend_from_slice(&postcard::to_stdvec(self).expect("lock record encodes"));
        out
    }

    pub fn decode(bytes: &[u8], path: &Path) -> Result<LockRecord> {
        if bytes.len() < 8 || bytes[0..4] != LOCK_MAGIC {
            return Err(Error::corrupt(path, "not a lock record"));
        }
        let version = u32::from_le_bytes(bytes[4..8].try_into().expect("4 bytes"));
        if version != LOCK_VERSION {
            return Err(Error::UnsupportedVersion {
                path: path.to_path_buf(),
                found: version,
                supported: LOCK_VERSION,
            });
        }
        postcard::from_bytes(&bytes[8..]).map_err(|e| Error::corrupt(path, format!("lock: {e}")))
    }

    /// The name of this record in `locks/`.
    fn file_name(&self) -> String {
        format!(
            "{}-{}-{}",
            self.host.replace('/', "_"),
            self.pid,
            self.time_ns
        )
    }

    fn describe(&self) -> String {
        let how = if self.exclusive {
            "locked exclusively"
        } else {
            "locked"
        };
        let since = humantime::format_rfc3339_seconds(
            std::time::UNIX_EPOCH + std::time::Duration::from_nanos(self.time_ns.max(0) as u64),
        );
        format!(
            "{how} by pid {} on {} since {since} ({})",
            self.pid, self.host, self.purpose
        )
    }

    /// Whether the holder is known to be gone (a process of this host that no longer exists).
    fn is_stale(&self, host: &str) -> bool {
        if self.host != host {
            return false;
        }
        let Some(pid) = rustix::process::Pid::from_raw(self.pid as i32) else {
            return true;
        };
        matches!(
            rustix::process::test_kill_process(pid),
            Err(rustix::io::Errno::SRCH)
        )
    }
}

/// Shared or exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    Shared,
    Exclusive,
}

/// A held repository lock; released on drop.
#[derive(Debug)]
pub struct RepoLock {
    /// `None` on a read-only repository, where nothing can be written and no lock is needed.
    file: Option<File>,
    record: Option<PathBuf>,
    /// On object storage: the record, renewed while the lock is held.
    remote: Option<Refresher>,
}

/// On object storage a record is the lock: one older than this is stale (its holder is
/// presumed gone: a holder writes a new record every [`REMOTE_REFRESH`]).
pub const REMOTE_STALE_NS: i64 = 2 * 3600 * 1_000_000_000;
/// How often a holder of a remote lock writes a fresh record (and removes the previous one,
/// which a put-only credential cannot: it goes stale).
pub const REMOTE_REFRESH: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// Keeps a remote lock record fresh from a thread of its own; removes it when dropped.
#[derive(Debug)]
struct Refresher {
    backend: std::sync::Arc<dyn Backend>,
    current: std::sync::Arc<std::sync::Mutex<String>>,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Refresher {
    fn start(
        backend: std::sync::Arc<dyn Backend>,
        name: String,
        record: LockRecord,
        every: std::time::Duration,
    ) -> Refresher {
        let current = std::sync::Arc::new(std::sync::Mutex::new(name));
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = {
            let backend = backend.clone();
            let current = current.clone();
            std::thread::spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(every)
                {
                    let fresh = LockRecord {
                        time_ns: crate::repo::now_ns(),
                        ..record.clone()
                    };
                    let name = format!("{LOCKS_DIR}/{}", fresh.file_name());
                    if backend.put_new(&name, &fresh.encode()).is_ok() {
                        let old = std::mem::replace(
                            &mut *current.lock().expect("lock record poisoned"),
                            name,
                        );
                        let _ = backend.delete(&old);
                    }
                }
            })
        };
        Refresher {
            backend,
            current,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The name of the record written last.
    fn current(&self) -> String {
        self.current.lock().expect("lock record poisoned").clone()
    }
}

impl Drop for Refresher {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = self.backend.delete(&self.current());
    }
}

pub(crate) fn host() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

fn try_flock(f: &File, op: rustix::fs::FlockOperation) -> std::io::Result<bool> {
    match rustix::fs::flock(f, op) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The live lock records of the repository (stale ones are removed on the way).
pub fn holders(root: &Path) -> Vec<LockRecord> {
    let dir = root.join(LOCKS_DIR);
    let here = host();
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return out;
    };
    for entry in rd.flatten() {
        let path = entry.path();
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        match LockRecord::decode(&bytes, &path) {
            Ok(r) if r.is_stale(&here) => {
                let _ = std::fs::remove_file(&path);
            }
            Ok(r) => out.push(r),
            Err(_) => {}
        }
    }
    out.sort_by_key(|r| (r.time_ns, r.pid));
    out
}

fn refused(root: &Path, mode: LockMode) -> Error {
    let holders = holders(root);
    let who: Vec<String> = holders
        .iter()
        .filter(|r| mode == LockMode::Exclusive || r.exclusive)
        .map(LockRecord::describe)
        .collect();
    let who = if who.is_empty() {
        "locked by another process".to_string()
    } else {
        who.join("; ")
    };
    let wait = match mode {
        LockMode::Shared => "wait until it has finished",
        LockMode::Exclusive => "wait until the other commands have finished",
    };
    Error::Locked(format!("{}: repository is {who}; {wait}", root.display()))
}

impl RepoLock {
    /// Takes the lock. When this process is alone in the repository (no other holder of any
    /// kind), `while_alone` runs before a shared lock is granted to anybody else: the place to
    /// remove leftovers of crashed runs. A shared request waits a few seconds for such a
    /// clean-up of another process before it gives up.
    pub fn acquire(
        root: &Path,
        mode: LockMode,
        purpose: &str,
        while_alone: &dyn Fn(),
    ) -> Result<RepoLock> {
        use rustix::fs::FlockOperation as Op;
        let path = root.join(LOCK_FILE);
        let file = match std::fs::OpenOptions::new().read(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                match create_private_file(&path) {
                    Ok(f) => f,
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        File::open(&path).map_err(|e| Error::io(&path, e))?
                    }
                    Err(e) if read_only(&e) => return Ok(RepoLock::none()),
                    Err(e) => return Err(Error::io(&path, e)),
                }
            }
            Err(e) => return Err(Error::io(&path, e)),
        };
        let flock = |op| try_flock(&file, op).map_err(|e| Error::io(&path, e));
        let alone = flock(Op::NonBlockingLockExclusive)?;
        if alone {
            // Nobody else holds the repository: every record left is stale.
            let _ = holders(root);
            while_alone();
        }
        match mode {
            LockMode::Exclusive if !alone => return Err(refused(root, mode)),
            LockMode::Exclusive => {}
            LockMode::Shared => {
                // Converting is not atomic: another exclusive taker may slip in between, and
                // another process may be cleaning up while alone: wait a little for it.
                let mut granted = flock(Op::NonBlockingLockShared)?;
                let mut waited = 0;
                while !granted && waited < SHARED_WAIT_MS {
                    let exclusive_holder = holders(root).iter().any(|r| r.exclusive);
                    if exclusive_holder {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    waited += 50;
                    granted = flock(Op::NonBlockingLockShared)?;
                }
                if !granted {
                    return Err(refused(root, mode));
                }
            }
        }
        let record = LockRecord {
            pid: std::process::id(),
            host: host(),
            time_ns: crate::repo::now_ns(),
            exclusive: mode == LockMode::Exclusive,
            purpose: purpose.to_string(),
        };
        let dir = root.join(LOCKS_DIR);
        let name = dir.join(format!(
            "{}-{}-{}",
            record.host.replace('/', "_"),
            record.pid,
            record.time_ns
        ));
        let written = create_private_dir(&dir)
            .and_then(|_| create_private_file(&name))
            .and_then(|mut f| f.write_all(&record.encode()));
        let record_path = match written {
            Ok(()) => Some(name),
            Err(_) => None,
        };
        Ok(RepoLock {
            file: Some(file),
            record: record_path,
            remote: None,
        })
    }

    fn none() -> RepoLock {
        RepoLock {
            file: None,
            record: None,
            remote: None,
        }
    }

    /// Takes the lock of a repository on object storage, where there is no flock: the records
    /// in `locks/` are the lock. Lists the live records (younger than [`REMOTE_STALE_NS`]) and
    /// refuses when one conflicts; writes its own record create-only; lists again and, when a
    /// conflicting record appeared meanwhile, removes its own and refuses. Two processes that
    /// both write and then list see each other (S3's listings are strongly consistent), so at
    /// most one of two conflicting takers proceeds.
    pub fn acquire_remote(
        backend: std::sync::Arc<dyn Backend>,
        shown: &Path,
        mode: LockMode,
        purpose: &str,
    ) -> Result<RepoLock> {
        let record = LockRecord {
            pid: std::process::id(),
            host: host(),
            time_ns: crate::repo::now_ns(),
            exclusive: mode == LockMode::Exclusive,
            purpose: purpose.to_string(),
        };
        let own = record.file_name();
        let conflicts = |backend: &dyn Backend| -> Result<Vec<LockRecord>> {
            let dir = shown.join(LOCKS_DIR);
            let names = backend.list(LOCKS_DIR).map_err(|e| Error::io(&dir, e))?;
            let mut out = Vec::new();
            for name in names.into_iter().filter(|n| *n != own) {
                let rel = format!("{LOCKS_DIR}/{name}");
                let Ok(bytes) = backend.get(&rel) else {
                    continue;
                };
                let Ok(r) = LockRecord::decode(&bytes, &shown.join(&rel)) else {
                    continue;
                };
                // A holder of this host whose process is gone is stale at once.
                if r.is_stale(&record.host) {
                    let _ = backend.delete(&rel);
                    continue;
                }
                let live = record.time_ns.saturating_sub(r.time_ns) < REMOTE_STALE_NS;
                if live && (mode == LockMode::Exclusive || r.exclusive) {
                    out.push(r);
                }
            }
            Ok(out)
        };
        let refuse = |who: Vec<LockRecord>| {
            let who: Vec<String> = who.iter().map(LockRecord::describe).collect();
            Error::Locked(format!(
                "{}: repository is {}; wait until it has finished (holders renew their record \
                 every 30 minutes; one older than 2 hours is ignored)",
                shown.display(),
                who.join("; ")
            ))
        };
        let before = conflicts(backend.as_ref())?;
        if !before.is_empty() {
            return Err(refuse(before));
        }
        let rel = format!("{LOCKS_DIR}/{own}");
        backend
            .put_new(&rel, &record.encode())
            .map_err(|e| Error::io(shown.join(&rel), e))?;
        let after = conflicts(backend.as_ref())?;
        if !after.is_empty() {
            let _ = backend.delete(&rel);
            return Err(refuse(after));
        }
        Ok(RepoLock {
            file: None,
            record: None,
            remote: Some(Refresher::start(backend, rel, record, REMOTE_REFRESH)),
        })
    }
}

fn read_only(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied
    )
}

impl Drop for RepoLock {
    fn drop(&mut self) {
        if let Some(r) = &self.record {
            let _ = std::fs::remove_file(r);
        }
        // Stops the renewal and removes the record (a put-only credential cannot: it goes
        // stale).
        self.remote.take();
        // Closing the file releases the flock.
        self.file.take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::LocalBackend;

    #[test]
    fn a_remote_record_is_renewed_while_held_and_removed_after() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(LOCKS_DIR)).unwrap();
        let backend: std::sync::Arc<dyn Backend> =
            std::sync::Arc::new(LocalBackend::new(dir.path()));
        let record = LockRecord {
            pid: std::process::id(),
            host: host(),
            time_ns: crate::repo::now_ns(),
            exclusive: false,
            purpose: "test".into(),
        };
        let first = format!("{LOCKS_DIR}/{}", record.file_name());
        backend.put_new(&first, &record.encode()).unwrap();
        let held = Refresher::start(
            backend.clone(),
            first.clone(),
            record.clone(),
            std::time::Duration::from_millis(40),
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
        let names = backend.list(LOCKS_DIR).unwrap();
        assert_eq!(names.len(), 1, "the previous record is removed: {names:?}");
        let now = format!("{LOCKS_DIR}/{}", names[0]);
        assert_ne!(now, first);
        assert_eq!(held.current(), now);
        let renewed = LockRecord::decode(&backend.get(&now).unwrap(), Path::new(&now)).unwrap();
        assert!(renewed.time_ns > record.time_ns);
        assert_eq!(renewed.pid, record.pid);
        drop(held);
        assert!(backend.list(LOCKS_DIR).unwrap().is_empty());
    }
}
