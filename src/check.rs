//! `check`: the repository's structure, and with `read_data` its content.
//!
//! Structure: every snapshot file readable; every index file readable and consistent with the
//! others; every pack the index lists present with the listed size, every raw object present
//! with its size; every tree, manifest and message list of every snapshot readable; every blob
//! they reference listed in the index. Content (`read_data`, or a subset for a nightly sample):
//! every pack read whole and matched against its name, every entry decoded and hashed and
//! compared with what the index says; every raw object hashed. The run goes on past every
//! problem; each is named, and each damaged or missing blob is traced to the snapshots,
//! files, accounts, mailboxes and messages that use it.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::error::Result;
use crate::id::{BlobId, PackId, SnapshotId};
use crate::progress::{Event, Progress};
use crate::reach::{BlobUse, name_uses, reach};
use crate::repo::Repository;
use crate::repo::pack;
use crate::snapshot::Snapshot;

/// How much content `check` reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReadData {
    /// Structure only: listings and metadata.
    None,
    /// Every pack and raw object.
    All,
    /// Part `n` of `m` (1-based): the packs and raw objects whose id falls in it. Running
    /// parts 1..=m on m nights reads everything once.
    Subset { n: u64, m: u64 },
    /// About this percentage of packs and raw objects, chosen at random.
    Percent(f64),
}

impl ReadData {
    /// Parses `N/M` or `P%`.
    pub fn parse_subset(s: &str) -> std::result::Result<ReadData, String> {
        let s = s.trim();
        if let Some(p) = s.strip_suffix('%') {
            let p: f64 = p
                .trim()
                .parse()
                .map_err(|_| format!("{s:?}: give a percentage like 10%"))?;
            if !(p > 0.0 && p <= 100.0) {
                return Err(format!(
                    "{s:?}: a percentage must be above 0 and at most 100"
                ));
            }
            return Ok(ReadData::Percent(p));
        }
        let (n, m) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?}: give N/M (part N of M) or P%"))?;
        let n: u64 = n
            .trim()
            .parse()
            .map_err(|_| format!("{s:?}: N is not a number"))?;
        let m: u64 = m
            .trim()
            .parse()
            .map_err(|_| format!("{s:?}: M is not a number"))?;
        if m == 0 || n == 0 || n > m {
            return Err(format!("{s:?}: N/M needs 1 <= N <= M"));
        }
        Ok(ReadData::Subset { n, m })
    }

    fn selects(&self, id: &[u8; 32], seed: u64) -> bool {
        let x = u64::from_le_bytes(id[..8].try_into().expect("8 bytes"));
        match *self {
            ReadData::None => false,
            ReadData::All => true,
            ReadData::Subset { n, m } => x % m == n - 1,
            ReadData::Percent(p) => {
                let mut h = blake3::Hasher::new();
                h.update(&seed.to_le_bytes());
                h.update(id);
                let r = u64::from_le_bytes(h.finalize().as_bytes()[..8].try_into().expect("8"));
                (r as f64 / u64::MAX as f64) * 100.0 < p
            }
        }
    }
}

/// What `check` does.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub read_data: ReadData,
}

/// One problem, named.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// `snapshot`, `index`, `pack`, `raw object`, `structure`, `missing blob`, `damaged blob`.
    pub kind: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pack: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
}

/// What `check` found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CheckReport {
    pub snapshots: u64,
    pub index_files: u64,
    pub packs: u64,
    pub raw_objects: u64,
    /// Distinct blobs the snapshots reference.
    pub blobs_referenced: u64,
    pub packs_read: u64,
    pub raw_objects_read: u64,
    pub bytes_read: u64,
    pub problems: Vec<Problem>,
    /// Not damage: orphans of crashed runs (prune removes them), blobs stored twice.
    pub warnings: Vec<String>,
    /// Every use of a damaged or missing blob by a snapshot.
    pub uses: Vec<BlobUse>,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

fn problem(kind: &'static str, message: String) -> Problem {
    Problem {
        kind,
        message,
        pack: None,
        blob: None,
        snapshot: None,
    }
}

/// Checks the repository. Never writes.
pub fn check(
    repo: &Repository,
    opts: &CheckOptions,
    progress: &dyn Progress,
) -> Result<CheckReport> {
    let mut out = CheckReport::default();
    let (snapshots, unreadable) = repo.snapshots_lenient()?;
    out.snapshots = snapshots.len() as u64;
    for e in unreadable {
        out.problems.push(problem(
            "snapshot",
            format!("snapshot file cannot be read: {e}"),
        ));
    }
    if repo.config().is_legacy() {
        out.warnings.push(format!(
            "repository format {} has no index: only the snapshots are checked; run `mailvault \
             migrate`",
            repo.config().version
        ));
        return check_legacy(repo, &snapshots, opts, progress, out);
    }
    let view = repo.index_view()?;
    out.index_files = view.on_disk.len() as u64;
    for p in &view.problems {
        out.problems.push(problem("index", p.clone()));
    }
    let stored = repo.stored_packs()?;
    let raw = repo.stored_raw()?;
    out.packs = stored.len() as u64;
    out.raw_objects = raw.len() as u64;
    // Where each blob is, among the packs and raw objects that are as the index says.
    let mut present: HashSet<BlobId> = HashSet::new();
    let mut copies: HashMap<BlobId, u32> = HashMap::new();
    let mut sound_packs: Vec<&crate::repo::index::PackEntry> = Vec::new();
    for p in &view.packs {
        let path = repo.pack_path(&p.id);
        match stored.get(&p.id) {
            None => out.problems.push(Problem {
                pack: Some(p.id.to_hex()),
                ..problem(
                    "pack",
                    format!(
                        "{}: pack is missing ({} blobs listed in it)",
                        path.display(),
                        p.blobs.len()
                    ),
                )
            }),
            Some(m) if m.size != p.size => out.problems.push(Problem {
                pack: Some(p.id.to_hex()),
                ..problem(
                    "pack",
                    format!(
                        "{}: pack is {} bytes, the index says {} (truncated or replaced)",
                        path.display(),
                        m.size,
                        p.size
                    ),
                )
            }),
            Some(_) => {
                sound_packs.push(p);
                for b in &p.blobs {
                    present.insert(b.id);
                    *copies.entry(b.id).or_default() += 1;
                }
            }
        }
    }
    for l in &view.loose {
        let path = repo.raw_path(&l.id);
        match raw.get(&l.id) {
            None => out.problems.push(Problem {
                blob: Some(l.id.to_hex()),
                ..problem(
                    "raw object",
                    format!("{}: raw object is missing", path.display()),
                )
            }),
            Some(m) if m.size != l.size => out.problems.push(Problem {
                blob: Some(l.id.to_hex()),
                ..problem(
                    "raw object",
                    format!(
                        "{}: raw object is {} bytes, the index says {} (changed in place?)",
                        path.display(),
                        m.size,
                        l.size
                    ),
                )
            }),
            Some(_) => {
                present.insert(l.id);
            }
        }
    }
    let listed_packs: HashSet<PackId> = view.packs.iter().map(|p| p.id).collect();
    let orphans = stored
        .keys()
        .filter(|id| !listed_packs.contains(id))
        .count();
    if orphans > 0 {
        out.warnings.push(format!(
            "{orphans} pack(s) are not listed by the index (left by interrupted runs; `prune` \
             removes them)"
        ));
    }
    let listed_raw: HashSet<BlobId> = view.loose.iter().map(|l| l.id).collect();
    let orphan_raw = raw.keys().filter(|id| !listed_raw.contains(id)).count();
    if orphan_raw > 0 {
        out.warnings.push(format!(
            "{orphan_raw} raw object(s) are not listed by the index (`prune` removes them)"
        ));
    }
    let dup = copies.values().filter(|n| **n > 1).count();
    if dup > 0 {
        out.warnings.push(format!(
            "{dup} blob(s) are stored in more than one pack (`prune` keeps one)"
        ));
    }
    // Snapshots: structure readable, every blob listed.
    let reached = reach(repo, &snapshots, progress);
    let mut trace: HashSet<BlobId> = HashSet::new();
    out.problems
        .extend(reached.unreadable.iter().map(structure_problem));
    let mut referenced: Vec<BlobId> = reached
        .structure
        .iter()
        .chain(reached.data.iter())
        .copied()
        .collect();
    referenced.sort();
    referenced.dedup();
    out.blobs_referenced = referenced.len() as u64;
    // The index lists storage ids (keyed in an encrypted repository); uses are named by
    // content id.
    let plain_of: HashMap<BlobId, BlobId> = referenced
        .iter()
        .map(|id| (repo.storage_id(id), *id))
        .collect();
    for id in &referenced {
        if !present.contains(&repo.storage_id(id)) {
            trace.insert(*id);
            out.problems.push(Problem {
                blob: Some(id.to_hex()),
                ..problem(
                    "missing blob",
                    format!("blob {id} is referenced but not in the repository"),
                )
            });
        }
    }
    // Content.
    if opts.read_data != ReadData::None {
        let seed = crate::repo::now_ns() as u64;
        let total: u64 = sound_packs
            .iter()
            .filter(|p| opts.read_data.selects(&p.id.0, seed))
            .map(|p| p.size)
            .sum();
        progress.event(Event::Phase {
            name: "reading packs".into(),
            total: Some(total),
        });
        for p in sound_packs {
            if !opts.read_data.selects(&p.id.0, seed) {
                continue;
            }
            out.packs_read += 1;
            out.bytes_read += p.size;
            for bad in read_pack(repo, p) {
                if let Some(b) = &bad.blob
                    && let Ok(id) = b.parse::<BlobId>()
                {
                    trace.insert(plain_of.get(&id).copied().unwrap_or(id));
                }
                out.problems.push(bad);
            }
            progress.event(Event::Advance {
                phase: "reading packs".into(),
                items: 1,
                bytes: p.size,
            });
        }
        for l in &view.loose {
            if raw.get(&l.id).is_none_or(|m| m.size != l.size)
                || !opts.read_data.selects(&l.id.0, seed)
            {
                continue;
            }
            out.raw_objects_read += 1;
            out.bytes_read += l.size;
            let path = repo.raw_path(&l.id);
            let wrong = match repo.read_raw(&l.id) {
                Ok(data) if BlobId::hash(&data) == l.id => None,
                Ok(_) => Some(format!(
                    "{}: content does not match its id (changed in place since the backup?)",
                    path.display()
                )),
                Err(e) => Some(e.to_string()),
            };
            if let Some(message) = wrong {
                trace.insert(l.id);
                out.problems.push(Problem {
                    blob: Some(l.id.to_hex()),
                    ..problem("damaged blob", message)
                });
            }
        }
    }
    out.uses = name_uses(repo, &snapshots, &trace);
    Ok(out)
}

/// Reads one pack whole: its name, every entry against the index, every blob's hash.
fn read_pack(repo: &Repository, p: &crate::repo::index::PackEntry) -> Vec<Problem> {
    let path = repo.pack_path(&p.id);
    let pack_problem = |message: String, blob: Option<BlobId>| Problem {
        pack: Some(p.id.to_hex()),
        blob: blob.map(|b| b.to_hex()),
        ..problem(
            if blob.is_some() {
                "damaged blob"
            } else {
                "pack"
            },
            message,
        )
    };
    let bytes = match repo.read_pack(&p.id) {
        Ok(b) => b,
        Err(e) => return vec![pack_problem(e.to_string(), None)],
    };
    let mut out = Vec::new();
    if PackId::hash(&bytes) != p.id {
        out.push(pack_problem(
            format!("{}: pack does not match its name (damaged)", path.display()),
            None,
        ));
    }
    let scanned = match pack::scan_lenient(&bytes, &path, &repo.codec()) {
        Ok((good, bad)) => {
            for e in bad {
                out.push(pack_problem(e.to_string(), None));
            }
            good
        }
        Err(e) => {
            out.push(pack_problem(e.to_string(), None));
            Vec::new()
        }
    };
    let sound: HashMap<(BlobId, u64), &pack::ScannedBlob> =
        scanned.iter().map(|s| ((s.id, s.offset), s)).collect();
    for b in &p.blobs {
        match sound.get(&(b.id, b.offset)) {
            Some(s) if s.len == b.len && s.member == b.member && s.raw_len == b.raw_len => {}
            Some(_) => out.push(pack_problem(
                format!(
                    "{}: blob {}: the index entry does not match the pack (length or place)",
                    path.display(),
                    b.id
                ),
                Some(b.id),
            )),
            None => out.push(pack_problem(
                format!(
                    "{}: blob {} at offset {} cannot be read back (damaged, or a wrong index \
                     entry)",
                    path.display(),
                    b.id,
                    b.offset
                ),
                Some(b.id),
            )),
        }
    }
    out
}

/// A format 1 repository: every blob each snapshot needs, read when asked.
fn check_legacy(
    repo: &Repository,
    snapshots: &[(SnapshotId, Snapshot)],
    opts: &CheckOptions,
    progress: &dyn Progress,
    mut out: CheckReport,
) -> Result<CheckReport> {
    let reached = reach(repo, snapshots, progress);
    let mut trace = HashSet::new();
    out.problems
        .extend(reached.unreadable.iter().map(structure_problem));
    out.blobs_referenced = (reached.structure.len() + reached.data.len()) as u64;
    for id in &reached.data {
        let result = if opts.read_data == ReadData::None {
            if repo.has_blob(id) {
                Ok(())
            } else {
                Err("not in the repository".to_string())
            }
        } else {
            repo.get_blob(id)
                .map(|d| out.bytes_read += d.len() as u64)
                .map_err(|e| e.to_string())
        };
        if let Err(e) = result {
            trace.insert(*id);
            out.problems.push(Problem {
                blob: Some(id.to_hex()),
                ..problem("damaged blob", format!("blob {id}: {e}"))
            });
        }
    }
    out.uses = name_uses(repo, snapshots, &trace);
    Ok(out)
}

/// A tree, manifest or list of a snapshot that cannot be read.
fn structure_problem(u: &crate::reach::Unreadable) -> Problem {
    Problem {
        blob: Some(u.blob.clone()),
        snapshot: Some(u.snapshot.clone()),
        ..problem(
            "structure",
            format!(
                "snapshot {}: the {} cannot be read: {}",
                short(&u.snapshot),
                u.what,
                u.error
            ),
        )
    }
}

fn short(hex: &str) -> &str {
    &hex[..12.min(hex.len())]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoProgress;
    use crate::repo::BlobKind;
    use crate::repo::index::IndexFile;

    /// A repository of three blobs in one pack, and its one index file.
    fn three_blobs() -> (tempfile::TempDir, Vec<BlobId>, IndexFile) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("repo");
        let repo = Repository::init(&path).unwrap();
        let ids: Vec<BlobId> = (0..3u8)
            .map(|i| repo.put_blob(BlobKind::Data, &[i; 5000]).unwrap().id)
            .collect();
        repo.flush().unwrap();
        drop(repo);
        let name = std::fs::read_dir(path.join("index"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let file = IndexFile::decode(&std::fs::read(&name).unwrap(), &name).unwrap();
        (dir, ids, file)
    }

    fn write_index(dir: &tempfile::TempDir, file: &IndexFile) {
        let bytes = file.encode();
        let id = crate::id::IndexId::hash(&bytes);
        std::fs::write(dir.path().join("repo/index").join(id.to_hex()), bytes).unwrap();
    }

    fn run(dir: &tempfile::TempDir, read_data: ReadData) -> CheckReport {
        let repo = Repository::open(&dir.path().join("repo")).unwrap();
        check(&repo, &CheckOptions { read_data }, &NoProgress).unwrap()
    }

    #[test]
    fn a_wrong_index_entry_is_named() {
        let (dir, ids, mut file) = three_blobs();
        assert!(run(&dir, ReadData::All).ok());
        // A superseding index that puts the second blob where the third is.
        let old = crate::id::IndexId::hash(&file.encode());
        let third = file.packs[0]
            .blobs
            .iter()
            .find(|b| b.id == ids[2])
            .unwrap()
            .offset;
        for b in &mut file.packs[0].blobs {
            if b.id == ids[1] {
                b.offset = third;
            }
        }
        file.supersedes = vec![old];
        write_index(&dir, &file);
        assert!(
            run(&dir, ReadData::None).ok(),
            "structure alone cannot see it"
        );
        let report = run(&dir, ReadData::All);
        assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
        let p = &report.problems[0];
        assert_eq!(p.kind, "damaged blob");
        assert_eq!(p.blob.as_deref(), Some(ids[1].to_hex().as_str()));
        assert!(p.message.contains("cannot be read back"), "{}", p.message);
    }

    #[test]
    fn contradicting_index_files_and_entries_outside_a_pack_are_named() {
        let (dir, ids, file) = three_blobs();
        let mut bigger = file.clone();
        bigger.packs[0].size += 10;
        write_index(&dir, &bigger);
        let report = run(&dir, ReadData::None);
        let text: Vec<&str> = report.problems.iter().map(|p| p.message.as_str()).collect();
        assert!(
            text.iter().any(|m| m.contains("disagree about it")),
            "{text:?}"
        );

        let (dir, _, file) = three_blobs();
        let mut outside = file.clone();
        outside.packs[0].blobs[0].offset = file.packs[0].size + 1000;
        write_index(&dir, &outside);
        let report = run(&dir, ReadData::None);
        let text: Vec<&str> = report.problems.iter().map(|p| p.message.as_str()).collect();
        assert!(
            text.iter()
                .any(|m| m.contains("lies outside pack") && m.contains("index/")),
            "the index file is named: {text:?}"
        );
        let _ = ids;
    }

    #[test]
    fn subsets_parse_and_partition() {
        assert_eq!(
            ReadData::parse_subset("2/5").unwrap(),
            ReadData::Subset { n: 2, m: 5 }
        );
        assert_eq!(
            ReadData::parse_subset("10%").unwrap(),
            ReadData::Percent(10.0)
        );
        for bad in ["0/5", "6/5", "1/0", "x/2", "0%", "101%", "5", ""] {
            assert!(ReadData::parse_subset(bad).is_err(), "{bad}");
        }
        // Parts 1..=3 of 3 select every id exactly once.
        for i in 0..200u8 {
            let mut id = [0u8; 32];
            id[0] = i;
            id[3] = i.wrapping_mul(7);
            let hits = (1..=3)
                .filter(|n| ReadData::Subset { n: *n, m: 3 }.selects(&id, 0))
                .count();
            assert_eq!(hits, 1);
        }
    }
}
