//! Server-side copies: the destination service reads the source by URL.

use std::sync::atomic::{AtomicU64, Ordering};

use ferry_store::{ErrorKind, PartId, StoreError, WriteOptions};
use futures::{StreamExt, TryStreamExt, stream};

use super::{Context, PER_OBJECT_PARALLELISM, SYNC_COPY_MAX, ServerSide, Transfer, chunks, sizing_error};
use crate::sizing::block_size;

impl Context {
    /// A server-side copy of `t` from `url`. A source that refused the service's read (an
    /// expired or clock-skewed signature) gets a freshly signed URL, once; one the service could
    /// not reach at all is, with [`ServerSide::Auto`], left for the caller to stream (`None`).
    pub(super) async fn server_side_or_stream(
        &self,
        t: &Transfer,
        url: &url::Url,
        moved: &AtomicU64,
    ) -> Option<Result<(), StoreError>> {
        let err = match self.copy_server_side(t, url, moved).await {
            Err(e) if e.kind() == ErrorKind::SourceUnreadable => e,
            done => return Some(done),
        };
        self.stats.unmoved(moved.swap(0, Ordering::Relaxed));
        if matches!(err.status(), Some(401 | 403)) {
            tracing::debug!(source = %t.source_key, error = %err, "the source refused the service's read; signing its URL again");
            let fresh = match self.source.service_readable_url(&t.source_key).await {
                Ok(fresh) => fresh,
                Err(e) => return Some(Err(e)),
            };
            return Some(self.copy_server_side(t, &fresh, moved).await);
        }
        if err.status().is_none() && self.options.policy.server_side == ServerSide::Auto {
            if !self.stream_fallback.swap(true, Ordering::Relaxed) {
                tracing::warn!(source = %t.source_key, error = %err, "the destination service cannot reach the source; copying through Ferry instead");
            }
            return None;
        }
        Some(Err(err))
    }

    /// Blob to Blob: the destination service reads the source by URL, block by block.
    pub(super) async fn copy_server_side(
        &self,
        t: &Transfer,
        url: &url::Url,
        moved: &AtomicU64,
    ) -> Result<(), StoreError> {
        let block = block_size(t.size, self.options.policy.block_size).map_err(|e| sizing_error(&t.source_key, e))?;
        // An object of one block, with no content headers to set: one synchronous Copy Blob From
        // URL instead of Put Block From URL + Put Block List (half the requests; it keeps the
        // source's headers and MD5 by itself).
        let user = &self.options.policy.write;
        // Copy Blob From URL always takes the source's headers: not when they are to be left.
        let one_request =
            self.options.policy.preserve_properties && user.headers == ferry_store::ContentHeaders::default();
        if t.size <= block.min(SYNC_COPY_MAX) && one_request {
            let mut write = self.server_side_options(t).await?;
            // The service copies an Azure source's metadata by itself, but not another cloud's:
            // give it what was read from the source (the same, for an Azure source).
            if let Some(props) = t.properties.as_ref().filter(|p| !p.metadata.is_empty() && write.metadata.is_empty()) {
                write.metadata = props.metadata.clone();
            }
            let _request = self.requests.acquire().await.expect("never closed");
            match self.dest.copy_object_from_url(&t.dest_key, url, &write).await {
                Ok(_) => {
                    if self.options.policy.detect_source_changed {
                        self.check_source_unchanged(t).await?;
                    }
                    self.count_moved(moved, t.size);
                    return Ok(());
                }
                // Not every service has it: fall back to blocks.
                Err(e) if e.kind() == ErrorKind::NotSupported || e.status() == Some(501) => {
                    tracing::debug!(key = %t.dest_key, error = %e, "no synchronous copy; copying by blocks");
                }
                Err(e) => return Err(e),
            }
        }
        let ids: Vec<PartId> = (0..t.size.div_ceil(block)).map(|i| self.part_id(i)).collect();
        // Owned ids: a borrowed one in the closure's argument keeps this future from being
        // provably `Send` (a higher-ranked lifetime), and each item is a spawned task.
        stream::iter(chunks(t.size, block).zip(ids.iter().cloned()))
            .map(|(range, id)| async move {
                self.check_cancelled(&t.source_key)?;
                let len = range.end - range.start;
                let _request = self.requests.acquire().await.expect("never closed");
                self.dest.put_part_from_url(&t.dest_key, &id, url, Some(range)).await?;
                self.count_moved(moved, len);
                Ok::<(), StoreError>(())
            })
            .buffer_unordered(PER_OBJECT_PARALLELISM)
            .try_collect::<()>()
            .await?;
        // The copy keeps the source's properties; options the user gave win.
        let mut write = self.server_side_options(t).await?;
        if let Some(props) = t.properties.as_ref().filter(|_| self.options.policy.preserve_properties) {
            let user = &self.options.policy.write;
            let mut headers = props.headers.clone();
            headers.content_md5 = t.content_md5;
            if user.headers.content_type.is_some() {
                headers.content_type = user.headers.content_type.clone();
            }
            write.headers = headers;
            if user.metadata.is_empty() {
                write.metadata = props.metadata.clone();
            }
        }
        if self.options.policy.detect_source_changed {
            // Before the commit: a changed source leaves the destination as it was.
            self.check_source_unchanged(t).await?;
        }
        self.dest.commit_parts(&t.dest_key, &ids, &write).await?;
        Ok(())
    }

    /// Write options for a server-side copy of `t`: the job's, with the source's block-blob
    /// access tier when the job keeps tiers and names none, and its index tags when the job keeps
    /// tags and names none.
    pub(super) async fn server_side_options(&self, t: &Transfer) -> Result<WriteOptions, StoreError> {
        let mut write = self.write_options();
        if self.options.policy.preserve_blob_tags && write.tags.is_empty() {
            write.tags = self.source.tags(&t.source_key).await?;
        }
        if self.options.policy.preserve_access_tier && write.access_tier.is_none() {
            let tier = t.properties.as_ref().and_then(|p| p.access_tier.clone());
            write.access_tier = tier.filter(|t| ["Hot", "Cool", "Cold", "Archive"].contains(&t.as_str()));
        }
        Ok(write)
    }
}
