//! Encrypted repositories and put-only keys, through the command line, on the mox fixtures: no
//! repository file holds plaintext of a message or a name; a put-only key backs up and
//! replicates (deduplicating) but reads and removes nothing; the master key restores
//! everything byte-identical; tampering is detected and named; key management; the golden
//! encrypted repository still opens.

mod check;
mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::Installation;
use serde_json::Value;

const PASSWORD: &str = "correct horse battery staple";

fn mailvault(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mailvault"));
    cmd.args(args)
        .env_remove("MAILVAULT_REPO")
        .env_remove("MAILVAULT_PASSWORD")
        .env_remove("MAILVAULT_KEY_FILE")
        .env_remove("MAILVAULT_NEW_PASSWORD");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Runs a command that must succeed.
fn ok(args: &[&str], env: &[(&str, &str)]) -> String {
    let o = mailvault(args, env);
    assert!(o.status.success(), "{args:?} failed: {}", text(&o));
    text(&o)
}

/// The JSON lines of a successful command.
fn json(args: &[&str], env: &[(&str, &str)]) -> Vec<Value> {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    ok(&all, env)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The snapshot ids (oldest first) as the master key lists them.
fn snapshot_ids(repo: &Path) -> Vec<String> {
    let lines = json(&["-r", s(repo), "snapshots"], &pw());
    lines[0]
        .as_array()
        .expect("snapshots --json is an array")
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect()
}

fn summary(lines: &[Value]) -> &Value {
    lines
        .iter()
        .find(|l| l["type"] == "summary")
        .expect("a summary line")
}

fn pw() -> [(&'static str, &'static str); 1] {
    [("MAILVAULT_PASSWORD", PASSWORD)]
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Files of a data directory that a restore brings back (the fixture's own `tmp/` aside).
fn data_model(root: &Path) -> BTreeMap<String, blake3::Hash> {
    common::file_contents(root)
        .into_iter()
        .map(|(k, v)| (k, blake3::hash(&v)))
        .collect()
}

fn assert_restores(repo: &Path, snapshot: &str, env: &[(&str, &str)], want: &Path) {
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("r");
    ok(
        &["-r", s(repo), "restore", snapshot, "--target", s(&target)],
        env,
    );
    let want = data_model(&want.join("data"));
    let got = data_model(&target.join("data"));
    assert_eq!(want.len(), got.len(), "files restored of {snapshot}");
    for (k, v) in &want {
        assert_eq!(got.get(k), Some(v), "{k} differs in {snapshot}");
    }
}

/// Unique strings of the installation's messages: each Subject and Message-ID (at least 12
/// bytes, so that random bytes cannot hold one by chance).
fn message_needles(data: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(data.join("accounts")) {
        let e = e.unwrap();
        if !e.file_type().is_file() || !e.path().to_string_lossy().contains("/msg/") {
            continue;
        }
        let bytes = std::fs::read(e.path()).unwrap();
        let head_end = bytes
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .or_else(|| bytes.windows(2).position(|w| w == b"\n\n"))
            .unwrap_or(bytes.len());
        for line in bytes[..head_end].split(|b| *b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let lower = line.to_ascii_lowercase();
            for name in [&b"subject: "[..], &b"message-id: "[..]] {
                if lower.starts_with(name) {
                    let value = line[name.len()..].to_vec();
                    if value.len() >= 12 {
                        out.push(value);
                    }
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Account and mailbox names as the repository's structures would hold them in the clear: a
/// postcard string (length byte, then the name).
fn name_needles(state: &str) -> Vec<Vec<u8>> {
    let truth = common::truth(state);
    let mut out = Vec::new();
    for a in truth["Accounts"].as_array().unwrap() {
        let mut names = vec![a["Name"].as_str().unwrap().to_string()];
        for m in a["Mailboxes"].as_array().unwrap() {
            names.push(m["Name"].as_str().unwrap().to_string());
        }
        for n in names {
            let mut needle = vec![n.len() as u8];
            needle.extend_from_slice(n.as_bytes());
            out.push(needle);
        }
    }
    out.sort();
    out.dedup();
    out
}

/// What a reader of `bytes` can see: the bytes, and every zstd frame in them decompressed (a
/// repository that only compressed would show its plaintext here).
fn visible(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![bytes.to_vec()];
    let magic = [0x28, 0xb5, 0x2f, 0xfd];
    let mut at = 0;
    while let Some(p) = bytes[at..].windows(4).position(|w| w == magic) {
        let start = at + p;
        let mut plain = Vec::new();
        if let Ok(d) = zstd::stream::read::Decoder::new(&bytes[start..]) {
            let _ = d.single_frame().take(64 << 20).read_to_end(&mut plain);
        }
        if !plain.is_empty() {
            out.push(plain);
        }
        at = start + 4;
    }
    out
}

/// The needles found in any file under `root`, with the file.
fn found(root: &Path, needles: &[Vec<u8>]) -> Vec<(String, String)> {
    let matcher = aho_corasick::AhoCorasick::new(needles).unwrap();
    let mut hits = std::collections::BTreeSet::new();
    for e in walkdir::WalkDir::new(root) {
        let e = e.unwrap();
        if !e.file_type().is_file() {
            continue;
        }
        let bytes = std::fs::read(e.path()).unwrap();
        for view in visible(&bytes) {
            for m in matcher.find_overlapping_iter(&view) {
                hits.insert((
                    e.path().display().to_string(),
                    String::from_utf8_lossy(&needles[m.pattern().as_usize()]).into_owned(),
                ));
            }
        }
    }
    hits.into_iter().collect()
}

#[test]
fn no_repository_file_holds_plaintext_of_a_message_or_a_name() {
    let inst = Installation::new("small-state1");
    let dir = tempfile::tempdir().unwrap();
    let enc = dir.path().join("enc");
    let plain = dir.path().join("plain");
    ok(&["init", "--encrypt", s(&enc)], &pw());
    ok(&["init", s(&plain)], &[]);
    let mut messages = message_needles(&inst.data());
    let mut names = name_needles("small-state1");
    for state in ["small-state1", "small-state2"] {
        inst.switch_to(state);
        ok(&["-r", s(&enc), "backup", s(&inst.root)], &pw());
        // The control: the same backup in the clear (copied, not linked).
        ok(
            &["-r", s(&plain), "backup", "--no-link", s(&inst.root)],
            &[],
        );
        messages.extend(message_needles(&inst.data()));
        names.extend(name_needles(state));
    }
    messages.sort();
    messages.dedup();
    names.sort();
    names.dedup();
    assert!(messages.len() > 300, "{} message strings", messages.len());
    assert!(names.len() > 10, "{} names", names.len());
    // The search finds them where they are in the clear (compressed or not)...
    let control_messages: std::collections::BTreeSet<String> = found(&plain, &messages)
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    let control_names = found(&plain, &names);
    assert!(
        control_messages.len() * 10 > messages.len() * 9,
        "the control repository shows {} of {} message strings",
        control_messages.len(),
        messages.len()
    );
    assert!(!control_names.is_empty(), "the control shows no name");
    // ...and nowhere in the encrypted repository.
    let leaks = found(&enc, &messages);
    assert!(leaks.is_empty(), "plaintext of messages: {leaks:?}");
    let leaks = found(&enc, &names);
    assert!(leaks.is_empty(), "plaintext names: {leaks:?}");
    // And it restores, byte for byte.
    assert_restores(&enc, "latest", &pw(), &inst.root);
}

/// A plaintext local repository (the server's), an encrypted offsite one, and a put-only key.
struct Offsite {
    dir: tempfile::TempDir,
    inst: Installation,
    local: PathBuf,
    offsite: PathBuf,
    put_key: PathBuf,
}

impl Offsite {
    fn new() -> Offsite {
        let dir = tempfile::tempdir().unwrap();
        let inst = Installation::new("small-state1");
        let local = dir.path().join("local");
        let offsite = dir.path().join("offsite");
        let put_key = dir.path().join("put.key");
        ok(&["init", s(&local)], &[]);
        ok(&["init", "--encrypt", s(&offsite)], &pw());
        ok(
            &[
                "-r",
                s(&offsite),
                "key",
                "add",
                "--put-only",
                "--output",
                s(&put_key),
                "--label",
                "mail server",
            ],
            &pw(),
        );
        Offsite {
            dir,
            inst,
            local,
            offsite,
            put_key,
        }
    }

    /// The mail server's night: back up locally, replicate with the put-only key.
    fn night(&self, state: &str) -> Value {
        self.inst.switch_to(state);
        ok(&["-r", s(&self.local), "backup", s(&self.inst.root)], &[]);
        let lines = json(
            &["-r", s(&self.local), "replicate", "--to", s(&self.offsite)],
            &[("MAILVAULT_KEY_FILE", s(&self.put_key))],
        );
        summary(&lines).clone()
    }

    fn snapshot_ids(&self) -> Vec<String> {
        snapshot_ids(&self.offsite)
    }
}

#[test]
fn a_put_only_key_backs_up_and_replicates_but_reads_and_removes_nothing() {
    let o = Offsite::new();
    let mode = std::fs::metadata(&o.put_key).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
        0o600
    );
    let first = o.night("small-state1");
    assert_eq!(first["snapshots_copied"], 1, "{first}");
    let second = o.night("small-state2");
    assert_eq!(second["snapshots_copied"], 1, "{second}");
    // The second night deduplicates against what the offsite copy holds.
    let (b1, b2) = (
        first["bytes_copied"].as_u64().unwrap(),
        second["bytes_copied"].as_u64().unwrap(),
    );
    assert!(
        b2 * 4 < b1,
        "second night copied {b2} bytes, first {b1}: no deduplication"
    );
    assert!(second["blobs_present"].as_u64().unwrap() > 0);
    // A run with nothing new sends nothing.
    let again = summary(&json(
        &["-r", s(&o.local), "replicate", "--to", s(&o.offsite)],
        &[("MAILVAULT_KEY_FILE", s(&o.put_key))],
    ))
    .clone();
    assert_eq!(again["snapshots_copied"], 0);
    assert_eq!(again["snapshots_present"], 2);

    // A backup straight into the encrypted repository with the put-only key: everything is
    // read (it cannot see the last snapshot), and what the replicated nights hold is not
    // stored again. (Messages over 128 KiB are: a backup that copies stores them as chunks,
    // while replication of a linked repository sent them whole.)
    let put = [("MAILVAULT_KEY_FILE", s(&o.put_key))];
    let lines = json(&["-r", s(&o.offsite), "backup", s(&o.inst.root)], &put);
    let s2 = summary(&lines);
    let added = s2["bytes_added"].as_u64().unwrap();
    assert!(
        added < b1 / 4,
        "put-only backup added {added} bytes of {b1}"
    );
    assert!(s2["messages_read"].as_u64().unwrap() > 300, "{s2}");

    // Every command that reads or removes refuses, clearly, and writes nothing.
    let ids = o.snapshot_ids();
    assert_eq!(ids.len(), 3);
    let target = o.dir.path().join("restored");
    let export = o.dir.path().join("export");
    let repo = s(&o.offsite);
    for args in [
        vec!["-r", repo, "snapshots"],
        vec!["-r", repo, "ls", &ids[0]],
        vec!["-r", repo, "restore", &ids[0], "--target", s(&target)],
        vec![
            "-r",
            repo,
            "export",
            &ids[0],
            "--account",
            "alice",
            "--format",
            "mbox",
            "--output",
            s(&export),
        ],
        vec!["-r", repo, "diff", &ids[0], &ids[1]],
        vec!["-r", repo, "find", "--subject", "a"],
        vec!["-r", repo, "check", "--read-data"],
        vec!["-r", repo, "forget", "--keep-last", "1"],
        vec!["-r", repo, "forget", &ids[0]],
        vec!["-r", repo, "prune"],
        vec!["-r", repo, "key", "add", "--output", "/dev/null/x"],
    ] {
        let out = mailvault(&args, &put);
        assert!(
            !out.status.success(),
            "{args:?} succeeded with a put-only key"
        );
        assert!(
            text(&out).contains("master key"),
            "{args:?}: {}",
            text(&out)
        );
    }
    assert!(!target.exists() && !export.exists());
    // Nothing was removed.
    assert_eq!(o.snapshot_ids(), ids);

    // The master key restores both nights byte for byte, and everything checks.
    o.inst.switch_to("small-state1");
    let first_id = snapshot_ids(&o.offsite).remove(0);
    assert_restores(&o.offsite, &first_id, &pw(), &o.inst.root);
    o.inst.switch_to("small-state2");
    assert_restores(&o.offsite, "latest", &pw(), &o.inst.root);
    ok(&["-r", repo, "check", "--read-data"], &pw());
    // The master key forgets and prunes.
    ok(
        &["-r", repo, "forget", "--keep-last", "1", "--prune"],
        &pw(),
    );
    assert_restores(&o.offsite, "latest", &pw(), &o.inst.root);
    ok(&["-r", repo, "check", "--read-data"], &pw());
}

/// Runs `check --read-data` expecting damage (exit 4); returns its output.
fn check_damaged(repo: &Path) -> String {
    let out = mailvault(&["-r", s(repo), "check", "--read-data"], &pw());
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    text(&out)
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[test]
fn tampering_is_detected_and_named() {
    let o = Offsite::new();
    o.night("small-state1");
    o.night("small-state2");
    let repo = &o.offsite;
    ok(&["-r", s(repo), "check", "--read-data"], &pw());
    let work = o.dir.path();

    // A flipped byte in a pack.
    let damaged = work.join("flipped");
    check::copy_dir(repo, &damaged);
    let packs = files_in(&damaged.join("packs"));
    let biggest = packs
        .iter()
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    let mut bytes = std::fs::read(biggest).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x40;
    std::fs::write(biggest, &bytes).unwrap();
    let report = check_damaged(&damaged);
    let name = biggest.file_name().unwrap().to_string_lossy().into_owned();
    assert!(report.contains(&name), "{report}");
    // Almost always inside a sealed payload; a hit on an entry's header is named as damage too.
    assert!(
        report.contains("fails authentication") || report.contains("corrupt"),
        "{report}"
    );

    // Two packs swapped.
    let swapped = work.join("swapped");
    check::copy_dir(repo, &swapped);
    let packs = files_in(&swapped.join("packs"));
    let (a, b) = (&packs[0], &packs[1]);
    let (ba, bb) = (std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    std::fs::write(a, &bb).unwrap();
    std::fs::write(b, &ba).unwrap();
    let report = check_damaged(&swapped);
    for p in [a, b] {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        assert!(report.contains(&name), "{name} not named: {report}");
    }
    let out = mailvault(
        &[
            "-r",
            s(&swapped),
            "restore",
            "latest",
            "--target",
            s(&work.join("r1")),
        ],
        &pw(),
    );
    assert!(!out.status.success(), "{}", text(&out));

    // A snapshot from another repository (same password, another key).
    let other = work.join("other");
    ok(&["init", "--encrypt", s(&other)], &pw());
    ok(&["-r", s(&other), "backup", s(&o.inst.root)], &pw());
    let foreign = files_in(&other.join("snapshots")).remove(0);
    let mixed = work.join("mixed");
    check::copy_dir(repo, &mixed);
    let planted = mixed.join("snapshots").join(foreign.file_name().unwrap());
    std::fs::copy(&foreign, &planted).unwrap();
    let report = check_damaged(&mixed);
    assert!(
        report.contains(&foreign.file_name().unwrap().to_string_lossy().into_owned()),
        "{report}"
    );
    assert!(report.contains("fails authentication"), "{report}");
    // The good snapshots are still listed and restore.
    let listed = mailvault(&["-r", s(&mixed), "snapshots"], &pw());
    assert!(
        text(&listed).contains("fails authentication"),
        "{}",
        text(&listed)
    );

    // A rolled-back index: the newest index file withdrawn.
    let rolled = work.join("rolled");
    check::copy_dir(repo, &rolled);
    let newest = files_in(&repo.join("index"))
        .into_iter()
        .max_by_key(|p| std::fs::metadata(p).unwrap().modified().unwrap())
        .unwrap();
    std::fs::remove_file(rolled.join("index").join(newest.file_name().unwrap())).unwrap();
    let report = check_damaged(&rolled);
    assert!(
        report.contains("referenced but not in the repository")
            || report.contains("is missing from the repository"),
        "{report}"
    );
    assert!(
        ["alice", "bob", "carol"]
            .iter()
            .any(|a| report.contains(&format!("in {a}/"))
                || report.contains(&format!("account {a}"))),
        "{report}"
    );

    // An index file the storage made up (not sealed with the index key) is refused.
    let forged = work.join("forged");
    check::copy_dir(repo, &forged);
    let victim = files_in(&forged.join("index")).remove(0);
    let mut bytes = std::fs::read(&victim).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 1;
    let renamed = forged
        .join("index")
        .join(blake3::hash(&bytes).to_hex().as_str());
    std::fs::remove_file(&victim).unwrap();
    std::fs::write(&renamed, &bytes).unwrap();
    let report = check_damaged(&forged);
    assert!(
        report.contains("index file fails authentication"),
        "{report}"
    );
}

#[test]
fn keys_are_added_changed_and_removed_and_wrong_ones_refused() {
    let o = Offsite::new();
    o.night("small-state1");
    let repo = s(&o.offsite);
    let target = o.dir.path().join("never");

    // A wrong password: a clear error, nothing written.
    let out = mailvault(
        &["-r", repo, "restore", "latest", "--target", s(&target)],
        &[("MAILVAULT_PASSWORD", "wrong")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("wrong password"), "{}", text(&out));
    assert!(!target.exists());
    // No key at all.
    let out = mailvault(&["-r", repo, "snapshots"], &[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("encrypted"), "{}", text(&out));

    // A second password, then the first one changed.
    ok(
        &["-r", repo, "key", "add", "--label", "second"],
        &[
            ("MAILVAULT_PASSWORD", PASSWORD),
            ("MAILVAULT_NEW_PASSWORD", "two"),
        ],
    );
    ok(&["-r", repo, "snapshots"], &[("MAILVAULT_PASSWORD", "two")]);
    ok(
        &["-r", repo, "key", "passwd"],
        &[
            ("MAILVAULT_PASSWORD", PASSWORD),
            ("MAILVAULT_NEW_PASSWORD", "three"),
        ],
    );
    let out = mailvault(&["-r", repo, "snapshots"], &pw());
    assert!(text(&out).contains("wrong password"), "{}", text(&out));
    ok(
        &["-r", repo, "snapshots"],
        &[("MAILVAULT_PASSWORD", "three")],
    );
    let keys = json(
        &["-r", repo, "key", "list"],
        &[("MAILVAULT_PASSWORD", "two")],
    );
    let kinds: Vec<&str> = keys.iter().map(|k| k["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| k.starts_with("master")).count(), 2);
    assert_eq!(kinds.iter().filter(|k| **k == "put-only").count(), 1);
    assert_eq!(keys.iter().filter(|k| k["current"] == true).count(), 1);

    // A master key file (kept offline) opens it without a password.
    let master = o.dir.path().join("master.key");
    ok(
        &["-r", repo, "key", "add", "--output", s(&master)],
        &[("MAILVAULT_PASSWORD", "two")],
    );
    ok(
        &["-r", repo, "check", "--read-data"],
        &[("MAILVAULT_KEY_FILE", s(&master))],
    );

    // The last password cannot go; the others can.
    let id_of = |label: &str| -> String {
        json(
            &["-r", repo, "key", "list"],
            &[("MAILVAULT_PASSWORD", "two")],
        )
        .iter()
        .find(|k| k["label"] == label)
        .map(|k| k["id"].as_str().unwrap().to_string())
        .unwrap()
    };
    ok(
        &["-r", repo, "key", "remove", &id_of("changed password")],
        &[("MAILVAULT_PASSWORD", "two")],
    );
    let out = mailvault(
        &["-r", repo, "key", "remove", &id_of("second")],
        &[("MAILVAULT_PASSWORD", "two")],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("last password"), "{}", text(&out));

    // A put-only key withdrawn is refused.
    let put_id = id_of("mail server");
    ok(
        &["-r", repo, "key", "remove", &put_id[..8]],
        &[("MAILVAULT_PASSWORD", "two")],
    );
    let out = mailvault(
        &["-r", repo, "backup", s(&o.inst.root)],
        &[("MAILVAULT_KEY_FILE", s(&o.put_key))],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("removed"), "{}", text(&out));

    // A key of another repository is refused, naming the file.
    let other = o.dir.path().join("other");
    ok(&["init", "--encrypt", s(&other)], &pw());
    let out = mailvault(
        &["-r", s(&other), "snapshots"],
        &[("MAILVAULT_KEY_FILE", s(&master))],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("another repository"), "{}", text(&out));
}

/// The golden encrypted repository (format 3) and its keys.
fn golden_v3() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/repo-v3")
}

const GOLDEN_PASSWORD: &str = "golden";

/// Writes `tests/golden/repo-v3` (once, when format 3 was released):
/// `cargo test --test encryption write_golden_v3 -- --ignored`
#[test]
#[ignore]
fn write_golden_v3() {
    let work = tempfile::tempdir().unwrap();
    let inst = work.path().join("mox");
    let opts = mailvault::mox::generator::GenOptions {
        accounts: 2,
        messages: 8,
        seed: 7,
        attachment_percent: 0.0,
        max_attachment: 20_000,
        queue: 1,
        junk_every: 0,
        ..Default::default()
    };
    mailvault::mox::generator::generate(&opts, &inst).unwrap();
    let root = work.path().join("repo");
    let kdf = mailvault::Argon2Params {
        memory_kib: 64,
        passes: 1,
        lanes: 1,
    };
    let repo = mailvault::Repository::init_encrypted_with(s(&root), GOLDEN_PASSWORD, kdf).unwrap();
    let s1 = mailvault::backup_mox(
        &repo,
        &inst,
        &mailvault::MoxBackupOptions::default(),
        &mailvault::NoProgress,
    )
    .unwrap();
    assert!(s1.complete);
    let out = golden_v3();
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    repo.key_add_file(&out.join("put.key"), true, "golden put-only key")
        .unwrap();
    repo.key_add_file(&out.join("master.key"), false, "golden master key")
        .unwrap();
    drop(repo);
    check::copy_repository_files(&root, &out.join("repo"));
    let lines: String = common::file_contents(&inst)
        .into_iter()
        .filter(|(p, _)| p.contains("/msg/") || p.starts_with("config/"))
        .map(|(p, v)| format!("{}  {p}\n", blake3::hash(&v).to_hex()))
        .collect();
    std::fs::write(out.join("files.b3"), lines).unwrap();
}

#[test]
fn golden_v3_encrypted_repository_still_opens_with_each_key() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("repo");
    check::copy_dir(&golden_v3().join("repo"), &root);
    // Empty directories are not kept in the source tree.
    for d in ["tmp", "locks", "packs", "snapshots", "index", "keys"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    let want: BTreeMap<String, String> = std::fs::read_to_string(golden_v3().join("files.b3"))
        .unwrap()
        .lines()
        .map(|l| {
            let (h, p) = l.split_once("  ").unwrap();
            (p.to_string(), h.to_string())
        })
        .collect();
    assert!(want.len() > 10);
    let master = golden_v3().join("master.key");
    for env in [
        [("MAILVAULT_PASSWORD", GOLDEN_PASSWORD)],
        [("MAILVAULT_KEY_FILE", s(&master))],
    ] {
        let target = work.path().join(format!("r-{}", env[0].0));
        ok(
            &["-r", s(&root), "restore", "latest", "--target", s(&target)],
            &env,
        );
        let got: BTreeMap<String, String> = common::file_contents(&target)
            .into_iter()
            .filter(|(p, _)| want.contains_key(p))
            .map(|(p, v)| (p, blake3::hash(&v).to_hex().to_string()))
            .collect();
        assert_eq!(got, want);
        ok(&["-r", s(&root), "check", "--read-data"], &env);
    }
    // The put-only key still adds (and reads nothing).
    let put = golden_v3().join("put.key");
    let inst = Installation::new("small-state1");
    ok(
        &["-r", s(&root), "backup", s(&inst.root)],
        &[("MAILVAULT_KEY_FILE", s(&put))],
    );
    let out = mailvault(
        &["-r", s(&root), "snapshots"],
        &[("MAILVAULT_KEY_FILE", s(&put))],
    );
    assert!(text(&out).contains("master key"), "{}", text(&out));
    assert_restores(
        &root,
        "latest",
        &[("MAILVAULT_PASSWORD", GOLDEN_PASSWORD)],
        &inst.root,
    );
}
