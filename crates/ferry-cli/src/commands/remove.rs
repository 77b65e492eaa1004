//! `ferry remove URL`: delete blobs, as a journaled job.

use std::time::Instant;

use ferry_azure::AzureStore;
use ferry_core::{Location, LocationHint, LocationKind};
use ferry_engine::StatsSnapshot;
use ferry_journal::{ItemStatus, Journal};
use ferry_report::{Console, JobReporter, final_status};
use ferry_store::{Entry, EntryKind, ErrorKind, ListDepth, Store};
use futures::{StreamExt, TryStreamExt};

use super::copy::build_filter;
use crate::args::{DeleteSnapshotsArg, RemoveArgs};
use crate::connect::{client_for, explain_auth};
use crate::{CliError, Environment, Settings};

pub(crate) async fn run(
    args: &RemoveArgs,
    settings: &Settings,
    env: &Environment,
    console: &Console,
    resume: Option<Journal>,
) -> Result<(), CliError> {
    if let Some(from_to) = &args.from_to
        && !from_to.eq_ignore_ascii_case("BlobTrash")
    {
        return Err(CliError::usage(format!("--from-to `{from_to}` is not supported by remove; use BlobTrash")));
    }
    let url = match Location::parse(&args.url, LocationHint::Known(LocationKind::Blob))? {
        Location::Blob(url) => url,
        Location::Local(_) => return Err(CliError::usage("`ferry remove` removes blobs; give a Blob URL")),
    };
    let Some(container) = url.container() else {
        return Err(CliError::usage(format!("`{url}` names no container")));
    };
    super::check_plain_http(&url, env, console)?;
    super::lifecycle::warn_expiring_sas(&[(&Location::Blob(url.clone()), "source")], console);
    let filter = build_filter(&args.filters)?;
    let (client, credential) = client_for(&url, settings, env)?;
    let store = AzureStore::new(client, &url)?;
    let shown_base = format!("{}/", url.with_sas(None).with_container_and_path(Some(container), ""));
    let snapshots = args.delete_snapshots.map(|s| match s {
        DeleteSnapshotsArg::Include => "include",
        DeleteSnapshotsArg::Only => "only",
    });

    // What the URL names: one blob, or the blobs under a prefix.
    let path = url.path();
    let single = if path.is_empty() || path.ends_with('/') || url.contents_only() {
        None
    } else {
        match store.stat(path).await {
            Ok(entry) => Some(entry),
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(e) => return Err(explain_auth(e.into(), credential)),
        }
    };
    let (prefix, depth) = match &single {
        Some(_) => (String::new(), ListDepth::Recursive),
        None => {
            let prefix = if path.is_empty() || path.ends_with('/') { path.to_owned() } else { format!("{path}/") };
            let depth = if args.recursive { ListDepth::Recursive } else { ListDepth::OneLevel };
            if !args.recursive && !url.contents_only() {
                return Err(CliError::usage(format!(
                    "`{url}` is not a blob; removing what is under it needs --recursive"
                ))
                .with_hint("add --recursive, or end the URL with /* for the blobs directly in it"));
            }
            (prefix, depth)
        }
    };
    let targets: futures::stream::BoxStream<'_, Result<Entry, ferry_store::StoreError>> = match single {
        Some(entry) => futures::stream::iter([Ok(entry)]).boxed(),
        None => store
            .list(&prefix, depth)
            .try_filter(|e| {
                let rest = e.key.strip_prefix(prefix.as_str()).unwrap_or(&e.key);
                futures::future::ready(e.kind == EntryKind::Object && filter.admits(rest, e.size, e.last_modified))
            })
            .boxed(),
    };

    let reporter = JobReporter::new(settings.output, settings.output_level);
    if args.dry_run {
        let mut count = 0u64;
        let mut targets = targets;
        while let Some(entry) = targets.try_next().await.map_err(|e| explain_auth(e.into(), credential))? {
            reporter.dry_run_line(&format!("DRYRUN: remove {shown_base}{}", entry.key));
            count += 1;
        }
        return if count == 0 { Err(nothing_found(&url)) } else { Ok(()) };
    }

    let job_id = super::lifecycle::job_id_for(resume.as_ref());
    let journal = match resume {
        Some(journal) => journal,
        None => {
            let spec = super::copy::job_spec(&job_id, credential.code(), credential.code());
            Journal::create(&settings.plan_dir, &spec)
                .map_err(|e| CliError::failed(format!("cannot create the job journal: {e}")))?
        }
    };
    let log_path = super::lifecycle::open_job_log(settings, &job_id)?;
    reporter.started(&job_id, log_path.as_deref());
    let started = Instant::now();
    let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let signals = super::lifecycle::watch_interrupts(cancel.clone(), *console);
    let collected: Result<Vec<_>, ferry_store::StoreError> = targets
        // Once cancelled, no new deletion starts and the listing is dropped.
        .take_until(ferry_engine::cancelled(cancel.clone()))
        .map_ok(|entry| {
            let (store, journal) = (&store, &journal);
            async move {
                if journal.status_of(&entry.key).ok().flatten().is_some_and(ItemStatus::is_final_for_resume) {
                    return Ok((entry, None));
                }
                journal.found(&entry.key, "", entry.size);
                let result = store.delete_blob(&entry.key, snapshots).await;
                let (status, error, http) = match &result {
                    Ok(()) => (ItemStatus::Success, None, None),
                    // Gone already (removed by an earlier, interrupted run or by someone else).
                    Err(e) if e.kind() == ErrorKind::NotFound => (ItemStatus::Success, None, None),
                    Err(e) => (ItemStatus::Failed, Some(e.to_string()), e.status()),
                };
                let _ = journal.finished(&entry.key, status, error, http).await;
                Ok::<_, ferry_store::StoreError>((entry, Some(result)))
            }
        })
        .try_buffer_unordered(32)
        .try_collect()
        .await;
    signals.abort();
    let cancelled = cancel.load(std::sync::atomic::Ordering::Relaxed);
    let results: Vec<(Entry, Option<Result<(), ferry_store::StoreError>>)> = match collected {
        Ok(results) => results,
        Err(e) => {
            // A listing that failed part-way: the job is over, and says so.
            let _ = journal.set_job_status("Failed", Some(false)).await;
            tracing::error!(target: crate::logging::JOB_TARGET, "the listing failed: {e}");
            crate::logging::close_job_log();
            return Err(explain_auth(e.into(), credential));
        }
    };
    let stats = tally(&results, &shown_base, console);
    if stats.total == 0 && !cancelled {
        let _ = journal.set_job_status("Failed", Some(true)).await;
        crate::logging::close_job_log();
        return Err(nothing_found(&url));
    }
    let status = final_status(&stats, cancelled);
    let _ = journal.set_job_status(status, Some(!cancelled)).await;
    reporter.summary(&job_id, &stats, started.elapsed(), status);
    let summary = ferry_report::summary_text(&job_id, &stats, started.elapsed(), status);
    tracing::info!(target: crate::logging::JOB_TARGET, "{}", summary.trim_start());
    crate::logging::close_job_log();
    if cancelled {
        return Err(super::lifecycle::cancelled(&job_id));
    }
    if stats.failed > 0 {
        return Err(CliError::failed(format!("{} of {} removals failed", stats.failed, stats.total)));
    }
    Ok(())
}

/// Counts the outcomes and reports each failure (on the console and in the job log).
fn tally(
    results: &[(Entry, Option<Result<(), ferry_store::StoreError>>)],
    shown_base: &str,
    console: &Console,
) -> StatsSnapshot {
    let mut stats = StatsSnapshot { scanning_finished: true, ..StatsSnapshot::default() };
    for (entry, result) in results {
        stats.total += 1;
        stats.bytes_enumerated += entry.size;
        match result {
            None | Some(Ok(())) => stats.done += 1,
            Some(Err(e)) if e.kind() == ErrorKind::NotFound => stats.done += 1,
            Some(Err(e)) => {
                stats.failed += 1;
                let line = format!("DELETEFAILED: {shown_base}{} : {e}", ferry_report::escape_controls(&entry.key));
                tracing::error!(target: crate::logging::JOB_TARGET, "{line}");
                console.warn(&line);
            }
        }
    }
    stats
}

fn nothing_found(url: &ferry_core::BlobUrl) -> CliError {
    CliError::failed(format!("nothing found to remove at {url}"))
        .with_hint("check the path and filters; names are case-sensitive")
}
