//! The public error: what went wrong and with which file or object.
//!
//! Modules add variants here rather than returning strings; every variant that concerns a file
//! or an object names it.

use std::path::PathBuf;

/// Result with the crate's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every error the library returns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O operation on a file failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file of ours (repository object, snapshot, config, catalog) is damaged.
    #[error("{path}: corrupt: {what}")]
    Corrupt { path: PathBuf, what: String },
    /// A file of ours carries a format version this build does not know.
    #[error("{path}: unsupported format version {found} (this build reads up to {supported})")]
    UnsupportedVersion {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    /// A blob the repository should hold is missing.
    #[error("blob {id} is missing from the repository")]
    MissingBlob { id: crate::BlobId },
    /// No snapshot matches what was asked for.
    #[error("no snapshot matches {0:?}")]
    NoSuchSnapshot(String),
    /// Bad input from the user (arguments, target directory, ...).
    #[error("{0}")]
    Invalid(String),
    /// Another process holds the repository lock (the message names it and what to do).
    #[error("{0}")]
    Locked(String),
    /// An encrypted repository could not be unlocked: no key given, a wrong password, a key of
    /// another repository, a damaged or removed key.
    #[error("{0}")]
    Key(String),
    /// The key given can only add backups (put-only); the operation needs the master key.
    #[error(
        "{0}: this needs the master key; the key given is put-only (it can add backups but \
         cannot read or remove anything)"
    )]
    PutOnly(String),
    /// The local catalog (a cache) could not be used.
    #[error("{path}: catalog: {what}")]
    Catalog { path: PathBuf, what: String },
    /// Reading the mox data directory failed.
    #[error(transparent)]
    Mox(#[from] crate::mox::MoxError),
    /// A bstore record does not fit its schema (writing mox data).
    #[error(transparent)]
    Encode(#[from] crate::mox::bstore_encode::EncodeError),
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// The file this error names, when it names one.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            Error::Io { path, .. }
            | Error::Corrupt { path, .. }
            | Error::UnsupportedVersion { path, .. }
            | Error::Catalog { path, .. } => Some(path),
            _ => None,
        }
    }

    /// A corrupt file or object.
    pub fn corrupt(path: impl Into<PathBuf>, what: impl Into<String>) -> Self {
        Error::Corrupt {
            path: path.into(),
            what: what.into(),
        }
    }
}

/// Adds the path to an `io::Result`.
pub trait IoContext<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|e| Error::io(path, e))
    }
}
