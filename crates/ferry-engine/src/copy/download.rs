//! Downloads: any source to a destination that takes positional writes (local disk).

use std::ops::Range;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use ferry_md5::Md5;
use ferry_store::{ErrorKind, FinishOptions, PositionalSink, PositionalWrite, StoreError};
use futures::{StreamExt, TryStreamExt, stream};

use super::staged::{STAGED_IN_FLIGHT, STAGED_RANGE, Staged, StagedRange};
use super::{
    CheckMd5, Context, DIRECT_WHOLE_MIN, Overwrite, Transfer, WHOLE_WRITE_MAX, chunks, length_mismatch,
    ranges_in_flight, sizing_error, write_piece,
};
use crate::sizing::download_range;

impl Context {
    /// Any source to a destination that takes positional writes (local disk): parallel ranged
    /// reads into a temporary file, verified, then renamed into place. The temporary file is
    /// named by the job and the source's version, and each finished chunk is recorded, so a run
    /// cut off by a crash or Ctrl-C continues from the chunks already written.
    pub(super) async fn download(&self, t: &Transfer, moved: &AtomicU64, unfinished: bool) -> Result<(), StoreError> {
        let check = self.options.policy.check_md5;
        self.require_md5(t)?;
        let chunk =
            download_range(t.size, self.options.policy.block_size).map_err(|e| sizing_error(&t.source_key, e))?;
        let tag = self.version_tag(t);
        let (writer, reopened) = match self.dest.reopen_positional_write(&t.dest_key, t.size, &tag).await {
            Ok(pair) => pair,
            Err(e) if e.kind() == ErrorKind::NotSupported => {
                (self.dest.begin_positional_write(&t.dest_key, t.size).await?, false)
            }
            Err(e) => return Err(e),
        };
        let verify = t.content_md5.is_some() && check != CheckMd5::NoCheck;
        let file = writer.sink();
        // A file of several ranges with an MD5 to check, received directly into a file that takes
        // direct writes: each range is held in memory until hashed (`staged`), if one of the run's
        // turns for that is free (many large files in parallel are fast anyway, and would otherwise
        // hold 48 MiB each).
        let staging = verify
            && t.size > chunk
            && self.options.policy.block_size.is_none()
            && self.source.capabilities().reads_into
            && file.as_ref().is_some_and(|f| f.writes_direct());
        let staged_turn = staging.then(|| self.staging.file()).flatten();
        let staging = staged_turn.is_some();
        let chunk = if staging { STAGED_RANGE } else { chunk };
        let window = staging.then(|| Arc::new(tokio::sync::Semaphore::new(STAGED_IN_FLIGHT)));
        // Chunks are recorded under the range size too: a run that cut the file differently (an
        // older version, another --block-size-mb) has offsets that do not mark these ranges.
        let chunk_tag = format!("{tag}/{chunk}");
        let observer = self.options.observer.as_deref();
        // Recorded chunks count only if their file survived; the MD5 check below covers them too.
        let done: std::collections::HashSet<u64> = match observer {
            Some(o) if reopened && unfinished => o.chunks_done(t, &chunk_tag).into_iter().collect(),
            _ => std::collections::HashSet::new(),
        };
        let shared: &dyn PositionalWrite = &*writer;
        // A file of one range is hashed by the thread that receives it, as the bytes land.
        let sink = file.map(|file| DirectSink::new(file, verify && t.size <= chunk));
        // A file that is one range is read whole, with no range asked for, where one read is one
        // version of the object: the length check then also catches an object that grew since it
        // was listed (a range would have cut the new version to the old length).
        let whole_read = t.size <= chunk && self.source.capabilities().snapshot_reads;
        let chunks_in_order = stream::iter(chunks(t.size, chunk))
            .map(|range| {
                let writer = shared;
                let (tag, done, sink, window) = (&chunk_tag, &done, &sink, &window);
                async move {
                    self.check_cancelled(&t.source_key)?;
                    let len = range.end - range.start;
                    if done.contains(&range.start) {
                        self.stats.reused(len);
                        return Ok(None);
                    }
                    let fetched = match (window, sink) {
                        (Some(window), Some(sink)) => self.fetch_staged(t, range.clone(), window, writer, sink).await?,
                        _ => {
                            let _budget = self.budget.reserve(write_piece(len) as u64).await;
                            let _request = self.requests.acquire().await.expect("never closed");
                            self.fetch_range(&t.source_key, range.clone(), whole_read, writer, sink.as_ref()).await?
                        }
                    };
                    if let Some(o) = observer {
                        o.chunk_done(t, tag, range.start);
                    }
                    self.count_moved(moved, len);
                    Ok::<Option<(Range<u64>, Fetched)>, StoreError>(Some((range, fetched)))
                }
            })
            // In order, so the MD5 is computed while later ranges arrive, from the page cache,
            // instead of in one pass at the end.
            .buffered(if staging { STAGED_IN_FLIGHT } else { ranges_in_flight(chunk, verify) });
        // Fetching and hashing run side by side: the ranges keep arriving while a finished one is
        // hashed (awaiting the hash inside the fetch loop would stall every transfer meanwhile, so
        // a download took the fetch time plus the hash time). Only range descriptors wait in the
        // channel, and data only for a single-piece range (at most WHOLE_WRITE_MAX).
        let (finished, mut to_hash) = tokio::sync::mpsc::unbounded_channel();
        let fetch = async move {
            let mut chunks_in_order = std::pin::pin!(chunks_in_order);
            while let Some(range) = chunks_in_order.try_next().await? {
                // The receiver goes only with an error of its own, which ends this join anyway.
                let _ = finished.send(range);
            }
            Ok::<(), StoreError>(())
        };
        let hash = async {
            let mut hasher = verify.then(Md5::new);
            while let Some(range) = to_hash.recv().await {
                hasher = match (hasher, range) {
                    // The range was written in one piece, still at hand: no need to read it back.
                    (Some(h), Some((_, Fetched::Pieces(data)))) => Some(hash_pieces(h, data).await),
                    // Held in memory until now (and written around the page cache).
                    (Some(h), Some((range, Fetched::Staged(held)))) => {
                        tracing::debug!(source = %t.source_key, ?range, "hashed from memory, written around the page cache");
                        Some(held.hash_into(h, self.staging.clone()).await)
                    }
                    (Some(h), Some((range, Fetched::Written))) => Some(shared.hash_written(range, h).await?),
                    // The whole file, hashed as it arrived (only a file of one range is).
                    (Some(_), Some((_, Fetched::Hashed(whole)))) => {
                        tracing::debug!(source = %t.source_key, "hashed as it arrived");
                        Some(whole)
                    }
                    // A chunk kept from an earlier run: the whole file is hashed at the end.
                    _ => None,
                };
            }
            Ok::<Option<Md5>, StoreError>(hasher)
        };
        let written = futures::future::try_join(fetch, hash).await.map(|((), hasher)| hasher);
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
            let actual: [u8; 16] = hasher.finalize();
            self.judge_md5(t, actual, expected)?;
            self.observe_md5(t, Some(actual));
        }
        writer.finish(&self.finish_options(t)).await
    }

    /// Fails `t` before anything is read when `--check-md5 FailIfDifferentOrMissing` finds no
    /// stored MD5 to check against.
    pub(super) fn require_md5(&self, t: &Transfer) -> Result<(), StoreError> {
        if self.options.policy.check_md5 == CheckMd5::FailIfDifferentOrMissing && t.content_md5.is_none() {
            return Err(StoreError::new(
                ErrorKind::InvalidInput,
                &t.source_key,
                "the source has no stored Content-MD5, and --check-md5 is FailIfDifferentOrMissing",
            )
            .with_hint("upload it with --put-md5, or use --check-md5 FailIfDifferent"));
        }
        Ok(())
    }

    /// Judges a downloaded MD5 against the stored one, as `--check-md5` says.
    pub(super) fn judge_md5(&self, t: &Transfer, actual: [u8; 16], expected: [u8; 16]) -> Result<(), StoreError> {
        if actual == expected {
            return Ok(());
        }
        let message = "the downloaded data does not match the Content-MD5 stored with the source";
        if self.options.policy.check_md5 == CheckMd5::LogOnly {
            tracing::warn!(source = %t.source_key, "{message}; keeping it (--check-md5 LogOnly)");
            return Ok(());
        }
        Err(StoreError::new(ErrorKind::Other, &t.source_key, message)
            .with_hint("the data changed in transit or the stored MD5 is wrong; nothing was written"))
    }

    /// How a downloaded file is published: its time and, with POSIX properties, mode and owner.
    pub(super) fn finish_options(&self, t: &Transfer) -> FinishOptions {
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
        finish
    }

    /// Reads `range` of the source into `writer` at its offsets: straight into `sink` where the
    /// source can ([`ferry_store::Store::read_into`]: no pieces cross the runtime, ~0.2 CPU-s per
    /// GiB less measured) and the range is larger than one write piece or is a whole file of at
    /// least [`DIRECT_WHOLE_MIN`]; otherwise, or when that was not taken, by [`Self::stream_range_to`].
    async fn fetch_range(
        &self,
        key: &str,
        range: Range<u64>,
        whole_read: bool,
        writer: &dyn PositionalWrite,
        sink: Option<&DirectSink>,
    ) -> Result<Fetched, StoreError> {
        let len = range.end - range.start;
        self.pace(key, len).await?;
        let direct = len > WHOLE_WRITE_MAX as u64 || (whole_read && len >= DIRECT_WHOLE_MIN);
        if let Some(sink) = sink.filter(|_| direct)
            && self.source.read_into(key, range.clone(), whole_read, sink.target()).await?
        {
            return Ok(sink.hashed(&range).map_or(Fetched::Written, Fetched::Hashed));
        }
        Ok(match self.stream_range_to(key, range, whole_read, writer).await? {
            Some(pieces) => Fetched::Pieces(pieces),
            None => Fetched::Written,
        })
    }

    /// Reads `range` of the source into a buffer held until hashed, writing it to the file as it
    /// arrives ([`StagedRange`]), within the file's `window` of ranges held and the run's buffer
    /// budget. Where the direct read is not taken, the range is streamed as any other.
    async fn fetch_staged(
        &self,
        t: &Transfer,
        range: Range<u64>,
        window: &Arc<tokio::sync::Semaphore>,
        writer: &dyn PositionalWrite,
        sink: &DirectSink,
    ) -> Result<Fetched, StoreError> {
        let (key, len) = (&t.source_key, range.end - range.start);
        let place = window.clone().acquire_owned().await.expect("never closed");
        let budget = self.budget.reserve(len).await;
        let _request = self.requests.acquire().await.expect("never closed");
        self.pace(key, len).await?;
        let staged = Arc::new(StagedRange::new(sink.file.clone(), &self.staging, range.start, len as usize));
        if self.source.read_into(key, range.clone(), false, staged.clone()).await? {
            let held =
                staged.finish(&self.staging, (place, budget)).map_err(|e| StoreError::from_io(e, &t.dest_key))?;
            return Ok(held.map_or(Fetched::Written, Fetched::Staged));
        }
        staged.discard(&self.staging);
        Ok(match self.stream_range_to(key, range, false, writer).await? {
            Some(pieces) => Fetched::Pieces(pieces),
            None => Fetched::Written,
        })
    }

    /// Streams `range` of the source into `writer` at its offsets, in vectored writes of about
    /// [`write_piece`] bytes: memory per range in flight stays at one piece, not the range, and
    /// the network's pieces are written as they came, not copied into one buffer first.
    /// With `whole_read`, `range` is all of the object and is read with no range asked for.
    /// Fails unless exactly the range's length arrives (a short answer would leave a hole; a
    /// longer one is another version of the object).
    /// Returns the data when it went out in a single write (a small file), so it can be hashed
    /// without reading it back. The caller paces it (`--cap-mbps`).
    pub(super) async fn stream_range_to(
        &self,
        key: &str,
        range: Range<u64>,
        whole_read: bool,
        writer: &dyn PositionalWrite,
    ) -> Result<Option<Vec<Bytes>>, StoreError> {
        let expected = range.end - range.start;
        let asked = (!whole_read).then(|| range.clone());
        let mut stream = self.source.read(key, asked).await?;
        let mut out = PieceWriter { writer, start: range.start, at: range.start, only: None };
        let piece_size = write_piece(expected).max(1);
        let (mut batch, mut batched) = (Vec::new(), 0usize);
        while let Some(piece) = stream.try_next().await? {
            let received = out.at - range.start + (batched + piece.len()) as u64;
            if received > expected {
                return Err(length_mismatch(key, &range, received));
            }
            batched += piece.len();
            batch.push(piece);
            if batched >= piece_size {
                out.write(std::mem::take(&mut batch), batched).await?;
                batched = 0;
            }
        }
        if batched > 0 {
            out.write(batch, batched).await?;
        }
        if out.at != range.end {
            return Err(length_mismatch(key, &range, out.at - range.start));
        }
        Ok(out.only)
    }

    /// Makes the destination key a symbolic link to the target a stored link holds.
    pub(super) async fn restore_link(&self, t: &Transfer, moved: &AtomicU64) -> Result<(), StoreError> {
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
}

/// What [`Context::fetch_range`] did with a range, for the in-order hash.
enum Fetched {
    /// Written in one piece, which is still at hand to hash.
    Pieces(Vec<Bytes>),
    /// Written; the hash reads it back.
    Written,
    /// Written and hashed as it arrived: the MD5 of the whole file, which was this one range.
    Hashed(Md5),
    /// Written, and held in memory for the hash.
    Staged(Staged),
}

/// Where a direct receive writes ([`ferry_store::Store::read_into`]): the partial file, and for
/// a verified file of one range also its hash, computed on the receiving thread as each piece
/// lands, while it is still in the CPU's cache, instead of read back from the page cache.
struct DirectSink {
    file: Arc<dyn PositionalSink>,
    hashing: Option<Arc<HashingSink>>,
}

impl DirectSink {
    fn new(file: Arc<dyn PositionalSink>, hash: bool) -> Self {
        let hashing =
            hash.then(|| Arc::new(HashingSink { file: file.clone(), state: Mutex::new(Some((0, Md5::new()))) }));
        Self { file, hashing }
    }

    fn target(&self) -> Arc<dyn PositionalSink> {
        match &self.hashing {
            Some(hashing) => hashing.clone(),
            None => self.file.clone(),
        }
    }

    /// The MD5 of the file when it was hashed on arrival, in order, from its first byte to the
    /// end of `range`; `None` otherwise (then it is read back).
    fn hashed(&self, range: &Range<u64>) -> Option<Md5> {
        let state = self.hashing.as_ref()?.state.lock().unwrap_or_else(PoisonError::into_inner).take();
        state.filter(|(next, _)| *next == range.end).map(|(_, hasher)| hasher)
    }
}

/// A sink that hashes what is written through it in order from offset 0. A write anywhere else
/// (a receive started over from an earlier byte) spoils the hash for good.
struct HashingSink {
    file: Arc<dyn PositionalSink>,
    /// The next offset in order and the hash of everything before it.
    state: Mutex<Option<(u64, Md5)>>,
}

impl PositionalSink for HashingSink {
    fn write_at(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        let written = self.file.write_at(offset, data);
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match &mut *state {
            Some((next, hasher)) if written.is_ok() && *next == offset => {
                hasher.update(data);
                *next += data.len() as u64;
            }
            _ => *state = None,
        }
        written
    }
}

/// Writes a range's pieces one after another, remembering the first write while it is the only one.
struct PieceWriter<'a> {
    writer: &'a dyn PositionalWrite,
    start: u64,
    at: u64,
    /// The data of the range's only write so far; `None` once there is a second.
    only: Option<Vec<Bytes>>,
}

impl PieceWriter<'_> {
    async fn write(&mut self, pieces: Vec<Bytes>, len: usize) -> Result<(), StoreError> {
        self.only = (self.at == self.start).then(|| pieces.clone());
        self.writer.write_pieces_at(self.at, pieces).await?;
        self.at += len as u64;
        Ok(())
    }
}

/// Feeds `pieces` to `hasher`, in order: on the blocking pool when they are large enough to hold
/// up a runtime thread.
async fn hash_pieces(mut hasher: Md5, pieces: Vec<Bytes>) -> Md5 {
    if pieces.iter().map(Bytes::len).sum::<usize>() < 256 * 1024 {
        pieces.iter().for_each(|p| hasher.update(p));
        return hasher;
    }
    tokio::task::spawn_blocking(move || {
        pieces.iter().for_each(|p| hasher.update(p));
        hasher
    })
    .await
    .expect("hashing does not panic")
}

/// Feeds `data` to `hasher`: on the blocking pool when it is large enough to hold up a runtime
/// thread (MD5 runs at about 600 MB/s, so 8 MiB takes some 13 ms).
pub(super) async fn hash_more(mut hasher: Md5, data: Bytes) -> Md5 {
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

    /// A file in memory, as the partial file looks to a receive.
    #[derive(Default)]
    struct Memory(Mutex<Vec<u8>>);

    impl PositionalSink for Memory {
        fn write_at(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
            let mut file = self.0.lock().unwrap();
            let end = offset as usize + data.len();
            if file.len() < end {
                file.resize(end, 0);
            }
            file[offset as usize..end].copy_from_slice(data);
            Ok(())
        }
    }

    fn written(sink: &DirectSink, writes: &[(u64, &[u8])]) {
        let target = sink.target();
        for (offset, data) in writes {
            target.write_at(*offset, data).unwrap();
        }
    }

    #[test]
    fn a_file_written_in_order_is_hashed_as_it_arrives() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let file = Arc::new(Memory::default());
        let sink = DirectSink::new(file.clone(), true);
        written(&sink, &[(0, &data[..40_000]), (40_000, &data[40_000..])]);
        let hashed = sink.hashed(&(0..data.len() as u64)).expect("hashed in order");
        assert_eq!(hashed.finalize(), Md5::digest(&data));
        assert_eq!(*file.0.lock().unwrap(), data);
    }

    #[test]
    fn a_write_out_of_order_or_a_short_file_leaves_it_to_be_read_back() {
        let data = vec![7u8; 1000];
        // Started over from an earlier byte (a receive that began again): the file is right, the
        // hash would not be, so there is none.
        let sink = DirectSink::new(Arc::new(Memory::default()), true);
        written(&sink, &[(0, &data[..600]), (0, &data[..600]), (600, &data[600..])]);
        assert!(sink.hashed(&(0..1000)).is_none());
        // Fewer bytes than the range.
        let sink = DirectSink::new(Arc::new(Memory::default()), true);
        written(&sink, &[(0, &data[..600])]);
        assert!(sink.hashed(&(0..1000)).is_none());
        // Not asked to hash (a file of several ranges, or no MD5 to check).
        let sink = DirectSink::new(Arc::new(Memory::default()), false);
        written(&sink, &[(0, &data)]);
        assert!(sink.hashed(&(0..1000)).is_none());
    }
}
