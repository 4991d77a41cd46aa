//! Restoring a mox snapshot into the layout `mox backup` writes and mox starts from:
//! `TARGET/config` and `TARGET/data`, message files rebuilt from the account manifests, with
//! hardlinks between message files of identical content.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::manifest::{
    AccountManifest, ListBody, ListPage, MessageChunks, MessageEntry, MessageList, Owner,
    StoredList,
};
use crate::mox;
use crate::repo::Repository;
use crate::restore::{Engine, Item, MessageRef, RestoreFailure, RestoreOptions, RestoreStats};
use crate::snapshot::{AccountRef, Snapshot, SourceKind};
use crate::tree::{Entry, EntryKind, Tree};
use crate::{BlobId, Error, Event, Progress, Result};

/// What to restore of a mox snapshot.
#[derive(Debug, Clone, Default)]
pub struct MoxRestoreSelection {
    /// Only this account's directory (`index.db`, junk filter, messages), written to
    /// `TARGET/<account>`; `None` restores the whole installation.
    pub account: Option<String>,
}

/// Loads and decodes the manifest of one account of a snapshot.
pub fn load_manifest(repo: &Repository, account: &AccountRef) -> Result<AccountManifest> {
    let bytes = repo.get_blob(&account.manifest)?;
    AccountManifest::decode(&bytes).map_err(|e| {
        Error::corrupt(
            format!("manifest {} of account {}", account.manifest, account.name),
            e.to_string(),
        )
    })
}

/// Loads a mailbox's message list: its root and, for a paged list, every page.
pub fn load_list(repo: &Repository, id: &BlobId) -> Result<MessageList> {
    let (list, mut failed) = load_list_lenient(repo, id)?;
    match failed.pop() {
        Some((_, e)) => Err(e),
        None => Ok(list),
    }
}

/// Loads what can be read of a mailbox's message list: the entries of every readable page,
/// and each page that could not be read with its error (the root must be readable).
pub fn load_list_lenient(
    repo: &Repository,
    id: &BlobId,
) -> Result<(MessageList, Vec<(ListPage, Error)>)> {
    let root = load_list_root(repo, id)?;
    let mut failed = Vec::new();
    let messages = match root.body {
        ListBody::Entries(messages) => messages,
        ListBody::Pages(pages) => {
            let total = pages.iter().map(|p| p.messages).sum::<u64>();
            // Bounded: each page is checked against its count when read.
            let mut messages = Vec::with_capacity(total.min(1 << 20) as usize);
            for page in &pages {
                match load_list_page(repo, id, page) {
                    Ok(entries) => messages.extend(entries),
                    Err(e) => failed.push((*page, e)),
                }
            }
            messages
        }
    };
    let list = MessageList {
        mailbox_id: root.mailbox_id,
        messages,
    };
    Ok((list, failed))
}

/// Hands `piece` the entries of a mailbox's message list a page at a time (a list of one piece
/// at once), in id order, and `lost` each page that cannot be read: memory holds one page, not
/// the mailbox. The root must be readable.
pub fn for_each_list_piece(
    repo: &Repository,
    id: &BlobId,
    mut piece: impl FnMut(Vec<MessageEntry>) -> Result<()>,
    mut lost: impl FnMut(&ListPage, Error),
) -> Result<()> {
    match load_list_root(repo, id)?.body {
        ListBody::Entries(messages) => piece(messages),
        ListBody::Pages(pages) => {
            for page in &pages {
                match load_list_page(repo, id, page) {
                    Ok(entries) => piece(entries)?,
                    Err(e) => lost(page, e),
                }
            }
            Ok(())
        }
    }
}

/// Loads the root of a mailbox's message list (the entries, or the pages' summaries).
pub fn load_list_root(repo: &Repository, id: &BlobId) -> Result<StoredList> {
    let bytes = repo.get_blob(id)?;
    StoredList::decode(&bytes)
        .map_err(|e| Error::corrupt(format!("message list {id}"), e.to_string()))
}

/// Loads one page of the paged message list `list`, checked against the root's summary.
pub fn load_list_page(
    repo: &Repository,
    list: &BlobId,
    page: &ListPage,
) -> Result<Vec<MessageEntry>> {
    let bytes = repo.get_blob(&page.blob)?;
    page.decode_entries(&bytes).map_err(|e| {
        Error::corrupt(
            format!("page {} of message list {list}", page.blob),
            e.to_string(),
        )
    })
}

/// The Data blobs whose concatenation is a message file: its one blob, or the chunks its chunk
/// list names. Every reader of a message's content goes through here (or [`load_message`]).
pub fn message_chunks(repo: &Repository, entry: &MessageEntry) -> Result<Vec<BlobId>> {
    if !entry.chunked {
        return Ok(vec![entry.blob]);
    }
    load_chunk_list(repo, entry).map(|c| c.chunks)
}

fn load_chunk_list(repo: &Repository, entry: &MessageEntry) -> Result<MessageChunks> {
    decode_chunk_list(entry, &repo.get_blob(&entry.blob)?)
}

/// Decodes the chunk list of a chunked message (its `blob`'s bytes) and checks it against the
/// entry's file size.
pub(crate) fn decode_chunk_list(entry: &MessageEntry, bytes: &[u8]) -> Result<MessageChunks> {
    let what = || format!("chunk list {} of message {}", entry.blob, entry.id);
    let chunks = MessageChunks::decode(bytes).map_err(|e| Error::corrupt(what(), e.to_string()))?;
    if chunks.size != entry.file_size {
        return Err(Error::corrupt(
            what(),
            format!(
                "it lists {} bytes, the message file has {}",
                chunks.size, entry.file_size
            ),
        ));
    }
    Ok(chunks)
}

/// The bytes of a message file (without `MsgPrefix`), whole or chunked.
pub fn load_message(repo: &Repository, entry: &MessageEntry) -> Result<Vec<u8>> {
    if !entry.chunked {
        return repo.get_blob(&entry.blob);
    }
    let list = load_chunk_list(repo, entry)?;
    let mut data = Vec::with_capacity(list.size as usize);
    for chunk in &list.chunks {
        data.extend_from_slice(&repo.get_blob(chunk)?);
    }
    if data.len() as u64 != list.size {
        return Err(Error::corrupt(
            format!("chunk list {} of message {}", entry.blob, entry.id),
            format!("its chunks hold {} bytes, not {}", data.len(), list.size),
        ));
    }
    Ok(data)
}

/// Whether the repository holds every blob of a message (for a chunked one, its chunk list is
/// read).
pub fn message_stored(repo: &Repository, entry: &MessageEntry) -> bool {
    repo.has_blob(&entry.blob)
        && message_chunks(repo, entry).is_ok_and(|c| c.iter().all(|c| repo.has_blob(c)))
}

/// Restores a mox snapshot (or one account of it) under `target`.
///
/// Message files are written with the tree's files, before any symlink of the tree exists, so
/// a symlink in the snapshot (say `data/accounts/A/msg/a`) can never redirect them. An account
/// name that cannot be a directory name is refused before anything is written. A message whose
/// blob or chunk list (or a mailbox whose list, or an account whose manifest) cannot be read is
/// listed in the result's `failed`, and everything else is restored.
pub fn restore_mox(
    repo: &Repository,
    snapshot: &Snapshot,
    target: &Path,
    selection: &MoxRestoreSelection,
    opts: &RestoreOptions,
    progress: &dyn Progress,
) -> Result<RestoreStats> {
    if snapshot.kind != SourceKind::Mox {
        return Err(Error::Invalid(
            "this snapshot is of a plain directory, not a mox installation".into(),
        ));
    }
    let full = Tree::load(repo, &snapshot.tree)?;
    let accounts: Vec<&AccountRef> = match &selection.account {
        None => snapshot.accounts.iter().collect(),
        Some(name) => vec![
            snapshot
                .accounts
                .iter()
                .find(|a| &a.name == name)
                .ok_or_else(|| {
                    let names: Vec<&str> =
                        snapshot.accounts.iter().map(|a| a.name.as_str()).collect();
                    Error::Invalid(format!(
                        "account {name:?} is not in this snapshot (accounts: {})",
                        names.join(", ")
                    ))
                })?,
        ],
    };
    for account in &accounts {
        mox::check_account_name(&account.name).map_err(|why| {
            Error::Invalid(format!(
                "account {:?} of this snapshot: {why}: refusing to restore",
                account.name
            ))
        })?;
    }
    // The account directories' entries: owner and mode of message files and msg directories
    // that older snapshots did not record.
    let account_dirs: HashMap<String, Entry> = full
        .entries
        .iter()
        .filter(|e| e.kind == EntryKind::Dir)
        .filter_map(|e| {
            let name = e.path.strip_prefix("data/accounts/")?;
            (!name.contains('/')).then(|| (name.to_string(), e.clone()))
        })
        .collect();
    let entries: Vec<Entry> = match &selection.account {
        None => full.entries,
        Some(name) => {
            // Re-root the account's own entries at the target.
            let prefix = format!("data/accounts/{name}/");
            full.entries
                .into_iter()
                .filter_map(|mut e| {
                    let rest = e.path.strip_prefix(&prefix)?.to_string();
                    if let Some(raw) = &mut e.raw_path {
                        raw.drain(..prefix.len());
                    }
                    e.path = rest;
                    Some(e)
                })
                .collect()
        }
    };
    let mut dirs: HashSet<String> = entries
        .iter()
        .filter(|e| e.kind == EntryKind::Dir)
        .map(|e| e.path.clone())
        .collect();
    let mut tree_items: Vec<Item> = entries
        .into_iter()
        .map(|entry| Item {
            entry,
            message: None,
        })
        .collect();
    tree_items.sort_by(|a, b| {
        a.entry
            .fs_path()
            .as_os_str()
            .cmp(b.entry.fs_path().as_os_str())
    });
    let mut engine = Engine::new(repo, target, opts, progress)?;
    for item in &tree_items {
        engine.check(item.entry.fs_path(), item.entry.kind)?;
    }

    // First pass over the lists: every message path is checked before anything is written,
    // and the contents held by more than one message are found (their files are hardlinked to
    // each other, as mox delivers them). Only the ids are kept, not the messages.
    let sources: Vec<AccountSource> = accounts
        .iter()
        .map(|account| AccountSource {
            account,
            rel: match &selection.account {
                Some(_) => String::new(),
                None => format!("data/accounts/{}/", account.name),
            },
        })
        .collect();
    let mut blobs: Vec<BlobId> = Vec::new();
    for src in &sources {
        let Ok(manifest) = load_manifest(repo, src.account) else {
            continue;
        };
        for mailbox in &manifest.mailboxes {
            // A list or page that cannot be read is reported by the second pass; a path that
            // cannot be checked stops the restore before anything is written.
            let mut checked = Ok(());
            let _ = for_each_list_piece(
                repo,
                &mailbox.list,
                |messages| {
                    for msg in &messages {
                        let path = format!("{}msg/{}", src.rel, mox::message_path(msg.id));
                        if let Err(e) = engine.check(Path::new(&path), EntryKind::File) {
                            checked = Err(e);
                            break;
                        }
                        blobs.push(msg.blob);
                    }
                    Ok(())
                },
                |_, _| {},
            );
            checked?;
        }
    }
    let message_files = blobs.len() as u64;
    blobs.sort_unstable();
    let mut next_group = tree_items
        .iter()
        .map(|i| i.entry.link_group)
        .max()
        .unwrap_or(0)
        + 1;
    let mut group_of: HashMap<BlobId, u64> = HashMap::new();
    for pair in blobs.windows(2) {
        if pair[0] == pair[1] && !group_of.contains_key(&pair[0]) {
            group_of.insert(pair[0], next_group);
            next_group += 1;
        }
    }
    drop(blobs);

    engine.start(&tree_items)?;
    engine.write_plain(&tree_items);

    // Second pass: the message files, in batches of bounded size.
    let phase = format!("{message_files} message files");
    if message_files > 0 {
        engine.phase(&phase, message_files);
    }
    let mut batch: Vec<Item> = Vec::new();
    let flush = |batch: &mut Vec<Item>, engine: &mut Engine| {
        batch.sort_by(|a, b| {
            a.entry
                .fs_path()
                .as_os_str()
                .cmp(b.entry.fs_path().as_os_str())
        });
        let refs: Vec<&Item> = batch.iter().collect();
        engine.write(&refs, &phase);
        batch.clear();
    };
    let mut unreadable: Vec<RestoreFailure> = Vec::new();
    for src in &sources {
        let account = src.account;
        let msg_rel = format!("{}msg", src.rel);
        let fail = |failed: &mut Vec<RestoreFailure>, error: String| {
            progress.event(Event::Problem {
                path: Some(target.join(&msg_rel)),
                message: format!("not restored: {error}"),
            });
            failed.push(RestoreFailure {
                path: msg_rel.clone(),
                message: None,
                error,
            });
        };
        let manifest = match load_manifest(repo, account) {
            Ok(m) => m,
            Err(e) => {
                fail(
                    &mut unreadable,
                    format!("messages of account {}: {e}", account.name),
                );
                continue;
            }
        };
        // Without a recorded owner (manifest version 1) or directory, the account directory's.
        let fallback = account_dirs.get(&account.name);
        let (uid, gid) = fallback.map_or((0, 0), |d| (d.uid, d.gid));
        for mailbox in &manifest.mailboxes {
            let mut lost_pages = Vec::new();
            let mut messages_of = |messages: Vec<MessageEntry>| -> Result<()> {
                for msg in messages {
                    let path = format!("{msg_rel}/{}", mox::message_path(msg.id));
                    let chunks = match message_chunks(repo, &msg) {
                        Ok(c) => c,
                        Err(e) => {
                            progress.event(Event::Problem {
                                path: Some(target.join(&path)),
                                message: format!("not restored: {e}"),
                            });
                            unreadable.push(RestoreFailure {
                                path: path.clone(),
                                message: Some(MessageRef {
                                    account: account.name.clone(),
                                    mailbox: mailbox.name.clone(),
                                    id: msg.id,
                                }),
                                error: e.to_string(),
                            });
                            continue;
                        }
                    };
                    for dir in [msg_rel.clone(), parent_of(&path).to_string()] {
                        if dirs.insert(dir.clone()) {
                            let like = fallback.cloned().unwrap_or(Entry {
                                mode: 0o700,
                                ..Default::default()
                            });
                            batch.push(Item {
                                entry: Entry {
                                    path: dir,
                                    kind: EntryKind::Dir,
                                    chunks: Vec::new(),
                                    link_group: 0,
                                    raw_path: None,
                                    ..like
                                },
                                message: None,
                            });
                        }
                    }
                    let owner = msg.owner.unwrap_or(Owner { uid, gid });
                    batch.push(Item {
                        entry: Entry {
                            path,
                            kind: EntryKind::File,
                            mode: msg.mode & 0o7777,
                            mtime_ns: msg.mtime_ns,
                            uid: owner.uid,
                            gid: owner.gid,
                            size: msg.file_size,
                            link_group: group_of.get(&msg.blob).copied().unwrap_or(0),
                            chunks,
                            ..Default::default()
                        },
                        message: Some(MessageRef {
                            account: account.name.clone(),
                            mailbox: mailbox.name.clone(),
                            id: msg.id,
                        }),
                    });
                    if batch.len() >= RESTORE_BATCH {
                        flush(&mut batch, &mut engine);
                    }
                }
                Ok(())
            };
            let read = for_each_list_piece(repo, &mailbox.list, &mut messages_of, |page, e| {
                lost_pages.push((*page, e))
            });
            // A page that cannot be read loses its messages, not the mailbox.
            for (page, e) in lost_pages {
                fail(
                    &mut unreadable,
                    format!(
                        "messages {} to {} ({} of them) of mailbox {} of account {}: {e}",
                        page.first_id, page.last_id, page.messages, mailbox.name, account.name
                    ),
                );
            }
            if let Err(e) = read {
                fail(
                    &mut unreadable,
                    format!(
                        "messages of mailbox {} of account {}: {e}",
                        mailbox.name, account.name
                    ),
                );
            }
        }
    }
    flush(&mut batch, &mut engine);
    let mut stats = engine.finish(&tree_items);
    stats.failed.extend(unreadable);
    stats.failed.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(stats)
}

/// Message files handed to the restore engine at a time: the memory a restore holds for its
/// messages, whatever their number.
const RESTORE_BATCH: usize = 16_384;

/// An account to restore, and where its directory is under the target.
struct AccountSource<'a> {
    account: &'a AccountRef,
    /// `data/accounts/<name>/`, or empty when the account alone is restored.
    rel: String,
}

fn parent_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(p, _)| p)
}
