//! What every job (copy, sync, remove) does the same way around its work: its id, Ctrl-C and
//! SIGTERM, the cancelled ending with its resume hint, and warnings about the SAS it was given.
//! A first step towards one job lifecycle (issue #12); the run loops still live per command.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ferry_core::Location;
use ferry_journal::Journal;
use ferry_report::Console;

use crate::CliError;

/// The id of a job: the resumed one's, or a new one in AzCopy's form (a hyphenated UUID, which
/// runbooks and wrappers parse). Ids of the older 32-hex-digit form still resume.
pub(super) fn job_id_for(resume: Option<&Journal>) -> String {
    resume.map_or_else(|| uuid::Uuid::new_v4().hyphenated().to_string(), |j| j.spec().job_id.clone())
}

/// The tag that ties staged blocks and partial downloads to a job: its id without hyphens, so
/// block ids keep one length (32 characters) whichever form the id has.
pub(super) fn part_tag(job_id: &str) -> String {
    job_id.replace('-', "")
}

/// Waits for Ctrl-C or SIGTERM.
pub(super) async fn wait_for_interrupt() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let term = async {
        match terminate.as_mut() {
            Some(signal) => {
                signal.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}

/// Watches for Ctrl-C or SIGTERM while a job runs. The first sets `cancel` (no new item starts,
/// items in flight stop at their next block, the listing is dropped) and says so; the second
/// exits at once, which still leaves a job that resumes (every journal change is a
/// transaction). Abort the handle when the job ends.
pub(super) fn watch_interrupts(cancel: Arc<AtomicBool>, console: Console) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        wait_for_interrupt().await;
        cancel.store(true, Ordering::Relaxed);
        console.warn(
            "cancelling: no new file starts and files in flight stop at their next block; press Ctrl-C again to exit at once",
        );
        wait_for_interrupt().await;
        std::process::exit(1);
    })
}

/// Opens the job's log (none at `--log-level NONE`), with the error every job kind gives when it
/// cannot.
pub(super) fn open_job_log(settings: &crate::Settings, job_id: &str) -> Result<Option<std::path::PathBuf>, CliError> {
    crate::logging::open_job_log(&settings.log_dir, job_id, settings.log_level, settings.log_cap).map_err(|e| {
        CliError::failed(format!("cannot create the job log in `{}`: {e}", settings.log_dir.display()))
            .with_hint("set FERRY_LOG_LOCATION to a writable folder, or pass --log-level NONE")
    })
}

/// Records a heartbeat of `stats` in the job's journal, for other processes to read.
pub(super) fn heartbeat(journal: Option<&Journal>, stats: &ferry_engine::StatsSnapshot) {
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

/// The error a cancelled job ends with (exit 1), with the command that resumes it.
pub(super) fn cancelled(job_id: &str) -> CliError {
    CliError::failed(format!("job {job_id} was cancelled")).with_hint(format!(
        "resume it with `ferry jobs resume {job_id}` (add --source-sas/--destination-sas if its URLs carried a SAS)"
    ))
}

/// Warns about each SAS among `locations` (each with its role, `source` or `destination`) that
/// has expired or expires within the hour.
pub(super) fn warn_expiring_sas(locations: &[(&Location, &str)], console: &Console) {
    for &(location, which) in locations {
        if let Some(warning) = location.as_blob().and_then(|b| b.sas()).and_then(|sas| sas_expiry_warning(sas, which)) {
            console.warn(&warning);
        }
    }
}

/// A warning when a SAS has expired or expires within the hour (its `se=` field): the job would
/// fail part-way, and every item after the expiry would need a resume with a fresh SAS.
fn sas_expiry_warning(sas: &ferry_core::SasToken, which: &str) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    let text = sas.expiry()?;
    let expiry = time::OffsetDateTime::parse(&text, &Rfc3339).ok()?;
    let left = expiry - time::OffsetDateTime::now_utc();
    if left.is_negative() {
        Some(format!(
            "the {which} SAS expired at {text}; every request with it will be refused. Get a fresh SAS, or resume later with --{which}-sas"
        ))
    } else if left < time::Duration::hours(1) {
        Some(format!(
            "the {which} SAS expires at {text}, in {} minutes; a long job will fail part-way (resume it then with a fresh --{which}-sas)",
            left.whole_minutes()
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sas_expiring_in(seconds: i64) -> ferry_core::SasToken {
        let at = time::OffsetDateTime::now_utc() + time::Duration::seconds(seconds);
        let se = ferry_azure::sas_time(at).replace(':', "%3A");
        ferry_core::SasToken::parse(&format!("sv=2022-11-02&se={se}&sp=rl&sig=abc")).unwrap()
    }

    #[test]
    fn expired_and_expiring_sas_tokens_are_warned_about() {
        let expired = sas_expiry_warning(&sas_expiring_in(-60), "source").unwrap();
        assert!(expired.contains("source SAS expired"), "{expired}");
        let soon = sas_expiry_warning(&sas_expiring_in(600), "destination").unwrap();
        assert!(soon.contains("destination SAS expires") && soon.contains("--destination-sas"), "{soon}");
        assert!(sas_expiry_warning(&sas_expiring_in(7200), "source").is_none());
    }
}
