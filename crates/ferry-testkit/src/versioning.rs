//! Blob versioning, which Azurite lacks, played by the fault proxy in front of it with
//! snapshots: a test takes a snapshot after each write, so the snapshots are the blob's versions
//! and the newest of them is the current one.
//!
//! On the way in, `versionid=` becomes `snapshot=` and a listing's `include=versions` becomes
//! `include=snapshots`. On the way out, such a listing shows each snapshot as a version
//! (`<VersionId>`), except the newest, which the base blob stands for, with that id and
//! `<IsCurrentVersion>true</IsCurrentVersion>`, as Azure lists a versioned blob. Requests must be
//! signed by a SAS (which covers no other query parameter), not Shared Key.
//!
//! Soft delete, which Azurite lacks too, is played the same way: a blob or snapshot with the
//! metadata `softdeleted=true` is soft-deleted. A listing shows it, marked `<Deleted>true</Deleted>`,
//! only when it asks for `include=deleted` (which is not passed on); `deletetype=permanent` on a
//! delete is dropped, so the purge deletes the snapshot.

use std::collections::HashMap;

/// What a request asks of the play.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Rewritten {
    /// The request target to send on.
    pub(crate) target: String,
    /// It lists blobs in a container.
    pub(crate) lists: bool,
    /// It lists versions (`include=versions`).
    pub(crate) versions: bool,
    /// It lists soft-deleted blobs (`include=deleted`).
    pub(crate) deleted: bool,
}

/// The request target with versions turned into snapshots and soft delete taken out.
pub(crate) fn request_target(target: &str) -> Rewritten {
    let Some((path, query)) = target.split_once('?') else {
        return Rewritten { target: target.to_owned(), ..Rewritten::default() };
    };
    let mut asked =
        Rewritten { lists: query.contains("comp=list") && query.contains("restype=container"), ..Rewritten::default() };
    let params: Vec<String> = query
        .split('&')
        .filter(|param| *param != "deletetype=permanent")
        .map(|param| match param.split_once('=') {
            Some(("versionid", value)) => format!("snapshot={value}"),
            Some(("include", value)) => {
                let decoded = value.replace("%2C", ",").replace("%2c", ",");
                let mut wanted: Vec<&str> = Vec::new();
                for item in decoded.split(',') {
                    let item = match item.to_ascii_lowercase().as_str() {
                        "versions" => {
                            asked.versions = true;
                            "snapshots"
                        }
                        "deleted" => {
                            asked.deleted = true;
                            continue;
                        }
                        _ => item,
                    };
                    if !wanted.contains(&item) {
                        wanted.push(item);
                    }
                }
                format!("include={}", wanted.join("%2C"))
            }
            _ => param.to_owned(),
        })
        .collect();
    asked.target = format!("{path}?{}", params.join("&"));
    asked
}

/// A listing's XML as the play shows it (see the module's notes): soft-deleted entries marked
/// or left out, and, when `asked.versions`, snapshots shown as versions.
pub(crate) fn listing(xml: &str, asked: &Rewritten) -> String {
    let (Some(start), Some(end)) = (xml.find("<Blobs>"), xml.rfind("</Blobs>")) else { return xml.to_owned() };
    let inner = &xml[start + "<Blobs>".len()..end];
    let mut blobs: Vec<&str> = Vec::new();
    let mut rest = inner;
    let mut others = String::new();
    while let Some(open) = rest.find("<Blob>") {
        others.push_str(&rest[..open]);
        let close = rest[open..].find("</Blob>").map_or(rest.len(), |c| open + c + "</Blob>".len());
        blobs.push(&rest[open..close]);
        rest = &rest[close..];
    }
    others.push_str(rest);
    let blobs: Vec<String> = blobs
        .into_iter()
        .filter_map(|blob| {
            let soft = element(blob, "softdeleted").is_some_and(|v| v == "true");
            match (soft, asked.deleted) {
                (false, _) => Some(blob.to_owned()),
                (true, true) => Some(blob.replacen("</Name>", "</Name><Deleted>true</Deleted>", 1)),
                (true, false) => None,
            }
        })
        .collect();
    if !asked.versions {
        return format!("{}<Blobs>{}{others}</Blobs>{}", &xml[..start], blobs.concat(), &xml[end + "</Blobs>".len()..]);
    }
    // The newest snapshot of each name is its current version.
    let mut newest: HashMap<&str, &str> = HashMap::new();
    for blob in &blobs {
        if let (Some(name), Some(snapshot)) = (element(blob, "Name"), element(blob, "Snapshot")) {
            let slot = newest.entry(name).or_insert(snapshot);
            if snapshot > *slot {
                *slot = snapshot;
            }
        }
    }
    // Each name's versions in order of their ids (oldest first), as Azure lists them.
    let mut order: HashMap<&str, usize> = HashMap::new();
    let mut shown: Vec<(usize, &str, String)> = Vec::new();
    for blob in &blobs {
        let Some(name) = element(blob, "Name") else { continue };
        let next = order.len();
        let rank = *order.entry(name).or_insert(next);
        match (element(blob, "Snapshot"), newest.get(name)) {
            (Some(snapshot), Some(current)) if snapshot == *current => {}
            (Some(snapshot), _) => shown.push((
                rank,
                snapshot,
                blob.replace(
                    &format!("<Snapshot>{snapshot}</Snapshot>"),
                    &format!("<VersionId>{snapshot}</VersionId>"),
                ),
            )),
            (None, Some(current)) => shown.push((
                rank,
                current,
                blob.replacen(
                    "</Name>",
                    &format!("</Name><VersionId>{current}</VersionId><IsCurrentVersion>true</IsCurrentVersion>"),
                    1,
                ),
            )),
            (None, None) => shown.push((rank, "", (*blob).to_owned())),
        }
    }
    shown.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let shown: String = shown.into_iter().map(|(_, _, xml)| xml).collect();
    format!("{}<Blobs>{shown}{others}</Blobs>{}", &xml[..start], &xml[end + "</Blobs>".len()..])
}

/// The text of the first `<tag>` in `xml`.
fn element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(&xml[start..end])
}

/// A chunked body's data, without the framing.
pub(crate) fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut data = Vec::new();
    while let Some(line_end) = body.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&body[..line_end]);
        let size = usize::from_str_radix(size_text.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        let end = (start + size).min(body.len());
        data.extend_from_slice(&body[start..end]);
        body = &body[(end + 2).min(body.len())..];
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_become_snapshots_on_the_way_in() {
        let asked = request_target("/acct/c?restype=container&comp=list&include=metadata%2Cversions%2Cdeleted&prefix=");
        assert_eq!(asked.target, "/acct/c?restype=container&comp=list&include=metadata%2Csnapshots&prefix=");
        assert!(asked.lists && asked.versions && asked.deleted);
        let asked = request_target("/acct/c/b.txt?versionid=2026-01-01T00:00:00.0000001Z&deletetype=permanent&sig=x");
        assert_eq!(asked.target, "/acct/c/b.txt?snapshot=2026-01-01T00:00:00.0000001Z&sig=x");
        assert!(!asked.lists && !asked.versions);
    }

    #[test]
    fn snapshots_are_shown_as_versions_and_the_newest_is_the_base() {
        let xml = "<E><Blobs><Blob><Name>a</Name><Snapshot>1</Snapshot><P/></Blob><Blob><Name>a</Name><Snapshot>2</Snapshot><P/></Blob><Blob><Name>a</Name><P/></Blob><Blob><Name>b</Name><P/></Blob></Blobs><NextMarker/></E>";
        let versions = Rewritten { lists: true, versions: true, ..Rewritten::default() };
        assert_eq!(
            listing(xml, &versions),
            "<E><Blobs><Blob><Name>a</Name><VersionId>1</VersionId><P/></Blob><Blob><Name>a</Name><VersionId>2</VersionId><IsCurrentVersion>true</IsCurrentVersion><P/></Blob><Blob><Name>b</Name><P/></Blob></Blobs><NextMarker/></E>"
        );
        let soft = "<E><Blobs><Blob><Name>a</Name><Snapshot>1</Snapshot><Metadata><softdeleted>true</softdeleted></Metadata></Blob><Blob><Name>a</Name></Blob></Blobs></E>";
        let plain = Rewritten { lists: true, ..Rewritten::default() };
        assert_eq!(listing(soft, &plain), "<E><Blobs><Blob><Name>a</Name></Blob></Blobs></E>");
        let deleted = Rewritten { lists: true, deleted: true, ..Rewritten::default() };
        assert!(
            listing(soft, &deleted)
                .starts_with("<E><Blobs><Blob><Name>a</Name><Deleted>true</Deleted><Snapshot>1</Snapshot>")
        );
        assert_eq!(dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), b"abcde");
    }
}
