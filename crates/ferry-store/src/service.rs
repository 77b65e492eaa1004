//! A whole service — every bucket of an S3 endpoint or a GCS project — as one read-only tree for
//! a copy (AzCopy copies every bucket when the source is a service URL): a key's first segment is
//! the bucket, the rest the object's key within it.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Mutex;

use async_trait::async_trait;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};

use crate::{
    ByteStream, Capabilities, Entry, EntryKind, EntryStream, ErrorKind, ListDepth, PartId, PartList, Payload, Result,
    Store, StoreError, WriteOptions, WriteReceipt,
};

/// One bucket's store, which can list without borrowing itself (so a service's listing can go
/// bucket after bucket).
pub trait Bucket: Store + Clone + 'static {
    /// Lists like [`Store::list`], owning what the listing needs.
    fn list_owned(&self, prefix: &str, depth: ListDepth) -> EntryStream<'static>;
}

/// Opens a bucket's store by name.
pub type OpenBucket<B> = Box<dyn Fn(&str) -> Result<B> + Send + Sync>;

/// Every bucket of a service, as one store whose keys are `BUCKET/KEY`.
pub struct ServiceStore<B: Bucket> {
    shown: String,
    buckets: Vec<String>,
    open: OpenBucket<B>,
    stores: Mutex<HashMap<String, B>>,
    capabilities: Capabilities,
}

impl<B: Bucket> std::fmt::Debug for ServiceStore<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceStore").field("shown", &self.shown).field("buckets", &self.buckets).finish()
    }
}

impl<B: Bucket> ServiceStore<B> {
    /// The service shown as `shown`, with `buckets` (each opened by `open` when first used),
    /// which can do what `capabilities` says.
    pub fn new(
        shown: impl Into<String>,
        buckets: Vec<String>,
        capabilities: Capabilities,
        open: OpenBucket<B>,
    ) -> Self {
        // Reads are forwarded by `read` only: `read_into` here always declines.
        let capabilities = Capabilities { reads_into: false, ..capabilities };
        Self { shown: shown.into(), buckets, open, stores: Mutex::default(), capabilities }
    }

    /// The buckets.
    pub fn buckets(&self) -> &[String] {
        &self.buckets
    }

    fn store(&self, bucket: &str) -> Result<B> {
        let mut stores = self.stores.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(store) = stores.get(bucket) {
            return Ok(store.clone());
        }
        let store = (self.open)(bucket)?;
        stores.insert(bucket.to_owned(), store.clone());
        Ok(store)
    }

    /// `BUCKET/KEY` → the bucket's store and the key.
    fn split<'k>(&self, key: &'k str) -> Result<(B, &'k str, &'k str)> {
        let (bucket, rest) = key
            .split_once('/')
            .ok_or_else(|| StoreError::new(ErrorKind::InvalidInput, key, "a service-level key is BUCKET/KEY"))?;
        Ok((self.store(bucket)?, bucket, rest))
    }

    fn read_only(&self, key: &str) -> StoreError {
        StoreError::new(ErrorKind::NotSupported, key, format!("{} is read-only here (a source)", self.shown))
    }
}

fn within(bucket: &str, mut entry: Entry) -> Entry {
    entry.key = format!("{bucket}/{}", entry.key);
    entry
}

#[async_trait]
impl<B: Bucket> Store for ServiceStore<B> {
    fn describe(&self) -> String {
        self.shown.clone()
    }

    fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    fn list<'a>(&'a self, prefix: &'a str, depth: ListDepth) -> EntryStream<'a> {
        if let Some((bucket, rest)) = prefix.split_once('/') {
            return match self.store(bucket) {
                Ok(store) => store.list_owned(rest, depth).map_ok(move |e| within(bucket, e)).boxed(),
                Err(e) => futures::stream::iter([Err(e)]).boxed(),
            };
        }
        // `a-b/…` sorts before `a/…`: order by the key prefix, not the bare name.
        let mut buckets: Vec<&String> = self.buckets.iter().filter(|b| b.starts_with(prefix)).collect();
        buckets.sort_by(|a, b| crate::cmp_keys(&format!("{a}/"), &format!("{b}/")));
        futures::stream::iter(buckets)
            .map(move |bucket| -> EntryStream<'a> {
                match depth {
                    ListDepth::OneLevel => {
                        let entry = Entry { kind: EntryKind::Prefix, ..Entry::object(format!("{bucket}/"), 0) };
                        futures::stream::iter([Ok(entry)]).boxed()
                    }
                    ListDepth::Recursive => match self.store(bucket) {
                        Ok(store) => store.list_owned("", depth).map_ok(move |e| within(bucket, e)).boxed(),
                        Err(e) => futures::stream::iter([Err(e)]).boxed(),
                    },
                }
            })
            .flatten()
            .boxed()
    }

    async fn stat(&self, key: &str) -> Result<Entry> {
        let (store, bucket, rest) = self.split(key)?;
        store.stat(rest).await.map(|e| within(bucket, e))
    }

    async fn read(&self, key: &str, range: Option<Range<u64>>) -> Result<ByteStream> {
        let (store, _, rest) = self.split(key)?;
        store.read(rest, range).await
    }

    async fn service_readable_url(&self, key: &str) -> Result<url::Url> {
        let (store, _, rest) = self.split(key)?;
        store.service_readable_url(rest).await
    }

    async fn write(&self, key: &str, _payload: Payload, _options: &WriteOptions) -> Result<WriteReceipt> {
        Err(self.read_only(key))
    }

    async fn put_part(&self, key: &str, _part: &PartId, _data: Bytes, _md5: Option<[u8; 16]>) -> Result<()> {
        Err(self.read_only(key))
    }

    async fn list_parts(&self, key: &str) -> Result<PartList> {
        Err(self.read_only(key))
    }

    async fn commit_parts(&self, key: &str, _parts: &[PartId], _options: &WriteOptions) -> Result<WriteReceipt> {
        Err(self.read_only(key))
    }

    async fn delete(&self, key: &str) -> Result<()> {
        Err(self.read_only(key))
    }

    async fn create_root(&self) -> Result<()> {
        Err(self.read_only(&self.shown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;

    impl Bucket for MemoryStore {
        fn list_owned(&self, prefix: &str, depth: ListDepth) -> EntryStream<'static> {
            let (store, prefix) = (self.clone(), prefix.to_owned());
            futures::stream::once(async move {
                let entries: Vec<Result<Entry>> = store.list(&prefix, depth).collect().await;
                futures::stream::iter(entries)
            })
            .flatten()
            .boxed()
        }
    }

    #[tokio::test]
    async fn buckets_list_as_top_level_folders_in_key_order() {
        let mut stores = HashMap::new();
        for bucket in ["a", "a-b"] {
            let store = MemoryStore::new();
            let data = Payload::Bytes(Bytes::from(bucket.to_owned()));
            store.write(&format!("{bucket}.txt"), data, &WriteOptions::default()).await.unwrap();
            stores.insert(bucket.to_owned(), store);
        }
        let service = ServiceStore::new(
            "memory://",
            vec!["a".into(), "a-b".into()],
            MemoryStore::new().capabilities(),
            Box::new(move |b| stores.get(b).cloned().ok_or_else(|| StoreError::new(ErrorKind::NotFound, b, "none"))),
        );
        let keys: Vec<String> = service.list("", ListDepth::Recursive).map_ok(|e| e.key).try_collect().await.unwrap();
        assert_eq!(keys, ["a-b/a-b.txt", "a/a.txt"]);
        assert_eq!(service.stat("a/a.txt").await.unwrap().size, 1);
        let top: Vec<String> = service.list("", ListDepth::OneLevel).map_ok(|e| e.key).try_collect().await.unwrap();
        assert_eq!(top, ["a-b/", "a/"]);
        assert_eq!(service.delete("a/a.txt").await.unwrap_err().kind(), ErrorKind::NotSupported);
    }
}
