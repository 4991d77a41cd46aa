//! Exports read back the way `mox import mbox|maildir` reads them: every flag and keyword of
//! every message comes back, whatever status lines the message file itself carries.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::process::Command;

use common::{Installation, sha256_hex};
use mailvault::mox::bbolt_write::{BoltBucket, update_file};
use mailvault::mox::bstore_encode::{Record, StoreData, Value};
use mailvault::{
    Collect, Event, ExportFormat, ExportOptions, ExportSummary, MoxBackupOptions, NoProgress,
    Repository, UnexportedKeywords, backup_mox, export,
};

/// Flags and keywords of a message as mox holds them: `\Seen`-style system flags, the `$`
/// keywords mox keeps as flags, and other keywords.
type Flags = BTreeSet<String>;

/// One imported message: mailbox, SHA-256 of its content, flags and keywords.
type Imported = (String, String, Flags);

/// The `$` keywords mox turns into flags of its message record, by their IMAP names.
const MOX_FLAG_KEYWORDS: [&str; 5] = ["$Forwarded", "$Junk", "$NotJunk", "$Phishing", "$MDNSent"];

/// A keyword as mox records it: its flag's IMAP name when it is one of mox's flags.
fn keyword(kw: &str) -> String {
    MOX_FLAG_KEYWORDS
        .iter()
        .find(|k| k.eq_ignore_ascii_case(kw))
        .map_or_else(|| kw.to_string(), |k| k.to_string())
}

/// The live messages of `account` in a fixture's ground truth, sorted.
fn truth_messages(state: &str, account: &str) -> Vec<Imported> {
    let truth = common::truth(state);
    let account = truth["Accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["Name"] == account)
        .unwrap();
    let mut out: Vec<Imported> = account["Messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["Expunged"] == false)
        .map(|m| {
            let flags = ["Flags", "Keywords"]
                .iter()
                .flat_map(|key| m[key].as_array().into_iter().flatten())
                .map(|f| f.as_str().unwrap().to_string())
                .collect();
            (
                m["Mailbox"].as_str().unwrap().to_string(),
                m["FullSHA256"].as_str().unwrap().to_string(),
                flags,
            )
        })
        .collect();
    out.sort();
    out
}

/// The header fields of a message (before the first empty line), continuation lines unfolded.
fn header_fields(message: &[u8]) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in message.split_inclusive(|&b| b == b'\n') {
        if line == b"\n" || line == b"\r\n" {
            break;
        }
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.starts_with([' ', '\t']) {
            if let Some(last) = fields.last_mut() {
                last.1.push_str(text);
            }
        } else if let Some((name, value)) = text.split_once(':') {
            fields.push((name.trim_end().to_string(), value.to_string()));
        }
    }
    fields
}

/// Flags as mox's mbox import reads them: every `Status` and `X-Status` field merged (R, A, F,
/// T, D; O ignored), keywords from every `X-Keywords` field (comma or space separated).
fn mbox_flags(message: &[u8]) -> Flags {
    let mut flags = Flags::new();
    for (name, value) in header_fields(message) {
        match name.to_ascii_lowercase().as_str() {
            "status" | "x-status" => {
                for c in value.chars() {
                    let flag = match c {
                        'R' => "\\Seen",
                        'A' => "\\Answered",
                        'F' => "\\Flagged",
                        'T' => "\\Draft",
                        'D' => "\\Deleted",
                        _ => continue,
                    };
                    flags.insert(flag.to_string());
                }
            }
            "x-keywords" => {
                for kw in value.split([',', ' ', '\t']).filter(|k| !k.is_empty()) {
                    flags.insert(keyword(kw));
                }
            }
            _ => {}
        }
    }
    flags
}

/// The messages of an mbox file as mox's reader splits them: at `From ` lines, mboxrd quoting
/// undone, without the empty line that ends each message in the file.
fn mbox_messages(data: &[u8]) -> Vec<Vec<u8>> {
    let mut messages: Vec<Vec<u8>> = Vec::new();
    for line in data.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"From ") {
            messages.push(Vec::new());
            continue;
        }
        let current = messages
            .last_mut()
            .expect("an mbox starts with a From line");
        let gts = line.iter().take_while(|&&b| b == b'>').count();
        match gts > 0 && line[gts..].starts_with(b"From ") {
            true => current.extend_from_slice(&line[1..]),
            false => current.extend_from_slice(line),
        }
    }
    for m in &mut messages {
        assert_eq!(
            m.pop(),
            Some(b'\n'),
            "a message not followed by an empty line"
        );
    }
    messages
}

/// Whether a header line is one of the flag fields the export writes.
fn is_flag_line(line: &[u8]) -> bool {
    let lower = line.to_ascii_lowercase();
    [&b"status:"[..], b"x-status:", b"x-keywords:"]
        .iter()
        .any(|p| lower.starts_with(p))
}

/// Splits an exported mbox message into the flag lines the export put first and the rest.
fn split_flag_lines(message: &[u8]) -> (Vec<&[u8]>, &[u8]) {
    let mut lines = Vec::new();
    let mut rest = message;
    while is_flag_line(rest) {
        let end = rest.iter().position(|&b| b == b'\n').unwrap() + 1;
        lines.push(&rest[..end]);
        rest = &rest[end..];
    }
    (lines, rest)
}

/// Reads every `<mailbox>.mbox` below `root` as mox's mbox import does. The content hash is
/// of the message without the flag lines the export puts first; each message must carry
/// exactly one `Status` line, at most one `X-Status` and one `X-Keywords`, all of them first.
fn import_mboxes(root: &Path) -> Vec<Imported> {
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(root) {
        let e = e.unwrap();
        if !e.file_type().is_file() {
            continue;
        }
        let rel = e.path().strip_prefix(root).unwrap().to_str().unwrap();
        let mailbox = rel.strip_suffix(".mbox").expect("only .mbox files");
        for message in mbox_messages(&fs::read(e.path()).unwrap()) {
            let (ours, rest) = split_flag_lines(&message);
            let count = |p: &[u8]| ours.iter().filter(|l| l.starts_with(p)).count();
            assert_eq!(count(b"Status: "), 1, "{mailbox}: {ours:?}");
            assert!(count(b"X-Status: ") <= 1 && count(b"X-Keywords: ") <= 1);
            let stale: Vec<_> = header_fields(rest)
                .into_iter()
                .filter(|(n, _)| {
                    ["status", "x-status", "x-keywords", "content-length"]
                        .contains(&n.to_ascii_lowercase().as_str())
                })
                .collect();
            assert!(stale.is_empty(), "{mailbox}: left in the header: {stale:?}");
            out.push((mailbox.to_string(), sha256_hex(rest), mbox_flags(&message)));
        }
    }
    out.sort();
    out
}

/// Reads every maildir below `root` as mox's maildir import does: info letters S R F T D, and
/// `a`-`z` through the maildir's `dovecot-keywords`; any other letter (`P`) is ignored.
fn import_maildirs(root: &Path) -> Vec<Imported> {
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(root) {
        let e = e.unwrap();
        let parent = e.path().parent().unwrap();
        let sub = parent.file_name().unwrap();
        if !e.file_type().is_file() || (sub != "cur" && sub != "new") {
            continue;
        }
        let maildir = parent.parent().unwrap();
        let mailbox = maildir.strip_prefix(root).unwrap().to_str().unwrap();
        let mut keywords = BTreeMap::new();
        if let Ok(text) = fs::read_to_string(maildir.join("dovecot-keywords")) {
            for line in text.lines() {
                let (n, kw) = line.split_once(' ').unwrap();
                keywords.insert(n.parse::<u8>().unwrap(), kw.to_string());
            }
        }
        let name = e.file_name().to_str().unwrap();
        let (_, info) = name.split_once(":2,").expect("maildir info");
        let mut flags = Flags::new();
        for c in info.chars() {
            let flag = match c {
                'S' => "\\Seen".to_string(),
                'R' => "\\Answered".to_string(),
                'F' => "\\Flagged".to_string(),
                'T' => "\\Deleted".to_string(),
                'D' => "\\Draft".to_string(),
                'a'..='z' => keyword(&keywords[&(c as u8 - b'a')]),
                _ => continue,
            };
            flags.insert(flag);
        }
        let sha = sha256_hex(&fs::read(e.path()).unwrap());
        out.push((mailbox.to_string(), sha, flags));
    }
    out.sort();
    out
}

/// Asserts two sorted message lists are equal, naming the first messages that differ.
fn assert_same(got: &[Imported], want: &[Imported], what: &str) {
    let only = |a: &[Imported], b: &[Imported]| -> Vec<Imported> {
        a.iter()
            .filter(|m| !b.contains(m))
            .take(5)
            .cloned()
            .collect()
    };
    assert!(
        got == want,
        "{what}: {} messages read back, {} in the truth\nread back only: {:#?}\ntruth only: {:#?}",
        got.len(),
        want.len(),
        only(got, want),
        only(want, got)
    );
}

/// A repository holding one backup of `inst`.
fn backed_up(inst: &Installation) -> (tempfile::TempDir, Repository, mailvault::Snapshot) {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(&dir.path().join("repo")).unwrap();
    let summary = backup_mox(&repo, &inst.root, &MoxBackupOptions::default(), &NoProgress).unwrap();
    assert!(summary.complete);
    let snap = repo.load_snapshot(&summary.snapshot).unwrap();
    (dir, repo, snap)
}

fn export_to(
    repo: &Repository,
    snap: &mailvault::Snapshot,
    account: &str,
    format: ExportFormat,
    target: &Path,
    progress: &dyn mailvault::Progress,
) -> ExportSummary {
    let opts = ExportOptions {
        account: account.to_string(),
        mailboxes: Vec::new(),
        format,
    };
    export(repo, snap, &opts, target, progress).unwrap()
}

#[test]
fn every_flag_and_keyword_comes_back_from_mbox_and_maildir() {
    for state in ["small-state1", "small-state2"] {
        let inst = Installation::new(state);
        let (_dir, repo, snap) = backed_up(&inst);
        let mut seen = Flags::new();
        for account in ["alice", "bob", "carol"] {
            let want = truth_messages(state, account);
            seen.extend(want.iter().flat_map(|m| m.2.iter().cloned()));
            let out = tempfile::tempdir().unwrap();
            for (format, name) in [
                (ExportFormat::Mbox, "mbox"),
                (ExportFormat::Maildir, "maildir"),
            ] {
                let target = out.path().join(name);
                let summary = export_to(&repo, &snap, account, format, &target, &NoProgress);
                assert!(summary.unexported_keywords.is_empty());
                let got = match format {
                    ExportFormat::Mbox => import_mboxes(&target),
                    ExportFormat::Maildir => import_maildirs(&target),
                };
                assert_same(&got, &want, &format!("{state} {account} {name}"));
            }
        }
        // The fixtures hold what this is about: mox's `$` flags, keywords, system flags.
        let mut expect = vec!["$Forwarded", "$Junk", "$NotJunk", "project"];
        expect.extend(["\\Seen", "\\Answered", "\\Draft", "\\Flagged"]);
        if state == "small-state2" {
            // A `$` keyword that is not one of mox's flags.
            expect.push("$label2");
        }
        for f in expect {
            assert!(seen.contains(f), "{state}: no message has {f}");
        }
    }
}

/// Changes the `Message` records of an account database for which `edit` returns true.
fn edit_messages(db: &Path, mut edit: impl FnMut(&mut Record) -> bool) {
    let mut store = StoreData::from_bucket(&BoltBucket::read_file(db).unwrap()).unwrap();
    let td = store.type_mut("Message").unwrap();
    let keys: Vec<Vec<u8>> = td.records.keys().cloned().collect();
    for pk in keys {
        let mut r = td.get(&pk).unwrap().unwrap();
        if edit(&mut r) {
            td.insert(&r).unwrap();
        }
    }
    update_file(db, &store.to_bucket()).unwrap();
}

/// Sets exactly `flags` (IMAP names) and `keywords` on a message record.
fn set_flags(r: &mut Record, flags: &[&str], keywords: &[&str]) {
    for (field, name) in [
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
    ] {
        r.set(field, Value::Bool(flags.contains(&name)));
    }
    r.set(
        "Keywords",
        Value::List(keywords.iter().map(|k| Value::Str(k.to_string())).collect()),
    );
}

fn set_of(items: &[&str]) -> Flags {
    items.iter().map(|s| s.to_string()).collect()
}

/// A message that once went through an mbox import keeps its `Status: RO`, `X-Status: A` and
/// `X-Keywords` lines; its record says unread. The mbox export must drop those header lines
/// (mox merges all of them) and leave the same text in the body alone.
#[test]
fn stale_status_lines_in_a_message_file_do_not_come_back() {
    let inst = Installation::new("small-state1");
    let truth = common::truth("small-state1");
    let alice = common::truth_account(&truth, "alice");
    // An Inbox message with a MsgPrefix: its header starts in the prefix.
    let m = alice["Messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["Expunged"] == false && m["Mailbox"] == "Inbox" && m["MsgPrefix"] != 0)
        .unwrap();
    let id = m["ID"].as_i64().unwrap();
    let prefix_len = m["MsgPrefix"].as_u64().unwrap() as usize;
    let account = inst.data().join("accounts/alice");
    let path = account.join(m["Path"].as_str().unwrap());

    let original = fs::read(&path).unwrap();
    let split = original.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 2;
    let (header, body) = original.split_at(split);
    let body_lines: &[u8] =
        b"Status: RO\r\nX-Status: A\r\nX-Keywords: foo\r\nContent-Length: 7\r\n";
    // What the export must keep: the header without the stale fields, the body with its text.
    let mut kept = header.to_vec();
    kept.extend_from_slice(b"\r\n");
    kept.extend_from_slice(body_lines);
    kept.extend_from_slice(&body[2..]);
    let mut stale = b"Status: RO\r\nX-Status: A\r\n".to_vec();
    stale.extend_from_slice(header);
    stale.extend_from_slice(b"X-Keywords: foo,\r\n\tbar\r\ncontent-length : 7\r\nstatus:R\r\n");
    stale.extend_from_slice(&kept[header.len()..]);
    // A new file (the old one may be hardlinked to another account's message).
    fs::remove_file(&path).unwrap();
    fs::write(&path, &stale).unwrap();
    edit_messages(&account.join("index.db"), |r| {
        if r.int("ID") != id {
            return false;
        }
        set_flags(r, &["$Forwarded", "$NotJunk"], &["$label1"]);
        r.set("Size", Value::Int((prefix_len + stale.len()) as i64));
        true
    });
    let want = set_of(&["$Forwarded", "$NotJunk", "$label1"]);

    let (_dir, repo, snap) = backed_up(&inst);
    let out = tempfile::tempdir().unwrap();
    let opts = ExportOptions {
        account: "alice".into(),
        mailboxes: vec!["Inbox".into()],
        format: ExportFormat::Mbox,
    };
    export(&repo, &snap, &opts, &out.path().join("mbox"), &NoProgress).unwrap();
    let mbox = fs::read(out.path().join("mbox/Inbox.mbox")).unwrap();
    let ours: Vec<Vec<u8>> = mbox_messages(&mbox)
        .into_iter()
        .filter(|msg| msg.ends_with(&kept))
        .collect();
    assert_eq!(ours.len(), 1, "the crafted message, once");
    let message = &ours[0];
    let (lines, rest) = split_flag_lines(message);
    // Exactly the export's lines, right for the record: unread, no X-Status, the keywords.
    assert_eq!(lines[0], b"Status: O\r\n");
    assert_eq!(lines.len(), 2, "{lines:?}");
    let listed = String::from_utf8(lines[1].to_vec()).unwrap();
    let listed: Flags = listed
        .strip_prefix("X-Keywords: ")
        .unwrap()
        .trim_end()
        .split(',')
        .map(str::to_string)
        .collect();
    assert_eq!(listed, want);
    // Then the MsgPrefix (which with the original file makes the truth's message), then the
    // file with its stale header fields gone and its body byte for byte.
    assert_eq!(rest.len(), prefix_len + kept.len());
    let mut full = rest[..prefix_len].to_vec();
    full.extend_from_slice(&original);
    assert_eq!(sha256_hex(&full), m["FullSHA256"].as_str().unwrap());
    assert_eq!(&rest[prefix_len..], &kept[..]);
    // What mox's import reads from it: the record's flags, no `\Seen`, no `\Answered`, no `foo`.
    assert_eq!(mbox_flags(message), want);

    // The maildir keeps the file exactly, flags in the name.
    let opts = ExportOptions {
        format: ExportFormat::Maildir,
        ..opts
    };
    export(
        &repo,
        &snap,
        &opts,
        &out.path().join("maildir"),
        &NoProgress,
    )
    .unwrap();
    let mut served = rest[..prefix_len].to_vec();
    served.extend_from_slice(&stale);
    let sha = sha256_hex(&served);
    let got: Vec<Imported> = import_maildirs(&out.path().join("maildir"))
        .into_iter()
        .filter(|m| m.1 == sha)
        .collect();
    assert_eq!(got, [("Inbox".to_string(), sha, want)]);
}

/// A maildir has 26 keyword letters: keywords beyond them, and a keyword no format can hold,
/// are reported per message (a problem event, the summary, exit code 3), never dropped silently.
#[test]
fn keywords_that_cannot_be_exported_are_named() {
    let inst = Installation::new("small-state1");
    let truth = truth_messages("small-state1", "alice");
    let mailbox = "Lists/golang";
    let account = inst.data().join("accounts/alice");
    // Three messages of the mailbox: A has 30 keywords, B 25 of them, C one with a comma;
    // every message of the mailbox has `common` and nothing else.
    let mailbox_id = common::truth("small-state1")["Accounts"][0]["Mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["Name"] == mailbox)
        .unwrap()["ID"]
        .as_i64()
        .unwrap();
    let mut ids = Vec::new();
    edit_messages(&account.join("index.db"), |r| {
        if !r.bool("Expunged") && r.int("MailboxID") == mailbox_id {
            ids.push(r.int("ID"));
        }
        false
    });
    assert_eq!(ids.len(), 15);
    let many: Vec<String> = (1..=30).map(|i| format!("kw{i:02}")).collect();
    let (a, b, c) = (ids[3], ids[7], ids[11]);
    edit_messages(&account.join("index.db"), |r| {
        let id = r.int("ID");
        if !ids.contains(&id) {
            return false;
        }
        let mut keywords = vec!["common"];
        if id == a {
            keywords.extend(many.iter().map(String::as_str));
        } else if id == b {
            keywords.extend(many[..25].iter().map(String::as_str));
        } else if id == c {
            keywords.push("a,b");
        }
        set_flags(r, &["\\Seen"], &keywords);
        true
    });
    let (_dir, repo, snap) = backed_up(&inst);
    let out = tempfile::tempdir().unwrap();
    let others: Vec<Imported> = truth.into_iter().filter(|m| m.0 != mailbox).collect();

    let problems = |events: &Collect| -> Vec<String> {
        let events = events.0.lock().unwrap();
        events
            .iter()
            .filter_map(|e| match e {
                Event::Problem { message, .. } => Some(message.clone()),
                _ => None,
            })
            .collect()
    };
    let lost = |id: i64, keywords: &[String]| UnexportedKeywords {
        mailbox: mailbox.to_string(),
        message_id: id,
        keywords: keywords.to_vec(),
    };
    for (format, name) in [
        (ExportFormat::Maildir, "maildir"),
        (ExportFormat::Mbox, "mbox"),
    ] {
        let events = Collect::default();
        let target = out.path().join(name);
        let summary = export_to(&repo, &snap, "alice", format, &target, &events);
        let (got, golang): (Vec<Imported>, Vec<Imported>) = match format {
            ExportFormat::Maildir => import_maildirs(&target),
            ExportFormat::Mbox => import_mboxes(&target),
        }
        .into_iter()
        .partition(|m| m.0 != mailbox);
        // The other mailboxes are untouched.
        assert_same(&got, &others, name);
        assert_eq!(golang.len(), 15);
        // What comes back per message, by the sets of keywords: A (both formats differ), B, C,
        // and twelve with `common` only.
        let mut a_kw: Vec<&str> = vec!["\\Seen", "common"];
        let mut unexported = Vec::new();
        match format {
            // kw01-kw25 and `common` are on two messages or more: they get the 26 letters.
            ExportFormat::Maildir => {
                a_kw.extend(many[..25].iter().map(String::as_str));
                unexported.push(lost(a, &many[25..]));
            }
            ExportFormat::Mbox => a_kw.extend(many.iter().map(String::as_str)),
        }
        unexported.push(lost(c, &["a,b".to_string()]));
        let mut b_kw: Vec<&str> = vec!["\\Seen", "common"];
        b_kw.extend(many[..25].iter().map(String::as_str));
        let mut want: Vec<Flags> = vec![set_of(&a_kw), set_of(&b_kw)];
        want.extend((0..13).map(|_| set_of(&["\\Seen", "common"])));
        want.sort();
        let mut flags: Vec<Flags> = golang.into_iter().map(|m| m.2).collect();
        flags.sort();
        assert_eq!(flags, want, "{name}");

        let mut reported = summary.unexported_keywords.clone();
        reported.sort_by_key(|u| u.message_id);
        unexported.sort_by_key(|u| u.message_id);
        assert_eq!(reported, unexported, "{name}");
        let problems = problems(&events);
        assert_eq!(problems.len(), unexported.len(), "{problems:?}");
        for (p, u) in problems.iter().zip(&summary.unexported_keywords) {
            assert!(
                p.contains(mailbox)
                    && p.contains(&format!("message {}", u.message_id))
                    && u.keywords.iter().all(|k| p.contains(k.as_str())),
                "{p}"
            );
        }
    }

    // The command line names them and exits 3; --json lists them in the summary.
    let o = Command::new(env!("CARGO_BIN_EXE_mailvault"))
        .env_remove("MAILVAULT_REPO")
        .arg("--repo")
        .arg(repo.path())
        .args(["--json", "export", "latest", "--account", "alice"])
        .args(["--format", "maildir", "--output"])
        .arg(out.path().join("cli"))
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let stdout = String::from_utf8(o.stdout).unwrap();
    let summary: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let listed: BTreeSet<i64> = summary["unexported_keywords"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["message_id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, BTreeSet::from([a, c]), "{summary}");
    assert!(
        stdout.contains("\"problem\"") && stdout.contains(&format!("message {c}")),
        "{stdout}"
    );
}
