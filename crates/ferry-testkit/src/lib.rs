//! Ferry's test kit.
//!
//! - [`azurite`]: starts the pinned Azurite emulator once per test binary on a free loopback
//!   port and stops it by its process id when the binary exits; makes containers and SAS tokens.
//! - [`conformance`]: the [`ferry_store::Store`] contract as `pub async fn` checks, and
//!   [`store_conformance_tests!`] to run all of them against a backend.
//! - [`data`]: deterministic test data.
//! - [`entra`]: a test CA, Azurite in OAuth mode over HTTPS, and a stand-in for Entra's token
//!   endpoints.
//! - [`ports`]: loopback ports below the ephemeral range, and starting a server again on fresh
//!   ports when it exits before answering.
//! - [`tools`]: where the pinned peer tools (Azurite, AzCopy, Python, rclone) are installed.

pub mod azurite;
pub mod conformance;
pub mod data;
pub mod entra;
pub mod fault_proxy;
pub mod files_emulator;
pub mod gcs;
pub mod hostile;
pub mod ports;
pub mod s3;
pub mod store_faults;
pub mod tools;
mod versioning;

pub use azurite::Azurite;
