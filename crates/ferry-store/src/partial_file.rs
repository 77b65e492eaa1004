//! A local file written at arbitrary offsets and published by rename: how downloads land.
//!
//! The file is created beside its target under a [`crate::TEMP_PREFIX`] name and sized up
//! front; ranges are written with positional writes from blocking threads, so parallel ranged
//! downloads need no ordering; `finish` checks the length, sets the modification time if asked,
//! and renames it into place. Dropped unfinished, it deletes itself: no partial file ever
//! appears under the final name.

use std::fs;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;

use crate::local::{publish, shown, temp_path};
use crate::{ByteStream, ErrorKind, FinishOptions, PositionalWrite, Result, StoreError};

pub(crate) struct PartialFile {
    key: String,
    temp: PathBuf,
    target: PathBuf,
    size: u64,
    file: Arc<fs::File>,
    /// Published, or kept on purpose for a later run: either way, not deleted on drop.
    published: bool,
}

impl PartialFile {
    /// Opens the partial file named by `tag` beside `target` if it exists with `size` bytes
    /// (returns true), or creates it (returns false).
    pub(crate) fn reopen(key: &str, target: PathBuf, size: u64, tag: &str) -> Result<(Self, bool)> {
        let dir = target.parent().map(PathBuf::from).unwrap_or_default();
        fs::create_dir_all(&dir).map_err(|e| StoreError::from_io(e, shown(&dir)))?;
        let temp = dir.join(format!("{}{tag}", crate::TEMP_PREFIX));
        let existing = fs::metadata(&temp).ok().filter(|m| m.is_file() && m.len() == size);
        let file = if existing.is_some() {
            fs::OpenOptions::new().read(true).write(true).open(&temp)
        } else {
            create_read_write(&temp).and_then(|f| f.set_len(size).map(|()| f)).inspect_err(|_| {
                // Created but not sized (no room?): leave nothing behind.
                let _ = fs::remove_file(&temp);
            })
        }
        .map_err(|e| StoreError::from_io(e, shown(&temp)))?;
        let reopened = existing.is_some();
        Ok((Self { key: key.to_owned(), temp, target, size, file: Arc::new(file), published: false }, reopened))
    }

    /// Creates the temporary file for `target`, `size` bytes long.
    pub(crate) fn create(key: &str, target: PathBuf, size: u64) -> Result<Self> {
        let dir = target.parent().map(PathBuf::from).unwrap_or_default();
        fs::create_dir_all(&dir).map_err(|e| StoreError::from_io(e, shown(&dir)))?;
        let temp = temp_path(&dir);
        let file = create_read_write(&temp).map_err(|e| StoreError::from_io(e, shown(&temp)))?;
        if let Err(e) = file.set_len(size) {
            let _ = fs::remove_file(&temp);
            return Err(StoreError::from_io(e, shown(&temp)));
        }
        Ok(Self { key: key.to_owned(), temp, target, size, file: Arc::new(file), published: false })
    }
}

/// Creates (or empties) `path` for writing and reading back.
fn create_read_write(path: &std::path::Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new().read(true).write(true).create(true).truncate(true).open(path)
}

#[async_trait]
impl PositionalWrite for PartialFile {
    async fn write_at(&self, offset: u64, data: Bytes) -> Result<()> {
        if offset + data.len() as u64 > self.size {
            return Err(StoreError::new(
                ErrorKind::InvalidInput,
                &self.key,
                format!("a write at {offset}+{} goes past the announced size {}", data.len(), self.size),
            ));
        }
        let file = self.file.clone();
        let temp = shown(&self.temp);
        tokio::task::spawn_blocking(move || file.write_all_at(&data, offset).map_err(|e| StoreError::from_io(e, temp)))
            .await
            .map_err(|e| StoreError::new(ErrorKind::Other, &self.key, format!("the writer thread failed: {e}")))?
    }

    async fn read_at(&self, offset: u64, len: usize) -> Result<Bytes> {
        let file = self.file.clone();
        let temp = shown(&self.temp);
        tokio::task::spawn_blocking(move || {
            let mut buffer = vec![0u8; len];
            file.read_exact_at(&mut buffer, offset).map_err(|e| StoreError::from_io(e, &temp))?;
            Ok(Bytes::from(buffer))
        })
        .await
        .map_err(|e| StoreError::new(ErrorKind::Other, &self.key, format!("the reader thread failed: {e}")))?
    }

    async fn read_back(&self) -> Result<ByteStream> {
        let temp = shown(&self.temp);
        let file = tokio::fs::File::open(&self.temp).await.map_err(|e| StoreError::from_io(e, &temp))?;
        let stream = tokio_util::io::ReaderStream::with_capacity(file, 1024 * 1024)
            .map(move |r| r.map_err(|e| StoreError::from_io(e, &temp)));
        Ok(stream.boxed())
    }

    async fn finish(mut self: Box<Self>, options: &FinishOptions) -> Result<()> {
        let actual = self.file.metadata().map_err(|e| StoreError::from_io(e, shown(&self.temp)))?.len();
        if actual != self.size {
            return Err(StoreError::new(
                ErrorKind::Other,
                &self.key,
                format!("the file is {actual} bytes, expected {}", self.size),
            ));
        }
        // No fsync: like the journal (WAL, synchronous=NORMAL), a finished file survives the
        // process being killed, which is the failure resume is built for; an fsync per file
        // would make many small downloads disk-bound.
        if let Some(modified) = options.last_modified {
            self.file.set_modified(modified).map_err(|e| StoreError::from_io(e, shown(&self.temp)))?;
        }
        publish(&self.temp, &self.target, options.overwrite, &self.key)?;
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
            let _ = fs::remove_file(&self.temp);
        }
    }
}
