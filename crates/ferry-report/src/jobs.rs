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

/// `jobs show ID --with-status S`, one line per item (a deletion has a destination only),
/// printed as the rows come: a journal of a million items is
/// never held in memory (text: a line per item, written in blocks; JSON: AzCopy's one
/// `ListJobTransfers` message, its content escaped and written a piece at a time).
pub struct TransferList<'a> {
    console: &'a Console,
    /// Text waiting to be written (JSON: escaped content).
    pending: String,
    /// JSON: the envelope's end, written by `finish`; `None` in text mode.
    json_end: Option<String>,
    first: bool,
}

/// Bytes gathered before a block is written.
const BLOCK: usize = 64 * 1024;

impl<'a> TransferList<'a> {
    /// A list for `job_id`'s items, printed on `console`.
    pub fn new(job_id: &str, console: &'a Console) -> Self {
        let mut list = Self { console, pending: String::new(), json_end: None, first: true };
        if console.format() == OutputFormat::Json {
            // The envelope around a marker, split there: its start now, its end last.
            const MARK: &str = "\u{1}ferry-content\u{1}";
            let whole = envelope("ListJobTransfers", MARK);
            let escaped_mark = go_escape(&serde_json::to_string(MARK).unwrap_or_default());
            let escaped_mark = &escaped_mark[1..escaped_mark.len() - 1];
            if let Some((start, end)) = whole.split_once(escaped_mark) {
                list.pending.push_str(start);
                list.json_end = Some(end.to_owned());
                // AzCopy's field order: ErrorMsg, JobID, then the details.
                let head = serde_json::json!({ "ErrorMsg": "", "JobID": job_id }).to_string();
                list.push_content(&format!("{},\"Details\":[", &head[..head.len() - 1]));
            }
        }
        list
    }

    /// Prints (or gathers) one item's line.
    pub fn push(&mut self, item: &ItemRow) {
        if self.json_end.is_some() {
            let detail = serde_json::json!({
                "Src": item.source,
                "Dst": item.destination,
                "IsFolderProperties": false,
                "TransferStatus": item.status.as_str(),
                "TransferSize": item.size,
                "ErrorCode": item.http_status.unwrap_or(0),
                "ErrorMsg": item.error.clone().unwrap_or_default(),
            });
            let separator = if self.first { "" } else { "," };
            self.push_content(&format!("{separator}{detail}"));
        } else {
            if !self.first {
                self.pending.push('\n');
            }
            self.pending.push_str(&transfer_line(item));
        }
        self.first = false;
        if self.pending.len() >= BLOCK {
            self.write_pending(false);
        }
    }

    /// Writes what is left (and JSON's closing).
    pub fn finish(mut self) {
        if let Some(end) = self.json_end.clone() {
            self.push_content("]}");
            self.pending.push_str(&end);
        }
        self.write_pending(true);
    }

    /// Adds a piece of JSON content, escaped as the inside of a JSON string.
    fn push_content(&mut self, piece: &str) {
        let quoted = serde_json::to_string(piece).unwrap_or_default();
        self.pending.push_str(&go_escape(&quoted[1..quoted.len() - 1]));
    }

    /// Writes the gathered text: whole lines (text), or the next part of the one JSON line,
    /// ended with a newline when `last`.
    fn write_pending(&mut self, last: bool) {
        if self.json_end.is_some() && !last {
            self.console.data_raw_part(&self.pending);
        } else if !self.pending.is_empty() {
            self.console.data_raw(&self.pending);
        }
        // Text: the newline after the lines written came with them.
        self.first = self.json_end.is_none() || self.first;
        self.pending.clear();
    }
}

/// One item's line: `STATUS: SRC -> DST` (a deletion: `STATUS: delete DST`), then ` : CODE :
/// ERROR` when it failed.
fn transfer_line(item: &ItemRow) -> String {
    let mut text = if item.source.is_empty() {
        format!("{}: delete {}", item.status.as_str(), item.destination)
    } else {
        format!("{}: {} -> {}", item.status.as_str(), item.source, item.destination)
    };
    if let Some(error) = &item.error {
        text.push_str(&format!(
            " : {} : {error}",
            item.http_status.map_or_else(|| "000".to_owned(), |s| s.to_string())
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn start_times_look_like_azcopys() {
        assert_eq!(super::start_time(0), "Thursday, 01-Jan-70 00:00:00 UTC");
    }
}
