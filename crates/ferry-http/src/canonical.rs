//! The canonical request that AWS Signature Version 4 and Google's V4 signing (GOOG4) both sign:
//! its time stamps, its canonical query and its host line. The two schemes differ only in how
//! the string to sign is signed (HMAC for AWS, RSA for a Google service account).

use std::time::SystemTime;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use url::Url;

/// Bytes a query name or value keeps literal: the unreserved set.
pub const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// `20130524T000000Z` and `20130524` for `at` (UTC).
pub fn stamps(at: SystemTime) -> (String, String) {
    let t = time::OffsetDateTime::from(at);
    let date = format!("{:04}{:02}{:02}", t.year(), u8::from(t.month()), t.day());
    (format!("{date}T{:02}{:02}{:02}Z", t.hour(), t.minute(), t.second()), date)
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The canonical query: every pair decoded, encoded again with only the unreserved set literal,
/// sorted.
pub fn canonical_query(url: &Url) -> String {
    let mut pairs: Vec<(String, String)> = url
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let decode = |s: &str| percent_decode_str(&s.replace('+', "%20")).decode_utf8_lossy().into_owned();
            let encode = |s: &str| utf8_percent_encode(s, UNRESERVED).to_string();
            (encode(&decode(k)), encode(&decode(v)))
        })
        .collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// `host[:port]` as the request's Host header carries it.
pub fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// The canonical request of a presigned GET of `url` (its query already holds every parameter
/// but the signature), signing only the host header.
pub fn presigned_get(url: &Url) -> String {
    format!("GET\n{}\n{}\nhost:{}\n\nhost\nUNSIGNED-PAYLOAD", url.path(), canonical_query(url), host_header(url))
}
