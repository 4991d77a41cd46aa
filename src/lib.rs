//! mailvault: incremental, content-addressed backups of a mox mail server's data directory.
//!
//! The library does the work and never prints; the `mailvault` binary is a thin CLI over it.
//! See `ARCHITECTURE.md` for the code map and `docs/format.md` for the on-disk formats.

mod backup;
mod check;
mod chunk;
mod diff;
mod error;
mod export;
mod find;
mod header;
mod id;
mod manifest;
pub mod mox;
mod progress;
mod prune;
mod reach;
mod repair;
mod replicate;
mod repo;
mod restore;
pub mod retention;
mod select;
mod snapshot;
mod stats;
mod tags;
mod tree;
mod verify;

pub use backup::mox::{
    DB_CHUNK_SIZE, MoxBackupOptions, backup_mox, is_mox_source, plan_backup_mox,
};
pub use backup::tree::{TreeBackupOptions, backup_tree};
pub use backup::{BackupPlan, BackupSummary, find_parent, host_name};
pub use check::{CheckOptions, CheckReport, Problem, ReadData, check};
pub use chunk::{
    Chunking, MESSAGE_CDC, MESSAGE_WHOLE_MAX, StoredFile, StoredMessage, chunking_for, split,
    store_file, store_message,
};
pub use diff::{AccountDiff, DiffMessage, MailboxDiff, SnapshotDiff, describe_changes, diff};
pub use error::{Error, IoContext, Result};
pub use export::{
    ExportFlags, ExportFormat, ExportOptions, ExportSummary, UnexportedKeywords, export,
    export_selected, mboxrd_quote, mboxrd_unquote,
};
pub use find::{
    AccountListing, FindStats, Finder, FoundMessage, MailboxListing, MessageFilter, MessageHeader,
    describe_messages, find, list_accounts, list_mailboxes, list_messages, message_content,
    parse_time_bound,
};
pub use header::{envelope_of, normalize_message_id};
pub use id::{BlobId, ID_LEN, IndexId, PackId, ParseIdError, SnapshotId};
pub use manifest::{
    AccountManifest, ListBody, ListPage, MailboxEntry, ManifestError, MessageChunks, MessageEntry,
    MessageList, Owner, StoredList,
};
pub use progress::{Collect, Event, NoProgress, Progress};
pub use prune::{PruneOptions, PruneReport, prune};
pub use reach::{BlobUse, Unreadable};
pub use repair::{SnapshotRepair, repair_snapshots};
pub use replicate::{ReplicateSummary, SkippedSnapshot, UnreadableSnapshot, replicate};
pub use repo::{
    Argon2Params, Backend, BlobInfo, BlobKind, ChunkParams, FailAfter, IndexRepair, KeyInfo,
    LinkCounts, LinkKind, LocalBackend, LocalStore, LockMode, LockRecord, MigrateSummary,
    ObjectMeta, PackParams, PasswordSource, PutOutcome, RepoConfig, Repository, Retry,
    RewriteOutcome, S3Backend, S3Url, SnapshotList, TransferStats, Unlock,
};
pub use restore::mox::{
    MoxRestoreSelection, load_list, load_list_lenient, load_list_root, load_manifest, load_message,
    message_chunks, message_stored, restore_mox,
};
pub use restore::{MessageRef, RestoreFailure, RestoreOptions, RestoreStats, restore_tree};
pub use select::{SnapshotFilter, resolve_snapshot};
pub use snapshot::{
    AccountRef, MAX_TAG_LEN, Notice, SNAPSHOT_VERSION, Snapshot, SourceKind, check_tag,
    normalize_tags,
};
pub use stats::{AccountStats, RepoStats, SnapshotStats, stats};
pub use tags::{Retagged, TagChange, retag};
pub use tree::{Entry, EntryKind, Tree, entry_from_fs, entry_from_metadata};
pub use verify::{DamagedBlob, SnapshotBlobs, VerifyReport, snapshot_at, snapshot_blobs, verify};
