//! Customer-provided encryption (AzCopy's `--cpk-by-name`, `--cpk-by-value`): the headers every
//! request that writes or reads a blob's data carries.

use ferry_core::Secret;
use ferry_http::Request;

/// How blobs are encrypted.
#[derive(Debug, Clone)]
pub enum Cpk {
    /// An encryption scope of the account, by name: sent when writing.
    Scope(String),
    /// A key the customer holds (AES-256, base64) and its SHA-256 (base64): sent when writing
    /// and when reading, since the service keeps only the hash.
    Key {
        /// The key, base64.
        key: Secret,
        /// Its SHA-256, base64.
        sha256: String,
    },
}

impl Cpk {
    /// A key given as base64 (32 bytes), with its SHA-256 (computed when not given; checked
    /// when given).
    pub fn key(key_base64: &str, sha256_base64: Option<&str>) -> Result<Self, String> {
        use base64::Engine as _;
        use sha2::Digest as _;
        let engine = base64::engine::general_purpose::STANDARD;
        let bytes = engine.decode(key_base64.trim()).map_err(|_| "CPK_ENCRYPTION_KEY is not base64".to_owned())?;
        if bytes.len() != 32 {
            return Err(format!("CPK_ENCRYPTION_KEY is {} bytes; an AES-256 key is 32", bytes.len()));
        }
        let sha256 = engine.encode(sha2::Sha256::digest(&bytes));
        if let Some(given) = sha256_base64
            && given.trim() != sha256
        {
            return Err("CPK_ENCRYPTION_KEY_SHA256 is not the SHA-256 of CPK_ENCRYPTION_KEY".to_owned());
        }
        Ok(Self::Key { key: Secret::new(key_base64.trim()), sha256 })
    }

    /// `request` with this encryption's headers; `writing` says whether it writes data (a scope
    /// is named only then).
    pub(crate) fn apply<'a>(&self, request: Request<'a>, writing: bool) -> Request<'a> {
        match self {
            Self::Scope(scope) if writing => request.header("x-ms-encryption-scope", scope),
            Self::Scope(_) => request,
            Self::Key { key, sha256 } => request
                .header("x-ms-encryption-key", key.expose())
                .header("x-ms-encryption-key-sha256", sha256)
                .header("x-ms-encryption-algorithm", "AES256"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // 32 bytes
        let Cpk::Key { sha256, .. } = Cpk::key(key, None).unwrap() else { panic!() };
        assert!(Cpk::key(key, Some(&sha256)).is_ok());
        assert!(Cpk::key(key, Some("AAAA")).unwrap_err().contains("SHA-256"));
        assert!(Cpk::key("c2hvcnQ=", None).unwrap_err().contains("32"));
        assert!(Cpk::key("***", None).is_err());
    }
}
