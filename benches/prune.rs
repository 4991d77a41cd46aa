//! Prune after forgetting half of 30 nights, side by side with restic's `forget` + `prune` on
//! the same generated mox installation in the same run (restic is only run when installed).
//!
//! ```text
//! cargo bench --bench prune                       # 10 accounts x 2,000 messages, 30 nights
//! MV_BENCH_ACCOUNTS=20 MV_BENCH_MESSAGES=5000 MV_BENCH_NIGHTS=30 cargo bench --bench prune
//! ```
//!
//! Each night: 1 % new mail (`MV_BENCH_NIGHT_PERCENT`), an expunge and a move per account,
//! databases rewritten; each tool backs up (mailvault with `--no-link`, the repository as on
//! another disk, like restic's). Then every other night is forgotten (the first included) and
//! each tool prunes: time and peak memory of the prune, repository size before and after.
//! Then `check --read-data` of what is left. Results go to `target/bench-prune.json`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use mailvault::mox::generator::{GenOptions, MutateOptions, generate, mutate};

mod util;
use util::{Step, dir_sizes, env_usize, have, run, run_output};

const PASSWORD: &str = "mailvault-bench";

#[derive(Default, serde::Serialize)]
struct ToolResult {
    backup_seconds_total: f64,
    size_before: u64,
    size_after: u64,
    forget: Step,
    prune: Step,
    check_read_data: Step,
}

fn mib(n: u64) -> f64 {
    n as f64 / 1048576.0
}

fn main() {
    let accounts = env_usize("MV_BENCH_ACCOUNTS", 10);
    let messages = env_usize("MV_BENCH_MESSAGES", 2000);
    let nights = env_usize("MV_BENCH_NIGHTS", 30);
    let percent: f64 = std::env::var("MV_BENCH_NIGHT_PERCENT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0);
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-prune");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let install = work.join("mox");
    eprintln!("generating {accounts} accounts x {messages} messages ...");
    generate(
        &GenOptions {
            accounts,
            messages,
            seed: 1,
            ..GenOptions::default()
        },
        &install,
    )
    .unwrap();
    let inst = install.to_str().unwrap();
    let mv = env!("CARGO_BIN_EXE_mailvault");
    let mv_repo = work.join("mailvault");
    let mv_env = [("MAILVAULT_REPO", mv_repo.to_str().unwrap())];
    run(
        "mailvault init",
        &[mv, "init", mv_repo.to_str().unwrap()],
        &[],
        &work,
    );
    let restic = have("restic");
    let restic_repo = work.join("restic");
    let restic_env = [
        ("RESTIC_PASSWORD", PASSWORD),
        ("RESTIC_REPOSITORY", restic_repo.to_str().unwrap()),
    ];
    if restic {
        run("restic init", &["restic", "init"], &restic_env, &work);
    }
    let mut results: BTreeMap<&str, ToolResult> = BTreeMap::new();
    let mut mv_ids = Vec::new();
    let mut restic_ids = Vec::new();
    let t = Instant::now();
    for night in 0..nights {
        if night > 0 {
            mutate(
                &install,
                &MutateOptions {
                    percent,
                    seed: 1000 + night as u64,
                    ..MutateOptions::default()
                },
            )
            .unwrap();
        }
        let (step, out) = run_output(
            &format!("mailvault night {night}"),
            &[mv, "--json", "backup", "--no-link", inst],
            &mv_env,
            &work,
        );
        results.entry("mailvault").or_default().backup_seconds_total += step.seconds;
        let summary = out
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["type"] == "summary")
            .expect("a summary line");
        mv_ids.push(summary["snapshot"].as_str().unwrap().to_string());
        if restic {
            let (step, out) = run_output(
                &format!("restic night {night}"),
                &["restic", "backup", "--json", "-q", inst],
                &restic_env,
                &work,
            );
            results.entry("restic").or_default().backup_seconds_total += step.seconds;
            let summary = out
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .find(|v| v["message_type"] == "summary")
                .expect("a restic summary");
            restic_ids.push(summary["snapshot_id"].as_str().unwrap().to_string());
        }
    }
    eprintln!(
        "{nights} nights backed up in {:.0} s",
        t.elapsed().as_secs_f64()
    );

    // Forget every other night, the first included.
    let forget_mv: Vec<&str> = mv_ids.iter().step_by(2).map(String::as_str).collect();
    let r = results.get_mut("mailvault").unwrap();
    r.size_before = dir_sizes(&mv_repo).0;
    let mut args = vec![mv, "forget"];
    args.extend(&forget_mv);
    r.forget = run("mailvault forget", &args, &mv_env, &work);
    r.prune = run("mailvault prune", &[mv, "prune"], &mv_env, &work);
    r.size_after = dir_sizes(&mv_repo).0;
    r.check_read_data = run(
        "mailvault check --read-data",
        &[mv, "check", "--read-data"],
        &mv_env,
        &work,
    );
    if restic {
        let forget_restic: Vec<&str> = restic_ids.iter().step_by(2).map(String::as_str).collect();
        let r = results.get_mut("restic").unwrap();
        r.size_before = dir_sizes(&restic_repo).0;
        let mut args = vec!["restic", "forget"];
        args.extend(&forget_restic);
        r.forget = run("restic forget", &args, &restic_env, &work);
        r.prune = run("restic prune", &["restic", "prune"], &restic_env, &work);
        r.size_after = dir_sizes(&restic_repo).0;
        r.check_read_data = run(
            "restic check --read-data",
            &["restic", "check", "--read-data"],
            &restic_env,
            &work,
        );
    }

    println!();
    println!(
        "{accounts} accounts x {messages} messages, {nights} nights of {percent} % new mail; every other night forgotten"
    );
    println!(
        "| tool | backups (total) | size before | forget | prune | peak RSS of prune | size after | freed | check --read-data |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (name, r) in &results {
        println!(
            "| {name} | {:.1} s | {:.1} MiB | {:.2} s | {:.2} s | {} | {:.1} MiB | {:.1} MiB | {:.2} s |",
            r.backup_seconds_total,
            mib(r.size_before),
            r.forget.seconds,
            r.prune.seconds,
            r.prune
                .peak_rss_mib
                .map_or("-".to_string(), |m| format!("{m:.0} MiB")),
            mib(r.size_after),
            mib(r.size_before.saturating_sub(r.size_after)),
            r.check_read_data.seconds,
        );
    }
    let out = serde_json::json!({
        "accounts": accounts,
        "messages": messages,
        "nights": nights,
        "night_percent": percent,
        "results": results,
    });
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../bench-prune.json");
    std::fs::write(&path, serde_json::to_string_pretty(&out).unwrap()).unwrap();
}
