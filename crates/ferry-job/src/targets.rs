//! What a URL given to `remove` or `set-properties` names: one blob, or the blobs under a prefix
//! (all of them with `--recursive`, else those directly in it), listed through the filters.

use std::sync::atomic::AtomicU64;

use ferry_azure::{AzureStore, Include};
use ferry_core::BlobUrl;
use ferry_plan::Filter;
use ferry_store::{Entry, ErrorKind, ListDepth, Store, StoreError};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};

use crate::listing::{Selection, listing, listing_of};
use crate::open::Side;
use crate::spec::PermanentDelete;
use crate::{JobContext, JobError};

/// One blob, the blobs under a prefix, or chosen versions of one blob.
pub(crate) enum Targets {
    One(Entry),
    Under {
        prefix: String,
        depth: ListDepth,
    },
    /// Versions that exist, each keyed `NAME?versionid=ID` (see [`point_key`]).
    Versions(Vec<Entry>),
    /// Soft-deleted snapshots and/or versions to purge, of the one blob `only` names or of the
    /// blobs under `prefix`, listed by `store` (which lists them); keyed as [`point_key`] says.
    Purged {
        store: Box<AzureStore>,
        prefix: String,
        depth: ListDepth,
        only: Option<String>,
        purge: PermanentDelete,
    },
}

/// A snapshot or version of a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Point<'a> {
    Snapshot(&'a str),
    Version(&'a str),
}

/// The key a snapshot or version target is known by (in the journal, and shown after the
/// container's URL): `NAME?snapshot=TIME` or `NAME?versionid=ID`.
pub(crate) fn point_key(name: &str, point: Point<'_>) -> String {
    match point {
        Point::Snapshot(time) => format!("{name}?snapshot={time}"),
        Point::Version(id) => format!("{name}?versionid={id}"),
    }
}

/// The blob name and the snapshot or version of a [`point_key`].
pub(crate) fn split_point_key(key: &str) -> Option<(&str, Point<'_>)> {
    if let Some((name, id)) = key.rsplit_once("?versionid=") {
        return Some((name, Point::Version(id)));
    }
    key.rsplit_once("?snapshot=").map(|(name, time)| (name, Point::Snapshot(time)))
}

impl Targets {
    /// What `url` names. A path that is not a blob is a prefix, which needs `recursive` (or a
    /// URL ending in `/*`); `verb` says what is done, for that message.
    pub(crate) async fn of(
        url: &BlobUrl,
        recursive: bool,
        store: &AzureStore,
        side: &Side,
        verb: &str,
        versions: &[String],
        purge: Option<PermanentDelete>,
    ) -> Result<Self, JobError> {
        if !versions.is_empty() {
            return Self::versions(url, store, side, versions).await;
        }
        if let Some(purge) = purge {
            return Self::purged(url, recursive, store, purge, verb);
        }
        if let Some((kind, id)) = url.point_in_time() {
            if verb != "removing" {
                return Err(JobError::usage(format!(
                    "{verb} a snapshot or version by its URL is not supported yet: `{url}`"
                ))
                .with_hint("give the blob's URL, without snapshot= or versionid="));
            }
            // The store reads and deletes the URL's snapshot or version under the blob's name.
            let path = url.path();
            let entry = store.stat(path).await.map_err(|e| side.explain(e.into()))?;
            let point = if kind == "snapshot" { Point::Snapshot(id) } else { Point::Version(id) };
            return Ok(Self::Versions(vec![Entry { key: point_key(path, point), ..entry }]));
        }
        Self::of_path(&url.to_string(), url.path(), url.contents_only(), recursive, store, side, verb).await
    }

    /// What `path` in `store` names (`shown` is its URL, for messages): the one object, or the
    /// objects under it (which needs `recursive`, or `contents_only` for those directly in it).
    pub(crate) async fn of_path(
        shown: &str,
        path: &str,
        contents_only: bool,
        recursive: bool,
        store: &dyn Store,
        side: &Side,
        verb: &str,
    ) -> Result<Self, JobError> {
        if !(path.is_empty() || path.ends_with('/') || contents_only) {
            match store.stat(path).await {
                Ok(entry) => return Ok(Self::One(entry)),
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(side.explain(e.into())),
            }
        }
        if !recursive && !contents_only {
            return Err(JobError::usage(format!(
                "`{shown}` is not a blob or file; {verb} what is under it needs --recursive"
            ))
            .with_hint("add --recursive, or end the URL with /* for what is directly in it"));
        }
        let prefix = if path.is_empty() || path.ends_with('/') { path.to_owned() } else { format!("{path}/") };
        let depth = if recursive { ListDepth::Recursive } else { ListDepth::OneLevel };
        Ok(Self::Under { prefix, depth })
    }

    /// The versions of `url`'s blob that exist among `versions` (one gone already, deleted by an
    /// earlier run of the job, is passed over).
    async fn versions(url: &BlobUrl, store: &AzureStore, side: &Side, versions: &[String]) -> Result<Self, JobError> {
        let path = url.path();
        if path.is_empty() || path.ends_with('/') || url.contents_only() || url.point_in_time().is_some() {
            return Err(JobError::usage(format!(
                "--list-of-versions names versions of one blob, and `{url}` is not a blob's URL"
            ))
            .with_hint("give the blob's URL, without snapshot= or versionid="));
        }
        let mut found = Vec::new();
        for version in versions {
            match store.at_version(path, version).stat(path).await {
                Ok(entry) => found.push(Entry { key: point_key(path, Point::Version(version)), ..entry }),
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    tracing::info!(target: crate::JOB_TARGET, "version {version} of `{path}` is not there");
                }
                Err(e) => return Err(side.explain(e.into())),
            }
        }
        Ok(Self::Versions(found))
    }

    /// What `--permanent-delete` purges: soft-deleted snapshots and/or versions of the one blob
    /// `url` names, or of the blobs under it (with `recursive`, or a URL ending in `/*`).
    fn purged(
        url: &BlobUrl,
        recursive: bool,
        store: &AzureStore,
        purge: PermanentDelete,
        verb: &str,
    ) -> Result<Self, JobError> {
        let include = Include { deleted: true, snapshots: purge.snapshots(), versions: purge.versions() };
        let store = Box::new(store.clone().including(include));
        let path = url.path();
        let names_blob = !(path.is_empty() || path.ends_with('/') || url.contents_only());
        if names_blob && !recursive {
            let only = Some(path.to_owned());
            return Ok(Self::Purged { store, prefix: path.to_owned(), depth: ListDepth::Recursive, only, purge });
        }
        if !recursive && !url.contents_only() {
            return Err(JobError::usage(format!("`{url}` is not a blob; {verb} what is under it needs --recursive"))
                .with_hint("add --recursive, or end the URL with /* for the blobs directly in it"));
        }
        let prefix = if path.is_empty() || path.ends_with('/') { path.to_owned() } else { format!("{path}/") };
        let depth = if recursive { ListDepth::Recursive } else { ListDepth::OneLevel };
        Ok(Self::Purged { store, prefix, depth, only: None, purge })
    }

    /// The blobs, by full key: the one, or those listed under the prefix that pass `filter`
    /// (folder stubs included; `listed` counts them).
    pub(crate) fn stream<'a>(
        &'a self,
        side: &'a Side,
        filter: &'a Filter,
        listed: &'a AtomicU64,
    ) -> BoxStream<'a, Result<Entry, StoreError>> {
        match self {
            Self::One(entry) => futures::stream::iter([Ok(entry.clone())]).boxed(),
            Self::Versions(entries) => futures::stream::iter(entries.iter().cloned().map(Ok)).boxed(),
            Self::Purged { store, prefix, depth, only, purge } => {
                let listed = match only {
                    // The one blob: its own entries, whatever the filters say of its name.
                    Some(name) => {
                        store.list(name, *depth).try_filter(move |e| futures::future::ready(&e.key == name)).boxed()
                    }
                    None => {
                        let selection = Selection { folder_stubs: true, ..Selection::full(filter) };
                        listing_of(&**store, prefix, *depth, selection, listed)
                            .map_ok(move |mut e| {
                                e.key = format!("{prefix}{}", e.key);
                                e
                            })
                            .boxed()
                    }
                };
                listed.try_filter_map(move |e| futures::future::ready(Ok(purgeable(e, *purge)))).boxed()
            }
            Self::Under { prefix, depth } => {
                let selection = Selection { folder_stubs: true, ..Selection::full(filter) };
                listing(side, prefix, *depth, selection, listed)
                    .map_ok(move |mut e| {
                        e.key = format!("{prefix}{}", e.key);
                        e
                    })
                    .boxed()
            }
        }
    }
}

/// `entry` keyed as the snapshot or version to purge, if it is a soft-deleted one that `purge`
/// covers; a live blob, snapshot or version never is.
fn purgeable(entry: Entry, purge: PermanentDelete) -> Option<Entry> {
    let props = entry.props();
    if !props.deleted {
        return None;
    }
    let point = match (&props.snapshot, &props.version_id) {
        (Some(time), _) if purge.snapshots() => point_key(&entry.key, Point::Snapshot(time)),
        (None, Some(id)) if purge.versions() => point_key(&entry.key, Point::Version(id)),
        _ => return None,
    };
    Some(Entry { key: point, ..entry })
}

/// What a per-blob job (remove, set-properties) does to each blob it names, and how it says so.
pub(crate) trait PerBlob: Sync {
    /// The command's verb for messages: `removing`, `changing`.
    const VERB: &'static str;
    /// What is done, for "nothing found to …" and "… failed": `remove`, `change`.
    const ACTION: &'static str;

    /// Does it to one blob (journaling it as it goes); `Ok` when done or nothing was left to do.
    fn apply<'a>(&'a self, entry: &'a Entry) -> futures::future::BoxFuture<'a, Result<(), StoreError>>;

    /// A dry run's line for `target`.
    fn planned(&self, target: &str, ctx: &JobContext);

    /// Reports that `target` was done.
    fn done(&self, target: &str, ctx: &JobContext);

    /// Reports that `target` failed.
    fn failed(&self, target: &str, error: &StoreError, ctx: &JobContext);
}

/// How many blobs a per-blob job works on at once.
const IN_FLIGHT: usize = 32;

/// What a per-blob job is asked to cover.
pub(crate) struct Scope<'a> {
    pub(crate) target: &'a crate::Endpoint,
    pub(crate) recursive: bool,
    pub(crate) filter: &'a ferry_plan::FilterSpec,
    pub(crate) dry_run: bool,
    /// Versions of the one blob named, instead of the blob itself.
    pub(crate) versions: &'a [String],
    /// Soft-deleted snapshots and/or versions of the blobs named, instead of the blobs.
    pub(crate) purge: Option<PermanentDelete>,
    /// How an Azure Files target is treated.
    pub(crate) files: crate::FilesFlags,
}

/// The store a per-blob job works on: a Blob container, or an Azure Files share.
pub(crate) enum Opened {
    Blob(AzureStore),
    Files(ferry_files::FilesStore),
}

/// Runs a per-blob job (new, or resumed from its journal): lists what `scope` names, then has
/// `make(store, journal)`'s action do each blob, 32 at a time, until done or cancelled, with the
/// lifecycle every job has (journal, log, summary, cancelled ending with its resume hint).
pub(crate) async fn run_per_blob<P: PerBlob>(
    run: crate::lifecycle::Run<'_>,
    scope: Scope<'_>,
    make: impl FnOnce(Opened, Option<ferry_journal::Journal>) -> Result<P, JobError>,
) -> Result<(), JobError> {
    use crate::lifecycle::{Lifecycle, cancelled, journal_for};
    let [location] = run.locations([(scope.target, crate::Role::Source)])?;
    let crate::lifecycle::Run { id, spec, resume, ctx } = run;
    let (side, store, found) = match &location {
        ferry_core::Location::Blob(url) => {
            let (side, store) = crate::open::blob_side(url, crate::Role::Source, ctx)?;
            let found = Targets::of(url, scope.recursive, &store, &side, P::VERB, scope.versions, scope.purge).await?;
            (side, Opened::Blob(store), found)
        }
        ferry_core::Location::Files(url) if scope.versions.is_empty() && scope.purge.is_none() => {
            let options = crate::open::SideOptions { files: scope.files, ..crate::open::SideOptions::default() };
            let (side, store) = crate::open::files_side(url, crate::Role::Source, ctx, options)?;
            let (path, contents) = (url.path(), url.contents_only());
            let found =
                Targets::of_path(&url.to_string(), path, contents, scope.recursive, &store, &side, P::VERB).await?;
            (side, Opened::Files(store), found)
        }
        _ => return Err(JobError::usage(format!("{} works on blobs and Azure Files; give such a URL", P::VERB))),
    };
    let filter = crate::listing::compile(scope.filter)?;
    let listed = AtomicU64::new(0);
    let mut targets = found.stream(&side, &filter, &listed);
    let nothing_found = || {
        JobError::failed(format!("nothing found to {} at {location}", P::ACTION))
            .with_hint("check the path and filters; names are case-sensitive")
    };
    if scope.dry_run {
        let action = make(store, None)?;
        let mut count = 0u64;
        while let Some(entry) = targets.try_next().await.map_err(|e| side.explain(e.into()))? {
            action.planned(&format!("{}{}", side.shown_base, entry.key), ctx);
            count += 1;
        }
        return if count == 0 { Err(nothing_found()) } else { Ok(()) };
    }
    let journal = journal_for(id, spec, resume, (&side, &side), ctx)?;
    let job = Lifecycle::begin(id, spec, Some(journal), (&side, &side), ctx)?;
    let action = match make(store, job.journal.clone()) {
        Ok(action) => action,
        Err(e) => {
            job.fail(true).await;
            return Err(e);
        }
    };
    let stats = match apply_all(targets, &action, &side, ctx).await {
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
        return Err(nothing_found());
    }
    job.finish(&stats, None, crate::events::final_status(&stats, cancelled_now), !cancelled_now).await;
    if cancelled_now {
        return Err(cancelled(id));
    }
    if stats.failed > 0 {
        return Err(JobError::failed(format!("{} of {} blobs failed to {}", stats.failed, stats.total, P::ACTION)));
    }
    Ok(())
}

/// Does `action` to every target until done or cancelled, counting blobs as transfers. A
/// listing error ends it.
async fn apply_all<P: PerBlob>(
    targets: BoxStream<'_, Result<Entry, StoreError>>,
    action: &P,
    side: &Side,
    ctx: &JobContext,
) -> Result<ferry_engine::StatsSnapshot, StoreError> {
    let mut stats = ferry_engine::StatsSnapshot { scanning_finished: true, ..Default::default() };
    let mut outcomes = targets
        // Once cancelled, nothing new starts and the listing is dropped.
        .take_until(ferry_engine::cancelled(ctx.cancel.clone()))
        .map_ok(|entry| async move {
            let outcome = action.apply(&entry).await;
            Ok::<_, StoreError>((entry, outcome))
        })
        .try_buffer_unordered(IN_FLIGHT)
        .boxed();
    while let Some((entry, outcome)) = outcomes.try_next().await? {
        stats.total += 1;
        stats.bytes_enumerated += entry.size;
        let target = format!("{}{}", side.shown_base, entry.key);
        match outcome {
            Ok(()) => {
                stats.done += 1;
                action.done(&target, ctx);
            }
            Err(error) => {
                stats.failed += 1;
                action.failed(&target, &error, ctx);
            }
        }
    }
    Ok(stats)
}
