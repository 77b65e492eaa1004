//! One S3 bucket as a [`Store`]: listed with ListObjectsV2, read with HEAD and ranged GET, and
//! handed to a service that copies by URL as a presigned GET; written with PutObject, or in parts
//! with a multipart upload ([`crate::multipart`]), deleted with DeleteObject.

use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use ferry_core::{ContentHeaders, Entry, ErrorKind, ObjectProperties, S3Url, StoreError};
use ferry_http::{Body, Request};
use ferry_store::ranges;
use ferry_store::{
    ByteStream, Capabilities, EntryStream, ListDepth, PartId, PartList, Payload, PositionalSink, Store, WriteOptions,
    WriteReceipt,
};
use futures::future::BoxFuture;
use futures::{StreamExt, stream};
use reqwest::Method;
use reqwest::header::HeaderMap;

use crate::S3Client;
use crate::sigv4::MAX_PRESIGN_SECONDS;
use crate::xml::{md5_of_etag, parse_object_page, unquote};

type Result<T> = std::result::Result<T, StoreError>;

/// Keys per listing page (S3's own maximum).
const PAGE_SIZE: u32 = 1000;

/// What an S3 bucket can do.
pub(crate) const CAPABILITIES: Capabilities = Capabilities {
    server_side_copy: false,
    stores_properties: true,
    lists_metadata: false,
    lists_committed_parts: false,
    max_part_size: 5 * 1024 * 1024 * 1024,
    min_part_size: 5 * 1024 * 1024,
    max_parts: 10_000,
    max_single_write: 5 * 1024 * 1024 * 1024,
    positional_writes: false,
    writes_in_place: false,
    smb_names: false,
    snapshot_reads: true,
    reads_into: true,
};

/// A bucket of an S3 (or S3-compatible) service.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: S3Client,
    url: S3Url,
    bucket: String,
    page_size: u32,
    by_url: bool,
    presign_seconds: u64,
    sessions: crate::multipart::Sessions,
}

impl S3Store {
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
                store.client.send(store.object_read(&key, &target, Some(&bytes), version.as_deref())).await
            })
        }
    }

    /// The GET of `key`'s bytes (`range`: a `bytes=` value), of the version `etag` names when given.
    fn object_read<'a>(&self, key: &str, target: &'a str, range: Option<&str>, etag: Option<&str>) -> Request<'a> {
        let mut request = Request::new(Method::GET, self.url.object_url(&self.bucket, key), target);
        if let Some(bytes) = range {
            request = request.header("range", bytes);
        }
        match etag {
            Some(etag) => request.header("if-match", etag),
            None => request,
        }
    }

    /// The bucket `url` names (its key is not used: keys are relative to the bucket).
    pub fn new(client: S3Client, url: &S3Url) -> Result<Self> {
        let bucket = url.bucket().ok_or_else(|| {
            StoreError::new(ErrorKind::InvalidInput, url.to_string(), "the URL does not name a bucket")
        })?;
        Ok(Self {
            client,
            url: url.clone(),
            bucket: bucket.to_owned(),
            page_size: PAGE_SIZE,
            by_url: false,
            presign_seconds: MAX_PRESIGN_SECONDS,
            sessions: crate::multipart::Sessions::default(),
        })
    }

    /// Sets the listing page size (tests use small pages to exercise paging).
    #[must_use]
    pub fn with_page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size.clamp(1, PAGE_SIZE);
        self
    }

    /// Lets a destination service read objects by a presigned URL (a server-side copy); without
    /// it, copies stream the bytes through Ferry (a service that cannot reach this endpoint).
    #[must_use]
    pub fn readable_by_url(mut self, yes: bool) -> Self {
        self.by_url = yes;
        self
    }

    /// Lists like [`Store::list`], owning what the listing needs (for listings that outlive
    /// the caller's borrow, such as a service's, bucket after bucket).
    pub fn list_owned(&self, prefix: &str, depth: ListDepth) -> EntryStream<'static> {
        listing(self.clone(), prefix.to_owned(), depth, String::new())
    }

    /// How long a presigned URL lives (default and most: seven days). Shorter only for tests of
    /// what happens when one expires before the destination fetches it.
    #[must_use]
    pub fn with_presign_seconds(mut self, seconds: u64) -> Self {
        self.presign_seconds = seconds.clamp(1, MAX_PRESIGN_SECONDS);
        self
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    fn target(&self, key: &str) -> String {
        self.url.object_url(&self.bucket, key).to_string()
    }

    fn multipart<'a>(&'a self, key: &'a str) -> crate::multipart::Multipart<'a> {
        crate::multipart::Multipart {
            client: &self.client,
            sessions: &self.sessions,
            url: self.url.object_url(&self.bucket, key),
            target: self.target(key),
            key,
        }
    }

    async fn list_page(
        &self,
        prefix: &str,
        depth: ListDepth,
        start_after: Option<&str>,
        token: Option<&str>,
    ) -> Result<crate::xml::ObjectPage> {
        let mut url = self.url.bucket_url(&self.bucket);
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("list-type", "2")
                .append_pair("encoding-type", "url")
                .append_pair("max-keys", &self.page_size.to_string())
                .append_pair("prefix", prefix);
            if depth == ListDepth::OneLevel {
                query.append_pair("delimiter", "/");
            }
            if let Some(after) = start_after {
                query.append_pair("start-after", after);
            }
            if let Some(t) = token {
                query.append_pair("continuation-token", t);
            }
        }
        let target = self.url.bucket_url(&self.bucket).to_string();
        let body = self.client.get_xml(Request::new(Method::GET, url, &target)).await?;
        parse_object_page(&body).map_err(|e| StoreError::new(ErrorKind::Other, target, e.to_string()))
    }
}

/// An object's entry from its HEAD (or GET) response headers.
fn entry_from_headers(key: &str, headers: &HeaderMap) -> Entry {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let metadata = headers
        .iter()
        .filter_map(|(name, value)| {
            let meta = name.as_str().strip_prefix("x-amz-meta-")?;
            Some((meta.to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let etag = get("etag");
    let content_md5 = etag.as_deref().and_then(md5_of_etag);
    let properties = ObjectProperties {
        headers: ContentHeaders {
            content_type: get("content-type"),
            content_encoding: get("content-encoding"),
            content_language: get("content-language"),
            content_disposition: get("content-disposition"),
            cache_control: get("cache-control"),
            content_md5,
        },
        metadata,
        access_tier: Some(get("x-amz-storage-class").unwrap_or_else(|| "STANDARD".to_owned())),
        version_id: get("x-amz-version-id"),
        ..ObjectProperties::default()
    };
    Entry {
        size: get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0),
        last_modified: get("last-modified").and_then(|v| httpdate::parse_http_date(&v).ok()),
        content_md5,
        etag: etag.map(|e| unquote(&e)),
        properties: Some(Box::new(properties)),
        ..Entry::object(key, 0)
    }
}

/// Lists `prefix` page by page, in the [`Store`] contract's order
/// ([`ferry_store::paging::paged`]): S3 orders keys by UTF-8 bytes, the contract by UTF-16 code
/// units (they differ only between U+E000–U+FFFF and characters above U+FFFF), so each page is
/// sorted, and a key that would go backwards across pages fails the listing rather than let a
/// sync misjudge what is missing. Folder markers (keys ending in `/`) are passed over, as AzCopy
/// does.
///
/// From `start` on (inclusive) when it is not empty: S3's `start-after` is exclusive and in
/// byte order, so it is asked for [`ferry_store::start::exclusive_floor`] of the floor.
fn listing(store: S3Store, prefix: String, depth: ListDepth, start: String) -> EntryStream<'static> {
    let after = ferry_store::start::exclusive_floor(ferry_store::start::service_floor(&start));
    let listing = ferry_store::paging::paged(store.describe(), false, move |token| {
        let (store, prefix, after) = (store.clone(), prefix.clone(), after.clone());
        async move {
            let mut page = store.list_page(&prefix, depth, after.as_deref(), token.as_deref()).await?;
            page.entries.retain(|e| e.kind == ferry_core::EntryKind::Prefix || !e.key.ends_with('/'));
            Ok(ferry_store::paging::Page { entries: page.entries, next: page.next_token })
        }
    });
    ferry_store::start::skip_before(listing, start)
}

#[async_trait]
impl Store for S3Store {
    fn describe(&self) -> String {
        self.url.bucket_url(&self.bucket).to_string()
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    fn list<'a>(&'a self, prefix: &'a str, depth: ListDepth) -> EntryStream<'a> {
        self.list_owned(prefix, depth)
    }

    fn list_from<'a>(&'a self, prefix: &'a str, depth: ListDepth, start: &str) -> EntryStream<'a> {
        listing(self.clone(), prefix.to_owned(), depth, start.to_owned())
    }

    async fn stat(&self, key: &str) -> Result<Entry> {
        let target = self.target(key);
        let url = self.url.object_url(&self.bucket, key);
        let response = self.client.send(Request::new(Method::HEAD, url, &target)).await?;
        Ok(entry_from_headers(key, response.headers()))
    }

    async fn read(&self, key: &str, range: Option<Range<u64>>) -> Result<ByteStream> {
        let target = self.target(key);
        let send = |bytes: Option<String>| self.client.send(self.object_read(key, &target, bytes.as_deref(), None));
        let size = || async { Ok(self.stat(key).await?.size) };
        let Some(response) = ranges::fetch(&target, range.as_ref(), send, size).await? else {
            return Ok(stream::empty().boxed());
        };
        // A break in the body is resumed from where it stopped, on the same version.
        let policy = self.client.retry_policy();
        Ok(ferry_http::resuming_body(response, &target, range, "etag", policy, self.ask_rest(key)))
    }

    async fn read_into(
        &self,
        key: &str,
        range: Range<u64>,
        whole: bool,
        sink: Arc<dyn PositionalSink>,
    ) -> Result<bool> {
        let target = self.target(key);
        let expect = ferry_http::Expect::new(&range, whole, "etag");
        let request = self.object_read(key, &target, expect.range_header().as_deref(), None);
        let direct = self.client.get_into(request, expect, sink.clone()).await;
        let policy = self.client.retry_policy();
        ferry_http::finish_direct(direct, range, sink, &target, "etag", policy, self.ask_rest(key)).await
    }

    async fn service_readable_url(&self, key: &str) -> Result<url::Url> {
        if !self.by_url {
            return Err(StoreError::not_supported(self.target(key), "reading by URL (copies stream through Ferry)"));
        }
        let url = self.url.object_url(&self.bucket, key);
        Ok(self.client.readable_url(&url, self.presign_seconds))
    }

    async fn write(&self, key: &str, payload: Payload, options: &WriteOptions) -> Result<WriteReceipt> {
        let target = self.target(key);
        if payload.len() > CAPABILITIES.max_single_write {
            return Err(StoreError::new(
                ErrorKind::InvalidInput,
                target,
                "too large for one PutObject; write it in parts",
            ));
        }
        let body = match payload {
            Payload::Bytes(b) => Body::Bytes(b),
            Payload::FileRange { path, offset, len } => Body::File { path, offset, len },
            Payload::Stream { stream, len } => Body::OneShot(std::sync::Mutex::new(Some(stream)), len),
        };
        let md5 = options.headers.content_md5;
        let mut request = Request::new(Method::PUT, self.url.object_url(&self.bucket, key), &target).body(body);
        if let Some(md5) = &md5 {
            // S3 checks the body against it; the object's ETag is then that MD5.
            request = request.header("content-md5", &crate::multipart::base64_md5(md5));
        }
        let request = crate::write::with_object_headers(request, options, &target)?;
        let response = self.client.send(request).await.map_err(|e| crate::write::exists_when_kept(e, options))?;
        let etag = response.headers().get("etag").and_then(|v| v.to_str().ok()).map(unquote);
        if let (Some(expected), Some(stored)) = (md5, etag.as_deref().and_then(md5_of_etag))
            && stored != expected
        {
            // A server that does not check Content-MD5 (moto) stored them anyway: said, not hidden.
            return Err(StoreError::new(
                ErrorKind::InvalidInput,
                target,
                "the data does not match its Content-MD5 (the service stored them unchecked: its ETag is their MD5)",
            ));
        }
        Ok(WriteReceipt { etag, last_modified: None })
    }

    async fn open_parts(
        &self,
        key: &str,
        tag: &str,
        options: &WriteOptions,
        earlier: Option<&str>,
    ) -> Result<Option<String>> {
        self.multipart(key).open(tag, options, earlier).await.map(Some)
    }

    async fn put_part(&self, key: &str, part: &PartId, data: Bytes, md5: Option<[u8; 16]>) -> Result<()> {
        self.multipart(key).put(part, data, md5).await
    }

    async fn list_parts(&self, key: &str) -> Result<PartList> {
        self.multipart(key).list().await
    }

    async fn commit_parts(&self, key: &str, parts: &[PartId], options: &WriteOptions) -> Result<WriteReceipt> {
        self.multipart(key).complete(parts, options).await
    }

    /// Deletes an object: `NotFound` when there is none (S3 itself answers a delete of nothing
    /// with success, so it is looked up first).
    async fn delete(&self, key: &str) -> Result<()> {
        self.stat(key).await?;
        let target = self.target(key);
        self.client.send(Request::new(Method::DELETE, self.url.object_url(&self.bucket, key), &target)).await?;
        Ok(())
    }

    /// Creates the bucket, in the region requests are signed for; `AlreadyExists` when it is
    /// there (looked up first: S3 answers a create of one's own bucket with success in
    /// us-east-1).
    async fn create_root(&self) -> Result<()> {
        let target = self.describe();
        match self.client.send(Request::new(Method::HEAD, self.url.bucket_url(&self.bucket), &target)).await {
            Ok(_) => return Err(StoreError::new(ErrorKind::AlreadyExists, target, "the bucket exists")),
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let mut request = Request::new(Method::PUT, self.url.bucket_url(&self.bucket), &target);
        if let Some(body) = crate::write::create_bucket_body(self.client.region()) {
            request = request.header("content-type", "application/xml").body(Body::Bytes(body.into()));
        }
        self.client.send(request).await?;
        Ok(())
    }
}
