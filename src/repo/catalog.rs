//! The local catalog (`REPO/catalog.redb`): a cache of the repository index (where every blob
//! lives: pack and offset, or a loose object) and of which index files it has absorbed.
//! Everything in it can be rebuilt from the index files; the repository does that when the
//! file is missing, unreadable or of another version, loads index files it has not seen, and
//! rebuilds when one it absorbed is gone.
//!
//! Invariant: a blob is recorded only after an index file listing it is durable, so "the
//! catalog says present" always means "a committed index says so".

use std::collections::BTreeSet;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};

use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

use crate::error::{Error, Result};
use crate::id::{BlobId, IndexId, PackId};
use crate::repo::object::BlobKind;

/// Bumped when the tables change; an older or newer catalog is simply rebuilt.
pub const CATALOG_VERSION: u64 = 2;

/// blob id → (kind, form: 0 packed / 1 raw loose / 2 framed loose (format 1) / 3 member of a
/// group entry, pack id, offset, entry length or file size, member start << 32 | length)
const BLOBS: TableDefinition<[u8; 32], Row> = TableDefinition::new("blobs");
/// A row of `blobs`.
type Row = (u8, u8, [u8; 32], u64, u64, u64);
/// index file id → 1 when it is a live file that supersedes others (a repair), 0 otherwise
const INDEXES: TableDefinition<[u8; 32], u64> = TableDefinition::new("indexes");
/// pack id → its size: every pack the index lists
const PACKS: TableDefinition<[u8; 32], u64> = TableDefinition::new("packs");
/// "version" → CATALOG_VERSION
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// A short fingerprint of a set of index files.
fn index_set_key(ids: &BTreeSet<IndexId>) -> u64 {
    let mut h = blake3::Hasher::new();
    for id in ids {
        h.update(&id.0);
    }
    u64::from_le_bytes(h.finalize().as_bytes()[..8].try_into().expect("8 bytes"))
}

/// What the repository knows about one stored blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobInfo {
    pub kind: BlobKind,
    /// A raw object (`objects/ab/<hex>.r`, no header: a linked file).
    pub raw: bool,
    /// Bytes it takes in the repository (its pack entry, or the file).
    pub stored_len: u64,
    /// A member of a group entry (pages of one file compressed together).
    pub grouped: bool,
}

/// Where a blob lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// An entry of a pack.
    Packed { pack: PackId, offset: u64 },
    /// A member of a group entry of a pack: `start..start + len` of the group's body.
    Member {
        pack: PackId,
        offset: u64,
        start: u32,
        len: u32,
    },
    /// A raw object `objects/ab/<hex>.r`.
    Raw,
    /// A framed object `objects/ab/<hex>` of repository format 1.
    Framed,
}

/// A blob's place, kind and lengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Location {
    pub kind: BlobKind,
    pub place: Place,
    /// Entry length (packed) or file size (loose).
    pub len: u64,
}

impl Location {
    pub(crate) fn info(&self) -> BlobInfo {
        BlobInfo {
            kind: self.kind,
            raw: self.place == Place::Raw,
            stored_len: self.len,
            grouped: matches!(self.place, Place::Member { .. }),
        }
    }

    fn to_row(self) -> Row {
        let (form, pack, offset) = match self.place {
            Place::Packed { pack, offset } => (0, pack.0, offset),
            Place::Raw => (1, [0; 32], 0),
            Place::Framed => (2, [0; 32], 0),
            Place::Member { pack, offset, .. } => (3, pack.0, offset),
        };
        let member = match self.place {
            Place::Member { start, len, .. } => (u64::from(start) << 32) | u64::from(len),
            _ => 0,
        };
        (self.kind.to_u8(), form, pack, offset, self.len, member)
    }

    fn from_row(row: Row) -> Option<Location> {
        let (kind, form, pack, offset, len, member) = row;
        let place = match form {
            0 => Place::Packed {
                pack: PackId(pack),
                offset,
            },
            1 => Place::Raw,
            2 => Place::Framed,
            3 => Place::Member {
                pack: PackId(pack),
                offset,
                start: (member >> 32) as u32,
                len: member as u32,
            },
            _ => return None,
        };
        Some(Location {
            kind: BlobKind::from_u8(kind)?,
            place,
            len,
        })
    }
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

fn try_open(
    path: &Path,
    check: bool,
) -> std::result::Result<redb::Database, Option<redb::DatabaseError>> {
    let mut builder = redb::Builder::new();
    builder
        .set_cache_size(16 << 20)
        .set_check_integrity_on_open(check);
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
    pub(crate) fn open(path: &Path, check: bool) -> Opened {
        let existed = path.exists();
        let db = match try_open(path, check) {
            Ok(db) => db,
            Err(Some(e)) if is_busy(&e) => return Opened::Busy,
            Err(_) => {
                // Unreadable: drop it and start over.
                if std::fs::remove_file(path).is_err() {
                    return Opened::Busy;
                }
                match try_open(path, check) {
                    Ok(db) => db,
                    Err(_) => return Opened::Busy,
                }
            }
        };
        // redb creates the file under the umask: the catalog names every blob, keep it private.
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
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

    /// The keys of a table of ids whose value passes `keep` (empty when the table is missing).
    fn keys_where(
        &self,
        table: TableDefinition<[u8; 32], u64>,
        keep: impl Fn(u64) -> bool,
    ) -> Result<Vec<[u8; 32]>> {
        let tx = self.db.begin_read().map_err(|e| err(&self.path, e))?;
        let table = match tx.open_table(table) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(err(&self.path, e)),
        };
        let mut out = Vec::new();
        for item in table.iter().map_err(|e| err(&self.path, e))? {
            let (k, v) = item.map_err(|e| err(&self.path, e))?;
            if keep(v.value()) {
                out.push(k.value());
            }
        }
        Ok(out)
    }

    /// The index files the catalog has absorbed.
    pub(crate) fn index_ids(&self) -> Result<BTreeSet<IndexId>> {
        Ok(self
            .keys_where(INDEXES, |_| true)?
            .into_iter()
            .map(IndexId)
            .collect())
    }

    /// Where a blob lives; errors read as "unknown".
    pub(crate) fn get(&self, id: &BlobId) -> Option<Location> {
        let tx = self.db.begin_read().ok()?;
        let table = tx.open_table(BLOBS).ok()?;
        let v = table.get(id.0).ok()??;
        Location::from_row(v.value())
    }

    /// Records blobs of durable index files, those files (and whether each is a repair), and
    /// the packs they list, in one transaction.
    pub(crate) fn record(
        &self,
        blobs: &[(BlobId, Location)],
        indexes: &[(IndexId, bool)],
        packs: &[(PackId, u64)],
    ) -> Result<()> {
        let tx = self.db.begin_write().map_err(|e| err(&self.path, e))?;
        {
            let mut t = tx.open_table(BLOBS).map_err(|e| err(&self.path, e))?;
            for (id, loc) in blobs {
                t.insert(id.0, loc.to_row())
                    .map_err(|e| err(&self.path, e))?;
            }
            let mut s = tx.open_table(INDEXES).map_err(|e| err(&self.path, e))?;
            for (id, repair) in indexes {
                s.insert(id.0, u64::from(*repair))
                    .map_err(|e| err(&self.path, e))?;
            }
            let mut p = tx.open_table(PACKS).map_err(|e| err(&self.path, e))?;
            for (id, size) in packs {
                p.insert(id.0, *size).map_err(|e| err(&self.path, e))?;
            }
        }
        tx.commit().map_err(|e| err(&self.path, e))
    }

    /// Every pack the absorbed index files list.
    pub(crate) fn pack_ids(&self) -> Result<std::collections::HashSet<PackId>> {
        Ok(self
            .keys_where(PACKS, |_| true)?
            .into_iter()
            .map(PackId)
            .collect())
    }

    /// The live index files written by a repair.
    pub(crate) fn repair_ids(&self) -> Result<BTreeSet<IndexId>> {
        Ok(self
            .keys_where(INDEXES, |v| v == 1)?
            .into_iter()
            .map(IndexId)
            .collect())
    }

    /// Replaces the whole content (a rebuild).
    pub(crate) fn replace_all(
        &self,
        blobs: &[(BlobId, Location)],
        indexes: &[(IndexId, bool)],
        packs: &[(PackId, u64)],
    ) -> Result<()> {
        let tx = self.db.begin_write().map_err(|e| err(&self.path, e))?;
        tx.delete_table(BLOBS).map_err(|e| err(&self.path, e))?;
        tx.delete_table(INDEXES).map_err(|e| err(&self.path, e))?;
        tx.delete_table(PACKS).map_err(|e| err(&self.path, e))?;
        tx.delete_table(META).map_err(|e| err(&self.path, e))?;
        {
            let mut m = tx.open_table(META).map_err(|e| err(&self.path, e))?;
            m.insert("version", CATALOG_VERSION)
                .map_err(|e| err(&self.path, e))?;
        }
        tx.commit().map_err(|e| err(&self.path, e))?;
        self.record(blobs, indexes, packs)
    }

    /// Whether a backup has checked its parent's blobs against exactly this set of index files
    /// (after a repair).
    pub(crate) fn repair_checked(&self, live: &BTreeSet<IndexId>) -> bool {
        let Ok(tx) = self.db.begin_read() else {
            return false;
        };
        let Ok(table) = tx.open_table(META) else {
            return false;
        };
        let want = index_set_key(live);
        matches!(table.get("checked"), Ok(Some(v)) if v.value() == want)
    }

    /// Records that the blobs were checked against this set of index files.
    pub(crate) fn set_repair_checked(&self, live: &BTreeSet<IndexId>) -> Result<()> {
        let tx = self.db.begin_write().map_err(|e| err(&self.path, e))?;
        {
            let mut m = tx.open_table(META).map_err(|e| err(&self.path, e))?;
            m.insert("checked", index_set_key(live))
                .map_err(|e| err(&self.path, e))?;
        }
        tx.commit().map_err(|e| err(&self.path, e))
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
