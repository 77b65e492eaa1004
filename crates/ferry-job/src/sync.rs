//! A sync job: copy what is missing, newer or a different size; optionally delete what the
//! source no longer has, behind guards.
//!
//! Both sides are listed in key order and merged by the planner (`ferry-plan`), so memory does not
//! grow with the number of objects. Copies stream into the copy engine while the listings are
//! still running. Deletions wait until both listings have ended without error: a partial view of
//! the source must never delete anything.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use ferry_core::{Location, LocationKind};
use ferry_engine::{CopyEngine, CopyOptions, CopyReport, Transfer};
use ferry_journal::{JobStatus, Journal};
use ferry_plan::{Action, ComparePolicy, Decision, Filter};
use ferry_store::{ListDepth, StoreError};
use futures::StreamExt;

use crate::copy::copy_options;
use crate::delete::{Deleter, Deletion};
use crate::events::{SyncCounts, final_status};
use crate::lifecycle::{Lifecycle, Run, cancelled, journal_for};
use crate::listing::{compared, compile, scoped_plan};
use crate::md5::{cache_for, with_local_md5};
use crate::observer::JournalObserver;
use crate::open::{self, Side};
use crate::spec::{DeferredDeletes, DeleteMode, MaxDelete, Role, SyncSpec};
use crate::verify::{Trees, VerifyOptions, compare_trees};
use crate::{JobContext, JobError, JobEvent};

/// The two trees of a sync, opened.
struct SyncTrees {
    source: Side,
    source_prefix: String,
    dest: Side,
    dest_prefix: String,
    /// Whether the destination exists (a local folder that does not is empty).
    dest_exists: bool,
}

/// What the planning pass leaves for the deletion phase.
#[derive(Default)]
struct Planned {
    scanned: (Arc<AtomicU64>, Arc<AtomicU64>),
    listing_failed: AtomicBool,
    /// Only the extras are held (key and size), never the whole of either side.
    extras: Mutex<Vec<(String, u64)>>,
    /// The job's journal, once made (the plan starts before it): skips are recorded there.
    journal: std::sync::OnceLock<Journal>,
}

/// Runs a sync job (new, or resumed from its journal): copies stream out of the merged plan while
/// the listings run; the extras wait for the deletion phase, behind its guards.
pub(crate) async fn run(run: Run<'_>, sync: &SyncSpec) -> Result<(), JobError> {
    let [source_location, dest_location] =
        run.locations([(&sync.source, Role::Source), (&sync.destination, Role::Destination)])?;
    let Run { id, spec, resume, ctx } = run;
    let filter = compile(&sync.filter)?;
    let trees = open_trees(&source_location, &dest_location, sync, ctx).await?;
    let planned = Planned::default();
    let cache = cache_for(sync.compare == ComparePolicy::Md5, (&trees.source, &trees.dest), ctx);
    let decisions = decisions(&trees, sync, &filter, &planned, cache.as_ref());
    let transfers = decisions
        .filter_map(|decision| futures::future::ready(to_transfer(decision, &trees, sync, &planned, ctx)))
        .boxed();
    // From another cloud to Blob, as copy: names Blob cannot hold skipped and counted, properties kept.
    let invalid_names = AtomicU64::new(0);
    let properties = sync.policy.preserve_properties.then_some(crate::InvalidMetadata::Exclude);
    let transfers = crate::s3_names::for_blob((&trees.source, &trees.dest), properties, transfers, &invalid_names, ctx);
    if sync.dry_run {
        let mut transfers = Box::pin(transfers);
        while let Some(item) = transfers.next().await {
            item?;
        }
        let (_, refused) = delete_phase(&trees, sync, &planned, None, None, ctx).await;
        return refused.map_or(Ok(()), |reason| Err(JobError::failed(reason)));
    }
    let journal = journal_for(id, spec, resume, (&trees.source, &trees.dest), ctx)?;
    let _ = planned.journal.set(journal.clone());
    let job = Lifecycle::begin(id, spec, Some(journal), (&trees.source, &trees.dest), ctx)?
        .watching_sas(&[(&source_location, Role::Source), (&dest_location, Role::Destination)]);
    let observer = job.journal.clone().map(|journal| Arc::new(JournalObserver { journal }) as Arc<_>);
    // Comparing by MD5 next time needs the MD5 stored this time.
    let mut policy = sync.policy.clone();
    policy.put_md5 |= sync.compare == ComparePolicy::Md5;
    if trees.dest.kind == LocationKind::Blob {
        policy.server_side = crate::copy::server_side_for(&source_location, policy.server_side, ctx);
    } else if policy.object_type == ferry_engine::ObjectType::Detect {
        // Page and append blobs are Blob Storage's: elsewhere every object is written whole.
        policy.object_type = ferry_engine::ObjectType::Block;
    }
    let options = CopyOptions { observer, ..copy_options(&policy, ctx, id) };
    let engine = CopyEngine::new(trees.source.store.clone(), trees.dest.store.clone(), options);
    let sides = (&trees.source, &trees.dest);
    let mut report = job.run_engine(engine, transfers, sides, Some(planned.scanned.clone()), "COPYFAILED").await;
    let invalid = invalid_names.load(Ordering::Relaxed);
    (report.stats.skipped, report.stats.total) = (report.stats.skipped + invalid, report.stats.total + invalid);
    let skipped = sides.0.store.skipped_entries();
    (report.stats.symlinks_skipped, report.stats.special_skipped, report.stats.hardlinks_skipped) =
        (skipped.symlinks, skipped.special, skipped.hardlinks);
    let (counts, refused) = delete_phase(&trees, sync, &planned, Some(&report), job.journal.as_ref(), ctx).await;
    finish(job, &report, counts, refused, sync, &trees, &filter, ctx).await
}

/// Opens both trees.
async fn open_trees(
    source: &Location,
    dest: &Location,
    sync: &SyncSpec,
    ctx: &JobContext,
) -> Result<SyncTrees, JobError> {
    let links = open::links(sync.follow_symlinks, sync.policy.preserve_symlinks);
    let listing = open::SideOptions {
        links,
        posix: sync.policy.posix,
        skip_hardlinks: sync.skip_hardlinks,
        files: sync.files,
        read_permissions: sync.policy.preserve_permissions,
    };
    let (source_side, source_prefix) = open::tree(source, Role::Source, ctx, false, listing).await?;
    // With links preserved, a local destination's links are listed as links (never followed),
    // so the ones already restored compare as up to date.
    let dest_links =
        if sync.policy.preserve_symlinks { ferry_store::Links::Preserve } else { ferry_store::Links::Skip };
    let dest_listing = open::SideOptions { links: dest_links, files: sync.files, ..open::SideOptions::default() };
    let (dest_side, dest_prefix) = open::tree(dest, Role::Destination, ctx, !sync.dry_run, dest_listing).await?;
    crate::listing::check_stubs(&sync.filter, &source_side, &dest_side)?;
    let dest_exists = dest.as_local().is_none_or(|l| l.root().is_dir());
    Ok(SyncTrees { source: source_side, source_prefix, dest: dest_side, dest_prefix, dest_exists })
}

/// The merged, scoped plan of both listings (with local MD5s when comparing by hash).
fn decisions<'a>(
    trees: &'a SyncTrees,
    sync: &SyncSpec,
    filter: &'a Filter,
    planned: &'a Planned,
    cache: Option<&'a Arc<ferry_journal::HashCache>>,
) -> impl futures::Stream<Item = Result<Decision, StoreError>> + Send + 'a {
    let depth = if sync.recursive { ListDepth::Recursive } else { ListDepth::OneLevel };
    let source = compared(&trees.source, &trees.source_prefix, depth, filter, &planned.scanned.0);
    let dest = if trees.dest_exists {
        compared(&trees.dest, &trees.dest_prefix, depth, filter, &planned.scanned.1)
    } else {
        futures::stream::empty().boxed()
    };
    let source = with_local_md5(source, &trees.source, &trees.source_prefix, cache);
    let dest = with_local_md5(dest, &trees.dest, &trees.dest_prefix, cache);
    scoped_plan(source, dest, sync.compare, filter)
}

/// What one decision means: a transfer, nothing (a skip), or an extra kept for later.
fn to_transfer(
    decision: Result<Decision, StoreError>,
    trees: &SyncTrees,
    sync: &SyncSpec,
    planned: &Planned,
    ctx: &JobContext,
) -> Option<Result<Transfer, StoreError>> {
    let d = match decision {
        Err(e) => {
            planned.listing_failed.store(true, Ordering::Relaxed);
            return Some(Err(e));
        }
        Ok(d) => d,
    };
    tracing::debug!(key = %d.key, reason = d.reason.as_str(), "sync decision");
    match d.action {
        Action::Skip => {
            // The evidence shows what a sync left alone, and why.
            if let (Some(journal), Some(entry)) = (planned.journal.get(), &d.source) {
                let item = ferry_journal::FoundItem {
                    source: format!("{}{}", trees.source_prefix, d.key),
                    destination: format!("{}{}", trees.dest_prefix, d.key),
                    size: entry.size,
                    modified: entry.last_modified,
                    md5: entry.content_md5,
                };
                journal.skipped(item, d.reason.as_str());
            }
            None
        }
        Action::Extra => {
            let size = d.destination.as_ref().map_or(0, |e| e.size);
            planned.extras.lock().expect("never poisoned").push((d.key, size));
            None
        }
        // The run's commit copies nothing: the shards did.
        Action::Copy if matches!(sync.deferred, Some(DeferredDeletes::Commit(_))) => None,
        Action::Copy => {
            let entry = d.source.expect("a copy has a source");
            let (source_key, dest_key) =
                (format!("{}{}", trees.source_prefix, d.key), format!("{}{}", trees.dest_prefix, d.key));
            if sync.dry_run {
                ctx.events.event(&JobEvent::PlannedCopy {
                    source: &format!("{}{source_key}", trees.source.shown_base),
                    destination: &format!("{}{dest_key}", trees.dest.shown_base),
                    size: entry.size,
                    reason: Some(d.reason.as_str()),
                });
            }
            let mut transfer = Transfer::from_entry(entry, dest_key);
            transfer.source_key = source_key;
            Some(Ok(transfer))
        }
    }
}

/// Why the extras must not be deleted, if they must not.
fn refusal(sync: &SyncSpec, planned: &Planned, cancelled: bool, extras: usize, scanned: (u64, u64)) -> Option<String> {
    if cancelled {
        return Some("the job was cancelled, so nothing was deleted; `ferry jobs resume` finishes it".into());
    }
    if planned.listing_failed.load(Ordering::Relaxed) {
        return Some("a listing failed, so nothing was deleted (a partial view of the source must not delete)".into());
    }
    if extras == 0 {
        return None;
    }
    if scanned.0 == 0 && !sync.force_delete {
        return Some(format!(
            "the source has no objects (after filters) but the destination has {extras}; nothing was deleted. If that is what you want, add --force-delete"
        ));
    }
    #[allow(clippy::cast_precision_loss)]
    let over_limit = match sync.max_delete {
        Some(MaxDelete::Count(n)) => extras as u64 > n,
        Some(MaxDelete::Percent(p)) => (extras as f64) > (scanned.1 as f64) * p / 100.0,
        None => false,
    };
    let shown = sync.max_delete.map(MaxDelete::shown).unwrap_or_default();
    over_limit.then(|| format!("{extras} deletions exceed --max-delete {shown}; nothing was deleted"))
}

/// A shard of a run with deferred deletes: its extras, written to `path` for the run's commit
/// once both its listings completed (a partial view records nothing, and says so). The guards
/// that judge a whole run (an empty source, `--max-delete`) wait for the commit, which sees it.
fn record_extras(
    path: &std::path::Path,
    extras: &[(String, u64)],
    planned: &Planned,
    cancelled: bool,
    ctx: &JobContext,
) -> Option<String> {
    if cancelled || planned.listing_failed.load(Ordering::Relaxed) {
        let _ = std::fs::remove_file(path);
        return Some("a listing did not complete, so no delete candidates were recorded for the run's commit".into());
    }
    let mut text = String::new();
    for (key, size) in extras {
        text.push_str(&serde_json::json!({ "key": key, "size": size }).to_string());
        text.push('\n');
    }
    if let Err(e) = crate::shards::write_whole(path, |out| out.write_all(text.as_bytes())) {
        return Some(format!("cannot record the delete candidates in `{}`: {e}", path.display()));
    }
    ctx.events.event(&JobEvent::Info(&format!(
        "{} objects exist only at the destination: recorded for the run's commit (`ferry shards commit`), not deleted",
        extras.len()
    )));
    None
}

/// The extras every shard recorded: the only ones the run's commit may delete.
fn recorded_extras(files: &[std::path::PathBuf]) -> Result<std::collections::HashSet<String>, String> {
    let mut keys = std::collections::HashSet::new();
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|e| {
            format!("cannot read the delete candidates `{}` ({e}), so nothing was deleted", file.display())
        })?;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let value: serde_json::Value = serde_json::from_str(line).map_err(|_| {
                format!("`{}` is not a list of delete candidates, so nothing was deleted", file.display())
            })?;
            if let Some(key) = value["key"].as_str() {
                keys.insert(key.to_owned());
            }
        }
    }
    Ok(keys)
}

/// The deletion phase, behind its guards: deletes (or, in a dry run, shows) the extras.
async fn delete_phase(
    trees: &SyncTrees,
    sync: &SyncSpec,
    planned: &Planned,
    report: Option<&CopyReport>,
    journal: Option<&Journal>,
    ctx: &JobContext,
) -> (SyncCounts, Option<String>) {
    let mut extras = std::mem::take(&mut *planned.extras.lock().expect("never poisoned"));
    extras.sort_unstable();
    let scanned = (planned.scanned.0.load(Ordering::Relaxed), planned.scanned.1.load(Ordering::Relaxed));
    let mut counts = SyncCounts { scanned_source: scanned.0, scanned_destination: scanned.1, ..SyncCounts::default() };
    if sync.delete == DeleteMode::Never {
        if !extras.is_empty() && sync.dry_run {
            ctx.events.event(&JobEvent::Info(&format!(
                "{} objects exist only at the destination; --delete-destination true would remove them",
                extras.len()
            )));
        }
        return (counts, None);
    }
    let cancelled = report.is_some_and(|r| r.cancelled);
    match &sync.deferred {
        Some(DeferredDeletes::Record(_)) if sync.dry_run => {
            ctx.events.event(&JobEvent::Info(&format!(
                "{} objects exist only at the destination; this shard would record them for the run's commit",
                extras.len()
            )));
            return (counts, None);
        }
        Some(DeferredDeletes::Record(path)) => return (counts, record_extras(path, &extras, planned, cancelled, ctx)),
        Some(DeferredDeletes::Commit(files)) => match recorded_extras(files) {
            Ok(recorded) => extras.retain(|(key, _)| recorded.contains(key)),
            Err(reason) => return (counts, Some(reason)),
        },
        None => {}
    }
    if let Some(reason) = refusal(sync, planned, cancelled, extras.len(), scanned) {
        ctx.events.event(&JobEvent::Warning(&reason));
        return (counts, Some(reason));
    }
    let shown = |key: &str| format!("{}{}{key}", trees.dest.shown_base, trees.dest_prefix);
    if sync.dry_run {
        for (key, _) in &extras {
            ctx.events.event(&JobEvent::PlannedDelete { target: &shown(key), extra: true });
        }
        return (counts, None);
    }
    let store = trees.dest.store.clone();
    let prompt = (sync.delete == DeleteMode::Ask).then(|| ctx.prompt.clone()).flatten();
    let asking = prompt.is_some();
    let deleter = Deleter {
        delete: Box::new(move |key| {
            let store = store.clone();
            Box::pin(async move { store.delete(&key).await })
        }),
        journal: journal.cloned(),
        prompt,
    };
    // One at a time when each deletion is asked about, so questions come in order.
    let parallel = if asking { 1 } else { 32 };
    let mut outcomes = futures::stream::iter(extras.iter())
        .map(|(key, size)| {
            let full = format!("{}{key}", trees.dest_prefix);
            let deleter = &deleter;
            async move {
                let question = || {
                    format!(
                        "The file '{key}' does not exist at the source. Do you wish to delete it from the destination({}{})?",
                        trees.dest.shown_base, trees.dest_prefix
                    )
                };
                let outcome = deleter.delete(&full, *size, question).await;
                (full, outcome)
            }
        })
        .buffer_unordered(parallel);
    while let Some((full, outcome)) = outcomes.next().await {
        let target = format!("{}{full}", trees.dest.shown_base);
        match outcome {
            Deletion::Kept => counts.kept += 1,
            Deletion::Deleted => {
                counts.deleted += 1;
                ctx.events.event(&JobEvent::Deleted { target: &target, extra: true });
            }
            Deletion::Failed(error) => {
                counts.delete_failed += 1;
                ctx.events.event(&JobEvent::DeleteFailed { target: &target, error: &error });
            }
        }
    }
    (counts, None)
}

/// Records and reports how the sync ended, then verifies when asked.
#[allow(clippy::too_many_arguments)]
async fn finish(
    job: Lifecycle<'_>,
    report: &CopyReport,
    counts: SyncCounts,
    refused: Option<String>,
    sync: &SyncSpec,
    trees: &SyncTrees,
    filter: &Filter,
    ctx: &JobContext,
) -> Result<(), JobError> {
    let id = job.id;
    let failed = report.stats.failed > 0 || counts.delete_failed > 0 || refused.is_some();
    let mut status = final_status(&report.stats, report.cancelled);
    if counts.delete_failed > 0 && status == JobStatus::Completed {
        status = JobStatus::CompletedWithErrors;
    }
    let scan_complete = report.stats.scanning_finished && !report.cancelled;
    job.finish(&report.stats, Some(&counts), status, scan_complete).await;
    if counts.kept > 0 {
        ctx.events.event(&JobEvent::Info(&format!("{} extra objects were kept, as answered", counts.kept)));
    }
    if report.cancelled {
        return Err(cancelled(id));
    }
    if sync.verify && !failed {
        // Extras the user chose to keep are not differences.
        let ignore_extras = sync.delete == DeleteMode::Never || counts.kept > 0;
        verify_sync(trees, sync, filter, ignore_extras, ctx).await?;
    }
    if failed {
        let message = refused
            .unwrap_or_else(|| format!("{} copies and {} deletions failed", report.stats.failed, counts.delete_failed));
        return Err(JobError::failed(message).with_hint(format!(
            "fix the cause, then `ferry jobs resume {id}` finishes the copies and deletions that failed"
        )));
    }
    Ok(())
}

/// `sync --verify`: lists both trees again and compares them, hashing where no MD5 is stored.
async fn verify_sync(
    trees: &SyncTrees,
    sync: &SyncSpec,
    filter: &Filter,
    ignore_extras: bool,
    ctx: &JobContext,
) -> Result<(), JobError> {
    let depth = if sync.recursive { ListDepth::Recursive } else { ListDepth::OneLevel };
    let (again_source, again_dest) = (AtomicU64::new(0), AtomicU64::new(0));
    let decisions = scoped_plan(
        compared(&trees.source, &trees.source_prefix, depth, filter, &again_source),
        compared(&trees.dest, &trees.dest_prefix, depth, filter, &again_dest),
        ComparePolicy::TimeAndSize,
        filter,
    );
    let pair = Trees {
        source: &trees.source,
        source_prefix: &trees.source_prefix,
        dest: &trees.dest,
        dest_prefix: &trees.dest_prefix,
    };
    let options = VerifyOptions { compute_hash: true, ignore_extras, names: None };
    compare_trees(decisions, &pair, options, &ctx.dirs.logs, ctx).await.map(drop)
}
