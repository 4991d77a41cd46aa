//! Consistent copies of live bbolt databases.
//!
//! bbolt takes an advisory `flock` on its file: exclusive while mox has it open read-write. A
//! non-blocking shared lock therefore succeeds only when no writer has the file open; held for
//! the copy alone, it cannot corrupt the copy. mox gives up opening a database after 5 s, so the
//! lock is never held for longer than the copy takes.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use rustix::fs::{FlockOperation, flock};

use super::MoxError;

/// Takes a NON-BLOCKING shared flock on `live`, copies it to `dest` (created new, mode 0600: a
/// copy of an account's or the server's database is as secret as the database), releases at
/// once.
/// If the lock is refused: [`MoxError::ServerRunning`], whose message says the server is running
/// and names the remedy (`--via-ctl`, or stop mox / use a filesystem snapshot).
pub fn copy_database(live: &Path, dest: &Path) -> Result<u64, MoxError> {
    let mut out = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dest)
        .map_err(|e| MoxError::io(dest, e))?;
    let n = with_shared_lock(live, |src| copy_contents(src, &mut out, live, dest));
    match n {
        Ok(n) => {
            out.flush().map_err(|e| MoxError::io(dest, e))?;
            Ok(n)
        }
        Err(e) => {
            drop(out);
            let _ = std::fs::remove_file(dest);
            Err(e)
        }
    }
}

/// Copies `src` to the empty `out`: a reflink where the filesystem shares blocks (btrfs, XFS:
/// instant, whatever the size), else an in-kernel copy, else a plain read/write loop.
fn copy_contents(
    src: &mut File,
    out: &mut File,
    live: &Path,
    dest: &Path,
) -> Result<u64, MoxError> {
    #[cfg(target_os = "linux")]
    {
        use rustix::io::Errno;
        if rustix::fs::ioctl_ficlone(&*out, &*src).is_ok() {
            return Ok(out.metadata().map_err(|e| MoxError::io(dest, e))?.len());
        }
        let mut copied = 0u64;
        loop {
            match rustix::fs::copy_file_range(&*src, None, &*out, None, 1 << 30) {
                Ok(0) => return Ok(copied),
                Ok(n) => copied += n as u64,
                Err(Errno::INTR) => {}
                // Not supported here: fall back to reading and writing (nothing copied yet).
                Err(Errno::XDEV | Errno::NOSYS | Errno::INVAL | Errno::OPNOTSUPP | Errno::PERM)
                    if copied == 0 =>
                {
                    break;
                }
                Err(e) => return Err(MoxError::io(live, e.into())),
            }
        }
    }
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(MoxError::io(live, e)),
        };
        out.write_all(&buf[..n])
            .map_err(|e| MoxError::io(dest, e))?;
        total += n as u64;
    }
    Ok(total)
}

/// Reads the whole of `live` into memory under the same short shared lock.
pub fn read_database(live: &Path) -> Result<Vec<u8>, MoxError> {
    with_shared_lock(live, |src| {
        let mut data = Vec::new();
        src.read_to_end(&mut data)
            .map_err(|e| MoxError::io(live, e))?;
        Ok(data)
    })
}

/// Tries the same non-blocking shared lock on `live` and releases it at once, copying nothing:
/// a backup asks every database before it writes anything, so a running server is refused
/// before any work. A missing file or a symlink is not refused here (the copy reports it).
pub fn probe_lock(live: &Path) -> Result<(), MoxError> {
    match with_shared_lock(live, |_| Ok(())) {
        Err(MoxError::ServerRunning { path }) => Err(MoxError::ServerRunning { path }),
        _ => Ok(()),
    }
}

/// Opens a database without following a symlink in its place: a link there could point at any
/// file of the system, which must never end up in a backup.
fn open_no_follow(live: &Path) -> Result<File, MoxError> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(live)
        .map_err(|e| {
            if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
                MoxError::Corrupt {
                    path: live.to_path_buf(),
                    what: "is a symlink, not a database file: not followed".into(),
                }
            } else {
                MoxError::io(live, e)
            }
        })
}

fn with_shared_lock<T>(
    live: &Path,
    f: impl FnOnce(&mut File) -> Result<T, MoxError>,
) -> Result<T, MoxError> {
    let mut src = open_no_follow(live)?;
    match flock(&src, FlockOperation::NonBlockingLockShared) {
        Ok(()) => {}
        Err(e) if e == rustix::io::Errno::WOULDBLOCK || e == rustix::io::Errno::AGAIN => {
            return Err(MoxError::ServerRunning {
                path: live.to_path_buf(),
            });
        }
        Err(e) => return Err(MoxError::io(live, e.into())),
    }
    let r = f(&mut src);
    // Release at once; closing the file would release it too.
    let unlock = flock(&src, FlockOperation::Unlock);
    drop(src);
    let v = r?;
    unlock.map_err(|e| MoxError::io(live, e.into()))?;
    Ok(v)
}
