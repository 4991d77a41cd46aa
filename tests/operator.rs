//! The operator's conventions through the binary: `-r`, `latest` per host and source, `verify`
//! without an argument, `--quiet` and `--verbose`, shell completions, man pages, the metrics
//! file, and `export` of the messages a filter selects.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::Installation;
use serde_json::Value;

struct Repo {
    dir: tempfile::TempDir,
    path: PathBuf,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("repo");
        let o = mailvault(&["init", path.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        Repo { dir, path }
    }

    /// `mailvault -r REPO ARGS...`
    fn run(&self, args: &[&str]) -> Output {
        let mut all = vec!["-r", self.path.to_str().unwrap()];
        all.extend_from_slice(args);
        mailvault(&all)
    }

    fn ok_json(&self, args: &[&str]) -> Vec<Value> {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let o = self.run(&all);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        lines(&o)
    }

    fn backup(&self, source: &Path) -> Value {
        self.ok_json(&["backup", source.to_str().unwrap()])
            .pop()
            .unwrap()
    }
}

fn mailvault(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailvault"))
        .env_remove("MAILVAULT_REPO")
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn lines(o: &Output) -> Vec<Value> {
    String::from_utf8(o.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// Live messages of an account in a fixture state's truth.
fn truth_live(state: &str, account: &str) -> u64 {
    common::truth(state)["Accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["Name"] == account)
        .unwrap()["NumLiveMessages"]
        .as_u64()
        .unwrap()
}

/// Messages of `account` that `ls --json SNAPSHOT [selection]` reports.
fn ls_messages(repo: &Repo, args: &[&str], account: &str) -> u64 {
    let mut all = vec!["ls"];
    all.extend_from_slice(args);
    repo.ok_json(&all)
        .iter()
        .find(|l| l["name"] == account)
        .unwrap()["messages"]
        .as_u64()
        .unwrap()
}

#[test]
fn latest_is_per_source_and_host() {
    let one = Installation::new("small-state1");
    let two = Installation::new("small-state2");
    let repo = Repo::new();
    let first = repo.backup(&one.root);
    repo.backup(&two.root);
    let (s1, s2) = (
        truth_live("small-state1", "alice"),
        truth_live("small-state2", "alice"),
    );
    assert_ne!(s1, s2);

    // Plain `latest`: the newest snapshot of all (installation two).
    assert_eq!(ls_messages(&repo, &["latest"], "alice"), s2);
    // Per source, named as given to backup, by its data directory, or as `snapshots` lists it.
    let listed = repo.ok_json(&["snapshots"])[0][0]["source"]
        .as_str()
        .unwrap()
        .to_string();
    for source in [
        one.root.to_str().unwrap(),
        one.data().to_str().unwrap(),
        listed.as_str(),
    ] {
        assert_eq!(
            ls_messages(&repo, &["latest", "--source", source], "alice"),
            s1,
            "{source}"
        );
    }
    assert_eq!(
        ls_messages(
            &repo,
            &["latest", "--source", two.root.to_str().unwrap()],
            "alice"
        ),
        s2
    );

    // restore latest --source: installation one's alice.
    let target = repo.dir.path().join("alice");
    let o = repo.run(&[
        "restore",
        "latest",
        "--source",
        one.root.to_str().unwrap(),
        "--account",
        "alice",
        "--target",
        target.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let files = walkdir::WalkDir::new(target.join("msg"))
        .into_iter()
        .filter(|e| e.as_ref().unwrap().file_type().is_file())
        .count() as u64;
    assert_eq!(files, s1);

    // Hosts: this host has both; another host has none.
    let host = first["snapshot"].as_str().unwrap();
    let list = repo.ok_json(&["snapshots"]);
    let this_host = list[0]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == host)
        .unwrap()["host"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        ls_messages(&repo, &["latest", "--host", &this_host], "alice"),
        s2
    );
    let o = repo.run(&["ls", "latest", "--host", "no-such-host"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no-such-host"), "{}", stderr(&o));
    // An id of another source is refused under --source.
    let o = repo.run(&["ls", &host[..8], "--source", two.root.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

#[test]
fn short_repo_option_and_verify_without_argument() {
    let inst = Installation::new("small-state1");
    let repo = Repo::new();
    repo.backup(&inst.root);
    repo.backup(&inst.root);
    // `-r` is `--repo`; `verify` alone checks every snapshot.
    let o = repo.run(&["verify"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        text.lines().filter(|l| l.ends_with(": ok")).count(),
        2,
        "{text}"
    );
    let summaries: Vec<Value> = repo
        .ok_json(&["verify"])
        .into_iter()
        .filter(|l| l["type"] == "summary")
        .collect();
    assert_eq!(summaries.len(), 2);
    assert!(summaries.iter().all(|s| s["ok"] == true));
    // Damage is still found without an argument.
    let pack = walkdir::WalkDir::new(repo.path.join("packs"))
        .into_iter()
        .map(|e| e.unwrap())
        .find(|e| e.file_type().is_file())
        .unwrap();
    let mut bytes = std::fs::read(pack.path()).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(pack.path(), bytes).unwrap();
    let o = repo.run(&["verify"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn quiet_and_verbose() {
    let inst = Installation::new("small-state1");
    let repo = Repo::new();
    // --quiet: no progress events, only the summary.
    let quiet = repo.ok_json(&["--quiet", "backup", inst.root.to_str().unwrap()]);
    assert_eq!(quiet.len(), 1, "{quiet:?}");
    assert_eq!(quiet[0]["type"], "summary");
    let normal = repo.ok_json(&["backup", inst.root.to_str().unwrap()]);
    assert!(normal.iter().any(|l| l["type"] == "phase"));
    // --verbose in text: each phase as it starts and ends, on stderr.
    let o = repo.run(&["--verbose", "verify", "latest"]);
    assert_eq!(o.status.code(), Some(0));
    let err = stderr(&o);
    assert!(err.contains("verify: started"), "{err}");
    assert!(err.contains("verify: done"), "{err}");
    let o = repo.run(&["-q", "verify", "latest"]);
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("ok"));
    // Both at once is a usage error.
    assert_eq!(repo.run(&["-q", "-v", "snapshots"]).status.code(), Some(2));
}

#[test]
fn completions_and_man_pages() {
    for shell in ["bash", "zsh", "fish"] {
        let o = mailvault(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0));
        let script = String::from_utf8(o.stdout).unwrap();
        assert!(script.len() > 1000, "{shell}: {script}");
        assert!(script.contains("mailvault"), "{shell}");
        for word in ["find", "dump", "message-id", "metrics-file"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    assert_eq!(mailvault(&["completions", "tcsh"]).status.code(), Some(2));

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    let o = mailvault(&["man", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let main = std::fs::read_to_string(out.join("mailvault.1")).unwrap();
    assert!(
        main.starts_with(".ie") || main.contains(".TH mailvault"),
        "{main}"
    );
    assert!(main.contains(".TH mailvault"));
    assert!(main.contains("find"));
    let find = std::fs::read_to_string(out.join("mailvault-find.1")).unwrap();
    assert!(find.contains("message\\-id"), "{find}");
    for page in ["backup", "restore", "dump", "export", "verify"] {
        assert!(out.join(format!("mailvault-{page}.1")).is_file(), "{page}");
    }
}

/// The samples of a metrics file: `name{labels}` → value.
fn samples(path: &Path) -> std::collections::BTreeMap<String, f64> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = std::collections::BTreeMap::new();
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        let (key, value) = line.rsplit_once(' ').unwrap();
        out.insert(key.to_string(), value.parse().unwrap());
    }
    // Every sample has its HELP and TYPE.
    for key in out.keys() {
        let name = key.split('{').next().unwrap();
        assert!(text.contains(&format!("# TYPE {name} gauge")), "{name}");
        assert!(text.contains(&format!("# HELP {name} ")), "{name}");
    }
    out
}

#[test]
fn metrics_file_for_backup_and_replicate() {
    let inst = Installation::new("small-state1");
    let repo = Repo::new();
    let metrics = repo.dir.path().join("mailvault.prom");
    let source = inst.root.to_str().unwrap();
    let o = repo.run(&[
        "--metrics-file",
        metrics.to_str().unwrap(),
        "backup",
        source,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let s = samples(&metrics);
    let labels = format!("{{command=\"backup\",source=\"{source}\"}}");
    let get = |s: &std::collections::BTreeMap<String, f64>, name: &str| {
        *s.get(&format!("{name}{labels}"))
            .unwrap_or_else(|| panic!("no {name}{labels} in {s:?}"))
    };
    let success = get(&s, "mailvault_last_success_timestamp_seconds");
    assert!((now - success).abs() < 120.0, "{success} vs {now}");
    assert_eq!(get(&s, "mailvault_last_run_success"), 1.0);
    assert_eq!(get(&s, "mailvault_snapshot_complete"), 1.0);
    let total: u64 = common::truth("small-state1")["Accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["NumLiveMessages"].as_u64().unwrap())
        .sum();
    assert_eq!(get(&s, "mailvault_messages_read"), total as f64);
    assert_eq!(get(&s, "mailvault_messages_total"), total as f64);
    assert!(get(&s, "mailvault_bytes_added") > 0.0);
    assert!(get(&s, "mailvault_duration_seconds") >= 0.0);

    // A second run with nothing new reads no message; replicate adds its own labels beside.
    let offsite = repo.dir.path().join("offsite");
    let o = repo.run(&[
        "--metrics-file",
        metrics.to_str().unwrap(),
        "backup",
        source,
    ]);
    assert_eq!(o.status.code(), Some(0));
    let o = repo.run(&[
        "--metrics-file",
        metrics.to_str().unwrap(),
        "replicate",
        "--to",
        offsite.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = samples(&metrics);
    assert_eq!(get(&s, "mailvault_messages_read"), 0.0);
    let rep = format!(
        "{{command=\"replicate\",source=\"{}\"}}",
        offsite.to_str().unwrap()
    );
    assert_eq!(s[&format!("mailvault_snapshots_copied{rep}")], 2.0);
    assert_eq!(s[&format!("mailvault_last_run_success{rep}")], 1.0);

    // A failed backup: the run is marked failed, the last success is kept.
    let before = get(&s, "mailvault_last_success_timestamp_seconds");
    std::fs::remove_dir_all(&inst.root).unwrap();
    let o = repo.run(&[
        "--metrics-file",
        metrics.to_str().unwrap(),
        "backup",
        source,
    ]);
    assert_eq!(o.status.code(), Some(1));
    let s = samples(&metrics);
    assert_eq!(get(&s, "mailvault_last_run_success"), 0.0);
    assert_eq!(get(&s, "mailvault_last_success_timestamp_seconds"), before);
    assert_eq!(s[&format!("mailvault_last_run_success{rep}")], 1.0);
    // No temporary file is left beside it.
    let names: Vec<String> = std::fs::read_dir(repo.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with(".mailvault-metrics")),
        "{names:?}"
    );
}

#[test]
fn export_takes_uids_and_the_find_filters() {
    let inst = Installation::new("small-state1");
    let repo = Repo::new();
    repo.backup(&inst.root);
    // The messages `find` selects are the messages `export` writes.
    let found: BTreeSet<i64> = repo
        .ok_json(&[
            "find",
            "--at",
            "latest",
            "--account",
            "alice",
            "--subject",
            "report",
        ])
        .iter()
        .filter(|l| l["type"] == "message")
        .map(|l| l["id"].as_i64().unwrap())
        .collect();
    assert!(!found.is_empty());
    let out = repo.dir.path().join("reports");
    let o = repo.run(&[
        "export",
        "latest",
        "--account",
        "alice",
        "--format",
        "maildir",
        "--subject",
        "REPORT",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let exported: BTreeSet<i64> = walkdir::WalkDir::new(&out)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file() && e.path().parent().unwrap().ends_with("cur"))
        .map(|e| common::maildir_message_id(&e.file_name().to_string_lossy()))
        .collect();
    assert_eq!(exported, found);

    // UIDs of one mailbox, as one mbox.
    let out = repo.dir.path().join("two");
    let o = repo.run(&[
        "--json",
        "export",
        "latest",
        "--account",
        "alice",
        "--mailbox",
        "Inbox",
        "--uid",
        "1",
        "--uid",
        "3",
        "--format",
        "mbox",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(lines(&o).last().unwrap()["messages"], 2);
    let mbox = std::fs::read(out.join("Inbox.mbox")).unwrap();
    let starts = mbox
        .split(|&b| b == b'\n')
        .filter(|l| l.starts_with(b"From mailvault "))
        .count();
    assert_eq!(starts, 2);
    // --uid without exactly one mailbox is refused.
    let o = repo.run(&[
        "export",
        "latest",
        "--account",
        "alice",
        "--uid",
        "1",
        "--format",
        "mbox",
        "--output",
        repo.dir.path().join("x").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
}

/// `--tag`: `latest` is the newest snapshot carrying every tag given; an id without the tag
/// is refused.
#[test]
fn latest_per_tag() {
    let one = Installation::new("small-state1");
    let two = Installation::new("small-state2");
    let repo = Repo::new();
    let tagged = repo.ok_json(&[
        "backup",
        one.root.to_str().unwrap(),
        "--tag",
        "before-upgrade",
    ]);
    let tagged_id = tagged.last().unwrap()["snapshot"]
        .as_str()
        .unwrap()
        .to_string();
    let plain = repo.backup(&two.root);
    let (s1, s2) = (
        truth_live("small-state1", "alice"),
        truth_live("small-state2", "alice"),
    );
    assert_eq!(ls_messages(&repo, &["latest"], "alice"), s2);
    assert_eq!(
        ls_messages(&repo, &["latest", "--tag", "before-upgrade"], "alice"),
        s1
    );
    let o = repo.run(&["ls", "latest", "--tag", "nowhere"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("tag nowhere"), "{}", stderr(&o));
    let plain_id = plain["snapshot"].as_str().unwrap();
    let o = repo.run(&["ls", &plain_id[..12], "--tag", "before-upgrade"]);
    assert_eq!(o.status.code(), Some(1), "an id without the tag is refused");
    assert!(!tagged_id.is_empty());
}
