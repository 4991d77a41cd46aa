//! Repairs and conversions that need the repository to themselves (the exclusive lock):
//! rebuilding the index from the packs, and converting a format 1 repository to format 2.

use serde::Serialize;

use crate::error::{Error, IoContext, Result};
use crate::id::{BlobId, IndexId, PackId};
use crate::progress::{Event, Progress};
use crate::repo::index::{IndexFile, LooseEntry, PackEntry, PackedBlob};
use crate::repo::{LockMode, Repository, config, index_name, object, object_name, pack};

/// What `repair index` found and wrote.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IndexRepair {
    pub packs_read: u64,
    pub blobs_indexed: u64,
    pub raw_objects_indexed: u64,
    /// Index files the new one replaces.
    pub index_files_replaced: u64,
    /// Everything left out, named (pack or object file, blob, what is wrong). A blob left out
    /// is stored again by the next backup that meets its content.
    pub damaged: Vec<String>,
}

/// What `migrate` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MigrateSummary {
    pub from_version: u32,
    pub to_version: u32,
    pub blobs_packed: u64,
    pub raw_objects_indexed: u64,
    pub packs_written: u64,
    pub damaged: Vec<String>,
}

impl Repository {
    pub(crate) fn require_exclusive(&self, what: &str) -> Result<()> {
        if self.lock_mode != LockMode::Exclusive {
            return Err(Error::Invalid(format!(
                "{what} needs the repository opened exclusively"
            )));
        }
        Ok(())
    }

    /// Every raw object file (`objects/ab/<hex>.r`), hashed: the sound ones and what is wrong
    /// with the others.
    fn scan_raw_objects(&self, progress: &dyn Progress) -> Result<(Vec<LooseEntry>, Vec<String>)> {
        let mut good = Vec::new();
        let mut bad = Vec::new();
        for b in 0..=255u8 {
            let dir = format!("objects/{b:02x}");
            for name in self.backend.list(&dir).at(self.path.join(&dir))? {
                let Some(hex) = name.strip_suffix(".r") else {
                    continue;
                };
                let Ok(id) = hex.parse::<BlobId>() else {
                    continue;
                };
                let rel = format!("{dir}/{name}");
                match self.backend.get(&rel) {
                    Ok(data) if BlobId::hash(&data) == id => good.push(LooseEntry {
                        id,
                        size: data.len() as u64,
                    }),
                    Ok(_) => bad.push(format!(
                        "{}: content does not match its id (changed in place?)",
                        self.path.join(&rel).display()
                    )),
                    Err(e) => bad.push(format!("{}: {e}", self.path.join(&rel).display())),
                }
                progress.event(Event::Advance {
                    phase: "reading raw objects".into(),
                    items: 1,
                    bytes: 0,
                });
            }
        }
        Ok((good, bad))
    }

    /// Rebuilds the index from the packs and raw objects alone: every pack is read whole and
    /// every blob in it verified; what is damaged is left out (and named), so the next backup
    /// that meets that content stores it again. The new index file supersedes every existing
    /// one, which are then removed. Needs [`Repository::open_exclusive`].
    pub fn repair_index(&mut self, progress: &dyn Progress) -> Result<IndexRepair> {
        self.require_exclusive("repair index")?;
        self.ensure_readable("repair index (it reads every blob)")?;
        self.ensure_writable()?;
        let mut out = IndexRepair::default();
        let names = self.backend.list("packs").at(self.path.join("packs"))?;
        progress.event(Event::Phase {
            name: "reading packs".into(),
            total: Some(names.len() as u64),
        });
        let mut packs = Vec::new();
        for name in names {
            let rel = format!("packs/{name}");
            let path = self.path.join(&rel);
            let Ok(id) = name.parse::<PackId>() else {
                continue;
            };
            progress.event(Event::Advance {
                phase: "reading packs".into(),
                items: 1,
                bytes: 0,
            });
            let bytes = match self.backend.get(&rel) {
                Ok(b) => b,
                Err(e) => {
                    out.damaged.push(format!("{}: {e}", path.display()));
                    continue;
                }
            };
            out.packs_read += 1;
            if PackId::hash(&bytes) != id {
                out.damaged.push(format!(
                    "{}: pack does not match its name; its sound blobs are kept",
                    path.display()
                ));
            }
            match pack::scan_lenient(&bytes, &path, &self.codec()) {
                Ok((good, bad)) => {
                    out.damaged.extend(bad.iter().map(|e| e.to_string()));
                    if good.is_empty() {
                        continue;
                    }
                    out.blobs_indexed += good.len() as u64;
                    packs.push(PackEntry {
                        id,
                        size: bytes.len() as u64,
                        blobs: good
                            .iter()
                            .map(|b| PackedBlob {
                                id: b.id,
                                kind: b.kind.to_u8(),
                                offset: b.offset,
                                len: b.len,
                                raw_len: b.raw_len,
                                member: b.member,
                            })
                            .collect(),
                    });
                }
                Err(e) => out.damaged.push(e.to_string()),
            }
        }
        progress.event(Event::Phase {
            name: "reading raw objects".into(),
            total: None,
        });
        let (loose, bad) = self.scan_raw_objects(progress)?;
        out.raw_objects_indexed = loose.len() as u64;
        out.damaged.extend(bad);
        let old = self.index_ids_on_disk()?;
        out.index_files_replaced = old.len() as u64;
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
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io(self.path.join(&name), e)),
        }
        // The new file supersedes the old ones: removing them is only tidying up.
        for old_id in &old {
            if *old_id != id {
                let n = index_name(old_id);
                self.backend.delete(&n).at(self.path.join(&n))?;
            }
        }
        self.index_problems.clear();
        if self.catalog.is_some() {
            self.rebuild_catalog()?;
        } else {
            let mut map = std::collections::HashMap::new();
            super::add_locations(&mut map, &file);
            self.memory = Some(std::sync::RwLock::new(map));
        }
        self.missing_packs.clear();
        self.check_packs()?;
        Ok(out)
    }

    /// Converts a repository of format 1 (one file per object) to format 2: framed objects are
    /// packed, raw objects indexed (each verified; damaged ones are named and left out), the
    /// index written, then the config rewritten (the commit point), then the loose framed
    /// objects removed. A crash before the config leaves a format 1 repository (plus packs a
    /// rerun writes again); after it, a format 2 one. Needs [`Repository::open_exclusive`].
    pub fn migrate(&mut self, progress: &dyn Progress) -> Result<MigrateSummary> {
        self.require_exclusive("migrate")?;
        let from = self.config.version;
        if !self.config.is_legacy() {
            return Ok(MigrateSummary {
                from_version: from,
                to_version: from,
                ..MigrateSummary::default()
            });
        }
        let Some(local) = self.backend.local() else {
            return Err(Error::Invalid("migrate works on a local repository".into()));
        };
        let root = local.root().to_path_buf();
        let mut out = MigrateSummary {
            from_version: from,
            to_version: config::REPO_VERSION,
            ..MigrateSummary::default()
        };
        // Writes are allowed from here on; the file on disk still says format 1.
        self.config.version = config::REPO_VERSION;
        let mut framed = Vec::new();
        progress.event(Event::Phase {
            name: "packing objects".into(),
            total: None,
        });
        for b in 0..=255u8 {
            let dir = format!("objects/{b:02x}");
            for name in self.backend.list(&dir).at(root.join(&dir))? {
                let Ok(id) = name.parse::<BlobId>() else {
                    continue;
                };
                let rel = object_name(&id, false);
                let path = root.join(&rel);
                let read = self
                    .backend
                    .get(&rel)
                    .at(&path)
                    .and_then(|bytes| object::decode(&bytes, &path))
                    .and_then(|(h, data)| match BlobId::hash(&data) == id {
                        true => Ok((h, data)),
                        false => Err(Error::corrupt(&path, "content does not match its id")),
                    });
                match read {
                    Ok((h, data)) => {
                        let entry = pack::encode_entry(&id, h.kind, &data);
                        self.packer.append(
                            self.backend.as_ref(),
                            id,
                            h.kind,
                            data.len() as u64,
                            &entry,
                        )?;
                        out.blobs_packed += 1;
                        framed.push(rel);
                    }
                    Err(e) => out.damaged.push(e.to_string()),
                }
                progress.event(Event::Advance {
                    phase: "packing objects".into(),
                    items: 1,
                    bytes: 0,
                });
            }
        }
        let (loose, bad) = self.scan_raw_objects(progress)?;
        out.damaged.extend(bad);
        out.raw_objects_indexed = loose.len() as u64;
        for l in loose {
            self.packer.add_loose(l.id, l.size);
        }
        self.packer.finish_open(self.backend.as_ref())?;
        out.packs_written = self.packer.take_unindexed().packs.len() as u64;
        self.flush()?;
        for dir in ["packs", "index", "locks"] {
            super::backend::create_private_dir(&root.join(dir)).at(root.join(dir))?;
        }
        let local = self.backend.local().expect("checked above");
        local
            .replace_durable("config", &self.config.encode())
            .at(root.join("config"))?;
        for rel in framed {
            self.backend.delete(&rel).at(root.join(&rel))?;
        }
        Ok(out)
    }
}
