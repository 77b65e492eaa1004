//! Making shared access signatures with an account key.
//!
//! Ferry needs these to let the service read a source it can only reach with a shared key
//! (Put Block From URL takes a URL, not a key), and the test kit uses them to exercise SAS
//! authorisation. Signing follows the public "Create a service SAS" and "Create an account SAS"
//! specifications for version 2020-12-06 and later.

use std::time::Duration;

use ferry_core::SasToken;
use ferry_core::encoding::encode_component;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::credential::SharedKey;

/// The SAS version Ferry signs.
pub const SAS_VERSION: &str = "2022-11-02";

/// What a service SAS grants access to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SasScope {
    /// A whole container (`sr=c`).
    Container(String),
    /// One blob (`sr=b`).
    Blob {
        /// Its container.
        container: String,
        /// Its name, unencoded.
        name: String,
    },
    /// A whole file share (`sr=s`).
    Share(String),
    /// One file in a share (`sr=f`).
    File {
        /// Its share.
        share: String,
        /// Its path in the share, unencoded.
        path: String,
    },
}

/// Formats a time the way SAS fields expect: `2026-01-02T03:04:05Z`.
pub fn sas_time(at: OffsetDateTime) -> String {
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    at.to_offset(time::UtcOffset::UTC).format(&fmt).unwrap_or_default()
}

/// A service SAS for `scope` with `permissions` (e.g. `rl`, `racwdl`), valid from a minute ago
/// (to absorb clock skew) until `expiry`.
pub fn service_sas(key: &SharedKey, scope: &SasScope, permissions: &str, expiry: OffsetDateTime) -> SasToken {
    let start = sas_time(OffsetDateTime::now_utc() - Duration::from_secs(60));
    let expiry = sas_time(expiry);
    let account = key.account();
    let (resource, kind) = match scope {
        SasScope::Container(c) => (format!("/blob/{account}/{c}"), "c"),
        SasScope::Blob { container, name } => (format!("/blob/{account}/{container}/{name}"), "b"),
        SasScope::Share(share) => (format!("/file/{account}/{share}"), "s"),
        SasScope::File { share, path } => (format!("/file/{account}/{share}/{path}"), "f"),
    };
    let to_sign = if resource.starts_with("/file/") {
        // The File service's fields: sp, st, se, resource, si, sip, spr, sv, rscc, rscd, rsce,
        // rscl, rsct (no sr, no snapshot time, no encryption scope).
        format!("{permissions}\n{start}\n{expiry}\n{resource}\n\n\n\n{SAS_VERSION}\n\n\n\n\n")
    } else {
        // Blob's: sp, st, se, resource, si, sip, spr, sv, sr, snapshot time, encryption scope,
        // rscc, rscd, rsce, rscl, rsct.
        format!("{permissions}\n{start}\n{expiry}\n{resource}\n\n\n\n{SAS_VERSION}\n{kind}\n\n\n\n\n\n\n")
    };
    let sig = key.sign(&to_sign);
    let query = format!(
        "sv={SAS_VERSION}&st={}&se={}&sr={kind}&sp={permissions}&sig={}",
        encode_component(&start),
        encode_component(&expiry),
        encode_component(&sig)
    );
    SasToken::parse(&query).expect("a signed query has sig=")
}

/// An account SAS for the Blob service on all resource types, with `permissions`.
pub fn account_sas(key: &SharedKey, permissions: &str, expiry: OffsetDateTime) -> SasToken {
    account_sas_from(key, permissions, OffsetDateTime::now_utc() - Duration::from_secs(60), expiry)
}

/// An account SAS valid from `start` to `expiry` (an expired one is useful in tests).
pub fn account_sas_from(key: &SharedKey, permissions: &str, start: OffsetDateTime, expiry: OffsetDateTime) -> SasToken {
    let start = sas_time(start);
    let expiry = sas_time(expiry);
    // Fields: account, sp, ss, srt, st, se, sip, spr, sv, encryption scope, and a final newline.
    let to_sign = format!("{}\n{permissions}\nb\nsco\n{start}\n{expiry}\n\n\n{SAS_VERSION}\n\n", key.account());
    let sig = key.sign(&to_sign);
    let query = format!(
        "sv={SAS_VERSION}&ss=b&srt=sco&sp={permissions}&st={}&se={}&sig={}",
        encode_component(&start),
        encode_component(&expiry),
        encode_component(&sig)
    );
    SasToken::parse(&query).expect("a signed query has sig=")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::{DEVELOPMENT_KEY, SharedKey};
    use ferry_core::Secret;

    #[test]
    fn service_sas_carries_fields_and_a_signature() {
        let key = SharedKey::new("devstoreaccount1", &Secret::new(DEVELOPMENT_KEY)).unwrap();
        let expiry = OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap();
        let sas = service_sas(&key, &SasScope::Container("box".into()), "rl", expiry);
        assert_eq!(sas.permissions(), Some("rl"));
        assert_eq!(sas.expiry().as_deref(), Some("2030-03-17T17:46:40Z"));
        assert_eq!(sas.param("sr"), Some("c"));
        assert!(sas.param("sig").is_some_and(|s| s.len() > 40));
    }

    #[test]
    fn times_are_utc_with_z() {
        let t = OffsetDateTime::from_unix_timestamp(0).unwrap();
        assert_eq!(sas_time(t), "1970-01-01T00:00:00Z");
    }
}
