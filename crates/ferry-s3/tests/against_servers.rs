//! The S3 store against real S3 servers (moto: byte-exact keys; SeaweedFS: checks signatures
//! and presign expiry), with boto3 as the independent writer and checker.

use ferry_core::{ErrorKind, LocationKind};
use ferry_s3::{Credentials, S3Client, S3Store};
use ferry_store::{ListDepth, Store};
use ferry_testkit::s3::{ACCESS_KEY, Flavor, S3Server, SECRET_KEY};
use futures::TryStreamExt;

fn credentials(secret: &str) -> Credentials {
    Credentials {
        access_key_id: ACCESS_KEY.into(),
        secret_access_key: ferry_core::Secret::new(secret),
        session_token: None,
    }
}

fn store(server: &S3Server, bucket: &str, secret: &str) -> S3Store {
    let url =
        match ferry_core::Location::parse(&server.url(bucket, ""), ferry_core::LocationHint::Known(LocationKind::S3))
            .unwrap()
        {
            ferry_core::Location::S3(url) => url,
            other => panic!("{other}"),
        };
    let client = S3Client::new(ferry_http::HttpConfig::default(), Some(credentials(secret)), "us-east-1").unwrap();
    S3Store::new(client, &url).unwrap()
}

const ODD: &[&str] = &["a//b", "dir/", "dir/x.txt", "sp ace+plus.txt", "unicode/été.txt", "~tilde", "z%25.txt"];

async fn odd_keys_list_in_order_with_paging(server: &S3Server) {
    let bucket = S3Server::unique_bucket("odd");
    let objects: Vec<(&str, &[u8])> = ODD.iter().map(|k| (*k, k.as_bytes())).collect();
    server.bucket_with(&bucket, &objects);
    let store = store(server, &bucket, SECRET_KEY).with_page_size(2);
    let listed: Vec<String> = store.list("", ListDepth::Recursive).map_ok(|e| e.key).try_collect().await.unwrap();
    // (key as listed, key as written: its content)
    let mut expected: Vec<(String, &str)> =
        ODD.iter().filter(|k| !k.ends_with('/')).map(|k| ((*k).to_owned(), *k)).collect();
    if server.flavor() == Flavor::Seaweed {
        // SeaweedFS stores `a//b` as `a/b` (a known difference; moto keeps it).
        expected[0].0 = "a/b".into();
    }
    expected.sort();
    let keys: Vec<String> = expected.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(listed, keys, "folder markers passed over, every other key byte for byte");

    // From a key, with `start-after` (signed like any query parameter: SeaweedFS checks).
    for start in ["sp", "unicode/été.txt", "unicode/z"] {
        let from: Vec<String> =
            store.list_from("", ListDepth::Recursive, start).map_ok(|e| e.key).try_collect().await.unwrap();
        let after: Vec<String> = keys.iter().filter(|k| k.as_str() >= start).cloned().collect();
        assert_eq!(from, after, "listed from {start:?}");
    }

    let top: Vec<(String, ferry_core::EntryKind)> =
        store.list("", ListDepth::OneLevel).map_ok(|e| (e.key, e.kind)).try_collect().await.unwrap();
    assert!(top.iter().any(|(k, kind)| k == "dir/" && *kind == ferry_core::EntryKind::Prefix), "{top:?}");

    for (key, written) in &expected {
        let entry = store.stat(key).await.unwrap();
        assert_eq!(entry.size, written.len() as u64, "{key}");
        let md5 = ferry_store::md5_of(written.as_bytes());
        assert_eq!(entry.content_md5, Some(md5), "a single-part ETag is the MD5: {key}");
        let data: Vec<u8> =
            store.read(key, Some(1..3)).await.unwrap().map_ok(|b| b.to_vec()).try_concat().await.unwrap();
        assert_eq!(data, written.as_bytes()[1..3], "{key}");
    }
    let missing = store.stat("nope").await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
}

#[tokio::test(flavor = "multi_thread")]
async fn moto_keys_byte_for_byte() {
    odd_keys_list_in_order_with_paging(S3Server::moto()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn seaweed_checks_the_signatures() {
    let server = S3Server::seaweed();
    odd_keys_list_in_order_with_paging(server).await;

    // A wrong secret is refused by the server, and the error says what to check.
    let bucket = S3Server::unique_bucket("sig");
    server.bucket_with(&bucket, &[("k.txt", b"data")]);
    let err = store(server, &bucket, "not-the-secret").stat("k.txt").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated, "{err}");
    let err = store(server, &bucket, "not-the-secret")
        .list("", ListDepth::Recursive)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("SignatureDoesNotMatch"), "{err}");
    assert!(err.hint().unwrap_or_default().contains("AWS_SECRET_ACCESS_KEY"), "{err:?}");

    // A presigned URL reads the object with no credential; tampered, it is refused.
    let presigned =
        store(server, &bucket, SECRET_KEY).readable_by_url(true).service_readable_url("k.txt").await.unwrap();
    let fetch = |url: String| {
        server.python(&bucket, &format!("import urllib.request\ntry:\n    print(urllib.request.urlopen({url:?}).read().decode())\nexcept Exception as e:\n    print('refused', getattr(e, 'code', e))"))
    };
    assert_eq!(fetch(presigned.to_string()).trim(), "data");
    let tampered = presigned.to_string().replace("X-Amz-Signature=", "X-Amz-Signature=0");
    assert_eq!(fetch(tampered).trim(), "refused 403");
}
