//! What Blob and Files responses say of an object in their headers, read the same way for both
//! services: the content headers, the user metadata and the stored MD5.

use std::collections::BTreeMap;

use base64::Engine;
use ferry_core::ContentHeaders;
use reqwest::header::HeaderMap;

/// The header `name`'s value, when it is present, text and not empty.
pub fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty()).map(str::to_owned)
}

/// The object's stored MD5 (`Content-MD5`), when it has one that is 16 bytes of base64.
pub fn content_md5(headers: &HeaderMap) -> Option<[u8; 16]> {
    let text = header_text(headers, "content-md5")?;
    base64::engine::general_purpose::STANDARD.decode(text.trim()).ok()?.try_into().ok()
}

/// The content headers a Get Properties (or a download) response reports.
pub fn content_headers(headers: &HeaderMap) -> ContentHeaders {
    let get = |name: &str| header_text(headers, name);
    ContentHeaders {
        content_type: get("content-type"),
        content_encoding: get("content-encoding"),
        content_language: get("content-language"),
        content_disposition: get("content-disposition"),
        cache_control: get("cache-control"),
        content_md5: content_md5(headers),
    }
}

/// The user metadata (`x-ms-meta-NAME`); a value that is not text is kept as empty.
pub fn metadata(headers: &HeaderMap) -> BTreeMap<String, String> {
    headers
        .iter()
        .filter_map(|(name, value)| {
            let name = name.as_str().strip_prefix("x-ms-meta-")?;
            Some((name.to_owned(), value.to_str().unwrap_or("").to_owned()))
        })
        .collect()
}
