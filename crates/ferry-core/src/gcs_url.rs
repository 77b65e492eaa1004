//! Google Cloud Storage URLs: bucket and object name (or prefix), parsed once.
//!
//! AzCopy's form is `https://storage.cloud.google.com/BUCKET/OBJECT` (path-style only). Ferry
//! also takes `https://storage.googleapis.com/BUCKET/OBJECT` and `gs://BUCKET/OBJECT`, the forms
//! Google's own tools print. Where requests go is not part of the URL: Google's endpoint, or the
//! one `STORAGE_EMULATOR_HOST` names (see `ferry-gcs`).

use std::fmt;

use url::Url;

use crate::encoding::{decode, encode_path};
use crate::location::LocationError;

/// The hosts that name Google Cloud Storage.
const GCS_HOSTS: [&str; 2] = ["storage.cloud.google.com", "storage.googleapis.com"];

/// A parsed GCS URL. It carries no credential: GCS credentials come from the environment.
#[derive(Clone, PartialEq, Eq)]
pub struct GcsUrl {
    bucket: Option<String>,
    object: String,
    contents_only: bool,
}

impl GcsUrl {
    /// Whether `text` is a GCS URL by its form (`gs://`, or a Google storage host).
    pub fn is_gcs(text: &str) -> bool {
        let lower = text.to_ascii_lowercase();
        lower.starts_with("gs://")
            || Url::parse(text).is_ok_and(|u| u.host_str().is_some_and(|h| GCS_HOSTS.contains(&h)))
    }

    /// Parses a GCS URL.
    pub fn parse(text: &str) -> Result<Self, LocationError> {
        let url = Url::parse(text).map_err(|e| LocationError::new(text, format!("not a valid URL ({e})")))?;
        if url.query().is_some_and(|q| !q.is_empty()) {
            return Err(LocationError::new(
                text,
                "a GCS URL takes no query (a signed URL is not a location): Ferry signs its own requests with the key in GOOGLE_APPLICATION_CREDENTIALS",
            ));
        }
        let path = if url.scheme() == "gs" {
            // `gs://BUCKET/OBJECT`: the bucket is the host.
            let host = url.host_str().unwrap_or_default();
            format!("{host}{}", url.path())
        } else if url.host_str().is_some_and(|h| GCS_HOSTS.contains(&h)) {
            url.path().trim_start_matches('/').to_owned()
        } else {
            return Err(LocationError::new(
                text,
                "not a Google Cloud Storage URL; use https://storage.cloud.google.com/BUCKET/OBJECT (or gs://BUCKET/OBJECT)",
            ));
        };
        let mut path = decode(&path).map_err(|_| LocationError::new(text, "the path is not valid UTF-8"))?;
        let contents_only = path.ends_with("/*") || path == "*";
        if contents_only {
            path.truncate(path.len() - 1);
        }
        let (bucket, object) = match path.split_once('/') {
            Some((bucket, rest)) => (Some(bucket.to_owned()).filter(|b| !b.is_empty()), rest.to_owned()),
            None => (Some(path).filter(|p| !p.is_empty()), String::new()),
        };
        if let Some(b) = &bucket {
            validate_bucket(text, b)?;
        }
        Ok(Self { bucket, object, contents_only })
    }

    /// The bucket, if the URL names one.
    pub fn bucket(&self) -> Option<&str> {
        self.bucket.as_deref()
    }

    /// The object name or prefix (decoded, exactly as stored), without a trailing `*`.
    pub fn object(&self) -> &str {
        &self.object
    }

    /// Whether the URL ended in `/*`: the contents of the prefix, not the prefix as a folder.
    pub fn contents_only(&self) -> bool {
        self.contents_only
    }

    /// This URL with another bucket and object.
    pub fn with_bucket_and_object(&self, bucket: Option<&str>, object: &str) -> Self {
        Self { bucket: bucket.map(str::to_owned), object: object.to_owned(), contents_only: false }
    }
}

/// Bucket names as GCS allows them: 3 to 63 of `a-z 0-9 - _ .` (222 with dots).
fn validate_bucket(text: &str, bucket: &str) -> Result<(), LocationError> {
    let most = if bucket.contains('.') { 222 } else { 63 };
    let ok = (3..=most).contains(&bucket.len())
        && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-._".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(LocationError::new(
            text,
            format!("`{bucket}` is not a bucket name (3 to 63 of lower-case letters, digits, `-`, `_` and `.`)"),
        ))
    }
}

impl fmt::Debug for GcsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GcsUrl({self})")
    }
}

impl fmt::Display for GcsUrl {
    /// The URL in AzCopy's form (GCS URLs carry no secret).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("https://storage.cloud.google.com")?;
        if let Some(bucket) = &self.bucket {
            write!(f, "/{bucket}/{}", encode_path(&self.object))?;
        }
        if self.contents_only {
            f.write_str("*")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_forms_give_bucket_and_object() {
        for text in [
            "https://storage.cloud.google.com/my_bucket/a/b%20c.txt",
            "https://storage.googleapis.com/my_bucket/a/b%20c.txt",
            "gs://my_bucket/a/b%20c.txt",
        ] {
            let url = GcsUrl::parse(text).unwrap();
            assert!(GcsUrl::is_gcs(text), "{text}");
            assert_eq!((url.bucket(), url.object()), (Some("my_bucket"), "a/b c.txt"), "{text}");
            assert_eq!(url.to_string(), "https://storage.cloud.google.com/my_bucket/a/b%20c.txt");
        }
        let service = GcsUrl::parse("https://storage.cloud.google.com/").unwrap();
        assert_eq!((service.bucket(), service.object()), (None, ""));
        let contents = GcsUrl::parse("gs://bkt/dir/*").unwrap();
        assert_eq!((contents.object(), contents.contents_only()), ("dir/", true));
    }

    #[test]
    fn other_hosts_queries_and_bad_buckets_are_refused() {
        assert!(!GcsUrl::is_gcs("https://example.com/bkt/x"));
        assert!(GcsUrl::parse("https://example.com/bkt/x").is_err());
        let signed = GcsUrl::parse("https://storage.googleapis.com/bkt/x?X-Goog-Signature=abc").unwrap_err();
        assert!(signed.reason().contains("no query"), "{signed}");
        assert!(GcsUrl::parse("gs://Bad!/x").is_err());
    }
}
