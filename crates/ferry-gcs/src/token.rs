//! A service account's access token: an RS256 JWT (the account as issuer, the token endpoint as
//! audience, read-only storage as scope) traded at the key file's `token_uri` for a bearer token,
//! kept until shortly before it expires (Google's live an hour).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use ferry_core::{ErrorKind, Secret, StoreError};
use ferry_http::{Body, Expiring, HttpClient, NoAuth, Request, TokenCache};
use futures::FutureExt as _;
use futures::future::BoxFuture;
use reqwest::{Method, Response};

use crate::ServiceAccount;

/// What the token may do: read objects and list buckets.
pub(crate) const READ_ONLY_SCOPE: &str = "https://www.googleapis.com/auth/devstorage.read_only";
/// The grant that trades a signed JWT for a token.
const JWT_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// A token with less than this left is refreshed before use.
const REFRESH_AHEAD: Duration = Duration::from_secs(300);
const SHOWN: &str = "the Google token endpoint";

/// Access tokens for one service account.
#[derive(Debug)]
pub(crate) struct GoogleTokens {
    http: HttpClient,
    account: Arc<ServiceAccount>,
    cache: TokenCache<Secret>,
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl GoogleTokens {
    pub(crate) fn new(http: HttpClient, account: Arc<ServiceAccount>) -> Self {
        Self { http, account, cache: TokenCache::new(REFRESH_AHEAD) }
    }

    /// The token to send now.
    pub(crate) async fn get(&self) -> Result<Secret, StoreError> {
        self.cache.get(|| self.fetch()).await
    }

    /// Forgets the token (the service refused it).
    pub(crate) fn invalidate(&self) -> bool {
        self.cache.invalidate()
    }

    /// The signed assertion for a token valid from `now`.
    fn assertion(&self, now: u64) -> Result<String, StoreError> {
        let mut header = serde_json::json!({ "alg": "RS256", "typ": "JWT" });
        if let Some(kid) = self.account.key_id() {
            header["kid"] = kid.into();
        }
        let claims = serde_json::json!({
            "iss": self.account.email(), "scope": READ_ONLY_SCOPE, "aud": self.account.token_uri().as_str(),
            "iat": now, "exp": now + 3600,
        });
        let signed = format!("{}.{}", b64url(header.to_string().as_bytes()), b64url(claims.to_string().as_bytes()));
        let signature = self.account.sign(signed.as_bytes())?;
        Ok(format!("{signed}.{}", b64url(&signature)))
    }

    async fn fetch(&self) -> Result<Expiring<Secret>, StoreError> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let assertion = self.assertion(now)?;
        let form = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([("grant_type", JWT_GRANT), ("assertion", assertion.as_str())])
            .finish();
        let request = Request::new(Method::POST, self.account.token_uri().clone(), SHOWN)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::Bytes(form.into()));
        let response = self.http.send(request, &NoAuth, classify).await?;
        let text = self.http.read_small(response, 64 * 1024, SHOWN).await?;
        parse_token(&text)
    }
}

fn parse_token(text: &str) -> Result<Expiring<Secret>, StoreError> {
    let bad = |why: &str| StoreError::new(ErrorKind::Unauthenticated, SHOWN, why.to_owned());
    let json: serde_json::Value = serde_json::from_str(text).map_err(|_| bad("its answer is not JSON"))?;
    let token =
        json.get("access_token").and_then(|v| v.as_str()).ok_or_else(|| bad("its answer has no access_token"))?;
    let lifetime = json.get("expires_in").and_then(serde_json::Value::as_u64).unwrap_or(3600);
    Ok(Expiring { value: Secret::new(token), expires_at: Instant::now() + Duration::from_secs(lifetime) })
}

fn classify<'a>(response: Response, target: &'a str) -> BoxFuture<'a, StoreError> {
    async move {
        let status = response.status().as_u16();
        let deadline = Duration::from_secs(30);
        let body = ferry_http::read_text(response, ferry_http::MAX_ERROR_BODY, true, deadline, target)
            .await
            .unwrap_or_default();
        let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        let field = |name: &str| json.get(name).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        let kind = match status {
            400 | 401 | 403 => ErrorKind::Unauthenticated,
            429 => ErrorKind::Throttled,
            500..=599 => ErrorKind::Transient,
            _ => ErrorKind::Other,
        };
        let text = format!("HTTP {status} {}: {}", field("error"), ferry_core::redact_text(&field("error_description")));
        StoreError::new(kind, target, format!("could not get an access token ({text})")).with_status(status).with_hint(
            "check that the service account's key in GOOGLE_APPLICATION_CREDENTIALS is current (not deleted or disabled) and that this machine's clock is right",
        )
    }
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::tests::key_json;

    #[test]
    fn the_assertion_is_an_rs256_jwt_for_the_token_endpoint() {
        let account = Arc::new(ServiceAccount::from_json(&key_json("https://oauth2.googleapis.com/token")).unwrap());
        let tokens = GoogleTokens::new(HttpClient::new(ferry_http::HttpConfig::default()).unwrap(), account);
        let jwt = tokens.assertion(1_700_000_000).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let decode = |p: &str| -> serde_json::Value {
            serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
        };
        assert_eq!(decode(parts[0])["alg"], "RS256");
        let claims = decode(parts[1]);
        assert_eq!(claims["aud"], "https://oauth2.googleapis.com/token");
        assert_eq!(claims["scope"], READ_ONLY_SCOPE);
        assert_eq!(claims["exp"], 1_700_003_600);
        let token = parse_token(r#"{"access_token":"ya29.x","expires_in":3599,"token_type":"Bearer"}"#).unwrap();
        assert_eq!(token.value.expose(), "ya29.x");
    }
}
