//! What every job (copy, sync, remove) does the same way around its work: its journal and log,
//! the started and finished events, progress with a journal heartbeat, the engine run with its
//! failure events, the final status, and the cancelled ending with its resume hint.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ferry_engine::{CopyEngine, CopyReport, Stats, StatsSnapshot, Transfer};
use ferry_journal::{JobStatus, Journal};
use ferry_store::StoreError;
use futures::Stream;

use crate::events::{Finished, Progress, SyncCounts};
use crate::joblog::JobLog;
use crate::open::Side;
use crate::{JobContext, JobError, JobEvent, JobSpec};

/// The id of a new job, in AzCopy's form (a hyphenated UUID, which runbooks and wrappers
/// parse). Ids of the older 32-hex-digit form still resume.
pub(crate) fn new_job_id() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string()
}

/// The tag that ties staged blocks and partial downloads to a job: its id without hyphens, so
/// block ids keep one length (32 characters) whichever form the id has.
pub(crate) fn part_tag(job_id: &str) -> String {
    job_id.replace('-', "")
}

/// The error a cancelled job ends with, with the command that resumes it.
pub(crate) fn cancelled(job_id: &str) -> JobError {
    JobError::failed(format!("job {job_id} was cancelled")).with_hint(format!(
        "resume it with `ferry jobs resume {job_id}` (add --source-sas/--destination-sas if its URLs carried a SAS)"
    ))
}

/// What each kind of job is run with.
pub(crate) struct Run<'a> {
    /// The job's id.
    pub(crate) id: &'a str,
    /// Its spec.
    pub(crate) spec: &'a JobSpec,
    /// Its journal, when it is resumed.
    pub(crate) resume: Option<Journal>,
    /// Its context.
    pub(crate) ctx: &'a JobContext,
}

impl Run<'_> {
    /// The locations of `endpoints`, each with its SAS put back, after warning about any SAS
    /// that has expired, expires soon, or would be forwarded with more than read permission.
    pub(crate) fn locations<const N: usize>(
        &self,
        endpoints: [(&crate::Endpoint, crate::Role); N],
    ) -> Result<[ferry_core::Location; N], JobError> {
        let mut out = Vec::with_capacity(N);
        for (endpoint, role) in endpoints {
            out.push((endpoint.to_location(self.ctx.secrets.sas(role))?, role));
        }
        let shown: Vec<_> = out.iter().map(|(l, r)| (l, *r)).collect();
        crate::warnings::warn_about_sas(&shown, self.ctx);
        let locations: Vec<_> = out.into_iter().map(|(l, _)| l).collect();
        Ok(locations.try_into().unwrap_or_else(|_| unreachable!("one location per endpoint")))
    }
}

/// A job that has started: its journal and log are open and `Started` was sent.
pub(crate) struct Lifecycle<'a> {
    pub(crate) id: &'a str,
    pub(crate) journal: Option<Journal>,
    ctx: &'a JobContext,
    started: Instant,
    _log: Option<JobLog>,
    /// SAS expiries to check the job's progress against.
    expiries: Vec<(crate::Role, time::OffsetDateTime)>,
    /// Where the job's evidence goes when it ends (`--evidence`).
    evidence: Option<std::path::PathBuf>,
    /// The Entra ID token sources of its sides (source, destination), whose identity is recorded.
    tokens: [Option<Arc<dyn ferry_azure::TokenSource>>; 2],
}

/// The journal of a job: the resumed one, or a new one recording `spec`.
pub(crate) fn journal_for(
    id: &str,
    spec: &JobSpec,
    resume: Option<Journal>,
    sides: (&Side, &Side),
    ctx: &JobContext,
) -> Result<Journal, JobError> {
    if let Some(journal) = resume {
        return Ok(journal);
    }
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    let record = ferry_journal::JobSpec {
        job_id: id.to_owned(),
        args: Vec::new(),
        command_line: spec.display.clone(),
        cwd: String::new(),
        created,
        source_credential: sides.0.credential.code().to_owned(),
        destination_credential: sides.1.credential.code().to_owned(),
        job: Some(serde_json::to_value(spec).expect("a job spec serialises")),
    };
    Journal::create(&ctx.dirs.plans, &record).map_err(|e| {
        JobError::failed(format!("cannot create the job journal: {e}"))
            .with_hint("set FERRY_JOB_PLAN_LOCATION to a writable folder")
    })
}

impl<'a> Lifecycle<'a> {
    /// Opens the job's log and says the job has started.
    pub(crate) fn begin(
        id: &'a str,
        spec: &JobSpec,
        journal: Option<Journal>,
        sides: (&Side, &Side),
        ctx: &'a JobContext,
    ) -> Result<Self, JobError> {
        let log = JobLog::open(&ctx.dirs, id).map_err(|e| {
            JobError::failed(format!("cannot create the job log in `{}`: {e}", ctx.dirs.logs.display()))
                .with_hint("set FERRY_LOG_LOCATION to a writable folder, or pass --log-level NONE")
        })?;
        ctx.events.event(&JobEvent::Started {
            id,
            log: log.as_ref().map(JobLog::path),
            command: &spec.display,
            source: &sides.0.shown_base,
            destination: &sides.1.shown_base,
        });
        let evidence = spec.evidence.clone();
        let tokens = [sides.0.token.clone(), sides.1.token.clone()];
        Ok(Self { id, journal, ctx, started: Instant::now(), _log: log, expiries: Vec::new(), evidence, tokens })
    }

    /// Checks, while the job runs, whether the SAS tokens on `locations` will expire before it
    /// ends, and warns once per SAS with the numbers.
    #[must_use]
    pub(crate) fn watching_sas(mut self, locations: &[(&ferry_core::Location, crate::Role)]) -> Self {
        self.expiries = crate::warnings::sas_expiries(locations, self.ctx);
        self
    }

    /// Runs `transfers` through `engine` with progress reports, then reports each failure
    /// (`verb` is AzCopy's keyword for one).
    pub(crate) async fn run_engine(
        &self,
        engine: CopyEngine,
        transfers: impl Stream<Item = Result<Transfer, StoreError>> + Send,
        sides: (&Side, &Side),
        scanned: Option<(Arc<AtomicU64>, Arc<AtomicU64>)>,
        verb: &str,
    ) -> CopyReport {
        let engine = engine.with_cancel(self.ctx.cancel.clone());
        let progress = self.progress(engine.stats(), scanned);
        let report = engine.run(transfers).await;
        progress.abort();
        self.ctx.events.event(&JobEvent::ProgressEnded);
        let (source, dest) = sides;
        for failure in &report.failures {
            let shown = if failure.dest_key.is_empty() {
                failure.source_key.clone()
            } else {
                format!("{}{}", source.shown_base, failure.source_key)
            };
            let destination = format!("{}{}", dest.shown_base, failure.dest_key);
            self.ctx.events.event(&JobEvent::ItemFailed {
                verb,
                source: &shown,
                destination: &destination,
                error: &failure.error,
            });
        }
        report
    }

    /// Reports progress every 2 s, and records it in the journal for other processes, until
    /// the returned task is aborted.
    pub(crate) fn progress(
        &self,
        stats: Arc<Stats>,
        scanned: Option<(Arc<AtomicU64>, Arc<AtomicU64>)>,
    ) -> tokio::task::JoinHandle<()> {
        let (events, journal, started) = (self.ctx.events.clone(), self.journal.clone(), self.started);
        let mut expiries = self.expiries.clone();
        let metrics = self.ctx.metrics.clone();
        if let Some(metrics) = &metrics {
            metrics.watch(self.id, stats.clone());
        }
        tokio::spawn(async move {
            let interval = Duration::from_secs(2);
            let mut last = 0u64;
            loop {
                tokio::time::sleep(interval).await;
                let now = stats.snapshot();
                heartbeat(journal.as_ref(), &now);
                if now.scanning_finished {
                    let moved = (now.bytes_transferred, now.bytes_expected);
                    let clock = time::OffsetDateTime::now_utc();
                    expiries.retain(|&(role, expiry)| {
                        let warning = crate::warnings::outlived(role, expiry, clock, moved, started.elapsed());
                        if let Some(text) = &warning {
                            events.event(&JobEvent::Warning(text));
                        }
                        warning.is_none()
                    });
                }
                let scanned = scanned.as_ref().map(|(s, d)| (s.load(Ordering::Relaxed), d.load(Ordering::Relaxed)));
                let recent_bytes = now.bytes_transferred.saturating_sub(last);
                last = now.bytes_transferred;
                if let Some(metrics) = &metrics {
                    #[allow(clippy::cast_precision_loss)]
                    metrics.set_throughput(recent_bytes as f64 / interval.as_secs_f64());
                }
                let progress = Progress { stats: now, scanned, recent_bytes, interval, elapsed: started.elapsed() };
                events.event(&JobEvent::Progress(&progress));
            }
        })
    }

    /// Records the final status and says the job has finished; the log closes after.
    pub(crate) async fn finish(
        self,
        stats: &StatsSnapshot,
        sync: Option<&SyncCounts>,
        status: JobStatus,
        scan_complete: bool,
    ) {
        self.record_identity();
        if let Some(journal) = &self.journal
            && let Err(e) = journal.set_job_status(status, Some(scan_complete)).await
        {
            self.ctx.events.event(&JobEvent::Warning(&format!("cannot record the job's status: {e}")));
        }
        self.write_evidence();
        let finished = Finished { id: self.id, stats, sync, elapsed: self.started.elapsed(), status };
        self.ctx.events.event(&JobEvent::Finished(&finished));
    }

    /// Records that the job failed before it could report (a listing broke, nothing was
    /// found) and closes its log; the error says the rest.
    pub(crate) async fn fail(self, scan_complete: bool) {
        if let Some(journal) = &self.journal {
            let _ = journal.set_job_status(JobStatus::Failed, Some(scan_complete)).await;
        }
        self.write_evidence();
    }

    /// Records whose identity each side signed in as, when it signed in with Entra ID (the ids a
    /// token names, never the token): the evidence shows it.
    fn record_identity(&self) {
        let [source, destination] = self.tokens.clone().map(|t| t.and_then(|t| t.identity()));
        if let Some(journal) = &self.journal
            && (source.is_some() || destination.is_some())
        {
            journal.set_identity(serde_json::json!({ "source": source, "destination": destination }).to_string());
        }
    }

    /// Writes the job's evidence where `--evidence` asked (JSON Lines, or CSV for a `.csv`
    /// name): whole or not at all, readable by the user only.
    fn write_evidence(&self) {
        let (Some(path), Some(_)) = (&self.evidence, &self.journal) else { return };
        let format = if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
            crate::EvidenceFormat::Csv
        } else {
            crate::EvidenceFormat::Jsonl
        };
        let written = crate::shards::write_whole(path, |out| {
            crate::write_evidence(&self.ctx.dirs.plans, self.id, format, out)
                .map_err(|e| std::io::Error::other(e.message().to_owned()))
        });
        match written {
            Ok(totals) => self.ctx.events.event(&JobEvent::Info(&format!(
                "evidence of job {}: {} records written to {}",
                self.id,
                totals.records,
                path.display()
            ))),
            Err(e) => self
                .ctx
                .events
                .event(&JobEvent::Warning(&format!("cannot write the job's evidence to `{}`: {e}", path.display()))),
        }
    }
}

/// Records a heartbeat of `stats` in the job's journal.
fn heartbeat(journal: Option<&Journal>, stats: &StatsSnapshot) {
    if let Some(journal) = journal {
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        journal.heartbeat(&ferry_journal::Progress {
            items_done: stats.done + stats.failed + stats.skipped,
            items_found: stats.total,
            bytes_done: stats.bytes_transferred,
            at,
        });
    }
}
