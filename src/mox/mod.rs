//! Reading a mox data directory: bbolt pages, bstore records, the directory layout,
//! consistent database copies and the control socket.

mod bbolt;
mod bstore;
mod ctl;
mod datadir;
mod dbcopy;
mod error;
mod gotime;
mod inspect;
mod records;
mod schema;

pub use bbolt::{Bolt, Bucket, Cursor, Iter as BucketIter, Stream, Value};
pub use bstore::{
    FieldValue, Key, Record, Store, TypeSchema, decode_pk, decode_record, decode_record_fields,
    int64_from_key, int64_key,
};
pub use ctl::backup_via_ctl;
pub use datadir::{
    FileClass, GLOBAL_DBS, QUEUE_DB, Source, check_account_name, classify, message_path,
    parse_message_path,
};
pub use dbcopy::{copy_database, probe_lock, read_database};
pub use error::MoxError;
pub(crate) use gotime::{Civil, days_from_civil};
pub use gotime::{parse_rfc3339, rfc3339_nanos, time_unix_nanos};
pub use inspect::{
    AccountReport, DatabaseReport, InspectReport, MailboxReport, MessageReport, QueueReport,
    inspect, inspect_path,
};
pub use records::{
    AccountDb, Address, Envelope, Flags, Mailbox, Message, MessageErase, QueueMsg, SpecialUse,
    SyncState, queue_messages, read_queue,
};
pub use schema::{Field, FieldType, Index, Kind, TypeVersion, parse_type_version};

// Writing mox data: bbolt files, bstore records and generated data directories.
pub mod bbolt_write;
pub mod bstore_encode;
#[path = "gen/mod.rs"]
pub mod generator;
