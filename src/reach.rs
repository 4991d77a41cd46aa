//! What snapshots reference: the walk behind `prune`, `check` and `stats`.
//!
//! Reads each snapshot's tree (its root, entry pages and chunk pages), account manifests,
//! message lists and the chunk lists of chunked messages (each distinct one once: unchanged
//! mailboxes share their list, unchanged parts of a tree their pages, across nights) and
//! collects every blob they name.
//! Structure blobs are read (and so verified); data blobs are only named.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::id::{BlobId, SnapshotId};
use crate::manifest::{AccountManifest, ListBody, ListPage, MessageEntry, StoredList};
use crate::progress::{Event, Progress};
use crate::repo::Repository;
use crate::restore::mox::{
    decode_chunk_list, load_list_lenient, load_list_root, load_manifest, message_chunks,
};
use crate::snapshot::Snapshot;
use crate::tree::{TreeLevel, tree_blob_children, walk_tree};

/// A structure blob of a snapshot that cannot be read or decoded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Unreadable {
    pub snapshot: String,
    pub blob: String,
    /// What it is ("tree", "manifest of account A", "message list of A/M").
    pub what: String,
    pub error: String,
}

/// Every blob a set of snapshots references.
#[derive(Debug, Default)]
pub(crate) struct Reach {
    /// Structure blobs (trees, manifests, lists, chunk lists) that were read.
    pub structure: HashSet<BlobId>,
    /// Data blobs (file chunks, messages): named, not read.
    pub data: HashSet<BlobId>,
    /// Structure blobs that could not be read, per snapshot that needs them.
    pub unreadable: Vec<Unreadable>,
}

/// How one use of a blob is named: snapshot, then the path, account/mailbox/message.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BlobUse {
    pub snapshot: String,
    pub blob: String,
    pub what: String,
}

/// A structure blob met while walking, by id. The blobs a tree, list or chunk list names are
/// added to the reach when it is first read; only a manifest's lists and a list's chunked
/// messages are kept (to walk them per snapshot).
enum Parsed {
    Manifest(Vec<(String, BlobId)>),
    /// A list or list page: its chunked messages, and the pages a paged list root names.
    List(Vec<MessageEntry>, Vec<ListPage>),
    Chunks,
    Bad(String),
}

/// Walks `snapshots` and collects what they reference.
pub(crate) fn reach(
    repo: &Repository,
    snapshots: &[(SnapshotId, Snapshot)],
    progress: &dyn Progress,
) -> Reach {
    let mut out = Reach::default();
    let mut cache: HashMap<BlobId, Parsed> = HashMap::new();
    let mut trees = TreeCache::default();
    progress.event(Event::Phase {
        name: "reading snapshots".into(),
        total: Some(snapshots.len() as u64),
    });
    for (sid, snap) in snapshots {
        let bad = |blob: BlobId, what: String, error: &str, out: &mut Reach| {
            out.unreadable.push(Unreadable {
                snapshot: sid.to_hex(),
                blob: blob.to_hex(),
                what,
                error: error.to_string(),
            })
        };
        for (blob, level, e) in trees.walk(repo, snap.tree, &mut out) {
            bad(blob, level.name().into(), &e, &mut out);
        }
        for account in &snap.accounts {
            let lists = match parse(repo, &mut cache, account.manifest, Kind::Manifest, &mut out) {
                Parsed::Manifest(lists) => lists.clone(),
                Parsed::Bad(e) => {
                    let e = e.clone();
                    bad(
                        account.manifest,
                        format!("manifest of account {}", account.name),
                        &e,
                        &mut out,
                    );
                    continue;
                }
                _ => continue,
            };
            for (mailbox, list) in lists {
                let (mut chunked, pages) = match parse(repo, &mut cache, list, Kind::List, &mut out)
                {
                    Parsed::List(chunked, pages) => (chunked.clone(), pages.clone()),
                    Parsed::Bad(e) => {
                        let e = e.clone();
                        bad(
                            list,
                            format!("message list of {}/{}", account.name, mailbox),
                            &e,
                            &mut out,
                        );
                        continue;
                    }
                    _ => continue,
                };
                for page in pages {
                    match parse(repo, &mut cache, page.blob, Kind::ListPage(&page), &mut out) {
                        Parsed::List(more, _) => chunked.extend(more.iter().cloned()),
                        Parsed::Bad(e) => {
                            let e = e.clone();
                            bad(
                                page.blob,
                                page.describe(&account.name, &mailbox),
                                &e,
                                &mut out,
                            );
                        }
                        _ => {}
                    }
                }
                for m in chunked {
                    if let Parsed::Bad(e) =
                        parse(repo, &mut cache, m.blob, Kind::Chunks(&m), &mut out)
                    {
                        let e = e.clone();
                        bad(
                            m.blob,
                            format!(
                                "chunk list of message {} in {}/{}",
                                m.id, account.name, mailbox
                            ),
                            &e,
                            &mut out,
                        );
                    }
                }
            }
        }
        progress.event(Event::Advance {
            phase: "reading snapshots".into(),
            items: 1,
            bytes: 0,
        });
    }
    out
}

/// The tree blobs met while walking: what each names (read once), and for each root the tree
/// blobs below it that cannot be read.
#[derive(Default)]
struct TreeCache {
    /// A tree blob at a level: the tree blobs it names, or why it cannot be read.
    blobs: HashMap<(BlobId, TreeLevel), Result<Vec<BlobId>, String>>,
    /// A root: the blobs of its tree that cannot be read (itself included).
    roots: HashMap<BlobId, Vec<(BlobId, TreeLevel, String)>>,
}

impl TreeCache {
    /// Walks the tree `root` (root, entry pages, chunk pages; each blob read once across all
    /// trees) and returns the blobs of it that cannot be read.
    fn walk(
        &mut self,
        repo: &Repository,
        root: BlobId,
        out: &mut Reach,
    ) -> Vec<(BlobId, TreeLevel, String)> {
        if let Some(bad) = self.roots.get(&root) {
            return bad.clone();
        }
        let mut bad = Vec::new();
        let mut seen = HashSet::new();
        let mut todo = vec![(root, TreeLevel::Root)];
        while let Some((id, level)) = todo.pop() {
            if !seen.insert((id, level)) {
                continue;
            }
            let parsed = self
                .blobs
                .entry((id, level))
                .or_insert_with(|| parse_tree_blob(repo, id, level, out));
            match parsed {
                Ok(children) => {
                    // In reverse, so that pages are visited in order.
                    todo.extend(children.iter().rev().map(|c| (*c, level.child())));
                }
                Err(e) => bad.push((id, level, e.clone())),
            }
        }
        self.roots.insert(root, bad.clone());
        bad
    }
}

/// Reads one tree blob: its data blobs go into the reach, the tree blobs it names are returned.
fn parse_tree_blob(
    repo: &Repository,
    id: BlobId,
    level: TreeLevel,
    out: &mut Reach,
) -> Result<Vec<BlobId>, String> {
    let bytes = repo.get_blob(&id).map_err(|e| e.to_string())?;
    match tree_blob_children(&bytes, Path::new(level.name()), level) {
        Ok(children) => {
            out.structure.insert(id);
            out.data.extend(children.data);
            Ok(children.structure)
        }
        Err(e) => Err(format!("cannot be decoded: {e}")),
    }
}

#[derive(Clone, Copy)]
enum Kind<'m> {
    Manifest,
    List,
    /// A page of a paged list, as its root names it.
    ListPage(&'m ListPage),
    /// The chunk list of this chunked message.
    Chunks(&'m MessageEntry),
}

fn parse<'a>(
    repo: &Repository,
    cache: &'a mut HashMap<BlobId, Parsed>,
    id: BlobId,
    kind: Kind<'_>,
    out: &mut Reach,
) -> &'a Parsed {
    cache.entry(id).or_insert_with(|| {
        let bytes = match repo.get_blob(&id) {
            Ok(b) => b,
            Err(e) => return Parsed::Bad(e.to_string()),
        };
        out.structure.insert(id);
        let parsed = match kind {
            Kind::Manifest => AccountManifest::decode(&bytes)
                .map(|m| {
                    Parsed::Manifest(
                        m.mailboxes
                            .into_iter()
                            .map(|mb| (mb.name, mb.list))
                            .collect(),
                    )
                })
                .map_err(|e| e.to_string()),
            Kind::List => StoredList::decode(&bytes)
                .map(|l| match l.body {
                    ListBody::Entries(messages) => Parsed::List(split(messages, out), Vec::new()),
                    ListBody::Pages(pages) => Parsed::List(Vec::new(), pages),
                })
                .map_err(|e| e.to_string()),
            Kind::ListPage(page) => page
                .decode_entries(&bytes)
                .map(|messages| Parsed::List(split(messages, out), Vec::new()))
                .map_err(|e| e.to_string()),
            Kind::Chunks(entry) => decode_chunk_list(entry, &bytes)
                .map(|c| {
                    out.data.extend(c.chunks);
                    Parsed::Chunks
                })
                .map_err(|e| e.to_string()),
        };
        parsed.unwrap_or_else(|e| {
            out.structure.remove(&id);
            Parsed::Bad(format!("cannot be decoded: {e}"))
        })
    })
}

/// Adds the blobs of whole messages to the data reached; returns the chunked ones.
fn split(messages: Vec<MessageEntry>, out: &mut Reach) -> Vec<MessageEntry> {
    let (chunked, whole): (Vec<_>, Vec<_>) = messages.into_iter().partition(|m| m.chunked);
    out.data.extend(whole.into_iter().map(|m| m.blob));
    chunked
}

/// Names every use of the blobs in `wanted` by the snapshots: the file path of a tree entry,
/// or the account, mailbox, message id and uid of a message.
pub(crate) fn name_uses(
    repo: &Repository,
    snapshots: &[(SnapshotId, Snapshot)],
    wanted: &HashSet<BlobId>,
) -> Vec<BlobUse> {
    let mut out = Vec::new();
    if wanted.is_empty() {
        return out;
    }
    for (sid, snap) in snapshots {
        let mut used = |blob: &BlobId, what: String| {
            if wanted.contains(blob) {
                out.push(BlobUse {
                    snapshot: sid.to_hex(),
                    blob: blob.to_hex(),
                    what,
                });
            }
        };
        // The tree's blobs (root, pages, chunk pages), then the chunks of its files.
        let tree = walk_tree(repo, &snap.tree);
        for b in &tree.blobs {
            used(&b.id, b.what.clone());
        }
        for f in &tree.failed {
            used(&f.id, f.what.clone());
        }
        for e in &tree.tree.entries {
            for c in &e.chunks {
                used(c, format!("file {}", e.path));
            }
        }
        for account in &snap.accounts {
            used(
                &account.manifest,
                format!("manifest of account {}", account.name),
            );
            let Ok(manifest) = load_manifest(repo, account) else {
                continue;
            };
            for mb in &manifest.mailboxes {
                used(
                    &mb.list,
                    format!("message list of {}/{}", account.name, mb.name),
                );
                if let Ok(root) = load_list_root(repo, &mb.list)
                    && let ListBody::Pages(pages) = root.body
                {
                    for page in pages {
                        used(&page.blob, page.describe(&account.name, &mb.name));
                    }
                }
                let Ok((list, _)) = load_list_lenient(repo, &mb.list) else {
                    continue;
                };
                for m in &list.messages {
                    let what = format!(
                        "message {} (uid {}) in {}/{}",
                        m.id, m.uid, account.name, mb.name
                    );
                    if m.chunked {
                        used(&m.blob, format!("chunk list of {what}"));
                        for c in message_chunks(repo, m).unwrap_or_default() {
                            used(&c, what.clone());
                        }
                    } else {
                        used(&m.blob, what);
                    }
                }
            }
        }
    }
    out
}
