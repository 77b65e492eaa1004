//! Ferry's Google Cloud Storage backend: a thin client for the JSON API on Ferry's HTTP layer,
//! signed in as a service account (an RS256 JWT traded for an access token) or anonymous, V4 RSA
//! signed URLs (`GOOG4-RSA-SHA256`, what Azure fetches in a server-side copy), and one bucket as a
//! [`ferry_store::Store`].
//!
//! Not Google's SDK on purpose (there is no maintained Rust one that fits): listings must keep
//! every name byte for byte, folder markers must be told from objects, and the requests go
//! through the same pool, retries and bounds as Azure's and S3's.

mod client;
pub mod credentials;
pub mod endpoint;
mod json;
pub mod signing;
mod store;
mod token;

pub use client::GcsClient;
pub use credentials::ServiceAccount;
pub use endpoint::GcsEndpoint;
pub use json::list_buckets;
pub use store::{GcsStore, service_store};
