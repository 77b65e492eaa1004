//! The XML S3 speaks to Ferry: ListObjectsV2 pages and error bodies.

use std::time::SystemTime;

use ferry_core::{Entry, EntryKind, ObjectProperties};
use ferry_http::xml::{Visitor, XmlError, walk};

/// One ListObjectsV2 page.
#[derive(Debug, Default)]
pub(crate) struct ObjectPage {
    /// Objects and (with a delimiter) common prefixes, keys decoded.
    pub(crate) entries: Vec<Entry>,
    /// The token for the next page, when the listing is truncated.
    pub(crate) next_token: Option<String>,
}

/// An ISO 8601 time as S3 lists it (`2026-11-30T19:00:00.000Z`).
pub(crate) fn parse_iso_time(text: &str) -> Option<SystemTime> {
    let t = time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339).ok()?;
    Some(t.into())
}

/// An ETag without its quotes.
pub(crate) fn unquote(etag: &str) -> String {
    etag.trim().trim_matches('"').to_owned()
}

/// The MD5 a plain ETag is: a single-part upload's ETag is the hex MD5 of its bytes; a multipart
/// one (`…-N`) is not an MD5 of anything the reader has.
pub(crate) fn md5_of_etag(etag: &str) -> Option<[u8; 16]> {
    let hex = unquote(etag);
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[derive(Default)]
struct PageVisitor {
    page: ObjectPage,
    current: Option<Entry>,
    storage_class: Option<String>,
    url_encoded: bool,
    truncated: bool,
}

/// A key as `encoding-type=url` sends it: form-encoded (`+` a space, `%2B` a plus), as the AWS
/// SDKs decode it.
fn decode_key(text: &str) -> Result<String, XmlError> {
    ferry_core::encoding::decode(&text.replace('+', " "))
        .map_err(|_| XmlError(format!("an encoded key does not decode to UTF-8: {text}")))
}

impl Visitor for PageVisitor {
    fn open(&mut self, path: &[String], _attrs: &[(String, String)]) {
        match path.last().map(String::as_str) {
            Some("Contents") => self.current = Some(Entry::object(String::new(), 0)),
            Some("CommonPrefixes") => self.current = Some(Entry::prefix(String::new())),
            _ => {}
        }
    }

    fn text(&mut self, path: &[String], text: &str) {
        let n = path.len();
        let leaf = path[n - 1].as_str();
        let parent = if n >= 2 { path[n - 2].as_str() } else { "" };
        match (parent, leaf) {
            ("ListBucketResult", "EncodingType") => self.url_encoded = text.trim().eq_ignore_ascii_case("url"),
            ("ListBucketResult", "IsTruncated") => self.truncated = text.trim() == "true",
            ("ListBucketResult", "NextContinuationToken") => {
                self.page.next_token = Some(text.to_owned()).filter(|t| !t.is_empty());
            }
            ("Contents", "Key") | ("CommonPrefixes", "Prefix") => {
                if let Some(e) = self.current.as_mut() {
                    e.key = text.to_owned();
                }
            }
            ("Contents", "Size") => {
                if let Some(e) = self.current.as_mut() {
                    e.size = text.trim().parse().unwrap_or(0);
                }
            }
            ("Contents", "LastModified") => {
                if let Some(e) = self.current.as_mut() {
                    e.last_modified = parse_iso_time(text);
                }
            }
            ("Contents", "ETag") => {
                if let Some(e) = self.current.as_mut() {
                    e.etag = Some(unquote(text));
                    e.content_md5 = md5_of_etag(text);
                }
            }
            ("Contents", "StorageClass") => self.storage_class = Some(text.trim().to_owned()),
            _ => {}
        }
    }

    fn close(&mut self, path: &[String]) {
        if matches!(path.last().map(String::as_str), Some("Contents" | "CommonPrefixes"))
            && let Some(mut entry) = self.current.take()
        {
            if entry.kind == EntryKind::Object {
                let tier = self.storage_class.take();
                entry.properties =
                    Some(Box::new(ObjectProperties { access_tier: tier, ..ObjectProperties::default() }));
            }
            self.page.entries.push(entry);
        }
    }
}

/// Parses a ListObjectsV2 page.
pub(crate) fn parse_object_page(xml: &str) -> Result<ObjectPage, XmlError> {
    let mut visitor = PageVisitor::default();
    walk(xml, &mut visitor)?;
    // `EncodingType` may come after the keys it describes.
    if visitor.url_encoded {
        for entry in &mut visitor.page.entries {
            entry.key = decode_key(&entry.key)?;
        }
    }
    if visitor.truncated && visitor.page.next_token.is_none() {
        return Err(XmlError("a truncated listing without a continuation token".to_owned()));
    }
    if !visitor.truncated {
        visitor.page.next_token = None;
    }
    Ok(visitor.page)
}

#[derive(Default)]
struct ErrorVisitor {
    code: Option<String>,
    message: Option<String>,
    region: Option<String>,
}

impl Visitor for ErrorVisitor {
    fn text(&mut self, path: &[String], text: &str) {
        match (path.first().map(String::as_str), path.last().map(String::as_str)) {
            (Some("Error"), Some("Code")) => self.code = Some(text.trim().to_owned()),
            (Some("Error"), Some("Message")) => self.message = Some(text.trim().to_owned()),
            (Some("Error"), Some("Region")) => self.region = Some(text.trim().to_owned()),
            _ => {}
        }
    }
}

/// An S3 error body's code, message and (for a wrong region) the bucket's region.
pub(crate) fn parse_error(xml: &str) -> (Option<String>, Option<String>, Option<String>) {
    let mut visitor = ErrorVisitor::default();
    let _ = walk(xml, &mut visitor);
    (visitor.code, visitor.message, visitor.region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_encoded_page_gives_keys_byte_for_byte() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult><Name>b</Name><Prefix></Prefix><KeyCount>3</KeyCount><MaxKeys>2</MaxKeys><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>
<Contents><Key>a%2F%2Fb</Key><LastModified>2026-11-30T19:00:00.000Z</LastModified><ETag>&quot;0cc175b9c0f1b6a831c399e269772661&quot;</ETag><Size>1</Size><StorageClass>STANDARD</StorageClass></Contents>
<Contents><Key>sp+ace%2Bplus%C3%A9</Key><LastModified>2026-11-30T19:00:00Z</LastModified><ETag>"d41d8cd98f00b204e9800998ecf8427e-2"</ETag><Size>10</Size><StorageClass>STANDARD</StorageClass></Contents>
<CommonPrefixes><Prefix>dir%2F</Prefix></CommonPrefixes>
<NextContinuationToken>tok+en/=</NextContinuationToken></ListBucketResult>"#;
        let page = parse_object_page(xml).unwrap();
        let keys: Vec<_> = page.entries.iter().map(|e| (e.key.as_str(), e.kind, e.size)).collect();
        assert_eq!(
            keys,
            [("a//b", EntryKind::Object, 1), ("sp ace+plusé", EntryKind::Object, 10), ("dir/", EntryKind::Prefix, 0)]
        );
        assert_eq!(page.entries[0].content_md5.unwrap()[0], 0x0c, "a plain ETag is the MD5");
        assert_eq!(page.entries[1].content_md5, None, "a multipart ETag is not");
        assert!(page.entries[1].last_modified.is_some());
        assert_eq!(page.next_token.as_deref(), Some("tok+en/="));
    }

    #[test]
    fn errors_give_code_message_and_region() {
        let xml = "<Error><Code>PermanentRedirect</Code><Message>Use the right endpoint.</Message><Region>eu-west-1</Region></Error>";
        assert_eq!(
            parse_error(xml),
            (Some("PermanentRedirect".into()), Some("Use the right endpoint.".into()), Some("eu-west-1".into()))
        );
    }
}
