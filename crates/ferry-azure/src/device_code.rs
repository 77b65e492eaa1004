//! The device-code sign-in (`ferry login`, AzCopy's default): the user opens a web page on any
//! device and types a code; Ferry polls until Entra says yes, then keeps the refresh token (0600)
//! so later processes get access tokens without asking again.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;
use std::time::{Duration, Instant};

use ferry_core::{ErrorKind, Secret, StoreError};
use ferry_http::{Body, Expiring, HttpClient, NoAuth, Request};
use reqwest::Method;
use url::Url;

use crate::entra::{STORAGE_SCOPE, classify, parse_token};

/// AzCopy's public client (first-party) application id, used by default so Ferry is a drop-in;
/// `--application-id` names another public client.
pub const AZCOPY_CLIENT_ID: &str = "579a7132-0e58-4d80-b1e1-7a1e2d337859";

fn form(pairs: &[(&str, &str)]) -> Body {
    Body::Bytes(url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish().into())
}

fn json_text(json: &serde_json::Value, name: &str) -> Option<String> {
    json.get(name).and_then(serde_json::Value::as_str).map(str::to_owned)
}

/// Signs in with a device code: asks for a code, shows `prompt` the line to give the user, and
/// polls (at Entra's interval, 5 s slower after `slow_down`) until the user signs in. Returns the
/// access token and the refresh token.
pub async fn device_login(
    http: &HttpClient,
    token_url: &Url,
    client_id: &str,
    prompt: impl Fn(&str),
) -> Result<(Expiring<Secret>, Secret), StoreError> {
    let code_url = Url::parse(token_url.as_str().replace("/oauth2/v2.0/token", "/oauth2/v2.0/devicecode").as_str())
        .map_err(|e| StoreError::new(ErrorKind::InvalidInput, "the device code endpoint", e.to_string()))?;
    let scope = format!("{STORAGE_SCOPE} offline_access");
    let request = Request::new(Method::POST, code_url, "the device code endpoint")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("client_id", client_id), ("scope", &scope)]));
    let response = http.send(request, &NoAuth, classify).await?;
    let text = http.read_small(response, 64 * 1024, "the device code endpoint").await?;
    let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let bad = |why: &str| StoreError::new(ErrorKind::Unauthenticated, "the device code endpoint", why.to_owned());
    let device_code = json_text(&json, "device_code").ok_or_else(|| bad("its answer has no device_code"))?;
    let user_code = json_text(&json, "user_code").ok_or_else(|| bad("its answer has no user_code"))?;
    let uri = json_text(&json, "verification_uri").unwrap_or_else(|| "https://microsoft.com/devicelogin".into());
    let mut interval = Duration::from_secs(json.get("interval").and_then(serde_json::Value::as_u64).unwrap_or(5));
    let expires =
        Instant::now() + Duration::from_secs(json.get("expires_in").and_then(serde_json::Value::as_u64).unwrap_or(900));
    prompt(&format!(
        "Authentication is required. To sign in, open the webpage {uri} and enter the code {user_code} to authenticate."
    ));
    let grant = "urn:ietf:params:oauth:grant-type:device_code";
    loop {
        tokio::time::sleep(interval).await;
        if Instant::now() > expires {
            return Err(bad("the code expired before the sign-in was completed; run `ferry login` again"));
        }
        let request = Request::new(Method::POST, token_url.clone(), "the token endpoint")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("grant_type", grant), ("client_id", client_id), ("device_code", &device_code)]));
        // Pending answers are 400s whose message names Entra's `error` (authorization_pending,
        // slow_down, authorization_declined, …): read them here rather than as failures.
        let answer = http.send(request, &NoAuth, classify).await;
        match answer {
            Ok(response) => {
                let text = http.read_small(response, 64 * 1024, "the token endpoint").await?;
                let token = parse_token(&text)?;
                let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                let refresh = json_text(&json, "refresh_token").ok_or_else(|| bad("Entra issued no refresh token"))?;
                return Ok((token, Secret::new(refresh)));
            }
            Err(e) if e.message().contains("authorization_pending") => {}
            Err(e) if e.message().contains("slow_down") => interval += Duration::from_secs(5),
            Err(e) => return Err(e),
        }
    }
}

/// Keeps a refresh token in `store` (0600, written whole then renamed).
pub fn save_refresh_token(store: &Path, token: &Secret) -> std::io::Result<()> {
    let temp = store.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&temp)?;
    file.write_all(token.expose().as_bytes())?;
    std::fs::rename(&temp, store)
}

/// The refresh token kept in `store`.
pub(crate) fn read_refresh_token(store: &Path) -> Result<Secret, StoreError> {
    std::fs::read_to_string(store).map(|t| Secret::new(t.trim())).map_err(|e| {
        StoreError::new(
            ErrorKind::Unauthenticated,
            "the token endpoint",
            format!("the device sign-in's refresh token cannot be read ({e})"),
        )
        .with_hint("sign in again with `ferry login`")
    })
}

/// Keeps the refresh token a token answer rotated, if it did.
pub(crate) fn keep_rotated(store: &Path, answer: &str) {
    let json: serde_json::Value = serde_json::from_str(answer).unwrap_or_default();
    if let Some(rotated) = json_text(&json, "refresh_token")
        && let Err(e) = save_refresh_token(store, &Secret::new(rotated))
    {
        tracing::warn!(error = %e, "cannot keep the rotated refresh token; the next sign-in may be asked again");
    }
}
