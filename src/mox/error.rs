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
}
