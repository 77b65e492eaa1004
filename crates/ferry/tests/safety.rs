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
use futures::{StreamExt, TryStreamExt};

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

fn symlink(target: &Path, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// Finding 2: a blob `link/x` was written through `DEST/link -> /elsewhere`, and `sync` wrote
/// there again on every run, newer file or not.
#[tokio::test(flavor = "multi_thread")]
async fn downloads_never_write_through_a_linked_folder_in_the_destination() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("safety-symlink").await;
    put(&store, "link/pwn.txt", b"ATTACKER CONTENT").await;
    put(&store, "normal.txt", b"normal").await;
    let url = azurite.container_url(store.container());
    let work = tempfile::tempdir().unwrap();
    let (outside, dest) = (work.path().join("outside"), work.path().join("dest"));
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("pwn.txt"), "ORIGINAL VICTIM").unwrap();
    let tree = dest.join(store.container());
    std::fs::create_dir_all(&tree).unwrap();
    symlink(&outside, &tree.join("link"));

    let (code, out, err) = run(ferry_with_key().args(["copy", &url, s(&dest), "--recursive"]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("symbolic link"), "the refusal says why: {err}");
    assert_eq!(std::fs::read(tree.join("normal.txt")).unwrap(), b"normal", "the rest still arrives");
    let (code, _, err) = run(ferry_with_key().args(["sync", &url, s(&tree), "--delete-destination", "true"]));
    assert_eq!(code, 1, "{err}");
    assert_eq!(std::fs::read(outside.join("pwn.txt")).unwrap(), b"ORIGINAL VICTIM");
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 1, "nothing created outside");
    assert!(std::fs::symlink_metadata(tree.join("link")).unwrap().file_type().is_symlink(), "the link is left alone");
}

/// Finding 6: overwriting a private local file replaced it with a new one under the umask's
/// permissions (0600 became 0644).
#[tokio::test(flavor = "multi_thread")]
async fn overwriting_a_private_file_keeps_it_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let azurite = Azurite::shared();
    let store = azurite.new_container("safety-mode").await;
    put(&store, "new.txt", b"from the blob").await;
    let work = tempfile::tempdir().unwrap();
    let down = work.path().join("down");
    std::fs::create_dir_all(&down).unwrap();
    let target = down.join("new.txt");
    std::fs::write(&target, "private old").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
    let url = format!("{}/new.txt", azurite.container_url(store.container()));
    let (code, _, err) = run(ferry_with_key().args(["copy", &url, s(&target)]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read(&target).unwrap(), b"from the blob");
    assert_eq!(std::fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o600);
    // The same through sync (the blob is newer than the file).
    std::fs::write(&target, "older").unwrap();
    set_mtime(&target, 1_577_836_800);
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
    let (code, _, err) = run(ferry_with_key().args(["sync", &azurite.container_url(store.container()), s(&down)]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read(&target).unwrap(), b"from the blob");
    assert_eq!(std::fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o640);
}

/// Finding 7: one file name that is not UTF-8 stopped the whole sync (0 files copied).
#[tokio::test(flavor = "multi_thread")]
async fn one_undecodable_name_fails_alone_and_blocks_only_deletions() {
    use std::os::unix::ffi::OsStrExt as _;
    let azurite = Azurite::shared();
    let store = azurite.new_container("safety-badname").await;
    put(&store, "extra.txt", b"keep me").await;
    let url = azurite.container_url(store.container());
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    for i in 0..50 {
        std::fs::write(src.join(format!("z{i:02}.txt")), format!("{i}")).unwrap();
    }
    std::fs::write(src.join(std::ffi::OsStr::from_bytes(b"bad\xff.txt")), "x").unwrap();
    let (code, out, err) = run(ferry_with_key().args(["sync", s(&src), &url, "--delete-destination", "true"]));
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(summary_value(&out, "Number of Copy Transfers Completed"), 50, "{out}");
    assert_eq!(summary_value(&out, "Number of Copy Transfers Failed"), 1, "{out}");
    assert!(err.contains("not valid UTF-8"), "{err}");
    assert!(err.contains("nothing was deleted"), "{err}");
    let keys = blob_keys(&store).await;
    assert_eq!(keys.len(), 51, "50 files and the extra, which a partial view must not delete");
    assert!(keys.contains(&"extra.txt".to_owned()));
}

/// Finding 12: a blob name with ESC, CR and BEL was printed raw by `list` and in failure lines.
#[test]
fn names_cannot_draw_on_the_terminal() {
    let encoded = "innocent.txt%0D%1B%5B2K%1B%5D0%3BPWNED-TITLE%07%1B%5B31mALL%20FILES%20VERIFIED%20OK%1B%5B0m";
    let server = HostileServer::start(Behaviour::NamedBlob(encoded));
    let url = format!("http://127.0.0.1:{}/devstoreaccount1/syncf", server.port());
    let (code, out, err) = run(ferry().args(["list", &url]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("innocent.txt\\x0D\\x1B[2K\\x1B]0;PWNED-TITLE\\x07"), "shown escaped: {out}");
    let dest = tempfile::tempdir().unwrap();
    let (_, out2, err2) = run(ferry().args(["copy", &url, s(dest.path()), "--recursive"]));
    assert!(err2.contains("innocent.txt\\x0D"), "the failure line names it, escaped: {err2}");
    for text in [out, err, out2, err2] {
        assert!(!text.contains(['\x1b', '\x07', '\r']), "{text:?}");
    }
}

/// Finding 13: every name starting `.ferry-tmp-` or `.ferry-part-` was hidden, so a user's file
/// was never uploaded and a sync deleted its backup.
#[tokio::test(flavor = "multi_thread")]
async fn a_users_file_named_like_a_work_file_is_synced_and_kept() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("safety-worknames").await;
    put(&store, ".ferry-tmp-notes.txt", b"old backup").await;
    let url = azurite.container_url(store.container());
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join(".ferry-tmp-notes.txt"), "my notes").unwrap();
    std::fs::write(src.join(".ferry-part-plan"), "my plan").unwrap();
    let (code, _, err) = run(ferry_with_key().args(["sync", s(&src), &url, "--delete-destination", "true"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(blob_keys(&store).await, [".ferry-part-plan", ".ferry-tmp-notes.txt"]);
    assert_eq!(blob_bytes(&store, ".ferry-tmp-notes.txt").await, b"my notes");
}

/// Finding 16: folder stubs (`hdi_isfolder=true`) became 0-byte files that blocked their own
/// folder, so every download of such a tree failed.
#[tokio::test(flavor = "multi_thread")]
async fn folder_stubs_are_folders_not_files() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("safety-stubs").await;
    let mut options = WriteOptions::default();
    options.metadata.insert("hdi_isfolder".into(), "true".into());
    store.write("dir", bytes::Bytes::new().into(), &options).await.unwrap();
    put(&store, "dir/file.txt", b"inside").await;
    let url = azurite.container_url(store.container());
    let work = tempfile::tempdir().unwrap();
    let (code, _, err) = run(ferry_with_key().args(["copy", &url, s(work.path()), "--recursive"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read(work.path().join(store.container()).join("dir/file.txt")).unwrap(), b"inside");
    let down = work.path().join("synced");
    let (code, out, err) = run(ferry_with_key().args(["sync", &url, s(&down), "--delete-destination", "true"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary_value(&out, "Number of Copy Transfers Completed"), 1);
    let (code, out, _) = run(ferry_with_key().args(["sync", s(&down), &url, "--delete-destination", "true"]));
    assert_eq!(code, 0, "{out}");
    assert_eq!(blob_keys(&store).await, ["dir", "dir/file.txt"], "the stub is not an extra");
}

/// Finding 17: pages were assumed to be in UTF-8 byte order, but the service lists by UTF-16
/// code units, so an emoji name on one page and `～x` on the next broke `list` and every sync.
#[tokio::test(flavor = "multi_thread")]
async fn listing_across_pages_follows_the_services_order() {
    use ferry_plan::{Action, ComparePolicy, plan};
    let azurite = Azurite::shared();
    let store = azurite.new_container("safety-order").await;
    let names = ["a.txt", "😀-0000", "😀-0001", "～x", "\u{e000}-private"];
    let work = tempfile::tempdir().unwrap();
    for name in names {
        store.write(name, bytes::Bytes::from(name.as_bytes().to_vec()).into(), &WriteOptions::default()).await.unwrap();
        std::fs::write(work.path().join(name), name).unwrap();
    }
    let paged = store.clone().with_page_size(1);
    let listed = blob_keys(&paged).await;
    let mut expected: Vec<&str> = names.to_vec();
    expected.sort_by(|a, b| ferry_store::cmp_keys(a, b));
    assert_eq!(listed, expected, "one blob per page, in the service's order");
    assert_eq!(listed[1..3], ["😀-0000", "😀-0001"], "emoji before U+E000 and U+FF5E");

    let local = ferry_store::LocalStore::new(work.path());
    let decisions: Vec<_> =
        plan(local.list("", ListDepth::Recursive), paged.list("", ListDepth::Recursive), ComparePolicy::TimeAndSize)
            .collect::<Vec<_>>()
            .await;
    assert!(decisions.iter().all(Result::is_ok), "{decisions:?}");
    assert!(decisions.iter().all(|d| d.as_ref().unwrap().action != Action::Extra), "every key pairs up");
}

/// `ferry` with the emulator's key, its plans and logs in `work`.
fn ferry_at(work: &Path) -> std::process::Command {
    let mut cmd = ferry_with_key();
    cmd.env("FERRY_JOB_PLAN_LOCATION", work.join("plans")).env("FERRY_LOG_LOCATION", work.join("logs"));
    cmd
}

fn wait_for_exit(child: &mut std::process::Child, limit: Duration) -> Option<i32> {
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        assert!(started.elapsed() < limit, "still running after {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn interrupt(child: &std::process::Child) {
    assert!(std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
}

/// Findings 4 and 15: a resumed download reopened its partial file through a link planted in
/// its place (writing outside the destination), and two resumes of one job ran at once.
#[tokio::test(flavor = "multi_thread")]
async fn a_resume_never_writes_through_a_planted_partial_and_runs_once() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("safety-partial").await;
    let data: Vec<u8> = (0..8 * 1024 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    store.write("big.bin", bytes::Bytes::from(data.clone()).into(), &WriteOptions::default()).await.unwrap();
    let work = tempfile::tempdir().unwrap();
    let (dest, outside) = (work.path().join("dest"), work.path().join("outside"));
    std::fs::create_dir_all(&dest).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("victim.bin"), "precious").unwrap();
    let url = format!("{}/big.bin", azurite.container_url(store.container()));
    let slow = ["--cap-mbps", "16", "--block-size-mb", "1"];
    let mut child = ferry_at(work.path())
        .args(["copy", &url, s(&dest)])
        .args(slow)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let partial = |dest: &Path| {
        std::fs::read_dir(dest)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(".ferry-tmp-"))
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while partial(&dest).is_none() {
        assert!(std::time::Instant::now() < deadline, "no partial file appeared");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1500));
    interrupt(&child);
    assert_eq!(wait_for_exit(&mut child, Duration::from_secs(20)), Some(1));
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
    let id = common::job_id(&out);
    let kept = partial(&dest).expect("the partial download is kept for the resume");
    std::fs::remove_file(&kept).unwrap();
    symlink(&outside.join("victim.bin"), &kept);

    let mut first = ferry_at(work.path())
        .args(["jobs", "resume", &id])
        .args(&slow[..2])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let (code, _, err) = run(ferry_at(work.path()).args(["jobs", "resume", &id]));
    assert_eq!(code, 1, "a second run of the same job is refused: {err}");
    assert!(err.contains("being run by another Ferry process"), "{err}");
    assert_eq!(wait_for_exit(&mut first, Duration::from_secs(60)), Some(0));

    assert_eq!(std::fs::read(outside.join("victim.bin")).unwrap(), b"precious", "nothing written through the link");
    let meta = std::fs::symlink_metadata(dest.join("big.bin")).unwrap();
    assert!(meta.file_type().is_file(), "a regular file, not a published link");
    assert!(std::fs::read(dest.join("big.bin")).unwrap() == data, "complete and correct");
    let left: Vec<_> = std::fs::read_dir(&dest).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, ["big.bin"]);
}

/// Finding 5: a folder swapped for a link between the listing and the deletion made sync delete
/// a file outside the destination. The prompt holds the deletion until the swap is done.
#[tokio::test(flavor = "multi_thread")]
async fn a_folder_swapped_for_a_link_before_a_deletion_deletes_nothing_outside() {
    use std::io::{BufRead as _, Write as _};
    let azurite = Azurite::shared();
    let store = azurite.new_container("safety-race").await;
    put(&store, "keep.txt", b"keep").await;
    let work = tempfile::tempdir().unwrap();
    let (dest, outside) = (work.path().join("dest"), work.path().join("outside"));
    std::fs::create_dir_all(dest.join("d")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(dest.join("d/victim.txt"), "extra").unwrap();
    std::fs::write(outside.join("victim.txt"), "never listed").unwrap();
    let mut child = ferry_at(work.path())
        .args(["sync", &azurite.container_url(store.container()), s(&dest), "--delete-destination", "prompt"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let mut buffer = Vec::new();
    // The question ends without a newline: read up to its `?`.
    while !seen.contains("from the destination") {
        buffer.clear();
        assert!(stderr.read_until(b'?', &mut buffer).unwrap() > 0, "no question in {seen}");
        seen.push_str(&String::from_utf8_lossy(&buffer));
    }
    std::fs::rename(dest.join("d"), dest.join("d.moved")).unwrap();
    symlink(&outside, &dest.join("d"));
    child.stdin.take().unwrap().write_all(b"y\n").unwrap();
    let code = wait_for_exit(&mut child, Duration::from_secs(30));
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert_eq!(code, Some(1), "the deletion fails: {rest}");
    assert!(rest.contains("symbolic link"), "{rest}");
    assert_eq!(std::fs::read(outside.join("victim.txt")).unwrap(), b"never listed");
}

/// Runs one small local copy job with plans and logs in `work`: (job id, source folder).
fn a_finished_job(work: &Path) -> (String, std::path::PathBuf) {
    let (src, dst) = (work.join("src"), work.join("dst"));
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("a.txt"), "a").unwrap();
    let (code, out, err) = run(ferry_at(work).args(["copy", &format!("{}/*", src.display()), s(&dst)]));
    assert_eq!(code, 0, "{err}");
    (common::job_id(&out), src)
}

/// Finding 14: `jobs clean` took the job id from inside each journal (`../../x`) and `jobs
/// remove` from argv, and deleted `.db` and `.log` files outside the plans and logs folders.
#[tokio::test(flavor = "multi_thread")]
async fn jobs_clean_and_remove_never_leave_their_folders() {
    let work = tempfile::tempdir().unwrap();
    let (id, _) = a_finished_job(work.path());
    let victim = work.path().join("victimdir");
    std::fs::create_dir_all(&victim).unwrap();
    std::fs::write(victim.join("notes.db"), "mine").unwrap();
    std::fs::write(victim.join("notes.log"), "mine").unwrap();
    // A planted journal: a copy of a real one whose spec names another id.
    let plans = work.path().join("plans");
    common::edit_journal_spec(
        &plans.join(format!("{id}.db")),
        &plans.join("planted.db"),
        "s['job_id']='../victimdir/notes'",
        &[],
    );
    let (code, out, err) = run(ferry_at(work.path()).args(["jobs", "clean"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Successfully removed 1 jobs."), "only the real job: {out}");
    let (code, _, err) = run(ferry_at(work.path()).args(["jobs", "remove", "../victimdir/notes"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a job id"), "{err}");
    assert_eq!(std::fs::read(victim.join("notes.db")).unwrap(), b"mine");
    assert_eq!(std::fs::read(victim.join("notes.log")).unwrap(), b"mine");
}

/// Finding 15: `jobs list` showed one command while `jobs resume` ran another from the same
/// (edited) journal, and a plans folder anyone could write to was used silently.
#[tokio::test(flavor = "multi_thread")]
async fn jobs_list_shows_what_resume_runs_and_shared_folders_are_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let work = tempfile::tempdir().unwrap();
    let (id, src) = a_finished_job(work.path());
    let db = work.path().join("plans").join(format!("{id}.db"));
    let victim = work.path().join("victim");
    // A typed job: `jobs list` renders the very spec a resume runs, not a display string beside it.
    let edit = "s['job']['kind']['destination']['location']=sys.argv[3];s['job']['display']='ferry copy a b';s['command_line']='ferry copy a b'";
    common::edit_journal_spec(&db, &db, edit, &[s(&victim)]);
    let (code, list, err) = run(ferry_at(work.path()).args(["jobs", "list"]));
    assert_eq!(code, 0, "{err}");
    let shown = format!("Command: copy '{}/*' {}", src.display(), victim.display());
    assert!(list.contains(&shown), "the list shows what a resume would run: {list}");
    // An older journal (arguments, no typed spec): the same, from its arguments.
    let edit = "s.pop('job');s['args']=['sync',sys.argv[3],sys.argv[4],'--delete-destination','true']";
    common::edit_journal_spec(&db, &db, edit, &[s(&src), s(&victim)]);
    let (code, list, err) = run(ferry_at(work.path()).args(["jobs", "list"]));
    assert_eq!(code, 0, "{err}");
    let shown = format!("Command: sync {} {} --delete-destination true", src.display(), victim.display());
    assert!(list.contains(&shown), "the list shows what a resume would run: {list}");

    let plans = work.path().join("plans");
    std::fs::set_permissions(&plans, std::fs::Permissions::from_mode(0o1777)).unwrap();
    for args in [vec!["jobs", "list"], vec!["jobs", "resume", &id]] {
        let (code, _, err) = run(ferry_at(work.path()).args(&args));
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(err.contains("can be written by others"), "{args:?}: {err}");
    }
    assert!(!work.path().join("victim").exists(), "the edited job never ran");
    std::fs::write(src.join("b.txt"), "b").unwrap();
    let dst = work.path().join("dst");
    let (code, _, err) = run(ferry_at(work.path()).args(["copy", &format!("{}/*", src.display()), s(&dst)]));
    assert_eq!(code, 1, "no journal in a shared folder: {err}");
    assert!(err.contains("chmod 700"), "{err}");
}
