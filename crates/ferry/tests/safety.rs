//! Regression tests for the adversarial review's findings (`shared/reference/safety-findings.md`):
//! one test per finding, named for what broke, each asserting on what lands (bytes, files,
//! requests) rather than on messages alone. Findings fixed below the CLI also have unit tests in
//! their crates; the README's "Safety" section lists what is guaranteed.

mod common;

use std::path::Path;
use std::time::{Duration, SystemTime};

use common::{ferry, ferry_with_key, run, summary_value};
use ferry_store::{ListDepth, Store, WriteOptions};
use ferry_testkit::Azurite;
use futures::TryStreamExt;

async fn blob_keys(store: &impl Store) -> Vec<String> {
    store.list("", ListDepth::Recursive).map_ok(|e| e.key).try_collect().await.unwrap()
}

async fn blob_bytes(store: &impl Store, key: &str) -> Vec<u8> {
    let parts: Vec<bytes::Bytes> = store.read(key, None).await.unwrap().try_collect().await.unwrap();
    parts.concat()
}

async fn put(store: &impl Store, key: &str, data: &'static [u8]) {
    store.write(key, bytes::Bytes::from_static(data).into(), &WriteOptions::default()).await.unwrap();
}

fn set_mtime(path: &Path, secs_since_epoch: u64) {
    let time = SystemTime::UNIX_EPOCH + Duration::from_secs(secs_since_epoch);
    std::fs::File::options().write(true).open(path).unwrap().set_modified(time).unwrap();
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Finding 1: each side was filtered by its own times and sizes, so a source file outside the
/// window looked like an extra at the destination and its backup was deleted.
#[tokio::test(flavor = "multi_thread")]
async fn sync_with_time_or_size_filters_never_deletes_what_the_source_has() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("safety-filters").await;
    let url = azurite.container_url(store.container());
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("old.txt"), "old\n").unwrap();
    set_mtime(&src.join("old.txt"), 1_577_836_800); // 2020-01-01
    std::fs::write(src.join("new.txt"), "new\n").unwrap();
    std::fs::write(src.join("grow.txt"), "small\n").unwrap();
    let (code, _, err) = run(ferry_with_key().args(["sync", s(&src), &url]));
    assert_eq!(code, 0, "{err}");

    // Local → Blob: the old file is outside --include-after; its backup stays.
    let (code, out, err) = run(ferry_with_key().args([
        "sync",
        s(&src),
        &url,
        "--include-after",
        "2024-01-01",
        "--delete-destination",
        "true",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary_value(&out, "Number of Deletions at Destination"), 0, "{out}");
    assert_eq!(blob_keys(&store).await, ["grow.txt", "new.txt", "old.txt"]);

    // A file grows past --max-size: it is not copied, and its last good backup is not deleted.
    std::fs::write(src.join("grow.txt"), vec![b'g'; 5000]).unwrap();
    let (code, _, err) =
        run(ferry_with_key().args(["sync", s(&src), &url, "--max-size", "1KiB", "--delete-destination", "true"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(blob_keys(&store).await, ["grow.txt", "new.txt", "old.txt"]);
    assert_eq!(blob_bytes(&store, "grow.txt").await, b"small\n");

    // Blob → local: a small local copy is inside --max-size while its large source blob is not.
    put(&store, "big.bin", &[7u8; 3000]).await;
    let down = work.path().join("down");
    let (code, _, err) = run(ferry_with_key().args(["sync", &url, s(&down)]));
    assert_eq!(code, 0, "{err}");
    std::fs::write(down.join("big.bin"), b"x").unwrap();
    let (code, _, err) =
        run(ferry_with_key().args(["sync", &url, s(&down), "--max-size", "1KiB", "--delete-destination", "true"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read(down.join("big.bin")).unwrap(), b"x", "kept, not deleted (and not copied: too big)");
    // A true extra is still deleted under the same filter.
    std::fs::write(down.join("extra.txt"), b"e").unwrap();
    let (code, _, err) =
        run(ferry_with_key().args(["sync", &url, s(&down), "--max-size", "1KiB", "--delete-destination", "true"]));
    assert_eq!(code, 0, "{err}");
    assert!(!down.join("extra.txt").exists());
    assert!(down.join("big.bin").exists());
}
