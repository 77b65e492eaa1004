//! What a job tells the world while it runs. The job layer never prints: a reporter (the
//! terminal, the job log, later a dashboard or metrics) renders these.

use std::path::Path;
use std::time::Duration;

use ferry_engine::StatsSnapshot;
use ferry_journal::JobStatus;
use ferry_store::StoreError;

use crate::verify::VerifySummary;

/// Receives a job's events, in order, from the task that runs the job (progress comes from a
/// timer task). An implementation must not block for long: the job waits for it.
pub trait JobEvents: Send + Sync {
    /// One event.
    fn event(&self, event: &JobEvent<'_>);
}

/// Sends every event to each of several receivers, in order.
pub struct Fanout(pub Vec<std::sync::Arc<dyn JobEvents>>);

impl JobEvents for Fanout {
    fn event(&self, event: &JobEvent<'_>) {
        for receiver in &self.0 {
            receiver.event(event);
        }
    }
}

/// One thing that happened.
#[derive(Debug)]
pub enum JobEvent<'a> {
    /// The job started (after its journal and log were opened).
    Started {
        /// Its id.
        id: &'a str,
        /// Its log file, if it has one.
        log: Option<&'a Path>,
        /// The command, as shown (secrets redacted).
        command: &'a str,
        /// The source, as shown.
        source: &'a str,
        /// The destination, as shown.
        destination: &'a str,
    },
    /// How far the job has come (every two seconds).
    Progress(&'a Progress),
    /// The progress reports are over (an in-place line can be ended).
    ProgressEnded,
    /// A dry run would copy this.
    PlannedCopy {
        /// The source, as shown.
        source: &'a str,
        /// The destination, as shown.
        destination: &'a str,
        /// Its size.
        size: u64,
        /// Why (a sync's reason); none for a copy.
        reason: Option<&'a str>,
    },
    /// A dry run would delete this.
    PlannedDelete {
        /// What, as shown.
        target: &'a str,
        /// Whether it is an extra at a sync's destination (else a remove's target).
        extra: bool,
    },
    /// A dry run would change this blob's properties.
    PlannedChange {
        /// What, as shown.
        target: &'a str,
    },
    /// An item failed.
    ItemFailed {
        /// AzCopy's keyword: UPLOADFAILED, DOWNLOADFAILED or COPYFAILED.
        verb: &'a str,
        /// The source, as shown (a listing failure names what was listed).
        source: &'a str,
        /// The destination, as shown (empty for a listing failure).
        destination: &'a str,
        /// Why.
        error: &'a StoreError,
    },
    /// Something was deleted.
    Deleted {
        /// What, as shown.
        target: &'a str,
        /// Whether it was an extra at a sync's destination (else a remove's target).
        extra: bool,
    },
    /// A deletion failed.
    DeleteFailed {
        /// What, as shown.
        target: &'a str,
        /// Why.
        error: &'a StoreError,
    },
    /// Something the user should know; the job goes on.
    Warning(&'a str),
    /// A note.
    Info(&'a str),
    /// The job ended (its status is recorded).
    Finished(&'a Finished<'a>),
    /// A verification ended (its reports are written).
    Verified(&'a VerifySummary),
}

/// A progress report.
#[derive(Debug, Clone)]
pub struct Progress {
    /// The counters now.
    pub stats: StatsSnapshot,
    /// Objects listed at the source and destination, for a sync.
    pub scanned: Option<(u64, u64)>,
    /// Bytes moved over the last `interval`.
    pub recent_bytes: u64,
    /// The time between reports.
    pub interval: Duration,
    /// Since the job started.
    pub elapsed: Duration,
}

/// How a job ended.
#[derive(Debug)]
pub struct Finished<'a> {
    /// Its id.
    pub id: &'a str,
    /// Its counters (for a remove: deletions counted as transfers).
    pub stats: &'a StatsSnapshot,
    /// A sync's scan and deletion counts.
    pub sync: Option<&'a SyncCounts>,
    /// How long it ran.
    pub elapsed: Duration,
    /// Its final status.
    pub status: JobStatus,
}

/// What a sync counted besides the copy counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncCounts {
    /// Objects listed at the source (after filters).
    pub scanned_source: u64,
    /// Objects listed at the destination (after filters).
    pub scanned_destination: u64,
    /// Destination objects deleted.
    pub deleted: u64,
    /// Deletions that failed.
    pub delete_failed: u64,
    /// Extras kept because the user answered no at the prompt.
    pub kept: u64,
}

/// AzCopy's final job status, derived from the counters.
pub fn final_status(stats: &StatsSnapshot, cancelled: bool) -> JobStatus {
    if cancelled {
        JobStatus::Cancelled
    } else if stats.failed > 0 && stats.skipped > 0 {
        JobStatus::CompletedWithErrorsAndSkipped
    } else if stats.failed > 0 && stats.done > 0 {
        JobStatus::CompletedWithErrors
    } else if stats.failed > 0 {
        JobStatus::Failed
    } else if stats.skipped > 0 {
        JobStatus::CompletedWithSkipped
    } else {
        JobStatus::Completed
    }
}
