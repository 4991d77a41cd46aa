//! Snapshots: the commit point of a backup. Only this module knows the snapshot file bytes.
//!
//! ```text
//! offset size  field
//! 0      4     magic "MVSN"
//! 4      4     format version, u32 LE (1)
//! 8      ...   postcard(Snapshot)
//! ```
//! The snapshot id is the BLAKE3 hash of the whole file.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::id::{BlobId, SnapshotId};

/// The magic at the start of a snapshot file.
pub const SNAPSHOT_MAGIC: [u8; 4] = *b"MVSN";
/// The snapshot format version this build writes and reads.
pub const SNAPSHOT_VERSION: u32 = 1;

/// What was backed up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceKind {
    /// A plain directory tree.
    Tree,
    /// A mox data directory (mail-aware backup: per-account manifests).
    Mox,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Tree => "tree",
            SourceKind::Mox => "mox",
        }
    }
}

/// A per-account manifest of a mox snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRef {
    pub name: String,
    pub manifest: BlobId,
}

/// A problem or warning recorded in a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The path concerned: relative to the source for plain trees, the file as read (in the
    /// data directory) for mox backups.
    pub path: Option<String>,
    pub message: String,
}

/// One backup: what, when, where from, the root tree, the result and statistics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Nanoseconds since the Unix epoch.
    pub time_ns: i64,
    pub host: String,
    /// The source directory as given (absolute).
    pub source: String,
    pub tool_version: String,
    pub kind: SourceKind,
    /// The snapshot the backup compared against, if any.
    pub parent: Option<SnapshotId>,
    /// The tree of files (for mox: the files outside the accounts' databases and messages).
    pub tree: BlobId,
    /// Empty for plain trees.
    pub accounts: Vec<AccountRef>,
    /// False when something could not be saved; `problems` says what.
    pub complete: bool,
    pub problems: Vec<Notice>,
    pub warnings: Vec<Notice>,
    /// files_total, files_read, bytes_read, bytes_added, duration_ms, ...
    pub stats: BTreeMap<String, u64>,
}

impl Snapshot {
    /// The snapshot file bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(&SNAPSHOT_MAGIC);
        out.extend_from_slice(&SNAPSHOT_VERSION.to_le_bytes());
        out.extend_from_slice(&postcard::to_stdvec(self).expect("snapshot encodes"));
        out
    }

    /// Parses a snapshot file; `path` names it in errors.
    pub fn decode(bytes: &[u8], path: &Path) -> Result<Snapshot> {
        if bytes.len() < 8 || bytes[0..4] != SNAPSHOT_MAGIC {
            return Err(Error::corrupt(path, "not a snapshot file"));
        }
        let version = u32::from_le_bytes(bytes[4..8].try_into().expect("4 bytes"));
        if version != SNAPSHOT_VERSION {
            return Err(Error::UnsupportedVersion {
                path: path.to_path_buf(),
                found: version,
                supported: SNAPSHOT_VERSION,
            });
        }
        postcard::from_bytes(&bytes[8..])
            .map_err(|e| Error::corrupt(path, format!("snapshot: {e}")))
    }

    /// A statistic, 0 when absent.
    pub fn stat(&self, key: &str) -> u64 {
        self.stats.get(key).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Snapshot {
        Snapshot {
            time_ns: 1_700_000_000_123_456_789,
            host: "h".into(),
            source: "/srv/mox".into(),
            tool_version: "0.1.0".into(),
            kind: SourceKind::Mox,
            parent: Some(SnapshotId::hash(b"p")),
            tree: BlobId::hash(b"t"),
            accounts: vec![AccountRef {
                name: "alice".into(),
                manifest: BlobId::hash(b"m"),
            }],
            complete: false,
            problems: vec![Notice {
                path: Some("a/b".into()),
                message: "unreadable".into(),
            }],
            warnings: vec![],
            stats: [("files_total".to_string(), 3u64)].into_iter().collect(),
        }
    }

    #[test]
    fn round_trip() {
        let s = sample();
        let bytes = s.encode();
        assert_eq!(Snapshot::decode(&bytes, Path::new("s")).unwrap(), s);
    }

    #[test]
    fn refuses_unknown_version() {
        let mut bytes = sample().encode();
        bytes[4..8].copy_from_slice(&7u32.to_le_bytes());
        match Snapshot::decode(&bytes, Path::new("snapshots/x")) {
            Err(Error::UnsupportedVersion { found: 7, path, .. }) => {
                assert_eq!(path, Path::new("snapshots/x"))
            }
            other => panic!("expected UnsupportedVersion, got {other:?}"),
        }
    }
}
