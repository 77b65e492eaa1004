//! `--cap-mbps`: a token bucket over the bytes a job moves.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Limits throughput to a rate, letting a short burst through.
///
/// Callers [`take`](RateLimit::take) bytes before sending them. The bucket may go into debt by
/// one request's worth; the caller then waits until the debt is repaid at the configured rate.
/// Over any long interval the bytes taken are at most `rate × time + burst`.
#[derive(Debug)]
pub struct RateLimit {
    bytes_per_second: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl RateLimit {
    /// A limit of `megabits_per_second` (base 10, as AzCopy's `--cap-mbps`).
    pub fn from_megabits(megabits_per_second: f64) -> Self {
        let bytes_per_second = megabits_per_second * 1_000_000.0 / 8.0;
        // A tenth of a second of burst keeps the rate smooth at the scale users watch.
        let burst = bytes_per_second / 10.0;
        Self { bytes_per_second, burst, state: Mutex::new((burst, Instant::now())) }
    }

    /// Waits until `bytes` may be sent.
    pub async fn take(&self, bytes: u64) {
        #[allow(clippy::cast_precision_loss)]
        let wanted = bytes as f64;
        let wait = {
            let mut state = self.state.lock().expect("the rate state is never poisoned");
            let now = Instant::now();
            let refill = now.duration_since(state.1).as_secs_f64() * self.bytes_per_second;
            state.0 = (state.0 + refill).min(self.burst) - wanted;
            state.1 = now;
            if state.0 < 0.0 { Duration::from_secs_f64(-state.0 / self.bytes_per_second) } else { Duration::ZERO }
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_rate_holds_over_time() {
        // 8 Mb/s = 1,000,000 bytes/s; 10 MB in 256 KiB pieces should take about 10 s.
        let limit = RateLimit::from_megabits(8.0);
        let started = Instant::now();
        let mut sent = 0u64;
        while sent < 10_000_000 {
            limit.take(256 * 1024).await;
            sent += 256 * 1024;
        }
        let elapsed = started.elapsed().as_secs_f64();
        #[allow(clippy::cast_precision_loss)]
        let expected = (sent as f64 - 100_000.0) / 1_000_000.0;
        assert!(elapsed >= expected - 0.01, "{elapsed} s for {sent} bytes");
        assert!(elapsed <= expected + 0.5, "{elapsed} s for {sent} bytes");
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_takers_share_the_rate() {
        let limit = std::sync::Arc::new(RateLimit::from_megabits(80.0)); // 10 MB/s
        let started = Instant::now();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let limit = limit.clone();
                tokio::spawn(async move {
                    for _ in 0..10 {
                        limit.take(250_000).await;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        // 20 MB at 10 MB/s, less the 1 MB burst.
        let elapsed = started.elapsed().as_secs_f64();
        assert!((1.85..=2.2).contains(&elapsed), "{elapsed}");
    }
}
