//! The bytes of an index file (`index/<hex>`). Only this module knows the layout.
//!
//! ```text
//! offset size  field
//! 0      4     magic "MVIX"
//! 4      4     index format version, u32 LE (1)
//! 8      ...   postcard(IndexFile)
//! ```
//! An index file is written once, after the packs it lists are durable and before the snapshot
//! that needs them; its name is the BLAKE3 of its bytes. Index files are only added: the
//! repository's index is the union of all of them, minus the files a later one `supersedes`
//! (written by `repair index` and by `prune`).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::id::{BlobId, IndexId, PackId};
use crate::repo::object::BlobKind;

/// The magic at the start of every index file.
pub const INDEX_MAGIC: [u8; 4] = *b"MVIX";
/// The index format version this build writes and reads.
pub const INDEX_VERSION: u32 = 1;

/// What an index file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexFile {
    /// Index files whose content this one replaces; readers ignore them.
    pub supersedes: Vec<IndexId>,
    pub packs: Vec<PackEntry>,
    /// Raw objects (`objects/ab/<hex>.r`: linked message files, no header).
    pub loose: Vec<LooseEntry>,
}

/// One pack and the blobs in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackEntry {
    pub id: PackId,
    /// The pack's length in bytes.
    pub size: u64,
    pub blobs: Vec<PackedBlob>,
}

/// Where a blob sits in its pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackedBlob {
    pub id: BlobId,
    /// `BlobKind` as its object header byte.
    pub kind: u8,
    /// Offset of the entry (its 32-byte id) in the pack.
    pub offset: u64,
    /// Length of the entry: id, object header and payload.
    pub len: u64,
    /// Length of the blob content.
    pub raw_len: u64,
    /// For a member of a group entry: its start and length inside the group's body.
    pub member: Option<(u64, u64)>,
}

/// A raw object and its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LooseEntry {
    pub id: BlobId,
    pub size: u64,
}

impl PackedBlob {
    /// The blob's kind; an unknown byte is damage.
    pub fn blob_kind(&self) -> Option<BlobKind> {
        BlobKind::from_u8(self.kind)
    }
}

impl IndexFile {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&INDEX_MAGIC);
        out.extend_from_slice(&INDEX_VERSION.to_le_bytes());
        out.extend_from_slice(&postcard::to_stdvec(self).expect("index encodes"));
        out
    }

    /// Parses an index file and checks that every entry lies inside its pack; `path` names the
    /// file in errors.
    pub fn decode(bytes: &[u8], path: &Path) -> Result<IndexFile> {
        if bytes.len() < 8 || bytes[0..4] != INDEX_MAGIC {
            return Err(Error::corrupt(path, "not a mailvault index file"));
        }
        let version = u32::from_le_bytes(bytes[4..8].try_into().expect("4 bytes"));
        if version != INDEX_VERSION {
            return Err(Error::UnsupportedVersion {
                path: path.to_path_buf(),
                found: version,
                supported: INDEX_VERSION,
            });
        }
        let (index, rest): (IndexFile, &[u8]) = postcard::take_from_bytes(&bytes[8..])
            .map_err(|e| Error::corrupt(path, format!("index: {e}")))?;
        if !rest.is_empty() {
            return Err(Error::corrupt(path, "trailing bytes after the index"));
        }
        for pack in &index.packs {
            for b in &pack.blobs {
                let end = b.offset.checked_add(b.len);
                if b.blob_kind().is_none() || end.is_none_or(|end| end > pack.size) {
                    return Err(Error::corrupt(
                        path,
                        format!("entry of blob {} lies outside pack {}", b.id, pack.id),
                    ));
                }
            }
        }
        Ok(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_version_and_bounds() {
        let index = IndexFile {
            supersedes: vec![IndexId::hash(b"old")],
            packs: vec![PackEntry {
                id: PackId::hash(b"pack"),
                size: 100,
                blobs: vec![PackedBlob {
                    id: BlobId::hash(b"a"),
                    kind: 0,
                    offset: 6,
                    len: 60,
                    raw_len: 1,
                    member: None,
                }],
            }],
            loose: vec![LooseEntry {
                id: BlobId::hash(b"m"),
                size: 7,
            }],
        };
        let bytes = index.encode();
        assert_eq!(IndexFile::decode(&bytes, Path::new("i")).unwrap(), index);
        let mut newer = bytes.clone();
        newer[4] = 2;
        assert!(matches!(
            IndexFile::decode(&newer, Path::new("i")),
            Err(Error::UnsupportedVersion { found: 2, .. })
        ));
        let mut outside = index.clone();
        outside.packs[0].blobs[0].offset = 90;
        assert!(matches!(
            IndexFile::decode(&outside.encode(), Path::new("i")),
            Err(Error::Corrupt { .. })
        ));
        assert!(IndexFile::decode(&bytes[..bytes.len() - 1], Path::new("i")).is_err());
    }
}
