//! AWS Signature Version 4 for S3: the `Authorization` header of each request, and presigned
//! query-string URLs (what Azure fetches in a server-side copy).
//!
//! Written here rather than taken from an SDK: it is a hundred lines over HMAC-SHA256, it must
//! sign exactly the path Ferry sends (keys such as `a//b` kept byte for byte, which some clients
//! normalise away), and it runs for every request of the data path.

use std::time::SystemTime;

use ferry_core::Secret;
use ferry_http::canonical::{canonical_query, hex, host_header, presigned_get, stamps};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use url::Url;

/// The SHA-256 of an empty body, which GET, HEAD and DELETE sign.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// The payload hash of a request whose body is not hashed (it carries a Content-MD5 instead).
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// A presigned URL's longest life, which SigV4 allows: seven days.
pub const MAX_PRESIGN_SECONDS: u64 = 7 * 24 * 3600;

/// An access key pair, and a session token for temporary credentials.
#[derive(Clone)]
pub struct Credentials {
    /// The access key id (not secret: it names the key).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: Secret,
    /// `AWS_SESSION_TOKEN`, for temporary credentials.
    pub session_token: Option<Secret>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, secret redacted)", self.access_key_id)
    }
}

/// Signs requests for one region with one key pair.
#[derive(Debug, Clone)]
pub struct Signer {
    credentials: Credentials,
    region: String,
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

impl Signer {
    /// A signer for `region` (`us-east-1` when none is known).
    pub fn new(credentials: Credentials, region: &str) -> Self {
        Self { credentials, region: region.to_owned() }
    }

    /// The key id, for messages.
    pub fn access_key_id(&self) -> &str {
        &self.credentials.access_key_id
    }

    fn scope(&self, date: &str) -> String {
        format!("{date}/{}/s3/aws4_request", self.region)
    }

    fn signature(&self, date: &str, amz_date: &str, canonical_request: &str) -> String {
        let to_sign =
            format!("AWS4-HMAC-SHA256\n{amz_date}\n{}\n{}", self.scope(date), sha256_hex(canonical_request.as_bytes()));
        let secret = format!("AWS4{}", self.credentials.secret_access_key.expose());
        let key = [date, &self.region, "s3", "aws4_request"].iter().fold(secret.into_bytes(), |k, part| hmac(&k, part));
        hex(&hmac(&key, &to_sign))
    }

    /// The headers that sign a request at `at`: `(name, value)` pairs to add, `authorization`
    /// last. `headers` are the request's other headers; those named `x-amz-*`, `content-md5`,
    /// `content-type` and `range` are signed with `host`.
    pub fn sign(
        &self,
        method: &str,
        url: &Url,
        headers: &[(String, String)],
        payload_sha256: &str,
        at: SystemTime,
    ) -> Vec<(String, String)> {
        let (amz_date, date) = stamps(at);
        let mut added = vec![
            ("x-amz-date".to_owned(), amz_date.clone()),
            ("x-amz-content-sha256".to_owned(), payload_sha256.to_owned()),
        ];
        if let Some(token) = &self.credentials.session_token {
            added.push(("x-amz-security-token".to_owned(), token.expose().to_owned()));
        }
        let mut signed: Vec<(String, String)> = vec![("host".to_owned(), host_header(url))];
        for (name, value) in headers.iter().chain(added.iter()) {
            let name = name.to_ascii_lowercase();
            if name.starts_with("x-amz-") || ["content-md5", "content-type", "range"].contains(&name.as_str()) {
                signed.push((name, value.trim().to_owned()));
            }
        }
        signed.sort();
        let names = signed.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(";");
        let canonical_headers: String = signed.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
        let canonical_request = format!(
            "{method}\n{}\n{}\n{canonical_headers}\n{names}\n{payload_sha256}",
            url.path(),
            canonical_query(url)
        );
        let signature = self.signature(&date, &amz_date, &canonical_request);
        added.push((
            "authorization".to_owned(),
            format!(
                "AWS4-HMAC-SHA256 Credential={}/{},SignedHeaders={names},Signature={signature}",
                self.credentials.access_key_id,
                self.scope(&date)
            ),
        ));
        added
    }

    /// A URL anyone can GET for `seconds` (at most seven days) from `at`, without credentials:
    /// `url` with the SigV4 query parameters.
    pub fn presign(&self, url: &Url, seconds: u64, at: SystemTime) -> Url {
        let (amz_date, date) = stamps(at);
        let mut presigned = url.clone();
        {
            let mut query = presigned.query_pairs_mut();
            query
                .append_pair("X-Amz-Algorithm", "AWS4-HMAC-SHA256")
                .append_pair("X-Amz-Credential", &format!("{}/{}", self.credentials.access_key_id, self.scope(&date)))
                .append_pair("X-Amz-Date", &amz_date)
                .append_pair("X-Amz-Expires", &seconds.min(MAX_PRESIGN_SECONDS).to_string())
                .append_pair("X-Amz-SignedHeaders", "host");
            if let Some(token) = &self.credentials.session_token {
                query.append_pair("X-Amz-Security-Token", token.expose());
            }
        }
        let canonical_request = presigned_get(&presigned);
        let signature = self.signature(&date, &amz_date, &canonical_request);
        presigned.query_pairs_mut().append_pair("X-Amz-Signature", &signature);
        presigned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Signer {
        let credentials = Credentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            session_token: None,
        };
        Signer::new(credentials, "us-east-1")
    }

    fn at_example_time() -> SystemTime {
        // 2013-05-24T00:00:00Z, the time of AWS's published examples.
        SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_369_353_600)
    }

    /// AWS's published "GET Object" example (S3 API reference, "Signature Calculations for
    /// the Authorization Header: Transferring Payload in a Single Chunk").
    #[test]
    fn the_published_get_object_example_signs_alike() {
        let url = Url::parse("https://examplebucket.s3.amazonaws.com/test.txt").unwrap();
        let headers = vec![("Range".to_owned(), "bytes=0-9".to_owned())];
        let added = example().sign("GET", &url, &headers, EMPTY_SHA256, at_example_time());
        let auth = &added.last().unwrap().1;
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    /// AWS's published presigned-URL example ("Authenticating Requests: Using Query Parameters").
    #[test]
    fn the_published_presign_example_signs_alike() {
        let url = Url::parse("https://examplebucket.s3.amazonaws.com/test.txt").unwrap();
        let presigned = example().presign(&url, 86_400, at_example_time());
        let signature = presigned.query_pairs().find(|(k, _)| k == "X-Amz-Signature").unwrap().1.into_owned();
        assert_eq!(signature, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    }

    #[test]
    fn queries_are_canonical_whatever_their_order_and_encoding() {
        let a = Url::parse("http://h/b?prefix=a%20b&list-type=2&continuation-token=x%2By").unwrap();
        let b = Url::parse("http://h/b?list-type=2&continuation-token=x%2By&prefix=a+b").unwrap();
        assert_eq!(canonical_query(&a), canonical_query(&b));
        assert_eq!(canonical_query(&a), "continuation-token=x%2By&list-type=2&prefix=a%20b");
    }
}
