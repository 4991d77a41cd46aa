//! The mail-aware difference between two snapshots: per account and mailbox, which messages were
//! added, removed, moved, or changed (flags, keywords: anything that moved their modseq).
//!
//! Only manifests are read. Mailboxes whose list blob is the same in both snapshots are equal
//! without loading the list.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use crate::find::{Finder, describe_messages};
use crate::manifest::{AccountManifest, MailboxEntry, MessageEntry};
use crate::repo::Repository;
use crate::restore::mox::{load_list, load_manifest};
use crate::snapshot::{AccountRef, Snapshot, SourceKind};
use crate::{Error, Progress, Result, SnapshotId};

/// The difference between two snapshots of the same installation.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SnapshotDiff {
    pub accounts: Vec<AccountDiff>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AccountDiff {
    pub account: String,
    /// `added`, `removed` or `changed`/`unchanged`.
    pub status: &'static str,
    pub last_modseq_before: Option<i64>,
    pub last_modseq_after: Option<i64>,
    pub mailboxes: Vec<MailboxDiff>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct MailboxDiff {
    pub id: i64,
    pub name: String,
    pub changed: bool,
    pub modseq_before: Option<i64>,
    pub modseq_after: Option<i64>,
    pub messages_before: u64,
    pub messages_after: u64,
    /// Message ids new in the account and in this mailbox.
    pub added: Vec<i64>,
    /// Message ids gone from the account that were in this mailbox.
    pub removed: Vec<i64>,
    /// Message ids that came from another mailbox of the account.
    pub moved_in: Vec<i64>,
    /// Message ids that went to another mailbox of the account.
    pub moved_out: Vec<i64>,
    /// Message ids that stayed but whose modseq moved (flags, keywords).
    pub changed_messages: Vec<i64>,
    pub bytes_added: u64,
    pub bytes_removed: u64,
    /// The added, removed and moved messages with their headers (filled by
    /// [`describe_changes`]; empty otherwise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<DiffMessage>,
}

/// A message added to, removed from, or moved into or out of a mailbox, as `diff` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct DiffMessage {
    /// `added`, `removed`, `moved_in` or `moved_out`.
    pub change: &'static str,
    pub id: i64,
    /// The UID in this mailbox (before for `removed` and `moved_out`, after otherwise).
    pub uid: u32,
    pub date: Option<String>,
    pub from: String,
    pub subject: String,
    pub size: u64,
}

/// Where each message of an account was, with its entry.
type Placement = HashMap<i64, (i64, MessageEntry)>;

fn placements(
    repo: &Repository,
    manifest: &AccountManifest,
    skip: &dyn Fn(&MailboxEntry) -> bool,
) -> Result<Placement> {
    let mut out = HashMap::new();
    for mb in &manifest.mailboxes {
        if skip(mb) {
            continue;
        }
        for e in load_list(repo, &mb.list)?.messages {
            out.insert(e.id, (mb.id, e));
        }
    }
    Ok(out)
}

/// Fills [`MailboxDiff::messages`] of `diff` (made by [`diff`] from `a` and `b`): the headers of
/// added and moved-in messages from `b`, of removed and moved-out ones from `a`.
pub fn describe_changes(
    repo: &Repository,
    a: (&SnapshotId, &Snapshot),
    b: (&SnapshotId, &Snapshot),
    diff: &mut SnapshotDiff,
    progress: &dyn Progress,
) -> Result<()> {
    let mut finder = Finder::new(repo);
    for account in &mut diff.accounts {
        let ids = |keys: &[fn(&MailboxDiff) -> &Vec<i64>]| -> HashSet<i64> {
            account
                .mailboxes
                .iter()
                .flat_map(|m| keys.iter().flat_map(move |k| k(m).iter().copied()))
                .collect()
        };
        let before_ids = ids(&[|m| &m.removed, |m| &m.moved_out]);
        let after_ids = ids(&[|m| &m.added, |m| &m.moved_in]);
        let before = describe_messages(
            &mut finder,
            a.0,
            a.1,
            &account.account,
            &before_ids,
            progress,
        )?;
        let after = describe_messages(
            &mut finder,
            b.0,
            b.1,
            &account.account,
            &after_ids,
            progress,
        )?;
        for m in &mut account.mailboxes {
            let mut out = Vec::new();
            for (change, list, side) in [
                ("added", &m.added, &after),
                ("moved_in", &m.moved_in, &after),
                ("removed", &m.removed, &before),
                ("moved_out", &m.moved_out, &before),
            ] {
                for id in list {
                    let found = side.get(id);
                    out.push(DiffMessage {
                        change,
                        id: *id,
                        uid: found.map_or(0, |f| f.uid),
                        date: found.and_then(|f| f.header.date.clone()),
                        from: found.map(|f| f.header.from.clone()).unwrap_or_default(),
                        subject: found.map(|f| f.header.subject.clone()).unwrap_or_default(),
                        size: found.map_or(0, |f| f.size),
                    });
                }
            }
            m.messages = out;
        }
    }
    Ok(())
}

/// Compares snapshot `a` (before) with `b` (after).
pub fn diff(repo: &Repository, a: &Snapshot, b: &Snapshot) -> Result<SnapshotDiff> {
    if a.kind != SourceKind::Mox || b.kind != SourceKind::Mox {
        return Err(Error::Invalid(
            "diff compares snapshots of mox installations".into(),
        ));
    }
    let mut names: Vec<&str> = a
        .accounts
        .iter()
        .chain(&b.accounts)
        .map(|r| r.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    let accounts_a: HashMap<&str, &AccountRef> =
        a.accounts.iter().map(|r| (r.name.as_str(), r)).collect();
    let accounts_b: HashMap<&str, &AccountRef> =
        b.accounts.iter().map(|r| (r.name.as_str(), r)).collect();
    let mut out = SnapshotDiff::default();
    for name in names {
        let ma = match accounts_a.get(name) {
            Some(r) => Some((r.manifest, load_manifest(repo, r)?)),
            None => None,
        };
        let mb = match accounts_b.get(name) {
            Some(r) => Some((r.manifest, load_manifest(repo, r)?)),
            None => None,
        };
        let empty = AccountManifest {
            account: name.to_string(),
            last_modseq: 0,
            highest_deleted_modseq: 0,
            message_sequence: 0,
            mailboxes: Vec::new(),
        };
        let status = match (&ma, &mb) {
            (None, Some(_)) => "added",
            (Some(_), None) => "removed",
            (Some((x, _)), Some((y, _))) if x == y => "unchanged",
            _ => "changed",
        };
        let before = ma.as_ref().map(|(_, m)| m).unwrap_or(&empty);
        let after = mb.as_ref().map(|(_, m)| m).unwrap_or(&empty);
        out.accounts.push(AccountDiff {
            account: name.to_string(),
            status,
            last_modseq_before: ma.as_ref().map(|(_, m)| m.last_modseq),
            last_modseq_after: mb.as_ref().map(|(_, m)| m.last_modseq),
            mailboxes: diff_account(repo, before, after)?,
        });
    }
    Ok(out)
}

fn diff_account(
    repo: &Repository,
    before: &AccountManifest,
    after: &AccountManifest,
) -> Result<Vec<MailboxDiff>> {
    // A mailbox with the same list blob on both sides holds the same messages: its messages
    // cannot have moved in or out (that would have changed its list), so it needs no loading.
    let same = |m: &MailboxEntry, other: &AccountManifest| {
        other.mailbox(m.id).is_some_and(|o| o.list == m.list)
    };
    let old = placements(repo, before, &|m| same(m, after))?;
    let new = placements(repo, after, &|m| same(m, before))?;

    let mut boxes: BTreeMap<i64, MailboxDiff> = BTreeMap::new();
    for (side, manifest) in [(0, before), (1, after)] {
        for m in &manifest.mailboxes {
            let d = boxes.entry(m.id).or_insert_with(|| MailboxDiff {
                id: m.id,
                name: m.name.clone(),
                ..Default::default()
            });
            if side == 0 {
                d.modseq_before = Some(m.modseq);
                d.messages_before = m.messages;
            } else {
                d.name = m.name.clone();
                d.modseq_after = Some(m.modseq);
                d.messages_after = m.messages;
            }
        }
    }
    for (id, (mailbox, entry)) in &new {
        match old.get(id) {
            None => {
                let d = boxes.get_mut(mailbox).expect("mailbox of the manifest");
                d.added.push(*id);
                d.bytes_added += entry.size;
            }
            Some((old_mailbox, old_entry)) if old_mailbox != mailbox => {
                boxes.get_mut(mailbox).expect("mailbox").moved_in.push(*id);
                boxes
                    .get_mut(old_mailbox)
                    .expect("mailbox")
                    .moved_out
                    .push(*id);
                let _ = old_entry;
            }
            Some((_, old_entry)) if old_entry.modseq != entry.modseq => {
                boxes
                    .get_mut(mailbox)
                    .expect("mailbox")
                    .changed_messages
                    .push(*id);
            }
            Some(_) => {}
        }
    }
    for (id, (mailbox, entry)) in &old {
        if !new.contains_key(id) {
            let d = boxes.get_mut(mailbox).expect("mailbox of the manifest");
            d.removed.push(*id);
            d.bytes_removed += entry.size;
        }
    }
    let mut out: Vec<MailboxDiff> = boxes.into_values().collect();
    for d in &mut out {
        for v in [
            &mut d.added,
            &mut d.removed,
            &mut d.moved_in,
            &mut d.moved_out,
            &mut d.changed_messages,
        ] {
            v.sort_unstable();
        }
        d.changed = d.modseq_before != d.modseq_after
            || d.messages_before != d.messages_after
            || !d.added.is_empty()
            || !d.removed.is_empty()
            || !d.moved_in.is_empty()
            || !d.moved_out.is_empty()
            || !d.changed_messages.is_empty();
    }
    Ok(out)
}
