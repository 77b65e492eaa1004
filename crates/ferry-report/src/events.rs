//! Rendering a job's events: on the terminal (AzCopy's lines, text or JSON) and in the job log.

use ferry_job::{JOB_TARGET, JobEvent, JobEvents};
use ferry_store::StoreError;

use crate::console::{Console, escape_controls};
use crate::job::{JobReporter, summary_text, sync_summary_text};

/// AzCopy's line for a failed item: `UPLOADFAILED: SRC : 403 : why`. Names come from other
/// people's containers: none may draw on the terminal or forge a log line.
fn failure_line(verb: &str, source: &str, error: &StoreError) -> String {
    let status = error.status().map_or_else(|| "000".to_owned(), |s| s.to_string());
    format!("{verb}: {} : {status} : {}", escape_controls(source), escape_controls(&error.to_string()))
}

/// AzCopy's line for a failed deletion.
fn delete_failure_line(target: &str, error: &StoreError) -> String {
    format!("DELETEFAILED: {} : {}", escape_controls(target), escape_controls(&error.to_string()))
}

/// Renders a job's events on the terminal.
#[derive(Debug, Clone, Copy)]
pub struct TerminalEvents {
    console: Console,
    reporter: JobReporter,
}

impl TerminalEvents {
    /// Events rendered through `console`, at its format and level.
    pub fn new(console: Console) -> Self {
        Self { console, reporter: JobReporter::new(console.format(), console.level()) }
    }
}

impl JobEvents for TerminalEvents {
    fn event(&self, event: &JobEvent<'_>) {
        let (console, reporter) = (&self.console, &self.reporter);
        match event {
            JobEvent::Started { id, log, .. } => reporter.started(id, *log),
            JobEvent::Progress(p) => match p.scanned {
                Some(scanned) => reporter.sync_progress(scanned, &p.stats, p.recent_bytes, p.interval, p.elapsed),
                None => reporter.progress(&p.stats, p.recent_bytes, p.interval, p.elapsed),
            },
            JobEvent::ProgressEnded => reporter.end_progress(),
            JobEvent::PlannedCopy { source, destination, size, reason: None } => {
                reporter.dry_run(source, destination, *size);
            }
            JobEvent::PlannedCopy { source, destination, reason: Some(reason), .. } => {
                reporter.dry_run_line(&format!("DRYRUN: copy {source} to {destination} ({reason})"));
            }
            JobEvent::PlannedDelete { target, extra: true } => {
                reporter.dry_run_line(&format!("DRYRUN: remove {target} (extra at destination)"));
            }
            JobEvent::PlannedDelete { target, extra: false } => {
                reporter.dry_run_line(&format!("DRYRUN: remove {target}"))
            }
            JobEvent::PlannedChange { target } => reporter.dry_run_line(&format!("DRYRUN: set-properties {target}")),
            JobEvent::ItemFailed { verb, source, error, .. } => {
                console.warn(&failure_line(verb, source, error));
                if let Some(hint) = error.hint() {
                    console.info(&format!("hint: {hint}"));
                }
            }
            JobEvent::Deleted { target, extra: true } => {
                console.info(&format!("Deleting extra file: {}", escape_controls(target)));
            }
            JobEvent::Deleted { extra: false, .. } => {}
            JobEvent::DeleteFailed { target, error } => console.warn(&delete_failure_line(target, error)),
            JobEvent::Warning(text) => console.warn(text),
            JobEvent::Info(text) => console.info(text),
            JobEvent::Finished(f) => {
                let status = f.status.as_str();
                match f.sync {
                    Some(counts) => reporter.sync_summary(f.id, f.stats, counts, f.elapsed, status),
                    None => reporter.summary(f.id, f.stats, f.elapsed, status),
                }
            }
            JobEvent::Verified(summary) => crate::verify::verify_summary(summary, console),
        }
    }
}

/// Writes a job's record to its log (through `tracing`, target [`JOB_TARGET`], which only the
/// job log takes): the header, each failure, and the summary.
#[derive(Debug, Clone, Copy, Default)]
pub struct JobLogEvents;

impl JobEvents for JobLogEvents {
    fn event(&self, event: &JobEvent<'_>) {
        match event {
            JobEvent::Started { command, source, destination, .. } => {
                tracing::info!(target: JOB_TARGET, "FerryVersion {}", env!("CARGO_PKG_VERSION"));
                tracing::info!(target: JOB_TARGET, "Job-Command {command}");
                tracing::info!(target: JOB_TARGET, "Source {source} Destination {destination}");
            }
            JobEvent::ItemFailed { verb, source, destination, error } => {
                let line = failure_line(verb, source, error);
                tracing::error!(target: JOB_TARGET, "{line}\nDst: {}", escape_controls(destination));
            }
            JobEvent::DeleteFailed { target, error } => {
                tracing::error!(target: JOB_TARGET, "{}", delete_failure_line(target, error));
            }
            JobEvent::Finished(f) => {
                let status = f.status.as_str();
                let text = match f.sync {
                    Some(counts) => sync_summary_text(f.id, f.stats, counts, f.elapsed, status),
                    None => summary_text(f.id, f.stats, f.elapsed, status),
                };
                tracing::info!(target: JOB_TARGET, "{}", text.trim_start());
            }
            _ => {}
        }
    }
}
