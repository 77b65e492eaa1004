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
use ferry_testkit::hostile::{Behaviour, HostileServer};
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

/// Runs `cmd` with a deadline: (exit code, stdout, stderr, seconds taken). Kills it at the
/// deadline, so a test of "does not hang" fails instead of hanging.
fn run_within(cmd: &mut std::process::Command, limit: Duration) -> (Option<i32>, String, String, f64) {
    use std::io::Read as _;
    let started = std::time::Instant::now();
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (mut out, mut err) = (String::new(), String::new());
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (code, out, err, started.elapsed().as_secs_f64())
}

/// Finding 3: the SAS of `AZURE_STORAGE_CONNECTION_STRING` went to whatever host the URL named.
#[tokio::test(flavor = "multi_thread")]
async fn a_connection_strings_sas_goes_only_to_its_blob_endpoint() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("safety-cs").await;
    put(&store, "a.txt", b"a").await;
    let sas = azurite.container_sas(store.container(), "racwdl");
    let connection = format!("BlobEndpoint={};SharedAccessSignature={}", azurite.account_url(), sas.expose());
    let recorder = HostileServer::start(Behaviour::NotFound);
    let foreign = format!("http://127.0.0.1:{}/otheraccount/publicbox", recorder.port());
    let (code, _, err) = run(ferry().env("AZURE_STORAGE_CONNECTION_STRING", &connection).args(["list", &foreign]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not sending AZURE_STORAGE_CONNECTION_STRING"), "the refusal says why: {err}");
    let heads = recorder.requests();
    assert!(!heads.is_empty(), "the foreign host was asked (anonymously)");
    assert!(
        heads.iter().all(|h| !h.contains("sig=") && !h.to_ascii_lowercase().contains("authorization")),
        "{heads:?}"
    );
    // The same string still works for its own endpoint.
    let (code, out, err) = run(ferry()
        .env("AZURE_STORAGE_CONNECTION_STRING", &connection)
        .args(["list", &azurite.container_url(store.container())]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("a.txt"), "{out}");
}

/// Finding 10: with `HTTP_PROXY` set, an emulator URL and its SAS went in clear to the proxy.
#[tokio::test(flavor = "multi_thread")]
async fn a_proxy_never_sees_requests_to_a_loopback_emulator() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("safety-proxy").await;
    put(&store, "a.txt", b"a").await;
    let proxy = HostileServer::start(Behaviour::NotFound);
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port());
    let url = azurite.container_url_with_sas(store.container(), "rl");
    for var in ["HTTP_PROXY", "http_proxy", "ALL_PROXY"] {
        let (code, out, err) = run(ferry().env(var, &proxy_url).args(["list", &url]));
        assert_eq!(code, 0, "{var}: {err}");
        assert!(out.contains("a.txt"), "{out}");
    }
    assert_eq!(proxy.requests(), Vec::<String>::new(), "nothing went through the proxy");
}

/// Finding 11b: a password in the URL was printed in errors and sent as Basic authentication.
#[tokio::test(flavor = "multi_thread")]
async fn a_password_in_the_url_is_refused_unsent_and_unprinted() {
    let recorder = HostileServer::start(Behaviour::NotFound);
    let url = format!("http://alice:PASSW0RDSECRET@127.0.0.1:{}/devstoreaccount1/box", recorder.port());
    let (code, out, err) = run(ferry().args(["list", &url]));
    assert_eq!(code, 2, "a usage error: {err}");
    assert!(err.contains("user name or password"), "{err}");
    assert!(!format!("{out}{err}").contains("PASSW0RDSECRET"), "{err}");
    assert!(recorder.requests().is_empty(), "nothing was sent");
}

/// Finding 9: an endless body was read into memory until the process aborted, and a dribbling
/// one was waited on forever.
#[test]
fn endless_and_dribbling_bodies_are_cut_off() {
    let endless = HostileServer::start(Behaviour::EndlessBody);
    let url = format!("http://127.0.0.1:{}/devstoreaccount1/bigc", endless.port());
    let (code, _, err, secs) = run_within(ferry().args(["list", &url]), Duration::from_secs(60));
    assert_eq!(code, Some(1), "a clean failure, not an abort ({secs:.1} s): {err}");
    assert!(err.contains("larger than 32 MiB"), "{err}");

    let slow = HostileServer::start(Behaviour::SlowBody(Duration::from_millis(500)));
    let url = format!("http://127.0.0.1:{}/devstoreaccount1/syncf", slow.port());
    let (code, _, err, secs) =
        run_within(ferry().env("AZCOPY_REQUEST_TRY_TIMEOUT", "0.05").args(["list", &url]), Duration::from_secs(60));
    assert_eq!(code, Some(1), "{err}");
    assert!(secs < 20.0, "gave up after {secs:.1} s");
    assert!(err.contains("did not arrive within 3 s"), "{err}");
}

/// Finding 8: Ctrl-C waited for the whole listing (forever for an endless one), and a server that
/// repeated its continuation marker looped for ever.
#[test]
fn ctrl_c_stops_a_listing_and_a_repeated_marker_ends_it() {
    let pages = HostileServer::start(Behaviour::EndlessPages(Duration::from_millis(300)));
    let url = format!("http://127.0.0.1:{}/devstoreaccount1/many", pages.port());
    let dest = tempfile::tempdir().unwrap();
    let mut child = ferry()
        .args(["copy", &url, s(dest.path()), "--recursive"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let interrupted = std::time::Instant::now();
    std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if interrupted.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let waited = interrupted.elapsed().as_secs_f64();
    assert_eq!(status.and_then(|s| s.code()), Some(1), "stopped by Ctrl-C after {waited:.1} s");
    assert!(waited < 5.0, "took {waited:.1} s");

    let looping = HostileServer::start(Behaviour::RepeatMarker);
    let url = format!("http://127.0.0.1:{}/devstoreaccount1/loop", looping.port());
    let (code, _, err, _) = run_within(ferry().args(["list", &url]), Duration::from_secs(30));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("same continuation marker"), "{err}");
    assert!(looping.requests().len() <= 3, "{} requests", looping.requests().len());
}
