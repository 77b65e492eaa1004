//! Uploads: any source to an object store, as block, page or append blobs.

use std::sync::atomic::AtomicU64;

use ferry_md5::Md5;
use ferry_store::{ErrorKind, PartId, Payload, StoreError, WriteOptions, md5_of};
use tokio::task::JoinSet;

use super::{Context, ObjectType, Transfer, blocks_in_flight, chunks, sizing_error};
use crate::sizing::{block_size, part_size};

impl Context {
    /// Any source to an object store: one Put Blob for small objects, staged blocks otherwise.
    /// For an item an earlier run left unfinished, blocks the service already holds (by Get Block
    /// List: same id, same size) are not sent again.
    pub(super) async fn upload(&self, t: &Transfer, moved: &AtomicU64, unfinished: bool) -> Result<(), StoreError> {
        let caps = self.dest.capabilities();
        let block = part_size(t.size, self.options.policy.block_size, u64::from(caps.max_parts), caps.min_part_size)
            .map_err(|e| sizing_error(&t.source_key, e))?;
        let single_limit = self.options.policy.put_blob_size.unwrap_or(block).min(caps.max_single_write);
        let mut write = self.upload_options(t);

        if t.size <= single_limit {
            let _budget = self.budget.reserve(t.size).await;
            let data = self.read_whole(t).await?;
            // The service checks the body against this MD5 and stores it: the source's own when it
            // has one (an S3 ETag, a blob's Content-MD5), so the check runs end to end, from the
            // source's record to the destination; otherwise computed here.
            write.headers.content_md5 = Some(t.content_md5.unwrap_or_else(|| md5_of(&data)));
            let _request = self.requests.acquire().await.expect("never closed");
            self.dest.write(&t.dest_key, Payload::Bytes(data), &write).await?;
            self.count_moved(moved, t.size);
            self.observe_md5(t, write.headers.content_md5);
            return Ok(());
        }

        let tag = self.version_tag(t);
        // A store with upload sessions (S3) continues the one an earlier run recorded, if any.
        let observer = self.options.observer.as_deref();
        let earlier = observer.filter(|_| unfinished).and_then(|o| o.upload_session(t, &tag));
        let session = self.dest.open_parts(&t.dest_key, &tag, &write, earlier.as_deref()).await?;
        if let (Some(o), Some(session)) = (observer, &session)
            && earlier.as_ref() != Some(session)
        {
            o.upload_started(t, &tag, session);
        }
        let staged: std::collections::HashMap<PartId, u64> = if unfinished {
            match self.dest.list_parts(&t.dest_key).await {
                Ok(list) => list.uncommitted.into_iter().map(|p| (p.id, p.size)).collect(),
                Err(e) => {
                    tracing::debug!(key = %t.dest_key, error = %e, "no staged blocks to reuse");
                    std::collections::HashMap::new()
                }
            }
        } else {
            std::collections::HashMap::new()
        };
        let mut ids = Vec::new();
        let mut whole = self.options.policy.put_md5.then(Md5::new);
        let mut uploads: JoinSet<Result<u64, StoreError>> = JoinSet::new();
        let in_flight = blocks_in_flight(block);
        for (index, range) in chunks(t.size, block).enumerate() {
            let id = PartId::numbered(&tag, u32::try_from(index).unwrap_or(u32::MAX));
            ids.push(id.clone());
            self.check_cancelled(&t.source_key)?;
            let len = range.end - range.start;
            if staged.get(&id) == Some(&len) {
                // Staged by the interrupted run; read it again only if the whole MD5 needs it.
                if let Some(hasher) = whole.as_mut() {
                    hasher.update(&self.read_range(&t.source_key, range).await?);
                }
                self.stats.reused(len);
                continue;
            }
            let budget = self.budget.reserve(len).await;
            // Blocks are read in order so the whole-object MD5 can be computed as they pass.
            let data = self.read_range(&t.source_key, range).await?;
            if let Some(hasher) = whole.as_mut() {
                hasher.update(&data);
            }
            let (dest, requests, key) = (self.dest.clone(), self.requests.clone(), t.dest_key.clone());
            uploads.spawn(async move {
                let _budget = budget;
                let _request = requests.acquire_owned().await.expect("never closed");
                let md5 = md5_of(&data);
                dest.put_part(&key, &id, data, Some(md5)).await.map(|()| len)
            });
            while uploads.len() >= in_flight {
                self.account_block(uploads.join_next().await, moved)?;
            }
        }
        while let Some(done) = uploads.join_next().await {
            self.account_block(Some(done), moved)?;
        }
        self.check_source_unchanged(t).await?;
        write.headers.content_md5 = whole.map(|h| h.finalize());
        self.dest.commit_parts(&t.dest_key, &ids, &write).await?;
        self.observe_md5(t, write.headers.content_md5);
        Ok(())
    }

    pub(super) fn account_block(
        &self,
        joined: Option<Result<Result<u64, StoreError>, tokio::task::JoinError>>,
        moved: &AtomicU64,
    ) -> Result<(), StoreError> {
        match joined {
            None => Ok(()),
            Some(Ok(Ok(len))) => {
                self.count_moved(moved, len);
                Ok(())
            }
            Some(Ok(Err(e))) => Err(e),
            Some(Err(e)) => Err(StoreError::new(ErrorKind::Other, "block upload", format!("a block task failed: {e}"))),
        }
    }

    /// Writes `t` as a page blob (its ranges in place, all-zero ranges left unsent: a page blob
    /// starts all zeros) or an append blob (blocks appended in order), then stores the whole
    /// MD5 when `--put-md5` asks for it.
    pub(super) async fn upload_in_place(
        &self,
        t: &Transfer,
        object_type: ObjectType,
        moved: &AtomicU64,
    ) -> Result<(), StoreError> {
        const PAGE_WRITE: u64 = 4 * 1024 * 1024;
        const APPEND_MOST: u64 = 100 * 1024 * 1024;
        let mut write = self.upload_options(t);
        let step = match object_type {
            ObjectType::Page => {
                write.access_tier = self.options.policy.page_tier.clone();
                self.dest.create_ranged(&t.dest_key, t.size, &write).await?;
                PAGE_WRITE
            }
            _ => {
                write.access_tier = None;
                self.dest.create_appendable(&t.dest_key, &write).await?;
                block_size(t.size, self.options.policy.block_size)
                    .map_err(|e| sizing_error(&t.source_key, e))?
                    .min(APPEND_MOST)
            }
        };
        let mut whole = self.options.policy.put_md5.then(Md5::new);
        for range in chunks(t.size, step) {
            self.check_cancelled(&t.source_key)?;
            let len = range.end - range.start;
            let _budget = self.budget.reserve(len).await;
            let data = self.read_range(&t.source_key, range.clone()).await?;
            if let Some(hasher) = whole.as_mut() {
                hasher.update(&data);
            }
            let _request = self.requests.acquire().await.expect("never closed");
            let md5 = Some(md5_of(&data));
            match object_type {
                ObjectType::Page if data.iter().all(|b| *b == 0) => {}
                ObjectType::Page => self.dest.write_range(&t.dest_key, range.start, data, md5).await?,
                _ => self.dest.append(&t.dest_key, range.start, data, md5).await?,
            }
            self.count_moved(moved, len);
        }
        self.check_source_unchanged(t).await?;
        if let Some(hasher) = whole {
            write.headers.content_md5 = Some(hasher.finalize());
            self.dest.set_content_headers(&t.dest_key, &write).await?;
            self.observe_md5(t, write.headers.content_md5);
        }
        Ok(())
    }

    /// Write options for an upload of `t`: the job's, with a Content-Type guessed from the name
    /// when none was given (as AzCopy does), falling back to `application/octet-stream`.
    pub(super) fn upload_options(&self, t: &Transfer) -> WriteOptions {
        let mut write = self.write_options();
        // A source's own metadata travels with it; metadata the job sets replaces it, except
        // the marks of a preserved link and POSIX properties.
        if let Some(props) = &t.properties {
            let kept = |k: &String| k == ferry_store::SYMLINK_METADATA || ferry_store::posix::is_posix_key(k);
            let job = std::mem::take(&mut write.metadata);
            write.metadata = if job.is_empty() {
                props.metadata.clone()
            } else {
                props.metadata.iter().filter(|(k, _)| kept(k)).map(|(k, v)| (k.clone(), v.clone())).chain(job).collect()
            };
        }
        // A source's content headers travel too (S3 → Blob, a Blob copied by upload), unless the
        // job sets them or leaves the source's properties behind.
        if let Some(props) = t.properties.as_ref().filter(|_| self.options.policy.preserve_properties) {
            let (from, to) = (&props.headers, &mut write.headers);
            for (mine, theirs) in [
                (&mut to.content_type, &from.content_type),
                (&mut to.content_encoding, &from.content_encoding),
                (&mut to.content_language, &from.content_language),
                (&mut to.content_disposition, &from.content_disposition),
                (&mut to.cache_control, &from.cache_control),
            ] {
                if mine.is_none() {
                    mine.clone_from(theirs);
                }
            }
        }
        if write.headers.content_type.is_none() {
            let guessed =
                self.options.policy.guess_mime_type.then(|| mime_guess::from_path(&t.source_key).first_raw()).flatten();
            write.headers.content_type = Some(guessed.unwrap_or("application/octet-stream").to_owned());
        }
        write
    }
}
