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

/// Caches one token until shortly before it expires, so a job never sends one that dies in
/// flight; concurrent callers wait for a single refresh rather than each fetching their own.
#[derive(Debug)]
pub struct TokenCache<T> {
    slot: tokio::sync::Mutex<Option<Expiring<T>>>,
    /// A token with less than this left is refreshed before use.
    min_ttl: Duration,
}

impl<T: Clone> TokenCache<T> {
    /// A cache that refreshes tokens with less than `min_ttl` left.
    pub fn new(min_ttl: Duration) -> Self {
        Self { slot: tokio::sync::Mutex::new(None), min_ttl }
    }

    /// The cached token, or a new one from `fetch` when there is none or it is about to expire.
    pub async fn get<F, Fut, E>(&self, fetch: F) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Expiring<T>, E>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some(token) = slot.as_ref()
            && token.expires_at.checked_duration_since(Instant::now()).is_some_and(|left| left > self.min_ttl)
        {
            return Ok(token.value.clone());
        }
        let fresh = fetch().await?;
        let value = fresh.value.clone();
        *slot = Some(fresh);
        Ok(value)
    }

    /// Forgets the cached token (the service refused it); the next [`TokenCache::get`] fetches.
    /// Returns whether there was one.
    pub fn invalidate(&self) -> bool {
        match self.slot.try_lock() {
            Ok(mut slot) => slot.take().is_some(),
            // A refresh is under way: the token it brings is new anyway.
            Err(_) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn token(n: u32, ttl: Duration) -> Result<Expiring<u32>, ()> {
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
        // That one has less than the minimum left: it is not reused.
        assert_eq!(cache.get(fetch(Duration::from_secs(3600))).await, Ok(3));
        assert_eq!(cache.get(fetch(Duration::from_secs(3600))).await, Ok(3));
    }
}
