//! Sending GCS requests: a bearer token (over https only) or none, and the JSON API's errors read
//! by meaning.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ferry_core::{ErrorKind, StoreError};
use ferry_http::{Authorizer, HttpClient, HttpConfig, Request, parse_retry_after};
use futures::FutureExt as _;
use futures::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, Response};
use url::Url;

use crate::token::GoogleTokens;
use crate::{GcsEndpoint, ServiceAccount};

/// How requests are authorised.
#[derive(Debug, Clone)]
enum GcsAuth {
    /// No credential: a public bucket, or an emulator.
    Anonymous,
    /// A service account's access token.
    Bearer(Arc<GoogleTokens>),
}

#[async_trait::async_trait]
impl Authorizer for GcsAuth {
    async fn authorize(
        &self,
        _: &Method,
        url: &mut Url,
        headers: &mut HeaderMap,
        target: &str,
    ) -> Result<(), StoreError> {
        let Self::Bearer(tokens) = self else { return Ok(()) };
        if url.scheme() != "https" {
            return Err(StoreError::new(
                ErrorKind::InvalidInput,
                target,
                "an access token is sent over https:// only, and this endpoint is plain http://",
            ));
        }
        let token = tokens.get().await?;
        let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
            StoreError::new(ErrorKind::Unauthenticated, target, "the access token is not a header value")
        })?;
        value.set_sensitive(true);
        headers.insert("authorization", value);
        Ok(())
    }

    fn unauthorized(&self) -> bool {
        match self {
            Self::Bearer(tokens) => tokens.invalidate(),
            Self::Anonymous => false,
        }
    }
}

/// A GCS client: a connection pool, an endpoint, and the service account (if any) that signs in
/// and signs URLs.
#[derive(Debug, Clone)]
pub struct GcsClient {
    http: HttpClient,
    auth: GcsAuth,
    endpoint: GcsEndpoint,
    account: Option<Arc<ServiceAccount>>,
}

impl GcsClient {
    /// A client for `endpoint`, signed in as `account` (anonymous without one; an emulator is
    /// never sent a token, as Google's clients send it none, but URLs are still signed).
    pub fn new(
        config: HttpConfig,
        endpoint: GcsEndpoint,
        account: Option<Arc<ServiceAccount>>,
    ) -> Result<Self, StoreError> {
        let http = HttpClient::new(config)?;
        let auth = match &account {
            Some(account) if !endpoint.is_emulator() => {
                GcsAuth::Bearer(Arc::new(GoogleTokens::new(http.clone(), account.clone())))
            }
            _ => GcsAuth::Anonymous,
        };
        Ok(Self { http, auth, endpoint, account })
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &GcsEndpoint {
        &self.endpoint
    }

    /// The service account it signs with, if any.
    pub fn account(&self) -> Option<&ServiceAccount> {
        self.account.as_deref()
    }

    /// Whether requests carry a credential.
    pub fn is_signed_in(&self) -> bool {
        matches!(self.auth, GcsAuth::Bearer(_))
    }

    /// A URL anyone can GET `object` of `bucket` by for `seconds`: signed with the service
    /// account's key, or as it is without one (a public bucket, an emulator).
    pub fn readable_url(&self, bucket: &str, object: &str, seconds: u64) -> Result<Url, StoreError> {
        let url = self.endpoint.object_url(bucket, object);
        match &self.account {
            Some(account) => crate::signing::signed_url(account, &url, seconds, SystemTime::now()),
            None => Ok(url),
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

    /// Sends a GET and reads its JSON body, bounded in size and time; a body that breaks off
    /// part-way is asked for again ([`ferry_http::HttpClient::get_small`]).
    pub(crate) async fn get_json<T: serde::de::DeserializeOwned>(&self, request: Request<'_>) -> Result<T, StoreError> {
        let target = request.target;
        let text = self.http.get_small(request, &self.auth, classify, ferry_http::MAX_XML_BODY).await?;
        serde_json::from_str(&text).map_err(|e| {
            StoreError::new(ErrorKind::Other, target, format!("the service's answer could not be read ({e})"))
        })
    }
}

fn classify<'a>(response: Response, target: &'a str) -> BoxFuture<'a, StoreError> {
    async move {
        let status = response.status().as_u16();
        let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let deadline = Duration::from_secs(30);
        let body = ferry_http::read_text(response, ferry_http::MAX_ERROR_BODY, true, deadline, target)
            .await
            .unwrap_or_default();
        let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        let message = json["error"]["message"].as_str().map(str::to_owned).unwrap_or(body);
        let reason = json["error"]["errors"][0]["reason"].as_str().unwrap_or_default().to_owned();
        error_from_status(status, &reason, &message, target).with_retry_after(parse_retry_after(retry_after.as_deref()))
    }
    .boxed()
}

/// Maps a status and the JSON API's reason to a store error about `target`, with a hint when
/// the fix is known.
pub(crate) fn error_from_status(status: u16, reason: &str, message: &str, target: &str) -> StoreError {
    let kind = match status {
        404 => ErrorKind::NotFound,
        401 => ErrorKind::Unauthenticated,
        403 => ErrorKind::PermissionDenied,
        409 => ErrorKind::AlreadyExists,
        412 => ErrorKind::PreconditionFailed,
        429 | 503 => ErrorKind::Throttled,
        408 | 500 | 502 | 504 => ErrorKind::Transient,
        400 | 411 | 413 | 416 => ErrorKind::InvalidInput,
        405 | 501 => ErrorKind::NotSupported,
        _ => ErrorKind::Other,
    };
    let mut text = format!("HTTP {status}");
    if !reason.is_empty() {
        text.push_str(&format!(" {reason}"));
    }
    let message = message.trim();
    if !message.is_empty() {
        let short: String = message.chars().take(300).collect();
        text.push_str(&format!(": {}", ferry_core::redact_text(&short)));
    }
    let err = StoreError::new(kind, target, text).with_status(status);
    let hint = match status {
        401 => Some(crate::endpoint::no_credential_hint()),
        403 => Some("give the service account read access to the bucket (roles/storage.objectViewer; listing every bucket also needs storage.buckets.list)".to_owned()),
        404 if message.contains("bucket") || reason == "notFound" && !target.contains('/') => {
            Some("check the bucket's name (and the endpoint)".to_owned())
        }
        _ => None,
    };
    match hint {
        Some(h) => err.with_hint(h),
        None => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_by_meaning_with_hints() {
        let e = error_from_status(401, "required", "Anonymous caller does not have storage.objects.list", "gs://b");
        assert_eq!(e.kind(), ErrorKind::Unauthenticated);
        assert!(e.hint().unwrap().contains("GOOGLE_APPLICATION_CREDENTIALS"));
        let e = error_from_status(403, "forbidden", "x does not have storage.objects.get", "gs://b/o");
        assert_eq!(e.kind(), ErrorKind::PermissionDenied);
        assert!(e.hint().unwrap().contains("objectViewer"));
        assert_eq!(error_from_status(404, "notFound", "No such object: b/o", "b/o").kind(), ErrorKind::NotFound);
        assert_eq!(error_from_status(429, "rateLimitExceeded", "", "b").kind(), ErrorKind::Throttled);
        assert_eq!(error_from_status(500, "backendError", "", "b").kind(), ErrorKind::Transient);
    }
}
