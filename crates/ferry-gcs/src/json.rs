//! The JSON the GCS API speaks to Ferry: object resources, listing pages, bucket lists.

use std::collections::BTreeMap;
use std::time::SystemTime;

use base64::Engine as _;
use ferry_core::{ContentHeaders, Entry, ErrorKind, ObjectProperties, StoreError};
use ferry_http::Request;
use reqwest::Method;
use serde::Deserialize;

use crate::GcsClient;

/// An object resource (the fields Ferry reads).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ObjectResource {
    name: String,
    /// A decimal string, as the JSON API writes 64-bit numbers.
    size: Option<String>,
    updated: Option<String>,
    md5_hash: Option<String>,
    etag: Option<String>,
    generation: Option<String>,
    content_type: Option<String>,
    content_encoding: Option<String>,
    content_language: Option<String>,
    content_disposition: Option<String>,
    cache_control: Option<String>,
    storage_class: Option<String>,
    metadata: Option<BTreeMap<String, String>>,
}

/// One page of an object listing.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ObjectsPage {
    pub(crate) items: Vec<ObjectResource>,
    pub(crate) prefixes: Vec<String>,
    pub(crate) next_page_token: Option<String>,
}

fn parse_time(text: &str) -> Option<SystemTime> {
    let t = time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339).ok()?;
    Some(t.into())
}

impl ObjectResource {
    /// The object's name, exactly as stored.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The entry for this object, its key `key` (the name relative to the store's root), with
    /// every property the listing carries (GCS lists them all, so no per-object request).
    pub(crate) fn into_entry(self, key: String) -> Entry {
        let md5 = self.md5_hash.as_deref().and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok());
        let content_md5 = md5.and_then(|m| <[u8; 16]>::try_from(m).ok());
        let properties = ObjectProperties {
            headers: ContentHeaders {
                content_type: self.content_type,
                content_encoding: self.content_encoding,
                content_language: self.content_language,
                content_disposition: self.content_disposition,
                cache_control: self.cache_control,
                content_md5,
            },
            metadata: self.metadata.unwrap_or_default(),
            access_tier: self.storage_class,
            version_id: self.generation,
            ..ObjectProperties::default()
        };
        Entry {
            size: self.size.and_then(|s| s.parse().ok()).unwrap_or(0),
            last_modified: self.updated.as_deref().and_then(parse_time),
            content_md5,
            etag: self.etag,
            properties: Some(Box::new(properties)),
            ..Entry::object(key, 0)
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BucketsPage {
    items: Vec<BucketResource>,
    #[serde(rename = "nextPageToken")]
    next_page_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BucketResource {
    name: String,
}

/// The buckets of `project`, in name order (every page).
pub async fn list_buckets(client: &GcsClient, project: &str) -> Result<Vec<String>, StoreError> {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    let target = format!("the buckets of project `{project}`");
    loop {
        let mut url = client.endpoint().api("/storage/v1/b");
        url.query_pairs_mut().append_pair("project", project).append_pair("maxResults", "1000");
        if let Some(t) = &token {
            url.query_pairs_mut().append_pair("pageToken", t);
        }
        let page: BucketsPage = client.get_json(Request::new(Method::GET, url, &target)).await?;
        names.extend(page.items.into_iter().map(|b| b.name));
        match page.next_page_token.filter(|t| !t.is_empty()) {
            Some(t) if Some(&t) != token.as_ref() => token = Some(t),
            Some(_) => {
                return Err(StoreError::new(ErrorKind::Other, target, "the service repeated a page token"));
            }
            None => break,
        }
    }
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_resource_becomes_an_entry_with_its_properties() {
        let json = r#"{"kind":"storage#object","name":"a/b c","bucket":"bkt","size":"11",
            "updated":"2026-11-30T19:00:00.123Z","md5Hash":"XrY7u+Ae7tCTyyK7j1rNww==","etag":"CJ/x",
            "generation":"1764529200123456","contentType":"text/plain","cacheControl":"no-cache",
            "storageClass":"NEARLINE","metadata":{"123-invalid":"v","ok":"w"}}"#;
        let resource: ObjectResource = serde_json::from_str(json).unwrap();
        assert_eq!(resource.name(), "a/b c");
        let entry = resource.into_entry("b c".into());
        assert_eq!((entry.key.as_str(), entry.size), ("b c", 11));
        assert_eq!(entry.content_md5.map(|m| m[0]), Some(0x5e));
        assert!(entry.last_modified.is_some());
        let props = entry.props();
        assert_eq!(props.headers.cache_control.as_deref(), Some("no-cache"));
        assert_eq!(props.access_tier.as_deref(), Some("NEARLINE"));
        assert_eq!(props.metadata.len(), 2);
        let page: ObjectsPage = serde_json::from_str(r#"{"prefixes":["d/"],"nextPageToken":"t"}"#).unwrap();
        assert_eq!(
            (page.items.len(), page.prefixes, page.next_page_token),
            (0, vec!["d/".to_owned()], Some("t".into()))
        );
    }
}
