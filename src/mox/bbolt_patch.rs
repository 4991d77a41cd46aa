//! Changing an existing bbolt file in place from a description of the changes, as one bbolt
//! write transaction does: only the pages on the paths from the roots to changed keys are read;
//! changed leaves and the branches above them are written to pages free before the transaction
//! (or appended at the high-water mark), the pages they replace go to the freelist (not reused
//! in the same transaction, so the previous meta page still names an intact tree), and the
//! meta page of the next transaction id is written last. Memory is bounded by the changes and
//! the depth of the trees, not by the size of the file.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::super::MoxError;
use super::super::bbolt::{
    BUCKET_HEADER_LEN, ELEMENT_LEN, FLAG_BRANCH, FLAG_LEAF, FLAG_META, LEAF_FLAG_BUCKET, Meta,
    PAGE_HEADER_LEN, PAGE_OVERFLOW, branch_element, freelist_ids, freelist_len, leaf_element,
    page_flags_count, parse_meta, put_branch, put_freelist, put_leaf, put_page_header, put_u32,
    u32_at, u64_at,
};
use super::{MAX_INLINE_BUCKET_SIZE, PAGE_SIZE};

/// Changes to one bucket: values to set or delete, a new sequence, changes to sub-buckets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BucketChanges {
    /// Key → new value, or `None` to delete the key (a key that is a sub-bucket cannot be set
    /// or deleted here).
    pub puts: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// The bucket's new sequence.
    pub sequence: Option<u64>,
    /// Changes to sub-buckets; a missing sub-bucket is created (when its changes are not
    /// empty).
    pub buckets: BTreeMap<Vec<u8>, BucketChanges>,
}

impl BucketChanges {
    /// Whether applying these changes would change nothing.
    pub fn is_empty(&self) -> bool {
        self.puts.is_empty()
            && self.sequence.is_none()
            && self.buckets.values().all(BucketChanges::is_empty)
    }

    /// The changes of sub-bucket `name` (added empty if missing).
    pub fn bucket_mut(&mut self, name: &[u8]) -> &mut BucketChanges {
        self.buckets.entry(name.to_vec()).or_default()
    }

    /// Sets `key` to `value`.
    pub fn put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.puts.insert(key.into(), Some(value.into()));
    }

    /// Deletes `key` (nothing happens if it is not there).
    pub fn delete(&mut self, key: impl Into<Vec<u8>>) {
        self.puts.insert(key.into(), None);
    }
}

/// Applies `changes` to the bbolt file at `path` as one write transaction (the next
/// transaction id), in place. Unchanged pages keep their content and place; without any
/// change, only a freelist page and a meta page are written (as when mox starts). Returns the
/// file size.
pub fn patch_file(path: &Path, changes: &BucketChanges) -> Result<u64, MoxError> {
    let io = |source| MoxError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let mut tx = Tx::open(file, path, len)?;
    let root_header = {
        let mut h = Vec::with_capacity(BUCKET_HEADER_LEN);
        h.extend_from_slice(&tx.meta.root.to_le_bytes());
        h.extend_from_slice(&tx.meta.root_sequence.to_le_bytes());
        h
    };
    let new_root = tx.bucket(Some(&root_header), changes, false, 0)?;
    let (root, root_sequence) = (u64_at(&new_root, 0), u64_at(&new_root, 8));
    let end = tx.commit(root, root_sequence)? * PAGE_SIZE as u64;
    Ok(end.max(len))
}

/// One change of a bucket's key, merged into its leaves: a put with the element flags, or a
/// delete.
type Op<'a> = (&'a [u8], Option<(u32, &'a [u8])>);

/// A leaf element: (flags, key, value).
type Elem = (u32, Vec<u8>, Vec<u8>);

/// Branch entries: (first key, page id).
type Level = Vec<(Vec<u8>, u64)>;

struct Tx {
    file: File,
    path: PathBuf,
    meta: Meta,
    /// The high-water mark of the file as it was (pages read must be below it).
    old_high_water: u64,
    /// The next page to append.
    high_water: u64,
    /// Pages free before this transaction: they may be written.
    free: BTreeSet<u64>,
    /// Pages this transaction stops using: free for the next one.
    pending: Vec<u64>,
    /// Pages read, against reference loops in a damaged file.
    reads: u64,
}

impl Tx {
    fn bad(&self, what: String) -> MoxError {
        MoxError::Corrupt {
            path: self.path.clone(),
            what,
        }
    }

    fn io(&self, source: std::io::Error) -> MoxError {
        MoxError::Io {
            path: self.path.clone(),
            source,
        }
    }

    fn open(file: File, path: &Path, len: u64) -> Result<Tx, MoxError> {
        let bad = |what: String| MoxError::Corrupt {
            path: path.to_path_buf(),
            what,
        };
        let mut best: Option<Meta> = None;
        for p in 0..2u64 {
            if len < (p + 1) * PAGE_SIZE as u64 {
                return Err(bad(format!("page {p}: file too short for a meta page")));
            }
            let mut page = vec![0u8; PAGE_SIZE];
            file.read_exact_at(&mut page, p * PAGE_SIZE as u64)
                .map_err(|source| MoxError::Io {
                    path: path.to_path_buf(),
                    source,
                })?;
            let Some(meta) = parse_meta(Some(&page)) else {
                continue;
            };
            if meta.page_size as usize != PAGE_SIZE {
                return Err(bad(format!(
                    "page {p}: page size {} (this writer uses {PAGE_SIZE})",
                    meta.page_size
                )));
            }
            if best.as_ref().is_none_or(|b| meta.txid > b.txid) {
                best = Some(meta);
            }
        }
        let meta = best.ok_or_else(|| bad("no valid meta page".into()))?;
        if meta.high_water < 3 || meta.high_water.saturating_mul(PAGE_SIZE as u64) > len {
            return Err(bad(format!(
                "high-water mark {} beyond the file",
                meta.high_water
            )));
        }
        let mut tx = Tx {
            file,
            path: path.to_path_buf(),
            old_high_water: meta.high_water,
            high_water: meta.high_water,
            free: BTreeSet::new(),
            pending: Vec::new(),
            reads: 0,
            meta,
        };
        let (fl, overflow) = tx.read(tx.meta.freelist)?;
        let ids =
            freelist_ids(&fl).map_err(|w| tx.bad(format!("page {}: {w}", tx.meta.freelist)))?;
        if let Some(p) = ids.iter().find(|&&p| p < 2 || p >= tx.old_high_water) {
            return Err(tx.bad(format!(
                "page {}: free page {p} out of range",
                tx.meta.freelist
            )));
        }
        tx.free = ids.into_iter().collect();
        tx.free_pages(tx.meta.freelist, overflow);
        Ok(tx)
    }

    /// Page `pgid` of the file as it was, with its overflow pages, and the overflow count.
    fn read(&mut self, pgid: u64) -> Result<(Vec<u8>, u32), MoxError> {
        self.reads += 1;
        if self.reads > 4 * self.old_high_water + 16 {
            return Err(self.bad("page references loop".into()));
        }
        if pgid < 2 || pgid >= self.old_high_water {
            return Err(self.bad(format!("page {pgid}: out of range")));
        }
        let mut page = vec![0u8; PAGE_SIZE];
        self.file
            .read_exact_at(&mut page, pgid * PAGE_SIZE as u64)
            .map_err(|e| self.io(e))?;
        let overflow = u32_at(&page, PAGE_OVERFLOW);
        if pgid + 1 + u64::from(overflow) > self.old_high_water {
            return Err(self.bad(format!("page {pgid}: overflow beyond the high-water mark")));
        }
        if overflow > 0 {
            page.resize((1 + overflow as usize) * PAGE_SIZE, 0);
            self.file
                .read_exact_at(&mut page[PAGE_SIZE..], (pgid + 1) * PAGE_SIZE as u64)
                .map_err(|e| self.io(e))?;
        }
        Ok((page, overflow))
    }

    fn free_pages(&mut self, pgid: u64, overflow: u32) {
        self.pending.extend(pgid..=pgid + u64::from(overflow));
    }

    /// Pages for `bytes` bytes of page content: a run of pages free before the transaction
    /// if there is one long enough, else at the end. Returns (first page, overflow).
    fn alloc(&mut self, bytes: usize) -> (u64, u32) {
        let npages = bytes.div_ceil(PAGE_SIZE).max(1) as u64;
        let pgid = match super::take_free_run(&mut self.free, npages) {
            Some(start) => start,
            None => {
                let p = self.high_water;
                self.high_water += npages;
                p
            }
        };
        (pgid, (npages - 1) as u32)
    }

    fn write_page(&self, pgid: u64, page: &[u8]) -> Result<(), MoxError> {
        self.file
            .write_all_at(page, pgid * PAGE_SIZE as u64)
            .map_err(|e| self.io(e))
    }

    /// Writes one leaf of `elems`; returns (first key, page id).
    fn write_leaf(&mut self, elems: &[Elem], size: usize) -> Result<(Vec<u8>, u64), MoxError> {
        let (pgid, overflow) = self.alloc(size);
        let mut page = vec![0u8; (1 + overflow as usize) * PAGE_SIZE];
        put_leaf(
            &mut page,
            pgid,
            elems
                .iter()
                .map(|(f, k, v)| (*f, k.as_slice(), v.as_slice())),
        );
        put_u32(&mut page, PAGE_OVERFLOW, overflow);
        self.write_page(pgid, &page)?;
        Ok((elems.first().map(|e| e.1.clone()).unwrap_or_default(), pgid))
    }

    /// Leaves filled up to the page size (at least one, maybe empty).
    fn write_leaves(&mut self, elems: &[Elem]) -> Result<Level, MoxError> {
        let mut level = Vec::new();
        let mut start = 0;
        loop {
            let mut end = start;
            let mut size = PAGE_HEADER_LEN;
            while end < elems.len() && (end == start || size + elem_size(&elems[end]) <= PAGE_SIZE)
            {
                size += elem_size(&elems[end]);
                end += 1;
            }
            level.push(self.write_leaf(&elems[start..end], size)?);
            start = end;
            if start >= elems.len() {
                return Ok(level);
            }
        }
    }

    /// One level of branch pages over `children` (at least one).
    fn write_branch_level(&mut self, children: &[(Vec<u8>, u64)]) -> Result<Level, MoxError> {
        let mut next = Vec::new();
        let mut start = 0;
        while start < children.len() {
            let mut end = start;
            let mut size = PAGE_HEADER_LEN;
            while end < children.len()
                && (end - start < 2 || size + ELEMENT_LEN + children[end].0.len() <= PAGE_SIZE)
            {
                size += ELEMENT_LEN + children[end].0.len();
                end += 1;
            }
            let (pgid, overflow) = self.alloc(size);
            let mut page = vec![0u8; (1 + overflow as usize) * PAGE_SIZE];
            put_branch(&mut page, pgid, &children[start..end]);
            put_u32(&mut page, PAGE_OVERFLOW, overflow);
            self.write_page(pgid, &page)?;
            next.push((children[start].0.clone(), pgid));
            start = end;
        }
        Ok(next)
    }

    /// Branch levels over `level` until one page remains; returns the root page.
    fn write_root(&mut self, mut level: Level) -> Result<u64, MoxError> {
        while level.len() > 1 {
            level = self.write_branch_level(&level)?;
        }
        Ok(level[0].1)
    }

    /// The elements of a leaf page.
    fn leaf_elems(&self, page: &[u8], pgid: u64) -> Result<Vec<Elem>, MoxError> {
        let (_, count) = page_flags_count(page);
        if PAGE_HEADER_LEN + count * ELEMENT_LEN > page.len() {
            return Err(self.bad(format!("page {pgid}: too many elements")));
        }
        (0..count)
            .map(|i| {
                leaf_element(page, i)
                    .map(|(f, k, v)| (f, k.to_vec(), v.to_vec()))
                    .map_err(|_| self.bad(format!("page {pgid}: element {i} out of bounds")))
            })
            .collect()
    }

    /// The children of a branch page.
    fn branch_children(&self, page: &[u8], pgid: u64) -> Result<Level, MoxError> {
        let (_, count) = page_flags_count(page);
        if count == 0 || PAGE_HEADER_LEN + count * ELEMENT_LEN > page.len() {
            return Err(self.bad(format!("page {pgid}: bad element count {count}")));
        }
        (0..count)
            .map(|i| {
                branch_element(page, i)
                    .map(|(k, c)| (k.to_vec(), c))
                    .map_err(|_| self.bad(format!("page {pgid}: element {i} out of bounds")))
            })
            .collect()
    }

    /// The element of `key` in a bucket (root page, or the inline page when `root` is 0).
    fn lookup(
        &mut self,
        root: u64,
        inline: &[u8],
        key: &[u8],
        depth: usize,
    ) -> Result<Option<(u32, Vec<u8>)>, MoxError> {
        let find = |elems: Vec<Elem>| {
            elems
                .into_iter()
                .find(|(_, k, _)| k.as_slice() == key)
                .map(|(f, _, v)| (f, v))
        };
        if root == 0 {
            return Ok(find(self.leaf_elems(inline, 0)?));
        }
        let mut pgid = root;
        for _ in 0..64 + depth {
            let (page, _) = self.read(pgid)?;
            match page_flags_count(&page).0 {
                FLAG_LEAF => return Ok(find(self.leaf_elems(&page, pgid)?)),
                FLAG_BRANCH => {
                    let children = self.branch_children(&page, pgid)?;
                    let i = children
                        .partition_point(|(k, _)| k.as_slice() <= key)
                        .saturating_sub(1);
                    pgid = children[i].1;
                }
                other => {
                    return Err(self.bad(format!("page {pgid}: unexpected flags {other:#x}")));
                }
            }
        }
        Err(self.bad(format!("page {root}: branches nested too deep")))
    }

    /// Applies `ch` to the bucket whose value in its parent is `header` (None: a new bucket);
    /// returns the new value (the header, with the inline page for an inline bucket).
    fn bucket(
        &mut self,
        header: Option<&[u8]>,
        ch: &BucketChanges,
        may_inline: bool,
        depth: usize,
    ) -> Result<Vec<u8>, MoxError> {
        if depth > 64 {
            return Err(self.bad("buckets nested too deep".into()));
        }
        let empty_inline = {
            let mut p = vec![0u8; PAGE_HEADER_LEN];
            put_page_header(&mut p, 0, FLAG_LEAF, 0, 0);
            p
        };
        let (root, sequence, inline) = match header {
            Some(h) if h.len() >= BUCKET_HEADER_LEN => {
                (u64_at(h, 0), u64_at(h, 8), h[BUCKET_HEADER_LEN..].to_vec())
            }
            Some(_) => return Err(self.bad("short bucket header".into())),
            None => (0, 0, empty_inline),
        };
        // Sub-buckets first: their new headers are values of this bucket.
        let mut sub_values: Vec<(&[u8], Vec<u8>)> = Vec::new();
        for (name, sub) in &ch.buckets {
            if sub.is_empty() {
                continue;
            }
            let old = match self.lookup(root, &inline, name, depth)? {
                Some((f, v)) if f & LEAF_FLAG_BUCKET != 0 => Some(v),
                Some(_) => {
                    return Err(self.bad(format!(
                        "key {} is a value, not a bucket",
                        String::from_utf8_lossy(name)
                    )));
                }
                None => None,
            };
            let new = self.bucket(old.as_deref(), sub, true, depth + 1)?;
            if old.as_deref() != Some(new.as_slice()) {
                sub_values.push((name, new));
            }
        }
        let mut ops: Vec<Op<'_>> = ch
            .puts
            .iter()
            .map(|(k, v)| (k.as_slice(), v.as_deref().map(|v| (0, v))))
            .chain(
                sub_values
                    .iter()
                    .map(|(k, v)| (*k, Some((LEAF_FLAG_BUCKET, v.as_slice())))),
            )
            .collect();
        ops.sort_by(|a, b| a.0.cmp(b.0));
        if let Some(w) = ops.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(self.bad(format!(
                "key {} both a value and a bucket",
                String::from_utf8_lossy(w[0].0)
            )));
        }
        let sequence = ch.sequence.unwrap_or(sequence);
        let with_root = |root: u64| {
            let mut h = Vec::with_capacity(BUCKET_HEADER_LEN);
            h.extend_from_slice(&root.to_le_bytes());
            h.extend_from_slice(&sequence.to_le_bytes());
            h
        };
        if ops.is_empty() {
            if header.is_none() || root == 0 {
                let mut h = with_root(0);
                h.extend_from_slice(&inline);
                return Ok(h);
            }
            return Ok(with_root(root));
        }
        if root == 0 {
            let elems = merge(self.leaf_elems(&inline, 0)?, &ops).map_err(|w| self.bad(w))?;
            return self.layout(elems, may_inline, with_root);
        }
        let (page, overflow) = self.read(root)?;
        match page_flags_count(&page).0 {
            FLAG_LEAF => {
                let elems = merge(self.leaf_elems(&page, root)?, &ops).map_err(|w| self.bad(w))?;
                self.free_pages(root, overflow);
                self.layout(elems, may_inline, with_root)
            }
            FLAG_BRANCH => {
                let level = self.rewrite_branch(&page, root, overflow, &ops, 0)?;
                if level.is_empty() {
                    return self.layout(Vec::new(), may_inline, with_root);
                }
                Ok(with_root(self.write_root(level)?))
            }
            other => Err(self.bad(format!("page {root}: unexpected flags {other:#x}"))),
        }
    }

    /// A bucket of `elems` laid out anew: inline when allowed and small enough (and without
    /// sub-buckets), else in pages.
    fn layout(
        &mut self,
        elems: Vec<Elem>,
        may_inline: bool,
        with_root: impl Fn(u64) -> Vec<u8>,
    ) -> Result<Vec<u8>, MoxError> {
        let size = PAGE_HEADER_LEN + elems.iter().map(elem_size).sum::<usize>();
        let has_sub = elems.iter().any(|e| e.0 & LEAF_FLAG_BUCKET != 0);
        if may_inline && !has_sub && size <= MAX_INLINE_BUCKET_SIZE {
            let mut h = with_root(0);
            let start = h.len();
            h.resize(start + size, 0);
            put_leaf(
                &mut h[start..],
                0,
                elems
                    .iter()
                    .map(|(f, k, v)| (*f, k.as_slice(), v.as_slice())),
            );
            return Ok(h);
        }
        let level = self.write_leaves(&elems)?;
        Ok(with_root(self.write_root(level)?))
    }

    /// Applies `ops` (sorted, not empty) under the node at `pgid`; returns the entries that
    /// replace it in its parent (none when it ends up empty).
    fn rewrite(&mut self, pgid: u64, ops: &[Op<'_>], level: usize) -> Result<Level, MoxError> {
        if level > 64 {
            return Err(self.bad(format!("page {pgid}: branches nested too deep")));
        }
        let (page, overflow) = self.read(pgid)?;
        match page_flags_count(&page).0 {
            FLAG_LEAF => {
                let elems = merge(self.leaf_elems(&page, pgid)?, ops).map_err(|w| self.bad(w))?;
                self.free_pages(pgid, overflow);
                if elems.is_empty() {
                    return Ok(Vec::new());
                }
                self.write_leaves(&elems)
            }
            FLAG_BRANCH => self.rewrite_branch(&page, pgid, overflow, ops, level),
            other => Err(self.bad(format!("page {pgid}: unexpected flags {other:#x}"))),
        }
    }

    fn rewrite_branch(
        &mut self,
        page: &[u8],
        pgid: u64,
        overflow: u32,
        ops: &[Op<'_>],
        level: usize,
    ) -> Result<Level, MoxError> {
        let children = self.branch_children(page, pgid)?;
        let mut out: Level = Vec::with_capacity(children.len());
        let mut start = 0;
        for (i, (key, child)) in children.iter().enumerate() {
            // Each child holds the keys from its key up to the next child's key (the first
            // child also holds everything before).
            let end = match children.get(i + 1) {
                Some((next, _)) => start + ops[start..].partition_point(|o| o.0 < next.as_slice()),
                None => ops.len(),
            };
            if start == end {
                out.push((key.clone(), *child));
            } else {
                out.extend(self.rewrite(*child, &ops[start..end], level + 1)?);
            }
            start = end;
        }
        self.free_pages(pgid, overflow);
        if out.is_empty() {
            return Ok(out);
        }
        self.write_branch_level(&out)
    }

    /// The freelist and the meta page of the next transaction, each after the pages before
    /// it are on disk. Returns the new high-water mark.
    fn commit(mut self, root: u64, root_sequence: u64) -> Result<u64, MoxError> {
        let count = self.free.len() + self.pending.len();
        let (fl, overflow) = self.alloc(freelist_len(count));
        let mut ids: Vec<u64> = self
            .free
            .iter()
            .copied()
            .chain(self.pending.iter().copied())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut page = vec![0u8; (1 + overflow as usize) * PAGE_SIZE];
        put_freelist(&mut page, fl, overflow, &ids);
        self.write_page(fl, &page)?;
        self.file.sync_data().map_err(|e| self.io(e))?;
        let txid = self.meta.txid + 1;
        let mut page = vec![0u8; PAGE_SIZE];
        put_page_header(&mut page, txid % 2, FLAG_META, 0, 0);
        Meta {
            page_size: PAGE_SIZE as u32,
            root,
            root_sequence,
            freelist: fl,
            high_water: self.high_water,
            txid,
        }
        .write(&mut page[PAGE_HEADER_LEN..]);
        self.write_page(txid % 2, &page)?;
        self.file.sync_data().map_err(|e| self.io(e))?;
        Ok(self.high_water)
    }
}

fn elem_size(e: &Elem) -> usize {
    ELEMENT_LEN + e.1.len() + e.2.len()
}

/// `elems` (sorted) with `ops` (sorted) applied.
fn merge(elems: Vec<Elem>, ops: &[Op<'_>]) -> Result<Vec<Elem>, String> {
    let mut out = Vec::with_capacity(elems.len() + ops.len());
    let mut ops = ops.iter().peekable();
    let check = |old: &Elem, op: &Option<(u32, &[u8])>| {
        let is_bucket = old.0 & LEAF_FLAG_BUCKET != 0;
        let to_bucket = matches!(op, Some((f, _)) if f & LEAF_FLAG_BUCKET != 0);
        if is_bucket != to_bucket {
            return Err(format!(
                "key {} is a {} and cannot be {}",
                String::from_utf8_lossy(&old.1),
                if is_bucket { "bucket" } else { "value" },
                if op.is_none() {
                    "deleted here"
                } else {
                    "replaced by the other kind"
                }
            ));
        }
        Ok(())
    };
    for e in elems {
        while let Some((k, op)) = ops.next_if(|(k, _)| *k < e.1.as_slice()) {
            if let Some((f, v)) = op {
                out.push((*f, k.to_vec(), v.to_vec()));
            }
        }
        match ops.next_if(|(k, _)| *k == e.1.as_slice()) {
            Some((_, op)) => {
                check(&e, op)?;
                if let Some((f, v)) = op {
                    out.push((*f, e.1, v.to_vec()));
                }
            }
            None => out.push(e),
        }
    }
    for (k, op) in ops {
        if let Some((f, v)) = op {
            out.push((*f, k.to_vec(), v.to_vec()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::tests::walk;
    use super::super::{BoltBucket, build};
    use super::*;
    use crate::mox::Bolt;

    fn read_back(path: &Path) -> (Vec<u8>, BoltBucket) {
        let file = std::fs::read(path).unwrap();
        walk(&file);
        let bolt = Bolt::from_bytes(path.into(), file.clone()).unwrap();
        let tree = BoltBucket::load(&bolt.root()).unwrap();
        (file, tree)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 48,
            failure_persistence: None,
            ..Default::default()
        })]

        /// Several transactions of random changes, each patched into the previous file: the
        /// reader sees exactly the changed tree, every page is in use once or free once, and
        /// the previous meta page still names the previous tree.
        #[test]
        fn patches_read_back_and_account_for_every_page(seed in proptest::prelude::any::<u64>()) {
            let mut s = seed | 1;
            let mut next = move || {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                s
            };
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("p.db");
            let mut root = BoltBucket::new();
            if next() % 2 == 0 {
                for i in 0..(next() % 6000) {
                    root.bucket_mut(format!("b{}", i % 3).as_bytes())
                        .put(format!("k{:06}", next() % 8000).into_bytes(), vec![1u8; (next() % 40) as usize]);
                }
            }
            std::fs::write(&path, build(&root, 2)).unwrap();
            for tx in 0..5u64 {
                let before = std::fs::read(&path).unwrap();
                let old_root = root.clone();
                let mut ch = BucketChanges::default();
                let n = match next() % 4 { 0 => 0, 1 => next() % 5, _ => next() % 3000 };
                for _ in 0..n {
                    let name = format!("b{}", next() % 4).into_bytes();
                    let nested = next() % 5 == 0;
                    let key = format!("k{:06}", next() % 8000).into_bytes();
                    let (model, change) = if nested {
                        (root.bucket_mut(&name).bucket_mut(b"nested"),
                         ch.bucket_mut(&name).bucket_mut(b"nested"))
                    } else {
                        (root.bucket_mut(&name), ch.bucket_mut(&name))
                    };
                    if model.bucket(&key).is_some() {
                        continue;
                    }
                    match next() % 10 {
                        0 | 1 => {
                            model.entries.remove(&key);
                            change.delete(key);
                        }
                        2 => {
                            let v = vec![7u8; 3000 + (next() % 9000) as usize];
                            model.put(key.clone(), v.clone());
                            change.put(key, v);
                        }
                        _ => {
                            let v = vec![(next() % 256) as u8; (next() % 60) as usize];
                            model.put(key.clone(), v.clone());
                            change.put(key, v);
                        }
                    }
                    if next() % 50 == 0 {
                        let seq = next() % 1000;
                        model.sequence = seq;
                        change.sequence = Some(seq);
                    }
                }
                patch_file(&path, &ch).unwrap();
                let (after, tree) = read_back(&path);
                proptest::prop_assert_eq!(&tree, &root);
                let bolt = Bolt::from_bytes(path.clone(), after.clone()).unwrap();
                proptest::prop_assert_eq!(bolt.txid(), 3 + tx);
                // Without the new meta page, the file is the previous transaction's.
                let mut old = after.clone();
                let m = (3 + tx) as usize % 2 * PAGE_SIZE;
                old[m..m + PAGE_SIZE].fill(0);
                let bolt = Bolt::from_bytes(path.clone(), old).unwrap();
                proptest::prop_assert_eq!(BoltBucket::load(&bolt.root()).unwrap(), old_root);
                // The pages of the previous tree are kept as they were.
                proptest::prop_assert!(after.len() >= before.len());
            }
        }
    }

    #[test]
    fn a_small_change_writes_a_few_pages_and_nothing_writes_only_freelist_and_meta() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut root = BoltBucket::new();
        for b in 0..3u8 {
            let bucket = root.bucket_mut(&[b'b', b]);
            for i in 0..20_000u32 {
                bucket.put(i.to_be_bytes().to_vec(), vec![b; 40]);
            }
            bucket.bucket_mut(b"small").put(b"x", b"y");
        }
        std::fs::write(&path, build(&root, 4)).unwrap();
        let first = std::fs::read(&path).unwrap();

        // One value changes, one key is added at the end, one deleted, a small bucket changes.
        let mut ch = BucketChanges::default();
        let b1 = ch.bucket_mut(b"b\x01");
        b1.put(17u32.to_be_bytes().to_vec(), b"changed".to_vec());
        b1.put(99_999u32.to_be_bytes().to_vec(), b"new".to_vec());
        b1.delete(5000u32.to_be_bytes().to_vec());
        b1.sequence = Some(9);
        b1.bucket_mut(b"small").put(b"z", b"w");
        ch.bucket_mut(b"new").put(b"a", b"b");
        patch_file(&path, &ch).unwrap();
        let (second, tree) = read_back(&path);
        let m = root.bucket_mut(b"b\x01");
        m.put(17u32.to_be_bytes().to_vec(), b"changed".to_vec());
        m.put(99_999u32.to_be_bytes().to_vec(), b"new".to_vec());
        m.entries.remove(5000u32.to_be_bytes().as_slice());
        m.sequence = 9;
        m.bucket_mut(b"small").put(b"z", b"w");
        root.bucket_mut(b"new").put(b"a", b"b");
        assert_eq!(tree, root);
        let differing = |a: &[u8], b: &[u8]| {
            let n = a.len().max(b.len()) / PAGE_SIZE;
            (0..n)
                .filter(|&p| {
                    a.get(p * PAGE_SIZE..(p + 1) * PAGE_SIZE)
                        != b.get(p * PAGE_SIZE..(p + 1) * PAGE_SIZE)
                })
                .count()
        };
        let d = differing(&first, &second);
        assert!(d <= 16, "{d} of {} pages changed", first.len() / PAGE_SIZE);

        // Nothing changed: a freelist page and the meta page.
        patch_file(&path, &BucketChanges::default()).unwrap();
        let (third, tree) = read_back(&path);
        assert_eq!(tree, root);
        assert!(differing(&second, &third) <= 2);

        // Pages freed by an earlier transaction are reused instead of growing the file.
        let mut ch = BucketChanges::default();
        ch.bucket_mut(b"b\x02")
            .put(3u32.to_be_bytes().to_vec(), b"again".to_vec());
        patch_file(&path, &ch).unwrap();
        let (fourth, _) = read_back(&path);
        assert_eq!(fourth.len(), third.len());
    }

    #[test]
    fn changes_that_do_not_fit_the_tree_fail_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut root = BoltBucket::new();
        root.bucket_mut(b"a").bucket_mut(b"sub").put(b"k", b"v");
        root.bucket_mut(b"a").put(b"val", b"v");
        std::fs::write(&path, build(&root, 2)).unwrap();
        let mut ch = BucketChanges::default();
        ch.bucket_mut(b"a").delete(b"sub".to_vec());
        assert!(patch_file(&path, &ch).is_err());
        let mut ch = BucketChanges::default();
        ch.bucket_mut(b"a").bucket_mut(b"val").put(b"x", b"y");
        assert!(patch_file(&path, &ch).is_err());
        std::fs::write(&path, vec![0u8; 3 * PAGE_SIZE]).unwrap();
        let e = patch_file(&path, &BucketChanges::default()).unwrap_err();
        assert!(e.to_string().contains("t.db"), "{e}");
    }
}
