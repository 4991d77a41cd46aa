//! The local catalog (`REPO/catalog.redb`): a cache of which blobs exist (kind, form, stored
//! size) and which snapshots it has seen. Everything in it can be rebuilt from the repository
//! files; the repository does that when the file is missing, unreadable, of another version, or
//! stale (its snapshot set differs from `snapshots/`).
//!
//! Invariant: a blob is recorded only after it is durable (after a `sync` of the backend), so
//! "the catalog says present" always means "the object survives a crash".

use std::collections::BTreeSet;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};

use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

use crate::error::{Error, Result};
use crate::id::{BlobId, SnapshotId};
use crate::repo::object::BlobKind;

/// Bumped when the tables change; an older or newer catalog is simply rebuilt.
pub const CATALOG_VERSION: u64 = 1;

/// blob id → (kind, form: 0 framed / 1 raw, stored bytes)
const BLOBS: TableDefinition<[u8; 32], (u8, u8, u64)> = TableDefinition::new("blobs");
/// snapshot id → snapshot time (ns since the epoch)
const SNAPSHOTS: TableDefinition<[u8; 32], i64> = TableDefinition::new("snapshots");
/// "version" → CATALOG_VERSION
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// What the catalog knows about one blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobInfo {
    pub kind: BlobKind,
    /// A raw object (`.r`, no header).
    pub raw: bool,
    pub stored_len: u64,
}

#[derive(Debug)]
pub(crate) struct Catalog {
    db: redb::Database,
    path: PathBuf,
}

/// The result of opening the catalog file.
pub(crate) enum Opened {
    /// Open; `fresh` when it was just created (empty) or found unusable and recreated.
    Ready { catalog: Catalog, fresh: bool },
    /// Another process holds it: work without a catalog.
    Busy,
}

fn err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Catalog {
        path: path.to_path_buf(),
        what: e.to_string(),
    }
}

fn is_busy(e: &redb::DatabaseError) -> bool {
    match e {
        redb::DatabaseError::DatabaseAlreadyOpen | redb::DatabaseError::LockProtocolMismatch => {
            true
        }
        redb::DatabaseError::Storage(redb::StorageError::Io(io)) => {
            io.kind() == std::io::ErrorKind::WouldBlock
        }
        _ => false,
    }
}

fn try_open(path: &Path) -> std::result::Result<redb::Database, Option<redb::DatabaseError>> {
    let mut builder = redb::Builder::new();
    builder
        .set_cache_size(64 << 20)
        .set_check_integrity_on_open(true);
    // redb may panic on a file damaged outside of it; the catalog is a cache, so a panic means
    // "rebuild", never "abort".
    match std::panic::catch_unwind(AssertUnwindSafe(|| builder.create(path))) {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(e)) => Err(Some(e)),
        Err(_) => Err(None),
    }
}

impl Catalog {
    /// Opens the catalog, recreating it when it is damaged. `Busy` when it cannot be used at
    /// all (held by another process, read-only filesystem...): the repository then works from
    /// the files alone.
    pub(crate) fn open(path: &Path) -> Opened {
        let existed = path.exists();
        let db = match try_open(path) {
            Ok(db) => db,
            Err(Some(e)) if is_busy(&e) => return Opened::Busy,
            Err(_) => {
                // Unreadable: drop it and start over.
                if std::fs::remove_file(path).is_err() {
                    return Opened::Busy;
                }
                match try_open(path) {
                    Ok(db) => db,
                    Err(_) => return Opened::Busy,
                }
            }
        };
        let catalog = Catalog {
            db,
            path: path.to_path_buf(),
        };
        let version = catalog.version().unwrap_or(None);
        let fresh = !existed || version != Some(CATALOG_VERSION);
        Opened::Ready { catalog, fresh }
    }

    fn version(&self) -> Result<Option<u64>> {
        let tx = self.db.begin_read().map_err(|e| err(&self.path, e))?;
        let table = match tx.open_table(META) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(err(&self.path, e)),
        };
        Ok(table
            .get("version")
            .map_err(|e| err(&self.path, e))?
            .map(|v| v.value()))
    }

    /// The snapshot ids the catalog was last brought up to date with.
    pub(crate) fn snapshot_ids(&self) -> Result<BTreeSet<SnapshotId>> {
        let tx = self.db.begin_read().map_err(|e| err(&self.path, e))?;
        let table = match tx.open_table(SNAPSHOTS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(BTreeSet::new()),
            Err(e) => return Err(err(&self.path, e)),
        };
        let mut out = BTreeSet::new();
        for item in table.iter().map_err(|e| err(&self.path, e))? {
            let (k, _) = item.map_err(|e| err(&self.path, e))?;
            out.insert(SnapshotId(k.value()));
        }
        Ok(out)
    }

    /// What the catalog knows about a blob; errors read as "unknown" (the caller then checks
    /// the files).
    pub(crate) fn get(&self, id: &BlobId) -> Option<BlobInfo> {
        let tx = self.db.begin_read().ok()?;
        let table = tx.open_table(BLOBS).ok()?;
        let v = table.get(id.0).ok()??;
        let (kind, form, stored_len) = v.value();
        Some(BlobInfo {
            kind: BlobKind::from_u8(kind).unwrap_or(BlobKind::Data),
            raw: form == 1,
            stored_len,
        })
    }

    /// Records durable blobs and seen snapshots in one transaction.
    pub(crate) fn record(
        &self,
        blobs: &[(BlobId, BlobInfo)],
        snapshots: &[(SnapshotId, i64)],
    ) -> Result<()> {
        let tx = self.db.begin_write().map_err(|e| err(&self.path, e))?;
        {
            let mut t = tx.open_table(BLOBS).map_err(|e| err(&self.path, e))?;
            for (id, info) in blobs {
                t.insert(
                    id.0,
                    (info.kind.to_u8(), u8::from(info.raw), info.stored_len),
                )
                .map_err(|e| err(&self.path, e))?;
            }
            let mut s = tx.open_table(SNAPSHOTS).map_err(|e| err(&self.path, e))?;
            for (id, time) in snapshots {
                s.insert(id.0, *time).map_err(|e| err(&self.path, e))?;
            }
        }
        tx.commit().map_err(|e| err(&self.path, e))
    }

    /// Forgets a blob (found damaged): the next put of its content stores it again.
    pub(crate) fn forget(&self, id: &BlobId) -> Result<()> {
        let tx = self.db.begin_write().map_err(|e| err(&self.path, e))?;
        {
            let mut t = tx.open_table(BLOBS).map_err(|e| err(&self.path, e))?;
            t.remove(id.0).map_err(|e| err(&self.path, e))?;
        }
        tx.commit().map_err(|e| err(&self.path, e))
    }

    /// Replaces the whole content (a rebuild).
    pub(crate) fn replace_all(
        &self,
        blobs: &[(BlobId, BlobInfo)],
        snapshots: &[(SnapshotId, i64)],
    ) -> Result<()> {
        let tx = self.db.begin_write().map_err(|e| err(&self.path, e))?;
        tx.delete_table(BLOBS).map_err(|e| err(&self.path, e))?;
        tx.delete_table(SNAPSHOTS).map_err(|e| err(&self.path, e))?;
        tx.delete_table(META).map_err(|e| err(&self.path, e))?;
        {
            let mut m = tx.open_table(META).map_err(|e| err(&self.path, e))?;
            m.insert("version", CATALOG_VERSION)
                .map_err(|e| err(&self.path, e))?;
        }
        tx.commit().map_err(|e| err(&self.path, e))?;
        self.record(blobs, snapshots)
    }

    /// The number of blobs recorded.
    pub(crate) fn blob_count(&self) -> Result<u64> {
        let tx = self.db.begin_read().map_err(|e| err(&self.path, e))?;
        match tx.open_table(BLOBS) {
            Ok(t) => t.len().map_err(|e| err(&self.path, e)),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(0),
            Err(e) => Err(err(&self.path, e)),
        }
    }
}
