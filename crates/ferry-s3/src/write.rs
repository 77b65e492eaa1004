//! Writing to S3: an object's headers and metadata as S3 takes them (on PutObject, and on
//! CreateMultipartUpload, where a multipart object's are fixed), and the storage classes S3 knows.

use ferry_core::{ErrorKind, StoreError, WriteOptions};
use ferry_http::Request;

/// S3's storage classes; another service's tier (Azure's `Hot`, say) is not sent.
const STORAGE_CLASSES: [&str; 8] = [
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
];

/// `request` with `options`' content headers, metadata (`x-amz-meta-*`), storage class and,
/// unless it may replace an object, `If-None-Match: *`. The MD5 is not among them: S3 keeps none
/// apart from the ETag.
pub(crate) fn with_object_headers<'a>(
    mut request: Request<'a>,
    options: &WriteOptions,
    target: &str,
) -> Result<Request<'a>, StoreError> {
    let h = &options.headers;
    for (name, value) in [
        ("content-type", &h.content_type),
        ("content-encoding", &h.content_encoding),
        ("content-language", &h.content_language),
        ("content-disposition", &h.content_disposition),
        ("cache-control", &h.cache_control),
    ] {
        if let Some(v) = value {
            request = request.header(name, v);
        }
    }
    for (key, value) in &options.metadata {
        let printable = |s: &str| s.bytes().all(|b| (0x20..0x7f).contains(&b));
        if !printable(key) || !printable(value) || key.is_empty() {
            return Err(StoreError::new(
                ErrorKind::InvalidInput,
                target,
                format!("the metadata `{key}` cannot be sent to S3 (names and values travel as ASCII headers)"),
            ));
        }
        request = request.header(&format!("x-amz-meta-{}", key.to_ascii_lowercase()), value);
    }
    if let Some(class) = options.access_tier.as_deref().filter(|t| STORAGE_CLASSES.contains(t)) {
        request = request.header("x-amz-storage-class", class);
    }
    if !options.overwrite {
        request = request.header("if-none-match", "*");
    }
    Ok(request)
}

/// The body of CreateBucket for `region` (none for us-east-1, where a location is refused).
pub(crate) fn create_bucket_body(region: &str) -> Option<String> {
    (region != "us-east-1").then(|| {
        format!(
            "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>{region}</LocationConstraint></CreateBucketConfiguration>"
        )
    })
}

/// A conditional create (`If-None-Match: *`, when `options` keep an existing object) that S3
/// refused with 412: the object exists.
pub(crate) fn exists_when_kept(err: StoreError, options: &WriteOptions) -> StoreError {
    if !options.overwrite && err.kind() == ErrorKind::PreconditionFailed {
        StoreError::new(ErrorKind::AlreadyExists, err.target(), "the object exists and overwrite is off")
    } else {
        err
    }
}
