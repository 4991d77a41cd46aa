//! End-to-end benchmark on a generated mox installation, side by side with restic and borg when
//! they are installed (they are only run, never linked; nothing here reaches a normal build).
//!
//! ```text
//! cargo bench --bench mox                                   # 20 accounts x 5,000 messages
//! MV_BENCH_ACCOUNTS=5 MV_BENCH_MESSAGES=2000 cargo bench --bench mox
//! MV_BENCH_TOOLS=mailvault cargo bench --bench mox          # skip the other tools
//! ```
//!
//! Steps, each a fresh process timed from outside: first backup (repository on the same
//! filesystem: message files hardlinked), first backup with copies (`--no-link`: what a
//! repository on another filesystem costs), a run with nothing changed, a night with 1 % new
//! mail, a restore (next to `cp -a`). Peak memory is measured with GNU `/usr/bin/time` when it
//! is present. Results are printed as a table and written to `target/bench-mox.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use mailvault::mox::generator::{GenOptions, generate};

mod util;
use util::{Step, dir_files, dir_size, dir_sizes, env_usize, have, run};

const PASSWORD: &str = "mailvault-bench";

/// Disk use of a mailvault repository counting only what the repository itself added: objects
/// that are hardlinks of source files cost no space of their own.
fn mailvault_own_size(repo: &Path, source: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut source_inodes = std::collections::HashSet::new();
    for e in walkdir::WalkDir::new(source).into_iter().flatten() {
        if let Ok(m) = e.metadata() {
            source_inodes.insert((m.dev(), m.ino()));
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut total = 0;
    for e in walkdir::WalkDir::new(repo).into_iter().flatten() {
        if let Ok(m) = e.metadata()
            && m.is_file()
            && !source_inodes.contains(&(m.dev(), m.ino()))
            && seen.insert((m.dev(), m.ino()))
        {
            total += m.blocks() * 512;
        }
    }
    total
}

/// One backup tool under test: how to set it up, back up and restore.
struct Tool {
    /// The name in the table (`mailvault --no-link` is a tool of its own).
    name: String,
    env: Vec<(String, String)>,
    init: Vec<String>,
    /// The backup command; `{step}` is replaced by the step's name (borg archive names).
    backup: Vec<String>,
    /// The restore command, run inside an empty target directory `{target}`.
    restore: Option<Vec<String>>,
    repo: PathBuf,
}

impl Tool {
    fn run(&self, step: &str, args: &[String], cwd: &Path) -> Step {
        let args: Vec<String> = args.iter().map(|a| a.replace("{step}", step)).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        run(&format!("{} {step}", self.name), &args, &env, cwd)
    }
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

fn tools(work: &Path, install: &str, wanted: &[String]) -> Vec<Tool> {
    let mv = env!("CARGO_BIN_EXE_mailvault");
    let mut out = Vec::new();
    for (name, extra) in [
        ("mailvault", None),
        ("mailvault --no-link", Some("--no-link")),
    ] {
        let repo = work.join(name.replace(' ', ""));
        let mut backup = strings(&[mv, "backup"]);
        backup.extend(extra.map(str::to_string));
        backup.push(install.to_string());
        out.push(Tool {
            name: name.to_string(),
            env: vec![("MAILVAULT_REPO".into(), repo.display().to_string())],
            init: strings(&[mv, "init", repo.to_str().unwrap()]),
            backup,
            // Restores from the copying repository: the files are written, not linked.
            restore: extra.map(|_| strings(&[mv, "restore", "latest", "--target", "."])),
            repo,
        });
    }
    if wanted.iter().any(|t| t == "restic") && have("restic") {
        let repo = work.join("restic");
        out.push(Tool {
            name: "restic".into(),
            env: vec![
                ("RESTIC_PASSWORD".into(), PASSWORD.into()),
                ("RESTIC_REPOSITORY".into(), repo.display().to_string()),
            ],
            init: strings(&["restic", "init"]),
            backup: strings(&["restic", "backup", "-q", install]),
            restore: Some(strings(&[
                "restic", "restore", "latest", "-q", "--target", ".",
            ])),
            repo,
        });
    }
    if wanted.iter().any(|t| t == "borg") && have("borg") {
        let repo = work.join("borg");
        out.push(Tool {
            name: "borg".into(),
            env: vec![
                ("BORG_PASSPHRASE".into(), PASSWORD.into()),
                ("BORG_REPO".into(), repo.display().to_string()),
                (
                    "BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK".into(),
                    "yes".into(),
                ),
                ("BORG_RELOCATED_REPO_ACCESS_IS_OK".into(), "yes".into()),
            ],
            init: strings(&["borg", "init", "-e", "none"]),
            backup: strings(&[
                "borg",
                "create",
                "--compression",
                "zstd,3",
                "::{step}",
                install,
            ]),
            restore: Some(strings(&["borg", "extract", "::night"])),
            repo,
        });
    }
    out
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is accepted.
    let accounts = env_usize("MV_BENCH_ACCOUNTS", 20);
    let messages = env_usize("MV_BENCH_MESSAGES", 5000);
    let wanted: Vec<String> = std::env::var("MV_BENCH_TOOLS")
        .unwrap_or_else(|_| "mailvault,restic,borg".into())
        .split(',')
        .map(str::to_string)
        .collect();
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-mox");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let install = work.join("mox");

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
    let gen_seconds = t.elapsed().as_secs_f64();
    let data_bytes = dir_size(&install);
    eprintln!(
        "  {} messages, {:.0} MiB on disk, generated in {gen_seconds:.1} s",
        report.totals.live_messages,
        data_bytes as f64 / 1048576.0
    );

    let tools = tools(&work, install.to_str().unwrap(), &wanted);
    let mut results: BTreeMap<String, BTreeMap<String, Step>> = BTreeMap::new();
    for tool in &tools {
        tool.run("init", &tool.init, &work);
    }
    let mut growth: BTreeMap<String, u64> = BTreeMap::new();
    for step in ["first", "unchanged", "night"] {
        let before: Vec<u64> = tools.iter().map(|t| dir_sizes(&t.repo).1).collect();
        if step == "night" {
            util::one_percent_night(&install);
        }
        for tool in &tools {
            let result = tool.run(step, &tool.backup, &work);
            results
                .entry(tool.name.clone())
                .or_default()
                .insert(step.to_string(), result);
        }
        if step == "night" {
            for (tool, before) in tools.iter().zip(before) {
                let added = dir_sizes(&tool.repo).1.saturating_sub(before);
                growth.insert(tool.name.clone(), added);
            }
        }
    }
    let cp_target = work.join("restore-cp");
    let cp = run(
        "cp -a",
        &[
            "cp",
            "-a",
            install.to_str().unwrap(),
            cp_target.to_str().unwrap(),
        ],
        &[],
        &work,
    );
    let _ = std::fs::remove_dir_all(&cp_target);
    results
        .entry("cp -a".into())
        .or_default()
        .insert("restore".into(), cp);
    for tool in &tools {
        let Some(restore) = &tool.restore else {
            continue;
        };
        let target = work.join("restore");
        std::fs::create_dir_all(&target).unwrap();
        let result = tool.run("restore", restore, &target);
        let _ = std::fs::remove_dir_all(&target);
        results
            .entry(tool.name.clone())
            .or_default()
            .insert("restore".into(), result);
    }

    let mut sizes: BTreeMap<String, u64> = BTreeMap::new();
    let mut files: BTreeMap<String, u64> = BTreeMap::new();
    for tool in &tools {
        files.insert(tool.name.clone(), dir_files(&tool.repo));
        if tool.name == "mailvault" {
            sizes.insert(
                "mailvault (linked, own bytes)".into(),
                mailvault_own_size(&tool.repo, &install),
            );
        } else {
            let (blocks, apparent) = dir_sizes(&tool.repo);
            sizes.insert(tool.name.clone(), blocks);
            sizes.insert(format!("{} (apparent)", tool.name), apparent);
        }
    }

    println!(
        "\n## {} accounts x {} messages: {} live messages, {:.0} MiB data directory\n",
        accounts,
        messages,
        report.totals.live_messages,
        data_bytes as f64 / 1048576.0
    );
    let steps = ["first", "unchanged", "night", "restore"];
    println!("| tool | first | unchanged | 1% night | restore | peak RSS |");
    println!("|---|---|---|---|---|---|");
    for (tool, by_step) in &results {
        let mut line = format!("| {tool} |");
        for s in steps {
            match by_step.get(s) {
                Some(step) => line.push_str(&format!(" {:.2} s |", step.seconds)),
                None => line.push_str(" |"),
            }
        }
        let peak = by_step
            .values()
            .filter_map(|s| s.peak_rss_mib)
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
        match peak {
            Some(p) => line.push_str(&format!(" {p:.0} MiB |")),
            None => line.push_str(" |"),
        }
        println!("{line}");
    }
    println!("\n| repository | size |\n|---|---|");
    for (name, bytes) in &sizes {
        println!("| {name} | {:.1} MiB |", *bytes as f64 / 1048576.0);
    }
    println!("\n| repository | files | added by the 1 % night (apparent) |\n|---|---|---|");
    for (name, n) in &files {
        let added = growth.get(name).copied().unwrap_or(0);
        println!("| {name} | {n} | {:.1} MiB |", added as f64 / 1048576.0);
    }
    let json = serde_json::json!({
        "accounts": accounts,
        "messages": messages,
        "live_messages": report.totals.live_messages,
        "data_bytes": data_bytes,
        "generate_seconds": gen_seconds,
        "results": results,
        "repository_bytes": sizes,
        "repository_files": files,
        "night_added_bytes": growth,
    });
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-mox.json");
    std::fs::write(&out, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    eprintln!("results written to {}", out.display());
    let _ = std::fs::remove_dir_all(&work);
}
