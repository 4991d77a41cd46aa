//! Per-account manifests: the mail-aware half of a snapshot.
//!
//! This module owns the bytes of two blob formats (docs/format.md, "Account manifest" and
//! "Message list"):
//! - an [`AccountManifest`] lists the account's mailboxes with their modseq high-water marks and,
//!   for each, the id of a [`MessageList`] blob;
//! - a [`MessageList`] lists the live messages of one mailbox with the blob of each message file;
//! - a [`MessageChunks`] lists the content-defined chunks of a large message file stored in
//!   chunks (a copying backup), which its list entry names instead of a single blob.
//!
//! Splitting the lists per mailbox is what makes a night cost O(changed mailboxes): a mailbox whose
//! modseq did not move reuses its list blob as is, and an account whose `SyncState.LastModSeq` did
//! not move reuses its whole manifest blob.

use serde::{Deserialize, Serialize};

use crate::BlobId;

/// Magic of an encoded account manifest.
pub const ACCOUNT_MAGIC: [u8; 4] = *b"MVAM";
/// Magic of an encoded message list.
pub const LIST_MAGIC: [u8; 4] = *b"MVML";
/// Magic of an encoded chunk list of one message.
pub const CHUNKS_MAGIC: [u8; 4] = *b"MVMC";
/// Magic of one page of a paged message list.
pub const LIST_PAGE_MAGIC: [u8; 4] = *b"MVMP";
/// The account manifest format version this build writes and the highest it reads (the body
/// is the same in versions 1 to 3).
pub const MANIFEST_VERSION: u32 = 3;
/// The message list format version this build writes and the highest it reads. Version 2
/// appended [`MessageEntry::owner`], version 3 [`MessageEntry::chunked`], version 4 made the
/// list a root that holds its entries or names its pages; versions 1 to 3 are still read
/// (owner `None`, `chunked` false).
pub const LIST_VERSION: u32 = 4;
/// The list page format version this build writes and the highest it reads.
pub const LIST_PAGE_VERSION: u32 = 1;
/// An id is a page boundary when it hashes to 0 modulo this (with [`LIST_PAGE_MIN`], pages of
/// about 1,280 entries).
pub const LIST_PAGE_AVG: u64 = 1024;
/// No page holds more entries than this (a run without a boundary is cut here).
pub const LIST_PAGE_MAX: usize = 4096;
/// No page but the last holds fewer entries than this (a boundary id sooner is passed over):
/// a mailbox of fewer messages is never paged.
pub const LIST_PAGE_MIN: usize = 256;
/// The chunk list format version this build writes and the highest it reads.
pub const CHUNKS_VERSION: u32 = 1;

/// One account at the time of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountManifest {
    /// Account name, as configured in mox.
    pub account: String,
    /// `SyncState.LastModSeq` of the database copy this manifest was made from.
    pub last_modseq: i64,
    /// `SyncState.HighestDeletedModSeq`: when it moves, tombstones may have been removed and the
    /// incremental path is not safe, so the next run rescans the account.
    pub highest_deleted_modseq: i64,
    /// The bbolt sequence of `Message/records`: the highest message id handed out.
    pub message_sequence: u64,
    /// Every mailbox record, deleted ones included, ordered by id.
    pub mailboxes: Vec<MailboxEntry>,
}

/// One mailbox in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxEntry {
    pub id: i64,
    pub name: String,
    pub parent_id: i64,
    pub expunged: bool,
    /// `Mailbox.ModSeq`: the high-water mark compared on the next run.
    pub modseq: i64,
    pub uidvalidity: u32,
    pub uidnext: u32,
    /// Live messages in the list.
    pub messages: u64,
    /// Sum of the live messages' `Size` (MsgPrefix + file).
    pub size: u64,
    /// False when a message of this mailbox could not be saved: the next run rescans it even
    /// if its modseq did not move.
    pub complete: bool,
    /// The [`MessageList`] blob.
    pub list: BlobId,
}

/// The live messages of one mailbox, ordered by message id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageList {
    pub mailbox_id: i64,
    pub messages: Vec<MessageEntry>,
}

/// One live message and where its file's content is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageEntry {
    /// `Message.ID`; the file is `msg/<mox::message_path(id)>` in the account directory.
    pub id: i64,
    pub uid: u32,
    pub modseq: i64,
    /// `Message.Size`: MsgPrefix plus the file.
    pub size: u64,
    /// Length of the file itself.
    pub file_size: u64,
    /// Blob holding the file's bytes, or, when `chunked`, the [`MessageChunks`] blob listing the
    /// chunks whose concatenation is the file. Either way, equal content has an equal id.
    /// Readers resolve it with `restore::mox::message_chunks`, never by hand.
    pub blob: BlobId,
    /// Mode and modification time of the file, restored as they were.
    pub mode: u32,
    pub mtime_ns: i64,
    /// Owner of the file, restored as it was when restoring as root. `None` in lists written
    /// before version 2 (restore then takes the account directory's owner).
    pub owner: Option<Owner>,
    /// Whether `blob` is a [`MessageChunks`] blob (since version 3; false before).
    pub chunked: bool,
}

/// The chunks of one message file stored in content-defined chunks: Data blobs whose
/// concatenation, `size` bytes long, is the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageChunks {
    pub size: u64,
    pub chunks: Vec<BlobId>,
}

/// A message list as stored: the root blob of a mailbox's list (version 4), holding the
/// entries itself when they fit one page, or naming its pages in id order. Versions 1 to 3
/// decode as `Entries`. Readers assemble it with `restore::mox::load_list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredList {
    pub mailbox_id: i64,
    pub body: ListBody,
}

/// What a list root holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ListBody {
    /// Every entry, ordered by message id.
    Entries(Vec<MessageEntry>),
    /// Pages in ascending id order, each a [`LIST_PAGE_MAGIC`] blob.
    Pages(Vec<ListPage>),
}

/// One page of a paged list, as its root names it: enough to find the page of an id and to
/// count the mailbox without reading the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListPage {
    /// The first and last message id on the page.
    pub first_id: i64,
    pub last_id: i64,
    /// Entries on the page (at least 1, at most [`LIST_PAGE_MAX`]).
    pub messages: u64,
    /// Sum of the entries' `size`.
    pub size: u64,
    /// The page blob.
    pub blob: BlobId,
}

/// Whether a page ends after the entry with this id: about one id in [`LIST_PAGE_AVG`], chosen
/// from the id alone (a mix of its bits), so inserting or removing a message moves no boundary
/// but its own.
pub fn list_boundary(id: i64) -> bool {
    // splitmix64's finalizer: every bit of the id moves every bit of the result.
    let mut z = (id as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    z.is_multiple_of(LIST_PAGE_AVG)
}

/// Whether a page of `len` entries ending with message `last_id` is complete: a boundary id
/// after at least [`LIST_PAGE_MIN`] entries, or [`LIST_PAGE_MAX`] entries.
pub fn ends_list_page(last_id: i64, len: usize) -> bool {
    (len >= LIST_PAGE_MIN && list_boundary(last_id)) || len >= LIST_PAGE_MAX
}

/// Cuts entries (ordered by id, starting after a page end) into pages, each ending where
/// [`ends_list_page`] says. The last piece may be incomplete. Returns the end index of each.
pub fn list_page_ends(entries: &[MessageEntry]) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut start = 0;
    for (i, e) in entries.iter().enumerate() {
        if ends_list_page(e.id, i + 1 - start) {
            ends.push(i + 1);
            start = i + 1;
        }
    }
    if start < entries.len() {
        ends.push(entries.len());
    }
    ends
}

impl ListPage {
    /// How reports name the page: "page (messages 576 to 2580) of the message list of
    /// alice/Inbox".
    pub fn describe(&self, account: &str, mailbox: &str) -> String {
        format!(
            "page (messages {} to {}) of the message list of {account}/{mailbox}",
            self.first_id, self.last_id
        )
    }

    /// The page's summary, for its root.
    pub fn of(entries: &[MessageEntry], blob: BlobId) -> ListPage {
        ListPage {
            first_id: entries.first().map_or(0, |e| e.id),
            last_id: entries.last().map_or(0, |e| e.id),
            messages: entries.len() as u64,
            size: entries.iter().map(|e| e.size).sum(),
            blob,
        }
    }

    /// Encodes the entries of one page.
    pub fn encode_entries(entries: &[MessageEntry]) -> Vec<u8> {
        encode(LIST_PAGE_MAGIC, LIST_PAGE_VERSION, &entries)
    }

    /// Decodes a page blob and checks it against this summary: ids strictly ascending, the
    /// first and last id, the count and the size as the root says.
    pub fn decode_entries(&self, bytes: &[u8]) -> Result<Vec<MessageEntry>, ManifestError> {
        let what = "message list page";
        let (_, rest) = header(LIST_PAGE_MAGIC, LIST_PAGE_VERSION, what, bytes)?;
        let entries: Vec<MessageEntry> = body(what, rest)?;
        if !entries.windows(2).all(|w| w[0].id < w[1].id) {
            return Err(ManifestError::Unordered);
        }
        if ListPage::of(&entries, self.blob) != *self || entries.is_empty() {
            return Err(ManifestError::PageMismatch);
        }
        Ok(entries)
    }
}

/// Encodes the list of a mailbox (entries ordered by id, each id once) as its root: the entries
/// themselves when they make one page, else the pages, each given to `put_page` (which stores
/// it and returns its blob id) in order.
pub fn encode_list<E>(
    mailbox_id: i64,
    entries: &[MessageEntry],
    mut put_page: impl FnMut(Vec<u8>) -> Result<BlobId, E>,
) -> Result<Vec<u8>, E> {
    let mut pager = ListPager::new(mailbox_id);
    for e in entries {
        pager.push(e.clone(), &mut put_page)?;
    }
    Ok(pager.finish(&mut put_page)?.root)
}

/// A list built by [`ListPager::finish`].
#[derive(Debug)]
pub struct BuiltList {
    /// The list root's bytes (to store).
    pub root: Vec<u8>,
    pub messages: u64,
    /// Sum of the messages' sizes.
    pub size: u64,
}

/// Builds a mailbox's list from its entries as they come (ordered by id, each id once): each
/// page is handed to `put_page` as soon as it is complete, so a mailbox of a million messages
/// never has its list in memory (at most two pages). The result is what [`encode_list`] gives
/// for all the entries at once.
#[derive(Debug)]
pub struct ListPager {
    mailbox_id: i64,
    open: Vec<MessageEntry>,
    /// The first complete page, held while it may be the only one (a list of one page holds
    /// its entries in the root).
    first: Option<Vec<MessageEntry>>,
    pages: Vec<ListPage>,
    messages: u64,
    size: u64,
}

impl ListPager {
    pub fn new(mailbox_id: i64) -> ListPager {
        ListPager {
            mailbox_id,
            open: Vec::new(),
            first: None,
            pages: Vec::new(),
            messages: 0,
            size: 0,
        }
    }

    /// Adds the next entry (its id above every earlier one).
    pub fn push<E>(
        &mut self,
        entry: MessageEntry,
        put_page: &mut impl FnMut(Vec<u8>) -> Result<BlobId, E>,
    ) -> Result<(), E> {
        self.messages += 1;
        self.size += entry.size;
        let id = entry.id;
        self.open.push(entry);
        if ends_list_page(id, self.open.len()) {
            let piece = std::mem::take(&mut self.open);
            if self.first.is_none() && self.pages.is_empty() {
                self.first = Some(piece);
            } else {
                self.store_first(put_page)?;
                self.store(piece, put_page)?;
            }
        }
        Ok(())
    }

    fn store<E>(
        &mut self,
        piece: Vec<MessageEntry>,
        put_page: &mut impl FnMut(Vec<u8>) -> Result<BlobId, E>,
    ) -> Result<(), E> {
        let blob = put_page(ListPage::encode_entries(&piece))?;
        self.pages.push(ListPage::of(&piece, blob));
        Ok(())
    }

    fn store_first<E>(
        &mut self,
        put_page: &mut impl FnMut(Vec<u8>) -> Result<BlobId, E>,
    ) -> Result<(), E> {
        match self.first.take() {
            Some(first) => self.store(first, put_page),
            None => Ok(()),
        }
    }

    /// The list: its root (entries when they make one page, else the pages, the last one
    /// stored now), with the count and size of its messages.
    pub fn finish<E>(
        mut self,
        put_page: &mut impl FnMut(Vec<u8>) -> Result<BlobId, E>,
    ) -> Result<BuiltList, E> {
        let single = match (&self.first, self.pages.is_empty(), self.open.is_empty()) {
            (None, true, _) => Some(std::mem::take(&mut self.open)),
            (Some(_), true, true) => self.first.take(),
            _ => None,
        };
        let body = match single {
            Some(entries) => ListBody::Entries(entries),
            None => {
                self.store_first(put_page)?;
                let open = std::mem::take(&mut self.open);
                if !open.is_empty() {
                    self.store(open, put_page)?;
                }
                ListBody::Pages(std::mem::take(&mut self.pages))
            }
        };
        Ok(BuiltList {
            root: StoredList {
                mailbox_id: self.mailbox_id,
                body,
            }
            .encode(),
            messages: self.messages,
            size: self.size,
        })
    }
}

impl StoredList {
    pub fn encode(&self) -> Vec<u8> {
        encode(LIST_MAGIC, LIST_VERSION, self)
    }

    /// Decodes versions 1 to 3 (entries) and 4. Entries and pages must be in ascending id
    /// order, pages neither empty nor above [`LIST_PAGE_MAX`] nor overlapping.
    pub fn decode(bytes: &[u8]) -> Result<Self, ManifestError> {
        let what = "message list";
        let flat = |l: MessageList| StoredList {
            mailbox_id: l.mailbox_id,
            body: ListBody::Entries(l.messages),
        };
        let list = match header(LIST_MAGIC, LIST_VERSION, what, bytes)? {
            (1, rest) => flat(body::<OldMessageList<MessageEntryV1>>(what, rest)?.into()),
            (2, rest) => flat(body::<OldMessageList<MessageEntryV2>>(what, rest)?.into()),
            (3, rest) => flat(body(what, rest)?),
            (_, rest) => body(what, rest)?,
        };
        match &list.body {
            // Lists before version 4 did not check their order: kept as they are.
            ListBody::Entries(_) => {}
            ListBody::Pages(pages) => {
                let ok = pages.iter().all(|p| {
                    p.first_id <= p.last_id
                        && p.messages >= 1
                        && p.messages <= LIST_PAGE_MAX as u64
                        && p.messages as i128 <= p.last_id as i128 - p.first_id as i128 + 1
                }) && pages.windows(2).all(|w| w[0].last_id < w[1].first_id);
                if !ok {
                    return Err(ManifestError::Unordered);
                }
            }
        }
        Ok(list)
    }
}

/// A file's owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub uid: u32,
    pub gid: u32,
}

/// A message list as version 1 (`owner: false`) or 2 wrote it: `T` is the entry.
#[derive(Deserialize)]
struct OldMessageList<T> {
    mailbox_id: i64,
    messages: Vec<T>,
}

/// A message entry of version 1.
#[derive(Deserialize)]
struct MessageEntryV1 {
    id: i64,
    uid: u32,
    modseq: i64,
    size: u64,
    file_size: u64,
    blob: BlobId,
    mode: u32,
    mtime_ns: i64,
}

/// A message entry of version 2: version 1 and the owner.
#[derive(Deserialize)]
struct MessageEntryV2 {
    id: i64,
    uid: u32,
    modseq: i64,
    size: u64,
    file_size: u64,
    blob: BlobId,
    mode: u32,
    mtime_ns: i64,
    owner: Option<Owner>,
}

impl From<MessageEntryV1> for MessageEntry {
    fn from(m: MessageEntryV1) -> MessageEntry {
        MessageEntry {
            id: m.id,
            uid: m.uid,
            modseq: m.modseq,
            size: m.size,
            file_size: m.file_size,
            blob: m.blob,
            mode: m.mode,
            mtime_ns: m.mtime_ns,
            owner: None,
            chunked: false,
        }
    }
}

impl From<MessageEntryV2> for MessageEntry {
    fn from(m: MessageEntryV2) -> MessageEntry {
        MessageEntry {
            id: m.id,
            uid: m.uid,
            modseq: m.modseq,
            size: m.size,
            file_size: m.file_size,
            blob: m.blob,
            mode: m.mode,
            mtime_ns: m.mtime_ns,
            owner: m.owner,
            chunked: false,
        }
    }
}

impl<T: Into<MessageEntry>> From<OldMessageList<T>> for MessageList {
    fn from(old: OldMessageList<T>) -> MessageList {
        MessageList {
            mailbox_id: old.mailbox_id,
            messages: old.messages.into_iter().map(Into::into).collect(),
        }
    }
}

/// A manifest blob that cannot be decoded.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("not a {expected} (bad magic)")]
    BadMagic { expected: &'static str },
    #[error("{what} format version {found} is not supported (this build reads up to {max})")]
    UnsupportedVersion {
        what: &'static str,
        found: u32,
        max: u32,
    },
    #[error("truncated {0}")]
    Truncated(&'static str),
    /// Mailboxes, list pages and page entries must be in ascending id order (lookups by id rely
    /// on it).
    #[error("entries not in ascending id order")]
    Unordered,
    /// A list page that is not what its list root says (ids, count or size).
    #[error("message list page does not match its list (ids, count or size)")]
    PageMismatch,
    /// A paged list where a list holding its entries was expected.
    #[error("message list is paged (its pages must be read from the repository)")]
    Paged,
    #[error("malformed {what}: {source}")]
    Decode {
        what: &'static str,
        #[source]
        source: postcard::Error,
    },
}

fn encode<T: Serialize>(magic: [u8; 4], version: u32, value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&magic);
    out.extend_from_slice(&version.to_le_bytes());
    postcard::to_io(value, &mut out).expect("encoding into a Vec cannot fail");
    out
}

/// Checks magic and version; returns the version and the body.
fn header<'a>(
    magic: [u8; 4],
    max: u32,
    what: &'static str,
    bytes: &'a [u8],
) -> Result<(u32, &'a [u8]), ManifestError> {
    if bytes.len() < 8 {
        return Err(ManifestError::Truncated(what));
    }
    if bytes[..4] != magic {
        return Err(ManifestError::BadMagic { expected: what });
    }
    let version = u32::from_le_bytes(bytes[4..8].try_into().expect("4 bytes"));
    if version == 0 || version > max {
        return Err(ManifestError::UnsupportedVersion {
            what,
            found: version,
            max,
        });
    }
    Ok((version, &bytes[8..]))
}

/// The postcard body, all of it.
fn body<'a, T: Deserialize<'a>>(what: &'static str, bytes: &'a [u8]) -> Result<T, ManifestError> {
    let (value, rest) = postcard::take_from_bytes(bytes)
        .map_err(|source| ManifestError::Decode { what, source })?;
    if !rest.is_empty() {
        return Err(ManifestError::Decode {
            what,
            source: postcard::Error::DeserializeBadEncoding,
        });
    }
    Ok(value)
}

impl AccountManifest {
    pub fn encode(&self) -> Vec<u8> {
        encode(ACCOUNT_MAGIC, MANIFEST_VERSION, self)
    }

    /// Decodes versions 1 to 3 (the same body).
    pub fn decode(bytes: &[u8]) -> Result<Self, ManifestError> {
        let what = "account manifest";
        let (_, rest) = header(ACCOUNT_MAGIC, MANIFEST_VERSION, what, bytes)?;
        let manifest: Self = body(what, rest)?;
        if !manifest.mailboxes.windows(2).all(|w| w[0].id < w[1].id) {
            return Err(ManifestError::Unordered);
        }
        Ok(manifest)
    }

    /// Live messages over all mailboxes.
    pub fn message_count(&self) -> u64 {
        self.mailboxes.iter().map(|m| m.messages).sum()
    }

    /// The mailbox with this id: a binary search (mailboxes are in ascending id order, which
    /// `decode` checks).
    pub fn mailbox(&self, id: i64) -> Option<&MailboxEntry> {
        self.mailboxes
            .binary_search_by_key(&id, |m| m.id)
            .ok()
            .map(|i| &self.mailboxes[i])
    }

    /// The live mailbox named `name`, as IMAP compares names: `INBOX` (the first component
    /// only) in any case, everything else exactly.
    pub fn mailbox_by_name(&self, name: &str) -> Option<&MailboxEntry> {
        self.mailboxes
            .iter()
            .find(|m| !m.expunged && mailbox_names_equal(&m.name, name))
    }
}

/// IMAP mailbox name equality: `INBOX` is case-insensitive (RFC 3501 5.1), and so is the first
/// component of its children (`inbox/x` is `Inbox/x`); other names compare exactly.
fn mailbox_names_equal(a: &str, b: &str) -> bool {
    let split = |s: &str| -> (String, String) {
        let (first, rest) = s.split_once('/').map_or((s, None), |(f, r)| (f, Some(r)));
        let first = if first.eq_ignore_ascii_case("inbox") {
            "INBOX".to_string()
        } else {
            first.to_string()
        };
        (first, rest.map(|r| format!("/{r}")).unwrap_or_default())
    };
    split(a) == split(b)
}

impl MessageList {
    /// Encodes the list as one root holding every entry (a version 4 list of one piece). A list
    /// of more than one page is stored by `backup::list::store_list`, which writes the pages.
    pub fn encode(&self) -> Vec<u8> {
        StoredList {
            mailbox_id: self.mailbox_id,
            body: ListBody::Entries(self.messages.clone()),
        }
        .encode()
    }

    /// Decodes a list root that holds its entries (any version); a paged root is refused here:
    /// readers that have the repository use `restore::mox::load_list`.
    pub fn decode(bytes: &[u8]) -> Result<Self, ManifestError> {
        let list = StoredList::decode(bytes)?;
        match list.body {
            ListBody::Entries(messages) => Ok(MessageList {
                mailbox_id: list.mailbox_id,
                messages,
            }),
            ListBody::Pages(_) => Err(ManifestError::Paged),
        }
    }
}

impl MessageChunks {
    pub fn encode(&self) -> Vec<u8> {
        encode(CHUNKS_MAGIC, CHUNKS_VERSION, self)
    }

    /// Decodes version 1. A list without chunks is refused (an empty file is stored whole).
    pub fn decode(bytes: &[u8]) -> Result<Self, ManifestError> {
        let what = "message chunk list";
        let (_, rest) = header(CHUNKS_MAGIC, CHUNKS_VERSION, what, bytes)?;
        let chunks: Self = body(what, rest)?;
        if chunks.chunks.is_empty() {
            return Err(ManifestError::Decode {
                what,
                source: postcard::Error::DeserializeBadEncoding,
            });
        }
        Ok(chunks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry(id: i64, seed: u8) -> MessageEntry {
        MessageEntry {
            id,
            uid: id as u32 + 1,
            modseq: id * 3,
            size: 100 + id as u64,
            file_size: 90,
            blob: BlobId::hash(&[seed]),
            mode: 0o660,
            mtime_ns: 1_700_000_000_000_000_000 + id,
            owner: Some(Owner {
                uid: 1000 + seed as u32,
                gid: 1001,
            }),
            chunked: seed % 2 == 1,
        }
    }

    /// The pager stores the pages the whole list is cut into (as [`list_page_ends`] cuts it),
    /// keeps a list of one page inline, and counts what it was given, at every length around
    /// the limits.
    #[test]
    fn the_list_pager_cuts_what_the_whole_list_cuts() {
        for n in [0usize, 1, 255, 256, 257, 1500, 4095, 4096, 4097, 9000] {
            let entries: Vec<MessageEntry> =
                (0..n as i64).map(|i| entry(i * 3 + 1, i as u8)).collect();
            let mut stored = Vec::new();
            let mut put = |bytes: Vec<u8>| -> Result<BlobId, ()> {
                let id = BlobId::hash(&bytes);
                stored.push(bytes);
                Ok(id)
            };
            let mut pager = ListPager::new(7);
            for e in &entries {
                pager.push(e.clone(), &mut put).unwrap();
            }
            let built = pager.finish(&mut put).unwrap();
            assert_eq!(built.messages, n as u64);
            assert_eq!(built.size, entries.iter().map(|e| e.size).sum::<u64>());
            let ends = list_page_ends(&entries);
            let root = StoredList::decode(&built.root).unwrap();
            assert_eq!(root.mailbox_id, 7);
            match root.body {
                ListBody::Entries(got) => {
                    assert!(ends.len() <= 1, "{n}: {} pages inline", ends.len());
                    assert_eq!(got, entries);
                    assert!(stored.is_empty(), "{n}: a page stored for an inline list");
                }
                ListBody::Pages(pages) => {
                    assert_eq!(pages.len(), ends.len(), "{n}");
                    assert_eq!(stored.len(), ends.len(), "{n}: each page stored once");
                    let mut start = 0;
                    for (page, end) in pages.iter().zip(&ends) {
                        let piece = &entries[start..*end];
                        let bytes = ListPage::encode_entries(piece);
                        assert_eq!(page, &ListPage::of(piece, BlobId::hash(&bytes)), "{n}");
                        start = *end;
                    }
                }
            }
        }
    }

    #[test]
    fn version_1_lists_still_read() {
        // The version 1 body: the same fields, without the owner.
        let e = entry(9, 3);
        let mut v1 = b"MVML\x01\0\0\0".to_vec();
        let old = (
            7i64,
            vec![(
                e.id,
                e.uid,
                e.modseq,
                e.size,
                e.file_size,
                e.blob,
                e.mode,
                e.mtime_ns,
            )],
        );
        v1.extend_from_slice(&postcard::to_stdvec(&old).unwrap());
        let list = MessageList::decode(&v1).unwrap();
        assert_eq!(list.mailbox_id, 7);
        let unchunked = MessageEntry {
            owner: None,
            chunked: false,
            ..e.clone()
        };
        assert_eq!(list.messages, vec![unchunked]);
        let mut v5 = list.encode();
        v5[4] = 5;
        assert!(matches!(
            MessageList::decode(&v5),
            Err(ManifestError::UnsupportedVersion { found: 5, .. })
        ));
    }

    #[test]
    fn version_2_lists_still_read() {
        // The version 2 body: version 1 and the owner, nothing chunked.
        let e = entry(9, 3);
        let mut v2 = b"MVML\x02\0\0\0".to_vec();
        let old = (
            7i64,
            vec![(
                e.id,
                e.uid,
                e.modseq,
                e.size,
                e.file_size,
                e.blob,
                e.mode,
                e.mtime_ns,
                e.owner,
            )],
        );
        v2.extend_from_slice(&postcard::to_stdvec(&old).unwrap());
        let list = MessageList::decode(&v2).unwrap();
        assert_eq!(
            list.messages,
            vec![MessageEntry {
                chunked: false,
                ..e.clone()
            }]
        );
        // Version 3 appends the flag: a version 3 list is the version 2 bytes plus one byte
        // per entry. Version 4 puts the entries behind one byte: the variant `Entries`.
        let mut v3 = v2.clone();
        v3[4] = 3;
        v3.push(0);
        assert_eq!(MessageList::decode(&v3).unwrap(), list);
        let v4 = list.encode();
        assert_eq!(&v4[4..8], &4u32.to_le_bytes());
        assert_eq!(v4.len(), v3.len() + 1);
        assert_eq!(MessageList::decode(&v4).unwrap(), list);
    }

    #[test]
    fn chunk_list_round_trip_and_refusals() {
        let c = MessageChunks {
            size: 300_000,
            chunks: vec![BlobId::hash(b"a"), BlobId::hash(b"b")],
        };
        let bytes = c.encode();
        assert_eq!(&bytes[..8], b"MVMC\x01\0\0\0");
        assert_eq!(MessageChunks::decode(&bytes).unwrap(), c);
        let mut v2 = bytes.clone();
        v2[4] = 2;
        assert!(matches!(
            MessageChunks::decode(&v2),
            Err(ManifestError::UnsupportedVersion { found: 2, .. })
        ));
        let empty = MessageChunks {
            size: 0,
            chunks: vec![],
        };
        assert!(MessageChunks::decode(&empty.encode()).is_err());
        assert!(matches!(
            MessageList::decode(&bytes),
            Err(ManifestError::BadMagic { .. })
        ));
        assert!(MessageChunks::decode(&bytes[..bytes.len() - 1]).is_err());
    }

    #[test]
    fn account_round_trip_and_version_refusal() {
        let m = AccountManifest {
            account: "alice".into(),
            last_modseq: 165,
            highest_deleted_modseq: -1,
            message_sequence: 162,
            mailboxes: vec![MailboxEntry {
                id: 1,
                name: "Inbox".into(),
                parent_id: 0,
                expunged: false,
                modseq: 163,
                uidvalidity: 898009875,
                uidnext: 88,
                messages: 87,
                size: 3198382,
                complete: true,
                list: BlobId::hash(b"list"),
            }],
        };
        let bytes = m.encode();
        assert_eq!(&bytes[..4], b"MVAM");
        assert_eq!(AccountManifest::decode(&bytes).unwrap(), m);

        let mut newer = bytes.clone();
        newer[4..8].copy_from_slice(&4u32.to_le_bytes());
        assert!(matches!(
            AccountManifest::decode(&newer),
            Err(ManifestError::UnsupportedVersion { found: 4, .. })
        ));
        let mut v1 = bytes.clone();
        v1[4..8].copy_from_slice(&1u32.to_le_bytes());
        assert_eq!(AccountManifest::decode(&v1).unwrap(), m);
        assert!(matches!(
            MessageList::decode(&bytes),
            Err(ManifestError::BadMagic { .. })
        ));
        assert!(AccountManifest::decode(&bytes[..bytes.len() - 1]).is_err());
    }

    #[test]
    fn paged_lists_round_trip_and_refuse_what_their_root_does_not_say() {
        let entries: Vec<MessageEntry> = (1..=20_000).map(|id| entry(id, 2)).collect();
        let mut pages = Vec::new();
        let root = encode_list(7, &entries, |bytes| {
            let id = BlobId::hash(&bytes);
            pages.push((id, bytes));
            Ok::<_, ()>(id)
        })
        .unwrap();
        let ListBody::Pages(refs) = StoredList::decode(&root).unwrap().body else {
            panic!("20,000 entries are paged");
        };
        assert_eq!(refs.len(), pages.len());
        assert!(refs.len() > 5 && refs.len() < 60, "{} pages", refs.len());
        let mut back = Vec::new();
        for (i, (r, (id, bytes))) in refs.iter().zip(&pages).enumerate() {
            assert_eq!(r.blob, *id);
            // Every page but the last ends on a boundary (or is full).
            let last = i + 1 == refs.len();
            assert!(last || ends_list_page(r.last_id, r.messages as usize));
            assert!(last || r.messages >= LIST_PAGE_MIN as u64);
            back.extend(r.decode_entries(bytes).unwrap());
        }
        assert_eq!(back, entries);
        // A root holding entries refuses to be read as flat when paged, and a page checks its
        // summary: another page, a count or a size that differs.
        assert!(matches!(
            MessageList::decode(&root),
            Err(ManifestError::Paged)
        ));
        assert!(matches!(
            refs[0].decode_entries(&pages[1].1),
            Err(ManifestError::PageMismatch)
        ));
        let mut wrong = refs[0];
        wrong.size += 1;
        assert!(wrong.decode_entries(&pages[0].1).is_err());
        assert!(matches!(
            MessageList::decode(&pages[0].1),
            Err(ManifestError::BadMagic { .. })
        ));
        // Overlapping or empty pages in a root are refused.
        for bad in [
            vec![refs[1], refs[0]],
            vec![ListPage {
                messages: 0,
                ..refs[0]
            }],
            vec![ListPage {
                messages: 5,
                last_id: refs[0].first_id + 1,
                ..refs[0]
            }],
        ] {
            let root = StoredList {
                mailbox_id: 7,
                body: ListBody::Pages(bad),
            }
            .encode();
            assert!(matches!(
                StoredList::decode(&root),
                Err(ManifestError::Unordered)
            ));
        }
        // A list of one page is stored whole, with no page.
        let few: Vec<MessageEntry> = entries[..LIST_PAGE_MIN].to_vec();
        let small = encode_list(7, &few, |_| Err(())).unwrap();
        assert_eq!(MessageList::decode(&small).unwrap().messages, few);
    }

    proptest! {
        #[test]
        fn list_round_trip(ids in proptest::collection::vec(1i64..1_000_000, 0..50), seed: u8) {
            let list = MessageList {
                mailbox_id: 7,
                messages: ids.iter().map(|&id| entry(id, seed)).collect(),
            };
            prop_assert_eq!(MessageList::decode(&list.encode()).unwrap(), list);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = MessageList::decode(&bytes);
            let _ = StoredList::decode(&bytes);
            let page = ListPage { first_id: 1, last_id: 9, messages: 2, size: 5, blob: BlobId::hash(b"p") };
            let _ = page.decode_entries(&bytes);
            for magic in [b"MVML\x04\0\0\0", b"MVMP\x01\0\0\0"] {
                let mut framed = magic.to_vec();
                framed.extend_from_slice(&bytes);
                let _ = StoredList::decode(&framed);
                let _ = page.decode_entries(&framed);
            }
            let _ = MessageChunks::decode(&bytes);
            let mut framed = b"MVAM\x01\0\0\0".to_vec();
            framed.extend_from_slice(&bytes);
            let _ = AccountManifest::decode(&framed);
        }
    }
}
