//! Copy-job output: AzCopy's progress line, its end-of-job summary (labels verbatim), its JSON
//! `ListJobSummaryResponse`, and dry-run lines.

use std::io::{self, IsTerminal, Write};
use std::time::Duration;

use ferry_engine::StatsSnapshot;
use ferry_job::SyncCounts;
use serde_json::json;

use crate::console::{OutputFormat, OutputLevel, write_line};
use crate::json::{envelope, go_escape};

/// Prints a copy job's lines.
#[derive(Debug, Clone, Copy)]
pub struct JobReporter {
    format: OutputFormat,
    level: OutputLevel,
    terminal: bool,
}

/// Megabits per second (base 10), as AzCopy's throughput column.
fn megabits_per_second(bytes: u64, over: Duration) -> f64 {
    let seconds = over.as_secs_f64().max(0.001);
    #[allow(clippy::cast_precision_loss)]
    let bits = bytes as f64 * 8.0;
    bits / seconds / 1_000_000.0
}

fn format_eta(seconds: f64) -> String {
    if !seconds.is_finite() || seconds > 99.0 * 3600.0 {
        return "unknown".into();
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let s = seconds.round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

/// The text of one sync progress line (see [`JobReporter::sync_progress`]).
fn sync_progress_line(
    scanned: (u64, u64),
    stats: &StatsSnapshot,
    recent_bytes: u64,
    interval: Duration,
    elapsed: Duration,
) -> String {
    let throughput = megabits_per_second(recent_bytes, interval);
    if stats.scanning_finished {
        let mut line = format!(
            "{:.1} %, {} Done, {} Failed, {} Pending, {} Total, 2-sec Throughput (Mb/s): {throughput:.4}",
            stats.percent(),
            stats.done,
            stats.failed,
            stats.pending(),
            stats.total,
        );
        line.push_str(&eta_suffix(stats, elapsed));
        line
    } else {
        let mut line = format!("{} Files Scanned at Source, {} Files Scanned at Destination", scanned.0, scanned.1);
        if recent_bytes > 0 {
            line.push_str(&format!(", 2-sec Throughput (Mb/s): {throughput:.4}"));
        }
        line
    }
}

/// `, ETA h:mm:ss` once enumeration has finished and bytes are moving; empty otherwise.
fn eta_suffix(stats: &StatsSnapshot, elapsed: Duration) -> String {
    if !stats.scanning_finished || stats.bytes_transferred == 0 {
        return String::new();
    }
    #[allow(clippy::cast_precision_loss)]
    let rate = stats.bytes_transferred as f64 / elapsed.as_secs_f64().max(0.001);
    #[allow(clippy::cast_precision_loss)]
    let left = stats.bytes_expected.saturating_sub(stats.bytes_transferred) as f64;
    format!(", ETA {}", format_eta(left / rate))
}

impl JobReporter {
    /// A reporter in `format` at `level`; progress is redrawn in place when standard error is a
    /// terminal, and printed as plain lines otherwise.
    pub fn new(format: OutputFormat, level: OutputLevel) -> Self {
        Self { format, level, terminal: io::stderr().is_terminal() }
    }

    /// `Job ID has started` and `Log file is located at:` (JSON: the `Init` message).
    pub fn started(&self, job_id: &str, log_file: Option<&std::path::Path>) {
        if self.level == OutputLevel::Quiet {
            return;
        }
        let log = log_file.map(|p| p.display().to_string()).unwrap_or_default();
        match self.format {
            OutputFormat::Text => {
                let mut text = format!("INFO: Scanning...\n\nJob {job_id} has started");
                if !log.is_empty() {
                    text.push_str(&format!("\nLog file is located at: {log}"));
                }
                let _ = write_line(&mut io::stdout().lock(), &text);
            }
            OutputFormat::Json => {
                let content = json!({ "LogFileLocation": log, "JobID": job_id, "IsCleanupJob": false });
                let _ = write_line(&mut io::stdout().lock(), &envelope("Init", &go_escape(&content.to_string())));
            }
        }
    }

    /// One progress report: `stats` now, `recent_bytes` moved over the last `interval`, and the
    /// time since the job started (for the ETA).
    pub fn progress(&self, stats: &StatsSnapshot, recent_bytes: u64, interval: Duration, elapsed: Duration) {
        if self.level != OutputLevel::Default {
            return;
        }
        let throughput = megabits_per_second(recent_bytes, interval);
        match self.format {
            OutputFormat::Text => {
                let scanning = if stats.scanning_finished { "" } else { " (scanning...)" };
                let mut line = format!(
                    "{:.1} %, {} Done, {} Failed, {} Pending, {} Skipped, {} Total{scanning}, 2-sec Throughput (Mb/s): {throughput:.4}",
                    stats.percent(),
                    stats.done,
                    stats.failed,
                    stats.pending(),
                    stats.skipped,
                    stats.total,
                );
                line.push_str(&eta_suffix(stats, elapsed));
                self.redraw(&line);
            }
            OutputFormat::Json => {
                let _ =
                    write_line(&mut io::stdout().lock(), &envelope("Progress", &summary_json("", stats, "InProgress")));
            }
        }
    }

    /// Sync progress, as AzCopy prints it: while the listings run,
    /// `N Files Scanned at Source, N Files Scanned at Destination`; then the transfer line
    /// (`pct %, N Done, N Failed, N Pending, N Total, 2-sec Throughput (Mb/s): x`, with Ferry's ETA).
    pub fn sync_progress(
        &self,
        scanned: (u64, u64),
        stats: &StatsSnapshot,
        recent_bytes: u64,
        interval: Duration,
        elapsed: Duration,
    ) {
        if self.level != OutputLevel::Default {
            return;
        }
        match self.format {
            OutputFormat::Text => {
                let line = sync_progress_line(scanned, stats, recent_bytes, interval, elapsed);
                self.redraw(&line);
            }
            OutputFormat::Json => {
                let content = if stats.scanning_finished {
                    let mut content: serde_json::Value =
                        serde_json::from_str(&summary_json("", stats, "InProgress")).unwrap_or_default();
                    content["DeleteTotalTransfers"] = "0".into();
                    content["DeleteTransfersCompleted"] = "0".into();
                    content.to_string()
                } else {
                    json!({
                        "FilesScannedAtSource": scanned.0.to_string(),
                        "FilesScannedAtDestination": scanned.1.to_string(),
                    })
                    .to_string()
                };
                let _ = write_line(&mut io::stdout().lock(), &envelope("Progress", &go_escape(&content)));
            }
        }
    }

    /// Prints a progress line: in place on a terminal, as a plain line otherwise.
    fn redraw(&self, line: &str) {
        let mut err = io::stderr().lock();
        if self.terminal {
            let _ = write!(err, "\r{line}\x1b[K");
            let _ = err.flush();
        } else {
            let _ = write_line(&mut err, line);
        }
    }

    /// Ends an in-place progress line before other output.
    pub fn end_progress(&self) {
        if self.format == OutputFormat::Text && self.terminal && self.level == OutputLevel::Default {
            let _ = write_line(&mut io::stderr().lock(), "");
        }
    }

    /// A dry-run line: `DRYRUN: copy SRC to DST` (JSON: a `Dryrun` message).
    pub fn dry_run(&self, source: &str, destination: &str, size: u64) {
        let line = match self.format {
            OutputFormat::Text => format!("DRYRUN: copy {source} to {destination}"),
            OutputFormat::Json => {
                let content = json!({
                    "EntityType": "File",
                    "BlobType": "BlockBlob",
                    "Source": source,
                    "Destination": destination,
                    "SourceSize": size,
                });
                envelope("Dryrun", &go_escape(&content.to_string()))
            }
        };
        let _ = write_line(&mut io::stdout().lock(), &line);
    }

    /// The sync summary (JSON: `EndOfJob` with the copy fields plus the scan and delete counts).
    pub fn sync_summary(
        &self,
        job_id: &str,
        stats: &StatsSnapshot,
        sync: &SyncCounts,
        elapsed: Duration,
        status: &str,
    ) {
        if self.level == OutputLevel::Quiet {
            return;
        }
        let line = match self.format {
            OutputFormat::Text => sync_summary_text(job_id, stats, sync, elapsed, status),
            OutputFormat::Json => {
                let mut content: serde_json::Value =
                    serde_json::from_str(&summary_json(job_id, stats, status)).unwrap_or_default();
                content["FilesScannedAtSource"] = sync.scanned_source.to_string().into();
                content["FilesScannedAtDestination"] = sync.scanned_destination.to_string().into();
                content["DeleteTotalTransfers"] = (sync.deleted + sync.delete_failed).to_string().into();
                content["DeleteTransfersCompleted"] = sync.deleted.to_string().into();
                envelope("EndOfJob", &go_escape(&content.to_string()))
            }
        };
        let _ = write_line(&mut io::stdout().lock(), &line);
    }

    /// A sync dry-run line: `DRYRUN: copy SRC to DST (reason)` or `DRYRUN: remove DST (reason)`.
    pub fn dry_run_line(&self, line: &str) {
        let line = match self.format {
            OutputFormat::Text => line.to_owned(),
            OutputFormat::Json => envelope("Dryrun", &go_escape(&serde_json::json!({ "Line": line }).to_string())),
        };
        let _ = write_line(&mut io::stdout().lock(), &line);
    }

    /// The end-of-job summary with AzCopy's labels, verbatim and in order.
    pub fn summary(&self, job_id: &str, stats: &StatsSnapshot, elapsed: Duration, status: &str) {
        if self.level == OutputLevel::Quiet {
            return;
        }
        match self.format {
            OutputFormat::Text => {
                let _ = write_line(&mut io::stdout().lock(), &summary_text(job_id, stats, elapsed, status));
            }
            OutputFormat::Json => {
                let _ =
                    write_line(&mut io::stdout().lock(), &envelope("EndOfJob", &summary_json(job_id, stats, status)));
            }
        }
    }
}

/// The text summary, as AzCopy prints it after a copy.
pub fn summary_text(job_id: &str, stats: &StatsSnapshot, elapsed: Duration, status: &str) -> String {
    let minutes = elapsed.as_secs_f64() / 60.0;
    [
        format!("\nJob {job_id} summary"),
        format!("Elapsed Time (Minutes): {minutes:.4}"),
        format!("Number of File Transfers: {}", stats.total),
        "Number of Folder Property Transfers: 0".into(),
        "Number of Symlink Transfers: 0".into(),
        format!("Total Number of Transfers: {}", stats.total),
        format!("Number of File Transfers Completed: {}", stats.done),
        "Number of Folder Transfers Completed: 0".into(),
        format!("Number of File Transfers Failed: {}", stats.failed),
        "Number of Folder Transfers Failed: 0".into(),
        format!("Number of File Transfers Skipped: {}", stats.skipped),
        "Number of Folder Transfers Skipped: 0".into(),
        format!("Number of Symbolic Links Skipped: {}", stats.symlinks_skipped),
        "Number of Hardlinks Converted: 0".into(),
        "Number of Hardlinks Transferred: 0".into(),
        "Number of Hardlinks Completed: 0".into(),
        "Number of Hardlinks Failed: 0".into(),
        format!("Number of Hardlinks Skipped: {}", stats.hardlinks_skipped),
        format!("Number of Special Files Skipped: {}", stats.special_skipped),
        format!("Total Number of Bytes Transferred: {}", stats.bytes_transferred),
        format!("Final Job Status: {status}"),
    ]
    .join("\n")
}

/// The sync summary with AzCopy's labels, verbatim and in order.
pub fn sync_summary_text(
    job_id: &str,
    stats: &StatsSnapshot,
    sync: &SyncCounts,
    elapsed: Duration,
    status: &str,
) -> String {
    [
        format!("\nJob {job_id} Summary"),
        format!("Files Scanned at Source: {}", sync.scanned_source),
        format!("Files Scanned at Destination: {}", sync.scanned_destination),
        format!("Elapsed Time (Minutes): {:.4}", elapsed.as_secs_f64() / 60.0),
        format!("Number of Copy Transfers for Files: {}", stats.total),
        "Number of Copy Transfers for Folder Properties: 0".into(),
        "Number of Symlink Transfers: 0".into(),
        format!("Total Number of Copy Transfers: {}", stats.total),
        format!("Number of Copy Transfers Completed: {}", stats.done),
        format!("Number of Copy Transfers Failed: {}", stats.failed),
        format!("Number of Deletions at Destination: {}", sync.deleted),
        format!("Number of Symbolic Links Skipped: {}", stats.symlinks_skipped),
        format!("Number of Special Files Skipped: {}", stats.special_skipped),
        "Number of Hardlinks Transferred: 0".into(),
        "Number of Hardlinks Converted: 0".into(),
        format!("Number of Hardlinks Skipped: {}", stats.hardlinks_skipped),
        format!("Total Number of Bytes Transferred: {}", stats.bytes_transferred),
        format!("Total Number of Bytes Enumerated: {}", stats.bytes_enumerated),
        format!("Final Job Status: {status}"),
    ]
    .join("\n")
}

/// The `jobs show` summary: AzCopy's resume labels without the elapsed time, with
/// `Percent Complete (approx)` before the final status.
pub fn show_summary_text(job_id: &str, stats: &StatsSnapshot, status: &str) -> String {
    const LEFT_OUT: [&str; 5] = [
        "Elapsed Time (Minutes)",
        "Number of Symbolic Links Skipped",
        "Number of Hardlinks Converted",
        "Number of Hardlinks Transferred",
        "Number of Special Files Skipped",
    ];
    let full = summary_text(job_id, stats, Duration::ZERO, status);
    let mut lines: Vec<String> = full
        .trim_start()
        .lines()
        .filter(|l| !LEFT_OUT.iter().any(|label| l.starts_with(&format!("{label}:"))))
        .map(str::to_owned)
        .collect();
    let at = lines.len() - 1;
    lines.insert(at, format!("Percent Complete (approx): {:.1}", stats.percent()));
    lines.join("\n")
}

/// AzCopy's `ListJobSummaryResponse`, numbers as strings, serialised for `MessageContent`.
fn summary_json(job_id: &str, stats: &StatsSnapshot, status: &str) -> String {
    let content = json!({
        "ErrorMsg": "",
        "JobID": job_id,
        "ActiveConnections": "0",
        "CompleteJobOrdered": stats.scanning_finished,
        "JobStatus": status,
        "TotalTransfers": stats.total.to_string(),
        "FileTransfers": stats.total.to_string(),
        "FolderPropertyTransfers": "0",
        "SymlinkTransfers": "0",
        "FoldersCompleted": "0",
        "TransfersCompleted": stats.done.to_string(),
        "FoldersFailed": "0",
        "TransfersFailed": stats.failed.to_string(),
        "FoldersSkipped": "0",
        "TransfersSkipped": stats.skipped.to_string(),
        "BytesOverWire": stats.bytes_transferred.to_string(),
        "TotalBytesTransferred": stats.bytes_transferred.to_string(),
        "TotalBytesEnumerated": stats.bytes_enumerated.to_string(),
        "TotalBytesExpected": stats.bytes_expected.to_string(),
        "PercentComplete": format!("{:.4}", stats.percent()),
        "FailedTransfers": [],
        "SkippedTransfers": [],
        "IsCleanupJob": false,
    });
    go_escape(&content.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(done: u64, failed: u64, skipped: u64) -> StatsSnapshot {
        StatsSnapshot { total: done + failed + skipped, done, failed, skipped, ..StatsSnapshot::default() }
    }

    #[test]
    fn final_status_follows_azcopy() {
        let final_status = |s: &StatsSnapshot, c| ferry_job::final_status(s, c).as_str();
        assert_eq!(final_status(&stats(3, 0, 0), false), "Completed");
        assert_eq!(final_status(&stats(3, 0, 1), false), "CompletedWithSkipped");
        assert_eq!(final_status(&stats(3, 1, 0), false), "CompletedWithErrors");
        assert_eq!(final_status(&stats(3, 1, 1), false), "CompletedWithErrorsAndSkipped");
        assert_eq!(final_status(&stats(0, 2, 0), false), "Failed");
        assert_eq!(final_status(&stats(0, 0, 0), false), "Completed");
        assert_eq!(final_status(&stats(1, 0, 0), true), "Cancelled");
    }

    #[test]
    fn summary_labels_are_azcopys_in_order() {
        let text = summary_text("abc", &stats(2, 1, 0), Duration::from_secs(90), "CompletedWithErrors");
        let labels: Vec<&str> = text.lines().skip(2).map(|l| l.split(':').next().unwrap()).collect();
        assert_eq!(labels[0], "Elapsed Time (Minutes)");
        assert_eq!(labels.last(), Some(&"Final Job Status"));
        assert!(text.contains("\nElapsed Time (Minutes): 1.5000\n"));
        assert!(text.contains("\nNumber of File Transfers Failed: 1\n"));
        assert_eq!(text.lines().count(), 22);
    }

    #[test]
    fn sync_progress_shows_the_scan_then_the_transfers() {
        let mut now = stats(3, 1, 0);
        let two = Duration::from_secs(2);
        assert_eq!(
            sync_progress_line((120, 7), &now, 0, two, two),
            "120 Files Scanned at Source, 7 Files Scanned at Destination"
        );
        assert_eq!(
            sync_progress_line((120, 7), &now, 250_000, two, two),
            "120 Files Scanned at Source, 7 Files Scanned at Destination, 2-sec Throughput (Mb/s): 1.0000"
        );
        now.scanning_finished = true;
        assert!(
            sync_progress_line((120, 7), &now, 0, two, two)
                .starts_with("100.0 %, 3 Done, 1 Failed, 0 Pending, 4 Total, 2-sec Throughput (Mb/s): 0.0000"),
        );
    }

    #[test]
    fn eta_formatting() {
        assert_eq!(format_eta(3725.0), "1:02:05");
        assert_eq!(format_eta(f64::INFINITY), "unknown");
    }
}
