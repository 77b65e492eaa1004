//! A shared access signature as it arrived in a URL.

use std::fmt;

use crate::redact::{Secret, redact_query};

/// The query string of a URL that carries a shared access signature (`sig=`).
///
/// The whole query is kept secret because the signature is only meaningful with the other
/// parameters, and some deployments put other secrets there too. The non-secret fields that
/// Ferry reasons about (expiry, permissions) can be read without exposing it.
#[derive(Clone, PartialEq, Eq)]
pub struct SasToken {
    query: Secret,
}

impl SasToken {
    /// Wraps a query string (with or without the leading `?`). Returns `None` when it has no
    /// `sig=` parameter, i.e. it is not a SAS.
    pub fn parse(query: &str) -> Option<Self> {
        let query = query.strip_prefix('?').unwrap_or(query);
        // Any spelling of `sig` (`SIG`, `%73ig`) makes it a SAS: kept secret, never echoed.
        let has_sig = query
            .split('&')
            .any(|p| p.split_once('=').is_some_and(|(k, v)| crate::redact::is_signature_name(k) && !v.is_empty()));
        has_sig.then(|| Self { query: Secret::new(query) })
    }

    /// The query string, secrets included, for appending to a request URL.
    pub fn expose(&self) -> &str {
        self.query.expose()
    }

    /// The raw (still percent-encoded) value of one parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.expose().split('&').filter_map(|p| p.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// The signed expiry (`se=`), decoded, e.g. `2030-01-01T00:00:00Z`.
    pub fn expiry(&self) -> Option<String> {
        self.param("se").and_then(|v| crate::encoding::decode(v).ok())
    }

    /// The signed permissions (`sp=`), e.g. `racwdl`.
    pub fn permissions(&self) -> Option<&str> {
        self.param("sp")
    }
}

impl fmt::Debug for SasToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SasToken({})", redact_query(self.query.expose()))
    }
}

impl fmt::Display for SasToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_query(self.query.expose()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_and_hides_signature() {
        let sas = SasToken::parse("?se=2030-01-01T00%3A00%3A00Z&sp=rl&sv=2022-11-02&sr=c&sig=S3CRET").unwrap();
        assert_eq!(sas.expiry().as_deref(), Some("2030-01-01T00:00:00Z"));
        assert_eq!(sas.permissions(), Some("rl"));
        assert!(!format!("{sas} {sas:?}").contains("S3CRET"));
    }

    #[test]
    fn a_query_without_signature_is_not_a_sas() {
        assert!(SasToken::parse("comp=list").is_none());
        assert!(SasToken::parse("sig=").is_none());
        assert!(SasToken::parse("sv=1&%73ig=x").is_some(), "a percent-encoded name is still the signature");
    }
}
