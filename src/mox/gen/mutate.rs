//! A night of mail on a generated (or real, stopped) data directory: deliveries, flag changes,
//! an expunge and a move per account, and one queued message sent. Each database that changes
//! gets the next transaction id, written over its file as bbolt writes a transaction.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::account::Account;
use super::content::{Pools, Rng};
use super::{
    AccountReport, BoxKind, Draft, FileReport, QueueReport, ThreadInfo, Totals, list_files,
    make_message, totals,
};
use crate::mox::bbolt_write::BoltBucket;
use crate::mox::bstore_encode::{StoreData, Value, decode_record, int64_key};
use crate::mox::message_path as msg_path;
use crate::{Error, Result};

/// How much happens in the night.
#[derive(Debug, Clone, Serialize)]
pub struct MutateOptions {
    /// New messages per account, as a percentage of its live messages (at least one).
    pub percent: f64,
    pub seed: u64,
    /// mox restarted during the night: every database not otherwise changed gets a new
    /// transaction anyway (new meta and freelist pages, as every mox start writes them).
    pub restart: bool,
    /// Instead of `percent`: exactly this many new messages, all to the first account, and
    /// nothing else (no flag changes, expunge, move, junk filter training or queue delivery).
    pub only_deliver: Option<usize>,
    /// Whether the reports list every message record and every file (false for large runs:
    /// the lists stay empty, the counts and totals are there).
    pub detailed_report: bool,
}

impl Default for MutateOptions {
    fn default() -> MutateOptions {
        MutateOptions {
            percent: 1.0,
            seed: 1,
            restart: true,
            only_deliver: None,
            detailed_report: true,
        }
    }
}

/// What a night changed.
#[derive(Debug, Clone, Serialize)]
pub struct MutateReport {
    pub options: MutateOptions,
    pub data_dir: PathBuf,
    pub accounts: Vec<AccountNight>,
    /// Queue messages delivered (removed with their files).
    pub queue_removed: Vec<i64>,
    /// The queue afterwards.
    pub queue: Vec<QueueReport>,
    /// Files added and removed, relative to the data directory.
    pub files_added: Vec<String>,
    pub files_removed: Vec<String>,
    /// Databases whose records changed, relative to the data directory.
    pub databases_rewritten: Vec<String>,
    /// Databases that only got a new transaction (mox restarted).
    pub databases_restarted: Vec<String>,
    /// Files changed in place (`junkfilter.bloom` after training).
    pub files_changed: Vec<String>,
    /// Every file under the data directory afterwards.
    pub files: Vec<FileReport>,
    pub totals: Totals,
}

/// What happened in one account.
#[derive(Debug, Clone, Serialize)]
pub struct AccountNight {
    pub name: String,
    /// Ids of delivered messages.
    pub delivered: Vec<i64>,
    /// Ids of messages whose flags or keywords changed.
    pub flags_changed: Vec<i64>,
    /// Ids of expunged (and erased) messages.
    pub expunged: Vec<i64>,
    /// Moved messages: (id, tombstone id left in the source mailbox).
    pub moved: Vec<(i64, i64)>,
    /// Mailboxes whose ModSeq changed.
    pub changed_mailboxes: Vec<MailboxChange>,
    pub last_modseq_before: i64,
    /// The account afterwards.
    pub after: AccountReport,
}

/// A mailbox before and after the night.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MailboxChange {
    pub id: i64,
    pub name: String,
    pub mod_seq_before: i64,
    pub mod_seq_after: i64,
    pub messages_before: u64,
    pub messages_after: u64,
}

/// The data directory of `dir`: `dir/data` for an installation, else `dir` itself.
fn data_dir_of(dir: &Path) -> PathBuf {
    if dir.join("data").join("accounts").is_dir() {
        dir.join("data")
    } else {
        dir.to_path_buf()
    }
}

/// Applies a night to the installation (or data directory) `dir`.
pub fn mutate(dir: &Path, opts: &MutateOptions) -> Result<MutateReport> {
    let data_dir = data_dir_of(dir);
    let accounts_dir = data_dir.join("accounts");
    let mut names: Vec<String> = std::fs::read_dir(&accounts_dir)
        .map_err(|e| Error::io(&accounts_dir, e))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("index.db").is_file())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    let mut rng = Rng::new(opts.seed ^ 0x5eed_0f4e_1647_0100);
    let pools = Pools::new(&mut rng);
    let mut report = MutateReport {
        options: opts.clone(),
        data_dir: data_dir.clone(),
        accounts: Vec::new(),
        queue_removed: Vec::new(),
        queue: Vec::new(),
        files_added: Vec::new(),
        files_removed: Vec::new(),
        databases_rewritten: Vec::new(),
        databases_restarted: Vec::new(),
        files_changed: Vec::new(),
        files: Vec::new(),
        totals: Totals::default(),
    };
    for (ai, name) in names.iter().enumerate() {
        if opts.only_deliver.is_some() && ai > 0 {
            continue;
        }
        let night = night_for_account(opts, &mut rng, &pools, name, &accounts_dir.join(name))?;
        let prefix = format!("accounts/{name}/");
        report
            .files_added
            .extend(night.1.iter().map(|f| format!("{prefix}{f}")));
        report
            .files_removed
            .extend(night.2.iter().map(|f| format!("{prefix}{f}")));
        report.databases_rewritten.push(format!("{prefix}index.db"));
        let trained = night.0.delivered.len() + night.0.moved.len();
        if opts.only_deliver.is_none()
            && train_junk_filter(&mut rng, &accounts_dir.join(name), trained)?
        {
            report
                .databases_rewritten
                .push(format!("{prefix}junkfilter.db"));
            report
                .files_changed
                .push(format!("{prefix}junkfilter.bloom"));
        }
        report.accounts.push(night.0);
    }
    let (removed, queue) = deliver_one_queued(&data_dir, opts.only_deliver.is_none())?;
    if let Some(id) = removed {
        report.queue_removed.push(id);
        report.files_removed.push(format!("queue/{}", msg_path(id)));
        report.databases_rewritten.push("queue/index.db".into());
    }
    report.queue = queue;
    if opts.restart {
        let mut dbs: Vec<String> = crate::mox::GLOBAL_DBS
            .iter()
            .map(|d| d.to_string())
            .collect();
        dbs.push("queue/index.db".into());
        dbs.extend(names.iter().map(|n| format!("accounts/{n}/junkfilter.db")));
        for rel in dbs {
            let path = data_dir.join(&rel);
            if report.databases_rewritten.contains(&rel) || !path.is_file() {
                continue;
            }
            let tree = BoltBucket::read_file(&path)?;
            crate::mox::bbolt_write::update_file(&path, &tree)?;
            report.databases_restarted.push(rel);
        }
    }
    if opts.detailed_report {
        report.files = list_files(&data_dir)?;
    }
    let afters: Vec<AccountReport> = report.accounts.iter().map(|a| a.after.clone()).collect();
    report.totals = totals(&afters, &data_dir)?;
    Ok(report)
}

type NightResult = (AccountNight, Vec<String>, Vec<String>);

fn night_for_account(
    opts: &MutateOptions,
    rng: &mut Rng,
    pools: &Pools,
    name: &str,
    dir: &Path,
) -> Result<NightResult> {
    let mut acc = Account::load(name, dir)?;
    let before = acc.report(opts.detailed_report)?;
    let now = acc
        .messages
        .metas()
        .filter_map(|(_, m)| m.received)
        .max()
        .unwrap_or(super::HISTORY_START)
        + 8 * 3600;
    let live = before.live_messages as f64;
    let n = match opts.only_deliver {
        Some(k) => k,
        None => {
            ((live * opts.percent / 100.0).round() as usize).max(usize::from(opts.percent > 0.0))
        }
    };
    let lists: Vec<i64> = acc
        .mailboxes
        .values()
        .filter(|m| m.str("Name").starts_with("Lists/"))
        .map(|m| m.int("ID"))
        .collect();
    let inbox = acc.mailbox_id("Inbox").unwrap_or(1);
    let archive = acc.mailbox_id("Archive").unwrap_or(2);

    // Ascending: each delivery takes the next id.
    let mut delivered = Vec::new();
    for i in 0..n {
        let time = now + (i as i64 * 8 * 3600) / n.max(1) as i64;
        let (mailbox_id, kind) = if !lists.is_empty() && rng.chance(0.25) {
            (*rng.pick(&lists), BoxKind::List)
        } else {
            (inbox, BoxKind::Inbox)
        };
        // Some new mail answers mail already in the Inbox.
        let parent = if rng.chance(0.2) {
            let cands = acc.live_count(inbox);
            if cands == 0 {
                None
            } else {
                let id = acc.live_at(inbox, rng.below(cands as u64) as usize);
                let r = acc.messages.must(id)?;
                let mut parents = vec![r.int("ID")];
                if let Some(Value::List(l)) = r.get("ThreadParentIDs") {
                    parents.extend(l.iter().filter_map(|v| match v {
                        Value::Int(i) => Some(*i),
                        _ => None,
                    }));
                }
                Some(ThreadInfo {
                    id: r.int("ID"),
                    thread_id: r.int("ThreadID"),
                    parents: parents[1..].to_vec(),
                    subject: r.str("SubjectBase").to_string(),
                    message_id: r.str("MessageID").to_string(),
                })
            }
        } else {
            None
        };
        let draft = Draft {
            kind,
            account: name,
            time,
            parent: parent.as_ref(),
            smtp: true,
            shared: false,
        };
        let seed = rng.next_u64();
        let (msg, _) = make_message(rng, pools, (1.5, 5 << 20), &draft, seed);
        delivered.push(acc.deliver(mailbox_id, msg)?);
    }

    // Two STOREs in the Archive (or the Inbox when the Archive is empty).
    let mut flags_changed = Vec::new();
    let rounds = if opts.only_deliver.is_some() { 0 } else { 2 };
    for round in 0..rounds {
        let b = if acc.live_in(archive).is_empty() {
            inbox
        } else {
            archive
        };
        let live = acc.live_in(b);
        if live.is_empty() {
            continue;
        }
        let k = (n / 3).max(1).min(live.len());
        let ids = super::pick_n(rng, &live, k);
        acc.store_flags(b, &ids, |r| {
            if round == 0 {
                r.set("Flagged", Value::Bool(true));
            } else {
                let seen = r.bool("Seen");
                r.set("Seen", Value::Bool(!seen));
            }
        })?;
        flags_changed.extend(ids);
    }
    flags_changed.sort_unstable();
    flags_changed.dedup();

    // One EXPUNGE in Trash, Junk or the Inbox (the first that has mail).
    let mut expunged = Vec::new();
    let expunge_in: &[&str] = if opts.only_deliver.is_some() {
        &[]
    } else {
        &["Trash", "Junk", "Inbox"]
    };
    for &bname in expunge_in {
        let Some(b) = acc.mailbox_id(bname) else {
            continue;
        };
        let live: Vec<i64> = acc
            .live_in(b)
            .into_iter()
            .filter(|id| delivered.binary_search(id).is_err())
            .collect();
        if live.is_empty() {
            continue;
        }
        let k = (n / 10).max(1).min(live.len());
        let ids = super::pick_n(rng, &live, k);
        acc.expunge(b, &ids)?;
        expunged = ids;
        break;
    }

    // One MOVE from the Inbox to the Archive, of mail that was there before the night.
    let mut moved = Vec::new();
    let live: Vec<i64> = acc
        .live_in(inbox)
        .into_iter()
        .filter(|id| delivered.binary_search(id).is_err())
        .collect();
    if !live.is_empty() && opts.only_deliver.is_none() {
        let k = (n / 10).max(1).min(live.len());
        let ids = super::pick_n(rng, &live, k);
        let tombs = acc.move_messages(
            inbox,
            archive,
            &ids,
            crate::mox::bstore_encode::GoTime::utc(now + 9 * 3600, 0),
        )?;
        moved = ids.into_iter().zip(tombs).collect();
    }

    acc.finish()?;
    let after = acc.report(opts.detailed_report)?;
    let changed_mailboxes = after
        .mailboxes
        .iter()
        .filter_map(|m| {
            let b = before.mailboxes.iter().find(|x| x.id == m.id);
            let (ms, cnt) = b.map(|b| (b.mod_seq, b.messages)).unwrap_or((0, 0));
            (ms != m.mod_seq).then(|| MailboxChange {
                id: m.id,
                name: m.name.clone(),
                mod_seq_before: ms,
                mod_seq_after: m.mod_seq,
                messages_before: cnt,
                messages_after: m.messages,
            })
        })
        .collect();
    let added = std::mem::take(&mut acc.files_added);
    let removed = std::mem::take(&mut acc.files_removed);
    Ok((
        AccountNight {
            name: name.to_string(),
            delivered,
            flags_changed,
            expunged,
            moved,
            changed_mailboxes,
            last_modseq_before: before.last_modseq,
            after,
        },
        added,
        removed,
    ))
}

/// Sends the oldest single-recipient queued message: its record and file go away.
fn deliver_one_queued(data_dir: &Path, send: bool) -> Result<(Option<i64>, Vec<QueueReport>)> {
    let path = data_dir.join("queue").join("index.db");
    if !path.is_file() {
        return Ok((None, Vec::new()));
    }
    let bolt = crate::mox::Bolt::open(&path)?;
    let mut store = StoreData::from_bucket(&BoltBucket::load(&bolt.root())?)?;
    let msgs = queue_records(&store, &path)?;
    let single = msgs
        .iter()
        .find(|q| {
            send && msgs.len() > 1 && msgs.iter().filter(|o| o.base_id == q.base_id).count() == 1
        })
        .map(|q| q.id);
    if let Some(id) = single {
        store.type_mut("Msg")?.remove(&int64_key(id))?;
        let file = data_dir.join("queue").join(msg_path(id));
        std::fs::remove_file(&file).map_err(|e| Error::io(&file, e))?;
        crate::mox::bbolt_write::update_file(&path, &store.to_bucket())?;
    }
    Ok((single, queue_records(&store, &path)?))
}

fn queue_records(store: &StoreData, path: &Path) -> Result<Vec<QueueReport>> {
    let td = store.type_data("Msg")?;
    let mut out = Vec::new();
    for (pk, v) in &td.records {
        let r =
            decode_record(&td.schema, pk, v).map_err(|e| Error::corrupt(path, e.to_string()))?;
        let id = r.int("ID");
        let domain = |f: &str| r.str(f).to_string();
        out.push(QueueReport {
            id,
            base_id: r.int("BaseID"),
            sender: format!("{}@{}", r.str("SenderLocalpart"), domain("SenderDomainStr")),
            recipient: format!(
                "{}@{}",
                r.str("RecipientLocalpart"),
                domain("RecipientDomainStr")
            ),
            size: r.int("Size"),
            msg_prefix: match r.get("MsgPrefix") {
                Some(Value::Bytes(b)) => b.len(),
                _ => 0,
            },
            path: format!("queue/{}", msg_path(id)),
        });
    }
    Ok(out)
}

/// Junk filter training after a night: word scores go up (some words are new) and the bloom
/// filter gets bits set, written over the file in place as mox writes it. Returns whether the
/// account has a junk filter.
fn train_junk_filter(rng: &mut Rng, dir: &Path, messages: usize) -> Result<bool> {
    let db = dir.join("junkfilter.db");
    let bloom = dir.join("junkfilter.bloom");
    if !db.is_file() || messages == 0 {
        return Ok(false);
    }
    let mut store = StoreData::from_bucket(&BoltBucket::read_file(&db)?)?;
    let td = store.type_mut("wordscore")?;
    let words: Vec<Vec<u8>> = td.records.keys().cloned().collect();
    for _ in 0..messages * 10 {
        let pk = if words.is_empty() || rng.chance(0.2) {
            format!("{}{}", rng.token(6), rng.below(100))
                .to_lowercase()
                .into_bytes()
        } else {
            rng.pick(&words).clone()
        };
        let mut r = match td.get(&pk)? {
            Some(r) => r,
            None => crate::mox::bstore_encode::Record::new()
                .with("Word", Value::Str(String::from_utf8_lossy(&pk).to_string())),
        };
        let ham = r.int("Ham") as u64 + 1;
        r.set("Ham", Value::Uint(ham));
        td.insert(&r)?;
    }
    crate::mox::bbolt_write::update_file(&db, &store.to_bucket())?;
    let mut bits = std::fs::read(&bloom).unwrap_or_default();
    if !bits.is_empty() {
        for _ in 0..messages * 30 {
            let bit = rng.below(bits.len() as u64 * 8) as usize;
            bits[bit / 8] |= 1 << (bit % 8);
        }
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&bloom)
            .map_err(|e| Error::io(&bloom, e))?;
        f.write_all(&bits).map_err(|e| Error::io(&bloom, e))?;
    }
    Ok(true)
}
