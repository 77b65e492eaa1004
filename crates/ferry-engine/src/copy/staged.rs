//! A verified download's ranges held in memory until they are hashed, and written to the file
//! around the page cache.
//!
//! Why: MD5 is one chain over the file in order, but ranges arrive side by side, so a range that
//! comes before its turn has to wait somewhere. It used to wait in the page cache and be read back
//! for the hash: one copy into the cache, one out, and a new page for every 4 KiB, which on the
//! benchmark VM costs more than the copies (freed memory goes back to the host, and every new page
//! faults there). Held in a buffer of the run's, written with `O_DIRECT` and hashed from the
//! buffer, a range costs neither (`bench/receive-ceiling` `HASH=memory DIRECT=1`, README
//! Performance). The memory is bounded: [`STAGED_IN_FLIGHT`] ranges of [`STAGED_RANGE`] per file,
//! [`STAGED_FILES`] files at a time, and each range counts against the run's buffer budget until
//! hashed.
//!
//! Only where it can pay: the destination takes direct writes, the file has several ranges and an
//! MD5 to check, and no range size was asked for. Anything unexpected on the way (a receive begun
//! again from an earlier byte) writes what is held and leaves the range to be read back.

use std::sync::{Arc, Mutex, PoisonError};

use ferry_md5::Md5;
use ferry_store::{DIRECT_ALIGN, PositionalSink};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The range size of a staged download: the buffer each range is held in. Azurite served 8 MiB
/// ranges about as cheaply as 32 MiB ones, and 2 or 4 MiB ones at several times the CPU (one set of
/// `bench/receive-ceiling` runs, `RANGE_MB=2,4,8`: 5.8–9.6, 4.4–11.3 and 1.5–4.2 CPU-s per GiB).
pub(super) const STAGED_RANGE: u64 = 8 * 1024 * 1024;

/// Ranges of one file held at once (received, or waiting for the hash): 48 MiB. Six and eight ran
/// level on the 1 GiB download (2.03–2.20 s against 2.12–2.64; four: 1.97–2.73), with peak RSS 66 MB
/// against 82 (four: 50); six keep 48 MiB of ranges in flight for a link with more latency.
pub(super) const STAGED_IN_FLIGHT: usize = 6;

/// How much of a range is written at a time as it arrives: large enough that a direct write is
/// not slowed by its own latency, small enough that the tail written at the end is short.
const SEGMENT: usize = 1024 * 1024;

/// Files of a run held in memory at once: the staged memory of a run is at most
/// `STAGED_FILES × STAGED_IN_FLIGHT × STAGED_RANGE` (96 MiB), however many files are in flight.
const STAGED_FILES: usize = 2;

/// A run's staging: idle range buffers kept for the next ranges and files, so each is allocated
/// (and its pages faulted in) once per run rather than once per range, and the files' turns.
pub(super) struct StagingPool {
    free: Mutex<Vec<Vec<u8>>>,
    files: Arc<Semaphore>,
}

impl Default for StagingPool {
    fn default() -> Self {
        Self { free: Mutex::default(), files: Arc::new(Semaphore::new(STAGED_FILES)) }
    }
}

impl StagingPool {
    /// A file's turn to be held in memory, if one is free now (a file without one is downloaded
    /// through the page cache: waiting for a turn would hold it up for nothing).
    pub(super) fn file(&self) -> Option<OwnedSemaphorePermit> {
        self.files.clone().try_acquire_owned().ok()
    }

    fn take(&self) -> Vec<u8> {
        let kept = self.free.lock().unwrap_or_else(PoisonError::into_inner).pop();
        kept.unwrap_or_else(|| vec![0; STAGED_RANGE as usize + DIRECT_ALIGN])
    }

    fn give(&self, buffer: Vec<u8>) {
        if buffer.is_empty() {
            return;
        }
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        if free.len() < STAGED_FILES * STAGED_IN_FLIGHT {
            free.push(buffer);
        }
    }
}

/// One range on its way in: the sink its receive writes to.
pub(super) struct StagedRange {
    file: Arc<dyn PositionalSink>,
    start: u64,
    len: usize,
    state: Mutex<State>,
}

struct State {
    buffer: Vec<u8>,
    /// Where in `buffer` the range begins: the first aligned address.
    at: usize,
    /// Bytes received in order from the range's start.
    filled: usize,
    /// Of those, bytes written to the file.
    written: usize,
    /// Set by a write out of order: from then on writes go straight to the file.
    spoiled: bool,
}

/// A range received whole and written, held for the hash with its share of the budget.
pub(super) struct Staged {
    buffer: Vec<u8>,
    at: usize,
    len: usize,
    _held: Held,
}

/// What a staged range holds until hashed: its place among the file's ranges held at once, and
/// its share of the run's buffer budget.
pub(super) type Held = (OwnedSemaphorePermit, OwnedSemaphorePermit);

impl StagedRange {
    /// A range of `len` (at most [`STAGED_RANGE`]) bytes from `start`, a multiple of [`SEGMENT`].
    pub(super) fn new(file: Arc<dyn PositionalSink>, pool: &StagingPool, start: u64, len: usize) -> Self {
        debug_assert!(len as u64 <= STAGED_RANGE && start.is_multiple_of(SEGMENT as u64));
        let buffer = pool.take();
        let at = buffer.as_ptr().align_offset(DIRECT_ALIGN);
        let state = State { buffer, at, filled: 0, written: 0, spoiled: false };
        Self { file, start, len, state: Mutex::new(state) }
    }

    /// Ends the receive: writes what is still held and returns the range for the hash, or
    /// `None` when it did not arrive whole and in order (then it is read back from the file, and
    /// the buffer goes back to `pool`). A write after this goes straight to the file.
    pub(super) fn finish(&self, pool: &StagingPool, held: Held) -> std::io::Result<Option<Staged>> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if !state.spoiled {
            let filled = state.filled;
            write_held(&*self.file, self.start, &mut state, filled)?;
        }
        let whole = !state.spoiled && state.filled == self.len;
        state.spoiled = true;
        let buffer = std::mem::take(&mut state.buffer);
        if !whole {
            pool.give(buffer);
            return Ok(None);
        }
        Ok(Some(Staged { buffer, at: state.at, len: self.len, _held: held }))
    }

    /// Gives the buffer back unused: the range is read again another way, in full.
    pub(super) fn discard(&self, pool: &StagingPool) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.spoiled = true;
        pool.give(std::mem::take(&mut state.buffer));
    }
}

impl PositionalSink for StagedRange {
    fn write_at(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let next = self.start + state.filled as u64;
        if !state.spoiled && offset == next && state.filled + data.len() <= self.len {
            let from = state.at + state.filled;
            state.buffer[from..from + data.len()].copy_from_slice(data);
            state.filled += data.len();
            let whole = state.filled / SEGMENT * SEGMENT;
            if whole > state.written {
                write_held(&*self.file, self.start, &mut state, whole)?;
            }
            return Ok(());
        }
        // Out of order: what is held goes to the file first, then this and all later writes.
        if !state.spoiled {
            let filled = state.filled;
            write_held(&*self.file, self.start, &mut state, filled)?;
            state.spoiled = true;
        }
        self.file.write_at(offset, data)
    }
}

/// Writes the held bytes from `state.written` up to `upto` to the file: the aligned part around
/// the page cache where the file takes it, the rest (the end of the file) through it.
fn write_held(file: &dyn PositionalSink, start: u64, state: &mut State, upto: usize) -> std::io::Result<()> {
    let data = &state.buffer[state.at + state.written..state.at + upto];
    let offset = start + state.written as u64;
    let aligned = data.len() / DIRECT_ALIGN * DIRECT_ALIGN;
    let direct = aligned > 0 && file.write_direct_at(offset, &data[..aligned])?;
    let through = if direct { aligned } else { 0 };
    if through < data.len() {
        file.write_at(offset + through as u64, &data[through..])?;
    }
    state.written = upto;
    Ok(())
}

impl Staged {
    /// Adds the range to `hasher` (on the blocking pool: 8 MiB of MD5 is some 13 ms) and gives
    /// its buffer back to `pool`.
    pub(super) async fn hash_into(self, mut hasher: Md5, pool: Arc<StagingPool>) -> Md5 {
        tokio::task::spawn_blocking(move || {
            hasher.update(&self.buffer[self.at..self.at + self.len]);
            pool.give(self.buffer);
            hasher
        })
        .await
        .expect("hashing does not panic")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file in memory that takes direct writes when asked to, and counts both kinds.
    #[derive(Default)]
    struct File {
        data: Mutex<Vec<u8>>,
        direct: bool,
        writes: Mutex<(usize, usize)>,
    }

    impl File {
        fn put(&self, offset: u64, data: &[u8]) {
            let mut file = self.data.lock().unwrap();
            let end = offset as usize + data.len();
            if file.len() < end {
                file.resize(end, 0);
            }
            file[offset as usize..end].copy_from_slice(data);
        }
    }

    impl PositionalSink for File {
        fn write_at(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
            self.writes.lock().unwrap().1 += 1;
            self.put(offset, data);
            Ok(())
        }

        fn write_direct_at(&self, offset: u64, data: &[u8]) -> std::io::Result<bool> {
            assert!(offset.is_multiple_of(DIRECT_ALIGN as u64) && data.len().is_multiple_of(DIRECT_ALIGN));
            assert_eq!(data.as_ptr().align_offset(DIRECT_ALIGN), 0, "aligned memory");
            if self.direct {
                self.writes.lock().unwrap().0 += 1;
                self.put(offset, data);
            }
            Ok(self.direct)
        }
    }

    fn held() -> Held {
        let permits = Arc::new(Semaphore::new(2));
        (permits.clone().try_acquire_owned().unwrap(), permits.try_acquire_owned().unwrap())
    }

    fn bytes(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    /// Writes `data` (the range from `start`) in receive-sized pieces.
    fn receive(range: &StagedRange, start: u64, data: &[u8]) {
        for (i, piece) in data.chunks(32 * 1024 + 7).enumerate() {
            range.write_at(start + (i * (32 * 1024 + 7)) as u64, piece).unwrap();
        }
    }

    #[tokio::test]
    async fn a_range_in_order_is_written_direct_and_held_for_the_hash() {
        for direct in [true, false] {
            let file = Arc::new(File { direct, ..File::default() });
            let pool = StagingPool::default();
            // The file's last range: 3 MiB and 100 bytes, so its end is not aligned.
            let (start, data) = (8 * 1024 * 1024, bytes(3 * 1024 * 1024 + 100));
            let range = StagedRange::new(file.clone(), &pool, start, data.len());
            receive(&range, start, &data);
            let staged = range.finish(&pool, held()).unwrap().expect("whole and in order");
            assert_eq!(&staged.buffer[staged.at..staged.at + staged.len], &data[..]);
            assert_eq!(&file.data.lock().unwrap()[start as usize..], &data[..]);
            let (direct_writes, writes) = *file.writes.lock().unwrap();
            if direct {
                // Each whole MiB as it completed; only the last 100 bytes through the page cache.
                assert_eq!((direct_writes, writes), (3, 1));
            } else {
                assert_eq!(direct_writes, 0);
            }
            let pool = Arc::new(pool);
            let hashed = staged.hash_into(Md5::new(), pool.clone()).await;
            assert_eq!(pool.free.lock().unwrap().len(), 1, "the buffer is back for the next range");
            assert_eq!(hashed.finalize(), Md5::digest(&data));
        }
    }

    #[test]
    fn a_receive_begun_again_or_cut_short_leaves_the_range_to_be_read_back() {
        let data = bytes(2 * 1024 * 1024 + 5000);
        // Begun again from an earlier byte (a resumed body): the file still gets every byte.
        let file = Arc::new(File { direct: true, ..File::default() });
        let pool = StagingPool::default();
        let range = StagedRange::new(file.clone(), &pool, 0, data.len());
        receive(&range, 0, &data[..1_500_000]);
        range.write_at(1_000_000, &data[1_000_000..]).unwrap();
        assert!(range.finish(&pool, held()).unwrap().is_none());
        assert_eq!(*file.data.lock().unwrap(), data);
        // Cut short: what arrived is in the file, and there is nothing to hash from memory.
        let file = Arc::new(File { direct: true, ..File::default() });
        let range = StagedRange::new(file.clone(), &pool, 0, data.len());
        receive(&range, 0, &data[..1_234_567]);
        assert!(range.finish(&pool, held()).unwrap().is_none());
        assert_eq!(*file.data.lock().unwrap(), data[..1_234_567]);
        // A write after the end goes to the file.
        range.write_at(1_234_567, &data[1_234_567..]).unwrap();
        assert_eq!(*file.data.lock().unwrap(), data);
    }

    #[test]
    fn only_so_many_files_are_held_at_once() {
        let pool = StagingPool::default();
        let turns: Vec<_> = (0..STAGED_FILES).map(|_| pool.file().expect("a free turn")).collect();
        assert!(pool.file().is_none(), "a file beyond them goes through the page cache");
        drop(turns);
        assert!(pool.file().is_some(), "turns come back when files end");
    }
}
