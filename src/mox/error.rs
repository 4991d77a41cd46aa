use std::path::PathBuf;

/// Errors from reading mox's files. Each names the file (and page or record where it applies).
#[derive(Debug, thiserror::Error)]
pub enum MoxError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A bbolt or bstore structure is not what it must be.
    #[error("{path}: {what}")]
    Corrupt { path: PathBuf, what: String },
    /// A bbolt page is damaged: out of range, wrong type, bad offsets, a cycle.
    #[error("{path}: page {page}: {what}")]
    Page {
        path: PathBuf,
        page: u64,
        what: String,
    },
    /// A bstore record cannot be decoded with its schema.
    #[error("{path}: {type_name} record {key}: {what}")]
    Record {
        path: PathBuf,
        type_name: String,
        /// The record's primary key, hex.
        key: String,
        what: String,
    },
    /// The database file is locked by another process: the mox server is running.
    #[error(
        "{path}: the database is locked by another process: the mox server is running; \
         use --via-ctl to let the server write a consistent copy, or stop mox, \
         or back up a filesystem snapshot"
    )]
    ServerRunning { path: PathBuf },
    /// The mox control socket failed or the server reported an error.
    #[error("{path}: control socket: {message}")]
    Ctl { path: PathBuf, message: String },
    /// A mox configuration file cannot be understood.
    #[error("{path}: config: {what}")]
    Config { path: PathBuf, what: String },
}

impl MoxError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        MoxError::Io {
            path: path.into(),
            source,
        }
    }
}
