//! A set-properties job: change the access tier, metadata and/or index tags of a blob, or of the
//! blobs under a prefix, in place. Each blob is a journaled item (found, then finished), so a
//! resumed job skips the blobs an earlier run changed.

use std::sync::atomic::AtomicU64;

use ferry_azure::AzureStore;
use ferry_core::{BlobUrl, Location};
use ferry_engine::StatsSnapshot;
use ferry_journal::{ItemStatus, Journal};
use ferry_store::{Entry, StoreError};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};

use crate::events::final_status;
use crate::lifecycle::{Lifecycle, Run, cancelled, journal_for};
use crate::listing::compile;
use crate::open::{Side, blob_side};
use crate::spec::{Role, SetPropertiesSpec};
use crate::targets::Targets;
use crate::{JobContext, JobError, JobEvent};

/// How many blobs are changed at once.
const IN_FLIGHT: usize = 32;

/// Runs a set-properties job (new, or resumed: blobs it changed already are skipped).
pub(crate) async fn run(run: Run<'_>, set: &SetPropertiesSpec) -> Result<(), JobError> {
    if set.tier.is_none() && set.metadata.is_none() && set.tags.is_none() {
        return Err(JobError::usage("nothing to set").with_hint("give --block-blob-tier, --metadata or --blob-tags"));
    }
    let [location] = run.locations([(&set.target, Role::Source)])?;
    let Run { id, spec, resume, ctx } = run;
    let Location::Blob(url) = &location else {
        return Err(JobError::usage("`ferry set-properties` changes blobs; give a Blob URL"));
    };
    let (side, store) = blob_side(url, Role::Source, ctx)?;
    let filter = compile(&set.filter)?;
    let listed = AtomicU64::new(0);
    let found = Targets::of(url, set.recursive, &store, &side, "changing").await?;
    let targets = found.stream(&side, &filter, &listed);
    if set.dry_run {
        return dry_run(targets, &side, url, ctx).await;
    }
    let journal = journal_for(id, spec, resume, (&side, &side), ctx)?;
    let job = Lifecycle::begin(id, spec, Some(journal), (&side, &side), ctx)?;
    let change = Change { store: &store, set, journal: job.journal.as_ref() };
    let stats = match change_all(targets, &change, &side, ctx).await {
        Ok(stats) => stats,
        Err(e) => {
            tracing::error!(target: crate::JOB_TARGET, "the listing failed: {e}");
            job.fail(false).await;
            return Err(side.explain(e.into()));
        }
    };
    let cancelled_now = ctx.is_cancelled();
    if stats.total == 0 && !cancelled_now {
        job.fail(true).await;
        return Err(nothing_found(url));
    }
    job.finish(&stats, None, final_status(&stats, cancelled_now), !cancelled_now).await;
    if cancelled_now {
        return Err(cancelled(id));
    }
    if stats.failed > 0 {
        return Err(JobError::failed(format!("{} of {} blobs could not be changed", stats.failed, stats.total)));
    }
    Ok(())
}

/// What is done to each blob, and where it is recorded.
struct Change<'a> {
    store: &'a AzureStore,
    set: &'a SetPropertiesSpec,
    journal: Option<&'a Journal>,
}

/// How one blob went.
enum Outcome {
    Changed,
    /// An earlier run of this job changed it.
    AlreadyDone,
    Failed(StoreError),
}

impl Change<'_> {
    /// Changes one blob: tier, then metadata, then tags (each replaces what was there).
    async fn apply(&self, entry: &Entry) -> Outcome {
        let key = entry.key.as_str();
        if let Some(journal) = self.journal {
            if journal.status_of(key).ok().flatten() == Some(ItemStatus::Success) {
                return Outcome::AlreadyDone;
            }
            journal.found(key, key, entry.size);
            journal.started(key);
        }
        let result = self.requests(key).await;
        if let Some(journal) = self.journal {
            let (status, error, http) = match &result {
                Ok(()) => (ItemStatus::Success, None, None),
                Err(e) => (ItemStatus::Failed, Some(e.to_string()), e.status()),
            };
            if let Err(e) = journal.finished(key, status, error, http).await {
                tracing::warn!(error = %e, key = %key, "cannot record a change in the job journal");
            }
        }
        match result {
            Ok(()) => Outcome::Changed,
            Err(e) => Outcome::Failed(e),
        }
    }

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

/// Changes every target (32 at a time) until done or cancelled, reporting each failure. A
/// listing error ends it.
async fn change_all(
    targets: BoxStream<'_, Result<Entry, StoreError>>,
    change: &Change<'_>,
    side: &Side,
    ctx: &JobContext,
) -> Result<StatsSnapshot, StoreError> {
    let mut stats = StatsSnapshot { scanning_finished: true, ..StatsSnapshot::default() };
    let mut outcomes = targets
        .take_until(ferry_engine::cancelled(ctx.cancel.clone()))
        .map_ok(|entry| async move {
            let outcome = change.apply(&entry).await;
            Ok::<_, StoreError>((entry, outcome))
        })
        .try_buffer_unordered(IN_FLIGHT)
        .boxed();
    while let Some((entry, outcome)) = outcomes.try_next().await? {
        stats.total += 1;
        stats.bytes_enumerated += entry.size;
        match outcome {
            Outcome::Changed | Outcome::AlreadyDone => stats.done += 1,
            Outcome::Failed(error) => {
                stats.failed += 1;
                let target = format!("{}{}", side.shown_base, entry.key);
                ctx.events.event(&JobEvent::ItemFailed {
                    verb: "SETPROPERTIESFAILED",
                    source: &target,
                    destination: "",
                    error: &error,
                });
            }
        }
    }
    Ok(stats)
}

/// Shows what would be changed: AzCopy's `DRYRUN: set-properties URL`.
async fn dry_run(
    mut targets: BoxStream<'_, Result<Entry, StoreError>>,
    side: &Side,
    url: &BlobUrl,
    ctx: &JobContext,
) -> Result<(), JobError> {
    let mut count = 0u64;
    while let Some(entry) = targets.try_next().await.map_err(|e| side.explain(e.into()))? {
        ctx.events.event(&JobEvent::PlannedChange { target: &format!("{}{}", side.shown_base, entry.key) });
        count += 1;
    }
    if count == 0 { Err(nothing_found(url)) } else { Ok(()) }
}

fn nothing_found(url: &BlobUrl) -> JobError {
    JobError::failed(format!("nothing found to change at {url}"))
        .with_hint("check the path and filters; names are case-sensitive")
}
