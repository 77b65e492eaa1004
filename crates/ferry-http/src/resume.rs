//! A download body that outlives a broken connection. HTTP retries cover a request until its
//! headers arrive; a body that breaks off after them (a reset, a proxy closing early) is asked
//! for again from its first missing byte, so a read of many MiB does not fail, or start over,
//! for one lost connection.

use std::future::Future;
use std::ops::Range;
use std::time::Instant;

use ferry_core::{ErrorKind, StoreError};
use futures::{StreamExt, stream};
use reqwest::Response;
use reqwest::header::CONTENT_LENGTH;

use crate::client::{ByteStream, body_stream};
use crate::retry::RetryPolicy;

/// The body of `first`, the answer for `range` of the object `target` names (`None`: all of
/// it, to where its Content-Length says), that asks for the rest when it breaks off:
/// `ask_rest(bytes, version)` sends the read of the missing `bytes=FIRST-LAST`, on `version`,
/// the value of `first`'s header `version_header` (an ETag for `If-Match`, a generation), so no
/// object is stitched from two versions. Breaks are retried within `policy`'s count and time,
/// and only transient ones; a body with no known end, or no version to hold the rest to, is
/// never resumed (the read fails, and the item with it).
pub fn resuming_body<F, Fut>(
    first: Response,
    target: &str,
    range: Option<Range<u64>>,
    version_header: &str,
    policy: RetryPolicy,
    ask_rest: F,
) -> ByteStream
where
    F: Fn(String, Option<String>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Response, StoreError>> + Send,
{
    struct State<F> {
        ask_rest: F,
        version: Option<String>,
        target: String,
        body: ByteStream,
        next: u64,
        end: Option<u64>,
        policy: RetryPolicy,
        retries: u32,
        started: Instant,
        failed: bool,
    }
    let start = range.as_ref().map_or(0, |r| r.start);
    // The header, not the body's size hint: it is what the server promised.
    let length = first.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    let end = range.map(|r| r.end).or_else(|| length.map(|len| start + len));
    let version = first.headers().get(version_header).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let state = State {
        version,
        body: body_stream(first, target),
        ask_rest,
        target: target.to_owned(),
        next: start,
        end,
        policy,
        retries: 0,
        started: Instant::now(),
        failed: false,
    };
    stream::unfold(state, |mut st| async move {
        loop {
            if st.failed {
                return None;
            }
            let error = match st.body.next().await {
                Some(Ok(bytes)) => {
                    st.next += bytes.len() as u64;
                    return Some((Ok(bytes), st));
                }
                None => return None,
                Some(Err(e)) => e,
            };
            let missing = st.end.filter(|end| st.next < *end && st.version.is_some()).map(|end| st.next..end);
            let resumable = error.kind() == ErrorKind::Transient
                && st.retries < st.policy.max_retries
                && st.started.elapsed() < st.policy.max_elapsed;
            let Some(missing) = missing.filter(|_| resumable) else {
                st.failed = true;
                return Some((Err(error), st));
            };
            tokio::time::sleep(st.policy.delay(st.retries, None)).await;
            st.retries += 1;
            tracing::debug!(target: "ferry::http", object = %st.target, from = missing.start, retry = st.retries, error = %error, "the body broke off; asking for the rest");
            let bytes = format!("bytes={}-{}", missing.start, missing.end - 1);
            match (st.ask_rest)(bytes, st.version.clone()).await {
                Ok(response) => st.body = body_stream(response, &st.target),
                Err(e) => {
                    st.failed = true;
                    return Some((Err(e), st));
                }
            }
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use bytes::Bytes;
    use futures::TryStreamExt;

    use super::*;

    /// An answer of `length` bytes whose body gives `sent` and then breaks.
    fn broken(sent: &'static [u8], length: usize, etag: Option<&str>) -> Response {
        let parts: Vec<Result<Bytes, std::io::Error>> =
            vec![Ok(Bytes::from_static(sent)), Err(std::io::Error::other("connection reset"))];
        let mut answer = http::Response::builder().header("content-length", length.to_string());
        if let Some(etag) = etag {
            answer = answer.header("etag", etag);
        }
        answer.body(reqwest::Body::wrap_stream(stream::iter(parts))).unwrap().into()
    }

    fn quick() -> RetryPolicy {
        RetryPolicy { base_delay: Duration::from_millis(1), ..RetryPolicy::default() }
    }

    /// Reads `first` through [`resuming_body`], the rest answered with `rest`; returns what was
    /// read and the requests for the rest.
    async fn read(
        first: Response,
        rest: &'static [u8],
    ) -> (Result<Vec<u8>, StoreError>, Vec<(String, Option<String>)>) {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        let ask_rest = move |bytes: String, version: Option<String>| {
            log.lock().unwrap().push((bytes, version));
            async move { Ok(Response::from(http::Response::new(reqwest::Body::from(rest)))) }
        };
        let body = resuming_body(first, "k", None, "etag", quick(), ask_rest);
        let read = body
            .try_fold(Vec::new(), |mut all, b| async move {
                all.extend_from_slice(&b);
                Ok(all)
            })
            .await;
        let asked = asked.lock().unwrap().clone();
        (read, asked)
    }

    #[tokio::test]
    async fn a_break_is_resumed_from_the_first_missing_byte_on_the_same_version() {
        let (read, asked) = read(broken(b"abc", 6, Some("\"v1\"")), b"def").await;
        assert_eq!(read.unwrap(), b"abcdef");
        assert_eq!(asked, [("bytes=3-5".to_owned(), Some("\"v1\"".to_owned()))]);
    }

    #[tokio::test]
    async fn a_break_with_no_version_to_hold_the_rest_to_is_not_resumed() {
        let (read, asked) = read(broken(b"abc", 6, None), b"def").await;
        assert_eq!(read.unwrap_err().kind(), ErrorKind::Transient);
        assert!(asked.is_empty(), "{asked:?}");
    }
}
