//! An S3 service — every bucket — as one tree for a copy (AzCopy copies every bucket when the
//! source is a service URL), on [`ferry_store::service::ServiceStore`].

use ferry_core::{ErrorKind, S3Url, StoreError};
use ferry_http::Request;
use ferry_http::xml::{Visitor, walk};
use ferry_store::{EntryStream, ListDepth};
use reqwest::Method;

use crate::{S3Client, S3Store};

type Result<T> = std::result::Result<T, StoreError>;

/// Every bucket of an S3 service, as one store whose keys are `BUCKET/KEY`.
pub type S3ServiceStore = ferry_store::service::ServiceStore<S3Store>;

#[derive(Default)]
struct BucketsVisitor(Vec<String>);

impl Visitor for BucketsVisitor {
    fn text(&mut self, path: &[String], text: &str) {
        if path.ends_with(&["Bucket".to_owned(), "Name".to_owned()]) {
            self.0.push(text.to_owned());
        }
    }
}

/// The buckets of the service behind `url` (ListBuckets), in name order.
pub async fn list_buckets(client: &S3Client, url: &S3Url) -> Result<Vec<String>> {
    let mut endpoint = url.endpoint().clone();
    endpoint.set_path("/");
    let target = endpoint.to_string();
    let body = client.get_xml(Request::new(Method::GET, endpoint, &target)).await?;
    let mut visitor = BucketsVisitor::default();
    walk(&body, &mut visitor).map_err(|e| StoreError::new(ErrorKind::Other, &target, e.to_string()))?;
    let mut names = visitor.0;
    names.sort();
    Ok(names)
}

impl ferry_store::service::Bucket for S3Store {
    fn list_owned(&self, prefix: &str, depth: ListDepth) -> EntryStream<'static> {
        S3Store::list_owned(self, prefix, depth)
    }
}

/// Every bucket of the service behind `url` (from [`list_buckets`]), as one store whose keys are
/// `BUCKET/KEY`; each bucket is read by presigned URL in a server-side copy.
pub fn service_store(client: S3Client, url: &S3Url, buckets: Vec<String>) -> S3ServiceStore {
    let url = url.with_bucket_and_key(None, "");
    let shown = url.to_string();
    let open = Box::new(move |bucket: &str| {
        Ok(S3Store::new(client.clone(), &url.with_bucket_and_key(Some(bucket), ""))?.readable_by_url(true))
    });
    ferry_store::service::ServiceStore::new(shown, buckets, crate::store::CAPABILITIES, open)
}
