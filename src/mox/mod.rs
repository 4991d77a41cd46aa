//! Reading a mox data directory: bbolt pages, bstore records, the directory layout,
//! consistent database copies and the control socket.

mod bbolt;
mod bstore;
mod error;
mod schema;

pub use bbolt::{Bolt, Bucket, Cursor, Iter as BucketIter, Value};
pub use bstore::{
    FieldValue, Key, Record, Store, TypeSchema, decode_pk, decode_record, int64_from_key,
    int64_key, time_unix_nanos,
};
pub use error::MoxError;
pub use schema::{Field, FieldType, Index, Kind, TypeVersion, parse_type_version};

// Writing mox data: bbolt files, bstore records and generated data directories.
pub mod bbolt_write;
pub mod bstore_encode;
#[path = "gen/mod.rs"]
pub mod generator;
