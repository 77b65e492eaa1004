//! Azure Blob Storage for Ferry.
//!
//! A thin REST client of Ferry's own on `reqwest` (the data path is the product, so Ferry owns
//! block ids, MD5s, pooling, timeouts and retries), Shared Key and SAS authorisation with a seam
//! for Entra tokens, and [`AzureStore`], the [`ferry_store::Store`] implementation for one
//! container.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use ferry_azure::{AzureStore, BlobClient, Credential, HttpConfig};
//! use ferry_core::BlobUrl;
//! let url = BlobUrl::parse("https://acct.blob.core.windows.net/box?sv=2022-11-02&sig=...", false)?;
//! let credential = Credential::Sas(url.sas().cloned().expect("a SAS"));
//! let store = AzureStore::new(BlobClient::new(HttpConfig::default(), credential)?, &url)?;
//! # Ok(()) }
//! ```

mod account;
mod client;
pub mod client_certificate;
mod cpk;
mod credential;
pub mod developer_tools;
pub mod device_code;
pub mod entra;
mod error;
mod pages;
mod properties;
pub mod response_headers;
mod sas;
pub mod sas_command;
mod store;
mod token_file;
pub mod user_delegation;
mod versions;
mod xml;

pub use account::AccountStore;
pub use client::{API_VERSION, BlobClient, HttpConfig, START_FROM_VERSION};
pub use cpk::Cpk;
pub use credential::{
    ConnectionString, Credential, CredentialError, DEVELOPMENT_ACCOUNT, DEVELOPMENT_KEY, SharedKey, TokenSource,
    string_to_sign,
};
pub use ferry_http::{RetryPolicy, StatusSet, is_retryable_status};
pub use sas::{SAS_VERSION, SasScope, account_sas, account_sas_from, sas_time, service_sas};
pub use store::{AzureStore, Include, LIST_PAGE_SIZE, list_account_names, list_containers, validate_blob_name};
pub use versions::VersionsStore;

/// Entry points for the fuzz targets in `fuzz/` (not a stable API).
#[doc(hidden)]
pub mod fuzzing {
    /// Runs every XML parser over `text`; none may panic.
    pub fn parse_all(text: &str) {
        let _ = crate::xml::parse_blob_page(text);
        let _ = crate::xml::parse_container_page(text);
        let _ = crate::xml::parse_block_list(text);
        let _ = crate::xml::parse_error(text);
        let _ = crate::xml::parse_http_date(text);
    }
}
