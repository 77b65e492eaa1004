//! A [`Store`] decorator that misbehaves on purpose: fails the n-th call of an operation, delays
//! every call (and every listed entry), or cuts reads short. Wrapped around the in-memory store,
//! it lets guards, cancellation and resume be tested in milliseconds; the fault proxy
//! (`fault_proxy`) does the same at the HTTP level in front of Azurite.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use ferry_store::{
    ByteStream, Capabilities, Entry, EntryStream, ErrorKind, ListDepth, PartId, PartList, Payload, PositionalWrite,
    Store, StoreError, WriteOptions, WriteReceipt,
};
use futures::StreamExt;

/// The operations a fault can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `stat`.
    Stat,
    /// `read`.
    Read,
    /// `write`, `commit_parts` and `finish` of a positional write all publish: `write` here.
    Write,
    /// `put_part`.
    PutPart,
    /// `delete`.
    Delete,
}

/// What is wrong with the wrapped store.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Fail the n-th call (1-based) of an operation, with a non-retryable error.
    pub fail_nth: Vec<(Op, u64)>,
    /// Wait this long before every call, and before every listed entry.
    pub delay: Option<Duration>,
    /// Reads stop after this many bytes (a body cut short).
    pub cut_reads_at: Option<u64>,
    /// Hide positional writes, so a copy onto the store takes the object-store (upload) path.
    pub no_positional_writes: bool,
}

/// `inner` with [`Faults`]; counts the calls of each operation.
#[derive(Debug)]
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    faults: Faults,
    calls: [AtomicU64; 5],
}

impl FaultyStore {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn Store>, faults: Faults) -> Self {
        Self { inner, faults, calls: Default::default() }
    }

    /// How many times `op` was called.
    pub fn calls(&self, op: Op) -> u64 {
        self.calls[op as usize].load(Ordering::Relaxed)
    }

    /// `listing` with the configured delay before each entry.
    fn delayed<'a>(&self, listing: EntryStream<'a>) -> EntryStream<'a> {
        let delay = self.faults.delay;
        listing
            .then(move |entry| async move {
                if let Some(delay) = delay {
                    tokio::time::sleep(delay).await;
                }
                entry
            })
            .boxed()
    }

    async fn enter(&self, op: Op, key: &str) -> Result<(), StoreError> {
        if let Some(delay) = self.faults.delay {
            tokio::time::sleep(delay).await;
        }
        let n = self.calls[op as usize].fetch_add(1, Ordering::Relaxed) + 1;
        if self.faults.fail_nth.contains(&(op, n)) {
            return Err(StoreError::new(ErrorKind::Other, key, format!("injected failure of call {n} ({op:?})")));
        }
        Ok(())
    }
}

#[async_trait]
impl Store for FaultyStore {
    fn describe(&self) -> String {
        format!("faulty {}", self.inner.describe())
    }

    fn capabilities(&self) -> Capabilities {
        let inner = self.inner.capabilities();
        // `read_into` is not passed through (faults are injected in `read`).
        Capabilities {
            positional_writes: inner.positional_writes && !self.faults.no_positional_writes,
            reads_into: false,
            ..inner
        }
    }

    async fn open_parts(
        &self,
        key: &str,
        tag: &str,
        options: &WriteOptions,
        earlier: Option<&str>,
    ) -> Result<Option<String>, StoreError> {
        self.inner.open_parts(key, tag, options, earlier).await
    }

    fn list<'a>(&'a self, prefix: &'a str, depth: ListDepth) -> EntryStream<'a> {
        self.delayed(self.inner.list(prefix, depth))
    }

    fn list_from<'a>(&'a self, prefix: &'a str, depth: ListDepth, start: &str) -> EntryStream<'a> {
        self.delayed(self.inner.list_from(prefix, depth, start))
    }

    async fn stat(&self, key: &str) -> Result<Entry, StoreError> {
        self.enter(Op::Stat, key).await?;
        self.inner.stat(key).await
    }

    async fn read(&self, key: &str, range: Option<Range<u64>>) -> Result<ByteStream, StoreError> {
        self.enter(Op::Read, key).await?;
        let stream = self.inner.read(key, range).await?;
        let Some(limit) = self.faults.cut_reads_at else { return Ok(stream) };
        let mut left = limit;
        Ok(stream
            .map(move |chunk| {
                chunk.map(|c| {
                    let keep = usize::try_from(left).unwrap_or(usize::MAX).min(c.len());
                    left -= keep as u64;
                    c.slice(..keep)
                })
            })
            .boxed())
    }

    async fn write(&self, key: &str, payload: Payload, options: &WriteOptions) -> Result<WriteReceipt, StoreError> {
        self.enter(Op::Write, key).await?;
        self.inner.write(key, payload, options).await
    }

    async fn put_part(&self, key: &str, part: &PartId, data: Bytes, md5: Option<[u8; 16]>) -> Result<(), StoreError> {
        self.enter(Op::PutPart, key).await?;
        self.inner.put_part(key, part, data, md5).await
    }

    async fn list_parts(&self, key: &str) -> Result<PartList, StoreError> {
        self.inner.list_parts(key).await
    }

    async fn commit_parts(
        &self,
        key: &str,
        parts: &[PartId],
        options: &WriteOptions,
    ) -> Result<WriteReceipt, StoreError> {
        self.enter(Op::Write, key).await?;
        self.inner.commit_parts(key, parts, options).await
    }

    async fn begin_positional_write(&self, key: &str, size: u64) -> Result<Box<dyn PositionalWrite>, StoreError> {
        self.enter(Op::Write, key).await?;
        self.inner.begin_positional_write(key, size).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.enter(Op::Delete, key).await?;
        self.inner.delete(key).await
    }

    async fn tags(&self, key: &str) -> Result<std::collections::BTreeMap<String, String>, StoreError> {
        self.inner.tags(key).await
    }

    async fn create_ranged(&self, key: &str, size: u64, options: &WriteOptions) -> Result<WriteReceipt, StoreError> {
        self.inner.create_ranged(key, size, options).await
    }

    async fn write_range(&self, key: &str, offset: u64, data: Bytes, md5: Option<[u8; 16]>) -> Result<(), StoreError> {
        self.inner.write_range(key, offset, data, md5).await
    }

    async fn write_range_from_url(
        &self,
        key: &str,
        source_url: &url::Url,
        range: std::ops::Range<u64>,
    ) -> Result<(), StoreError> {
        self.inner.write_range_from_url(key, source_url, range).await
    }

    async fn create_appendable(&self, key: &str, options: &WriteOptions) -> Result<WriteReceipt, StoreError> {
        self.inner.create_appendable(key, options).await
    }

    async fn append(&self, key: &str, at: u64, data: Bytes, md5: Option<[u8; 16]>) -> Result<(), StoreError> {
        self.inner.append(key, at, data, md5).await
    }

    async fn set_content_headers(&self, key: &str, options: &WriteOptions) -> Result<(), StoreError> {
        self.inner.set_content_headers(key, options).await
    }

    async fn write_symlink(&self, key: &str, target: &str) -> Result<(), StoreError> {
        self.inner.write_symlink(key, target).await
    }

    fn skipped_entries(&self) -> ferry_store::SkippedEntries {
        self.inner.skipped_entries()
    }

    async fn create_root(&self) -> Result<(), StoreError> {
        self.inner.create_root().await
    }
}
