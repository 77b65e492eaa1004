//! A copy job: local↔Blob, Blob→Blob (server-side) and local→local.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use ferry_core::{Location, LocationKind};
use ferry_engine::{CopyEngine, CopyOptions, Overwrite, Transfer};
use ferry_plan::{Filter, FilterSpec};
use ferry_store::{ListDepth, StoreError};
use futures::{StreamExt, TryStreamExt};

use crate::context::OverwriteQuestion;
use crate::events::final_status;
use crate::lifecycle::{Lifecycle, Run, cancelled, journal_for, part_tag};
use crate::listing::{Selection, compile, listing};
use crate::naming::{Naming, decide};
use crate::observer::JournalObserver;
use crate::open::{self, Side};
use crate::spec::{CopySpec, Role, TransferPolicy};
use crate::verify::{Trees, VerifyOptions, compare_trees};
use crate::{JobContext, JobError, JobEvent};

/// The wildcard of a local source (`DIR/*.jpg`, `logs/2024-*/*.gz`) as a filter on relative
/// paths: a single segment matches names, several segments match the path, each `*` within one
/// segment. A plain trailing `/*` admits everything.
fn wildcard_filter(location: &Location) -> Result<Option<Filter>, JobError> {
    let Some(pattern) = location.as_local().and_then(|l| l.pattern()).filter(|p| *p != "*") else {
        return Ok(None);
    };
    let spec = FilterSpec { include_patterns: vec![pattern.to_owned()], ..FilterSpec::default() };
    Filter::new(&spec).map(Some).map_err(|e| JobError::usage(format!("the wildcard in the source path: {}", e.reason)))
}

/// The engine's options for `policy` within the context's limits.
pub(crate) fn copy_options(policy: &TransferPolicy, ctx: &JobContext, job_id: &str) -> CopyOptions {
    let prompt = (policy.overwrite == Overwrite::Prompt)
        .then(|| ctx.prompt.clone())
        .flatten()
        .map(|p| Arc::new(OverwriteQuestion(p)) as Arc<dyn ferry_engine::OverwritePrompt>);
    CopyOptions {
        policy: policy.clone(),
        objects_in_flight: ctx.limits.objects_in_flight,
        requests_in_flight: ctx.limits.requests_in_flight,
        buffer_bytes: ctx.limits.buffer_bytes,
        part_tag: part_tag(job_id),
        rate_limit: ctx.limits.cap_mbps.map(|m| Arc::new(ferry_engine::RateLimit::from_megabits(m))),
        prompt,
        observer: None,
    }
}

/// What a copy covers.
struct Plan {
    naming: Naming,
    filter: Filter,
    wildcard: Option<Filter>,
    /// Objects listed (a copy shows no scanned counts; the listing counts them anyway).
    listed: AtomicU64,
}

impl Plan {
    fn selection(&self) -> Selection<'_> {
        Selection { wildcard: self.wildcard.as_ref(), ..Selection::full(&self.filter) }
    }
}

/// Runs a copy job: a new one, or, with `resume`, the one that journal records (items it
/// finished are left alone; the rest are done again).
pub(crate) async fn run(run: Run<'_>, copy: &CopySpec) -> Result<(), JobError> {
    let [source_location, dest_location] =
        run.locations([(&copy.source, Role::Source), (&copy.destination, Role::Destination)])?;
    let Run { id, spec, resume, ctx } = run;
    let filter = compile(&copy.filter)?;
    let wildcard = wildcard_filter(&source_location)?;
    // A wildcard that spans directories (`logs/*/app.log`) needs a recursive listing to match.
    let recursive =
        copy.recursive || source_location.as_local().and_then(|l| l.pattern()).is_some_and(|p| p.contains('/'));
    let links = open::links(copy.follow_symlinks, copy.policy.preserve_symlinks);
    let listing = open::SideOptions {
        links,
        posix: copy.policy.posix,
        skip_hardlinks: copy.skip_hardlinks,
        files: copy.files,
        read_permissions: copy.policy.preserve_permissions,
    };
    let (source, source_shape) = if copy.versions.is_empty() {
        open::copy_source(&source_location, &copy.exclude_containers, listing, ctx).await?
    } else {
        open::versions_source(&source_location, &copy.versions, ctx)?
    };
    let from_account = source_location.as_blob().is_some_and(|u| u.container().is_none())
        || source_location.as_s3().is_some_and(|u| u.bucket().is_none())
        || source_location.as_gcs().is_some_and(|u| u.bucket().is_none());
    if !from_account && !copy.exclude_containers.is_empty() {
        return Err(JobError::usage("--exclude-container applies to account-level copies only")
            .with_hint("give an account URL (no container), or an S3 or GCS service URL (no bucket), as the source; or use --exclude-path"));
    }
    let (dest, dest_shape) = open::copy_destination(&dest_location, &source_shape, from_account, ctx, listing).await?;
    crate::listing::check_stubs(&copy.filter, &source, &dest)?;
    if !copy.versions.is_empty() && dest.kind != LocationKind::Local {
        return Err(JobError::usage("--list-of-versions downloads versions to a local directory")
            .with_hint("name a local directory as the destination"));
    }
    let naming = decide(&source_shape, &dest_shape, recursive, copy.as_subdir)?;
    let plan = Plan { naming, filter, wildcard, listed: AtomicU64::new(0) };
    if copy.policy.decompress && (source.kind != LocationKind::Blob || dest.kind != LocationKind::Local) {
        return Err(JobError::usage("--decompress applies to downloads: a Blob source and a local destination")
            .with_hint("leave --decompress out; other copies keep the bytes as they are stored"));
    }
    let transfers = transfers(&source, &plan).await?;
    let transfers = if copy.policy.decompress { inflating(transfers, &plan) } else { transfers };
    // Every bucket into an account: each into a container of AzCopy's name for it.
    let to_account = dest_location.as_blob().is_some_and(|u| u.container().is_none());
    let transfers = match &source.bucket_names {
        Some(names) if to_account => crate::s3_names::into_containers(transfers, names, source.kind, ctx),
        _ => transfers,
    };
    let transfers = cancelling_at(transfers, &plan, ctx);
    let invalid_names = AtomicU64::new(0);
    let properties = copy.policy.preserve_properties.then_some(copy.invalid_metadata);
    let transfers = crate::s3_names::for_blob((&source, &dest), properties, transfers, &invalid_names, ctx);
    let transfers = match &ctx.await_open {
        Some(pause) if !copy.dry_run => listed_then_paused(transfers, pause.as_ref(), ctx).await?,
        _ => transfers,
    };
    if copy.dry_run {
        return dry_run(transfers, (&source, &dest), ctx).await;
    }
    let journal = journal_for(id, spec, resume, (&source, &dest), ctx)?;
    let job = Lifecycle::begin(id, spec, Some(journal), (&source, &dest), ctx)?
        .watching_sas(&[(&source_location, Role::Source), (&dest_location, Role::Destination)]);
    let observer = job.journal.clone().map(|journal| Arc::new(JournalObserver { journal }) as Arc<_>);
    let mut options = CopyOptions { observer, ..copy_options(&copy.policy, ctx, id) };
    if dest.kind == LocationKind::Blob {
        options.policy.server_side = server_side_for(&source_location, copy.policy.server_side, ctx);
    } else if options.policy.object_type == ferry_engine::ObjectType::Detect {
        // Page and append blobs are Blob Storage's: elsewhere every object is written whole.
        options.policy.object_type = ferry_engine::ObjectType::Block;
    }
    let engine = CopyEngine::new(source.store.clone(), dest.store.clone(), options);
    let verb = match (source.kind, dest.kind) {
        (LocationKind::Local, LocationKind::Blob) => "UPLOADFAILED",
        (LocationKind::Blob, LocationKind::Local) => "DOWNLOADFAILED",
        _ => "COPYFAILED",
    };
    let mut report = job.run_engine(engine, transfers, (&source, &dest), None, verb).await;
    let invalid = invalid_names.load(std::sync::atomic::Ordering::Relaxed);
    (report.stats.skipped, report.stats.total) = (report.stats.skipped + invalid, report.stats.total + invalid);
    let skipped = source.store.skipped_entries();
    (report.stats.symlinks_skipped, report.stats.special_skipped, report.stats.hardlinks_skipped) =
        (skipped.symlinks, skipped.special, skipped.hardlinks);
    if report.stats.total == 0 {
        ctx.events.event(&JobEvent::Warning("nothing matched the source: no files were transferred"));
    }
    let by_sas = [&source, &dest].iter().any(|side| side.credential == crate::credentials::CredentialSource::UrlSas);
    if by_sas && report.failures.iter().any(|f| f.error.kind() == ferry_store::ErrorKind::Unauthenticated) {
        ctx.events.event(&JobEvent::Info(&format!(
            "some items failed because the credential was refused (an expired SAS?): once you have a fresh one, run `ferry jobs resume {id} --source-sas TOKEN` or `--destination-sas TOKEN`; finished items are kept"
        )));
    }
    let status = final_status(&report.stats, report.cancelled);
    let scan_complete = report.stats.scanning_finished && !report.cancelled;
    job.finish(&report.stats, None, status, scan_complete).await;
    if report.cancelled {
        return Err(cancelled(id));
    }
    if report.stats.failed > 0 {
        return Err(JobError::failed(format!(
            "{} of {} transfers failed; see the lines above",
            report.stats.failed, report.stats.total
        )));
    }
    if crate::directories::carried(&source, &dest) && copy.filter == ferry_plan::FilterSpec::default() {
        crate::directories::recreate(&source, &dest, &plan.naming, ctx).await?;
    }
    if copy.verify {
        verify_copy(&source, &dest, &plan, ctx).await?;
    }
    Ok(())
}

/// `transfers`, cancelling the job when one's relative path is in the context's `cancel_at`
/// (before it is handed to the engine, so it is left for a resume).
fn cancelling_at<'a>(
    transfers: futures::stream::BoxStream<'a, Result<Transfer, StoreError>>,
    plan: &'a Plan,
    ctx: &'a JobContext,
) -> futures::stream::BoxStream<'a, Result<Transfer, StoreError>> {
    if ctx.cancel_at.is_empty() {
        return transfers;
    }
    transfers
        .inspect_ok(move |t| {
            let relative = match &plan.naming {
                Naming::Tree { source_prefix, .. } => t.source_key.strip_prefix(source_prefix.as_str()),
                Naming::Single { .. } => t.source_key.rsplit('/').next(),
            };
            if relative.is_some_and(|r| ctx.cancel_at.iter().any(|c| c.trim_matches('/') == r)) {
                ctx.cancel.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        })
        .boxed()
}

/// How a copy from `source` goes server-side: `Auto` streams through Ferry from an S3 endpoint
/// a cloud service could not reach (this machine, a private network), saying so.
pub(crate) fn server_side_for(
    source: &Location,
    chosen: ferry_engine::ServerSide,
    ctx: &JobContext,
) -> ferry_engine::ServerSide {
    let endpoint = match source {
        Location::S3(url) => Some(url.endpoint().clone()),
        Location::Gcs(_) => ctx.secrets.gcs.endpoint().ok().map(|e| e.base().clone()),
        // A share on this machine (an emulator) or a private network, likewise.
        Location::Files(url) => Some(url.azure().with_sas(None).service_url()),
        _ => None,
    };
    match endpoint {
        Some(endpoint) if chosen == ferry_engine::ServerSide::Auto && ferry_core::is_private_url(&endpoint) => {
            ctx.events.event(&JobEvent::Info(&format!(
                "`{endpoint}` is on this machine or a private network, which the destination service cannot reach: copying through Ferry (--server-side-copy always to insist)"
            )));
            ferry_engine::ServerSide::Never
        }
        _ => chosen,
    }
}

/// `--await-open`: the whole listing first, then the pause, then the transfers from memory (a
/// debugging hook: files can be changed between their listing and their use).
async fn listed_then_paused<'a>(
    transfers: futures::stream::BoxStream<'a, Result<Transfer, StoreError>>,
    pause: &dyn crate::Pause,
    ctx: &JobContext,
) -> Result<futures::stream::BoxStream<'a, Result<Transfer, StoreError>>, JobError> {
    let listed: Vec<Result<Transfer, StoreError>> = transfers.collect().await;
    ctx.events.event(&JobEvent::Info(&format!(
        "listed {} items; waiting for a line `open` on standard input before opening any (--await-open)",
        listed.len()
    )));
    pause.wait().await.map_err(JobError::failed)?;
    Ok(futures::stream::iter(listed).boxed())
}

/// `--decompress`: objects stored gzip- or deflate-encoded land under their inflated names
/// (`a.txt.gz` → `a.txt`), as AzCopy names them; a single object keeps a name the user gave it.
fn inflating<'a>(
    transfers: futures::stream::BoxStream<'a, Result<Transfer, StoreError>>,
    plan: &Plan,
) -> futures::stream::BoxStream<'a, Result<Transfer, StoreError>> {
    let last = |key: &str| key.rsplit('/').next().map(str::to_owned);
    if let Naming::Single { source_key, dest_key } = &plan.naming
        && last(source_key) != last(dest_key)
    {
        return transfers;
    }
    transfers
        .map_ok(|mut t| {
            t.dest_key = ferry_engine::inflated_key(&t.dest_key, &t);
            t
        })
        .boxed()
}

/// The transfers a copy makes, streamed from the source's listing.
async fn transfers<'a>(
    source: &'a Side,
    plan: &'a Plan,
) -> Result<futures::stream::BoxStream<'a, Result<Transfer, StoreError>>, JobError> {
    Ok(match &plan.naming {
        Naming::Single { source_key, dest_key } => {
            let entry = source.store.stat(source_key).await?;
            let name = source_key.rsplit('/').next().unwrap_or(source_key);
            let admitted = plan.filter.admits(name, entry.size, entry.last_modified);
            futures::stream::iter(admitted.then(|| Ok(Transfer::from_entry(entry, dest_key.clone())))).boxed()
        }
        Naming::Tree { source_prefix, depth, dest_prefix } => {
            listing(source, source_prefix, *depth, plan.selection(), &plan.listed)
                .map_ok(move |e| {
                    let rest = e.key.clone();
                    let mut transfer = Transfer::from_entry(e, format!("{dest_prefix}{rest}"));
                    transfer.source_key = format!("{source_prefix}{rest}");
                    transfer
                })
                .boxed()
        }
    })
}

/// Shows the transfers instead of making them.
async fn dry_run(
    mut transfers: futures::stream::BoxStream<'_, Result<Transfer, StoreError>>,
    (source, dest): (&Side, &Side),
    ctx: &JobContext,
) -> Result<(), JobError> {
    while let Some(t) = transfers.try_next().await? {
        ctx.events.event(&JobEvent::PlannedCopy {
            source: &format!("{}{}", source.shown_base, t.source_key),
            destination: &format!("{}{}", dest.shown_base, t.dest_key),
            size: t.size,
            reason: None,
        });
    }
    Ok(())
}

/// `copy --verify`: compares what the copy covered, hashing where no MD5 is stored; objects the
/// destination had besides are not differences.
async fn verify_copy(source: &Side, dest: &Side, plan: &Plan, ctx: &JobContext) -> Result<(), JobError> {
    let options = VerifyOptions { compute_hash: true, ignore_extras: true, names: None };
    match &plan.naming {
        Naming::Single { source_key, dest_key } => {
            // One pair, judged under the destination's name; the prefixes are empty because
            // each entry keeps its own full key for reading.
            let source_entry = source.store.stat(source_key).await?;
            let dest_entry = dest.store.stat(dest_key).await?;
            let decision = ferry_plan::Decision {
                key: dest_key.clone(),
                action: ferry_plan::Action::Skip,
                reason: ferry_plan::Reason::UpToDate,
                source: Some(source_entry),
                destination: Some(dest_entry),
            };
            let trees = Trees { source, source_prefix: "", dest, dest_prefix: "" };
            let decisions = futures::stream::iter([Ok(decision)]);
            compare_trees(decisions, &trees, options, &ctx.dirs.logs, ctx).await.map(drop)
        }
        Naming::Tree { source_prefix, depth, dest_prefix } => {
            let (scanned_source, scanned_dest) = (AtomicU64::new(0), AtomicU64::new(0));
            let source_listing = listing(source, source_prefix, *depth, plan.selection(), &scanned_source);
            let everything = Filter::new(&FilterSpec::default()).map_err(|e| JobError::usage(e.to_string()))?;
            let dest_listing =
                listing(dest, dest_prefix, ListDepth::Recursive, Selection::full(&everything), &scanned_dest);
            let decisions = ferry_plan::plan(source_listing, dest_listing, ferry_plan::ComparePolicy::TimeAndSize);
            let trees = Trees { source, source_prefix, dest, dest_prefix };
            compare_trees(decisions, &trees, options, &ctx.dirs.logs, ctx).await.map(drop)
        }
    }
}
