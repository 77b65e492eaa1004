//! A small hostile HTTP server on loopback, for what no real service here does: answer with an
//! endless or dribbling body, loop its continuation marker, list forever, or just record what a
//! client sent it (to prove a credential never arrived). It speaks only as much HTTP/1.1 as
//! Ferry's requests need, and it stops when dropped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// How the server answers every request.
#[derive(Debug, Clone, Copy)]
pub enum Behaviour {
    /// `404 ContainerNotFound` with a small XML body (a stand-in for a foreign host that records).
    NotFound,
    /// `200` and a listing body that never ends.
    EndlessBody,
    /// `200` and a body that arrives one byte at a time, this far apart.
    SlowBody(Duration),
    /// Listing pages of one blob each that always hand back the marker they were given.
    RepeatMarker,
    /// Listing pages of one blob each, each after this delay, with a new marker forever.
    EndlessPages(Duration),
    /// One listing page of one blob with this percent-encoded name (`<Name Encoded="true">`),
    /// whatever is asked.
    NamedBlob(&'static str),
}

/// A running server; see [`Behaviour`].
pub struct HostileServer {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl HostileServer {
    /// Starts a server on a free loopback port.
    pub fn start(behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        listener.set_nonblocking(true).expect("non-blocking accept");
        let port = listener.local_addr().expect("a local address").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, halt) = (requests.clone(), stop.clone());
        thread::spawn(move || {
            while !halt.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (seen, halt) = (seen.clone(), halt.clone());
                        thread::spawn(move || serve(stream, behaviour, &seen, &halt));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Self { port, requests, stop }
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every request head received so far (request line and headers), in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("never poisoned").clone()
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
        if head.len() > 64 * 1024 {
            return None;
        }
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

fn marker_of(head: &str) -> u64 {
    let line = head.lines().next().unwrap_or_default();
    line.split(['?', '&', ' ']).find_map(|p| p.strip_prefix("marker=")).and_then(|m| m.parse().ok()).unwrap_or(0)
}

fn page(n: u64, next: u64) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults><Blobs><Blob><Name>k{n:08}</Name><Properties>\
         <Last-Modified>Mon, 30 Nov 2026 10:00:00 GMT</Last-Modified><Content-Length>1</Content-Length>\
         <BlobType>BlockBlob</BlobType></Properties></Blob></Blobs><NextMarker>{next}</NextMarker></EnumerationResults>"
    )
}

fn respond(stream: &mut TcpStream, status: &str, body: &str) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nx-ms-error-code: ContainerNotFound\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())
}

fn serve(mut stream: TcpStream, behaviour: Behaviour, seen: &Mutex<Vec<String>>, halt: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    while let Some(head) = read_head(&mut stream) {
        seen.lock().expect("never poisoned").push(head.clone());
        let open_body = "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nConnection: close\r\n\r\n";
        let result = match behaviour {
            Behaviour::NotFound => {
                respond(&mut stream, "404 Not Found", "<Error><Code>ContainerNotFound</Code></Error>")
            }
            Behaviour::NamedBlob(encoded) => {
                let body = format!(
                    "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults><Blobs><Blob><Name Encoded=\"true\">{encoded}</Name>\
                     <Properties><Last-Modified>Mon, 30 Nov 2026 10:00:00 GMT</Last-Modified><Content-Length>4</Content-Length>\
                     <BlobType>BlockBlob</BlobType></Properties></Blob></Blobs><NextMarker /></EnumerationResults>"
                );
                respond(&mut stream, "200 OK", &body)
            }
            Behaviour::RepeatMarker => {
                let n = marker_of(&head);
                respond(&mut stream, "200 OK", &page(n, n.max(1)))
            }
            Behaviour::EndlessPages(delay) => {
                thread::sleep(delay);
                let n = marker_of(&head);
                respond(&mut stream, "200 OK", &page(n, n + 1))
            }
            Behaviour::EndlessBody => {
                let chunk = "<Blob><Name>x</Name></Blob>".repeat(4096);
                let _ = stream.write_all(open_body.as_bytes());
                while !halt.load(Ordering::Relaxed) && stream.write_all(chunk.as_bytes()).is_ok() {}
                return;
            }
            Behaviour::SlowBody(gap) => {
                let _ = stream.write_all(open_body.as_bytes());
                while !halt.load(Ordering::Relaxed) && stream.write_all(b" ").is_ok() {
                    thread::sleep(gap);
                }
                return;
            }
        };
        if result.is_err() {
            return;
        }
    }
}
