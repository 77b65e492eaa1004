//! An S3 service — every bucket — as one tree for a copy (AzCopy copies every bucket when the
//! source is a service URL): a key's first segment is the bucket, the rest the object's key.
//! Read-only, like [`crate::S3Store`].

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Mutex;

use async_trait::async_trait;
use bytes::Bytes;
use ferry_core::{Entry, EntryKind, ErrorKind, S3Url, StoreError};
use ferry_http::Request;
use ferry_http::xml::{Visitor, walk};
use ferry_store::{
    ByteStream, Capabilities, EntryStream, ListDepth, PartId, PartList, Payload, Store, WriteOptions, WriteReceipt,
};
use futures::{StreamExt, TryStreamExt};
use reqwest::Method;

use crate::{S3Client, S3Store};

type Result<T> = std::result::Result<T, StoreError>;

/// Every bucket of an S3 service, as one store whose keys are `BUCKET/KEY`.
#[derive(Debug)]
pub struct S3ServiceStore {
    client: S3Client,
    url: S3Url,
    buckets: Vec<String>,
    stores: Mutex<HashMap<String, S3Store>>,
}

#[derive(Default)]
struct BucketsVisitor(Vec<String>);

impl Visitor for BucketsVisitor {
    fn text(&mut self, path: &[String], text: &str) {
        if path.ends_with(&["Bucket".to_owned(), "Name".to_owned()]) {
            self.0.push(text.to_owned());
        }
    }
}

/// The buckets of the service behind `url` (ListBuckets), in name order.
pub async fn list_buckets(client: &S3Client, url: &S3Url) -> Result<Vec<String>> {
    let mut endpoint = url.endpoint().clone();
    endpoint.set_path("/");
    let target = endpoint.to_string();
    let response = client.send(Request::new(Method::GET, endpoint, &target)).await?;
    let body = client.read_xml(response, &target).await?;
    let mut visitor = BucketsVisitor::default();
    walk(&body, &mut visitor).map_err(|e| StoreError::new(ErrorKind::Other, &target, e.to_string()))?;
    let mut names = visitor.0;
    names.sort();
    Ok(names)
}

impl S3ServiceStore {
    /// The service of `url` with its `buckets` (from [`list_buckets`]).
    pub fn new(client: S3Client, url: &S3Url, buckets: Vec<String>) -> Self {
        Self { client, url: url.with_bucket_and_key(None, ""), buckets, stores: Mutex::default() }
    }

    /// The buckets, in name order.
    pub fn buckets(&self) -> &[String] {
        &self.buckets
    }

    fn store(&self, bucket: &str) -> Result<S3Store> {
        let mut stores = self.stores.lock().map_err(|_| StoreError::new(ErrorKind::Other, bucket, "poisoned"))?;
        if let Some(store) = stores.get(bucket) {
            return Ok(store.clone());
        }
        let store =
            S3Store::new(self.client.clone(), &self.url.with_bucket_and_key(Some(bucket), ""))?.readable_by_url(true);
        stores.insert(bucket.to_owned(), store.clone());
        Ok(store)
    }

    /// `BUCKET/KEY` → the bucket's store and the key.
    fn split<'k>(&self, key: &'k str) -> Result<(S3Store, &'k str, &'k str)> {
        let (bucket, rest) = key
            .split_once('/')
            .ok_or_else(|| StoreError::new(ErrorKind::InvalidInput, key, "a service-level key is BUCKET/KEY"))?;
        Ok((self.store(bucket)?, bucket, rest))
    }
}

fn within(bucket: &str, mut entry: Entry) -> Entry {
    entry.key = format!("{bucket}/{}", entry.key);
    entry
}

#[async_trait]
impl Store for S3ServiceStore {
    fn describe(&self) -> String {
        self.url.to_string()
    }

    fn capabilities(&self) -> Capabilities {
        crate::store::CAPABILITIES
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
        buckets.sort_by(|a, b| ferry_core::cmp_keys(&format!("{a}/"), &format!("{b}/")));
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
        Err(crate::store::read_only(key))
    }

    async fn put_part(&self, key: &str, _part: &PartId, _data: Bytes, _md5: Option<[u8; 16]>) -> Result<()> {
        Err(crate::store::read_only(key))
    }

    async fn list_parts(&self, key: &str) -> Result<PartList> {
        Err(crate::store::read_only(key))
    }

    async fn commit_parts(&self, key: &str, _parts: &[PartId], _options: &WriteOptions) -> Result<WriteReceipt> {
        Err(crate::store::read_only(key))
    }

    async fn delete(&self, key: &str) -> Result<()> {
        Err(crate::store::read_only(key))
    }

    async fn create_root(&self) -> Result<()> {
        Err(crate::store::read_only(&self.describe()))
    }
}
