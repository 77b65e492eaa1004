//! A set-properties job: change the access tier, metadata and/or index tags of a blob, or of the
//! blobs under a prefix, in place. Each blob is a journaled item (found, then finished), so a
//! resumed job skips the blobs an earlier run changed.

use ferry_azure::AzureStore;
use ferry_journal::{ItemStatus, Journal};
use ferry_store::{Entry, StoreError};
use futures::future::BoxFuture;

use crate::lifecycle::Run;
use crate::spec::SetPropertiesSpec;
use crate::targets::{Opened, PerBlob, Scope, run_per_blob};
use crate::{JobContext, JobError, JobEvent};

/// What is done to each blob, and where it is recorded.
struct Change<'a> {
    store: AzureStore,
    set: &'a SetPropertiesSpec,
    journal: Option<Journal>,
}

impl PerBlob for Change<'_> {
    const VERB: &'static str = "changing";
    const ACTION: &'static str = "change";

    /// Changes one blob (tier, then metadata, then tags; each replaces what was there), unless
    /// an earlier run of the job did.
    fn apply<'a>(&'a self, entry: &'a Entry) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let key = entry.key.as_str();
            if let Some(journal) = &self.journal {
                if journal.status_of(key).ok().flatten() == Some(ItemStatus::Success) {
                    return Ok(());
                }
                journal.found(ferry_journal::FoundItem {
                    modified: entry.last_modified,
                    md5: entry.content_md5,
                    ..ferry_journal::FoundItem::new(key, key, entry.size)
                });
                journal.started(key);
            }
            let result = self.requests(key).await;
            if let Some(journal) = &self.journal {
                let ending = match &result {
                    Ok(()) => ferry_journal::Ending::of(ItemStatus::Success),
                    Err(e) => ferry_journal::Ending {
                        error: Some(e.to_string()),
                        http_status: e.status(),
                        ..ferry_journal::Ending::of(ItemStatus::Failed)
                    },
                };
                if let Err(e) = journal.finished(key, ending).await {
                    tracing::warn!(error = %e, key = %key, "cannot record a change in the job journal");
                }
            }
            result
        })
    }

    fn planned(&self, target: &str, ctx: &JobContext) {
        ctx.events.event(&JobEvent::PlannedChange { target });
    }

    fn done(&self, _target: &str, _ctx: &JobContext) {}

    fn failed(&self, target: &str, error: &StoreError, ctx: &JobContext) {
        ctx.events.event(&JobEvent::ItemFailed { verb: "SETPROPERTIESFAILED", source: target, destination: "", error });
    }
}

impl Change<'_> {
    async fn requests(&self, key: &str) -> Result<(), StoreError> {
        let set = self.set;
        if let Some(tier) = &set.tier {
            self.store.set_tier(key, tier, set.rehydrate_priority.as_deref()).await?;
        }
        if let Some(metadata) = &set.metadata {
            self.store.set_metadata(key, metadata).await?;
        }
        if let Some(tags) = &set.tags {
            self.store.set_tags(key, tags).await?;
        }
        Ok(())
    }
}

/// Runs a set-properties job.
pub(crate) async fn run(run: Run<'_>, set: &SetPropertiesSpec) -> Result<(), JobError> {
    if set.tier.is_none() && set.metadata.is_none() && set.tags.is_none() {
        return Err(JobError::usage("nothing to set").with_hint("give --block-blob-tier, --metadata or --blob-tags"));
    }
    let scope = Scope {
        target: &set.target,
        recursive: set.recursive,
        filter: &set.filter,
        dry_run: set.dry_run,
        versions: &[],
        purge: None,
        files: crate::FilesFlags::default(),
    };
    run_per_blob(run, scope, |store, journal| match store {
        Opened::Blob(store) => Ok(Change { store, set, journal }),
        Opened::Files(_) => Err(JobError::usage("set-properties on Azure Files is not supported yet")
            .with_hint("it changes blobs' tiers, metadata and tags")),
    })
    .await
}
