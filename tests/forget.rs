//! `forget`, `tag`, `backup --tag` and `snapshots` filters through the binary. Time-based
//! policies are tested on synthetic times in `tests/retention.rs`: the command line cannot set
//! a snapshot's time.

mod check;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use mailvault::{Repository, SnapshotId};
use serde_json::Value;

struct Repo {
    _dir: tempfile::TempDir,
    path: PathBuf,
    /// A small directory to back up.
    src: PathBuf,
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("repo");
        let src = dir.path().join("src");
        fs::create_dir(&src).unwrap();
        fs::write(src.join("a.txt"), b"first file\n").unwrap();
        let repo = Repo {
            _dir: dir,
            path,
            src,
        };
        repo.ok(&["init"]);
        repo
    }

    /// A copy of a golden repository (`tests/golden/repo-v<N>`).
    fn golden(version: u32) -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("repo");
        let golden =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/repo-v{version}"));
        check::copy_dir(&golden, &path);
        let src = dir.path().join("src");
        fs::create_dir(&src).unwrap();
        fs::write(src.join("a.txt"), b"first file\n").unwrap();
        Repo {
            _dir: dir,
            path,
            src,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_mailvault"))
            .env_remove("MAILVAULT_REPO")
            .arg("--repo")
            .arg(&self.path)
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        stdout(&o)
    }

    /// Runs a command with `--json` that must exit with `code`; returns its JSON lines.
    fn json(&self, args: &[&str], code: i32) -> Vec<Value> {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let o = self.run(&all);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr(&o));
        stdout(&o)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }

    /// Backs up `dir` with the given tags; returns the snapshot id.
    fn backup(&self, dir: &Path, tags: &[&str]) -> String {
        let mut args = vec!["backup", dir.to_str().unwrap()];
        for t in tags {
            args.extend(["--tag", t]);
        }
        let lines = self.json(&args, 0);
        lines.last().unwrap()["snapshot"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// `snapshots --json`, oldest first.
    fn snapshots(&self, filter: &[&str]) -> Vec<Value> {
        let mut args = vec!["snapshots"];
        args.extend_from_slice(filter);
        let lines = self.json(&args, 0);
        assert_eq!(lines.len(), 1);
        lines[0].as_array().unwrap().clone()
    }

    fn ids(&self) -> Vec<String> {
        self.snapshots(&[])
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect()
    }

    /// The names in `snapshots/`.
    fn files(&self) -> BTreeSet<String> {
        fs::read_dir(self.path.join("snapshots"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect()
    }

    /// Restores a snapshot and checks it against `dir`.
    fn restores_as(&self, id: &str, dir: &Path) {
        let repo = Repository::open(&self.path).unwrap();
        let id: SnapshotId = id.parse().unwrap();
        let out = check::restore(&repo, &id);
        check::assert_same(&check::model(dir), &check::model(out.path()));
    }
}

fn set(list: &[&String]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The `snapshot` lines of a `forget --json` run by id: (action, reasons, given).
fn decisions(lines: &[Value]) -> Vec<(String, String, Vec<String>, bool)> {
    lines
        .iter()
        .filter(|l| l["type"] == "snapshot")
        .map(|l| {
            (
                l["id"].as_str().unwrap().to_string(),
                l["action"].as_str().unwrap().to_string(),
                l["reasons"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_str().unwrap().to_string())
                    .collect(),
                l["given"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[test]
fn keep_last_removes_the_others_and_a_dry_run_nothing() {
    let repo = Repo::new();
    let mut ids = Vec::new();
    for i in 0..5 {
        fs::write(repo.src.join("n.txt"), format!("night {i}\n")).unwrap();
        ids.push(repo.backup(&repo.src, &[]));
    }
    assert_eq!(repo.ids(), ids);
    let before = repo.files();

    // A dry run lists the decisions, newest first, and removes nothing.
    let lines = repo.json(&["forget", "--keep-last", "2", "--dry-run"], 0);
    let d = decisions(&lines);
    let want: Vec<(String, String, Vec<String>, bool)> = ids
        .iter()
        .rev()
        .enumerate()
        .map(|(i, id)| match i < 2 {
            true => (id.clone(), "keep".into(), vec!["last 2".to_string()], false),
            false => (id.clone(), "remove".into(), vec![], false),
        })
        .collect();
    assert_eq!(d, want);
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["dry_run"], true);
    assert_eq!(
        (summary["kept"].as_u64(), summary["removed"].as_u64()),
        (Some(2), Some(3))
    );
    assert_eq!(repo.files(), before);
    let text = repo.ok(&["forget", "--keep-last", "2", "-n"]);
    assert!(text.contains("would remove 3 snapshots, keep 2"), "{text}");
    assert_eq!(repo.files(), before);

    // For real: the two newest stay, and still restore.
    let text = repo.ok(&["forget", "--keep-last", "2"]);
    assert!(text.contains("removed 3 snapshots, kept 2"), "{text}");
    assert!(
        text.contains(&ids[4][..8]) && text.contains("last 2"),
        "{text}"
    );
    assert_eq!(repo.ids(), ids[3..].to_vec());
    assert_eq!(repo.files(), set(&[&ids[3], &ids[4]]));
    repo.restores_as(&ids[4], &repo.src);
    let o = repo.run(&["verify", "all"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // Again: nothing more to remove.
    let lines = repo.json(&["forget", "--keep-last", "2"], 0);
    assert_eq!(lines.last().unwrap()["removed"], 0);
    assert_eq!(repo.ids(), ids[3..].to_vec());
}

#[test]
fn bad_policies_are_refused_and_change_nothing() {
    let repo = Repo::new();
    let id = repo.backup(&repo.src, &[]);
    for (args, code, says) in [
        (&["forget"][..], 1, "no policy given"),
        (&["forget", "--keep-last", "0"], 1, "no policy given"),
        (&["forget", "--group-by", "host"], 1, "no policy given"),
        (&["forget", "--keep-last", "-2"], 2, "-1"),
        (&["forget", "--keep-last", "three"], 2, "not a count"),
        (&["forget", "--keep-within", "5w"], 2, "1y2m3d4h"),
        (&["forget", "--keep-within-daily", "0d"], 2, "zero"),
        (&["forget", "--keep-within", "1d1d"], 2, "twice"),
        (
            &["forget", "--keep-last", "1", "--group-by", "paths"],
            2,
            "host, source and/or tags",
        ),
        (
            &[
                "forget",
                "--keep-last",
                "1",
                "--prune",
                "--max-unused",
                "150",
            ],
            1,
            "--max-unused 150",
        ),
        (
            &["forget", "--keep-last", "1", "--max-unused", "5"],
            2,
            "--prune",
        ),
        (&["forget", "--keep-last", "1", "ffff"], 1, "ffff"),
        (&["forget", "--keep-last", "1", "zz"], 1, "4 hex digits"),
    ] {
        let o = repo.run(args);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
    }
    assert_eq!(repo.ids(), vec![id]);
}

#[test]
fn named_snapshots_are_forgotten_with_or_without_a_policy() {
    let repo = Repo::new();
    let ids: Vec<String> = (0..4)
        .map(|i| {
            fs::write(repo.src.join("n.txt"), format!("{i}")).unwrap();
            repo.backup(&repo.src, &[])
        })
        .collect();
    // By prefix, no policy: only the named snapshot is listed and removed.
    let lines = repo.json(&["forget", &ids[1][..10]], 0);
    assert_eq!(
        decisions(&lines),
        vec![(ids[1].clone(), "remove".into(), vec![], true)]
    );
    assert_eq!(
        repo.ids(),
        vec![ids[0].clone(), ids[2].clone(), ids[3].clone()]
    );
    // Named and a policy: the named one goes, the policy keeps the newest of the others.
    let lines = repo.json(&["forget", "latest", "--keep-last", "1"], 0);
    assert_eq!(
        decisions(&lines),
        vec![
            (ids[3].clone(), "remove".into(), vec![], true),
            (ids[2].clone(), "keep".into(), vec!["last 1".into()], false),
            (ids[0].clone(), "remove".into(), vec![], false),
        ]
    );
    assert_eq!(repo.ids(), vec![ids[2].clone()]);
}

#[test]
fn tags_are_set_changed_filtered_and_kept() {
    let repo = Repo::new();
    let a = repo.backup(&repo.src, &["nightly", "x", "nightly"]);
    let b = repo.backup(&repo.src, &[]);
    let c = repo.backup(&repo.src, &["nightly"]);
    let list = repo.snapshots(&[]);
    assert_eq!(list[0]["tags"], serde_json::json!(["nightly", "x"]));
    assert_eq!(list[1]["tags"], serde_json::json!([]));
    assert_eq!(list[0]["original"], Value::Null);
    // A bad tag is refused before anything is written.
    let o = repo.run(&["backup", repo.src.to_str().unwrap(), "--tag", "a,b"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("comma"), "{}", stderr(&o));
    let o = repo.run(&["tag", &b, "--add", " padded"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = repo.run(&["tag", &b]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--add, --remove or --set"),
        "{}",
        stderr(&o)
    );
    assert_eq!(repo.ids(), vec![a.clone(), b.clone(), c.clone()]);

    // Filters: every tag given must be there.
    let shown = |filter: &[&str]| -> Vec<String> {
        repo.snapshots(filter)
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(shown(&["--tag", "nightly"]), vec![a.clone(), c.clone()]);
    assert_eq!(shown(&["--tag", "nightly", "--tag", "x"]), vec![a.clone()]);
    assert!(shown(&["--host", "no-such-host"]).is_empty());
    let source = fs::canonicalize(&repo.src).unwrap();
    assert_eq!(shown(&["--source", source.to_str().unwrap()]).len(), 3);
    let text = repo.ok(&["snapshots"]);
    assert!(text.contains("nightly,x"), "{text}");

    // Tagging writes the snapshot again: a new id, the old file gone, `original` the first.
    let lines = repo.json(&["tag", &a[..8], "--add", "important", "--remove", "x"], 0);
    assert_eq!(lines[0]["id"], a.as_str());
    assert_eq!(lines[0]["changed"], true);
    assert_eq!(
        lines[0]["tags"],
        serde_json::json!(["nightly", "important"])
    );
    let a2 = lines[0]["new_id"].as_str().unwrap().to_string();
    assert_ne!(a2, a);
    assert_eq!(lines.last().unwrap()["changed"], 1);
    assert_eq!(repo.files(), set(&[&a2, &b, &c]));
    let snap = |id: &str| -> Value {
        repo.snapshots(&[])
            .into_iter()
            .find(|s| s["id"] == id)
            .unwrap()
    };
    assert_eq!(snap(&a2)["original"], a.as_str());
    assert_eq!(snap(&a2)["time"], list[0]["time"], "the time stays");
    repo.restores_as(&a2, &repo.src);
    // Again: `original` stays the first snapshot; a change that changes nothing writes nothing.
    let lines = repo.json(&["tag", &a2, "--set", "important"], 0);
    let a3 = lines[0]["new_id"].as_str().unwrap().to_string();
    assert_eq!(snap(&a3)["original"], a.as_str());
    assert_eq!(snap(&a3)["tags"], serde_json::json!(["important"]));
    let lines = repo.json(&["tag", &a3, "--add", "important"], 0);
    assert_eq!(lines[0]["changed"], false);
    assert_eq!(lines[0]["new_id"], a3.as_str());
    assert_eq!(repo.files(), set(&[&a3, &b, &c]));
    // Several at once; `--set ''` clears.
    let lines = repo.json(&["tag", &b, &c, "--set", ""], 0);
    assert_eq!(lines[0]["changed"], false, "b had no tags");
    assert_eq!(lines[1]["changed"], true);
    let c2 = lines[1]["new_id"].as_str().unwrap().to_string();
    assert_eq!(snap(&c2)["tags"], serde_json::json!([]));
    assert_eq!(snap(&c2)["original"], c.as_str());

    // --keep-tag keeps the tagged snapshot, whatever its age.
    let d = repo.backup(&repo.src, &[]);
    let lines = repo.json(
        &["forget", "--keep-tag", "important", "--keep-last", "1"],
        0,
    );
    let got: Vec<(String, String, Vec<String>)> = decisions(&lines)
        .into_iter()
        .map(|(id, action, reasons, _)| (id, action, reasons))
        .collect();
    // Newest first: d, c2 (same time as c), b, a3 (a's time).
    assert_eq!(
        got,
        vec![
            (d.clone(), "keep".into(), vec!["last 1".into()]),
            (c2.clone(), "remove".into(), vec![]),
            (b.clone(), "remove".into(), vec![]),
            (a3.clone(), "keep".into(), vec!["tag important".into()]),
        ]
    );
    assert_eq!(repo.ids(), vec![a3.clone(), d.clone()]);
}

#[test]
fn groups_are_per_source_unless_told_otherwise() {
    let repo = Repo::new();
    let other = repo.path.parent().unwrap().join("other");
    fs::create_dir(&other).unwrap();
    fs::write(other.join("b.txt"), b"other tree\n").unwrap();
    let s1 = repo.backup(&repo.src, &[]);
    let o1 = repo.backup(&other, &["t"]);
    let s2 = repo.backup(&repo.src, &["t"]);
    let o2 = repo.backup(&other, &[]);

    let kept = |args: &[&str]| -> BTreeSet<String> {
        let mut all = vec!["forget", "--keep-last", "1", "--dry-run"];
        all.extend_from_slice(args);
        decisions(&repo.json(&all, 0))
            .into_iter()
            .filter(|(_, action, _, _)| action == "keep")
            .map(|(id, ..)| id)
            .collect()
    };
    assert_eq!(kept(&[]), set(&[&s2, &o2]));
    assert_eq!(kept(&["--group-by", "source"]), set(&[&s2, &o2]));
    assert_eq!(kept(&["--group-by", "host"]), set(&[&o2]));
    assert_eq!(kept(&["--group-by", ""]), set(&[&o2]));
    // By tags: {t} and {} are two groups.
    assert_eq!(kept(&["--group-by", "tags"]), set(&[&s2, &o2]));
    assert_eq!(
        kept(&["--group-by", "source,tags"]),
        set(&[&s1, &o1, &s2, &o2])
    );

    // The text output names each group.
    let text = repo.ok(&["forget", "--keep-last", "1", "-n"]);
    let source = fs::canonicalize(&other).unwrap();
    assert!(
        text.contains(&format!("source {}: keep 1, remove 1", source.display())),
        "{text}"
    );
    let text = repo.ok(&["forget", "--keep-last", "1", "-n", "--group-by", ""]);
    assert!(text.contains("all snapshots: keep 1, remove 3"), "{text}");

    repo.ok(&["forget", "--keep-last", "1", "--group-by", "host"]);
    assert_eq!(repo.ids(), vec![o2]);
}

/// The golden format 2 repository holds a version 1 snapshot of a mox installation: it can be
/// tagged (written again as version 2, restoring the same) and forgotten.
#[test]
fn version_1_snapshots_are_tagged_and_forgotten() {
    let repo = Repo::golden(2);
    let old = repo.ids();
    assert_eq!(old.len(), 1);
    let old_file = fs::read(repo.path.join("snapshots").join(&old[0])).unwrap();
    assert_eq!(&old_file[4..8], &1u32.to_le_bytes());
    let before = {
        let r = Repository::open(&repo.path).unwrap();
        let id: SnapshotId = old[0].parse().unwrap();
        check::model(check::restore(&r, &id).path())
    };

    let lines = repo.json(&["tag", "latest", "--add", "golden"], 0);
    let new = lines[0]["new_id"].as_str().unwrap().to_string();
    assert_eq!(repo.files(), set(&[&new]));
    let new_file = fs::read(repo.path.join("snapshots").join(&new)).unwrap();
    assert_eq!(&new_file[4..8], &2u32.to_le_bytes());
    let list = repo.snapshots(&[]);
    assert_eq!(list[0]["original"], old[0].as_str());
    assert_eq!(list[0]["tags"], serde_json::json!(["golden"]));
    assert_eq!(list[0]["kind"], "mox");
    {
        let r = Repository::open(&repo.path).unwrap();
        let id: SnapshotId = new.parse().unwrap();
        check::assert_same(&before, &check::model(check::restore(&r, &id).path()));
    }
    let o = repo.run(&["verify", "all"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // With a tree snapshot beside it: two sources, one group each.
    let mine = repo.backup(&repo.src, &[]);
    let lines = repo.json(&["forget", "--keep-last", "1", "-n"], 0);
    let d = decisions(&lines);
    assert_eq!(d.len(), 2);
    assert!(d.iter().all(|(_, action, ..)| action == "keep"));
    let lines = repo.json(&["forget", "--keep-last", "1", "--group-by", ""], 0);
    assert_eq!(
        lines.last().unwrap()["removed_ids"],
        serde_json::json!([new])
    );
    assert_eq!(repo.ids(), vec![mine]);
}

#[test]
fn format_1_repositories_ask_for_migrate() {
    let repo = Repo::golden(1);
    let before = repo.files();
    for args in [
        &["tag", "latest", "--add", "x"][..],
        &["forget", "--keep-last", "1"],
        &["forget", "latest"],
    ] {
        let o = repo.run(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("mailvault migrate"), "{}", stderr(&o));
    }
    // A dry run only reads.
    repo.ok(&["forget", "latest", "--dry-run"]);
    assert_eq!(repo.files(), before);
}

#[test]
fn forget_takes_the_lock_exclusively_and_a_dry_run_shares_it() {
    let repo = Repo::new();
    let a = repo.backup(&repo.src, &[]);
    let b = repo.backup(&repo.src, &[]);
    let held = Repository::open(&repo.path).unwrap();
    let o = repo.run(&["forget", "--keep-last", "1"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("locked"), "{}", stderr(&o));
    let o = repo.run(&["tag", "latest", "--add", "x"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    repo.ok(&["forget", "--keep-last", "1", "--dry-run"]);
    assert_eq!(repo.files(), set(&[&a, &b]));
    drop(held);
    repo.ok(&["forget", "--keep-last", "1"]);
    assert_eq!(repo.files(), set(&[&b]));
}

#[test]
fn an_unreadable_snapshot_file_is_left_and_named_unless_given() {
    let repo = Repo::new();
    repo.backup(&repo.src, &[]);
    let b = repo.backup(&repo.src, &[]);
    let junk = "ab".repeat(32);
    fs::write(repo.path.join("snapshots").join(&junk), b"not a snapshot").unwrap();
    // The policy decides over the readable ones; the junk is named, left, and the exit code
    // says so.
    let o = repo.run(&["forget", "--keep-last", "1"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains(&junk), "{}", stderr(&o));
    assert_eq!(repo.files(), set(&[&b, &junk]));
    // Named, it is removed.
    let lines = repo.json(&["forget", &junk[..12]], 0);
    assert_eq!(
        lines.last().unwrap()["removed_ids"],
        serde_json::json!([junk])
    );
    assert_eq!(repo.files(), set(&[&b]));
}
