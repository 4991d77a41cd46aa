//! Snapshots: the commit point of a backup. Only this module knows the snapshot file bytes.
//!
//! ```text
//! offset size  field
//! 0      4     magic "MVSN"
//! 4      4     format version, u32 LE (2; version 1 is still read)
//! 8      ...   postcard(Snapshot)
//! ```
//! The snapshot id is the BLAKE3 hash of the whole file. Version 2 appended `tags` and
//! `original`; a version 1 file decodes with no tags and no original.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::id::{BlobId, SnapshotId};

/// The magic at the start of a snapshot file.
pub const SNAPSHOT_MAGIC: [u8; 4] = *b"MVSN";
/// The snapshot format version this build writes (it reads every version up to this one).
pub const SNAPSHOT_VERSION: u32 = 2;

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
    /// Labels given by `backup --tag` or `tag` (version 2; empty in version 1 files). Each is
    /// a valid tag ([`check_tag`]), none twice.
    pub tags: Vec<String>,
    /// The snapshot this one replaces, when a command rewrote it (`tag`): the first of the
    /// chain when it was rewritten more than once (version 2; `None` in version 1 files).
    pub original: Option<SnapshotId>,
}

/// The body of a version 1 snapshot file: version 2 without `tags` and `original`.
#[derive(Deserialize)]
struct SnapshotV1 {
    time_ns: i64,
    host: String,
    source: String,
    tool_version: String,
    kind: SourceKind,
    parent: Option<SnapshotId>,
    tree: BlobId,
    accounts: Vec<AccountRef>,
    complete: bool,
    problems: Vec<Notice>,
    warnings: Vec<Notice>,
    stats: BTreeMap<String, u64>,
}

impl From<SnapshotV1> for Snapshot {
    fn from(v1: SnapshotV1) -> Snapshot {
        Snapshot {
            time_ns: v1.time_ns,
            host: v1.host,
            source: v1.source,
            tool_version: v1.tool_version,
            kind: v1.kind,
            parent: v1.parent,
            tree: v1.tree,
            accounts: v1.accounts,
            complete: v1.complete,
            problems: v1.problems,
            warnings: v1.warnings,
            stats: v1.stats,
            tags: Vec::new(),
            original: None,
        }
    }
}

/// The longest tag, in bytes.
pub const MAX_TAG_LEN: usize = 128;

/// Checks a tag: 1 to [`MAX_TAG_LEN`] bytes, no comma (lists of tags are written with commas),
/// no whitespace at either end, no control characters.
pub fn check_tag(tag: &str) -> Result<()> {
    let problem = if tag.is_empty() {
        Some("a tag cannot be empty")
    } else if tag.len() > MAX_TAG_LEN {
        Some("a tag is at most 128 bytes long")
    } else if tag.contains(',') {
        Some("a tag cannot hold a comma")
    } else if tag.trim() != tag {
        Some("a tag cannot start or end with whitespace")
    } else if tag.chars().any(char::is_control) {
        Some("a tag cannot hold control characters")
    } else {
        None
    };
    match problem {
        Some(p) => Err(Error::Invalid(format!("{tag:?}: {p}"))),
        None => Ok(()),
    }
}

/// `tags` checked ([`check_tag`]), in their order, each once.
pub fn normalize_tags<S: AsRef<str>>(tags: &[S]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for t in tags {
        let t = t.as_ref();
        check_tag(t)?;
        if !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    Ok(out)
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
        let body = &bytes[8..];
        let decoded = match version {
            1 => postcard::from_bytes::<SnapshotV1>(body).map(Snapshot::from),
            SNAPSHOT_VERSION => postcard::from_bytes::<Snapshot>(body),
            _ => {
                return Err(Error::UnsupportedVersion {
                    path: path.to_path_buf(),
                    found: version,
                    supported: SNAPSHOT_VERSION,
                });
            }
        };
        decoded.map_err(|e| Error::corrupt(path, format!("snapshot: {e}")))
    }

    /// Whether the snapshot carries `tag`.
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t == tag)
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
            tags: vec!["nightly".into(), "before upgrade".into()],
            original: Some(SnapshotId::hash(b"o")),
        }
    }

    /// A version 1 snapshot file exactly as version 1 wrote it (the golden repository's).
    const V1_FILE: &[u8] = include_bytes!(
        "../tests/golden/repo-v1/snapshots/2b38bbdd5c3002e7f035616b1ef6db4e5c159aacf551fbd5a9e070165b107e6b"
    );

    #[test]
    fn version_1_bytes_still_decode() {
        assert_eq!(&V1_FILE[..8], b"MVSN\x01\0\0\0");
        assert_eq!(
            SnapshotId::hash(V1_FILE).to_hex(),
            "2b38bbdd5c3002e7f035616b1ef6db4e5c159aacf551fbd5a9e070165b107e6b"
        );
        let s = Snapshot::decode(V1_FILE, Path::new("v1")).unwrap();
        assert_eq!(s.host, "example-host");
        assert_eq!(s.source, "/srv/mox");
        assert_eq!(s.tool_version, "0.1.0");
        assert_eq!(s.kind, SourceKind::Tree);
        assert_eq!(s.parent, None);
        assert!(s.complete && s.accounts.is_empty());
        assert!(s.stat("files_total") > 0 && s.stat("bytes_total") > 0);
        assert!(s.tags.is_empty());
        assert_eq!(s.original, None);
        // Written again, it is a version 2 file (another id) with the same content.
        let again = s.encode();
        assert_eq!(&again[4..8], &2u32.to_le_bytes());
        assert_eq!(Snapshot::decode(&again, Path::new("v2")).unwrap(), s);
    }

    #[test]
    fn a_version_1_body_is_not_read_as_version_2() {
        // The version field decides the layout: a v1 body under a v2 header lacks the new
        // fields and is refused, not guessed at.
        let mut bytes = V1_FILE.to_vec();
        bytes[4..8].copy_from_slice(&2u32.to_le_bytes());
        assert!(matches!(
            Snapshot::decode(&bytes, Path::new("s")),
            Err(Error::Corrupt { .. })
        ));
    }

    #[test]
    fn tags_are_checked() {
        for good in [
            "nightly",
            "before upgrade",
            "v1.2",
            "ünïcode",
            &"x".repeat(128),
        ] {
            check_tag(good).unwrap();
        }
        for bad in ["", "a,b", " lead", "trail ", "tab\there", &"x".repeat(129)] {
            let err = check_tag(bad).unwrap_err().to_string();
            assert!(err.contains("tag"), "{err}");
        }
        assert_eq!(
            normalize_tags(&["b", "a", "b"]).unwrap(),
            vec!["b".to_string(), "a".to_string()]
        );
        assert!(normalize_tags(&["ok", ""]).is_err());
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
        for version in [0u32, 3, 7] {
            bytes[4..8].copy_from_slice(&version.to_le_bytes());
            match Snapshot::decode(&bytes, Path::new("snapshots/x")) {
                Err(Error::UnsupportedVersion {
                    found,
                    path,
                    supported: 2,
                }) => {
                    assert_eq!(found, version);
                    assert_eq!(path, Path::new("snapshots/x"))
                }
                other => panic!("expected UnsupportedVersion, got {other:?}"),
            }
        }
    }
}
