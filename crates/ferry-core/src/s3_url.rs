//! Amazon S3 and S3-compatible URLs: endpoint, bucket and key (or prefix), parsed once.
//!
//! AWS forms, as AzCopy reads them: virtual-hosted (`https://BUCKET.s3.REGION.amazonaws.com/KEY`,
//! also `s3-REGION`, `s3.dualstack.REGION`, bare `s3`) and path-style
//! (`https://s3.REGION.amazonaws.com/BUCKET/KEY`). Any other endpoint (MinIO, Ceph, SeaweedFS, an
//! appliance) is path-style, `http(s)://HOST[:PORT]/BUCKET/KEY`, and must be declared (`--from-to
//! S3…`), for nothing in its host says it is S3.

use std::fmt;

use url::Url;

use crate::encoding::{decode, encode_path};
use crate::location::LocationError;

/// How requests name the bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum S3Style {
    /// `BUCKET.HOST/KEY` (AWS's default).
    VirtualHosted,
    /// `HOST/BUCKET/KEY` (every S3-compatible server, and AWS for bucket names with dots).
    Path,
}

/// A parsed S3 URL. It carries no credential: S3 credentials come from the environment.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Url {
    /// `scheme://host[:port]` of the service, without the bucket; no path, no query.
    endpoint: Url,
    bucket: Option<String>,
    key: String,
    region: Option<String>,
    style: S3Style,
    contents_only: bool,
    aws: bool,
}

/// The AWS part of a host: where the `s3` label is, and the region it names.
struct AwsHost {
    bucket: Option<String>,
    service: String,
    region: Option<String>,
}

/// Reads `host` as an AWS S3 host, if it is one.
fn aws_host(host: &str) -> Option<AwsHost> {
    let lower = host.to_ascii_lowercase();
    if !(lower.ends_with(".amazonaws.com") || lower.ends_with(".amazonaws.com.cn")) {
        return None;
    }
    let labels: Vec<&str> = lower.split('.').collect();
    let at = labels.iter().position(|l| *l == "s3" || l.starts_with("s3-"))?;
    let bucket = (at > 0).then(|| host.split('.').take(at).collect::<Vec<_>>().join("."));
    let region = match (labels[at].strip_prefix("s3-"), labels.get(at + 1), labels.get(at + 2)) {
        (Some(region), _, _) if region != "external-1" => Some(region.to_owned()),
        (None, Some(&"dualstack"), Some(region)) => Some((*region).to_owned()),
        (None, Some(next), _) if *next != "amazonaws" && *next != "dualstack" => Some((*next).to_owned()),
        _ => None,
    };
    Some(AwsHost { bucket, service: labels[at..].join("."), region })
}

impl S3Url {
    /// Whether `url`'s host is an AWS S3 host (which is how an S3 location is recognised
    /// without `--from-to`).
    pub fn is_aws_host(url: &Url) -> bool {
        url.host_str().is_some_and(|h| aws_host(h).is_some())
    }

    /// Parses an S3 URL; `declared` admits any host (path-style), as `--from-to S3…` does.
    pub fn parse(text: &str, declared: bool) -> Result<Self, LocationError> {
        let url = Url::parse(text).map_err(|e| LocationError::new(text, format!("not a valid URL ({e})")))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(LocationError::new(
                text,
                "a user name or password in the URL is not an S3 credential; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            ));
        }
        if url.query().is_some_and(|q| !q.is_empty()) {
            return Err(LocationError::new(
                text,
                "an S3 URL takes no query (a presigned URL is not a location): Ferry signs its own requests with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            ));
        }
        let Some(host) = url.host_str() else { return Err(LocationError::new(text, "the URL has no host")) };
        let raw_path = url.path().trim_start_matches('/');
        let mut path = decode(raw_path).map_err(|_| LocationError::new(text, "the path is not valid UTF-8"))?;
        let contents_only = path.ends_with("/*") || path == "*";
        if contents_only {
            path.truncate(path.len() - 1);
        }
        let mut endpoint = url.clone();
        endpoint.set_path("");
        endpoint.set_query(None);
        endpoint.set_fragment(None);
        let (bucket, key, region, style, aws) = match aws_host(host) {
            Some(AwsHost { bucket: Some(bucket), service, region }) => {
                endpoint
                    .set_host(Some(&service))
                    .map_err(|e| LocationError::new(text, format!("not a valid host ({e})")))?;
                // A dotted bucket name does not fit the service's certificate as a host label.
                let style = if bucket.contains('.') { S3Style::Path } else { S3Style::VirtualHosted };
                (Some(bucket), path, region, style, true)
            }
            Some(AwsHost { bucket: None, region, .. }) => {
                let (bucket, key) = split_bucket(&path);
                (bucket, key, region, S3Style::Path, true)
            }
            None if declared => {
                let (bucket, key) = split_bucket(&path);
                (bucket, key, None, S3Style::Path, false)
            }
            None => {
                return Err(LocationError::new(
                    text,
                    "this host is not an AWS S3 host; for an S3-compatible endpoint say so with --from-to (for example S3Blob or S3Local)",
                ));
            }
        };
        if let Some(b) = &bucket {
            validate_bucket(text, b)?;
        }
        Ok(Self { endpoint, bucket, key, region, style, contents_only, aws })
    }

    /// The bucket, if the URL names one.
    pub fn bucket(&self) -> Option<&str> {
        self.bucket.as_deref()
    }

    /// The key or key prefix (decoded, exactly as stored), without a trailing `*`.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The region the host names (`None` for bare `s3.amazonaws.com` and custom endpoints).
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// Whether this is an AWS host (as opposed to an S3-compatible endpoint).
    pub fn is_aws(&self) -> bool {
        self.aws
    }

    /// Whether the URL ended in `/*`: the contents of the prefix, not the prefix as a folder.
    pub fn contents_only(&self) -> bool {
        self.contents_only
    }

    /// Whether the service is plain `http://`.
    pub fn is_http(&self) -> bool {
        self.endpoint.scheme() == "http"
    }

    /// Whether the endpoint is this machine.
    pub fn is_loopback(&self) -> bool {
        crate::is_loopback_url(&self.endpoint)
    }

    /// Whether the endpoint is where a cloud service could not reach it: this machine, a private
    /// or link-local address, or a host name without a dot (a local network's).
    pub fn is_private(&self) -> bool {
        crate::is_private_url(&self.endpoint)
    }

    /// The service endpoint (`scheme://host[:port]`).
    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// This URL with another bucket and key.
    pub fn with_bucket_and_key(&self, bucket: Option<&str>, key: &str) -> Self {
        Self { bucket: bucket.map(str::to_owned), key: key.to_owned(), contents_only: false, ..self.clone() }
    }

    /// The URL of the bucket (for listings), no query.
    pub fn bucket_url(&self, bucket: &str) -> Url {
        self.object_url(bucket, "")
    }

    /// The URL of one object in `bucket`, no query; the key is encoded so that it round-trips
    /// (and so that a SigV4 signature over the path agrees with the service's).
    pub fn object_url(&self, bucket: &str, key: &str) -> Url {
        let mut url = self.endpoint.clone();
        match self.style {
            S3Style::VirtualHosted => {
                let host = format!("{bucket}.{}", self.endpoint.host_str().unwrap_or_default());
                let _ = url.set_host(Some(&host));
                url.set_path(&format!("/{}", encode_path(key)));
            }
            S3Style::Path => url.set_path(&format!("/{bucket}/{}", encode_path(key))),
        }
        url
    }
}

/// `bucket/rest` of a path-style path.
fn split_bucket(path: &str) -> (Option<String>, String) {
    match path.split_once('/') {
        Some((bucket, rest)) => (Some(bucket.to_owned()).filter(|b| !b.is_empty()), rest.to_owned()),
        None if path.is_empty() => (None, String::new()),
        None => (Some(path.to_owned()), String::new()),
    }
}

/// Bucket names as S3 allows them: 3 to 63 of `a-z 0-9 . -` (and `_`, which some
/// S3-compatible servers and old buckets have).
fn validate_bucket(text: &str, bucket: &str) -> Result<(), LocationError> {
    let ok = (3..=63).contains(&bucket.len())
        && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-._".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(LocationError::new(
            text,
            format!("`{bucket}` is not a bucket name (3 to 63 of lower-case letters, digits, `.` and `-`)"),
        ))
    }
}

impl fmt::Debug for S3Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S3Url({self})")
    }
}

impl fmt::Display for S3Url {
    /// The URL as the user would recognise it (S3 URLs carry no secret).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.bucket {
            Some(bucket) => write!(f, "{}", self.object_url(bucket, &self.key))?,
            None => write!(f, "{}", self.endpoint.as_str().trim_end_matches('/'))?,
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
    fn aws_forms_give_bucket_key_region_and_style() {
        let cases = [
            ("https://bkt.s3.amazonaws.com/a/b.txt", "bkt", "a/b.txt", None, S3Style::VirtualHosted),
            ("https://bkt.s3.eu-west-1.amazonaws.com/k", "bkt", "k", Some("eu-west-1"), S3Style::VirtualHosted),
            ("https://bkt.s3-us-west-2.amazonaws.com/k", "bkt", "k", Some("us-west-2"), S3Style::VirtualHosted),
            (
                "https://bkt.s3.dualstack.ap-south-1.amazonaws.com/",
                "bkt",
                "",
                Some("ap-south-1"),
                S3Style::VirtualHosted,
            ),
            ("https://s3.eu-central-1.amazonaws.com/bkt/x/y", "bkt", "x/y", Some("eu-central-1"), S3Style::Path),
            ("https://my.dotted.bucket.s3.amazonaws.com/k", "my.dotted.bucket", "k", None, S3Style::Path),
        ];
        for (text, bucket, key, region, style) in cases {
            let url = S3Url::parse(text, false).unwrap();
            assert_eq!(
                (url.bucket(), url.key(), url.region(), url.style),
                (Some(bucket), key, region, style),
                "{text}"
            );
            assert!(url.is_aws());
        }
        let dotted = S3Url::parse("https://my.dotted.bucket.s3.amazonaws.com/k", false).unwrap();
        assert_eq!(dotted.object_url("my.dotted.bucket", "k").as_str(), "https://s3.amazonaws.com/my.dotted.bucket/k");
    }

    #[test]
    fn custom_endpoints_are_path_style_and_must_be_declared() {
        assert!(S3Url::parse("http://127.0.0.1:9000/bkt/k", false).is_err());
        let url = S3Url::parse("http://127.0.0.1:9000/bkt/dir/*", true).unwrap();
        assert_eq!((url.bucket(), url.key(), url.contents_only()), (Some("bkt"), "dir/", true));
        assert!(url.is_loopback() && url.is_http() && !url.is_aws() && url.is_private());
        assert!(S3Url::parse("https://10.1.2.3/bkt/k", true).unwrap().is_private());
        assert!(S3Url::parse("https://minio:9000/bkt/k", true).unwrap().is_private());
        assert!(!S3Url::parse("https://bkt.s3.amazonaws.com/k", false).unwrap().is_private());
        assert_eq!(url.object_url("bkt", "a//b c+é").as_str(), "http://127.0.0.1:9000/bkt/a//b%20c%2B%C3%A9");
        assert_eq!(url.to_string(), "http://127.0.0.1:9000/bkt/dir/*");
    }

    #[test]
    fn keys_round_trip_and_bad_input_is_refused() {
        let url = S3Url::parse("https://bkt.s3.amazonaws.com/a%2F%2Fb/sp%20ace%2Bplus", false).unwrap();
        assert_eq!(url.key(), "a//b/sp ace+plus");
        assert!(S3Url::parse("https://bkt.s3.amazonaws.com/k?X-Amz-Signature=abc", false).is_err());
        assert!(S3Url::parse("https://user:pw@bkt.s3.amazonaws.com/k", false).is_err());
        assert!(S3Url::parse("http://127.0.0.1:9000/Bad_Bucket!/k", true).is_err());
    }
}
