//! Azure Files for Ferry.
//!
//! The File service's REST API on the Blob client's HTTP layer (`ferry_azure::BlobClient`: the
//! same connection pool, retries, Shared Key and SAS signing and error shapes), and
//! [`FilesStore`], the [`ferry_store::Store`] over one share. A share has real directories and
//! files written in place: a file is created at its full size, written by ranges of at most
//! 4 MiB (from bytes, or by the service from a URL), then given its headers, MD5 and SMB
//! properties — there are no staged parts, so the store says `writes_in_place` and the engine
//! writes it that way.
//!
//! Tested against the test kit's Files emulator (checked by the official Python client and by
//! AzCopy), not against the live service.

mod listing;
mod share;
mod smb;
mod store;
mod xml;

pub use share::{create_share, list_shares};
pub use smb::{format_smb_time, parse_smb_time};
pub use store::{FilesStore, MAX_RANGE};

/// Entry points for the fuzz targets (not a stable API).
#[doc(hidden)]
pub mod fuzzing {
    /// Runs the listing parser over `text`; it may not panic.
    pub fn parse_all(text: &str) {
        let _ = crate::xml::parse_directory_page(text);
        let _ = crate::xml::parse_share_page(text);
    }
}
