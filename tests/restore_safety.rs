//! Restore and export with damaged blobs and hostile snapshots: restores go on past what cannot
//! be read and list it; nothing is ever written (or deleted) outside the target; files are
//! never more readable than they were; owners and modes of message files and directories come
//! back. Hostile snapshots are crafted through the library's public API.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use common::Installation;
use mailvault::{
    AccountManifest, AccountRef, BlobId, BlobKind, Entry, EntryKind, Event, ExportFormat,
    ExportOptions, MailboxEntry, MessageEntry, MessageList, MoxBackupOptions, MoxRestoreSelection,
    NoProgress, Progress, Repository, RestoreOptions, Snapshot, SourceKind, Tree, backup_mox,
    export, restore_mox,
};

fn is_root() -> bool {
    fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

fn dir(path: &str, mode: u32) -> Entry {
    Entry {
        path: path.into(),
        kind: EntryKind::Dir,
        mode,
        ..Default::default()
    }
}

/// Messages of a crafted account: (id, content).
type Messages<'a> = &'a [(i64, &'a [u8])];
/// Encodes a message list in place of `MessageList::encode`.
type ListBytes = dyn Fn(&MessageList) -> Vec<u8>;

/// Commits a mox snapshot with `tree` and, per account, one mailbox `Inbox` holding messages
/// (id, content) of mode 0640. `list_bytes` replaces the encoded message list when given.
fn craft(
    repo: &Repository,
    mut tree: Tree,
    accounts: &[(&str, Messages<'_>)],
    list_bytes: Option<&ListBytes>,
) -> Snapshot {
    let mut refs = Vec::new();
    for (name, messages) in accounts {
        let mut entries = Vec::new();
        for (id, content) in *messages {
            let blob = repo.put_blob(BlobKind::Data, content).unwrap().id;
            entries.push(MessageEntry {
                id: *id,
                uid: *id as u32,
                modseq: 2,
                size: content.len() as u64,
                file_size: content.len() as u64,
                blob,
                mode: 0o640,
                mtime_ns: 1_700_000_000_000_000_000,
                owner: None,
                chunked: false,
            });
        }
        let list = MessageList {
            mailbox_id: 1,
            messages: entries,
        };
        let bytes = match list_bytes {
            Some(f) => f(&list),
            None => list.encode(),
        };
        let list_id = repo.put_blob(BlobKind::Manifest, &bytes).unwrap().id;
        let manifest = AccountManifest {
            account: name.to_string(),
            last_modseq: 2,
            highest_deleted_modseq: -1,
            message_sequence: messages.len() as u64,
            mailboxes: vec![MailboxEntry {
                id: 1,
                name: "Inbox".into(),
                parent_id: 0,
                expunged: false,
                modseq: 2,
                uidvalidity: 1,
                uidnext: messages.len() as u32 + 1,
                messages: messages.len() as u64,
                size: messages.iter().map(|(_, c)| c.len() as u64).sum(),
                complete: true,
                list: list_id,
            }],
        };
        let manifest = repo
            .put_blob(BlobKind::Manifest, &manifest.encode())
            .unwrap()
            .id;
        refs.push(AccountRef {
            name: name.to_string(),
            manifest,
        });
    }
    tree.sort();
    let snapshot = Snapshot {
        time_ns: 1_700_000_000_000_000_000,
        host: "crafted".into(),
        source: "/nowhere".into(),
        tool_version: "0".into(),
        kind: SourceKind::Mox,
        parent: None,
        tree: tree.store(repo).unwrap(),
        accounts: refs,
        complete: true,
        problems: Vec::new(),
        warnings: Vec::new(),
        stats: BTreeMap::new(),
        tags: Vec::new(),
        original: None,
    };
    let id = repo.commit_snapshot(&snapshot).unwrap();
    repo.load_snapshot(&id).unwrap()
}

fn restore(
    repo: &Repository,
    snap: &Snapshot,
    target: &Path,
    overwrite: bool,
) -> mailvault::Result<mailvault::RestoreStats> {
    restore_mox(
        repo,
        snap,
        target,
        &MoxRestoreSelection::default(),
        &RestoreOptions {
            overwrite,
            ..Default::default()
        },
        &NoProgress,
    )
}

/// Every path below `root`, relative.
fn listing(root: &Path) -> Vec<String> {
    walkdir::WalkDir::new(root)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter()
        .map(|e| {
            e.unwrap()
                .path()
                .strip_prefix(root)
                .unwrap()
                .display()
                .to_string()
        })
        .collect()
}

/// Item 5: a damaged chunk of one file and a damaged message blob leave every other file and
/// message restored; both are named (the message by account, mailbox and id); exit code 3.
#[test]
fn restore_goes_on_past_bad_blobs_and_names_every_failed_path() {
    let inst = Installation::new("small-state1");
    let work = tempfile::tempdir().unwrap();
    let repo_path = work.path().join("repo");
    let repo = Repository::init(&repo_path).unwrap();
    let opts = MoxBackupOptions {
        link: false,
        ..Default::default()
    };
    let s = backup_mox(&repo, &inst.root, &opts, &NoProgress).unwrap();
    let snap = repo.load_snapshot(&s.snapshot).unwrap();
    let tree = Tree::load(&repo, &snap.tree).unwrap();

    // A chunk only junkfilter.bloom uses, and a message blob only one message uses.
    let mut uses: HashMap<BlobId, usize> = HashMap::new();
    for e in &tree.entries {
        for c in &e.chunks {
            *uses.entry(*c).or_default() += 1;
        }
    }
    let alice = snap.accounts.iter().find(|a| a.name == "alice").unwrap();
    let manifest = mailvault::load_manifest(&repo, alice).unwrap();
    let mut owners: HashMap<BlobId, Vec<(String, i64)>> = HashMap::new();
    for a in &snap.accounts {
        for mb in &mailvault::load_manifest(&repo, a).unwrap().mailboxes {
            for m in mailvault::load_list(&repo, &mb.list).unwrap().messages {
                owners
                    .entry(m.blob)
                    .or_default()
                    .push((mb.name.clone(), m.id));
            }
        }
    }
    let bloom = tree
        .entries
        .iter()
        .find(|e| e.path == "data/accounts/alice/junkfilter.bloom")
        .unwrap();
    let chunk = *bloom.chunks.iter().find(|c| uses[c] == 1).unwrap();
    let inbox = manifest.mailbox_by_name("Inbox").unwrap();
    let lost = mailvault::load_list(&repo, &inbox.list)
        .unwrap()
        .messages
        .into_iter()
        .find(|m| owners[&m.blob].len() == 1)
        .unwrap();
    // Flip a byte in the payload of each (a pack entry: 32-byte id, 23-byte header, payload;
    // docs/format.md; the chunk's entry is the group of the bloom filter's pages).
    for id in [chunk, lost.blob] {
        let (pack, offset, len) = repo.blob_entry(&id).unwrap();
        let mut bytes = fs::read(&pack).unwrap();
        bytes[(offset + 55 + (len - 55) / 2) as usize] ^= 0x55;
        fs::write(&pack, bytes).unwrap();
    }
    drop(repo);

    let target = work.path().join("restored");
    let out = Command::new(env!("CARGO_BIN_EXE_mailvault"))
        .arg("--repo")
        .arg(&repo_path)
        .args(["--json", "restore", "latest", "--target"])
        .arg(&target)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary = lines.last().unwrap();
    let failed = summary["failed"].as_array().unwrap();
    let lost_path = format!(
        "data/accounts/alice/msg/{}",
        mailvault::mox::message_path(lost.id)
    );
    let failed_paths: Vec<&str> = failed.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(
        failed_paths,
        ["data/accounts/alice/junkfilter.bloom", lost_path.as_str()],
        "{summary}"
    );
    assert_eq!(failed[0]["message"], serde_json::Value::Null);
    assert_eq!(
        failed[1]["message"],
        serde_json::json!({"account": "alice", "mailbox": "Inbox", "id": lost.id})
    );
    assert!(
        failed[1]["error"]
            .as_str()
            .unwrap()
            .contains(&lost.blob.to_hex())
    );
    // Each failure was also a problem event naming the path.
    let problems = lines.iter().filter(|l| l["type"] == "problem").count();
    assert_eq!(problems, 2);

    // Everything else is there, byte for byte.
    let mut want = common::file_contents(&inst.root);
    want.remove("data/accounts/alice/junkfilter.bloom");
    want.remove(&lost_path);
    let got = common::file_contents(&target);
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>()
    );
    assert!(want == got, "restored files differ");
}

fn top_level(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Item 6: account names from a snapshot never become paths outside the target.
#[test]
fn hostile_account_names_are_refused_before_anything_is_written() {
    let work = tempfile::tempdir().unwrap();
    let repo = Repository::init(&work.path().join("repo")).unwrap();
    let target = work.path().join("a/b/target");
    let abs = work.path().join("abs");
    for name in [
        "../../x",
        "../../../../../x",
        abs.to_str().unwrap(),
        "..",
        "",
    ] {
        let snap = craft(
            &repo,
            Tree {
                entries: vec![dir("data", 0o755)],
            },
            &[("fine", &[(1, b"ok\r\n")]), (name, &[(1, b"evil\r\n")])],
            None,
        );
        let err = restore(&repo, &snap, &target, false).unwrap_err();
        assert!(err.to_string().contains("refusing"), "{name:?}: {err}");
        assert!(
            !work.path().join("a").exists(),
            "{name:?}: the target was written"
        );
        assert_eq!(top_level(work.path()), ["repo"], "{name:?}");
        // Export does not make a path of the account name; mailbox names are checked there.
        let out = work.path().join("export");
        let _ = export(
            &repo,
            &snap,
            &ExportOptions {
                account: name.into(),
                mailboxes: Vec::new(),
                format: ExportFormat::Maildir,
            },
            &out,
            &NoProgress,
        );
        let _ = fs::remove_dir_all(&out);
        assert_eq!(top_level(work.path()), ["repo"], "{name:?}");
    }
}

/// Item 6: a symlink in the snapshot's tree where a message directory belongs
/// (`data/accounts/A/msg/a -> outside`) never receives message files.
#[test]
fn a_tree_symlink_never_redirects_message_files() {
    let work = tempfile::tempdir().unwrap();
    let repo = Repository::init(&work.path().join("repo")).unwrap();
    let outside = work.path().join("outside");
    fs::create_dir(&outside).unwrap();
    let mut tree = Tree {
        entries: vec![
            dir("data", 0o755),
            dir("data/accounts", 0o750),
            dir("data/accounts/A", 0o750),
            dir("data/accounts/A/msg", 0o750),
        ],
    };
    let mut link = Entry {
        path: "data/accounts/A/msg/a".into(),
        kind: EntryKind::Symlink,
        mode: 0o777,
        ..Default::default()
    };
    link.set_fs_target(&outside);
    tree.entries.push(link.clone());
    // The same through a symlinked account directory.
    link.path = "data/accounts/B".into();
    tree.entries.push(link);
    let snap = craft(
        &repo,
        tree,
        &[
            ("A", &[(1, b"one\r\n"), (2, b"two\r\n")]),
            ("B", &[(3, b"three\r\n")]),
        ],
        None,
    );
    let target = work.path().join("target");
    let stats = restore(&repo, &snap, &target, false).unwrap();
    assert!(listing(&outside).is_empty(), "{:?}", listing(&outside));
    // The messages are in real directories of the target; the symlinks that would have
    // replaced them are listed as not restored.
    assert_eq!(
        fs::read(target.join("data/accounts/A/msg/a/1")).unwrap(),
        b"one\r\n"
    );
    assert_eq!(
        fs::read(target.join("data/accounts/B/msg/a/3")).unwrap(),
        b"three\r\n"
    );
    assert!(
        fs::symlink_metadata(target.join("data/accounts/A/msg/a"))
            .unwrap()
            .is_dir()
    );
    let failed: Vec<&str> = stats.failed.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(failed, ["data/accounts/A/msg/a", "data/accounts/B"]);
}

/// Item 6: `--overwrite` into a target holding a symlink to elsewhere replaces the symlink and
/// never deletes or writes what it points to.
#[test]
fn overwrite_never_deletes_or_writes_outside_the_target() {
    let work = tempfile::tempdir().unwrap();
    let repo = Repository::init(&work.path().join("repo")).unwrap();
    let outside = work.path().join("outside");
    let precious = outside.join("accounts/A/msg/a/1");
    fs::create_dir_all(precious.parent().unwrap()).unwrap();
    fs::write(&precious, b"precious").unwrap();
    fs::write(outside.join("index.db"), b"precious too").unwrap();
    let mut index = Entry {
        path: "data/index.db".into(),
        kind: EntryKind::File,
        mode: 0o640,
        size: 3,
        chunks: vec![repo.put_blob(BlobKind::Data, b"new").unwrap().id],
        ..Default::default()
    };
    index.mtime_ns = 1_700_000_000_000_000_000;
    let snap = craft(
        &repo,
        Tree {
            entries: vec![dir("data", 0o755), index],
        },
        &[("A", &[(1, b"restored\r\n")])],
        None,
    );
    for via in ["data", "data/accounts"] {
        let target = work.path().join(format!("target-{}", via.len()));
        fs::create_dir_all(target.join(via).parent().unwrap()).unwrap();
        let link_to = if via == "data" {
            outside.clone()
        } else {
            outside.join("accounts")
        };
        std::os::unix::fs::symlink(&link_to, target.join(via)).unwrap();
        // Without --overwrite: refused, nothing changes.
        assert!(restore(&repo, &snap, &target, false).is_err());
        let stats = restore(&repo, &snap, &target, true).unwrap();
        assert!(stats.complete(), "{:?}", stats.failed);
        assert_eq!(fs::read(&precious).unwrap(), b"precious", "{via}");
        assert_eq!(fs::read(outside.join("index.db")).unwrap(), b"precious too");
        assert_eq!(listing(&outside).len(), 6, "{:?}", listing(&outside));
        assert!(fs::symlink_metadata(target.join(via)).unwrap().is_dir());
        assert_eq!(
            fs::read(target.join("data/accounts/A/msg/a/1")).unwrap(),
            b"restored\r\n"
        );
    }
}

/// Item 6: an account name in domains.conf that would lead out of the data directory is a
/// problem of the backup, named; its files are never read.
#[test]
fn hostile_account_in_domains_conf_is_a_problem_and_never_read() {
    let inst = Installation::new("small-state1");
    let conf = inst.root.join("config/domains.conf");
    let text = fs::read_to_string(&conf).unwrap();
    let text = text.replace(
        "Accounts:\n",
        "Accounts:\n\t../../evil:\n\t\tDomain: example.org\n",
    );
    fs::write(&conf, text).unwrap();
    // What the name points at, outside the data directory: an account's worth of files.
    let evil = inst.root.join("data/accounts/../../evil");
    fs::create_dir_all(evil.join("msg/a")).unwrap();
    fs::copy(
        inst.root.join("data/accounts/bob/index.db"),
        evil.join("index.db"),
    )
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let repo = Repository::init(&work.path().join("repo")).unwrap();
    let s = backup_mox(&repo, &inst.root, &MoxBackupOptions::default(), &NoProgress).unwrap();
    assert!(!s.complete);
    assert_eq!(s.problems.len(), 1, "{:?}", s.problems);
    assert!(
        s.problems[0].message.contains("../../evil"),
        "{:?}",
        s.problems
    );
    let snap = repo.load_snapshot(&s.snapshot).unwrap();
    let names: Vec<&str> = snap.accounts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["alice", "bob", "carol"]);
    let tree = Tree::load(&repo, &snap.tree).unwrap();
    assert!(!tree.entries.iter().any(|e| e.path.contains("evil")));
}

/// Item 8: export writes mail no more readable than the message files (0660 here, narrowed by
/// the umask, never 0644), in 0700 directories; mailbox names cannot leave the output.
#[test]
fn export_is_as_private_as_the_messages() {
    let inst = Installation::new("small-state1");
    let work = tempfile::tempdir().unwrap();
    let repo = Repository::init(&work.path().join("repo")).unwrap();
    let s = backup_mox(&repo, &inst.root, &MoxBackupOptions::default(), &NoProgress).unwrap();
    let snap = repo.load_snapshot(&s.snapshot).unwrap();
    for format in [ExportFormat::Maildir, ExportFormat::Mbox] {
        let out = work.path().join(format!("{format:?}"));
        let summary = export(
            &repo,
            &snap,
            &ExportOptions {
                account: "alice".into(),
                mailboxes: Vec::new(),
                format,
            },
            &out,
            &NoProgress,
        )
        .unwrap();
        assert!(summary.messages > 0);
        let mut files = 0;
        for e in walkdir::WalkDir::new(&out) {
            let e = e.unwrap();
            let mode = e.metadata().unwrap().mode() & 0o7777;
            if e.file_type().is_dir() {
                assert_eq!(mode, 0o700, "{}", e.path().display());
            } else {
                files += 1;
                assert_eq!(mode & !0o660, 0, "{}: {mode:o}", e.path().display());
            }
        }
        assert!(files > 0);
    }
    // A crafted mailbox name that would leave the output is refused.
    let crafted = craft(&repo, Tree::default(), &[("A", &[(1, b"x\r\n")])], None);
    let mut manifest = mailvault::load_manifest(&repo, &crafted.accounts[0]).unwrap();
    for name in ["../../escaped", "/abs", "a/../../b"] {
        manifest.mailboxes[0].name = name.into();
        let mut snap = crafted.clone();
        snap.accounts[0].manifest = repo
            .put_blob(BlobKind::Manifest, &manifest.encode())
            .unwrap()
            .id;
        let out = work.path().join("x/y/out");
        let err = export(
            &repo,
            &snap,
            &ExportOptions {
                account: "A".into(),
                mailboxes: Vec::new(),
                format: ExportFormat::Mbox,
            },
            &out,
            &NoProgress,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("cannot be used as a path"),
            "{err}"
        );
        assert!(!work.path().join("x/escaped").exists());
        assert!(!work.path().join("escaped.mbox").exists());
    }
}

/// Records, on every event, the mode of every file found in the watched directories (and of
/// the directories named `mox-dbcopy-*` below them).
struct ModeWatch {
    roots: Vec<PathBuf>,
    seen: Mutex<Vec<(PathBuf, u32)>>,
}

impl Progress for ModeWatch {
    fn event(&self, _event: Event) {
        let mut seen = self.seen.lock().unwrap();
        for root in &self.roots {
            for e in walkdir::WalkDir::new(root)
                .min_depth(1)
                .into_iter()
                .flatten()
            {
                let name = e.file_name().to_string_lossy();
                if (e.file_type().is_file() || name.starts_with("mox-dbcopy-"))
                    && let Ok(m) = e.metadata()
                {
                    seen.push((e.path().to_path_buf(), m.mode() & 0o7777));
                }
            }
        }
    }
}

/// Item 8: the database copies a backup stages in the repository are 0600 in a 0700
/// directory, whatever the umask.
#[test]
fn database_copies_are_staged_private() {
    let inst = Installation::new("small-state1");
    let work = tempfile::tempdir().unwrap();
    let repo = Repository::init(&work.path().join("repo")).unwrap();
    let watch = ModeWatch {
        roots: vec![repo.tmp_dir().to_path_buf()],
        seen: Mutex::new(Vec::new()),
    };
    let opts = MoxBackupOptions {
        link: false,
        ..Default::default()
    };
    backup_mox(&repo, &inst.root, &opts, &watch).unwrap();
    let seen = watch.seen.into_inner().unwrap();
    let staged: Vec<&(PathBuf, u32)> = seen
        .iter()
        .filter(|(p, _)| p.to_string_lossy().contains("mox-dbcopy-"))
        .collect();
    assert!(
        staged
            .iter()
            .any(|(p, _)| p.extension().is_some_and(|x| x == "db")),
        "no database copy seen: {seen:?}"
    );
    for (path, mode) in staged {
        let want = if path.extension().is_some_and(|x| x == "db") {
            0o600
        } else {
            0o700
        };
        assert_eq!(*mode & !want, 0, "{}: {mode:o}", path.display());
    }
}

/// Item 8: a restored file is never more readable than its recorded mode, also when the
/// restore of it fails halfway (a two-chunk file whose second chunk is missing is not left
/// behind, with a wider mode or at all).
#[test]
fn restored_files_are_never_wider_than_recorded() {
    let work = tempfile::tempdir().unwrap();
    let repo = Repository::init(&work.path().join("repo")).unwrap();
    let first = repo
        .put_blob(BlobKind::Data, b"secret part one")
        .unwrap()
        .id;
    let missing = BlobId::hash(b"never stored");
    let file = |path: &str, mode: u32, chunks: Vec<BlobId>| Entry {
        path: path.into(),
        kind: EntryKind::File,
        mode,
        size: 15,
        chunks,
        ..Default::default()
    };
    let tree = Tree {
        entries: vec![
            dir("d", 0o750),
            file("d/private", 0o600, vec![first]),
            file("d/torn", 0o600, vec![first, missing]),
            file("d/group", 0o640, vec![first]),
        ],
    };
    let target = work.path().join("t");
    let watch = ModeWatch {
        roots: vec![target.clone()],
        seen: Mutex::new(Vec::new()),
    };
    let stats =
        mailvault::restore_tree(&repo, &tree, &target, &RestoreOptions::default(), &watch).unwrap();
    let failed: Vec<&str> = stats.failed.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(failed, ["d/torn"]);
    assert!(!target.join("d/torn").exists());
    for (path, mode) in watch.seen.into_inner().unwrap() {
        let want = if path.ends_with("group") {
            0o640
        } else {
            0o600
        };
        assert_eq!(mode & !want, 0, "{}: {mode:o}", path.display());
    }
    let mode = |p: &str| fs::metadata(target.join(p)).unwrap().mode() & 0o7777;
    assert_eq!(
        (mode("d"), mode("d/private"), mode("d/group")),
        (0o750, 0o600, 0o640)
    );
}

/// Item 11: as root, owners and modes of message files and msg directories come back as they
/// were (chown -R of the source), and setgid survives a plain-tree restore.
#[test]
fn owners_and_modes_of_messages_and_msg_dirs_are_restored() {
    if !is_root() {
        eprintln!("skipped: needs root to give files away");
        return;
    }
    let inst = Installation::new("small-state1");
    let alice = inst.root.join("data/accounts/alice");
    for e in walkdir::WalkDir::new(&alice) {
        let e = e.unwrap();
        std::os::unix::fs::lchown(e.path(), Some(1000), Some(1001)).unwrap();
    }
    fs::set_permissions(alice.join("msg/a"), fs::Permissions::from_mode(0o2750)).unwrap();
    fs::set_permissions(alice.join("msg"), fs::Permissions::from_mode(0o710)).unwrap();
    let one = alice.join("msg/a/1");
    std::os::unix::fs::lchown(&one, Some(1002), Some(1003)).unwrap();
    fs::set_permissions(&one, fs::Permissions::from_mode(0o440)).unwrap();

    let work = tempfile::tempdir().unwrap();
    let repo = Repository::init(&work.path().join("repo")).unwrap();
    let s = backup_mox(&repo, &inst.root, &MoxBackupOptions::default(), &NoProgress).unwrap();
    assert!(s.complete, "{:?}", s.problems);
    let snap = repo.load_snapshot(&s.snapshot).unwrap();
    let target = work.path().join("t");
    let stats = restore(&repo, &snap, &target, false).unwrap();
    assert!(stats.complete(), "{:?}", stats.failed);
    let meta = |root: &Path, rel: &str| {
        let m = fs::symlink_metadata(root.join(rel)).unwrap();
        (m.uid(), m.gid(), m.mode() & 0o7777)
    };
    // Message files of the same content become one inode at restore; compare those that
    // were one inode in the source too.
    let mut inodes: HashMap<Vec<u8>, std::collections::HashSet<u64>> = HashMap::new();
    for e in walkdir::WalkDir::new(inst.root.join("data/accounts")) {
        let e = e.unwrap();
        if e.file_type().is_file() {
            inodes
                .entry(fs::read(e.path()).unwrap())
                .or_default()
                .insert(e.metadata().unwrap().ino());
        }
    }
    let mut compared = 0;
    for e in walkdir::WalkDir::new(inst.root.join("data/accounts")) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(&inst.root).unwrap().to_str().unwrap();
        let one_inode = e.file_type().is_dir() || inodes[&fs::read(e.path()).unwrap()].len() == 1;
        if rel.contains("/msg") && one_inode {
            assert_eq!(meta(&inst.root, rel), meta(&target, rel), "{rel}");
            compared += 1;
        }
    }
    assert!(compared > 100);
    assert_eq!(
        meta(&target, "data/accounts/alice/msg/a/1"),
        (1002, 1003, 0o440)
    );
    assert_eq!(
        meta(&target, "data/accounts/alice/msg/a"),
        (1000, 1001, 0o2750)
    );

    // A plain tree: setgid directory and setgid/setuid files keep their bits when the owner is
    // set (chown clears them, so it comes first).
    let src = work.path().join("plain");
    fs::create_dir(&src).unwrap();
    fs::write(src.join("tool"), b"#!/bin/sh\n").unwrap();
    std::os::unix::fs::lchown(src.join("tool"), Some(1000), Some(1001)).unwrap();
    fs::set_permissions(src.join("tool"), fs::Permissions::from_mode(0o6750)).unwrap();
    let s = mailvault::backup_tree(&repo, &src, &Default::default(), &NoProgress).unwrap();
    let tree = Tree::load(&repo, &repo.load_snapshot(&s.snapshot).unwrap().tree).unwrap();
    let out = work.path().join("plain-out");
    mailvault::restore_tree(&repo, &tree, &out, &RestoreOptions::default(), &NoProgress).unwrap();
    assert_eq!(meta(&out, "tool"), (1000, 1001, 0o6750));
}

/// Item 11: a snapshot written with manifest version 1 (no owners, no msg directories in the
/// tree) still restores: message files and msg directories take the account directory's owner
/// and mode.
#[test]
fn version_1_manifests_restore_with_the_account_directory_as_default() {
    let work = tempfile::tempdir().unwrap();
    let repo = Repository::init(&work.path().join("repo")).unwrap();
    let mut account = dir("data/accounts/A", 0o750);
    account.uid = 1234;
    account.gid = 1235;
    // The version 1 list bytes, per docs/format.md: the entry without its owner.
    let v1 = |list: &MessageList| -> Vec<u8> {
        let mut out = b"MVML".to_vec();
        out.extend_from_slice(&1u32.to_le_bytes());
        let messages: Vec<_> = list
            .messages
            .iter()
            .map(|m| {
                (
                    m.id,
                    m.uid,
                    m.modseq,
                    m.size,
                    m.file_size,
                    m.blob,
                    m.mode,
                    m.mtime_ns,
                )
            })
            .collect();
        out.extend_from_slice(&postcard::to_stdvec(&(list.mailbox_id, messages)).unwrap());
        out
    };
    let snap = craft(
        &repo,
        Tree {
            entries: vec![dir("data", 0o755), dir("data/accounts", 0o750), account],
        },
        &[("A", &[(1, b"one\r\n"), (8192, b"two\r\n")])],
        Some(&v1),
    );
    let list = mailvault::load_list(
        &repo,
        &mailvault::load_manifest(&repo, &snap.accounts[0])
            .unwrap()
            .mailboxes[0]
            .list,
    )
    .unwrap();
    assert_eq!(list.messages[0].owner, None);
    let target = work.path().join("t");
    let stats = restore(&repo, &snap, &target, false).unwrap();
    assert!(stats.complete(), "{:?}", stats.failed);
    assert_eq!(
        fs::read(target.join("data/accounts/A/msg/b/8192")).unwrap(),
        b"two\r\n"
    );
    let m = |rel: &str| {
        let m = fs::symlink_metadata(target.join(rel)).unwrap();
        (m.uid(), m.gid(), m.mode() & 0o7777)
    };
    let (uid, gid) = if is_root() {
        (1234, 1235)
    } else {
        (m("data").0, m("data").1)
    };
    for d in [
        "data/accounts/A/msg",
        "data/accounts/A/msg/a",
        "data/accounts/A/msg/b",
    ] {
        assert_eq!(m(d), (uid, gid, 0o750), "{d}");
    }
    assert_eq!(m("data/accounts/A/msg/a/1"), (uid, gid, 0o640));
}
