//! Chunking strategies: how a file's content is split into blobs.
//!
//! - `Whole`: one blob (small files; messages, and every message a backup links).
//! - `Fixed`: page-aligned pieces (databases change page by page: a night that touched a few
//!   pages stores a few chunks).
//! - `Cdc`: content-defined cut points (fastcdc 2020, pinned to fastcdc 5.0): an insertion
//!   shifts the cut points only locally.

use std::fs::File;
use std::io::Read;
use std::ops::Range;
use std::path::Path;

use crate::error::{Error, IoContext, Result};
use crate::id::BlobId;
use crate::repo::config::DEFAULT_CHUNK;
use crate::repo::{BlobKind, Repository};
use crate::tree::ChunkPager;

/// Files up to this size are stored whole (unless they are databases).
pub const WHOLE_MAX: u64 = DEFAULT_CHUNK.whole_max;
/// Fixed chunk size for databases: one bbolt page.
pub const FIXED_SIZE: usize = DEFAULT_CHUNK.fixed_size as usize;
pub const CDC_MIN: usize = DEFAULT_CHUNK.cdc_min as usize;
pub const CDC_AVG: usize = DEFAULT_CHUNK.cdc_avg as usize;
pub const CDC_MAX: usize = DEFAULT_CHUNK.cdc_max as usize;
/// Fixed chunks are grouped up to this many bytes: the new ones of a group are compressed
/// together (a database compresses about as well as whole, while each page stays a blob).
pub const GROUP_BYTES: usize = 64 << 10;

/// Message files larger than this are stored in content-defined chunks when they are copied
/// into the repository (not linked): attachments forwarded, replied to or sent to several
/// accounts share long runs of bytes that whole-file blobs cannot deduplicate.
pub const MESSAGE_WHOLE_MAX: usize = 128 << 10;
/// The content-defined chunking of large message files: smaller than the default, as shared
/// runs are attachments, often a few hundred KiB. Measured with `benches/mox` (5 accounts x
/// 2,000 messages, 254 MiB; whole files: 142.6 MiB): averages of 16, 32, 64 and 128 KiB stored
/// 57.7, 60.0, 65.0 and 71.8 MiB. 32 KiB keeps the index to about one entry per 32 KiB of large
/// mail.
pub const MESSAGE_CDC: Chunking = Chunking::Cdc {
    min: 8 << 10,
    avg: 32 << 10,
    max: 128 << 10,
};

/// How to split a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunking {
    Whole,
    Fixed { size: usize },
    Cdc { min: usize, avg: usize, max: usize },
}

impl Chunking {
    /// The default content-defined parameters.
    pub const CDC_DEFAULT: Chunking = Chunking::Cdc {
        min: CDC_MIN,
        avg: CDC_AVG,
        max: CDC_MAX,
    };
}

/// What storing a file did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoredFile {
    /// The size actually read (the content stored).
    pub size: u64,
    pub chunks: Vec<BlobId>,
    /// With [`store_file_paged`], a file of more than 64 chunks: its chunk pages (already
    /// stored), and `chunks` is empty.
    pub pages: Option<Vec<BlobId>>,
    pub bytes_read: u64,
    /// Bytes written into the repository for new blobs (chunk pages included).
    pub bytes_added: u64,
}

/// The strategy for a file: `.db` files get fixed page-sized chunks, small files one blob, others
/// content-defined chunks.
pub fn chunking_for(path: &Path, size: u64) -> Chunking {
    if path.extension().is_some_and(|e| e == "db") {
        Chunking::Fixed { size: FIXED_SIZE }
    } else if size <= WHOLE_MAX {
        Chunking::Whole
    } else {
        Chunking::CDC_DEFAULT
    }
}

/// The chunk ranges of an in-memory buffer (what `store_file` stores, for tests and tools).
pub fn split(data: &[u8], chunking: Chunking) -> Vec<Range<usize>> {
    match chunking {
        Chunking::Whole => {
            if data.is_empty() {
                vec![]
            } else {
                std::iter::once(0..data.len()).collect()
            }
        }
        Chunking::Fixed { size } => {
            let size = size.max(1);
            (0..data.len())
                .step_by(size)
                .map(|s| s..(s + size).min(data.len()))
                .collect()
        }
        Chunking::Cdc { min, avg, max } => fastcdc::v2020::FastCDC::new(data, min, avg, max)
            .map(|c| c.offset..c.offset + c.length)
            .collect(),
    }
}

/// Reads a file once, splits it, stores each chunk as a Data blob, returns the chunk ids.
/// A symlink put in the file's place is not followed (an error naming the path).
pub fn store_file(repo: &Repository, path: &Path, chunking: Chunking) -> Result<StoredFile> {
    store_file_with(repo, path, chunking, None)
}

/// [`store_file`] for files that may be large (databases): the chunk list of a file of more
/// than 64 chunks goes into tree chunk pages as it grows ([`ChunkPager`]), stored at once, so
/// that neither this call nor the backup holding the entry keeps it in memory.
pub fn store_file_paged(repo: &Repository, path: &Path, chunking: Chunking) -> Result<StoredFile> {
    let mut pager = ChunkPager::new();
    let mut out = store_file_with(repo, path, chunking, Some(&mut pager))?;
    let mut page_bytes = 0;
    let (chunks, pages) = pager.finish(&mut |bytes| {
        let put = repo.put_blob(BlobKind::Tree, bytes)?;
        page_bytes += put.stored_bytes;
        Ok(put.id)
    })?;
    out.chunks = chunks;
    out.pages = pages;
    out.bytes_added += page_bytes;
    Ok(out)
}

fn store_file_with(
    repo: &Repository,
    path: &Path,
    chunking: Chunking,
    mut pager: Option<&mut ChunkPager>,
) -> Result<StoredFile> {
    let (mut file, _) = crate::backup::capture::open_regular(path).at(path)?;
    let mut out = StoredFile::default();
    // Each chunk id goes to the list, or to the pager (which stores complete chunk pages).
    let mut add_chunk = |id: BlobId, out: &mut StoredFile| -> Result<()> {
        match pager.as_deref_mut() {
            None => out.chunks.push(id),
            Some(pager) => pager.push(id, &mut |bytes| {
                let put = repo.put_blob(BlobKind::Tree, bytes)?;
                out.bytes_added += put.stored_bytes;
                Ok(put.id)
            })?,
        }
        Ok(())
    };
    let mut put = |data: &[u8], out: &mut StoredFile| -> Result<()> {
        let outcome = repo.put_blob(BlobKind::Data, data)?;
        add_chunk(outcome.id, out)?;
        out.bytes_read += data.len() as u64;
        out.bytes_added += outcome.stored_bytes;
        Ok(())
    };
    match chunking {
        Chunking::Whole => {
            let mut data = Vec::new();
            file.read_to_end(&mut data).at(path)?;
            if !data.is_empty() {
                put(&data, &mut out)?;
            }
        }
        Chunking::Fixed { size } => {
            // Pages are read a group at a time: the new ones among them are stored as one
            // group entry (compressed together, each page still a blob of its own).
            let size = size.max(1);
            let per_group = (GROUP_BYTES / size).max(1);
            let mut buf = vec![0u8; size * per_group];
            loop {
                let n = read_full(&mut file, &mut buf).at(path)?;
                if n == 0 {
                    break;
                }
                let pages: Vec<&[u8]> = buf[..n].chunks(size).collect();
                for outcome in repo.put_group(&pages)? {
                    add_chunk(outcome.id, &mut out)?;
                    out.bytes_added += outcome.stored_bytes;
                }
                out.bytes_read += n as u64;
                if n < buf.len() {
                    break;
                }
            }
        }
        Chunking::Cdc { min, avg, max } => {
            for chunk in fastcdc::v2020::StreamCDC::new(&mut file, min, avg, max) {
                let chunk = chunk.map_err(|e| match e {
                    fastcdc::v2020::Error::IoError(io) => Error::io(path, io),
                    other => Error::io(path, std::io::Error::other(other.to_string())),
                })?;
                put(&chunk.data, &mut out)?;
            }
        }
    }
    out.size = out.bytes_read;
    Ok(out)
}

/// What storing a message file did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredMessage {
    /// The file's blob, or its chunk list (a [`crate::manifest::MessageChunks`] blob).
    pub blob: BlobId,
    pub chunked: bool,
    /// Bytes written into the repository for new blobs.
    pub stored_bytes: u64,
}

/// Stores the bytes of a message file copied into the repository: one Data blob up to
/// [`MESSAGE_WHOLE_MAX`], content-defined chunks ([`MESSAGE_CDC`]) and a chunk list (a
/// Manifest blob) above.
pub fn store_message(repo: &Repository, data: &[u8]) -> Result<StoredMessage> {
    if data.len() <= MESSAGE_WHOLE_MAX {
        let put = repo.put_blob(BlobKind::Data, data)?;
        return Ok(StoredMessage {
            blob: put.id,
            chunked: false,
            stored_bytes: put.stored_bytes,
        });
    }
    let mut stored_bytes = 0;
    let mut chunks = Vec::new();
    for range in split(data, MESSAGE_CDC) {
        let put = repo.put_blob(BlobKind::Data, &data[range])?;
        stored_bytes += put.stored_bytes;
        chunks.push(put.id);
    }
    let list = crate::manifest::MessageChunks {
        size: data.len() as u64,
        chunks,
    };
    let put = repo.put_blob(BlobKind::Manifest, &list.encode())?;
    Ok(StoredMessage {
        blob: put.id,
        chunked: true,
        stored_bytes: stored_bytes + put.stored_bytes,
    })
}

/// Reads until `buf` is full or the end of the file; returns the bytes read.
/// [`store_message`] of a file read in pieces: a file above [`MESSAGE_WHOLE_MAX`] is cut into
/// its chunks as it is read (the chunks [`store_message`] cuts from its bytes), so memory holds
/// one chunk, not the file. Returns what was stored and the bytes read.
pub fn store_message_file(
    repo: &Repository,
    file: &mut File,
    path: &Path,
) -> Result<(StoredMessage, u64)> {
    let mut head = vec![0u8; MESSAGE_WHOLE_MAX + 1];
    let n = read_full(file, &mut head).at(path)?;
    if n <= MESSAGE_WHOLE_MAX {
        head.truncate(n);
        return Ok((store_message(repo, &head)?, n as u64));
    }
    let Chunking::Cdc { min, avg, max } = MESSAGE_CDC else {
        unreachable!("messages are cut by content")
    };
    let mut stored_bytes = 0;
    let mut size = 0;
    let mut chunks = Vec::new();
    for chunk in fastcdc::v2020::StreamCDC::new(head.as_slice().chain(file), min, avg, max) {
        let chunk = chunk.map_err(|e| match e {
            fastcdc::v2020::Error::IoError(io) => Error::io(path, io),
            other => Error::io(path, std::io::Error::other(other.to_string())),
        })?;
        let put = repo.put_blob(BlobKind::Data, &chunk.data)?;
        stored_bytes += put.stored_bytes;
        size += chunk.data.len() as u64;
        chunks.push(put.id);
    }
    let list = crate::manifest::MessageChunks { size, chunks };
    let put = repo.put_blob(BlobKind::Manifest, &list.encode())?;
    let stored = StoredMessage {
        blob: put.id,
        chunked: true,
        stored_bytes: stored_bytes + put.stored_bytes,
    };
    Ok((stored, size))
}

/// The blob id of a file's content, read in pieces, and its length.
pub fn hash_file(file: &mut File, path: &Path) -> Result<(BlobId, u64)> {
    let mut hasher = blake3::Hasher::new();
    let n = std::io::copy(file, &mut hasher).at(path)?;
    Ok((BlobId::from_hash(hasher.finalize()), n))
}

fn read_full(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Deterministic pseudo-random bytes (xorshift64*), independent of any crate's RNG.
    pub(crate) fn pseudo_random(len: usize, mut seed: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            seed ^= seed >> 12;
            seed ^= seed << 25;
            seed ^= seed >> 27;
            let v = seed.wrapping_mul(0x2545_F491_4F6C_DD1D);
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.truncate(len);
        out
    }

    #[test]
    fn golden_cdc_cut_points() {
        let data = pseudo_random(256 * 1024, 0x6d61_696c_7661_756c);
        let cuts: Vec<usize> = split(
            &data,
            Chunking::Cdc {
                min: 2048,
                avg: 8192,
                max: 32768,
            },
        )
        .iter()
        .map(|r| r.end)
        .collect();
        assert_eq!(cuts, GOLDEN_CUTS);
    }

    /// Recorded with fastcdc 5.0.0 (v2020, normalization level 1). A change here changes every
    /// chunk id of CDC-chunked files: deduplication against older snapshots would be lost.
    const GOLDEN_CUTS: &[usize] = &[
        2486, 24000, 32298, 34746, 45837, 47987, 50737, 55936, 60714, 67389, 74141, 88150, 99645,
        102733, 106108, 112187, 121087, 126400, 130395, 139879, 150671, 161977, 170047, 180821,
        198359, 203538, 212904, 222018, 233953, 250727, 259427, 262144,
    ];

    #[test]
    fn stream_cuts_equal_slice_cuts() {
        let data = pseudo_random(3 << 20, 7);
        let slice: Vec<usize> = split(&data, Chunking::CDC_DEFAULT)
            .iter()
            .map(|r| r.len())
            .collect();
        let stream: Vec<usize> =
            fastcdc::v2020::StreamCDC::new(&data[..], CDC_MIN, CDC_AVG, CDC_MAX)
                .map(|c| c.unwrap().length)
                .collect();
        assert_eq!(slice, stream);
        assert!(slice.len() > 3);
    }

    /// The message chunking decides every chunk id of a chunked message: a change would lose
    /// deduplication against older snapshots (docs/format.md names these values).
    #[test]
    fn message_chunking_is_pinned() {
        assert_eq!(MESSAGE_WHOLE_MAX, 131_072);
        assert_eq!(
            MESSAGE_CDC,
            Chunking::Cdc {
                min: 8192,
                avg: 32_768,
                max: 131_072,
            }
        );
    }

    #[test]
    fn fixed_and_whole() {
        let data = pseudo_random(200_000, 1);
        let r = split(&data, Chunking::Fixed { size: 65536 });
        assert_eq!(
            r,
            vec![0..65536, 65536..131072, 131072..196608, 196608..200000]
        );
        let whole = split(&data, Chunking::Whole);
        assert_eq!((whole.len(), whole[0].start, whole[0].end), (1, 0, 200_000));
        assert!(split(&[], Chunking::Whole).is_empty());
        assert_eq!(
            chunking_for(Path::new("a/index.db"), 10),
            Chunking::Fixed { size: FIXED_SIZE }
        );
        assert_eq!(chunking_for(Path::new("a/msg/1"), 10), Chunking::Whole);
        assert_eq!(
            chunking_for(Path::new("a/junk.bloom"), 4 << 20),
            Chunking::CDC_DEFAULT
        );
    }

    proptest! {
        #[test]
        fn chunks_concatenate_to_input(len in 0usize..200_000, seed in 1u64.., which in 0u8..3) {
            let data = pseudo_random(len, seed);
            let chunking = match which {
                0 => Chunking::Whole,
                1 => Chunking::Fixed { size: 4096 },
                _ => Chunking::Cdc { min: 1024, avg: 4096, max: 16384 },
            };
            let ranges = split(&data, chunking);
            let mut joined = Vec::with_capacity(len);
            let mut pos = 0;
            for r in &ranges {
                prop_assert_eq!(r.start, pos);
                prop_assert!(!r.is_empty());
                if let Chunking::Cdc { max, .. } = chunking {
                    prop_assert!(r.len() <= max);
                }
                joined.extend_from_slice(&data[r.clone()]);
                pos = r.end;
            }
            prop_assert_eq!(joined, data);
        }
    }

    /// A message file stored as it is read gives the blob, chunks and bytes its whole content
    /// gives [`store_message`], below, at and above the whole-blob limit.
    #[test]
    fn a_message_read_in_pieces_is_stored_as_a_whole_one() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(&dir.path().join("repo")).unwrap();
        let sizes = [
            0,
            1000,
            MESSAGE_WHOLE_MAX,
            MESSAGE_WHOLE_MAX + 1,
            1 << 20,
            3 << 20 | 12345,
        ];
        for (i, size) in sizes.into_iter().enumerate() {
            let data = pseudo_random(size, 77 + i as u64);
            let path = dir.path().join(format!("m{i}"));
            std::fs::write(&path, &data).unwrap();
            let mut file = File::open(&path).unwrap();
            let (streamed, read) = store_message_file(&repo, &mut file, &path).unwrap();
            assert_eq!(read, size as u64);
            let whole = store_message(&repo, &data).unwrap();
            assert_eq!(
                (streamed.blob, streamed.chunked),
                (whole.blob, whole.chunked),
                "{size}"
            );
            assert_eq!(whole.stored_bytes, 0, "{size}: nothing left to store");
            assert_eq!(streamed.chunked, size > MESSAGE_WHOLE_MAX);
            let mut file = File::open(&path).unwrap();
            assert_eq!(
                hash_file(&mut file, &path).unwrap(),
                (BlobId::hash(&data), size as u64)
            );
        }
    }
}
