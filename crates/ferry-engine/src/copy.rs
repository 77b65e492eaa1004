//! Executing copies: one [`Transfer`] at a time per task, many tasks at once.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use bytes::{Bytes, BytesMut};
use ferry_store::{Entry, ErrorKind, ObjectProperties, PartId, Store, StoreError, WriteOptions, md5_of};
use futures::{Stream, StreamExt, TryStreamExt, stream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub use crate::policy::{CheckMd5, ObjectType, Overwrite, ServerSide, TransferPolicy};
pub use inflate::inflated_key;

mod download;
mod in_place;
mod inflate;
mod server_side;
mod staged;
mod upload;

use crate::stats::{Stats, StatsSnapshot};
use crate::task::ItemTask;

/// Requests one object may have in flight at once (within the global request limit), so one
/// huge file cannot starve the others.
const PER_OBJECT_PARALLELISM: usize = 16;
/// Bytes of one object's blocks an upload holds in memory at once: enough parallel blocks to keep
/// the service busy, few enough that one large file costs tens of megabytes, not hundreds (six
/// 8 MiB blocks upload 1 GiB as fast as sixteen did, in 66 MB instead of 146: README, Performance).
const PER_OBJECT_BYTES: u64 = 48 * 1024 * 1024;
/// Bytes of one object a verified download keeps in flight. Its MD5 is computed in order, so
/// this bounds how far the hash trails the network (about 0.2 s of hashing left when the last
/// byte lands) and sets the streams: four 32 MiB ranges, as rclone's four streams.
const HASH_WINDOW: u64 = 128 * 1024 * 1024;
/// A download range is written to disk in pieces of this size (buffered from network frames).
/// Each piece is one hand-off to a blocking thread, so not smaller (64 KiB pieces cost about 15%
/// more CPU than 256 KiB); not much larger, as every range in flight holds one: a 1 GiB download
/// in four 32 MiB ranges took 3.28 s with 1 MiB pieces, 3.49 s with 256 KiB (medians of 5; CPU
/// equal, 31 MB peak RSS instead of 25).
const WRITE_PIECE: usize = 1024 * 1024;
/// A range up to this size is written in one piece, so a small file is hashed from memory
/// instead of being read back from the page cache.
const WHOLE_WRITE_MAX: usize = 1024 * 1024;

/// A file read whole from this size up is received directly into its partial file and hashed on
/// the receiving thread (`Store::read_into`), not streamed through the HTTP client: 1k × 1 MiB
/// downloads took 5.43 CPU-s instead of 5.95 and 21 MB of memory instead of 65 (medians of six),
/// 3k × 64 KiB ones 0.4–1.1 CPU-s less (`bench/vs-rclone`, README Performance). For 4 KiB files
/// no difference stood out of the noise, so smaller files keep the streamed path.
const DIRECT_WHOLE_MIN: u64 = 64 * 1024;

/// The size of the pieces a download range of `len` bytes is written in.
fn write_piece(len: u64) -> usize {
    if len <= WHOLE_WRITE_MAX as u64 { len as usize } else { WRITE_PIECE }
}
/// Largest object Azure copies with one synchronous Copy Blob From URL.
const SYNC_COPY_MAX: u64 = 256 * 1024 * 1024;
/// How many failures a report keeps in full; the rest are only counted.
const FAILURES_KEPT: usize = 1000;

/// Blocks of `block` bytes an upload of one object keeps in flight: [`PER_OBJECT_BYTES`] worth,
/// at least two (one sending while the next is read) and at most [`PER_OBJECT_PARALLELISM`].
fn blocks_in_flight(block: u64) -> usize {
    pieces_worth(PER_OBJECT_BYTES, block)
}

/// Ranges of `range` bytes a download of one object keeps in flight: [`HASH_WINDOW`] worth when
/// it is hashed in order (at least two), else [`PER_OBJECT_PARALLELISM`].
fn ranges_in_flight(range: u64, hashed_in_order: bool) -> usize {
    if !hashed_in_order {
        return PER_OBJECT_PARALLELISM;
    }
    pieces_worth(HASH_WINDOW, range)
}

/// How many pieces of `each` bytes make `bytes`: at least two, at most [`PER_OBJECT_PARALLELISM`].
fn pieces_worth(bytes: u64, each: u64) -> usize {
    usize::try_from(bytes / each.max(1)).unwrap_or(usize::MAX).clamp(2, PER_OBJECT_PARALLELISM)
}

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

    /// The MD5 of the item's whole content, computed while copying it (an upload that sends
    /// Content-MD5, a download that checks it).
    fn computed_md5(&self, transfer: &Transfer, md5: [u8; 16]) {
        let _ = (transfer, md5);
    }

    /// A chunk of the partial download `tag` is written at `offset`.
    fn chunk_done(&self, transfer: &Transfer, tag: &str, offset: u64) {
        let _ = (transfer, tag, offset);
    }

    /// The chunks an earlier run recorded as written for the partial download `tag`.
    fn chunks_done(&self, transfer: &Transfer, tag: &str) -> Vec<u64> {
        let _ = (transfer, tag);
        Vec::new()
    }

    /// The item is being uploaded in parts in the store's session `session` (S3's upload id),
    /// for the version `tag` of the source.
    fn upload_started(&self, transfer: &Transfer, tag: &str, session: &str) {
        let _ = (transfer, tag, session);
    }

    /// The upload session an earlier run recorded for the version `tag` of the source.
    fn upload_session(&self, transfer: &Transfer, tag: &str) -> Option<String> {
        let _ = (transfer, tag);
        None
    }
}

/// Answers "replace this existing object?" for `--overwrite prompt`. Calls may come from many
/// transfers at once; an implementation asks one question at a time.
pub trait OverwritePrompt: Send + Sync {
    /// Whether to replace the existing `dest` (shown to the user as given).
    fn should_replace<'a>(&'a self, dest: &'a str) -> futures::future::BoxFuture<'a, bool>;
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
    /// Buffers for downloads held in memory until hashed ([`staged`]), kept between files.
    staging: Arc<staged::StagingPool>,
    /// Set once an item fell back from a server-side copy to streaming (warned about once).
    stream_fallback: Arc<AtomicBool>,
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
        let stats = Arc::new(Stats::default());
        stats.set_limits(crate::stats::Limits {
            buffer: budget.semaphore.clone(),
            buffer_kib: budget.total_kib,
            requests: requests.clone(),
            requests_limit: options.requests_in_flight.max(1),
        });
        let context = Context {
            cancelled: Arc::new(AtomicBool::new(false)),
            source,
            dest,
            options: Arc::new(options),
            stats,
            requests,
            budget,
            staging: Arc::default(),
            stream_fallback: Arc::new(AtomicBool::new(false)),
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
                        // A task of its own: items are received, hashed and written on all of
                        // the runtime's threads, not only on the one polling this stream.
                        let item = ItemTask::spawn(ctx.clone().transfer_one(transfer));
                        if let Some(failure) = item.join().await {
                            record(failure);
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

impl Context {
    /// Copies one listed item: records it with the observer, copies it unless the record says
    /// it is done, counts the outcome. Returns the failure to report, if it failed.
    async fn transfer_one(self, transfer: Transfer) -> Option<ItemFailure> {
        let ctx = &self;
        ctx.stats.found(transfer.size);
        let observer = ctx.options.observer.as_deref();
        let recorded = observer.map_or(Recorded::New, |o| o.found(&transfer));
        if recorded == Recorded::Done {
            ctx.stats.previously_done(transfer.size);
            return None;
        }
        if ctx.is_cancelled() {
            if let Some(o) = observer {
                o.finished(&transfer, ItemOutcome::Cancelled).await;
            }
            return None;
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
                return Some(ItemFailure { source_key: transfer.source_key, dest_key: transfer.dest_key, error });
            }
        }
        None
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

    /// Tells the observer the MD5 of `t`'s whole content, computed while copying it.
    fn observe_md5(&self, t: &Transfer, md5: Option<[u8; 16]>) {
        if let (Some(observer), Some(md5)) = (self.options.observer.as_deref(), md5) {
            observer.computed_md5(t, md5);
        }
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
            if self.options.policy.decompress
                && let Some(encoding) = inflate::Encoding::of(t)?
            {
                return self.download_inflated(t, encoding, moved).await.map(|()| Outcome::Copied);
            }
            return self.download(t, moved, unfinished).await.map(|()| Outcome::Copied);
        }
        if capabilities.writes_in_place {
            return self.write_in_place(t, moved).await.map(|()| Outcome::Copied);
        }
        let object_type = self.object_type(t);
        if object_type != ObjectType::Block {
            // Page and append blobs are written from here (read from the source as any upload).
            return self.upload_in_place(t, object_type, moved).await.map(|()| Outcome::Copied);
        }
        if capabilities.server_side_copy && t.size > 0 && self.options.policy.server_side != ServerSide::Never {
            match self.source.service_readable_url(&t.source_key).await {
                Ok(url) => {
                    if let Some(done) = self.server_side_or_stream(t, &url, moved).await {
                        return done.map(|()| Outcome::Copied);
                    }
                }
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

    /// Reads `range` of the source into one buffer, checking its length.
    async fn read_range(&self, key: &str, range: Range<u64>) -> Result<Bytes, StoreError> {
        let data = self.read_clipped(key, range.clone()).await?;
        if self.options.policy.check_length && data.len() as u64 != range.end - range.start {
            return Err(length_mismatch(key, &range, data.len() as u64));
        }
        Ok(data)
    }

    /// Reads `range` of the source into one buffer: what the source holds of it, which is less
    /// than the range where the object ends first.
    async fn read_clipped(&self, key: &str, range: Range<u64>) -> Result<Bytes, StoreError> {
        self.pace(key, range.end - range.start).await?;
        let mut stream = self.source.read(key, Some(range)).await?;
        let mut pieces = Vec::new();
        while let Some(piece) = stream.try_next().await? {
            pieces.push(piece);
        }
        // A local range arrives as one piece (one positional read): used as it is, no copy.
        Ok(if pieces.len() == 1 {
            pieces.pop().unwrap_or_default()
        } else {
            let mut joined = BytesMut::with_capacity(pieces.iter().map(Bytes::len).sum());
            pieces.iter().for_each(|p| joined.extend_from_slice(p));
            joined.freeze()
        })
    }

    /// Reads all of `t` in one request, failing if the source changed since it was listed.
    ///
    /// From a store whose reads are snapshots ([`ferry_store::Capabilities::snapshot_reads`]),
    /// one byte past the listed size is asked for: an object that grew shows the extra byte, one
    /// that shrank comes up short, and the bytes that did come are one version of the object, so
    /// no second request (a stat) is needed. (A replacement of the same size is caught by the
    /// source's MD5, which the destination checks the body against, when the source has one;
    /// without one, what arrives is still one whole version of the object.) Other sources are
    /// read, then looked at again.
    async fn read_whole(&self, t: &Transfer) -> Result<Bytes, StoreError> {
        if !self.source.capabilities().snapshot_reads {
            let data = if t.size == 0 { Bytes::new() } else { self.read_range(&t.source_key, 0..t.size).await? };
            self.check_source_unchanged(t).await?;
            return Ok(data);
        }
        let data = self.read_clipped(&t.source_key, 0..t.size + 1).await?;
        if data.len() as u64 != t.size {
            return Err(source_modified(&t.source_key));
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

    /// Fails the item if the source changed (size or time) since it was listed.
    async fn check_source_unchanged(&self, t: &Transfer) -> Result<(), StoreError> {
        let Some(listed_time) = t.last_modified else { return Ok(()) };
        let now = self.source.stat(&t.source_key).await?;
        if now.size != t.size || now.last_modified != Some(listed_time) {
            return Err(source_modified(&t.source_key));
        }
        Ok(())
    }

    fn write_options(&self) -> WriteOptions {
        WriteOptions {
            overwrite: self.options.policy.overwrite != Overwrite::False,
            ..self.options.policy.write.clone()
        }
    }
}

/// Whether `t` is a stored symbolic link (AzCopy's `is_symlink` metadata).
fn is_stored_link(t: &Transfer) -> bool {
    t.properties
        .as_ref()
        .and_then(|p| p.metadata.get(ferry_store::SYMLINK_METADATA))
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The error for a source that changed while it was copied.
fn source_modified(key: &str) -> StoreError {
    StoreError::new(
        ErrorKind::Other,
        key,
        "the source was modified during the transfer (its size or modification time changed); nothing was committed",
    )
    .with_hint("run the command again once the file has stopped changing")
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
