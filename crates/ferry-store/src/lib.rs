//! The storage abstraction every Ferry backend implements.
//!
//! A [`Store`] is rooted at a container (Azure Blob) or a directory (local disk) and addresses
//! objects by *key*: a relative, `/`-separated UTF-8 string, exactly as the service stores it.
//! The copy, sync and verify engines are written once against this trait; each backend proves it
//! keeps the contract by running the shared conformance suite in `ferry-testkit`.
//!
//! The local backend lives here too ([`LocalStore`]): it has no heavy dependency of its own, and
//! having it beside the trait keeps the contract honest.

mod direct_write;
mod local;
mod memory;
pub mod paging;
mod partial_file;
mod payload;
pub mod posix;
pub mod ranges;
mod safe_dir;
pub mod service;
pub mod start;
mod store;
mod synthetic;

// The vocabulary (entries, errors by meaning, key order) lives in `ferry-core`, where the
// planner sees it without knowing any store; it is re-exported here for backends.
pub use ferry_core::{
    ContentHeaders, DIRECT_ALIGN, Entry, EntryKind, ErrorKind, ObjectProperties, PositionalSink, SmbProperties,
    StoreError, WriteOptions, WriteReceipt, cmp_keys,
};
pub use local::{Links, LocalStore, STAGING_PREFIX, TEMP_PREFIX};
pub use memory::MemoryStore;
pub use payload::{ByteStream, Payload};
pub use posix::PosixStyle;
pub use store::{
    Capabilities, EntryStream, FinishOptions, ListDepth, PartId, PartInfo, PartList, PositionalWrite, SYMLINK_METADATA,
    SkippedEntries, Store, md5_of, smb_name_problem,
};
pub use synthetic::{DiscardSink, GeneratedSource};

/// A `Result` whose error is a [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
