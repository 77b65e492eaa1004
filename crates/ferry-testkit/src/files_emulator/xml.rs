//! The XML the File service answers with: share lists, directory listings, range lists.

use std::fmt::Write as _;

use super::Call;
use super::ops::smb_time;
use super::tree::{Account, Directory, Node};

/// Text made safe inside an XML element.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

const HEAD: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>";

/// List Shares.
pub(crate) fn shares(account: &Account, call: &Call) -> String {
    let prefix = call.param("prefix").unwrap_or("");
    let mut out = format!("{HEAD}<EnumerationResults ServiceEndpoint=\"{}\"><Shares>", escape(&call.base));
    for (name, share) in account.shares.iter().filter(|(n, _)| n.starts_with(prefix)) {
        let _ = write!(
            out,
            "<Share><Name>{}</Name><Properties><Last-Modified>{}</Last-Modified><Etag>{}</Etag><Quota>{}</Quota></Properties></Share>",
            escape(name),
            httpdate::fmt_http_date(share.last_modified.into()),
            escape(&share.etag),
            share.quota_gb
        );
    }
    out.push_str("</Shares><NextMarker /></EnumerationResults>");
    out
}

/// List Directories and Files: the entries of `dir` whose names start with `prefix`, from
/// `marker` on (a name: the first one not yet listed), at most `maxresults` (5,000 by default),
/// in name order; `include` adds timestamps, ETags, attributes and permission keys.
pub(crate) fn listing(dir: &Directory, call: &Call) -> String {
    let prefix = call.param("prefix").unwrap_or("");
    let marker = call.param("marker").unwrap_or("");
    let max: usize = call.param("maxresults").and_then(|m| m.parse().ok()).filter(|m| *m > 0).unwrap_or(5000).min(5000);
    let include = call.param("include").unwrap_or("").to_ascii_lowercase();
    let (times, etags, attrs, keys) = (
        include.contains("timestamps"),
        include.contains("etag"),
        include.contains("attributes"),
        include.contains("permissionkey"),
    );
    let share = call.share.as_deref().unwrap_or_default();
    let mut out = format!(
        "{HEAD}<EnumerationResults ServiceEndpoint=\"{}\" ShareName=\"{}\" DirectoryPath=\"{}\">",
        escape(&call.base),
        escape(share),
        escape(&call.path.join("/"))
    );
    if !prefix.is_empty() {
        let _ = write!(out, "<Prefix>{}</Prefix>", escape(prefix));
    }
    if !marker.is_empty() {
        let _ = write!(out, "<Marker>{}</Marker>", escape(marker));
    }
    if call.param("maxresults").is_some() {
        let _ = write!(out, "<MaxResults>{max}</MaxResults>");
    }
    let _ = write!(out, "<DirectoryId>{}</DirectoryId><Entries>", dir.common.smb.file_id);
    let mut entries = dir.children.iter().filter(|(n, _)| n.starts_with(prefix) && n.as_str() >= marker);
    for (name, node) in entries.by_ref().take(max) {
        let (tag, common, size) = match node {
            Node::File(f) => ("File", &f.common, Some(f.data.len())),
            Node::Directory(d) => ("Directory", &d.common, None),
        };
        let _ = write!(out, "<{tag}><FileId>{}</FileId><Name>{}</Name><Properties>", common.smb.file_id, escape(name));
        if let Some(size) = size {
            let _ = write!(out, "<Content-Length>{size}</Content-Length>");
        }
        if times {
            let s = &common.smb;
            let _ = write!(
                out,
                "<CreationTime>{}</CreationTime><LastAccessTime>{}</LastAccessTime><LastWriteTime>{}</LastWriteTime><ChangeTime>{}</ChangeTime><Last-Modified>{}</Last-Modified>",
                smb_time(s.creation),
                smb_time(s.last_write),
                smb_time(s.last_write),
                smb_time(s.change),
                httpdate::fmt_http_date(common.last_modified.into())
            );
        }
        if etags {
            let _ = write!(out, "<Etag>{}</Etag>", escape(&common.etag));
        }
        out.push_str("</Properties>");
        if attrs {
            let _ = write!(out, "<Attributes>{}</Attributes>", escape(&common.smb.attributes));
        }
        if keys {
            let _ = write!(out, "<PermissionKey>{}</PermissionKey>", escape(&common.smb.permission_key));
        }
        let _ = write!(out, "</{tag}>");
    }
    out.push_str("</Entries>");
    match entries.next() {
        Some((next, _)) => {
            let _ = write!(out, "<NextMarker>{}</NextMarker>", escape(next));
        }
        None => out.push_str("<NextMarker />"),
    }
    out.push_str("</EnumerationResults>");
    out
}

/// Get Range List: the written ranges, inclusive ends.
pub(crate) fn ranges(written: &[(u64, u64)]) -> String {
    let mut out = format!("{HEAD}<Ranges>");
    for (start, end) in written {
        let _ = write!(out, "<Range><Start>{start}</Start><End>{}</End></Range>", end - 1);
    }
    out.push_str("</Ranges>");
    out
}
