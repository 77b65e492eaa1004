//! [`FilesStore`]: the [`Store`] trait over one Azure Files share.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use ferry_azure::{BlobClient, Credential};
use ferry_core::BlobUrl;
use ferry_http::{Body, Request};
use ferry_md5::Md5;
use ferry_store::{
    ByteStream, Capabilities, ContentHeaders, Entry, EntryStream, ErrorKind, ListDepth, ObjectProperties, PartId,
    PartList, Payload, Result, SmbProperties, Store, StoreError, WriteOptions, WriteReceipt, md5_of,
};
use futures::{StreamExt, TryStreamExt, stream};
use reqwest::Method;
use reqwest::header::HeaderMap;
use url::Url;

use crate::smb::{self, parse_smb_time, with_smb};

/// The largest range one Put Range (or Put Range From URL) writes: the service's limit.
pub const MAX_RANGE: u64 = 4 * 1024 * 1024;
/// The largest file a share holds (4 TiB).
const MAX_FILE: u64 = 4 * 1024 * 1024 * 1024 * 1024;
/// Entries per listing page: the service's maximum.
pub(crate) const LIST_PAGE_SIZE: u32 = 5000;
/// How long a read SAS minted for a server-side copy stays valid.
const SERVICE_READ_SAS_LIFETIME: std::time::Duration = std::time::Duration::from_secs(48 * 3600);
/// How many directories are remembered as existing before the memory is cleared.
const KNOWN_DIRECTORIES: usize = 100_000;

/// One share as a [`Store`]: keys are paths in the share (`dir/sub/file`).
#[derive(Debug, Clone)]
pub struct FilesStore {
    client: BlobClient,
    url: BlobUrl,
    share: String,
    pub(crate) page_size: u32,
    options: StoreOptions,
    state: Arc<Shared>,
}

/// What a store does beyond the defaults (the Files flags of a job).
#[derive(Debug, Clone, Copy, Default)]
struct StoreOptions {
    /// Names may end in `.` (`--trailing-dot Enable`).
    trailing_dot: bool,
    /// Entries carry their permission's SDDL (`--preserve-permissions` on a source).
    read_permissions: bool,
    /// A read-only file is made writable to replace or delete it (`--force-if-read-only`).
    force_if_read_only: bool,
    /// The share's quota in GiB when this store creates it.
    quota_gb: Option<u64>,
}

/// What the clones of one store share: directories known to exist, and permissions by key
/// (read from the share) and by SDDL (created in it).
#[derive(Debug, Default)]
struct Shared {
    directories: Mutex<HashSet<String>>,
    sddl_by_key: Mutex<HashMap<String, String>>,
    key_by_sddl: Mutex<HashMap<String, String>>,
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Whether `err` is the service saying the share itself is missing (as opposed to a file or a
/// directory in it).
pub(crate) fn is_share_missing(err: &StoreError) -> bool {
    err.kind() == ErrorKind::NotFound && err.message().contains("ShareNotFound")
}

fn not_staged(key: &str) -> StoreError {
    StoreError::not_supported(key, "staged parts (Azure Files writes files in place, range by range)")
}

impl FilesStore {
    /// A store for the share `url` names (its path is ignored: keys are relative to the share).
    /// Requests go through `client` (its credential: a SAS, Shared Key, or an Entra token, sent
    /// with `x-ms-file-request-intent: backup` as the service requires).
    pub fn new(client: BlobClient, url: &BlobUrl) -> Result<Self> {
        let share = url.container().ok_or_else(|| {
            StoreError::new(ErrorKind::InvalidInput, url.to_string(), "the URL does not name a share")
        })?;
        Ok(Self {
            client,
            share: share.to_owned(),
            url: url.clone(),
            page_size: LIST_PAGE_SIZE,
            options: StoreOptions::default(),
            state: Arc::default(),
        })
    }

    /// Sets the listing page size (tests use small pages to exercise paging).
    #[must_use]
    pub fn with_page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size.clamp(1, LIST_PAGE_SIZE);
        self
    }

    /// Allows names that end in `.` (`--trailing-dot Enable`); otherwise the service trims them
    /// and Ferry refuses such names.
    #[must_use]
    pub fn with_trailing_dot(mut self, allow: bool) -> Self {
        self.options.trailing_dot = allow;
        self
    }

    /// Makes listings and stats carry each file's permission as SDDL (read once per key), so a
    /// copy can give it to the destination (`--preserve-permissions`).
    #[must_use]
    pub fn reading_permissions(mut self, on: bool) -> Self {
        self.options.read_permissions = on;
        self
    }

    /// Replaces and deletes read-only files by clearing `ReadOnly` first (`--force-if-read-only`).
    #[must_use]
    pub fn forcing_read_only(mut self, on: bool) -> Self {
        self.options.force_if_read_only = on;
        self
    }

    /// Gives the share this quota (GiB) when [`Store::create_root`] creates it.
    #[must_use]
    pub fn with_quota_gb(mut self, quota: Option<u64>) -> Self {
        self.options.quota_gb = quota;
        self
    }

    /// The share's name.
    pub fn share(&self) -> &str {
        &self.share
    }

    /// Checks that the share exists (Get Share Properties): `NotFound` if it does not.
    pub async fn check_share(&self) -> Result<()> {
        let target = self.describe();
        self.send(self.request(Method::GET, self.share_url("restype=share"), &target)).await?;
        Ok(())
    }

    pub(crate) fn file_url(&self, key: &str) -> Url {
        self.url.object_url_for(&self.share, key)
    }

    pub(crate) fn directory_url(&self, dir: &str) -> Url {
        if dir.is_empty() { self.url.container_url_for(&self.share) } else { self.file_url(dir) }
    }

    fn share_url(&self, query: &str) -> Url {
        let mut url = self.url.container_url_for(&self.share);
        url.set_query(Some(query));
        url
    }

    pub(crate) fn target(&self, key: &str) -> String {
        format!("{}/{key}", self.describe())
    }

    /// A request with the headers every File request of this store carries.
    pub(crate) fn request<'a>(&self, method: Method, url: Url, target: &'a str) -> Request<'a> {
        let mut request = Request::new(method, url, target);
        if matches!(self.client.credential(), Credential::Token(_)) {
            // The service accepts a token for file data only with this declared intent.
            request = request.header("x-ms-file-request-intent", "backup");
        }
        if self.options.trailing_dot {
            request = request.header("x-ms-allow-trailing-dot", "true");
        }
        request
    }

    pub(crate) async fn send(&self, request: Request<'_>) -> Result<reqwest::Response> {
        self.client.send(request).await
    }

    /// Sends a GET and reads its small body, asking again when the body breaks off.
    pub(crate) async fn get_xml(&self, request: Request<'_>) -> Result<String> {
        self.client.get_xml(request).await
    }

    fn check_name(&self, key: &str) -> Result<()> {
        if key.is_empty() || key.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
            return Err(StoreError::new(
                ErrorKind::InvalidInput,
                key,
                "not a file path: an empty, `.` or `..` segment",
            ));
        }
        match ferry_store::smb_name_problem(key, self.options.trailing_dot) {
            Some(problem) => Err(StoreError::new(ErrorKind::InvalidInput, key, problem)),
            None => Ok(()),
        }
    }

    /// Creates the directories above `key` that are not known to exist, top down (one that
    /// exists already is fine).
    async fn ensure_parents(&self, key: &str) -> Result<()> {
        let segments: Vec<&str> = key.split('/').collect();
        let mut path = String::new();
        for segment in &segments[..segments.len().saturating_sub(1)] {
            if !path.is_empty() {
                path.push('/');
            }
            path.push_str(segment);
            if self.state.directories.lock().expect("not poisoned").contains(&path) {
                continue;
            }
            self.create_directory(&path).await?;
            let mut known = self.state.directories.lock().expect("not poisoned");
            if known.len() >= KNOWN_DIRECTORIES {
                known.clear();
            }
            known.insert(path.clone());
        }
        Ok(())
    }

    /// Creates one directory; one that exists already is fine.
    pub async fn create_directory(&self, path: &str) -> Result<()> {
        let target = self.target(path);
        let mut url = self.file_url(path);
        url.set_query(Some("restype=directory"));
        let request = self.request(Method::PUT, url, &target).header("x-ms-file-permission", "inherit");
        match self.send(request).await {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The share's key for `sddl`, creating the permission in the share the first time.
    async fn permission_key_for(&self, sddl: &str) -> Result<String> {
        if let Some(key) = self.state.key_by_sddl.lock().expect("not poisoned").get(sddl) {
            return Ok(key.clone());
        }
        let target = self.describe();
        let body = serde_json::json!({ "permission": sddl }).to_string();
        let request = self
            .request(Method::PUT, self.share_url("restype=share&comp=filepermission"), &target)
            .header("content-type", "application/json")
            .body(Body::Bytes(Bytes::from(body)));
        let response = self.send(request).await?;
        let key = response
            .headers()
            .get("x-ms-file-permission-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| {
            StoreError::new(ErrorKind::Other, &target, "Create Permission answered without a key")
        })?;
        self.state.key_by_sddl.lock().expect("not poisoned").insert(sddl.to_owned(), key.clone());
        Ok(key)
    }

    /// The SDDL of the permission `key` names in this share (read once per key).
    pub async fn permission(&self, key: &str) -> Result<String> {
        if let Some(sddl) = self.state.sddl_by_key.lock().expect("not poisoned").get(key) {
            return Ok(sddl.clone());
        }
        let target = self.describe();
        let request = self
            .request(Method::GET, self.share_url("restype=share&comp=filepermission"), &target)
            .header("x-ms-file-permission-key", key);
        let body = self.get_xml(request).await?;
        let sddl = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("permission").and_then(|p| p.as_str()).map(str::to_owned))
            .ok_or_else(|| {
                StoreError::new(ErrorKind::Other, &target, "Get Permission answered without a permission")
            })?;
        self.state.sddl_by_key.lock().expect("not poisoned").insert(key.to_owned(), sddl.clone());
        Ok(sddl)
    }

    /// `smb` with its permission's SDDL filled in, when permissions are read.
    pub(crate) async fn with_permission(&self, mut smb: SmbProperties) -> Result<SmbProperties> {
        if self.options.read_permissions
            && smb.permission.is_none()
            && let Some(key) = smb.permission_key.clone()
        {
            smb.permission = Some(self.permission(&key).await?);
        }
        Ok(smb)
    }

    /// The destination share's key for the permission in `smb`, when it is too long to send
    /// in a header.
    async fn key_for_long_permission(&self, smb: Option<&SmbProperties>) -> Result<Option<String>> {
        match smb.and_then(|s| s.permission.as_deref()) {
            Some(sddl) if sddl.len() > smb::MAX_HEADER_PERMISSION => Ok(Some(self.permission_key_for(sddl).await?)),
            _ => Ok(None),
        }
    }

    /// Create File: `key` becomes a file of `size` zero bytes with `options`' headers, metadata
    /// and SMB properties (less `ReadOnly`, set once the content is written).
    async fn create_file(&self, key: &str, size: u64, options: &WriteOptions) -> Result<WriteReceipt> {
        self.check_name(key)?;
        if size > MAX_FILE {
            return Err(StoreError::new(ErrorKind::InvalidInput, key, "a file on a share is at most 4 TiB"));
        }
        if !options.overwrite && self.exists(key).await? {
            return Err(StoreError::new(ErrorKind::AlreadyExists, key, "the file exists and overwriting is off"));
        }
        self.ensure_parents(key).await?;
        let mut smb = options.smb.clone();
        if let Some(s) = smb.as_mut() {
            s.attributes = s.attributes.as_deref().map(smb::without_read_only);
        }
        let permission_key = self.key_for_long_permission(smb.as_ref()).await?;
        let target = self.target(key);
        let build = || {
            let request = self
                .request(Method::PUT, self.file_url(key), &target)
                .header("x-ms-type", "file")
                .header("x-ms-content-length", &size.to_string());
            let request = with_content_headers(request, &options.headers, false);
            let request = with_metadata(request, &options.metadata);
            with_smb(request, smb.as_ref(), permission_key.as_deref(), true)
        };
        let response = match self.send(build()).await {
            Err(e) if self.options.force_if_read_only && is_read_only_refusal(&e) => {
                self.clear_read_only(key).await?;
                self.send(build()).await?
            }
            other => other?,
        };
        Ok(receipt(response.headers()))
    }

    async fn exists(&self, key: &str) -> Result<bool> {
        match self.stat(key).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == ErrorKind::NotFound && !is_share_missing(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Clears `ReadOnly` on `key` (so it can be replaced or deleted).
    async fn clear_read_only(&self, key: &str) -> Result<()> {
        let entry = self.stat(key).await?;
        let attributes = entry.props().smb.as_ref().and_then(|s| s.attributes.clone()).unwrap_or_default();
        let target = self.target(key);
        let request = self
            .request(Method::PUT, with_query(self.file_url(key), "comp=properties"), &target)
            .header("x-ms-file-attributes", &smb::without_read_only(&attributes));
        let request = with_smb(request, None, None, false);
        self.send(request).await?;
        Ok(())
    }

    /// Put Range: `data` at `offset` (at most [`MAX_RANGE`]), checked against `md5`.
    async fn put_range(&self, key: &str, offset: u64, data: Bytes, md5: Option<[u8; 16]>) -> Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let target = self.target(key);
        let end = offset + data.len() as u64 - 1;
        let md5 = md5.unwrap_or_else(|| md5_of(&data));
        let request = self
            .request(Method::PUT, with_query(self.file_url(key), "comp=range"), &target)
            .header("x-ms-range", &format!("bytes={offset}-{end}"))
            .header("x-ms-write", "update")
            .header("content-md5", &b64(&md5))
            .body(Body::Bytes(data));
        self.send(request).await?;
        Ok(())
    }

    /// Set File Properties: content headers (all of them: the service replaces the set), the
    /// MD5 and the SMB properties (times kept unless given: writing ranges moved them).
    async fn set_properties(&self, key: &str, options: &WriteOptions) -> Result<()> {
        let permission_key = self.key_for_long_permission(options.smb.as_ref()).await?;
        let target = self.target(key);
        let request = self.request(Method::PUT, with_query(self.file_url(key), "comp=properties"), &target);
        let request = with_content_headers(request, &options.headers, true);
        let request = with_smb(request, options.smb.as_ref(), permission_key.as_deref(), false);
        self.send(request).await?;
        Ok(())
    }

    /// An entry from the headers of Get File Properties.
    fn entry_from_headers(key: &str, headers: &HeaderMap) -> Entry {
        let get = |n: &str| ferry_azure::response_headers::header_text(headers, n);
        let md5 = ferry_azure::response_headers::content_md5(headers);
        let smb = SmbProperties {
            attributes: get("x-ms-file-attributes"),
            creation_time: get("x-ms-file-creation-time").as_deref().and_then(parse_smb_time),
            last_write_time: get("x-ms-file-last-write-time").as_deref().and_then(parse_smb_time),
            change_time: get("x-ms-file-change-time").as_deref().and_then(parse_smb_time),
            permission_key: get("x-ms-file-permission-key"),
            permission: None,
        };
        let last_modified =
            smb.last_write_time.or_else(|| get("last-modified").and_then(|v| httpdate::parse_http_date(&v).ok()));
        let properties = ObjectProperties {
            headers: ferry_azure::response_headers::content_headers(headers),
            metadata: ferry_azure::response_headers::metadata(headers),
            smb: Some(smb),
            ..ObjectProperties::default()
        };
        Entry {
            key: key.to_owned(),
            kind: ferry_store::EntryKind::Object,
            size: get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0),
            last_modified,
            content_md5: md5,
            etag: get("etag").map(|e| e.trim_matches('"').to_owned()),
            properties: Some(Box::new(properties)),
        }
    }
}

/// `url` with `query` added after what it has.
pub(crate) fn with_query(mut url: Url, query: &str) -> Url {
    let joined = match url.query() {
        Some(existing) if !existing.is_empty() => format!("{existing}&{query}"),
        _ => query.to_owned(),
    };
    url.set_query(Some(&joined));
    url
}

/// The content headers as Create File and Set File Properties take them (`x-ms-content-*`);
/// `all` sends every one (Set File Properties clears what is not sent) and the MD5.
fn with_content_headers<'a>(mut request: Request<'a>, h: &ContentHeaders, all: bool) -> Request<'a> {
    for (name, value) in [
        ("x-ms-content-type", &h.content_type),
        ("x-ms-content-encoding", &h.content_encoding),
        ("x-ms-content-language", &h.content_language),
        ("x-ms-content-disposition", &h.content_disposition),
        ("x-ms-cache-control", &h.cache_control),
    ] {
        if let Some(v) = value {
            request = request.header(name, v);
        }
    }
    if let Some(md5) = h.content_md5.filter(|_| all) {
        request = request.header("x-ms-content-md5", &b64(&md5));
    }
    request
}

fn with_metadata<'a>(mut request: Request<'a>, metadata: &BTreeMap<String, String>) -> Request<'a> {
    for (name, value) in metadata {
        request = request.header(&format!("x-ms-meta-{name}"), value);
    }
    request
}

fn receipt(headers: &HeaderMap) -> WriteReceipt {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    WriteReceipt {
        etag: get("etag").map(|e| e.trim_matches('"').to_owned()),
        last_modified: get("x-ms-file-last-write-time")
            .and_then(parse_smb_time)
            .or_else(|| get("last-modified").and_then(|v| httpdate::parse_http_date(v).ok())),
    }
}

/// Whether the service refused because the file is read-only.
fn is_read_only_refusal(err: &StoreError) -> bool {
    err.message().contains("ReadOnly")
}

/// A payload as pieces of at most [`MAX_RANGE`] bytes, in order.
fn pieces(payload: Payload, target: String) -> ByteStream {
    match payload {
        Payload::Bytes(b) => {
            let chunks: Vec<Result<Bytes>> = (0..b.len())
                .step_by(MAX_RANGE as usize)
                .map(|at| Ok(b.slice(at..(at + MAX_RANGE as usize).min(b.len()))))
                .collect();
            stream::iter(chunks).boxed()
        }
        Payload::FileRange { path, offset, len } => {
            let ranges: Vec<(u64, u64)> =
                (0..len).step_by(MAX_RANGE as usize).map(|at| (offset + at, MAX_RANGE.min(len - at))).collect();
            stream::iter(ranges)
                .then(move |(at, n)| {
                    let (path, target) = (path.clone(), target.clone());
                    async move {
                        let read = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
                            use std::io::{Read, Seek};
                            let mut file = std::fs::File::open(&path)?;
                            file.seek(std::io::SeekFrom::Start(at))?;
                            let mut buf = vec![0; usize::try_from(n).unwrap_or(0)];
                            file.read_exact(&mut buf)?;
                            Ok(buf)
                        })
                        .await
                        .map_err(|e| StoreError::new(ErrorKind::Other, &target, e.to_string()))?;
                        read.map(Bytes::from).map_err(|e| StoreError::from_io(e, &target))
                    }
                })
                .boxed()
        }
        Payload::Stream { stream, .. } => regroup(stream),
    }
}

/// A stream's bytes regrouped into pieces of [`MAX_RANGE`] (the last may be shorter).
fn regroup(source: ByteStream) -> ByteStream {
    stream::try_unfold((source, BytesMut::new(), false), |(mut source, mut buf, mut done)| async move {
        while !done && (buf.len() as u64) < MAX_RANGE {
            match source.try_next().await? {
                Some(piece) => buf.extend_from_slice(&piece),
                None => done = true,
            }
        }
        if buf.is_empty() {
            return Ok(None);
        }
        let n = buf.len().min(MAX_RANGE as usize);
        let piece = buf.split_to(n).freeze();
        Ok(Some((piece, (source, buf, done))))
    })
    .boxed()
}

/// What a share can do.
const CAPABILITIES: Capabilities = Capabilities {
    server_side_copy: true,
    stores_properties: true,
    lists_metadata: false,
    lists_committed_parts: false,
    max_part_size: MAX_RANGE,
    min_part_size: 0,
    max_parts: u32::MAX,
    max_single_write: MAX_FILE,
    positional_writes: false,
    writes_in_place: true,
    smb_names: true,
    snapshot_reads: false,
    reads_into: false,
};

#[async_trait]
impl Store for FilesStore {
    fn describe(&self) -> String {
        self.url
            .with_sas(None)
            .with_container_and_path(Some(&self.share), "")
            .to_string()
            .trim_end_matches('/')
            .to_owned()
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    fn list<'a>(&'a self, prefix: &'a str, depth: ListDepth) -> EntryStream<'a> {
        crate::listing::listing(self, prefix, depth)
    }

    async fn stat(&self, key: &str) -> Result<Entry> {
        let target = self.target(key);
        let response = self.send(self.request(Method::HEAD, self.file_url(key), &target)).await?;
        let mut entry = Self::entry_from_headers(key, response.headers());
        if self.options.read_permissions
            && let Some(props) = entry.properties.as_mut()
            && let Some(smb) = props.smb.take()
        {
            props.smb = Some(self.with_permission(smb).await?);
        }
        Ok(entry)
    }

    async fn read(&self, key: &str, range: Option<Range<u64>>) -> Result<ByteStream> {
        let target = self.target(key);
        let send = |bytes: Option<String>| {
            let mut request = self.request(Method::GET, self.file_url(key), &target);
            if let Some(bytes) = &bytes {
                request = request.header("x-ms-range", bytes);
            }
            self.send(request)
        };
        let size = || async { Ok(self.stat(key).await?.size) };
        let Some(response) = ferry_store::ranges::fetch(&target, range.as_ref(), send, size).await? else {
            return Ok(stream::empty().boxed());
        };
        Ok(ferry_http::body_stream(response, &target))
    }

    async fn write(&self, key: &str, payload: Payload, options: &WriteOptions) -> Result<WriteReceipt> {
        let target = self.target(key);
        let size = payload.len();
        let expected = options.headers.content_md5;
        if let (Payload::Bytes(data), Some(md5)) = (&payload, expected)
            && md5_of(data) != md5
        {
            return Err(StoreError::new(
                ErrorKind::InvalidInput,
                &target,
                "the data does not match the MD5 sent with it (Md5Mismatch)",
            ));
        }
        self.create_file(key, size, options).await?;
        let mut hasher = Md5::new();
        let mut offset = 0;
        let mut body = pieces(payload, target.clone());
        while let Some(piece) = body.try_next().await? {
            hasher.update(&piece);
            let len = piece.len() as u64;
            self.put_range(key, offset, piece, None).await?;
            offset += len;
        }
        let actual: [u8; 16] = hasher.finalize();
        if offset != size || expected.is_some_and(|md5| md5 != actual) {
            // Nothing half-written stays under the name.
            let _ = self.delete(key).await;
            return Err(StoreError::new(
                ErrorKind::InvalidInput,
                &target,
                format!("the data ({offset} bytes) does not match the length ({size}) or the MD5 given with it"),
            ));
        }
        let mut finish = options.clone();
        finish.headers.content_md5 = Some(actual);
        self.set_properties(key, &finish).await?;
        Ok(WriteReceipt::default())
    }

    async fn put_part(&self, key: &str, _part: &PartId, _data: Bytes, _md5: Option<[u8; 16]>) -> Result<()> {
        Err(not_staged(key))
    }

    async fn list_parts(&self, _key: &str) -> Result<PartList> {
        Ok(PartList::default())
    }

    async fn commit_parts(&self, key: &str, _parts: &[PartId], _options: &WriteOptions) -> Result<WriteReceipt> {
        Err(not_staged(key))
    }

    async fn service_readable_url(&self, key: &str) -> Result<Url> {
        let url = self.file_url(key);
        let sas = match self.client.credential() {
            Credential::Sas(sas) => sas.clone(),
            Credential::RenewableSas(renewer) => renewer.current().await?,
            Credential::SharedKey(shared) => {
                let expiry = time::OffsetDateTime::now_utc() + SERVICE_READ_SAS_LIFETIME;
                let scope = ferry_azure::SasScope::File { share: self.share.clone(), path: key.to_owned() };
                ferry_azure::service_sas(shared, &scope, "r", expiry)
            }
            Credential::Anonymous => return Ok(url),
            // The File service has no user delegation SAS.
            Credential::Token(_) => return Err(StoreError::not_supported(key, "reading by URL with an Entra token")),
        };
        Ok(with_query(url, sas.expose()))
    }

    async fn create_ranged(&self, key: &str, size: u64, options: &WriteOptions) -> Result<WriteReceipt> {
        self.create_file(key, size, options).await
    }

    async fn write_range(&self, key: &str, offset: u64, data: Bytes, md5: Option<[u8; 16]>) -> Result<()> {
        if data.len() as u64 > MAX_RANGE {
            return Err(StoreError::new(ErrorKind::InvalidInput, key, "a range is at most 4 MiB"));
        }
        self.put_range(key, offset, data, md5).await
    }

    async fn write_range_from_url(&self, key: &str, source_url: &Url, range: Range<u64>) -> Result<()> {
        if range.end <= range.start {
            return Ok(());
        }
        let target = self.target(key);
        let bytes = format!("bytes={}-{}", range.start, range.end - 1);
        let mut request = self
            .request(Method::PUT, with_query(self.file_url(key), "comp=range"), &target)
            .header("x-ms-copy-source", source_url.as_str())
            .header("x-ms-source-range", &bytes)
            .header("x-ms-range", &bytes)
            .header("x-ms-write", "update")
            .header("content-length", "0");
        if self.options.trailing_dot {
            request = request.header("x-ms-source-allow-trailing-dot", "true");
        }
        self.send(request).await?;
        Ok(())
    }

    async fn set_content_headers(&self, key: &str, options: &WriteOptions) -> Result<()> {
        self.set_properties(key, options).await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let target = self.target(key);
        match self.send(self.request(Method::DELETE, self.file_url(key), &target)).await {
            Err(e) if self.options.force_if_read_only && is_read_only_refusal(&e) => {
                self.clear_read_only(key).await?;
                self.send(self.request(Method::DELETE, self.file_url(key), &target)).await?;
            }
            other => {
                other?;
            }
        }
        Ok(())
    }

    fn list_directories<'a>(&'a self, prefix: &'a str) -> EntryStream<'a> {
        crate::listing::directories(self, prefix)
    }

    async fn make_directory(&self, key: &str) -> Result<()> {
        let path = key.trim_end_matches('/');
        self.check_name(path)?;
        // The parents of a placeholder below it, then the directory itself.
        self.ensure_parents(&format!("{path}/x")).await
    }

    async fn create_root(&self) -> Result<()> {
        crate::share::create_share(
            &self.client,
            &self.url.with_container_and_path(Some(&self.share), ""),
            self.options.quota_gb,
        )
        .await
    }
}
