//! Loopback ports for the test servers, and starting a server process until it answers.
//!
//! A port the system hands out for a bind to port 0 comes from the ephemeral range — the range
//! outgoing connections take their local ports from. Between closing that probe and the server
//! binding the port, a connection (a test's request to Azurite, say) can take it, and the server
//! dies with "address already in use" (seen in CI: SeaweedFS is given five ports at once). So
//! ports here come from below the ephemeral range, where only listeners asking for a number go;
//! each is checked free with a bind, and the start point is spread by process id so test binaries
//! running side by side seldom try the same ones. A server that still exits before answering is
//! started again on fresh ports.

use std::net::TcpListener;
use std::path::Path;
use std::process::Child;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The lowest port handed out: above the well-known and most registered service ports.
const FLOOR: u32 = 20_000;

/// How many times a server that exits before answering is started (on fresh ports each time).
const ATTEMPTS: usize = 3;

/// A port on 127.0.0.1 that was free a moment ago and that no outgoing connection is given.
pub fn free_port() -> Result<u16, String> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let ceiling = ephemeral_low().unwrap_or(32_768);
    if ceiling <= FLOOR + 1_000 {
        return system_port();
    }
    let span = ceiling - FLOOR;
    let start = std::process::id().wrapping_mul(7_919) % span;
    for _ in 0..span {
        let offset = (start + NEXT.fetch_add(1, Ordering::Relaxed)) % span;
        let port = u16::try_from(FLOOR + offset).map_err(|e| e.to_string())?;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    system_port()
}

/// The first port of the system's ephemeral range (Linux; `None` elsewhere).
fn ephemeral_low() -> Option<u32> {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    range.split_whitespace().next()?.parse().ok()
}

fn system_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

/// Why a server did not come up.
#[derive(Debug)]
pub(crate) enum NotUp {
    /// Its process ended before it answered (its log): worth a start on fresh ports.
    Exited(String),
    /// Anything else: reported as it is.
    Failed(String),
}

impl From<String> for NotUp {
    fn from(message: String) -> Self {
        NotUp::Failed(message)
    }
}

/// Runs `start` until it gives a server, again (with fresh ports) when the process exited before
/// answering, at most [`ATTEMPTS`] times.
pub(crate) fn start_on_fresh_ports<T>(what: &str, mut start: impl FnMut() -> Result<T, NotUp>) -> Result<T, String> {
    let mut last_log = String::new();
    for _ in 0..ATTEMPTS {
        match start() {
            Ok(server) => return Ok(server),
            Err(NotUp::Exited(log)) => last_log = log,
            Err(NotUp::Failed(message)) => return Err(message),
        }
    }
    Err(format!("{what} exited before answering {ATTEMPTS} times, on fresh ports each time; its last log:\n{last_log}"))
}

/// Waits up to `limit` for `ready`, checking that `child` is still running; its log (at `log`)
/// goes into the error.
pub(crate) fn wait_until_ready(
    child: &mut Child,
    what: &str,
    log: &Path,
    limit: Duration,
    ready: impl Fn() -> bool,
) -> Result<(), NotUp> {
    let started = Instant::now();
    let read_log = || std::fs::read_to_string(log).unwrap_or_default();
    while started.elapsed() < limit {
        if ready() {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(NotUp::Exited(format!("({what} {status})\n{}", read_log())));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(NotUp::Failed(format!("{what} did not answer within {limit:?}; its log:\n{}", read_log())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_come_from_below_the_ephemeral_range_and_differ() {
        let ceiling = ephemeral_low().unwrap_or(32_768);
        let (a, b) = (free_port().unwrap(), free_port().unwrap());
        assert_ne!(a, b);
        if ceiling > FLOOR + 1_000 {
            for port in [a, b] {
                assert!((FLOOR..ceiling).contains(&u32::from(port)), "{port} is outside {FLOOR}..{ceiling}");
            }
        }
    }

    #[test]
    fn a_process_that_exits_is_started_again_then_reported_with_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let mut starts = 0;
        let result: Result<(), String> = start_on_fresh_ports("false", || {
            starts += 1;
            std::fs::write(&log, format!("start {starts}")).unwrap();
            let mut child = std::process::Command::new("false").spawn().unwrap();
            wait_until_ready(&mut child, "false", &log, Duration::from_secs(10), || false)
        });
        let message = result.unwrap_err();
        assert_eq!(starts, ATTEMPTS);
        assert!(message.contains("exited before answering 3 times") && message.contains("start 3"), "{message}");
    }
}
