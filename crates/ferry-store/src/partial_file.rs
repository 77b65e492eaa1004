//! A local file written at arbitrary offsets and published by rename: how downloads land.
//!
//! The file is created beside its target under a [`crate::TEMP_PREFIX`] name and sized up
//! front; ranges are written with positional writes from blocking threads, so parallel ranged
//! downloads need no ordering; `finish` checks the length, sets the modification time if asked,
//! and renames it into place. Dropped unfinished, it deletes itself: no partial file ever
//! appears under the final name.

use std::fs;
use std::io::{IoSlice, Seek, SeekFrom};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use bytes::Bytes;
use ferry_md5::Md5;
use futures::StreamExt;

use crate::direct_write::DirectFile;
use crate::local::{publish, temp_name};
use crate::safe_dir::{SafeDir, is_own_regular_file};
use crate::{ByteStream, ErrorKind, FinishOptions, PositionalSink, PositionalWrite, Result, StoreError};

pub(crate) struct PartialFile {
    key: String,
    /// The directory of the target, reached without following links.
    dir: SafeDir,
    temp: String,
    target: String,
    size: AtomicU64,
    file: Arc<fs::File>,
    /// Held around each write. The kernel lets one buffered write into a file at a time (the
    /// inode lock) and has the others spin on the CPU while they wait; queued here, they sleep.
    writing: Arc<Mutex<()>>,
    /// The same file opened for writes around the page cache, when first asked for (only a
    /// download that would use it asks) and if it can be.
    direct: Arc<OnceLock<Option<DirectFile>>>,
    /// Published, or kept on purpose for a later run: either way, not deleted on drop.
    published: bool,
}

impl PartialFile {
    /// Opens the partial file named by `tag` beside `target` (in `dir`) if it is a regular file
    /// of this user's with `size` bytes (returns true), or creates it afresh (returns false).
    /// Anything else under that name (a link planted there, a file of another size or owner) is
    /// removed first: it is never opened, followed or written through.
    pub(crate) fn reopen(key: &str, dir: SafeDir, target: String, size: u64, tag: &str) -> Result<(Self, bool)> {
        let temp = format!("{}{tag}", crate::TEMP_PREFIX);
        let existing = dir.open_file(&temp, true).ok().filter(|f| is_own_regular_file(f, size));
        let reopened = existing.is_some();
        let file = match existing {
            Some(file) => file,
            None => {
                match dir.unlink(&temp) {
                    Ok(()) => tracing::debug!(path = %dir.shown(&temp), "replacing an unusable partial download"),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(StoreError::from_io(e, dir.shown(&temp))),
                }
                create_sized(&dir, &temp, size)?
            }
        };
        Ok((Self::new(key, dir, temp, target, size, file), reopened))
    }

    /// Creates the temporary file for `target` (in `dir`), `size` bytes long.
    pub(crate) fn create(key: &str, dir: SafeDir, target: String, size: u64) -> Result<Self> {
        let temp = temp_name();
        let file = create_sized(&dir, &temp, size)?;
        Ok(Self::new(key, dir, temp, target, size, file))
    }

    fn new(key: &str, dir: SafeDir, temp: String, target: String, size: u64, file: fs::File) -> Self {
        let (size, file) = (AtomicU64::new(size), Arc::new(file));
        let writing = Arc::default();
        Self { key: key.to_owned(), dir, temp, target, size, file, writing, direct: Arc::default(), published: false }
    }
}

/// The buffer a written range is hashed through: small enough to stay in the CPU's cache between
/// the copy out of the page cache and the hash, and kept by each blocking thread, so it is not
/// allocated and zeroed again for every range.
const HASH_BUFFER: usize = 128 * 1024;

std::thread_local! {
    static HASH_THROUGH: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; HASH_BUFFER]);
}

/// Writes `pieces` one after another from `offset` with vectored writes (`pwritev`) of at most
/// [`WRITE_CALL_MOST`] bytes each, however short each write turns out.
fn write_all_pieces_at(file: &fs::File, pieces: &[Bytes], mut offset: u64) -> std::io::Result<()> {
    // Bytes of `pieces[first]` already written.
    let (mut first, mut done) = (0, 0);
    loop {
        while first < pieces.len() && done == pieces[first].len() {
            (first, done) = (first + 1, 0);
        }
        if first == pieces.len() {
            return Ok(());
        }
        let mut room = WRITE_CALL_MOST;
        let slices: Vec<IoSlice<'_>> = std::iter::once(&pieces[first][done..])
            .chain(pieces[first + 1..].iter().map(|p| &p[..]))
            .take(IOV_MOST)
            .map_while(|piece| {
                let take = piece.len().min(room);
                room -= take;
                (take > 0).then(|| IoSlice::new(&piece[..take]))
            })
            .collect();
        let mut written = match rustix::io::pwritev(file, &slices, offset) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => n,
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        };
        offset += written as u64;
        while written > 0 {
            let left = pieces[first].len() - done;
            if written < left {
                done += written;
                break;
            }
            written -= left;
            (first, done) = (first + 1, 0);
        }
    }
}

/// Slices one `pwritev` takes at most (Linux's `IOV_MAX`).
const IOV_MOST: usize = 1024;

/// Bytes one `pwritev` writes at most. Linux sizes the page cache's folios by the write, and with
/// the page cache full a 1 MiB folio was slow to fill here: a 1k × 1 MiB download spent 21% of
/// its samples in the copy into it (`copy_folio_from_iter_atomic`) in 1 MiB writes, 10% in
/// 256 KiB ones and 4% in 64 KiB ones, as rclone's are (README, Performance). Why large folios are
/// slow on this VM is a guess: freed memory handed back to the host, so the copy touches it first.
const WRITE_CALL_MOST: usize = 64 * 1024;

/// Sizes a new, empty file to `size` bytes with its blocks reserved where the filesystem can:
/// a download that cannot fit fails before it starts, and its writes find their blocks mapped
/// instead of reserving them page by page (ext4's delayed allocation: a 1 GiB download spent
/// 0.14 CPU-s in `ext4_da_get_block_prep` on a sparse file). Elsewhere (a filesystem without
/// `fallocate`) the file is sparse.
fn allocate(file: &fs::File, size: u64) -> std::io::Result<()> {
    if size > 0 {
        match rustix::fs::fallocate(file, rustix::fs::FallocateFlags::empty(), 0, size) {
            Ok(()) => return Ok(()),
            Err(e @ (rustix::io::Errno::NOSPC | rustix::io::Errno::DQUOT)) => return Err(e.into()),
            Err(_) => {}
        }
    }
    file.set_len(size)
}

/// Creates `name` in `dir` (it must not exist) and sizes it; leaves nothing behind on failure.
fn create_sized(dir: &SafeDir, name: &str, size: u64) -> Result<fs::File> {
    let file = dir.create_new(name).map_err(|e| StoreError::from_io(e, dir.shown(name)))?;
    if let Err(e) = allocate(&file, size) {
        // Created but not sized (no room?): leave nothing behind.
        let _ = dir.unlink(name);
        let full = matches!(e.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded);
        let error = StoreError::from_io(e, dir.shown(name));
        return Err(if full {
            error.with_hint(format!("the file needs {size} bytes there; free some space or choose another destination"))
        } else {
            error
        });
    }
    Ok(file)
}

/// The partial file as a blocking receive writes it: the same open file and the same turn at
/// writing, within the size it was created with.
struct FileSink {
    file: Arc<fs::File>,
    writing: Arc<Mutex<()>>,
    size: u64,
    direct: Arc<OnceLock<Option<DirectFile>>>,
}

impl FileSink {
    fn direct(&self) -> Option<&DirectFile> {
        self.direct.get_or_init(|| DirectFile::reopen(&self.file)).as_ref()
    }

    fn within(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        if offset.saturating_add(data.len() as u64) > self.size {
            let message = format!("a write at {offset}+{} goes past the announced size {}", data.len(), self.size);
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, message));
        }
        Ok(())
    }
}

impl PositionalSink for FileSink {
    fn write_at(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        self.within(offset, data)?;
        let _turn = self.writing.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.file.write_all_at(data, offset)
    }

    fn writes_direct(&self) -> bool {
        self.direct().is_some_and(DirectFile::usable)
    }

    fn write_direct_at(&self, offset: u64, data: &[u8]) -> std::io::Result<bool> {
        let Some(direct) = self.direct() else { return Ok(false) };
        self.within(offset, data)?;
        let _turn = self.writing.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        direct.write_at(offset, data)
    }
}

#[async_trait]
impl PositionalWrite for PartialFile {
    async fn write_at(&self, offset: u64, data: Bytes) -> Result<()> {
        self.write_pieces_at(offset, vec![data]).await
    }

    async fn write_pieces_at(&self, offset: u64, pieces: Vec<Bytes>) -> Result<()> {
        let len: u64 = pieces.iter().map(|p| p.len() as u64).sum();
        let size = self.size.load(Ordering::Relaxed);
        if offset + len > size {
            return Err(StoreError::new(
                ErrorKind::InvalidInput,
                &self.key,
                format!("a write at {offset}+{len} goes past the announced size {size}"),
            ));
        }
        let (file, writing) = (self.file.clone(), self.writing.clone());
        let temp = self.dir.shown(&self.temp);
        tokio::task::spawn_blocking(move || {
            let _turn = writing.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            write_all_pieces_at(&file, &pieces, offset).map_err(|e| StoreError::from_io(e, temp))
        })
        .await
        .map_err(|e| StoreError::new(ErrorKind::Other, &self.key, format!("the writer thread failed: {e}")))?
    }

    fn sink(&self) -> Option<Arc<dyn PositionalSink>> {
        let (file, writing) = (self.file.clone(), self.writing.clone());
        let direct = self.direct.clone();
        Some(Arc::new(FileSink { file, writing, size: self.size.load(Ordering::Relaxed), direct }))
    }

    async fn hash_written(&self, range: Range<u64>, mut hasher: Md5) -> Result<Md5> {
        let file = self.file.clone();
        let temp = self.dir.shown(&self.temp);
        tokio::task::spawn_blocking(move || {
            HASH_THROUGH.with_borrow_mut(|buffer| {
                let mut at = range.start;
                while at < range.end {
                    let len = usize::try_from((range.end - at).min(buffer.len() as u64)).unwrap_or(0);
                    file.read_exact_at(&mut buffer[..len], at).map_err(|e| StoreError::from_io(e, &temp))?;
                    hasher.update(&buffer[..len]);
                    at += len as u64;
                }
                Ok(hasher)
            })
        })
        .await
        .map_err(|e| StoreError::new(ErrorKind::Other, &self.key, format!("the reader thread failed: {e}")))?
    }

    async fn grow(&self, size: u64) -> Result<()> {
        if size > self.size.load(Ordering::Relaxed) {
            self.file.set_len(size).map_err(|e| StoreError::from_io(e, self.dir.shown(&self.temp)))?;
            self.size.store(size, Ordering::Relaxed);
        }
        Ok(())
    }

    async fn read_at(&self, offset: u64, len: usize) -> Result<Bytes> {
        let file = self.file.clone();
        let temp = self.dir.shown(&self.temp);
        tokio::task::spawn_blocking(move || {
            let mut buffer = vec![0u8; len];
            file.read_exact_at(&mut buffer, offset).map_err(|e| StoreError::from_io(e, &temp))?;
            Ok(Bytes::from(buffer))
        })
        .await
        .map_err(|e| StoreError::new(ErrorKind::Other, &self.key, format!("the reader thread failed: {e}")))?
    }

    async fn read_back(&self) -> Result<ByteStream> {
        let temp = self.dir.shown(&self.temp);
        // A second handle on the same open file (never reopened by name, which could be swapped).
        let mut file = self.file.try_clone().map_err(|e| StoreError::from_io(e, &temp))?;
        file.seek(SeekFrom::Start(0)).map_err(|e| StoreError::from_io(e, &temp))?;
        let file = tokio::fs::File::from_std(file);
        let stream = tokio_util::io::ReaderStream::with_capacity(file, 1024 * 1024)
            .map(move |r| r.map_err(|e| StoreError::from_io(e, &temp)));
        Ok(stream.boxed())
    }

    async fn finish(mut self: Box<Self>, options: &FinishOptions) -> Result<()> {
        let actual = self.file.metadata().map_err(|e| StoreError::from_io(e, self.dir.shown(&self.temp)))?.len();
        let size = self.size.load(Ordering::Relaxed);
        if actual != size {
            return Err(StoreError::new(
                ErrorKind::Other,
                &self.key,
                format!("the file is {actual} bytes, expected {size}"),
            ));
        }
        // No fsync: like the journal (WAL, synchronous=NORMAL), a finished file survives the
        // process being killed, which is the failure resume is built for; an fsync per file
        // would make many small downloads disk-bound.
        if let Some(modified) = options.last_modified {
            self.file.set_modified(modified).map_err(|e| StoreError::from_io(e, self.dir.shown(&self.temp)))?;
        }
        if let Some(mode) = options.mode {
            use std::os::unix::fs::PermissionsExt as _;
            self.file
                .set_permissions(std::fs::Permissions::from_mode(mode & 0o7777))
                .map_err(|e| StoreError::from_io(e, self.dir.shown(&self.temp)))?;
        }
        if let Some((uid, gid)) = options.owner {
            // Only a privileged process may give a file away; otherwise it stays the user's.
            let ids = (rustix::fs::Uid::from_raw(uid), rustix::fs::Gid::from_raw(gid));
            if let Err(e) = rustix::fs::fchown(&self.file, Some(ids.0), Some(ids.1)) {
                tracing::debug!(key = %self.key, error = %e, "not restoring the owner");
            }
        }
        let inherit = options.mode.is_none();
        publish(&self.dir, &self.temp, &self.target, options.overwrite, &self.key, &self.file, inherit)?;
        self.published = true;
        Ok(())
    }

    fn keep(mut self: Box<Self>) {
        self.published = true;
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if !self.published {
            let _ = self.dir.unlink(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pieces of every size, empty ones among them, one larger than a `pwritev` writes and more
    /// than one takes, land one after another from the offset, each byte where it belongs.
    #[test]
    fn pieces_land_in_order_at_the_offset() {
        let dir = tempfile::tempdir().unwrap();
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(dir.path().join("f"))
            .unwrap();
        let mut pieces = Vec::new();
        let mut expected = vec![0u8; 100];
        for i in 0..(IOV_MOST + 300) {
            let len = if i == 500 { 3 * WRITE_CALL_MOST + 5 } else { [0, 1, 7, 4096, 13][i % 5] };
            let piece: Vec<u8> = (0..len).map(|j| (i * 31 + j) as u8).collect();
            expected.extend_from_slice(&piece);
            pieces.push(Bytes::from(piece));
        }
        write_all_pieces_at(&file, &pieces, 100).unwrap();
        let mut written = vec![0u8; expected.len()];
        file.read_exact_at(&mut written, 0).unwrap();
        assert_eq!(written, expected);
        assert_eq!(file.metadata().unwrap().len(), expected.len() as u64);
    }

    /// A new partial file has its size and, where the filesystem reserves blocks (`fallocate`
    /// works on a probe file beside it), the blocks for all of it; an empty one has none.
    #[test]
    fn a_new_partial_file_is_sized_with_its_blocks_reserved() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let size = 8 * 1024 * 1024 + 5;
        let reserves = {
            let probe = fs::File::create(dir.path().join("probe")).unwrap();
            rustix::fs::fallocate(&probe, rustix::fs::FallocateFlags::empty(), 0, 4096).is_ok()
        };
        let safe = SafeDir::open(dir.path(), &[], false).unwrap();
        let file = create_sized(&safe, "big", size).unwrap();
        let meta = file.metadata().unwrap();
        assert_eq!(meta.len(), size);
        if reserves {
            assert!(meta.blocks() * 512 >= size, "{} blocks for {size} bytes", meta.blocks());
        }
        let empty = create_sized(&safe, "empty", 0).unwrap();
        assert_eq!((empty.metadata().unwrap().len(), empty.metadata().unwrap().blocks()), (0, 0));
    }
}
