//! A whole storage account as one tree, for account-level copies (AzCopy copies every container
//! when the source is an account URL): a key's first segment is the container, the rest the blob
//! name. Every call goes to that container's [`AzureStore`]; a write creates its container first,
//! once. Listing walks the containers (less those excluded) so that keys come out in the
//! [`Store`] contract's order.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use ferry_core::{BlobUrl, Entry, EntryKind, ErrorKind, StoreError};
use ferry_store::{
    ByteStream, Capabilities, EntryStream, ListDepth, PartId, PartList, Payload, Store, WriteOptions, WriteReceipt,
};
use futures::{StreamExt, TryStreamExt};

use crate::{AzureStore, BlobClient, list_containers};

type Result<T> = std::result::Result<T, StoreError>;

/// Every container of an account, as one store.
#[derive(Debug)]
pub struct AccountStore {
    client: BlobClient,
    url: BlobUrl,
    exclude: Vec<String>,
    stores: Mutex<HashMap<String, Arc<AzureStore>>>,
    created: tokio::sync::Mutex<HashSet<String>>,
    cpk: Option<crate::Cpk>,
}

impl AccountStore {
    /// The account of `url` (its container and path, if any, are ignored), leaving out the
    /// containers named in `exclude`.
    pub fn new(client: BlobClient, url: &BlobUrl, exclude: Vec<String>) -> Self {
        Self {
            client,
            url: url.with_container_and_path(None, ""),
            exclude,
            stores: Mutex::default(),
            created: tokio::sync::Mutex::default(),
            cpk: None,
        }
    }

    /// Encrypts (and reads) every container's blobs with `cpk` (`--cpk-by-name`/`--cpk-by-value`).
    #[must_use]
    pub fn with_cpk(mut self, cpk: Option<crate::Cpk>) -> Self {
        self.cpk = cpk;
        self
    }

    /// The container store for `container`.
    fn store(&self, container: &str) -> Result<Arc<AzureStore>> {
        let mut stores = self.stores.lock().map_err(|_| StoreError::new(ErrorKind::Other, container, "poisoned"))?;
        if let Some(store) = stores.get(container) {
            return Ok(store.clone());
        }
        let url = self.url.with_container_and_path(Some(container), "");
        let store = Arc::new(AzureStore::new(self.client.clone(), &url)?.with_cpk(self.cpk.clone()));
        stores.insert(container.to_owned(), store.clone());
        Ok(store)
    }

    /// The container store for a write into `container`, which is created first (once).
    async fn writable(&self, container: &str) -> Result<Arc<AzureStore>> {
        let store = self.store(container)?;
        let mut created = self.created.lock().await;
        if !created.contains(container) {
            match store.create_root().await {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
            created.insert(container.to_owned());
        }
        Ok(store)
    }

    /// `container/name` → the container's store and the blob name.
    fn split<'k>(&self, key: &'k str) -> Result<(Arc<AzureStore>, &'k str, &'k str)> {
        let (container, name) = key
            .split_once('/')
            .ok_or_else(|| StoreError::new(ErrorKind::InvalidInput, key, "an account-level key is CONTAINER/NAME"))?;
        Ok((self.store(container)?, container, name))
    }

    /// The containers to walk whose names start with `prefix`, in the order their keys sort.
    async fn containers(&self, prefix: &str) -> Result<Vec<String>> {
        let mut names: Vec<String> = list_containers(&self.client, &self.url)
            .await?
            .into_iter()
            .filter(|c| c.starts_with(prefix) && !self.exclude.contains(c))
            .collect();
        // `a-b/…` sorts before `a/…`: order by the key prefix, not the bare name.
        names.sort_by(|a, b| ferry_core::cmp_keys(&format!("{a}/"), &format!("{b}/")));
        Ok(names)
    }
}

fn within(container: &str, mut entry: Entry) -> Entry {
    entry.key = format!("{container}/{}", entry.key);
    entry
}

#[async_trait]
impl Store for AccountStore {
    fn describe(&self) -> String {
        self.url.to_string()
    }

    fn capabilities(&self) -> Capabilities {
        crate::store::CAPABILITIES
    }

    fn list<'a>(&'a self, prefix: &'a str, depth: ListDepth) -> EntryStream<'a> {
        if let Some((container, rest)) = prefix.split_once('/') {
            return match self.store(container) {
                Ok(store) => {
                    let container = container.to_owned();
                    store.list_owned(rest.to_owned(), depth).map_ok(move |e| within(&container, e)).boxed()
                }
                Err(e) => futures::stream::iter([Err(e)]).boxed(),
            };
        }
        futures::stream::once(self.containers(prefix))
            .map_ok(|names| futures::stream::iter(names.into_iter().map(Ok::<_, StoreError>)))
            .try_flatten()
            .map_ok(move |container| -> EntryStream<'a> {
                match depth {
                    ListDepth::OneLevel => {
                        let entry = Entry { kind: EntryKind::Prefix, ..Entry::object(format!("{container}/"), 0) };
                        futures::stream::iter([Ok(entry)]).boxed()
                    }
                    ListDepth::Recursive => match self.store(&container) {
                        Ok(store) => {
                            store.list_owned(String::new(), depth).map_ok(move |e| within(&container, e)).boxed()
                        }
                        Err(e) => futures::stream::iter([Err(e)]).boxed(),
                    },
                }
            })
            .try_flatten()
            .boxed()
    }

    async fn stat(&self, key: &str) -> Result<Entry> {
        let (store, container, name) = self.split(key)?;
        store.stat(name).await.map(|e| within(container, e))
    }

    async fn read(&self, key: &str, range: Option<Range<u64>>) -> Result<ByteStream> {
        let (store, _, name) = self.split(key)?;
        store.read(name, range).await
    }

    async fn read_into(
        &self,
        key: &str,
        range: Range<u64>,
        whole: bool,
        sink: std::sync::Arc<dyn ferry_store::PositionalSink>,
    ) -> Result<bool> {
        let (store, _, name) = self.split(key)?;
        store.read_into(name, range, whole, sink).await
    }

    async fn write(&self, key: &str, payload: Payload, options: &WriteOptions) -> Result<WriteReceipt> {
        let (_, container, name) = self.split(key)?;
        self.writable(container).await?.write(name, payload, options).await
    }

    async fn put_part(&self, key: &str, part: &PartId, data: Bytes, md5: Option<[u8; 16]>) -> Result<()> {
        let (_, container, name) = self.split(key)?;
        self.writable(container).await?.put_part(name, part, data, md5).await
    }

    async fn tags(&self, key: &str) -> Result<std::collections::BTreeMap<String, String>> {
        let (store, _, name) = self.split(key)?;
        store.tags(name).await
    }

    async fn create_ranged(&self, key: &str, size: u64, options: &WriteOptions) -> Result<WriteReceipt> {
        let (_, container, name) = self.split(key)?;
        self.writable(container).await?.create_ranged(name, size, options).await
    }

    async fn write_range(&self, key: &str, offset: u64, data: Bytes, md5: Option<[u8; 16]>) -> Result<()> {
        let (store, _, name) = self.split(key)?;
        store.write_range(name, offset, data, md5).await
    }

    async fn create_appendable(&self, key: &str, options: &WriteOptions) -> Result<WriteReceipt> {
        let (_, container, name) = self.split(key)?;
        self.writable(container).await?.create_appendable(name, options).await
    }

    async fn append(&self, key: &str, at: u64, data: Bytes, md5: Option<[u8; 16]>) -> Result<()> {
        let (store, _, name) = self.split(key)?;
        store.append(name, at, data, md5).await
    }

    async fn set_content_headers(&self, key: &str, options: &WriteOptions) -> Result<()> {
        let (store, _, name) = self.split(key)?;
        store.set_content_headers(name, options).await
    }

    async fn list_parts(&self, key: &str) -> Result<PartList> {
        let (store, _, name) = self.split(key)?;
        store.list_parts(name).await
    }

    async fn commit_parts(&self, key: &str, parts: &[PartId], options: &WriteOptions) -> Result<WriteReceipt> {
        let (_, container, name) = self.split(key)?;
        self.writable(container).await?.commit_parts(name, parts, options).await
    }

    async fn put_part_from_url(
        &self,
        key: &str,
        part: &PartId,
        source_url: &url::Url,
        range: Option<Range<u64>>,
    ) -> Result<()> {
        let (_, container, name) = self.split(key)?;
        self.writable(container).await?.put_part_from_url(name, part, source_url, range).await
    }

    async fn copy_object_from_url(
        &self,
        key: &str,
        source_url: &url::Url,
        options: &WriteOptions,
    ) -> Result<WriteReceipt> {
        let (_, container, name) = self.split(key)?;
        self.writable(container).await?.copy_object_from_url(name, source_url, options).await
    }

    async fn service_readable_url(&self, key: &str) -> Result<url::Url> {
        let (store, _, name) = self.split(key)?;
        store.service_readable_url(name).await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let (store, _, name) = self.split(key)?;
        store.delete(name).await
    }

    /// The account exists; containers are created as they are written to.
    async fn create_root(&self) -> Result<()> {
        Ok(())
    }
}
