//! Shares as a whole: making one (`ferry make`, with its quota) and listing an account's.

use ferry_azure::BlobClient;
use ferry_core::BlobUrl;
use ferry_http::Request;
use ferry_store::{ErrorKind, Result, StoreError};
use reqwest::Method;

use crate::xml::parse_share_page;

/// Creates the share `url` names, with a quota in GiB if given (`AlreadyExists` if it exists).
pub async fn create_share(client: &BlobClient, url: &BlobUrl, quota_gb: Option<u64>) -> Result<()> {
    let share = url
        .container()
        .ok_or_else(|| StoreError::new(ErrorKind::InvalidInput, url.to_string(), "the URL names no share"))?;
    let mut request_url = url.container_url_for(share);
    request_url.set_query(Some("restype=share"));
    let target = url.with_sas(None).with_container_and_path(Some(share), "").to_string();
    let mut request = Request::new(Method::PUT, request_url, &target);
    if let Some(quota) = quota_gb {
        request = request.header("x-ms-share-quota", &quota.to_string());
    }
    client.send(request).await?;
    Ok(())
}

/// The names of the account's shares, in name order.
pub async fn list_shares(client: &BlobClient, url: &BlobUrl) -> Result<Vec<String>> {
    ferry_azure::list_account_names(client, url, |xml| parse_share_page(xml).map_err(|e| e.to_string())).await
}
