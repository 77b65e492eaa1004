//! V4 signed URLs for GCS (`GOOG4-RSA-SHA256`): a GET of one object that anyone holding the URL
//! may make until it expires, signed with the service account's RSA key. What Azure fetches in a
//! server-side copy (AzCopy signs for seven days, as here).
//!
//! The canonical request is SigV4's ([`ferry_http::canonical`]); only the scope and the RSA
//! signature differ.

use std::time::SystemTime;

use ferry_core::StoreError;
use ferry_http::canonical::{hex, presigned_get, stamps};
use sha2::{Digest, Sha256};
use url::Url;

use crate::ServiceAccount;

/// A signed URL's longest life: seven days.
pub const MAX_SIGNED_SECONDS: u64 = 7 * 24 * 3600;

/// `url` (an object's XML-API URL, `https://storage.googleapis.com/BUCKET/OBJECT`) signed for a
/// GET by `account`, valid `seconds` (at most seven days) from `at`.
pub fn signed_url(account: &ServiceAccount, url: &Url, seconds: u64, at: SystemTime) -> Result<Url, StoreError> {
    let (stamp, date) = stamps(at);
    let scope = format!("{date}/auto/storage/goog4_request");
    let mut signed = url.clone();
    signed
        .query_pairs_mut()
        .append_pair("X-Goog-Algorithm", "GOOG4-RSA-SHA256")
        .append_pair("X-Goog-Credential", &format!("{}/{scope}", account.email()))
        .append_pair("X-Goog-Date", &stamp)
        .append_pair("X-Goog-Expires", &seconds.clamp(1, MAX_SIGNED_SECONDS).to_string())
        .append_pair("X-Goog-SignedHeaders", "host");
    let canonical_request = presigned_get(&signed);
    let to_sign = format!("GOOG4-RSA-SHA256\n{stamp}\n{scope}\n{}", hex(&Sha256::digest(canonical_request.as_bytes())));
    let signature = account.sign(to_sign.as_bytes())?;
    signed.query_pairs_mut().append_pair("X-Goog-Signature", &hex(&signature));
    Ok(signed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::tests::key_json;

    #[test]
    fn a_signed_url_carries_googles_parameters_and_a_verifiable_signature() {
        let account = ServiceAccount::from_json(&key_json("https://oauth2.googleapis.com/token")).unwrap();
        let url = Url::parse("https://storage.googleapis.com/bkt/a%20b/c").unwrap();
        let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        let signed = signed_url(&account, &url, 3600, at).unwrap();
        let query = signed.query().unwrap();
        assert!(query.starts_with("X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Credential=ferry%40ferry-test.iam.gserviceaccount.com%2F20231114%2Fauto%2Fstorage%2Fgoog4_request&X-Goog-Date=20231114T221320Z&X-Goog-Expires=3600&X-Goog-SignedHeaders=host&X-Goog-Signature="), "{query}");
        assert_eq!(signed.path(), "/bkt/a%20b/c");
        // Signing is deterministic (PKCS#1 v1.5): the same inputs give the same URL.
        assert_eq!(signed, signed_url(&account, &url, 3600, at).unwrap());
    }
}
