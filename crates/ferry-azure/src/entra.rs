//! Microsoft Entra ID tokens for Azure Storage, fetched on Ferry's own HTTP client.
//!
//! Written by hand rather than with `azure_identity` (see `../shared/reference/entra.md` §3.7):
//! one HTTP, retry and redaction stack, every endpoint overridable the way the Azure SDKs allow
//! (so each flow is tested offline), and Rust 1.85. The flows here: a service principal with a
//! secret, workload identity (a federated token file, read again for every request), and managed
//! identity through App Service/Functions (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`) or the VM's
//! IMDS (`AZURE_POD_IDENTITY_AUTHORITY_HOST` overrides its host), a certificate (PEM or PKCS#12),
//! a device sign-in's refresh token, and the Azure CLI or Azure PowerShell the user signed in to. Each token is cached by a
//! [`TokenCache`] and refreshed once less than five minutes are left; a 401 drops it.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use ferry_core::{ErrorKind, Secret, StoreError};
use ferry_http::{Body, Expiring, HttpClient, HttpConfig, NoAuth, Request, TokenCache};
use futures::FutureExt;
use futures::future::BoxFuture;
use reqwest::Method;
use url::Url;

use crate::credential::TokenSource;
pub use crate::developer_tools::Tool;
use crate::token_file::TokenFile;

/// Access tokens this process fetched from Microsoft Entra ID (or a developer tool), for the
/// metrics: a refresh shows as one more.
static TOKEN_FETCHES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many access tokens this process has fetched (sign-in and every refresh).
pub fn token_fetches() -> u64 {
    TOKEN_FETCHES.load(std::sync::atomic::Ordering::Relaxed)
}

/// The one scope Azure Storage tokens are asked for (Blob, ADLS and Files alike).
pub const STORAGE_SCOPE: &str = "https://storage.azure.com/.default";
/// The resource managed identity endpoints are asked for.
pub const STORAGE_RESOURCE: &str = "https://storage.azure.com";
/// Entra's public-cloud authority.
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
/// The VM metadata service.
pub const IMDS_HOST: &str = "http://169.254.169.254";
/// A token with less than this left is refreshed before it is used.
const REFRESH_AHEAD: Duration = Duration::from_secs(5 * 60);

/// A user-assigned managed identity, by one of its ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManagedId {
    /// Its client id (`AZCOPY_MSI_CLIENT_ID`, `--identity-client-id`).
    ClientId(String),
    /// Its ARM resource id (`AZCOPY_MSI_RESOURCE_STRING`, `--identity-resource-id`).
    ResourceId(String),
}

/// How a token is obtained.
#[derive(Debug, Clone)]
pub enum Flow {
    /// A service principal and its client secret (client credentials grant).
    ClientSecret {
        /// `https://HOST/TENANT/oauth2/v2.0/token`.
        token_url: Url,
        /// The application (client) id.
        client_id: String,
        /// The secret; `None` for a saved sign-in used without it (a shared token may still
        /// serve, but a new one cannot be had).
        secret: Option<Secret>,
    },
    /// A service principal and its certificate: a signed JWT is the client assertion.
    ClientCertificate {
        /// `https://HOST/TENANT/oauth2/v2.0/token`.
        token_url: Url,
        /// The application (client) id.
        client_id: String,
        /// A PEM file with the certificate and its RSA private key, or a PKCS#12 file, read for
        /// every token.
        certificate: PathBuf,
        /// The PKCS#12 file's password (`AZCOPY_SPA_CERT_PASSWORD`; never saved).
        password: Option<Secret>,
    },
    /// Workload identity: the federated token in `token_file` is the client assertion.
    Workload {
        /// `https://HOST/TENANT/oauth2/v2.0/token`.
        token_url: Url,
        /// The application (client) id.
        client_id: String,
        /// `AZURE_FEDERATED_TOKEN_FILE`, read again for every token (it is rotated).
        token_file: PathBuf,
    },
    /// App Service / Functions managed identity.
    AppService {
        /// `IDENTITY_ENDPOINT`.
        endpoint: Url,
        /// `IDENTITY_HEADER`.
        header: Secret,
        /// A user-assigned identity; the system-assigned one when `None`.
        id: Option<ManagedId>,
    },
    /// A refresh token from a device-code sign-in, kept in `store` (0600) and replaced when
    /// Entra rotates it.
    RefreshToken {
        /// `https://HOST/TENANT/oauth2/v2.0/token`.
        token_url: Url,
        /// The public client's application id.
        client_id: String,
        /// The file holding the refresh token.
        store: PathBuf,
    },
    /// A token from a developer tool the user signed in to (`az`, `pwsh`).
    Tool {
        /// Which tool.
        tool: Tool,
        /// The tenant to ask for; the tool's default when `None`.
        tenant: Option<String>,
    },
    /// The VM's instance metadata service.
    Imds {
        /// `http://169.254.169.254/metadata/identity/oauth2/token`, or the overridden host's.
        endpoint: Url,
        /// A user-assigned identity; the system-assigned one when `None`.
        id: Option<ManagedId>,
    },
}

impl Flow {
    /// The token endpoint of `tenant` at `authority` (`https://` only: a secret or an assertion
    /// never crosses the network in clear).
    pub fn token_url(authority: &str, tenant: &str) -> Result<Url, String> {
        let base = authority.trim_end_matches('/');
        let url = Url::parse(&format!("{base}/{tenant}/oauth2/v2.0/token"))
            .map_err(|e| format!("the Entra authority `{authority}` is not a URL: {e}"))?;
        if url.scheme() != "https" {
            return Err(format!("the Entra authority `{authority}` must use https://"));
        }
        Ok(url)
    }

    /// The IMDS token endpoint on `host` (`AZURE_POD_IDENTITY_AUTHORITY_HOST`, else the VM's).
    pub fn imds_url(host: Option<&str>) -> Result<Url, String> {
        let host = host.unwrap_or(IMDS_HOST).trim_end_matches('/');
        Url::parse(&format!("{host}/metadata/identity/oauth2/token"))
            .map_err(|e| format!("the managed identity endpoint `{host}` is not a URL: {e}"))
    }

    /// What tells this flow's tokens apart from another's: where they come from, for whom
    /// (no secret).
    pub fn cache_key(&self) -> String {
        match self {
            Self::ClientSecret { token_url, client_id, .. } => format!("spn|{token_url}|{client_id}|{STORAGE_SCOPE}"),
            Self::ClientCertificate { token_url, client_id, certificate, .. } => {
                format!("spn-cert|{token_url}|{client_id}|{}|{STORAGE_SCOPE}", certificate.display())
            }
            Self::Workload { token_url, client_id, .. } => format!("workload|{token_url}|{client_id}|{STORAGE_SCOPE}"),
            Self::AppService { endpoint, id, .. } => format!("appservice|{endpoint}|{id:?}|{STORAGE_RESOURCE}"),
            Self::RefreshToken { token_url, client_id, .. } => {
                format!("device|{token_url}|{client_id}|{STORAGE_SCOPE}")
            }
            Self::Imds { endpoint, id } => format!("imds|{endpoint}|{id:?}|{STORAGE_RESOURCE}"),
            Self::Tool { tool, tenant } => format!("{}|{tenant:?}|{STORAGE_RESOURCE}", tool.login_type()),
        }
    }

    /// How this flow is named in messages and `login status` (AzCopy's login types).
    pub fn method(&self) -> &'static str {
        match self {
            Self::ClientSecret { .. } | Self::ClientCertificate { .. } => "spn",
            Self::Workload { .. } => "workload",
            Self::RefreshToken { .. } => "device",
            Self::AppService { .. } | Self::Imds { .. } => "msi",
            Self::Tool { tool, .. } => tool.login_type(),
        }
    }
}

/// A token source for one flow, caching its token across requests (and clients: share it).
#[derive(Debug)]
pub struct EntraToken {
    flow: Flow,
    http: HttpClient,
    cache: TokenCache<Secret>,
    /// The identity in the last token issued.
    last: std::sync::Mutex<Option<TokenIdentity>>,
    /// The token shared with this user's other Ferry processes, if sharing is on.
    shared: Option<TokenFile>,
}

impl EntraToken {
    /// A source for `flow`, using its own small HTTP client with `config`'s timeouts and retries.
    pub fn new(flow: Flow, config: HttpConfig) -> Result<Self, StoreError> {
        Ok(Self {
            flow,
            http: HttpClient::new(config)?,
            cache: TokenCache::new(REFRESH_AHEAD),
            last: std::sync::Mutex::new(None),
            shared: None,
        })
    }

    /// Shares tokens with this user's other Ferry processes through files in `dir` (see
    /// `token_file`): processes started together make one token request between them.
    #[must_use]
    pub fn shared_in(mut self, dir: &std::path::Path) -> Self {
        self.shared = TokenFile::new(dir, &self.flow.cache_key());
        self
    }

    /// The flow it uses.
    pub fn flow(&self) -> &Flow {
        &self.flow
    }

    /// A token from the shared file when another process left a good one there, else a new one
    /// from the endpoint (asked by one process at a time, and shared).
    async fn fetch(&self) -> Result<Expiring<Secret>, StoreError> {
        let Some(shared) = &self.shared else { return self.fetch_new().await };
        if let Some(token) = shared.read(REFRESH_AHEAD) {
            self.note(&token);
            return Ok(token);
        }
        let _held = shared.lock().await;
        if let Some(token) = shared.read(REFRESH_AHEAD) {
            self.note(&token);
            return Ok(token);
        }
        let token = self.fetch_new().await?;
        shared.write(&token);
        Ok(token)
    }

    fn note(&self, token: &Expiring<Secret>) {
        if let Ok(mut last) = self.last.lock() {
            *last = Some(TokenIdentity::of(token.value.expose()));
        }
    }

    /// Asks the token endpoint for a new token.
    async fn fetch_new(&self) -> Result<Expiring<Secret>, StoreError> {
        TOKEN_FETCHES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Flow::Tool { tool, tenant } = &self.flow {
            let token = crate::developer_tools::token(*tool, tenant.as_deref()).await?;
            self.note(&token);
            return Ok(token);
        }
        let request = self.request()?;
        let response = self.http.send(request, &NoAuth, classify).await?;
        let text = self.http.read_small(response, 64 * 1024, "the token endpoint").await?;
        let token = parse_token(&text)?;
        if let Flow::RefreshToken { store, .. } = &self.flow {
            crate::device_code::keep_rotated(store, &text);
        }
        self.note(&token);
        Ok(token)
    }

    fn request(&self) -> Result<Request<'static>, StoreError> {
        let form =
            |pairs: &[(&str, &str)]| url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        let post = |url: &Url, body: String| {
            Request::new(Method::POST, url.clone(), "the token endpoint")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::Bytes(body.into()))
        };
        Ok(match &self.flow {
            Flow::ClientSecret { token_url, client_id, secret } => {
                let secret = secret.as_ref().ok_or_else(|| {
                    StoreError::new(
                        ErrorKind::Unauthenticated,
                        "the token endpoint",
                        "a new token for the saved service-principal sign-in needs its secret, which Ferry never saves",
                    )
                    .with_hint("set AZCOPY_SPA_CLIENT_SECRET")
                })?;
                post(
                    token_url,
                    form(&[
                        ("grant_type", "client_credentials"),
                        ("client_id", client_id),
                        ("client_secret", secret.expose()),
                        ("scope", STORAGE_SCOPE),
                    ]),
                )
            }
            Flow::ClientCertificate { token_url, client_id, certificate, password } => {
                let assertion = crate::client_certificate::assertion(
                    certificate,
                    password.as_ref(),
                    client_id,
                    token_url.as_str(),
                )?;
                post(token_url, assertion_form(client_id, &assertion))
            }
            Flow::Workload { token_url, client_id, token_file } => {
                let assertion = std::fs::read_to_string(token_file).map_err(|e| {
                    StoreError::new(
                        ErrorKind::Unauthenticated,
                        "the token endpoint",
                        format!("cannot read the federated token file `{}`: {e}", token_file.display()),
                    )
                })?;
                post(token_url, assertion_form(client_id, assertion.trim()))
            }
            Flow::RefreshToken { token_url, client_id, store } => {
                let refresh = crate::device_code::read_refresh_token(store)?;
                post(
                    token_url,
                    form(&[
                        ("grant_type", "refresh_token"),
                        ("client_id", client_id),
                        ("refresh_token", refresh.expose()),
                        ("scope", STORAGE_SCOPE),
                    ]),
                )
            }
            Flow::AppService { endpoint, header, id } => {
                let mut url = endpoint.clone();
                url.query_pairs_mut()
                    .append_pair("api-version", "2019-08-01")
                    .append_pair("resource", STORAGE_RESOURCE);
                add_identity(&mut url, id.as_ref(), "mi_res_id");
                Request::new(Method::GET, url, "the managed identity endpoint")
                    .header("x-identity-header", header.expose())
            }
            Flow::Imds { endpoint, id } => {
                let mut url = endpoint.clone();
                url.query_pairs_mut()
                    .append_pair("api-version", "2018-02-01")
                    .append_pair("resource", STORAGE_RESOURCE);
                add_identity(&mut url, id.as_ref(), "msi_res_id");
                Request::new(Method::GET, url, "the managed identity endpoint").header("metadata", "true")
            }
            Flow::Tool { .. } => unreachable!("a developer tool's token is not asked for over HTTP"),
        })
    }
}

/// The client-credentials form with a JWT client assertion (a certificate's, or workload
/// identity's federated token) in place of a secret.
fn assertion_form(client_id: &str, assertion: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", assertion),
            ("scope", STORAGE_SCOPE),
        ])
        .finish()
}

/// Names a user-assigned identity in a managed identity request (the resource-id parameter's name
/// differs by endpoint).
fn add_identity(url: &mut Url, id: Option<&ManagedId>, resource_param: &str) {
    match id {
        Some(ManagedId::ClientId(c)) => {
            url.query_pairs_mut().append_pair("client_id", c);
        }
        Some(ManagedId::ResourceId(r)) => {
            url.query_pairs_mut().append_pair(resource_param, r);
        }
        None => {}
    }
}

#[async_trait::async_trait]
impl TokenSource for EntraToken {
    async fn token(&self) -> Result<Secret, String> {
        // The caller gets text: the hint (what to fix) travels in it.
        self.cache.get(|| self.fetch()).await.map_err(|e| match e.hint() {
            Some(hint) => format!("{e}\nhint: {hint}"),
            None => e.to_string(),
        })
    }

    fn invalidate(&self) -> bool {
        self.cache.invalidate();
        if let Some(shared) = &self.shared {
            shared.forget();
        }
        true
    }

    fn identity(&self) -> Option<String> {
        let last = self.last.lock().ok()?.clone()?;
        let mut parts = vec![format!("signed in by {}", self.flow.method())];
        if let Some(oid) = last.oid {
            parts.push(format!("object id {oid}"));
        }
        if let Some(tid) = last.tid {
            parts.push(format!("tenant {tid}"));
        }
        Some(parts.join(", "))
    }
}

/// A token endpoint's refusal, with Entra's own words (`error`, `error_description`: the AADSTS
/// code says what to fix).
pub(crate) fn classify<'a>(response: reqwest::Response, target: &'a str) -> BoxFuture<'a, StoreError> {
    async move {
        let status = response.status().as_u16();
        let body =
            ferry_http::read_text(response, 16 * 1024, true, Duration::from_secs(30), target).await.unwrap_or_default();
        let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        let text = |name: &str| json.get(name).and_then(serde_json::Value::as_str).map(str::to_owned);
        let described = match (text("error"), text("error_description")) {
            (Some(code), Some(description)) => format!("{code}: {description}"),
            (Some(code), None) => code,
            (None, _) => format!("HTTP {status}"),
        };
        let kind = match status {
            429 => ErrorKind::Throttled,
            500..=599 | 404 | 410 => ErrorKind::Transient,
            _ => ErrorKind::Unauthenticated,
        };
        StoreError::new(kind, target, format!("Entra ID refused the token request: {described}")).with_status(status)
    }
    .boxed()
}

/// Reads a token response: `access_token` and its lifetime (`expires_in` seconds, or
/// `expires_on` as Unix seconds; either may be a string).
pub(crate) fn parse_token(text: &str) -> Result<Expiring<Secret>, StoreError> {
    let bad = |why: &str| StoreError::new(ErrorKind::Unauthenticated, "the token endpoint", why.to_owned());
    let json: serde_json::Value = serde_json::from_str(text).map_err(|_| bad("its answer is not JSON"))?;
    let token = json
        .get("access_token")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| bad("its answer has no access_token"))?;
    let number =
        |name: &str| json.get(name).and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())));
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let lifetime = number("expires_in")
        .or_else(|| number("expires_on").map(|on| on.saturating_sub(now)))
        .ok_or_else(|| bad("its answer says neither expires_in nor expires_on"))?;
    Ok(Expiring { value: Secret::new(token), expires_at: Instant::now() + Duration::from_secs(lifetime) })
}

/// The claims of a token that say whose it is (for messages; never verified here).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenIdentity {
    /// The object id of the identity.
    pub oid: Option<String>,
    /// The tenant id.
    pub tid: Option<String>,
}

impl TokenIdentity {
    /// Decodes the payload of a JWT.
    pub fn of(token: &str) -> Self {
        use base64::Engine as _;
        let payload = token.split('.').nth(1).unwrap_or_default();
        let decoded =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).unwrap_or_default();
        let json: serde_json::Value = serde_json::from_slice(&decoded).unwrap_or_default();
        let text = |name: &str| json.get(name).and_then(serde_json::Value::as_str).map(str::to_owned);
        Self { oid: text("oid"), tid: text("tid") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_answers_of_every_shape_are_read() {
        let t = parse_token(r#"{"token_type":"Bearer","expires_in":3599,"access_token":"abc"}"#).unwrap();
        assert_eq!(t.value.expose(), "abc");
        assert!(t.expires_at > Instant::now() + Duration::from_secs(3500));
        let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
        let msi =
            format!(r#"{{"access_token":"m","expires_on":"{}","resource":"https://storage.azure.com"}}"#, now + 600);
        let t = parse_token(&msi).unwrap();
        assert!(t.expires_at < Instant::now() + Duration::from_secs(601));
        assert!(parse_token(r#"{"access_token":"x"}"#).is_err());
        assert!(parse_token("<html>").is_err());
    }

    #[test]
    fn authorities_must_be_https() {
        assert_eq!(
            Flow::token_url("https://login.microsoftonline.com/", "t1").unwrap().as_str(),
            "https://login.microsoftonline.com/t1/oauth2/v2.0/token"
        );
        assert!(Flow::token_url("http://127.0.0.1:9", "t1").unwrap_err().contains("https://"));
    }

    #[test]
    fn identities_are_decoded_from_the_payload() {
        use base64::Engine as _;
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"oid":"o-1","tid":"t-1"}"#);
        let id = TokenIdentity::of(&format!("h.{payload}.s"));
        assert_eq!((id.oid.as_deref(), id.tid.as_deref()), (Some("o-1"), Some("t-1")));
        assert_eq!(TokenIdentity::of("garbage"), TokenIdentity::default());
    }
}
