//! `ferry copy SRC DST`: local↔Blob, Blob→Blob (server-side) and local→local.

mod journal;

pub(super) use journal::JournalObserver;
mod naming;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferry_azure::AzureStore;
use ferry_core::{Location, LocationHint, LocationKind};
use ferry_engine::{CopyEngine, CopyOptions, Overwrite, Transfer};
use ferry_journal::Journal;
use ferry_plan::{Filter, FilterSpec, parse_size};
use ferry_report::{Console, JobReporter, final_status};
use ferry_store::{EntryKind, ErrorKind, ListDepth, LocalStore, Store, StoreError, WriteOptions};
use futures::{StreamExt, TryStreamExt};

use self::naming::{DestShape, Naming, SourceShape, decide};
use super::lifecycle;
use crate::args::{CopyArgs, FilterArgs, OverwriteArg};
use crate::connect::{client_for, explain_auth};
use crate::{CliError, Environment, Settings};

const MIB: f64 = 1024.0 * 1024.0;

/// One side of the copy, opened.
pub(super) struct Side {
    /// Where its credential came from, as the journal records it.
    pub(super) credential: &'static str,
    pub(super) store: Arc<dyn Store>,
    /// How keys of this store are shown: a path or a URL (no secrets) ending in `/`.
    pub(super) shown_base: String,
    pub(super) kind: LocationKind,
    /// The directory a local side is rooted at.
    pub(super) local_root: Option<std::path::PathBuf>,
}

/// The location hints for a source and destination from an optional `--from-to`.
pub(super) fn location_hints(from_to_flag: Option<&str>) -> Result<(LocationHint, LocationHint), CliError> {
    match from_to_flag {
        Some(text) => {
            let (s, d) = from_to(text)?;
            Ok((LocationHint::Known(s), LocationHint::Known(d)))
        }
        None => Ok((LocationHint::Infer, LocationHint::Infer)),
    }
}

fn from_to(text: &str) -> Result<(LocationKind, LocationKind), CliError> {
    let pair = match text.to_ascii_lowercase().as_str() {
        "localblob" => (LocationKind::Local, LocationKind::Blob),
        "bloblocal" => (LocationKind::Blob, LocationKind::Local),
        "blobblob" => (LocationKind::Blob, LocationKind::Blob),
        "locallocal" => (LocationKind::Local, LocationKind::Local),
        _ => {
            return Err(CliError::usage(format!("--from-to `{text}` is not supported"))
                .with_hint("use LocalBlob, BlobLocal, BlobBlob or LocalLocal"));
        }
    };
    Ok(pair)
}

pub(super) fn mib(value: Option<f64>, flag: &str) -> Result<Option<u64>, CliError> {
    // The service's limits: a block is at most 4,000 MiB, a single Put Blob at most 5,000 MiB.
    let most = if flag == "--put-blob-size-mb" { 5000.0 } else { 4000.0 };
    match value {
        None => Ok(None),
        Some(v) if v.is_finite() && v > most => {
            Err(CliError::usage(format!("{flag} is at most {most} MiB (the service's limit), not {v}")))
        }
        Some(v) if v.is_finite() && v > 0.0 =>
        {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Ok(Some((v * MIB).round() as u64))
        }
        Some(v) => Err(CliError::usage(format!("{flag} must be a positive number of MiB, not {v}"))),
    }
}

fn write_options(args: &CopyArgs) -> Result<WriteOptions, CliError> {
    let mut write = WriteOptions::default();
    write.headers.content_type = args.content_type.clone();
    write.headers.content_encoding = args.content_encoding.clone();
    write.headers.content_disposition = args.content_disposition.clone();
    write.headers.content_language = args.content_language.clone();
    write.headers.cache_control = args.cache_control.clone();
    if let Some(text) = &args.metadata {
        for pair in text.split(';').filter(|p| !p.trim().is_empty()) {
            let (name, value) = pair.split_once('=').ok_or_else(|| {
                CliError::usage(format!("--metadata `{pair}` is not `name=value`"))
                    .with_hint("write --metadata 'k1=v1;k2=v2'")
            })?;
            write.metadata.insert(name.trim().to_owned(), value.to_owned());
        }
    }
    if let Some(text) = &args.blob_tags {
        for pair in text.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').ok_or_else(|| {
                CliError::usage(format!("--blob-tags `{pair}` is not `key=value`"))
                    .with_hint("write --blob-tags 'k1=v1&k2=v2'")
            })?;
            write.tags.insert(key.to_owned(), value.to_owned());
        }
        if write.tags.len() > 10 {
            return Err(CliError::usage("--blob-tags: a blob takes at most 10 tags"));
        }
    }
    if let Some(tier) = &args.block_blob_tier {
        let known = ["Hot", "Cool", "Cold", "Archive"];
        match known.iter().find(|t| t.eq_ignore_ascii_case(tier)) {
            Some(t) => write.access_tier = Some((*t).to_owned()),
            None if tier.eq_ignore_ascii_case("None") => {}
            None => {
                return Err(CliError::usage(format!(
                    "--block-blob-tier `{tier}` is not one of Hot, Cool, Cold, Archive, None"
                )));
            }
        }
    }
    Ok(write)
}

/// The wildcard of a local source (`DIR/*.jpg`, `logs/2024-*/*.gz`) as a filter on relative
/// paths: a single segment matches names, several segments match the path, each `*` within one
/// segment. A plain trailing `/*` admits everything.
fn wildcard_filter(location: &Location) -> Result<Filter, CliError> {
    let pattern = location.as_local().and_then(|l| l.pattern()).filter(|p| *p != "*");
    let spec = FilterSpec {
        include_patterns: pattern.map(|p| vec![p.to_owned()]).unwrap_or_default(),
        ..FilterSpec::default()
    };
    Filter::new(&spec).map_err(|e| CliError::usage(format!("the wildcard in the source path: {}", e.reason)))
}

/// Compiles the filter flags.
pub(super) fn build_filter(args: &FilterArgs) -> Result<Filter, CliError> {
    let size = |value: &Option<String>, flag: &str| {
        value.as_deref().map(parse_size).transpose().map_err(|e| CliError::usage(format!("{flag}: {e}")))
    };
    let mut include_paths = FilterSpec::split_list(args.include_path.as_deref());
    if let Some(file) = &args.list_of_files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| CliError::usage(format!("--list-of-files: cannot read `{}`: {e}", file.display())))?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        include_paths.extend(text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned));
        if include_paths.is_empty() {
            return Err(CliError::usage(format!("--list-of-files: `{}` lists no paths", file.display())));
        }
    }
    let spec = FilterSpec {
        include_patterns: FilterSpec::split_list(args.include_pattern.as_deref()),
        exclude_patterns: FilterSpec::split_list(args.exclude_pattern.as_deref()),
        include_paths,
        exclude_paths: FilterSpec::split_list(args.exclude_path.as_deref()),
        include_regex: FilterSpec::split_list(args.include_regex.as_deref()),
        exclude_regex: FilterSpec::split_list(args.exclude_regex.as_deref()),
        include_after: args.include_after.clone(),
        include_before: args.include_before.clone(),
        min_size: size(&args.min_size, "--min-size")?,
        max_size: size(&args.max_size, "--max-size")?,
    };
    Filter::new(&spec).map_err(|e| CliError::usage(e.to_string()))
}

pub(super) async fn run(
    args: &CopyArgs,
    settings: &Settings,
    env: &Environment,
    console: &Console,
) -> Result<(), CliError> {
    run_job(args, settings, env, console, None).await
}

/// Runs a copy job: a new one, or, with `resume`, the job that journal records (items it
/// finished are left alone; the rest are done again).
pub(crate) async fn run_job(
    args: &CopyArgs,
    settings: &Settings,
    env: &Environment,
    console: &Console,
    resume: Option<Journal>,
) -> Result<(), CliError> {
    let (source_hint, dest_hint) = location_hints(args.from_to.as_deref())?;
    let source_location = Location::parse(&args.source, source_hint)?;
    let dest_location = Location::parse(&args.destination, dest_hint)?;
    super::warn_forwarded_sas(&source_location, &dest_location, console);
    if !args.blob_type.eq_ignore_ascii_case("BlockBlob") {
        return Err(CliError::usage(format!(
            "--blob-type `{}` is not supported yet; only BlockBlob is",
            args.blob_type
        )));
    }
    let overwrite = match args.overwrite {
        OverwriteArg::True => Overwrite::True,
        OverwriteArg::False => Overwrite::False,
        OverwriteArg::IfSourceNewer => Overwrite::IfSourceNewer,
        OverwriteArg::Prompt => Overwrite::Prompt,
    };
    let write = write_options(args)?;
    let filter = build_filter(&args.filters)?;
    let wildcard = wildcard_filter(&source_location)?;
    // A wildcard that spans directories (`logs/*/app.log`) needs a recursive listing to match.
    let recursive =
        args.recursive || source_location.as_local().and_then(|l| l.pattern()).is_some_and(|p| p.contains('/'));
    let options = CopyOptions {
        block_size: mib(args.block_size_mb, "--block-size-mb")?,
        put_blob_size: mib(args.put_blob_size_mb, "--put-blob-size-mb")?,
        put_md5: args.put_md5,
        check_md5: args.check_md5.into(),
        check_length: args.check_length,
        overwrite,
        preserve_last_modified: args.preserve_last_modified_time,
        guess_mime_type: !args.no_guess_mime_type,
        write,
        objects_in_flight: settings.transfer.objects_in_flight,
        requests_in_flight: settings.transfer.requests_in_flight,
        buffer_bytes: settings.transfer.buffer_bytes,
        part_tag: String::new(),
        rate_limit: settings.cap_mbps.map(|m| Arc::new(ferry_engine::RateLimit::from_megabits(m))),
        prompt: (overwrite == Overwrite::Prompt)
            .then(|| Arc::new(super::prompt::StdinPrompt::new(*console)) as Arc<dyn ferry_engine::OverwritePrompt>),
        observer: None,
    };
    if overwrite == Overwrite::Prompt && settings.output_level != ferry_report::OutputLevel::Default {
        return Err(CliError::usage(
            "--overwrite prompt asks questions, so it cannot be combined with --output-level essential or quiet",
        ));
    }
    if args.dry_run && settings.output_level != ferry_report::OutputLevel::Default {
        return Err(CliError::usage(
            "--dry-run prints its plan, so it cannot be combined with --output-level essential or quiet",
        ));
    }

    lifecycle::warn_expiring_sas(&[(&source_location, "source"), (&dest_location, "destination")], console);
    let (source, source_shape) = open_source(&source_location, settings, env, console).await?;
    let (dest, dest_shape) = open_dest(&dest_location, &source_shape, settings, env, console).await?;
    let naming = decide(&source_shape, &dest_shape, recursive, args.as_subdir)?;
    let job_id = lifecycle::job_id_for(resume.as_ref());
    let journal = match resume {
        Some(journal) => Some(journal),
        None if args.dry_run => None,
        None => {
            let spec = journal::spec_for(&job_id, source.credential, dest.credential);
            Some(Journal::create(&settings.plan_dir, &spec).map_err(|e| {
                CliError::failed(format!("cannot create the job journal: {e}"))
                    .with_hint("set FERRY_JOB_PLAN_LOCATION to a writable folder")
            })?)
        }
    };
    let observer = journal
        .clone()
        .map(|journal| Arc::new(journal::JournalObserver { journal }) as Arc<dyn ferry_engine::TransferObserver>);
    let options = CopyOptions { part_tag: lifecycle::part_tag(&job_id), observer, ..options };
    let verb = match (source.kind, dest.kind) {
        (LocationKind::Local, LocationKind::Blob) => "UPLOADFAILED",
        (LocationKind::Blob, LocationKind::Local) => "DOWNLOADFAILED",
        _ => "COPYFAILED",
    };
    let plan = Plan { naming, filter, wildcard, verb, dry_run: args.dry_run, journal, verify: args.verify };
    execute(&job_id, &source, &dest, &plan, options, settings, console).await
}

/// Opens the source and works out what it names.
async fn open_source(
    location: &Location,
    settings: &Settings,
    env: &Environment,
    console: &Console,
) -> Result<(Side, SourceShape), CliError> {
    match location {
        Location::Local(path) => {
            let root = path.root();
            if path.pattern().is_some() {
                // The wildcard itself is applied as a filter (see `wildcard_filter`).
                return Ok((local_side(root), SourceShape::Contents { prefix: String::new() }));
            }
            let meta = std::fs::metadata(root).map_err(|e| StoreError::from_io(e, root.display().to_string()))?;
            let name = root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if meta.is_dir() {
                Ok((local_side(root), SourceShape::Directory { prefix: String::new(), name }))
            } else {
                let parent = root.parent().unwrap_or(Path::new("/"));
                Ok((local_side(parent), SourceShape::Object { key: name.clone(), name }))
            }
        }
        Location::Blob(url) => {
            super::check_plain_http(url, env, console)?;
            let Some(container) = url.container() else {
                return Err(CliError::usage(format!(
                    "`{url}` names no container; copying a whole account is not supported yet"
                )));
            };
            let (client, source) = client_for(url, settings, env)?;
            let store = AzureStore::new(client, url)?;
            let shown_base = format!("{}/", url.with_sas(None).with_container_and_path(Some(container), ""));
            let side = Side {
                credential: source.code(),
                store: Arc::new(store.clone()),
                shown_base,
                kind: LocationKind::Blob,
                local_root: None,
            };
            let path = url.path();
            let last = |p: &str| p.trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_owned();
            let shape = if url.contents_only() {
                SourceShape::Contents { prefix: path.to_owned() }
            } else if path.is_empty() {
                SourceShape::Directory { prefix: String::new(), name: container.to_owned() }
            } else if path.ends_with('/') {
                SourceShape::Directory { prefix: path.to_owned(), name: last(path) }
            } else {
                match store.stat(path).await {
                    Ok(_) => SourceShape::Object { key: path.to_owned(), name: last(path) },
                    Err(e) if e.kind() == ErrorKind::NotFound => {
                        let prefix = format!("{path}/");
                        let any = store.list(&prefix, ListDepth::Recursive).try_next().await;
                        match any.map_err(|e| explain_auth(e.into(), source))? {
                            Some(_) => SourceShape::Directory { prefix, name: last(path) },
                            None => {
                                return Err(CliError::failed(format!(
                                    "no blob or virtual directory `{path}` in {url}"
                                ))
                                .with_hint("check the path; names are case-sensitive"));
                            }
                        }
                    }
                    Err(e) => return Err(explain_auth(e.into(), source)),
                }
            };
            Ok((side, shape))
        }
    }
}

pub(super) fn local_side(root: &Path) -> Side {
    let shown = root.display().to_string();
    let shown_base = if shown.ends_with('/') { shown } else { format!("{shown}/") };
    Side {
        credential: "local",
        store: Arc::new(LocalStore::new(root)),
        shown_base,
        kind: LocationKind::Local,
        local_root: Some(root.to_path_buf()),
    }
}

/// Opens the destination and works out whether it is a directory or an object's name.
async fn open_dest(
    location: &Location,
    source: &SourceShape,
    settings: &Settings,
    env: &Environment,
    console: &Console,
) -> Result<(Side, DestShape), CliError> {
    let single = matches!(source, SourceShape::Object { .. });
    match location {
        Location::Local(path) => {
            if path.pattern().is_some() {
                return Err(CliError::usage("a destination cannot contain wildcards"));
            }
            let root = path.root();
            let is_dir = root.is_dir();
            if !single && root.exists() && !is_dir {
                return Err(CliError::usage(format!(
                    "`{}` is a file, but the source is a directory; name a directory",
                    root.display()
                )));
            }
            if single && !is_dir {
                let parent = root.parent().unwrap_or(Path::new("/"));
                let name = root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                return Ok((local_side(parent), DestShape { base: name, is_directory: false }));
            }
            Ok((local_side(root), DestShape { base: String::new(), is_directory: true }))
        }
        Location::Blob(url) => {
            super::check_plain_http(url, env, console)?;
            let Some(container) = url.container() else {
                return Err(
                    CliError::usage(format!("`{url}` names no container")).with_hint("add the container to the URL")
                );
            };
            let (client, credential) = client_for(url, settings, env)?;
            let store = AzureStore::new(client, url)?;
            // Containers are created on demand, as AzCopy does; a failure here (no permission,
            // already there) is left for the transfers themselves to report.
            if let Err(e) = store.create_root().await {
                tracing::debug!(error = %e, "not creating the destination container");
            }
            let path = url.path();
            let is_directory = path.is_empty()
                || path.ends_with('/')
                || !single
                || store.list(&format!("{path}/"), ListDepth::Recursive).try_next().await.ok().flatten().is_some();
            let shown_base = format!("{}/", url.with_sas(None).with_container_and_path(Some(container), ""));
            let side = Side {
                credential: credential.code(),
                store: Arc::new(store),
                shown_base,
                kind: LocationKind::Blob,
                local_root: None,
            };
            Ok((side, DestShape { base: path.trim_end_matches('/').to_owned(), is_directory }))
        }
    }
}

/// The spec of a new job run by this process (the command line without secrets).
pub(super) fn job_spec(job_id: &str, source_credential: &str, destination_credential: &str) -> ferry_journal::JobSpec {
    journal::spec_for(job_id, source_credential, destination_credential)
}

/// Prints AzCopy's progress line every 2 s until aborted.
pub(super) fn spawn_progress(
    reporter: JobReporter,
    stats: Arc<ferry_engine::Stats>,
    started: Instant,
    journal: Option<Journal>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let interval = Duration::from_secs(2);
        let mut last = 0u64;
        loop {
            tokio::time::sleep(interval).await;
            let now = stats.snapshot();
            lifecycle::heartbeat(journal.as_ref(), &now);
            reporter.progress(&now, now.bytes_transferred.saturating_sub(last), interval, started.elapsed());
            last = now.bytes_transferred;
        }
    })
}

/// What a copy covers and how its failures are named.
struct Plan {
    naming: Naming,
    filter: Filter,
    /// The wildcard in a local source path (`DIR/*.jpg`), matched against relative paths.
    wildcard: Filter,
    /// AzCopy's keyword for a failed item: UPLOADFAILED, DOWNLOADFAILED or COPYFAILED.
    verb: &'static str,
    /// Print the transfers instead of doing them.
    dry_run: bool,
    /// The job's journal (none for a dry run).
    journal: Option<Journal>,
    /// Verify what was covered after the copy.
    verify: bool,
}

async fn execute(
    job_id: &str,
    source: &Side,
    dest: &Side,
    plan: &Plan,
    options: CopyOptions,
    settings: &Settings,
    console: &Console,
) -> Result<(), CliError> {
    let filter = &plan.filter;
    let verb = plan.verb;
    let transfers: futures::stream::BoxStream<'_, Result<Transfer, StoreError>> = match &plan.naming {
        Naming::Single { source_key, dest_key } => {
            let entry = source.store.stat(source_key).await?;
            let name = source_key.rsplit('/').next().unwrap_or(source_key);
            let admitted = filter.admits(name, entry.size, entry.last_modified);
            futures::stream::iter(admitted.then(|| Ok(Transfer::from_entry(entry, dest_key.clone())))).boxed()
        }
        Naming::Tree { source_prefix, depth, dest_prefix } => covered(source, source_prefix, *depth, plan)
            .map_ok(move |e| {
                let rest = e.key.clone();
                let mut transfer = Transfer::from_entry(e, format!("{dest_prefix}{rest}"));
                transfer.source_key = format!("{source_prefix}{rest}");
                transfer
            })
            .boxed(),
    };
    let reporter = JobReporter::new(settings.output, settings.output_level);

    if plan.dry_run {
        let mut transfers = transfers;
        while let Some(t) = transfers.try_next().await? {
            reporter.dry_run(
                &format!("{}{}", source.shown_base, t.source_key),
                &format!("{}{}", dest.shown_base, t.dest_key),
                t.size,
            );
        }
        return Ok(());
    }

    let log_path = lifecycle::open_job_log(settings, job_id)?;
    let command_line: Vec<String> = std::env::args().map(|a| ferry_core::redact_text(&a)).collect();
    tracing::info!(target: crate::logging::JOB_TARGET, "FerryVersion {}", env!("CARGO_PKG_VERSION"));
    tracing::info!(target: crate::logging::JOB_TARGET, "Job-Command {}", command_line.join(" "));
    tracing::info!(target: crate::logging::JOB_TARGET, "Source {} Destination {}", source.shown_base, dest.shown_base);
    let engine = CopyEngine::new(source.store.clone(), dest.store.clone(), options);
    let stats = engine.stats();
    let signals = lifecycle::watch_interrupts(engine.cancel_flag(), *console);
    reporter.started(job_id, log_path.as_deref());
    let started = Instant::now();
    let progress = spawn_progress(reporter, stats, started, plan.journal.clone());
    let report = engine.run(transfers).await;
    progress.abort();
    signals.abort();
    reporter.end_progress();

    for failure in &report.failures {
        let status = failure.error.status().map_or_else(|| "000".to_owned(), |s| s.to_string());
        let shown = if failure.dest_key.is_empty() {
            failure.source_key.clone()
        } else {
            format!("{}{}", source.shown_base, failure.source_key)
        };
        // Names come from other people's containers: never let one draw on the terminal.
        let shown = ferry_report::escape_controls(&shown);
        let error = failure.error.to_string();
        let line = format!("{verb}: {shown} : {status} : {}", ferry_report::escape_controls(&error));
        tracing::error!(target: crate::logging::JOB_TARGET, "{line}\nDst: {}{}", dest.shown_base, failure.dest_key);
        console.warn(&line);
        if let Some(hint) = failure.error.hint() {
            console.info(&format!("hint: {hint}"));
        }
    }
    if report.stats.total == 0 {
        console.warn("nothing matched the source: no files were transferred");
    }
    let refused = report.failures.iter().any(|f| f.error.kind() == ferry_store::ErrorKind::Unauthenticated);
    if refused && plan.journal.is_some() {
        console.info(&format!(
            "some items failed because the credential was refused (an expired SAS?): once you have a fresh one, run `ferry jobs resume {job_id} --source-sas TOKEN` or `--destination-sas TOKEN`; finished items are kept"
        ));
    }
    let status = final_status(&report.stats, report.cancelled);
    if let Some(journal) = &plan.journal {
        let scan_complete = report.stats.scanning_finished && !report.cancelled;
        if let Err(e) = journal.set_job_status(status, Some(scan_complete)).await {
            console.warn(&format!("cannot record the job's status: {e}"));
        }
    }
    reporter.summary(job_id, &report.stats, started.elapsed(), status);
    tracing::info!(
        target: crate::logging::JOB_TARGET,
        "{}",
        ferry_report::summary_text(job_id, &report.stats, started.elapsed(), status).trim_start()
    );
    crate::logging::close_job_log();
    if report.cancelled {
        return Err(lifecycle::cancelled(job_id));
    }
    if report.stats.failed > 0 {
        return Err(CliError::failed(format!(
            "{} of {} transfers failed; see the lines above",
            report.stats.failed, report.stats.total
        )));
    }
    if plan.verify {
        verify_copy(source, dest, plan, settings, console).await?;
    }
    Ok(())
}

/// The objects a tree copy covers: listed under `prefix`, admitted by the filters and the
/// source wildcard, with keys relative to `prefix`. Folder stubs are not objects here.
fn covered<'a>(
    source: &'a Side,
    prefix: &'a str,
    depth: ListDepth,
    plan: &'a Plan,
) -> impl futures::Stream<Item = Result<ferry_store::Entry, StoreError>> + Send + 'a {
    let (filter, wildcard) = (&plan.filter, &plan.wildcard);
    source
        .store
        .list(prefix, depth)
        .try_filter(move |e| {
            let rest = e.key.strip_prefix(prefix).unwrap_or(&e.key);
            let admitted = filter.admits(rest, e.size, e.last_modified) && wildcard.admits(rest, e.size, None);
            futures::future::ready(e.kind == EntryKind::Object && !e.is_folder_marker() && admitted)
        })
        .map_ok(move |mut e| {
            e.key = e.key.strip_prefix(prefix).unwrap_or(&e.key).to_owned();
            e
        })
}

/// `copy --verify`: compares what the copy covered, hashing where no MD5 is stored; objects the
/// destination had besides are not differences.
async fn verify_copy(
    source: &Side,
    dest: &Side,
    plan: &Plan,
    settings: &Settings,
    console: &Console,
) -> Result<(), CliError> {
    use super::verify::{Trees, VerifyOptions, compare_trees};
    let options = VerifyOptions { compute_hash: true, ignore_extras: true };
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
            compare_trees(futures::stream::iter([Ok(decision)]), &trees, options, &settings.log_dir, console).await
        }
        Naming::Tree { source_prefix, depth, dest_prefix } => {
            let source_listing = covered(source, source_prefix, *depth, plan);
            let dest_listing = dest
                .store
                .list(dest_prefix, ListDepth::Recursive)
                .try_filter(|e| futures::future::ready(e.kind == EntryKind::Object))
                .map_ok(move |mut e| {
                    e.key = e.key.strip_prefix(dest_prefix.as_str()).unwrap_or(&e.key).to_owned();
                    e
                });
            let decisions = ferry_plan::plan(source_listing, dest_listing, ferry_plan::ComparePolicy::TimeAndSize);
            let trees = Trees { source, source_prefix, dest, dest_prefix };
            compare_trees(decisions, &trees, options, &settings.log_dir, console).await
        }
    }
}
