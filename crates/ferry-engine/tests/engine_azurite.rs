//! The copy engine against real stores: local disk and Azure Blob on Azurite.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use ferry_azure::AzureStore;
use ferry_engine::{CheckMd5, CopyEngine, CopyOptions, Overwrite, Transfer, TransferPolicy};
use ferry_store::{ErrorKind, ListDepth, LocalStore, PartId, Store, WriteOptions, md5_of};
use ferry_testkit::Azurite;
use ferry_testkit::data::pattern;
use futures::{StreamExt, TryStreamExt};

const MIB: usize = 1024 * 1024;

/// A tree with the awkward cases: empty and tiny files, tricky names, deep nesting, and files
/// larger than one block.
fn make_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let deep: String = (0..20).map(|i| format!("level{i}/")).collect();
    let entries: Vec<(String, Vec<u8>)> = vec![
        ("empty.txt".into(), Vec::new()),
        ("one byte".into(), b"1".to_vec()),
        ("sp ace/#hash/100% sure+&.txt".into(), b"tricky".to_vec()),
        ("q?mark/caf\u{e9} NFC.txt".into(), b"nfc".to_vec()),
        ("q?mark/cafe\u{301} NFD.txt".into(), b"nfd".to_vec()),
        (format!("{deep}bottom.bin"), pattern(1000, 1)),
        ("big/eleven-mib.bin".into(), pattern(11 * MIB + 7, 2)),
        ("big/exactly-4-mib.bin".into(), pattern(4 * MIB, 3)),
    ];
    for (name, data) in entries {
        let path = root.join(&name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &data).unwrap();
        files.insert(name, data);
    }
    files
}

fn options() -> CopyOptions {
    CopyOptions {
        policy: TransferPolicy { block_size: Some(4 * MIB as u64), put_md5: true, ..TransferPolicy::default() },
        part_tag: "engine-test".into(),
        objects_in_flight: 8,
        requests_in_flight: 16,
        buffer_bytes: 64 * MIB as u64,
        ..CopyOptions::default()
    }
}

/// [`options`] with its policy changed by `change`.
fn with_policy(change: impl FnOnce(&mut TransferPolicy)) -> CopyOptions {
    let mut options = options();
    change(&mut options.policy);
    options
}

/// Copies everything under `prefix` in `source` to `dest`, keeping keys.
async fn copy_all(source: Arc<dyn Store>, dest: Arc<dyn Store>, options: CopyOptions) -> ferry_engine::CopyReport {
    let engine = CopyEngine::new(source.clone(), dest, options);
    let transfers = source.list("", ListDepth::Recursive).map_ok(|e| {
        let key = e.key.clone();
        Transfer::from_entry(e, key)
    });
    engine.run(transfers).await
}

async fn read_all(store: &dyn Store, key: &str) -> Vec<u8> {
    let chunks: Vec<Bytes> = store.read(key, None).await.unwrap().try_collect().await.unwrap();
    chunks.concat()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn local_to_blob_to_local_round_trip_is_byte_identical() {
    let azurite = Azurite::shared();
    let source_dir = tempfile::tempdir().unwrap();
    let files = make_tree(source_dir.path());
    let local: Arc<dyn Store> = Arc::new(LocalStore::new(source_dir.path()));
    let blob: Arc<dyn Store> = Arc::new(azurite.new_container("engine-up").await);

    let up = copy_all(local.clone(), blob.clone(), options()).await;
    assert!(up.failures.is_empty(), "{:?}", up.failures);
    assert_eq!(up.stats.done, files.len() as u64);
    assert_eq!(up.stats.bytes_transferred, files.values().map(|d| d.len() as u64).sum::<u64>());
    for (name, data) in &files {
        let entry = blob.stat(name).await.unwrap();
        assert_eq!(entry.size, data.len() as u64, "{name}");
        assert_eq!(entry.content_md5, Some(md5_of(data)), "{name}: Content-MD5 stored for every upload");
    }
    let staged = blob.list_parts("big/eleven-mib.bin").await.unwrap();
    assert_eq!(staged.committed.len(), 3, "11 MiB in 4 MiB blocks");

    let back_dir = tempfile::tempdir().unwrap();
    let back: Arc<dyn Store> = Arc::new(LocalStore::new(back_dir.path()));
    let down = copy_all(blob, back.clone(), options()).await;
    assert!(down.failures.is_empty(), "{:?}", down.failures);
    assert_eq!(down.stats.done, files.len() as u64);
    for (name, data) in &files {
        assert_eq!(&std::fs::read(back_dir.path().join(name)).unwrap(), data, "{name}");
    }
    let listed: Vec<String> = back.list("", ListDepth::Recursive).map_ok(|e| e.key).try_collect().await.unwrap();
    assert_eq!(listed.len(), files.len(), "no temporary files left behind: {listed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn blob_to_blob_copies_server_side_and_keeps_properties() {
    let azurite = Azurite::shared();
    let source = azurite.new_container("engine-s2s-src").await;
    let mut write = WriteOptions::default();
    write.headers.content_type = Some("text/csv".into());
    write.metadata.insert("origin".into(), "engine".into());
    let big = pattern(9 * MIB + 3, 9);
    source.write("data/big.csv", big.clone().into(), &write).await.unwrap();
    source.write("data/small.csv", Bytes::from_static(b"a,b\n").into(), &write).await.unwrap();
    source.write("data/empty.csv", Bytes::new().into(), &write).await.unwrap();
    let dest = azurite.new_container("engine-s2s-dst").await;

    let report = copy_all(Arc::new(source.clone()), Arc::new(dest.clone()), options()).await;
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.stats.done, 3);
    assert_eq!(md5_of(&read_all(&dest, "data/big.csv").await), md5_of(&big));
    let entry = dest.stat("data/big.csv").await.unwrap();
    assert_eq!(entry.props().headers.content_type.as_deref(), Some("text/csv"));
    assert_eq!(entry.props().metadata.get("origin").map(String::as_str), Some("engine"));
    assert_eq!(entry.content_md5, source.stat("data/big.csv").await.unwrap().content_md5);
    assert_eq!(read_all(&dest, "data/empty.csv").await, b"");
}

async fn blob_with_wrong_md5(store: &AzureStore, key: &str, data: &[u8]) {
    let id = PartId::numbered("wrong", 0);
    store.put_part(key, &id, Bytes::copy_from_slice(data), None).await.unwrap();
    let mut write = WriteOptions::default();
    write.headers.content_md5 = Some(md5_of(b"not the data"));
    store.commit_parts(key, &[id], &write).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn downloads_check_the_stored_md5_by_mode() {
    let azurite = Azurite::shared();
    let blob = azurite.new_container("engine-md5").await;
    blob_with_wrong_md5(&blob, "bad.bin", b"payload").await;
    blob.write("nomd5.bin", Bytes::new().into(), &WriteOptions::default()).await.unwrap();
    let source: Arc<dyn Store> = Arc::new(blob);

    for (mode, lands) in [(CheckMd5::FailIfDifferent, false), (CheckMd5::LogOnly, true), (CheckMd5::NoCheck, true)] {
        let dir = tempfile::tempdir().unwrap();
        let engine =
            CopyEngine::new(source.clone(), Arc::new(LocalStore::new(dir.path())), with_policy(|p| p.check_md5 = mode));
        let entry = source.stat("bad.bin").await.unwrap();
        let report = engine.run(futures::stream::iter([Ok(Transfer::from_entry(entry, "bad.bin".into()))])).await;
        assert_eq!(dir.path().join("bad.bin").exists(), lands, "{mode:?}");
        assert_eq!(report.stats.failed, u64::from(!lands), "{mode:?}");
        if !lands {
            assert!(report.failures[0].error.to_string().contains("does not match the Content-MD5"));
            let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
            assert_eq!(leftovers, 0, "no partial file remains");
        }
    }

    // An empty blob written by Put Blob has an MD5; strip it by committing an empty block list.
    let strict = with_policy(|p| p.check_md5 = CheckMd5::FailIfDifferentOrMissing);
    let dir = tempfile::tempdir().unwrap();
    let no_md5 = azurite.new_container("engine-nomd5").await;
    no_md5.commit_parts("plain.bin", &[], &WriteOptions::default()).await.unwrap();
    let entry = no_md5.stat("plain.bin").await.unwrap();
    assert_eq!(entry.content_md5, None);
    let engine = CopyEngine::new(Arc::new(no_md5), Arc::new(LocalStore::new(dir.path())), strict);
    let report = engine.run(futures::stream::iter([Ok(Transfer::from_entry(entry, "plain.bin".into()))])).await;
    assert_eq!(report.stats.failed, 1);
    assert_eq!(report.failures[0].error.kind(), ErrorKind::InvalidInput);
    assert!(!dir.path().join("plain.bin").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overwrite_modes_skip_or_replace() {
    let azurite = Azurite::shared();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f.txt"), b"new content").unwrap();
    let local: Arc<dyn Store> = Arc::new(LocalStore::new(dir.path()));
    let blob = azurite.new_container("engine-ow").await;
    blob.write("f.txt", Bytes::from_static(b"old").into(), &WriteOptions::default()).await.unwrap();
    let blob: Arc<dyn Store> = Arc::new(blob);

    let run = |overwrite| copy_all(local.clone(), blob.clone(), with_policy(|p| p.overwrite = overwrite));
    let report = run(Overwrite::False).await;
    assert_eq!((report.stats.skipped, report.stats.done), (1, 0));
    assert_eq!(read_all(&*blob, "f.txt").await, b"old");
    // The blob was written after the file, so the file is not newer.
    let report = run(Overwrite::IfSourceNewer).await;
    assert_eq!(report.stats.skipped, 1);
    assert_eq!(read_all(&*blob, "f.txt").await, b"old");
    let report = run(Overwrite::True).await;
    assert_eq!(report.stats.done, 1);
    assert_eq!(read_all(&*blob, "f.txt").await, b"new content");
    // Now the file is older than the blob; touch it to make it newer.
    let file = std::fs::File::options().write(true).open(dir.path().join("f.txt")).unwrap();
    file.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(60)).unwrap();
    std::fs::write(dir.path().join("f.txt"), b"newest content").unwrap();
    let file = std::fs::File::options().write(true).open(dir.path().join("f.txt")).unwrap();
    file.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(60)).unwrap();
    let report = run(Overwrite::IfSourceNewer).await;
    assert_eq!(report.stats.done, 1, "{:?}", report.failures);
    assert_eq!(read_all(&*blob, "f.txt").await, b"newest content");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_failure_does_not_stop_the_others() {
    let azurite = Azurite::shared();
    let dir = tempfile::tempdir().unwrap();
    for i in 0..20 {
        std::fs::write(dir.path().join(format!("f{i:02}")), format!("file {i}")).unwrap();
    }
    let local: Arc<dyn Store> = Arc::new(LocalStore::new(dir.path()));
    let blob: Arc<dyn Store> = Arc::new(azurite.new_container("engine-fail").await);
    let engine = CopyEngine::new(local.clone(), blob.clone(), options());
    let mut transfers: Vec<_> = local
        .list("", ListDepth::Recursive)
        .map_ok(|e| {
            let key = e.key.clone();
            Transfer::from_entry(e, key)
        })
        .try_collect()
        .await
        .unwrap();
    // One item names a source that vanished after listing.
    transfers[7].source_key = "vanished".into();
    let report = engine.run(futures::stream::iter(transfers.into_iter().map(Ok))).await;
    assert_eq!((report.stats.done, report.stats.failed), (19, 1));
    assert_eq!(report.failures[0].error.kind(), ErrorKind::NotFound);
    let listed = blob.list("", ListDepth::Recursive).count().await;
    assert_eq!(listed, 19);
}
