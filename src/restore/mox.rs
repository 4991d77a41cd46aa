//! Restoring a mox snapshot into the layout `mox backup` writes and mox starts from:
//! `TARGET/config` and `TARGET/data`, message files rebuilt from the account manifests, with
//! hardlinks between message files of identical content.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use rayon::prelude::*;

use crate::manifest::{AccountManifest, MessageEntry, MessageList};
use crate::mox;
use crate::repo::Repository;
use crate::restore::{RestoreOptions, RestoreStats, restore_tree};
use crate::snapshot::{AccountRef, Snapshot, SourceKind};
use crate::tree::Tree;
use crate::{BlobId, Error, Event, IoContext, Progress, Result};

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

/// Loads a mailbox's message list.
pub fn load_list(repo: &Repository, id: &BlobId) -> Result<MessageList> {
    let bytes = repo.get_blob(id)?;
    MessageList::decode(&bytes)
        .map_err(|e| Error::corrupt(format!("message list {id}"), e.to_string()))
}

/// Restores a mox snapshot (or one account of it) under `target`.
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
    let (tree, data_root, accounts): (Tree, PathBuf, Vec<&AccountRef>) = match &selection.account {
        None => (
            full,
            target.join("data"),
            snapshot.accounts.iter().collect(),
        ),
        Some(name) => {
            let account = snapshot
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
                })?;
            // Re-root the account's own entries at the target.
            let prefix = format!("data/accounts/{name}/");
            let entries = full
                .entries
                .into_iter()
                .filter_map(|mut e| {
                    let rest = e.path.strip_prefix(&prefix)?.to_string();
                    e.path = rest;
                    Some(e)
                })
                .collect();
            (Tree { entries }, target.to_path_buf(), vec![account])
        }
    };
    let mut stats = restore_tree(repo, &tree, target, opts, progress)?;

    // Every message file to write, grouped by content: the first path of a blob is written
    // (in parallel), the others are hardlinks to it, as mox's deliveries to several recipients
    // are.
    let mut groups: HashMap<BlobId, Vec<(PathBuf, MessageEntry)>> = HashMap::new();
    let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
    for account in accounts {
        let manifest = load_manifest(repo, account)?;
        let account_dir = match &selection.account {
            Some(_) => data_root.clone(),
            None => data_root.join("accounts").join(&account.name),
        };
        for mailbox in &manifest.mailboxes {
            for msg in load_list(repo, &mailbox.list)?.messages {
                let dest = account_dir.join("msg").join(mox::message_path(msg.id));
                if !opts.overwrite && fs::symlink_metadata(&dest).is_ok() {
                    return Err(Error::Invalid(format!(
                        "{}: exists; not overwriting",
                        dest.display()
                    )));
                }
                if let Some(parent) = dest.parent() {
                    dirs.insert(parent.to_path_buf());
                }
                groups.entry(msg.blob).or_default().push((dest, msg));
            }
        }
    }
    for dir in &dirs {
        fs::create_dir_all(dir).at(dir)?;
    }
    let total: u64 = groups.values().map(|g| g.len() as u64).sum();
    let phase = format!("{total} message files");
    progress.event(Event::Phase {
        name: phase.clone(),
        total: Some(total),
    });
    let files = AtomicU64::new(0);
    let links = AtomicU64::new(0);
    let bytes = AtomicU64::new(0);
    groups
        .par_iter()
        .try_for_each(|(blob, paths)| -> Result<()> {
            let (first, msg) = &paths[0];
            for (dest, _) in paths {
                if opts.overwrite {
                    let _ = fs::remove_file(dest);
                }
            }
            repo.restore_blob(blob, first, opts.link)?;
            set_mode_and_mtime(first, msg.mode, msg.mtime_ns)?;
            for (dest, _) in &paths[1..] {
                fs::hard_link(first, dest).at(dest)?;
            }
            files.fetch_add(paths.len() as u64, Ordering::Relaxed);
            links.fetch_add(paths.len() as u64 - 1, Ordering::Relaxed);
            bytes.fetch_add(msg.file_size, Ordering::Relaxed);
            progress.event(Event::Advance {
                phase: phase.clone(),
                items: paths.len() as u64,
                bytes: msg.file_size,
            });
            Ok(())
        })?;
    stats.files += files.into_inner();
    stats.hardlinks += links.into_inner();
    stats.bytes_written += bytes.into_inner();
    Ok(stats)
}

/// Sets mode and mtime when they differ (a file hardlinked from the repository already has them).
fn set_mode_and_mtime(path: &Path, mode: u32, mtime_ns: i64) -> Result<()> {
    let meta = fs::metadata(path).at(path)?;
    if meta.permissions().mode() & 0o7777 != mode & 0o7777 {
        fs::set_permissions(path, fs::Permissions::from_mode(mode & 0o7777)).at(path)?;
    }
    let want = UNIX_EPOCH + Duration::from_nanos(mtime_ns.max(0) as u64);
    if meta.modified().ok() != Some(want) {
        let file = fs::File::options().write(true).open(path).at(path);
        // A file we cannot open for writing keeps its time: its content is what counts.
        if let Ok(f) = file {
            f.set_modified(want).at(path)?;
        }
    }
    Ok(())
}
