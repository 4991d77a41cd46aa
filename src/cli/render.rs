//! Rendering of library events: indicatif bars on a terminal, JSON lines with `--json`, plain
//! text otherwise (warnings and problems on stderr).
//!
//! Phases may run side by side (the accounts of a backup): each phase has its own bar, counting
//! items against the phase's item total, with the bytes done beside it. JSON `advance` lines are
//! throttled per phase (at most a few a second, plus the final state of each phase) and name it.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use mailvault::{BackupPlan, BackupSummary, Event, Notice, Progress, Snapshot, SnapshotId};
use serde_json::{Value, json};

/// The shortest interval between two JSON `advance` lines of one phase.
const JSON_INTERVAL: Duration = Duration::from_millis(250);

/// `--quiet` (0), normal (1), `--verbose` (2): how many events a [`Renderer`] shows.
static VERBOSITY: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(1);

/// Sets how many events every [`Renderer`] shows: with `quiet`, no progress, warnings or log
/// lines (problems and summaries still); with `verbose`, a line per phase as it starts and ends,
/// and every JSON `advance` (not throttled).
pub fn set_verbosity(quiet: bool, verbose: bool) {
    let v = match (quiet, verbose) {
        (true, _) => 0,
        (false, true) => 2,
        (false, false) => 1,
    };
    VERBOSITY.store(v, std::sync::atomic::Ordering::Relaxed);
}

fn verbosity() -> u8 {
    VERBOSITY.load(std::sync::atomic::Ordering::Relaxed)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Json,
    Bars,
    Plain,
}

/// Work of one phase not yet printed as a JSON line.
struct JsonPhase {
    total: Option<u64>,
    done: u64,
    items: u64,
    bytes: u64,
    last: Option<Instant>,
}

/// One bar per running phase, and the bytes it has done.
struct Bars {
    multi: MultiProgress,
    bars: HashMap<String, (ProgressBar, u64)>,
}

/// `--verbose`: a phase's total, and the items and bytes done so far.
type VerbosePhase = (Option<u64>, u64, u64);

/// Receives library events and draws them.
pub struct Renderer {
    pub mode: Mode,
    bars: Mutex<Bars>,
    json: Mutex<HashMap<String, JsonPhase>>,
    /// `--verbose`: per phase, its total, items and bytes done.
    verbose_phases: Mutex<HashMap<String, VerbosePhase>>,
}

impl Renderer {
    pub fn new(json: bool) -> Renderer {
        let mode = if json {
            Mode::Json
        } else if verbosity() > 0 && std::io::stderr().is_terminal() {
            Mode::Bars
        } else {
            Mode::Plain
        };
        Renderer {
            mode,
            bars: Mutex::new(Bars {
                multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
                bars: HashMap::new(),
            }),
            json: Mutex::new(HashMap::new()),
            verbose_phases: Mutex::new(HashMap::new()),
        }
    }

    /// Prints one JSON value as a line on stdout.
    pub fn json_line(&self, value: &Value) {
        outln!("{value}");
    }

    /// Removes the bars, and prints the JSON advances not printed yet.
    pub fn finish(&self) {
        let mut bars = self.bars.lock().expect("bars poisoned");
        for (_, (bar, _)) in bars.bars.drain() {
            bar.finish_and_clear();
        }
        drop(bars);
        let mut phases = self.json.lock().expect("json poisoned");
        let mut names: Vec<String> = phases.keys().cloned().collect();
        names.sort();
        for name in names {
            if let Some(p) = phases.get_mut(&name) {
                self.flush_json(&name, p);
            }
        }
        phases.clear();
    }

    fn say(&self, line: String) {
        let bars = self.bars.lock().expect("bars poisoned");
        if bars.bars.is_empty() || bars.multi.println(&line).is_err() {
            eprintln!("{line}");
        }
    }

    fn flush_json(&self, name: &str, p: &mut JsonPhase) {
        if p.items == 0 && p.bytes == 0 {
            return;
        }
        self.json_line(&json!({
            "type": "advance",
            "phase": name,
            "items": p.items,
            "bytes": p.bytes,
            "done": p.done,
            "total": p.total,
        }));
        p.items = 0;
        p.bytes = 0;
        p.last = Some(Instant::now());
    }

    fn json_event(&self, event: Event) {
        match event {
            Event::Phase { name, total } => {
                let mut phases = self.json.lock().expect("json poisoned");
                // A phase of the same name that is still pending is printed first.
                if let Some(mut old) = phases.remove(&name) {
                    self.flush_json(&name, &mut old);
                }
                phases.insert(
                    name.clone(),
                    JsonPhase {
                        total,
                        done: 0,
                        items: 0,
                        bytes: 0,
                        last: None,
                    },
                );
                self.json_line(&json!({"type": "phase", "name": name, "total": total}));
            }
            Event::Advance {
                phase,
                items,
                bytes,
            } => {
                let mut phases = self.json.lock().expect("json poisoned");
                let p = phases.entry(phase.clone()).or_insert(JsonPhase {
                    total: None,
                    done: 0,
                    items: 0,
                    bytes: 0,
                    last: None,
                });
                p.items += items;
                p.bytes += bytes;
                p.done += items;
                let finished = p.total.is_some_and(|t| p.done >= t);
                let due = verbosity() > 1 || p.last.is_none_or(|t| t.elapsed() >= JSON_INTERVAL);
                if finished || due {
                    self.flush_json(&phase, p);
                }
            }
            other => {
                if let Ok(v) = serde_json::to_value(&other) {
                    self.json_line(&v);
                }
            }
        }
    }

    fn bar_event(&self, event: Event) {
        match event {
            Event::Phase { name, total } => {
                let mut bars = self.bars.lock().expect("bars poisoned");
                let bar = match total {
                    Some(t) => ProgressBar::new(t).with_style(
                        ProgressStyle::with_template(
                            "{msg} [{bar:30}] {human_pos}/{human_len} {prefix} {eta}",
                        )
                        .expect("template")
                        .progress_chars("=> "),
                    ),
                    None => ProgressBar::new_spinner().with_style(
                        ProgressStyle::with_template("{spinner} {msg}: {human_pos} {prefix}")
                            .expect("template"),
                    ),
                };
                bar.set_message(name.clone());
                if total == Some(0) {
                    return;
                }
                let bar = bars.multi.add(bar);
                if let Some((old, _)) = bars.bars.insert(name, (bar, 0)) {
                    old.finish_and_clear();
                }
            }
            Event::Advance {
                phase,
                items,
                bytes,
            } => {
                let mut bars = self.bars.lock().expect("bars poisoned");
                let Some((bar, done_bytes)) = bars.bars.get_mut(&phase) else {
                    return;
                };
                *done_bytes += bytes;
                let secs = bar.elapsed().as_secs_f64();
                let rate = if secs > 0.5 {
                    format!(
                        ", {}/s",
                        indicatif::HumanBytes((*done_bytes as f64 / secs) as u64)
                    )
                } else {
                    String::new()
                };
                bar.set_prefix(format!("({}{rate})", indicatif::HumanBytes(*done_bytes)));
                bar.inc(items);
                if bar.length().is_some_and(|len| bar.position() >= len)
                    && let Some((bar, _)) = bars.bars.remove(&phase)
                {
                    bar.finish_and_clear();
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
        }
    }
}

impl Progress for Renderer {
    fn event(&self, event: Event) {
        match verbosity() {
            0 if !matches!(event, Event::Problem { .. }) => return,
            2 if self.mode != Mode::Json => self.verbose_line(&event),
            _ => {}
        }
        match self.mode {
            Mode::Json => self.json_event(event),
            Mode::Bars => self.bar_event(event),
            Mode::Plain => match event {
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

impl Renderer {
    /// `--verbose` text: a line when a phase starts, and when it is done.
    fn verbose_line(&self, event: &Event) {
        match event {
            Event::Phase { name, total } => {
                self.verbose_phases
                    .lock()
                    .expect("poisoned")
                    .insert(name.clone(), (*total, 0, 0));
                self.say(match total {
                    Some(t) => format!("{name}: started, {t} to do"),
                    None => format!("{name}: started"),
                });
            }
            Event::Advance {
                phase,
                items,
                bytes: step,
            } => {
                let mut phases = self.verbose_phases.lock().expect("poisoned");
                let Some((total, done, done_bytes)) = phases.get_mut(phase) else {
                    return;
                };
                *done += items;
                *done_bytes += step;
                if total.is_some_and(|t| *done >= t) {
                    let line = format!("{phase}: done, {done} ({})", bytes(*done_bytes));
                    phases.remove(phase);
                    drop(phases);
                    self.say(line);
                }
            }
            _ => {}
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
    push_notices(&mut out, &summary.warnings, &summary.problems);
    out
}

/// The count of warnings and every problem, one per line, after a backup's (or plan's) text.
fn push_notices(out: &mut String, warnings: &[Notice], problems: &[Notice]) {
    if !warnings.is_empty() {
        out.push_str(&format!("\n  warnings: {}", warnings.len()));
    }
    for p in problems {
        out.push_str(&format!(
            "\n  problem: {}{}",
            p.path
                .as_deref()
                .map(|p| format!("{p}: "))
                .unwrap_or_default(),
            p.message
        ));
    }
}

/// A backup's plan (`backup --dry-run --json`).
pub fn backup_plan_json(plan: &BackupPlan) -> Value {
    let mut v = json!({
        "type": "plan",
        "dry_run": true,
        "parent": plan.parent.map(|p| p.to_hex()),
        "warnings": plan.warnings,
        "problems": plan.problems,
    });
    for (k, n) in &plan.stats {
        v[k.as_str()] = json!(n);
    }
    v
}

/// Human text for a backup's plan (`backup --dry-run`).
pub fn backup_plan_text(plan: &BackupPlan) -> String {
    let s = |k: &str| plan.stats.get(k).copied().unwrap_or(0);
    let mailboxes_changed = s("mailboxes_total") - s("mailboxes_skipped");
    let mut out = format!(
        "dry run: nothing stored; compared with {}\n  accounts: {} ({} unchanged)\n  mailboxes: {} ({} unchanged, {} written again: {} page by page, {} whole)\n  messages: {}, files to read: {} ({})\n  databases: {} to copy, {} unchanged; databases and other files to read: {} ({})",
        plan.parent
            .map(|p| format!("snapshot {}", p.short()))
            .unwrap_or_else(|| "no snapshot (everything is read)".into()),
        s("accounts_total"),
        s("accounts_skipped"),
        s("mailboxes_total"),
        s("mailboxes_skipped"),
        mailboxes_changed,
        s("mailboxes_paged"),
        mailboxes_changed - s("mailboxes_paged"),
        s("messages_total"),
        s("messages_read"),
        bytes(s("message_bytes_read")),
        s("databases_copied"),
        s("databases_unchanged"),
        s("files_read"),
        bytes(s("bytes_read")),
    );
    push_notices(&mut out, &plan.warnings, &plan.problems);
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
        "tags": s.tags,
        "original": s.original.map(|o| o.to_hex()),
    })
}
