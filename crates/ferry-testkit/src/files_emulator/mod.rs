//! An Azure Files emulator: the File service's REST API for the operations Ferry and AzCopy use,
//! in memory, on loopback, for the development account (`devstoreaccount1`, Azurite's published
//! key) at `http://127.0.0.1:PORT/devstoreaccount1/SHARE/PATH`.
//!
//! No emulator of Azure Files exists in any registry (Azurite has no File service), so this one
//! is written from the REST specification — and trusted only as far as two independent clients
//! agree with it: the official Python SDK (`azure-storage-file-share`, driven over every
//! operation by `checks/files_sdk.py`) and AzCopy. `scripts/files-emulator PORT` runs it alone.
//!
//! Covered: shares (create with quota and metadata, properties, delete, list), directories
//! (create with SMB properties, properties, delete, list with prefix, marker, page size and the
//! `include` options), files (create with content headers, metadata and SMB properties, Put
//! Range up to 4 MiB with Content-MD5 checked, clear ranges, Put Range From URL, Get File with
//! ranges, properties, set properties and metadata, range list, delete), permissions (create and
//! get by key). Shared Key and SAS (share, file and account) are checked by signature.

mod auth;
mod files;
mod ops;
mod tree;
mod xml;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use tree::Account;

/// The account served.
pub const ACCOUNT: &str = "devstoreaccount1";
/// Its key (Azurite's published development key; not a secret).
pub const KEY: &str = ferry_azure::DEVELOPMENT_KEY;
/// The service version the emulator answers with.
const VERSION: &str = "2025-01-05";
/// The largest range one Put Range may write.
pub(crate) const MAX_RANGE: u64 = 4 * 1024 * 1024;

/// An error the service would answer.
#[derive(Debug)]
pub(crate) struct Failure {
    status: u16,
    code: &'static str,
    message: String,
}

impl Failure {
    pub(crate) fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }

    pub(crate) fn auth(message: &str) -> Self {
        Self::new(403, "AuthenticationFailed", message)
    }

    fn into_response(self, head: bool) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = if head {
            String::new()
        } else {
            format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{}</Code><Message>{}</Message></Error>",
                self.code,
                xml::escape(&self.message)
            )
        };
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert("x-ms-error-code", HeaderValue::from_static(self.code));
        headers.insert("content-type", HeaderValue::from_static("application/xml"));
        response
    }
}

/// A running emulator.
#[derive(Debug)]
pub struct FilesEmulator {
    addr: SocketAddr,
    state: Arc<Mutex<Account>>,
}

impl FilesEmulator {
    /// The emulator shared by every test in this binary, started on first use (on its own
    /// thread and runtime, so synchronous tests can use it too).
    pub fn shared() -> &'static FilesEmulator {
        static SHARED: OnceLock<FilesEmulator> = OnceLock::new();
        SHARED.get_or_init(|| Self::start_on(0).unwrap_or_else(|e| panic!("cannot start the Files emulator: {e}")))
    }

    /// Starts an emulator on `port` (0: a free one) in a thread of its own.
    pub fn start_on(port: u16) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(Account::default()));
        let served = state.clone();
        std::thread::Builder::new().name("files-emulator".into()).spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build();
            let Ok(runtime) = runtime else { return };
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
                let app = Router::new().fallback(handle).with_state(served);
                let _ = axum::serve(listener, app).await;
            });
        })?;
        Ok(Self { addr, state })
    }

    /// Serves on `port` until the process ends.
    pub async fn serve_forever(port: u16) -> std::io::Result<()> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let app = Router::new().fallback(handle).with_state(Arc::new(Mutex::new(Account::default())));
        axum::serve(listener, app).await
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The account's URL: `http://127.0.0.1:PORT/devstoreaccount1`.
    pub fn account_url(&self) -> String {
        format!("http://{}/{ACCOUNT}", self.addr)
    }

    /// A new share named `PREFIX-N`, made directly in the emulator's state.
    pub fn new_share(&self, prefix: &str) -> String {
        static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("{prefix}-{}-{n}", std::process::id());
        let mut account = self.state.lock().expect("never poisoned");
        let share = account.new_share(5120, Default::default());
        account.shares.insert(name.clone(), share);
        name
    }

    /// How many ranges of `share`'s files the emulator fetched from a URL (Put Range From URL).
    pub fn ranges_from_urls(&self, share: &str) -> u64 {
        let account = self.state.lock().expect("never poisoned");
        account.shares.get(share).map_or(0, |s| s.ranges_from_urls)
    }

    /// A SAS for the whole account with every permission, valid for a day.
    pub fn account_sas(&self) -> String {
        let key = ferry_azure::SharedKey::new(ACCOUNT, &ferry_core::Secret::new(KEY)).expect("base64 key");
        let start = ferry_azure::sas_time(time::OffsetDateTime::now_utc() - std::time::Duration::from_secs(60));
        let expiry = ferry_azure::sas_time(time::OffsetDateTime::now_utc() + std::time::Duration::from_secs(86_400));
        let (sv, ss, srt, sp) = ("2022-11-02", "f", "sco", "rwdlc");
        let to_sign = format!("{ACCOUNT}\n{sp}\n{ss}\n{srt}\n{start}\n{expiry}\n\n\n{sv}\n\n");
        let sig = key.sign(&to_sign);
        let enc = ferry_core::encoding::encode_component;
        format!("sv={sv}&ss={ss}&srt={srt}&sp={sp}&st={}&se={}&sig={}", enc(&start), enc(&expiry), enc(&sig))
    }
}

/// The request's query as decoded pairs.
fn query_pairs(url: &url::Url) -> Vec<(String, String)> {
    url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// One request, read whole (bodies are at most one 4 MiB range, or a small JSON or XML).
pub(crate) struct Call {
    pub(crate) method: Method,
    pub(crate) headers: HeaderMap,
    pub(crate) query: Vec<(String, String)>,
    /// The share, and the path below it in segments (decoded).
    pub(crate) share: Option<String>,
    pub(crate) path: Vec<String>,
    pub(crate) body: bytes::Bytes,
    pub(crate) base: String,
}

impl Call {
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn segments(&self) -> Vec<&str> {
        self.path.iter().map(String::as_str).collect()
    }
}

async fn handle(State(state): State<Arc<Mutex<Account>>>, request: Request) -> Response {
    let head = request.method() == Method::HEAD;
    match read(request).await {
        Ok(call) => {
            let result = {
                let mut account = state.lock().expect("never poisoned");
                ops::dispatch(&mut account, &call)
            };
            let result = match result {
                Ok(ops::Answer::FetchRange(fetch)) => files::put_range_from_url(&state, &call, fetch).await,
                other => other,
            };
            match result {
                Ok(answer) => answer.into_response(head),
                Err(failure) => failure.into_response(head),
            }
        }
        Err(failure) => failure.into_response(head),
    }
}

async fn read(request: Request) -> Result<Call, Failure> {
    let (parts, body) = request.into_parts();
    let host = parts.headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1").to_owned();
    let url = url::Url::parse(&format!("http://{host}{}", parts.uri))
        .map_err(|_| Failure::new(400, "InvalidUri", "the URL does not parse"))?;
    let query = query_pairs(&url);
    // An encoded `/` (`%2F`) separates path segments too, as the service reads it.
    let mut segments: Vec<String> = url
        .path_segments()
        .map(|s| s.map(decode).flat_map(|d| d.split('/').map(str::to_owned).collect::<Vec<_>>()).collect())
        .unwrap_or_default();
    if segments.first().map(String::as_str) != Some(ACCOUNT) {
        return Err(Failure::new(400, "InvalidUri", format!("the account must be {ACCOUNT}")));
    }
    segments.remove(0);
    let segments: Vec<String> = segments.into_iter().filter(|s| !s.is_empty()).collect();
    let (share, path) = match segments.split_first() {
        Some((share, rest)) => (Some(share.clone()), rest.to_vec()),
        None => (None, Vec::new()),
    };
    let resource = match &share {
        Some(s) => format!("/file/{ACCOUNT}/{s}{}", path.iter().map(|p| format!("/{p}")).collect::<String>()),
        None => format!("/file/{ACCOUNT}"),
    };
    auth::check(&parts.method, &url, &parts.headers, &query, &resource)?;
    let body = axum::body::to_bytes(Body::new(body), (MAX_RANGE + 1024 * 1024) as usize)
        .await
        .map_err(|_| Failure::new(413, "RequestBodyTooLarge", "the body is larger than 4 MiB"))?;
    Ok(Call {
        method: parts.method,
        headers: parts.headers,
        query,
        share,
        path,
        body,
        base: format!("http://{host}/{ACCOUNT}/"),
    })
}

fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment).decode_utf8_lossy().into_owned()
}
