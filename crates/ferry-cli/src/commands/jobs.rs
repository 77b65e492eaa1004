//! `ferry jobs list|show|resume|remove|clean`: queries over the job journals.

use clap::Parser;
use ferry_engine::StatsSnapshot;
use ferry_journal::{ItemStatus, Journal, JournalError, list_jobs, remove_job};
use ferry_report::{Console, OutputFormat, envelope, go_escape, show_summary_text};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::args::{JobsCommand, JobsResumeArgs};
use crate::{Cli, CliError, Command, Environment, Settings};

pub(super) async fn run(
    command: &JobsCommand,
    settings: &Settings,
    env: &Environment,
    console: &Console,
) -> Result<(), CliError> {
    match command {
        JobsCommand::List(args) => list(args.with_status.as_deref(), settings, console),
        JobsCommand::Show(args) => show(&args.job_id, args.with_status.as_deref(), settings, console),
        JobsCommand::Resume(args) => resume(args, settings, env, console).await,
        JobsCommand::Remove(args) => {
            remove(&args.job_id, settings)?;
            console.end_of_job(&format!("Successfully removed log and job plan files for job {}.", args.job_id));
            Ok(())
        }
        JobsCommand::Clean(args) => {
            let jobs = list_jobs(&settings.plan_dir).map_err(failed)?;
            let mut removed = 0;
            for job in jobs.iter().filter(|j| status_matches(&j.status, args.with_status.as_deref())) {
                remove(&job.spec.job_id, settings)?;
                removed += 1;
            }
            console.end_of_job(&format!("Successfully removed {removed} jobs."));
            Ok(())
        }
    }
}

fn failed(e: JournalError) -> CliError {
    match e {
        JournalError::NoSuchJob(id) => {
            CliError::failed(format!("there is no job `{id}`")).with_hint("`ferry jobs list` shows the jobs there are")
        }
        e @ JournalError::InvalidJobId(_) => {
            CliError::usage(e.to_string()).with_hint("`ferry jobs list` shows the jobs there are")
        }
        other => CliError::failed(other.to_string()),
    }
}

fn status_matches(status: &str, wanted: Option<&str>) -> bool {
    wanted.is_none_or(|w| w.eq_ignore_ascii_case("All") || w.eq_ignore_ascii_case(status))
}

fn remove(job_id: &str, settings: &Settings) -> Result<(), CliError> {
    remove_job(&settings.plan_dir, job_id).map_err(failed)?;
    let log = settings.log_dir.join(format!("{job_id}.log"));
    match std::fs::remove_file(&log) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(CliError::failed(format!("cannot remove `{}`: {e}", log.display()))),
    }
}

/// The command a job runs, as `jobs list` shows it: rendered from the very arguments `jobs
/// resume` runs (secrets were never stored), so what is shown is what runs.
fn shown_command(spec: &ferry_journal::JobSpec) -> String {
    let quote = |arg: &String| {
        let plain = !arg.is_empty() && arg.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./:=,@%+~".contains(&b));
        if plain { arg.clone() } else { format!("'{}'", arg.replace('\'', "'\\''")) }
    };
    ferry_core::redact_text(&spec.args.iter().map(quote).collect::<Vec<_>>().join(" "))
}

fn start_time(unix: i64) -> String {
    let format =
        format_description!("[weekday], [day]-[month repr:short]-[year repr:last_two] [hour]:[minute]:[second] UTC");
    OffsetDateTime::from_unix_timestamp(unix).ok().and_then(|t| t.format(format).ok()).unwrap_or_default()
}

fn list(with_status: Option<&str>, settings: &Settings, console: &Console) -> Result<(), CliError> {
    let jobs = list_jobs(&settings.plan_dir).map_err(failed)?;
    let jobs: Vec<_> = jobs.into_iter().filter(|j| status_matches(&j.status, with_status)).collect();
    match console.format() {
        OutputFormat::Text => {
            let mut text = String::from("Existing Jobs ");
            for job in &jobs {
                text.push_str(&format!(
                    "\nJobId: {}\nStart Time: {}\nStatus: {}\nCommand: {}\n",
                    job.spec.job_id,
                    start_time(job.spec.created),
                    job.status,
                    shown_command(&job.spec)
                ));
            }
            console.end_of_job(&text);
        }
        OutputFormat::Json => {
            let details: Vec<_> = jobs
                .iter()
                .map(|j| {
                    serde_json::json!({
                        "JobId": j.spec.job_id,
                        "CommandString": shown_command(&j.spec),
                        "StartTime": j.spec.created,
                        "JobStatus": j.status,
                    })
                })
                .collect();
            let content = serde_json::json!({ "JobIDDetails": details, "ErrorMessage": "" });
            console.end_of_job(&go_escape(&content.to_string()));
        }
    }
    Ok(())
}

/// For a job still in progress: its last heartbeat, as a line (`Last Heartbeat: …`).
fn heartbeat_line(journal: &Journal, status: &str) -> Option<String> {
    if status != "InProgress" {
        return None;
    }
    let progress = journal.progress()?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let ago = now.saturating_sub(u64::try_from(progress.at).unwrap_or(0));
    Some(format!(
        "Last Heartbeat: {ago} s ago, {} of {} files done, {} bytes moved (a job whose heartbeat is old was probably killed: `ferry jobs resume` finishes it)",
        progress.items_done, progress.items_found, progress.bytes_done
    ))
}

/// The job's counters, from its journal.
fn snapshot(journal: &Journal) -> Result<StatsSnapshot, CliError> {
    let mut stats = StatsSnapshot { scanning_finished: true, ..StatsSnapshot::default() };
    for count in journal.counts().map_err(failed)? {
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
    Ok(stats)
}

fn show(job_id: &str, with_status: Option<&str>, settings: &Settings, console: &Console) -> Result<(), CliError> {
    let journal = Journal::open(&settings.plan_dir, job_id).map_err(failed)?;
    let (status, _) = journal.job_status().map_err(failed)?;
    let Some(wanted) = with_status else {
        let stats = snapshot(&journal)?;
        let (mut deleted, mut delete_failed) = (0u64, 0u64);
        for count in journal.deletion_counts().map_err(failed)? {
            match count.status {
                ItemStatus::Success => deleted += count.items,
                ItemStatus::Failed => delete_failed += count.items,
                _ => {}
            }
        }
        let has_deletions = deleted + delete_failed > 0;
        match console.format() {
            OutputFormat::Text => {
                let mut text = show_summary_text(job_id, &stats, &status);
                if has_deletions {
                    // A sync's deletions, just before the final status.
                    let at = text.rfind("\nFinal Job Status:").unwrap_or(text.len());
                    text.insert_str(
                        at,
                        &format!(
                            "\nNumber of Deletions at Destination: {deleted}\nNumber of Deletions Failed: {delete_failed}"
                        ),
                    );
                }
                if let Some(line) = heartbeat_line(&journal, &status) {
                    text.push('\n');
                    text.push_str(&line);
                }
                console.end_of_job(&text);
            }
            OutputFormat::Json => {
                let mut content = serde_json::to_value(stats).unwrap_or_default();
                content["JobID"] = serde_json::Value::String(job_id.to_owned());
                content["JobStatus"] = serde_json::Value::String(status);
                if has_deletions {
                    content["DeleteTotalTransfers"] = (deleted + delete_failed).to_string().into();
                    content["DeleteTransfersCompleted"] = deleted.to_string().into();
                }
                let line = envelope("GetJobSummary", &go_escape(&content.to_string()));
                console.data_raw(&line);
            }
        }
        return Ok(());
    };
    let filter = if wanted.eq_ignore_ascii_case("All") {
        None
    } else {
        Some(ItemStatus::parse(wanted).ok_or_else(|| {
            CliError::usage(format!("--with-status `{wanted}` is not a transfer status"))
                .with_hint("use Success, Failed, SkippedEntityAlreadyExists, NotStarted, Started, Cancelled or All")
        })?)
    };
    let mut items = journal.items(filter).map_err(failed)?;
    // A sync's deletions follow its copies; they have a destination and no source.
    items.extend(journal.deletions(filter).map_err(failed)?);
    match console.format() {
        OutputFormat::Text => {
            let mut text = String::new();
            for item in &items {
                if item.source.is_empty() {
                    text.push_str(&format!("{}: delete {}", item.status.as_str(), item.destination));
                } else {
                    text.push_str(&format!("{}: {} -> {}", item.status.as_str(), item.source, item.destination));
                }
                if let Some(error) = &item.error {
                    text.push_str(&format!(
                        " : {} : {error}",
                        item.http_status.map_or_else(|| "000".to_owned(), |s| s.to_string())
                    ));
                }
                text.push('\n');
            }
            console.end_of_job(text.trim_end());
        }
        OutputFormat::Json => {
            let details: Vec<_> = items
                .iter()
                .map(|i| {
                    serde_json::json!({
                        "Src": i.source,
                        "Dst": i.destination,
                        "IsFolderProperties": false,
                        "TransferStatus": i.status.as_str(),
                        "TransferSize": i.size,
                        "ErrorCode": i.http_status.unwrap_or(0),
                        "ErrorMsg": i.error.clone().unwrap_or_default(),
                    })
                })
                .collect();
            let content = serde_json::json!({ "ErrorMsg": "", "JobID": job_id, "Details": details });
            console.data_raw(&envelope("ListJobTransfers", &go_escape(&content.to_string())));
        }
    }
    Ok(())
}

/// `sas` as a query string: a bare token (with or without `?`) or the query of a whole URL.
fn sas_query(sas: &str) -> &str {
    sas.split_once('?').map_or(sas, |(_, q)| q)
}

fn with_sas(url: &str, sas: &str) -> String {
    let base = url.split_once('?').map_or(url, |(b, _)| b);
    format!("{base}?{}", sas_query(sas))
}

async fn resume(
    args: &JobsResumeArgs,
    settings: &Settings,
    env: &Environment,
    console: &Console,
) -> Result<(), CliError> {
    let journal = Journal::open_to_run(&settings.plan_dir, &args.job_id).map_err(failed)?;
    let spec = journal.spec().clone();
    let argv = std::iter::once("ferry".to_owned()).chain(spec.args.iter().cloned());
    let cli = Cli::try_parse_from(argv)
        .map_err(|e| CliError::failed(format!("the job's command line cannot be read back: {e}")))?;
    let mut command = cli.command;
    match &mut command {
        Command::Copy(copy) => attach_sas(args, &spec, &mut copy.source, Some(&mut copy.destination))?,
        Command::Sync(sync) => attach_sas(args, &spec, &mut sync.source, Some(&mut sync.destination))?,
        Command::Remove(remove) => attach_sas(args, &spec, &mut remove.url, None)?,
        _ => {
            return Err(CliError::usage(format!(
                "job {} cannot be resumed: only copy, sync and remove jobs can",
                args.job_id
            )));
        }
    }
    if !spec.cwd.is_empty() {
        std::env::set_current_dir(&spec.cwd).map_err(|e| {
            CliError::failed(format!("the job ran in `{}`, which cannot be entered now: {e}", spec.cwd))
        })?;
    }
    journal.set_job_status("InProgress", None).await.map_err(failed)?;
    // Exactly what runs, as `jobs list` shows it (from the same recorded arguments).
    console.info(&format!("Resuming job {}: ferry {} (in {})", args.job_id, shown_command(&spec), spec.cwd));
    match &command {
        Command::Copy(copy) => super::copy::run_job(copy, settings, env, console, Some(journal)).await,
        Command::Sync(sync) => super::sync::run(sync, settings, env, console, Some(journal)).await,
        Command::Remove(remove) => super::remove::run(remove, settings, env, console, Some(journal)).await,
        _ => unreachable!("refused above"),
    }
}

/// Puts the SAS given to `jobs resume` back on the job's URLs; a URL that carried one when the job
/// started needs one again, since Ferry never stores it. A remove job's one URL is its source.
fn attach_sas(
    args: &JobsResumeArgs,
    spec: &ferry_journal::JobSpec,
    source: &mut String,
    destination: Option<&mut String>,
) -> Result<(), CliError> {
    let mut sides = vec![(&args.source_sas, spec.source_credential.as_str(), source, "source")];
    if let Some(destination) = destination {
        sides.push((&args.destination_sas, spec.destination_credential.as_str(), destination, "destination"));
    }
    for (given, recorded, arg, flag) in sides {
        match given {
            Some(sas) => *arg = with_sas(arg, sas),
            None if recorded == "url-sas" => {
                return Err(CliError::usage(format!("the {flag}-sas switch must be provided to resume the job"))
                    .with_hint(format!(
                        "the job's {flag} URL carried a SAS, which Ferry never stores: pass --{flag}-sas TOKEN"
                    )));
            }
            None => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sas_is_accepted_as_a_token_or_a_url() {
        assert_eq!(
            with_sas("https://a.blob.core.windows.net/c", "sv=1&sig=x"),
            "https://a.blob.core.windows.net/c?sv=1&sig=x"
        );
        assert_eq!(
            with_sas("https://a.blob.core.windows.net/c", "?sv=1&sig=x"),
            "https://a.blob.core.windows.net/c?sv=1&sig=x"
        );
        assert_eq!(
            with_sas("https://a.blob.core.windows.net/c?old=1", "https://a.blob.core.windows.net/c?sv=2&sig=y"),
            "https://a.blob.core.windows.net/c?sv=2&sig=y"
        );
    }

    #[test]
    fn start_times_look_like_azcopys() {
        assert_eq!(start_time(0), "Thursday, 01-Jan-70 00:00:00 UTC");
    }
}
