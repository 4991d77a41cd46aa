//! Helpers shared by the integration tests: the mox fixtures, extracted fresh per test.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The directory holding the shipped fixtures.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Extracts `tests/fixtures/<name>.tar.zst` (e.g. `small-state1`) into a new temporary
/// directory and returns it; the tree holds `config/` and `data/`. Hardlinks are kept.
pub fn extract_fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    extract_fixture_into(name, dir.path());
    dir
}

/// Extracts a fixture into an existing directory.
pub fn extract_fixture_into(name: &str, dest: &Path) {
    let path = fixtures_dir().join(format!("{name}.tar.zst"));
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let decoder = zstd::Decoder::new(file).expect("zstd decoder");
    let mut archive = tar::Archive::new(decoder);
    archive.set_preserve_permissions(true);
    archive.set_preserve_mtime(true);
    archive.unpack(dest).expect("unpack fixture");
}

/// The ground truth JSON of a fixture state (`small-state1` → `small-state1.truth.json`).
pub fn truth(name: &str) -> serde_json::Value {
    let path = fixtures_dir().join(format!("{name}.truth.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("truth json")
}

/// A mox installation at a fixed path whose contents can be replaced by another fixture state,
/// as a server's data directory changes from one night to the next.
pub struct Installation {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
}

impl Installation {
    pub fn new(state: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("mox");
        std::fs::create_dir(&root).unwrap();
        extract_fixture_into(state, &root);
        Installation { _dir: dir, root }
    }

    pub fn switch_to(&self, state: &str) {
        std::fs::remove_dir_all(&self.root).unwrap();
        std::fs::create_dir(&self.root).unwrap();
        extract_fixture_into(state, &self.root);
    }

    pub fn data(&self) -> PathBuf {
        self.root.join("data")
    }
}

/// Lower-case hex SHA-256, as the ground truth writes it.
/// The ground truth of one account.
pub fn truth_account<'a>(truth: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    truth["Accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["Name"] == name)
        .unwrap_or_else(|| panic!("no account {name} in the truth"))
}

pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares an `inspect --json` report with a fixture's ground truth: every account, every
/// mailbox (name, modseq, live messages), and, when the report lists them, every message.
pub fn assert_report_matches_truth(report: &serde_json::Value, state: &str) {
    let truth = truth(state);
    let accounts = report["accounts"].as_array().unwrap();
    let truth_accounts = truth["Accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), truth_accounts.len(), "{state}");
    for ta in truth_accounts {
        let name = ta["Name"].as_str().unwrap();
        let a = accounts.iter().find(|a| a["name"] == name).unwrap();
        assert_eq!(
            a["last_modseq"], ta["SyncStateLastModSeq"],
            "{state} {name}"
        );
        for tm in ta["Mailboxes"].as_array().unwrap() {
            let m = a["mailboxes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["id"] == tm["ID"])
                .unwrap();
            assert_eq!(m["name"], tm["Name"], "{state} {name}");
            assert_eq!(m["modseq"], tm["ModSeq"], "{state} {name}");
            assert_eq!(m["messages"], tm["Messages"], "{state} {name}");
        }
        let Some(msgs) = a["messages"].as_array() else {
            continue;
        };
        let truth_msgs = ta["Messages"].as_array().unwrap();
        assert_eq!(msgs.len(), truth_msgs.len(), "{state} {name}");
        for (m, tm) in msgs.iter().zip(truth_msgs) {
            assert_eq!(m["id"], tm["ID"]);
            assert_eq!(m["mailbox_id"], tm["MailboxID"]);
            assert_eq!(m["modseq"], tm["ModSeq"]);
            assert_eq!(m["size"], tm["Size"]);
        }
    }
    assert_eq!(
        report["queue"].as_array().unwrap().len(),
        truth["Queue"].as_array().map_or(0, Vec::len),
        "{state}"
    );
}

/// The message id in an exported maildir file name (`<received>.M<id>.mailvault:2,<flags>`).
pub fn maildir_message_id(file_name: &str) -> i64 {
    file_name
        .split(".M")
        .nth(1)
        .and_then(|rest| rest.split('.').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("not an exported maildir name: {file_name}"))
}

/// Every regular file below `root`, relative path → content, skipping what the reference backup
/// skips (`tmp/`, `ctl`).
pub fn file_contents(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(root).unwrap().display().to_string();
            (rel, std::fs::read(e.path()).unwrap())
        })
        .filter(|(rel, _)| !rel.starts_with("tmp/") && rel != "ctl")
        .collect()
}

/// Restores a whole mox snapshot (`config/`, `data/`) into a new temporary directory.
pub fn restore_whole(
    repo: &mailvault::Repository,
    id: &mailvault::SnapshotId,
) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let snap = repo.load_snapshot(id).unwrap();
    mailvault::restore_mox(
        repo,
        &snap,
        out.path(),
        &mailvault::MoxRestoreSelection::default(),
        &mailvault::RestoreOptions::default(),
        &mailvault::NoProgress,
    )
    .unwrap();
    out
}

/// Pseudo-random bytes (BLAKE3 in XOF mode): incompressible, the same for the same seed.
pub fn random_bytes(seed: &str, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    blake3::Hasher::new()
        .update(seed.as_bytes())
        .finalize_xof()
        .fill(&mut out);
    out
}

/// The small fixture with `n` of alice's message files made large: each keeps its content and
/// gains `run` bytes, the same run in every one of them (`shared`, as an attachment forwarded
/// or sent again) or one of its own. Files with other links are left alone. Returns the
/// installation and the message ids made large.
pub fn large_messages(n: usize, run: usize, shared: bool) -> (Installation, Vec<i64>) {
    use std::os::unix::fs::MetadataExt;
    let inst = Installation::new("small-state1");
    let msg = inst.data().join("accounts/alice/msg");
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(&msg)
        .sort_by_file_name()
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file() && e.metadata().unwrap().nlink() == 1)
        .map(|e| e.into_path())
        .collect();
    files.truncate(n);
    assert_eq!(files.len(), n);
    let mut ids = Vec::new();
    for (i, path) in files.iter().enumerate() {
        let mut data = std::fs::read(path).unwrap();
        let seed = if shared {
            "shared run".to_string()
        } else {
            format!("run {i}")
        };
        data.extend_from_slice(b"\r\n");
        data.extend_from_slice(&random_bytes(&seed, run));
        std::fs::write(path, &data).unwrap();
        ids.push(path.file_name().unwrap().to_str().unwrap().parse().unwrap());
    }
    (inst, ids)
}

/// Every message entry of every mailbox of a snapshot, with its account.
pub fn all_messages(
    repo: &mailvault::Repository,
    snap: &mailvault::Snapshot,
) -> Vec<(String, mailvault::MessageEntry)> {
    let mut out = Vec::new();
    for account in &snap.accounts {
        let manifest = mailvault::load_manifest(repo, account).unwrap();
        for mb in &manifest.mailboxes {
            for m in mailvault::load_list(repo, &mb.list).unwrap().messages {
                out.push((account.name.clone(), m));
            }
        }
    }
    out
}
