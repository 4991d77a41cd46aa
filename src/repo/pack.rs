//! The bytes of a pack file (`packs/<hex>`). Only this module knows the layout.
//!
//! ```text
//! offset size  field
//! 0      4     magic "MVPK"
//! 4      1     pack format version (1)
//! 5      1     pack type: 0 data, 1 metadata (trees, manifests, message lists)
//! 6      ...   entries, back to back, until the end of the file:
//!                32     blob id
//!                23+n   the blob as a framed object (repo::object: header, payload)
//! ```
//! Each entry describes itself (id, kind, compression, lengths), so the index can be rebuilt
//! by scanning packs alone. A pack's name is the BLAKE3 of all its bytes.
//!
//! An entry of kind Group holds several small data blobs (consecutive pages of a database)
//! compressed as one, so that pages compress as well as the file would while each page stays
//! a blob of its own (stored once, found by its id). Its body:
//! ```text
//! 0      4      member count n, u32 LE (2 or more)
//! 4      4*n    member lengths, u32 LE each
//! ...           the members' bytes, back to back
//! ```
//! The group's id (in front of the entry) is the BLAKE3 of the body; each member is found
//! through the index by (offset of the group entry, start and length inside the body) and
//! verified against its own id.

use std::path::Path;

use crate::error::{Error, Result};
use crate::id::BlobId;
use crate::repo::object::{self, BlobKind, HEADER_LEN};

/// The magic at the start of every pack.
pub const PACK_MAGIC: [u8; 4] = *b"MVPK";
/// The pack format version this build writes and reads.
pub const PACK_VERSION: u8 = 1;
/// Length of the pack header.
pub const PACK_HEADER_LEN: usize = 6;
/// Bytes in front of an entry's framed object: the blob id.
pub const ENTRY_ID_LEN: usize = 32;

/// Most members in one group.
pub const GROUP_MAX_MEMBERS: usize = 1024;

/// The body of a group of blobs.
pub fn encode_group(members: &[&[u8]]) -> Vec<u8> {
    let total: usize = members.iter().map(|m| m.len()).sum();
    let mut out = Vec::with_capacity(4 + 4 * members.len() + total);
    out.extend_from_slice(&(members.len() as u32).to_le_bytes());
    for m in members {
        out.extend_from_slice(&(m.len() as u32).to_le_bytes());
    }
    for m in members {
        out.extend_from_slice(m);
    }
    out
}

/// The (start, length) of each member in a group body; `path` names the pack in errors.
pub fn group_members(body: &[u8], path: &Path) -> Result<Vec<(u64, u64)>> {
    let bad = |what: &str| Error::corrupt(path, format!("group: {what}"));
    if body.len() < 4 {
        return Err(bad("truncated"));
    }
    let n = u32::from_le_bytes(body[0..4].try_into().expect("4 bytes")) as usize;
    if !(2..=GROUP_MAX_MEMBERS).contains(&n) || body.len() < 4 + 4 * n {
        return Err(bad("bad member count"));
    }
    let mut start = (4 + 4 * n) as u64;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let at = 4 + 4 * i;
        let len = u64::from(u32::from_le_bytes(body[at..at + 4].try_into().expect("4")));
        out.push((start, len));
        start += len;
    }
    if start != body.len() as u64 {
        return Err(bad("member lengths do not add up to the body"));
    }
    Ok(out)
}

/// The id at the front of an entry.
pub fn entry_id(bytes: &[u8], path: &Path) -> Result<BlobId> {
    match bytes.get(..ENTRY_ID_LEN) {
        Some(id) => Ok(BlobId(id.try_into().expect("32 bytes"))),
        None => Err(Error::corrupt(path, "entry is truncated")),
    }
}

/// The member `id` at `start..start + len` of a verified group body, verified against its id.
pub fn member_of(body: &[u8], id: &BlobId, start: u64, len: u64, path: &Path) -> Result<Vec<u8>> {
    let end = start.checked_add(len).filter(|e| *e <= body.len() as u64);
    let Some(end) = end else {
        return Err(Error::corrupt(
            path,
            format!("blob {id}: lies outside its group"),
        ));
    };
    let data = body[start as usize..end as usize].to_vec();
    if BlobId::hash(&data) != *id {
        return Err(Error::corrupt(
            path,
            format!("blob {id}: content does not match its id"),
        ));
    }
    Ok(data)
}

/// What a pack holds: data packs are large and read for content; metadata packs are small and
/// read (and, later, cached) without touching data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PackType {
    Data,
    Metadata,
}

impl PackType {
    /// The pack a blob of `kind` goes to.
    pub fn for_kind(kind: BlobKind) -> PackType {
        match kind {
            BlobKind::Data | BlobKind::Group => PackType::Data,
            _ => PackType::Metadata,
        }
    }

    fn to_u8(self) -> u8 {
        match self {
            PackType::Data => 0,
            PackType::Metadata => 1,
        }
    }
}

/// The header of a new pack.
pub fn header(ty: PackType) -> [u8; PACK_HEADER_LEN] {
    let mut out = [0u8; PACK_HEADER_LEN];
    out[0..4].copy_from_slice(&PACK_MAGIC);
    out[4] = PACK_VERSION;
    out[5] = ty.to_u8();
    out
}

/// The bytes of one entry: the id, then the framed blob (zstd when it shrinks the content).
pub fn encode_entry(id: &BlobId, kind: BlobKind, data: &[u8]) -> Vec<u8> {
    let framed = object::encode(kind, data);
    let mut out = Vec::with_capacity(ENTRY_ID_LEN + framed.len());
    out.extend_from_slice(&id.0);
    out.extend_from_slice(&framed);
    out
}

/// Decodes one entry read at its index position and verifies it: the id in front, the framed
/// object, and the BLAKE3 of the content. `path` names the pack in errors.
pub fn decode_entry(bytes: &[u8], id: &BlobId, path: &Path) -> Result<(BlobKind, Vec<u8>)> {
    split_entry(bytes, id, path)?;
    let (header, data) =
        object::decode(&bytes[ENTRY_ID_LEN..], path).map_err(|e| with_blob(e, id))?;
    if BlobId::hash(&data) != *id {
        return Err(Error::corrupt(
            path,
            format!("blob {id}: content does not match its id"),
        ));
    }
    Ok((header.kind, data))
}

fn with_blob(e: Error, id: &BlobId) -> Error {
    match e {
        Error::Corrupt { path, what } => Error::Corrupt {
            path,
            what: format!("blob {id}: {what}"),
        },
        other => other,
    }
}

/// How the entries of a repository's packs are decoded: plainly, or opened with the keys of an
/// encrypted repository.
pub trait EntryCodec: Sync {
    /// Decodes and verifies the entry `bytes` stored under `id`.
    fn decode_entry(&self, bytes: &[u8], id: &BlobId, path: &Path) -> Result<(BlobKind, Vec<u8>)>;
    /// The id a group member with this content is stored under.
    fn member_id(&self, content: &[u8]) -> BlobId;
}

/// The entries of a plaintext repository.
#[cfg(test)]
pub struct Plain;

#[cfg(test)]
impl EntryCodec for Plain {
    fn decode_entry(&self, bytes: &[u8], id: &BlobId, path: &Path) -> Result<(BlobKind, Vec<u8>)> {
        decode_entry(bytes, id, path)
    }

    fn member_id(&self, content: &[u8]) -> BlobId {
        BlobId::hash(content)
    }
}

/// The header and payload of the entry `bytes` stored under `id` (not decoded).
pub fn split_entry<'a>(
    bytes: &'a [u8],
    id: &BlobId,
    path: &Path,
) -> Result<(object::Header, &'a [u8])> {
    if bytes.len() < ENTRY_ID_LEN + HEADER_LEN {
        return Err(Error::corrupt(
            path,
            format!("blob {id}: entry is truncated ({} bytes)", bytes.len()),
        ));
    }
    if bytes[..ENTRY_ID_LEN] != id.0 {
        return Err(Error::corrupt(
            path,
            format!("blob {id}: the entry at this position holds another blob"),
        ));
    }
    object::split(&bytes[ENTRY_ID_LEN..], path).map_err(|e| with_blob(e, id))
}

/// One blob found by [`scan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedBlob {
    pub id: BlobId,
    pub kind: BlobKind,
    /// Offset of the entry (its id) in the pack.
    pub offset: u64,
    /// Length of the entry, id included.
    pub len: u64,
    pub raw_len: u64,
    /// For a member of a group: its start and length inside the group's body.
    pub member: Option<(u64, u64)>,
}

/// Parses a whole pack and verifies every blob in it (framing and hash). Used to rebuild the
/// index from packs: nothing is listed that was not read back whole.
#[cfg(test)]
pub fn scan(bytes: &[u8], path: &Path) -> Result<Vec<ScannedBlob>> {
    let (good, mut bad) = scan_lenient(bytes, path, &Plain)?;
    match bad.is_empty() {
        true => Ok(good),
        false => Err(bad.swap_remove(0)),
    }
}

/// Like [`scan`], but goes on past a damaged blob whose framing is intact, and returns the
/// sound blobs with the errors of the damaged ones. A broken frame ends the scan (what follows
/// cannot be found again) with an error.
pub fn scan_lenient(
    bytes: &[u8],
    path: &Path,
    codec: &dyn EntryCodec,
) -> Result<(Vec<ScannedBlob>, Vec<Error>)> {
    if bytes.len() < PACK_HEADER_LEN || bytes[0..4] != PACK_MAGIC {
        return Err(Error::corrupt(path, "not a mailvault pack"));
    }
    if bytes[4] != PACK_VERSION {
        return Err(Error::UnsupportedVersion {
            path: path.to_path_buf(),
            found: u32::from(bytes[4]),
            supported: u32::from(PACK_VERSION),
        });
    }
    if bytes[5] > 1 {
        return Err(Error::corrupt(
            path,
            format!("unknown pack type {}", bytes[5]),
        ));
    }
    let mut good = Vec::new();
    let mut bad = Vec::new();
    let mut at = PACK_HEADER_LEN;
    while at < bytes.len() {
        let rest = &bytes[at..];
        if rest.len() < ENTRY_ID_LEN + HEADER_LEN {
            bad.push(Error::corrupt(
                path,
                format!("truncated entry at offset {at}"),
            ));
            break;
        }
        let id = BlobId(rest[..ENTRY_ID_LEN].try_into().expect("32 bytes"));
        let head = match object::Header::decode(&rest[ENTRY_ID_LEN..], path) {
            Ok(h) => h,
            Err(e) => {
                bad.push(with_blob(e, &id));
                break;
            }
        };
        let len = ENTRY_ID_LEN as u64 + HEADER_LEN as u64 + head.stored_len;
        if len > rest.len() as u64 {
            bad.push(Error::corrupt(
                path,
                format!("entry at offset {at} runs past the end of the pack"),
            ));
            break;
        }
        match codec.decode_entry(&rest[..len as usize], &id, path) {
            Ok((BlobKind::Group, body)) => match group_members(&body, path) {
                Ok(members) => {
                    for (start, mlen) in members {
                        let data = &body[start as usize..(start + mlen) as usize];
                        good.push(ScannedBlob {
                            id: codec.member_id(data),
                            kind: BlobKind::Data,
                            offset: at as u64,
                            len,
                            raw_len: mlen,
                            member: Some((start, mlen)),
                        });
                    }
                }
                Err(e) => bad.push(with_blob(e, &id)),
            },
            Ok((kind, _)) => good.push(ScannedBlob {
                id,
                kind,
                offset: at as u64,
                len,
                raw_len: head.raw_len,
                member: None,
            }),
            Err(e) => bad.push(e),
        }
        at += len as usize;
    }
    Ok((good, bad))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pack_of(blobs: &[(BlobKind, Vec<u8>)]) -> Vec<u8> {
        let mut out = header(PackType::Data).to_vec();
        for (kind, data) in blobs {
            out.extend(encode_entry(&BlobId::hash(data), *kind, data));
        }
        out
    }

    #[test]
    fn scan_finds_every_blob_and_rejects_damage() {
        let blobs = vec![
            (BlobKind::Data, vec![1u8; 5000]),
            (BlobKind::Tree, b"tree".to_vec()),
            (
                BlobKind::Manifest,
                crate::chunk::tests::pseudo_random(3000, 9),
            ),
        ];
        let pack = pack_of(&blobs);
        let found = scan(&pack, Path::new("p")).unwrap();
        assert_eq!(found.len(), 3);
        for (f, (kind, data)) in found.iter().zip(&blobs) {
            assert_eq!(f.id, BlobId::hash(data));
            assert_eq!(f.kind, *kind);
            let entry = &pack[f.offset as usize..(f.offset + f.len) as usize];
            assert_eq!(&decode_entry(entry, &f.id, Path::new("p")).unwrap().1, data);
        }
        // A group: each member found and verified on its own.
        let pages: Vec<Vec<u8>> = (0..3).map(|i| vec![i as u8; 4096]).collect();
        let refs: Vec<&[u8]> = pages.iter().map(|p| p.as_slice()).collect();
        let body = encode_group(&refs);
        let mut grouped = header(PackType::Data).to_vec();
        grouped.extend(encode_entry(&BlobId::hash(&body), BlobKind::Group, &body));
        let found = scan(&grouped, Path::new("p")).unwrap();
        assert_eq!(found.len(), 3);
        for (f, page) in found.iter().zip(&pages) {
            assert_eq!(f.id, BlobId::hash(page));
            let (start, len) = f.member.unwrap();
            let entry = &grouped[f.offset as usize..(f.offset + f.len) as usize];
            let group = entry_id(entry, Path::new("p")).unwrap();
            let (_, body) = decode_entry(entry, &group, Path::new("p")).unwrap();
            assert_eq!(
                &member_of(&body, &f.id, start, len, Path::new("p")).unwrap(),
                page
            );
            assert!(member_of(&body, &f.id, start + 1, len, Path::new("p")).is_err());
        }
        // Truncated, flipped, or another blob at the position: all named errors.
        assert!(scan(&pack[..pack.len() - 1], Path::new("p")).is_err());
        let mut flipped = pack.clone();
        let last = flipped.len() - 10;
        flipped[last] ^= 1;
        assert!(scan(&flipped, Path::new("p")).is_err());
        let f = &found[1];
        let entry = &pack[f.offset as usize..(f.offset + f.len) as usize];
        assert!(decode_entry(entry, &found[0].id, Path::new("p")).is_err());
    }

    proptest! {
        #[test]
        fn scan_survives_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut pack = header(PackType::Metadata).to_vec();
            pack.extend(bytes);
            let _ = scan(&pack, Path::new("p"));
        }
    }
}
