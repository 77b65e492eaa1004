//! The Store contract, checked against moto (which keeps every key byte for byte), each check in
//! a fresh bucket; but moto stores a body whose Content-MD5 is wrong, so that check runs against
//! SeaweedFS, which refuses it (SeaweedFS would fail the names check: it folds `a//b` into `a/b`).

use ferry_s3::{Credentials, S3Client, S3Store};
use ferry_store::Store;
use ferry_testkit::s3::{ACCESS_KEY, S3Server, SECRET_KEY};

async fn fresh() -> (S3Store, ()) {
    fresh_on(S3Server::moto()).await
}

async fn fresh_on(server: &S3Server) -> (S3Store, ()) {
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

ferry_testkit::store_conformance_tests!(fresh; but_md5);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn content_md5_is_checked_and_kept() {
    let (store, _guard) = fresh_on(S3Server::seaweed()).await;
    ferry_testkit::conformance::content_md5_is_checked_and_kept(&store).await;
}
