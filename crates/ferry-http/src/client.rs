//! The HTTP client: one connection pool, timeouts, retries and bounded reads, for every service.
//!
//! Everything that crosses the network goes through [`HttpClient::send`], which has the
//! service's [`Authorizer`] stamp each attempt, bounds each attempt in time, and retries what is
//! worth retrying. Retries are logged with the URL redacted.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use ferry_core::{ErrorKind, RedactedUrl, StoreError};
use futures::TryStreamExt;
use futures::future::BoxFuture;
use reqwest::header::{CONTENT_LENGTH, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Response};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use url::Url;

use crate::auth::Authorizer;
use crate::retry::RetryPolicy;

/// A response's body as a stream of bytes; a break in it is a transient failure of `target`.
pub fn body_stream(response: Response, target: &str) -> ByteStream {
    use futures::{StreamExt as _, TryStreamExt as _};
    let shown = target.to_owned();
    response
        .bytes_stream()
        .map_err(move |e| StoreError::new(ferry_core::ErrorKind::Transient, &shown, describe_transport_error(&e)))
        .boxed()
}

/// A one-shot stream of bytes for a request body.
pub type ByteStream = futures::stream::BoxStream<'static, Result<Bytes, StoreError>>;

/// Connection and timing settings for one client.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Idle connections kept per host; size it to the number of parallel requests.
    pub max_idle_connections: usize,
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Time allowed from sending a request to its response headers, for an empty body. Bodies
    /// get more: see [`HttpConfig::attempt_timeout`].
    pub response_timeout: Duration,
    /// Longest silence while reading a response body before the read fails.
    pub read_timeout: Duration,
    /// Retry policy for failed attempts.
    pub retry: RetryPolicy,
    /// Told of every attempt and retry (metrics), if anything listens.
    pub observer: Option<Arc<dyn RequestObserver>>,
}

/// Hears how requests go, for metrics: each attempt's operation, status and time, and each
/// retry. Called on the request's task: keep it cheap.
pub trait RequestObserver: Send + Sync + std::fmt::Debug {
    /// One attempt ended: its operation ([`operation_of`]), the response's status (none when no
    /// response came: a transport error or a timeout), and how long it took.
    fn attempt(&self, operation: &str, status: Option<u16>, elapsed: Duration);
    /// A failed attempt is retried.
    fn retry(&self, operation: &str);
}

/// A request's operation, for metrics: its method and, for the services' sub-resources, the
/// `comp` (Blob), or the S3 multipart step — a handful of values, never a name or a key.
pub fn operation_of(method: &Method, url: &Url) -> String {
    let step = url.query_pairs().find_map(|(k, v)| match k.as_ref() {
        "comp" => Some(v.into_owned()),
        "uploads" => Some("uploads".to_owned()),
        "partNumber" => Some("part".to_owned()),
        "uploadId" => Some("upload".to_owned()),
        "list-type" => Some("list".to_owned()),
        _ => None,
    });
    match step {
        Some(step) if step.len() <= 24 && step.bytes().all(|b| b.is_ascii_alphanumeric()) => format!("{method} {step}"),
        _ => method.to_string(),
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_idle_connections: 64,
            connect_timeout: Duration::from_secs(10),
            response_timeout: Duration::from_secs(60),
            read_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            observer: None,
        }
    }
}

/// The slowest upload rate an attempt is allowed before it is abandoned (bytes per second).
const MIN_UPLOAD_RATE: u64 = 64 * 1024;

impl HttpConfig {
    /// The time one attempt may take to get its response headers: the response timeout plus
    /// enough to send `body_len` bytes at [`MIN_UPLOAD_RATE`], so a large block on a slow link
    /// is not cut off while a stalled small request is.
    pub fn attempt_timeout(&self, body_len: u64) -> Duration {
        self.response_timeout + Duration::from_secs(body_len / MIN_UPLOAD_RATE)
    }
}

/// A request body.
pub enum Body {
    /// No body.
    Empty,
    /// Bytes in memory; can be re-sent.
    Bytes(Bytes),
    /// A slice of a local file, re-read for every attempt.
    File { path: PathBuf, offset: u64, len: u64 },
    /// A one-shot stream: consumed by the first attempt, so never retried.
    OneShot(Mutex<Option<ByteStream>>, u64),
}

impl Body {
    /// Its length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Self::Empty => 0,
            Self::Bytes(b) => b.len() as u64,
            Self::File { len, .. } | Self::OneShot(_, len) => *len,
        }
    }

    /// Whether it can be sent again (a one-shot stream cannot).
    pub fn replayable(&self) -> bool {
        !matches!(self, Self::OneShot(..))
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    async fn to_reqwest(&self, target: &str) -> Result<Option<reqwest::Body>, StoreError> {
        Ok(match self {
            Self::Empty => None,
            Self::Bytes(b) => Some(reqwest::Body::from(b.clone())),
            Self::File { path, offset, len } => {
                let shown = path.display().to_string();
                let mut file = tokio::fs::File::open(path).await.map_err(|e| StoreError::from_io(e, &shown))?;
                file.seek(std::io::SeekFrom::Start(*offset)).await.map_err(|e| StoreError::from_io(e, &shown))?;
                let stream = tokio_util::io::ReaderStream::with_capacity(file.take(*len), 256 * 1024);
                Some(reqwest::Body::wrap_stream(stream))
            }
            Self::OneShot(slot, _) => {
                let stream =
                    slot.lock().ok().and_then(|mut s| s.take()).ok_or_else(|| {
                        StoreError::new(ErrorKind::Other, target, "a streamed body cannot be sent twice")
                    })?;
                Some(reqwest::Body::wrap_stream(stream.map_err(std::io::Error::other)))
            }
        })
    }
}

/// One request to send.
pub struct Request<'a> {
    pub method: Method,
    /// The URL without any authorisation in its query.
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Body,
    /// What the request is about, for messages (a key, or a redacted URL).
    pub target: &'a str,
}

impl<'a> Request<'a> {
    pub fn new(method: Method, url: Url, target: &'a str) -> Self {
        Self { method, url, headers: HeaderMap::new(), body: Body::Empty, target }
    }

    /// Adds a header; values that are not valid header text are dropped with a warning
    /// (the caller validates user-supplied values first).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
            (Ok(n), Ok(v)) => {
                self.headers.insert(n, v);
            }
            _ => tracing::warn!(header = name, "dropping a header whose name or value is not valid HTTP"),
        }
        self
    }

    pub fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }
}

/// An HTTP client: one connection pool and its configuration. Cloning is cheap and shares the
/// pool. It never follows redirects, so a credential goes only where the caller sends it.
#[derive(Clone, Debug)]
pub struct HttpClient {
    http: reqwest::Client,
    config: Arc<HttpConfig>,
    /// Downloads' own receive (see [`crate::receive`]), sharing this client's settings.
    pub(crate) receiver: Arc<crate::receive::Receiver>,
    /// A proxy is configured: only loopback URLs may skip it.
    pub(crate) proxied: bool,
    /// Downloads may receive directly (`FERRY_DIRECT_RECEIVE=off` turns it off, to compare or to
    /// rule it out).
    pub(crate) direct: bool,
}

/// Turns a response that is not a success into an error by meaning (each service reads its own
/// error bodies).
pub type Classify = for<'a> fn(Response, &'a str) -> BoxFuture<'a, StoreError>;

fn install_crypto_provider() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        // Fails only if another provider was installed first, which is equally fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl HttpClient {
    /// A client with its own connection pool.
    pub fn new(config: HttpConfig) -> Result<Self, StoreError> {
        install_crypto_provider();
        let proxy = proxy_from_env();
        let proxied = proxy.is_some();
        let builder = match proxy {
            Some(proxy) => reqwest::Client::builder().proxy(proxy),
            None => reqwest::Client::builder().no_proxy(),
        };
        let http = builder
            .pool_max_idle_per_host(config.max_idle_connections)
            // Shorter than the 5 s keep-alive of Node (Azurite and other emulators) and Apache: a
            // connection the server is closing as a request goes out on it is reset, and with the
            // request's body already sent that fails the attempt (seen in CI as ECONNRESET on a
            // Put Block). Busy connections never sit idle this long.
            .pool_idle_timeout(Duration::from_secs(4))
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.read_timeout)
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("ferry/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| StoreError::new(ErrorKind::Other, "HTTP client", e.to_string()).with_source(e))?;
        let receiver = Arc::new(crate::receive::Receiver::new(&config));
        let direct = std::env::var("FERRY_DIRECT_RECEIVE").map_or(true, |v| !v.trim().eq_ignore_ascii_case("off"));
        Ok(Self { http, config: Arc::new(config), receiver, proxied, direct })
    }

    /// The configuration in use.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    async fn build(&self, request: &Request<'_>, auth: &dyn Authorizer) -> Result<reqwest::Request, StoreError> {
        let mut url = request.url.clone();
        let mut headers = request.headers.clone();
        if request.method == Method::PUT || request.method == Method::POST || !request.body.is_empty() {
            headers.insert(CONTENT_LENGTH, HeaderValue::from(request.body.len()));
        }
        auth.authorize(&request.method, &mut url, &mut headers, request.target).await?;
        let mut builder = self.http.request(request.method.clone(), url).headers(headers);
        if let Some(body) = request.body.to_reqwest(request.target).await? {
            builder = builder.body(body);
        }
        builder
            .build()
            .map_err(|e| StoreError::new(ErrorKind::InvalidInput, request.target, describe_transport_error(&e)))
    }

    /// Sends a request, retrying failures that may pass, and returns the successful response or
    /// the last error (non-2xx responses become errors through `classify`). A 401 that the
    /// authorizer answers by dropping a cached credential is replayed once with a fresh one,
    /// outside the retry count.
    pub async fn send(
        &self,
        request: Request<'_>,
        auth: &dyn Authorizer,
        classify: Classify,
    ) -> Result<Response, StoreError> {
        self.send_ref(&request, auth, classify).await
    }

    /// Sends a GET and reads its small body (a listing page, a block list, a JSON resource) as
    /// text, at most `limit` bytes. Unlike [`Self::send`], whose retries end when the headers
    /// arrive, a body that breaks off or stalls part-way is asked for again, within the same
    /// retry policy: a listing page lost to one reset connection would otherwise fail the job.
    pub async fn get_small(
        &self,
        request: Request<'_>,
        auth: &dyn Authorizer,
        classify: Classify,
        limit: usize,
    ) -> Result<String, StoreError> {
        debug_assert_eq!(request.method, Method::GET, "only a read may be sent again after its answer began");
        let (started, policy) = (Instant::now(), self.config.retry);
        let mut retry = 0u32;
        loop {
            let response = self.send_ref(&request, auth, classify).await?;
            let error = match self.read_small(response, limit, request.target).await {
                Ok(text) => return Ok(text),
                Err(e) => e,
            };
            let delay = policy.delay(retry, None);
            let retryable = error.kind() == ErrorKind::Transient && request.method == Method::GET;
            if !retryable || retry >= policy.max_retries || started.elapsed() + delay > policy.max_elapsed {
                return Err(error);
            }
            retry += 1;
            tracing::warn!(
                target: "ferry::http",
                url = %RedactedUrl::new(request.url.clone()),
                retry,
                delay_ms = delay.as_millis() as u64,
                error = %error,
                "the response body broke off; asking again"
            );
            tokio::time::sleep(delay).await;
        }
    }

    async fn send_ref(
        &self,
        request: &Request<'_>,
        auth: &dyn Authorizer,
        classify: Classify,
    ) -> Result<Response, StoreError> {
        let started = Instant::now();
        let policy = self.config.retry;
        let shown_url = RedactedUrl::new(request.url.clone());
        let (mut retry, mut reauthorized) = (0u32, false);
        let observer = self.config.observer.as_deref();
        let operation = observer.map(|_| operation_of(&request.method, &request.url)).unwrap_or_default();
        loop {
            let built = self.build(request, auth).await?;
            let limit = self.config.attempt_timeout(request.body.len());
            let attempt = Instant::now();
            let executed = tokio::time::timeout(limit, self.http.execute(built)).await;
            if let Some(observer) = observer {
                let status = match &executed {
                    Ok(Ok(response)) => Some(response.status().as_u16()),
                    _ => None,
                };
                observer.attempt(&operation, status, attempt.elapsed());
            }
            let outcome = match executed {
                Ok(Ok(response)) if response.status().is_success() => return Ok(response),
                Ok(Ok(response)) => {
                    let status = response.status().as_u16();
                    let err = classify(response, request.target).await;
                    // 401, or a 403 that refuses the credential itself (an expired SAS or token):
                    // a credential that can be renewed is, once, and the request replayed.
                    let refused = status == 401 || (status == 403 && err.kind() == ErrorKind::Unauthenticated);
                    if refused && !reauthorized && request.body.replayable() && auth.unauthorized() {
                        reauthorized = true;
                        tracing::debug!(target: "ferry::http", url = %shown_url, "credential refused; retrying once with a fresh one");
                        continue;
                    }
                    if !self.config.retry.statuses.contains(status) {
                        return Err(err);
                    }
                    err
                }
                Ok(Err(e)) => {
                    let connect = e.is_connect();
                    let described = describe_transport_error(&e);
                    if is_untrusted_certificate(&described) {
                        // Not a network fault: retrying cannot help, and "check the host" misleads.
                        return Err(StoreError::new(ErrorKind::Other, request.target, described).with_hint(format!(
                            "the TLS certificate of {} is not trusted by this machine: install its CA in the system's store, or name a CA file with SSL_CERT_FILE",
                            endpoint_of(&request.url)
                        )));
                    }
                    let mut err = StoreError::new(ErrorKind::Transient, request.target, described);
                    if connect {
                        err = err.with_hint(format!(
                            "could not connect to {}: check the host and port in the URL, the network, and any proxy settings",
                            endpoint_of(&request.url)
                        ));
                    }
                    // A refused connection rarely heals within seconds; give it a few tries only.
                    if connect && retry >= policy.max_retries.min(3) {
                        return Err(err);
                    }
                    err
                }
                Err(_) => StoreError::new(
                    ErrorKind::Transient,
                    request.target,
                    format!("no response within {} s", limit.as_secs()),
                ),
            };
            let delay = policy.delay(retry, outcome.retry_after());
            let out_of_time = started.elapsed() + delay > policy.max_elapsed;
            if retry >= policy.max_retries || out_of_time || !request.body.replayable() {
                return Err(outcome);
            }
            retry += 1;
            if let Some(observer) = observer {
                observer.retry(&operation);
            }
            tracing::warn!(
                target: "ferry::http",
                method = %request.method,
                url = %shown_url,
                retry,
                delay_ms = delay.as_millis() as u64,
                error = %outcome,
                "retrying request"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// Reads a small response body (XML, JSON) as text within this client's response time.
    pub async fn read_small(&self, response: Response, limit: usize, target: &str) -> Result<String, StoreError> {
        read_text(response, limit, false, self.config.attempt_timeout(0), target).await
    }
}

/// The proxy named by `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` (either case), honouring
/// `NO_PROXY`, except that a loopback host (an emulator on this machine) is always reached
/// directly: a plain-`http` emulator URL and its SAS or signature must never travel in clear to
/// a proxy on another host.
fn proxy_from_env() -> Option<reqwest::Proxy> {
    let var = |names: &[&str]| names.iter().find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()));
    let http = var(&["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]);
    let https = var(&["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]);
    if http.is_none() && https.is_none() {
        return None;
    }
    let proxy = reqwest::Proxy::custom(move |url: &Url| {
        if ferry_core::is_loopback_url(url) {
            return None;
        }
        match url.scheme() {
            "https" => https.clone(),
            "http" => http.clone(),
            _ => None,
        }
    });
    Some(proxy.no_proxy(reqwest::NoProxy::from_env()))
}

/// The most of a listing or block-list body Ferry reads: a page of 5,000 entries with metadata
/// is a few MiB, so anything near this is not Azure Storage talking.
pub const MAX_XML_BODY: usize = 32 * 1024 * 1024;
/// The most of an error body Ferry reads; the rest is ignored.
pub const MAX_ERROR_BODY: usize = 64 * 1024;

/// Reads a small response body (XML) as text: at most `limit` bytes (beyond it, an error, or
/// with `truncate` the first `limit` bytes) and all of it within the attempt's response time,
/// so a server cannot make Ferry hold unbounded memory or wait forever on a body.
pub async fn read_text(
    mut response: reqwest::Response,
    limit: usize,
    truncate: bool,
    deadline: Duration,
    target: &str,
) -> Result<String, StoreError> {
    let mut body = Vec::new();
    let read = async {
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| StoreError::new(ErrorKind::Transient, target, describe_transport_error(&e)))?
        {
            if body.len() + chunk.len() > limit {
                if truncate {
                    body.extend_from_slice(&chunk[..limit - body.len()]);
                    return Ok(());
                }
                return Err(StoreError::new(
                    ErrorKind::Other,
                    target,
                    format!(
                        "the response body is larger than {} MiB, which no Azure Storage listing is; the endpoint is not behaving as Azure Storage",
                        limit / (1024 * 1024)
                    ),
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(())
    };
    match tokio::time::timeout(deadline, read).await {
        Ok(result) => result?,
        Err(_) => {
            return Err(StoreError::new(
                ErrorKind::Transient,
                target,
                format!("the response body did not arrive within {} s", deadline.as_secs_f64()),
            )
            .with_hint("a slow or stalled endpoint; AZCOPY_REQUEST_TRY_TIMEOUT sets the time allowed"));
        }
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// `scheme://host:port` of a URL, which never carries a secret.
fn endpoint_of(url: &Url) -> String {
    let mut shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    shown
}

/// Whether a transport error says the server's certificate was not trusted (rustls' words).
fn is_untrusted_certificate(described: &str) -> bool {
    ["invalid peer certificate", "UnknownIssuer", "certificate verify failed"].iter().any(|w| described.contains(w))
}

/// A transport error with its causes, without the request URL (which may carry a SAS).
pub fn describe_transport_error(err: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = if err.is_timeout() {
        "the request timed out".to_owned()
    } else if err.is_connect() {
        "connection failed".to_owned()
    } else if err.is_body() || err.is_decode() {
        "the response body broke off".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut source = err.source();
    while let Some(cause) = source {
        let piece = cause.to_string();
        if !text.contains(&piece) {
            text.push_str(": ");
            text.push_str(&piece);
        }
        source = cause.source();
    }
    ferry_core::redact_text(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempt_timeout_grows_with_the_body() {
        let c = HttpConfig::default();
        assert_eq!(c.attempt_timeout(0), c.response_timeout);
        assert_eq!(c.attempt_timeout(64 * 1024 * 1024), c.response_timeout + Duration::from_secs(1024));
    }

    #[test]
    fn endpoints_show_no_path_or_query() {
        let url = Url::parse("http://127.0.0.1:9/acct/box/blob?sig=SECRET").unwrap();
        assert_eq!(endpoint_of(&url), "http://127.0.0.1:9");
    }
}
