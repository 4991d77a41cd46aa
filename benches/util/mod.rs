//! Helpers shared by the end-to-end benchmarks: timed runs of other processes (with peak
//! memory from GNU time) and directory sizes.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

#[derive(Default, Clone, serde::Serialize)]
pub struct Step {
    pub seconds: f64,
    pub peak_rss_mib: Option<f64>,
}

pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn have(tool: &str) -> bool {
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
pub fn run(label: &str, cmd: &[&str], envs: &[(&str, &str)], cwd: &Path) -> Step {
    run_output(label, cmd, envs, cwd).0
}

/// [`run`], also returning the command's standard output.
pub fn run_output(label: &str, cmd: &[&str], envs: &[(&str, &str)], cwd: &Path) -> (Step, String) {
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
    (
        Step {
            seconds,
            peak_rss_mib,
        },
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Number of files below `path`.
pub fn dir_files(path: &Path) -> u64 {
    walkdir::WalkDir::new(path)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .count() as u64
}

/// Disk use (allocated blocks) of the files below `path`, each inode once.
pub fn dir_size(path: &Path) -> u64 {
    dir_sizes(path).0
}

/// (allocated blocks, apparent length) of the files below `path`, each inode once.
pub fn dir_sizes(path: &Path) -> (u64, u64) {
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

/// A night with 1 % new mail (an expunge and a move per account, databases rewritten) on the
/// generated installation, reported on stderr.
pub fn one_percent_night(install: &Path) {
    use mailvault::mox::generator::{MutateOptions, mutate};
    let night = mutate(
        install,
        &MutateOptions {
            percent: 1.0,
            seed: 2,
            ..MutateOptions::default()
        },
    )
    .unwrap();
    eprintln!(
        "a night with 1 % new mail: {} files added, {} removed, {} databases rewritten",
        night.files_added.len(),
        night.files_removed.len(),
        night.databases_rewritten.len()
    );
}
