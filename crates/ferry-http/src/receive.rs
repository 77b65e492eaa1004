//! A GET received straight into a file: the fast path of a download.
//!
//! Measured apart (`bench/receive-ceiling`, README → Performance), what a large download costs
//! beyond the hash is mostly where the body lands: hyper reads up to ~400 KiB at a time into
//! fresh memory and the pieces cross the async runtime before they are written, while a socket
//! read into one reused 32 KiB buffer, written out at once while it is in the CPU's cache, costs
//! about 0.5 CPU-s per GiB less. The sockets are the async runtime's (non-blocking, read on its
//! few threads as they become ready), not one blocking thread each: on the 1 GiB download that
//! took ~0.15 CPU-s and ~10% of the wall time off (README → Performance). So this module owns
//! that much of HTTP/1.1, and no more: it
//! sends one GET on its own keep-alive connections (plain or rustls, verified as reqwest
//! verifies) and takes the answer only when it is the plain success the caller expects — the
//! status, exactly the range and length asked for, a `Content-Length` body. Anything else (an
//! error answer, another length, a chunked body, a break, a stall, a refused connection) is
//! reported as not taken, and the caller asks again through [`crate::HttpClient`], which has the
//! retries, the error classification, the re-authorization and the resumption. So the rules of
//! HTTP that matter for correctness stay in one place, and this path can only be faster.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use ferry_core::PositionalSink;
use reqwest::header::HeaderMap;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpStream;
use url::Url;

/// The most of a body read at a time into the connection's buffer: small enough to stay in a
/// core's cache between the socket read and the write (32 KiB cost ~0.5 CPU-s per GiB less than
/// 1 MiB).
const BODY_READ: usize = 32 * 1024;
/// The most a response head may take; Azure's, with metadata, are a few KiB.
const HEAD_MOST: usize = 64 * 1024;
/// How long a connection may sit idle and still be used: shorter than the 5 s keep-alive of
/// Node (Azurite) and Apache, as the main client's pool (a reset on reuse is a fallback here,
/// but a needless one).
const IDLE_MOST: Duration = Duration::from_secs(4);

/// What the answer must be for its body to be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expect {
    /// Where the body goes in the sink (the range's first byte).
    pub offset: u64,
    /// The body's exact length.
    pub len: u64,
    /// A range was asked for: the answer must be 206 with a `Content-Range` from `offset`;
    /// otherwise 200.
    pub ranged: bool,
    /// The header naming the answer's version (`etag`, a generation), returned with a break so
    /// the rest can be asked for on the same version.
    pub version_header: &'static str,
}

impl Expect {
    /// What a read of `range` must answer: all of the object when `whole` (asked for with no
    /// range), else the range; the object's version is named by `version_header`.
    pub fn new(range: &std::ops::Range<u64>, whole: bool, version_header: &'static str) -> Self {
        Self { offset: range.start, len: range.end - range.start, ranged: !whole, version_header }
    }

    /// The `bytes=FIRST-LAST` to ask for, when a range is asked for.
    pub fn range_header(&self) -> Option<String> {
        (self.ranged && self.len > 0).then(|| format!("bytes={}-{}", self.offset, self.offset + self.len - 1))
    }
}

/// Ends a store's direct read of `range` ([`crate::HttpClient::get_into`] gave `direct`): a
/// body that broke off is completed from its first missing byte on the same version —
/// `ask_rest(bytes, version)` sends that read, resumed again if it breaks as
/// [`crate::resuming_body`] resumes — and written into `sink`. Returns whether the range is in
/// the sink; `false` when the direct read was not taken, or broke with no version to hold the
/// rest to (the caller then reads it all again).
pub async fn finish_direct<F, Fut>(
    direct: Direct,
    range: std::ops::Range<u64>,
    sink: Arc<dyn PositionalSink>,
    target: &str,
    version_header: &str,
    policy: crate::RetryPolicy,
    ask_rest: F,
) -> Result<bool, ferry_core::StoreError>
where
    F: Fn(String, Option<String>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<reqwest::Response, ferry_core::StoreError>> + Send,
{
    let (done, version) = match direct {
        Direct::All => return Ok(true),
        Direct::NotTaken | Direct::Broken { version: None, .. } => return Ok(false),
        Direct::Broken { done, version: Some(version) } => (done, version),
    };
    let rest = range.start + done..range.end;
    let first = ask_rest(format!("bytes={}-{}", rest.start, rest.end - 1), Some(version)).await?;
    let body = crate::resuming_body(first, target, Some(rest.clone()), version_header, policy, ask_rest);
    write_stream_at(body, sink, rest, target).await?;
    Ok(true)
}

/// Writes `stream`, which must hold exactly `range`'s bytes, into `sink` at the range's offsets,
/// each piece from the blocking pool (the rare rest of a receive that broke off).
async fn write_stream_at(
    mut stream: crate::ByteStream,
    sink: Arc<dyn PositionalSink>,
    range: std::ops::Range<u64>,
    target: &str,
) -> Result<(), ferry_core::StoreError> {
    use ferry_core::{ErrorKind, StoreError};
    use futures::TryStreamExt as _;
    let (mut at, len) = (range.start, range.end - range.start);
    while let Some(piece) = stream.try_next().await? {
        if at + piece.len() as u64 > range.end {
            let message = format!("more than the {len} bytes of range {}..{} arrived", range.start, range.end);
            return Err(StoreError::new(ErrorKind::Other, target, message));
        }
        let (sink, offset, piece_len) = (sink.clone(), at, piece.len() as u64);
        tokio::task::spawn_blocking(move || sink.write_at(offset, &piece))
            .await
            .map_err(|e| StoreError::new(ErrorKind::Other, target, format!("the writer thread failed: {e}")))?
            .map_err(|e| StoreError::from_io(e, target))?;
        at += piece_len;
    }
    if at != range.end {
        let message =
            format!("{} of the {len} bytes of range {}..{} arrived", at - range.start, range.start, range.end);
        return Err(StoreError::new(ErrorKind::Transient, target, message));
    }
    Ok(())
}

/// How a direct receive went ([`crate::HttpClient::get_into`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Direct {
    /// All of the body is in the sink.
    All,
    /// Nothing usable arrived: read the range by the ordinary path.
    NotTaken,
    /// The answer was the expected one, and its body broke off (a reset, a stall) after `done`
    /// bytes, which are in the sink: ask for the rest, on `version` (the answer's value of
    /// [`Expect::version_header`]), as a broken stream is resumed.
    Broken {
        /// Bytes of the body in the sink.
        done: u64,
        /// The version of the object the bytes are from, if the answer named it.
        version: Option<String>,
    },
}

/// How a receive went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Received {
    /// All of the body is in the sink; the answer's status.
    All(u16),
    /// Not taken, and why (for the debug log); the status if an answer came.
    NotTaken(&'static str, Option<u16>),
    /// The expected answer, whose body broke off (why) after some bytes; see [`Direct::Broken`].
    Broken { why: &'static str, status: u16, done: u64, version: Option<String> },
}

/// Connection settings and the idle connections, shared by every receive of one client.
#[derive(Debug)]
pub(crate) struct Receiver {
    connect_timeout: Duration,
    response_timeout: Duration,
    read_timeout: Duration,
    max_idle: usize,
    idle: Mutex<Vec<Idle>>,
    tls: OnceLock<Option<Arc<rustls::ClientConfig>>>,
}

struct Idle {
    origin: Origin,
    conn: Conn,
    since: Instant,
}

impl std::fmt::Debug for Idle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idle").field("origin", &self.origin).field("since", &self.since).finish_non_exhaustive()
    }
}

/// Where a connection goes: scheme, host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    tls: bool,
    host: url::Host<String>,
    port: u16,
}

impl Origin {
    fn of(url: &Url) -> Option<Self> {
        let tls = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => return None,
        };
        Some(Self { tls, host: url.host()?.to_owned(), port: url.port_or_known_default()? })
    }

    async fn addresses(&self) -> std::io::Result<Vec<SocketAddr>> {
        Ok(match &self.host {
            url::Host::Domain(name) => tokio::net::lookup_host((name.as_str(), self.port)).await?.collect(),
            url::Host::Ipv4(ip) => vec![SocketAddr::from((*ip, self.port))],
            url::Host::Ipv6(ip) => vec![SocketAddr::from((*ip, self.port))],
        })
    }
}

/// A connection, plain or TLS, with the buffer its answers are read into (reused while it lives).
struct Conn {
    io: Box<dyn Io>,
    buffer: Vec<u8>,
}

/// A socket the runtime reads and writes without blocking.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The parts of an answer's head this path looks at.
struct Head {
    status: u16,
    /// Its length in the buffer; the body's first bytes follow it.
    len: usize,
    content_length: Option<u64>,
    content_range: Option<String>,
    chunked: bool,
    close: bool,
    /// The value of the version header asked for.
    version: Option<String>,
}

impl Receiver {
    pub(crate) fn new(config: &crate::HttpConfig) -> Self {
        Self {
            connect_timeout: config.connect_timeout,
            response_timeout: config.response_timeout,
            read_timeout: config.read_timeout,
            max_idle: config.max_idle_connections,
            idle: Mutex::new(Vec::new()),
            tls: OnceLock::new(),
        }
    }

    /// Sends the GET of `url` with `headers` (authorized already) and receives its body into
    /// `sink` if the answer is what `expect` says. Dropping the future stops it at once.
    pub(crate) async fn get(
        &self,
        url: &Url,
        headers: &HeaderMap,
        expect: Expect,
        sink: &dyn PositionalSink,
    ) -> Received {
        let Some(origin) = Origin::of(url) else { return Received::NotTaken("not http or https", None) };
        let request = request_head(url, headers);
        let (mut conn, head, filled) = match self.send(&origin, &request, expect.version_header).await {
            Ok(sent) => sent,
            Err(why) => return Received::NotTaken(why, None),
        };
        let status = head.status;
        if let Err(why) = acceptable(&head, expect) {
            return Received::NotTaken(why, Some(status));
        }
        match receive_body(&mut conn, head.len..filled, expect, sink, self.read_timeout).await {
            Ok(()) if !head.close => self.keep(origin, conn),
            Ok(()) => {}
            Err((why, 0)) => return Received::NotTaken(why, Some(status)),
            Err((why, done)) => return Received::Broken { why, status, done, version: head.version },
        }
        Received::All(status)
    }

    /// Sends `request` on an idle connection to `origin` (again on a new one if that was closed
    /// meanwhile) or a new one, and reads the answer's head into the connection's buffer.
    /// Returns the connection, the head, and how much of the buffer is filled.
    async fn send(
        &self,
        origin: &Origin,
        request: &[u8],
        version_header: &str,
    ) -> Result<(Conn, Head, usize), &'static str> {
        let timeout = self.response_timeout;
        if let Some(mut conn) = self.take_idle(origin)
            && let Ok((head, filled)) = exchange(&mut conn, request, timeout, version_header).await
        {
            return Ok((conn, head, filled));
        }
        let mut conn = self.connect(origin).await?;
        let (head, filled) = exchange(&mut conn, request, timeout, version_header).await?;
        Ok((conn, head, filled))
    }

    fn take_idle(&self, origin: &Origin) -> Option<Conn> {
        let mut idle = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        idle.retain(|c| c.since.elapsed() < IDLE_MOST);
        let at = idle.iter().rposition(|c| c.origin == *origin)?;
        Some(idle.swap_remove(at).conn)
    }

    fn keep(&self, origin: Origin, conn: Conn) {
        let mut idle = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < self.max_idle {
            idle.push(Idle { origin, conn, since: Instant::now() });
        }
    }

    async fn connect(&self, origin: &Origin) -> Result<Conn, &'static str> {
        let limit = self.connect_timeout;
        let addresses = tokio::time::timeout(limit, origin.addresses())
            .await
            .map_err(|_| "the host did not resolve in time")?
            .map_err(|_| "the host did not resolve")?;
        let mut tcp = None;
        for address in addresses {
            if let Ok(Ok(connected)) = tokio::time::timeout(limit, TcpStream::connect(address)).await {
                tcp = Some(connected);
                break;
            }
        }
        let tcp = tcp.ok_or("no connection")?;
        let _ = tcp.set_nodelay(true);
        let buffer = vec![0; HEAD_MOST];
        if !origin.tls {
            return Ok(Conn { io: Box::new(tcp), buffer });
        }
        let config = self.tls_config().ok_or("no TLS configuration")?;
        let name = match &origin.host {
            url::Host::Domain(name) => rustls::pki_types::ServerName::try_from(name.clone()),
            url::Host::Ipv4(ip) => Ok(rustls::pki_types::ServerName::from(std::net::IpAddr::from(*ip))),
            url::Host::Ipv6(ip) => Ok(rustls::pki_types::ServerName::from(std::net::IpAddr::from(*ip))),
        }
        .map_err(|_| "not a TLS server name")?;
        let handshake = tokio_rustls::TlsConnector::from(config).connect(name, tcp);
        let tls = tokio::time::timeout(self.response_timeout, handshake)
            .await
            .map_err(|_| "the TLS handshake took too long")?
            .map_err(|_| "the TLS handshake failed")?;
        Ok(Conn { io: Box::new(tls), buffer })
    }

    /// The TLS settings reqwest uses (the platform's verifier, the process's crypto provider),
    /// offering HTTP/1.1 only.
    fn tls_config(&self) -> Option<Arc<rustls::ClientConfig>> {
        self.tls
            .get_or_init(|| {
                use rustls_platform_verifier::ConfigVerifierExt as _;
                let mut config = rustls::ClientConfig::with_platform_verifier().ok()?;
                config.alpn_protocols = vec![b"http/1.1".to_vec()];
                Some(Arc::new(config))
            })
            .clone()
    }
}

impl crate::HttpClient {
    /// Sends the GET `request` and, if the answer is the plain success `expect` describes,
    /// receives its body into `sink`, each piece written as it arrives.
    /// When it did not (a proxy in the way, an error answer, another length), the caller asks
    /// again by [`Self::send`], and whatever was written is overwritten; when the body broke off,
    /// it asks for the rest.
    /// Dropping the future stops the receive at once.
    pub async fn get_into(
        &self,
        request: crate::Request<'_>,
        auth: &dyn crate::Authorizer,
        expect: Expect,
        sink: Arc<dyn PositionalSink>,
    ) -> Direct {
        if !self.direct || (self.proxied && !ferry_core::is_loopback_url(&request.url)) {
            return Direct::NotTaken;
        }
        let (mut url, mut headers) = (request.url, request.headers);
        let method = reqwest::Method::GET;
        if auth.authorize(&method, &mut url, &mut headers, request.target).await.is_err() {
            return Direct::NotTaken;
        }
        let observer = self.config().observer.clone();
        let started = Instant::now();
        let operation = crate::operation_of(&method, &url);
        let received = self.receiver.get(&url, &headers, expect, &*sink).await;
        let status = match &received {
            Received::All(status) | Received::Broken { status, .. } => Some(*status),
            Received::NotTaken(_, status) => *status,
        };
        if let (Some(observer), Some(status)) = (observer, status) {
            observer.attempt(&operation, Some(status), started.elapsed());
        }
        let target = request.target;
        match received {
            Received::All(_) => {
                tracing::debug!(target: "ferry::http", object = %target, bytes = expect.len, "the body went straight to the file");
                Direct::All
            }
            Received::NotTaken(why, status) => {
                tracing::debug!(target: "ferry::http", object = %target, why, ?status, "not received directly; reading it again");
                Direct::NotTaken
            }
            Received::Broken { why, done, version, .. } => {
                tracing::debug!(target: "ferry::http", object = %target, why, done, "the body broke off; asking for the rest");
                Direct::Broken { done, version }
            }
        }
    }
}

/// The request's head: the GET line, `Host`, the user agent and `headers`.
fn request_head(url: &Url, headers: &HeaderMap) -> Vec<u8> {
    let target = &url[url::Position::BeforePath..url::Position::AfterQuery];
    let host = &url[url::Position::BeforeHost..url::Position::AfterPort];
    let mut head = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\n").into_bytes();
    head.extend_from_slice(concat!("User-Agent: ferry/", env!("CARGO_PKG_VERSION"), "\r\n").as_bytes());
    for (name, value) in headers {
        if name == reqwest::header::HOST || name == reqwest::header::CONNECTION {
            continue;
        }
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    head
}

/// Writes `request` on `conn` and reads the answer's head (and maybe some body) into its buffer,
/// all within `response_timeout`.
async fn exchange(
    conn: &mut Conn,
    request: &[u8],
    response_timeout: Duration,
    version_header: &str,
) -> Result<(Head, usize), &'static str> {
    let Conn { io, buffer } = conn;
    let exchange = async {
        io.write_all(request).await.map_err(|_| "the request could not be sent")?;
        io.flush().await.map_err(|_| "the request could not be sent")?;
        let mut filled = 0;
        loop {
            let got = match io.read(&mut buffer[filled..]).await {
                Ok(0) => return Err("the connection closed before an answer"),
                Ok(got) => got,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return Err("no answer"),
            };
            filled += got;
            if let Some(head) = parse_head(&buffer[..filled], version_header)? {
                return Ok((head, filled));
            }
            if filled == buffer.len() {
                return Err("the answer's head is too long");
            }
        }
    };
    tokio::time::timeout(response_timeout, exchange).await.map_err(|_| "no answer in time")?
}

/// The head at the start of `data`, `None` if it is not all there yet.
fn parse_head(data: &[u8], version_header: &str) -> Result<Option<Head>, &'static str> {
    let mut fields = [httparse::EMPTY_HEADER; 96];
    let mut response = httparse::Response::new(&mut fields);
    let len = match response.parse(data).map_err(|_| "the answer's head is not HTTP")? {
        httparse::Status::Complete(len) => len,
        httparse::Status::Partial => return Ok(None),
    };
    let status = response.code.ok_or("no status")?;
    let mut head =
        Head { status, len, content_length: None, content_range: None, chunked: false, close: false, version: None };
    head.close = response.version != Some(1);
    for field in response.headers.iter() {
        let value = std::str::from_utf8(field.value).map_err(|_| "a header is not text")?.trim();
        let name = field.name;
        if name.eq_ignore_ascii_case("content-length") {
            let length = value.parse().map_err(|_| "a bad Content-Length")?;
            if head.content_length.is_some_and(|l| l != length) {
                return Err("two Content-Lengths");
            }
            head.content_length = Some(length);
        } else if name.eq_ignore_ascii_case("content-range") {
            head.content_range = Some(value.to_owned());
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            head.chunked = true;
        } else if name.eq_ignore_ascii_case("connection") {
            head.close |= value.split(',').any(|v| v.trim().eq_ignore_ascii_case("close"));
        } else if name.eq_ignore_ascii_case(version_header) {
            head.version = Some(value.to_owned());
        }
    }
    Ok(Some(head))
}

/// Whether `head` is the plain success `expect` describes.
fn acceptable(head: &Head, expect: Expect) -> Result<(), &'static str> {
    if expect.len == 0 {
        return Err("nothing to receive");
    }
    let wanted = if expect.ranged { 206 } else { 200 };
    if head.status != wanted {
        return Err("another status");
    }
    if head.chunked || head.content_length != Some(expect.len) {
        return Err("another length");
    }
    if expect.ranged {
        let from = format!("bytes {}-{}/", expect.offset, expect.offset + expect.len - 1);
        if !head.content_range.as_deref().is_some_and(|r| r.starts_with(&from)) {
            return Err("another range");
        }
    }
    Ok(())
}

/// Writes the body's bytes already in the connection's buffer (`first`), then reads the rest
/// into the buffer (at most [`BODY_READ`] at a time, each read within `read_timeout`) and writes
/// each piece at once, until `expect.len` bytes are in. A failure says why and how many bytes are
/// in the sink (0 unless the body itself broke off).
///
/// The writes are made on the runtime's thread: a piece is at most 32 KiB into the page cache
/// (and its hash), shorter than handing it to another thread would cost.
async fn receive_body(
    conn: &mut Conn,
    first: std::ops::Range<usize>,
    expect: Expect,
    sink: &dyn PositionalSink,
    read_timeout: Duration,
) -> Result<(), (&'static str, u64)> {
    let Conn { io, buffer } = conn;
    let already = (first.end - first.start) as u64;
    if already > expect.len {
        return Err(("more than the length", 0));
    }
    // A failed write is not a break: the ordinary path meets it again and reports it.
    sink.write_at(expect.offset, &buffer[first]).map_err(|_| ("the write failed", 0))?;
    let mut done = already;
    while done < expect.len {
        let want = usize::try_from(expect.len - done).unwrap_or(usize::MAX).min(BODY_READ);
        let got = match tokio::time::timeout(read_timeout, io.read(&mut buffer[..want])).await {
            Err(_) => return Err(("the body stalled", done)),
            Ok(Ok(0)) => return Err(("the body ended early", done)),
            Ok(Ok(got)) => got,
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Ok(Err(_)) => return Err(("the body broke off", done)),
        };
        sink.write_at(expect.offset + done, &buffer[..got]).map_err(|_| ("the write failed", 0))?;
        done += got as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Head {
        parse_head(text.as_bytes(), "etag").unwrap().unwrap()
    }

    #[test]
    fn only_the_expected_success_is_taken() {
        let ranged = Expect { offset: 10, len: 5, ranged: true, version_header: "etag" };
        let ok = "HTTP/1.1 206 Partial Content\r\nContent-Length: 5\r\nContent-Range: bytes 10-14/100\r\n\r\n";
        assert_eq!(acceptable(&head(ok), ranged), Ok(()));
        let other_range = "HTTP/1.1 206 Partial Content\r\nContent-Length: 5\r\nContent-Range: bytes 0-4/100\r\n\r\n";
        assert!(acceptable(&head(other_range), ranged).is_err());
        let whole = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
        assert!(acceptable(&head(whole), ranged).is_err());
        let all = Expect { offset: 0, len: 100, ranged: false, version_header: "etag" };
        assert_eq!(acceptable(&head(whole), all), Ok(()));
        let grown = "HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n";
        assert!(acceptable(&head(grown), all).is_err());
        let chunked = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert!(acceptable(&head(chunked), all).is_err());
        let refused = "HTTP/1.1 403 Forbidden\r\nContent-Length: 100\r\n\r\n";
        assert!(acceptable(&head(refused), all).is_err());
    }

    #[test]
    fn heads_are_read_whole_and_closing_answers_are_noticed() {
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Le", "etag").unwrap().is_none());
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "etag").is_err());
        assert!(head("HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\n\r\n").close);
        assert!(head("HTTP/1.0 200 OK\r\n\r\n").close);
        assert!(!head("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\n").close);
        assert_eq!(head("HTTP/1.1 200 OK\r\nETag: \"0x8D\"\r\n\r\n").version.as_deref(), Some("\"0x8D\""));
    }

    #[test]
    fn the_request_names_the_path_query_and_host_and_no_connection_header() {
        let url = Url::parse("http://127.0.0.1:9/acct/box/a%20b?sv=1&sig=x").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-ms-range", "bytes=0-9".parse().unwrap());
        headers.insert("connection", "close".parse().unwrap());
        let text = String::from_utf8(request_head(&url, &headers)).unwrap();
        assert!(text.starts_with("GET /acct/box/a%20b?sv=1&sig=x HTTP/1.1\r\nHost: 127.0.0.1:9\r\n"), "{text}");
        assert!(text.contains("\r\nx-ms-range: bytes=0-9\r\n") && text.ends_with("\r\n\r\n"), "{text}");
        assert!(!text.to_ascii_lowercase().contains("connection"), "{text}");
    }
}
