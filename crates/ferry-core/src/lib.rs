//! Ferry's shared vocabulary.
//!
//! Every other crate speaks in these types: a [`Location`] is what the user typed, parsed once;
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
pub mod encoding;
mod local_path;
mod location;
mod redact;
mod sas;
pub mod size;

pub use blob_url::{BlobUrl, UrlStyle, is_loopback_url};
pub use local_path::LocalPath;
pub use location::{Location, LocationError, LocationHint, LocationKind};
pub use redact::{REDACTED, RedactedUrl, Secret, redact_query, redact_text};
pub use sas::SasToken;
