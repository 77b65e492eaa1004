//! The one journaled deleter, shared by sync (extras at the destination) and remove: it asks
//! first when prompting, records each deletion in the journal before it is made (durably: a
//! crash never leaves a deletion the journal does not know of) and its outcome after.

use std::sync::Arc;

use ferry_journal::{ItemStatus, Journal};
use ferry_store::{ErrorKind, StoreError};
use futures::future::BoxFuture;

use crate::context::Prompt;

/// Deletes one object by its full key.
pub(crate) type DeleteFn<'a> = Box<dyn Fn(String) -> BoxFuture<'a, Result<(), StoreError>> + Send + Sync + 'a>;

/// How one deletion went.
#[derive(Debug)]
pub(crate) enum Deletion {
    /// Deleted (or already gone).
    Deleted,
    /// The user said to keep it.
    Kept,
    /// It failed.
    Failed(StoreError),
}

/// Deletes objects, journaling each.
pub(crate) struct Deleter<'a> {
    pub(crate) delete: DeleteFn<'a>,
    pub(crate) journal: Option<Journal>,
    pub(crate) prompt: Option<Arc<dyn Prompt>>,
}

impl Deleter<'_> {
    /// Deletes `key` (`size` bytes), asking `question` first when prompting. An object already
    /// gone counts as deleted: an interrupted run, or someone else, removed it.
    pub(crate) async fn delete(&self, key: &str, size: u64, question: impl FnOnce() -> String) -> Deletion {
        if let Some(prompt) = &self.prompt
            && !prompt.confirm(&question()).await
        {
            return Deletion::Kept;
        }
        if let Some(journal) = &self.journal
            && let Err(e) = journal.deletion_planned(key, size).await
        {
            // Not deleting what cannot be recorded keeps the journal the whole truth.
            return Deletion::Failed(StoreError::new(ErrorKind::Other, key, format!("cannot journal it: {e}")));
        }
        let result = match (self.delete)(key.to_owned()).await {
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            other => other,
        };
        if let Some(journal) = &self.journal {
            let (status, error, http) = match &result {
                Ok(()) => (ItemStatus::Success, None, None),
                Err(e) => (ItemStatus::Failed, Some(e.to_string()), e.status()),
            };
            if let Err(e) = journal.deletion_finished(key, status, error, http).await {
                tracing::warn!(error = %e, key = %key, "cannot record a deletion in the job journal");
            }
        }
        match result {
            Ok(()) => Deletion::Deleted,
            Err(e) => Deletion::Failed(e),
        }
    }
}
