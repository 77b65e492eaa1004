//! Ferry's shared vocabulary.
//!
//! Every other crate speaks in these types: a [`Location`] is what the user typed, parsed once;
//! an [`Entry`] is one listed object and a [`StoreError`] a failure by meaning (never an HTTP
//! code to act on), in the key order every listing keeps ([`cmp_keys`]);
//! a [`RedactedUrl`] and a [`Secret`] are how URLs and keys travel without ever being printed in
//! full; [`size`] renders byte counts the way AzCopy does.
//!
//! ```
//! use ferry_core::{Location, LocationHint};
//! let loc = Location::parse("https://acct.blob.core.windows.net/box/a%20b.txt?sv=1&sig=SECRET", LocationHint::Infer).unwrap();
//! let blob = loc.as_blob().unwrap();
//! assert_eq!(blob.path(), "a b.txt");
//! assert!(!blob.to_string().contains("SECRET"));
//! ```

mod blob_url;
mod bucket_names;
pub mod encoding;
mod entry;
mod error;
mod file_url;
mod gcs_url;
mod key_order;
mod local_path;
mod location;
mod redact;
mod s3_url;
mod sas;
mod sink;
pub mod size;

pub use blob_url::{BlobUrl, UrlStyle, is_loopback_url, is_private_url};
pub use bucket_names::BucketNames;
pub use entry::{ContentHeaders, Entry, EntryKind, ObjectProperties, SmbProperties, WriteOptions, WriteReceipt};
pub use error::{ErrorKind, StoreError};
pub use file_url::FileUrl;
pub use gcs_url::GcsUrl;
pub use key_order::cmp_keys;
pub use local_path::LocalPath;
pub use location::{Location, LocationError, LocationHint, LocationKind};
pub use redact::{REDACTED, RedactedUrl, Secret, redact_query, redact_text};
pub use s3_url::{S3Style, S3Url};
pub use sas::SasToken;
pub use sink::{DIRECT_ALIGN, PositionalSink};
