//! The scale run: a million messages, the nights that matter at that size, and restic side by
//! side when it is installed (it is only run, never linked).
//!
//! ```text
//! cargo bench --bench scale                                         # 10 accounts x 100,000
//! MV_BENCH_SCALE_ACCOUNTS=1 MV_BENCH_SCALE_MESSAGES=1000000 cargo bench --bench scale
//! MV_BENCH_SCALE_ACCOUNTS=1 MV_BENCH_SCALE_MESSAGES=100000 MV_BENCH_TOOLS=mailvault cargo bench --bench scale
//! ```
//!
//! Generates the installation (small messages: no attachments), then each step is a fresh
//! process timed from outside, with its peak memory from GNU `/usr/bin/time`: `init`, the first
//! backup (repository on the same filesystem: message files hardlinked), a run with nothing
//! changed, a night with 1 % new mail, a night with a single new message (nothing else
//! changes; mox keeps running), a restore of the latest snapshot; then, mailvault only, an
//! export of the first account (every mailbox, mbox) and a replication of the repository into
//! an empty directory. Bytes added per step are
//! what the tool reports (mailvault's `bytes_added`, restic's `data_added`) and the growth of
//! the repository's own files (hardlinks of message files not counted; mailvault's local
//! catalog, a rebuildable cache of the index, in a column of its own). Results are printed as a
//! table and written to `target/bench-scale.json`.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use mailvault::mox::generator::{GenOptions, MutateOptions, generate, mutate};

mod util;
use util::{Step, dir_size, env_usize, have, run_output};

const PASSWORD: &str = "mailvault-bench";

/// One step of one tool.
#[derive(Default, Clone, serde::Serialize)]
struct Outcome {
    #[serde(flatten)]
    step: Step,
    /// What the tool says it added to the repository.
    reported_bytes_added: Option<u64>,
    /// Growth of the repository's own files (apparent size; message files hardlinked from the
    /// source are not the repository's bytes).
    repository_growth: u64,
    /// Growth of mailvault's local catalog (`catalog.redb`, a rebuildable cache of the index,
    /// never replicated), left out of `repository_growth`.
    catalog_growth: u64,
}

struct Tool {
    name: &'static str,
    env: Vec<(String, String)>,
    init: Vec<String>,
    backup: Vec<String>,
    restore: Vec<String>,
    /// Steps only some tools have: (step, arguments, run in this directory, removed after).
    more: Vec<(&'static str, Vec<String>, PathBuf)>,
    repo: PathBuf,
}

impl Tool {
    fn run(
        &self,
        step: &str,
        args: &[String],
        cwd: &Path,
        source: &HashSet<(u64, u64)>,
    ) -> Outcome {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let before = own_bytes(&self.repo, source);
        let catalog = || std::fs::metadata(self.repo.join("catalog.redb")).map_or(0, |m| m.len());
        let catalog_before = catalog();
        let (step, out) = run_output(&format!("{} {step}", self.name), &args, &env, cwd);
        Outcome {
            step,
            reported_bytes_added: reported_added(&out),
            repository_growth: own_bytes(&self.repo, source).saturating_sub(before),
            catalog_growth: catalog().saturating_sub(catalog_before),
        }
    }
}

/// The inodes of the files below `dir`.
fn inodes(dir: &Path) -> HashSet<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| (m.dev(), m.ino()))
        .collect()
}

/// Apparent size of the files below `repo`, each inode once, without the inodes of `source`.
fn own_bytes(repo: &Path, source: &HashSet<(u64, u64)>) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut seen = HashSet::new();
    walkdir::WalkDir::new(repo)
        .into_iter()
        .flatten()
        .filter(|e| e.file_name() != "catalog.redb")
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file() && !source.contains(&(m.dev(), m.ino())))
        .filter(|m| seen.insert((m.dev(), m.ino())))
        .map(|m| m.len())
        .sum()
}

/// `bytes_added` of mailvault's summary line, or `data_added` of restic's.
fn reported_added(stdout: &str) -> Option<u64> {
    stdout.lines().rev().find_map(|l| {
        let v: serde_json::Value = serde_json::from_str(l).ok()?;
        let summary = v.get("type").and_then(|t| t.as_str()) == Some("summary")
            || v.get("message_type").and_then(|t| t.as_str()) == Some("summary");
        if !summary {
            return None;
        }
        v.get("bytes_added")
            .or_else(|| v.get("data_added"))
            .and_then(serde_json::Value::as_u64)
    })
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

fn tools(work: &Path, install: &str, first_account: &str, wanted: &[String]) -> Vec<Tool> {
    let mv = env!("CARGO_BIN_EXE_mailvault");
    let mut out = Vec::new();
    if wanted.iter().any(|t| t == "mailvault") {
        let repo = work.join("mailvault");
        out.push(Tool {
            name: "mailvault",
            env: vec![("MAILVAULT_REPO".into(), repo.display().to_string())],
            init: strings(&[mv, "init", repo.to_str().unwrap()]),
            backup: strings(&[mv, "--json", "backup", install]),
            restore: strings(&[mv, "restore", "latest", "--target", "."]),
            more: vec![
                (
                    "export",
                    strings(&[
                        mv,
                        "export",
                        "latest",
                        "--account",
                        first_account,
                        "--format",
                        "mbox",
                        "--output",
                        "export",
                    ]),
                    work.join("export-run"),
                ),
                (
                    "replicate",
                    strings(&[mv, "replicate", "--to", "replica"]),
                    work.join("replicate-run"),
                ),
            ],
            repo,
        });
    }
    if wanted.iter().any(|t| t == "restic") && have("restic") {
        let repo = work.join("restic");
        out.push(Tool {
            name: "restic",
            env: vec![
                ("RESTIC_PASSWORD".into(), PASSWORD.into()),
                ("RESTIC_REPOSITORY".into(), repo.display().to_string()),
                (
                    "RESTIC_CACHE_DIR".into(),
                    work.join("restic-cache").display().to_string(),
                ),
            ],
            init: strings(&["restic", "init"]),
            backup: strings(&["restic", "backup", "--json", install]),
            restore: strings(&["restic", "restore", "latest", "-q", "--target", "."]),
            more: Vec::new(),
            repo,
        });
    }
    out
}

/// Peak resident memory of this process so far (Linux), in MiB.
fn own_peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1048576.0)
}

const STEPS: [(&str, &str); 8] = [
    ("init", "init"),
    ("first", "first backup"),
    ("unchanged", "unchanged"),
    ("night", "1 % night"),
    ("single", "one new message"),
    ("restore", "restore latest"),
    ("export", "export one account (mbox)"),
    ("replicate", "replicate to a directory"),
];

fn main() {
    // `cargo bench` passes `--bench`; nothing else is accepted.
    let accounts = env_usize("MV_BENCH_SCALE_ACCOUNTS", 10);
    let messages = env_usize("MV_BENCH_SCALE_MESSAGES", 100_000);
    let wanted: Vec<String> = std::env::var("MV_BENCH_TOOLS")
        .unwrap_or_else(|_| "mailvault,restic".into())
        .split(',')
        .map(str::to_string)
        .collect();
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-scale");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let install = work.join("mox");

    eprintln!("generating {accounts} accounts x {messages} small messages ...");
    let t = Instant::now();
    let report = generate(
        &GenOptions {
            accounts,
            messages,
            seed: 1,
            attachment_percent: 0.0,
            detailed_report: false,
            ..GenOptions::default()
        },
        &install,
    )
    .unwrap();
    let gen_seconds = t.elapsed().as_secs_f64();
    let gen_peak = own_peak_rss_mib();
    let data_bytes = dir_size(&install);
    eprintln!(
        "  {} messages, {:.0} MiB on disk, generated in {gen_seconds:.1} s",
        report.totals.live_messages,
        data_bytes as f64 / 1048576.0
    );

    let first_account = report.accounts[0].name.clone();
    let tools = tools(&work, install.to_str().unwrap(), &first_account, &wanted);
    let mut results: BTreeMap<&str, BTreeMap<&str, Outcome>> = BTreeMap::new();
    let mut nights: BTreeMap<&str, serde_json::Value> = BTreeMap::new();
    for (step, _) in STEPS {
        let mutation = match step {
            "night" => Some(MutateOptions {
                percent: 1.0,
                seed: 2,
                detailed_report: false,
                ..MutateOptions::default()
            }),
            // One delivery while mox runs: no restart, nothing else changes.
            "single" => Some(MutateOptions {
                seed: 3,
                only_deliver: Some(1),
                restart: false,
                detailed_report: false,
                ..MutateOptions::default()
            }),
            _ => None,
        };
        if let Some(opts) = mutation {
            let t = Instant::now();
            let night = mutate(&install, &opts).unwrap();
            let delivered: usize = night.accounts.iter().map(|a| a.delivered.len()).sum();
            let seconds = t.elapsed().as_secs_f64();
            eprintln!("{step}: {delivered} new messages, applied in {seconds:.1} s");
            nights.insert(
                step,
                serde_json::json!({"delivered": delivered, "seconds": seconds}),
            );
        }
        let source = inodes(&install);
        for tool in &tools {
            let outcome = match step {
                "init" => tool.run(step, &tool.init, &work, &source),
                "restore" => {
                    let target = work.join("restore");
                    std::fs::create_dir_all(&target).unwrap();
                    let o = tool.run(step, &tool.restore, &target, &source);
                    let _ = std::fs::remove_dir_all(&target);
                    o
                }
                "export" | "replicate" => {
                    let Some((_, args, dir)) = tool.more.iter().find(|(s, _, _)| *s == step) else {
                        continue;
                    };
                    std::fs::create_dir_all(dir).unwrap();
                    let o = tool.run(step, args, dir, &source);
                    let _ = std::fs::remove_dir_all(dir);
                    o
                }
                _ => tool.run(step, &tool.backup, &work, &source),
            };
            results.entry(tool.name).or_default().insert(step, outcome);
        }
    }

    println!(
        "\n## {accounts} account(s) x {messages} small messages: {} live messages, {:.0} MiB data directory\n",
        report.totals.live_messages,
        data_bytes as f64 / 1048576.0
    );
    println!(
        "generated in {gen_seconds:.1} s, peak RSS {}\n",
        gen_peak.map_or("?".into(), |p| format!("{p:.0} MiB"))
    );
    println!(
        "| tool | step | time | peak RSS | bytes added (reported) | repository growth | catalog growth |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (tool, by_step) in &results {
        for (step, label) in STEPS {
            let Some(o) = by_step.get(step) else {
                continue;
            };
            println!(
                "| {tool} | {label} | {:.2} s | {} | {} | {} | {} |",
                o.step.seconds,
                o.step
                    .peak_rss_mib
                    .map_or(String::new(), |p| format!("{p:.0} MiB")),
                o.reported_bytes_added.map_or(String::new(), mib),
                if matches!(step, "restore" | "export" | "replicate") {
                    String::new()
                } else {
                    mib(o.repository_growth)
                },
                if matches!(step, "restore" | "export" | "replicate") || o.catalog_growth == 0 {
                    String::new()
                } else {
                    mib(o.catalog_growth)
                },
            );
        }
    }
    let json = serde_json::json!({
        "accounts": accounts,
        "messages": messages,
        "live_messages": report.totals.live_messages,
        "data_bytes": data_bytes,
        "generate_seconds": gen_seconds,
        "generate_peak_rss_mib": gen_peak,
        "nights": nights,
        "results": results,
    });
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-scale.json");
    std::fs::write(&out, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    eprintln!("results written to {}", out.display());
    let _ = std::fs::remove_dir_all(&work);
}
