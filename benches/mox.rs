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
//! mail, a restore. Peak memory is the process's own high-water mark (`VmHWM`), reported by
//! mailvault in its JSON summary and measured for the other tools with `/usr/bin/time` when present.
//! Results are printed as a table and written to `target/bench-mox.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use mailvault::mox::generator::{GenOptions, MutateOptions, generate, mutate};

const PASSWORD: &str = "mailvault-bench";

#[derive(Default, Clone, serde::Serialize)]
struct Step {
    seconds: f64,
    peak_rss_mib: Option<f64>,
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn have(tool: &str) -> bool {
    // restic answers `restic version`; borg answers `borg --version`.
    let arg = if tool == "restic" {
        "version"
    } else {
        "--version"
    };
    Command::new(tool)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs a command, timing it; with GNU time available, also its peak memory.
fn run(label: &str, cmd: &[&str], envs: &[(&str, &str)], cwd: &Path) -> Step {
    let gnu_time = Path::new("/usr/bin/time").exists();
    let rss_file = std::env::temp_dir().join(format!("mv-bench-rss-{}", std::process::id()));
    let mut command = if gnu_time {
        let mut c = Command::new("/usr/bin/time");
        c.arg("-f").arg("%M").arg("-o").arg(&rss_file).args(cmd);
        c
    } else {
        let mut c = Command::new(cmd[0]);
        c.args(&cmd[1..]);
        c
    };
    command
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        command.env(k, v);
    }
    let start = Instant::now();
    let out = command.output().expect("command starts");
    let seconds = start.elapsed().as_secs_f64();
    // exit 3 is mailvault's "incomplete"; anything but 0 is a failed benchmark step.
    if !out.status.success() {
        panic!(
            "{label}: {:?} failed: {}\n{}",
            cmd,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let peak_rss_mib = std::fs::read_to_string(&rss_file)
        .ok()
        .and_then(|s| s.trim().lines().last()?.parse::<f64>().ok())
        .map(|kib| kib / 1024.0);
    let _ = std::fs::remove_file(&rss_file);
    eprintln!("  {label}: {seconds:.2} s");
    Step {
        seconds,
        peak_rss_mib,
    }
}

/// Disk use (allocated blocks) of the files below `path`, each inode once.
fn dir_size(path: &Path) -> u64 {
    dir_sizes(path).0
}

/// (allocated blocks, apparent length) of the files below `path`, each inode once.
fn dir_sizes(path: &Path) -> (u64, u64) {
    let mut seen = std::collections::HashSet::new();
    let (mut blocks, mut apparent) = (0, 0);
    for e in walkdir::WalkDir::new(path).into_iter().flatten() {
        if let Ok(m) = e.metadata() {
            use std::os::unix::fs::MetadataExt;
            if m.is_file() && seen.insert((m.dev(), m.ino())) {
                blocks += m.blocks() * 512;
                apparent += m.len();
            }
        }
    }
    (blocks, apparent)
}

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

fn main() {
    // `cargo bench` passes `--bench`; nothing else is accepted.
    let accounts = env_usize("MV_BENCH_ACCOUNTS", 20);
    let messages = env_usize("MV_BENCH_MESSAGES", 5000);
    let tools: Vec<String> = std::env::var("MV_BENCH_TOOLS")
        .unwrap_or_else(|_| "mailvault,restic,borg".into())
        .split(',')
        .map(str::to_string)
        .collect();
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-mox");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let install = work.join("mox");
    let mv = env!("CARGO_BIN_EXE_mailvault");

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

    let mut results: BTreeMap<String, BTreeMap<String, Step>> = BTreeMap::new();
    let mut sizes: BTreeMap<String, u64> = BTreeMap::new();
    let install_s = install.to_str().unwrap();
    let have_restic = tools.iter().any(|t| t == "restic") && have("restic");
    let have_borg = tools.iter().any(|t| t == "borg") && have("borg");
    let restic_repo = work.join("restic");
    let borg_repo = work.join("borg");
    let restic_env = [
        ("RESTIC_PASSWORD", PASSWORD),
        ("RESTIC_REPOSITORY", restic_repo.to_str().unwrap()),
    ];
    let borg_env = [
        ("BORG_PASSPHRASE", PASSWORD),
        ("BORG_REPO", borg_repo.to_str().unwrap()),
        ("BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK", "yes"),
        ("BORG_RELOCATED_REPO_ACCESS_IS_OK", "yes"),
    ];
    let mv_repo = work.join("mailvault");
    let mv_copy_repo = work.join("mailvault-copy");
    let mv_env = [("MAILVAULT_REPO", mv_repo.to_str().unwrap())];
    let mv_copy_env = [("MAILVAULT_REPO", mv_copy_repo.to_str().unwrap())];
    let mut record = |tool: &str, step: &str, s: Step| {
        results
            .entry(tool.to_string())
            .or_default()
            .insert(step.to_string(), s);
    };

    eprintln!("first backups");
    run(
        "mailvault init",
        &[mv, "init", mv_repo.to_str().unwrap()],
        &[],
        &work,
    );
    record(
        "mailvault",
        "first",
        run(
            "mailvault first",
            &[mv, "backup", install_s],
            &mv_env,
            &work,
        ),
    );
    run(
        "mailvault init (copy)",
        &[mv, "init", mv_copy_repo.to_str().unwrap()],
        &[],
        &work,
    );
    record(
        "mailvault",
        "first (copy)",
        run(
            "mailvault first --no-link",
            &[mv, "backup", "--no-link", install_s],
            &mv_copy_env,
            &work,
        ),
    );
    if have_restic {
        run("restic init", &["restic", "init"], &restic_env, &work);
        record(
            "restic",
            "first",
            run(
                "restic first",
                &["restic", "backup", "-q", install_s],
                &restic_env,
                &work,
            ),
        );
    }
    if have_borg {
        run(
            "borg init",
            &["borg", "init", "-e", "none"],
            &borg_env,
            &work,
        );
        record(
            "borg",
            "first",
            run(
                "borg first",
                &[
                    "borg",
                    "create",
                    "--compression",
                    "zstd,3",
                    "::first",
                    install_s,
                ],
                &borg_env,
                &work,
            ),
        );
    }

    eprintln!("nothing changed");
    record(
        "mailvault",
        "unchanged",
        run(
            "mailvault unchanged",
            &[mv, "backup", install_s],
            &mv_env,
            &work,
        ),
    );
    if have_restic {
        record(
            "restic",
            "unchanged",
            run(
                "restic unchanged",
                &["restic", "backup", "-q", install_s],
                &restic_env,
                &work,
            ),
        );
    }
    if have_borg {
        record(
            "borg",
            "unchanged",
            run(
                "borg unchanged",
                &[
                    "borg",
                    "create",
                    "--compression",
                    "zstd,3",
                    "::unchanged",
                    install_s,
                ],
                &borg_env,
                &work,
            ),
        );
    }

    eprintln!("a night with 1 % new mail");
    let night = mutate(
        &install,
        &MutateOptions {
            percent: 1.0,
            seed: 2,
            ..MutateOptions::default()
        },
    )
    .unwrap();
    eprintln!(
        "  {} files added, {} removed, {} databases rewritten",
        night.files_added.len(),
        night.files_removed.len(),
        night.databases_rewritten.len()
    );
    record(
        "mailvault",
        "1% night",
        run(
            "mailvault night",
            &[mv, "backup", install_s],
            &mv_env,
            &work,
        ),
    );
    record(
        "mailvault",
        "1% night (copy)",
        run(
            "mailvault night --no-link",
            &[mv, "backup", "--no-link", install_s],
            &mv_copy_env,
            &work,
        ),
    );
    if have_restic {
        record(
            "restic",
            "1% night",
            run(
                "restic night",
                &["restic", "backup", "-q", install_s],
                &restic_env,
                &work,
            ),
        );
    }
    if have_borg {
        record(
            "borg",
            "1% night",
            run(
                "borg night",
                &[
                    "borg",
                    "create",
                    "--compression",
                    "zstd,3",
                    "::night",
                    install_s,
                ],
                &borg_env,
                &work,
            ),
        );
    }

    eprintln!("restore");
    let target = work.join("restore-mailvault");
    record(
        "mailvault",
        "restore",
        run(
            "mailvault restore",
            &[
                mv,
                "restore",
                "latest",
                "--target",
                target.to_str().unwrap(),
            ],
            &mv_copy_env,
            &work,
        ),
    );
    let _ = std::fs::remove_dir_all(&target);
    let cp_target = work.join("restore-cp");
    record(
        "cp -a",
        "restore",
        run(
            "cp -a",
            &["cp", "-a", install_s, cp_target.to_str().unwrap()],
            &[],
            &work,
        ),
    );
    let _ = std::fs::remove_dir_all(&cp_target);
    if have_restic {
        let t = work.join("restore-restic");
        record(
            "restic",
            "restore",
            run(
                "restic restore",
                &[
                    "restic",
                    "restore",
                    "latest",
                    "-q",
                    "--target",
                    t.to_str().unwrap(),
                ],
                &restic_env,
                &work,
            ),
        );
        let _ = std::fs::remove_dir_all(&t);
    }
    if have_borg {
        let t = work.join("restore-borg");
        std::fs::create_dir_all(&t).unwrap();
        record(
            "borg",
            "restore",
            run(
                "borg restore",
                &["borg", "extract", "::night"],
                &borg_env,
                &t,
            ),
        );
        let _ = std::fs::remove_dir_all(&t);
    }

    sizes.insert(
        "mailvault (linked, own bytes)".into(),
        mailvault_own_size(&mv_repo, &install),
    );
    let (copy_blocks, copy_apparent) = dir_sizes(&mv_copy_repo);
    sizes.insert("mailvault (copy)".into(), copy_blocks);
    sizes.insert("mailvault (copy, apparent)".into(), copy_apparent);
    if have_restic {
        sizes.insert("restic".into(), dir_size(&restic_repo));
    }
    if have_borg {
        sizes.insert("borg".into(), dir_size(&borg_repo));
    }

    println!(
        "\n## {} accounts x {} messages: {} live messages, {:.0} MiB data directory\n",
        accounts,
        messages,
        report.totals.live_messages,
        data_bytes as f64 / 1048576.0
    );
    let steps = [
        "first",
        "first (copy)",
        "unchanged",
        "1% night",
        "1% night (copy)",
        "restore",
    ];
    print!("| tool |");
    for s in steps {
        print!(" {s} |");
    }
    println!(" peak RSS |");
    print!("|---|");
    for _ in steps {
        print!("---|");
    }
    println!("---|");
    for (tool, by_step) in &results {
        print!("| {tool} |");
        for s in steps {
            match by_step.get(s) {
                Some(step) => print!(" {:.2} s |", step.seconds),
                None => print!(" |"),
            }
        }
        let peak = by_step
            .values()
            .filter_map(|s| s.peak_rss_mib)
            .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
        match peak {
            Some(p) => println!(" {p:.0} MiB |"),
            None => println!(" |"),
        }
    }
    println!("\n| repository | size |\n|---|---|");
    for (name, bytes) in &sizes {
        println!("| {name} | {:.1} MiB |", *bytes as f64 / 1048576.0);
    }
    let json = serde_json::json!({
        "accounts": accounts,
        "messages": messages,
        "live_messages": report.totals.live_messages,
        "data_bytes": data_bytes,
        "generate_seconds": gen_seconds,
        "results": results,
        "repository_bytes": sizes,
    });
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-mox.json");
    std::fs::write(&out, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    eprintln!("results written to {}", out.display());
    let _ = std::fs::remove_dir_all(&work);
}
