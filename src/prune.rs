//! `prune`: removes what no snapshot references, and repacks packs that are mostly unused.
//!
//! Plan, then execute. The plan is computed from three listings (the index files, the packs
//! and raw objects stored, the blobs the snapshots reference) by a pure function, so
//! `--dry-run` shows exactly what a run would do. Executing it is one
//! [`Repository`] rewrite under the exclusive lock (see `src/repo/maintain.rs` for the order of
//! writes and why a crash at any point is safe).
//!
//! Safety: prune holds the exclusive lock, so no backup, restore or replicate runs in this
//! repository meanwhile; and it refuses to run when any snapshot cannot be read or references
//! a blob the index does not list (deleting then could destroy what `repair index` would find).
//! Packs and raw objects that no index file lists (orphans of crashed runs) are removed only
//! once older than a safety margin.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::id::{BlobId, PackId};
use crate::progress::Progress;
use crate::reach::{Unreadable, reach};
use crate::repo::index::PackEntry;
use crate::repo::{IndexView, ObjectMeta, Repository, Rewrite};

/// How prune decides.
#[derive(Debug, Clone)]
pub struct PruneOptions {
    /// Report what would be done; change nothing.
    pub dry_run: bool,
    /// A pack whose unused share (in percent of its bytes) is above this is repacked; at or
    /// below it the pack is kept as it is. 100 never repacks; 0 repacks every pack with any
    /// unused byte.
    pub max_unused_percent: f64,
    /// Packs and raw objects no index lists are removed only when older than this.
    pub orphan_margin: Duration,
}

impl Default for PruneOptions {
    fn default() -> Self {
        PruneOptions {
            dry_run: false,
            max_unused_percent: 10.0,
            orphan_margin: Duration::from_secs(3600),
        }
    }
}

/// What prune found and did (or, with `dry_run`, would do).
#[derive(Debug, Clone, Default, Serialize)]
pub struct PruneReport {
    pub dry_run: bool,
    pub snapshots: u64,
    /// Blobs the snapshots reference.
    pub blobs_used: u64,
    pub packs_total: u64,
    /// Packs with nothing used: removed whole.
    pub packs_removed: u64,
    /// Packs above the unused threshold: their used entries are copied, then they go.
    pub packs_repacked: u64,
    /// Small packs (far below the target size: the last of each run) merged into new ones.
    pub packs_merged: u64,
    /// Bytes copied out of repacked and merged packs.
    pub bytes_repacked: u64,
    pub packs_kept: u64,
    /// Unused bytes left in kept packs (at or below the threshold).
    pub bytes_unused_kept: u64,
    /// Raw objects (linked or copied message files) no snapshot references.
    pub raw_removed: u64,
    /// Of which linked: their bytes are shared with the mail server and free nothing there.
    pub raw_removed_bytes: u64,
    /// Packs and raw objects no index lists, old enough to go.
    pub orphans_removed: u64,
    /// Orphans younger than the margin, left for a later prune.
    pub orphans_young: u64,
    /// Index entries of packs that are not in the repository (dropped from the index).
    pub missing_packs_dropped: u64,
    /// Bytes of the repository's packs and raw objects before and after.
    pub bytes_before: u64,
    pub bytes_after: u64,
    /// Index files replaced by the one prune writes.
    pub index_files_replaced: u64,
    /// Damage met while repacking (the pack concerned is kept as it is).
    pub damaged: Vec<String>,
}

impl PruneReport {
    /// Bytes freed (or that would be).
    pub fn bytes_freed(&self) -> u64 {
        self.bytes_before.saturating_sub(self.bytes_after)
    }
}

/// What the planner works from.
pub(crate) struct PlanInput<'a> {
    pub view: &'a IndexView,
    pub packs: &'a HashMap<PackId, ObjectMeta>,
    pub raw: &'a HashMap<BlobId, ObjectMeta>,
    pub used: &'a dyn Fn(&BlobId) -> bool,
    pub wanted: &'a HashSet<BlobId>,
    pub now_ns: i64,
    /// The repository's pack sizes: packs far below them are merged.
    pub pack_params: crate::repo::PackParams,
}

/// A prune plan: the rewrite and the report of what it will do.
pub(crate) struct Plan {
    pub rewrite: Rewrite,
    pub report: PruneReport,
    /// Blobs the snapshots need that the index does not list (or only in missing packs).
    pub missing: Vec<BlobId>,
}

/// Decides, for every pack and raw object, whether it stays, is repacked or goes.
pub(crate) fn plan(input: &PlanInput, opts: &PruneOptions) -> Plan {
    let mut report = PruneReport {
        dry_run: opts.dry_run,
        packs_total: input.packs.len() as u64,
        ..PruneReport::default()
    };
    report.bytes_before = input.packs.values().map(|m| m.size).sum::<u64>()
        + input.raw.values().map(|m| m.size).sum::<u64>();
    // Each used blob is kept in one place: the first pack (in id order) that holds it and is
    // in the repository with the listed size; a raw object only when no pack has it.
    let present = |p: &PackEntry| input.packs.get(&p.id).is_some_and(|m| m.size == p.size);
    let mut chosen: HashMap<BlobId, PackId> = HashMap::new();
    for p in input.view.packs.iter().filter(|p| present(p)) {
        for b in &p.blobs {
            if (input.used)(&b.id) {
                chosen.entry(b.id).or_insert(p.id);
            }
        }
    }
    let mut rw = Rewrite::default();
    let mut found: HashSet<BlobId> = chosen.keys().copied().collect();
    for l in &input.view.loose {
        let on_disk = input.raw.get(&l.id).is_some_and(|m| m.size == l.size);
        if (input.used)(&l.id) && !chosen.contains_key(&l.id) && on_disk {
            rw.keep_loose.push(*l);
            found.insert(l.id);
        } else if input.raw.contains_key(&l.id) {
            rw.delete_raw.push(l.id);
            report.raw_removed += 1;
            report.raw_removed_bytes += l.size;
        }
    }
    let mut missing: Vec<BlobId> = input
        .wanted
        .iter()
        .filter(|id| !found.contains(id))
        .copied()
        .collect();
    missing.sort();
    report.blobs_used = input.wanted.len() as u64;
    let threshold = opts.max_unused_percent.clamp(0.0, 100.0) / 100.0;
    let mut after = 0u64;
    let mut small_kept = Vec::new();
    for p in &input.view.packs {
        if !present(p) {
            report.missing_packs_dropped += 1;
            continue;
        }
        let mut used_entries: BTreeSet<u64> = BTreeSet::new();
        let mut used_bytes = 0u64;
        for b in &p.blobs {
            if chosen.get(&b.id) == Some(&p.id) && used_entries.insert(b.offset) {
                used_bytes += b.len;
            }
        }
        let unused = p.size.saturating_sub(used_bytes);
        if used_entries.is_empty() {
            rw.delete_packs.push(p.id);
            report.packs_removed += 1;
        } else if (unused as f64) > threshold * p.size as f64 && unused > 0 {
            report.packs_repacked += 1;
            report.bytes_repacked += used_bytes;
            after += used_bytes;
            rw.repack.push((p.clone(), used_entries));
        } else {
            small_kept.push((p.clone(), used_entries, used_bytes, unused));
        }
    }
    // Packs far below their target size (the last pack of each run) are merged once there
    // are several of a kind: the pack count stays in proportion to the data.
    let small = |p: &PackEntry| {
        let data = p.blobs.iter().any(|b| {
            matches!(
                b.blob_kind(),
                Some(crate::repo::BlobKind::Data | crate::repo::BlobKind::Group)
            )
        });
        let target = if data {
            input.pack_params.data_size
        } else {
            input.pack_params.meta_size
        };
        (
            p.size < target / 4
                && (p.blobs.len() as u64) < u64::from(input.pack_params.max_blobs) / 4,
            data,
        )
    };
    let mut count = [0usize; 2];
    for (p, ..) in &small_kept {
        if let (true, data) = small(p) {
            count[usize::from(data)] += 1;
        }
    }
    for (p, used_entries, used_bytes, unused) in small_kept {
        let (is_small, data) = small(&p);
        if is_small && count[usize::from(data)] >= 2 {
            report.packs_merged += 1;
            report.bytes_repacked += used_bytes;
            after += used_bytes;
            rw.repack.push((p, used_entries));
        } else {
            report.packs_kept += 1;
            report.bytes_unused_kept += unused;
            after += p.size;
            rw.keep_packs.push(p);
        }
    }
    after += rw.keep_loose.iter().map(|l| l.size).sum::<u64>();
    // Orphans: stored, listed by no live index file.
    let listed_packs: HashSet<PackId> = input.view.packs.iter().map(|p| p.id).collect();
    let listed_raw: HashSet<BlobId> = input.view.loose.iter().map(|l| l.id).collect();
    let margin = i64::try_from(opts.orphan_margin.as_nanos()).unwrap_or(i64::MAX);
    let old = |m: &ObjectMeta| input.now_ns.saturating_sub(m.modified_ns) >= margin;
    for id in orphans(input.packs, &listed_packs, &old, &mut report, &mut after) {
        rw.delete_packs.push(id);
    }
    for id in orphans(input.raw, &listed_raw, &old, &mut report, &mut after) {
        rw.delete_raw.push(id);
    }
    // A pack whose size differs from the index is not the pack the index means: it stays
    // (named by `check`), neither listed nor removed.
    for p in &input.view.packs {
        if let Some(m) = input.packs.get(&p.id)
            && m.size != p.size
        {
            after += m.size;
        }
    }
    report.bytes_after = after;
    report.index_files_replaced = input.view.on_disk.len() as u64;
    Plan {
        rewrite: rw,
        report,
        missing,
    }
}

/// The stored objects no live index file lists that are old enough to go, in id order; the
/// young ones are counted (and stay in `after`).
fn orphans<K: Copy + Ord + std::hash::Hash>(
    stored: &HashMap<K, ObjectMeta>,
    listed: &HashSet<K>,
    old: &dyn Fn(&ObjectMeta) -> bool,
    report: &mut PruneReport,
    after: &mut u64,
) -> Vec<K> {
    let mut found: Vec<(&K, &ObjectMeta)> = stored
        .iter()
        .filter(|(id, _)| !listed.contains(id))
        .collect();
    found.sort_by_key(|(id, _)| **id);
    let mut out = Vec::new();
    for (id, m) in found {
        if old(m) {
            out.push(*id);
            report.orphans_removed += 1;
        } else {
            report.orphans_young += 1;
            *after += m.size;
        }
    }
    out
}

/// Prunes the repository, which must be opened with [`Repository::open_exclusive`].
pub fn prune(
    repo: &mut Repository,
    opts: &PruneOptions,
    progress: &dyn Progress,
) -> Result<PruneReport> {
    repo.require_exclusive("prune")?;
    repo.ensure_writable()?;
    let (snapshots, bad) = repo.snapshots_lenient()?;
    if let Some(e) = bad.into_iter().next() {
        return Err(Error::Invalid(format!(
            "prune stopped, nothing removed: a snapshot file cannot be read ({e}); without it \
             prune cannot know what is still needed. Remove it with `mailvault forget ID` if \
             it is beyond repair"
        )));
    }
    let view = repo.index_view()?;
    if let Some(p) = view.problems.first() {
        return Err(Error::Invalid(format!(
            "prune stopped, nothing removed: the index is damaged ({p}); run `mailvault repair \
             index` first"
        )));
    }
    let reached = reach(repo, &snapshots, progress);
    if !reached.unreadable.is_empty() {
        return Err(Error::Invalid(format!(
            "prune stopped, nothing removed: {}; run `mailvault check` and `mailvault repair \
             snapshots`",
            describe_unreadable(&reached.unreadable)
        )));
    }
    let packs = repo.stored_packs()?;
    let raw = repo.stored_raw()?;
    // The index lists storage ids (keyed in an encrypted repository).
    let wanted: HashSet<BlobId> = reached
        .structure
        .iter()
        .chain(reached.data.iter())
        .map(|id| repo.storage_id(id))
        .collect();
    let used = |id: &BlobId| wanted.contains(id);
    let input = PlanInput {
        view: &view,
        packs: &packs,
        raw: &raw,
        used: &used,
        wanted: &wanted,
        now_ns: crate::repo::now_ns(),
        pack_params: repo.config().pack,
    };
    let Plan {
        rewrite,
        mut report,
        missing,
    } = plan(&input, opts);
    report.snapshots = snapshots.len() as u64;
    if !missing.is_empty() {
        return Err(Error::Invalid(format!(
            "prune stopped, nothing removed: the snapshots reference {} blobs the repository \
             does not hold (first: {}); run `mailvault check` to see which snapshots, then \
             `mailvault repair index` and `mailvault repair snapshots`",
            missing.len(),
            missing[0]
        )));
    }
    if opts.dry_run {
        return Ok(report);
    }
    let outcome = repo.apply_rewrite(rewrite, progress)?;
    // What is on disk now (the plan estimated the new packs' headers).
    report.bytes_after = repo.stored_packs()?.values().map(|m| m.size).sum::<u64>()
        + repo.stored_raw()?.values().map(|m| m.size).sum::<u64>();
    report.damaged = outcome.damaged;
    report.index_files_replaced = outcome.index_files_replaced;
    if report.damaged.is_empty() {
        repo.mark_index_complete();
    }
    Ok(report)
}

fn describe_unreadable(u: &[Unreadable]) -> String {
    let first = &u[0];
    format!(
        "{} structure blob(s) of the snapshots cannot be read (first: the {} of snapshot {}: {})",
        u.len(),
        first.what,
        &first.snapshot[..12.min(first.snapshot.len())],
        first.error
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::index::{LooseEntry, PackedBlob};

    fn blob(n: u8) -> BlobId {
        BlobId([n; 32])
    }

    fn pack(n: u8, blobs: &[(u8, u64, u64)]) -> PackEntry {
        let size = blobs.iter().map(|(_, o, l)| o + l).max().unwrap_or(8);
        PackEntry {
            id: PackId([n; 32]),
            size,
            blobs: blobs
                .iter()
                .map(|&(b, offset, len)| PackedBlob {
                    id: blob(b),
                    kind: 1,
                    offset,
                    len,
                    raw_len: len,
                    member: None,
                })
                .collect(),
        }
    }

    fn meta(name: &str, size: u64, modified_ns: i64) -> ObjectMeta {
        ObjectMeta {
            name: name.into(),
            size,
            modified_ns,
        }
    }

    #[test]
    fn packs_are_removed_repacked_or_kept_by_their_used_share() {
        // Pack 1: fully used. Pack 2: nothing used. Pack 3: 1 of 10 entries used (repack).
        // Pack 4: 95 % used (kept at 10 %). Raw 40 used, raw 41 not; orphan pack 9 old, 8 new.
        let p1 = pack(1, &[(1, 8, 100), (2, 108, 100)]);
        let p2 = pack(2, &[(3, 8, 100)]);
        let p3 = pack(
            3,
            &(0..10)
                .map(|i| (10 + i, 8 + 100 * i as u64, 100))
                .collect::<Vec<_>>(),
        );
        let p4 = pack(4, &[(30, 8, 1900), (31, 1908, 92)]);
        let view = IndexView {
            packs: vec![p1.clone(), p2.clone(), p3.clone(), p4.clone()],
            loose: vec![
                LooseEntry {
                    id: blob(40),
                    size: 5,
                },
                LooseEntry {
                    id: blob(41),
                    size: 6,
                },
            ],
            ..IndexView::default()
        };
        let mut packs = HashMap::new();
        for p in [&p1, &p2, &p3, &p4] {
            packs.insert(p.id, meta("p", p.size, 0));
        }
        packs.insert(PackId([9; 32]), meta("old orphan", 50, 0));
        packs.insert(PackId([8; 32]), meta("young orphan", 60, 1_000_000_000_000));
        let mut raw = HashMap::new();
        raw.insert(blob(40), meta("r", 5, 0));
        raw.insert(blob(41), meta("r", 6, 0));
        let wanted: HashSet<BlobId> = [1, 2, 10, 30, 40].into_iter().map(blob).collect();
        let used = |id: &BlobId| wanted.contains(id);
        let input = PlanInput {
            view: &view,
            packs: &packs,
            raw: &raw,
            used: &used,
            wanted: &wanted,
            now_ns: 1_000_000_000_000 + 1,
            pack_params: crate::repo::PackParams {
                data_size: 1000,
                meta_size: 1000,
                max_blobs: 1000,
            },
        };
        let opts = PruneOptions {
            orphan_margin: Duration::from_secs(60),
            ..PruneOptions::default()
        };
        let plan = plan(&input, &opts);
        assert!(plan.missing.is_empty());
        let r = &plan.report;
        assert_eq!((r.packs_removed, r.packs_repacked, r.packs_kept), (1, 1, 2));
        assert_eq!(r.bytes_repacked, 100);
        assert_eq!(r.raw_removed, 1);
        assert_eq!((r.orphans_removed, r.orphans_young), (1, 1));
        let kept: Vec<PackId> = plan.rewrite.keep_packs.iter().map(|p| p.id).collect();
        assert_eq!(kept, vec![p1.id, p4.id]);
        assert_eq!(plan.rewrite.repack[0].0.id, p3.id);
        assert_eq!(plan.rewrite.repack[0].1, BTreeSet::from([8]));
        let mut deleted = plan.rewrite.delete_packs.clone();
        deleted.sort();
        assert_eq!(deleted, vec![p2.id, PackId([9; 32])]);
        assert_eq!(plan.rewrite.delete_raw, vec![blob(41)]);
        assert_eq!(plan.rewrite.keep_loose[0].id, blob(40));
        // Before: packs 208+108+1008+2000+50+60 and raw 11; after: 208+100+2000+60+5.
        assert_eq!(r.bytes_before, 208 + 108 + 1008 + 2000 + 50 + 60 + 11);
        assert_eq!(r.bytes_after, 208 + 100 + 2000 + 60 + 5);
    }

    #[test]
    fn small_packs_are_merged_once_there_are_two_of_a_kind() {
        // Data packs (kind 0): two small ones and a full one, all used; one small metadata
        // pack (kind 1) alone stays.
        let data = |n: u8, size: u64| {
            let mut p = pack(n, &[(n, 8, size - 8)]);
            p.blobs[0].kind = 0;
            p
        };
        let (a, b, full) = (data(1, 100), data(2, 200), data(3, 1000));
        let meta = pack(4, &[(4, 8, 100)]);
        let view = IndexView {
            packs: vec![a.clone(), b.clone(), full.clone(), meta.clone()],
            ..IndexView::default()
        };
        let packs: HashMap<PackId, ObjectMeta> = [&a, &b, &full, &meta]
            .iter()
            .map(|p| (p.id, meta_of(p)))
            .collect();
        let wanted: HashSet<BlobId> = [1, 2, 3, 4].into_iter().map(blob).collect();
        let used = |id: &BlobId| wanted.contains(id);
        let raw = HashMap::new();
        let input = PlanInput {
            view: &view,
            packs: &packs,
            raw: &raw,
            used: &used,
            wanted: &wanted,
            now_ns: 0,
            pack_params: crate::repo::PackParams {
                data_size: 1000,
                meta_size: 1000,
                max_blobs: 100,
            },
        };
        let plan = plan(&input, &PruneOptions::default());
        assert_eq!(plan.report.packs_merged, 2);
        let merged: Vec<PackId> = plan.rewrite.repack.iter().map(|(p, _)| p.id).collect();
        assert_eq!(merged, vec![a.id, b.id]);
        let kept: Vec<PackId> = plan.rewrite.keep_packs.iter().map(|p| p.id).collect();
        assert_eq!(kept, vec![full.id, meta.id]);
    }

    fn meta_of(p: &PackEntry) -> ObjectMeta {
        meta("p", p.size, 0)
    }

    #[test]
    fn a_blob_in_no_present_pack_is_missing_and_duplicates_are_kept_once() {
        let p1 = pack(1, &[(1, 8, 100)]);
        let p2 = pack(2, &[(1, 8, 100), (2, 108, 100)]);
        let p3 = pack(3, &[(3, 8, 100)]); // listed, not in the repository
        let view = IndexView {
            packs: vec![p1.clone(), p2.clone(), p3.clone()],
            ..IndexView::default()
        };
        let packs: HashMap<PackId, ObjectMeta> = [&p1, &p2]
            .iter()
            .map(|p| (p.id, meta("p", p.size, 0)))
            .collect();
        let raw = HashMap::new();
        let wanted: HashSet<BlobId> = [1, 2, 3].into_iter().map(blob).collect();
        let used = |id: &BlobId| wanted.contains(id);
        let input = PlanInput {
            view: &view,
            packs: &packs,
            raw: &raw,
            used: &used,
            wanted: &wanted,
            now_ns: 0,
            pack_params: crate::repo::PackParams::default(),
        };
        let plan = plan(&input, &PruneOptions::default());
        assert_eq!(plan.missing, vec![blob(3)]);
        assert_eq!(plan.report.missing_packs_dropped, 1);
        // Blob 1 is kept in pack 1; pack 2 holds it again, unused there: 108 of 208 bytes
        // unused, so pack 2 is repacked down to blob 2.
        assert_eq!(plan.report.packs_kept, 1);
        assert_eq!(plan.report.packs_repacked, 1);
        assert_eq!(plan.rewrite.repack[0].1, BTreeSet::from([108]));
    }
}
