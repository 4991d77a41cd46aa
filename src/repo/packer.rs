//! Open packs and what was written since the last index file.
//!
//! Writers append framed blobs to open packs (a temp file each, hashed as it grows; several
//! open at once so threads do not wait on each other), close a pack on size or blob count, and
//! publish it under the BLAKE3 of its bytes. What is published but not yet listed in an index
//! file waits here until [`Packer::take_unindexed`] hands it to the next index file.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use crate::error::{IoContext, Result};
use crate::id::{BlobId, PackId};
use crate::repo::backend::{Backend, TEMP_COUNTER, create_private_file};
use crate::repo::catalog::{Location, Place};
use crate::repo::config::PackParams;
use crate::repo::index::{LooseEntry, PackEntry, PackedBlob};
use crate::repo::object::BlobKind;
use crate::repo::pack::{self, PackType};

/// A pack being written: a temp file and the blobs appended so far.
struct OpenPack {
    file: File,
    tmp: Arc<PathBuf>,
    hasher: blake3::Hasher,
    size: u64,
    blobs: Vec<PackedBlob>,
}

/// Where a written blob is before its index file exists.
#[derive(Debug, Clone)]
pub(crate) enum Unindexed {
    /// In a pack still being written (its temp file).
    Open {
        tmp: Arc<PathBuf>,
        offset: u64,
        len: u64,
        kind: BlobKind,
        member: Option<(u64, u64)>,
    },
    /// Published (a pack, or a raw object), not yet listed by an index file.
    Done(Location),
}

#[derive(Default)]
struct State {
    blobs: HashMap<BlobId, Unindexed>,
    packs: Vec<PackEntry>,
    loose: Vec<LooseEntry>,
}

/// What the next index file lists.
pub(crate) struct Batch {
    pub packs: Vec<PackEntry>,
    pub loose: Vec<LooseEntry>,
}

impl Batch {
    pub(crate) fn is_empty(&self) -> bool {
        self.packs.is_empty() && self.loose.is_empty()
    }

    /// The locations of every blob in the batch.
    pub(crate) fn locations(&self) -> Vec<(BlobId, Location)> {
        let mut out = Vec::new();
        for p in &self.packs {
            for b in &p.blobs {
                out.push((b.id, packed_location(p.id, b)));
            }
        }
        for l in &self.loose {
            out.push((
                l.id,
                Location {
                    kind: BlobKind::Data,
                    place: Place::Raw,
                    len: l.size,
                },
            ));
        }
        out
    }
}

/// Where a blob of a published pack is.
pub(crate) fn packed_location(pack: PackId, b: &PackedBlob) -> Location {
    let place = match b.member {
        Some((start, len)) => Place::Member {
            pack,
            offset: b.offset,
            start: start as u32,
            len: len as u32,
        },
        None => Place::Packed {
            pack,
            offset: b.offset,
        },
    };
    Location {
        kind: b.blob_kind().unwrap_or(BlobKind::Data),
        place,
        len: b.len,
    }
}

/// One blob of an entry being appended: id, kind, content length, and its place inside a
/// group body.
pub(crate) type EntryBlob = (BlobId, BlobKind, u64, Option<(u64, u64)>);

pub(crate) struct Packer {
    params: PackParams,
    tmp_dir: PathBuf,
    pools: [Mutex<Vec<OpenPack>>; 2],
    state: Mutex<State>,
    /// Packs published by this process.
    published: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Packer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Packer").finish_non_exhaustive()
    }
}

fn pool_of(ty: PackType) -> usize {
    match ty {
        PackType::Data => 0,
        PackType::Metadata => 1,
    }
}

/// The name of a pack in the repository.
pub(crate) fn pack_name(id: &PackId) -> String {
    format!("packs/{}", id.to_hex())
}

impl Packer {
    pub(crate) fn new(params: PackParams, tmp_dir: &Path) -> Packer {
        Packer {
            published: std::sync::atomic::AtomicU64::new(0),
            params,
            tmp_dir: tmp_dir.to_path_buf(),
            pools: [Mutex::new(Vec::new()), Mutex::new(Vec::new())],
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("packer state poisoned")
    }

    /// A blob written by this process that no index file lists yet.
    pub(crate) fn lookup(&self, id: &BlobId) -> Option<Unindexed> {
        self.state().blobs.get(id).cloned()
    }

    /// Packs this process published.
    pub(crate) fn published(&self) -> u64 {
        self.published.load(Ordering::Relaxed)
    }

    /// Whether a pack was published that no index file lists yet.
    pub(crate) fn has_published(&self) -> bool {
        !self.state().packs.is_empty()
    }

    /// How many blobs wait for an index file.
    pub(crate) fn unindexed(&self) -> usize {
        self.state().blobs.len()
    }

    fn new_pack(&self, ty: PackType) -> io::Result<OpenPack> {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = self
            .tmp_dir
            .join(format!("pack-{}-{n}", std::process::id()));
        let mut file = match create_private_file(&tmp) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                crate::repo::backend::create_private_dir(&self.tmp_dir)?;
                create_private_file(&tmp)?
            }
            other => other?,
        };
        let header = pack::header(ty);
        file.write_all(&header)?;
        let mut hasher = blake3::Hasher::new();
        hasher.update(&header);
        Ok(OpenPack {
            file,
            tmp: Arc::new(tmp),
            hasher,
            size: header.len() as u64,
            blobs: Vec::new(),
        })
    }

    /// Appends an encoded entry ([`pack::encode_entry`]) of blob `id` to an open pack;
    /// publishes the pack through `backend` when it is full.
    pub(crate) fn append(
        &self,
        backend: &dyn Backend,
        id: BlobId,
        kind: BlobKind,
        raw_len: u64,
        entry: &[u8],
    ) -> Result<()> {
        self.append_entry(backend, kind, entry, &[(id, kind, raw_len, None)])
    }

    /// Appends an encoded entry of kind `entry_kind` holding `blobs` (one blob, or the
    /// members of a group) to an open pack; publishes the pack when it is full.
    pub(crate) fn append_entry(
        &self,
        backend: &dyn Backend,
        entry_kind: BlobKind,
        entry: &[u8],
        blobs: &[EntryBlob],
    ) -> Result<()> {
        let ty = PackType::for_kind(entry_kind);
        let pool = &self.pools[pool_of(ty)];
        let taken = pool.lock().expect("pack pool poisoned").pop();
        let mut open = match taken {
            Some(p) => p,
            None => self.new_pack(ty).at(&self.tmp_dir)?,
        };
        let offset = open.size;
        if let Err(e) = open.file.write_all(entry) {
            // The pack may hold a partial entry now: drop it (its blobs are written again).
            let tmp = open.tmp.clone();
            self.abandon(open);
            return Err(crate::Error::io(tmp.as_path(), e));
        }
        open.hasher.update(entry);
        open.size += entry.len() as u64;
        let mut st = self.state();
        for &(id, kind, raw_len, member) in blobs {
            open.blobs.push(PackedBlob {
                id,
                kind: kind.to_u8(),
                offset,
                len: entry.len() as u64,
                raw_len,
                member,
            });
            st.blobs.insert(
                id,
                Unindexed::Open {
                    tmp: open.tmp.clone(),
                    offset,
                    len: entry.len() as u64,
                    kind,
                    member,
                },
            );
        }
        drop(st);
        let target = match ty {
            PackType::Data => self.params.data_size,
            PackType::Metadata => self.params.meta_size,
        };
        if open.size >= target || open.blobs.len() >= self.params.max_blobs as usize {
            self.finish(backend, open)
        } else {
            pool.lock().expect("pack pool poisoned").push(open);
            Ok(())
        }
    }

    /// Forgets an open pack after a write error: its blobs count as never written.
    fn abandon(&self, open: OpenPack) {
        let mut st = self.state();
        for b in &open.blobs {
            st.blobs.remove(&b.id);
        }
        drop(st);
        let _ = std::fs::remove_file(open.tmp.as_path());
    }

    /// Publishes a full pack under the hash of its bytes (durable when this returns).
    fn finish(&self, backend: &dyn Backend, open: OpenPack) -> Result<()> {
        let OpenPack {
            file,
            tmp,
            hasher,
            size,
            blobs,
        } = open;
        let id = PackId::from_hash(hasher.finalize());
        let name = pack_name(&id);
        drop(file);
        let publish = || match backend.local() {
            Some(local) => local.publish(&tmp, &name),
            None => std::fs::read(tmp.as_path())
                .and_then(|bytes| backend.put_new_bytes(&name, bytes::Bytes::from(bytes))),
        };
        let published = match publish() {
            // The same name should be the same bytes, but a pack of that name may be one that
            // was damaged since: it is trusted only when it hashes right, and healed otherwise.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => match backend.get(&name) {
                Ok(bytes) if PackId::hash(&bytes) == id => Ok(()),
                _ => backend.delete(&name).and_then(|_| publish()),
            },
            other => other,
        };
        match published {
            Ok(()) => {}
            Err(e) => {
                let mut st = self.state();
                for b in &blobs {
                    st.blobs.remove(&b.id);
                }
                drop(st);
                let _ = std::fs::remove_file(tmp.as_path());
                return Err(crate::Error::io(tmp.as_path(), e));
            }
        }
        let _ = std::fs::remove_file(tmp.as_path());
        self.published.fetch_add(1, Ordering::Relaxed);
        let mut st = self.state();
        for b in &blobs {
            st.blobs
                .insert(b.id, Unindexed::Done(packed_location(id, b)));
        }
        st.packs.push(PackEntry { id, size, blobs });
        Ok(())
    }

    /// Records a raw object published by a link (durable after the next sync).
    pub(crate) fn add_loose(&self, id: BlobId, size: u64) {
        let mut st = self.state();
        st.blobs.insert(
            id,
            Unindexed::Done(Location {
                kind: BlobKind::Data,
                place: Place::Raw,
                len: size,
            }),
        );
        st.loose.push(LooseEntry { id, size });
    }

    /// Publishes every open pack that no thread is writing to.
    pub(crate) fn finish_open(&self, backend: &dyn Backend) -> Result<()> {
        for pool in &self.pools {
            let open: Vec<OpenPack> = std::mem::take(&mut *pool.lock().expect("pool poisoned"));
            for p in open {
                if p.blobs.is_empty() {
                    let _ = std::fs::remove_file(p.tmp.as_path());
                    continue;
                }
                self.finish(backend, p)?;
            }
        }
        Ok(())
    }

    /// What the next index file lists: every published pack and raw object not yet indexed.
    /// They stay findable here until [`Packer::indexed`] says the index file is durable.
    pub(crate) fn take_unindexed(&self) -> Batch {
        let st = self.state();
        Batch {
            packs: st.packs.clone(),
            loose: st.loose.clone(),
        }
    }

    /// The batch is listed by a durable index file: forget it here.
    pub(crate) fn indexed(&self, batch: &Batch) {
        let mut st = self.state();
        let packs: std::collections::HashSet<PackId> = batch.packs.iter().map(|p| p.id).collect();
        st.packs.retain(|p| !packs.contains(&p.id));
        let n = batch.loose.len().min(st.loose.len());
        st.loose.drain(..n);
        for (id, _) in batch.locations() {
            if matches!(st.blobs.get(&id), Some(Unindexed::Done(_))) {
                st.blobs.remove(&id);
            }
        }
    }

    /// Drops the temp files of open packs (the run ends without committing).
    pub(crate) fn discard_open(&self) {
        for pool in &self.pools {
            let open: Vec<OpenPack> = std::mem::take(&mut *pool.lock().expect("pool poisoned"));
            for p in open {
                self.abandon(p);
            }
        }
    }
}

impl Drop for Packer {
    fn drop(&mut self) {
        self.discard_open();
    }
}
