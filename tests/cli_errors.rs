//! Errors, damage and progress through the binary: one clear sentence per error (what, which
//! path, what to do), one bad snapshot file that does not stop `verify all` or `replicate`, and
//! JSON progress that is throttled and names its phase.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn mailvault(repo: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailvault"))
        .env_remove("MAILVAULT_REPO")
        .arg("--repo")
        .arg(repo)
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json_lines(o: &Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn init(dir: &Path) -> PathBuf {
    let repo = dir.join("repo");
    let o = mailvault(&repo, &["init"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    repo
}

/// An error is one line on stderr naming the path.
fn one_error_line(o: &Output, path: &Path) -> String {
    assert_eq!(o.status.code(), Some(1), "{}", stderr(o));
    let err = stderr(o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("mailvault: error: "), "{err}");
    assert!(err.contains(&path.display().to_string()), "{err}");
    err
}

#[test]
fn the_os_error_is_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let repo = init(dir.path());
    let missing = dir.path().join("no-such-source");
    let o = mailvault(&repo, &["backup", missing.to_str().unwrap()]);
    let err = one_error_line(&o, &missing);
    assert_eq!(err.matches("os error 2").count(), 1, "{err}");
}

#[test]
fn a_file_that_is_not_mox_conf_says_what_to_give() {
    let dir = tempfile::tempdir().unwrap();
    let repo = init(dir.path());
    for (name, content) in [
        ("notes.txt", &b"just some text\n"[..]),
        ("blob.bin", &[0xff, 0xfe, 0, 1][..]),
    ] {
        let file = dir.path().join(name);
        fs::write(&file, content).unwrap();
        let o = mailvault(&repo, &["backup", file.to_str().unwrap()]);
        let err = one_error_line(&o, &file);
        assert!(err.contains("not a mox.conf"), "{err}");
        assert!(err.contains("give mox.conf"), "{err}");
    }
}

#[test]
fn a_repository_that_is_not_one_says_so_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("mox");
    fs::create_dir(&source).unwrap();
    common::extract_fixture_into("small-state1", &source);

    // The mox installation given as the repository (its config/ is a directory).
    let o = mailvault(&source, &["snapshots"]);
    let err = one_error_line(&o, &source);
    assert!(
        err.contains("is a mox installation, not a mailvault repository"),
        "{err}"
    );
    assert!(err.contains("mailvault init"), "{err}");
    let o = mailvault(&source, &["backup", source.to_str().unwrap()]);
    one_error_line(&o, &source);
    assert!(!source.join("objects").exists());

    // Any other directory, and one that does not exist.
    let other = dir.path().join("other");
    fs::create_dir(&other).unwrap();
    fs::write(other.join("x"), "x").unwrap();
    let o = mailvault(&other, &["verify", "all"]);
    let err = one_error_line(&o, &other);
    assert!(err.contains("not a mailvault repository"), "{err}");
    assert!(err.contains("mailvault init"), "{err}");
    let nowhere = dir.path().join("nowhere");
    let o = mailvault(&nowhere, &["snapshots"]);
    let err = one_error_line(&o, &nowhere);
    assert!(err.contains("mailvault init"), "{err}");
}

/// Three snapshots of a small tree; the first one's file truncated, and a junk file with a
/// snapshot's name shape added.
fn repo_with_bad_snapshot_files(dir: &Path) -> (PathBuf, Vec<String>, Vec<PathBuf>) {
    let repo = init(dir);
    let src = dir.join("src");
    fs::create_dir(&src).unwrap();
    let mut ids = Vec::new();
    for night in 0..3 {
        fs::write(src.join(format!("file{night}")), format!("night {night}")).unwrap();
        let o = mailvault(&repo, &["--json", "backup", src.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let summary = json_lines(&o).pop().unwrap();
        ids.push(summary["snapshot"].as_str().unwrap().to_string());
    }
    let truncated = repo.join("snapshots").join(&ids[0]);
    let bytes = fs::read(&truncated).unwrap();
    fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let junk = repo.join("snapshots").join("ab".repeat(32));
    fs::write(&junk, b"not a snapshot at all").unwrap();
    (repo, ids[1..].to_vec(), vec![truncated, junk])
}

#[test]
fn verify_all_names_bad_snapshot_files_and_verifies_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, good, bad) = repo_with_bad_snapshot_files(dir.path());

    let o = mailvault(&repo, &["verify", "all"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    for file in &bad {
        assert!(
            stderr(&o).contains(&file.display().to_string()),
            "{}",
            stderr(&o)
        );
    }
    for id in &good {
        assert!(
            stdout(&o).contains(&format!("snapshot {}", &id[..8])),
            "{}",
            stdout(&o)
        );
    }
    assert_eq!(stdout(&o).matches(": ok").count(), 2, "{}", stdout(&o));

    let o = mailvault(&repo, &["--json", "verify", "all"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let lines = json_lines(&o);
    let problems: Vec<&Value> = lines.iter().filter(|l| l["type"] == "problem").collect();
    let mut named: Vec<String> = problems
        .iter()
        .map(|p| p["path"].as_str().unwrap().to_string())
        .collect();
    named.sort();
    let mut want: Vec<String> = bad.iter().map(|p| p.display().to_string()).collect();
    want.sort();
    assert_eq!(named, want);
    let verified: Vec<&str> = lines
        .iter()
        .filter(|l| l["type"] == "summary")
        .map(|l| {
            assert_eq!(l["ok"], true);
            l["snapshot"].as_str().unwrap()
        })
        .collect();
    assert_eq!(verified, good);

    // Restoring by time passes over them too.
    let target = dir.path().join("restored");
    let o = mailvault(
        &repo,
        &[
            "restore",
            "--at",
            "2200-01-01T00:00:00Z",
            "--target",
            target.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(fs::read_to_string(target.join("file2")).unwrap(), "night 2");
}

#[test]
fn replicate_copies_every_readable_snapshot_and_names_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, good, bad) = repo_with_bad_snapshot_files(dir.path());
    let target = dir.path().join("replica");

    let o = mailvault(
        &repo,
        &["--json", "replicate", "--to", target.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let summary = json_lines(&o).pop().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["complete"], false);
    assert_eq!(summary["snapshots_copied"], 2);
    let mut named: Vec<&str> = summary["unreadable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["file"].as_str().unwrap())
        .collect();
    named.sort();
    let mut want: Vec<String> = bad.iter().map(|p| p.display().to_string()).collect();
    want.sort();
    assert_eq!(named, want);

    let o = mailvault(&target, &["--json", "snapshots"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let listed: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, good);
    let o = mailvault(&target, &["verify", "all"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

/// `--json` progress of a backup: a few `advance` lines per phase (not one per file), each naming
/// a phase announced before it (accounts run side by side: each has its own), counting items
/// against the phase's item total, the last one of each phase with everything done.
#[test]
fn json_progress_is_throttled_and_names_its_phase() {
    let dir = tempfile::tempdir().unwrap();
    let repo = init(dir.path());
    let source = dir.path().join("mox");
    fs::create_dir(&source).unwrap();
    common::extract_fixture_into("small-state1", &source);

    let o = mailvault(&repo, &["--json", "backup", source.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines = json_lines(&o);
    let summary = lines.last().unwrap();
    let files =
        summary["files_read"].as_u64().unwrap() + summary["messages_read"].as_u64().unwrap();
    let phases: std::collections::BTreeMap<String, Option<u64>> = lines
        .iter()
        .filter(|l| l["type"] == "phase")
        .map(|l| (l["name"].as_str().unwrap().to_string(), l["total"].as_u64()))
        .collect();
    for account in ["alice", "bob", "carol"] {
        assert!(
            phases
                .keys()
                .any(|p| p.starts_with(&format!("account {account}:"))),
            "{phases:?}"
        );
    }
    let advances: Vec<&Value> = lines.iter().filter(|l| l["type"] == "advance").collect();
    assert!(!advances.is_empty());
    assert!(
        advances.len() * 4 < files as usize,
        "{} advance lines for {files} files",
        advances.len()
    );
    let mut done: std::collections::BTreeMap<&str, u64> = Default::default();
    for a in &advances {
        let phase = a["phase"].as_str().expect("advance names its phase");
        assert!(phases.contains_key(phase), "{phase} was never announced");
        *done.entry(phase).or_default() += a["items"].as_u64().unwrap();
        assert_eq!(a["done"].as_u64(), Some(done[phase]), "{a}");
    }
    // Every message file read is counted once in its account's phase, which ends complete.
    let mut messages = 0;
    for (name, total) in &phases {
        if name.starts_with("account ") {
            let total = total.expect("an account phase has an item total");
            assert_eq!(
                done.get(name.as_str()).copied().unwrap_or(0),
                total,
                "{name}"
            );
            messages += total;
        }
    }
    assert_eq!(messages, summary["messages_read"].as_u64().unwrap());
}
