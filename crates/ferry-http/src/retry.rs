//! Request-level retries: exponential backoff with full jitter, honouring `Retry-After`,
//! bounded by a count and by total time.

use std::time::Duration;

/// When and how often a failed request is sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 disables retrying).
    pub max_retries: u32,
    /// The first backoff ceiling; each retry doubles it.
    pub base_delay: Duration,
    /// The largest wait between two attempts.
    pub max_delay: Duration,
    /// No retry starts once this much time has passed since the first attempt.
    pub max_elapsed: Duration,
    /// The HTTP statuses that are retried (AzCopy's `--retry-status-codes`).
    pub statuses: StatusSet,
}

/// A set of HTTP statuses (100 to 599), small enough to copy.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct StatusSet([u64; 10]);

impl StatusSet {
    /// The statuses retried by default: 408, 429, 500, 502, 503, 504.
    pub const DEFAULT: Self = Self::of(&[408, 429, 500, 502, 503, 504]);

    /// The set of `statuses`; those outside 0..640 are left out.
    pub const fn of(statuses: &[u16]) -> Self {
        let mut bits = [0u64; 10];
        let mut i = 0;
        while i < statuses.len() {
            let s = statuses[i] as usize;
            if s < 640 {
                bits[s / 64] |= 1 << (s % 64);
            }
            i += 1;
        }
        Self(bits)
    }

    /// Whether `status` is in the set.
    pub fn contains(&self, status: u16) -> bool {
        let s = usize::from(status);
        s < 640 && self.0[s / 64] & (1 << (s % 64)) != 0
    }
}

impl std::fmt::Debug for StatusSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries((0..640u16).filter(|s| self.contains(*s))).finish()
    }
}

impl Default for RetryPolicy {
    /// Eight retries, 0.5 s doubling to at most 30 s, within 3 minutes: long enough to ride out
    /// a throttling burst, short enough that a dead endpoint is reported instead of looking
    /// like a hang (AzCopy's 20 tries of up to 15 minutes is a known complaint).
    fn default() -> Self {
        Self {
            max_retries: 8,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_elapsed: Duration::from_secs(180),
            statuses: StatusSet::DEFAULT,
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0-based): a random time up to
    /// `min(max_delay, base_delay * 2^retry)`, or the service's `Retry-After` when it asked for
    /// longer (still capped at `max_delay`).
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let ceiling =
            self.base_delay.saturating_mul(1u32.checked_shl(retry.min(30)).unwrap_or(u32::MAX)).min(self.max_delay);
        let jittered = ceiling.mul_f64(fastrand::f64());
        match retry_after {
            Some(wait) => wait.max(jittered).min(self.max_delay),
            None => jittered,
        }
    }
}

/// Whether an HTTP status is worth retrying: 408, 429, 500, 502, 503, 504.
pub fn is_retryable_status(status: u16) -> bool {
    StatusSet::DEFAULT.contains(status)
}

/// Parses a `Retry-After` header given in seconds (the form Azure Storage uses).
pub fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    value?.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_within_the_cap() {
        let p = RetryPolicy::default();
        for retry in 0..40 {
            let ceiling = (p.base_delay * 2u32.saturating_pow(retry.min(20))).min(p.max_delay);
            for _ in 0..50 {
                let d = p.delay(retry, None);
                assert!(d <= ceiling, "retry {retry}: {d:?} > {ceiling:?}");
            }
        }
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        let p = RetryPolicy::default();
        assert!(p.delay(0, Some(Duration::from_secs(7))) >= Duration::from_secs(7));
        assert_eq!(p.delay(0, Some(Duration::from_secs(3600))), p.max_delay);
    }

    #[test]
    fn retryable_statuses() {
        let retryable: Vec<u16> = (100..600).filter(|s| is_retryable_status(*s)).collect();
        assert_eq!(retryable, [408, 429, 500, 502, 503, 504]);
        assert_eq!(parse_retry_after(Some(" 12 ")), Some(Duration::from_secs(12)));
        assert_eq!(parse_retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")), None);
    }
}
