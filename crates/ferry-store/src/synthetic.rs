//! Stores that are not storage: a source of generated objects and a sink that discards what it
//! is given. `ferry bench` uses them to measure the network and the service without the local
//! disk (as AzCopy's `bench` does).

use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;

use crate::{
    ByteStream, Capabilities, Entry, EntryStream, ErrorKind, FinishOptions, ListDepth, PartId, PartList, Payload,
    PositionalWrite, Result, Store, StoreError, WriteOptions, WriteReceipt,
};

/// Bytes the generated objects are cut from: random, so nothing on the way can compress them.
const POOL: usize = 4 * 1024 * 1024;

/// `count` objects of `size` bytes each, named `NNNNNNNN.dat` (in `folders` subfolders when
/// `folders` is above zero), whose content is cut from a pool of random bytes.
#[derive(Debug)]
pub struct GeneratedSource {
    count: u64,
    size: u64,
    folders: u64,
    pool: Bytes,
}

impl GeneratedSource {
    /// A source of `count` objects of `size` bytes, spread over `folders` folders (0: none).
    pub fn new(count: u64, size: u64, folders: u64) -> Self {
        // A small xorshift generator: the bytes only need to be incompressible, not secret.
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut pool = Vec::with_capacity(POOL);
        while pool.len() < POOL {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            pool.extend_from_slice(&state.to_le_bytes());
        }
        Self { count, size, folders, pool: Bytes::from(pool) }
    }

    /// The key of object `index`.
    pub fn key(&self, index: u64) -> String {
        if self.folders == 0 {
            format!("{index:08}.dat")
        } else {
            format!("folder{:04}/{index:08}.dat", index % self.folders)
        }
    }

    /// The bytes of `range` (of any object): consecutive slices of the pool, no copying.
    fn bytes(&self, range: Range<u64>) -> ByteStream {
        let mut pieces = Vec::new();
        let mut at = range.start;
        while at < range.end {
            let offset = usize::try_from(at % POOL as u64).unwrap_or(0);
            let len = usize::try_from((range.end - at).min((POOL - offset) as u64)).unwrap_or(0);
            pieces.push(Ok(self.pool.slice(offset..offset + len)));
            at += len as u64;
        }
        futures::stream::iter(pieces).boxed()
    }
}

fn unsupported(key: &str, what: &str) -> StoreError {
    StoreError::not_supported(key, what)
}

#[async_trait]
impl Store for GeneratedSource {
    fn describe(&self) -> String {
        format!("{} generated objects of {} bytes", self.count, self.size)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            server_side_copy: false,
            stores_properties: false,
            lists_metadata: false,
            lists_committed_parts: false,
            max_part_size: 0,
            min_part_size: 0,
            max_parts: 0,
            max_single_write: 0,
            positional_writes: false,
            writes_in_place: false,
            smb_names: false,
            snapshot_reads: true,
            reads_into: false,
        }
    }

    fn list<'a>(&'a self, prefix: &'a str, _depth: ListDepth) -> EntryStream<'a> {
        let mut keys: Vec<String> = (0..self.count).map(|i| self.key(i)).collect();
        keys.sort_unstable();
        futures::stream::iter(keys.into_iter().filter(move |k| k.starts_with(prefix)))
            .map(move |key| Ok(Entry::object(key, self.size)))
            .boxed()
    }

    async fn stat(&self, key: &str) -> Result<Entry> {
        Ok(Entry::object(key, self.size))
    }

    async fn read(&self, key: &str, range: Option<Range<u64>>) -> Result<ByteStream> {
        // As the contract says: clipped at the end; a start at or past the end of a non-empty object is refused.
        let range = range.unwrap_or(0..self.size);
        if range.start > range.end || (self.size > 0 && range.start >= self.size && range.start < range.end) {
            return Err(StoreError::new(ErrorKind::InvalidInput, key, "a range outside the generated object"));
        }
        Ok(self.bytes(range.start.min(self.size)..range.end.min(self.size)))
    }

    async fn write(&self, key: &str, _payload: Payload, _options: &WriteOptions) -> Result<WriteReceipt> {
        Err(unsupported(key, "writing to generated data"))
    }

    async fn put_part(&self, key: &str, _part: &PartId, _data: Bytes, _md5: Option<[u8; 16]>) -> Result<()> {
        Err(unsupported(key, "writing to generated data"))
    }

    async fn list_parts(&self, key: &str) -> Result<PartList> {
        Err(unsupported(key, "parts of generated data"))
    }

    async fn commit_parts(&self, key: &str, _parts: &[PartId], _options: &WriteOptions) -> Result<WriteReceipt> {
        Err(unsupported(key, "writing to generated data"))
    }

    async fn delete(&self, key: &str) -> Result<()> {
        Err(unsupported(key, "deleting generated data"))
    }

    async fn create_root(&self) -> Result<()> {
        Ok(())
    }
}

/// A destination that takes positional writes and keeps nothing: downloads measured without
/// the local disk. It counts what it was given.
#[derive(Debug, Default)]
pub struct DiscardSink {
    received: Arc<std::sync::atomic::AtomicU64>,
}

impl DiscardSink {
    /// Bytes written to it so far.
    pub fn received(&self) -> u64 {
        self.received.load(std::sync::atomic::Ordering::Relaxed)
    }
}

struct Discard {
    received: Arc<std::sync::atomic::AtomicU64>,
}

#[async_trait]
impl PositionalWrite for Discard {
    async fn write_at(&self, _offset: u64, data: Bytes) -> Result<()> {
        self.received.fetch_add(data.len() as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    async fn read_back(&self) -> Result<ByteStream> {
        Err(unsupported("discarded data", "reading back"))
    }

    async fn finish(self: Box<Self>, _options: &FinishOptions) -> Result<()> {
        Ok(())
    }
}

#[async_trait]
impl Store for DiscardSink {
    fn describe(&self) -> String {
        "nowhere (data is discarded)".into()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            server_side_copy: false,
            stores_properties: false,
            lists_metadata: false,
            lists_committed_parts: false,
            max_part_size: u64::MAX,
            min_part_size: 0,
            max_parts: u32::MAX,
            max_single_write: u64::MAX,
            positional_writes: true,
            writes_in_place: false,
            smb_names: false,
            snapshot_reads: false, // nothing is ever read back from a sink
            reads_into: false,
        }
    }

    fn list<'a>(&'a self, _prefix: &'a str, _depth: ListDepth) -> EntryStream<'a> {
        futures::stream::empty().boxed()
    }

    async fn stat(&self, key: &str) -> Result<Entry> {
        Err(StoreError::new(ErrorKind::NotFound, key, "the sink keeps nothing"))
    }

    async fn read(&self, key: &str, _range: Option<Range<u64>>) -> Result<ByteStream> {
        Err(StoreError::new(ErrorKind::NotFound, key, "the sink keeps nothing"))
    }

    async fn write(&self, _key: &str, payload: Payload, _options: &WriteOptions) -> Result<WriteReceipt> {
        self.received.fetch_add(payload.len(), std::sync::atomic::Ordering::Relaxed);
        Ok(WriteReceipt::default())
    }

    async fn put_part(&self, key: &str, _part: &PartId, _data: Bytes, _md5: Option<[u8; 16]>) -> Result<()> {
        Err(unsupported(key, "parts"))
    }

    async fn list_parts(&self, key: &str) -> Result<PartList> {
        Err(unsupported(key, "parts"))
    }

    async fn commit_parts(&self, key: &str, _parts: &[PartId], _options: &WriteOptions) -> Result<WriteReceipt> {
        Err(unsupported(key, "parts"))
    }

    async fn begin_positional_write(&self, _key: &str, _size: u64) -> Result<Box<dyn PositionalWrite>> {
        Ok(Box::new(Discard { received: self.received.clone() }))
    }

    async fn delete(&self, _key: &str) -> Result<()> {
        Ok(())
    }

    async fn create_root(&self) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;

    #[tokio::test]
    async fn generated_objects_have_their_size_in_any_range() {
        let source = GeneratedSource::new(3, 10 * 1024 * 1024 + 5, 2);
        let keys: Vec<String> = source.list("", ListDepth::Recursive).map_ok(|e| e.key).try_collect().await.unwrap();
        assert_eq!(keys, ["folder0000/00000000.dat", "folder0000/00000002.dat", "folder0001/00000001.dat"]);
        for range in [0..10 * 1024 * 1024 + 5, 3..4 * 1024 * 1024 + 9, 7 * 1024 * 1024..7 * 1024 * 1024] {
            let pieces: Vec<Bytes> = source.read("x", Some(range.clone())).await.unwrap().try_collect().await.unwrap();
            assert_eq!(pieces.iter().map(Bytes::len).sum::<usize>() as u64, range.end - range.start);
        }
        let size = 10 * 1024 * 1024 + 5;
        let clipped: Vec<Bytes> =
            source.read("x", Some(size - 5..size + 1)).await.unwrap().try_collect().await.unwrap();
        assert_eq!(clipped.iter().map(Bytes::len).sum::<usize>(), 5, "clipped at the end, as the contract says");
        assert!(source.read("x", Some(size..size + 1)).await.is_err(), "a start past the end is refused");
    }
}
