//! `--metrics-file PATH`: the outcome of a run in the Prometheus text format, for
//! node_exporter's textfile collector.
//!
//! Several commands (and sources) may share one file: each run replaces the samples of its own
//! `command` and `source` labels and keeps the others. A failed run keeps the last success time
//! of its labels. The file is written to a temporary file beside it and renamed over it, so the
//! collector never reads half a file.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// The metrics this tool writes: name, help.
const METRICS: &[(&str, &str)] = &[
    (
        "mailvault_last_success_timestamp_seconds",
        "Unix time of the last run that succeeded.",
    ),
    (
        "mailvault_last_run_timestamp_seconds",
        "Unix time of the last run, successful or not.",
    ),
    (
        "mailvault_last_run_success",
        "1 when the last run succeeded (exit code 0 or 3), 0 when it failed.",
    ),
    ("mailvault_duration_seconds", "Duration of the last run."),
    (
        "mailvault_bytes_added",
        "Bytes the last run added to the repository.",
    ),
    (
        "mailvault_messages_read",
        "Message files the last run had to read.",
    ),
    (
        "mailvault_messages_total",
        "Live messages in the last snapshot.",
    ),
    (
        "mailvault_snapshot_complete",
        "1 when the last snapshot was complete, 0 when something could not be saved.",
    ),
    (
        "mailvault_snapshots_copied",
        "Snapshots the last replicate run copied.",
    ),
];

/// The outcome of one run.
#[derive(Debug, Clone, Default)]
pub struct RunMetrics {
    pub command: String,
    pub source: String,
    pub success: bool,
    pub duration_secs: f64,
    /// Other samples of this run (name, value); names from [`METRICS`].
    pub values: Vec<(&'static str, f64)>,
}

/// Escapes a label value (backslash, double quote, newline).
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Writes `run` into the metrics file at `path`, keeping the samples of other labels.
pub fn write(path: &Path, run: &RunMetrics) -> std::io::Result<()> {
    let labels = format!(
        "{{command=\"{}\",source=\"{}\"}}",
        escape(&run.command),
        escape(&run.source)
    );
    // name -> labels -> value, from the file as it is.
    let mut samples: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    if let Ok(old) = std::fs::read_to_string(path) {
        for line in old.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let Some((key, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let (name, l) = match key.find('{') {
                Some(i) => (&key[..i], &key[i..]),
                None => (key, ""),
            };
            samples
                .entry(name.to_string())
                .or_default()
                .insert(l.to_string(), value.to_string());
        }
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    // This run's samples replace those of the same labels; a failure keeps the last success.
    for (name, _) in METRICS {
        if (*name != "mailvault_last_success_timestamp_seconds" || run.success)
            && let Some(m) = samples.get_mut(*name)
        {
            m.remove(&labels);
        }
    }
    let mut set = |name: &str, value: f64| {
        samples
            .entry(name.to_string())
            .or_default()
            .insert(labels.clone(), format!("{value}"));
    };
    if run.success {
        set("mailvault_last_success_timestamp_seconds", now.floor());
    }
    set("mailvault_last_run_timestamp_seconds", now.floor());
    set(
        "mailvault_last_run_success",
        f64::from(u8::from(run.success)),
    );
    set("mailvault_duration_seconds", run.duration_secs);
    for (name, value) in &run.values {
        set(name, *value);
    }
    let mut text = String::new();
    for (name, by_labels) in &samples {
        if by_labels.is_empty() {
            continue;
        }
        let help = METRICS
            .iter()
            .find(|(n, _)| n == name)
            .map_or("mailvault metric.", |(_, h)| h);
        text.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
        for (l, v) in by_labels {
            text.push_str(&format!("{name}{l} {v}\n"));
        }
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".mailvault-metrics")
        .tempfile_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    // The collector runs as another user: the file is readable as metrics files usually are.
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Writes the metrics of a run when `--metrics-file` was given; a failure to write is a
/// warning on stderr, never the run's result.
pub fn record(global: &super::Global, run: &RunMetrics) {
    let Some(path) = &global.metrics_file else {
        return;
    };
    if let Err(e) = write(path, run) {
        eprintln!(
            "mailvault: warning: {}: cannot write metrics: {e}",
            path.display()
        );
    }
}
