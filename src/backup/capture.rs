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

/// A map that holds at most about `2 * cap` entries: two generations, the newer one filled
/// until it holds `cap`, then it becomes the older one (the older one is dropped). A hit in the
/// older generation moves to the newer. For caches whose entries are worth keeping but whose
/// misses only cost work: a source whose every file has several links (they were all linked
/// into a repository) must not make the cache hold every file.
#[derive(Debug)]
pub(crate) struct BoundedCache<K, V> {
    new: std::collections::HashMap<K, V>,
    old: std::collections::HashMap<K, V>,
    cap: usize,
}

impl<K: std::hash::Hash + Eq, V: Clone> BoundedCache<K, V> {
    pub(crate) fn new(cap: usize) -> Self {
        BoundedCache {
            new: std::collections::HashMap::new(),
            old: std::collections::HashMap::new(),
            cap: cap.max(1),
        }
    }

    pub(crate) fn get(&mut self, key: &K) -> Option<V> {
        if let Some(v) = self.new.get(key) {
            return Some(v.clone());
        }
        let (key, v) = self.old.remove_entry(key)?;
        self.insert(key, v.clone());
        Some(v)
    }

    pub(crate) fn insert(&mut self, key: K, value: V) {
        if self.new.len() >= self.cap && !self.new.contains_key(&key) {
            self.old = std::mem::take(&mut self.new);
        }
        self.new.insert(key, value);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.new.len() + self.old.len()
    }
}

#[cfg(test)]
mod tests {
    use super::BoundedCache;

    #[test]
    fn the_cache_stays_bounded_and_keeps_what_is_used() {
        let mut c = BoundedCache::new(100);
        for i in 0..10_000u64 {
            c.insert(i, i * 2);
            // Key 0 is used all along: it never leaves.
            assert_eq!(c.get(&0), Some(0), "{i}");
            assert!(c.len() <= 200, "{i}: {}", c.len());
        }
        assert_eq!(c.get(&9_999), Some(19_998));
        assert_eq!(c.get(&9_950), Some(19_900));
        assert_eq!(c.get(&5), None);
    }
}
