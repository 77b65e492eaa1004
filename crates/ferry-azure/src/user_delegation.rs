//! User-delegation SAS: how a server-side copy reads its source when Ferry signs in with Microsoft
//! Entra ID. The service cannot use our token to fetch the source, so Ferry asks it for a user
//! delegation key (with the token) and signs a read-only SAS for each source blob with that key,
//! valid an hour and back-dated 15 minutes for clock skew, as rclone does. The key is kept for
//! two hours and renewed with less than one left.

use std::time::{Duration, Instant};

use base64::Engine as _;
use ferry_core::encoding::encode_component;
use ferry_core::{ErrorKind, SasToken, Secret, StoreError};
use ferry_http::{Body, Request};
use hmac::{Hmac, KeyInit, Mac};
use reqwest::Method;
use sha2::Sha256;
use time::OffsetDateTime;

use crate::client::BlobClient;
use crate::sas::{SAS_VERSION, sas_time};

/// A user delegation key, as the service returned it.
#[derive(Clone)]
pub struct UserDelegationKey {
    /// `SignedOid`.
    pub oid: String,
    /// `SignedTid`.
    pub tid: String,
    /// `SignedStart`.
    pub start: String,
    /// `SignedExpiry`.
    pub expiry: String,
    /// `SignedService`.
    pub service: String,
    /// `SignedVersion`.
    pub version: String,
    /// `Value`: the base64 key.
    pub value: Secret,
}

impl std::fmt::Debug for UserDelegationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UserDelegationKey(oid={}, tid={}, value=REDACTED)", self.oid, self.tid)
    }
}

/// How long a key is asked for, and when it is renewed.
const KEY_LIFETIME: Duration = Duration::from_secs(2 * 3600);
const KEY_RENEW_LEFT: Duration = Duration::from_secs(3600);

/// Reads a key from the service's `UserDelegationKey` XML.
fn parse_key(xml: &str) -> Option<UserDelegationKey> {
    let field = |name: &str| {
        let open = format!("<{name}>");
        let start = xml.find(&open)? + open.len();
        let end = xml[start..].find(&format!("</{name}>"))? + start;
        Some(xml[start..end].trim().to_owned())
    };
    Some(UserDelegationKey {
        oid: field("SignedOid")?,
        tid: field("SignedTid")?,
        start: field("SignedStart")?,
        expiry: field("SignedExpiry")?,
        service: field("SignedService")?,
        version: field("SignedVersion")?,
        value: Secret::new(field("Value")?),
    })
}

/// Asks the service (with the client's token) for a user delegation key valid until `expiry`.
pub async fn get_key(
    client: &BlobClient,
    service: &url::Url,
    expiry: OffsetDateTime,
) -> Result<UserDelegationKey, StoreError> {
    let mut url = service.clone();
    url.set_query(Some("restype=service&comp=userdelegationkey"));
    let start = sas_time(OffsetDateTime::now_utc() - Duration::from_secs(15 * 60));
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><KeyInfo><Start>{start}</Start><Expiry>{}</Expiry></KeyInfo>",
        sas_time(expiry)
    );
    let target = "the user delegation key";
    let request = Request::new(Method::POST, url, target)
        .header("content-type", "application/xml")
        .body(Body::Bytes(body.into()));
    let response = client.send(request).await?;
    let xml = client.read_xml(response, target).await?;
    parse_key(&xml)
        .ok_or_else(|| StoreError::new(ErrorKind::Other, target, "the service's answer is not a user delegation key"))
}

/// A read-only (`permissions`) user-delegation SAS for one blob, signed with `key`.
pub fn blob_sas(
    key: &UserDelegationKey,
    account: &str,
    container: &str,
    name: &str,
    permissions: &str,
    start: OffsetDateTime,
    expiry: OffsetDateTime,
) -> Result<SasToken, StoreError> {
    let (start, expiry) = (sas_time(start), sas_time(expiry));
    let resource = format!("/blob/{account}/{container}/{name}");
    // sp, st, se, resource, skoid, sktid, skt, ske, sks, skv, saoid, suoid, scid, sip, spr, sv,
    // sr, snapshot time, encryption scope, rscc, rscd, rsce, rscl, rsct.
    let to_sign = format!(
        "{permissions}\n{start}\n{expiry}\n{resource}\n{}\n{}\n{}\n{}\n{}\n{}\n\n\n\n\n\n{SAS_VERSION}\nb\n\n\n\n\n\n\n",
        key.oid, key.tid, key.start, key.expiry, key.service, key.version
    );
    let secret = base64::engine::general_purpose::STANDARD
        .decode(key.value.expose())
        .map_err(|_| StoreError::new(ErrorKind::Other, "the user delegation key", "its value is not base64"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret).expect("HMAC takes any key length");
    mac.update(to_sign.as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let query = format!(
        "sv={SAS_VERSION}&st={}&se={}&sr=b&sp={permissions}&skoid={}&sktid={}&skt={}&ske={}&sks={}&skv={}&sig={}",
        encode_component(&start),
        encode_component(&expiry),
        encode_component(&key.oid),
        encode_component(&key.tid),
        encode_component(&key.start),
        encode_component(&key.expiry),
        encode_component(&key.service),
        encode_component(&key.version),
        encode_component(&sig)
    );
    Ok(SasToken::parse(&query).expect("a signed query has sig="))
}

/// A user delegation key kept for reuse.
#[derive(Debug, Default)]
pub(crate) struct KeyCache {
    slot: tokio::sync::Mutex<Option<(UserDelegationKey, Instant)>>,
}

impl KeyCache {
    /// The kept key, or a new one when there is none or it has less than an hour left.
    pub(crate) async fn get(&self, client: &BlobClient, service: &url::Url) -> Result<UserDelegationKey, StoreError> {
        let mut slot = self.slot.lock().await;
        if let Some((key, until)) = slot.as_ref()
            && until.saturating_duration_since(Instant::now()) > KEY_RENEW_LEFT
        {
            return Ok(key.clone());
        }
        let key = get_key(client, service, OffsetDateTime::now_utc() + KEY_LIFETIME).await?;
        *slot = Some((key.clone(), Instant::now() + KEY_LIFETIME));
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_and_sas_tokens_carry_the_key_fields() {
        let xml = "<?xml version=\"1.0\"?><UserDelegationKey><SignedOid>o-1</SignedOid><SignedTid>t-1</SignedTid><SignedStart>2026-11-30T00:00:00Z</SignedStart><SignedExpiry>2026-11-30T02:00:00Z</SignedExpiry><SignedService>b</SignedService><SignedVersion>2022-11-02</SignedVersion><Value>a2V5</Value></UserDelegationKey>";
        let key = parse_key(xml).unwrap();
        assert_eq!((key.oid.as_str(), key.version.as_str()), ("o-1", "2022-11-02"));
        assert!(!format!("{key:?}").contains("a2V5"));
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let sas = blob_sas(&key, "acct", "box", "a b.txt", "r", now, now + Duration::from_secs(3600)).unwrap();
        assert_eq!(
            (sas.param("skoid"), sas.param("sktid"), sas.param("sr"), sas.permissions()),
            (Some("o-1"), Some("t-1"), Some("b"), Some("r"))
        );
        assert!(parse_key("<Error/>").is_none());
    }
}
