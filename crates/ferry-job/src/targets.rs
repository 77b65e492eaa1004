//! What a URL given to `remove` or `set-properties` names: one blob, or the blobs under a prefix
//! (all of them with `--recursive`, else those directly in it), listed through the filters.

use std::sync::atomic::AtomicU64;

use ferry_azure::AzureStore;
use ferry_core::BlobUrl;
use ferry_plan::Filter;
use ferry_store::{Entry, ErrorKind, ListDepth, Store, StoreError};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};

use crate::JobError;
use crate::listing::{Selection, listing};
use crate::open::Side;

/// One blob, or the blobs under a prefix.
pub(crate) enum Targets {
    One(Entry),
    Under { prefix: String, depth: ListDepth },
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
    ) -> Result<Self, JobError> {
        if url.point_in_time().is_some() {
            return Err(JobError::usage(format!(
                "{verb} a snapshot or version by its URL is not supported yet: `{url}`"
            ))
            .with_hint("for snapshots, remove the blob with --delete-snapshots only (or include)"));
        }
        let path = url.path();
        if !(path.is_empty() || path.ends_with('/') || url.contents_only()) {
            match store.stat(path).await {
                Ok(entry) => return Ok(Self::One(entry)),
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(side.explain(e.into())),
            }
        }
        if !recursive && !url.contents_only() {
            return Err(JobError::usage(format!("`{url}` is not a blob; {verb} what is under it needs --recursive"))
                .with_hint("add --recursive, or end the URL with /* for the blobs directly in it"));
        }
        let prefix = if path.is_empty() || path.ends_with('/') { path.to_owned() } else { format!("{path}/") };
        let depth = if recursive { ListDepth::Recursive } else { ListDepth::OneLevel };
        Ok(Self::Under { prefix, depth })
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
