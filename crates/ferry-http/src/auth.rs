//! Authorising requests: a hook each service implements, and a cache for tokens that expire.

use std::future::Future;
use std::time::{Duration, Instant};

use ferry_core::StoreError;
use reqwest::Method;
use reqwest::header::HeaderMap;
use url::Url;

/// Adds a service's headers and credentials to each attempt of a request (each attempt: a date
/// or a signature must be fresh). A credential goes only where the caller sends it: the client
/// never follows redirects.
#[async_trait::async_trait]
pub trait Authorizer: Send + Sync {
    /// Adds what this attempt needs to `url` and `headers`.
    async fn authorize(
        &self,
        method: &Method,
        url: &mut Url,
        headers: &mut HeaderMap,
        target: &str,
    ) -> Result<(), StoreError>;

    /// A response said 401 (the credential was not accepted): drop any cached credential.
    /// `true` asks the client to send the request once more with a fresh one.
    fn unauthorized(&self) -> bool {
        false
    }
}

/// No credentials: the request goes as built.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAuth;

#[async_trait::async_trait]
impl Authorizer for NoAuth {
    async fn authorize(&self, _: &Method, _: &mut Url, _: &mut HeaderMap, _: &str) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A token and when it stops being valid.
#[derive(Debug, Clone)]
pub struct Expiring<T> {
    /// The token.
    pub value: T,
    /// When it expires.
    pub expires_at: Instant,
}

/// Caches one token and refreshes it ahead of its expiry, so a job never sends one that dies in
/// flight:
/// - a token with more than `min_ttl` left is used as it is;
/// - one closer to its expiry is refreshed by a single caller while the others keep using it; if
///   that refresh fails, the still-valid token goes on being used and the next try waits
///   [`TokenCache::RETRY_AFTER`] (the failure is logged);
/// - only with no token, or an expired one, do callers wait, for a single fetch between them,
///   and a failure then is theirs.
#[derive(Debug)]
pub struct TokenCache<T> {
    state: std::sync::Mutex<Cached<T>>,
    /// Held by the one caller fetching.
    fetching: tokio::sync::Mutex<()>,
    /// A token with less than this left is refreshed before use.
    min_ttl: Duration,
}

#[derive(Debug)]
struct Cached<T> {
    token: Option<Expiring<T>>,
    /// When the token was stored: a short-lived one is refreshed at half its life.
    stored: Instant,
    /// No eager refresh before this (the last one failed).
    quiet_until: Option<Instant>,
}

impl<T: Clone> TokenCache<T> {
    /// How long after a failed eager refresh the next one is tried.
    pub const RETRY_AFTER: Duration = Duration::from_secs(30);

    /// A cache that refreshes tokens with less than `min_ttl` left.
    pub fn new(min_ttl: Duration) -> Self {
        Self {
            state: std::sync::Mutex::new(Cached { token: None, stored: Instant::now(), quiet_until: None }),
            fetching: tokio::sync::Mutex::new(()),
            min_ttl,
        }
    }

    /// The token to use now, and whether it should be refreshed.
    fn current(&self) -> (Option<T>, bool) {
        let state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        match &state.token {
            Some(t) if t.expires_at > now => {
                let half_life = t.expires_at.saturating_duration_since(state.stored) / 2;
                let near = t.expires_at.saturating_duration_since(now) <= self.min_ttl.min(half_life);
                let quiet = state.quiet_until.is_some_and(|q| q > now);
                (Some(t.value.clone()), near && !quiet)
            }
            _ => (None, true),
        }
    }

    fn store(&self, token: Option<Expiring<T>>, quiet_until: Option<Instant>) {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if token.is_some() {
            state.token = token;
            state.stored = Instant::now();
        }
        state.quiet_until = quiet_until;
    }

    /// The token to use: cached, refreshed ahead of expiry, or fetched (see the type's rules).
    pub async fn get<F, Fut, E>(&self, fetch: F) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Expiring<T>, E>>,
        E: std::fmt::Display,
    {
        match self.current() {
            (Some(token), false) => Ok(token),
            (Some(token), true) => {
                // Near expiry: one caller refreshes; everyone else goes on with the current token.
                let Ok(_guard) = self.fetching.try_lock() else { return Ok(token) };
                match fetch().await {
                    Ok(fresh) => {
                        let value = fresh.value.clone();
                        self.store(Some(fresh), None);
                        Ok(value)
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "refreshing the access token failed; the current one is still valid and stays in use");
                        self.store(None, Some(Instant::now() + Self::RETRY_AFTER));
                        Ok(token)
                    }
                }
            }
            (None, _) => {
                let _guard = self.fetching.lock().await;
                // Another caller may have fetched while this one waited.
                if let (Some(token), false) = self.current() {
                    return Ok(token);
                }
                let fresh = fetch().await?;
                let value = fresh.value.clone();
                self.store(Some(fresh), None);
                Ok(value)
            }
        }
    }

    /// Starts with `token` (one given rather than fetched).
    pub fn seed(&self, token: Expiring<T>) {
        self.store(Some(token), None);
    }

    /// Forgets the cached token (the service refused it); the next [`TokenCache::get`] fetches.
    /// Returns whether there was one.
    pub fn invalidate(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        state.quiet_until = None;
        state.token.take().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn token(n: u32, ttl: Duration) -> Result<Expiring<u32>, String> {
        Ok(Expiring { value: n, expires_at: Instant::now() + ttl })
    }

    #[tokio::test]
    async fn tokens_are_reused_until_near_expiry_and_refreshed_once() {
        let cache = Arc::new(TokenCache::new(Duration::from_secs(300)));
        let fetches = Arc::new(AtomicU32::new(0));
        let fetch = |ttl: Duration| {
            let fetches = fetches.clone();
            move || {
                let n = fetches.fetch_add(1, Ordering::SeqCst) + 1;
                async move {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    token(n, ttl)
                }
            }
        };
        // Ten callers at once: one fetch.
        let calls: Vec<_> = (0..10)
            .map(|_| {
                let (cache, fetch) = (cache.clone(), fetch(Duration::from_secs(3600)));
                tokio::spawn(async move { cache.get(fetch).await })
            })
            .collect();
        for call in calls {
            assert_eq!(call.await.unwrap(), Ok(1));
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        // Refused: the next call fetches again.
        assert!(cache.invalidate());
        assert_eq!(cache.get(fetch(Duration::from_secs(60))).await, Ok(2));
        // A fresh short-lived token is used until half its life has passed.
        assert_eq!(cache.get(fetch(Duration::from_secs(3600))).await, Ok(2));
    }

    /// Near expiry, one caller refreshes while the others keep the current token; a failed
    /// refresh keeps it too, and the next try waits; an expired token is never handed out.
    #[tokio::test]
    async fn a_refresh_ahead_of_expiry_never_blocks_and_a_failed_one_keeps_the_token() {
        let cache = Arc::new(TokenCache::new(Duration::from_secs(300)));
        assert_eq!(cache.get(|| async { token(1, Duration::from_secs(2)) }).await, Ok(1));
        // Past half its life: due for a refresh, still valid.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        // A slow refresh in flight: another caller gets token 1 at once.
        let slow = {
            let cache = cache.clone();
            tokio::spawn(async move {
                cache
                    .get(|| async {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        token(2, Duration::from_secs(3600))
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        let started = Instant::now();
        assert_eq!(cache.get(|| async { token(99, Duration::from_secs(3600)) }).await, Ok(1));
        assert!(started.elapsed() < Duration::from_millis(100), "did not wait for the refresh");
        assert_eq!(slow.await.unwrap(), Ok(2));

        let failing = TokenCache::new(Duration::from_secs(300));
        assert_eq!(failing.get(|| async { token(5, Duration::from_secs(2)) }).await, Ok(5));
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let calls = AtomicU32::new(0);
        let broken = || {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err::<Expiring<u32>, _>("the endpoint is down".to_owned()) }
        };
        assert_eq!(failing.get(broken).await, Ok(5), "the still-valid token stays in use");
        assert_eq!(failing.get(broken).await, Ok(5));
        assert_eq!(calls.load(Ordering::SeqCst), 1, "the next refresh waits RETRY_AFTER");

        let expired = TokenCache::new(Duration::from_secs(300));
        assert_eq!(expired.get(|| async { token(7, Duration::from_millis(1)) }).await, Ok(7));
        tokio::time::sleep(Duration::from_millis(5)).await;
        let down = expired.get(|| async { Err::<Expiring<u32>, _>("down".to_owned()) }).await;
        assert_eq!(down, Err("down".to_owned()), "an expired token is never used");
    }
}
