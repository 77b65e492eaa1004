//! Ferry's Amazon S3 backend, for AWS and any S3-compatible service (MinIO, Ceph, SeaweedFS,
//! Wasabi, R2, on-premises appliances): a thin client on Ferry's HTTP layer with SigV4 signing
//! (headers and presigned URLs), and one bucket as a [`ferry_store::Store`].
//!
//! Not an SDK on purpose: listings must keep every legal key (`a//b`, which some clients fail a
//! whole listing on), folder markers must be told from objects, and the requests go through the
//! same pool, retries and bounds as Azure's.

mod client;
pub mod credentials;
mod multipart;
mod service;
pub mod sigv4;
mod store;
mod write;
mod xml;

pub use client::{S3Auth, S3Client};
pub use ferry_core::BucketNames;
pub use service::{S3ServiceStore, list_buckets, service_store};
pub use sigv4::{Credentials, Signer};
pub use store::S3Store;
