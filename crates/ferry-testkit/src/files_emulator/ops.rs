//! The File service's operations on the emulated account: how a request is routed and answered,
//! the shares and directories (files are in `files.rs`).

use std::collections::BTreeMap;

use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;

use super::tree::{Account, ContentHeaders, Directory, Node, Smb};
use super::{Call, Failure, VERSION, xml};

/// What an operation answers.
pub(crate) enum Answer {
    /// A status, headers and a body.
    Done { status: u16, headers: Vec<(String, String)>, body: Vec<u8> },
    /// Put Range From URL: fetch this, then write it (done without holding the account).
    FetchRange(Fetch),
}

/// A source range to fetch for Put Range From URL.
pub(crate) struct Fetch {
    pub(super) url: String,
    pub(super) range: (u64, u64),
    pub(super) target: (u64, u64),
    pub(super) authorization: Option<String>,
}

impl Answer {
    pub(super) fn ok(status: u16) -> Self {
        Self::Done { status, headers: Vec::new(), body: Vec::new() }
    }

    pub(super) fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        if let Self::Done { headers, .. } = &mut self {
            headers.push((name.to_owned(), value.into()));
        }
        self
    }

    pub(super) fn body(mut self, content: Vec<u8>) -> Self {
        if let Self::Done { body, .. } = &mut self {
            *body = content;
        }
        self
    }

    pub(crate) fn into_response(self, head: bool) -> Response {
        let Self::Done { status, headers, body } = self else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        let length = body.len();
        let mut response =
            (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), if head { Vec::new() } else { body })
                .into_response();
        let map = response.headers_mut();
        for (name, value) in headers {
            if let (Ok(n), Ok(v)) = (axum::http::HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(&value))
            {
                map.insert(n, v);
            }
        }
        map.insert("x-ms-version", HeaderValue::from_static(VERSION));
        map.insert("x-ms-request-id", HeaderValue::from_static("00000000-0000-0000-0000-000000000000"));
        if head {
            map.insert("content-length", HeaderValue::from(length));
        }
        response
    }
}

/// The time format of SMB headers: RFC 3339 with seven fractional digits.
pub(crate) fn smb_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond() / 100
    )
}

pub(super) fn http_date(t: OffsetDateTime) -> String {
    httpdate::fmt_http_date(t.into())
}

pub(super) fn parse_time(text: &str) -> Result<OffsetDateTime, Failure> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| Failure::new(400, "InvalidHeaderValue", format!("`{text}` is not a time")))
}

pub(super) fn metadata_of(call: &Call) -> BTreeMap<String, String> {
    call.headers
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().strip_prefix("x-ms-meta-")?.to_owned(), v.to_str().ok()?.to_owned())))
        .collect()
}

pub(super) fn with_metadata(mut answer: Answer, metadata: &BTreeMap<String, String>) -> Answer {
    for (k, v) in metadata {
        answer = answer.with(&format!("x-ms-meta-{k}"), v.clone());
    }
    answer
}

pub(super) fn with_smb(answer: Answer, smb: &Smb, parent: u64) -> Answer {
    answer
        .with("x-ms-file-attributes", smb.attributes.clone())
        .with("x-ms-file-creation-time", smb_time(smb.creation))
        .with("x-ms-file-last-write-time", smb_time(smb.last_write))
        .with("x-ms-file-change-time", smb_time(smb.change))
        .with("x-ms-file-permission-key", smb.permission_key.clone())
        .with("x-ms-file-id", smb.file_id.to_string())
        .with("x-ms-file-parent-id", parent.to_string())
}

/// Attributes as the service keeps them: known names, `|`-separated, in its order.
pub(super) fn attributes(text: &str, directory: bool) -> Result<String, Failure> {
    const KNOWN: [&str; 9] =
        ["ReadOnly", "Hidden", "System", "None", "Directory", "Archive", "Temporary", "Offline", "NotContentIndexed"];
    let mut out = Vec::new();
    for part in text.split('|').map(str::trim).filter(|p| !p.is_empty()) {
        let known = KNOWN
            .iter()
            .find(|k| k.eq_ignore_ascii_case(part))
            .ok_or_else(|| Failure::new(400, "InvalidHeaderValue", format!("`{part}` is not a file attribute")))?;
        if *known != "None" {
            out.push(*known);
        }
    }
    if directory && !out.contains(&"Directory") {
        out.insert(0, "Directory");
    }
    if out.is_empty() {
        out.push(if directory { "Directory" } else { "Archive" });
    }
    let ordered: Vec<&str> = KNOWN.iter().copied().filter(|k| out.contains(k)).collect();
    Ok(ordered.join(" | "))
}

/// Applies the SMB headers of a create or set-properties request (`preserve` keeps, `now` sets).
pub(super) fn apply_smb(
    call: &Call,
    smb: &mut Smb,
    directory: bool,
    share_permissions: &mut std::collections::HashMap<String, String>,
) -> Result<(), Failure> {
    let now = OffsetDateTime::now_utc();
    if let Some(a) = call.header("x-ms-file-attributes").filter(|a| !a.eq_ignore_ascii_case("preserve")) {
        smb.attributes = attributes(a, directory)?;
    }
    for (name, field) in [
        ("x-ms-file-creation-time", &mut smb.creation),
        ("x-ms-file-last-write-time", &mut smb.last_write),
        ("x-ms-file-change-time", &mut smb.change),
    ] {
        match call.header(name) {
            None => {}
            Some(v) if v.eq_ignore_ascii_case("preserve") => {}
            Some(v) if v.eq_ignore_ascii_case("now") => *field = now,
            Some(v) => *field = parse_time(v)?,
        }
    }
    match (call.header("x-ms-file-permission"), call.header("x-ms-file-permission-key")) {
        (Some(_), Some(_)) => {
            return Err(Failure::new(400, "InvalidHeaderValue", "give x-ms-file-permission or its key, not both"));
        }
        (Some(p), None) if p.eq_ignore_ascii_case("inherit") || p.eq_ignore_ascii_case("preserve") => {}
        (Some(sddl), None) => {
            if sddl.len() > 8 * 1024 {
                return Err(Failure::new(400, "InvalidHeaderValue", "a permission over 8 KiB must be created first"));
            }
            smb.permission_key = permission_key(share_permissions, sddl);
        }
        (None, Some(key)) => {
            if !share_permissions.contains_key(key) {
                return Err(Failure::new(400, "InvalidHeaderValue", "no permission has that key in this share"));
            }
            smb.permission_key = key.to_owned();
        }
        (None, None) => {}
    }
    Ok(())
}

/// The key of `sddl` in a share (made on first use, the same for the same descriptor).
pub(super) fn permission_key(permissions: &mut std::collections::HashMap<String, String>, sddl: &str) -> String {
    if let Some((k, _)) = permissions.iter().find(|(_, v)| v.as_str() == sddl) {
        return k.clone();
    }
    let digest = ferry_store::md5_of(sddl.as_bytes());
    let key = format!("{}*{}", u64::from_le_bytes(digest[..8].try_into().unwrap_or_default()), permissions.len() + 1);
    permissions.insert(key.clone(), sddl.to_owned());
    key
}

pub(super) fn content_headers(call: &Call) -> ContentHeaders {
    let get = |n: &str| call.header(n).map(str::to_owned);
    ContentHeaders {
        content_type: get("x-ms-content-type"),
        content_encoding: get("x-ms-content-encoding"),
        content_language: get("x-ms-content-language"),
        content_disposition: get("x-ms-content-disposition"),
        cache_control: get("x-ms-cache-control"),
        content_md5: get("x-ms-content-md5"),
    }
}

/// Routes a request to its operation.
pub(crate) fn dispatch(account: &mut Account, call: &Call) -> Result<Answer, Failure> {
    let restype = call.param("restype");
    let comp = call.param("comp");
    let Some(share_name) = call.share.clone() else {
        return match (&call.method, comp) {
            (&Method::GET, Some("list")) => Ok(xml_answer(xml::shares(account, call))),
            (&Method::GET, Some("properties")) => {
                Ok(xml_answer("<?xml version=\"1.0\" encoding=\"utf-8\"?><StorageServiceProperties/>".into()))
            }
            _ => Err(Failure::new(400, "UnsupportedHttpVerb", "not an operation on the account")),
        };
    };
    if restype == Some("share") && call.path.is_empty() {
        return share_op(account, call, &share_name, comp);
    }
    let etag = account.etag();
    let file_id = account.file_id();
    let fresh_common = account.common("Archive");
    let share = account
        .shares
        .get_mut(&share_name)
        .ok_or_else(|| Failure::new(404, "ShareNotFound", "the share does not exist"))?;
    if restype == Some("directory") {
        return directory_op(share, call, comp, fresh_common);
    }
    let _ = file_id;
    super::files::file_op(share, call, comp, etag, fresh_common)
}

pub(super) fn xml_answer(body: String) -> Answer {
    Answer::ok(200).with("content-type", "application/xml").body(body.into_bytes())
}

fn share_op(account: &mut Account, call: &Call, name: &str, comp: Option<&str>) -> Result<Answer, Failure> {
    let missing = || Failure::new(404, "ShareNotFound", "the share does not exist");
    match (&call.method, comp) {
        (&Method::PUT, None) => {
            if account.shares.contains_key(name) {
                return Err(Failure::new(409, "ShareAlreadyExists", "the share exists"));
            }
            let quota = call.header("x-ms-share-quota").and_then(|q| q.parse().ok()).unwrap_or(5120);
            let share = account.new_share(quota, metadata_of(call));
            let answer =
                Answer::ok(201).with("etag", share.etag.clone()).with("last-modified", http_date(share.last_modified));
            account.shares.insert(name.to_owned(), share);
            Ok(answer)
        }
        (&Method::GET | &Method::HEAD, None) => {
            let share = account.shares.get(name).ok_or_else(missing)?;
            let answer = Answer::ok(200)
                .with("etag", share.etag.clone())
                .with("last-modified", http_date(share.last_modified))
                .with("x-ms-share-quota", share.quota_gb.to_string());
            Ok(with_metadata(answer, &share.metadata))
        }
        (&Method::DELETE, None) => {
            account.shares.remove(name).ok_or_else(missing)?;
            Ok(Answer::ok(202))
        }
        (&Method::PUT, Some("metadata")) => {
            let share = account.shares.get_mut(name).ok_or_else(missing)?;
            share.metadata = metadata_of(call);
            Ok(Answer::ok(200))
        }
        (&Method::PUT, Some("properties")) => {
            let share = account.shares.get_mut(name).ok_or_else(missing)?;
            if let Some(q) = call.header("x-ms-share-quota").and_then(|q| q.parse().ok()) {
                share.quota_gb = q;
            }
            Ok(Answer::ok(200))
        }
        (&Method::PUT, Some("filepermission")) => {
            let share = account.shares.get_mut(name).ok_or_else(missing)?;
            let body: serde_json::Value = serde_json::from_slice(&call.body)
                .map_err(|_| Failure::new(400, "InvalidXmlDocument", "the body is not a permission (JSON)"))?;
            let sddl = body["permission"].as_str().ok_or_else(|| Failure::new(400, "InvalidInput", "no permission"))?;
            let key = permission_key(&mut share.permissions, sddl);
            Ok(Answer::ok(201).with("x-ms-file-permission-key", key))
        }
        (&Method::GET, Some("filepermission")) => {
            let share = account.shares.get(name).ok_or_else(missing)?;
            let key = call.header("x-ms-file-permission-key").unwrap_or_default();
            let sddl = share
                .permissions
                .get(key)
                .ok_or_else(|| Failure::new(404, "ResourceNotFound", "no permission has that key"))?;
            let body = serde_json::json!({ "permission": sddl }).to_string().into_bytes();
            Ok(Answer::ok(200).with("content-type", "application/json").body(body))
        }
        _ => Err(Failure::new(400, "UnsupportedHttpVerb", "not a share operation")),
    }
}

fn directory_op(
    share: &mut super::tree::Share,
    call: &Call,
    comp: Option<&str>,
    fresh: super::tree::Common,
) -> Result<Answer, Failure> {
    let path = call.segments();
    let not_found = || Failure::new(404, "ResourceNotFound", "the directory does not exist");
    match (&call.method, comp) {
        (&Method::PUT, None) => {
            let (name, parent) =
                path.split_last().ok_or_else(|| Failure::new(409, "ResourceAlreadyExists", "the root exists"))?;
            check_name(name, call)?;
            let parent_id = share
                .root
                .dir(parent)
                .map(|d| d.common.smb.file_id)
                .ok_or_else(|| Failure::new(404, "ParentNotFound", "the parent directory does not exist"))?;
            let mut common = fresh;
            common.smb.attributes = "Directory".into();
            common.metadata = metadata_of(call);
            apply_smb(call, &mut common.smb, true, &mut share.permissions)?;
            let dir = share.root.dir_mut(parent).ok_or_else(not_found)?;
            if dir.children.contains_key(*name) {
                return Err(Failure::new(409, "ResourceAlreadyExists", "the directory exists"));
            }
            let answer = with_smb(Answer::ok(201), &common.smb, parent_id)
                .with("etag", common.etag.clone())
                .with("last-modified", http_date(common.last_modified))
                .with("x-ms-request-server-encrypted", "true");
            dir.children
                .insert((*name).to_owned(), Node::Directory(Box::new(Directory { common, children: BTreeMap::new() })));
            Ok(answer)
        }
        (&Method::GET | &Method::HEAD, None) => {
            let dir = share.root.dir(&path).ok_or_else(not_found)?;
            let answer = with_smb(Answer::ok(200), &dir.common.smb, 0)
                .with("etag", dir.common.etag.clone())
                .with("last-modified", http_date(dir.common.last_modified));
            Ok(with_metadata(answer, &dir.common.metadata))
        }
        (&Method::PUT, Some("properties")) => {
            let dir = share.root.dir_mut(&path).ok_or_else(not_found)?;
            let mut smb = dir.common.smb.clone();
            apply_smb(call, &mut smb, true, &mut share.permissions)?;
            let dir = share.root.dir_mut(&path).ok_or_else(not_found)?;
            dir.common.smb = smb;
            Ok(with_smb(Answer::ok(200), &dir.common.smb, 0))
        }
        (&Method::PUT, Some("metadata")) => {
            let dir = share.root.dir_mut(&path).ok_or_else(not_found)?;
            dir.common.metadata = metadata_of(call);
            Ok(Answer::ok(200))
        }
        (&Method::DELETE, None) => {
            let (name, parent) =
                path.split_last().ok_or_else(|| Failure::new(400, "InvalidUri", "the root cannot be deleted"))?;
            let dir = share.root.dir_mut(parent).ok_or_else(not_found)?;
            match dir.children.get(*name) {
                Some(Node::Directory(d)) if !d.children.is_empty() => {
                    Err(Failure::new(409, "DirectoryNotEmpty", "the directory is not empty"))
                }
                Some(Node::Directory(_)) => {
                    dir.children.remove(*name);
                    Ok(Answer::ok(202))
                }
                _ => Err(not_found()),
            }
        }
        (&Method::GET, Some("list")) => {
            let dir = share.root.dir(&path).ok_or_else(not_found)?;
            Ok(xml_answer(xml::listing(dir, call)))
        }
        _ => Err(Failure::new(400, "UnsupportedHttpVerb", "not a directory operation")),
    }
}

/// Names ending in `.` need `x-ms-allow-trailing-dot` (the service trims them otherwise).
pub(super) fn check_name(name: &str, call: &Call) -> Result<(), Failure> {
    let allowed = call.header("x-ms-allow-trailing-dot").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if name.ends_with('.') && !allowed {
        return Err(Failure::new(
            400,
            "InvalidResourceName",
            "a name ending in `.` needs x-ms-allow-trailing-dot: true",
        ));
    }
    Ok(())
}
