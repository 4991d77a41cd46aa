//! Progress and events. The library never prints: it reports through [`Progress`],
//! and the CLI renders (bars on a terminal, JSON lines with `--json`).

use std::path::PathBuf;

use serde::Serialize;

/// Something that happened during a command, in the order it happened.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A phase starts; `total` is its number of items (files, messages, blobs) when known.
    /// Phases may run side by side (accounts of a backup): each has its own name.
    Phase { name: String, total: Option<u64> },
    /// Work done in the phase named `phase`: items, and the bytes they hold, since the previous
    /// advance of that phase.
    Advance {
        phase: String,
        items: u64,
        bytes: u64,
    },
    /// Something an operator should know that does not make the result incomplete.
    Warning {
        path: Option<PathBuf>,
        message: String,
    },
    /// Something that makes the result incomplete (a file not saved, an unreadable path).
    Problem {
        path: Option<PathBuf>,
        message: String,
    },
    /// A free-form log line from a peer (e.g. the mox server's backup log).
    Log { message: String },
}

/// Receives events. Implementations must be cheap: `event` is called from worker threads.
pub trait Progress: Send + Sync {
    fn event(&self, event: Event);
}

/// Ignores everything: the default for library users.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn event(&self, _event: Event) {}
}

/// Collects events in memory; useful in tests and for building results.
#[derive(Debug, Default)]
pub struct Collect(pub std::sync::Mutex<Vec<Event>>);

impl Progress for Collect {
    fn event(&self, event: Event) {
        self.0
            .lock()
            .expect("progress collector poisoned")
            .push(event);
    }
}

impl Collect {
    pub fn events(&self) -> Vec<Event> {
        self.0.lock().expect("progress collector poisoned").clone()
    }
}
