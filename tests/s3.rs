//! Offsite to S3-compatible object storage, against a real S3 API server on 127.0.0.1
//! (`moto_server`; `.ci/run` installs and starts it and sets `MAILVAULT_TEST_S3_ENDPOINT`; when
//! that is unset, the tests start `moto_server` themselves if it is installed, and say
//! "skipped" otherwise): replicate two nights and restore each from S3, check --read-data on
//! S3, interrupted runs resume without sending again, a store that refuses DELETE, transient
//! failures retried, and the command line (`init`, `replicate --to`, `restore` from S3, a
//! killed replicate).

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use mailvault::mox::generator::{GenOptions, MutateOptions, generate, mutate};
use mailvault::{
    Backend, CheckOptions, LockMode, MoxBackupOptions, NoProgress, ObjectMeta, PackParams,
    ReadData, Repository, Retry, S3Backend, S3Url, SnapshotId, backup_mox, check, replicate,
};

/// The endpoint of the test server, or `None` (the test is skipped).
fn endpoint() -> Option<&'static str> {
    static ENDPOINT: OnceLock<Option<String>> = OnceLock::new();
    ENDPOINT
        .get_or_init(|| {
            if let Ok(e) = std::env::var("MAILVAULT_TEST_S3_ENDPOINT")
                && !e.is_empty()
            {
                return Some(e);
            }
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .ok()?
                .local_addr()
                .ok()?
                .port();
            // The server goes when this test process does.
            let script = format!(
                "moto_server -H 127.0.0.1 -p {port} >/dev/null 2>&1 & m=$!; \
                 while kill -0 {} 2>/dev/null; do sleep 1; done; kill $m",
                std::process::id()
            );
            Command::new("sh").arg("-c").arg(script).spawn().ok()?;
            for _ in 0..100 {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Some(format!("http://127.0.0.1:{port}"));
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            None
        })
        .as_deref()
}

macro_rules! require_s3 {
    () => {
        match endpoint() {
            Some(e) => e,
            None => {
                eprintln!("skipped: no S3 test server (install moto[server])");
                return;
            }
        }
    };
}

const KEYS: [(&str, &str); 3] = [
    ("aws_access_key_id", "test"),
    ("aws_secret_access_key", "test"),
    ("aws_region", "us-east-1"),
];

/// A new bucket on the test server.
fn bucket(endpoint: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        "mv-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let addr = endpoint.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "PUT /{name} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    name
}

fn s3(endpoint: &str, url: &str) -> Arc<dyn Backend> {
    let url = S3Url::parse(url).unwrap().unwrap();
    let mut config = KEYS.to_vec();
    config.push(("aws_endpoint_url", endpoint));
    config.push(("aws_allow_http", "true"));
    Arc::new(Retry::new(
        Arc::new(S3Backend::with_config(&url, &config).unwrap()),
        4,
    ))
}

/// The environment the command line needs for the test server.
fn cli_env(endpoint: &str) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = vec![
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ALLOW_HTTP", "true".into()),
    ];
    out.push(("AWS_ENDPOINT_URL", endpoint.to_string()));
    out
}

/// Small packs: a replication publishes many, so an interruption falls between them.
const SMALL_PACKS: PackParams = PackParams {
    data_size: 128 << 10,
    meta_size: 16 << 10,
    max_blobs: 64,
};

fn model(root: &Path) -> BTreeMap<String, blake3::Hash> {
    common::file_contents(root)
        .into_iter()
        .filter(|(k, _)| !k.starts_with("tmp"))
        .map(|(k, v)| (k, blake3::hash(&v)))
        .collect()
}

fn assert_restores(repo: &Repository, id: &SnapshotId, want: &BTreeMap<String, blake3::Hash>) {
    let out = common::restore_whole(repo, id);
    let got = model(&out.path().join("data"));
    assert_eq!(want.len(), got.len(), "files of snapshot {id}");
    for (k, v) in want {
        assert_eq!(got.get(k), Some(v), "{k} differs in snapshot {id}");
    }
}

/// A generated installation, a local repository (messages hardlinked) and its nights.
struct Local {
    dir: tempfile::TempDir,
    repo: PathBuf,
    nights: Vec<(SnapshotId, BTreeMap<String, blake3::Hash>)>,
}

impl Local {
    fn new() -> Local {
        let dir = tempfile::tempdir().unwrap();
        generate(
            &GenOptions {
                accounts: 2,
                messages: 60,
                seed: 9,
                attachment_percent: 5.0,
                max_attachment: 200 << 10,
                queue: 1,
                ..GenOptions::default()
            },
            &dir.path().join("mox"),
        )
        .unwrap();
        let repo = dir.path().join("repo");
        Repository::init(&repo).unwrap();
        let mut local = Local {
            dir,
            repo,
            nights: Vec::new(),
        };
        local.night();
        local
    }

    fn inst(&self) -> PathBuf {
        self.dir.path().join("mox")
    }

    /// A night of mail (after the first) and its backup.
    fn night(&mut self) {
        if !self.nights.is_empty() {
            mutate(
                &self.inst(),
                &MutateOptions {
                    percent: 10.0,
                    seed: 50 + self.nights.len() as u64,
                    restart: true,
                    ..MutateOptions::default()
                },
            )
            .unwrap();
        }
        let repo = Repository::open(&self.repo).unwrap();
        let s = backup_mox(
            &repo,
            &self.inst(),
            &MoxBackupOptions::default(),
            &NoProgress,
        )
        .unwrap();
        assert!(s.complete);
        self.nights
            .push((s.snapshot, model(&self.inst().join("data"))));
    }
}

fn read_all(repo: &Repository) -> mailvault::CheckReport {
    check(
        repo,
        &CheckOptions {
            read_data: ReadData::All,
        },
        &NoProgress,
    )
    .unwrap()
}

/// Two nights replicated to S3: each snapshot restores from S3 byte-identical, check
/// --read-data passes on S3, the second run sends only the new night, a third sends nothing,
/// and the linked message files of the local repository became packed blobs there.
#[test]
fn replicate_two_nights_and_restore_each_from_s3() {
    let endpoint = require_s3!();
    let url = format!("s3://{}/offsite", bucket(endpoint));
    let shown = PathBuf::from(&url);
    let mut local = Local::new();
    let source = Repository::open(&local.repo).unwrap();
    let target =
        Repository::init_remote(&shown, s3(endpoint, &url), PackParams::default()).unwrap();
    let first = replicate(&source, &target, &NoProgress).unwrap();
    assert_eq!(first.snapshots_copied, 1);
    let t1 = first.transfer.unwrap();
    assert!(t1.bytes_sent > 0 && t1.requests > 0);
    drop((source, target));

    local.night();
    let source = Repository::open(&local.repo).unwrap();
    let target = Repository::open_remote(&shown, s3(endpoint, &url), LockMode::Shared).unwrap();
    let second = replicate(&source, &target, &NoProgress).unwrap();
    assert_eq!((second.snapshots_copied, second.snapshots_present), (1, 1));
    let t2 = second.transfer.unwrap();
    assert!(
        t2.bytes_sent < t1.bytes_sent / 2,
        "a night sends what is new: {} then {}",
        t1.bytes_sent,
        t2.bytes_sent
    );
    let third = replicate(&source, &target, &NoProgress).unwrap();
    assert_eq!(third.snapshots_copied, 0);
    assert_eq!(third.transfer.unwrap().bytes_sent, 0);
    drop((source, target));

    // Disaster recovery: a fresh open of the offsite repository, nothing local.
    let remote = Repository::open_remote(&shown, s3(endpoint, &url), LockMode::Shared).unwrap();
    assert!(!remote.is_local());
    let blobs = remote.list_blobs().unwrap();
    assert!(
        blobs.iter().all(|(_, info)| !info.raw),
        "packed on the way out"
    );
    for (id, want) in &local.nights {
        assert_restores(&remote, id, want);
    }
    let report = read_all(&remote);
    assert!(report.ok(), "{:?}", report.problems);
    assert!(report.packs_read > 0);
    drop(remote);

    // Lifecycle on S3: forget the first night, prune (exclusive lock record), and the second
    // night still checks and restores; stats read the remote too.
    let mut remote =
        Repository::open_remote(&shown, s3(endpoint, &url), LockMode::Exclusive).unwrap();
    remote.remove_snapshot(&local.nights[0].0).unwrap();
    let pruned = mailvault::prune(
        &mut remote,
        &mailvault::PruneOptions {
            max_unused_percent: 0.0,
            orphan_margin: std::time::Duration::ZERO,
            ..mailvault::PruneOptions::default()
        },
        &NoProgress,
    )
    .unwrap();
    assert!(pruned.bytes_freed() > 0, "{pruned:?}");
    drop(remote);
    let remote = Repository::open_remote(&shown, s3(endpoint, &url), LockMode::Shared).unwrap();
    let report = read_all(&remote);
    assert!(report.ok(), "{:?}", report.problems);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_restores(&remote, &local.nights[1].0, &local.nights[1].1);
    let stats = mailvault::stats(&remote, None).unwrap();
    assert_eq!(stats.snapshots, 1);
    assert_eq!(stats.pack_bytes, pruned.bytes_after);
}

/// Fails every request after the first `budget`, as a connection lost for good would.
#[derive(Debug)]
struct CutAfter {
    inner: Arc<dyn Backend>,
    left: AtomicU64,
}

impl CutAfter {
    fn spend(&self) -> std::io::Result<()> {
        let left = self.left.load(Ordering::SeqCst);
        if left == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "injected: connection lost",
            ));
        }
        self.left.store(left - 1, Ordering::SeqCst);
        Ok(())
    }
}

/// Fails every `n`-th request with a transient error, and refuses every DELETE, as a bucket
/// policy for put-only credentials does.
#[derive(Debug)]
struct Flaky {
    inner: Arc<dyn Backend>,
    every: u64,
    count: AtomicU64,
    deletes_refused: AtomicU64,
}

impl Flaky {
    fn spend(&self) -> std::io::Result<()> {
        if self.count.fetch_add(1, Ordering::SeqCst) % self.every == self.every - 1 {
            return Err(std::io::Error::other("injected: connection reset"));
        }
        Ok(())
    }
}

macro_rules! wrap_backend {
    ($t:ty, $delete:expr) => {
        impl Backend for $t {
            fn list(&self, dir: &str) -> std::io::Result<Vec<String>> {
                self.spend()?;
                self.inner.list(dir)
            }
            fn list_meta(&self, dir: &str) -> std::io::Result<Vec<ObjectMeta>> {
                self.spend()?;
                self.inner.list_meta(dir)
            }
            fn head(&self, name: &str) -> std::io::Result<Option<u64>> {
                self.spend()?;
                self.inner.head(name)
            }
            fn get(&self, name: &str) -> std::io::Result<Vec<u8>> {
                self.spend()?;
                self.inner.get(name)
            }
            fn get_range(&self, name: &str, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
                self.spend()?;
                self.inner.get_range(name, offset, len)
            }
            fn put_new(&self, name: &str, data: &[u8]) -> std::io::Result<()> {
                self.spend()?;
                self.inner.put_new(name, data)
            }
            fn delete(&self, name: &str) -> std::io::Result<()> {
                self.spend()?;
                let delete: &dyn Fn(&Self, &str) -> std::io::Result<()> = &$delete;
                delete(self, name)
            }
            fn transfer(&self) -> Option<mailvault::TransferStats> {
                self.inner.transfer()
            }
        }
    };
}

wrap_backend!(CutAfter, |s: &CutAfter, name: &str| s.inner.delete(name));
wrap_backend!(Flaky, |s: &Flaky, _name: &str| {
    s.deletes_refused.fetch_add(1, Ordering::SeqCst);
    Err(std::io::Error::new(
        std::io::ErrorKind::PermissionDenied,
        "injected: AccessDenied for DELETE",
    ))
});

/// A replication cut after N requests, for several N: the rerun completes, and what the cut run
/// sent (packs indexed as soon as they are published) is not sent again.
#[test]
fn an_interrupted_replication_resumes_without_sending_again() {
    let endpoint = require_s3!();
    let local = Local::new();
    let source = Repository::open(&local.repo).unwrap();
    // The cost of one whole run, for comparison.
    let full_url = format!("s3://{}/full", bucket(endpoint));
    let full = {
        let target =
            Repository::init_remote(Path::new(&full_url), s3(endpoint, &full_url), SMALL_PACKS)
                .unwrap();
        replicate(&source, &target, &NoProgress)
            .unwrap()
            .transfer
            .unwrap()
    };
    let mut resumed_cheaper = 0;
    assert!(full.requests >= 10, "{full:?}");
    eprintln!("a whole replication: {full:?}");
    for cut in [1, 3, 5, 8].map(|tenths| full.requests * tenths / 10) {
        let url = format!("s3://{}/cut{cut}", bucket(endpoint));
        let shown = PathBuf::from(&url);
        Repository::init_remote(&shown, s3(endpoint, &url), SMALL_PACKS).unwrap();
        let counted = s3(endpoint, &url);
        let cutter: Arc<dyn Backend> = Arc::new(CutAfter {
            inner: counted.clone(),
            left: AtomicU64::new(cut),
        });
        let result = Repository::open_remote(&shown, cutter, LockMode::Shared)
            .and_then(|t| replicate(&source, &t, &NoProgress));
        assert!(
            result.is_err(),
            "cut after {cut} requests: {:?}",
            result.map(|s| s.transfer)
        );
        let sent_before = counted.transfer().unwrap().bytes_sent;
        {
            let target = Repository::open_remote(&shown, s3(endpoint, &url), LockMode::Shared);
            // The cut run's lock record stays (it could not remove it); it is shared, so it
            // does not block the rerun.
            let target = target.unwrap();
            let rerun = replicate(&source, &target, &NoProgress).unwrap();
            assert_eq!(rerun.snapshots_copied, 1);
            let sent = rerun.transfer.unwrap().bytes_sent;
            assert!(
                sent + sent_before <= full.bytes_sent + full.bytes_sent / 10,
                "cut {cut}: {sent_before} + {sent} against {}",
                full.bytes_sent
            );
            if sent < full.bytes_sent * 9 / 10 {
                resumed_cheaper += 1;
            }
        }
        let remote = Repository::open_remote(&shown, s3(endpoint, &url), LockMode::Shared).unwrap();
        assert!(read_all(&remote).ok());
        let (id, want) = &local.nights[0];
        assert_restores(&remote, id, want);
    }
    assert!(
        resumed_cheaper >= 2,
        "later cuts leave packs the rerun keeps"
    );
}

/// Every third request fails with a transient error and every DELETE is refused: replication
/// still completes (retried; it never deletes), and the copy is whole.
#[test]
fn transient_failures_are_retried_and_delete_is_never_needed() {
    let endpoint = require_s3!();
    let local = Local::new();
    let source = Repository::open(&local.repo).unwrap();
    let url = format!("s3://{}/flaky", bucket(endpoint));
    let shown = PathBuf::from(&url);
    let flaky = Arc::new(Flaky {
        inner: s3(endpoint, &url),
        every: 3,
        count: AtomicU64::new(0),
        deletes_refused: AtomicU64::new(0),
    });
    // Every third request fails across all threads, so under load one request can meet
    // several failures in a row: enough attempts that only a real bug exhausts them.
    let retry = Arc::new(Retry::new(flaky.clone(), 8));
    let target = Repository::init_remote(&shown, retry.clone(), SMALL_PACKS).unwrap();
    let summary = replicate(&source, &target, &NoProgress).unwrap();
    assert_eq!(summary.snapshots_copied, 1);
    assert!(retry.retried() > 3, "failures were retried");
    drop(target);
    // Only the lock record's removal was attempted (refused; it goes stale by age).
    assert!(flaky.deletes_refused.load(Ordering::SeqCst) <= 2);
    let remote = Repository::open_remote(&shown, s3(endpoint, &url), LockMode::Shared).unwrap();
    assert!(read_all(&remote).ok());
    assert_restores(&remote, &local.nights[0].0, &local.nights[0].1);
}

fn mailvault(endpoint: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mailvault"));
    c.args(args).env_remove("MAILVAULT_REPO");
    for (k, v) in cli_env(endpoint) {
        c.env(k, v);
    }
    c
}

/// The command line: `replicate --to s3://…` initialises the remote, a replicate killed midway
/// is completed by the next, `snapshots`/`check`/`restore` work with `--repo s3://…`, `init`
/// refuses a prefix that holds a repository, and an exclusive command is refused while a
/// shared lock record is live.
#[test]
fn the_command_line_on_s3() {
    let endpoint = require_s3!();
    let local = Local::new();
    let url = format!("s3://{}/cli", bucket(endpoint));
    let repo = local.repo.to_str().unwrap();
    let mut child = mailvault(endpoint, &["--repo", repo, "replicate", "--to", &url])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let _ = child.kill();
    let _ = child.wait();
    let out = mailvault(
        endpoint,
        &["--repo", repo, "--json", "replicate", "--to", &url],
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .find(|v: &serde_json::Value| v["type"] == "summary")
        .unwrap();
    assert!(summary["transfer"]["requests"].as_u64().unwrap() > 0);

    let out = mailvault(endpoint, &["--repo", &url, "snapshots"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let id = local.nights[0].0.to_hex();
    assert!(String::from_utf8_lossy(&out.stdout).contains(&id[..8]));
    let out = mailvault(endpoint, &["--repo", &url, "check", "--read-data"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let target = tempfile::tempdir().unwrap();
    let dest = target.path().join("restored");
    let out = mailvault(
        endpoint,
        &[
            "--repo",
            &url,
            "restore",
            "latest",
            "--target",
            dest.to_str().unwrap(),
        ],
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(model(&dest.join("data")), local.nights[0].1);

    let out = mailvault(endpoint, &["init", &url]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"));

    // A shared holder (this process) keeps prune out, and says who it is.
    let held =
        Repository::open_remote(Path::new(&url), s3(endpoint, &url), LockMode::Shared).unwrap();
    let out = mailvault(endpoint, &["--repo", &url, "prune"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("locked") && err.contains(&std::process::id().to_string()),
        "{err}"
    );
    drop(held);
    let out = mailvault(endpoint, &["--repo", &url, "prune", "--dry-run"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The recommended setup on S3: a plaintext local repository, an encrypted offsite one, the
/// server holding only a put-only key. Two nights replicate with it (the second deduplicated),
/// it can read nothing back, the password restores each night byte for byte, and a bucket
/// listing shows no name and no plaintext id.
#[test]
fn an_encrypted_offsite_copy_with_a_put_only_key() {
    let endpoint = require_s3!();
    let mut local = Local::new();
    let url = format!("s3://{}/sealed", bucket(endpoint));
    let repo = local.repo.to_str().unwrap().to_string();
    let key = local.dir.path().join("put.key");
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = mailvault(endpoint, args);
        c.env_remove("MAILVAULT_PASSWORD")
            .env_remove("MAILVAULT_KEY_FILE");
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let pw = [("MAILVAULT_PASSWORD", "offsite secret")];
    let put = [("MAILVAULT_KEY_FILE", key.to_str().unwrap())];
    let out = run(&["init", "--encrypt", &url], &pw);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(
        &[
            "-r",
            &url,
            "key",
            "add",
            "--put-only",
            "--output",
            key.to_str().unwrap(),
        ],
        &pw,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let replicate = |local: &Local| -> serde_json::Value {
        let out = run(
            &[
                "--repo",
                local.repo.to_str().unwrap(),
                "--json",
                "replicate",
                "--to",
                &url,
            ],
            &put,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .find(|v: &serde_json::Value| v["type"] == "summary")
            .unwrap()
    };
    let first = replicate(&local);
    local.night();
    let second = replicate(&local);
    assert_eq!(first["snapshots_copied"], 1);
    assert_eq!(second["snapshots_copied"], 1);
    assert!(
        second["bytes_copied"].as_u64().unwrap() * 3 < first["bytes_copied"].as_u64().unwrap(),
        "{first} {second}"
    );
    // The put-only key reads nothing back.
    let dest = local.dir.path().join("by-put-key");
    let out = run(
        &[
            "-r",
            &url,
            "restore",
            "latest",
            "--target",
            dest.to_str().unwrap(),
        ],
        &put,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("master key"));
    assert!(!dest.exists());
    // The storage sees no plaintext id: no content id of the local repository is a name or an
    // index entry there, and no snapshot id either.
    let backend = s3(endpoint, &url);
    let local_repo = Repository::open(Path::new(&repo)).unwrap();
    let names: Vec<String> = ["packs", "snapshots", "index", "keys"]
        .iter()
        .flat_map(|d| backend.list(d).unwrap())
        .collect();
    for (id, _) in local_repo.snapshots().unwrap() {
        assert!(!names.contains(&id.to_hex()));
    }
    for (id, _) in local_repo.list_blobs().unwrap().iter().take(50) {
        assert!(!names.contains(&id.to_hex()));
    }
    drop(local_repo);
    // The password restores each night, and every blob checks.
    let out = run(&["-r", &url, "check", "--read-data"], &pw);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let ids: Vec<String> = {
        let out = run(&["-r", &url, "--json", "snapshots"], &pw);
        let v: serde_json::Value =
            serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids.len(), 2);
    for (id, (_, want)) in ids.iter().zip(&local.nights) {
        let dest = local.dir.path().join(format!("r-{id}"));
        let out = run(
            &[
                "-r",
                &url,
                "restore",
                id,
                "--target",
                dest.to_str().unwrap(),
            ],
            &pw,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(&model(&dest.join("data")), want);
    }
    // A byte changed in the bucket is found and named.
    let pack = backend.list("packs").unwrap().into_iter().next().unwrap();
    let name = format!("packs/{pack}");
    let mut bytes = backend.get(&name).unwrap();
    let at = bytes.len() - 20;
    bytes[at] ^= 1;
    backend.delete(&name).unwrap();
    backend.put_new(&name, &bytes).unwrap();
    let out = run(&["-r", &url, "check", "--read-data"], &pw);
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(4), "{shown}");
    assert!(shown.contains(&pack), "{shown}");
}
