//! mailvault: incremental, content-addressed backups of a mox mail server's data directory.
//!
//! The library does the work and never prints; the `mailvault` binary is a thin CLI over it.
//! See `ARCHITECTURE.md` for the code map and `docs/format.md` for the on-disk formats.

mod error;
mod id;
pub mod mox;
mod progress;

pub use error::{Error, IoContext, Result};
pub use id::{BlobId, ID_LEN, ParseIdError, SnapshotId};
pub use progress::{Collect, Event, NoProgress, Progress};
