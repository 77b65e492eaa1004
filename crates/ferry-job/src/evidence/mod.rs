//! A job's evidence: one record per object the job covered — copied, skipped and why, failed and
//! why, deleted — between a header (the job, its command, source and destination with no
//! secrets, how it authenticated, Ferry's version, when it ran) and a trailer (the totals),
//! hash-chained so an edited, removed, added or reordered line is found ([`chain`]).
//!
//! Written from the journal one row at a time ([`write_evidence`]), checked one line at a time
//! ([`check_evidence`]), so a job of millions of objects takes bounded memory either way.

mod against;
mod chain;
mod check;
mod records;
mod write;

pub use against::{AgainstSummary, check_against};
pub use check::{EvidenceCheck, check_evidence};
pub use write::{EvidenceFormat, write_evidence};

use serde::{Deserialize, Serialize};

/// The format's name and version, in every header.
const FORMAT: &str = "ferry-evidence/1";

/// How many records ended each way, and the bytes copied: the trailer, and what a check counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Object records.
    pub records: u64,
    /// Copied (or changed, for set-properties).
    pub copied: u64,
    /// Left alone: the destination was kept, or was already the same.
    pub skipped: u64,
    /// Failed.
    pub failed: u64,
    /// Deleted.
    pub deleted: u64,
    /// Cancelled before they ended.
    pub cancelled: u64,
    /// Not yet done (a job that has not ended).
    pub pending: u64,
    /// Bytes of the copied objects.
    pub bytes_copied: u64,
}

impl Totals {
    /// Counts one object record.
    fn count(&mut self, outcome: &str, size: u64) {
        self.records += 1;
        match outcome {
            "copied" => {
                self.copied += 1;
                self.bytes_copied += size;
            }
            "skipped" => self.skipped += 1,
            "failed" => self.failed += 1,
            "deleted" => self.deleted += 1,
            "cancelled" => self.cancelled += 1,
            _ => self.pending += 1,
        }
    }
}
