//! A loopback HTTP/1.1 proxy in front of Azurite that injects the faults the real service
//! cannot be made to produce on demand.
//!
//! It reads each request, asks its [`FaultPlan`] whether this request gets a fault, and either
//! answers for the service (503 ServerBusy, 500 OperationTimedOut), misbehaves (resets the
//! connection before answering or in the middle of the body, stalls without answering, cuts the
//! body short, sends it slowly), or forwards it untouched. Rules match by method, query or path
//! and fire always, on the n-th match, on the first n matches, or at a rate drawn from a seeded
//! generator, so a run is repeatable. It counts requests, faults per rule, and bytes forwarded.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod from_url;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::{TcpListener, TcpStream};

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `503 ServerBusy`, with `Retry-After: N` seconds when given.
    Busy {
        /// Seconds for the `Retry-After` header, or none.
        retry_after: Option<u32>,
    },
    /// `500 OperationTimedOut`.
    OperationTimedOut,
    /// The connection is reset after the request arrives, before any answer.
    ResetBeforeResponse,
    /// The service's answer is forwarded, and the connection reset halfway through its body.
    ResetMidBody,
    /// The request is read and never answered (the connection stays open).
    Stall,
    /// The answer's headers promise the whole body; half of it is sent and the connection closed.
    TruncateBody,
    /// The answer is sent at this many bytes per second.
    Slow {
        /// Bytes per second.
        bytes_per_second: u64,
    },
}

/// Which requests a rule looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// Every request.
    Any,
    /// Requests with this method (`GET`, `PUT`, `DELETE`, `HEAD`).
    Method(&'static str),
    /// Requests whose query contains this text (`comp=block`, `comp=list`).
    Query(&'static str),
    /// Requests whose path contains this text.
    Path(String),
    /// Requests with this method whose query does not contain `comp=` (blob reads and writes).
    BlobData(&'static str),
}

/// When a matching request gets the fault.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum When {
    /// Every time.
    Always,
    /// The n-th matching request only (1-based).
    Nth(usize),
    /// The first n matching requests.
    FirstN(usize),
    /// Each matching request with this probability (from the plan's seed).
    Rate(f64),
}

/// One rule: a fault, for which requests, and when.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// What to do.
    pub fault: Fault,
    /// To which requests.
    pub selector: Selector,
    /// How often.
    pub when: When,
}

impl Rule {
    /// A rule.
    pub fn new(fault: Fault, selector: Selector, when: When) -> Self {
        Self { fault, selector, when }
    }
}

/// Rules in order (the first that fires wins) and the seed for `When::Rate`.
#[derive(Debug, Clone, Default)]
pub struct FaultPlan {
    /// The rules.
    pub rules: Vec<Rule>,
    /// Seed of the generator behind `When::Rate`.
    pub seed: u64,
}

struct Shared {
    plan: FaultPlan,
    matched: Vec<AtomicUsize>,
    injected: Vec<AtomicUsize>,
    random: Mutex<u64>,
    requests: AtomicUsize,
    connections: AtomicUsize,
    forwarded: AtomicU64,
    active: AtomicUsize,
    /// The heads of the first requests (request line and headers), for checking their shape.
    heads: Mutex<Vec<String>>,
    /// Snapshots play blob versions (see [`FaultProxy::versioning`]).
    versioning: bool,
    /// Copy sources on other hosts are fetched as Azure would (see [`FaultProxy::from_url`]).
    from_url: bool,
    /// How many of the first source fetches wait, and how long each.
    fetch_delays: Mutex<(usize, Duration)>,
}

/// How many request heads a proxy keeps.
const HEADS_KEPT: usize = 10_000;

impl Shared {
    /// The wait before the next source fetch, if the first fetches are to wait.
    fn next_fetch_delay(&self) -> Option<Duration> {
        let mut delays = self.fetch_delays.lock().ok()?;
        if delays.0 == 0 {
            return None;
        }
        delays.0 -= 1;
        Some(delays.1)
    }

    fn next_random(&self) -> f64 {
        let mut state = self.random.lock().expect("never poisoned");
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        #[allow(clippy::cast_precision_loss)]
        let unit = (*state >> 11) as f64 / (1u64 << 53) as f64;
        unit
    }

    /// The fault for this request, if a rule fires.
    fn decide(&self, head: &RequestHead) -> Option<Fault> {
        for (i, rule) in self.plan.rules.iter().enumerate() {
            let hit = match &rule.selector {
                Selector::Any => true,
                Selector::Method(m) => head.method.eq_ignore_ascii_case(m),
                Selector::Query(q) => head.query().contains(q),
                Selector::Path(p) => head.path().contains(p.as_str()),
                Selector::BlobData(m) => head.method.eq_ignore_ascii_case(m) && !head.query().contains("comp="),
            };
            if !hit {
                continue;
            }
            let n = self.matched[i].fetch_add(1, Ordering::SeqCst) + 1;
            let fire = match rule.when {
                When::Always => true,
                When::Nth(k) => n == k,
                When::FirstN(k) => n <= k,
                When::Rate(p) => self.next_random() < p,
            };
            if fire {
                self.injected[i].fetch_add(1, Ordering::SeqCst);
                return Some(rule.fault);
            }
        }
        None
    }
}

/// What a proxy plays besides faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Play {
    None,
    Versioning,
    FromUrl,
}

/// A running fault proxy. Dropping it stops accepting connections.
pub struct FaultProxy {
    port: u16,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FaultProxy(:{})", self.port)
    }
}

impl FaultProxy {
    /// A proxy to `upstream_port` on 127.0.0.1 that answers the first `busy` requests with 503.
    pub async fn start(upstream_port: u16, busy: usize) -> std::io::Result<Self> {
        let rule = Rule::new(Fault::Busy { retry_after: Some(0) }, Selector::Any, When::FirstN(busy));
        Self::with_plan(upstream_port, FaultPlan { rules: vec![rule], seed: 1 }).await
    }

    /// A proxy to `upstream_port` on 127.0.0.1 that injects no faults but plays blob versioning,
    /// which Azurite lacks, with snapshots: take a snapshot after each write, and the snapshots
    /// are the blob's versions, the newest its current one (`include=versions`, `versionid=`);
    /// and soft delete: what has the metadata `softdeleted=true` is listed only with
    /// `include=deleted`, marked deleted, and `deletetype=permanent` deletes it. Requests must
    /// carry a SAS: rewritten queries would break a Shared Key signature.
    pub async fn versioning(upstream_port: u16) -> std::io::Result<Self> {
        Self::start_with(upstream_port, FaultPlan::default(), Play::Versioning).await
    }

    /// A proxy to `upstream_port` on 127.0.0.1 that does what Azure does and Azurite will not:
    /// fetch a server-side copy's source from another host (Copy Blob From URL, Put Block From
    /// URL), with Azure's `CannotVerifyCopySource` when the source refuses or cannot be reached.
    /// The destination's requests must carry a SAS: their headers and body change on the way.
    pub async fn from_url(upstream_port: u16) -> std::io::Result<Self> {
        Self::start_with(upstream_port, FaultPlan::default(), Play::FromUrl).await
    }

    /// A proxy to `upstream_port` on 127.0.0.1 that follows `plan`.
    pub async fn with_plan(upstream_port: u16, plan: FaultPlan) -> std::io::Result<Self> {
        Self::start_with(upstream_port, plan, Play::None).await
    }

    async fn start_with(upstream_port: u16, plan: FaultPlan, play: Play) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let rules = plan.rules.len();
        let seed = plan.seed.max(1);
        let shared = Arc::new(Shared {
            plan,
            matched: (0..rules).map(|_| AtomicUsize::new(0)).collect(),
            injected: (0..rules).map(|_| AtomicUsize::new(0)).collect(),
            random: Mutex::new(seed),
            requests: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
            forwarded: AtomicU64::new(0),
            active: AtomicUsize::new(0),
            heads: Mutex::new(Vec::new()),
            versioning: play == Play::Versioning,
            from_url: play == Play::FromUrl,
            fetch_delays: Mutex::new((0, Duration::ZERO)),
        });
        let state = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                state.connections.fetch_add(1, Ordering::SeqCst);
                state.active.fetch_add(1, Ordering::SeqCst);
                let state = state.clone();
                tokio::spawn(async move {
                    let _ = serve(client, upstream_port, &state).await;
                    state.active.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Ok(Self { port, shared, task })
    }

    /// A [`FaultProxy::from_url`] proxy makes its first `count` source fetches wait `delay`
    /// first (a presigned URL can expire before the service reads it, as on a slow service).
    pub fn delay_first_fetches(&self, count: usize, delay: Duration) {
        if let Ok(mut delays) = self.shared.fetch_delays.lock() {
            *delays = (count, delay);
        }
    }

    /// The port to send requests to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// The heads (request line and headers) of the requests read so far (the first 10,000).
    pub fn heads(&self) -> Vec<String> {
        self.shared.heads.lock().map(|h| h.clone()).unwrap_or_default()
    }

    /// Requests read so far.
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Faults injected by each rule, in the plan's order.
    pub fn injected(&self) -> Vec<usize> {
        self.shared.injected.iter().map(|n| n.load(Ordering::SeqCst)).collect()
    }

    /// Faults injected in all.
    pub fn total_injected(&self) -> usize {
        self.injected().iter().sum()
    }

    /// Faults a `start(port, busy)` proxy has yet to inject.
    pub fn faults_left(&self) -> usize {
        match self.shared.plan.rules.first() {
            Some(Rule { when: When::FirstN(n), .. }) => n.saturating_sub(self.injected()[0]),
            _ => 0,
        }
    }

    /// Bytes forwarded in both directions (request and answer bodies and heads).
    pub fn bytes_forwarded(&self) -> u64 {
        self.shared.forwarded.load(Ordering::SeqCst)
    }

    /// Waits (up to `limit`) until every connection has closed, so counts are final.
    pub async fn wait_idle(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while self.shared.active.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A request's first line and headers, as received.
struct RequestHead {
    raw: Vec<u8>,
    method: String,
    target: String,
    content_length: Option<u64>,
    chunked: bool,
}

impl RequestHead {
    /// Turns versions into snapshots in the target and takes soft delete out (see
    /// [`FaultProxy::versioning`]); returns what the request asked for.
    fn play_versions(&mut self) -> crate::versioning::Rewritten {
        let asked = crate::versioning::request_target(&self.target);
        if asked.target != self.target {
            let text = String::from_utf8_lossy(&self.raw).into_owned();
            self.raw = text.replacen(&self.target, &asked.target, 1).into_bytes();
            self.target.clone_from(&asked.target);
        }
        asked
    }

    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }
}

/// Reads a head (through the blank line); `None` at a clean end of the connection.
async fn read_head(reader: &mut BufReader<OwnedReadHalf>) -> std::io::Result<Option<(Vec<u8>, Vec<String>)>> {
    let mut raw = Vec::new();
    let mut lines = Vec::new();
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return if raw.is_empty() { Ok(None) } else { Err(std::io::ErrorKind::UnexpectedEof.into()) };
        }
        raw.extend_from_slice(&line);
        let text = String::from_utf8_lossy(&line).trim_end().to_owned();
        if text.is_empty() {
            return Ok(Some((raw, lines)));
        }
        lines.push(text);
    }
}

fn header<'a>(lines: &'a [String], name: &str) -> Option<&'a str> {
    lines.iter().skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Reads a body as framed by the head, returning its raw bytes (chunk framing included).
async fn read_body(
    reader: &mut BufReader<OwnedReadHalf>,
    length: Option<u64>,
    chunked: bool,
    to_end: bool,
) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size_line = Vec::new();
            reader.read_until(b'\n', &mut size_line).await?;
            body.extend_from_slice(&size_line);
            let text = String::from_utf8_lossy(&size_line);
            let size = u64::from_str_radix(text.trim().split(';').next().unwrap_or("0"), 16)
                .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidData))?;
            let mut chunk = vec![0u8; usize::try_from(size).unwrap_or(0) + 2];
            if size == 0 {
                // Trailers, then the blank line.
                loop {
                    let mut line = Vec::new();
                    reader.read_until(b'\n', &mut line).await?;
                    body.extend_from_slice(&line);
                    if line == b"\r\n" || line.is_empty() {
                        return Ok(body);
                    }
                }
            }
            reader.read_exact(&mut chunk).await?;
            body.extend_from_slice(&chunk);
        }
    } else if let Some(n) = length {
        let mut chunk = vec![0u8; usize::try_from(n).unwrap_or(0)];
        reader.read_exact(&mut chunk).await?;
        body = chunk;
    } else if to_end {
        reader.read_to_end(&mut body).await?;
    }
    Ok(body)
}

async fn read_request(reader: &mut BufReader<OwnedReadHalf>) -> std::io::Result<Option<(RequestHead, Vec<u8>)>> {
    let Some((raw, lines)) = read_head(reader).await? else { return Ok(None) };
    let mut first = lines.first().map(|l| l.split_whitespace()).into_iter().flatten();
    let method = first.next().unwrap_or("").to_owned();
    let target = first.next().unwrap_or("").to_owned();
    let content_length = header(&lines, "content-length").and_then(|v| v.parse().ok());
    let chunked = header(&lines, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let head = RequestHead { raw, method, target, content_length, chunked };
    let body = read_body(reader, head.content_length, head.chunked, false).await?;
    Ok(Some((head, body)))
}

/// The upstream's answer: its head and its body (as framed on the wire).
struct Answer {
    head: Vec<u8>,
    body: Vec<u8>,
    close: bool,
}

async fn exchange(
    upstream: &mut Option<(BufReader<OwnedReadHalf>, tokio::net::tcp::OwnedWriteHalf)>,
    port: u16,
    head: &RequestHead,
    body: &[u8],
) -> std::io::Result<Answer> {
    if upstream.is_none() {
        let (read, write) = TcpStream::connect(("127.0.0.1", port)).await?.into_split();
        *upstream = Some((BufReader::new(read), write));
    }
    let (reader, writer) = upstream.as_mut().expect("connected above");
    writer.write_all(&head.raw).await?;
    writer.write_all(body).await?;
    let Some((raw, lines)) = read_head(reader).await? else {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    };
    let status: u16 = lines.first().and_then(|l| l.split_whitespace().nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
    let close = header(&lines, "connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
    let no_body = head.method.eq_ignore_ascii_case("HEAD") || status == 204 || status == 304 || status < 200;
    let body = if no_body {
        Vec::new()
    } else {
        let length = header(&lines, "content-length").and_then(|v| v.parse().ok());
        let chunked = header(&lines, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
        read_body(reader, length, chunked, length.is_none() && !chunked).await?
    };
    if close {
        *upstream = None;
    }
    Ok(Answer { head: raw, body, close })
}

impl Answer {
    /// Shows a listing as the versioning play does, the body sent whole with its length.
    fn show_versions(&mut self, asked: &crate::versioning::Rewritten) {
        let text = String::from_utf8_lossy(&self.head).into_owned();
        let chunked = text.lines().any(|l| {
            l.split_once(':').is_some_and(|(n, v)| {
                n.trim().eq_ignore_ascii_case("transfer-encoding") && v.trim().eq_ignore_ascii_case("chunked")
            })
        });
        let data = if chunked { crate::versioning::dechunk(&self.body) } else { std::mem::take(&mut self.body) };
        self.body = crate::versioning::listing(&String::from_utf8_lossy(&data), asked).into_bytes();
        let mut head: Vec<&str> = text
            .split("\r\n")
            .filter(|l| {
                let name = l.split(':').next().unwrap_or("").trim();
                !name.eq_ignore_ascii_case("transfer-encoding") && !name.eq_ignore_ascii_case("content-length")
            })
            .filter(|l| !l.is_empty())
            .collect();
        let length = format!("Content-Length: {}", self.body.len());
        head.push(&length);
        self.head = format!("{}\r\n\r\n", head.join("\r\n")).into_bytes();
    }
}

fn canned(status: &str, code: &str, retry_after: Option<u32>) -> Vec<u8> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>Injected by the fault proxy.</Message></Error>"
    );
    let retry = retry_after.map(|s| format!("Retry-After: {s}\r\n")).unwrap_or_default();
    format!(
        "HTTP/1.1 {status}\r\nx-ms-error-code: {code}\r\n{retry}Content-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Serves one client connection: request by request, each faulted or forwarded.
async fn serve(client: TcpStream, port: u16, state: &Shared) -> std::io::Result<()> {
    let (read, mut write) = client.into_split();
    let mut reader = BufReader::new(read);
    let mut upstream = None;
    while let Some((mut head, body)) = read_request(&mut reader).await? {
        state.requests.fetch_add(1, Ordering::SeqCst);
        state.forwarded.fetch_add((head.raw.len() + body.len()) as u64, Ordering::SeqCst);
        // Kept as the client sent it, before the versioning play rewrites it.
        if let Ok(mut heads) = state.heads.lock()
            && heads.len() < HEADS_KEPT
        {
            heads.push(String::from_utf8_lossy(&head.raw).into_owned());
        }
        let asked = state.versioning.then(|| head.play_versions());
        match state.decide(&head) {
            Some(Fault::Busy { retry_after }) => {
                write.write_all(&canned("503 Server Busy", "ServerBusy", retry_after)).await?;
                return write.shutdown().await;
            }
            Some(Fault::OperationTimedOut) => {
                write.write_all(&canned("500 Operation Timed Out", "OperationTimedOut", None)).await?;
                return write.shutdown().await;
            }
            Some(Fault::ResetBeforeResponse) => return reset(reader, write),
            Some(Fault::Stall) => {
                // Hold the connection, answering nothing, until the client gives up.
                let mut sink = Vec::new();
                let _ = reader.read_to_end(&mut sink).await;
                return Ok(());
            }
            Some(fault) => {
                let answer = exchange(&mut upstream, port, &head, &body).await?;
                write.write_all(&answer.head).await?;
                let half = answer.body.len() / 2;
                match fault {
                    Fault::ResetMidBody => {
                        write.write_all(&answer.body[..half]).await?;
                        write.flush().await?;
                        return reset(reader, write);
                    }
                    Fault::TruncateBody => {
                        write.write_all(&answer.body[..half]).await?;
                        return write.shutdown().await;
                    }
                    Fault::Slow { bytes_per_second } => {
                        let piece = usize::try_from((bytes_per_second / 20).max(1)).unwrap_or(1);
                        for part in answer.body.chunks(piece) {
                            write.write_all(part).await?;
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                    _ => write.write_all(&answer.body).await?,
                }
                state.forwarded.fetch_add((answer.head.len() + answer.body.len()) as u64, Ordering::SeqCst);
                if answer.close {
                    return write.shutdown().await;
                }
            }
            None if state.from_url => {
                let answer = match from_url::fetched_write(&head, port, state).await? {
                    None => exchange(&mut upstream, port, &head, &body).await?,
                    Some(Err(refusal)) => {
                        write.write_all(&refusal).await?;
                        return write.shutdown().await;
                    }
                    Some(Ok((plain, data, sync_copy))) => {
                        let answer = exchange(&mut upstream, port, &plain, &data).await?;
                        if sync_copy { from_url::as_sync_copy(answer) } else { answer }
                    }
                };
                write.write_all(&answer.head).await?;
                write.write_all(&answer.body).await?;
                if answer.close {
                    return write.shutdown().await;
                }
            }
            None => {
                let mut answer = exchange(&mut upstream, port, &head, &body).await?;
                if let Some(asked) = asked.as_ref().filter(|a| a.lists) {
                    answer.show_versions(asked);
                }
                write.write_all(&answer.head).await?;
                write.write_all(&answer.body).await?;
                state.forwarded.fetch_add((answer.head.len() + answer.body.len()) as u64, Ordering::SeqCst);
                if answer.close {
                    return write.shutdown().await;
                }
            }
        }
    }
    Ok(())
}

/// Closes the connection with a reset (RST), not an orderly FIN.
fn reset(reader: BufReader<OwnedReadHalf>, write: tokio::net::tcp::OwnedWriteHalf) -> std::io::Result<()> {
    let stream = reader.into_inner().reunite(write).map_err(|_| std::io::Error::other("halves of two streams"))?;
    #[allow(deprecated)] // Blocking on drop is the point here: the reset must go out now.
    stream.set_linger(Some(Duration::ZERO))?;
    drop(stream);
    Ok(())
}
