//! The few XML documents the Blob service speaks: list results, block lists, errors.
//!
//! Parsed with a small event loop over `quick-xml` rather than serde: the documents are flat,
//! names must come back byte for byte (no whitespace or end-of-line normalisation), and a listing
//! page of 5,000 entries is parsed without building an intermediate tree.

use std::time::SystemTime;

use base64::Engine as _;
use ferry_http::xml::{Visitor, XmlError, walk};
use ferry_store::{Entry, EntryKind, ObjectProperties, PartId, PartInfo, PartList};

/// One page of a List Blobs result.
#[derive(Debug, Default)]
pub(crate) struct BlobPage {
    /// Blobs and (with a delimiter) virtual directories, in the service's order.
    pub(crate) entries: Vec<Entry>,
    /// Where the next page starts, if there is one.
    pub(crate) next_marker: Option<String>,
}

fn parse_md5(text: &str) -> Option<[u8; 16]> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(text.trim()).ok()?;
    bytes.try_into().ok()
}

/// Parses an RFC 1123 date as the service sends them (`Mon, 27 Jan 2025 10:00:00 GMT`).
pub(crate) fn parse_http_date(text: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(text.trim()).ok()
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

#[derive(Default)]
struct BlobPageVisitor {
    page: BlobPage,
    current: Option<Entry>,
    props: ObjectProperties,
    encoded_name: bool,
    bad_name: Option<String>,
}

impl Visitor for BlobPageVisitor {
    fn open(&mut self, path: &[String], attrs: &[(String, String)]) {
        match path.last().map(String::as_str) {
            Some("Blob") => {
                self.current = Some(Entry::object(String::new(), 0));
                self.props = ObjectProperties::default();
            }
            Some("BlobPrefix") => self.current = Some(Entry::prefix(String::new())),
            Some("Name") => {
                self.encoded_name = attrs.iter().any(|(k, v)| k == "Encoded" && v.eq_ignore_ascii_case("true"));
            }
            _ => {}
        }
    }

    fn text(&mut self, path: &[String], text: &str) {
        let n = path.len();
        let leaf = path[n - 1].as_str();
        let parent = if n >= 2 { path[n - 2].as_str() } else { "" };
        if leaf == "NextMarker" && parent == "EnumerationResults" {
            self.page.next_marker = non_empty(text);
            return;
        }
        let Some(entry) = self.current.as_mut() else {
            return;
        };
        let props = &mut self.props;
        match (parent, leaf) {
            ("Blob" | "BlobPrefix", "Name") => {
                entry.key = if self.encoded_name {
                    ferry_core::encoding::decode(text).unwrap_or_else(|_| {
                        self.bad_name = Some(text.to_owned());
                        text.to_owned()
                    })
                } else {
                    text.to_owned()
                };
            }
            ("Blob", "VersionId") => props.version_id = non_empty(text),
            ("Blob", "Snapshot") => props.snapshot = non_empty(text),
            ("Blob", "Deleted") => props.deleted = text.trim().eq_ignore_ascii_case("true"),
            ("Properties", "Content-Length") => entry.size = text.trim().parse().unwrap_or(0),
            ("Properties", "Last-Modified") => entry.last_modified = parse_http_date(text),
            ("Properties", "Etag") => entry.etag = non_empty(text.trim_matches('"')),
            ("Properties", "Content-MD5") => {
                entry.content_md5 = parse_md5(text);
                props.headers.content_md5 = entry.content_md5;
            }
            ("Properties", "Content-Type") => props.headers.content_type = non_empty(text),
            ("Properties", "Content-Encoding") => props.headers.content_encoding = non_empty(text),
            ("Properties", "Content-Language") => props.headers.content_language = non_empty(text),
            ("Properties", "Content-Disposition") => props.headers.content_disposition = non_empty(text),
            ("Properties", "Cache-Control") => props.headers.cache_control = non_empty(text),
            ("Properties", "BlobType") => props.blob_type = non_empty(text),
            ("Properties", "AccessTier") => props.access_tier = non_empty(text),
            ("Properties", "ArchiveStatus") => props.archive_status = non_empty(text),
            ("Properties", "LeaseState") => props.lease_state = non_empty(text),
            ("Properties", "LeaseStatus") => props.lease_status = non_empty(text),
            ("Properties", "LeaseDuration") => props.lease_duration = non_empty(text),
            ("Metadata", name) if n >= 3 && path[n - 3] == "Blob" => {
                props.metadata.insert(name.to_owned(), text.to_owned());
            }
            _ => {}
        }
    }

    fn close(&mut self, path: &[String]) {
        if matches!(path.last().map(String::as_str), Some("Blob" | "BlobPrefix"))
            && let Some(mut entry) = self.current.take()
        {
            if entry.kind == EntryKind::Object {
                entry.properties = Some(Box::new(std::mem::take(&mut self.props)));
            }
            self.page.entries.push(entry);
        }
    }
}

/// Parses one List Blobs page. Names with `Encoded="true"` are percent-decoded.
pub(crate) fn parse_blob_page(xml: &str) -> Result<BlobPage, XmlError> {
    let mut visitor = BlobPageVisitor::default();
    walk(xml, &mut visitor)?;
    if let Some(name) = visitor.bad_name {
        return Err(XmlError(format!("an encoded blob name does not decode to UTF-8: {name}")));
    }
    Ok(visitor.page)
}

#[derive(Default)]
struct ContainerPageVisitor {
    names: Vec<String>,
    next: Option<String>,
}

impl Visitor for ContainerPageVisitor {
    fn text(&mut self, path: &[String], text: &str) {
        let n = path.len();
        match (n.checked_sub(2).map(|i| path[i].as_str()), path[n - 1].as_str()) {
            (Some("Container"), "Name") => self.names.push(text.to_owned()),
            (Some("EnumerationResults"), "NextMarker") => self.next = non_empty(text),
            _ => {}
        }
    }
}

/// One page of a List Containers result: names and the next marker.
pub(crate) fn parse_container_page(xml: &str) -> Result<(Vec<String>, Option<String>), XmlError> {
    let mut visitor = ContainerPageVisitor::default();
    walk(xml, &mut visitor)?;
    Ok((visitor.names, visitor.next))
}

#[derive(Default)]
struct TagsVisitor {
    tags: std::collections::BTreeMap<String, String>,
    key: String,
    value: String,
}

impl Visitor for TagsVisitor {
    fn text(&mut self, path: &[String], text: &str) {
        match path.last().map(String::as_str) {
            Some("Key") => self.key = text.to_owned(),
            Some("Value") => self.value = text.to_owned(),
            _ => {}
        }
    }

    fn close(&mut self, path: &[String]) {
        if path.last().is_some_and(|p| p == "Tag") {
            self.tags.insert(std::mem::take(&mut self.key), std::mem::take(&mut self.value));
        }
    }
}

/// Parses a Get Blob Tags result.
pub(crate) fn parse_tags(xml: &str) -> Result<std::collections::BTreeMap<String, String>, XmlError> {
    let mut visitor = TagsVisitor::default();
    walk(xml, &mut visitor)?;
    Ok(visitor.tags)
}

#[derive(Default)]
struct BlockListVisitor {
    list: PartList,
    name: String,
    size: u64,
}

impl Visitor for BlockListVisitor {
    fn text(&mut self, path: &[String], text: &str) {
        match path.last().map(String::as_str) {
            Some("Name") => self.name = text.to_owned(),
            Some("Size") => self.size = text.trim().parse().unwrap_or(0),
            _ => {}
        }
    }

    fn close(&mut self, path: &[String]) {
        let n = path.len();
        if n >= 2 && path[n - 1] == "Block" {
            let part = PartInfo { id: PartId::from_base64(std::mem::take(&mut self.name)), size: self.size };
            match path[n - 2].as_str() {
                "CommittedBlocks" => self.list.committed.push(part),
                "UncommittedBlocks" => self.list.uncommitted.push(part),
                _ => {}
            }
        }
    }
}

/// Parses a Get Block List result.
pub(crate) fn parse_block_list(xml: &str) -> Result<PartList, XmlError> {
    let mut visitor = BlockListVisitor::default();
    walk(xml, &mut visitor)?;
    Ok(visitor.list)
}

#[derive(Default)]
struct ErrorVisitor {
    code: Option<String>,
    message: Option<String>,
    /// Why a credential was refused (Azure and Azurite: "Lifetime validation failed. The token
    /// is expired.", "Signature not valid in the specified time frame…").
    detail: Option<String>,
}

impl Visitor for ErrorVisitor {
    fn text(&mut self, path: &[String], text: &str) {
        match path.last().map(String::as_str) {
            Some("Code") => self.code = non_empty(text.trim()),
            Some("Message") => self.message = non_empty(text.trim()),
            Some("AuthenticationErrorDetail") => self.detail = non_empty(text.trim()),
            _ => {}
        }
    }
}

/// The `Code` and `Message` of an error response body (both `None` if it is not XML); an
/// `AuthenticationErrorDetail` is added to the message's first line, since it says why.
pub(crate) fn parse_error(xml: &str) -> (Option<String>, Option<String>) {
    let mut visitor = ErrorVisitor::default();
    let _ = walk(xml, &mut visitor);
    let message = match (visitor.message, visitor.detail) {
        (Some(message), Some(detail)) => {
            let (first, rest) = message.split_once('\n').unwrap_or((message.as_str(), ""));
            Some(format!("{} {detail}\n{rest}", first.trim_end()))
        }
        (message, detail) => message.or(detail),
    };
    (visitor.code, message)
}

/// The body of Put Block List: every id as `<Latest>`, which takes the newest of the staged
/// or committed block with that id.
pub(crate) fn block_list_body(parts: &[PartId]) -> String {
    let mut body = String::with_capacity(64 + parts.len() * 72);
    body.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
    for part in parts {
        // Base64 has no XML-special characters, so no escaping is needed.
        body.push_str("<Latest>");
        body.push_str(part.as_str());
        body.push_str("</Latest>");
    }
    body.push_str("</BlockList>");
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn why_a_credential_was_refused_is_kept() {
        let body = "<?xml version=\"1.0\"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request.\nRequestId:1</Message><AuthenticationErrorDetail>Lifetime validation failed. The token is expired.</AuthenticationErrorDetail></Error>";
        let (code, message) = parse_error(body);
        assert_eq!(code.as_deref(), Some("AuthenticationFailed"));
        assert_eq!(
            message.unwrap().lines().next(),
            Some("Server failed to authenticate the request. Lifetime validation failed. The token is expired.")
        );
    }

    const PAGE: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<EnumerationResults ServiceEndpoint="http://127.0.0.1:10000/devstoreaccount1" ContainerName="box"><Prefix></Prefix><MaxResults>2</MaxResults><Delimiter>/</Delimiter><Blobs><Blob><Name>a &amp; b &lt;c&gt; &#x263A;</Name><Properties><Creation-Time>Mon, 23 Nov 2026 21:08:59 GMT</Creation-Time><Last-Modified>Mon, 23 Nov 2026 21:08:59 GMT</Last-Modified><Etag>"0x8DE2B"</Etag><Content-Length>1000</Content-Length><Content-Type>text/plain</Content-Type><Content-Encoding /><Content-MD5>OYUz1IER6fZksfZMsQxLYw==</Content-MD5><BlobType>BlockBlob</BlobType><LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState><AccessTier>Hot</AccessTier></Properties><Metadata><color>blue</color></Metadata></Blob><BlobPrefix><Name>dir/</Name></BlobPrefix><Blob><Name Encoded="true">bad%01name</Name><Properties><Content-Length>5</Content-Length></Properties></Blob></Blobs><NextMarker>MARKER2</NextMarker></EnumerationResults>"#;

    #[test]
    fn parses_a_listing_page() {
        let page = parse_blob_page(PAGE).unwrap();
        assert_eq!(page.next_marker.as_deref(), Some("MARKER2"));
        assert_eq!(page.entries.len(), 3);
        let blob = &page.entries[0];
        assert_eq!(blob.key, "a & b <c> \u{263A}");
        assert_eq!(blob.size, 1000);
        assert_eq!(blob.etag.as_deref(), Some("0x8DE2B"));
        assert!(blob.content_md5.is_some());
        assert!(blob.last_modified.is_some());
        let props = blob.props();
        assert_eq!(props.headers.content_type.as_deref(), Some("text/plain"));
        assert_eq!(props.headers.content_encoding, None);
        assert_eq!(props.access_tier.as_deref(), Some("Hot"));
        assert_eq!(props.metadata.get("color").map(String::as_str), Some("blue"));
        assert_eq!(page.entries[1].kind, EntryKind::Prefix);
        assert_eq!(page.entries[1].key, "dir/");
        assert_eq!(page.entries[2].key, "bad\u{1}name");
    }

    #[test]
    fn names_keep_their_whitespace() {
        let xml = "<EnumerationResults><Blobs><Blob><Name>  two spaces\r\n </Name></Blob></Blobs><NextMarker /></EnumerationResults>";
        let page = parse_blob_page(xml).unwrap();
        assert_eq!(page.entries[0].key, "  two spaces\r\n ");
        assert_eq!(page.next_marker, None);
    }

    #[test]
    fn parses_block_lists() {
        let xml = "<?xml version=\"1.0\"?><BlockList><CommittedBlocks><Block><Name>QUFB</Name><Size>4</Size></Block></CommittedBlocks><UncommittedBlocks><Block><Name>QkJC</Name><Size>7</Size></Block><Block><Name>Q0ND</Name><Size>0</Size></Block></UncommittedBlocks></BlockList>";
        let list = parse_block_list(xml).unwrap();
        assert_eq!(list.committed, vec![PartInfo { id: PartId::from_base64("QUFB"), size: 4 }]);
        assert_eq!(list.uncommitted.len(), 2);
        assert_eq!(list.uncommitted[1].id.as_str(), "Q0ND");
    }

    #[test]
    fn parses_error_bodies() {
        let xml = "<?xml version=\"1.0\"?><Error><Code>ContainerNotFound</Code><Message>The specified container does not exist.\nRequestId:1</Message></Error>";
        let (code, message) = parse_error(xml);
        assert_eq!(code.as_deref(), Some("ContainerNotFound"));
        assert!(message.unwrap().starts_with("The specified container"));
    }

    #[test]
    fn block_list_body_lists_latest_ids_in_order() {
        let body = block_list_body(&[PartId::from_base64("QUFB"), PartId::from_base64("QkJC")]);
        assert!(body.ends_with("<BlockList><Latest>QUFB</Latest><Latest>QkJC</Latest></BlockList>"));
    }

    #[test]
    fn parses_container_pages() {
        let xml = "<EnumerationResults><Containers><Container><Name>one</Name><Properties/></Container><Container><Name>two</Name></Container></Containers><NextMarker>x</NextMarker></EnumerationResults>";
        let (names, next) = parse_container_page(xml).unwrap();
        assert_eq!(names, ["one", "two"]);
        assert_eq!(next.as_deref(), Some("x"));
    }
}
