//! The account planner: an account's [`AccountPlan`], made against its parent state before
//! anything is read or stored. Which mailboxes keep their list, which lists are written again
//! (whole, or the pages a change falls into), which message files are read. A dry run counts
//! the plan; a backup hands it to `execute`.

use super::*;

/// What a backup does with one mailbox: planned before anything is read or stored.
pub(super) enum MailboxWork {
    /// Its modseq did not move: the parent's entry and list are kept.
    Reuse(MailboxEntry),
    /// A paged parent list: the pages the changed messages fall into are written again.
    Update {
        /// The parent's list.
        list: BlobId,
        pages: Vec<ListPage>,
        /// The live messages among the account's changed ones (`AccountPlan::replaced`), by id.
        live: BTreeMap<i64, Pending>,
        /// Pages of the parent's list already read while planning, by blob.
        loaded: HashMap<BlobId, Vec<MessageEntry>>,
        /// Live messages after the update.
        messages: u64,
    },
    /// Written whole from its live messages, ascending by id, each once (a new mailbox, a list
    /// of one page, a rescan): read (those not known) and listed a batch at a time.
    Whole(Vec<Pending>),
}

/// The plan of one account, before anything is read or stored.
pub(super) struct AccountPlan {
    /// Nothing changed: the parent's manifest (with its mailbox and message counts) is kept.
    pub(super) reuse: Option<(BlobId, u64, u64)>,
    pub(super) mailboxes: Vec<(mox::Mailbox, MailboxWork)>,
    /// Every message changed since the parent (incremental plans): its old entry in a list, if
    /// any, is dropped.
    pub(super) replaced: HashSet<i64>,
    /// Stored messages whose files are not read, by message id.
    pub(super) known: HashMap<i64, MessageEntry>,

    /// The whole account was scanned: files mox does not know are looked for.
    pub(super) full_scan: bool,
    pub(super) last_modseq: i64,
    pub(super) highest_deleted_modseq: i64,
    pub(super) sequence: u64,
}

impl AccountPlan {
    /// The messages whose files are read: those of changed mailboxes without a known blob.
    pub(super) fn to_read(&self) -> impl Iterator<Item = &Pending> + '_ {
        self.mailboxes
            .iter()
            .flat_map(|(_, work)| -> Box<dyn Iterator<Item = &Pending> + '_> {
                match work {
                    MailboxWork::Reuse(_) => Box::new(std::iter::empty()),
                    MailboxWork::Update { live, .. } => Box::new(live.values()),
                    MailboxWork::Whole(state) => Box::new(state.iter()),
                }
            })
            .filter(|p| !self.known.contains_key(&p.id))
    }
}

/// What planning a changed mailbox gave.
enum Changed {
    Work(MailboxWork),
    /// Rebuild it from its records; `parent_read`: the parent's list was read (its entries are
    /// known blobs) or found damaged (and named) already, so it is not read again.
    Rescan {
        parent_read: bool,
    },
}

/// A live message as the database records it; its file is read when no stored blob is known.
#[derive(Clone)]
pub(super) struct Pending {
    pub(super) mailbox_id: i64,
    pub(super) id: i64,
    pub(super) uid: u32,
    pub(super) modseq: i64,
    pub(super) size: u64,
    pub(super) prefix_len: u64,
}

impl Run<'_> {
    /// Plans one account against its parent state: which mailboxes keep their list, which
    /// lists are written again (whole, or the pages a change falls into), and which message
    /// files are read. Nothing is stored. `checked` tells which of the parent's mailboxes lost
    /// a list or a message blob: those are rescanned.
    pub(super) fn plan_account(
        &self,
        name: &str,
        dir: &Path,
        db: &AccountDb,
        checked: &PrevLists,
    ) -> Result<AccountPlan> {
        let sync = db.sync_state()?;
        let mailboxes = db.mailboxes()?;
        let sequence = db.message_sequence()?;
        let prev = self
            .prev
            .get(name)
            .filter(|p| p.manifest.message_sequence <= sequence);
        let prev_boxes: HashMap<i64, &MailboxEntry> = prev
            .map(|p| p.manifest.mailboxes.iter().map(|m| (m.id, m)).collect())
            .unwrap_or_default();
        let mut plan = AccountPlan {
            reuse: None,
            mailboxes: Vec::with_capacity(mailboxes.len()),
            replaced: HashSet::new(),
            known: HashMap::new(),
            full_scan: false,
            last_modseq: sync.last_modseq,
            highest_deleted_modseq: sync.highest_deleted_modseq,
            sequence,
        };

        // Nothing IMAP-visible changed: the previous manifest is this account's state.
        if let Some(p) = prev
            && p.manifest.last_modseq == sync.last_modseq
            && p.manifest.highest_deleted_modseq == sync.highest_deleted_modseq
            && p.manifest.message_sequence == sequence
            && p.manifest.mailboxes.len() == mailboxes.len()
            && p.manifest.mailboxes.iter().all(|m| m.complete)
            && checked.damaged.is_empty()
            && mailboxes.iter().all(|mb| {
                prev_boxes
                    .get(&mb.id)
                    .is_some_and(|m| m.modseq == mb.modseq && m.uidvalidity == mb.uidvalidity)
            })
        {
            plan.reuse = Some((
                p.blob,
                p.manifest.mailboxes.len() as u64,
                p.manifest.message_count(),
            ));
            return Ok(plan);
        }

        // Incremental only while no tombstone can have been removed since the parent.
        let incremental =
            prev.filter(|p| p.manifest.highest_deleted_modseq == sync.highest_deleted_modseq);
        let unchanged = |mb: &mox::Mailbox| -> Option<&MailboxEntry> {
            incremental
                .and(prev_boxes.get(&mb.id).copied())
                .filter(|m| {
                    m.complete
                        && !checked.damaged.contains(&m.id)
                        && m.modseq == mb.modseq
                        && m.uidvalidity == mb.uidvalidity
                })
        };
        // A parent entry whose blob is still there and is still the message (a hardlinked
        // object is the live file: written in place since, what the repository holds is no
        // longer the message, and the file is read and stored again).
        let usable = |e: &MessageEntry| -> bool {
            if checked.missing.contains(&e.blob) {
                return false;
            }
            if self
                .repo
                .raw_object_changed(&e.blob, e.file_size, e.mtime_ns)
            {
                self.warning(
                    Some(&dir.join("msg").join(mox::message_path(e.id))),
                    format!(
                        "message {} of account {name} was changed in place since the backup \
                         (its linked copy changed with it); stored again",
                        e.id
                    ),
                );
                return false;
            }
            true
        };
        // The parent's whole list of a mailbox, for a mailbox written whole: what cannot be
        // read is read again from the files.
        let old_list = |m: &MailboxEntry| -> Vec<MessageEntry> {
            match load_list_lenient(self.repo, &m.list) {
                Ok((list, failed)) => {
                    if !failed.is_empty() {
                        self.warning(
                            None,
                            format!(
                                "mailbox {} of account {name}: {} pages of the parent's message \
                                 list are damaged; their messages are read again",
                                m.name,
                                failed.len()
                            ),
                        );
                    }
                    list.messages
                }
                Err(e) => {
                    self.damaged_list(name, &m.name, &e);
                    Vec::new()
                }
            }
        };

        match incremental {
            Some(p) => {
                // Every record changed since the parent, over the changed mailboxes: a message
                // can only enter or leave a mailbox whose modseq moved.
                let after = p.manifest.last_modseq;
                let mut records: HashMap<i64, mox::Message> = HashMap::new();
                for mb in mailboxes.iter().filter(|mb| unchanged(mb).is_none()) {
                    for (_, id) in db.changed_since(mb.id, after)? {
                        if let Some(msg) = db.message(id)? {
                            records.insert(id, msg);
                        }
                    }
                }
                plan.replaced = records.keys().copied().collect();
                // The live changed records of each mailbox (one pass, not one per mailbox).
                let mut live_by_mailbox: HashMap<i64, Vec<&mox::Message>> = HashMap::new();
                for m in records.values().filter(|m| !m.expunged) {
                    live_by_mailbox.entry(m.mailbox_id).or_default().push(m);
                }
                for mb in &mailboxes {
                    if let Some(prev_entry) = unchanged(mb) {
                        plan.mailboxes
                            .push((mb.clone(), MailboxWork::Reuse(prev_entry.clone())));
                        continue;
                    }
                    let live: BTreeMap<i64, Pending> = live_by_mailbox
                        .remove(&mb.id)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|m| (m.id, pending_from_record(m)))
                        .collect();
                    // mox's Total leaves out messages flagged \Deleted; those are live too.
                    let expected = mb.total + mb.deleted;
                    let planned = match prev_boxes.get(&mb.id) {
                        Some(m) if m.complete && !checked.damaged.contains(&m.id) => {
                            self.plan_changed(name, m, live, expected, &usable, &mut plan)
                        }
                        _ => Changed::Rescan { parent_read: false },
                    };
                    let work = match planned {
                        Changed::Work(work) => work,
                        Changed::Rescan { parent_read } => {
                            // Rebuilt from all its records, as a first backup would: the
                            // counts mox keeps disagree, a file was missed last time, or the
                            // parent's list could not be read.
                            if let Some(m) = prev_boxes.get(&mb.id).filter(|_| !parent_read) {
                                for e in old_list(m) {
                                    if usable(&e) {
                                        plan.known.insert(e.id, e);
                                    }
                                }
                            }
                            let mut state = BTreeMap::new();
                            for (_, id) in db.changed_since(mb.id, i64::MIN)? {
                                if let Some(msg) = db.message(id)?
                                    && msg.mailbox_id == mb.id
                                    && !msg.expunged
                                {
                                    state.insert(msg.id, pending_from_record(&msg));
                                }
                            }
                            MailboxWork::Whole(state.into_values().collect())
                        }
                    };
                    plan.mailboxes.push((mb.clone(), work));
                }
            }
            None => {
                plan.full_scan = true;
                // Message files never change and a moved message keeps its id: every blob of
                // the parent is known by message id.
                if let Some(p) = prev {
                    for m in &p.manifest.mailboxes {
                        if checked.damaged.contains(&m.id) {
                            continue;
                        }
                        for e in old_list(m) {
                            if usable(&e) {
                                plan.known.insert(e.id, e);
                            }
                        }
                    }
                }
                let mut live: HashMap<i64, Vec<Pending>> =
                    mailboxes.iter().map(|mb| (mb.id, Vec::new())).collect();
                // Streamed: a full scan keeps one record at a time, not the account.
                for msg in db.messages_iter()? {
                    let msg = msg?;
                    if msg.expunged {
                        continue;
                    }
                    match live.get_mut(&msg.mailbox_id) {
                        Some(state) => state.push(pending_from_record(&msg)),
                        None => self.warning(
                            Some(&dir.join("index.db")),
                            format!(
                                "message {} refers to mailbox {} that does not exist",
                                msg.id, msg.mailbox_id
                            ),
                        ),
                    }
                }
                for mb in &mailboxes {
                    // Records come in key order; sorted and made unique all the same.
                    let mut state = live.remove(&mb.id).unwrap_or_default();
                    state.sort_unstable_by_key(|p| p.id);
                    state.dedup_by_key(|p| p.id);
                    state.shrink_to_fit();
                    plan.mailboxes.push((mb.clone(), MailboxWork::Whole(state)));
                }
            }
        }

        Ok(plan)
    }

    /// The work of a changed mailbox that has a usable parent list, or a rescan when it must be
    /// rebuilt from its records (the list cannot be read, or the counts disagree).
    ///
    /// A list of one piece is read whole and written whole. A paged list reads only the pages
    /// the changed ids fall into: their entries of changed ids become known blobs, and the new
    /// count is the old one less those entries plus the live changed messages.
    fn plan_changed(
        &self,
        name: &str,
        m: &MailboxEntry,
        live: BTreeMap<i64, Pending>,
        expected: i64,
        usable: &dyn Fn(&MessageEntry) -> bool,
        plan: &mut AccountPlan,
    ) -> Changed {
        let root = match load_list_root(self.repo, &m.list) {
            Ok(root) => root,
            Err(e) => {
                self.damaged_list(name, &m.name, &e);
                return Changed::Rescan { parent_read: true };
            }
        };
        let replaced = &plan.replaced;
        match root.body {
            ListBody::Entries(old) => {
                let mut state = live;
                for e in old {
                    if !replaced.contains(&e.id) {
                        state.insert(e.id, pending_from_entry(m.id, &e));
                    }
                    if usable(&e) {
                        plan.known.insert(e.id, e);
                    }
                }
                match state.len() as i64 == expected {
                    true => Changed::Work(MailboxWork::Whole(state.into_values().collect())),
                    false => Changed::Rescan { parent_read: true },
                }
            }
            ListBody::Pages(pages) => {
                let mut touched: Vec<usize> =
                    replaced.iter().map(|&id| page_of(&pages, id)).collect();
                touched.sort_unstable();
                touched.dedup();
                let mut loaded = HashMap::new();
                let mut dropped = 0u64;
                for i in touched {
                    let page = &pages[i];
                    let entries = match load_list_page(self.repo, &m.list, page) {
                        Ok(entries) => entries,
                        // The other pages may be whole: the rescan reads what it can, and names
                        // the pages it cannot.
                        Err(_) => return Changed::Rescan { parent_read: false },
                    };
                    for e in entries.iter().filter(|e| replaced.contains(&e.id)) {
                        dropped += 1;
                        if usable(e) {
                            plan.known.insert(e.id, e.clone());
                        }
                    }
                    loaded.insert(page.blob, entries);
                }
                let old: u64 = pages.iter().map(|p| p.messages).sum();
                let count = old - dropped + live.len() as u64;
                match count as i64 == expected {
                    true => Changed::Work(MailboxWork::Update {
                        list: m.list,
                        pages,
                        live,
                        loaded,
                        messages: count,
                    }),
                    false => Changed::Rescan { parent_read: false },
                }
            }
        }
    }

    /// Counts an account whose parent manifest is kept as is.
    pub(super) fn count_reused_account(&self, mailboxes: u64, messages: u64) {
        let c = &self.counters;
        add(&c.accounts_skipped, 1);
        add(&c.mailboxes_total, mailboxes);
        add(&c.mailboxes_skipped, mailboxes);
        add(&c.messages_total, messages);
    }

    /// Counts what an account's plan would do (a dry run).
    pub(super) fn count_plan(&self, plan: &AccountPlan) {
        let c = &self.counters;
        if let Some((_, mailboxes, messages)) = plan.reuse {
            return self.count_reused_account(mailboxes, messages);
        }
        add(&c.mailboxes_total, plan.mailboxes.len() as u64);
        for (_, work) in &plan.mailboxes {
            match work {
                MailboxWork::Reuse(e) => {
                    add(&c.mailboxes_skipped, 1);
                    add(&c.messages_total, e.messages);
                }
                MailboxWork::Update { messages, .. } => {
                    add(&c.mailboxes_paged, 1);
                    add(&c.messages_total, *messages);
                }
                MailboxWork::Whole(state) => add(&c.messages_total, state.len() as u64),
            }
        }
        let (files, bytes) = plan.to_read().fold((0, 0), |(n, b), p| {
            (n + 1, b + p.size.saturating_sub(p.prefix_len))
        });
        add(&c.messages_read, files);
        add(&c.message_bytes_read, bytes);
    }
}

pub(super) fn pending_from_record(msg: &mox::Message) -> Pending {
    Pending {
        mailbox_id: msg.mailbox_id,
        id: msg.id,
        uid: msg.uid,
        modseq: msg.modseq,
        size: msg.size.max(0) as u64,
        prefix_len: msg.msgprefix.len() as u64,
    }
}

fn pending_from_entry(mailbox_id: i64, e: &MessageEntry) -> Pending {
    Pending {
        mailbox_id,
        id: e.id,
        uid: e.uid,
        modseq: e.modseq,
        size: e.size,
        prefix_len: e.size.saturating_sub(e.file_size),
    }
}
