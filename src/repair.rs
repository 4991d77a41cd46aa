//! `repair snapshots`: a snapshot that references blobs the repository lost is rewritten
//! without them, marked incomplete, naming what was lost.
//!
//! What counts as lost is what the index does not hold (after `repair index` dropped damaged
//! blobs, or a pack went missing). A file of the tree with a lost chunk is left out of the new
//! tree; a message with a lost file is left out of its mailbox's list, and the mailbox is
//! marked incomplete, so the next backup rescans it and stores again whatever the server still
//! has; an unreadable list empties its mailbox (incomplete too); an unreadable manifest drops
//! its account; an unreadable tree becomes an empty tree. The new snapshot keeps the time,
//! host, source and tags, records the one it replaces in `original`, and only then is the old
//! snapshot file removed.

use serde::Serialize;

use crate::error::Result;
use crate::id::{BlobId, SnapshotId};
use crate::manifest::{MessageList, encode_list};
use crate::progress::{Event, Progress};
use crate::repo::{BlobKind, Repository};
use crate::restore::mox::{load_list_lenient, load_manifest, message_stored};
use crate::snapshot::{AccountRef, Notice, Snapshot};
use crate::tree::{Tree, walk_tree};

/// What `repair snapshots` did to one snapshot.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotRepair {
    pub snapshot: String,
    /// The snapshot written in its place (absent with `dry_run`).
    pub replaced_by: Option<String>,
    /// Everything left out, named.
    pub lost: Vec<String>,
}

/// Rewrites every snapshot of `ids` (all when empty) that references lost blobs. Snapshots
/// without loss are left alone. With `dry_run`, only reports.
pub fn repair_snapshots(
    repo: &Repository,
    ids: &[SnapshotId],
    dry_run: bool,
    progress: &dyn Progress,
) -> Result<Vec<SnapshotRepair>> {
    if !dry_run {
        repo.ensure_writable()?;
    }
    let (all, _) = repo.snapshots_lenient()?;
    let chosen: Vec<(SnapshotId, Snapshot)> = all
        .into_iter()
        .filter(|(id, _)| ids.is_empty() || ids.contains(id))
        .collect();
    progress.event(Event::Phase {
        name: "repairing snapshots".into(),
        total: Some(chosen.len() as u64),
    });
    let mut out = Vec::new();
    for (id, snap) in chosen {
        let (new, lost) = salvage(repo, &snap, dry_run)?;
        progress.event(Event::Advance {
            phase: "repairing snapshots".into(),
            items: 1,
            bytes: 0,
        });
        if lost.is_empty() {
            continue;
        }
        let replaced_by = if dry_run {
            None
        } else {
            let mut new = new;
            new.complete = false;
            new.original = Some(snap.original.unwrap_or(id));
            new.problems.extend(lost.iter().map(|l| Notice {
                path: None,
                message: format!("lost (removed by repair snapshots): {l}"),
            }));
            repo.flush()?;
            Some(repo.replace_snapshot(&id, &new)?.to_hex())
        };
        out.push(SnapshotRepair {
            snapshot: id.to_hex(),
            replaced_by,
            lost,
        });
    }
    Ok(out)
}

/// The snapshot without what is lost, and what that is.
fn salvage(repo: &Repository, snap: &Snapshot, dry_run: bool) -> Result<(Snapshot, Vec<String>)> {
    let mut lost = Vec::new();
    let mut new = snap.clone();
    let store = |kind: BlobKind, bytes: Vec<u8>| -> Result<BlobId> {
        if dry_run {
            Ok(BlobId::hash(&bytes))
        } else {
            Ok(repo.put_blob(kind, &bytes)?.id)
        }
    };
    let walk = walk_tree(repo, &snap.tree);
    let mut put_tree = |bytes: &[u8]| store(BlobKind::Tree, bytes.to_vec());
    if walk.blobs.is_empty() {
        // The root itself cannot be read.
        let e = walk
            .failed
            .first()
            .map_or(String::new(), |f| f.error.to_string());
        lost.push(format!(
            "the tree (every file outside the message files): {e}"
        ));
        new.tree = Tree::default().store_with(&mut put_tree)?;
    } else {
        // A page that cannot be read loses the entries it lists (a chunk page, its file).
        for f in &walk.failed {
            lost.push(format!("the {} ({})", f.what, f.error));
        }
        let entries = walk.tree.entries;
        let before = entries.len();
        let mut kept = Tree {
            entries: Vec::with_capacity(before),
        };
        for e in entries {
            if e.chunks.iter().all(|c| repo.has_blob(c)) {
                kept.entries.push(e);
            } else {
                lost.push(format!("file {}", e.path));
            }
        }
        if kept.entries.len() != before || !walk.failed.is_empty() {
            new.tree = kept.store_with(&mut put_tree)?;
        }
    }
    let mut accounts = Vec::new();
    for account in &snap.accounts {
        let mut manifest = match load_manifest(repo, account) {
            Ok(m) => m,
            Err(e) => {
                lost.push(format!("account {} (its manifest: {e})", account.name));
                continue;
            }
        };
        let mut changed = false;
        for mb in &mut manifest.mailboxes {
            let (list, dropped) = match load_list_lenient(repo, &mb.list) {
                Ok((mut list, failed)) => {
                    let before = list.messages.len();
                    let mut gone: Vec<String> = failed
                        .iter()
                        .map(|(page, e)| {
                            format!(
                                "messages {} to {} ({} of them) in {}/{} (their list page: {e})",
                                page.first_id, page.last_id, page.messages, account.name, mb.name
                            )
                        })
                        .collect();
                    list.messages.retain(|m| {
                        let keep = message_stored(repo, m);
                        if !keep {
                            gone.push(format!(
                                "message {} (uid {}) in {}/{}",
                                m.id, m.uid, account.name, mb.name
                            ));
                        }
                        keep
                    });
                    if list.messages.len() == before && failed.is_empty() {
                        continue;
                    }
                    (list, gone)
                }
                Err(e) => (
                    MessageList {
                        mailbox_id: mb.id,
                        messages: Vec::new(),
                    },
                    vec![format!(
                        "mailbox {}/{} ({} messages; its list: {e})",
                        account.name, mb.name, mb.messages
                    )],
                ),
            };
            lost.extend(dropped);
            mb.messages = list.messages.len() as u64;
            mb.size = list.messages.iter().map(|m| m.size).sum();
            mb.complete = false;
            let root = encode_list(list.mailbox_id, &list.messages, |page| {
                store(BlobKind::Manifest, page)
            })?;
            mb.list = store(BlobKind::Manifest, root)?;
            changed = true;
        }
        let manifest_id = if changed {
            store(BlobKind::Manifest, manifest.encode())?
        } else {
            account.manifest
        };
        accounts.push(AccountRef {
            name: account.name.clone(),
            manifest: manifest_id,
        });
    }
    new.accounts = accounts;
    Ok((new, lost))
}
