//! `jobs list` and `jobs show`: AzCopy's renderings of what the journals record.

use ferry_job::JobDetails;
use ferry_journal::{ItemRow, JobRow};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::console::{Console, OutputFormat};
use crate::job::show_summary_text;
use crate::json::{envelope, go_escape};

/// AzCopy's start time: `Thursday, 01-Jan-70 00:00:00 UTC`.
fn start_time(unix: i64) -> String {
    let format =
        format_description!("[weekday], [day]-[month repr:short]-[year repr:last_two] [hour]:[minute]:[second] UTC");
    OffsetDateTime::from_unix_timestamp(unix).ok().and_then(|t| t.format(format).ok()).unwrap_or_default()
}

/// `jobs list`.
pub fn job_list(jobs: &[JobRow], console: &Console) {
    match console.format() {
        OutputFormat::Text => {
            let mut text = String::from("Existing Jobs ");
            for job in jobs {
                text.push_str(&format!(
                    "\nJobId: {}\nStart Time: {}\nStatus: {}\nCommand: {}\n",
                    job.spec.job_id,
                    start_time(job.spec.created),
                    job.status,
                    ferry_job::shown_command(&job.spec)
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
                        "CommandString": ferry_job::shown_command(&j.spec),
                        "StartTime": j.spec.created,
                        "JobStatus": j.status.as_str(),
                    })
                })
                .collect();
            let content = serde_json::json!({ "JobIDDetails": details, "ErrorMessage": "" });
            console.end_of_job(&go_escape(&content.to_string()));
        }
    }
}

/// For a job still in progress: its last heartbeat, as a line (`Last Heartbeat: …`).
fn heartbeat_line(progress: &ferry_journal::Progress) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let ago = now.saturating_sub(u64::try_from(progress.at).unwrap_or(0));
    format!(
        "Last Heartbeat: {ago} s ago, {} of {} files done, {} bytes moved (a job whose heartbeat is old was probably killed: `ferry jobs resume` finishes it)",
        progress.items_done, progress.items_found, progress.bytes_done
    )
}

/// `jobs show ID`: the job's summary.
pub fn job_details(job_id: &str, details: &JobDetails, console: &Console) {
    let status = details.status.as_str();
    match console.format() {
        OutputFormat::Text => {
            let mut text = show_summary_text(job_id, &details.stats, status);
            if let Some((deleted, failed)) = details.deletions {
                // A sync's deletions, just before the final status.
                let at = text.rfind("\nFinal Job Status:").unwrap_or(text.len());
                text.insert_str(
                    at,
                    &format!("\nNumber of Deletions at Destination: {deleted}\nNumber of Deletions Failed: {failed}"),
                );
            }
            if let Some(progress) = &details.heartbeat {
                text.push('\n');
                text.push_str(&heartbeat_line(progress));
            }
            console.end_of_job(&text);
        }
        OutputFormat::Json => {
            let mut content = serde_json::to_value(details.stats).unwrap_or_default();
            content["JobID"] = serde_json::Value::String(job_id.to_owned());
            content["JobStatus"] = serde_json::Value::String(status.to_owned());
            if let Some((deleted, failed)) = details.deletions {
                content["DeleteTotalTransfers"] = (deleted + failed).to_string().into();
                content["DeleteTransfersCompleted"] = deleted.to_string().into();
            }
            console.data_raw(&envelope("GetJobSummary", &go_escape(&content.to_string())));
        }
    }
}

/// `jobs show ID --with-status S`: one line per item (a deletion has a destination only).
pub fn job_transfers(job_id: &str, items: &[ItemRow], console: &Console) {
    match console.format() {
        OutputFormat::Text => {
            let mut text = String::new();
            for item in items {
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
}

#[cfg(test)]
mod tests {
    #[test]
    fn start_times_look_like_azcopys() {
        assert_eq!(super::start_time(0), "Thursday, 01-Jan-70 00:00:00 UTC");
    }
}
