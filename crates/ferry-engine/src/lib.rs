//! Ferry's transfer engine.
//!
//! The engine takes a stream of [`Transfer`]s (source key → destination key) and executes them
//! through two [`ferry_store::Store`]s, choosing per item the cheapest correct strategy from the
//! stores' capabilities:
//!
//! - **positional download** when the destination can take writes at offsets (local disk):
//!   parallel ranged reads land in a temporary file that is verified and renamed;
//! - **server-side copy** when the destination service can read the source by URL: Put Block
//!   From URL + Put Block List, so the bytes never pass through Ferry;
//! - **upload** otherwise: one Put Blob for small objects, or blocks read in order (hashed for
//!   `--put-md5`), each sent with its own Content-MD5, then committed.
//!
//! Concurrency is bounded three ways: objects in flight, requests in flight, and a byte budget
//! for buffers. One failed item never stops the others. The engine never prints: it updates
//! [`Stats`] and returns a [`CopyReport`]; reporters render those.

mod copy;
mod policy;
mod rate;
mod sizing;
mod stats;
mod task;

pub use copy::{
    CheckMd5, CopyEngine, CopyOptions, CopyReport, ItemFailure, ItemOutcome, ObjectType, Overwrite, OverwritePrompt,
    Recorded, ServerSide, Transfer, TransferObserver, TransferPolicy, cancelled, inflated_key,
};
pub use rate::RateLimit;
pub use sizing::{DEFAULT_BLOCK_SIZE, MAX_BLOCK_SIZE, MAX_BLOCKS, SizingError, block_size};
pub use stats::{Stats, StatsSnapshot};
pub use task::ItemTask;
