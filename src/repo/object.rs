//! The bytes of a framed object (`objects/ab/<hex>`). Only this module knows the layout.
//!
//! ```text
//! offset size  field
//! 0      4     magic "MVOB"
//! 4      1     format version (1)
//! 5      1     kind (BlobKind as u8)
//! 6      1     compression (0 none, 1 zstd)
//! 7      8     raw_len: u64 LE, length of the blob content
//! 15     8     stored_len: u64 LE, length of the payload that follows
//! 23     ...   payload (stored_len bytes)
//! ```
//! A raw object (`objects/ab/<hex>.r`) has no header: its bytes are the blob content.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The magic at the start of every framed object.
pub const OBJECT_MAGIC: [u8; 4] = *b"MVOB";
/// The framed-object format version this build writes and reads.
pub const OBJECT_VERSION: u8 = 1;
/// Length of the header in bytes.
pub const HEADER_LEN: usize = 23;
/// Compression: none.
pub const COMPRESSION_NONE: u8 = 0;
/// Compression: zstd (one frame).
pub const COMPRESSION_ZSTD: u8 = 1;
/// Compression: sealed (an encrypted repository): the payload is an envelope of `repo::keys`
/// around one compression byte (none or zstd) and the payload it describes.
pub const COMPRESSION_SEALED: u8 = 2;
/// zstd level for objects: fast, and most of the gain.
pub const ZSTD_LEVEL: i32 = 3;
/// The largest blob a repository holds: chunks are at most 1 MiB, databases are split into
/// pages, and only a message file is stored whole (mox refuses messages far below this). A
/// header declaring more is damage, refused before anything is allocated.
pub const MAX_RAW_LEN: u64 = 1 << 30;

/// What a blob holds. Stored as a u8 in the object header; values are never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum BlobKind {
    /// File content or a chunk of it.
    Data,
    /// An encoded [`crate::Tree`].
    Tree,
    /// A per-account manifest (mail-aware backup).
    Manifest,
    /// A group of small data blobs compressed together (database pages of one file): see
    /// `repo::pack` for its body. Only inside packs; never a blob a snapshot names.
    Group,
}

impl BlobKind {
    /// The header byte.
    pub fn to_u8(self) -> u8 {
        match self {
            BlobKind::Data => 0,
            BlobKind::Tree => 1,
            BlobKind::Manifest => 2,
            BlobKind::Group => 3,
        }
    }

    /// The kind for a header byte, if known.
    pub fn from_u8(b: u8) -> Option<BlobKind> {
        match b {
            0 => Some(BlobKind::Data),
            1 => Some(BlobKind::Tree),
            2 => Some(BlobKind::Manifest),
            3 => Some(BlobKind::Group),
            _ => None,
        }
    }
}

/// A decoded object header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub kind: BlobKind,
    pub compression: u8,
    pub raw_len: u64,
    pub stored_len: u64,
}

impl Header {
    /// The 23 header bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..4].copy_from_slice(&OBJECT_MAGIC);
        out[4] = OBJECT_VERSION;
        out[5] = self.kind.to_u8();
        out[6] = self.compression;
        out[7..15].copy_from_slice(&self.raw_len.to_le_bytes());
        out[15..23].copy_from_slice(&self.stored_len.to_le_bytes());
        out
    }

    /// Parses the header at the start of `bytes`; `path` names the object in errors.
    pub fn decode(bytes: &[u8], path: &Path) -> Result<Header> {
        if bytes.len() < HEADER_LEN {
            return Err(Error::corrupt(path, "object shorter than its header"));
        }
        if bytes[0..4] != OBJECT_MAGIC {
            return Err(Error::corrupt(path, "bad object magic"));
        }
        if bytes[4] != OBJECT_VERSION {
            return Err(Error::UnsupportedVersion {
                path: path.to_path_buf(),
                found: u32::from(bytes[4]),
                supported: u32::from(OBJECT_VERSION),
            });
        }
        let kind = BlobKind::from_u8(bytes[5])
            .ok_or_else(|| Error::corrupt(path, format!("unknown object kind {}", bytes[5])))?;
        let compression = bytes[6];
        if compression != COMPRESSION_NONE
            && compression != COMPRESSION_ZSTD
            && compression != COMPRESSION_SEALED
        {
            return Err(Error::corrupt(
                path,
                format!("unknown compression {compression}"),
            ));
        }
        let raw_len = u64::from_le_bytes(bytes[7..15].try_into().expect("8 bytes"));
        let stored_len = u64::from_le_bytes(bytes[15..23].try_into().expect("8 bytes"));
        if raw_len > MAX_RAW_LEN || stored_len > MAX_RAW_LEN + (MAX_RAW_LEN >> 7) + 4096 {
            return Err(Error::corrupt(
                path,
                format!("object declares {raw_len} bytes, more than any blob can hold"),
            ));
        }
        if compression == COMPRESSION_NONE && raw_len != stored_len {
            return Err(Error::corrupt(
                path,
                "uncompressed object with raw_len != stored_len",
            ));
        }
        Ok(Header {
            kind,
            compression,
            raw_len,
            stored_len,
        })
    }
}

thread_local! {
    /// One zstd context per thread: creating one per blob costs more than compressing a small
    /// message.
    static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// Decompresses at most `raw_len` bytes. The buffer grows with the bytes that really come out,
/// never with what the header claims: a damaged or hostile header cannot make it allocate.
fn decompress(payload: &[u8], raw_len: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let start = raw_len.min(payload.len() as u64 * 8 + 4096) as usize;
    let mut out = Vec::with_capacity(start);
    zstd::stream::read::Decoder::with_buffer(payload)?
        .take(raw_len + 1)
        .read_to_end(&mut out)?;
    Ok(out)
}

fn compress(data: &[u8]) -> Option<Vec<u8>> {
    COMPRESSOR.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = zstd::bulk::Compressor::new(ZSTD_LEVEL).ok();
        }
        c.as_mut()?.compress(data).ok()
    })
}

/// Frames `data`: zstd when that makes it smaller, stored as is otherwise.
pub fn encode(kind: BlobKind, data: &[u8]) -> Vec<u8> {
    let compressed = if data.len() >= 64 {
        compress(data).filter(|c| c.len() < data.len())
    } else {
        None
    };
    let (compression, payload) = match &compressed {
        Some(c) => (COMPRESSION_ZSTD, c.as_slice()),
        None => (COMPRESSION_NONE, data),
    };
    let header = Header {
        kind,
        compression,
        raw_len: data.len() as u64,
        stored_len: payload.len() as u64,
    };
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&header.encode());
    out.extend_from_slice(payload);
    out
}

/// The compression of a sealed object's inner bytes and its payload: zstd when that makes the
/// content smaller (`Some`), the content as is otherwise (`None`).
pub fn compressed(data: &[u8]) -> (u8, Option<Vec<u8>>) {
    let compressed = if data.len() >= 64 {
        compress(data).filter(|c| c.len() < data.len())
    } else {
        None
    };
    match compressed {
        Some(c) => (COMPRESSION_ZSTD, Some(c)),
        None => (COMPRESSION_NONE, None),
    }
}

/// The header of a sealed object whose envelope is `stored_len` bytes.
pub fn sealed_header(kind: BlobKind, raw_len: u64, stored_len: u64) -> [u8; HEADER_LEN] {
    Header {
        kind,
        compression: COMPRESSION_SEALED,
        raw_len,
        stored_len,
    }
    .encode()
}

/// The header and payload of a framed object, its length checked (not decompressed).
pub fn split<'a>(bytes: &'a [u8], path: &Path) -> Result<(Header, &'a [u8])> {
    let header = Header::decode(bytes, path)?;
    let payload = &bytes[HEADER_LEN..];
    if payload.len() as u64 != header.stored_len {
        return Err(Error::corrupt(
            path,
            format!(
                "payload is {} bytes, header says {}",
                payload.len(),
                header.stored_len
            ),
        ));
    }
    Ok((header, payload))
}

/// The content of an opened sealed object's inner bytes (one compression byte, then the
/// payload; `raw_len` from its header).
pub fn decode_inner(mut inner: Vec<u8>, raw_len: u64, path: &Path) -> Result<Vec<u8>> {
    match inner.first().copied() {
        Some(COMPRESSION_NONE) => {
            if inner.len() as u64 - 1 != raw_len {
                return Err(Error::corrupt(
                    path,
                    "uncompressed object with raw_len != stored_len",
                ));
            }
            inner.remove(0);
            Ok(inner)
        }
        Some(COMPRESSION_ZSTD) => decompress_checked(&inner[1..], raw_len, path),
        Some(other) => Err(Error::corrupt(
            path,
            format!("unknown compression {other} inside a sealed object"),
        )),
        None => Err(Error::corrupt(path, "sealed object is empty")),
    }
}

fn decompress_checked(payload: &[u8], raw_len: u64, path: &Path) -> Result<Vec<u8>> {
    let data =
        decompress(payload, raw_len).map_err(|e| Error::corrupt(path, format!("zstd: {e}")))?;
    if data.len() as u64 != raw_len {
        return Err(Error::corrupt(
            path,
            "decompressed length differs from header",
        ));
    }
    Ok(data)
}

/// Decodes a framed object into the blob content (not yet hash-verified).
pub fn decode(bytes: &[u8], path: &Path) -> Result<(Header, Vec<u8>)> {
    let (header, payload) = split(bytes, path)?;
    let data = match header.compression {
        COMPRESSION_NONE => payload.to_vec(),
        COMPRESSION_SEALED => {
            return Err(Error::corrupt(
                path,
                "a sealed object (of an encrypted repository) where a plain one belongs",
            ));
        }
        _ => decompress_checked(payload, header.raw_len, path)?,
    };
    Ok((header, data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn kind_strategy() -> impl Strategy<Value = BlobKind> {
        prop_oneof![
            Just(BlobKind::Data),
            Just(BlobKind::Tree),
            Just(BlobKind::Manifest)
        ]
    }

    proptest! {
        #[test]
        fn header_round_trip(kind in kind_strategy(), zstd in any::<bool>(), raw in 0..=MAX_RAW_LEN, stored in 0..=MAX_RAW_LEN) {
            let h = Header {
                kind,
                compression: if zstd { COMPRESSION_ZSTD } else { COMPRESSION_NONE },
                raw_len: raw,
                stored_len: if zstd { stored } else { raw },
            };
            let bytes = h.encode();
            prop_assert_eq!(Header::decode(&bytes, Path::new("x")).unwrap(), h);
        }

        #[test]
        fn object_round_trip(kind in kind_strategy(), data in proptest::collection::vec(any::<u8>(), 0..4096), repeat in 1usize..8) {
            let data: Vec<u8> = data.iter().copied().cycle().take(data.len() * repeat).collect();
            let framed = encode(kind, &data);
            let (h, back) = decode(&framed, Path::new("x")).unwrap();
            prop_assert_eq!(h.kind, kind);
            prop_assert_eq!(back, data.clone());
            prop_assert!(framed.len() <= data.len() + HEADER_LEN);
        }
    }

    #[test]
    fn compresses_only_when_smaller() {
        let zeros = vec![0u8; 10_000];
        let framed = encode(BlobKind::Data, &zeros);
        assert_eq!(framed[6], COMPRESSION_ZSTD);
        assert!(framed.len() < 200);
        let noise = crate::chunk::tests::pseudo_random(10_000, 42);
        let framed = encode(BlobKind::Data, &noise);
        assert_eq!(framed.len(), noise.len() + HEADER_LEN);
        assert_eq!(framed[6], COMPRESSION_NONE);
    }

    #[test]
    fn lying_lengths_allocate_nothing() {
        // 40 KB of payload that claims 4 GB: refused by the header check.
        let mut framed = encode(
            BlobKind::Data,
            &crate::chunk::tests::pseudo_random(40_000, 1),
        );
        framed[7..15].copy_from_slice(&(4u64 << 30).to_le_bytes());
        assert!(matches!(
            decode(&framed, Path::new("x")),
            Err(Error::Corrupt { .. })
        ));
        // Within the cap but far above the real content: decodes only what is there.
        let mut framed = encode(BlobKind::Data, &[0u8; 100_000]);
        framed[7..15].copy_from_slice(&(900u64 << 20).to_le_bytes());
        match decode(&framed, Path::new("x")) {
            Err(Error::Corrupt { what, .. }) => assert!(what.contains("length"), "{what}"),
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    #[test]
    fn refuses_unknown_version() {
        let mut framed = encode(BlobKind::Data, b"hello");
        framed[4] = 9;
        match decode(&framed, Path::new("objects/aa/x")) {
            Err(Error::UnsupportedVersion { found: 9, path, .. }) => {
                assert_eq!(path, Path::new("objects/aa/x"))
            }
            other => panic!("expected UnsupportedVersion, got {other:?}"),
        }
    }

    #[test]
    fn rejects_truncation_and_bad_magic() {
        let framed = encode(BlobKind::Data, &[7u8; 1000]);
        assert!(matches!(
            decode(&framed[..framed.len() - 1], Path::new("x")),
            Err(Error::Corrupt { .. })
        ));
        assert!(matches!(
            decode(&framed[..10], Path::new("x")),
            Err(Error::Corrupt { .. })
        ));
        let mut bad = framed.clone();
        bad[0] = b'X';
        assert!(matches!(
            decode(&bad, Path::new("x")),
            Err(Error::Corrupt { .. })
        ));
    }
}
