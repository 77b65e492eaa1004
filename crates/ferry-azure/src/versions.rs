//! Chosen versions of one blob as a read-only store of their own (AzCopy's `copy
//! --list-of-versions`): version `V` of blob `dir/name` is the key `V'-name`, where `V'` is the
//! version id with its colons turned to dashes, the name AzCopy gives the file it downloads.
//! Each key reads, and is described by, that version of the blob.

use std::collections::BTreeMap;
use std::ops::Range;

use async_trait::async_trait;
use bytes::Bytes;
use ferry_core::{Entry, ErrorKind, StoreError};
use ferry_store::{
    ByteStream, Capabilities, EntryStream, ListDepth, PartId, PartList, Payload, Store, WriteOptions, WriteReceipt,
};
use futures::StreamExt;

use crate::AzureStore;

type Result<T> = std::result::Result<T, StoreError>;

/// Versions of one blob, each under the name its download gets.
#[derive(Debug)]
pub struct VersionsStore {
    blob: String,
    described: String,
    /// By key: the store that reads that version.
    versions: BTreeMap<String, AzureStore>,
}

impl VersionsStore {
    /// Versions `versions` of the blob `blob` in `store`'s container.
    pub fn new(store: &AzureStore, blob: &str, versions: &[String]) -> Self {
        let name = blob.rsplit('/').next().unwrap_or(blob);
        let versions =
            versions.iter().map(|v| (format!("{}-{name}", v.replace(':', "-")), store.at_version(blob, v))).collect();
        Self { blob: blob.to_owned(), described: store.target(blob), versions }
    }

    fn version(&self, key: &str) -> Result<&AzureStore> {
        self.versions.get(key).ok_or_else(|| StoreError::not_found(key))
    }

    /// The version's entry under its own key.
    async fn entry(&self, key: &str, store: &AzureStore) -> Result<Entry> {
        let entry = store.stat(&self.blob).await?;
        Ok(Entry { key: key.to_owned(), ..entry })
    }

    fn read_only(&self, what: &str) -> StoreError {
        StoreError::new(ErrorKind::NotSupported, &self.described, format!("versions of a blob are read-only ({what})"))
    }
}

#[async_trait]
impl Store for VersionsStore {
    fn describe(&self) -> String {
        format!("{} (versions)", self.described)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { server_side_copy: false, reads_into: false, ..crate::store::CAPABILITIES }
    }

    /// Every chosen version whose key starts with `prefix`, in key order. A version the
    /// service does not have fails its entry (named by its key), not the listing.
    fn list<'a>(&'a self, prefix: &'a str, _depth: ListDepth) -> EntryStream<'a> {
        futures::stream::iter(self.versions.iter().filter(move |(key, _)| key.starts_with(prefix)))
            .then(move |(key, store)| async move {
                let entry = self.entry(key, store).await?;
                Ok(Entry { key: key[prefix.len()..].to_owned(), ..entry })
            })
            .boxed()
    }

    async fn stat(&self, key: &str) -> Result<Entry> {
        self.entry(key, self.version(key)?).await
    }

    async fn read(&self, key: &str, range: Option<Range<u64>>) -> Result<ByteStream> {
        self.version(key)?.read(&self.blob, range).await
    }

    async fn write(&self, _key: &str, _payload: Payload, _options: &WriteOptions) -> Result<WriteReceipt> {
        Err(self.read_only("write"))
    }

    async fn put_part(&self, _key: &str, _part: &PartId, _data: Bytes, _md5: Option<[u8; 16]>) -> Result<()> {
        Err(self.read_only("put block"))
    }

    async fn list_parts(&self, _key: &str) -> Result<PartList> {
        Err(self.read_only("list blocks"))
    }

    async fn commit_parts(&self, _key: &str, _parts: &[PartId], _options: &WriteOptions) -> Result<WriteReceipt> {
        Err(self.read_only("commit blocks"))
    }

    async fn delete(&self, _key: &str) -> Result<()> {
        Err(self.read_only("delete"))
    }

    async fn create_root(&self) -> Result<()> {
        Err(self.read_only("create"))
    }
}
