//! Verifying a snapshot: every blob it needs exists and hashes to its name.
//!
//! Reads the tree (root, entry pages, chunk pages), the account manifests and message lists,
//! then every data blob they name (each once, in parallel). Nothing is written, except that the repository moves an object it
//! finds damaged aside (`<name>.damaged`) so that a later backup stores that content again.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use serde::Serialize;

use crate::manifest::{AccountManifest, ListBody, MessageEntry, StoredList};
use crate::repo::Repository;
use crate::restore::mox::decode_chunk_list;
use crate::snapshot::Snapshot;
use crate::tree::walk_tree;
use crate::{BlobId, Event, Progress, Result};

/// What verification found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    /// Distinct blobs the snapshot needs.
    pub blobs: u64,
    pub bytes: u64,
    /// Blobs that are missing or damaged, each with what is wrong.
    pub damaged: Vec<DamagedBlob>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DamagedBlob {
    pub id: String,
    /// Where the snapshot uses it (the first use found).
    pub used_by: String,
    pub error: String,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.damaged.is_empty()
    }
}

/// Every blob a snapshot needs, found by reading its structure (tree, manifests, message lists,
/// chunk lists of chunked messages).
#[derive(Debug, Default)]
pub struct SnapshotBlobs {
    /// The tree, manifests, message lists and chunk lists: read (and so verified) while walking.
    pub structure: Vec<(BlobId, String)>,
    pub structure_bytes: u64,
    /// Every other blob (file chunks, message files), each once, with its first use.
    pub data: Vec<(BlobId, String)>,
    /// Structure blobs that are missing, damaged or undecodable (what they name is unknown).
    pub damaged: Vec<DamagedBlob>,
}

/// One blob a snapshot needs, as [`walk_snapshot_blobs`] finds it.
#[derive(Debug, Clone)]
pub struct FoundBlob {
    pub id: BlobId,
    /// Where the snapshot uses it.
    pub what: String,
    /// Tree, manifest, message list or chunk list (read and decoded by the walk already);
    /// else data (file chunks, message files), not read.
    pub structure: bool,
    /// The size of a structure blob (0 for data).
    pub bytes: u64,
}

/// Blobs handed to the sink of [`walk_snapshot_blobs`] at a time.
pub const WALK_BATCH: usize = 4096;

/// Walks a snapshot's structure and hands the blobs it needs to `sink`, in batches of at most
/// [`WALK_BATCH`], as it finds them: memory holds a batch (and the tree), never every blob
/// of the snapshot. A structure blob is handed on once read and decoded; one that cannot be
/// is returned as damaged, and what it names is left out. A data blob used twice may be
/// handed on twice. An error of the sink stops the walk.
pub fn walk_snapshot_blobs(
    repo: &Repository,
    snapshot: &Snapshot,
    sink: &mut dyn FnMut(Vec<FoundBlob>) -> Result<()>,
) -> Result<Vec<DamagedBlob>> {
    let mut w = Walker {
        repo,
        sink,
        batch: Vec::new(),
        damaged: Vec::new(),
        chunk_lists: BTreeSet::new(),
    };
    w.walk(snapshot)?;
    w.flush()?;
    Ok(w.damaged)
}

struct Walker<'a> {
    repo: &'a Repository,
    sink: &'a mut dyn FnMut(Vec<FoundBlob>) -> Result<()>,
    batch: Vec<FoundBlob>,
    damaged: Vec<DamagedBlob>,
    /// Chunk lists of chunked messages read so far (each is read once).
    chunk_lists: BTreeSet<BlobId>,
}

impl Walker<'_> {
    fn emit(&mut self, id: BlobId, what: String, bytes: Option<u64>) -> Result<()> {
        self.batch.push(FoundBlob {
            id,
            what,
            structure: bytes.is_some(),
            bytes: bytes.unwrap_or(0),
        });
        match self.batch.len() >= WALK_BATCH {
            true => self.flush(),
            false => Ok(()),
        }
    }

    fn flush(&mut self) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        (self.sink)(std::mem::take(&mut self.batch))
    }

    fn damage(&mut self, id: BlobId, what: String, error: String) {
        self.damaged.push(DamagedBlob {
            id: id.to_hex(),
            used_by: what,
            error,
        });
    }

    /// Reads a structure blob and decodes it; handed on when both work, else named damaged.
    fn structure<T>(
        &mut self,
        id: BlobId,
        what: String,
        decode: impl FnOnce(&[u8]) -> std::result::Result<T, String>,
    ) -> Result<Option<T>> {
        let bytes = match self.repo.get_blob(&id) {
            Ok(bytes) => bytes,
            Err(e) => {
                self.damage(id, what, e.to_string());
                return Ok(None);
            }
        };
        match decode(&bytes) {
            Ok(value) => {
                self.emit(id, what, Some(bytes.len() as u64))?;
                Ok(Some(value))
            }
            Err(e) => {
                self.damage(id, what, e);
                Ok(None)
            }
        }
    }

    fn walk(&mut self, snapshot: &Snapshot) -> Result<()> {
        // The tree: its root, entry pages and chunk pages are structure; what cannot be read
        // of it is damaged, and the entries it lists are left out.
        let tree = walk_tree(self.repo, &snapshot.tree);
        for f in tree.failed {
            self.damage(f.id, f.what, f.error.to_string());
        }
        for blob in tree.blobs {
            self.emit(blob.id, blob.what, Some(blob.bytes))?;
        }
        for entry in tree.tree.entries {
            for chunk in entry.chunks {
                self.emit(chunk, entry.path.clone(), None)?;
            }
        }
        for account in &snapshot.accounts {
            let what = format!("manifest of account {}", account.name);
            let Some(manifest) = self.structure(account.manifest, what, |b| {
                AccountManifest::decode(b).map_err(|e| e.to_string())
            })?
            else {
                continue;
            };
            for mb in &manifest.mailboxes {
                self.mailbox(&account.name, &mb.name, mb.list)?;
            }
        }
        Ok(())
    }

    fn mailbox(&mut self, account: &str, mailbox: &str, list: BlobId) -> Result<()> {
        let what = format!("message list of {account}/{mailbox}");
        let Some(root) = self.structure(list, what, |b| {
            StoredList::decode(b).map_err(|e| e.to_string())
        })?
        else {
            return Ok(());
        };
        match root.body {
            ListBody::Entries(messages) => self.messages(account, mailbox, messages)?,
            // One page at a time.
            ListBody::Pages(pages) => {
                for page in &pages {
                    let what = page.describe(account, mailbox);
                    if let Some(messages) = self.structure(page.blob, what, |b| {
                        page.decode_entries(b).map_err(|e| e.to_string())
                    })? {
                        self.messages(account, mailbox, messages)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn messages(
        &mut self,
        account: &str,
        mailbox: &str,
        messages: Vec<MessageEntry>,
    ) -> Result<()> {
        for m in messages {
            let what = format!("message {} in {account}/{mailbox}", m.id);
            if !m.chunked {
                self.emit(m.blob, what, None)?;
                continue;
            }
            // A chunk list is structure: read (each once), its chunks data.
            if !self.chunk_lists.insert(m.blob) {
                continue;
            }
            let list_what = format!("chunk list of {what}");
            if let Some(list) = self.structure(m.blob, list_what, |b| {
                decode_chunk_list(&m, b).map_err(|e| e.to_string())
            })? {
                for c in list.chunks {
                    self.emit(c, what.clone(), None)?;
                }
            }
        }
        Ok(())
    }
}

/// Walks a snapshot's structure and lists the blobs it needs, each once
/// ([`walk_snapshot_blobs`], collected).
pub fn snapshot_blobs(repo: &Repository, snapshot: &Snapshot) -> SnapshotBlobs {
    let mut out = SnapshotBlobs::default();
    let mut seen = std::collections::HashSet::new();
    let walked = walk_snapshot_blobs(repo, snapshot, &mut |batch| {
        for b in batch {
            if !seen.insert(b.id) {
                continue;
            }
            match b.structure {
                true => {
                    out.structure_bytes += b.bytes;
                    out.structure.push((b.id, b.what));
                }
                false => out.data.push((b.id, b.what)),
            }
        }
        Ok(())
    });
    out.damaged = walked.expect("collecting never fails");
    out
}

/// Checks every blob `snapshot` needs.
pub fn verify(
    repo: &Repository,
    snapshot: &Snapshot,
    progress: &dyn Progress,
) -> Result<VerifyReport> {
    let walked = snapshot_blobs(repo, snapshot);
    let mut report = VerifyReport {
        blobs: walked.structure.len() as u64,
        bytes: walked.structure_bytes,
        damaged: walked.damaged,
    };
    let needed = walked.data;
    progress.event(Event::Phase {
        name: "verify".into(),
        total: Some(needed.len() as u64),
    });
    let bytes = AtomicU64::new(0);
    let mut damaged: Vec<DamagedBlob> = needed
        .par_iter()
        .filter_map(|(id, what)| match repo.get_blob(id) {
            Ok(data) => {
                bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
                progress.event(Event::Advance {
                    phase: "verify".into(),
                    items: 1,
                    bytes: data.len() as u64,
                });
                None
            }
            Err(e) => Some(DamagedBlob {
                id: id.to_hex(),
                used_by: what.clone(),
                error: e.to_string(),
            }),
        })
        .collect();
    damaged.sort_by(|a, b| a.used_by.cmp(&b.used_by));
    report.blobs += needed.len() as u64;
    report.bytes += bytes.into_inner();
    report.damaged.extend(damaged);
    Ok(report)
}

/// The last snapshot taken at or before `time_ns` (nanoseconds since the epoch). A snapshot file
/// that cannot be read is passed over (the `snapshots` command names it).
pub fn snapshot_at(
    repo: &Repository,
    time_ns: i64,
) -> Result<Option<(crate::SnapshotId, Snapshot)>> {
    Ok(repo
        .snapshots_lenient()?
        .0
        .into_iter()
        .filter(|(_, s)| s.time_ns <= time_ns)
        .max_by_key(|(_, s)| s.time_ns))
}
