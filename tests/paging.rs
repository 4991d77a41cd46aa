//! Paged message lists on generated installations with large mailboxes: a night writes the
//! pages its changes fall into and keeps the others, the pages it writes are the ones a full
//! write of the same state gives, every night restores byte-identical, and a damaged page loses
//! its own messages only.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use mailvault::mox::generator::{GenOptions, MutateOptions, generate, mutate};
use mailvault::{
    BlobId, CheckOptions, ListBody, MoxBackupOptions, NoProgress, ReadData, Repository, SnapshotId,
    backup_mox, check, load_list_root, load_manifest, plan_backup_mox,
};

fn model(root: &Path) -> BTreeMap<String, blake3::Hash> {
    common::file_contents(root)
        .into_iter()
        .filter(|(k, _)| !k.starts_with("tmp"))
        .map(|(k, v)| (k, blake3::hash(&v)))
        .collect()
}

/// Mailbox name → (list root, its pages) of every account of a snapshot.
fn lists(repo: &Repository, id: &SnapshotId) -> BTreeMap<String, (BlobId, Vec<BlobId>)> {
    let snap = repo.load_snapshot(id).unwrap();
    let mut out = BTreeMap::new();
    for account in &snap.accounts {
        let manifest = load_manifest(repo, account).unwrap();
        for mb in &manifest.mailboxes {
            let pages = match load_list_root(repo, &mb.list).unwrap().body {
                ListBody::Entries(_) => Vec::new(),
                ListBody::Pages(p) => p.iter().map(|p| p.blob).collect(),
            };
            out.insert(format!("{}/{}", account.name, mb.name), (mb.list, pages));
        }
    }
    out
}

fn installation(dir: &Path, messages: usize) -> std::path::PathBuf {
    let inst = dir.join("mox");
    generate(
        &GenOptions {
            accounts: 2,
            messages,
            seed: 11,
            attachment_percent: 0.0,
            queue: 1,
            ..GenOptions::default()
        },
        &inst,
    )
    .unwrap();
    inst
}

fn copy_mode() -> MoxBackupOptions {
    MoxBackupOptions {
        link: false,
        ..MoxBackupOptions::default()
    }
}

#[test]
fn a_night_writes_only_the_pages_its_changes_fall_into() {
    let dir = tempfile::tempdir().unwrap();
    let inst = installation(dir.path(), 6000);
    let repo = Repository::init(&dir.path().join("repo")).unwrap();
    let first = backup_mox(&repo, &inst, &copy_mode(), &NoProgress).unwrap();
    let want_first = model(&inst.join("data"));
    let before = lists(&repo, &first.snapshot);
    let paged: Vec<&String> = before
        .iter()
        .filter(|(_, (_, pages))| pages.len() >= 3)
        .map(|(name, _)| name)
        .collect();
    assert!(!paged.is_empty(), "some mailbox is paged: {before:?}");

    let mut nights = vec![(first.snapshot, want_first)];
    // A night of everything (new mail, flags, moves, expunges), then a night of 5 new messages.
    for night in 1..=2u64 {
        mutate(
            &inst,
            &MutateOptions {
                percent: 1.0,
                seed: 40 + night,
                only_deliver: (night == 2).then_some(5),
                ..MutateOptions::default()
            },
        )
        .unwrap();
        let prev = lists(&repo, &nights.last().unwrap().0);
        let plan = plan_backup_mox(&repo, &inst, &copy_mode(), &NoProgress).unwrap();
        let s = backup_mox(&repo, &inst, &copy_mode(), &NoProgress).unwrap();
        // The plan counted what the night did.
        for key in [
            "messages_read",
            "messages_total",
            "mailboxes_skipped",
            "mailboxes_paged",
        ] {
            assert_eq!(plan.stats[key], s.stats[key], "night {night}: {key}");
        }
        if night == 2 {
            assert_eq!(s.stats["messages_read"], 5);
            assert!(s.stats["mailboxes_paged"] >= 1, "{:?}", s.stats);
        }
        assert!(s.complete, "{:?}", s.problems);
        let after = lists(&repo, &s.snapshot);
        // A paged list keeps the pages no change falls into: new mail goes to the last one.
        let old_pages: BTreeSet<BlobId> =
            prev.values().flat_map(|(_, p)| p.iter().copied()).collect();
        let new_pages: BTreeSet<BlobId> = after
            .values()
            .flat_map(|(_, p)| p.iter().copied())
            .collect();
        let written = new_pages.difference(&old_pages).count();
        let kept = new_pages.intersection(&old_pages).count();
        assert!(kept > 0 && written > 0, "{written} written, {kept} kept");
        if night == 2 {
            assert!(
                written <= 2,
                "night {night}: {written} of {} pages written",
                new_pages.len()
            );
        }
        nights.push((s.snapshot, model(&inst.join("data"))));

        // A backup that reads everything writes exactly the same lists: the pages an update
        // writes are the ones a full write cuts.
        let full = backup_mox(
            &repo,
            &inst,
            &MoxBackupOptions {
                force_read: true,
                ..copy_mode()
            },
            &NoProgress,
        )
        .unwrap();
        assert_eq!(lists(&repo, &full.snapshot), after, "night {night}");
    }

    for (id, want) in &nights {
        let out = common::restore_whole(&repo, id);
        let got = model(&out.path().join("data"));
        assert_eq!(&got, want, "snapshot {id} restores byte-identical");
    }
    let report = check(
        &repo,
        &CheckOptions {
            read_data: ReadData::All,
        },
        &NoProgress,
    )
    .unwrap();
    assert!(report.ok(), "{:?}", report.problems);
}

/// Flips a byte in the payload of a blob's pack entry (the 32-byte id, a 23-byte object
/// header, the payload; docs/format.md).
fn flip_byte(repo: &Repository, id: &BlobId) {
    let (path, offset, len) = repo.blob_entry(id).unwrap();
    let mut bytes = fs::read(&path).unwrap();
    bytes[(offset + 55 + (len - 55) / 2) as usize] ^= 0x55;
    fs::write(&path, bytes).unwrap();
}

#[test]
fn a_damaged_page_loses_its_own_messages_only() {
    let dir = tempfile::tempdir().unwrap();
    let inst = installation(dir.path(), 3000);
    let repo_path = dir.path().join("repo");
    let repo = Repository::init(&repo_path).unwrap();
    let s = backup_mox(&repo, &inst, &copy_mode(), &NoProgress).unwrap();
    let snap = repo.load_snapshot(&s.snapshot).unwrap();
    let account = &snap.accounts[0];
    let manifest = load_manifest(&repo, account).unwrap();
    let (mailbox, pages) = manifest
        .mailboxes
        .iter()
        .find_map(|mb| match load_list_root(&repo, &mb.list).unwrap().body {
            ListBody::Pages(p) => Some((mb.clone(), p)),
            ListBody::Entries(_) => None,
        })
        .expect("a paged mailbox");
    let page = pages[pages.len() / 2];
    drop(repo);
    let repo = Repository::open(&repo_path).unwrap();
    flip_byte(&repo, &page.blob);

    // check names the page and the mailbox.
    let report = check(
        &repo,
        &CheckOptions {
            read_data: ReadData::All,
        },
        &NoProgress,
    )
    .unwrap();
    let named = format!("of the message list of {}/{}", account.name, mailbox.name);
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.message.contains("page") && p.message.contains(&named)),
        "{report:#?}"
    );

    // A restore loses the page's messages and nothing else.
    let out = tempfile::tempdir().unwrap();
    let stats = mailvault::restore_mox(
        &repo,
        &snap,
        out.path(),
        &mailvault::MoxRestoreSelection::default(),
        &mailvault::RestoreOptions::default(),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(stats.failed.len(), 1, "{:?}", stats.failed);
    let lost = format!("({} of them) of mailbox {}", page.messages, mailbox.name);
    assert!(stats.failed[0].error.contains(&lost), "{:?}", stats.failed);
    let msg_files = |root: &Path| {
        walkdir::WalkDir::new(root.join(format!("data/accounts/{}/msg", account.name)))
            .into_iter()
            .filter(|e| e.as_ref().unwrap().file_type().is_file())
            .count() as u64
    };
    let all = msg_files(&inst);
    assert_eq!(msg_files(out.path()), all - page.messages);
}
