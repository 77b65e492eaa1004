//! The Store conformance suite against the test kit's Azure Files emulator (itself checked by
//! the official Python client and by AzCopy), each check in a fresh share, with small listing
//! pages so every directory listing pages.

use ferry_azure::{BlobClient, Credential, HttpConfig, SharedKey};
use ferry_files::FilesStore;
use ferry_testkit::files_emulator::{ACCOUNT, FilesEmulator, KEY};

async fn fresh() -> (FilesStore, ()) {
    let emulator = FilesEmulator::shared();
    let share = emulator.new_share("conf");
    let url = ferry_core::FileUrl::parse(&format!("{}/{share}", emulator.account_url()), true).unwrap();
    let key = SharedKey::new(ACCOUNT, &ferry_core::Secret::new(KEY)).unwrap();
    let client = BlobClient::new(HttpConfig::default(), Credential::SharedKey(key)).unwrap();
    (FilesStore::new(client, url.azure()).unwrap().with_page_size(97), ())
}

ferry_testkit::store_conformance_tests!(fresh);
