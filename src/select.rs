//! Choosing snapshots by host and source: `latest` of one installation (`restore latest
//! --source /home/mox`), as restic resolves it.

use std::path::Path;

use crate::repo::Repository;
use crate::snapshot::Snapshot;
use crate::{Error, Result, SnapshotId};

/// Snapshots of one host and/or one source. Empty: every snapshot.
#[derive(Debug, Clone, Default)]
pub struct SnapshotFilter {
    pub host: Option<String>,
    /// A source as snapshots list it, or a path naming it: a mox installation given in any of
    /// the forms `backup` accepts (`mox.conf`, its directory, the data directory) names the
    /// data directory its snapshots record, another directory its canonical path.
    pub source: Option<String>,
    /// Tags every kept snapshot carries.
    pub tags: Vec<String>,
}

impl SnapshotFilter {
    pub fn is_empty(&self) -> bool {
        self.host.is_none() && self.source.is_none() && self.tags.is_empty()
    }

    /// The source labels `source` may stand for.
    fn source_labels(&self) -> Vec<String> {
        let Some(source) = &self.source else {
            return Vec::new();
        };
        let mut labels = vec![source.clone()];
        let path = Path::new(source);
        if let Ok(c) = std::fs::canonicalize(path) {
            labels.push(c.display().to_string());
        }
        if crate::is_mox_source(path)
            && let Ok(located) = crate::mox::Source::locate(path)
        {
            let data = std::fs::canonicalize(&located.data_dir).unwrap_or(located.data_dir);
            labels.push(data.display().to_string());
        }
        labels
    }

    /// The snapshots of `list` this filter keeps, in their order.
    pub fn apply(&self, list: Vec<(SnapshotId, Snapshot)>) -> Vec<(SnapshotId, Snapshot)> {
        if self.is_empty() {
            return list;
        }
        let labels = self.source_labels();
        list.into_iter()
            .filter(|(_, s)| {
                self.host.as_ref().is_none_or(|h| *h == s.host)
                    && (labels.is_empty() || labels.contains(&s.source))
                    && self.tags.iter().all(|t| s.tags.contains(t))
            })
            .collect()
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(h) = &self.host {
            parts.push(format!("host {h}"));
        }
        if let Some(s) = &self.source {
            parts.push(format!("source {s}"));
        }
        if !self.tags.is_empty() {
            parts.push(format!("tag {}", self.tags.join(",")));
        }
        parts.join(" and ")
    }
}

/// Resolves a snapshot argument: `latest` is the newest snapshot that `filter` keeps; an id or
/// a prefix is resolved as [`Repository::resolve_snapshot`] does (and must be kept by the
/// filter).
pub fn resolve_snapshot(
    repo: &Repository,
    spec: &str,
    filter: &SnapshotFilter,
) -> Result<SnapshotId> {
    if filter.is_empty() {
        return repo.resolve_snapshot(spec);
    }
    if spec.trim() == "latest" {
        let (list, _) = repo.snapshots_lenient()?;
        return filter
            .apply(list)
            .pop()
            .map(|(id, _)| id)
            .ok_or_else(|| Error::NoSuchSnapshot(format!("latest of {}", filter.describe())));
    }
    let id = repo.resolve_snapshot(spec)?;
    let snap = repo.load_snapshot(&id)?;
    if filter.apply(vec![(id, snap)]).is_empty() {
        return Err(Error::NoSuchSnapshot(format!(
            "{spec} of {}",
            filter.describe()
        )));
    }
    Ok(id)
}
