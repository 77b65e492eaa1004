//! The Store contract, checked against moto (which keeps every key byte for byte): each check in
//! a fresh bucket. (SeaweedFS folds `a//b` into `a/b`, so it would fail the names check; its
//! signature checks are exercised by `against_servers.rs` and the end-to-end tests.)

use ferry_s3::{Credentials, S3Client, S3Store};
use ferry_store::Store;
use ferry_testkit::s3::{ACCESS_KEY, S3Server, SECRET_KEY};

async fn fresh() -> (S3Store, ()) {
    let server = S3Server::moto();
    let bucket = S3Server::unique_bucket("conf");
    let url = match ferry_core::Location::parse(
        &server.url(&bucket, ""),
        ferry_core::LocationHint::Known(ferry_core::LocationKind::S3),
    )
    .unwrap()
    {
        ferry_core::Location::S3(url) => url,
        other => panic!("{other}"),
    };
    let credentials = Credentials {
        access_key_id: ACCESS_KEY.into(),
        secret_access_key: ferry_core::Secret::new(SECRET_KEY),
        session_token: None,
    };
    let client = S3Client::new(ferry_http::HttpConfig::default(), Some(credentials), "us-east-1").unwrap();
    let store = S3Store::new(client, &url).unwrap();
    store.create_root().await.expect("a fresh bucket");
    (store, ())
}

ferry_testkit::store_conformance_tests!(fresh);
