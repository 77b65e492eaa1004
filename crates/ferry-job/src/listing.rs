//! The one listing every job uses: a side's objects under a prefix, selected by the filters,
//! with keys made relative to the prefix, counted as they pass.

use std::sync::atomic::{AtomicU64, Ordering};

use ferry_plan::{ComparePolicy, Decision, Filter, plan};
use ferry_store::{Entry, EntryKind, ListDepth, StoreError};
use futures::{Stream, StreamExt, TryStreamExt};

use crate::open::Side;

/// Compiles the filter flags (they were checked when the spec was made; a spec edited since
/// is refused here).
pub(crate) fn compile(spec: &ferry_plan::FilterSpec) -> Result<Filter, crate::JobError> {
    Filter::new(spec).map_err(|e| crate::JobError::usage(e.to_string()))
}

/// Refuses `--include-directory-stub` unless both sides are Blob: a stub kept as an object on
/// a file system would be a file where the folder is, and a sync would take a destination's
/// stubs for extras to delete.
pub(crate) fn check_stubs(filter: &ferry_plan::FilterSpec, source: &Side, dest: &Side) -> Result<(), crate::JobError> {
    use ferry_core::LocationKind;
    if filter.include_directory_stubs && (source.kind != LocationKind::Blob || dest.kind != LocationKind::Blob) {
        return Err(crate::JobError::usage(
            "--include-directory-stub keeps folder stubs (hdi_isfolder blobs) as blobs: it needs Blob on both sides",
        )
        .with_hint("leave the flag out; the folders themselves are copied as folders"));
    }
    Ok(())
}

/// Which listed objects a job covers.
#[derive(Clone, Copy)]
pub(crate) struct Selection<'a> {
    /// The filter flags.
    pub(crate) filter: &'a Filter,
    /// The wildcard of a local source path (`DIR/*.jpg`), matched against relative keys.
    pub(crate) wildcard: Option<&'a Filter>,
    /// Judge times and sizes here (copy, remove). A sync or verify lists both sides by name only
    /// and judges times and sizes on the source alone ([`scoped_plan`]).
    pub(crate) by_properties: bool,
    /// Keep folder stubs (`hdi_isfolder`): a remove deletes them with the rest; copies and syncs
    /// neither copy nor delete them.
    pub(crate) folder_stubs: bool,
}

impl<'a> Selection<'a> {
    /// Objects admitted by `filter` on name, time and size.
    pub(crate) fn full(filter: &'a Filter) -> Self {
        Self { filter, wildcard: None, by_properties: true, folder_stubs: false }
    }

    /// Objects admitted by `filter` on name only.
    pub(crate) fn by_name(filter: &'a Filter) -> Self {
        Self { filter, wildcard: None, by_properties: false, folder_stubs: false }
    }

    fn admits(&self, relative: &str, entry: &Entry) -> bool {
        let blob_type = entry.properties.as_ref().and_then(|p| p.blob_type.as_deref());
        entry.kind == EntryKind::Object
            && (self.folder_stubs || self.filter.includes_directory_stubs() || !entry.is_folder_marker())
            && self.filter.admits_blob_type(blob_type)
            && self.filter.admits_name(relative)
            && (!self.by_properties || self.filter.admits_properties(entry.size, entry.last_modified))
            && self.wildcard.is_none_or(|w| w.admits(relative, entry.size, None))
    }
}

/// `side`'s objects under `prefix` that `selection` admits, with keys relative to `prefix`;
/// each one that passes is counted in `scanned`.
pub(crate) fn listing<'a>(
    side: &'a Side,
    prefix: &'a str,
    depth: ListDepth,
    selection: Selection<'a>,
    scanned: &'a AtomicU64,
) -> impl Stream<Item = Result<Entry, StoreError>> + Send + 'a {
    listing_of(&*side.store, prefix, depth, selection, scanned)
}

/// [`listing`] of a store that is not a side's own (one listing more than a side's does).
pub(crate) fn listing_of<'a>(
    store: &'a dyn ferry_store::Store,
    prefix: &'a str,
    depth: ListDepth,
    selection: Selection<'a>,
    scanned: &'a AtomicU64,
) -> impl Stream<Item = Result<Entry, StoreError>> + Send + 'a {
    let range = selection.filter.range();
    let listed = match range {
        // A range plan's shard lists from its first name and stops at its end.
        Some(range) if !range.from.is_empty() => store.list_from(prefix, depth, &format!("{prefix}{}", range.from)),
        _ => store.list(prefix, depth),
    };
    listed
        .try_take_while(move |e| {
            let rest = e.key.strip_prefix(prefix).unwrap_or(&e.key);
            futures::future::ready(Ok(range.is_none_or(|r| !r.is_past(rest))))
        })
        .try_filter(move |e| {
            let rest = e.key.strip_prefix(prefix).unwrap_or(&e.key);
            futures::future::ready(selection.admits(rest, e))
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
pub(crate) fn scoped_plan<'a>(
    source: impl Stream<Item = Result<Entry, StoreError>> + Send + 'a,
    destination: impl Stream<Item = Result<Entry, StoreError>> + Send + 'a,
    policy: ComparePolicy,
    filter: &'a Filter,
) -> impl Stream<Item = Result<Decision, StoreError>> + Send + 'a {
    plan(source, destination, policy).try_filter(move |d| {
        let in_scope = d.source.as_ref().is_none_or(|s| filter.admits_properties(s.size, s.last_modified));
        futures::future::ready(in_scope)
    })
}

/// A listing of `side` under `prefix` for comparing (a sync's or verify's): by name only.
pub(crate) fn compared<'a>(
    side: &'a Side,
    prefix: &'a str,
    depth: ListDepth,
    filter: &'a Filter,
    scanned: &'a AtomicU64,
) -> futures::stream::BoxStream<'a, Result<Entry, StoreError>> {
    listing(side, prefix, depth, Selection::by_name(filter), scanned).boxed()
}
