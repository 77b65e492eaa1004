//! The job journal behind a copy: the engine's observer, and the job spec.

use ferry_engine::{ItemOutcome, Recorded, Transfer, TransferObserver};
use ferry_journal::{ItemStatus, JobSpec, Journal};
use futures::FutureExt;
use futures::future::BoxFuture;

/// Records every item's state in the job journal.
pub(crate) struct JournalObserver {
    pub(crate) journal: Journal,
}

impl TransferObserver for JournalObserver {
    fn found(&self, transfer: &Transfer) -> Recorded {
        // A new job has nothing recorded: no need to look (one query per item saved).
        let recorded = if self.journal.is_fresh() { Ok(None) } else { self.journal.status_of(&transfer.source_key) };
        let recorded = match recorded {
            Ok(Some(status)) if status.is_final_for_resume() => return Recorded::Done,
            Ok(Some(_)) => Recorded::Unfinished,
            Ok(None) => Recorded::New,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the job journal; the item is copied again");
                Recorded::Unfinished
            }
        };
        self.journal.found(&transfer.source_key, &transfer.dest_key, transfer.size);
        recorded
    }

    fn started(&self, transfer: &Transfer) {
        self.journal.started(&transfer.source_key);
    }

    fn chunk_done(&self, transfer: &Transfer, tag: &str, offset: u64) {
        self.journal.chunk_done(&transfer.source_key, tag, offset);
    }

    fn chunks_done(&self, transfer: &Transfer, tag: &str) -> Vec<u64> {
        self.journal.chunks_done(&transfer.source_key, tag).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot read recorded chunks; the download starts over");
            Vec::new()
        })
    }

    fn finished<'a>(&'a self, transfer: &'a Transfer, outcome: ItemOutcome<'a>) -> BoxFuture<'a, ()> {
        async move {
            let (status, error, http) = match outcome {
                ItemOutcome::Copied => (ItemStatus::Success, None, None),
                ItemOutcome::Skipped => (ItemStatus::Skipped, None, None),
                ItemOutcome::Cancelled => (ItemStatus::Cancelled, None, None),
                ItemOutcome::Failed(e) => (ItemStatus::Failed, Some(e.to_string()), e.status()),
            };
            if let Err(e) = self.journal.finished(&transfer.source_key, status, error, http).await {
                tracing::warn!(error = %e, source = %transfer.source_key, "cannot record an item in the job journal");
            }
        }
        .boxed()
    }
}

/// Removes the SAS from a URL argument (everything after `?` when it carries a signature, in any
/// spelling), and any secret from a bare token such as `--source-sas=sig=…`.
fn without_sas(arg: &str) -> String {
    match arg.split_once('?') {
        Some((base, query)) if ferry_core::SasToken::parse(query).is_some() => base.to_owned(),
        _ => ferry_core::redact_text(arg),
    }
}

/// The spec of a new job: this process's arguments without secrets.
pub(crate) fn spec_for(job_id: &str, source_credential: &str, destination_credential: &str) -> JobSpec {
    let args: Vec<String> = std::env::args().skip(1).map(|a| without_sas(&a)).collect();
    let shown: Vec<String> = std::env::args().map(|a| ferry_core::redact_text(&a)).collect();
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(0))
        .unwrap_or(0);
    JobSpec {
        job_id: job_id.to_owned(),
        args,
        command_line: shown.join(" "),
        cwd: std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default(),
        created,
        source_credential: source_credential.to_owned(),
        destination_credential: destination_credential.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sas_is_removed_from_url_arguments_only() {
        assert_eq!(
            without_sas("https://a.blob.core.windows.net/c/x?sv=1&sig=abc"),
            "https://a.blob.core.windows.net/c/x"
        );
        assert_eq!(without_sas("./local?file"), "./local?file");
        assert_eq!(without_sas("--recursive"), "--recursive");
    }
}
