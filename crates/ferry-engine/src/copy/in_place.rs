//! Writes to stores whose files are written in place (Azure Files): create the file at its
//! size, write its ranges — sent by Ferry, or fetched by the service from the source's URL —
//! then set its headers, MD5 and SMB properties (after the ranges, which move its times).

use std::sync::atomic::{AtomicU64, Ordering};

use ferry_md5::Md5;
use ferry_store::{ErrorKind, SmbProperties, StoreError, md5_of};
use futures::{StreamExt, TryStreamExt, stream};
use tokio::task::JoinSet;

use super::{Context, PER_OBJECT_PARALLELISM, ServerSide, Transfer, chunks};

impl Context {
    /// Writes `t` in place: server-side when the source has a URL the destination can read
    /// (falling back to sending the bytes when it cannot reach it and the policy allows),
    /// otherwise by sending its ranges (all-zero ones skipped: a new file reads as zeros).
    pub(super) async fn write_in_place(&self, t: &Transfer, moved: &AtomicU64) -> Result<(), StoreError> {
        let mut write = self.upload_options(t);
        write.smb = self.smb_for(t);
        self.dest.create_ranged(&t.dest_key, t.size, &write).await?;
        let md5 = match self.in_place_source_url(t).await? {
            Some(url) => match self.ranges_from_url(t, &url, moved).await {
                Ok(()) => t.content_md5,
                Err(e) if self.may_stream_instead(&e) => {
                    tracing::debug!(source = %t.source_key, error = %e, "the destination cannot reach the source; sending the bytes");
                    self.stats.unmoved(moved.swap(0, Ordering::Relaxed));
                    Some(self.ranges_sent(t, moved).await?)
                }
                Err(e) => return Err(e),
            },
            None => Some(self.ranges_sent(t, moved).await?),
        };
        self.check_source_unchanged(t).await?;
        write.headers.content_md5 = md5.or(write.headers.content_md5);
        self.dest.set_content_headers(&t.dest_key, &write).await?;
        self.observe_md5(t, write.headers.content_md5);
        Ok(())
    }

    /// The SMB properties the destination file gets: the source's (a share's), or a local
    /// file's modification time as its last-write time; none when they are not preserved.
    fn smb_for(&self, t: &Transfer) -> Option<SmbProperties> {
        let policy = &self.options.policy;
        if !policy.preserve_smb_info && !policy.preserve_permissions {
            return None;
        }
        let source = t.properties.as_ref().and_then(|p| p.smb.clone());
        let mut smb = match source {
            Some(smb) if policy.preserve_smb_info => smb,
            Some(smb) => SmbProperties { permission: smb.permission, ..SmbProperties::default() },
            None if policy.preserve_smb_info => {
                SmbProperties { last_write_time: t.last_modified, ..SmbProperties::default() }
            }
            None => SmbProperties::default(),
        };
        // A key names a permission in the source's share only; the SDDL is what travels.
        smb.permission_key = None;
        if !policy.preserve_permissions {
            smb.permission = None;
        }
        Some(smb)
    }

    /// The source's URL for the destination to read, when the copy goes server-side.
    async fn in_place_source_url(&self, t: &Transfer) -> Result<Option<url::Url>, StoreError> {
        if t.size == 0
            || self.options.policy.server_side == ServerSide::Never
            || !self.dest.capabilities().server_side_copy
        {
            return Ok(None);
        }
        match self.source.service_readable_url(&t.source_key).await {
            Ok(url) => Ok(Some(url)),
            Err(e) if e.kind() == ErrorKind::NotSupported => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether a failed server-side write may be redone by sending the bytes: the service could
    /// not reach the source at all, and the policy is `Auto`.
    fn may_stream_instead(&self, err: &StoreError) -> bool {
        err.kind() == ErrorKind::SourceUnreadable
            && err.status().is_none()
            && self.options.policy.server_side == ServerSide::Auto
    }

    /// Has the destination fetch each range of the source from `url`.
    async fn ranges_from_url(&self, t: &Transfer, url: &url::Url, moved: &AtomicU64) -> Result<(), StoreError> {
        let step = self.dest.capabilities().max_part_size;
        stream::iter(chunks(t.size, step))
            .map(|range| async move {
                self.check_cancelled(&t.source_key)?;
                let len = range.end - range.start;
                let _request = self.requests.acquire().await.expect("never closed");
                self.dest.write_range_from_url(&t.dest_key, url, range).await?;
                self.count_moved(moved, len);
                Ok::<(), StoreError>(())
            })
            .buffer_unordered(PER_OBJECT_PARALLELISM)
            .try_collect::<()>()
            .await
    }

    /// Reads the source in order (hashing it) and sends its ranges, several at a time; returns
    /// the whole file's MD5.
    async fn ranges_sent(&self, t: &Transfer, moved: &AtomicU64) -> Result<[u8; 16], StoreError> {
        let step = self.dest.capabilities().max_part_size;
        let mut whole = Md5::new();
        let mut writes: JoinSet<Result<u64, StoreError>> = JoinSet::new();
        for range in chunks(t.size, step) {
            self.check_cancelled(&t.source_key)?;
            let len = range.end - range.start;
            let budget = self.budget.reserve(len).await;
            let data = self.read_range(&t.source_key, range.clone()).await?;
            whole.update(&data);
            if data.iter().all(|b| *b == 0) {
                self.count_moved(moved, len);
                continue;
            }
            let (dest, requests, key) = (self.dest.clone(), self.requests.clone(), t.dest_key.clone());
            writes.spawn(async move {
                let _budget = budget;
                let _request = requests.acquire_owned().await.expect("never closed");
                let md5 = md5_of(&data);
                dest.write_range(&key, range.start, data, Some(md5)).await.map(|()| len)
            });
            while writes.len() >= PER_OBJECT_PARALLELISM {
                self.account_block(writes.join_next().await, moved)?;
            }
        }
        while let Some(done) = writes.join_next().await {
            self.account_block(Some(done), moved)?;
        }
        Ok(whole.finalize())
    }
}
