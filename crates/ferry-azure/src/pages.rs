//! Page and append blobs: objects written at fixed offsets (a page blob: 512-byte pages, its size
//! fixed when it is created; disks and sparse files) or only at their end (an append blob: logs).
//! Block blobs are the rest of this crate.

use bytes::Bytes;
use ferry_core::{ErrorKind, StoreError};
use ferry_http::{Body, Request};
use ferry_store::{WriteOptions, WriteReceipt};
use reqwest::Method;

use crate::AzureStore;
use crate::store::{b64, receipt, validate_blob_name, with_blob_properties};

type Result<T> = std::result::Result<T, StoreError>;

/// A page blob's pages are this many bytes; its size and every write are multiples of it.
pub(crate) const PAGE: u64 = 512;
/// The most one Put Page writes.
pub(crate) const MAX_PAGE_WRITE: u64 = 4 * 1024 * 1024;
/// The most one Append Block writes.
pub(crate) const MAX_APPEND_BLOCK: u64 = 100 * 1024 * 1024;

impl AzureStore {
    /// Creates `key` as a page blob of `size` bytes (a multiple of 512), all zeros, with
    /// `options`' headers, metadata, tier and tags.
    pub(crate) async fn create_page_blob(&self, key: &str, size: u64, options: &WriteOptions) -> Result<WriteReceipt> {
        validate_blob_name(key)?;
        let target = self.target(key);
        if !size.is_multiple_of(PAGE) {
            return Err(StoreError::new(
                ErrorKind::InvalidInput,
                target,
                format!("a page blob's size is a multiple of 512 bytes; this is {size} bytes"),
            )
            .with_hint("upload it as a block blob (--blob-type BlockBlob), or pad it to a multiple of 512"));
        }
        let request = Request::new(Method::PUT, self.blob_url(key), &target)
            .header("x-ms-blob-type", "PageBlob")
            .header("x-ms-blob-content-length", &size.to_string())
            .body(Body::Bytes(Bytes::new()));
        let request = with_blob_properties(request, options)?;
        let response = self.client().send(self.encrypted(request, true)).await?;
        Ok(receipt(response.headers()))
    }

    /// Writes `data` (a multiple of 512 bytes, at most 4 MiB) at `offset` of a page blob.
    pub(crate) async fn put_pages(&self, key: &str, offset: u64, data: Bytes, md5: Option<[u8; 16]>) -> Result<()> {
        let target = self.target(key);
        let len = data.len() as u64;
        if len == 0 || !len.is_multiple_of(PAGE) || !offset.is_multiple_of(PAGE) || len > MAX_PAGE_WRITE {
            return Err(StoreError::new(
                ErrorKind::InvalidInput,
                target,
                "pages are written 512-byte aligned, up to 4 MiB",
            ));
        }
        let mut url = self.blob_url(key);
        url.set_query(Some("comp=page"));
        let mut request = Request::new(Method::PUT, url, &target)
            .header("x-ms-page-write", "update")
            .header("x-ms-range", &format!("bytes={}-{}", offset, offset + len - 1))
            .body(Body::Bytes(data));
        if let Some(md5) = &md5 {
            request = request.header("content-md5", &b64(md5));
        }
        self.client().send(self.encrypted(request, true)).await?;
        Ok(())
    }

    /// Creates `key` as an empty append blob with `options`' headers, metadata and tags.
    pub(crate) async fn create_append_blob(&self, key: &str, options: &WriteOptions) -> Result<WriteReceipt> {
        validate_blob_name(key)?;
        let target = self.target(key);
        let request = Request::new(Method::PUT, self.blob_url(key), &target)
            .header("x-ms-blob-type", "AppendBlob")
            .body(Body::Bytes(Bytes::new()));
        let request = with_blob_properties(request, options)?;
        let response = self.client().send(self.encrypted(request, true)).await?;
        Ok(receipt(response.headers()))
    }

    /// Appends `data` (at most 100 MiB) to an append blob that is `at` bytes long now: the
    /// service refuses it if the blob has another length (a concurrent writer, or a replay of
    /// a block that did arrive), so nothing is appended twice.
    pub(crate) async fn append_block(&self, key: &str, at: u64, data: Bytes, md5: Option<[u8; 16]>) -> Result<()> {
        let target = self.target(key);
        if data.is_empty() || data.len() as u64 > MAX_APPEND_BLOCK {
            return Err(StoreError::new(ErrorKind::InvalidInput, target, "an append block is 1 byte to 100 MiB"));
        }
        let mut url = self.blob_url(key);
        url.set_query(Some("comp=appendblock"));
        let mut request = Request::new(Method::PUT, url, &target)
            .header("x-ms-blob-condition-appendpos", &at.to_string())
            .body(Body::Bytes(data));
        if let Some(md5) = &md5 {
            request = request.header("content-md5", &b64(md5));
        }
        self.client().send(self.encrypted(request, true)).await?;
        Ok(())
    }

    /// Sets a blob's content headers (all of them: the service replaces the set), e.g. the whole
    /// object's MD5 once a page or append blob is written.
    pub(crate) async fn put_content_headers(&self, key: &str, options: &WriteOptions) -> Result<()> {
        let target = self.target(key);
        let mut url = self.blob_url(key);
        url.set_query(Some("comp=properties"));
        let only_headers =
            WriteOptions { headers: options.headers.clone(), overwrite: true, ..WriteOptions::default() };
        let request = with_blob_properties(Request::new(Method::PUT, url, &target), &only_headers)?;
        self.client().send(request).await?;
        Ok(())
    }
}
