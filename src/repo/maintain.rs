//! The repository as a whole, for `check` and `prune`: the index read from its files (not the
//! catalog) with every contradiction between them named, what is stored with sizes and ages,
//! and one rewrite primitive that repacks, writes a superseding index and removes what it no
//! longer lists, in an order that survives a crash at any step.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;

use crate::error::{Error, IoContext, Result};
use crate::id::{BlobId, IndexId, PackId};
use crate::progress::{Event, Progress};
use crate::repo::backend::ObjectMeta;
use crate::repo::index::{IndexFile, LooseEntry, PackEntry, PackedBlob};
use crate::repo::object::BlobKind;
use crate::repo::pack::EntryCodec;
use crate::repo::packer::{self, EntryBlob};
use crate::repo::{Repository, index_name, object_name};

/// The index as its files say, merged.
#[derive(Debug, Default)]
pub(crate) struct IndexView {
    /// Every index file in `index/`, live or superseded.
    pub on_disk: BTreeSet<IndexId>,
    /// The live ones (no other file supersedes them).
    pub live: BTreeSet<IndexId>,
    /// Every pack the live files list (a pack listed by several files, once).
    pub packs: Vec<PackEntry>,
    /// Every raw object the live files list.
    pub loose: Vec<LooseEntry>,
    /// Unreadable index files and contradictions, each named.
    pub problems: Vec<String>,
}

/// What a rewrite does: packs listed as they are, entries copied out of packs into new ones,
/// raw objects kept; everything else the current index lists is removed once the new index is
/// durable.
#[derive(Debug, Default)]
pub(crate) struct Rewrite {
    pub keep_packs: Vec<PackEntry>,
    /// Packs whose listed entries at these offsets are copied to new packs; the pack goes.
    pub repack: Vec<(PackEntry, BTreeSet<u64>)>,
    pub keep_loose: Vec<LooseEntry>,
    /// Packs removed after the new index is durable (unused ones and orphans).
    pub delete_packs: Vec<PackId>,
    /// Raw objects removed after the new index is durable.
    pub delete_raw: Vec<BlobId>,
}

/// What a rewrite did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct RewriteOutcome {
    pub packs_written: u64,
    pub bytes_written: u64,
    pub packs_deleted: u64,
    pub raw_deleted: u64,
    pub index_files_replaced: u64,
    /// Entries that failed verification while being copied: their pack is kept as it is.
    pub damaged: Vec<String>,
}

impl Repository {
    /// Reads every index file and merges the live ones; names what cannot be read and what
    /// contradicts (a pack listed with two sizes or two contents, entries outside their pack or
    /// overlapping, a raw object listed with two sizes).
    pub(crate) fn index_view(&self) -> Result<IndexView> {
        let on_disk = self.index_ids_on_disk()?;
        let (files, problems) = self.read_index_files(&on_disk);
        let mut view = IndexView {
            problems: problems.iter().map(|e| e.to_string()).collect(),
            ..IndexView::default()
        };
        let mut packs: BTreeMap<PackId, (IndexId, PackEntry)> = BTreeMap::new();
        let mut loose: BTreeMap<BlobId, (IndexId, u64)> = BTreeMap::new();
        for (file_id, file) in super::live_files(&files) {
            view.live.insert(*file_id);
            for p in &file.packs {
                match packs.get(&p.id) {
                    Some((other, q)) if q != p => view.problems.push(format!(
                        "pack {}: index files {} and {} disagree about it (size {} or {}, {} or \
                         {} blobs)",
                        p.id,
                        other.short(),
                        file_id.short(),
                        q.size,
                        p.size,
                        q.blobs.len(),
                        p.blobs.len()
                    )),
                    Some(_) => {}
                    None => {
                        view.problems.extend(entry_problems(p));
                        packs.insert(p.id, (*file_id, p.clone()));
                    }
                }
            }
            for l in &file.loose {
                match loose.get(&l.id) {
                    Some((other, size)) if *size != l.size => view.problems.push(format!(
                        "raw object {}: index files {} and {} disagree about its size ({} or {})",
                        l.id,
                        other.short(),
                        file_id.short(),
                        size,
                        l.size
                    )),
                    Some(_) => {}
                    None => {
                        loose.insert(l.id, (*file_id, l.size));
                    }
                }
            }
        }
        view.on_disk = on_disk;
        view.packs = packs.into_values().map(|(_, p)| p).collect();
        view.loose = loose
            .into_iter()
            .map(|(id, (_, size))| LooseEntry { id, size })
            .collect();
        Ok(view)
    }

    /// Every pack file in `packs/`, with size and age.
    pub(crate) fn stored_packs(&self) -> Result<HashMap<PackId, ObjectMeta>> {
        let list = self
            .backend
            .list_meta("packs")
            .at(self.path.join("packs"))?;
        Ok(list
            .into_iter()
            .filter_map(|m| m.name.parse().ok().map(|id| (id, m)))
            .collect())
    }

    /// Every raw object file (`objects/ab/<hex>.r`), with size and age. A remote repository
    /// holds none (messages are packed when replicated): its 256 listings are skipped.
    pub(crate) fn stored_raw(&self) -> Result<HashMap<BlobId, ObjectMeta>> {
        let mut out = HashMap::new();
        if !self.is_local() {
            return Ok(out);
        }
        for b in 0..=255u8 {
            let dir = format!("objects/{b:02x}");
            for m in self.backend.list_meta(&dir).at(self.path.join(&dir))? {
                if let Some(id) = m.name.strip_suffix(".r").and_then(|h| h.parse().ok()) {
                    out.insert(id, m);
                }
            }
        }
        Ok(out)
    }

    /// The whole bytes of a pack.
    pub(crate) fn read_pack(&self, id: &PackId) -> Result<Vec<u8>> {
        let name = packer::pack_name(id);
        self.backend.get(&name).at(self.path.join(name))
    }

    /// The whole bytes of a raw object.
    pub(crate) fn read_raw(&self, id: &BlobId) -> Result<Vec<u8>> {
        let name = object_name(id, true);
        self.backend.get(&name).at(self.path.join(name))
    }

    /// How many names a local raw object has (above 1: a hardlink shared with the mail
    /// server); `None` when the repository is not local or the object is gone.
    pub(crate) fn raw_link_count(&self, id: &BlobId) -> Option<u64> {
        use std::os::unix::fs::MetadataExt;
        let local = self.backend.local()?;
        let meta = std::fs::symlink_metadata(local.root().join(object_name(id, true))).ok()?;
        Some(meta.nlink())
    }

    /// The path of a pack, for messages.
    pub(crate) fn pack_path(&self, id: &PackId) -> std::path::PathBuf {
        self.path.join(packer::pack_name(id))
    }

    /// The path of a raw object, for messages.
    pub(crate) fn raw_path(&self, id: &BlobId) -> std::path::PathBuf {
        self.path.join(object_name(id, true))
    }

    /// Applies a rewrite under the exclusive lock. Order, each step durable before the next:
    /// copied entries go to new packs (published); one new index file lists everything kept
    /// and supersedes every index file on disk (the commit point); then the superseded index
    /// files, the packs and the raw objects the new index does not list are removed. A crash
    /// before the commit point leaves the old index in force (new packs are orphans); after
    /// it, what was not yet removed is unlisted and goes with the next prune.
    pub(crate) fn apply_rewrite(
        &mut self,
        mut rw: Rewrite,
        progress: &dyn Progress,
    ) -> Result<RewriteOutcome> {
        self.require_exclusive("prune")?;
        self.ensure_readable("prune")?;
        self.ensure_writable()?;
        let mut out = RewriteOutcome::default();
        let total: u64 = rw.repack.iter().map(|(p, _)| p.size).sum();
        progress.event(Event::Phase {
            name: "repacking".into(),
            total: Some(total),
        });
        let mut repacked = Vec::new();
        for (p, offsets) in std::mem::take(&mut rw.repack) {
            match self.copy_entries(&p, &offsets) {
                Ok(()) => repacked.push(p.id),
                Err(e) => {
                    // Nothing of a pack with damage is removed: it stays listed as it is.
                    out.damaged.push(e.to_string());
                    rw.keep_packs.push(p.clone());
                }
            }
            progress.event(Event::Advance {
                phase: "repacking".into(),
                items: 1,
                bytes: p.size,
            });
        }
        self.packer.finish_open(self.backend.as_ref())?;
        let batch = self.packer.take_unindexed();
        out.packs_written = batch.packs.len() as u64;
        out.bytes_written = batch.packs.iter().map(|p| p.size).sum();
        let old = self.index_ids_on_disk()?;
        let mut packs = rw.keep_packs;
        packs.extend(batch.packs.iter().cloned());
        let mut loose = rw.keep_loose;
        loose.extend(batch.loose.iter().copied());
        let file = IndexFile {
            supersedes: old.iter().copied().collect(),
            packs,
            loose,
        };
        let bytes = self.encode_index(&file)?;
        let id = IndexId::hash(&bytes);
        let name = index_name(&id);
        match self.backend.put_new(&name, &bytes) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io(self.path.join(&name), e)),
        }
        self.packer.indexed(&batch);
        // The commit point is behind us: the rest removes what the index no longer lists.
        let listed: std::collections::HashSet<PackId> = file.packs.iter().map(|p| p.id).collect();
        progress.event(Event::Phase {
            name: "removing".into(),
            total: None,
        });
        for old_id in &old {
            if *old_id != id {
                let n = index_name(old_id);
                self.backend.delete(&n).at(self.path.join(&n))?;
                out.index_files_replaced += 1;
            }
        }
        let mut gone: Vec<PackId> = rw.delete_packs;
        gone.extend(repacked);
        gone.sort();
        gone.dedup();
        for p in gone.iter().filter(|p| !listed.contains(p)) {
            let n = packer::pack_name(p);
            self.backend.delete(&n).at(self.path.join(&n))?;
            out.packs_deleted += 1;
            progress.event(Event::Advance {
                phase: "removing".into(),
                items: 1,
                bytes: 0,
            });
        }
        let kept_raw: std::collections::HashSet<BlobId> = file.loose.iter().map(|l| l.id).collect();
        for b in rw.delete_raw.iter().filter(|b| !kept_raw.contains(b)) {
            let n = object_name(b, true);
            self.backend.delete(&n).at(self.path.join(&n))?;
            out.raw_deleted += 1;
        }
        if let Some(local) = self.backend.local() {
            local.sync().at(&self.path)?;
        }
        self.index_problems.clear();
        if self.catalog.is_some() {
            self.rebuild_catalog()?;
        } else {
            let mut map = HashMap::new();
            super::add_locations(&mut map, &file);
            self.memory = Some(std::sync::RwLock::new(map));
        }
        self.missing_packs.clear();
        self.check_packs()?;
        Ok(out)
    }

    /// A prune that found every blob the snapshots need in the index it wrote: nothing they
    /// reference is missing (recorded in the catalog like a backup's check).
    pub(crate) fn mark_index_complete(&self) {
        if let Some(cat) = &self.catalog
            && self.missing_packs.is_empty()
            && self.index_problems.is_empty()
            && cat.set_repair_checked(&self.repairs).is_ok()
        {
            self.may_miss
                .store(false, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Copies the entries of `p` at `offsets` into new packs, each verified first.
    fn copy_entries(&self, p: &PackEntry, offsets: &BTreeSet<u64>) -> Result<()> {
        let path = self.pack_path(&p.id);
        let bytes = self.read_pack(&p.id)?;
        if bytes.len() as u64 != p.size {
            return Err(Error::corrupt(
                &path,
                format!(
                    "pack is {} bytes, the index says {}; kept as it is",
                    bytes.len(),
                    p.size
                ),
            ));
        }
        let mut by_offset: BTreeMap<u64, Vec<&PackedBlob>> = BTreeMap::new();
        for b in &p.blobs {
            if offsets.contains(&b.offset) {
                by_offset.entry(b.offset).or_default().push(b);
            }
        }
        // Verify every entry before anything is copied.
        let mut entries = Vec::new();
        for (offset, blobs) in &by_offset {
            let first = blobs[0];
            let start = usize::try_from(*offset).unwrap_or(usize::MAX);
            let end = start.saturating_add(usize::try_from(first.len).unwrap_or(usize::MAX));
            let Some(entry) = bytes.get(start..end) else {
                return Err(Error::corrupt(
                    &path,
                    format!("blob {}: entry lies outside the pack", first.id),
                ));
            };
            let grouped = first.member.is_some();
            let kind = if grouped {
                BlobKind::Group
            } else {
                first.blob_kind().unwrap_or(BlobKind::Data)
            };
            if grouped {
                let entry_id = BlobId(entry[..32.min(entry.len())].try_into().unwrap_or([0; 32]));
                let (_, body) = self.codec().decode_entry(entry, &entry_id, &path)?;
                let codec = self.codec();
                for b in blobs {
                    let (s, l) = b.member.unwrap_or((0, 0));
                    let member = usize::try_from(s)
                        .ok()
                        .zip(usize::try_from(l).ok())
                        .and_then(|(s, l)| body.get(s..s.checked_add(l)?));
                    if member.is_none_or(|m| codec.member_id(m) != b.id) {
                        return Err(Error::corrupt(
                            &path,
                            format!("blob {}: content does not match its id", b.id),
                        ));
                    }
                }
            } else {
                self.codec().decode_entry(entry, &first.id, &path)?;
            }
            let members: Vec<EntryBlob> = blobs
                .iter()
                .map(|b| {
                    (
                        b.id,
                        b.blob_kind().unwrap_or(BlobKind::Data),
                        b.raw_len,
                        b.member,
                    )
                })
                .collect();
            entries.push((kind, entry, members));
        }
        for (kind, entry, members) in entries {
            self.packer
                .append_entry(self.backend.as_ref(), kind, entry, &members)?;
        }
        Ok(())
    }
}

/// Entries of one pack that lie outside it or overlap one another.
fn entry_problems(p: &PackEntry) -> Vec<String> {
    let mut out = Vec::new();
    let mut spans: BTreeMap<u64, u64> = BTreeMap::new();
    for b in &p.blobs {
        if b.offset.checked_add(b.len).is_none_or(|end| end > p.size) {
            out.push(format!(
                "pack {}: blob {} at {}+{} lies outside the pack ({} bytes)",
                p.id, b.id, b.offset, b.len, p.size
            ));
        }
        match spans.get(&b.offset) {
            Some(len) if *len != b.len => out.push(format!(
                "pack {}: two entries at offset {} with different lengths",
                p.id, b.offset
            )),
            _ => {
                spans.insert(b.offset, b.len);
            }
        }
    }
    let mut end = 0u64;
    for (offset, len) in spans {
        if offset < end {
            out.push(format!(
                "pack {}: the entry at offset {offset} overlaps the one before it",
                p.id
            ));
        }
        end = end.max(offset.saturating_add(len));
    }
    out
}
