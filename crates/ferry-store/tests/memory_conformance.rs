//! The Store conformance suite against the in-memory backend (the one fast tests build on).

use ferry_store::{MemoryStore, Store};

async fn fresh() -> (MemoryStore, ()) {
    let store = MemoryStore::new();
    store.create_root().await.expect("create the root");
    (store, ())
}

ferry_testkit::store_conformance_tests!(fresh);
