//! Capturing one path of a source: shared by the plain tree backup and the mail-aware backup, so
//! both save the same things the same way (a symlink with its target, a file opened without
//! following a symlink put in its place).

use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::tree::{Entry, entry_from_fs};

/// The entry of a path from its lstat metadata: a symlink gets its target (never followed). No
/// content, no link group. The error is a sentence for a problem notice.
pub(crate) fn capture_entry(abs: &Path, rel: &Path, meta: &Metadata) -> Result<Entry, String> {
    let mut entry = entry_from_fs(rel, meta);
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(abs).map_err(|e| format!("cannot read symlink: {e}"))?;
        // Targets of any bytes are kept (tree format 2).
        entry.set_fs_target(&target);
    }
    Ok(entry)
}

/// Opens a file that must be a regular file, without following a symlink in its place (the
/// link could point at any file of the system: its target is never read). A symlink, a
/// directory or a special file there is an error saying so.
pub(crate) fn open_regular(abs: &Path) -> io::Result<(File, Metadata)> {
    let file = OpenOptions::new()
        .read(true)
        // NONBLOCK: a FIFO in the file's place must not hang the open (no effect on files).
        .custom_flags((rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32)
        .open(abs)
        .map_err(|e| {
            if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
                io::Error::other("is a symlink where a regular file should be: not followed")
            } else {
                e
            }
        })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other("is not a regular file"));
    }
    Ok((file, meta))
}
