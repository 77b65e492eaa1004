//! Sending S3 requests: SigV4 on Ferry's HTTP client, and S3's errors read by meaning.

use std::time::SystemTime;

use ferry_core::{ErrorKind, StoreError};
use ferry_http::{Authorizer, HttpClient, HttpConfig, Request, parse_retry_after};
use futures::FutureExt as _;
use futures::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Response};
use url::Url;

use crate::sigv4::{Credentials, EMPTY_SHA256, Signer, UNSIGNED_PAYLOAD};

/// How requests are authorised: signed with a key pair, or anonymous (a public bucket).
#[derive(Debug, Clone)]
pub enum S3Auth {
    /// No credentials: requests go unsigned.
    Anonymous,
    /// SigV4 with this signer.
    Signed(Signer),
}

#[async_trait::async_trait]
impl Authorizer for S3Auth {
    async fn authorize(
        &self,
        method: &Method,
        url: &mut Url,
        headers: &mut HeaderMap,
        _target: &str,
    ) -> Result<(), StoreError> {
        let Self::Signed(signer) = self else { return Ok(()) };
        let payload = match headers.get("x-amz-content-sha256").and_then(|v| v.to_str().ok()) {
            Some(hash) => hash.to_owned(),
            None if [Method::GET, Method::HEAD, Method::DELETE].contains(method) => EMPTY_SHA256.to_owned(),
            None => UNSIGNED_PAYLOAD.to_owned(),
        };
        let present: Vec<(String, String)> = headers
            .iter()
            .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str().to_owned(), v.to_owned())))
            .collect();
        for (name, value) in signer.sign(method.as_str(), url, &present, &payload, SystemTime::now()) {
            let (Ok(name), Ok(mut value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(&value))
            else {
                continue;
            };
            if name == "authorization" || name == "x-amz-security-token" {
                value.set_sensitive(true);
            }
            headers.insert(name, value);
        }
        Ok(())
    }
}

/// An S3 client: a connection pool, a credential and a region.
#[derive(Debug, Clone)]
pub struct S3Client {
    http: HttpClient,
    auth: S3Auth,
    region: String,
}

impl S3Client {
    /// A client signing for `region` with `credentials`, or anonymous without them.
    pub fn new(config: HttpConfig, credentials: Option<Credentials>, region: &str) -> Result<Self, StoreError> {
        let auth = match credentials {
            Some(c) => S3Auth::Signed(Signer::new(c, region)),
            None => S3Auth::Anonymous,
        };
        Ok(Self { http: HttpClient::new(config)?, auth, region: region.to_owned() })
    }

    /// The region requests are signed for.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Whether requests are signed.
    pub fn is_signed(&self) -> bool {
        matches!(self.auth, S3Auth::Signed(_))
    }

    /// A URL anyone can GET for `seconds`: presigned when the client signs, else as it is (a
    /// public bucket).
    pub fn readable_url(&self, url: &Url, seconds: u64) -> Url {
        match &self.auth {
            S3Auth::Signed(signer) => signer.presign(url, seconds, SystemTime::now()),
            S3Auth::Anonymous => url.clone(),
        }
    }

    /// When and how often a failed request, or a body that broke off, is asked for again.
    pub(crate) fn retry_policy(&self) -> ferry_http::RetryPolicy {
        self.http.config().retry
    }

    /// Sends a request, retrying failures that may pass.
    pub(crate) async fn send(&self, request: Request<'_>) -> Result<Response, StoreError> {
        self.http.send(request, &self.auth, classify).await
    }

    /// Sends a GET and receives the body into `sink` if the answer is the plain success
    /// `expect` describes ([`ferry_http::HttpClient::get_into`]).
    pub(crate) async fn get_into(
        &self,
        request: Request<'_>,
        expect: ferry_http::Expect,
        sink: std::sync::Arc<dyn ferry_store::PositionalSink>,
    ) -> ferry_http::Direct {
        self.http.get_into(request, &self.auth, expect, sink).await
    }

    /// Sends a GET and reads its listing body, bounded in size and time; a body that breaks off
    /// part-way is asked for again ([`ferry_http::HttpClient::get_small`]).
    pub(crate) async fn get_xml(&self, request: Request<'_>) -> Result<String, StoreError> {
        self.http.get_small(request, &self.auth, classify, ferry_http::MAX_XML_BODY).await
    }

    /// Reads a listing body, bounded in size and time.
    pub(crate) async fn read_xml(&self, response: Response, target: &str) -> Result<String, StoreError> {
        self.http.read_small(response, ferry_http::MAX_XML_BODY, target).await
    }
}

fn classify<'a>(response: Response, target: &'a str) -> BoxFuture<'a, StoreError> {
    error_from_response(response, target).boxed()
}

/// Reads an error response (its body bounded in size and time) into a store error.
async fn error_from_response(response: Response, target: &str) -> StoreError {
    let status = response.status().as_u16();
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let retry_after = header("retry-after");
    let header_region = header("x-amz-bucket-region");
    let deadline = std::time::Duration::from_secs(30);
    let body =
        ferry_http::read_text(response, ferry_http::MAX_ERROR_BODY, true, deadline, target).await.unwrap_or_default();
    let (code, message, body_region) = crate::xml::parse_error(&body);
    let region = header_region.or(body_region);
    error_from_status(status, code.as_deref(), message.as_deref(), region.as_deref(), target)
        .with_retry_after(parse_retry_after(retry_after.as_deref()))
}

/// Maps a status and S3's error code to a store error about `target`, with a hint when the fix
/// is known.
pub(crate) fn error_from_status(
    status: u16,
    code: Option<&str>,
    message: Option<&str>,
    region: Option<&str>,
    target: &str,
) -> StoreError {
    let code = code.unwrap_or("");
    let kind = match (status, code) {
        (404, _) => ErrorKind::NotFound,
        (
            301 | 307 | 400,
            "PermanentRedirect" | "AuthorizationHeaderMalformed" | "IllegalLocationConstraintException",
        ) => ErrorKind::InvalidInput,
        (301 | 307, _) => ErrorKind::InvalidInput,
        (403, "AccessDenied" | "AllAccessDisabled" | "AccountProblem") => ErrorKind::PermissionDenied,
        (401 | 403, _) => ErrorKind::Unauthenticated,
        (409, "BucketAlreadyOwnedByYou" | "BucketAlreadyExists") => ErrorKind::AlreadyExists,
        (409 | 412, _) => ErrorKind::PreconditionFailed,
        (429 | 503, _) => ErrorKind::Throttled,
        (408 | 500 | 502 | 504, _) => ErrorKind::Transient,
        (400 | 411 | 413 | 414 | 416, _) => ErrorKind::InvalidInput,
        (405 | 501, _) => ErrorKind::NotSupported,
        _ => ErrorKind::Other,
    };
    let mut text = format!("HTTP {status}");
    if !code.is_empty() {
        text.push_str(&format!(" {code}"));
    }
    if let Some(m) = message.map(str::trim).filter(|m| !m.is_empty()) {
        text.push_str(&format!(": {}", ferry_core::redact_text(m)));
    }
    let err = StoreError::new(kind, target, text).with_status(status);
    match hint_for(status, code, region) {
        Some(hint) => err.with_hint(hint),
        None => err,
    }
}

fn hint_for(status: u16, code: &str, region: Option<&str>) -> Option<String> {
    Some(match (status, code) {
        (_, "NoSuchBucket") => "the bucket does not exist: check its name and the endpoint".to_owned(),
        (301 | 307 | 400, _) if region.is_some() => format!(
            "the bucket is in region {}: use that region's endpoint (https://BUCKET.s3.{0}.amazonaws.com/…) or set AWS_REGION={0}",
            region.unwrap_or_default()
        ),
        (301 | 307, _) => "the bucket is in another region: use its regional endpoint, or set AWS_REGION".to_owned(),
        (_, "InvalidAccessKeyId") => {
            "the service does not know this access key: check AWS_ACCESS_KEY_ID (and the endpoint it belongs to)"
                .to_owned()
        }
        (_, "SignatureDoesNotMatch") => {
            "the signature did not match: check AWS_SECRET_ACCESS_KEY, and that the machine's clock is right".to_owned()
        }
        (_, "ExpiredToken" | "TokenRefreshRequired") => {
            "the temporary credentials expired: get new ones and set AWS_SESSION_TOKEN again".to_owned()
        }
        (_, "RequestTimeTooSkewed") => "this machine's clock is too far off: set it right (NTP)".to_owned(),
        (403, "AccessDenied") => {
            "the credential may not do this, or (with none) the bucket is not public: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for a key allowed to read it".to_owned()
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_by_meaning_with_hints() {
        let cases = [
            (404, "NoSuchKey", ErrorKind::NotFound),
            (404, "NoSuchBucket", ErrorKind::NotFound),
            (403, "SignatureDoesNotMatch", ErrorKind::Unauthenticated),
            (403, "InvalidAccessKeyId", ErrorKind::Unauthenticated),
            (403, "AccessDenied", ErrorKind::PermissionDenied),
            (503, "SlowDown", ErrorKind::Throttled),
            (500, "InternalError", ErrorKind::Transient),
            (301, "PermanentRedirect", ErrorKind::InvalidInput),
        ];
        for (status, code, kind) in cases {
            let e = error_from_status(status, Some(code), Some("m"), None, "bkt/k");
            assert_eq!(e.kind(), kind, "{status} {code}");
            assert!(e.to_string().contains(code));
        }
        let e = error_from_status(301, Some("PermanentRedirect"), None, Some("eu-west-1"), "bkt/k");
        assert!(e.hint().unwrap().contains("AWS_REGION=eu-west-1"), "{:?}", e.hint());
        let e = error_from_status(403, Some("SignatureDoesNotMatch"), None, None, "bkt/k");
        assert!(e.hint().unwrap().contains("AWS_SECRET_ACCESS_KEY"));
    }
}
