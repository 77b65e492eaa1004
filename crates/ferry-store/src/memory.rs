//! A store held in memory: the whole [`Store`] contract with no disk and no network, so that
//! guards, cancellation and resume logic can be tested in milliseconds. It passes the same
//! conformance suite as the local and Azure backends (`tests/memory_conformance.rs`).

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;

use crate::store::check_md5;
use crate::{
    ByteStream, Capabilities, Entry, EntryStream, ErrorKind, FinishOptions, ListDepth, ObjectProperties, PartId,
    PartInfo, PartList, Payload, PositionalWrite, Result, Store, StoreError, WriteOptions, WriteReceipt,
};

#[derive(Debug, Default)]
struct State {
    root_exists: bool,
    objects: BTreeMap<String, (Bytes, Entry)>,
    staged: HashMap<String, BTreeMap<PartId, Bytes>>,
    committed: HashMap<String, Vec<PartInfo>>,
    writes: u64,
}

/// A store whose objects live in this process's memory. Clones share the same objects.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

impl MemoryStore {
    /// An empty store whose root does not exist yet (see [`Store::create_root`]).
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("the memory store is never poisoned")
    }

    /// Stores `data` under `key` as one object, honouring `overwrite`.
    fn publish(&self, key: &str, data: Bytes, options: &WriteOptions, md5: Option<[u8; 16]>) -> Result<WriteReceipt> {
        let mut state = self.state();
        if !options.overwrite && state.objects.contains_key(key) {
            return Err(StoreError::new(ErrorKind::AlreadyExists, key, "the object exists and overwrite is off"));
        }
        state.writes += 1;
        let etag = format!("0x{:016X}", state.writes);
        let now = SystemTime::now();
        let mut headers = options.headers.clone();
        headers.content_md5 = md5;
        let properties = ObjectProperties {
            headers,
            metadata: options.metadata.clone(),
            blob_type: Some("BlockBlob".into()),
            access_tier: options.access_tier.clone(),
            ..ObjectProperties::default()
        };
        let entry = Entry {
            last_modified: Some(now),
            content_md5: md5,
            etag: Some(etag.clone()),
            properties: Some(Box::new(properties)),
            ..Entry::object(key, data.len() as u64)
        };
        state.objects.insert(key.to_owned(), (data, entry));
        Ok(WriteReceipt { etag: Some(etag), last_modified: Some(now) })
    }
}

/// The whole of a payload, checked against its announced length.
async fn collect(key: &str, payload: Payload) -> Result<Bytes> {
    let expected = payload.len();
    let data = match payload {
        Payload::Bytes(b) => b,
        Payload::FileRange { path, offset, len } => {
            let shown = path.display().to_string();
            let all = std::fs::read(&path).map_err(|e| StoreError::from_io(e, &shown))?;
            let start = usize::try_from(offset).unwrap_or(usize::MAX).min(all.len());
            let end = start.saturating_add(usize::try_from(len).unwrap_or(usize::MAX)).min(all.len());
            Bytes::copy_from_slice(&all[start..end])
        }
        Payload::Stream { mut stream, .. } => {
            let mut all = Vec::new();
            while let Some(chunk) = stream.next().await {
                all.extend_from_slice(&chunk?);
            }
            Bytes::from(all)
        }
    };
    if data.len() as u64 != expected {
        return Err(StoreError::new(
            ErrorKind::InvalidInput,
            key,
            format!("expected {expected} bytes but the source gave {}", data.len()),
        ));
    }
    Ok(data)
}

/// The listing of `keys` under `prefix`: every key, or one level with virtual directories.
fn listing(objects: &BTreeMap<String, (Bytes, Entry)>, prefix: &str, depth: ListDepth) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for (key, (_, entry)) in objects.range(prefix.to_owned()..).take_while(|(k, _)| k.starts_with(prefix)) {
        let rest = &key[prefix.len()..];
        match (depth, rest.find('/')) {
            (ListDepth::OneLevel, Some(i)) => {
                let dir = format!("{prefix}{}", &rest[..=i]);
                // Keys under one folder are adjacent in byte order: only the last entry can repeat it.
                if out.last().is_none_or(|e| e.key != dir) {
                    out.push(Entry::prefix(dir));
                }
            }
            _ => out.push(entry.clone()),
        }
    }
    out.sort_by(|a, b| crate::cmp_keys(&a.key, &b.key));
    out
}

#[async_trait]
impl Store for MemoryStore {
    fn describe(&self) -> String {
        "memory".into()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            server_side_copy: false,
            stores_properties: true,
            lists_metadata: true,
            lists_committed_parts: true,
            max_part_size: 4000 * 1024 * 1024,
            min_part_size: 0,
            max_parts: 50_000,
            max_single_write: 5000 * 1024 * 1024,
            positional_writes: true,
            writes_in_place: false,
            smb_names: false,
            snapshot_reads: true,
            reads_into: false,
        }
    }

    fn list<'a>(&'a self, prefix: &'a str, depth: ListDepth) -> EntryStream<'a> {
        let entries = listing(&self.state().objects, prefix, depth);
        futures::stream::iter(entries.into_iter().map(Ok)).boxed()
    }

    async fn stat(&self, key: &str) -> Result<Entry> {
        self.state().objects.get(key).map(|(_, e)| e.clone()).ok_or_else(|| StoreError::not_found(key))
    }

    async fn read(&self, key: &str, range: Option<Range<u64>>) -> Result<ByteStream> {
        let data = self.state().objects.get(key).map(|(d, _)| d.clone()).ok_or_else(|| StoreError::not_found(key))?;
        let size = data.len() as u64;
        let (start, end) = match range {
            None => (0, size),
            Some(r) if r.start > r.end || (r.start >= size && size > 0 && r.start != r.end) => {
                return Err(StoreError::new(
                    ErrorKind::InvalidInput,
                    key,
                    format!("range {}..{} is outside the object ({size} bytes)", r.start, r.end),
                ));
            }
            Some(r) => (r.start.min(size), r.end.min(size)),
        };
        let slice = data.slice(usize::try_from(start).unwrap_or(0)..usize::try_from(end).unwrap_or(0));
        Ok(futures::stream::iter([Ok(slice)]).boxed())
    }

    async fn write(&self, key: &str, payload: Payload, options: &WriteOptions) -> Result<WriteReceipt> {
        let data = collect(key, payload).await?;
        check_md5(key, &data, options.headers.content_md5)?;
        // Like a single Put Blob, which stores the MD5 of what it was given.
        let md5 = Some(crate::md5_of(&data));
        self.publish(key, data, options, md5)
    }

    async fn put_part(&self, key: &str, part: &PartId, data: Bytes, md5: Option<[u8; 16]>) -> Result<()> {
        check_md5(key, &data, md5)?;
        self.state().staged.entry(key.to_owned()).or_default().insert(part.clone(), data);
        Ok(())
    }

    async fn list_parts(&self, key: &str) -> Result<PartList> {
        let state = self.state();
        let info = |(id, data): (&PartId, &Bytes)| PartInfo { id: id.clone(), size: data.len() as u64 };
        let uncommitted = state.staged.get(key).map(|p| p.iter().map(info).collect()).unwrap_or_default();
        let committed = state.committed.get(key).cloned().unwrap_or_default();
        Ok(PartList { committed, uncommitted })
    }

    async fn commit_parts(&self, key: &str, parts: &[PartId], options: &WriteOptions) -> Result<WriteReceipt> {
        let (data, infos) = {
            let state = self.state();
            let staged = state.staged.get(key);
            let mut data = Vec::new();
            let mut infos = Vec::new();
            for part in parts {
                let Some(bytes) = staged.and_then(|s| s.get(part)) else {
                    return Err(StoreError::new(
                        ErrorKind::InvalidInput,
                        key,
                        format!("part `{}` was never staged (InvalidBlockList)", part.as_str()),
                    ));
                };
                data.extend_from_slice(bytes);
                infos.push(PartInfo { id: part.clone(), size: bytes.len() as u64 });
            }
            (Bytes::from(data), infos)
        };
        let receipt = self.publish(key, data, options, options.headers.content_md5)?;
        let mut state = self.state();
        state.staged.remove(key);
        state.committed.insert(key.to_owned(), infos);
        Ok(receipt)
    }

    async fn begin_positional_write(&self, key: &str, size: u64) -> Result<Box<dyn PositionalWrite>> {
        let len = usize::try_from(size).map_err(|_| StoreError::new(ErrorKind::InvalidInput, key, "too large"))?;
        let buffer = Mutex::new(vec![0u8; len]);
        Ok(Box::new(MemoryWrite { store: self.clone(), key: key.to_owned(), buffer }))
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let mut state = self.state();
        state.committed.remove(key);
        state.objects.remove(key).map(|_| ()).ok_or_else(|| StoreError::not_found(key))
    }

    async fn create_root(&self) -> Result<()> {
        let mut state = self.state();
        if state.root_exists {
            return Err(StoreError::new(ErrorKind::AlreadyExists, "memory", "the root exists"));
        }
        state.root_exists = true;
        Ok(())
    }
}

/// A positional write into a buffer, published whole by `finish` (dropped, it leaves nothing).
struct MemoryWrite {
    store: MemoryStore,
    key: String,
    buffer: Mutex<Vec<u8>>,
}

#[async_trait]
impl PositionalWrite for MemoryWrite {
    async fn write_at(&self, offset: u64, data: Bytes) -> Result<()> {
        let mut buffer = self.buffer.lock().expect("never poisoned");
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let Some(end) = start.checked_add(data.len()).filter(|end| *end <= buffer.len()) else {
            return Err(StoreError::new(
                ErrorKind::InvalidInput,
                &self.key,
                format!("a write at {offset}+{} goes past the announced size {}", data.len(), buffer.len()),
            ));
        };
        buffer[start..end].copy_from_slice(&data);
        Ok(())
    }

    async fn read_at(&self, offset: u64, len: usize) -> Result<Bytes> {
        let buffer = self.buffer.lock().expect("never poisoned");
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(buffer.len());
        Ok(Bytes::copy_from_slice(&buffer[start..start.saturating_add(len).min(buffer.len())]))
    }

    async fn grow(&self, size: u64) -> Result<()> {
        let len =
            usize::try_from(size).map_err(|_| StoreError::new(ErrorKind::InvalidInput, &self.key, "too large"))?;
        let mut buffer = self.buffer.lock().expect("never poisoned");
        if len > buffer.len() {
            buffer.resize(len, 0);
        }
        Ok(())
    }

    async fn read_back(&self) -> Result<ByteStream> {
        let data = Bytes::from(self.buffer.lock().expect("never poisoned").clone());
        Ok(futures::stream::iter([Ok(data)]).boxed())
    }

    async fn finish(self: Box<Self>, options: &FinishOptions) -> Result<()> {
        let data = Bytes::from(std::mem::take(&mut *self.buffer.lock().expect("never poisoned")));
        let write = WriteOptions { overwrite: options.overwrite, ..WriteOptions::default() };
        let md5 = Some(crate::md5_of(&data));
        self.store.publish(&self.key, data, &write, md5)?;
        if let Some(modified) = options.last_modified
            && let Some((_, entry)) = self.store.state().objects.get_mut(&self.key)
        {
            entry.last_modified = Some(modified);
        }
        Ok(())
    }
}
