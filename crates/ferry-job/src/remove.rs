//! A remove job: delete a blob, or the blobs under a prefix, each deletion journaled.

use std::sync::atomic::AtomicU64;

use ferry_core::{BlobUrl, Location};
use ferry_engine::StatsSnapshot;
use ferry_store::{Entry, StoreError};
use futures::{StreamExt, TryStreamExt};

use crate::delete::{Deleter, Deletion};
use crate::events::final_status;
use crate::lifecycle::{Lifecycle, Run, cancelled, journal_for};
use crate::listing::compile;
use crate::open::{Side, blob_side};
use crate::spec::{RemoveSpec, Role};
use crate::targets::Targets;
use crate::{JobContext, JobError, JobEvent};

/// Runs a remove job (new, or resumed: what an earlier run deleted is no longer listed, and
/// what is gone already counts as deleted).
pub(crate) async fn run(run: Run<'_>, remove: &RemoveSpec) -> Result<(), JobError> {
    let [location] = run.locations([(&remove.target, Role::Source)])?;
    let Run { id, spec, resume, ctx } = run;
    let Location::Blob(url) = &location else {
        return Err(JobError::usage("`ferry remove` removes blobs; give a Blob URL"));
    };
    let (side, store) = blob_side(url, Role::Source, ctx)?;
    let filter = compile(&remove.filter)?;
    let listed = AtomicU64::new(0);
    let found = Targets::of(url, remove.recursive, &store, &side, "removing").await?;
    let targets = found.stream(&side, &filter, &listed);
    if remove.dry_run {
        return dry_run(targets, &side, url, ctx).await;
    }
    let journal = journal_for(id, spec, resume, (&side, &side), ctx)?;
    let job = Lifecycle::begin(id, spec, Some(journal), (&side, &side), ctx)?;
    let snapshots = remove.delete_snapshots.clone();
    let journal = job.journal.clone();
    let deleter = Deleter {
        delete: Box::new(move |key| {
            let (store, snapshots) = (store.clone(), snapshots.clone());
            Box::pin(async move { store.delete_blob(&key, snapshots.as_deref()).await })
        }),
        journal: journal.as_ref(),
        prompt: None,
    };
    let tally = delete_all(targets, &deleter, &side, ctx).await;
    let stats = match tally {
        Ok(stats) => stats,
        Err(e) => {
            // A listing that failed part-way: the job is over, and says so.
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
        return Err(JobError::failed(format!("{} of {} removals failed", stats.failed, stats.total)));
    }
    Ok(())
}

/// Shows what would be removed.
async fn dry_run(
    mut targets: futures::stream::BoxStream<'_, Result<Entry, StoreError>>,
    side: &Side,
    url: &BlobUrl,
    ctx: &JobContext,
) -> Result<(), JobError> {
    let mut count = 0u64;
    while let Some(entry) = targets.try_next().await.map_err(|e| side.explain(e.into()))? {
        ctx.events
            .event(&JobEvent::PlannedDelete { target: &format!("{}{}", side.shown_base, entry.key), extra: false });
        count += 1;
    }
    if count == 0 { Err(nothing_found(url)) } else { Ok(()) }
}

/// Deletes every target (32 at a time) until done or cancelled, reporting each failure; the
/// counts, with deletions as transfers. A listing error ends it.
async fn delete_all(
    targets: futures::stream::BoxStream<'_, Result<Entry, StoreError>>,
    deleter: &Deleter<'_>,
    side: &Side,
    ctx: &JobContext,
) -> Result<StatsSnapshot, StoreError> {
    let mut stats = StatsSnapshot { scanning_finished: true, ..StatsSnapshot::default() };
    let mut outcomes = targets
        // Once cancelled, no new deletion starts and the listing is dropped.
        .take_until(ferry_engine::cancelled(ctx.cancel.clone()))
        .map_ok(|entry| async move {
            let outcome = deleter.delete(&entry.key, entry.size, String::new).await;
            Ok::<_, StoreError>((entry, outcome))
        })
        .try_buffer_unordered(32)
        .boxed();
    while let Some((entry, outcome)) = outcomes.try_next().await? {
        stats.total += 1;
        stats.bytes_enumerated += entry.size;
        let target = format!("{}{}", side.shown_base, entry.key);
        match outcome {
            Deletion::Deleted | Deletion::Kept => {
                stats.done += 1;
                ctx.events.event(&JobEvent::Deleted { target: &target, extra: false });
            }
            Deletion::Failed(error) => {
                stats.failed += 1;
                ctx.events.event(&JobEvent::DeleteFailed { target: &target, error: &error });
            }
        }
    }
    Ok(stats)
}

fn nothing_found(url: &BlobUrl) -> JobError {
    JobError::failed(format!("nothing found to remove at {url}"))
        .with_hint("check the path and filters; names are case-sensitive")
}
