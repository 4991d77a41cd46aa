//! Generated mox data directories at any scale, and the "night" that changes one.
//!
//! [`generate`] writes `<out>/config` (mox.conf, domains.conf) and `<out>/data` the way a mox
//! v0.0.17 installation has them: account databases (every type of the account schema, taken
//! verbatim from real databases), message files (hardlinked when one SMTP delivery reached
//! several accounts), junk filter files, the queue with a few held messages, the global
//! databases. Every invariant `mox verifydata` checks holds. [`mutate`] applies a night of mail
//! to such a directory, moving modseqs exactly as mox moves them.
//!
//! Both are deterministic for a given seed, and both return a report of exactly what they wrote.

mod account;
mod content;
mod mutate;
mod table;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};

use serde::Serialize;

use self::account::{Account, FileSource, NewMessage, write_db, write_file};
use self::content::{Header, Person, Pools, Rng};
use super::bstore_encode::{GoTime, Record, StoreData, Value};
use crate::mox::message_path as msg_path;
use crate::{Error, Result};

pub use self::mutate::{AccountNight, MailboxChange, MutateOptions, MutateReport, mutate};

pub(crate) const SCHEMA_ACCOUNT: &str = include_str!("schema/account.tsv");
const SCHEMA_QUEUE: &str = include_str!("schema/queue.tsv");
const SCHEMA_JUNK: &str = include_str!("schema/junkfilter.tsv");
/// The global databases and their schemas.
const GLOBAL_DBS: [(&str, &str); 6] = [
    ("auth.db", include_str!("schema/auth.tsv")),
    ("dmarcrpt.db", include_str!("schema/dmarcrpt.tsv")),
    ("dmarceval.db", include_str!("schema/dmarceval.tsv")),
    ("mtasts.db", include_str!("schema/mtasts.tsv")),
    ("tlsrpt.db", include_str!("schema/tlsrpt.tsv")),
    ("tlsrptresult.db", include_str!("schema/tlsrptresult.tsv")),
];

/// The mail domain of every generated account.
pub const DOMAIN: &str = "example.org";
/// Size of `junkfilter.bloom` (mox's default).
pub const BLOOM_SIZE: usize = 4 << 20;
/// 2024-01-01T00:00:00Z: generated histories start here.
const HISTORY_START: i64 = 1_704_067_200;
/// Length of a generated history.
const HISTORY_SECONDS: i64 = 700 * 86_400;

/// What to generate.
#[derive(Debug, Clone, Serialize)]
pub struct GenOptions {
    /// Number of accounts (`user01`, `user02`, …).
    pub accounts: usize,
    /// Live messages per account at the end of the history.
    pub messages: usize,
    pub seed: u64,
    /// Percentage of each account's messages that arrived in one SMTP delivery to several
    /// accounts (one file, hardlinked).
    pub shared_percent: f64,
    /// Percentage of messages with a base64 attachment (the size tail).
    pub attachment_percent: f64,
    /// Largest attachment, in bytes (attachments are log-uniform from 40 KB up to this).
    pub max_attachment: u64,
    /// Number of held messages in the outgoing queue (the last one has two recipients).
    pub queue: usize,
    /// Every n-th account (the first included) has a junk filter; 0 for none.
    pub junk_every: usize,
    /// Whether the report lists every message record and every file (false for large runs:
    /// the lists stay empty, the per-mailbox counts and the totals are there).
    pub detailed_report: bool,
}

impl Default for GenOptions {
    fn default() -> GenOptions {
        GenOptions {
            accounts: 3,
            messages: 100,
            seed: 1,
            shared_percent: 10.0,
            attachment_percent: 1.5,
            max_attachment: 5 << 20,
            queue: 4,
            junk_every: 3,
            detailed_report: true,
        }
    }
}

/// What a generation wrote.
#[derive(Debug, Clone, Serialize)]
pub struct GenReport {
    pub options: GenOptions,
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
    pub accounts: Vec<AccountReport>,
    pub queue: Vec<QueueReport>,
    /// Every file under the data directory (empty without `detailed_report`).
    pub files: Vec<FileReport>,
    pub totals: Totals,
}

/// One account's state.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AccountReport {
    pub name: String,
    pub last_modseq: i64,
    pub next_uid_validity: u32,
    pub disk_usage: i64,
    /// The `Message/records` bucket sequence: the last assigned message id.
    pub message_sequence: u64,
    pub live_messages: u64,
    /// Message records, tombstones included.
    pub message_records: u64,
    pub mailboxes: Vec<MailboxReport>,
    /// Every message record (empty without `detailed_report`).
    pub messages: Vec<MessageReport>,
}

/// One mailbox record, and what its messages add up to.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MailboxReport {
    pub id: i64,
    pub name: String,
    pub parent_id: i64,
    pub expunged: bool,
    pub create_seq: i64,
    pub mod_seq: i64,
    pub uid_validity: u32,
    pub uid_next: u32,
    pub special_use: Vec<String>,
    pub keywords: Vec<String>,
    pub total: i64,
    pub deleted: i64,
    pub unread: i64,
    pub unseen: i64,
    pub size: i64,
    /// Live messages in the mailbox.
    pub messages: u64,
    /// Expunged message records (tombstones) in the mailbox.
    pub tombstones: u64,
    /// Highest ModSeq of any message record in the mailbox (tombstones included).
    pub max_message_modseq: Option<i64>,
}

/// One message record.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MessageReport {
    pub id: i64,
    pub mailbox_id: i64,
    pub uid: u32,
    pub mod_seq: i64,
    pub create_seq: i64,
    pub expunged: bool,
    pub size: i64,
    /// Length of MsgPrefix.
    pub msg_prefix: usize,
    pub flags: Vec<String>,
    pub keywords: Vec<String>,
    pub thread_id: i64,
    /// File path relative to the account directory (`msg/a/1`); None for tombstones.
    pub path: Option<String>,
}

/// Message flag fields and their IMAP names (system flags, then `$` keywords).
pub const FLAGS: [(&str, &str); 10] = [
    ("Seen", "\\Seen"),
    ("Answered", "\\Answered"),
    ("Flagged", "\\Flagged"),
    ("Deleted", "\\Deleted"),
    ("Draft", "\\Draft"),
    ("Forwarded", "$Forwarded"),
    ("Junk", "$Junk"),
    ("Notjunk", "$NotJunk"),
    ("Phishing", "$Phishing"),
    ("MDNSent", "$MDNSent"),
];

impl MessageReport {
    fn from_record(r: &Record) -> MessageReport {
        let id = r.int("ID");
        let expunged = r.bool("Expunged");
        MessageReport {
            id,
            mailbox_id: r.int("MailboxID"),
            uid: r.int("UID") as u32,
            mod_seq: r.int("ModSeq"),
            create_seq: r.int("CreateSeq"),
            expunged,
            size: r.int("Size"),
            msg_prefix: match r.get("MsgPrefix") {
                Some(Value::Bytes(b)) => b.len(),
                _ => 0,
            },
            flags: FLAGS
                .iter()
                .filter(|(f, _)| r.bool(f))
                .map(|(_, n)| n.to_string())
                .collect(),
            keywords: r.strings("Keywords"),
            thread_id: r.int("ThreadID"),
            path: (!expunged).then(|| format!("msg/{}", msg_path(id))),
        }
    }
}

/// One queued message.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct QueueReport {
    pub id: i64,
    pub base_id: i64,
    pub sender: String,
    pub recipient: String,
    pub size: i64,
    pub msg_prefix: usize,
    /// Relative to the data directory (`queue/a/1`).
    pub path: String,
}

/// One file under the data directory.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FileReport {
    /// Relative to the data directory, `/`-separated.
    pub path: String,
    pub size: u64,
    pub nlink: u64,
}

/// Sums over the whole generated directory.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Totals {
    pub accounts: u64,
    pub mailboxes: u64,
    pub live_messages: u64,
    pub message_records: u64,
    /// Message file paths under `accounts/*/msg/`.
    pub message_files: u64,
    /// Distinct message files (hardlinks counted once).
    pub distinct_message_files: u64,
    /// Bytes of message files, each path counted.
    pub message_bytes: u64,
    /// Bytes of distinct message files.
    pub distinct_message_bytes: u64,
    /// Bytes of all `.db` files.
    pub database_bytes: u64,
    /// Bytes on disk of everything under the data directory (hardlinks counted once).
    pub data_bytes: u64,
    pub files: u64,
}

pub(crate) fn io_err(path: &Path, e: std::io::Error) -> Error {
    Error::io(path, e)
}

/// Creates a directory and its parents with mode 0770, as mox does.
pub(crate) fn mkdirs(path: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o770)
        .create(path)
        .map_err(|e| io_err(path, e))
}

fn account_name(i: usize, n: usize) -> String {
    let width = n.to_string().len().max(2);
    format!("user{:0width$}", i + 1)
}

/// A multi-recipient delivery: which accounts get it, when, and the seed of its content.
struct SharedPlan {
    seed: u64,
    time: i64,
    /// The file, once the first recipient has it.
    first_path: Option<PathBuf>,
}

/// Everything a delivery needs to build its message.
struct Draft<'a> {
    kind: BoxKind,
    account: &'a str,
    time: i64,
    parent: Option<&'a ThreadInfo>,
    /// Whether the message came in over SMTP (has a MsgPrefix).
    smtp: bool,
    /// One delivery to several accounts: the file must not depend on the account.
    shared: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BoxKind {
    Inbox,
    Archive,
    Drafts,
    Junk,
    Sent,
    Trash,
    List,
    Folder,
}

#[derive(Debug, Clone)]
struct ThreadInfo {
    id: i64,
    thread_id: i64,
    parents: Vec<i64>,
    subject: String,
    message_id: String,
}

/// Builds the record and file of one message. `content_seed` fixes the file bytes (the same
/// seed gives the same file, for deliveries shared by several accounts).
fn make_message(
    rng: &mut Rng,
    pools: &Pools,
    opts_attach: (f64, u64),
    d: &Draft<'_>,
    content_seed: u64,
) -> (NewMessage, ThreadInfo) {
    // The file is a function of the content seed only.
    let mut c = Rng::new(content_seed);
    let mut from = Person::random(&mut c);
    let rcpt_local = if d.shared { "team" } else { d.account };
    let mut to = Person {
        name: rcpt_local.to_string(),
        local: rcpt_local.to_string(),
        domain: DOMAIN.to_string(),
    };
    if matches!(d.kind, BoxKind::Sent | BoxKind::Drafts) {
        std::mem::swap(&mut from, &mut to);
    }
    let (subject, in_reply_to) = match d.parent {
        Some(p) => (
            format!("Re: {}", p.subject.trim_start_matches("Re: ")),
            Some(p.message_id.as_str()),
        ),
        None => (content::subject(&mut c), None),
    };
    let message_id = format!("{}.{}@{}", c.hex(20), c.below(100_000), from.domain);
    let text_len = c.log_uniform(600, 30_000) as usize;
    let attach = if c.chance(opts_attach.0 / 100.0) {
        c.log_uniform(40_000, opts_attach.1.max(40_001)) as usize
    } else {
        0
    };
    let date = d.time - 10 - c.below(600) as i64;
    let header = Header {
        from: &from,
        to: &to,
        subject: &subject,
        date,
        message_id: &message_id,
        in_reply_to,
    };
    let built = content::build_message(&mut c, pools, &header, text_len, attach);

    let rcpt = format!("{}@{DOMAIN}", d.account);
    let prefix = if d.smtp {
        content::smtp_prefix(rng, &rcpt, &from, d.time)
    } else {
        Vec::new()
    };
    let received = GoTime::utc(d.time, rng.below(1_000_000_000) as u32);
    let save = GoTime::utc(
        d.time,
        received.nanos.saturating_add(5_000_000).min(999_999_999),
    );
    let mut r = Record::new()
        .with("Received", Value::Time(received))
        .with("SaveDate", Value::Ptr(Box::new(Value::Time(save))));
    if d.smtp {
        for (f, v) in [
            ("RemoteIP", "192.0.2.25"),
            ("RemoteIPMasked1", "192.0.2.25"),
            ("RemoteIPMasked2", "192.0.2.0"),
            ("RemoteIPMasked3", "192.0.0.0"),
        ] {
            r.set(f, Value::Str(v.to_string()));
        }
        r.set("EHLODomain", Value::Str(format!("relay.{}", from.domain)));
        r.set("MailFrom", Value::Str(from.addr()));
        r.set("MailFromLocalpart", Value::Str(from.local.clone()));
        r.set("MailFromDomain", Value::Str(from.domain.clone()));
        r.set("RcptToLocalpart", Value::Str(d.account.to_string()));
        r.set("RcptToDomain", Value::Str(DOMAIN.to_string()));
        r.set("MailFromValidation", Value::Uint(10));
        r.set("MsgFromValidation", Value::Uint(10));
        r.set("ReceivedTLSVersion", Value::Uint(772));
        r.set("ReceivedTLSCipherSuite", Value::Uint(4865));
        r.set("MsgPrefix", Value::Bytes(prefix.clone()));
    }
    r.set("MsgFromLocalpart", Value::Str(from.local.clone()));
    r.set("MsgFromDomain", Value::Str(from.domain.clone()));
    r.set("MsgFromOrgDomain", Value::Str(from.domain.clone()));
    r.set("MessageID", Value::Str(message_id.to_lowercase()));
    r.set(
        "SubjectBase",
        Value::Str(subject.trim_start_matches("Re: ").to_lowercase()),
    );
    let (thread_id, parents) = match d.parent {
        Some(p) => {
            let mut ids = vec![p.id];
            ids.extend_from_slice(&p.parents);
            (p.thread_id, ids)
        }
        None => (0, Vec::new()),
    };
    if thread_id != 0 {
        r.set("ThreadID", Value::Int(thread_id));
        r.set(
            "ThreadParentIDs",
            Value::List(parents.iter().map(|i| Value::Int(*i)).collect()),
        );
    }
    // Flags and keywords.
    let seen_p = match d.kind {
        BoxKind::Sent | BoxKind::Drafts | BoxKind::Archive | BoxKind::Folder => 1.0,
        BoxKind::Junk => 0.1,
        _ => 0.75,
    };
    let seen = rng.chance(seen_p);
    r.set("Seen", Value::Bool(seen));
    r.set("Answered", Value::Bool(seen && rng.chance(0.1)));
    r.set("Flagged", Value::Bool(rng.chance(0.04)));
    r.set("Forwarded", Value::Bool(rng.chance(0.02)));
    r.set("Junk", Value::Bool(d.kind == BoxKind::Junk));
    r.set("Draft", Value::Bool(d.kind == BoxKind::Drafts));
    if rng.chance(0.05) {
        let kw = *rng.pick(&["$label1", "$label2", "project", "todo"]);
        r.set("Keywords", Value::List(vec![Value::Str(kw.to_string())]));
    }
    if rng.chance(0.5) {
        let text = pools_preview(&built.file[built.body_offset..]);
        r.set("Preview", Value::Ptr(Box::new(Value::Str(text))));
    }
    r.set(
        "ParsedBuf",
        Value::Bytes(content::parsed_buf(&built, &header, prefix.len())),
    );
    let info = ThreadInfo {
        id: 0,
        thread_id,
        parents,
        subject,
        message_id,
    };
    (
        NewMessage {
            record: r,
            file: FileSource::Bytes(built.file),
            prefix_len: prefix.len(),
        },
        info,
    )
}

/// A preview like mox's: the first words of the text, one line.
fn pools_preview(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(&body[..body.len().min(400)]);
    let mut p: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if p.len() > 256 {
        let mut cut = 256;
        while !p.is_char_boundary(cut) {
            cut -= 1;
        }
        p.truncate(cut);
    }
    p
}

/// Writes a generated installation to `out` (`out/config`, `out/data`; both must not exist
/// or be empty) and reports what it wrote.
pub fn generate(opts: &GenOptions, out: &Path) -> Result<GenReport> {
    if opts.accounts == 0 {
        return Err(Error::Invalid("generate: at least one account".into()));
    }
    let config_dir = out.join("config");
    let data_dir = out.join("data");
    for d in [&config_dir, &data_dir] {
        if d.exists()
            && std::fs::read_dir(d)
                .map_err(|e| io_err(d, e))?
                .next()
                .is_some()
        {
            return Err(Error::Invalid(format!(
                "{}: exists and is not empty",
                d.display()
            )));
        }
        mkdirs(d)?;
    }
    let mut rng = Rng::new(opts.seed);
    let pools = Pools::new(&mut rng);
    let names: Vec<String> = (0..opts.accounts)
        .map(|i| account_name(i, opts.accounts))
        .collect();

    // Multi-recipient deliveries, planned up front so every recipient agrees on them.
    let mut shared: Vec<SharedPlan> = Vec::new();
    let mut shared_of: Vec<Vec<usize>> = vec![Vec::new(); opts.accounts];
    if opts.accounts > 1 && opts.shared_percent > 0.0 {
        let per_account = (opts.messages as f64 * opts.shared_percent / 100.0).round() as usize;
        let avg_k = ((opts.accounts.min(4) + 2) as f64) / 2.0;
        let n = ((per_account * opts.accounts) as f64 / avg_k).round() as usize;
        for i in 0..n {
            let k = 2 + rng.below((opts.accounts.min(4) - 1) as u64) as usize;
            let mut recipients: Vec<usize> = Vec::new();
            while recipients.len() < k {
                let a = rng.below(opts.accounts as u64) as usize;
                if !recipients.contains(&a) && shared_of[a].len() < per_account {
                    recipients.push(a);
                } else if (0..opts.accounts)
                    .all(|a| recipients.contains(&a) || shared_of[a].len() >= per_account)
                {
                    break;
                }
            }
            if recipients.len() < 2 {
                break;
            }
            recipients.sort_unstable();
            for &a in &recipients {
                shared_of[a].push(i);
            }
            shared.push(SharedPlan {
                seed: rng.next_u64(),
                time: HISTORY_START + (i as i64 * HISTORY_SECONDS) / n.max(1) as i64,
                first_path: None,
            });
        }
    }

    let mut accounts = Vec::with_capacity(opts.accounts);
    for (ai, name) in names.iter().enumerate() {
        let mut arng = Rng::new(opts.seed ^ (0x9e37_79b9 * (ai as u64 + 1)));
        let dir = data_dir.join("accounts").join(name);
        let report = generate_account(
            opts,
            &mut arng,
            &pools,
            name,
            &dir,
            &mut shared,
            &shared_of[ai],
        )?;
        if opts.junk_every > 0 && ai % opts.junk_every == 0 {
            write_junk_filter(&mut arng, &dir)?;
        }
        accounts.push(report);
    }

    let queue = write_queue(&mut rng, &pools, &data_dir, &names, opts.queue)?;
    for (file, schema) in GLOBAL_DBS {
        let store = StoreData::from_schema_lines(schema)?;
        write_db(&data_dir.join(file), &store.to_bucket(), 3)?;
    }
    let key: Vec<u8> = (0..3).flat_map(|_| rng.next_u64().to_le_bytes()).collect();
    write_file(&data_dir.join("receivedid.key"), &key, 0o640)?;
    mkdirs(&data_dir.join("tmp"))?;
    write_config(&config_dir, &names)?;

    let files = if opts.detailed_report {
        list_files(&data_dir)?
    } else {
        Vec::new()
    };
    let totals = totals(&accounts, &data_dir)?;
    Ok(GenReport {
        options: opts.clone(),
        config_dir,
        data_dir,
        accounts,
        queue,
        files,
        totals,
    })
}

const EXTRA_MAILBOXES: [(&str, BoxKind); 5] = [
    ("Lists/golang", BoxKind::List),
    ("Archive/2024", BoxKind::Folder),
    ("Lists/rust", BoxKind::List),
    ("Projects/2025", BoxKind::Folder),
    ("Lists/announce/security", BoxKind::List),
];

fn generate_account(
    opts: &GenOptions,
    rng: &mut Rng,
    pools: &Pools,
    name: &str,
    dir: &Path,
    shared: &mut [SharedPlan],
    my_shared: &[usize],
) -> Result<AccountReport> {
    let mut acc = Account::create(name, dir, 100_000_000 + rng.below(800_000_000) as u32)?;
    // Two to five extra mailboxes, nested ones included.
    let extra = 2 + rng.below(4) as usize;
    let mut boxes: Vec<(i64, BoxKind)> = vec![
        (1, BoxKind::Inbox),
        (2, BoxKind::Archive),
        (3, BoxKind::Drafts),
        (4, BoxKind::Junk),
        (5, BoxKind::Sent),
        (6, BoxKind::Trash),
    ];
    for (mname, kind) in EXTRA_MAILBOXES.iter().take(extra) {
        let id = acc.create_mailbox(mname);
        boxes.push((id, *kind));
    }
    let weights: Vec<u64> = boxes
        .iter()
        .map(|(_, k)| match k {
            BoxKind::Inbox => 45,
            BoxKind::Archive => 14,
            BoxKind::Sent => 12,
            BoxKind::Junk => 3,
            BoxKind::Drafts => 1,
            BoxKind::Trash => 4,
            BoxKind::List => 9,
            BoxKind::Folder => 6,
        })
        .collect();
    let wsum: u64 = weights.iter().sum();

    // Exactly `messages` stay live: `expunge_total` more are delivered and expunged later.
    let expunge_total = opts.messages / 50;
    let own = opts.messages + expunge_total - my_shared.len().min(opts.messages);
    let deliveries = own + my_shared.len().min(opts.messages);
    // Own deliveries are spread over the history; shared ones come at their planned time.
    let mut timeline: Vec<(i64, Option<usize>)> = (0..own)
        .map(|i| {
            (
                HISTORY_START + (i as i64 * HISTORY_SECONDS) / own.max(1) as i64,
                None,
            )
        })
        .chain(
            my_shared
                .iter()
                .take(opts.messages)
                .map(|&s| (shared[s].time, Some(s))),
        )
        .collect();
    timeline.sort_by_key(|(t, s)| (*t, s.is_some()));
    let moves_total = opts.messages / 100;
    let mut expunged = 0usize;
    let mut moved = 0usize;
    // Replies go to one of the last 40 messages.
    let mut threads: VecDeque<ThreadInfo> = VecDeque::with_capacity(41);
    let mut last_time = HISTORY_START;

    for (i, (time, shared_idx)) in timeline.into_iter().enumerate() {
        let time = match shared_idx {
            Some(_) => time,
            None => time + rng.below(3_000) as i64,
        };
        last_time = last_time.max(time);
        let (mailbox_id, kind) = match shared_idx {
            Some(_) => (1, BoxKind::Inbox),
            None => {
                let mut x = rng.below(wsum);
                let mut pick = boxes[0];
                for (b, w) in boxes.iter().zip(&weights) {
                    if x < *w {
                        pick = *b;
                        break;
                    }
                    x -= w;
                }
                pick
            }
        };
        let parent = if shared_idx.is_none() && !threads.is_empty() && rng.chance(0.3) {
            let back = rng.below(threads.len().min(40) as u64) as usize;
            Some(threads[threads.len() - 1 - back].clone())
        } else {
            None
        };
        let smtp = match kind {
            BoxKind::Inbox | BoxKind::Junk | BoxKind::List => true,
            BoxKind::Sent | BoxKind::Drafts => false,
            _ => rng.chance(0.5),
        };
        let draft = Draft {
            kind,
            account: name,
            time,
            parent: parent.as_ref(),
            smtp: smtp || shared_idx.is_some(),
            shared: shared_idx.is_some(),
        };
        let content_seed = match shared_idx {
            Some(s) => shared[s].seed,
            None => rng.next_u64(),
        };
        let (mut msg, mut info) = make_message(
            rng,
            pools,
            (opts.attachment_percent, opts.max_attachment),
            &draft,
            content_seed,
        );
        // Later recipients of a shared delivery link the first copy (unless that one was
        // expunged since; then this copy becomes the one to link).
        let first_copy = shared_idx
            .and_then(|s| shared[s].first_path.clone())
            .filter(|p| p.exists());
        let linked = first_copy.is_some();
        if let Some(p) = first_copy {
            msg.file = FileSource::Link(p);
        }
        let id = acc.deliver(mailbox_id, msg)?;
        match shared_idx {
            Some(s) if !linked => shared[s].first_path = Some(acc.message_file(id)),
            _ => {}
        }
        if kind == BoxKind::Sent {
            let to = Person::random(rng);
            acc.insert_with_next_id(
                "Recipient",
                Record::new()
                    .with("MessageID", Value::Int(id))
                    .with("Localpart", Value::Str(to.local.clone()))
                    .with("Domain", Value::Str(to.domain.clone()))
                    .with("OrgDomain", Value::Str(to.domain.clone()))
                    .with("Sent", Value::Time(GoTime::utc(time, 0))),
            )?;
        }
        info.id = id;
        if info.thread_id == 0 {
            info.thread_id = id;
        }
        threads.push_back(info);
        if threads.len() > 40 {
            threads.pop_front();
        }

        // Between deliveries: flag changes, expunges and moves, spread over the history.
        let progress = (i + 1) as f64 / deliveries as f64;
        if rng.chance(0.03) {
            flag_batch(rng, &mut acc, &boxes)?;
        }
        while (expunged as f64) < expunge_total as f64 * progress.powi(2) {
            let cands: Vec<(i64, BoxKind)> = boxes
                .iter()
                .copied()
                .filter(|(_, k)| {
                    matches!(
                        k,
                        BoxKind::Inbox | BoxKind::Junk | BoxKind::Trash | BoxKind::List
                    )
                })
                .collect();
            let (b, _) = *rng.pick(&cands);
            let live = acc.live_count(b);
            if live == 0 {
                break;
            }
            let n = (1 + rng.below(3) as usize)
                .min(live)
                .min(expunge_total - expunged);
            let ids: Vec<i64> = acc.pick_live(rng, b, n);
            acc.expunge(b, &ids)?;
            expunged += ids.len();
        }
        while (moved as f64) < moves_total as f64 * progress {
            let live = acc.live_count(1);
            if live == 0 {
                break;
            }
            let n = (1 + rng.below(4) as usize)
                .min(live)
                .min(moves_total - moved);
            let ids = acc.pick_live(rng, 1, n);
            acc.move_messages(1, 2, &ids, GoTime::utc(time + 60, 0))?;
            moved += ids.len();
        }
    }
    // Anything left to expunge (when the early mailboxes were empty).
    while expunged < expunge_total {
        if acc.live_count(1) == 0 {
            break;
        }
        let ids = acc.pick_live(rng, 1, 1);
        acc.expunge(1, &ids)?;
        expunged += 1;
    }
    acc.finish()?;
    acc.report(opts.detailed_report)
}

/// One IMAP STORE: a few messages of one mailbox change flags or keywords.
fn flag_batch(rng: &mut Rng, acc: &mut Account, boxes: &[(i64, BoxKind)]) -> Result<Option<i64>> {
    let (b, _) = *rng.pick(boxes);
    let live = acc.live_count(b);
    if live == 0 {
        return Ok(None);
    }
    let n = (1 + rng.below(20) as usize).min(live);
    let ids = acc.pick_live(rng, b, n);
    let what = rng.below(4);
    acc.store_flags(b, &ids, |r| match what {
        0 => {
            let seen = r.bool("Seen");
            r.set("Seen", Value::Bool(!seen));
        }
        1 => {
            r.set("Flagged", Value::Bool(true));
        }
        2 => {
            r.set("Answered", Value::Bool(true));
            r.set("Seen", Value::Bool(true));
        }
        _ => {
            let mut kw = r.strings("Keywords");
            if !kw.iter().any(|k| k == "$label2") {
                kw.push("$label2".to_string());
            }
            r.set(
                "Keywords",
                Value::List(kw.into_iter().map(Value::Str).collect()),
            );
        }
    })
    .map(Some)
}

/// `n` distinct items of `from`, in their original order.
fn pick_n(rng: &mut Rng, from: &[i64], n: usize) -> Vec<i64> {
    pick_indices(rng, from.len(), n)
        .into_iter()
        .map(|i| from[i])
        .collect()
}

/// `n` distinct indices below `len`, ascending: the first `n` of a partial Fisher-Yates
/// shuffle of `0..len`, with only the swapped positions in memory.
fn pick_indices(rng: &mut Rng, len: usize, n: usize) -> Vec<usize> {
    let mut moved: HashMap<usize, usize> = HashMap::new();
    for i in 0..n.min(len) {
        let j = i + rng.below((len - i) as u64) as usize;
        let vi = moved.get(&i).copied().unwrap_or(i);
        let vj = moved.get(&j).copied().unwrap_or(j);
        moved.insert(i, vj);
        moved.insert(j, vi);
    }
    let mut chosen: Vec<usize> = (0..n.min(len))
        .map(|i| moved.get(&i).copied().unwrap_or(i))
        .collect();
    chosen.sort_unstable();
    chosen
}

fn write_junk_filter(rng: &mut Rng, dir: &Path) -> Result<()> {
    let mut store = StoreData::from_schema_lines(SCHEMA_JUNK)?;
    let mut words: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for _ in 0..600 {
        let len = 3 + rng.below(6) as usize;
        let w = format!("{}{}", rng.token(len), rng.below(100));
        words.insert(w.to_lowercase(), (rng.below(40), rng.below(40)));
    }
    for (w, (ham, spam)) in words {
        store.insert(
            "wordscore",
            &Record::new()
                .with("Word", Value::Str(w))
                .with("Ham", Value::Uint(ham))
                .with("Spam", Value::Uint(spam)),
        )?;
    }
    write_db(&dir.join("junkfilter.db"), &store.to_bucket(), 5)?;
    let bloom: Vec<u8> = (0..BLOOM_SIZE / 8)
        .flat_map(|_| (rng.next_u64() & rng.next_u64()).to_le_bytes())
        .collect();
    write_file(&dir.join("junkfilter.bloom"), &bloom, 0o644)
}

fn write_queue(
    rng: &mut Rng,
    pools: &Pools,
    data_dir: &Path,
    names: &[String],
    count: usize,
) -> Result<Vec<QueueReport>> {
    let mut store = StoreData::from_schema_lines(SCHEMA_QUEUE)?;
    let mut out = Vec::new();
    let qdir = data_dir.join("queue");
    mkdirs(&qdir)?;
    // Hold everything: a real mox started on this directory sends nothing.
    store.insert("HoldRule", &Record::new().with("ID", Value::Int(1)))?;
    let mut id = 0i64;
    for i in 0..count {
        let sender = &names[i % names.len()];
        let rcpts: Vec<Person> = (0..if i + 1 == count && count > 1 { 2 } else { 1 })
            .map(|_| Person::random(rng))
            .collect();
        let from = Person {
            name: sender.clone(),
            local: sender.clone(),
            domain: DOMAIN.to_string(),
        };
        let subject = content::subject(rng);
        let message_id = format!("{}.{}@{DOMAIN}", rng.hex(20), rng.below(100_000));
        let now = HISTORY_START + HISTORY_SECONDS + i as i64 * 60;
        let header = Header {
            from: &from,
            to: &rcpts[0],
            subject: &subject,
            date: now,
            message_id: &message_id,
            in_reply_to: None,
        };
        let built = content::build_message(rng, pools, &header, 2_000, 0);
        let prefix = format!(
            "Received: from submission by mail.example.org via tcp with ESMTPSA id\r\n\t{}\r\n\t{}\r\nAuthentication-Results: mail.example.org;\r\n\tauth=pass smtp.mailfrom={sender}@{DOMAIN}\r\n",
            rng.token(22),
            content::rfc5322_date(now)
        )
        .into_bytes();
        let base_id = id + 1;
        let mut first: Option<PathBuf> = None;
        for rcpt in &rcpts {
            id += 1;
            let rel = format!("queue/{}", msg_path(id));
            let path = data_dir.join(&rel);
            if let Some(p) = path.parent() {
                mkdirs(p)?;
            }
            match &first {
                None => {
                    write_file(&path, &built.file, 0o660)?;
                    first = Some(path.clone());
                }
                Some(src) => std::fs::hard_link(src, &path).map_err(|e| io_err(&path, e))?,
            }
            let t = GoTime::utc(now, rng.below(1_000_000_000) as u32);
            let domain = |d: &str| {
                Value::Struct(Record::new().with(
                    "Domain",
                    Value::Struct(Record::new().with("ASCII", Value::Str(d.to_string()))),
                ))
            };
            let size = (prefix.len() + built.file.len()) as i64;
            store.insert(
                "Msg",
                &Record::new()
                    .with("ID", Value::Int(id))
                    .with("BaseID", Value::Int(base_id))
                    .with("Queued", Value::Time(t))
                    .with("Hold", Value::Bool(true))
                    .with("SenderAccount", Value::Str(sender.clone()))
                    .with("SenderLocalpart", Value::Str(sender.clone()))
                    .with("SenderDomain", domain(DOMAIN))
                    .with("SenderDomainStr", Value::Str(DOMAIN.to_string()))
                    .with("RecipientLocalpart", Value::Str(rcpt.local.clone()))
                    .with("RecipientDomain", domain(&rcpt.domain))
                    .with("RecipientDomainStr", Value::Str(rcpt.domain.clone()))
                    .with("NextAttempt", Value::Time(t))
                    .with("Size", Value::Int(size))
                    .with("MessageID", Value::Str(format!("<{message_id}>")))
                    .with("MsgPrefix", Value::Bytes(prefix.clone()))
                    .with("Subject", Value::Str(subject.clone())),
            )?;
            out.push(QueueReport {
                id,
                base_id,
                sender: format!("{sender}@{DOMAIN}"),
                recipient: rcpt.addr(),
                size,
                msg_prefix: prefix.len(),
                path: rel,
            });
        }
    }
    write_db(&qdir.join("index.db"), &store.to_bucket(), 7)?;
    Ok(out)
}

fn write_config(config_dir: &Path, names: &[String]) -> Result<()> {
    let conf = "DataDir: ../data\nLogLevel: info\nHostname: mail.example.org\nUser: mox\n\
Listeners:\n\tinternal:\n\t\tIPs:\n\t\t\t- 127.0.0.1\n\t\tSMTP:\n\t\t\tEnabled: true\n\t\t\tPort: 1025\n\t\tIMAP:\n\t\t\tEnabled: true\n\t\t\tPort: 1143\n\t\t\tNoRequireSTARTTLS: true\n";
    write_file(&config_dir.join("mox.conf"), conf.as_bytes(), 0o640)?;
    let mut d = format!("Domains:\n\t{DOMAIN}:\n\t\tLocalpartCatchallSeparator: +\nAccounts:\n");
    for n in names {
        d.push_str(&format!(
            "\t{n}:\n\t\tDomain: {DOMAIN}\n\t\tDestinations:\n\t\t\t{n}@{DOMAIN}: nil\n\t\tRejectsMailbox: Rejects\n"
        ));
    }
    write_file(&config_dir.join("domains.conf"), d.as_bytes(), 0o640)
}

/// Every file under `data_dir`, sorted by path.
pub(crate) fn list_files(data_dir: &Path) -> Result<Vec<FileReport>> {
    use std::os::unix::fs::MetadataExt;
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(data_dir).sort_by_file_name() {
        let e = e.map_err(|e| {
            let path = e.path().unwrap_or(data_dir).to_path_buf();
            Error::io(path, std::io::Error::other(e.to_string()))
        })?;
        if !e.file_type().is_file() {
            continue;
        }
        let md = e
            .metadata()
            .map_err(|err| Error::io(e.path(), std::io::Error::other(err.to_string())))?;
        let rel = e.path().strip_prefix(data_dir).unwrap_or(e.path());
        out.push(FileReport {
            path: rel.to_string_lossy().replace('\\', "/"),
            size: md.len(),
            nlink: md.nlink(),
        });
    }
    Ok(out)
}

fn totals(accounts: &[AccountReport], data_dir: &Path) -> Result<Totals> {
    use std::os::unix::fs::MetadataExt;
    let mut t = Totals {
        accounts: accounts.len() as u64,
        ..Totals::default()
    };
    for a in accounts {
        t.mailboxes += a.mailboxes.len() as u64;
        t.live_messages += a.live_messages;
        t.message_records += a.message_records;
    }
    // Files with more than one link are counted once (the only inodes remembered).
    let mut linked: HashSet<(u64, u64)> = HashSet::new();
    let mut msg_linked: HashSet<(u64, u64)> = HashSet::new();
    for e in walkdir::WalkDir::new(data_dir) {
        let e = e.map_err(|e| {
            let path = e.path().unwrap_or(data_dir).to_path_buf();
            Error::io(path, std::io::Error::other(e.to_string()))
        })?;
        if !e.file_type().is_file() {
            continue;
        }
        let md = e
            .metadata()
            .map_err(|err| Error::io(e.path(), std::io::Error::other(err.to_string())))?;
        let rel = e.path().strip_prefix(data_dir).unwrap_or(e.path());
        let rel = rel.to_string_lossy();
        let size = md.len();
        let ino = (md.dev(), md.ino());
        t.files += 1;
        if md.nlink() < 2 || linked.insert(ino) {
            t.data_bytes += size;
        }
        if rel.starts_with("accounts/") && rel.contains("/msg/") {
            t.message_files += 1;
            t.message_bytes += size;
            if md.nlink() < 2 || msg_linked.insert(ino) {
                t.distinct_message_files += 1;
                t.distinct_message_bytes += size;
            }
        }
        if rel.ends_with(".db") {
            t.database_bytes += size;
        }
    }
    Ok(t)
}
