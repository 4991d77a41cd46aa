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

/// Walks a snapshot's structure and lists the blobs it needs.
pub fn snapshot_blobs(repo: &Repository, snapshot: &Snapshot) -> SnapshotBlobs {
    let mut out = SnapshotBlobs::default();
    let read = |id: BlobId, what: String, out: &mut SnapshotBlobs| -> Option<Vec<u8>> {
        match repo.get_blob(&id) {
            Ok(bytes) => {
                out.structure_bytes += bytes.len() as u64;
                out.structure.push((id, what));
                Some(bytes)
            }
            Err(e) => {
                out.damaged.push(DamagedBlob {
                    id: id.to_hex(),
                    used_by: what,
                    error: e.to_string(),
                });
                None
            }
        }
    };
    let undecodable = |id: BlobId, what: String, error: String, out: &mut SnapshotBlobs| {
        out.structure.retain(|(s, _)| *s != id);
        out.damaged.push(DamagedBlob {
            id: id.to_hex(),
            used_by: what,
            error,
        });
    };
    // The tree: its root, entry pages and chunk pages are structure; what cannot be read of it
    // is damaged, and the entries it lists are left out.
    let tree = walk_tree(repo, &snapshot.tree);
    for blob in tree.blobs {
        out.structure_bytes += blob.bytes;
        out.structure.push((blob.id, blob.what));
    }
    for f in tree.failed {
        out.damaged.push(DamagedBlob {
            id: f.id.to_hex(),
            used_by: f.what,
            error: f.error.to_string(),
        });
    }
    for entry in tree.tree.entries {
        for chunk in entry.chunks {
            out.data.push((chunk, entry.path.clone()));
        }
    }
    let mut chunk_lists = BTreeSet::new();
    for account in &snapshot.accounts {
        let what = format!("manifest of account {}", account.name);
        let Some(bytes) = read(account.manifest, what.clone(), &mut out) else {
            continue;
        };
        let manifest = match AccountManifest::decode(&bytes) {
            Ok(m) => m,
            Err(e) => {
                undecodable(account.manifest, what, e.to_string(), &mut out);
                continue;
            }
        };
        for mb in &manifest.mailboxes {
            let what = format!("message list of {}/{}", account.name, mb.name);
            let Some(bytes) = read(mb.list, what.clone(), &mut out) else {
                continue;
            };
            let root = match StoredList::decode(&bytes) {
                Ok(root) => root,
                Err(e) => {
                    undecodable(mb.list, what, e.to_string(), &mut out);
                    continue;
                }
            };
            let pieces: Vec<Vec<MessageEntry>> = match root.body {
                ListBody::Entries(messages) => vec![messages],
                ListBody::Pages(pages) => pages
                    .iter()
                    .filter_map(|page| {
                        let what = page.describe(&account.name, &mb.name);
                        let bytes = read(page.blob, what.clone(), &mut out)?;
                        page.decode_entries(&bytes)
                            .map_err(|e| undecodable(page.blob, what, e.to_string(), &mut out))
                            .ok()
                    })
                    .collect(),
            };
            for m in pieces.into_iter().flatten() {
                let what = format!("message {} in {}/{}", m.id, account.name, mb.name);
                if !m.chunked {
                    out.data.push((m.blob, what));
                    continue;
                }
                // A chunk list is structure: read (each once), its chunks data.
                if !chunk_lists.insert(m.blob) {
                    continue;
                }
                let Some(bytes) = read(m.blob, format!("chunk list of {what}"), &mut out) else {
                    continue;
                };
                match decode_chunk_list(&m, &bytes) {
                    Ok(c) => out
                        .data
                        .extend(c.chunks.into_iter().map(|c| (c, what.clone()))),
                    Err(e) => undecodable(
                        m.blob,
                        format!("chunk list of {what}"),
                        e.to_string(),
                        &mut out,
                    ),
                }
            }
        }
    }
    let mut seen = BTreeSet::new();
    out.structure.retain(|(id, _)| seen.insert(*id));
    out.data.retain(|(id, _)| seen.insert(*id));
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
