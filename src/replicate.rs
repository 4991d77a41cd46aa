//! Replication of a repository to another one (another disk, another filesystem).
//!
//! Content addressing makes it a set difference: for each snapshot the target lacks, the blobs it
//! needs that the target lacks are read from the source (which verifies their hashes) and
//! stored in the target; the snapshot file is written last, through the target's own commit
//! point. An interrupted run leaves the target consistent (only unreferenced blobs), and the next
//! run resumes where it stopped. Objects hardlinked in the source are stored as ordinary
//! (compressed) objects in the target.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use serde::Serialize;

use crate::repo::{BlobKind, Repository};
use crate::verify::{DamagedBlob, walk_snapshot_blobs};
use crate::{Error, Event, Progress, Result, SnapshotId};

/// What a replication did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReplicateSummary {
    /// Snapshots written to the target by this run.
    pub snapshots_copied: u64,
    /// Snapshots the target already had.
    pub snapshots_present: u64,
    pub blobs_copied: u64,
    pub blobs_present: u64,
    /// Bytes of content copied (before compression).
    pub bytes_copied: u64,
    /// Snapshots not copied because a blob they need is missing or damaged in the source.
    pub skipped: Vec<SkippedSnapshot>,
    /// Snapshot files of the source that cannot be read (truncated, damaged, not a snapshot):
    /// named here, not copied; every other snapshot is.
    pub unreadable: Vec<UnreadableSnapshot>,
    /// Requests made to a remote target and bytes sent (absent for a local directory).
    pub transfer: Option<crate::repo::TransferStats>,
    /// Packs written to the target.
    pub packs_written: u64,
    pub duration_ms: u64,
}

/// A snapshot file that could not be read.
#[derive(Debug, Clone, Serialize)]
pub struct UnreadableSnapshot {
    /// The snapshot file, when the error names it.
    pub file: Option<String>,
    pub error: String,
}

impl UnreadableSnapshot {
    pub fn new(e: &Error) -> Self {
        UnreadableSnapshot {
            file: e.path().map(|p| p.display().to_string()),
            error: e.to_string(),
        }
    }
}

/// A snapshot left out, and why.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedSnapshot {
    pub snapshot: String,
    pub damaged: Vec<DamagedBlob>,
}

impl ReplicateSummary {
    /// True when every snapshot of the source is now in the target.
    pub fn complete(&self) -> bool {
        self.skipped.is_empty() && self.unreadable.is_empty()
    }
}

/// Copies every snapshot of `source` that `target` lacks, oldest first.
pub fn replicate(
    source: &Repository,
    target: &Repository,
    progress: &dyn Progress,
) -> Result<ReplicateSummary> {
    let started = std::time::Instant::now();
    let before = target.transfer();
    let packs_before = target.packs_written();
    // A damaged snapshot file in the target counts as absent: copying it again repairs it. A
    // target that cannot be read (an encrypted one, with a put-only key) is listed only.
    let present: BTreeSet<SnapshotId> = match target.can_read() {
        true => target
            .snapshots_lenient()?
            .0
            .into_iter()
            .map(|(id, _)| id)
            .collect(),
        false => target.snapshot_ids()?,
    };
    let mut summary = ReplicateSummary::default();
    let (snapshots, unreadable) = source.snapshots_lenient()?;
    summary.unreadable = unreadable.iter().map(UnreadableSnapshot::new).collect();
    for (id, snapshot) in snapshots {
        // The target names a snapshot by its own id (keyed when it is encrypted).
        let file = source.snapshot_file(&id)?;
        if present.contains(&target.snapshot_id_of(&file)) {
            summary.snapshots_present += 1;
            continue;
        }
        let phase = format!("snapshot {}", id.short());
        progress.event(Event::Phase {
            name: phase.clone(),
            total: None,
        });
        // Blobs are copied batch by batch as the walk finds them: memory holds a batch, not
        // every blob of the snapshot. Outer error: the target failed (the run stops); inner:
        // the source's blob is bad (the snapshot is skipped, named).
        let mut damaged = Vec::new();
        let walk_damaged = walk_snapshot_blobs(source, &snapshot, &mut |batch| {
            let copied = AtomicU64::new(0);
            let bytes = AtomicU64::new(0);
            let outcomes: Vec<Result<std::result::Result<(), DamagedBlob>>> = batch
                .par_iter()
                .map(|found| {
                    if target.has_blob(&found.id) {
                        return Ok(Ok(()));
                    }
                    let data = match source.get_blob(&found.id) {
                        Ok(d) => d,
                        Err(e) => {
                            return Ok(Err(DamagedBlob {
                                id: found.id.to_hex(),
                                used_by: found.what.clone(),
                                error: e.to_string(),
                            }));
                        }
                    };
                    let kind = match (found.structure, source.blob_info(&found.id)) {
                        (_, Some(info)) => info.kind,
                        (true, None) => BlobKind::Manifest,
                        (false, None) => BlobKind::Data,
                    };
                    target.put_blob(kind, &data)?;
                    copied.fetch_add(1, Ordering::Relaxed);
                    bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
                    progress.event(Event::Advance {
                        phase: phase.clone(),
                        items: 1,
                        bytes: data.len() as u64,
                    });
                    Ok(Ok(()))
                })
                .collect();
            for outcome in outcomes {
                if let Err(d) = outcome? {
                    damaged.push(d);
                }
            }
            let copied = copied.into_inner();
            summary.blobs_copied += copied;
            summary.blobs_present += batch.len() as u64 - copied;
            summary.bytes_copied += bytes.into_inner();
            Ok(())
        })?;
        damaged.extend(walk_damaged);
        if !damaged.is_empty() {
            summary.skipped.push(SkippedSnapshot {
                snapshot: id.to_hex(),
                damaged,
            });
            continue;
        }
        // The commit point of the target: every blob above is made durable first. The file is
        // copied byte for byte: one of an older snapshot version keeps its version and its id.
        target.commit_snapshot_file(&file)?;
        summary.snapshots_copied += 1;
    }
    summary.transfer = target.transfer().map(|t| {
        let b = before.unwrap_or_default();
        crate::repo::TransferStats {
            requests: t.requests - b.requests,
            bytes_sent: t.bytes_sent - b.bytes_sent,
            bytes_received: t.bytes_received - b.bytes_received,
        }
    });
    summary.packs_written = target.packs_written() - packs_before;
    summary.duration_ms = started.elapsed().as_millis() as u64;
    Ok(summary)
}
