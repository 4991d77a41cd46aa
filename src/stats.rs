//! `stats`: what the repository holds and what deduplication saves.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use crate::error::Result;
use crate::id::{BlobId, SnapshotId};
use crate::repo::Repository;
use crate::restore::mox::{load_list, load_manifest};
use crate::snapshot::Snapshot;
use crate::tree::Tree;

/// Repository-wide figures.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RepoStats {
    pub snapshots: u64,
    pub packs: u64,
    pub pack_bytes: u64,
    /// Raw objects: message files linked (or, across filesystems, copied) into the repository.
    pub raw_objects: u64,
    pub raw_bytes: u64,
    /// Raw objects that are hardlinks shared with the mail server (their bytes cost the
    /// repository nothing while the server keeps the message).
    pub raw_linked: u64,
    pub raw_linked_bytes: u64,
    /// Bytes the repository itself holds: packs plus raw objects that are not shared.
    pub stored_bytes: u64,
    /// Distinct blobs the index lists, and their content length.
    pub blobs: u64,
    pub blob_bytes: u64,
    /// What restoring every snapshot would write, summed over the snapshots.
    pub logical_bytes: u64,
    /// `logical_bytes / stored_bytes`: how much deduplication and compression save.
    pub dedup_ratio: f64,
    pub per_snapshot: Vec<SnapshotStats>,
    /// Per account of the snapshot given (default: the newest).
    pub accounts_of: Option<String>,
    pub per_account: Vec<AccountStats>,
}

/// One snapshot.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SnapshotStats {
    pub id: String,
    pub time_ns: i64,
    pub source: String,
    pub complete: bool,
    /// What a restore writes: files of the tree plus message files.
    pub logical_bytes: u64,
    pub messages: u64,
    /// Bytes the backup added to the repository (recorded by it).
    pub bytes_added: u64,
}

/// One account of a snapshot.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AccountStats {
    pub account: String,
    pub mailboxes: u64,
    pub messages: u64,
    /// Message content, every message counted.
    pub message_bytes: u64,
    /// Distinct message content (a message in two mailboxes counted once).
    pub unique_message_bytes: u64,
    /// The account's files in the tree (its database), as restored.
    pub database_bytes: u64,
}

/// Computes the figures; `accounts_of` picks the snapshot whose accounts are listed.
pub fn stats(repo: &Repository, accounts_of: Option<&SnapshotId>) -> Result<RepoStats> {
    let mut out = RepoStats::default();
    let (snapshots, _) = repo.snapshots_lenient()?;
    out.snapshots = snapshots.len() as u64;
    if !repo.config().is_legacy() {
        let view = repo.index_view()?;
        let packs = repo.stored_packs()?;
        let raw = repo.stored_raw()?;
        out.packs = packs.len() as u64;
        out.pack_bytes = packs.values().map(|m| m.size).sum();
        out.raw_objects = raw.len() as u64;
        out.raw_bytes = raw.values().map(|m| m.size).sum();
        for id in raw.keys() {
            if repo.raw_link_count(id).is_some_and(|n| n > 1) {
                out.raw_linked += 1;
                out.raw_linked_bytes += raw.get(id).map_or(0, |m| m.size);
            }
        }
        let mut seen = HashSet::new();
        for p in &view.packs {
            for b in &p.blobs {
                if seen.insert(b.id) {
                    out.blob_bytes += b.raw_len;
                }
            }
        }
        for l in &view.loose {
            if seen.insert(l.id) {
                out.blob_bytes += l.size;
            }
        }
        out.blobs = seen.len() as u64;
    }
    out.stored_bytes = out.pack_bytes + out.raw_bytes - out.raw_linked_bytes;
    let mut lists: BTreeMap<BlobId, (u64, u64)> = BTreeMap::new();
    for (id, snap) in &snapshots {
        let s = snapshot_stats(repo, id, snap, &mut lists);
        out.logical_bytes += s.logical_bytes;
        out.per_snapshot.push(s);
    }
    out.dedup_ratio = if out.stored_bytes == 0 {
        0.0
    } else {
        out.logical_bytes as f64 / out.stored_bytes as f64
    };
    let pick = match accounts_of {
        Some(id) => snapshots.iter().find(|(s, _)| s == id),
        None => snapshots.iter().rev().find(|(_, s)| !s.accounts.is_empty()),
    };
    if let Some((id, snap)) = pick {
        out.accounts_of = Some(id.to_hex());
        out.per_account = account_stats(repo, snap);
    }
    Ok(out)
}

/// Sizes of a snapshot; message lists are read once across snapshots (`lists` caches count and
/// bytes per list).
fn snapshot_stats(
    repo: &Repository,
    id: &SnapshotId,
    snap: &Snapshot,
    lists: &mut BTreeMap<BlobId, (u64, u64)>,
) -> SnapshotStats {
    let mut s = SnapshotStats {
        id: id.to_hex(),
        time_ns: snap.time_ns,
        source: snap.source.clone(),
        complete: snap.complete,
        bytes_added: snap.stat("bytes_added"),
        ..SnapshotStats::default()
    };
    if let Ok(tree) = Tree::load(repo, &snap.tree) {
        s.logical_bytes += tree.entries.iter().map(|e| e.size).sum::<u64>();
    }
    for account in &snap.accounts {
        let Ok(manifest) = load_manifest(repo, account) else {
            continue;
        };
        for mb in &manifest.mailboxes {
            let (n, bytes) = *lists.entry(mb.list).or_insert_with(|| {
                load_list(repo, &mb.list).map_or((0, 0), |l| {
                    (
                        l.messages.len() as u64,
                        l.messages.iter().map(|m| m.file_size).sum(),
                    )
                })
            });
            s.messages += n;
            s.logical_bytes += bytes;
        }
    }
    s
}

fn account_stats(repo: &Repository, snap: &Snapshot) -> Vec<AccountStats> {
    let tree = Tree::load(repo, &snap.tree).ok();
    let mut out = Vec::new();
    for account in &snap.accounts {
        let mut a = AccountStats {
            account: account.name.clone(),
            ..AccountStats::default()
        };
        let prefix = format!("data/accounts/{}/", account.name);
        if let Some(t) = &tree {
            a.database_bytes = t
                .entries
                .iter()
                .filter(|e| e.path.starts_with(&prefix))
                .map(|e| e.size)
                .sum();
        }
        if let Ok(m) = load_manifest(repo, account) {
            a.mailboxes = m.mailboxes.len() as u64;
            let mut seen = HashSet::new();
            for mb in &m.mailboxes {
                if let Ok(l) = load_list(repo, &mb.list) {
                    for msg in &l.messages {
                        a.messages += 1;
                        a.message_bytes += msg.file_size;
                        if seen.insert(msg.blob) {
                            a.unique_message_bytes += msg.file_size;
                        }
                    }
                }
            }
        }
        out.push(a);
    }
    out
}
