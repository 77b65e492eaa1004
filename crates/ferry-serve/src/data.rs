//! What the dashboard shows of each job, read from its journal (another process may be running
//! it: its heartbeat gives its progress).

use std::path::Path;

use ferry_journal::{ItemRow, ItemStatus, JobStatus, Journal, Progress};

/// A heartbeat older than this means the process running the job is gone.
const STALE_SECONDS: i64 = 30;

/// One job, as the dashboard shows it.
#[derive(Debug, Clone)]
pub(crate) struct JobView {
    pub(crate) id: String,
    pub(crate) kind: String,
    pub(crate) status: JobStatus,
    /// Running (a fresh heartbeat), or in progress with no live process.
    pub(crate) stalled: bool,
    pub(crate) command: String,
    /// Unix seconds.
    pub(crate) started: i64,
    /// Unix milliseconds, once ended.
    pub(crate) ended_ms: Option<i64>,
    pub(crate) found: u64,
    pub(crate) done: u64,
    pub(crate) failed: u64,
    pub(crate) skipped: u64,
    pub(crate) bytes_done: u64,
    pub(crate) bytes_expected: u64,
    pub(crate) heartbeat: Option<Progress>,
}

fn now_seconds() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl JobView {
    /// Bytes per second: over the run so far (from its heartbeat) or the whole run.
    pub(crate) fn throughput(&self) -> Option<f64> {
        let end = match (&self.heartbeat, self.ended_ms) {
            (_, Some(ms)) => ms / 1000,
            (Some(beat), None) => beat.at,
            (None, None) => return None,
        };
        let seconds = (end - self.started).max(1);
        #[allow(clippy::cast_precision_loss)]
        Some(self.bytes_done as f64 / seconds as f64)
    }

    /// Percent of the expected bytes moved (of the objects, when there are no bytes).
    pub(crate) fn percent(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let ratio = if self.bytes_expected > 0 {
            self.bytes_done as f64 / self.bytes_expected as f64
        } else if self.found > 0 {
            (self.done + self.failed + self.skipped) as f64 / self.found as f64
        } else if self.status == JobStatus::InProgress {
            0.0
        } else {
            1.0
        };
        (ratio * 100.0).clamp(0.0, 100.0)
    }

    /// The status as shown: a job in progress whose process stopped beating is `Interrupted`.
    pub(crate) fn shown_status(&self) -> &'static str {
        if self.stalled { "Interrupted" } else { self.status.as_str() }
    }
}

/// The job `id`, read from its journal in `plans`.
pub(crate) fn job(plans: &Path, id: &str) -> Result<(JobView, Journal), String> {
    let journal = Journal::open(plans, id).map_err(|e| e.to_string())?;
    let details = ferry_job::details(&journal).map_err(|e| e.to_string())?;
    let record = journal.spec();
    let kind = match ferry_job::stored_spec(&journal) {
        Some(Ok(spec)) => match spec.kind {
            ferry_job::JobKind::Copy(_) => "copy",
            ferry_job::JobKind::Sync(_) => "sync",
            ferry_job::JobKind::Remove(_) => "remove",
            ferry_job::JobKind::SetProperties(_) => "set-properties",
        },
        _ => record.args.first().map_or("job", |a| if a == "sync" { "sync" } else { "copy" }),
    };
    let times = journal.times().unwrap_or_default();
    let beat = details.heartbeat.clone();
    let stalled =
        details.status == JobStatus::InProgress && beat.as_ref().is_none_or(|b| now_seconds() - b.at > STALE_SECONDS);
    let s = details.stats;
    // A running job's journal lags behind its heartbeat: show the livelier of the two.
    let (found, done_items, bytes_done) = match &beat {
        Some(b) if !stalled => (b.items_found.max(s.total), b.items_done, b.bytes_done.max(s.bytes_transferred)),
        _ => (s.total, s.done + s.failed + s.skipped, s.bytes_transferred),
    };
    let view = JobView {
        id: id.to_owned(),
        kind: kind.to_owned(),
        status: details.status,
        stalled,
        command: ferry_job::shown_command(record),
        started: times.started_ms.map_or(record.created, |ms| ms / 1000),
        ended_ms: times.ended_ms,
        found,
        done: s.done.max(done_items.saturating_sub(s.failed + s.skipped)),
        failed: s.failed,
        skipped: s.skipped,
        bytes_done,
        bytes_expected: s.bytes_expected.max(bytes_done),
        heartbeat: beat,
    };
    Ok((view, journal))
}

/// Every job in `plans`, newest first.
pub(crate) fn jobs(plans: &Path) -> Vec<JobView> {
    let rows = ferry_journal::list_jobs(plans).unwrap_or_default();
    let mut views: Vec<JobView> =
        rows.iter().filter_map(|row| job(plans, &row.spec.job_id).ok().map(|(v, _)| v)).collect();
    views.sort_by(|a, b| b.started.cmp(&a.started).then_with(|| a.id.cmp(&b.id)));
    views
}

/// The first failed items of a job, with their errors.
pub(crate) fn failures(journal: &Journal, limit: u64) -> Vec<ItemRow> {
    journal.first_items(Some(ItemStatus::Failed), limit).unwrap_or_default()
}
