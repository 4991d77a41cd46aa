//! Restoring a mox snapshot into the layout `mox backup` writes and mox starts from:
//! `TARGET/config` and `TARGET/data`, message files rebuilt from the account manifests, with
//! hardlinks between message files of identical content.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use crate::manifest::{AccountManifest, MessageList};
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

    // First path written for each blob: later files of the same content, in any account, are
    // hardlinks to it, as mox's own deliveries to several recipients are.
    let mut first: HashMap<BlobId, PathBuf> = HashMap::new();
    for account in accounts {
        let manifest = load_manifest(repo, account)?;
        let account_dir = match &selection.account {
            Some(_) => data_root.clone(),
            None => data_root.join("accounts").join(&account.name),
        };
        progress.event(Event::Phase {
            name: format!(
                "account {}: {} messages",
                account.name,
                manifest.message_count()
            ),
            total: Some(manifest.message_count()),
        });
        for mailbox in &manifest.mailboxes {
            let list = load_list(repo, &mailbox.list)?;
            for msg in &list.messages {
                let dest = account_dir.join("msg").join(mox::message_path(msg.id));
                if let Some(parent) = dest.parent() {
                    fs::create_dir_all(parent).at(parent)?;
                }
                if !opts.overwrite && fs::symlink_metadata(&dest).is_ok() {
                    return Err(Error::Invalid(format!(
                        "{}: exists; not overwriting",
                        dest.display()
                    )));
                }
                let _ = fs::remove_file(&dest);
                match first.get(&msg.blob) {
                    Some(src) => {
                        fs::hard_link(src, &dest).at(&dest)?;
                        stats.hardlinks += 1;
                    }
                    None => {
                        repo.restore_blob(&msg.blob, &dest, opts.link)?;
                        set_mode_and_mtime(&dest, msg.mode, msg.mtime_ns)?;
                        first.insert(msg.blob, dest.clone());
                    }
                }
                stats.files += 1;
                stats.bytes_written += msg.file_size;
                progress.event(Event::Advance {
                    items: 1,
                    bytes: msg.file_size,
                });
            }
        }
    }
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
        match file {
            Ok(f) => f.set_modified(want).at(path)?,
            // A read-only message file: its time is cosmetic, its content is what counts.
            Err(_) => {}
        }
    }
    Ok(())
}
