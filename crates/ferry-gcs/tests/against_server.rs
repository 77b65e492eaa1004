//! The GCS store against fake-gcs-server (the JSON API, in memory), with Google's Python client
//! (`google-cloud-storage`) as the independent writer, and as the reference for V4 signed URLs.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ferry_core::{EntryKind, ErrorKind};
use ferry_gcs::{GcsClient, GcsEndpoint, GcsStore, ServiceAccount};
use ferry_store::{ListDepth, Store};
use ferry_testkit::gcs::GcsServer;
use futures::TryStreamExt;

fn key_file() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/test_key.pem")).unwrap();
    let json = serde_json::json!({
        "type": "service_account", "project_id": "ferry-test", "private_key_id": "k1", "private_key": pem,
        "client_email": "ferry@ferry-test.iam.gserviceaccount.com", "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    });
    let path = dir.path().join("key.json");
    std::fs::write(&path, json.to_string()).unwrap();
    let shown = path.display().to_string();
    (dir, shown)
}

fn store(server: &GcsServer, bucket: &str, account: Option<Arc<ServiceAccount>>) -> GcsStore {
    let endpoint = GcsEndpoint::emulator(&server.host()).unwrap();
    let client = GcsClient::new(ferry_http::HttpConfig::default(), endpoint, account).unwrap();
    GcsStore::new(client, bucket)
}

const ODD: &[&str] =
    &["a//b", "dir/", "dir/x.txt", "sp ace+plus.txt", "unicode/été.txt", "~tilde", "z%25.txt", "q?x#y"];

#[tokio::test(flavor = "multi_thread")]
async fn odd_names_list_in_order_with_paging_and_read_by_range() {
    let server = GcsServer::shared();
    let bucket = GcsServer::unique_bucket("odd");
    let objects: Vec<(&str, &[u8])> = ODD.iter().map(|k| (*k, k.as_bytes())).collect();
    server.bucket_with(&bucket, &objects, &[("origin", "gcs"), ("123-invalid", "x")]);
    let store = store(server, &bucket, None).with_page_size(2);
    let listed: Vec<ferry_core::Entry> = store.list("", ListDepth::Recursive).try_collect().await.unwrap();
    let mut expected: Vec<&str> = ODD.iter().copied().filter(|k| !k.ends_with('/')).collect();
    expected.sort();
    let keys: Vec<&str> = listed.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, expected, "folder markers passed over, every other name byte for byte");
    for entry in &listed {
        assert_eq!(entry.size, entry.key.len() as u64);
        assert_eq!(entry.content_md5, Some(ferry_store::md5_of(entry.key.as_bytes())), "{}", entry.key);
        let props = entry.props();
        assert_eq!(props.headers.content_type.as_deref(), Some("text/plain"));
        assert_eq!(props.metadata.get("origin").map(String::as_str), Some("gcs"), "listings carry metadata");
        let data: Vec<u8> =
            store.read(&entry.key, Some(1..3)).await.unwrap().map_ok(|b| b.to_vec()).try_concat().await.unwrap();
        assert_eq!(data, entry.key.as_bytes()[1..3], "{}", entry.key);
        let whole: Vec<u8> =
            store.read(&entry.key, None).await.unwrap().map_ok(|b| b.to_vec()).try_concat().await.unwrap();
        assert_eq!(whole, entry.key.as_bytes());
    }
    for start in ["sp", "unicode/été.txt", "unicode/z"] {
        let from: Vec<String> =
            store.list_from("", ListDepth::Recursive, start).map_ok(|e| e.key).try_collect().await.unwrap();
        let after: Vec<&str> = expected.iter().copied().filter(|k| *k >= start).collect();
        assert_eq!(from, after, "listed from {start:?} (startOffset)");
    }
    let stat = store.stat("unicode/été.txt").await.unwrap();
    assert_eq!(
        (stat.size, stat.content_md5),
        ("unicode/été.txt".len() as u64, Some(ferry_store::md5_of("unicode/été.txt".as_bytes())))
    );
    let top: Vec<(String, EntryKind)> =
        store.list("", ListDepth::OneLevel).map_ok(|e| (e.key, e.kind)).try_collect().await.unwrap();
    assert!(top.contains(&("dir/".to_owned(), EntryKind::Prefix)), "{top:?}");
    assert!(top.contains(&("~tilde".to_owned(), EntryKind::Object)), "{top:?}");
    assert_eq!(store.stat("nope").await.unwrap_err().kind(), ErrorKind::NotFound);
    let missing = self::store(server, "no-such-bucket-here", None);
    let err = missing.list("", ListDepth::Recursive).try_next().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_urls_match_googles_client_and_the_server_serves_them() {
    let server = GcsServer::shared();
    let bucket = GcsServer::unique_bucket("signed");
    let name = "dir/a b+é.txt";
    server.bucket_with(&bucket, &[(name, b"signed bytes")], &[]);
    let (_dir, key_path) = key_file();
    let account = Arc::new(ServiceAccount::from_file(std::path::Path::new(&key_path)).unwrap());
    let endpoint = GcsEndpoint::emulator(&server.host()).unwrap();

    // The same URL, time and lifetime through Google's own client.
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_529_200);
    let ours = ferry_gcs::signing::signed_url(&account, &endpoint.object_url(&bucket, name), 3600, at).unwrap();
    let theirs = server.python(
        &bucket,
        &format!(
            "from google.oauth2 import service_account\nfrom google.cloud.storage._signing import generate_signed_url_v4\n\
             import urllib.parse\n\
             creds = service_account.Credentials.from_service_account_file({key_path:?})\n\
             resource = '/' + bucket + '/' + urllib.parse.quote({name:?}, safe='/~')\n\
             print(generate_signed_url_v4(creds, resource, 3600, api_access_endpoint=sys.argv[1], _request_timestamp='20251130T190000Z'), end='')"
        ),
    );
    assert_eq!(ours.as_str(), theirs, "Ferry's V4 signed URL is Google's, byte for byte");

    // The server (which checks no signature) serves it: the URL names the object.
    let store = store(server, &bucket, Some(account)).readable_by_url(true);
    let url = store.service_readable_url(name).await.unwrap();
    let body = reqwest_get(&url).await;
    assert_eq!(body, b"signed bytes");
}

async fn reqwest_get(url: &url::Url) -> Vec<u8> {
    let http = ferry_http::HttpClient::new(ferry_http::HttpConfig::default()).unwrap();
    let response = http
        .send(ferry_http::Request::new(reqwest::Method::GET, url.clone(), "signed"), &ferry_http::NoAuth, |r, t| {
            Box::pin(async move { ferry_core::StoreError::new(ErrorKind::Other, t, format!("HTTP {}", r.status())) })
        })
        .await
        .unwrap();
    response.bytes().await.unwrap().to_vec()
}
