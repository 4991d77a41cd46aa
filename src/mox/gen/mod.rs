//! Generated mox data directories.
