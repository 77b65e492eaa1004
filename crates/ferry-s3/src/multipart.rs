//! S3's multipart upload behind the [`ferry_store::Store`] part contract: a session (S3's upload
//! id) per object, begun — or continued, when the job's journal recorded one — by
//! [`ferry_store::Store::open_parts`]; parts numbered from their [`PartId`]s, each sent with its
//! Content-MD5; their ETags listed back from S3 itself (ListParts) when a resumed job asks which
//! parts are there; and the object completed from them, then checked: its ETag must be the one
//! its parts make, and its size theirs.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use ferry_core::{ErrorKind, StoreError, WriteOptions};
use ferry_http::Request;
use ferry_http::xml::{Visitor, walk};
use ferry_store::{PartId, PartInfo, PartList};
use reqwest::Method;

use crate::S3Client;
use crate::xml::unquote;

type Result<T> = std::result::Result<T, StoreError>;

/// One object's upload in progress.
#[derive(Debug, Clone)]
struct Session {
    upload_id: String,
    tag: String,
    /// Part number → (ETag, size), as S3 acknowledged or listed them.
    parts: BTreeMap<u32, (String, u64)>,
}

/// The sessions of one store's objects, by key.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sessions(Arc<Mutex<HashMap<String, Session>>>);

/// A part's number (1-based) from its id: `PartId::numbered(tag, index)` is `index + 1`.
fn part_number(id: &PartId, target: &str) -> Result<u32> {
    let raw = id.decoded().unwrap_or_default();
    let digits = raw.get(raw.len().saturating_sub(8)..).unwrap_or_default();
    std::str::from_utf8(digits)
        .ok()
        .and_then(|d| d.parse::<u32>().ok())
        .filter(|n| *n < 10_000)
        .map(|n| n + 1)
        .ok_or_else(|| {
            StoreError::new(ErrorKind::InvalidInput, target, "not a numbered part id (at most 10,000 parts)")
        })
}

/// The ETag S3 gives an object completed from parts with these ETags: the MD5 of their MD5s,
/// then `-` and their count. `None` when a part's ETag is not an MD5 (an encrypted part's).
pub(crate) fn multipart_etag<'a>(etags: impl ExactSizeIterator<Item = &'a str>) -> Option<String> {
    let count = etags.len();
    let mut md5 = ferry_md5::Md5::new();
    for etag in etags {
        md5.update(crate::xml::md5_of_etag(etag)?);
    }
    let hex: String = md5.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Some(format!("{hex}-{count}"))
}

#[derive(Default)]
struct UploadIdVisitor(Option<String>);

impl Visitor for UploadIdVisitor {
    fn text(&mut self, path: &[String], text: &str) {
        if path.last().is_some_and(|p| p == "UploadId") {
            self.0 = Some(text.to_owned());
        }
    }
}

#[derive(Default)]
struct PartsVisitor {
    parts: Vec<(u32, String, u64)>,
    current: (Option<u32>, Option<String>, Option<u64>),
    truncated: bool,
    next_marker: Option<String>,
}

impl Visitor for PartsVisitor {
    fn text(&mut self, path: &[String], text: &str) {
        let inside_part = path.len() >= 2 && path[path.len() - 2] == "Part";
        match path.last().map(String::as_str) {
            Some("PartNumber") if inside_part => self.current.0 = text.trim().parse().ok(),
            Some("ETag") if inside_part => self.current.1 = Some(unquote(text)),
            Some("Size") if inside_part => self.current.2 = text.trim().parse().ok(),
            Some("IsTruncated") => self.truncated = text.trim() == "true",
            Some("NextPartNumberMarker") => self.next_marker = Some(text.trim().to_owned()),
            _ => {}
        }
    }

    fn close(&mut self, path: &[String]) {
        if path.last().is_some_and(|p| p == "Part")
            && let (Some(n), Some(etag), Some(size)) = std::mem::take(&mut self.current)
        {
            self.parts.push((n, etag, size));
        }
    }
}

#[derive(Default)]
struct CompleteVisitor {
    etag: Option<String>,
    error: (Option<String>, Option<String>),
}

impl Visitor for CompleteVisitor {
    fn text(&mut self, path: &[String], text: &str) {
        match (path.first().map(String::as_str), path.last().map(String::as_str)) {
            (Some("CompleteMultipartUploadResult"), Some("ETag")) => self.etag = Some(unquote(text)),
            (Some("Error"), Some("Code")) => self.error.0 = Some(text.to_owned()),
            (Some("Error"), Some("Message")) => self.error.1 = Some(text.to_owned()),
            _ => {}
        }
    }
}

/// Multipart requests for one bucket's objects.
pub(crate) struct Multipart<'a> {
    pub(crate) client: &'a S3Client,
    pub(crate) sessions: &'a Sessions,
    /// The object's URL (no query).
    pub(crate) url: url::Url,
    /// How the object is named in messages.
    pub(crate) target: String,
    pub(crate) key: &'a str,
}

impl Multipart<'_> {
    fn with_query(&self, query: &str) -> url::Url {
        let mut url = self.url.clone();
        url.set_query(Some(query));
        url
    }

    fn session(&self) -> Result<Session> {
        self.current().ok_or_else(|| {
            StoreError::new(ErrorKind::InvalidInput, &self.target, "no multipart upload was opened for this object")
        })
    }

    fn current(&self) -> Option<Session> {
        self.sessions.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(self.key).cloned()
    }

    fn update(&self, change: impl FnOnce(&mut Session)) {
        let mut sessions = self.sessions.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(session) = sessions.get_mut(self.key) {
            change(session);
        }
    }

    /// Continues `earlier` when S3 still has it (its parts listed), else begins a new upload with
    /// `options`' headers and metadata. Returns the upload id.
    pub(crate) async fn open(&self, tag: &str, options: &WriteOptions, earlier: Option<&str>) -> Result<String> {
        if let Some(id) = earlier {
            let session = Session { upload_id: id.to_owned(), tag: tag.to_owned(), parts: BTreeMap::new() };
            self.sessions
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(self.key.to_owned(), session);
            match self.list().await {
                Ok(_) => return Ok(id.to_owned()),
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    tracing::debug!(key = self.key, "the recorded multipart upload is gone; starting another");
                }
                Err(e) => return Err(e),
            }
        }
        let request = Request::new(Method::POST, self.with_query("uploads"), &self.target);
        let request = crate::write::with_object_headers(request, options, &self.target)?;
        let response = self.client.send(request).await?;
        let body = self.client.read_xml(response, &self.target).await?;
        let mut visitor = UploadIdVisitor::default();
        walk(&body, &mut visitor).map_err(|e| StoreError::new(ErrorKind::Other, &self.target, e.to_string()))?;
        let upload_id = visitor
            .0
            .ok_or_else(|| StoreError::new(ErrorKind::Other, &self.target, "the service began an upload with no id"))?;
        let session = Session { upload_id: upload_id.clone(), tag: tag.to_owned(), parts: BTreeMap::new() };
        self.sessions.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(self.key.to_owned(), session);
        Ok(upload_id)
    }

    /// Uploads one part, its MD5 checked by S3 (and its ETag, which is that MD5, by Ferry).
    pub(crate) async fn put(&self, part: &PartId, data: Bytes, md5: Option<[u8; 16]>) -> Result<()> {
        let session = self.session()?;
        let number = part_number(part, &self.target)?;
        let size = data.len() as u64;
        let md5 = md5.unwrap_or_else(|| ferry_store::md5_of(&data));
        let query =
            format!("partNumber={number}&uploadId={}", ferry_core::encoding::encode_component(&session.upload_id));
        let request = Request::new(Method::PUT, self.with_query(&query), &self.target)
            .header("content-md5", &base64_md5(&md5))
            .body(ferry_http::Body::Bytes(data));
        let response = self.client.send(request).await?;
        let etag = response.headers().get("etag").and_then(|v| v.to_str().ok()).map(unquote).unwrap_or_default();
        // A part's ETag is the MD5 of what was stored: checked too, as not every S3-compatible
        // server checks Content-MD5 (a mismatched part is never completed into the object).
        if crate::xml::md5_of_etag(&etag).is_some_and(|m| m != md5) {
            return Err(StoreError::new(
                ErrorKind::InvalidInput,
                &self.target,
                format!("part {number} does not match its Content-MD5 (the service stored other bytes)"),
            ));
        }
        self.update(|s| {
            s.parts.insert(number, (etag, size));
        });
        Ok(())
    }

    /// The parts S3 holds for the session (every page), remembered for the completion; none
    /// when no session is open.
    pub(crate) async fn list(&self) -> Result<PartList> {
        let Some(session) = self.current() else { return Ok(PartList::default()) };
        let mut marker: Option<String> = None;
        let mut parts = Vec::new();
        loop {
            let mut query =
                format!("uploadId={}&max-parts=1000", ferry_core::encoding::encode_component(&session.upload_id));
            if let Some(m) = &marker {
                query.push_str(&format!("&part-number-marker={m}"));
            }
            let body = self.client.get_xml(Request::new(Method::GET, self.with_query(&query), &self.target)).await?;
            let mut visitor = PartsVisitor::default();
            walk(&body, &mut visitor).map_err(|e| StoreError::new(ErrorKind::Other, &self.target, e.to_string()))?;
            parts.extend(visitor.parts);
            match visitor.next_marker.filter(|_| visitor.truncated) {
                Some(next) if Some(&next) != marker.as_ref() => marker = Some(next),
                _ => break,
            }
        }
        self.update(|s| {
            for (n, etag, size) in &parts {
                s.parts.insert(*n, (etag.clone(), *size));
            }
        });
        let uncommitted = parts
            .iter()
            .map(|(n, _, size)| PartInfo { id: PartId::numbered(&session.tag, n - 1), size: *size })
            .collect();
        Ok(PartList { committed: Vec::new(), uncommitted })
    }

    /// Completes the object from `parts`, in order, and checks what S3 made of them.
    pub(crate) async fn complete(&self, parts: &[PartId], options: &WriteOptions) -> Result<ferry_store::WriteReceipt> {
        let numbers: Vec<u32> = parts.iter().map(|p| part_number(p, &self.target)).collect::<Result<_>>()?;
        let known = self.session()?.parts;
        if numbers.iter().any(|n| !known.contains_key(n)) {
            self.list().await?;
        }
        let session = self.session()?;
        let mut chosen = Vec::with_capacity(numbers.len());
        for n in &numbers {
            let (etag, size) = session.parts.get(n).cloned().ok_or_else(|| {
                StoreError::new(ErrorKind::InvalidInput, &self.target, format!("part {n} was never uploaded"))
            })?;
            chosen.push((*n, etag, size));
        }
        let mut xml = String::from("<CompleteMultipartUpload>");
        for (n, etag, _) in &chosen {
            xml.push_str(&format!("<Part><PartNumber>{n}</PartNumber><ETag>\"{etag}\"</ETag></Part>"));
        }
        xml.push_str("</CompleteMultipartUpload>");
        let query = format!("uploadId={}", ferry_core::encoding::encode_component(&session.upload_id));
        let mut request = Request::new(Method::POST, self.with_query(&query), &self.target)
            .header("content-type", "application/xml")
            .header("content-md5", &base64_md5(&ferry_store::md5_of(xml.as_bytes())))
            .body(ferry_http::Body::Bytes(xml.into()));
        if !options.overwrite {
            request = request.header("if-none-match", "*");
        }
        let response = self.client.send(request).await.map_err(|e| crate::write::exists_when_kept(e, options))?;
        // S3 may answer 200 and still fail, saying so in the body.
        let body = self.client.read_xml(response, &self.target).await?;
        let mut visitor = CompleteVisitor::default();
        walk(&body, &mut visitor).map_err(|e| StoreError::new(ErrorKind::Other, &self.target, e.to_string()))?;
        if let (Some(code), message) = visitor.error {
            return Err(crate::client::error_from_status(500, Some(&code), message.as_deref(), None, &self.target));
        }
        let etag = visitor.etag.unwrap_or_default();
        let expected = multipart_etag(chosen.iter().map(|(_, e, _)| e.as_str()));
        if let Some(expected) = expected.filter(|e| etag.contains('-') && *e != etag) {
            return Err(StoreError::new(
                ErrorKind::Other,
                &self.target,
                format!("the completed object's ETag `{etag}` is not the one its parts make (`{expected}`)"),
            ));
        }
        self.sessions.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(self.key);
        Ok(ferry_store::WriteReceipt { etag: Some(etag), last_modified: None })
    }
}

pub(crate) fn base64_md5(md5: &[u8; 16]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(md5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_numbers_come_from_numbered_ids() {
        assert_eq!(part_number(&PartId::numbered("0123456789abcdef0123456789abcdef", 0), "k").unwrap(), 1);
        assert_eq!(part_number(&PartId::numbered("t", 9_999), "k").unwrap(), 10_000);
        assert!(part_number(&PartId::numbered("t", 10_000), "k").is_err());
        assert!(part_number(&PartId::from_base64("bm90LWEtbnVtYmVy"), "k").is_err());
    }

    #[test]
    fn a_multipart_etag_is_the_md5_of_the_parts_md5s() {
        // Two parts whose ETags are the MD5s of "a" and "b".
        let parts = ["0cc175b9c0f1b6a831c399e269772661", "92eb5ffee6ae2fec3ad71c777531578f"];
        let mut md5 = ferry_md5::Md5::new();
        md5.update(ferry_store::md5_of(b"a"));
        md5.update(ferry_store::md5_of(b"b"));
        let hex: String = md5.finalize().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(multipart_etag(parts.iter().copied()), Some(format!("{hex}-2")));
        assert_eq!(multipart_etag(["not-an-md5"].iter().copied()), None);
    }
}
