//! The File service's file operations: create, ranges (written, cleared, or copied from a URL),
//! read, properties, metadata, range list, delete.

use std::sync::{Arc, Mutex};

use axum::http::Method;
use base64::Engine as _;
use time::OffsetDateTime;

use super::ops::{
    Answer, Fetch, apply_smb, check_name, content_headers, http_date, metadata_of, with_metadata, with_smb, xml_answer,
};
use super::tree::{Account, File, Node};
use super::{Call, Failure, MAX_RANGE, VERSION, xml};

fn file_headers(answer: Answer, file: &File) -> Answer {
    let h = &file.headers;
    let mut answer = with_smb(answer, &file.common.smb, 0)
        .with("etag", file.common.etag.clone())
        .with("last-modified", http_date(file.common.last_modified))
        .with("x-ms-type", "File")
        .with("accept-ranges", "bytes")
        .with("content-type", h.content_type.clone().unwrap_or_else(|| "application/octet-stream".into()));
    for (name, value) in [
        ("content-encoding", &h.content_encoding),
        ("content-language", &h.content_language),
        ("content-disposition", &h.content_disposition),
        ("cache-control", &h.cache_control),
    ] {
        if let Some(v) = value {
            answer = answer.with(name, v.clone());
        }
    }
    with_metadata(answer, &file.common.metadata)
}

/// `bytes=a-b` of `x-ms-range` (or `range`).
fn range_of(call: &Call, header: &str) -> Result<Option<(u64, u64)>, Failure> {
    let Some(text) = call.header(header).or_else(|| if header == "x-ms-range" { call.header("range") } else { None })
    else {
        return Ok(None);
    };
    let bad = || Failure::new(400, "InvalidHeaderValue", format!("`{text}` is not a byte range"));
    let (a, b) = text.trim().strip_prefix("bytes=").and_then(|r| r.split_once('-')).ok_or_else(bad)?;
    let start: u64 = a.parse().map_err(|_| bad())?;
    let end: u64 = if b.is_empty() { u64::MAX } else { b.parse().map_err(|_| bad())? };
    if end < start {
        return Err(bad());
    }
    Ok(Some((start, end)))
}

pub(super) fn file_op(
    share: &mut super::tree::Share,
    call: &Call,
    comp: Option<&str>,
    etag: String,
    fresh: super::tree::Common,
) -> Result<Answer, Failure> {
    let path = call.segments();
    let not_found = || Failure::new(404, "ResourceNotFound", "the file does not exist");
    let now = OffsetDateTime::now_utc();
    match (&call.method, comp) {
        (&Method::PUT, None) => {
            let (name, parent) = path.split_last().ok_or_else(|| Failure::new(400, "InvalidUri", "no file name"))?;
            check_name(name, call)?;
            if call.header("x-ms-type").is_none_or(|t| !t.eq_ignore_ascii_case("file")) {
                return Err(Failure::new(400, "MissingRequiredHeader", "x-ms-type: file is required"));
            }
            let size: u64 = call
                .header("x-ms-content-length")
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| Failure::new(400, "MissingRequiredHeader", "x-ms-content-length is required"))?;
            let mut common = fresh;
            common.metadata = metadata_of(call);
            apply_smb(call, &mut common.smb, false, &mut share.permissions)?;
            let dir = share
                .root
                .dir_mut(parent)
                .ok_or_else(|| Failure::new(404, "ParentNotFound", "the parent directory does not exist"))?;
            if matches!(dir.children.get(*name), Some(Node::Directory(_))) {
                return Err(Failure::new(409, "ResourceTypeMismatch", "a directory has that name"));
            }
            let file = File {
                common,
                data: vec![0; usize::try_from(size).unwrap_or(0)],
                headers: content_headers(call),
                written: Vec::new(),
            };
            let answer = with_smb(Answer::ok(201), &file.common.smb, dir.common.smb.file_id)
                .with("etag", file.common.etag.clone())
                .with("last-modified", http_date(file.common.last_modified))
                .with("x-ms-request-server-encrypted", "true");
            dir.children.insert((*name).to_owned(), Node::File(Box::new(file)));
            Ok(answer)
        }
        (&Method::GET | &Method::HEAD, None) => {
            let Some(Node::File(file)) = share.root.find(&path) else { return Err(not_found()) };
            let size = file.data.len() as u64;
            match range_of(call, "x-ms-range")? {
                // As the service: any range of an empty file is 416 (the SDK then reads it whole).
                Some((start, _)) if start >= size => {
                    Err(Failure::new(416, "InvalidRange", "the range is beyond the end of the file"))
                }
                Some((start, end)) if size > 0 => {
                    let end = end.min(size - 1);
                    let data = file.data[start as usize..=end as usize].to_vec();
                    let mut answer = file_headers(Answer::ok(206), file)
                        .with("content-range", format!("bytes {start}-{end}/{size}"));
                    if call.header("x-ms-range-get-content-md5").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
                        answer = answer.with(
                            "content-md5",
                            base64::engine::general_purpose::STANDARD.encode(ferry_store::md5_of(&data)),
                        );
                    }
                    Ok(answer.body(data))
                }
                _ => {
                    let mut answer = file_headers(Answer::ok(200), file);
                    if let Some(md5) = &file.headers.content_md5 {
                        answer = answer.with("content-md5", md5.clone());
                    }
                    Ok(answer.body(file.data.clone()))
                }
            }
        }
        (&Method::PUT, Some("range")) => {
            let file = share.root.file_mut(&path).ok_or_else(not_found)?;
            let (start, end) = range_of(call, "x-ms-range")?
                .ok_or_else(|| Failure::new(400, "MissingRequiredHeader", "x-ms-range is required"))?;
            let size = file.data.len() as u64;
            if end >= size {
                return Err(Failure::new(416, "InvalidRange", "the range is beyond the end of the file"));
            }
            let len = end - start + 1;
            if len > MAX_RANGE {
                return Err(Failure::new(413, "RequestBodyTooLarge", "a range is at most 4 MiB"));
            }
            if let Some(source) = call.header("x-ms-copy-source") {
                let range = range_of(call, "x-ms-source-range")?
                    .ok_or_else(|| Failure::new(400, "MissingRequiredHeader", "x-ms-source-range is required"))?;
                if range.1 - range.0 != end - start {
                    return Err(Failure::new(
                        400,
                        "InvalidHeaderValue",
                        "the source range and the range differ in length",
                    ));
                }
                let authorization = call.header("x-ms-copy-source-authorization").map(str::to_owned);
                return Ok(Answer::FetchRange(Fetch {
                    url: source.to_owned(),
                    range,
                    target: (start, end),
                    authorization,
                }));
            }
            match call.header("x-ms-write").map(str::to_ascii_lowercase).as_deref() {
                Some("update") => {
                    if call.body.len() as u64 != len {
                        return Err(Failure::new(400, "InvalidHeaderValue", "the body's length is not the range's"));
                    }
                    if let Some(md5) = call.header("content-md5") {
                        let actual = base64::engine::general_purpose::STANDARD.encode(ferry_store::md5_of(&call.body));
                        if actual != md5 {
                            return Err(Failure::new(400, "Md5Mismatch", "the body's MD5 is not Content-MD5"));
                        }
                    }
                    file.data[start as usize..=end as usize].copy_from_slice(&call.body);
                    file.mark_written(start, end + 1);
                }
                Some("clear") => {
                    file.data[start as usize..=end as usize].fill(0);
                    file.mark_cleared(start, end + 1);
                }
                _ => return Err(Failure::new(400, "InvalidHeaderValue", "x-ms-write must be update or clear")),
            }
            file.common.etag = etag;
            file.common.last_modified = now;
            file.common.smb.last_write = now;
            file.common.smb.change = now;
            Ok(Answer::ok(201)
                .with("etag", file.common.etag.clone())
                .with("last-modified", http_date(now))
                .with("x-ms-request-server-encrypted", "true"))
        }
        (&Method::PUT, Some("properties")) => {
            let mut smb = share.root.file_mut(&path).ok_or_else(not_found)?.common.smb.clone();
            apply_smb(call, &mut smb, false, &mut share.permissions)?;
            let file = share.root.file_mut(&path).ok_or_else(not_found)?;
            file.common.smb = smb;
            file.headers = content_headers(call);
            if let Some(size) = call.header("x-ms-content-length").and_then(|v| v.parse::<u64>().ok()) {
                file.mark_cleared(size, u64::MAX);
                file.data.resize(usize::try_from(size).unwrap_or(0), 0);
            }
            file.common.etag = etag;
            file.common.last_modified = now;
            Ok(with_smb(Answer::ok(200), &file.common.smb, 0).with("etag", file.common.etag.clone()))
        }
        (&Method::PUT, Some("metadata")) => {
            let file = share.root.file_mut(&path).ok_or_else(not_found)?;
            file.common.metadata = metadata_of(call);
            file.common.etag = etag;
            Ok(Answer::ok(200).with("etag", file.common.etag.clone()))
        }
        (&Method::GET, Some("rangelist")) => {
            let Some(Node::File(file)) = share.root.find(&path) else { return Err(not_found()) };
            Ok(xml_answer(xml::ranges(&file.written)).with("x-ms-content-length", file.data.len().to_string()))
        }
        (&Method::DELETE, None) => {
            let (name, parent) = path.split_last().ok_or_else(not_found)?;
            let dir = share.root.dir_mut(parent).ok_or_else(not_found)?;
            match dir.children.get(*name) {
                Some(Node::File(_)) => {
                    dir.children.remove(*name);
                    Ok(Answer::ok(202))
                }
                _ => Err(not_found()),
            }
        }
        (&Method::PUT, Some("lease")) => Ok(Answer::ok(201).with(
            "x-ms-lease-id",
            call.header("x-ms-proposed-lease-id").unwrap_or("00000000-0000-0000-0000-000000000001").to_owned(),
        )),
        _ => Err(Failure::new(400, "UnsupportedHttpVerb", "not a file operation")),
    }
}

/// Put Range From URL: fetches the source range (the lock not held), then writes it.
pub(crate) async fn put_range_from_url(
    state: &Arc<Mutex<Account>>,
    call: &Call,
    fetch: Fetch,
) -> Result<Answer, Failure> {
    // reqwest is built without a TLS provider of its own: the process's is ring (as Ferry's).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder().build().map_err(|e| Failure::new(500, "InternalError", e.to_string()))?;
    let mut request = client
        .get(&fetch.url)
        .header("x-ms-range", format!("bytes={}-{}", fetch.range.0, fetch.range.1))
        .header("x-ms-version", VERSION);
    if let Some(auth) = &fetch.authorization {
        request = request.header("authorization", auth);
    }
    let response = request.send().await.map_err(|e| Failure::new(400, "CannotVerifyCopySource", e.to_string()))?;
    if !response.status().is_success() {
        return Err(Failure::new(
            response.status().as_u16(),
            "CannotVerifyCopySource",
            format!("the source answered {}", response.status()),
        ));
    }
    let data = response.bytes().await.map_err(|e| Failure::new(400, "CannotVerifyCopySource", e.to_string()))?;
    let (start, end) = fetch.target;
    if data.len() as u64 != end - start + 1 {
        return Err(Failure::new(400, "CannotVerifyCopySource", "the source range is shorter than asked"));
    }
    let mut account = state.lock().expect("never poisoned");
    let etag = account.etag();
    let share = account
        .shares
        .get_mut(call.share.as_deref().unwrap_or_default())
        .ok_or_else(|| Failure::new(404, "ShareNotFound", "the share does not exist"))?;
    share.ranges_from_urls += 1;
    let file = share
        .root
        .file_mut(&call.segments())
        .ok_or_else(|| Failure::new(404, "ResourceNotFound", "the file does not exist"))?;
    file.data[start as usize..=end as usize].copy_from_slice(&data);
    file.mark_written(start, end + 1);
    file.common.etag = etag;
    file.common.last_modified = OffsetDateTime::now_utc();
    Ok(Answer::ok(201).with("etag", file.common.etag.clone()).with("x-ms-request-server-encrypted", "true"))
}
