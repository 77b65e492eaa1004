//! Executing copies: one [`Transfer`] at a time per task, many tasks at once.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use bytes::{Bytes, BytesMut};
use ferry_store::{
    Entry, ErrorKind, FinishOptions, ObjectProperties, PartId, Payload, PositionalWrite, Store, StoreError,
    WriteOptions, md5_of,
};
use futures::{Stream, StreamExt, TryStreamExt, stream};
use md5::{Digest, Md5};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use crate::sizing::block_size;
use crate::stats::{Stats, StatsSnapshot};

/// Requests one object may have in flight at once (within the global request limit), so one
/// huge file cannot starve the others.
const PER_OBJECT_PARALLELISM: usize = 16;
/// A download range is written to disk in pieces of this size (buffered from network frames).
const WRITE_PIECE: usize = 1024 * 1024;
/// Largest object Azure copies with one synchronous Copy Blob From URL.
const SYNC_COPY_MAX: u64 = 256 * 1024 * 1024;
/// How many failures a report keeps in full; the rest are only counted.
const FAILURES_KEPT: usize = 1000;

/// One object to copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// Key in the source store.
    pub source_key: String,
    /// Key in the destination store.
    pub dest_key: String,
    /// Size when listed.
    pub size: u64,
    /// Last-modified time when listed.
    pub last_modified: Option<SystemTime>,
    /// The source's stored MD5, if any.
    pub content_md5: Option<[u8; 16]>,
    /// The source's properties (kept by server-side copies).
    pub properties: Option<Box<ObjectProperties>>,
}

impl Transfer {
    /// A transfer of a listed source entry to `dest_key`.
    pub fn from_entry(entry: Entry, dest_key: String) -> Self {
        Self {
            source_key: entry.key,
            dest_key,
            size: entry.size,
            last_modified: entry.last_modified,
            content_md5: entry.content_md5,
            properties: entry.properties,
        }
    }
}

/// `--overwrite`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Overwrite {
    /// Replace what exists (the default).
    #[default]
    True,
    /// Keep what exists; the item is skipped.
    False,
    /// Replace only when the source is newer than the destination.
    IfSourceNewer,
    /// Ask [`CopyOptions::prompt`] for each existing destination.
    Prompt,
}

/// How an item ended, for a [`TransferObserver`].
#[derive(Debug, Clone, Copy)]
pub enum ItemOutcome<'a> {
    /// Copied.
    Copied,
    /// Skipped (the destination existed and was kept).
    Skipped,
    /// Failed with this error.
    Failed(&'a StoreError),
    /// Stopped by cancellation before it finished.
    Cancelled,
}

/// What the record says about an item the listing found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Never seen before.
    New,
    /// Seen by an earlier run that did not finish it: blocks it staged may be reused.
    Unfinished,
    /// Finished by an earlier run: leave it alone.
    Done,
}

/// Hooks a durable record (the job journal) into a run.
pub trait TransferObserver: Send + Sync {
    /// An item was found; says what an earlier run of the same job did with it. A `Done` item is
    /// counted as done and left alone.
    fn found(&self, transfer: &Transfer) -> Recorded;
    /// An item is about to start.
    fn started(&self, transfer: &Transfer);
    /// An item ended. The engine waits for this before counting the item, so what is reported is
    /// already recorded.
    fn finished<'a>(&'a self, transfer: &'a Transfer, outcome: ItemOutcome<'a>) -> futures::future::BoxFuture<'a, ()>;

    /// A chunk of the partial download `tag` is written at `offset`.
    fn chunk_done(&self, transfer: &Transfer, tag: &str, offset: u64) {
        let _ = (transfer, tag, offset);
    }

    /// The chunks an earlier run recorded as written for the partial download `tag`.
    fn chunks_done(&self, transfer: &Transfer, tag: &str) -> Vec<u64> {
        let _ = (transfer, tag);
        Vec::new()
    }
}

/// Answers "replace this existing object?" for `--overwrite prompt`. Calls may come from many
/// transfers at once; an implementation asks one question at a time.
pub trait OverwritePrompt: Send + Sync {
    /// Whether to replace the existing `dest` (shown to the user as given).
    fn should_replace<'a>(&'a self, dest: &'a str) -> futures::future::BoxFuture<'a, bool>;
}

/// `--check-md5`, for downloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum CheckMd5 {
    /// Do not check.
    NoCheck,
    /// Check and log a mismatch, but keep the file.
    LogOnly,
    /// Fail the item when the stored MD5 differs (the default).
    #[default]
    FailIfDifferent,
    /// Fail when it differs or when the source has no stored MD5.
    FailIfDifferentOrMissing,
}

/// How objects are written and checked: the part of a copy's options a job records (so it is
/// serialisable), apart from limits and hooks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TransferPolicy {
    /// Block (and download chunk) size; `None` for AzCopy's automatic size.
    pub block_size: Option<u64>,
    /// Objects up to this size go in one Put Blob; `None` means the block size.
    pub put_blob_size: Option<u64>,
    /// Store the whole object's MD5 (computed while reading) as Content-MD5 on staged uploads.
    pub put_md5: bool,
    /// Verify downloads against the stored MD5.
    pub check_md5: CheckMd5,
    /// Fail an item whose source yields a different number of bytes than listed.
    pub check_length: bool,
    /// What to do when the destination exists.
    pub overwrite: Overwrite,
    /// Give downloaded files the source's last-modified time.
    pub preserve_last_modified: bool,
    /// Give uploads without a Content-Type one guessed from the file extension.
    pub guess_mime_type: bool,
    /// Headers, metadata and tier for uploads (`content_md5` and `overwrite` are set per item).
    pub write: WriteOptions,
    /// Server-side copies give the destination the source's access tier, unless `write` names
    /// one (AzCopy's `--s2s-preserve-access-tier`, on by default; journals from before it had
    /// it read as on).
    #[serde(default = "yes")]
    pub preserve_access_tier: bool,
    /// Downloads make a blob marked as a stored link (`is_symlink`) a symbolic link again
    /// (AzCopy's `--preserve-symlinks`); uploads of such links carry the mark.
    #[serde(default)]
    pub preserve_symlinks: bool,
    /// The type of object written (AzCopy's `--blob-type`).
    #[serde(default)]
    pub object_type: ObjectType,
    /// The tier of page blobs written (AzCopy's `--page-blob-tier`: P4 … P80).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_tier: Option<String>,
    /// Server-side copies keep the source's content headers and metadata (AzCopy's
    /// `--s2s-preserve-properties`, on by default; journals from before it had it read as on).
    #[serde(default = "yes")]
    pub preserve_properties: bool,
    /// Server-side copies give the destination the source's index tags (AzCopy's
    /// `--s2s-preserve-blob-tags`), unless `write` names tags.
    #[serde(default)]
    pub preserve_blob_tags: bool,
    /// Server-side copies check afterwards that the source did not change while it was read
    /// (AzCopy's `--s2s-detect-source-changed`); the item fails if it did.
    #[serde(default)]
    pub detect_source_changed: bool,
    /// POSIX properties travel as metadata in this style: uploads record them, downloads
    /// restore mode, owner and modification time (AzCopy's `--preserve-posix-properties`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posix: Option<ferry_store::PosixStyle>,
}

/// What kind of object an upload or copy writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ObjectType {
    /// Written in blocks, committed at once (what journals from before this field mean).
    #[default]
    Block,
    /// 512-byte pages written in place (disks; all-zero ranges are not sent).
    Page,
    /// Blocks appended at the end.
    Append,
    /// A copy keeps the source's type; an upload makes `.vhd`/`.vhdx` files page blobs, the
    /// rest block blobs (AzCopy's default).
    Detect,
}

fn yes() -> bool {
    true
}

impl Default for TransferPolicy {
    fn default() -> Self {
        Self {
            block_size: None,
            put_blob_size: None,
            put_md5: false,
            check_md5: CheckMd5::default(),
            check_length: true,
            overwrite: Overwrite::default(),
            preserve_last_modified: false,
            guess_mime_type: true,
            write: WriteOptions::default(),
            preserve_access_tier: true,
            preserve_symlinks: false,
            object_type: ObjectType::Block,
            page_tier: None,
            posix: None,
            preserve_properties: true,
            preserve_blob_tags: false,
            detect_source_changed: false,
        }
    }
}

/// How a copy job runs.
#[derive(Debug, Clone)]
pub struct CopyOptions {
    /// How objects are written and checked.
    pub policy: TransferPolicy,
    /// Objects in flight.
    pub objects_in_flight: usize,
    /// Requests in flight, across all objects.
    pub requests_in_flight: usize,
    /// Bytes of data buffers in memory, across all objects.
    pub buffer_bytes: u64,
    /// Up to 32 characters that tie staged blocks to this job (the job id).
    pub part_tag: String,
    /// Throughput cap (`--cap-mbps`), shared by every transfer of the job.
    pub rate_limit: Option<Arc<crate::RateLimit>>,
    /// Who answers for [`Overwrite::Prompt`]; without one, existing objects are kept.
    pub prompt: Option<Arc<dyn OverwritePrompt>>,
    /// Who records each item's state (the job journal).
    pub observer: Option<Arc<dyn TransferObserver>>,
}

impl std::fmt::Debug for dyn TransferObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TransferObserver")
    }
}

impl std::fmt::Debug for dyn OverwritePrompt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OverwritePrompt")
    }
}

impl Default for CopyOptions {
    fn default() -> Self {
        Self {
            policy: TransferPolicy::default(),
            objects_in_flight: 64,
            requests_in_flight: 32,
            buffer_bytes: 512 * 1024 * 1024,
            part_tag: "ferry".to_owned(),
            rate_limit: None,
            prompt: None,
            observer: None,
        }
    }
}

/// An item that failed, and why.
#[derive(Debug)]
pub struct ItemFailure {
    /// Its source key (or, for a listing failure, what could not be listed).
    pub source_key: String,
    /// Its destination key (empty for a listing failure).
    pub dest_key: String,
    /// What went wrong.
    pub error: StoreError,
}

/// What a finished run reports.
#[derive(Debug)]
pub struct CopyReport {
    /// Final counters.
    pub stats: StatsSnapshot,
    /// The first failures, in the order they happened.
    pub failures: Vec<ItemFailure>,
    /// Whether the run was cancelled before it finished.
    pub cancelled: bool,
}

enum Outcome {
    Copied,
    Skipped,
}

/// A byte budget for data buffers, counted in KiB so one permit count fits any block.
#[derive(Debug, Clone)]
struct Budget {
    semaphore: Arc<Semaphore>,
    total_kib: u32,
}

impl Budget {
    fn new(bytes: u64) -> Self {
        let total_kib = u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX).max(1);
        Self { semaphore: Arc::new(Semaphore::new(total_kib as usize)), total_kib }
    }

    /// Waits until `bytes` fit in the budget. A request larger than the whole budget waits for
    /// all of it, so it runs alone rather than never.
    async fn reserve(&self, bytes: u64) -> OwnedSemaphorePermit {
        let kib = u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX).clamp(1, self.total_kib);
        self.semaphore.clone().acquire_many_owned(kib).await.expect("the budget semaphore is never closed")
    }
}

/// Shared state of one run, cheap to clone into tasks.
#[derive(Clone)]
struct Context {
    cancelled: Arc<AtomicBool>,
    source: Arc<dyn Store>,
    dest: Arc<dyn Store>,
    options: Arc<CopyOptions>,
    stats: Arc<Stats>,
    requests: Arc<Semaphore>,
    budget: Budget,
}

/// Copies objects from one store to another.
pub struct CopyEngine {
    context: Context,
}

impl CopyEngine {
    /// An engine copying from `source` to `dest`.
    pub fn new(source: Arc<dyn Store>, dest: Arc<dyn Store>, options: CopyOptions) -> Self {
        let requests = Arc::new(Semaphore::new(options.requests_in_flight.max(1)));
        let budget = Budget::new(options.buffer_bytes);
        let context = Context {
            cancelled: Arc::new(AtomicBool::new(false)),
            source,
            dest,
            options: Arc::new(options),
            stats: Arc::new(Stats::default()),
            requests,
            budget,
        };
        Self { context }
    }

    /// Uses `flag` as the cancel flag: a job's token, which also stops its listing and its
    /// deletions.
    #[must_use]
    pub fn with_cancel(mut self, flag: Arc<AtomicBool>) -> Self {
        self.context.cancelled = flag;
        self
    }

    /// The live counters, for a progress reporter.
    pub fn stats(&self) -> Arc<Stats> {
        self.context.stats.clone()
    }

    /// A flag that, once set, stops the run: no new item starts, items in flight stop at their
    /// next block, and [`CopyEngine::run`] returns with `cancelled` set.
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        self.context.cancelled.clone()
    }

    /// Runs every transfer in `transfers` (which may still be listing) and reports. An `Err`
    /// item is a listing failure: counted as a failed item, and the run goes on. Once cancelled,
    /// the listing itself is dropped within a tenth of a second: a Ctrl-C never waits for a long
    /// (or endless) listing to drain.
    pub async fn run(&self, transfers: impl Stream<Item = Result<Transfer, StoreError>> + Send) -> CopyReport {
        let failures: Mutex<Vec<ItemFailure>> = Mutex::new(Vec::new());
        let record = |failure: ItemFailure| {
            // The caller reports failures to the user and the job log; this is for debugging.
            tracing::debug!(source = %failure.source_key, dest = %failure.dest_key, error = %failure.error, "transfer failed");
            let mut kept = failures.lock().expect("the failure list is never poisoned");
            if kept.len() < FAILURES_KEPT {
                kept.push(failure);
            }
        };
        let ctx = &self.context;
        let cancelled = cancelled(ctx.cancelled.clone());
        transfers
            .map(Some)
            .chain(stream::once(async { None }))
            .take_until(cancelled)
            .map(|item| async {
                match item {
                    None => ctx.stats.scanning_finished(),
                    Some(Err(error)) => {
                        ctx.stats.listing_failed();
                        record(ItemFailure { source_key: error.target().to_owned(), dest_key: String::new(), error });
                    }
                    Some(Ok(transfer)) => {
                        ctx.stats.found(transfer.size);
                        let observer = ctx.options.observer.as_deref();
                        let recorded = observer.map_or(Recorded::New, |o| o.found(&transfer));
                        if recorded == Recorded::Done {
                            ctx.stats.previously_done(transfer.size);
                            return;
                        }
                        if ctx.is_cancelled() {
                            if let Some(o) = observer {
                                o.finished(&transfer, ItemOutcome::Cancelled).await;
                            }
                            return;
                        }
                        if let Some(o) = observer {
                            o.started(&transfer);
                        }
                        let moved = AtomicU64::new(0);
                        let result = ctx.copy_one(&transfer, &moved, recorded == Recorded::Unfinished).await;
                        let outcome = match &result {
                            Ok(Outcome::Copied) => ItemOutcome::Copied,
                            Ok(Outcome::Skipped) => ItemOutcome::Skipped,
                            Err(_) if ctx.is_cancelled() => ItemOutcome::Cancelled,
                            Err(error) => ItemOutcome::Failed(error),
                        };
                        if let Some(o) = observer {
                            o.finished(&transfer, outcome).await;
                        }
                        let cancelled = matches!(outcome, ItemOutcome::Cancelled);
                        match result {
                            Ok(Outcome::Copied) => ctx.stats.finished(),
                            Ok(Outcome::Skipped) => ctx.stats.skipped(transfer.size),
                            Err(_) if cancelled => ctx.stats.unmoved(moved.load(Ordering::Relaxed)),
                            Err(error) => {
                                ctx.stats.unmoved(moved.load(Ordering::Relaxed));
                                ctx.stats.failed(transfer.size);
                                record(ItemFailure {
                                    source_key: transfer.source_key,
                                    dest_key: transfer.dest_key,
                                    error,
                                });
                            }
                        }
                    }
                }
            })
            .buffer_unordered(ctx.options.objects_in_flight.max(1))
            .collect::<()>()
            .await;
        CopyReport {
            stats: ctx.stats.snapshot(),
            failures: failures.into_inner().unwrap_or_default(),
            cancelled: ctx.is_cancelled(),
        }
    }
}

/// A future that ends once `flag` is set (checked every tenth of a second): what a listing or
/// any other stream is cut with when a job is cancelled.
pub async fn cancelled(flag: Arc<AtomicBool>) {
    while !flag.load(Ordering::Relaxed) {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Seconds since the epoch: the precision of HTTP dates. Comparing at this precision keeps a
/// file written a moment before its upload (same second, more nanoseconds) from looking newer.
fn whole_seconds(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn sizing_error(key: &str, e: crate::SizingError) -> StoreError {
    StoreError::new(ErrorKind::InvalidInput, key, e.to_string())
}

/// The ranges of an object of `size` bytes in chunks of `chunk`.
fn chunks(size: u64, chunk: u64) -> impl Iterator<Item = Range<u64>> {
    (0..size.div_ceil(chunk)).map(move |i| i * chunk..((i + 1) * chunk).min(size))
}

impl Context {
    fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// Stops an item between blocks once the run is cancelled.
    fn check_cancelled(&self, key: &str) -> Result<(), StoreError> {
        if self.is_cancelled() {
            return Err(StoreError::new(ErrorKind::Other, key, "cancelled"));
        }
        Ok(())
    }

    /// Counts `len` bytes as moved, for the job and for the item (so a failure can take them back).
    fn count_moved(&self, moved: &AtomicU64, len: u64) {
        self.stats.moved(len);
        moved.fetch_add(len, Ordering::Relaxed);
    }

    /// The id of block `index` of this job; block counts stay within 50,000, so it fits in u32.
    fn part_id(&self, index: u64) -> PartId {
        PartId::numbered(&self.options.part_tag, u32::try_from(index).unwrap_or(u32::MAX))
    }

    /// Block ids for `t`: tagged with the job and with the source's size and modification time,
    /// so a resumed upload recognises the blocks it staged, and blocks staged from an older
    /// version of the file never match (a blob never mixes old and new content).
    fn version_tag(&self, t: &Transfer) -> String {
        let nanos =
            t.last_modified.and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
        let digest = md5_of(format!("{}/{}/{}/{}", self.options.part_tag, t.source_key, t.size, nanos).as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    async fn copy_one(&self, t: &Transfer, moved: &AtomicU64, unfinished: bool) -> Result<Outcome, StoreError> {
        if self.options.policy.overwrite != Overwrite::True {
            match self.dest.stat(&t.dest_key).await {
                Ok(existing) => {
                    let replace = match self.options.policy.overwrite {
                        Overwrite::True => true,
                        Overwrite::False => false,
                        Overwrite::IfSourceNewer => match (t.last_modified, existing.last_modified) {
                            (Some(source), Some(dest)) => whole_seconds(source) > whole_seconds(dest),
                            _ => false,
                        },
                        Overwrite::Prompt => match &self.options.prompt {
                            Some(prompt) => prompt.should_replace(&t.dest_key).await,
                            None => false,
                        },
                    };
                    if !replace {
                        return Ok(Outcome::Skipped);
                    }
                }
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        let capabilities = self.dest.capabilities();
        if capabilities.positional_writes && self.options.policy.preserve_symlinks && is_stored_link(t) {
            return self.restore_link(t, moved).await.map(|()| Outcome::Copied);
        }
        if capabilities.positional_writes {
            return self.download(t, moved, unfinished).await.map(|()| Outcome::Copied);
        }
        let object_type = self.object_type(t);
        if object_type != ObjectType::Block {
            // Page and append blobs are written from here (read from the source as any upload).
            return self.upload_in_place(t, object_type, moved).await.map(|()| Outcome::Copied);
        }
        if capabilities.server_side_copy && t.size > 0 {
            match self.source.service_readable_url(&t.source_key).await {
                Ok(url) => return self.copy_server_side(t, &url, moved).await.map(|()| Outcome::Copied),
                Err(e) if e.kind() == ErrorKind::NotSupported => {}
                Err(e) => return Err(e),
            }
        }
        self.upload(t, moved, unfinished).await.map(|()| Outcome::Copied)
    }

    /// The type of object `t` becomes: the job's, or with `Detect` the source's type (a blob's)
    /// or, for a file, a page blob for `.vhd`/`.vhdx` and a block blob otherwise.
    fn object_type(&self, t: &Transfer) -> ObjectType {
        match self.options.policy.object_type {
            ObjectType::Detect => match t.properties.as_ref().and_then(|p| p.blob_type.as_deref()) {
                Some("PageBlob") => ObjectType::Page,
                Some("AppendBlob") => ObjectType::Append,
                Some(_) => ObjectType::Block,
                None => {
                    let lower = t.source_key.to_ascii_lowercase();
                    if lower.ends_with(".vhd") || lower.ends_with(".vhdx") {
                        ObjectType::Page
                    } else {
                        ObjectType::Block
                    }
                }
            },
            chosen => chosen,
        }
    }

    /// Writes `t` as a page blob (its ranges in place, all-zero ranges left unsent: a page blob
    /// starts all zeros) or an append blob (blocks appended in order), then stores the whole
    /// MD5 when `--put-md5` asks for it.
    async fn upload_in_place(
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
            write.headers.content_md5 = Some(hasher.finalize().into());
            self.dest.set_content_headers(&t.dest_key, &write).await?;
        }
        Ok(())
    }

    /// Makes the destination key a symbolic link to the target a stored link holds.
    async fn restore_link(&self, t: &Transfer, moved: &AtomicU64) -> Result<(), StoreError> {
        const MOST: u64 = 4096;
        if t.size == 0 || t.size > MOST {
            return Err(StoreError::new(
                ErrorKind::InvalidInput,
                &t.source_key,
                format!("a stored symbolic link holds its target (1 to {MOST} bytes), not {} bytes", t.size),
            ));
        }
        let target = self.read_range(&t.source_key, 0..t.size).await?;
        let target = std::str::from_utf8(&target).map_err(|_| {
            StoreError::new(ErrorKind::InvalidInput, &t.source_key, "a stored link's target is not UTF-8")
        })?;
        if target.contains('\0') {
            return Err(StoreError::new(ErrorKind::InvalidInput, &t.source_key, "a stored link's target holds a NUL"));
        }
        self.dest.write_symlink(&t.dest_key, target).await?;
        self.count_moved(moved, t.size);
        Ok(())
    }

    /// Reads `range` of the source into one buffer, checking its length.
    async fn read_range(&self, key: &str, range: Range<u64>) -> Result<Bytes, StoreError> {
        self.pace(key, range.end - range.start).await?;
        let mut stream = self.source.read(key, Some(range.clone())).await?;
        let mut pieces = Vec::new();
        while let Some(piece) = stream.try_next().await? {
            pieces.push(piece);
        }
        // A local range arrives as one piece (one positional read): used as it is, no copy.
        let data = if pieces.len() == 1 {
            pieces.pop().unwrap_or_default()
        } else {
            let mut joined = BytesMut::with_capacity(pieces.iter().map(Bytes::len).sum());
            pieces.iter().for_each(|p| joined.extend_from_slice(p));
            joined.freeze()
        };
        if self.options.policy.check_length && data.len() as u64 != range.end - range.start {
            return Err(length_mismatch(key, &range, data.len() as u64));
        }
        Ok(data)
    }

    /// Waits for `bytes` of the `--cap-mbps` budget, if there is a cap. The wait can be long,
    /// so a cancellation during it stops the item here.
    async fn pace(&self, key: &str, bytes: u64) -> Result<(), StoreError> {
        if let Some(limit) = &self.options.rate_limit {
            limit.take(bytes).await;
            self.check_cancelled(key)?;
        }
        Ok(())
    }

    /// Streams `range` of the source into `writer` at its offsets, in writes of at most
    /// [`WRITE_PIECE`] bytes: memory per range in flight stays at one piece, not the range.
    /// Fails unless exactly the range's length arrives (a short answer would leave a hole).
    /// Returns the data when it went out in a single write (a small file), so it can be hashed
    /// without reading it back.
    async fn stream_range_to(
        &self,
        key: &str,
        range: Range<u64>,
        writer: &dyn PositionalWrite,
    ) -> Result<Option<Bytes>, StoreError> {
        let expected = range.end - range.start;
        self.pace(key, expected).await?;
        let mut stream = self.source.read(key, Some(range.clone())).await?;
        let mut out = PieceWriter { writer, start: range.start, at: range.start, only: None };
        let mut pending = BytesMut::new();
        while let Some(piece) = stream.try_next().await? {
            let received = out.at - range.start + (pending.len() + piece.len()) as u64;
            if received > expected {
                return Err(length_mismatch(key, &range, received));
            }
            if pending.is_empty() && piece.len() >= WRITE_PIECE {
                // Already a big piece (a local read): written as it is, no copy.
                out.write(piece).await?;
                continue;
            }
            if pending.capacity() == 0 {
                pending.reserve(WRITE_PIECE.min(usize::try_from(expected).unwrap_or(WRITE_PIECE)));
            }
            pending.extend_from_slice(&piece);
            if pending.len() >= WRITE_PIECE {
                out.write(pending.split().freeze()).await?;
            }
        }
        if !pending.is_empty() {
            out.write(pending.split().freeze()).await?;
        }
        if out.at != range.end {
            return Err(length_mismatch(key, &range, out.at - range.start));
        }
        Ok(out.only)
    }

    /// Fails the item if the source changed (size or time) since it was listed.
    async fn check_source_unchanged(&self, t: &Transfer) -> Result<(), StoreError> {
        let Some(listed_time) = t.last_modified else { return Ok(()) };
        let now = self.source.stat(&t.source_key).await?;
        if now.size != t.size || now.last_modified != Some(listed_time) {
            return Err(StoreError::new(
                ErrorKind::Other,
                &t.source_key,
                "the source was modified during the transfer (its size or modification time changed); nothing was committed",
            )
            .with_hint("run the command again once the file has stopped changing"));
        }
        Ok(())
    }

    fn write_options(&self) -> WriteOptions {
        WriteOptions {
            overwrite: self.options.policy.overwrite != Overwrite::False,
            ..self.options.policy.write.clone()
        }
    }

    /// Write options for a server-side copy of `t`: the job's, with the source's block-blob
    /// access tier when the job keeps tiers and names none, and its index tags when the job keeps
    /// tags and names none.
    async fn server_side_options(&self, t: &Transfer) -> Result<WriteOptions, StoreError> {
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

    /// Write options for an upload of `t`: the job's, with a Content-Type guessed from the name
    /// when none was given (as AzCopy does), falling back to `application/octet-stream`.
    fn upload_options(&self, t: &Transfer) -> WriteOptions {
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
        if write.headers.content_type.is_none() {
            let guessed =
                self.options.policy.guess_mime_type.then(|| mime_guess::from_path(&t.source_key).first_raw()).flatten();
            write.headers.content_type = Some(guessed.unwrap_or("application/octet-stream").to_owned());
        }
        write
    }

    /// Any source to a destination that takes positional writes (local disk): parallel ranged
    /// reads into a temporary file, verified, then renamed into place. The temporary file is
    /// named by the job and the source's version, and each finished chunk is recorded, so a run
    /// cut off by a crash or Ctrl-C continues from the chunks already written.
    async fn download(&self, t: &Transfer, moved: &AtomicU64, unfinished: bool) -> Result<(), StoreError> {
        let check = self.options.policy.check_md5;
        if check == CheckMd5::FailIfDifferentOrMissing && t.content_md5.is_none() {
            return Err(StoreError::new(
                ErrorKind::InvalidInput,
                &t.source_key,
                "the source has no stored Content-MD5, and --check-md5 is FailIfDifferentOrMissing",
            )
            .with_hint("upload it with --put-md5, or use --check-md5 FailIfDifferent"));
        }
        let chunk = block_size(t.size, self.options.policy.block_size).map_err(|e| sizing_error(&t.source_key, e))?;
        let tag = self.version_tag(t);
        let (writer, reopened) = match self.dest.reopen_positional_write(&t.dest_key, t.size, &tag).await {
            Ok(pair) => pair,
            Err(e) if e.kind() == ErrorKind::NotSupported => {
                (self.dest.begin_positional_write(&t.dest_key, t.size).await?, false)
            }
            Err(e) => return Err(e),
        };
        let observer = self.options.observer.as_deref();
        // Recorded chunks count only if their file survived; the MD5 check below covers them too.
        let done: std::collections::HashSet<u64> = match observer {
            Some(o) if reopened && unfinished => o.chunks_done(t, &tag).into_iter().collect(),
            _ => std::collections::HashSet::new(),
        };
        let shared: &dyn PositionalWrite = &*writer;
        let verify = t.content_md5.is_some() && check != CheckMd5::NoCheck;
        let chunks_in_order = stream::iter(chunks(t.size, chunk))
            .map(|range| {
                let writer = shared;
                let (tag, done) = (&tag, &done);
                async move {
                    self.check_cancelled(&t.source_key)?;
                    let len = range.end - range.start;
                    if done.contains(&range.start) {
                        self.stats.reused(len);
                        return Ok(None);
                    }
                    let _budget = self.budget.reserve((WRITE_PIECE as u64).min(len)).await;
                    let whole = {
                        let _request = self.requests.acquire().await.expect("never closed");
                        self.stream_range_to(&t.source_key, range.clone(), writer).await?
                    };
                    if let Some(o) = observer {
                        o.chunk_done(t, tag, range.start);
                    }
                    self.count_moved(moved, len);
                    Ok::<Option<(Range<u64>, Option<Bytes>)>, StoreError>(Some((range, whole)))
                }
            })
            // In order (still PER_OBJECT_PARALLELISM at a time), so the MD5 is computed while
            // later ranges arrive, from the page cache, instead of in one pass at the end.
            .buffered(PER_OBJECT_PARALLELISM);
        let written = async {
            let mut chunks_in_order = std::pin::pin!(chunks_in_order);
            let mut hasher = verify.then(Md5::new);
            while let Some(range) = chunks_in_order.try_next().await? {
                hasher = match (hasher, range) {
                    // The range was written in one piece, still at hand: no need to read it back.
                    (Some(h), Some((_, Some(data)))) => Some(hash_more(h, data).await),
                    (Some(mut h), Some((range, None))) => {
                        for piece in chunks(range.end - range.start, WRITE_PIECE as u64) {
                            let len = usize::try_from(piece.end - piece.start).unwrap_or(0);
                            let data = writer.read_at(range.start + piece.start, len).await?;
                            h = hash_more(h, data).await;
                        }
                        Some(h)
                    }
                    // A chunk kept from an earlier run: the whole file is hashed at the end.
                    _ => None,
                };
            }
            Ok::<Option<Md5>, StoreError>(hasher)
        }
        .await;
        let streamed = match written {
            Ok(hasher) => hasher,
            Err(e) => {
                // A cancelled download keeps its partial file for the resume; a failed one is discarded.
                if self.is_cancelled() {
                    writer.keep();
                }
                return Err(e);
            }
        };

        if let (Some(expected), true) = (t.content_md5, verify) {
            let hasher = match streamed {
                Some(hasher) => hasher,
                None => {
                    let mut hasher = Md5::new();
                    let mut back = writer.read_back().await?;
                    while let Some(piece) = back.try_next().await? {
                        hasher = hash_more(hasher, piece).await;
                    }
                    hasher
                }
            };
            let actual: [u8; 16] = hasher.finalize().into();
            if actual != expected {
                let message = "the downloaded data does not match the Content-MD5 stored with the source";
                if check == CheckMd5::LogOnly {
                    tracing::warn!(source = %t.source_key, "{message}; keeping it (--check-md5 LogOnly)");
                } else {
                    return Err(StoreError::new(ErrorKind::Other, &t.source_key, message)
                        .with_hint("the data changed in transit or the stored MD5 is wrong; nothing was written"));
                }
            }
        }
        let mut finish = FinishOptions {
            overwrite: self.options.policy.overwrite != Overwrite::False,
            last_modified: if self.options.policy.preserve_last_modified { t.last_modified } else { None },
            ..FinishOptions::default()
        };
        if self.options.policy.posix.is_some()
            && let Some(props) = &t.properties
        {
            let posix = ferry_store::posix::from_metadata(&props.metadata);
            finish.mode = posix.mode;
            finish.owner = posix.owner;
            finish.last_modified = posix.modified.or(finish.last_modified);
        }
        writer.finish(&finish).await
    }

    /// Any source to an object store: one Put Blob for small objects, staged blocks otherwise.
    /// For an item an earlier run left unfinished, blocks the service already holds (by Get Block
    /// List: same id, same size) are not sent again.
    async fn upload(&self, t: &Transfer, moved: &AtomicU64, unfinished: bool) -> Result<(), StoreError> {
        let block = block_size(t.size, self.options.policy.block_size).map_err(|e| sizing_error(&t.source_key, e))?;
        let single_limit =
            self.options.policy.put_blob_size.unwrap_or(block).min(self.dest.capabilities().max_single_write);
        let mut write = self.upload_options(t);

        if t.size <= single_limit {
            let _budget = self.budget.reserve(t.size).await;
            let data = if t.size == 0 { Bytes::new() } else { self.read_range(&t.source_key, 0..t.size).await? };
            self.check_source_unchanged(t).await?;
            // The service checks the body against this MD5 and stores it.
            write.headers.content_md5 = Some(md5_of(&data));
            let _request = self.requests.acquire().await.expect("never closed");
            self.dest.write(&t.dest_key, Payload::Bytes(data), &write).await?;
            self.count_moved(moved, t.size);
            return Ok(());
        }

        let tag = self.version_tag(t);
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
            while uploads.len() >= PER_OBJECT_PARALLELISM {
                self.account_block(uploads.join_next().await, moved)?;
            }
        }
        while let Some(done) = uploads.join_next().await {
            self.account_block(Some(done), moved)?;
        }
        self.check_source_unchanged(t).await?;
        write.headers.content_md5 = whole.map(|h| h.finalize().into());
        self.dest.commit_parts(&t.dest_key, &ids, &write).await?;
        Ok(())
    }

    fn account_block(
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

    /// Blob to Blob: the destination service reads the source by URL, block by block.
    async fn copy_server_side(&self, t: &Transfer, url: &url::Url, moved: &AtomicU64) -> Result<(), StoreError> {
        let block = block_size(t.size, self.options.policy.block_size).map_err(|e| sizing_error(&t.source_key, e))?;
        // An object of one block, with no content headers to set: one synchronous Copy Blob From
        // URL instead of Put Block From URL + Put Block List (half the requests; it keeps the
        // source's headers and MD5 by itself).
        let user = &self.options.policy.write;
        // Copy Blob From URL always takes the source's headers: not when they are to be left.
        let one_request =
            self.options.policy.preserve_properties && user.headers == ferry_store::ContentHeaders::default();
        if t.size <= block.min(SYNC_COPY_MAX) && one_request {
            let write = self.server_side_options(t).await?;
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
        stream::iter(chunks(t.size, block).zip(ids.iter()))
            .map(|(range, id)| async move {
                self.check_cancelled(&t.source_key)?;
                let len = range.end - range.start;
                let _request = self.requests.acquire().await.expect("never closed");
                self.dest.put_part_from_url(&t.dest_key, id, url, Some(range)).await?;
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
}

/// Whether `t` is a stored symbolic link (AzCopy's `is_symlink` metadata).
fn is_stored_link(t: &Transfer) -> bool {
    t.properties
        .as_ref()
        .and_then(|p| p.metadata.get(ferry_store::SYMLINK_METADATA))
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Writes a range's pieces one after another, remembering the first piece while it is the only one.
struct PieceWriter<'a> {
    writer: &'a dyn PositionalWrite,
    start: u64,
    at: u64,
    /// The data of the range's only write so far; `None` once there is a second.
    only: Option<Bytes>,
}

impl PieceWriter<'_> {
    async fn write(&mut self, data: Bytes) -> Result<(), StoreError> {
        let len = data.len() as u64;
        self.only = (self.at == self.start).then(|| data.clone());
        self.writer.write_at(self.at, data).await?;
        self.at += len;
        Ok(())
    }
}

/// The error for a source that gave `received` bytes for `range`.
fn length_mismatch(key: &str, range: &Range<u64>, received: u64) -> StoreError {
    StoreError::new(
        ErrorKind::Other,
        key,
        format!(
            "the source gave {received} bytes for {}..{} where {} were expected; it changed during the transfer or the answer was cut short",
            range.start,
            range.end,
            range.end - range.start
        ),
    )
}

/// Feeds `data` to `hasher`: on the blocking pool when it is large enough to hold up a runtime
/// thread (MD5 runs at about 600 MB/s, so 8 MiB takes some 13 ms).
async fn hash_more(mut hasher: Md5, data: Bytes) -> Md5 {
    if data.len() < 256 * 1024 {
        hasher.update(&data);
        return hasher;
    }
    tokio::task::spawn_blocking(move || {
        hasher.update(&data);
        hasher
    })
    .await
    .expect("hashing does not panic")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_object_exactly() {
        let ranges: Vec<_> = chunks(10, 4).collect();
        assert_eq!(ranges, [0..4, 4..8, 8..10]);
        assert_eq!(chunks(0, 4).count(), 0);
        assert_eq!(chunks(8, 4).collect::<Vec<_>>(), [0..4, 4..8]);
    }

    #[tokio::test]
    async fn the_budget_admits_oversized_requests_alone() {
        let budget = Budget::new(4096);
        let big = budget.reserve(10_000_000).await;
        assert_eq!(budget.semaphore.available_permits(), 0);
        drop(big);
        let a = budget.reserve(2048).await;
        let b = budget.reserve(2048).await;
        assert_eq!(budget.semaphore.available_permits(), 0);
        drop((a, b));
    }
}
