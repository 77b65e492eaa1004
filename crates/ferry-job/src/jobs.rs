//! Queries over a job's journal for `jobs show`: its counters, deletions and heartbeat.

use ferry_engine::StatsSnapshot;
use ferry_journal::{ItemStatus, JobStatus, Journal, JournalError, StatusCount};

use crate::spec::{JobKind, JobSpec};

/// What `jobs show` reports of one job.
#[derive(Debug, Clone)]
pub struct JobDetails {
    /// Its status.
    pub status: JobStatus,
    /// Its counters (a remove job's deletions count as its transfers).
    pub stats: StatsSnapshot,
    /// A sync's deletions: done and failed.
    pub deletions: Option<(u64, u64)>,
    /// The last heartbeat of a job still in progress.
    pub heartbeat: Option<ferry_journal::Progress>,
}

/// The typed spec a journal records, if it was written with one (journals of older versions
/// have only their command line).
pub fn stored_spec(journal: &Journal) -> Option<Result<JobSpec, crate::JobError>> {
    journal.spec().job.clone().map(JobSpec::from_stored)
}

/// Counters from per-status counts.
fn stats_of(counts: &[StatusCount]) -> StatsSnapshot {
    let mut stats = StatsSnapshot { scanning_finished: true, ..StatsSnapshot::default() };
    for count in counts {
        stats.total += count.items;
        stats.bytes_enumerated += count.bytes;
        match count.status {
            ItemStatus::Success => {
                stats.done += count.items;
                stats.bytes_transferred += count.bytes;
                stats.bytes_expected += count.bytes;
            }
            ItemStatus::Failed => stats.failed += count.items,
            ItemStatus::Skipped => stats.skipped += count.items,
            _ => stats.bytes_expected += count.bytes,
        }
    }
    stats
}

/// What `jobs show` reports of the job `journal` records.
pub fn details(journal: &Journal) -> Result<JobDetails, JournalError> {
    let (status, _) = journal.job_status()?;
    let deletion_counts = journal.deletion_counts()?;
    let is_remove = matches!(stored_spec(journal), Some(Ok(JobSpec { kind: JobKind::Remove(_), .. })));
    let (stats, deletions) = if is_remove {
        (stats_of(&deletion_counts), None)
    } else {
        let stats = stats_of(&journal.counts()?);
        let done = deletion_counts.iter().filter(|c| c.status == ItemStatus::Success).map(|c| c.items).sum();
        let failed = deletion_counts.iter().filter(|c| c.status == ItemStatus::Failed).map(|c| c.items).sum();
        (stats, (done + failed > 0).then_some((done, failed)))
    };
    let heartbeat = (status == JobStatus::InProgress).then(|| journal.progress()).flatten();
    Ok(JobDetails { status, stats, deletions, heartbeat })
}

/// One argument as a shell would need it.
fn quoted(arg: &str) -> String {
    let plain = !arg.is_empty() && arg.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./:=,@%+~".contains(&b));
    if plain { arg.to_owned() } else { format!("'{}'", arg.replace('\'', "'\\''")) }
}

/// The command a recorded job runs, as `jobs list` shows it: rendered from what `jobs resume`
/// runs (the typed spec, or an older journal's arguments), never from a separate display string,
/// so what is shown is what runs. Secrets were never stored.
pub fn shown_command(record: &ferry_journal::JobSpec) -> String {
    let args = match record.job.clone().map(JobSpec::from_stored) {
        Some(Ok(spec)) => spec.command_args(),
        Some(Err(e)) => return format!("(unreadable: {})", e.message()),
        None => record.args.clone(),
    };
    ferry_core::redact_text(&args.iter().map(|a| quoted(a)).collect::<Vec<_>>().join(" "))
}
