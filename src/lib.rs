//! mailvault: incremental, content-addressed backups of a mox mail server's data directory.
//!
//! The library does the work and never prints; the `mailvault` binary is a thin CLI over it.
//! See `ARCHITECTURE.md` for the code map and `docs/format.md` for the on-disk formats.

mod backup;
mod chunk;
mod error;
mod id;
pub mod mox;
mod progress;
mod repo;
mod restore;
mod snapshot;
mod tree;

pub use backup::tree::{TreeBackupOptions, backup_tree};
pub use backup::{BackupSummary, find_parent, host_name};
pub use chunk::{Chunking, StoredFile, chunking_for, split, store_file};
pub use error::{Error, IoContext, Result};
pub use id::{BlobId, ID_LEN, ParseIdError, SnapshotId};
pub use progress::{Collect, Event, NoProgress, Progress};
pub use repo::{
    Backend, BlobInfo, BlobKind, ChunkParams, FailAfter, LocalBackend, PutOutcome, RepoConfig,
    Repository, SnapshotList,
};
pub use restore::{RestoreOptions, RestoreStats, restore_tree};
pub use snapshot::{AccountRef, Notice, Snapshot, SourceKind};
pub use tree::{Entry, EntryKind, Tree, entry_from_metadata};
