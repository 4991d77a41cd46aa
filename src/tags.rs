//! Changing the tags of a snapshot: the snapshot is written again with the new tags (a new
//! file, so a new id) and the old file removed ([`Repository::replace_snapshot`]).

use crate::error::{Error, Result};
use crate::id::SnapshotId;
use crate::repo::Repository;
use crate::snapshot::{check_tag, normalize_tags};

/// A change of tags: `set` replaces them all (an empty list removes every tag), then `add`
/// appends those missing, then `remove` drops those named.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagChange {
    pub set: Option<Vec<String>>,
    pub add: Vec<String>,
    pub remove: Vec<String>,
}

impl TagChange {
    /// True when the change asks for nothing.
    pub fn is_empty(&self) -> bool {
        self.set.is_none() && self.add.is_empty() && self.remove.is_empty()
    }

    /// The tags after the change. Tags set or added are checked ([`check_tag`]).
    pub fn apply(&self, tags: &[String]) -> Result<Vec<String>> {
        let mut out = match &self.set {
            Some(set) => normalize_tags(set)?,
            None => tags.to_vec(),
        };
        for t in &self.add {
            check_tag(t)?;
            if !out.contains(t) {
                out.push(t.clone());
            }
        }
        out.retain(|t| !self.remove.contains(t));
        Ok(out)
    }
}

/// What [`retag`] did to one snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retagged {
    /// The snapshot as it was named.
    pub old: SnapshotId,
    /// Its id now (`old` when its tags did not change).
    pub new: SnapshotId,
    pub tags: Vec<String>,
    pub changed: bool,
}

/// Applies `change` to the tags of snapshot `id`. A snapshot whose tags change is written
/// again with them and with `original` naming the snapshot first written (its own `original`
/// when it has one, else `id`), then the old file is removed; a crash in between leaves both
/// files. A snapshot whose tags stay the same is left as it is.
pub fn retag(repo: &Repository, id: &SnapshotId, change: &TagChange) -> Result<Retagged> {
    if change.is_empty() {
        return Err(Error::Invalid(
            "no tag change given: use --add, --remove or --set".into(),
        ));
    }
    repo.ensure_writable()?;
    let mut snapshot = repo.load_snapshot(id)?;
    let tags = change.apply(&snapshot.tags)?;
    if tags == snapshot.tags {
        return Ok(Retagged {
            old: *id,
            new: *id,
            tags,
            changed: false,
        });
    }
    snapshot.tags = tags.clone();
    snapshot.original = Some(snapshot.original.unwrap_or(*id));
    let new = repo.replace_snapshot(id, &snapshot)?;
    Ok(Retagged {
        old: *id,
        new,
        tags,
        changed: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn set_then_add_then_remove() {
        let before = tags(&["a", "b"]);
        let change = TagChange {
            set: None,
            add: tags(&["c", "a"]),
            remove: tags(&["b", "zzz"]),
        };
        assert_eq!(change.apply(&before).unwrap(), tags(&["a", "c"]));
        let change = TagChange {
            set: Some(tags(&["x", "x", "y"])),
            add: tags(&["z"]),
            remove: tags(&["y"]),
        };
        assert_eq!(change.apply(&before).unwrap(), tags(&["x", "z"]));
        let clear = TagChange {
            set: Some(Vec::new()),
            ..TagChange::default()
        };
        assert!(clear.apply(&before).unwrap().is_empty());
        assert!(!clear.is_empty() && TagChange::default().is_empty());
        let bad = TagChange {
            add: tags(&["a,b"]),
            ..TagChange::default()
        };
        assert!(bad.apply(&before).is_err());
    }
}
