//! The Store conformance suite against the local file-system backend.

use ferry_store::{LocalStore, Store};

async fn fresh() -> (LocalStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = LocalStore::new(dir.path().join("root"));
    store.create_root().await.expect("create the root");
    (store, dir)
}

ferry_testkit::store_conformance_tests!(fresh);
