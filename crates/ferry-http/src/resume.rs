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

use crate::client::{ByteStream, body_stream};
use crate::retry::RetryPolicy;

/// The body of `first`, an answer for bytes from `start` of the object `target` names, that
/// asks for the rest when it breaks off: `ask_rest(range)` sends the read of the missing range,
/// with whatever condition keeps it on the first answer's version of the object (`If-Match` its
/// ETag, a generation match), so no object is stitched from two versions. It must end at `end`
/// (`None`: where `first`'s Content-Length says); breaks are retried within `policy`'s count and
/// time, and only transient ones. A body with no known end is never resumed.
pub fn resuming_body<F, Fut>(
    first: Response,
    target: &str,
    start: u64,
    end: Option<u64>,
    policy: RetryPolicy,
    ask_rest: F,
) -> ByteStream
where
    F: Fn(Range<u64>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Response, StoreError>> + Send,
{
    struct State<F> {
        ask_rest: F,
        target: String,
        body: ByteStream,
        next: u64,
        end: Option<u64>,
        policy: RetryPolicy,
        retries: u32,
        started: Instant,
        failed: bool,
    }
    let end = end.or_else(|| first.content_length().map(|len| start + len));
    let state = State {
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
            let missing = st.end.filter(|end| st.next < *end).map(|end| st.next..end);
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
            match (st.ask_rest)(missing).await {
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
