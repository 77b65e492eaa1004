//! Azure-specific behaviour against Azurite: how authorisation failures map to error kinds,
//! server-side copy with Put Block From URL, paging with small pages, and retries logged with
//! the URL redacted.

use std::time::Duration;

use bytes::Bytes;
use ferry_azure::{AzureStore, Credential, SharedKey, account_sas_from};
use ferry_core::{BlobUrl, Secret};
use ferry_store::{ErrorKind, ListDepth, PartId, Payload, Store, WriteOptions, md5_of};
use ferry_testkit::Azurite;
use ferry_testkit::data::pattern;
use futures::TryStreamExt;
use time::OffsetDateTime;

fn store_with(azurite: &Azurite, container: &str, credential: Credential) -> AzureStore {
    let url = BlobUrl::parse(&azurite.container_url(container), false).unwrap();
    AzureStore::new(azurite.client_with(credential), &url).unwrap()
}

async fn seeded(prefix: &str) -> (AzureStore, &'static Azurite) {
    let azurite = Azurite::shared();
    let store = azurite.new_container(prefix).await;
    store.write("seed.txt", Payload::from(&b"seed"[..]), &WriteOptions::default()).await.unwrap();
    (store, azurite)
}

#[tokio::test]
async fn a_read_only_sas_cannot_write_permission_denied() {
    let (store, azurite) = seeded("readonly").await;
    let sas = azurite.container_sas(store.container(), "rl");
    let reader = store_with(azurite, store.container(), Credential::Sas(sas));
    let entry = reader.stat("seed.txt").await.expect("a read-only SAS can read");
    assert_eq!(entry.size, 4);
    let err = reader.write("new.txt", Payload::from(&b"x"[..]), &WriteOptions::default()).await.expect_err("no write");
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    assert!(err.hint().unwrap().contains("permissions"), "{err:?}");
    assert!(reader.stat("new.txt").await.is_err(), "nothing was written");
}

#[tokio::test]
async fn a_wrong_account_key_is_unauthenticated() {
    let (store, azurite) = seeded("wrongkey").await;
    let wrong = SharedKey::new("devstoreaccount1", &Secret::new("d3JvbmcgYnV0IHZhbGlkIGJhc2U2NA==")).unwrap();
    let bad = store_with(azurite, store.container(), Credential::SharedKey(wrong));
    let err = bad.stat("seed.txt").await.expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Unauthenticated, "{err}");
    let listed: Result<Vec<_>, _> = bad.list("", ListDepth::Recursive).try_collect().await;
    assert_eq!(listed.expect_err("listing refused").kind(), ErrorKind::Unauthenticated);
}

#[tokio::test]
async fn an_expired_sas_is_unauthenticated_with_a_hint() {
    let (store, azurite) = seeded("expired").await;
    let now = OffsetDateTime::now_utc();
    let sas =
        account_sas_from(&azurite.shared_key(), "rl", now - Duration::from_secs(7200), now - Duration::from_secs(3600));
    let expired = store_with(azurite, store.container(), Credential::Sas(sas));
    let err = expired.stat("seed.txt").await.expect_err("expired");
    assert_eq!(err.kind(), ErrorKind::Unauthenticated, "{err}");
    assert!(err.hint().unwrap().contains("se="), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("sig="), "no signature in the error");
}

#[tokio::test]
async fn a_missing_container_is_not_found_with_a_hint() {
    let azurite = Azurite::shared();
    let missing = store_with(azurite, "no-such-container", Credential::SharedKey(azurite.shared_key()));
    let listed: Result<Vec<_>, _> = missing.list("", ListDepth::Recursive).try_collect().await;
    let err = listed.expect_err("no container");
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(err.hint().unwrap().contains("ferry make"), "{err:?}");
}

#[tokio::test]
async fn put_block_from_url_copies_server_side() {
    let azurite = Azurite::shared();
    let source = azurite.new_container("s2s-src").await;
    let destination = azurite.new_container("s2s-dst").await;
    let data = pattern(3 * 1024 * 1024 + 11, 42);
    source.write("big.bin", Payload::from(data.clone()), &WriteOptions::default()).await.unwrap();

    // The source is read by the service through a SAS URL; the destination is authorised by
    // shared key (Azurite refuses Put Block From URL under an account SAS).
    let sas = azurite.container_sas(source.container(), "r");
    let readable = store_with(azurite, source.container(), Credential::Sas(sas)).readable_url("big.bin");
    let cut = 2 * 1024 * 1024u64;
    let ids = [PartId::numbered("s2s", 0), PartId::numbered("s2s", 1)];
    destination.put_part_from_url("copy.bin", &ids[0], &readable, Some(0..cut)).await.expect("first block from URL");
    destination
        .put_part_from_url("copy.bin", &ids[1], &readable, Some(cut..data.len() as u64))
        .await
        .expect("second block from URL");
    destination.commit_parts("copy.bin", &ids, &WriteOptions::default()).await.expect("commit");
    let copied: Vec<Bytes> = destination.read("copy.bin", None).await.unwrap().try_collect().await.unwrap();
    assert_eq!(md5_of(&copied.concat()), md5_of(&data), "the copy has the source's bytes");
}

#[tokio::test]
async fn small_pages_list_everything_once_in_order() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("paging").await.with_page_size(7);
    for i in 0..50 {
        store.write(&format!("p/{i:03}"), Payload::from(vec![b'x'; i]), &WriteOptions::default()).await.unwrap();
        if i % 10 == 0 {
            store
                .write(&format!("p/{i:03}-dir/inner"), Payload::from(&b"y"[..]), &WriteOptions::default())
                .await
                .unwrap();
        }
    }
    let flat: Vec<_> = store.list("p/", ListDepth::Recursive).try_collect().await.unwrap();
    assert_eq!(flat.len(), 55);
    assert!(flat.windows(2).all(|w| w[0].key.as_bytes() < w[1].key.as_bytes()), "strictly increasing keys");
    let level: Vec<_> = store.list("p/", ListDepth::OneLevel).try_collect().await.unwrap();
    assert_eq!(level.len(), 55, "50 blobs and 5 virtual directories");
    assert!(level.windows(2).all(|w| w[0].key.as_bytes() < w[1].key.as_bytes()), "one-level pages stay ordered");
}

/// A log sink for one test: everything `tracing` writes while the guard lives.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn busy_responses_are_retried_and_logged_without_the_signature() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("retry").await;
    store.write("r.txt", Payload::from(&b"retried"[..]), &WriteOptions::default()).await.unwrap();
    let proxy = ferry_testkit::fault_proxy::FaultProxy::start(azurite.port(), 2).await.unwrap();

    let sas = azurite.container_sas(store.container(), "rl");
    let signature = sas.param("sig").unwrap().to_owned();
    let url =
        BlobUrl::parse(&format!("http://127.0.0.1:{}/devstoreaccount1/{}", proxy.port(), store.container()), false)
            .unwrap();
    let through_proxy = AzureStore::new(azurite.client_with(Credential::Sas(sas)), &url).unwrap();

    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt().with_writer(move || sink.clone()).with_ansi(false).finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let entry = through_proxy.stat("r.txt").await.expect("the third attempt succeeds");
    assert_eq!(entry.size, 7);
    assert_eq!(proxy.faults_left(), 0, "both injected faults were hit");
    assert!(proxy.connections() >= 3);
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert_eq!(log.matches("retrying request").count(), 2, "each retry is logged:\n{log}");
    assert!(log.contains("ServerBusy"), "{log}");
    assert!(log.contains("r.txt"), "the log names the object:\n{log}");
    assert!(!log.contains(&signature), "the signature never reaches the log:\n{log}");
}

#[tokio::test]
async fn retries_stop_at_the_limit_with_the_last_error() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("retrylimit").await;
    let proxy = ferry_testkit::fault_proxy::FaultProxy::start(azurite.port(), 100).await.unwrap();
    let url =
        BlobUrl::parse(&format!("http://127.0.0.1:{}/devstoreaccount1/{}", proxy.port(), store.container()), false)
            .unwrap();
    // The test kit's clients retry twice.
    let through_proxy = AzureStore::new(azurite.client(), &url).unwrap();
    let err = through_proxy.stat("x").await.expect_err("always busy");
    assert_eq!(err.kind(), ErrorKind::Throttled, "{err}");
    assert_eq!(proxy.connections(), 3, "one attempt and two retries");
}

#[tokio::test]
async fn tier_headers_and_metadata_are_set_on_write_and_commit() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("tiers").await;
    let mut options = WriteOptions { access_tier: Some("Cool".into()), ..WriteOptions::default() };
    options.headers.content_disposition = Some("attachment".into());
    options.headers.content_language = Some("en".into());
    options.metadata.insert("project".into(), "ferry".into());
    store.write("single.txt", Payload::from(&b"one shot"[..]), &options).await.unwrap();
    let parts = [PartId::numbered("tier", 0)];
    store.put_part("staged.txt", &parts[0], Bytes::from_static(b"staged"), None).await.unwrap();
    store.commit_parts("staged.txt", &parts, &options).await.unwrap();
    for key in ["single.txt", "staged.txt"] {
        let entry = store.stat(key).await.unwrap();
        let props = entry.props();
        assert_eq!(props.access_tier.as_deref(), Some("Cool"), "{key}");
        assert_eq!(props.headers.content_disposition.as_deref(), Some("attachment"), "{key}");
        assert_eq!(props.headers.content_language.as_deref(), Some("en"), "{key}");
        assert_eq!(props.metadata.get("project").map(String::as_str), Some("ferry"), "{key}");
        assert_eq!(props.blob_type.as_deref(), Some("BlockBlob"), "{key}");
    }
    let bad = WriteOptions { metadata: [("not a name".to_owned(), "v".to_owned())].into(), ..WriteOptions::default() };
    let err = store.write("bad.txt", Payload::from(&b"x"[..]), &bad).await.expect_err("invalid metadata name");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn a_listing_from_a_name_asks_the_service_to_start_there() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("startfrom").await;
    for i in 0..30 {
        store.write(&format!("n{i:02}"), Payload::from(&b"x"[..]), &WriteOptions::default()).await.unwrap();
    }
    let proxy = ferry_testkit::fault_proxy::FaultProxy::start(azurite.port(), 0).await.unwrap();
    let url =
        BlobUrl::parse(&format!("http://127.0.0.1:{}/devstoreaccount1/{}", proxy.port(), store.container()), false)
            .unwrap();
    // Shared Key signs x-ms-version: Azurite checks the signature of the newer version too.
    let through_proxy = AzureStore::new(azurite.client_with(Credential::SharedKey(azurite.shared_key())), &url)
        .unwrap()
        .with_page_size(5);
    let listed: Vec<String> =
        through_proxy.list_from("", ListDepth::Recursive, "n20").map_ok(|e| e.key).try_collect().await.unwrap();
    assert_eq!(listed, (20..30).map(|i| format!("n{i:02}")).collect::<Vec<_>>());
    let heads = proxy.heads();
    let lists: Vec<&String> = heads.iter().filter(|h| h.contains("comp=list")).collect();
    assert_eq!(lists.len(), 2, "two pages of five from n20, not six from the start: {lists:#?}");
    for head in &lists {
        assert!(head.contains("startFrom=n20"), "every page starts from the name: {head}");
        let version = format!("x-ms-version: {}", ferry_azure::START_FROM_VERSION).to_lowercase();
        assert!(head.to_lowercase().contains(&version), "sent with the version that has startFrom: {head}");
    }
    let _: Vec<_> = through_proxy.list("", ListDepth::Recursive).try_collect::<Vec<_>>().await.unwrap();
    let plain = proxy.heads().into_iter().rev().find(|h| h.contains("comp=list")).unwrap();
    assert!(!plain.contains("startFrom") && plain.contains(ferry_azure::API_VERSION), "{plain}");
}
