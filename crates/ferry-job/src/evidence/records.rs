//! The lines of a job's evidence, as written and as read back.

use base64::Engine as _;
use ferry_journal::{ItemRecord, ItemStatus};
use serde::{Deserialize, Serialize};

/// The first line: which job, what it was asked, how it signed in (never a secret), when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Header {
    pub(crate) format: String,
    pub(crate) job_id: String,
    /// The command line, secrets redacted.
    pub(crate) command: String,
    /// The job's status when the evidence was written.
    pub(crate) status: String,
    /// The source and destination, without SAS.
    pub(crate) source: String,
    pub(crate) destination: String,
    /// Where each side's credential came from (a SAS on the URL, a key in the environment, a
    /// signed-in identity), never the credential.
    pub(crate) source_auth: String,
    pub(crate) destination_auth: String,
    /// Whose identity each side signed in as, with Entra ID (`signed in by …, object id …,
    /// tenant …`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) source_identity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) destination_identity: Option<String>,
    pub(crate) ferry_version: Option<String>,
    pub(crate) started: Option<String>,
    pub(crate) ended: Option<String>,
    /// When this evidence was written, and by which Ferry.
    pub(crate) written: String,
    pub(crate) written_by: String,
}

/// One object the job covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Object {
    /// Its key at the source (empty for a deletion: the source lacked it).
    pub(crate) source: String,
    /// Its key at the destination.
    pub(crate) destination: String,
    pub(crate) size: u64,
    /// Base64, as Content-MD5: stored at the source, or computed while copying.
    pub(crate) md5: Option<String>,
    /// The source's last-modified time (RFC 3339).
    pub(crate) modified: Option<String>,
    /// copied, skipped, failed, deleted, cancelled or pending.
    pub(crate) outcome: String,
    /// Why it was skipped.
    pub(crate) reason: Option<String>,
    /// Why it failed.
    pub(crate) error: Option<String>,
    /// Runs of the job that started it.
    pub(crate) attempts: u64,
    /// When it ended (RFC 3339).
    pub(crate) finished: Option<String>,
}

/// Unix milliseconds as RFC 3339 (UTC, milliseconds).
pub(crate) fn rfc3339_ms(ms: i64) -> Option<String> {
    let nanos = i128::from(ms) * 1_000_000;
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()?;
    at.format(&time::format_description::well_known::Rfc3339).ok()
}

fn rfc3339_ns(ns: i64) -> Option<String> {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ns)).ok()?;
    at.format(&time::format_description::well_known::Rfc3339).ok()
}

impl Object {
    /// The record of a journal row: an item (`source` set) or a deletion.
    pub(crate) fn of(row: &ItemRecord) -> Self {
        let deletion = row.source.is_empty();
        let outcome = match row.status {
            ItemStatus::Success if deletion => "deleted",
            ItemStatus::Success => "copied",
            ItemStatus::Skipped => "skipped",
            ItemStatus::Failed => "failed",
            ItemStatus::Cancelled => "cancelled",
            ItemStatus::NotStarted | ItemStatus::Started => "pending",
        };
        Self {
            source: row.source.clone(),
            destination: row.destination.clone(),
            size: row.size,
            md5: row.md5.map(|m| base64::engine::general_purpose::STANDARD.encode(m)),
            modified: row.modified_ns.and_then(rfc3339_ns),
            outcome: outcome.to_owned(),
            reason: row.reason.clone(),
            error: row.error.clone(),
            attempts: row.attempts,
            finished: row.finished_ms.and_then(rfc3339_ms),
        }
    }

    /// The MD5 as bytes, if it has one that reads.
    pub(crate) fn md5_bytes(&self) -> Option<[u8; 16]> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(self.md5.as_deref()?).ok()?;
        bytes.try_into().ok()
    }
}

/// The columns of the CSV form, in order; a header or trailer row keeps its fields as JSON in
/// `detail`.
pub(crate) const CSV_COLUMNS: [&str; 14] = [
    "type",
    "source",
    "destination",
    "size",
    "md5",
    "modified",
    "outcome",
    "reason",
    "error",
    "attempts",
    "finished",
    "detail",
    "prev",
    "hash",
];

impl Object {
    /// Its CSV fields (`type` to `detail`).
    pub(crate) fn csv_fields(&self) -> Vec<String> {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        vec![
            "object".into(),
            self.source.clone(),
            self.destination.clone(),
            self.size.to_string(),
            text(&self.md5),
            text(&self.modified),
            self.outcome.clone(),
            text(&self.reason),
            text(&self.error),
            self.attempts.to_string(),
            text(&self.finished),
            String::new(),
        ]
    }

    /// An object from its CSV fields (`type` to `detail`).
    pub(crate) fn from_csv(fields: &[&str]) -> Option<Self> {
        let text = |i: usize| Some(fields.get(i)?.to_string()).filter(|t| !t.is_empty());
        Some(Self {
            source: (*fields.get(1)?).to_owned(),
            destination: (*fields.get(2)?).to_owned(),
            size: fields.get(3)?.parse().ok()?,
            md5: text(4),
            modified: text(5),
            outcome: (*fields.get(6)?).to_owned(),
            reason: text(7),
            error: text(8),
            attempts: fields.get(9)?.parse().ok()?,
            finished: text(10),
        })
    }
}
