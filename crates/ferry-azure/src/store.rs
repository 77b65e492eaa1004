//! [`AzureStore`]: the [`Store`] trait over one Blob container.

use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use bytes::Bytes;
use ferry_core::BlobUrl;
use ferry_core::encoding::encode_component;
use ferry_store::ranges;
use ferry_store::{
    ByteStream, Capabilities, Entry, EntryStream, ErrorKind, ListDepth, ObjectProperties, PartId, PartList, Payload,
    PositionalSink, Result, Store, StoreError, WriteOptions, WriteReceipt,
};
use futures::future::BoxFuture;
use futures::{StreamExt, stream};
use reqwest::Method;
use reqwest::header::HeaderMap;
use url::Url;

use crate::client::BlobClient;
use crate::xml::{block_list_body, parse_blob_page, parse_block_list, parse_container_page, parse_http_date};
use ferry_http::{Body, Request};

/// Entries per listing page: the service's maximum.
pub const LIST_PAGE_SIZE: u32 = 5000;
/// Largest Put Blob body the service accepts (5,000 MiB since version 2019-12-12).
const MAX_PUT_BLOB: u64 = 5000 * 1024 * 1024;
/// Largest block (4,000 MiB since version 2019-12-12).
const MAX_BLOCK: u64 = 4000 * 1024 * 1024;

/// How long a read SAS minted for server-side copy stays valid.
const SERVICE_READ_SAS_LIFETIME: std::time::Duration = std::time::Duration::from_secs(48 * 3600);

/// A Blob container as a [`Store`].
#[derive(Debug, Clone)]
pub struct AzureStore {
    client: BlobClient,
    url: BlobUrl,
    container: String,
    page_size: u32,
    /// The user delegation key that signs server-side reads under an Entra token.
    delegation: std::sync::Arc<crate::user_delegation::KeyCache>,
    /// Customer-provided encryption, if the blobs use it.
    cpk: Option<std::sync::Arc<crate::Cpk>>,
    /// What listings show beyond current blobs: every version, snapshots, soft-deleted ones.
    include: Include,
}

/// What a listing shows beyond current blobs (the service's `include=` values).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Include {
    /// Every version of each blob, oldest first (`versions`).
    pub versions: bool,
    /// Each blob's snapshots, oldest first, before the blob (`snapshots`).
    pub snapshots: bool,
    /// Soft-deleted blobs, versions and snapshots (`deleted`), marked as such.
    pub deleted: bool,
}

impl Include {
    /// Whether a key can appear more than once (several versions or snapshots of a blob).
    fn repeats_keys(self) -> bool {
        self.versions || self.snapshots
    }

    /// The `include=` values beyond `metadata`, each after an encoded comma.
    fn query(self) -> String {
        let mut text = String::new();
        for (on, name) in [(self.versions, "versions"), (self.snapshots, "snapshots"), (self.deleted, "deleted")] {
            if on {
                text.push_str("%2C");
                text.push_str(name);
            }
        }
        text
    }
}

impl AzureStore {
    /// A store for the container named in `url` (the URL's path, if any, is ignored: keys are
    /// relative to the container).
    pub fn new(client: BlobClient, url: &BlobUrl) -> Result<Self> {
        let container = url.container().ok_or_else(|| {
            StoreError::new(ErrorKind::InvalidInput, url.to_string(), "the URL does not name a container")
        })?;
        Ok(Self {
            client: client.clone(),
            container: container.to_owned(),
            url: url.clone(),
            page_size: LIST_PAGE_SIZE,
            delegation: std::sync::Arc::default(),
            cpk: None,
            include: Include::default(),
        })
    }

    /// This store, listing every version of each blob, oldest first, each entry with its
    /// `version_id` (AzCopy's `list --properties VersionId`). Such a listing holds a key once
    /// per version, so it is for showing, not for comparing trees.
    #[must_use]
    pub fn with_versions(self) -> Self {
        self.including(Include { versions: true, ..Include::default() })
    }

    /// This store, listing what `include` asks for besides current blobs; entries carry their
    /// `version_id`, `snapshot` and `deleted` marks. Such a listing may hold a key more than
    /// once, so it is for showing and choosing, not for comparing trees.
    #[must_use]
    pub fn including(mut self, include: Include) -> Self {
        self.include = include;
        self
    }

    /// This store with `key` naming its version `version`: reads, properties and deletes of
    /// `key` go to that version.
    #[must_use]
    pub fn at_version(&self, key: &str, version: &str) -> Self {
        Self { url: self.url.at_version(key, version), include: Include::default(), ..self.clone() }
    }

    /// This store with `key` naming its snapshot `snapshot`.
    #[must_use]
    pub fn at_snapshot(&self, key: &str, snapshot: &str) -> Self {
        Self { url: self.url.at_snapshot(key, snapshot), include: Include::default(), ..self.clone() }
    }

    /// Purges a soft-deleted snapshot or version of a blob for good (`deletetype=permanent`);
    /// `self` names it ([`AzureStore::at_snapshot`], [`AzureStore::at_version`]).
    pub async fn purge(&self, key: &str) -> Result<()> {
        let target = self.target(key);
        let url = with_query(self.blob_url(key), "deletetype=permanent");
        self.client.send(Request::new(Method::DELETE, url, &target)).await?;
        Ok(())
    }

    /// Encrypts (and reads) blobs with `cpk` (AzCopy's `--cpk-by-name` / `--cpk-by-value`).
    #[must_use]
    pub fn with_cpk(mut self, cpk: Option<crate::Cpk>) -> Self {
        self.cpk = cpk.map(std::sync::Arc::new);
        self
    }

    /// `request` with the encryption headers, if the blobs use customer-provided encryption.
    pub(crate) fn encrypted<'a>(&self, request: Request<'a>, writing: bool) -> Request<'a> {
        match &self.cpk {
            Some(cpk) => cpk.apply(request, writing),
            None => request,
        }
    }

    /// The Get Blob of `key` (`range`: a `bytes=` value), of the version `etag` names when given.
    fn blob_read<'a>(&self, key: &str, target: &'a str, range: Option<&str>, etag: Option<&str>) -> Request<'a> {
        let mut request = Request::new(Method::GET, self.blob_url(key), target);
        if let Some(bytes) = range {
            request = request.header("x-ms-range", bytes);
        }
        if let Some(etag) = etag {
            request = request.header("if-match", etag);
        }
        self.encrypted(request, false)
    }

    /// The body of `response`, the answer for `range` of `key` (`None`: all of it): a break in
    /// it is resumed from where it stopped, on the same version.
    fn resuming(&self, key: &str, response: reqwest::Response, range: Option<Range<u64>>) -> ByteStream {
        let policy = self.client.config().retry;
        ferry_http::resuming_body(response, &self.target(key), range, "etag", policy, self.ask_rest(key))
    }

    /// Sends the read of `bytes` of `key`, `If-Match` the version when one is given: how a
    /// body that broke off asks for the rest.
    fn ask_rest(
        &self,
        key: &str,
    ) -> impl Fn(String, Option<String>) -> BoxFuture<'static, Result<reqwest::Response>> + Send + Sync + 'static {
        let (store, key) = (self.clone(), key.to_owned());
        move |bytes: String, version: Option<String>| {
            let (store, key) = (store.clone(), key.clone());
            Box::pin(async move {
                let target = store.target(&key);
                store.client.send(store.blob_read(&key, &target, Some(&bytes), version.as_deref())).await
            })
        }
    }

    /// Sets the listing page size (tests use small pages to exercise paging).
    #[must_use]
    pub fn with_page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size.clamp(1, LIST_PAGE_SIZE);
        self
    }

    /// Lists like [`Store::list`], owning the store and the prefix (for listings that outlive
    /// the caller's borrow, such as an account's, container after container).
    pub fn list_owned(self: std::sync::Arc<Self>, prefix: String, depth: ListDepth) -> EntryStream<'static> {
        listing(self, prefix, depth, String::new())
    }

    /// The client this store sends with.
    pub fn client(&self) -> &BlobClient {
        &self.client
    }

    /// The container's name.
    pub fn container(&self) -> &str {
        &self.container
    }

    fn container_url(&self) -> Url {
        self.url.container_url_for(&self.container)
    }

    pub(crate) fn blob_url(&self, key: &str) -> Url {
        let mut url = self.url.object_url_for(&self.container, key);
        // The URL's snapshot or version applies to the one blob it names.
        if let Some((name, value)) = self.url.point_in_time()
            && key == self.url.path()
        {
            url.query_pairs_mut().append_pair(name, value);
        }
        url
    }

    /// Deletes a blob; `snapshots` is `include` (the blob and its snapshots) or `only` (its
    /// snapshots, keeping the blob), as the service's `x-ms-delete-snapshots`.
    pub async fn delete_blob(&self, key: &str, snapshots: Option<&str>) -> Result<()> {
        let target = self.target(key);
        let mut request = Request::new(Method::DELETE, self.blob_url(key), &target);
        if let Some(mode) = snapshots {
            request = request.header("x-ms-delete-snapshots", mode);
        }
        self.client.send(request).await?;
        Ok(())
    }

    /// The URL of `key` with this store's SAS, if it has one (what another account's Put Block
    /// From URL needs to read it).
    pub fn readable_url(&self, key: &str) -> Url {
        let mut url = self.blob_url(key);
        if let crate::Credential::Sas(sas) = self.client.credential() {
            url.set_query(Some(sas.expose()));
        }
        url
    }

    /// How an object is named in errors: its URL, which never carries the SAS (the client
    /// adds that only to the request it sends).
    pub(crate) fn target(&self, key: &str) -> String {
        self.blob_url(key).to_string()
    }

    /// One page of the listing of `prefix`, from `start` (inclusive) when it is not empty.
    async fn list_page(
        &self,
        prefix: &str,
        depth: ListDepth,
        start: &str,
        marker: Option<&str>,
    ) -> Result<crate::xml::BlobPage> {
        let mut url = self.container_url();
        let mut query = format!(
            "restype=container&comp=list&maxresults={}&include=metadata{}&prefix={}",
            self.page_size,
            self.include.query(),
            encode_component(prefix)
        );
        if depth == ListDepth::OneLevel {
            query.push_str("&delimiter=%2F");
        }
        if !start.is_empty() {
            query.push_str(&format!("&startFrom={}", encode_component(start)));
        }
        if let Some(m) = marker {
            query.push_str(&format!("&marker={}", encode_component(m)));
        }
        url.set_query(Some(&query));
        let target = self.container_url().to_string();
        let mut request = Request::new(Method::GET, url, &target);
        if !start.is_empty() {
            request = request.header("x-ms-version", crate::client::START_FROM_VERSION);
        }
        let body = self.client.get_xml(request).await?;
        parse_blob_page(&body).map_err(|e| StoreError::new(ErrorKind::Other, target, e.to_string()))
    }
}

/// Lists `prefix` of `store` page by page, in key order ([`ferry_store::paging::paged`]); `store`
/// and `prefix` are borrowed (`Store::list`) or owned (`AzureStore::list_owned`), cloned into
/// each page's request. Versions of one blob keep the service's order and may straddle pages.
///
/// From `start` on (inclusive) when it is not empty: `startFrom` on every page (it composes with
/// the marker), at [`ferry_store::start::service_floor`] so no name is missed whichever order the
/// service compares it in.
fn listing<'a, S, P>(store: S, prefix: P, depth: ListDepth, start: String) -> EntryStream<'a>
where
    S: std::ops::Deref<Target = AzureStore> + Clone + Send + Sync + 'a,
    P: AsRef<str> + Clone + Send + Sync + 'a,
{
    let (target, repeats) = (store.describe(), store.include.repeats_keys());
    let floor = ferry_store::start::service_floor(&start).to_owned();
    let listing = ferry_store::paging::paged(target, repeats, move |marker| {
        let (store, prefix, floor) = (store.clone(), prefix.clone(), floor.clone());
        async move {
            let page = store.list_page(prefix.as_ref(), depth, &floor, marker.as_deref()).await?;
            Ok(ferry_store::paging::Page { entries: page.entries, next: page.next_marker })
        }
    });
    ferry_store::start::skip_before(listing, start)
}

/// `url` with `query` added after what it has.
fn with_query(mut url: Url, query: &str) -> Url {
    let joined = match url.query() {
        Some(existing) if !existing.is_empty() => format!("{existing}&{query}"),
        _ => query.to_owned(),
    };
    url.set_query(Some(&joined));
    url
}

/// What a Blob container (and so an account of them) can do.
pub(crate) const CAPABILITIES: Capabilities = Capabilities {
    server_side_copy: true,
    stores_properties: true,
    lists_metadata: true,
    lists_committed_parts: true,
    max_part_size: MAX_BLOCK,
    min_part_size: 0,
    max_parts: 50_000,
    max_single_write: MAX_PUT_BLOB,
    positional_writes: false,
    writes_in_place: false,
    smb_names: false,
    snapshot_reads: true,
    reads_into: true,
};

/// Lists the containers of the account behind `url`, in name order.
pub async fn list_containers(client: &BlobClient, url: &BlobUrl) -> Result<Vec<String>> {
    list_account_names(client, url, |xml| parse_container_page(xml).map_err(|e| e.to_string())).await
}

/// Lists what an account holds at its top (Blob containers, Files shares: `comp=list` on the
/// service URL), page by page, with `parse` reading each page's names and next marker. A marker
/// the service repeats ends the listing, so a broken server cannot keep Ferry asking forever.
pub async fn list_account_names<P>(client: &BlobClient, url: &BlobUrl, parse: P) -> Result<Vec<String>>
where
    P: Fn(&str) -> std::result::Result<(Vec<String>, Option<String>), String>,
{
    let target = url.with_sas(None).service_url().to_string();
    let mut names = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut request_url = url.service_url();
        let base = request_url.path().trim_end_matches('/').to_owned();
        request_url.set_path(&format!("{base}/"));
        let mut query = "comp=list&maxresults=5000".to_owned();
        if let Some(m) = &marker {
            query.push_str(&format!("&marker={}", encode_component(m)));
        }
        request_url.set_query(Some(&query));
        let body = client.get_xml(Request::new(Method::GET, request_url, &target)).await?;
        let (page, next) = parse(&body).map_err(|e| StoreError::new(ErrorKind::Other, &target, e))?;
        names.extend(page);
        match next {
            Some(next) if Some(&next) != marker.as_ref() => marker = Some(next),
            _ => return Ok(names),
        }
    }
}

/// Refuses names the service would change or reject, before anything is sent: it turns `\`
/// into `/` and drops trailing dots (so the blob would land under another name), and allows at
/// most 1,024 characters.
pub fn validate_blob_name(key: &str) -> Result<()> {
    let problem = if key.is_empty() {
        "a blob name cannot be empty"
    } else if key.chars().count() > 1024 {
        "a blob name is at most 1,024 characters"
    } else if key.chars().any(|c| (c < ' ' && c != '\t') || c == '\u{FFFE}' || c == '\u{FFFF}') {
        // XML 1.0 has no room for these (and turns CR into LF), so the service could not list
        // the blob back under its name.
        "the name contains a control character, which Azure Blob Storage cannot list back"
    } else if key.contains('\\') {
        "the name contains a backslash, which Azure Blob Storage turns into `/`, so the blob would get another name"
    } else if key.ends_with('.') || key.ends_with('/') {
        "a blob name cannot end with `.` or `/`: the service would drop it and store the blob under another name"
    } else {
        return Ok(());
    };
    Err(StoreError::new(ErrorKind::InvalidInput, key, problem)
        .with_hint("rename the file, or leave it out with --exclude-pattern"))
}

pub(crate) fn b64(md5: &[u8; 16]) -> String {
    base64::engine::general_purpose::STANDARD.encode(md5)
}

/// Adds the blob's stored headers, metadata and tier to a request.
/// Adds `metadata` as `x-ms-meta-*` headers, refusing names that are not C identifiers and
/// values that are not printable ASCII (the service's rules).
pub(crate) fn add_metadata<'a>(
    mut request: Request<'a>,
    metadata: &std::collections::BTreeMap<String, String>,
) -> Result<Request<'a>> {
    for (name, value) in metadata {
        let valid_name = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid_name || reqwest::header::HeaderValue::from_str(value).is_err() {
            return Err(StoreError::new(
                ErrorKind::InvalidInput,
                request.target,
                format!("metadata `{name}` is not valid: names are C identifiers and values printable ASCII"),
            ));
        }
        request = request.header(&format!("x-ms-meta-{name}"), value);
    }
    Ok(request)
}

pub(crate) fn with_blob_properties<'a>(mut request: Request<'a>, options: &WriteOptions) -> Result<Request<'a>> {
    let h = &options.headers;
    let pairs = [
        ("x-ms-blob-content-type", &h.content_type),
        ("x-ms-blob-content-encoding", &h.content_encoding),
        ("x-ms-blob-content-language", &h.content_language),
        ("x-ms-blob-content-disposition", &h.content_disposition),
        ("x-ms-blob-cache-control", &h.cache_control),
    ];
    for (name, value) in pairs {
        if let Some(v) = value {
            request = request.header(name, v);
        }
    }
    if let Some(md5) = &h.content_md5 {
        request = request.header("x-ms-blob-content-md5", &b64(md5));
    }
    request = add_metadata(request, &options.metadata)?;
    if let Some(tier) = &options.access_tier {
        request = request.header("x-ms-access-tier", tier);
    }
    if !options.tags.is_empty() {
        let tags: Vec<String> =
            options.tags.iter().map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v))).collect();
        request = request.header("x-ms-tags", &tags.join("&"));
    }
    if !options.overwrite {
        request = request.header("if-none-match", "*");
    }
    Ok(request)
}

pub(crate) fn receipt(headers: &HeaderMap) -> WriteReceipt {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    WriteReceipt {
        etag: get("etag").map(|e| e.trim_matches('"').to_owned()),
        last_modified: get("last-modified").and_then(parse_http_date),
    }
}

/// Builds an entry from the headers of a HEAD (Get Blob Properties) response.
fn entry_from_headers(key: &str, headers: &HeaderMap) -> Entry {
    let get = |n: &str| crate::response_headers::header_text(headers, n);
    let md5 = crate::response_headers::content_md5(headers);
    let properties = ObjectProperties {
        headers: crate::response_headers::content_headers(headers),
        metadata: crate::response_headers::metadata(headers),
        blob_type: get("x-ms-blob-type"),
        access_tier: get("x-ms-access-tier"),
        archive_status: get("x-ms-archive-status"),
        lease_state: get("x-ms-lease-state"),
        lease_status: get("x-ms-lease-status"),
        lease_duration: get("x-ms-lease-duration"),
        version_id: get("x-ms-version-id"),
        ..ObjectProperties::default()
    };
    Entry {
        key: key.to_owned(),
        kind: ferry_store::EntryKind::Object,
        size: get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0),
        last_modified: get("last-modified").as_deref().and_then(parse_http_date),
        content_md5: md5,
        etag: get("etag").map(|e| e.trim_matches('"').to_owned()),
        properties: Some(Box::new(properties)),
    }
}

#[async_trait]
impl Store for AzureStore {
    fn describe(&self) -> String {
        self.url.with_container_and_path(Some(&self.container), "").to_string()
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    fn list<'a>(&'a self, prefix: &'a str, depth: ListDepth) -> EntryStream<'a> {
        listing(self, prefix, depth, String::new())
    }

    fn list_from<'a>(&'a self, prefix: &'a str, depth: ListDepth, start: &str) -> EntryStream<'a> {
        listing(self, prefix, depth, start.to_owned())
    }

    async fn stat(&self, key: &str) -> Result<Entry> {
        let target = self.target(key);
        let response =
            self.client.send(self.encrypted(Request::new(Method::HEAD, self.blob_url(key), &target), false)).await?;
        Ok(entry_from_headers(key, response.headers()))
    }

    async fn read(&self, key: &str, range: Option<Range<u64>>) -> Result<ByteStream> {
        let target = self.target(key);
        let send = |bytes: Option<String>| self.client.send(self.blob_read(key, &target, bytes.as_deref(), None));
        let size = || async { Ok(self.stat(key).await?.size) };
        let Some(response) = ranges::fetch(&target, range.as_ref(), send, size).await? else {
            return Ok(stream::empty().boxed());
        };
        if let Some(r) = &range {
            // Some servers (Azurite) answer a range that starts at the very end with an empty
            // 206 instead of 416; the contract is InvalidInput either way.
            let total = response
                .headers()
                .get("content-range")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit('/').next())
                .and_then(|t| t.parse::<u64>().ok());
            if let Some(total) = total.filter(|t| *t > 0 && r.start >= *t) {
                return Err(StoreError::new(
                    ErrorKind::InvalidInput,
                    target,
                    format!("range {}..{} is outside the object ({total} bytes)", r.start, r.end),
                ));
            }
        }
        Ok(self.resuming(key, response, range))
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
        let request = self.blob_read(key, &target, expect.range_header().as_deref(), None);
        let direct = self.client.get_into(request, expect, sink.clone()).await;
        let policy = self.client.config().retry;
        ferry_http::finish_direct(direct, range, sink, &target, "etag", policy, self.ask_rest(key)).await
    }

    async fn write(&self, key: &str, payload: Payload, options: &WriteOptions) -> Result<WriteReceipt> {
        validate_blob_name(key)?;
        let target = self.target(key);
        if payload.len() > MAX_PUT_BLOB {
            return Err(StoreError::new(
                ErrorKind::InvalidInput,
                target,
                "too large for a single Put Blob; write it in parts",
            ));
        }
        let body = match payload {
            Payload::Bytes(b) => Body::Bytes(b),
            Payload::FileRange { path, offset, len } => Body::File { path, offset, len },
            Payload::Stream { stream, len } => Body::OneShot(std::sync::Mutex::new(Some(stream)), len),
        };
        let mut request =
            Request::new(Method::PUT, self.blob_url(key), &target).header("x-ms-blob-type", "BlockBlob").body(body);
        if let Some(md5) = &options.headers.content_md5 {
            // Content-MD5 makes the service verify the body; x-ms-blob-content-md5 stores it.
            request = request.header("content-md5", &b64(md5));
        }
        let request = with_blob_properties(request, options)?;
        let response = self.client.send(self.encrypted(request, true)).await?;
        Ok(receipt(response.headers()))
    }

    async fn put_part(&self, key: &str, part: &PartId, data: Bytes, md5: Option<[u8; 16]>) -> Result<()> {
        validate_blob_name(key)?;
        let target = self.target(key);
        let mut url = self.blob_url(key);
        url.set_query(Some(&format!("comp=block&blockid={}", encode_component(part.as_str()))));
        let mut request = Request::new(Method::PUT, url, &target).body(Body::Bytes(data));
        if let Some(md5) = &md5 {
            request = request.header("content-md5", &b64(md5));
        }
        self.client.send(self.encrypted(request, true)).await?;
        Ok(())
    }

    async fn tags(&self, key: &str) -> Result<std::collections::BTreeMap<String, String>> {
        self.get_tags(key).await
    }

    async fn create_ranged(&self, key: &str, size: u64, options: &WriteOptions) -> Result<WriteReceipt> {
        self.create_page_blob(key, size, options).await
    }

    async fn write_range(&self, key: &str, offset: u64, data: Bytes, md5: Option<[u8; 16]>) -> Result<()> {
        self.put_pages(key, offset, data, md5).await
    }

    async fn create_appendable(&self, key: &str, options: &WriteOptions) -> Result<WriteReceipt> {
        self.create_append_blob(key, options).await
    }

    async fn append(&self, key: &str, at: u64, data: Bytes, md5: Option<[u8; 16]>) -> Result<()> {
        self.append_block(key, at, data, md5).await
    }

    async fn set_content_headers(&self, key: &str, options: &WriteOptions) -> Result<()> {
        self.put_content_headers(key, options).await
    }

    async fn list_parts(&self, key: &str) -> Result<PartList> {
        let target = self.target(key);
        let mut url = self.blob_url(key);
        url.set_query(Some("comp=blocklist&blocklisttype=all"));
        match self.client.get_xml(Request::new(Method::GET, url, &target)).await {
            Ok(body) => parse_block_list(&body).map_err(|e| StoreError::new(ErrorKind::Other, target, e.to_string())),
            // A blob that was never written and has no staged blocks has no parts.
            Err(e) if e.kind() == ErrorKind::NotFound && e.message().contains("BlobNotFound") => {
                Ok(PartList::default())
            }
            Err(e) => Err(e),
        }
    }

    async fn commit_parts(&self, key: &str, parts: &[PartId], options: &WriteOptions) -> Result<WriteReceipt> {
        validate_blob_name(key)?;
        let target = self.target(key);
        let mut url = self.blob_url(key);
        url.set_query(Some("comp=blocklist"));
        let body = Bytes::from(block_list_body(parts));
        let request = Request::new(Method::PUT, url, &target)
            .header("content-type", "application/xml")
            .header("content-md5", &b64(&ferry_store::md5_of(&body)))
            .body(Body::Bytes(body));
        let request = with_blob_properties(request, options)?;
        let response = self.client.send(self.encrypted(request, true)).await?;
        Ok(receipt(response.headers()))
    }

    async fn put_part_from_url(
        &self,
        key: &str,
        part: &PartId,
        source_url: &Url,
        range: Option<Range<u64>>,
    ) -> Result<()> {
        validate_blob_name(key)?;
        let target = self.target(key);
        let mut url = self.blob_url(key);
        url.set_query(Some(&format!("comp=block&blockid={}", encode_component(part.as_str()))));
        let mut request = Request::new(Method::PUT, url, &target).header("x-ms-copy-source", source_url.as_str());
        if let Some(r) = range {
            if r.start >= r.end {
                return Err(StoreError::new(ErrorKind::InvalidInput, target, "an empty source range"));
            }
            request = request.header("x-ms-source-range", &format!("bytes={}-{}", r.start, r.end - 1));
        }
        self.client.send(self.encrypted(request, true)).await?;
        Ok(())
    }

    async fn copy_object_from_url(&self, key: &str, source_url: &Url, options: &WriteOptions) -> Result<WriteReceipt> {
        validate_blob_name(key)?;
        let target = self.target(key);
        if options.headers != ferry_store::ContentHeaders::default() {
            return Err(StoreError::new(
                ErrorKind::InvalidInput,
                target,
                "Copy Blob From URL keeps the source's content headers; it cannot set others",
            ));
        }
        let request = Request::new(Method::PUT, self.blob_url(key), &target)
            .header("x-ms-copy-source", source_url.as_str())
            .header("x-ms-requires-sync", "true");
        let request = with_blob_properties(request, options)?;
        let response = self.client.send(self.encrypted(request, true)).await?;
        // A synchronous copy either succeeds or fails; anything else is not what was asked for.
        let status = response.headers().get("x-ms-copy-status").and_then(|v| v.to_str().ok()).unwrap_or("");
        if status != "success" {
            return Err(StoreError::new(
                ErrorKind::Other,
                target,
                format!("the service answered the synchronous copy with copy status `{status}`"),
            ));
        }
        Ok(receipt(response.headers()))
    }

    async fn service_readable_url(&self, key: &str) -> Result<Url> {
        let url = self.blob_url(key);
        let sas = match self.client.credential() {
            crate::Credential::Sas(sas) => sas.clone(),
            crate::Credential::RenewableSas(renewer) => renewer.current().await?,
            crate::Credential::SharedKey(shared) => {
                // The service cannot use our key, so it gets a read-only SAS for this one blob,
                // long enough for a large server-side copy to finish.
                let expiry = time::OffsetDateTime::now_utc() + SERVICE_READ_SAS_LIFETIME;
                let scope = crate::SasScope::Blob { container: self.container.clone(), name: key.to_owned() };
                crate::service_sas(shared, &scope, "r", expiry)
            }
            crate::Credential::Anonymous => return Ok(url),
            crate::Credential::Token(_) => {
                // The service cannot use our token: a user-delegation SAS for this one blob.
                let service = self.url.service_url();
                let delegation = self.delegation.get(&self.client, &service).await?;
                let now = time::OffsetDateTime::now_utc();
                crate::user_delegation::blob_sas(
                    &delegation,
                    self.url.account(),
                    &self.container,
                    key,
                    "r",
                    now - std::time::Duration::from_secs(15 * 60),
                    now + SERVICE_READ_SAS_LIFETIME,
                )?
            }
        };
        // After a snapshot's or version's parameter, if the URL names one.
        Ok(with_query(url, sas.expose()))
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.delete_blob(key, None).await
    }

    async fn create_root(&self) -> Result<()> {
        let mut url = self.container_url();
        url.set_query(Some("restype=container"));
        let target = self.container_url().to_string();
        self.client.send(Request::new(Method::PUT, url, &target)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_service_would_change_are_refused() {
        for bad in ["", "a\\b", "dir/name.", "dir/", &"x".repeat(1025)] {
            let err = validate_blob_name(bad).expect_err(bad);
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            assert!(err.hint().is_some());
        }
        for good in ["a", "a.b", "dir/.hidden", "caf\u{e9}", &"y".repeat(1024), "sp ace#?%+&"] {
            assert!(validate_blob_name(good).is_ok(), "{good}");
        }
    }
}
