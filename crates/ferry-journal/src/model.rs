//! What the journal stores.

use serde::{Deserialize, Serialize};

/// An item's state, with AzCopy's names (`jobs show --with-status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemStatus {
    /// Found, not yet started.
    NotStarted,
    /// Being transferred (or was, when the process died).
    Started,
    /// Transferred.
    Success,
    /// Failed; `error` says why.
    Failed,
    /// Skipped because the destination existed and was kept.
    Skipped,
    /// Stopped by Ctrl-C before it finished.
    Cancelled,
}

impl ItemStatus {
    /// The stored and printed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotStarted => "NotStarted",
            Self::Started => "Started",
            Self::Success => "Success",
            Self::Failed => "Failed",
            Self::Skipped => "SkippedEntityAlreadyExists",
            Self::Cancelled => "Cancelled",
        }
    }

    /// Parses a stored or typed name (case-insensitive; `Skipped` is accepted for
    /// `SkippedEntityAlreadyExists`).
    pub fn parse(text: &str) -> Option<Self> {
        let all = [Self::NotStarted, Self::Started, Self::Success, Self::Failed, Self::Skipped, Self::Cancelled];
        all.into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text))
            .or_else(|| text.eq_ignore_ascii_case("Skipped").then_some(Self::Skipped))
    }

    /// Whether a resumed job leaves this item alone.
    pub fn is_final_for_resume(self) -> bool {
        matches!(self, Self::Success | Self::Skipped)
    }
}

/// A job's state, with AzCopy's names (`jobs list`, `jobs show`, the summary's `Final Job Status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobStatus {
    /// Running, or killed while running (`jobs resume` finishes it).
    InProgress,
    /// Every item was transferred.
    Completed,
    /// Done; some items were skipped (the destination was kept).
    CompletedWithSkipped,
    /// Done; some items failed and some were transferred.
    CompletedWithErrors,
    /// Done; some items failed and some were skipped.
    CompletedWithErrorsAndSkipped,
    /// Nothing was transferred, or the job could not go on.
    Failed,
    /// Stopped by Ctrl-C or SIGTERM.
    Cancelled,
}

impl JobStatus {
    /// Every status, in the order above.
    pub const ALL: [Self; 7] = [
        Self::InProgress,
        Self::Completed,
        Self::CompletedWithSkipped,
        Self::CompletedWithErrors,
        Self::CompletedWithErrorsAndSkipped,
        Self::Failed,
        Self::Cancelled,
    ];

    /// The stored and printed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "InProgress",
            Self::Completed => "Completed",
            Self::CompletedWithSkipped => "CompletedWithSkipped",
            Self::CompletedWithErrors => "CompletedWithErrors",
            Self::CompletedWithErrorsAndSkipped => "CompletedWithErrorsAndSkipped",
            Self::Failed => "Failed",
            Self::Cancelled => "Cancelled",
        }
    }

    /// Parses a stored or typed name (case-insensitive).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str().eq_ignore_ascii_case(text))
    }
}

impl std::fmt::Display for JobStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a job was asked to do: enough to run it again, and nothing secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSpec {
    /// The job id (a UUID without dashes).
    pub job_id: String,
    /// The command's arguments after `ferry`, with every SAS removed from URLs.
    pub args: Vec<String>,
    /// The command line as shown to people (secrets redacted).
    pub command_line: String,
    /// The working directory the command ran in (relative paths in `args` are relative to it).
    #[serde(default)]
    pub cwd: String,
    /// Unix seconds when the job was created.
    pub created: i64,
    /// Where the source's credential came from (e.g. "the SAS token in the URL").
    pub source_credential: String,
    /// Where the destination's credential came from.
    pub destination_credential: String,
    /// The typed job (`ferry_job::JobSpec`, versioned by that crate), opaque to the journal.
    /// Journals written before it existed have only `args` and `cwd`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<serde_json::Value>,
}

/// One job, for `jobs list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRow {
    /// Its spec.
    pub spec: JobSpec,
    /// Its status.
    pub status: JobStatus,
}

/// One item, for `jobs show --with-status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRow {
    /// Source key.
    pub source: String,
    /// Destination key.
    pub destination: String,
    /// Size in bytes.
    pub size: u64,
    /// State.
    pub status: ItemStatus,
    /// The last error, if it failed.
    pub error: Option<String>,
    /// The HTTP status of the last error, if any.
    pub http_status: Option<u16>,
}

/// How many items, and how many bytes, are in one state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusCount {
    /// The state.
    pub status: ItemStatus,
    /// Items in it.
    pub items: u64,
    /// Their total size.
    pub bytes: u64,
}
