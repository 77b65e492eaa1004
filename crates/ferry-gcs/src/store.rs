//! One GCS bucket as a [`Store`]: listed and read through the JSON API, and handed to a service
//! that copies by URL as a V4 signed URL. A source only: writes answer `NotSupported`.

use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use ferry_core::encoding::encode_component;
use ferry_core::{Entry, EntryKind, ErrorKind, StoreError};
use ferry_http::Request;
use ferry_store::ranges;
use ferry_store::{
    ByteStream, Capabilities, EntryStream, ListDepth, PartId, PartList, Payload, PositionalSink, Store, WriteOptions,
    WriteReceipt,
};
use futures::future::BoxFuture;
use futures::{StreamExt, stream};
use reqwest::Method;

use crate::GcsClient;
use crate::json::{ObjectResource, ObjectsPage};
use crate::signing::MAX_SIGNED_SECONDS;

type Result<T> = std::result::Result<T, StoreError>;

/// Objects per listing page (the JSON API's maximum).
const PAGE_SIZE: u32 = 1000;

/// What a GCS bucket can do as a source.
const CAPABILITIES: Capabilities = Capabilities {
    server_side_copy: false,
    stores_properties: true,
    lists_metadata: true,
    lists_committed_parts: false,
    max_part_size: 5 * 1024 * 1024 * 1024 * 1024,
    min_part_size: 0,
    max_parts: 10_000,
    max_single_write: 5 * 1024 * 1024 * 1024 * 1024,
    positional_writes: false,
    writes_in_place: false,
    smb_names: false,
    snapshot_reads: true,
    reads_into: true,
};

/// A bucket of Google Cloud Storage.
#[derive(Debug, Clone)]
pub struct GcsStore {
    client: GcsClient,
    bucket: String,
    page_size: u32,
    by_url: bool,
    signed_seconds: u64,
}

impl GcsStore {
    /// Sends the read of `bytes` of `key` on the given version, when one is given: how a body
    /// that broke off asks for the rest.
    fn ask_rest(
        &self,
        key: &str,
    ) -> impl Fn(String, Option<String>) -> BoxFuture<'static, Result<reqwest::Response>> + Send + Sync + 'static {
        let (store, key) = (self.clone(), key.to_owned());
        move |bytes: String, version: Option<String>| {
            let (store, key) = (store.clone(), key.clone());
            Box::pin(async move {
                let target = store.target(&key);
                store.client.send(store.media_read(&key, &target, Some(&bytes), version.as_deref())).await
            })
        }
    }

    /// The GET of `key`'s bytes (`range`: a `bytes=` value), on `generation` when given.
    fn media_read<'a>(&self, key: &str, target: &'a str, range: Option<&str>, generation: Option<&str>) -> Request<'a> {
        let mut url = self.object_api(key);
        url.query_pairs_mut().append_pair("alt", "media");
        if let Some(generation) = generation {
            url.query_pairs_mut().append_pair("ifGenerationMatch", generation);
        }
        // The stored bytes, never a decompressed rendering of a gzip-encoded object (GCS
        // transcodes for clients that do not accept gzip).
        let request = Request::new(Method::GET, url, target).header("accept-encoding", "gzip");
        match range {
            Some(bytes) => request.header("range", bytes),
            None => request,
        }
    }

    /// The bucket `bucket`.
    pub fn new(client: GcsClient, bucket: &str) -> Self {
        Self {
            client,
            bucket: bucket.to_owned(),
            page_size: PAGE_SIZE,
            by_url: false,
            signed_seconds: MAX_SIGNED_SECONDS,
        }
    }

    /// Sets the listing page size (tests use small pages to exercise paging).
    #[must_use]
    pub fn with_page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size.clamp(1, PAGE_SIZE);
        self
    }

    /// Lets a destination service read objects by a signed URL (a server-side copy); without
    /// it, copies stream the bytes through Ferry.
    #[must_use]
    pub fn readable_by_url(mut self, yes: bool) -> Self {
        self.by_url = yes;
        self
    }

    /// How long a signed URL lives (default and most: seven days).
    #[must_use]
    pub fn with_signed_seconds(mut self, seconds: u64) -> Self {
        self.signed_seconds = seconds.clamp(1, MAX_SIGNED_SECONDS);
        self
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// How an object is named in messages.
    fn target(&self, name: &str) -> String {
        format!("gs://{}/{name}", self.bucket)
    }

    /// The JSON API URL of an object (its name one encoded path segment).
    fn object_api(&self, name: &str) -> url::Url {
        self.client.endpoint().api(&format!("/storage/v1/b/{}/o/{}", self.bucket, encode_component(name)))
    }

    async fn list_page(&self, prefix: &str, depth: ListDepth, start: &str, token: Option<&str>) -> Result<ObjectsPage> {
        let mut url = self.client.endpoint().api(&format!("/storage/v1/b/{}/o", self.bucket));
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("prefix", prefix).append_pair("maxResults", &self.page_size.to_string());
            query.append_pair("projection", "full");
            if depth == ListDepth::OneLevel {
                query.append_pair("delimiter", "/");
            }
            if !start.is_empty() {
                query.append_pair("startOffset", start);
            }
            if let Some(t) = token {
                query.append_pair("pageToken", t);
            }
        }
        let target = self.describe();
        self.client.get_json(Request::new(Method::GET, url, &target)).await
    }

    /// Lists like [`Store::list`], owning what the listing needs.
    pub fn list_owned(&self, prefix: &str, depth: ListDepth) -> EntryStream<'static> {
        self.listing(prefix, depth, "")
    }

    /// The listing of `prefix`, from `start` on (inclusive) when it is not empty: GCS's
    /// `startOffset` (names in UTF-8 byte order, so [`ferry_store::start::service_floor`]).
    fn listing(&self, prefix: &str, depth: ListDepth, start: &str) -> EntryStream<'static> {
        let (store, prefix) = (self.clone(), prefix.to_owned());
        let floor = ferry_store::start::service_floor(start).to_owned();
        let listing = ferry_store::paging::paged(self.describe(), false, move |token| {
            let (store, prefix, floor) = (store.clone(), prefix.clone(), floor.clone());
            async move {
                let page = store.list_page(&prefix, depth, &floor, token.as_deref()).await?;
                // Names ending in `/` are folder markers, passed over as AzCopy does.
                let objects = page.items.into_iter().filter(|o| !o.name().ends_with('/')).map(|o| {
                    let key = o.name().to_owned();
                    o.into_entry(key)
                });
                let prefixes = page.prefixes.into_iter().map(Entry::prefix);
                let entries = objects.chain(prefixes).collect();
                Ok(ferry_store::paging::Page { entries, next: page.next_page_token.filter(|t| !t.is_empty()) })
            }
        });
        ferry_store::start::skip_before(listing, start.to_owned())
    }
}

/// The refusal of every write.
fn read_only(target: &str) -> StoreError {
    StoreError::new(ErrorKind::NotSupported, target, "GCS as a destination is not supported")
        .with_hint("copy from GCS to Blob Storage or a local folder")
}

#[async_trait]
impl Store for GcsStore {
    fn describe(&self) -> String {
        format!("gs://{}", self.bucket)
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    fn list<'a>(&'a self, prefix: &'a str, depth: ListDepth) -> EntryStream<'a> {
        self.list_owned(prefix, depth)
    }

    fn list_from<'a>(&'a self, prefix: &'a str, depth: ListDepth, start: &str) -> EntryStream<'a> {
        self.listing(prefix, depth, start)
    }

    async fn stat(&self, key: &str) -> Result<Entry> {
        let target = self.target(key);
        if key.is_empty() || key.ends_with('/') {
            return Err(StoreError::new(ErrorKind::NotFound, target, "not an object name"));
        }
        let resource: ObjectResource =
            self.client.get_json(Request::new(Method::GET, self.object_api(key), &target)).await?;
        let mut entry = resource.into_entry(key.to_owned());
        entry.kind = EntryKind::Object;
        Ok(entry)
    }

    async fn read(&self, key: &str, range: Option<Range<u64>>) -> Result<ByteStream> {
        let target = self.target(key);
        let send = |bytes: Option<String>| self.client.send(self.media_read(key, &target, bytes.as_deref(), None));
        let size = || async { Ok(self.stat(key).await?.size) };
        let Some(response) = ranges::fetch(&target, range.as_ref(), send, size).await? else {
            return Ok(stream::empty().boxed());
        };
        // A break in the body is resumed from where it stopped, on the same version.
        let policy = self.client.retry_policy();
        Ok(ferry_http::resuming_body(response, &target, range, "x-goog-generation", policy, self.ask_rest(key)))
    }

    async fn read_into(
        &self,
        key: &str,
        range: Range<u64>,
        whole: bool,
        sink: Arc<dyn PositionalSink>,
    ) -> Result<bool> {
        let target = self.target(key);
        let expect = ferry_http::Expect::new(&range, whole, "x-goog-generation");
        let request = self.media_read(key, &target, expect.range_header().as_deref(), None);
        let direct = self.client.get_into(request, expect, sink.clone()).await;
        let policy = self.client.retry_policy();
        ferry_http::finish_direct(direct, range, sink, &target, "x-goog-generation", policy, self.ask_rest(key)).await
    }

    async fn service_readable_url(&self, key: &str) -> Result<url::Url> {
        if !self.by_url {
            return Err(StoreError::not_supported(self.target(key), "reading by URL (copies stream through Ferry)"));
        }
        self.client.readable_url(&self.bucket, key, self.signed_seconds)
    }

    async fn write(&self, key: &str, _payload: Payload, _options: &WriteOptions) -> Result<WriteReceipt> {
        Err(read_only(&self.target(key)))
    }

    async fn put_part(&self, key: &str, _part: &PartId, _data: Bytes, _md5: Option<[u8; 16]>) -> Result<()> {
        Err(read_only(&self.target(key)))
    }

    async fn list_parts(&self, key: &str) -> Result<PartList> {
        Err(read_only(&self.target(key)))
    }

    async fn commit_parts(&self, key: &str, _parts: &[PartId], _options: &WriteOptions) -> Result<WriteReceipt> {
        Err(read_only(&self.target(key)))
    }

    async fn delete(&self, key: &str) -> Result<()> {
        Err(read_only(&self.target(key)))
    }

    async fn create_root(&self) -> Result<()> {
        Err(read_only(&self.describe()))
    }
}

impl ferry_store::service::Bucket for GcsStore {
    fn list_owned(&self, prefix: &str, depth: ListDepth) -> EntryStream<'static> {
        GcsStore::list_owned(self, prefix, depth)
    }
}

/// Every bucket of a project (from [`crate::list_buckets`]), as one store whose keys are
/// `BUCKET/NAME`; each read by signed URL in a server-side copy, signed for `signed_seconds`.
pub fn service_store(
    client: GcsClient,
    buckets: Vec<String>,
    signed_seconds: u64,
) -> ferry_store::service::ServiceStore<GcsStore> {
    let open = Box::new(move |bucket: &str| {
        Ok(GcsStore::new(client.clone(), bucket).readable_by_url(true).with_signed_seconds(signed_seconds))
    });
    ferry_store::service::ServiceStore::new("https://storage.cloud.google.com", buckets, CAPABILITIES, open)
}
