//! The engine's observer that records every item's state in the job journal.

use ferry_engine::{ItemOutcome, Recorded, Transfer, TransferObserver};
use ferry_journal::{Ending, FoundItem, ItemStatus, Journal};
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
        self.journal.found(FoundItem {
            source: transfer.source_key.clone(),
            destination: transfer.dest_key.clone(),
            size: transfer.size,
            modified: transfer.last_modified,
            md5: transfer.content_md5,
        });
        recorded
    }

    fn started(&self, transfer: &Transfer) {
        self.journal.started(&transfer.source_key);
    }

    fn computed_md5(&self, transfer: &Transfer, md5: [u8; 16]) {
        self.journal.computed_md5(&transfer.source_key, md5);
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

    fn upload_started(&self, transfer: &Transfer, tag: &str, session: &str) {
        self.journal.upload_started(&transfer.source_key, tag, session);
    }

    fn upload_session(&self, transfer: &Transfer, tag: &str) -> Option<String> {
        self.journal.upload_session(&transfer.source_key, tag).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot read the recorded upload session; the upload starts over");
            None
        })
    }

    fn finished<'a>(&'a self, transfer: &'a Transfer, outcome: ItemOutcome<'a>) -> BoxFuture<'a, ()> {
        async move {
            let ending = match outcome {
                ItemOutcome::Copied => Ending::of(ItemStatus::Success),
                ItemOutcome::Skipped => Ending {
                    reason: Some("the destination exists and was kept (--overwrite)".into()),
                    ..Ending::of(ItemStatus::Skipped)
                },
                ItemOutcome::Cancelled => Ending::of(ItemStatus::Cancelled),
                ItemOutcome::Failed(e) => {
                    Ending { error: Some(e.to_string()), http_status: e.status(), ..Ending::of(ItemStatus::Failed) }
                }
            };
            if let Err(e) = self.journal.finished(&transfer.source_key, ending).await {
                tracing::warn!(error = %e, source = %transfer.source_key, "cannot record an item in the job journal");
            }
        }
        .boxed()
    }
}
