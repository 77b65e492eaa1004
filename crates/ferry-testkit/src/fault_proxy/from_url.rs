//! What Azure does that Azurite will not: fetch a server-side copy's source from another host.
//!
//! Azurite answers Copy Blob From URL and Put Block From URL only for sources on itself. In
//! front of it, a [`super::FaultProxy::from_url`] proxy performs the fetch the real service
//! would (a GET of the source URL, with the block's range), and hands Azurite an ordinary write
//! of the bytes (Put Blob or Put Block); a source that does not answer 2xx gets Azure's error
//! shape, `CannotVerifyCopySource` with `x-ms-copy-source-status-code`. The destination request
//! must be signed by a SAS (its headers and body change on the way).

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::{Answer, RequestHead, header, read_body, read_head};

/// The copy-source headers a plain write must not carry.
const COPY_HEADERS: [&str; 6] = [
    "x-ms-copy-source",
    "x-ms-source-range",
    "x-ms-requires-sync",
    "x-ms-copy-source-blob-properties",
    "x-ms-copy-source-authorization",
    "content-length",
];

/// The content headers a source's GET answer gives the blob, as Azure keeps them.
const CONTENT_HEADERS: [(&str, &str); 5] = [
    ("content-type", "x-ms-blob-content-type"),
    ("content-encoding", "x-ms-blob-content-encoding"),
    ("content-language", "x-ms-blob-content-language"),
    ("content-disposition", "x-ms-blob-content-disposition"),
    ("cache-control", "x-ms-blob-cache-control"),
];

/// A write that names a copy source on another host, made into a plain one: the new head and
/// body to send upstream, and whether it was a synchronous Copy Blob From URL. `Err` holds the
/// answer to give at once (the source refused or could not be read). `None`: not such a write.
pub(super) async fn fetched_write(
    head: &RequestHead,
    upstream_port: u16,
    state: &super::Shared,
) -> std::io::Result<Option<Result<(RequestHead, Vec<u8>, bool), Vec<u8>>>> {
    let text = String::from_utf8_lossy(&head.raw).into_owned();
    let lines: Vec<String> = text.split("\r\n").map(str::to_owned).collect();
    let Some(source) = header(&lines, "x-ms-copy-source").map(str::to_owned) else { return Ok(None) };
    let Ok(url) = url::Url::parse(&source) else { return Ok(None) };
    if !head.method.eq_ignore_ascii_case("PUT") || url.port() == Some(upstream_port) {
        return Ok(None);
    }
    let range = header(&lines, "x-ms-source-range").map(str::to_owned);
    let sync_copy = header(&lines, "x-ms-requires-sync").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let keep_properties = header(&lines, "x-ms-copy-source-blob-properties").is_none_or(|v| v != "false");
    if let Some(delay) = state.next_fetch_delay() {
        tokio::time::sleep(delay).await;
    }
    let fetched = match fetch(&url, range.as_deref()).await {
        Ok(fetched) => fetched,
        // Never reached: Azure's answer carries no source status.
        Err(_) => return Ok(Some(Err(cannot_verify(404, None)))),
    };
    let (status, source_lines, body) = fetched;
    if !(200..300).contains(&status) {
        return Ok(Some(Err(cannot_verify(status, Some(status)))));
    }
    let mut out: Vec<String> = lines
        .iter()
        .filter(|l| !l.is_empty())
        .filter(|l| {
            let name = l.split(':').next().unwrap_or("").trim().to_ascii_lowercase();
            !COPY_HEADERS.contains(&name.as_str())
        })
        .cloned()
        .collect();
    if sync_copy {
        out.push("x-ms-blob-type: BlockBlob".to_owned());
        if keep_properties {
            for (from, to) in CONTENT_HEADERS {
                if let Some(value) = header(&source_lines, from) {
                    out.push(format!("{to}: {value}"));
                }
            }
        }
    }
    out.push(format!("Content-Length: {}", body.len()));
    let raw = format!("{}\r\n\r\n", out.join("\r\n")).into_bytes();
    let plain = RequestHead {
        raw,
        method: head.method.clone(),
        target: head.target.clone(),
        content_length: Some(body.len() as u64),
        chunked: false,
    };
    Ok(Some(Ok((plain, body, sync_copy))))
}

/// Azurite's answer to the plain Put Blob, as Azure answers a synchronous copy: 202 with
/// `x-ms-copy-status: success`.
pub(super) fn as_sync_copy(mut answer: Answer) -> Answer {
    let text = String::from_utf8_lossy(&answer.head).into_owned();
    if text.starts_with("HTTP/1.1 201") {
        let rest = text.split_once("\r\n").map_or("", |(_, r)| r);
        answer.head =
            format!("HTTP/1.1 202 Accepted\r\nx-ms-copy-status: success\r\nx-ms-copy-id: ferry-from-url\r\n{rest}")
                .into_bytes();
    }
    answer
}

/// GETs `url` (loopback, plain HTTP) with the given `Range`: status, header lines, body.
async fn fetch(url: &url::Url, range: Option<&str>) -> std::io::Result<(u16, Vec<String>, Vec<u8>)> {
    let host = url.host_str().unwrap_or("127.0.0.1");
    let port = url.port_or_known_default().unwrap_or(80);
    let (read, mut write) = TcpStream::connect((host, port)).await?.into_split();
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let range = range.map(|r| format!("Range: {r}\r\n")).unwrap_or_default();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{range}Connection: close\r\n\r\n");
    write.write_all(request.as_bytes()).await?;
    let mut reader = BufReader::new(read);
    let Some((_, lines)) = read_head(&mut reader).await? else {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    };
    let status = lines.first().and_then(|l| l.split_whitespace().nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
    let length = header(&lines, "content-length").and_then(|v| v.parse().ok());
    let chunked = header(&lines, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let framed = read_body(&mut reader, length, chunked, length.is_none() && !chunked).await?;
    let body = if chunked { crate::versioning::dechunk(&framed) } else { framed };
    Ok((status, lines, body))
}

/// Azure's answer when it could not read a copy source.
fn cannot_verify(status: u16, source_status: Option<u16>) -> Vec<u8> {
    let body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>CannotVerifyCopySource</Code><Message>Could not verify the copy source within the specified time.</Message></Error>";
    let source = source_status.map(|s| format!("x-ms-copy-source-status-code: {s}\r\n")).unwrap_or_default();
    format!(
        "HTTP/1.1 {status} Copy Source Refused\r\nx-ms-error-code: CannotVerifyCopySource\r\n{source}Content-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
