//! Ferry's HTTP layer, shared by every service (Azure Blob and Files, S3, GCS).
//!
//! Owned rather than taken from an SDK because the data path is the product: one pool sized to
//! the job, a time limit per attempt that grows with the body, retries with jittered backoff
//! that replay only bodies that can be replayed, response bodies read within a size and a time
//! bound (a server cannot make Ferry hold unbounded memory or wait forever), proxies that never
//! see loopback traffic, and an [`Authorizer`] hook with a [`TokenCache`] so expiring tokens
//! are refreshed before they die and a 401 is answered by one refresh and replay.

mod auth;
pub mod canonical;
mod client;
mod receive;
mod resume;
mod retry;
pub mod xml;

pub use auth::{Authorizer, Expiring, NoAuth, TokenCache};
pub use client::{
    Body, ByteStream, Classify, HttpClient, HttpConfig, MAX_ERROR_BODY, MAX_XML_BODY, Request, RequestObserver,
    body_stream, describe_transport_error, operation_of, read_text,
};
pub use receive::{Direct, Expect, finish_direct};
pub use resume::resuming_body;
pub use retry::{RetryPolicy, StatusSet, is_retryable_status, parse_retry_after};
