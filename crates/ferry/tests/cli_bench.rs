//! `ferry bench` end to end against Azurite.

mod common;

use common::{ferry_with_key, run};
use ferry_store::{ListDepth, Store};
use ferry_testkit::Azurite;
use futures::TryStreamExt;

fn value<'a>(out: &'a str, label: &str) -> &'a str {
    out.lines().find_map(|l| l.strip_prefix(&format!("{label}: "))).unwrap_or_else(|| panic!("no {label} in {out}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn bench_uploads_generated_data_downloads_it_to_nowhere_and_cleans_up() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("bench").await;
    let url = azurite.container_url(store.container());

    // Kept, so the download has something to read.
    let (code, out, err) = run(ferry_with_key().args([
        "bench",
        &url,
        "--file-count",
        "30",
        "--size-per-file",
        "3M",
        "--block-size-mb",
        "1",
        "--number-of-folders",
        "3",
        "--delete-test-data=false",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(value(&out, "Mode"), "Upload");
    assert_eq!(value(&out, "Files"), "30 (0 failed)");
    assert_eq!(value(&out, "Bytes"), (30 * 3 * 1024 * 1024).to_string());
    assert!(out.contains("Likely bottleneck: "), "{out}");
    let blobs: Vec<(String, u64)> =
        store.list("", ListDepth::Recursive).map_ok(|e| (e.key, e.size)).try_collect().await.unwrap();
    assert_eq!(blobs.len(), 30);
    assert!(
        blobs.iter().all(|(k, size)| k.starts_with("ferry-bench-") && k.contains("/folder000") && *size == 3 << 20)
    );

    let (code, out, err) = run(ferry_with_key().args(["bench", &url, "--mode", "download"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(value(&out, "Files"), "30 (0 failed)");
    assert_eq!(value(&out, "Bytes"), (30 * 3 * 1024 * 1024).to_string());
    assert!(std::fs::read_dir(".").unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().contains("ferry-bench")));

    // The default deletes what it uploaded, and leaves the rest alone.
    let (code, out, err) = run(ferry_with_key().args(["bench", &url, "--file-count", "5", "--size-per-file", "1K"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(value(&out, "Files"), "5 (0 failed)");
    assert_eq!(store.list("", ListDepth::Recursive).try_collect::<Vec<_>>().await.unwrap().len(), 30);

    let (code, _, err) = run(ferry_with_key().args(["bench", &url, "--size-per-file", "3X"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--size-per-file `3X`"), "{err}");
}
