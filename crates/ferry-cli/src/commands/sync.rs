//! `ferry sync SRC DST`: copy what is missing, newer or a different size; optionally delete what
//! the source no longer has, behind guards.
//!
//! Both sides are listed in key order and merged by the planner (`ferry-plan`), so memory does not
//! grow with the number of objects. Copies stream into the copy engine while the listings are
//! still running. Deletions wait until both listings have ended without error: a partial view of
//! the source must never delete anything.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use ferry_azure::AzureStore;
use ferry_core::Location;
use ferry_engine::{CheckMd5, CopyEngine, CopyOptions, Transfer};
use ferry_journal::{ItemStatus, Journal};
use ferry_plan::{Action, ComparePolicy, Filter, plan};
use ferry_report::{Console, JobReporter, SyncCounts, final_status};
use ferry_store::{Entry, EntryKind, ListDepth, StoreError};
use futures::{StreamExt, TryStreamExt};

use super::copy::{Side, build_filter, local_side, location_hints, mib};
use crate::args::{CompareHashArg, DeleteDestinationArg, SyncArgs};
use crate::connect::client_for;
use crate::{CliError, Environment, Settings};

/// `--max-delete`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum MaxDelete {
    Count(u64),
    Percent(f64),
}

fn parse_max_delete(text: &str) -> Result<MaxDelete, CliError> {
    let bad = || CliError::usage(format!("--max-delete `{text}` is not a count or a percentage such as 500 or 5%"));
    match text.trim().strip_suffix('%') {
        Some(p) => {
            p.trim().parse::<f64>().ok().filter(|p| (0.0..=100.0).contains(p)).map(MaxDelete::Percent).ok_or_else(bad)
        }
        None => text.trim().parse::<u64>().map(MaxDelete::Count).map_err(|_| bad()),
    }
}

/// Opens one side of a sync: the store and the key prefix of the tree being synced.
pub(super) async fn open_tree(
    location: &Location,
    settings: &Settings,
    env: &Environment,
    console: &Console,
    create: bool,
) -> Result<(Side, String), CliError> {
    match location {
        Location::Local(path) => {
            if path.pattern().is_some_and(|p| p != "*") {
                return Err(CliError::usage("sync takes directories, not wildcards; use --include-pattern"));
            }
            let root = path.root();
            if root.is_file() {
                return Err(CliError::usage(format!("`{}` is a file; sync works on directories", root.display())));
            }
            if !create && !root.is_dir() {
                return Err(CliError::failed(format!("the source directory `{}` does not exist", root.display())));
            }
            Ok((local_side(root), String::new()))
        }
        Location::Blob(url) => {
            super::check_plain_http(url, env, console)?;
            let Some(container) = url.container() else {
                return Err(CliError::usage(format!("`{url}` names no container")));
            };
            let (client, credential) = client_for(url, settings, env)?;
            let store = AzureStore::new(client, url)?;
            if create && let Err(e) = ferry_store::Store::create_root(&store).await {
                tracing::debug!(error = %e, "not creating the destination container");
            }
            let path = url.path().trim_end_matches('/');
            let prefix = if path.is_empty() { String::new() } else { format!("{path}/") };
            let shown_base = format!("{}/", url.with_sas(None).with_container_and_path(Some(container), ""));
            let side = Side {
                credential: credential.code(),
                store: Arc::new(store),
                shown_base,
                kind: ferry_core::LocationKind::Blob,
                local_root: None,
            };
            Ok((side, prefix))
        }
    }
}

/// A side's listing, filtered by name and with keys made relative to `prefix`; counts what it
/// lists. Time and size filters are not applied here: see [`scoped_plan`]. Folder stubs are
/// neither copied nor deleted.
pub(super) fn listing<'a>(
    side: &'a Side,
    prefix: &'a str,
    depth: ListDepth,
    filter: &'a Filter,
    scanned: &'a AtomicU64,
) -> impl futures::Stream<Item = Result<Entry, StoreError>> + Send + 'a {
    side.store
        .list(prefix, depth)
        .try_filter(move |e| {
            let rest = e.key.strip_prefix(prefix).unwrap_or(&e.key);
            futures::future::ready(e.kind == EntryKind::Object && !e.is_folder_marker() && filter.admits_name(rest))
        })
        .map_ok(move |mut e| {
            scanned.fetch_add(1, Ordering::Relaxed);
            e.key = e.key.strip_prefix(prefix).unwrap_or(&e.key).to_owned();
            e
        })
}

/// Plans a sync (or a verify) of two name-filtered listings, applying time and size filters to
/// the source alone: a source object outside the window is neither copied nor compared, and its
/// destination copy is not an extra. Judging each side by its own times and sizes would make a
/// destination copy of a file the source still has look like an extra, and delete it.
pub(super) fn scoped_plan<'a>(
    source: impl futures::Stream<Item = Result<Entry, StoreError>> + Send + 'a,
    destination: impl futures::Stream<Item = Result<Entry, StoreError>> + Send + 'a,
    policy: ComparePolicy,
    filter: &'a Filter,
) -> impl futures::Stream<Item = Result<ferry_plan::Decision, StoreError>> + Send + 'a {
    plan(source, destination, policy).try_filter(move |d| {
        let in_scope = d.source.as_ref().is_none_or(|s| filter.admits_properties(s.size, s.last_modified));
        futures::future::ready(in_scope)
    })
}

/// Gives local entries their MD5 (from the cache, or by reading the file once and caching it),
/// in listing order, for `--compare-hash MD5`. Remote entries pass through untouched.
fn with_local_md5<'a>(
    entries: impl futures::Stream<Item = Result<Entry, StoreError>> + Send + 'a,
    side: &'a Side,
    prefix: &'a str,
    cache: Option<&'a std::sync::Arc<ferry_journal::HashCache>>,
) -> futures::stream::BoxStream<'a, Result<Entry, StoreError>> {
    let (Some(root), Some(cache)) = (side.local_root.clone(), cache.cloned()) else {
        return entries.boxed();
    };
    entries
        .map(move |item| {
            let (root, cache) = (root.clone(), cache.clone());
            async move {
                let mut entry = item?;
                let path = root.join(format!("{prefix}{}", entry.key));
                let mtime_ns = entry
                    .last_modified
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
                let key = path.display().to_string();
                if let Some(md5) = cache.get(&key, entry.size, mtime_ns) {
                    entry.content_md5 = Some(md5);
                    return Ok(entry);
                }
                let shown = key.clone();
                let md5 = tokio::task::spawn_blocking(move || -> std::io::Result<[u8; 16]> {
                    use md5::Digest as _;
                    use std::io::Read as _;
                    let mut file = std::fs::File::open(&path)?;
                    let mut hasher = md5::Md5::new();
                    let mut buffer = vec![0u8; 1024 * 1024];
                    loop {
                        let n = file.read(&mut buffer)?;
                        if n == 0 {
                            return Ok(hasher.finalize().into());
                        }
                        hasher.update(&buffer[..n]);
                    }
                })
                .await
                .map_err(|e| StoreError::new(ferry_store::ErrorKind::Other, &shown, e.to_string()))?
                .map_err(|e| StoreError::from_io(e, &shown))?;
                if let Err(e) = cache.put(&key, entry.size, mtime_ns, md5) {
                    tracing::debug!(error = %e, "cannot cache an MD5");
                }
                entry.content_md5 = Some(md5);
                Ok(entry)
            }
        })
        .buffered(8)
        .boxed()
}

#[allow(clippy::too_many_lines)]
pub(super) async fn run(
    args: &SyncArgs,
    settings: &Settings,
    env: &Environment,
    console: &Console,
    resume: Option<Journal>,
) -> Result<(), CliError> {
    let delete = args.delete_destination != DeleteDestinationArg::False;
    let prompt = (args.delete_destination == DeleteDestinationArg::Prompt && !args.dry_run)
        .then(|| super::prompt::StdinPrompt::new(*console));
    if prompt.is_some() && settings.output_level != ferry_report::OutputLevel::Default {
        return Err(CliError::usage(
            "--delete-destination prompt asks questions, so it cannot be combined with --output-level essential or quiet",
        ));
    }
    let (source_hint, dest_hint) = location_hints(args.from_to.as_deref())?;
    let source_location = Location::parse(&args.source, source_hint)?;
    let dest_location = Location::parse(&args.destination, dest_hint)?;
    super::warn_forwarded_sas(&source_location, &dest_location, console);
    super::lifecycle::warn_expiring_sas(&[(&source_location, "source"), (&dest_location, "destination")], console);
    let max_delete = args.max_delete.as_deref().map(parse_max_delete).transpose()?;
    let filter = build_filter(&args.filters)?;
    let policy = if args.mirror_mode {
        ComparePolicy::Mirror
    } else if args.compare_hash == CompareHashArg::Md5 {
        ComparePolicy::Md5
    } else {
        ComparePolicy::TimeAndSize
    };
    let depth = if args.recursive { ListDepth::Recursive } else { ListDepth::OneLevel };

    let (source, source_prefix) = open_tree(&source_location, settings, env, console, false).await?;
    let (dest, dest_prefix) = open_tree(&dest_location, settings, env, console, !args.dry_run).await?;

    let (scanned_source, scanned_dest) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let listing_failed = AtomicBool::new(false);
    // Only the extras are held (key and size), never the whole of either side.
    let extras: Mutex<Vec<(String, u64)>> = Mutex::new(Vec::new());
    // A local destination that does not exist yet is empty (it is created as files land).
    let dest_exists = dest_location.as_local().is_none_or(|l| l.root().is_dir());
    let dest_listing = if dest_exists {
        listing(&dest, &dest_prefix, depth, &filter, &scanned_dest).boxed()
    } else {
        futures::stream::empty().boxed()
    };
    // Comparing by MD5 needs one for local files: computed once, then cached by size and time.
    let cache = if policy == ComparePolicy::Md5 && (source.local_root.is_some() || dest.local_root.is_some()) {
        match ferry_journal::HashCache::open(&settings.plan_dir.join("local-md5.db")) {
            Ok(cache) => Some(std::sync::Arc::new(cache)),
            Err(e) => {
                console.warn(&format!("cannot open the MD5 cache, so local files are hashed every time: {e}"));
                None
            }
        }
    } else {
        None
    };
    let source_listing = with_local_md5(
        listing(&source, &source_prefix, depth, &filter, &scanned_source),
        &source,
        &source_prefix,
        cache.as_ref(),
    );
    let dest_listing = with_local_md5(dest_listing, &dest, &dest_prefix, cache.as_ref());
    let decisions = scoped_plan(source_listing, dest_listing, policy, &filter);
    let reporter = JobReporter::new(settings.output, settings.output_level);
    let (source_prefix, dest_prefix) = (source_prefix.as_str(), dest_prefix.as_str());
    let transfers = decisions.filter_map(|decision| {
        let item = match decision {
            Err(e) => {
                listing_failed.store(true, Ordering::Relaxed);
                Some(Err(e))
            }
            Ok(d) => {
                tracing::debug!(key = %d.key, reason = d.reason.as_str(), "sync decision");
                match d.action {
                    Action::Skip => None,
                    Action::Extra => {
                        let size = d.destination.as_ref().map_or(0, |e| e.size);
                        extras.lock().expect("never poisoned").push((d.key, size));
                        None
                    }
                    Action::Copy => {
                        let entry = d.source.expect("a copy has a source");
                        if args.dry_run {
                            reporter.dry_run_line(&format!(
                                "DRYRUN: copy {}{source_prefix}{} to {}{dest_prefix}{} ({})",
                                source.shown_base,
                                d.key,
                                dest.shown_base,
                                d.key,
                                d.reason.as_str()
                            ));
                        }
                        let mut transfer = Transfer::from_entry(entry, format!("{dest_prefix}{}", d.key));
                        transfer.source_key = format!("{source_prefix}{}", d.key);
                        Some(Ok(transfer))
                    }
                }
            }
        };
        futures::future::ready(item)
    });

    let job_id = super::lifecycle::job_id_for(resume.as_ref());
    let journal = match resume {
        Some(journal) => Some(journal),
        None if args.dry_run => None,
        None => {
            let spec = super::copy::job_spec(&job_id, source.credential, dest.credential);
            Some(
                Journal::create(&settings.plan_dir, &spec)
                    .map_err(|e| CliError::failed(format!("cannot create the job journal: {e}")))?,
            )
        }
    };
    let started = Instant::now();
    let report = if args.dry_run {
        let mut transfers = Box::pin(transfers);
        while let Some(item) = transfers.next().await {
            item?;
        }
        None
    } else {
        let options = CopyOptions {
            block_size: mib(args.block_size_mb, "--block-size-mb")?,
            put_md5: args.put_md5 || args.compare_hash == CompareHashArg::Md5,
            check_md5: CheckMd5::from(args.check_md5),
            objects_in_flight: settings.transfer.objects_in_flight,
            requests_in_flight: settings.transfer.requests_in_flight,
            buffer_bytes: settings.transfer.buffer_bytes,
            part_tag: super::lifecycle::part_tag(&job_id),
            rate_limit: settings.cap_mbps.map(|m| Arc::new(ferry_engine::RateLimit::from_megabits(m))),
            observer: journal.clone().map(|journal| {
                Arc::new(super::copy::JournalObserver { journal }) as Arc<dyn ferry_engine::TransferObserver>
            }),
            ..CopyOptions::default()
        };
        let engine = CopyEngine::new(source.store.clone(), dest.store.clone(), options);
        let log_path = super::lifecycle::open_job_log(settings, &job_id)?;
        reporter.started(&job_id, log_path.as_deref());
        let scanned = (scanned_source.clone(), scanned_dest.clone());
        let progress = spawn_sync_progress(reporter, engine.stats(), scanned, started, journal.clone());
        let signals = super::lifecycle::watch_interrupts(engine.cancel_flag(), *console);
        let report = engine.run(transfers).await;
        signals.abort();
        progress.abort();
        reporter.end_progress();
        for failure in &report.failures {
            let (key, error) = (&failure.source_key, failure.error.to_string());
            let (key, error) = (ferry_report::escape_controls(key), ferry_report::escape_controls(&error));
            let line = format!("COPYFAILED: {}{key} : {error}", source.shown_base);
            tracing::error!(target: crate::logging::JOB_TARGET, "{line}\nDst: {}{}", dest.shown_base, failure.dest_key);
            console.warn(&line);
        }
        Some(report)
    };

    // The deletion phase, behind its guards.
    let mut extras = extras.into_inner().unwrap_or_default();
    extras.sort_unstable();
    let scanned_source = scanned_source.load(Ordering::Relaxed);
    let scanned_dest = scanned_dest.load(Ordering::Relaxed);
    let mut counts = SyncCounts { scanned_source, scanned_destination: scanned_dest, ..SyncCounts::default() };
    let mut refused: Option<String> = None;
    let cancelled = report.as_ref().is_some_and(|r| r.cancelled);
    if delete && cancelled {
        refused = Some("the job was cancelled, so nothing was deleted; `ferry jobs resume` finishes it".into());
    } else if delete && listing_failed.load(Ordering::Relaxed) {
        refused =
            Some("a listing failed, so nothing was deleted (a partial view of the source must not delete)".into());
    } else if delete && !extras.is_empty() {
        #[allow(clippy::cast_precision_loss)]
        let over_limit = match max_delete {
            Some(MaxDelete::Count(n)) => extras.len() as u64 > n,
            Some(MaxDelete::Percent(p)) => (extras.len() as f64) > (scanned_dest as f64) * p / 100.0,
            None => false,
        };
        if scanned_source == 0 && !args.force_delete {
            refused = Some(format!(
                "the source has no objects (after filters) but the destination has {}; nothing was deleted. If that is what you want, add --force-delete",
                extras.len()
            ));
        } else if over_limit {
            refused = Some(format!(
                "{} deletions exceed --max-delete {}; nothing was deleted",
                extras.len(),
                args.max_delete.as_deref().unwrap_or_default()
            ));
        } else if args.dry_run {
            for (key, _) in &extras {
                reporter.dry_run_line(&format!(
                    "DRYRUN: remove {}{dest_prefix}{key} (extra at destination)",
                    dest.shown_base
                ));
            }
        } else {
            let deleter = Deleter { dest: &dest, dest_prefix, journal: journal.as_ref(), prompt: prompt.as_ref() };
            // One at a time when each deletion is asked about, so questions come in order.
            let parallel = if prompt.is_some() { 1 } else { 32 };
            let results: Vec<(String, Option<Result<(), StoreError>>)> = futures::stream::iter(extras.iter())
                .map(|(key, size)| deleter.delete(key, *size))
                .buffer_unordered(parallel)
                .collect()
                .await;
            for (key, result) in results {
                match result {
                    None => counts.kept += 1,
                    Some(Ok(())) => {
                        counts.deleted += 1;
                        let key = ferry_report::escape_controls(&key);
                        console.info(&format!("Deleting extra file: {}{key}", dest.shown_base));
                    }
                    Some(Err(e)) => {
                        counts.delete_failed += 1;
                        let key = ferry_report::escape_controls(&key);
                        let line = format!("DELETEFAILED: {}{key} : {e}", dest.shown_base);
                        tracing::error!(target: crate::logging::JOB_TARGET, "{line}");
                        console.warn(&line);
                    }
                }
            }
        }
    } else if !extras.is_empty() && args.dry_run {
        console.info(&format!(
            "{} objects exist only at the destination; --delete-destination true would remove them",
            extras.len()
        ));
    }
    if let Some(reason) = &refused {
        console.warn(reason);
    }

    let Some(report) = report else {
        return match refused {
            Some(reason) => Err(CliError::failed(reason)),
            None => Ok(()),
        };
    };
    let failed = report.stats.failed > 0 || counts.delete_failed > 0 || refused.is_some();
    let mut status = final_status(&report.stats, report.cancelled);
    if counts.delete_failed > 0 && status == "Completed" {
        status = "CompletedWithErrors";
    }
    if let Some(journal) = &journal {
        let scan_complete = report.stats.scanning_finished && !report.cancelled;
        if let Err(e) = journal.set_job_status(status, Some(scan_complete)).await {
            console.warn(&format!("cannot record the job's status: {e}"));
        }
    }
    reporter.sync_summary(&job_id, &report.stats, &counts, started.elapsed(), status);
    let summary = ferry_report::sync_summary_text(&job_id, &report.stats, &counts, started.elapsed(), status);
    tracing::info!(target: crate::logging::JOB_TARGET, "{}", summary.trim_start());
    if counts.kept > 0 {
        console.info(&format!("{} extra objects were kept, as answered", counts.kept));
    }
    crate::logging::close_job_log();
    if report.cancelled {
        return Err(super::lifecycle::cancelled(&job_id));
    }
    if args.verify && !failed {
        let (again_source, again_dest) = (AtomicU64::new(0), AtomicU64::new(0));
        // Extras the user chose to keep are not differences.
        let ignore_extras = !delete || counts.kept > 0;
        let decisions = scoped_plan(
            listing(&source, source_prefix, depth, &filter, &again_source),
            listing(&dest, dest_prefix, depth, &filter, &again_dest),
            ComparePolicy::TimeAndSize,
            &filter,
        );
        let trees = super::verify::Trees { source: &source, source_prefix, dest: &dest, dest_prefix };
        let options = super::verify::VerifyOptions { compute_hash: true, ignore_extras };
        super::verify::compare_trees(decisions, &trees, options, &settings.log_dir, console).await?;
    }
    if failed {
        let mut message = format!("{} copies and {} deletions failed", report.stats.failed, counts.delete_failed);
        if let Some(reason) = refused {
            message = reason;
        }
        let mut error = CliError::failed(message);
        if journal.is_some() && !report.cancelled {
            error = error.with_hint(format!(
                "fix the cause, then `ferry jobs resume {job_id}` finishes the copies and deletions that failed"
            ));
        }
        return Err(error);
    }
    Ok(())
}

/// Deletes extras at the destination: asks first when prompting, records each deletion in the
/// journal before it is made and its outcome after.
struct Deleter<'a> {
    dest: &'a Side,
    dest_prefix: &'a str,
    journal: Option<&'a Journal>,
    prompt: Option<&'a super::prompt::StdinPrompt>,
}

impl Deleter<'_> {
    /// Deletes the extra `key` (relative to the destination root): `(full key, None)` when the
    /// user said to keep it, else the outcome. An object already gone counts as deleted.
    async fn delete(&self, key: &str, size: u64) -> (String, Option<Result<(), StoreError>>) {
        let full = format!("{}{key}", self.dest_prefix);
        if let Some(prompt) = self.prompt {
            let question = format!(
                "The file '{key}' does not exist at the source. Do you wish to delete it from the destination({}{})?",
                self.dest.shown_base, self.dest_prefix
            );
            if !prompt.confirm(&question).await {
                return (full, None);
            }
        }
        if let Some(journal) = self.journal
            && let Err(e) = journal.deletion_planned(&full, size).await
        {
            // Not deleting what cannot be recorded keeps the journal the whole truth.
            let error = StoreError::new(ferry_store::ErrorKind::Other, &full, format!("cannot journal it: {e}"));
            return (full, Some(Err(error)));
        }
        let result = match self.dest.store.delete(&full).await {
            Err(e) if e.kind() == ferry_store::ErrorKind::NotFound => Ok(()),
            other => other,
        };
        if let Some(journal) = self.journal {
            let (status, error, http) = match &result {
                Ok(()) => (ItemStatus::Success, None, None),
                Err(e) => (ItemStatus::Failed, Some(e.to_string()), e.status()),
            };
            if let Err(e) = journal.deletion_finished(&full, status, error, http).await {
                tracing::warn!(error = %e, key = %full, "cannot record a deletion in the job journal");
            }
        }
        (full, Some(result))
    }
}

/// Prints sync progress every 2 seconds until aborted.
fn spawn_sync_progress(
    reporter: JobReporter,
    stats: Arc<ferry_engine::Stats>,
    scanned: (Arc<AtomicU64>, Arc<AtomicU64>),
    started: Instant,
    journal: Option<Journal>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let interval = std::time::Duration::from_secs(2);
        let mut last = 0u64;
        loop {
            tokio::time::sleep(interval).await;
            let now = stats.snapshot();
            super::lifecycle::heartbeat(journal.as_ref(), &now);
            let counts = (scanned.0.load(Ordering::Relaxed), scanned.1.load(Ordering::Relaxed));
            reporter.sync_progress(
                counts,
                &now,
                now.bytes_transferred.saturating_sub(last),
                interval,
                started.elapsed(),
            );
            last = now.bytes_transferred;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_delete_takes_counts_and_percentages() {
        assert_eq!(parse_max_delete("500").unwrap(), MaxDelete::Count(500));
        assert_eq!(parse_max_delete("5%").unwrap(), MaxDelete::Percent(5.0));
        assert!(parse_max_delete("five").is_err());
        assert!(parse_max_delete("150%").is_err());
    }
}
