//! Verifying a snapshot: every blob it needs exists and hashes to its name.
//!
//! Reads the tree, the account manifests and message lists, then every data blob they name
//! (each once, in parallel). Nothing is written, except that the repository moves an object it
//! finds damaged aside (`<name>.damaged`) so that a later backup stores that content again.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use serde::Serialize;

use crate::manifest::{AccountManifest, MessageList};
use crate::repo::Repository;
use crate::snapshot::Snapshot;
use crate::tree::Tree;
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

/// Checks every blob `snapshot` needs.
pub fn verify(
    repo: &Repository,
    snapshot: &Snapshot,
    progress: &dyn Progress,
) -> Result<VerifyReport> {
    let mut report = VerifyReport::default();
    // (blob, where it is used); structure blobs are read here and so verified on the way.
    let mut needed: Vec<(BlobId, String)> = Vec::new();
    let structure = |id: BlobId, what: String, report: &mut VerifyReport| -> Option<Vec<u8>> {
        match repo.get_blob(&id) {
            Ok(bytes) => {
                report.blobs += 1;
                report.bytes += bytes.len() as u64;
                Some(bytes)
            }
            Err(e) => {
                report.damaged.push(DamagedBlob {
                    id: id.to_hex(),
                    used_by: what,
                    error: e.to_string(),
                });
                None
            }
        }
    };
    if let Some(bytes) = structure(snapshot.tree, "tree".into(), &mut report) {
        let tree = Tree::decode(&bytes, std::path::Path::new("tree"))?;
        for entry in &tree.entries {
            for chunk in &entry.chunks {
                needed.push((*chunk, entry.path.clone()));
            }
        }
    }
    for account in &snapshot.accounts {
        let what = format!("manifest of account {}", account.name);
        let Some(bytes) = structure(account.manifest, what.clone(), &mut report) else {
            continue;
        };
        let manifest = match AccountManifest::decode(&bytes) {
            Ok(m) => m,
            Err(e) => {
                report.damaged.push(DamagedBlob {
                    id: account.manifest.to_hex(),
                    used_by: what,
                    error: e.to_string(),
                });
                continue;
            }
        };
        for mb in &manifest.mailboxes {
            let what = format!("message list of {}/{}", account.name, mb.name);
            let Some(bytes) = structure(mb.list, what.clone(), &mut report) else {
                continue;
            };
            match MessageList::decode(&bytes) {
                Ok(list) => {
                    for m in list.messages {
                        needed.push((
                            m.blob,
                            format!("message {} in {}/{}", m.id, account.name, mb.name),
                        ));
                    }
                }
                Err(e) => report.damaged.push(DamagedBlob {
                    id: mb.list.to_hex(),
                    used_by: what,
                    error: e.to_string(),
                }),
            }
        }
    }
    let mut seen = BTreeSet::new();
    needed.retain(|(id, _)| seen.insert(*id));
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

/// The last snapshot taken at or before `time_ns` (nanoseconds since the epoch).
pub fn snapshot_at(
    repo: &Repository,
    time_ns: i64,
) -> Result<Option<(crate::SnapshotId, Snapshot)>> {
    Ok(repo
        .snapshots()?
        .into_iter()
        .filter(|(_, s)| s.time_ns <= time_ns)
        .max_by_key(|(_, s)| s.time_ns))
}
