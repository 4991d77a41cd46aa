//! Backups: read a source, store what is new, commit a snapshot.
//!
//! `tree` backs up any directory tree; the mail-aware backup of a mox data directory shares the
//! summary type and the helpers here.

pub(crate) mod capture;
pub(crate) mod list;
pub mod mox;
pub mod tree;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::Result;
use crate::id::SnapshotId;
use crate::repo::Repository;
use crate::snapshot::{Notice, Snapshot, SourceKind};

/// The result of a backup that committed a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupSummary {
    pub snapshot: SnapshotId,
    /// False when some paths could not be saved (`problems`).
    pub complete: bool,
    pub stats: BTreeMap<String, u64>,
    pub problems: Vec<Notice>,
    pub warnings: Vec<Notice>,
}

/// What a backup would do (a dry run): counted against the parent snapshot, nothing stored.
///
/// `stats` has the keys a snapshot's statistics have, as what the backup would do: `files_read`
/// and `bytes_read` (databases to copy and other files to read), `databases_copied` and
/// `databases_unchanged`, `accounts_total` and `accounts_skipped`, `mailboxes_total`,
/// `mailboxes_skipped` (kept as they are) and `mailboxes_paged` (written again page by page;
/// the rest whole), `messages_total`, `messages_read` and `message_bytes_read` (message files to
/// read, from the sizes the database records). `bytes_added` is 0: what would be new is only
/// known by reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupPlan {
    /// The snapshot the backup would compare against.
    pub parent: Option<SnapshotId>,
    pub stats: BTreeMap<String, u64>,
    pub problems: Vec<Notice>,
    pub warnings: Vec<Notice>,
}

/// This machine's host name (snapshots record it; parents are looked up by host and source).
pub fn host_name() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

/// Every readable snapshot of `kind` taken from `source` on `host`, newest first: the parent of
/// the next backup and, when it is damaged, the older ones to fall back to.
pub(crate) fn parent_candidates(
    repo: &Repository,
    kind: SourceKind,
    host: &str,
    source: &str,
) -> Result<Vec<(SnapshotId, Snapshot)>> {
    if !repo.can_read() {
        // A put-only key reads nothing: every backup it makes is a first one (deduplicated
        // against what the repository holds).
        return Ok(Vec::new());
    }
    let mut found: Vec<_> = repo
        .snapshots_lenient()?
        .0
        .into_iter()
        .filter(|(_, s)| s.kind == kind && s.host == host && s.source == source)
        .collect();
    found.reverse();
    Ok(found)
}

/// The newest readable snapshot of `kind` taken from `source` on `host`: the parent of the
/// next backup. Damaged snapshot files are skipped.
pub fn find_parent(
    repo: &Repository,
    kind: SourceKind,
    host: &str,
    source: &str,
) -> Result<Option<(SnapshotId, Snapshot)>> {
    if !repo.can_read() {
        return Ok(None);
    }
    Ok(repo
        .snapshots_lenient()?
        .0
        .into_iter()
        .rev()
        .find(|(_, s)| s.kind == kind && s.host == host && s.source == source))
}
