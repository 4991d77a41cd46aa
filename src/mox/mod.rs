//! Reading a mox data directory: bbolt pages, bstore records, the directory layout,
//! consistent database copies and the control socket.

mod error;

pub use error::MoxError;

// Writing mox data: bbolt files, bstore records and generated data directories.
pub mod bbolt_write;
pub mod bstore_encode;
#[path = "gen/mod.rs"]
pub mod generator;
