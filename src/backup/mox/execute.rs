//! Carrying out an account's plan: the message files it names are read (in parallel), the lists
//! of changed mailboxes written (whole, or page by page), the manifest stored.

use super::*;

/// Message files read in parallel at a time.
const READ_BATCH: usize = 4096;

/// Message files that could not be saved, and their mailboxes (incomplete).
#[derive(Default)]
struct Reads {
    failed_boxes: HashSet<i64>,
    failed_ids: HashSet<i64>,
}

impl Run<'_> {
    /// Carries out an account's plan: reads the message files it names (in parallel), writes
    /// the lists of changed mailboxes and the manifest.
    pub(super) fn execute_account(
        &self,
        name: &str,
        dir: &Path,
        db: &AccountDb,
        plan: AccountPlan,
    ) -> Result<AccountRef> {
        if let Some((blob, mailboxes, messages)) = plan.reuse {
            self.count_reused_account(mailboxes, messages);
            return Ok(AccountRef {
                name: name.to_string(),
                manifest: blob,
            });
        }
        let to_read = plan.to_read().count();
        let AccountPlan {
            mailboxes,
            replaced,
            mut known,
            full_scan,
            last_modseq,
            highest_deleted_modseq,
            sequence,
            reuse: _,
        } = plan;
        let phase = format!("account {name}: {to_read} new message files");
        self.progress.event(Event::Phase {
            name: phase.clone(),
            total: Some(to_read as u64),
        });
        let mut reads = Reads::default();
        let put_page = |bytes: Vec<u8>| -> Result<BlobId> {
            let put = self.repo.put_blob(BlobKind::Manifest, &bytes)?;
            add(&self.counters.bytes_added, put.stored_bytes);
            Ok(put.id)
        };
        // Files mox does not know are looked for among the ids of the live messages and the
        // known ones (a sorted list: 8 bytes a message).
        let mut listed: Vec<i64> = match full_scan {
            true => known.keys().copied().collect(),
            false => Vec::new(),
        };
        add(&self.counters.mailboxes_total, mailboxes.len() as u64);
        let mut entries = Vec::with_capacity(mailboxes.len());
        for (mb, work) in mailboxes {
            let entry_of = |p: &Pending, known: &MessageEntry| -> MessageEntry {
                if known.file_size + p.prefix_len != p.size {
                    self.warning(
                        Some(&dir.join("msg").join(mox::message_path(p.id))),
                        format!(
                            "message {}: database size {} is not prefix {} + file {}",
                            p.id, p.size, p.prefix_len, known.file_size
                        ),
                    );
                }
                MessageEntry {
                    uid: p.uid,
                    modseq: p.modseq,
                    size: p.size,
                    ..known.clone()
                }
            };
            let (root, messages, size) = match work {
                MailboxWork::Reuse(prev_entry) => {
                    add(&self.counters.mailboxes_skipped, 1);
                    add(&self.counters.messages_total, prev_entry.messages);
                    entries.push(MailboxEntry {
                        name: mb.name.clone(),
                        parent_id: mb.parent_id,
                        expunged: mb.expunged,
                        uidnext: mb.uidnext,
                        ..prev_entry
                    });
                    continue;
                }
                MailboxWork::Whole(state) => {
                    // A batch at a time: its files read, its entries added to the list (whose
                    // pages are stored as they complete), then let go.
                    let mut pager = ListPager::new(mb.id);
                    let mut put = &put_page;
                    for batch in state.chunks(READ_BATCH) {
                        let mut read = self.read_batch(
                            name,
                            dir,
                            batch.iter().filter(|p| !known.contains_key(&p.id)),
                            &phase,
                            &mut reads,
                        );
                        for p in batch {
                            if full_scan {
                                listed.push(p.id);
                            }
                            let e = match read.remove(&p.id) {
                                Some(e) => entry_of(p, &e),
                                None => match known.get(&p.id) {
                                    Some(e) => entry_of(p, e),
                                    None => continue,
                                },
                            };
                            pager.push(e, &mut put)?;
                        }
                    }
                    let built = pager.finish(&mut put)?;
                    (built.root, built.messages, built.size)
                }
                MailboxWork::Update {
                    list,
                    pages,
                    live,
                    mut loaded,
                    ..
                } => {
                    add(&self.counters.mailboxes_paged, 1);
                    let read = self.read_batch(
                        name,
                        dir,
                        live.values().filter(|p| !known.contains_key(&p.id)),
                        &phase,
                        &mut reads,
                    );
                    known.extend(read);
                    let upserts: BTreeMap<i64, MessageEntry> = live
                        .values()
                        .filter_map(|p| known.get(&p.id).map(|e| (p.id, entry_of(p, e))))
                        .collect();
                    let (pages, single) = update_pages(
                        &pages,
                        &replaced,
                        upserts,
                        |page| match loaded.remove(&page.blob) {
                            Some(entries) => Ok(entries),
                            None => load_list_page(self.repo, &list, page),
                        },
                        put_page,
                    )?;
                    let (messages, size) = match &single {
                        Some(e) => (e.len() as u64, e.iter().map(|m| m.size).sum()),
                        None => (
                            pages.iter().map(|p| p.messages).sum(),
                            pages.iter().map(|p| p.size).sum(),
                        ),
                    };
                    (encode_root(mb.id, pages, single), messages, size)
                }
            };
            add(&self.counters.messages_total, messages);
            let put = self.repo.put_blob(BlobKind::Manifest, &root)?;
            add(&self.counters.bytes_added, put.stored_bytes);
            entries.push(MailboxEntry {
                id: mb.id,
                name: mb.name.clone(),
                parent_id: mb.parent_id,
                expunged: mb.expunged,
                modseq: mb.modseq,
                uidvalidity: mb.uidvalidity,
                uidnext: mb.uidnext,
                messages,
                size,
                complete: !reads.failed_boxes.contains(&mb.id),
                list: put.id,
            });
        }
        entries.sort_by_key(|m| m.id);

        if full_scan {
            listed.sort_unstable();
            listed.dedup();
            self.add_account_strays(name, dir, db, &listed, &reads.failed_ids, sequence)?;
        }

        let manifest = AccountManifest {
            account: name.to_string(),
            last_modseq,
            highest_deleted_modseq,
            message_sequence: sequence,
            mailboxes: entries,
        };
        let put = self.repo.put_blob(BlobKind::Manifest, &manifest.encode())?;
        add(&self.counters.bytes_added, put.stored_bytes);
        Ok(AccountRef {
            name: name.to_string(),
            manifest: put.id,
        })
    }

    /// Reads the files of `pending` in parallel, in batches: their entries by id. A file that
    /// cannot be saved is a problem, and its mailbox is incomplete (`reads`).
    fn read_batch<'p>(
        &self,
        name: &str,
        dir: &Path,
        pending: impl Iterator<Item = &'p Pending>,
        phase: &str,
        reads: &mut Reads,
    ) -> HashMap<i64, MessageEntry> {
        let pending: Vec<&Pending> = pending.collect();
        let mut out = HashMap::with_capacity(pending.len());
        for batch in pending.chunks(READ_BATCH) {
            type Read = (i64, i64, std::result::Result<MessageEntry, String>);
            let read: Vec<Read> = batch
                .par_iter()
                .map(|p| {
                    let outcome = self.read_message(dir, p, phase);
                    if outcome.is_err() {
                        // Done too (as a problem): the phase still reaches its total.
                        self.progress.event(Event::Advance {
                            phase: phase.to_string(),
                            items: 1,
                            bytes: 0,
                        });
                    }
                    (p.id, p.mailbox_id, outcome)
                })
                .collect();
            add(&self.counters.messages_read, read.len() as u64);
            for (id, mailbox_id, outcome) in read {
                match outcome {
                    Ok(entry) => {
                        add(&self.counters.message_bytes_read, entry.file_size);
                        out.insert(id, entry);
                    }
                    Err(message) => {
                        reads.failed_boxes.insert(mailbox_id);
                        reads.failed_ids.insert(id);
                        self.problem(
                            Some(&dir.join("msg").join(mox::message_path(id))),
                            format!("message {id} of account {name} not saved: {message}"),
                        );
                    }
                }
            }
        }
        out
    }

    fn read_message(
        &self,
        dir: &Path,
        p: &Pending,
        phase: &str,
    ) -> std::result::Result<MessageEntry, String> {
        let abs = dir.join("msg").join(mox::message_path(p.id));
        let (blob, chunked, meta) =
            self.store_immutable(&abs, phase, true)
                .map_err(|e| match e {
                    Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                        "file is missing".to_string()
                    }
                    other => other.to_string(),
                })?;
        Ok(MessageEntry {
            id: p.id,
            uid: p.uid,
            modseq: p.modseq,
            size: p.size,
            file_size: meta.len(),
            blob,
            mode: meta.mode() & 0o7777,
            mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
            owner: Some(Owner {
                uid: meta.uid(),
                gid: meta.gid(),
            }),
            chunked,
        })
    }

    /// Files in the account directory that mox does not know: copied with a warning, as the
    /// reference backup does. Messages delivered after the copy (id above the sequence) and
    /// files of messages being erased are skipped.
    fn add_account_strays(
        &self,
        name: &str,
        dir: &Path,
        db: &AccountDb,
        listed: &[i64],
        failed: &HashSet<i64>,
        sequence: u64,
    ) -> Result<()> {
        let erasing: HashSet<i64> = db.message_erase_ids()?.into_iter().collect();
        let rel_dir = format!("data/accounts/{name}");
        // `msg/` may be a symlink to another disk (the operator's layout, like a symlinked
        // account directory, which the walk's root follows): it is walked deliberately.
        // Symlinks below it are never followed.
        let msg = dir.join("msg");
        let msg_linked =
            fs::symlink_metadata(&msg).is_ok_and(|m| m.file_type().is_symlink()) && msg.is_dir();
        let walks = std::iter::once(walkdir::WalkDir::new(dir))
            .chain(msg_linked.then(|| walkdir::WalkDir::new(&msg)))
            .flat_map(|w| w.min_depth(1).sort_by_file_name());
        for item in walks {
            let item = match item {
                Ok(i) => i,
                Err(e) => {
                    let path = e.path().unwrap_or(dir).to_path_buf();
                    self.problem(Some(&path), format!("cannot read: {e}"));
                    continue;
                }
            };
            if item.file_type().is_dir() {
                continue;
            }
            let sub = item
                .path()
                .strip_prefix(dir)
                .expect("below the account dir");
            let sub_str = sub.display().to_string();
            if matches!(
                sub_str.as_str(),
                "index.db" | "junkfilter.db" | "junkfilter.bloom"
            ) || (msg_linked && sub_str == "msg")
            {
                continue;
            }
            // A live message whose file could not be saved is a problem already, not a stray.
            if sub.starts_with("msg")
                && let Ok(id) = item.file_name().to_string_lossy().parse::<i64>()
                && sub_str == format!("msg/{}", mox::message_path(id))
                && (listed.binary_search(&id).is_ok()
                    || failed.contains(&id)
                    || erasing.contains(&id)
                    || id as u64 > sequence)
            {
                continue;
            }
            self.warning(
                Some(item.path()),
                "unknown file in account directory, copied",
            );
            self.add_plain(item.path(), &format!("{rel_dir}/{sub_str}"), None);
        }
        Ok(())
    }
}
