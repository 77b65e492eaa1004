//! Changing a blob's properties in place (`set-properties`): its access tier, its metadata, its
//! index tags. Each is one request and replaces what was there.

use std::collections::BTreeMap;

use bytes::Bytes;
use ferry_http::{Body, Request};
use reqwest::Method;

use crate::AzureStore;
use crate::store::add_metadata;
use ferry_core::{ErrorKind, StoreError};

type Result<T> = std::result::Result<T, StoreError>;

impl AzureStore {
    /// Sets a blob's access tier (Hot, Cool, Cold, Archive, or a premium page blob's P4…P80);
    /// `rehydrate_priority` (Standard, High) applies when it leaves Archive.
    pub async fn set_tier(&self, key: &str, tier: &str, rehydrate_priority: Option<&str>) -> Result<()> {
        let target = self.target(key);
        let mut url = self.blob_url(key);
        url.set_query(Some("comp=tier"));
        let mut request = Request::new(Method::PUT, url, &target).header("x-ms-access-tier", tier);
        if let Some(priority) = rehydrate_priority {
            request = request.header("x-ms-rehydrate-priority", priority);
        }
        self.client().send(request).await?;
        Ok(())
    }

    /// Replaces a blob's metadata with `metadata` (none clears it).
    pub async fn set_metadata(&self, key: &str, metadata: &BTreeMap<String, String>) -> Result<()> {
        let target = self.target(key);
        let mut url = self.blob_url(key);
        url.set_query(Some("comp=metadata"));
        let request = add_metadata(Request::new(Method::PUT, url, &target), metadata)?;
        self.client().send(request).await?;
        Ok(())
    }

    /// A blob's index tags.
    pub async fn get_tags(&self, key: &str) -> Result<BTreeMap<String, String>> {
        let target = self.target(key);
        let mut url = self.blob_url(key);
        url.set_query(Some("comp=tags"));
        let body = self.client().get_xml(Request::new(Method::GET, url, &target)).await?;
        crate::xml::parse_tags(&body).map_err(|e| StoreError::new(ErrorKind::Other, target, e.to_string()))
    }

    /// Replaces a blob's index tags with `tags` (none clears them; at most 10).
    pub async fn set_tags(&self, key: &str, tags: &BTreeMap<String, String>) -> Result<()> {
        let target = self.target(key);
        if tags.len() > 10 {
            return Err(StoreError::new(ErrorKind::InvalidInput, target, "a blob takes at most 10 tags"));
        }
        let mut url = self.blob_url(key);
        url.set_query(Some("comp=tags"));
        let body = Bytes::from(tags_body(tags));
        let request = Request::new(Method::PUT, url, &target)
            .header("content-type", "application/xml; charset=utf-8")
            .body(Body::Bytes(body));
        self.client().send(request).await?;
        Ok(())
    }
}

/// `<Tags><TagSet><Tag><Key>…</Key><Value>…</Value></Tag>…</TagSet></Tags>`, escaped.
fn tags_body(tags: &BTreeMap<String, String>) -> String {
    let mut body = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?><Tags><TagSet>");
    for (key, value) in tags {
        body.push_str(&format!(
            "<Tag><Key>{}</Key><Value>{}</Value></Tag>",
            quick_xml::escape::escape(key.as_str()),
            quick_xml::escape::escape(value.as_str())
        ));
    }
    body.push_str("</TagSet></Tags>");
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_escaped() {
        let tags = BTreeMap::from([("a&b".to_owned(), "<1>".to_owned())]);
        assert_eq!(crate::xml::parse_tags(&tags_body(&tags)).unwrap(), tags);
        assert_eq!(
            tags_body(&tags),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><Tags><TagSet><Tag><Key>a&amp;b</Key><Value>&lt;1&gt;</Value></Tag></TagSet></Tags>"
        );
    }
}
