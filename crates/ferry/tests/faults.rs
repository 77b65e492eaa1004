//! Injected faults, through the test kit's proxy in front of Azurite: Ferry keeps working under
//! them, bounds its retries, and never publishes data it did not fully receive.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{ferry_with_key, md5_hex, python_md5s, run, summary_value};
use ferry_testkit::Azurite;
use ferry_testkit::data::pattern;
use ferry_testkit::fault_proxy::{Fault, FaultPlan, FaultProxy, Rule, Selector, When};

fn via(proxy: &FaultProxy, container: &str) -> String {
    format!("http://127.0.0.1:{}/devstoreaccount1/{container}", proxy.port())
}

/// About one request in ten gets one of five faults (independent draws from a fixed seed).
fn ten_percent(seed: u64) -> FaultPlan {
    let rate = |fault, p| Rule::new(fault, Selector::Any, When::Rate(p));
    FaultPlan {
        rules: vec![
            rate(Fault::Busy { retry_after: Some(0) }, 0.03),
            rate(Fault::Busy { retry_after: None }, 0.01),
            rate(Fault::OperationTimedOut, 0.02),
            rate(Fault::ResetBeforeResponse, 0.02),
            rate(Fault::TruncateBody, 0.01),
            rate(Fault::ResetMidBody, 0.01),
        ],
        seed,
    }
}

/// `ferry` with retries on (the other tests turn them off to fail fast), and quick backoff.
fn ferry_retrying() -> Command {
    let mut cmd = ferry_with_key();
    cmd.env("FERRY_MAX_RETRIES", "8");
    cmd
}

#[tokio::test(flavor = "multi_thread")]
#[allow(clippy::print_stderr)] // The count of faults is this test's report (shown with --nocapture).
async fn one_gib_and_five_thousand_files_through_ten_percent_faults_arrive_intact() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("faults-big").await;
    let container = store.container().to_owned();
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    std::fs::create_dir_all(src.join("small")).unwrap();
    let big = pattern(1 << 30, 3);
    let big_md5 = md5_hex(&big);
    std::fs::write(src.join("big.bin"), &big).unwrap();
    drop(big);
    let mut expected = BTreeMap::new();
    expected.insert("big.bin".to_owned(), big_md5.clone());
    for i in 0..5000 {
        let data = pattern(1024 + (i * 37) % 3072, i as u64);
        expected.insert(format!("small/f{i:04}.bin"), md5_hex(&data));
        std::fs::write(src.join(format!("small/f{i:04}.bin")), data).unwrap();
    }

    let proxy = FaultProxy::with_plan(azurite.port(), ten_percent(7)).await.unwrap();
    let (code, out, err) = run(ferry_retrying().args([
        "copy",
        &format!("{}/*", src.display()),
        &via(&proxy, &container),
        "--recursive",
        "--put-md5",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary_value(&out, "Number of File Transfers Failed"), 0);
    assert_eq!(summary_value(&out, "Number of File Transfers Completed"), 5001);
    let upload_faults = proxy.total_injected();
    let requests = proxy.requests();
    assert!(upload_faults * 100 >= requests * 5, "{upload_faults} faults in {requests} requests");

    // Every blob's stored MD5 (read by another client) is the MD5 of the local file.
    assert_eq!(python_md5s(azurite, &container), expected);

    // And back down through the same faults: every download checked against its stored MD5.
    let back = work.path().join("back");
    let (code, out, err) = run(ferry_retrying().args([
        "copy",
        &format!("{}/*", via(&proxy, &container)),
        back.to_str().unwrap(),
        "--recursive",
        "--check-md5",
        "FailIfDifferentOrMissing",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary_value(&out, "Number of File Transfers Completed"), 5001);
    assert_eq!(md5_hex(&std::fs::read(back.join("big.bin")).unwrap()), big_md5);
    for i in (0..5000).step_by(97) {
        let name = format!("small/f{i:04}.bin");
        assert_eq!(md5_hex(&std::fs::read(back.join(&name)).unwrap()), expected[&name]);
    }
    let total = proxy.total_injected();
    eprintln!("faults injected and survived: {total} ({upload_faults} on upload) in {} requests", proxy.requests());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_request_is_abandoned_by_its_timeout_and_retried() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("faults-stall").await;
    let data = pattern(100_000, 1);
    ferry_store::Store::write(&store, "s.bin", data.clone().into(), &ferry_store::WriteOptions::default())
        .await
        .unwrap();
    let plan = FaultPlan { rules: vec![Rule::new(Fault::Stall, Selector::BlobData("GET"), When::Nth(1))], seed: 1 };
    let proxy = FaultProxy::with_plan(azurite.port(), plan).await.unwrap();
    let work = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (code, _, err) = run(ferry_retrying()
        .env("AZCOPY_REQUEST_TRY_TIMEOUT", "0.05") // 3 seconds
        .args(["copy", &format!("{}/s.bin", via(&proxy, store.container())), work.path().to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(proxy.injected(), [1], "the first read stalled");
    assert!(started.elapsed() < Duration::from_secs(30), "no hang: {:?}", started.elapsed());
    assert_eq!(std::fs::read(work.path().join("s.bin")).unwrap(), data);
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_are_bounded_and_the_item_fails_with_the_last_error_named() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("faults-bounded").await;
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("good.txt"), b"fine").unwrap();
    std::fs::write(work.path().join("doomed.txt"), b"never").unwrap();
    let busy = Rule::new(Fault::Busy { retry_after: Some(0) }, Selector::Path("doomed".into()), When::Always);
    let proxy = FaultProxy::with_plan(azurite.port(), FaultPlan { rules: vec![busy], seed: 1 }).await.unwrap();
    let (code, out, err) = run(ferry_with_key().env("FERRY_MAX_RETRIES", "2").args([
        "copy",
        &format!("{}/*", work.path().display()),
        &via(&proxy, store.container()),
    ]));
    assert_eq!(code, 1, "{err}");
    assert_eq!(proxy.injected(), [3], "one try and two retries");
    assert_eq!(summary_value(&out, "Number of File Transfers Completed"), 1);
    assert_eq!(summary_value(&out, "Number of File Transfers Failed"), 1);
    assert!(err.contains("doomed.txt") && err.contains("503") && err.contains("ServerBusy"), "{err}");

    // A time budget bounds them too: many retries allowed, but none starts after 2 seconds.
    let proxy = FaultProxy::with_plan(
        azurite.port(),
        FaultPlan {
            rules: vec![Rule::new(Fault::Busy { retry_after: Some(1) }, Selector::Path("doomed".into()), When::Always)],
            seed: 1,
        },
    )
    .await
    .unwrap();
    let started = Instant::now();
    let (code, _, err) = run(ferry_with_key()
        .env("FERRY_MAX_RETRIES", "100")
        .env("FERRY_RETRY_MAX_SECONDS", "2")
        .args(["copy", work.path().join("doomed.txt").to_str().unwrap(), &via(&proxy, store.container())]));
    assert_eq!(code, 1, "{err}");
    assert!(proxy.injected()[0] <= 4, "{:?}", proxy.injected());
    assert!(started.elapsed() < Duration::from_secs(15), "{:?}", started.elapsed());
    assert!(err.contains("doomed.txt") && err.contains("ServerBusy"), "{err}");
}

/// `--retry-status-codes` chooses what is retried: without 503 in the list, a busy answer fails
/// the item at once; with it (and by default), the item goes through.
#[tokio::test(flavor = "multi_thread")]
async fn retry_status_codes_choose_what_is_retried() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("faults-statuses").await;
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("f.txt"), b"data").unwrap();
    let file = work.path().join("f.txt");
    let busy_once = || FaultPlan {
        rules: vec![Rule::new(Fault::Busy { retry_after: Some(0) }, Selector::Path(".txt".into()), When::FirstN(1))],
        seed: 1,
    };
    let proxy = FaultProxy::with_plan(azurite.port(), busy_once()).await.unwrap();
    let (code, _, err) = run(ferry_retrying().args([
        "copy",
        file.to_str().unwrap(),
        &format!("{}/no-503.txt", via(&proxy, store.container())),
        "--retry-status-codes=408;500",
    ]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("ServerBusy"), "{err}");
    assert_eq!(proxy.injected(), [1]);
    for codes in ["--retry-status-codes=503,500", "--retry-status-codes=408;429;500;502;503;504"] {
        let proxy = FaultProxy::with_plan(azurite.port(), busy_once()).await.unwrap();
        let (code, _, err) = run(ferry_retrying().args([
            "copy",
            file.to_str().unwrap(),
            &format!("{}/retried.txt", via(&proxy, store.container())),
            codes,
        ]));
        assert_eq!(code, 0, "{codes}: {err}");
        assert_eq!(proxy.injected(), [1], "{codes}");
    }
    let (code, _, err) = run(ferry_retrying().args(["copy", "a", "b", "--retry-status-codes=5xx"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("`5xx` is not an HTTP status"), "{err}");
}

fn assert_empty(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cut_short_download_never_reaches_its_final_name() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("faults-cut").await;
    let data = pattern(3 * 1024 * 1024, 4);
    ferry_store::Store::write(&store, "c.bin", data.into(), &ferry_store::WriteOptions::default()).await.unwrap();
    for fault in [Fault::TruncateBody, Fault::ResetMidBody] {
        let rule = Rule::new(fault, Selector::BlobData("GET"), When::Always);
        let proxy = FaultProxy::with_plan(azurite.port(), FaultPlan { rules: vec![rule], seed: 1 }).await.unwrap();
        let work = tempfile::tempdir().unwrap();
        let (code, _, err) = run(ferry_with_key().env("FERRY_MAX_RETRIES", "1").args([
            "copy",
            &format!("{}/c.bin", via(&proxy, store.container())),
            work.path().join("c.bin").to_str().unwrap(),
            "--block-size-mb",
            "1",
        ]));
        assert_eq!(code, 1, "{fault:?}: {err}");
        assert!(err.contains("c.bin"), "{fault:?}: {err}");
        assert!(proxy.total_injected() >= 1, "{fault:?}");
        assert_empty(work.path());
    }
}

/// A listing page whose body breaks off after its headers (reset, or closed short of its length)
/// is asked for again: HTTP retries end when the headers arrive, so without this one reset
/// connection failed a whole job of 5,001 files (seen in CI).
#[tokio::test(flavor = "multi_thread")]
async fn a_listing_page_cut_short_is_asked_for_again() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("faults-list").await;
    let names: Vec<String> = (0..40).map(|i| format!("dir/a-rather-long-name-to-fill-the-page-{i:03}.txt")).collect();
    for name in &names {
        let data = bytes::Bytes::from(name.clone());
        ferry_store::Store::write(&store, name, data.into(), &ferry_store::WriteOptions::default()).await.unwrap();
    }
    for fault in [Fault::ResetMidBody, Fault::TruncateBody] {
        let rule = Rule::new(fault, Selector::Query("comp=list"), When::FirstN(2));
        let proxy = FaultProxy::with_plan(azurite.port(), FaultPlan { rules: vec![rule], seed: 1 }).await.unwrap();
        let work = tempfile::tempdir().unwrap();
        let (code, out, err) = run(ferry_with_key().env("FERRY_MAX_RETRIES", "3").args([
            "copy",
            &format!("{}/*", via(&proxy, store.container())),
            work.path().to_str().unwrap(),
            "--recursive",
        ]));
        assert_eq!(code, 0, "{fault:?}: {err}");
        assert_eq!(proxy.injected(), [2], "{fault:?}: the first two pages were cut");
        assert_eq!(summary_value(&out, "Number of File Transfers Completed"), 40, "{fault:?}");
        for name in &names {
            assert_eq!(std::fs::read(work.path().join(name)).unwrap(), name.as_bytes(), "{fault:?}");
        }
    }
}

/// A download whose body breaks off after the headers asks for the rest from the first missing
/// byte, `If-Match` the first answer's ETag, and arrives whole (no range is fetched again).
#[tokio::test(flavor = "multi_thread")]
async fn a_body_cut_short_is_resumed_from_where_it_stopped() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("faults-resume").await;
    let data = pattern(5 * 1024 * 1024 + 17, 6);
    ferry_store::Store::write(&store, "r.bin", data.clone().into(), &ferry_store::WriteOptions::default())
        .await
        .unwrap();
    for fault in [Fault::ResetMidBody, Fault::TruncateBody] {
        let rule = Rule::new(fault, Selector::BlobData("GET"), When::FirstN(2));
        let proxy = FaultProxy::with_plan(azurite.port(), FaultPlan { rules: vec![rule], seed: 1 }).await.unwrap();
        let work = tempfile::tempdir().unwrap();
        let (code, _, err) = run(ferry_with_key().env("FERRY_MAX_RETRIES", "3").args([
            "copy",
            &format!("{}/r.bin", via(&proxy, store.container())),
            work.path().join("r.bin").to_str().unwrap(),
        ]));
        assert_eq!(code, 0, "{fault:?}: {err}");
        assert_eq!(proxy.injected(), [2], "{fault:?}");
        assert_eq!(std::fs::read(work.path().join("r.bin")).unwrap(), data, "{fault:?}");
        let resumed: Vec<String> =
            proxy.heads().into_iter().filter(|h| h.starts_with("GET") && h.contains("if-match")).collect();
        assert_eq!(resumed.len(), 2, "{fault:?}: {resumed:#?}");
        assert!(
            resumed.iter().all(|h| !h.contains("x-ms-range: bytes=0-")),
            "{fault:?}: from the break, not the start"
        );
    }
}

/// A verified download held in memory range by range (a file of several ranges with an MD5) whose
/// bodies break off mid-range: the rest is asked for from the break and held after what came
/// first, and the file arrives whole and verified.
#[tokio::test(flavor = "multi_thread")]
async fn a_held_range_cut_short_is_resumed_and_the_file_verified() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("faults-staged").await;
    let data = pattern(24 * 1024 * 1024 + 5, 13);
    let work = tempfile::tempdir().unwrap();
    let local = work.path().join("src.bin");
    std::fs::write(&local, &data).unwrap();
    let url = format!("{}/s.bin", azurite.container_url(store.container()));
    let (code, _, err) = run(ferry_with_key().args(["copy", local.to_str().unwrap(), &url, "--put-md5"]));
    assert_eq!(code, 0, "{err}");
    for fault in [Fault::ResetMidBody, Fault::TruncateBody] {
        let rule = Rule::new(fault, Selector::BlobData("GET"), When::FirstN(2));
        let proxy = FaultProxy::with_plan(azurite.port(), FaultPlan { rules: vec![rule], seed: 3 }).await.unwrap();
        let out = work.path().join("out.bin");
        let (code, _, err) = run(ferry_with_key()
            .env("FERRY_MAX_RETRIES", "3")
            .env("FERRY_LOG", "ferry_engine=debug")
            .args(["copy", &format!("{}/s.bin", via(&proxy, store.container())), out.to_str().unwrap()]));
        assert_eq!(code, 0, "{fault:?}: {err}");
        assert_eq!(proxy.injected(), [2], "{fault:?}");
        assert_eq!(std::fs::read(&out).unwrap(), data, "{fault:?}");
        let resumed = proxy.heads().into_iter().filter(|h| h.starts_with("GET") && h.contains("if-match")).count();
        assert_eq!(resumed, 2, "{fault:?}");
        // The rest of a range cut short follows on from its last byte, so every range (three of
        // 8 MiB and the 5 bytes after them) is still whole in memory and hashed from there.
        assert_eq!(err.matches("hashed from memory").count(), 4, "{fault:?}: {err}");
        std::fs::remove_file(&out).unwrap();
    }
}

/// A large download takes the direct receive (each range read once, straight into the file) and
/// arrives intact; with no fault, no range is asked for twice and nothing falls back.
#[tokio::test(flavor = "multi_thread")]
async fn a_large_download_asks_for_each_range_once() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("faults-direct").await;
    let data = pattern(9 * 1024 * 1024 + 3, 8);
    ferry_store::Store::write(&store, "d.bin", data.clone().into(), &ferry_store::WriteOptions::default())
        .await
        .unwrap();
    let proxy = FaultProxy::with_plan(azurite.port(), FaultPlan::default()).await.unwrap();
    let work = tempfile::tempdir().unwrap();
    let (code, _, err) = run(ferry_with_key().env("FERRY_LOG", "ferry::http=debug").args([
        "copy",
        &format!("{}/d.bin", via(&proxy, store.container())),
        work.path().join("d.bin").to_str().unwrap(),
        "--block-size-mb",
        "2",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read(work.path().join("d.bin")).unwrap(), data);
    assert!(!err.contains("not received directly"), "{err}");
    assert!(err.matches("the body went straight to the file").count() >= 3, "{err}");
    let ranges: Vec<String> = proxy
        .heads()
        .into_iter()
        .filter(|h| h.starts_with("GET") && !h.contains("comp="))
        .filter_map(|h| h.lines().find(|l| l.to_ascii_lowercase().starts_with("x-ms-range")).map(str::to_owned))
        .collect();
    let distinct: std::collections::BTreeSet<&String> = ranges.iter().collect();
    assert!(ranges.len() >= 5, "{ranges:#?}");
    assert_eq!(distinct.len(), ranges.len(), "a range was asked for twice: {ranges:#?}");
}
