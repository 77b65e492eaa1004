//! A loopback proxy in front of Azurite that injects faults the real service cannot be made to
//! produce on demand.
//!
//! For now it answers the first `n` connections with `503 ServerBusy` (with `Retry-After`) and
//! closes them; every later connection is forwarded to the upstream untouched, and the bytes
//! forwarded each way are counted (a client's traffic to a service, measured from outside). The
//! later reliability suite grows this into per-request rules.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A running fault proxy. Dropping it stops accepting connections.
#[derive(Debug)]
pub struct FaultProxy {
    port: u16,
    faults_left: Arc<AtomicUsize>,
    seen: Arc<AtomicUsize>,
    forwarded: Arc<AtomicU64>,
    active: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream_port` on 127.0.0.1 that fails the first `busy` connections.
    pub async fn start(upstream_port: u16, busy: usize) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let faults_left = Arc::new(AtomicUsize::new(busy));
        let seen = Arc::new(AtomicUsize::new(0));
        let forwarded = Arc::new(AtomicU64::new(0));
        let active = Arc::new(AtomicUsize::new(0));
        let (faults, count, bytes, open) = (faults_left.clone(), seen.clone(), forwarded.clone(), active.clone());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let fail = faults.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
                open.fetch_add(1, Ordering::SeqCst);
                let (bytes, open) = (bytes.clone(), open.clone());
                tokio::spawn(async move {
                    handle(client, upstream_port, fail, bytes).await;
                    open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Ok(Self { port, faults_left, seen, forwarded, active, task })
    }

    /// The port to send requests to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.seen.load(Ordering::SeqCst)
    }

    /// Bytes forwarded in both directions by connections that have closed.
    pub fn bytes_forwarded(&self) -> u64 {
        self.forwarded.load(Ordering::SeqCst)
    }

    /// Waits (up to `limit`) until every connection has closed, so counts are final.
    pub async fn wait_idle(&self, limit: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while self.active.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Faults not yet injected.
    pub fn faults_left(&self) -> usize {
        self.faults_left.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(mut client: TcpStream, upstream_port: u16, fail: bool, forwarded: Arc<AtomicU64>) {
    if fail {
        // Read the request head so the client is not reset mid-send, then refuse it.
        let mut buf = vec![0u8; 64 * 1024];
        let mut head = Vec::new();
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match client.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>ServerBusy</Code><Message>Injected by the fault proxy.</Message></Error>";
        let response = format!(
            "HTTP/1.1 503 Server Busy\r\nx-ms-error-code: ServerBusy\r\nRetry-After: 0\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = client.write_all(response.as_bytes()).await;
        let _ = client.shutdown().await;
        return;
    }
    if let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", upstream_port)).await
        && let Ok((up, down)) = tokio::io::copy_bidirectional(&mut client, &mut upstream).await
    {
        forwarded.fetch_add(up + down, Ordering::SeqCst);
    }
}
