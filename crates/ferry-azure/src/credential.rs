//! How requests are authorised: SAS, Shared Key, a bearer token, or nothing.
//!
//! Shared Key signing follows the public "Authorize with Shared Key" specification for the Blob
//! service (version 2015-02-21 and later, where a zero Content-Length signs as empty). Secrets
//! stay inside [`Secret`] values and never reach a message or a log.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use ferry_core::{SasToken, Secret};
use hmac::{Hmac, KeyInit, Mac};
use reqwest::header::HeaderMap;
use sha2::Sha256;

/// A source of OAuth bearer tokens (Entra ID). Implementations keep their token in a
/// [`ferry_http::TokenCache`], so it is refreshed before it expires and once after a 401.
#[async_trait::async_trait]
pub trait TokenSource: Send + Sync + fmt::Debug {
    /// A currently valid access token for Azure Storage.
    async fn token(&self) -> Result<Secret, String>;

    /// The service refused the token: forget it. `true` when a fresh one may be fetched (the
    /// request is then sent once more).
    fn invalidate(&self) -> bool {
        false
    }

    /// Whose tokens these are, for messages (e.g. "object id …, tenant …"), once one was issued.
    fn identity(&self) -> Option<String> {
        None
    }
}

/// An account name and its key, for Shared Key signing.
#[derive(Clone)]
pub struct SharedKey {
    account: String,
    key: Vec<u8>,
}

impl SharedKey {
    /// A key for `account`; `key_base64` is the account key as the portal shows it.
    pub fn new(account: impl Into<String>, key_base64: &Secret) -> Result<Self, CredentialError> {
        let key = base64::engine::general_purpose::STANDARD.decode(key_base64.expose().trim()).map_err(|_| {
            CredentialError("the account key is not valid base64; copy it again from the portal".into())
        })?;
        Ok(Self { account: account.into(), key })
    }

    /// The account the key belongs to.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// HMAC-SHA256 of `message` with the key, base64-encoded.
    pub fn sign(&self, message: &str) -> String {
        // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(message.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }

    /// The `Authorization` header value for a request.
    pub fn authorization(&self, method: &str, url: &url::Url, headers: &HeaderMap) -> String {
        let to_sign = string_to_sign(&self.account, method, url, headers);
        format!("SharedKey {}:{}", self.account, self.sign(&to_sign))
    }
}

impl fmt::Debug for SharedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SharedKey({}, key=REDACTED)", self.account)
    }
}

/// How a request to one account is authorised.
#[derive(Clone, Debug)]
pub enum Credential {
    /// A SAS appended to every request's query.
    Sas(SasToken),
    /// Shared Key request signing.
    SharedKey(SharedKey),
    /// A bearer token from a token source.
    Token(Arc<dyn TokenSource>),
    /// A SAS renewed by a command before it expires and when it is refused.
    RenewableSas(Arc<crate::sas_command::SasCommand>),
    /// No authorisation (public containers).
    Anonymous,
}

impl Credential {
    /// A short description for messages (never the secret).
    pub fn describe(&self) -> &'static str {
        match self {
            Self::Sas(_) => "SAS token",
            Self::SharedKey(_) => "shared key",
            Self::Token(_) => "Entra ID token",
            Self::RenewableSas(_) => "SAS token (renewed by its command)",
            Self::Anonymous => "anonymous access",
        }
    }
}

/// A credential that cannot be used as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CredentialError(pub String);

/// The well-known key of the storage emulator's `devstoreaccount1`, documented publicly by
/// Microsoft; `UseDevelopmentStorage=true` means this account and key.
pub const DEVELOPMENT_ACCOUNT: &str = "devstoreaccount1";
/// The emulator's documented public key (not a secret).
pub const DEVELOPMENT_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// The parts of a storage connection string that Ferry uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionString {
    /// `AccountName`.
    pub account: Option<String>,
    /// `AccountKey`.
    pub key: Option<Secret>,
    /// `SharedAccessSignature`.
    pub sas: Option<SasToken>,
    /// `BlobEndpoint`.
    pub blob_endpoint: Option<String>,
}

impl ConnectionString {
    /// Parses `Key=Value;Key=Value` (keys case-insensitive; values may contain `=`).
    pub fn parse(text: &str) -> Result<Self, CredentialError> {
        let mut cs = Self { account: None, key: None, sas: None, blob_endpoint: None };
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').ok_or_else(|| {
                CredentialError("the connection string is malformed: every part must be `Name=Value`".into())
            })?;
            match name.to_ascii_lowercase().as_str() {
                "accountname" => cs.account = Some(value.to_owned()),
                "accountkey" => cs.key = Some(Secret::new(value)),
                "sharedaccesssignature" => cs.sas = SasToken::parse(value),
                "blobendpoint" => cs.blob_endpoint = Some(value.to_owned()),
                "usedevelopmentstorage" if value.eq_ignore_ascii_case("true") => {
                    cs.account = Some(DEVELOPMENT_ACCOUNT.into());
                    cs.key = Some(Secret::new(DEVELOPMENT_KEY));
                    cs.blob_endpoint = Some(format!("http://127.0.0.1:10000/{DEVELOPMENT_ACCOUNT}"));
                }
                _ => {}
            }
        }
        Ok(cs)
    }
}

/// The headers whose values are signed positionally, in order. `Date` is always empty because
/// Ferry sends `x-ms-date`.
const STANDARD_HEADERS: [&str; 11] = [
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "range",
];

/// Builds the Shared Key string-to-sign for a Blob request.
pub fn string_to_sign(account: &str, method: &str, url: &url::Url, headers: &HeaderMap) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(method);
    out.push('\n');
    for name in STANDARD_HEADERS {
        let value = headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
        // Since 2015-02-21 a zero length is signed as the empty string.
        if !(name == "content-length" && value == "0") {
            out.push_str(value);
        }
        out.push('\n');
    }
    let mut ms: Vec<(String, String)> = headers
        .iter()
        .filter(|(n, _)| n.as_str().starts_with("x-ms-"))
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").trim().to_owned()))
        .collect();
    ms.sort();
    for (name, value) in ms {
        out.push_str(&name);
        out.push(':');
        out.push_str(&value);
        out.push('\n');
    }
    out.push('/');
    out.push_str(account);
    out.push_str(url.path());
    let mut params: Vec<(String, String)> =
        url.query_pairs().map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned())).collect();
    params.sort();
    let mut i = 0;
    while i < params.len() {
        let name = params[i].0.clone();
        let mut values = Vec::new();
        while i < params.len() && params[i].0 == name {
            values.push(params[i].1.clone());
            i += 1;
        }
        out.push('\n');
        out.push_str(&name);
        out.push(':');
        out.push_str(&values.join(","));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(
                HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    fn dev_key(account: &str) -> SharedKey {
        SharedKey::new(account, &Secret::new(DEVELOPMENT_KEY)).unwrap()
    }

    const DATE: &str = "Mon, 23 Nov 2026 21:00:00 GMT";

    /// Expected values were produced by the Python `azure-storage-blob` 12.31.1 SDK's own
    /// `SharedKeyCredentialPolicy` signing the same requests: an independent implementation.
    /// Account, method, URL, headers, and the expected `Authorization` value.
    type SigningCase<'a> = (&'a str, &'a str, &'a str, Vec<(&'a str, &'a str)>, &'a str);

    #[test]
    fn signatures_match_the_python_sdk() {
        let cases: [SigningCase<'_>; 4] = [
            (
                "devstoreaccount1",
                "PUT",
                "http://127.0.0.1:10000/devstoreaccount1/box/a%20b%2Bc%26d?comp=block&blockid=QUJD%3D%3D",
                vec![
                    ("x-ms-date", DATE),
                    ("x-ms-version", "2025-01-05"),
                    ("Content-Length", "3"),
                    ("Content-MD5", "kAFQmDzST7DWlj99KOF/cg=="),
                ],
                "SharedKey devstoreaccount1:BMQrpdHobp6ecNSljuAcenvLRMgI1VmbOQVxPU806G0=",
            ),
            (
                "devstoreaccount1",
                "GET",
                "http://127.0.0.1:10000/devstoreaccount1/box?restype=container&comp=list&prefix=dir%2F&include=metadata&maxresults=5000",
                vec![("x-ms-date", DATE), ("x-ms-version", "2025-01-05")],
                "SharedKey devstoreaccount1:6c0JHYxF2uPyaaKHQ98dKzFCa/eC3EaN4obxJIFiJ7M=",
            ),
            (
                "myacct",
                "PUT",
                "https://myacct.blob.core.windows.net/box/caf%C3%A9.txt",
                vec![
                    ("x-ms-date", DATE),
                    ("x-ms-version", "2025-01-05"),
                    ("x-ms-blob-type", "BlockBlob"),
                    ("Content-Length", "0"),
                    ("Content-Type", "text/plain"),
                    ("x-ms-meta-Color", "blue"),
                ],
                "SharedKey myacct:smoBFieDTXwozefelIPL+lllb5lpkKYoERYH/7oiLLg=",
            ),
            (
                "devstoreaccount1",
                "GET",
                "http://127.0.0.1:10000/devstoreaccount1/box/blob",
                vec![("x-ms-date", DATE), ("x-ms-version", "2025-01-05"), ("x-ms-range", "bytes=0-99")],
                "SharedKey devstoreaccount1:+upZX9ISo9Gmh0jfY5kGy/mWaM4RfT1rtbZwlJ9LW08=",
            ),
        ];
        for (account, method, url, hdrs, expected) in cases {
            let url = url::Url::parse(url).unwrap();
            let got = dev_key(account).authorization(method, &url, &headers(&hdrs));
            assert_eq!(got, expected, "{method} {url}");
        }
    }

    #[test]
    fn string_to_sign_layout() {
        let url = url::Url::parse("http://h/acct/box?comp=list&restype=container").unwrap();
        let s = string_to_sign("acct", "GET", &url, &headers(&[("x-ms-version", "v"), ("x-ms-date", "d")]));
        assert_eq!(
            s,
            "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:d\nx-ms-version:v\n/acct/acct/box\ncomp:list\nrestype:container"
        );
    }

    #[test]
    fn connection_strings() {
        let cs = ConnectionString::parse(
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=abc==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;",
        )
        .unwrap();
        assert_eq!(cs.account.as_deref(), Some("devstoreaccount1"));
        assert_eq!(cs.key.as_ref().map(Secret::expose), Some("abc=="));
        let dev = ConnectionString::parse("UseDevelopmentStorage=true").unwrap();
        assert_eq!(dev.account.as_deref(), Some(DEVELOPMENT_ACCOUNT));
        assert!(ConnectionString::parse("garbage").is_err());
    }

    #[test]
    fn bad_keys_are_refused_and_keys_never_print() {
        assert!(SharedKey::new("a", &Secret::new("not base64!!")).is_err());
        let k = dev_key("a");
        assert!(!format!("{k:?}").contains("Eby8"));
    }
}
