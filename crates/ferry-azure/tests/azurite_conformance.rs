//! The Store conformance suite against Azure Blob on Azurite.

use ferry_azure::AzureStore;
use ferry_testkit::Azurite;

async fn fresh() -> (AzureStore, ()) {
    (Azurite::shared().new_container("conformance").await, ())
}

ferry_testkit::store_conformance_tests!(fresh);
