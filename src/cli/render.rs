//! Rendering of library events: indicatif bars on a terminal, JSON lines with `--json`, plain
//! text otherwise (warnings and problems on stderr).

use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mailvault::{BackupSummary, Event, Progress, Snapshot, SnapshotId};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Json,
    Bars,
    Plain,
}

/// Receives library events and draws them.
pub struct Renderer {
    pub mode: Mode,
    bar: Mutex<Option<ProgressBar>>,
}

impl Renderer {
    pub fn new(json: bool) -> Renderer {
        let mode = if json {
            Mode::Json
        } else if std::io::stderr().is_terminal() {
            Mode::Bars
        } else {
            Mode::Plain
        };
        Renderer {
            mode,
            bar: Mutex::new(None),
        }
    }

    /// Prints one JSON value as a line on stdout.
    pub fn json_line(&self, value: &Value) {
        outln!("{value}");
    }

    /// Removes the bar, if any.
    pub fn finish(&self) {
        if let Some(bar) = self.bar.lock().expect("bar poisoned").take() {
            bar.finish_and_clear();
        }
    }

    fn say(&self, line: String) {
        match &*self.bar.lock().expect("bar poisoned") {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }
}

impl Progress for Renderer {
    fn event(&self, event: Event) {
        match self.mode {
            Mode::Json => {
                if let Ok(v) = serde_json::to_value(&event) {
                    self.json_line(&v);
                }
            }
            Mode::Bars | Mode::Plain => match event {
                Event::Phase { name, total } if self.mode == Mode::Bars => {
                    let bar = match total {
                        Some(t) => ProgressBar::with_draw_target(
                            Some(t),
                            ProgressDrawTarget::stderr(),
                        )
                        .with_style(
                            ProgressStyle::with_template(
                                "{msg:>8} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
                            )
                            .expect("template")
                            .progress_chars("=> "),
                        ),
                        None => ProgressBar::new_spinner(),
                    };
                    bar.set_message(name);
                    if let Some(old) = self.bar.lock().expect("bar poisoned").replace(bar) {
                        old.finish_and_clear();
                    }
                }
                Event::Advance { bytes, .. } => {
                    if let Some(bar) = &*self.bar.lock().expect("bar poisoned") {
                        bar.inc(bytes);
                    }
                }
                Event::Warning { path, message } => self.say(match path {
                    Some(p) => format!("warning: {}: {message}", p.display()),
                    None => format!("warning: {message}"),
                }),
                Event::Problem { path, message } => self.say(match path {
                    Some(p) => format!("problem: {}: {message}", p.display()),
                    None => format!("problem: {message}"),
                }),
                Event::Log { message } => self.say(message),
                _ => {}
            },
        }
    }
}

/// RFC 3339 time of a snapshot (UTC, seconds).
pub fn rfc3339(time_ns: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(time_ns.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// 1.5 MiB style sizes.
pub fn bytes(n: u64) -> String {
    indicatif::HumanBytes(n).to_string()
}

/// The final `{"type":"summary"}` line of a backup.
pub fn backup_summary_json(summary: &BackupSummary) -> Value {
    let mut v = json!({
        "type": "summary",
        "snapshot": summary.snapshot.to_hex(),
        "complete": summary.complete,
        "warnings": summary.warnings,
        "problems": summary.problems,
    });
    for key in [
        "files_total",
        "files_read",
        "bytes_read",
        "bytes_added",
        "duration_ms",
    ] {
        v[key] = json!(summary.stats.get(key).copied().unwrap_or(0));
    }
    for (k, n) in &summary.stats {
        v[k.as_str()] = json!(n);
    }
    v
}

/// Human text for a finished backup.
pub fn backup_summary_text(summary: &BackupSummary) -> String {
    let s = |k: &str| summary.stats.get(k).copied().unwrap_or(0);
    let mut out = format!(
        "snapshot {} saved{}\n  files: {} ({} read, {} unchanged)\n  read {}, added {} to the repository in {:.2}s",
        summary.snapshot.short(),
        if summary.complete {
            ""
        } else {
            " (INCOMPLETE)"
        },
        s("files_total"),
        s("files_read"),
        s("files_reused"),
        bytes(s("bytes_read")),
        bytes(s("bytes_added")),
        s("duration_ms") as f64 / 1000.0,
    );
    if summary.stats.contains_key("accounts_total") {
        out.push_str(&format!(
            "\n  accounts: {} ({} unchanged), mailboxes: {} ({} unchanged), messages: {} ({} files read)",
            s("accounts_total"),
            s("accounts_skipped"),
            s("mailboxes_total"),
            s("mailboxes_skipped"),
            s("messages_total"),
            s("messages_read"),
        ));
    }
    if !summary.warnings.is_empty() {
        out.push_str(&format!("\n  warnings: {}", summary.warnings.len()));
    }
    for p in &summary.problems {
        out.push_str(&format!(
            "\n  problem: {}{}",
            p.path
                .as_deref()
                .map(|p| format!("{p}: "))
                .unwrap_or_default(),
            p.message
        ));
    }
    out
}

/// One snapshot as a JSON object (`snapshots --json`).
pub fn snapshot_json(id: &SnapshotId, s: &Snapshot) -> Value {
    json!({
        "id": id.to_hex(),
        "time": rfc3339(s.time_ns),
        "time_ns": s.time_ns,
        "host": s.host,
        "source": s.source,
        "kind": s.kind.as_str(),
        "complete": s.complete,
        "parent": s.parent.map(|p| p.to_hex()),
        "tree": s.tree.to_hex(),
        "accounts": s.accounts.iter().map(|a| a.name.clone()).collect::<Vec<_>>(),
        "tool_version": s.tool_version,
        "problems": s.problems,
        "warnings": s.warnings,
        "stats": s.stats,
    })
}
