//! Carrying out an account's plan: the message files it names are read (in parallel), the lists
//! of changed mailboxes written (whole, or page by page), the manifest stored.

use super::*;

/// Message files read in parallel at a time.
const READ_BATCH: usize = 4096;

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
        let AccountPlan {
            mailboxes,
            replaced,
            mut known,
            to_read,
            full_scan,
            last_modseq,
            highest_deleted_modseq,
            sequence,
            reuse: _,
        } = plan;
        let phase = format!("account {name}: {} new message files", to_read.len());
        self.progress.event(Event::Phase {
            name: phase.clone(),
            total: Some(to_read.len() as u64),
        });
        // In batches: the outcomes of one batch are held, not those of the whole account.
        type Read = (i64, i64, std::result::Result<MessageEntry, String>);
        let mut failed_boxes = HashSet::new();
        let mut failed_ids = HashSet::new();
        add(&self.counters.messages_read, to_read.len() as u64);
        known.reserve(to_read.len());
        for batch in to_read.chunks(READ_BATCH) {
            let read: Vec<Read> = batch
                .par_iter()
                .map(|p| {
                    let outcome = self.read_message(dir, p, &phase);
                    if outcome.is_err() {
                        // Done too (as a problem): the phase still reaches its total.
                        self.progress.event(Event::Advance {
                            phase: phase.clone(),
                            items: 1,
                            bytes: 0,
                        });
                    }
                    (p.id, p.mailbox_id, outcome)
                })
                .collect();
            for (id, mailbox_id, outcome) in read {
                match outcome {
                    Ok(entry) => {
                        add(&self.counters.message_bytes_read, entry.file_size);
                        known.insert(id, entry);
                    }
                    Err(message) => {
                        failed_boxes.insert(mailbox_id);
                        failed_ids.insert(id);
                        self.problem(
                            Some(&dir.join("msg").join(mox::message_path(id))),
                            format!("message {id} of account {name} not saved: {message}"),
                        );
                    }
                }
            }
        }
        drop(to_read);

        let put_page = |bytes: Vec<u8>| -> Result<BlobId> {
            let put = self.repo.put_blob(BlobKind::Manifest, &bytes)?;
            add(&self.counters.bytes_added, put.stored_bytes);
            Ok(put.id)
        };
        add(&self.counters.mailboxes_total, mailboxes.len() as u64);
        let mut entries = Vec::with_capacity(mailboxes.len());
        for (mb, work) in mailboxes {
            let entry_of = |p: &Pending| -> Option<MessageEntry> {
                let known = known.get(&p.id)?;
                if known.file_size + p.prefix_len != p.size {
                    self.warning(
                        Some(&dir.join("msg").join(mox::message_path(p.id))),
                        format!(
                            "message {}: database size {} is not prefix {} + file {}",
                            p.id, p.size, p.prefix_len, known.file_size
                        ),
                    );
                }
                Some(MessageEntry {
                    uid: p.uid,
                    modseq: p.modseq,
                    size: p.size,
                    ..known.clone()
                })
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
                    let messages: Vec<MessageEntry> = state.values().filter_map(entry_of).collect();
                    let size = messages.iter().map(|m| m.size).sum();
                    let root = encode_list(mb.id, &messages, put_page)?;
                    (root, messages.len() as u64, size)
                }
                MailboxWork::Update {
                    list,
                    pages,
                    live,
                    mut loaded,
                    ..
                } => {
                    add(&self.counters.mailboxes_paged, 1);
                    let upserts: BTreeMap<i64, MessageEntry> = live
                        .values()
                        .filter_map(|p| entry_of(p).map(|e| (p.id, e)))
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
                complete: !failed_boxes.contains(&mb.id),
                list: put.id,
            });
        }
        entries.sort_by_key(|m| m.id);

        if full_scan {
            self.add_account_strays(name, dir, db, &known, &failed_ids, sequence)?;
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
        live: &HashMap<i64, MessageEntry>,
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
                && (live.contains_key(&id)
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
