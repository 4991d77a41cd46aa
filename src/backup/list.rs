//! Writing a mailbox's message list after a night: a list of one page is rewritten whole; a
//! paged list keeps every page that no changed message falls into, so a night that adds one
//! message to a mailbox of a million stores one page and the root, not the list.
//!
//! The bytes belong to `manifest` (`encode_list`, `ListPage`, `list_page_ends`); this module
//! decides which pages are read, merged and cut again.

use std::collections::{BTreeMap, HashSet};

use crate::BlobId;
use crate::error::Result;
use crate::manifest::{
    ListBody, ListPage, MessageEntry, StoredList, ends_list_page, list_page_ends,
};

/// The page of a paged list that message `id` belongs to (or would be inserted into): the last
/// page whose first id is not above it; the first page for an id below every page.
pub fn page_of(pages: &[ListPage], id: i64) -> usize {
    pages
        .partition_point(|p| p.first_id <= id)
        .saturating_sub(1)
}

/// The new pages of a paged list: `old` with every entry whose id is in `replaced` dropped and
/// the entries of `upserts` (ordered by id; every upsert id is in `replaced`) merged in.
///
/// Only pages that a replaced id falls into are read (`load`), and the pages after them as long
/// as the merged run does not end on a page boundary; the merged run is cut by the same rule as
/// a full write (`list_page_ends`), each new page given to `put`. Every other page is kept as it
/// is, with its blob id. Returns the pages, and the entries of the single page when only one is
/// left (the caller then stores the list whole, as a full write would).
pub fn update_pages(
    old: &[ListPage],
    replaced: &HashSet<i64>,
    upserts: BTreeMap<i64, MessageEntry>,
    mut load: impl FnMut(&ListPage) -> Result<Vec<MessageEntry>>,
    mut put: impl FnMut(Vec<u8>) -> Result<BlobId>,
) -> Result<(Vec<ListPage>, Option<Vec<MessageEntry>>)> {
    let mut touched = vec![false; old.len()];
    if !old.is_empty() {
        for &id in replaced {
            touched[page_of(old, id)] = true;
        }
    }
    let mut out: Vec<ListPage> = Vec::with_capacity(old.len() + 1);
    let mut carry: Vec<MessageEntry> = Vec::new();
    // The entries of the first page when it was built here: if it is the only one, the list is
    // stored whole and needs them.
    let mut first_built: Option<Vec<MessageEntry>> = None;
    let mut ups = upserts.into_iter().peekable();
    // Cuts `carry` into pages; a last piece that does not end on a boundary stays in `carry`
    // unless `last` (the end of the list).
    let mut flush = |carry: &mut Vec<MessageEntry>,
                     out: &mut Vec<ListPage>,
                     first_built: &mut Option<Vec<MessageEntry>>,
                     last: bool|
     -> Result<()> {
        let ends = list_page_ends(carry);
        let mut start = 0;
        for end in ends {
            let piece = &carry[start..end];
            let complete = ends_list_page(piece[piece.len() - 1].id, piece.len());
            if !complete && !last {
                break;
            }
            let blob = put(ListPage::encode_entries(piece))?;
            out.push(ListPage::of(piece, blob));
            if out.len() == 1 {
                *first_built = Some(piece.to_vec());
            }
            start = end;
        }
        carry.drain(..start);
        Ok(())
    };
    for (i, page) in old.iter().enumerate() {
        if !touched[i] && carry.is_empty() {
            out.push(*page);
            continue;
        }
        let limit = old.get(i + 1).map(|p| p.first_id);
        let mut merged = Vec::with_capacity(page.messages as usize + 1);
        for e in load(page)? {
            while let Some((id, _)) = ups.peek()
                && *id < e.id
            {
                merged.push(ups.next().expect("peeked").1);
            }
            if !replaced.contains(&e.id) {
                merged.push(e);
            }
        }
        while let Some((id, _)) = ups.peek()
            && limit.is_none_or(|l| *id < l)
        {
            merged.push(ups.next().expect("peeked").1);
        }
        carry.extend(merged);
        flush(&mut carry, &mut out, &mut first_built, false)?;
    }
    carry.extend(ups.map(|(_, e)| e));
    flush(&mut carry, &mut out, &mut first_built, true)?;
    let single = match out.as_slice() {
        [] => Some(Vec::new()),
        [one] => Some(match first_built {
            Some(entries) => entries,
            None => load(one)?,
        }),
        _ => None,
    };
    Ok((out, single))
}

/// Encodes the root of a list updated by [`update_pages`].
pub fn encode_root(
    mailbox_id: i64,
    pages: Vec<ListPage>,
    single: Option<Vec<MessageEntry>>,
) -> Vec<u8> {
    let body = match single {
        Some(entries) => ListBody::Entries(entries),
        None => ListBody::Pages(pages),
    };
    StoredList { mailbox_id, body }.encode()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::manifest::{encode_list, list_page_ends};

    fn entry(id: i64) -> MessageEntry {
        MessageEntry {
            id,
            uid: id as u32,
            modseq: id,
            size: 1000 + id as u64,
            file_size: 900,
            blob: BlobId::hash(&id.to_le_bytes()),
            mode: 0o660,
            mtime_ns: id,
            owner: None,
            chunked: false,
        }
    }

    /// A blob store in memory: what `put` stored, by id.
    #[derive(Default)]
    struct Store {
        blobs: HashMap<BlobId, Vec<u8>>,
        puts: usize,
    }

    impl Store {
        fn put(&mut self, bytes: Vec<u8>) -> Result<BlobId> {
            let id = BlobId::hash(&bytes);
            self.puts += 1;
            self.blobs.insert(id, bytes);
            Ok(id)
        }

        fn load(&self, page: &ListPage) -> Result<Vec<MessageEntry>> {
            Ok(page.decode_entries(&self.blobs[&page.blob]).unwrap())
        }

        fn pages_of(&mut self, entries: &[MessageEntry]) -> Vec<ListPage> {
            let root = encode_list(7, entries, |b| self.put(b)).unwrap();
            match StoredList::decode(&root).unwrap().body {
                ListBody::Pages(p) => p,
                ListBody::Entries(_) => Vec::new(),
            }
        }
    }

    /// Applies a change both ways: the update must give exactly the pages a full write of the
    /// new list gives, and read only the pages it names.
    fn check(ids: &[i64], remove: &[i64], add: &[i64]) -> (usize, usize) {
        let mut store = Store::default();
        let old_entries: Vec<MessageEntry> = ids.iter().map(|&i| entry(i)).collect();
        let old = store.pages_of(&old_entries);
        assert!(old.len() > 1, "the test list must be paged");
        let replaced: HashSet<i64> = remove.iter().chain(add).copied().collect();
        let upserts: BTreeMap<i64, MessageEntry> = add
            .iter()
            .map(|&i| {
                (
                    i,
                    MessageEntry {
                        modseq: 99,
                        ..entry(i)
                    },
                )
            })
            .collect();
        let mut expected: BTreeMap<i64, MessageEntry> = old_entries
            .iter()
            .filter(|e| !replaced.contains(&e.id))
            .map(|e| (e.id, e.clone()))
            .collect();
        expected.extend(upserts.clone());
        let expected: Vec<MessageEntry> = expected.into_values().collect();

        store.puts = 0;
        let mut loads = 0;
        let snapshot = store.blobs.clone();
        let (pages, single) = update_pages(
            &old,
            &replaced,
            upserts,
            |p| {
                loads += 1;
                Ok(Store {
                    blobs: snapshot.clone(),
                    puts: 0,
                }
                .load(p)
                .unwrap())
            },
            |b| store.put(b),
        )
        .unwrap();
        let puts = store.puts;
        let mut full = Store::default();
        let want = full.pages_of(&expected);
        if want.is_empty() {
            assert_eq!(single.as_deref(), Some(expected.as_slice()));
        } else {
            assert_eq!(pages, want, "the update gives the pages of a full write");
            assert!(single.is_none());
        }
        let got: Vec<MessageEntry> = pages.iter().flat_map(|p| store.load(p).unwrap()).collect();
        if single.is_none() {
            assert_eq!(got, expected);
        }
        (loads, puts)
    }

    #[test]
    fn an_update_rewrites_only_the_pages_it_touches() {
        let ids: Vec<i64> = (1..=100_000).collect();
        let pages = list_page_ends(&ids.iter().map(|&i| entry(i)).collect::<Vec<_>>()).len();
        assert!(pages > 50, "{pages} pages");
        // A new message at the end: the last page, read and written again.
        let (loads, puts) = check(&ids, &[], &[100_001]);
        assert!(loads <= 2 && puts <= 2, "{loads} loads, {puts} puts");
        // A flag change and an expunge in the middle.
        let (loads, puts) = check(&ids, &[50_000], &[20_000]);
        assert!(loads <= 4 && puts <= 4, "{loads} loads, {puts} puts");
        // Removing the boundary entry of a page merges it with the next one.
        let boundary = *ids
            .iter()
            .find(|&&i| i > 300 && crate::manifest::list_boundary(i))
            .unwrap();
        let (loads, puts) = check(&ids, &[boundary], &[]);
        assert!(loads <= 3 && puts <= 2, "{loads} loads, {puts} puts");
        // New messages below the first id and many at once.
        let ids2: Vec<i64> = (1000..60_000).step_by(3).collect();
        check(
            &ids2,
            &[1003, 1006],
            &[5, 6, 7, 1001, 59_998, 70_000, 70_001],
        );
        let adds: Vec<i64> = (1000..60_000).step_by(3).map(|i| i + 1).collect();
        check(&ids2, &[], &adds);
    }

    #[test]
    fn an_update_that_leaves_one_page_gives_its_entries() {
        let ids: Vec<i64> = (1..=6000).collect();
        let remove: Vec<i64> = (1..=5000).collect();
        check(&ids, &remove, &[]);
        let all: Vec<i64> = ids.clone();
        check(&ids, &all, &[]);
    }
}
