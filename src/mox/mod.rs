//! Reading a mox data directory: bbolt pages, bstore records, the directory layout,
//! consistent database copies and the control socket.

mod error;

pub use error::MoxError;
