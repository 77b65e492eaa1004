//! `ferry copy` end to end: the binary against Azurite, checked byte for byte, by the Python
//! Azure SDK, and by counting the bytes that cross the wire.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{ferry_with_key, md5_hex, python_md5s, run};
use ferry_store::Store;
use ferry_testkit::data::pattern;
use ferry_testkit::fault_proxy::FaultProxy;
use ferry_testkit::{Azurite, tools};

const MIB: usize = 1024 * 1024;

/// Writes a mixed tree and returns its files (relative path → bytes).
fn mixed_tree(root: &Path, big: usize) -> BTreeMap<String, Vec<u8>> {
    let deep: String = (0..20).map(|i| format!("d{i}/")).collect();
    let files: Vec<(String, Vec<u8>)> = vec![
        ("zero.bin".into(), Vec::new()),
        ("with space.txt".into(), b"space".to_vec()),
        ("hash#1.txt".into(), b"hash".to_vec()),
        ("100%.txt".into(), b"percent".to_vec()),
        ("why?.txt".into(), b"question".to_vec()),
        ("caf\u{e9}/na\u{ef}ve \u{1F600}.txt".into(), b"unicode".to_vec()),
        (format!("{deep}deepest.txt"), b"twenty levels down".to_vec()),
        ("big/large.bin".into(), pattern(big, 77)),
        ("mid/nine-mib.bin".into(), pattern(9 * MIB + 1, 78)),
    ];
    for (name, data) in &files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, data).unwrap();
    }
    std::fs::create_dir_all(root.join("empty-dir")).unwrap();
    files.into_iter().collect()
}

fn assert_tree(root: &Path, files: &BTreeMap<String, Vec<u8>>) {
    for (name, data) in files {
        let got = std::fs::read(root.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(got == *data, "{name} differs ({} vs {} bytes)", got.len(), data.len());
    }
    let mut count = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            } else {
                count += 1;
            }
        }
    }
    assert_eq!(count, files.len(), "exactly the expected files, no leftovers");
}

/// The summary's `Label: value` lines, as a script would read them.
fn summary(stdout: &str) -> BTreeMap<String, String> {
    stdout
        .lines()
        .skip_while(|l| !(l.starts_with("Job ") && l.ends_with(" summary")))
        .filter_map(|l| l.split_once(": ").map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn local_to_blob_to_local_round_trip_with_a_300_mib_file() {
    let azurite = Azurite::shared();
    let container = fresh_container(azurite, "rt").await;
    let work = tempfile::tempdir().unwrap();
    let source = work.path().join("tree");
    let files = mixed_tree(&source, 300 * MIB);
    let url = azurite.container_url(&container);

    let (code, out, err) = run(ferry_with_key().args([
        "copy",
        source.to_str().unwrap(),
        &url,
        "--recursive",
        "--put-md5",
        "--block-size-mb",
        "8",
    ]));
    assert_eq!(code, 0, "{err}");
    let s = summary(&out);
    assert_eq!(s["Number of File Transfers"], files.len().to_string());
    assert_eq!(s["Number of File Transfers Completed"], files.len().to_string());
    assert_eq!(s["Total Number of Bytes Transferred"], files.values().map(Vec::len).sum::<usize>().to_string());
    assert_eq!(s["Final Job Status"], "Completed");

    let md5s = python_md5s(azurite, &container);
    assert_eq!(md5s.len(), files.len(), "one blob per file, none for the empty directory");
    for (name, data) in &files {
        assert_eq!(md5s[&format!("tree/{name}")], md5_hex(data), "the Python SDK reads {name}'s Content-MD5");
    }

    let back = work.path().join("back");
    let (code, out, err) = run(ferry_with_key().args([
        "copy",
        &format!("{url}/tree"),
        back.to_str().unwrap(),
        "--recursive",
        "--check-md5",
        "FailIfDifferentOrMissing",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary(&out)["Number of File Transfers Completed"], files.len().to_string());
    assert_tree(&back.join("tree"), &files);
}

async fn fresh_container(azurite: &Azurite, prefix: &str) -> String {
    azurite.new_container(prefix).await.container().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn blob_to_blob_then_blob_to_local_is_identical() {
    let azurite = Azurite::shared();
    let (src, dst) = (fresh_container(azurite, "b2b-src").await, fresh_container(azurite, "b2b-dst").await);
    let work = tempfile::tempdir().unwrap();
    let files = mixed_tree(&work.path().join("t"), 3 * MIB);
    let (code, _, err) = run(ferry_with_key().args([
        "copy",
        &format!("{}/*", work.path().join("t").display()),
        &azurite.container_url(&src),
        "--recursive",
        "--put-md5",
    ]));
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(ferry_with_key().args([
        "copy",
        &azurite.container_url(&src),
        &format!("{}/copied/", azurite.container_url(&dst)),
        "--recursive",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary(&out)["Number of File Transfers Completed"], files.len().to_string());
    let md5s = python_md5s(azurite, &dst);
    for (name, data) in &files {
        assert_eq!(md5s[&format!("copied/{src}/{name}")], md5_hex(data), "{name}: the server-side copy kept the MD5");
    }
    let back = work.path().join("back");
    let (code, _, err) = run(ferry_with_key().args([
        "copy",
        &format!("{}/copied/{src}/*", azurite.container_url(&dst)),
        back.to_str().unwrap(),
        "--recursive",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_tree(&back, &files);
}

#[tokio::test(flavor = "multi_thread")]
async fn server_side_copy_moves_no_data_through_ferry() {
    let azurite = Azurite::shared();
    let source = azurite.new_container("s2s-bytes-src").await;
    let big = pattern(200 * MIB, 5);
    source.write("big.bin", big.clone().into(), &ferry_store::WriteOptions::default()).await.unwrap();
    let dest = fresh_container(azurite, "s2s-bytes-dst").await;

    // Ferry reaches both containers through a counting proxy (Azurite only serves copy sources
    // named by the same host as the request). Any data Ferry moved itself, and any fetch of the
    // source over HTTP, would cross the proxy and be counted.
    let proxy = FaultProxy::start(azurite.port(), 0).await.unwrap();
    let via_proxy = |container: &str| format!("http://127.0.0.1:{}/devstoreaccount1/{container}", proxy.port());
    let (code, out, err) =
        run(ferry_with_key().args(["copy", &format!("{}/big.bin", via_proxy(source.container())), &via_proxy(&dest)]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary(&out)["Total Number of Bytes Transferred"], (200 * MIB).to_string());
    proxy.wait_idle(std::time::Duration::from_secs(10)).await;
    let through_ferry = proxy.bytes_forwarded();
    assert!(through_ferry > 0, "the proxy saw the requests");
    assert!(through_ferry < 1024 * 1024, "Ferry's own traffic to the destination was {through_ferry} bytes");
    let md5s = python_md5s(azurite, &dest);
    assert_eq!(md5s["big.bin"], md5_hex(&big));
}

#[tokio::test(flavor = "multi_thread")]
async fn overwrite_false_skips_and_if_source_newer_replaces_only_newer() {
    let azurite = Azurite::shared();
    let container = fresh_container(azurite, "cli-ow").await;
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("f.txt");
    std::fs::write(&file, b"first").unwrap();
    let url = format!("{}/f.txt", azurite.container_url(&container));
    assert_eq!(run(ferry_with_key().args(["copy", file.to_str().unwrap(), &url])).0, 0);

    std::fs::write(&file, b"second").unwrap();
    let (code, out, _) = run(ferry_with_key().args(["copy", file.to_str().unwrap(), &url, "--overwrite", "false"]));
    assert_eq!(code, 0, "skipping is not a failure");
    let s = summary(&out);
    assert_eq!(
        (s["Number of File Transfers Skipped"].as_str(), s["Final Job Status"].as_str()),
        ("1", "CompletedWithSkipped")
    );
    let back = work.path().join("check.txt");
    run(ferry_with_key().args(["copy", &url, back.to_str().unwrap()]));
    assert_eq!(std::fs::read(&back).unwrap(), b"first");

    let f = std::fs::File::options().write(true).open(&file).unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(120)).unwrap();
    let (code, out, _) =
        run(ferry_with_key().args(["copy", file.to_str().unwrap(), &url, "--overwrite=ifSourceNewer"]));
    assert_eq!(code, 0);
    assert_eq!(summary(&out)["Number of File Transfers Completed"], "1");
    run(ferry_with_key().args(["copy", &url, back.to_str().unwrap()]));
    assert_eq!(std::fs::read(&back).unwrap(), b"second");
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_lists_and_copies_nothing() {
    let azurite = Azurite::shared();
    let container = fresh_container(azurite, "cli-dry").await;
    let work = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(work.path().join("d/sub")).unwrap();
    std::fs::write(work.path().join("d/a.txt"), b"a").unwrap();
    std::fs::write(work.path().join("d/sub/b.txt"), b"b").unwrap();
    let url = azurite.container_url(&container);
    let source = work.path().join("d");
    let (code, out, err) =
        run(ferry_with_key().args(["copy", source.to_str().unwrap(), &url, "--recursive", "--dry-run"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!(
            "DRYRUN: copy {0}/a.txt to {url}/d/a.txt\nDRYRUN: copy {0}/sub/b.txt to {url}/d/sub/b.txt\n",
            source.display()
        )
    );
    let (_, json, _) = run(ferry_with_key().args([
        "copy",
        source.to_str().unwrap(),
        &url,
        "--recursive",
        "--dry-run",
        "--output-type",
        "json",
    ]));
    let first: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(first["MessageType"], "Dryrun");
    let (_, listed, _) = run(ferry_with_key().args(["list", &url, "--running-tally"]));
    assert!(listed.contains("File count: 0"), "nothing was copied: {listed}");
}

#[tokio::test(flavor = "multi_thread")]
async fn local_to_local_copies_a_tree() {
    let work = tempfile::tempdir().unwrap();
    let files = mixed_tree(&work.path().join("src"), MIB);
    let (code, out, err) = run(common::ferry().args([
        "copy",
        work.path().join("src").to_str().unwrap(),
        work.path().join("dst").to_str().unwrap(),
        "--recursive",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary(&out)["Final Job Status"], "Completed");
    assert_tree(&work.path().join("dst/src"), &files);
}

#[tokio::test(flavor = "multi_thread")]
async fn copy_errors_are_clear() {
    let azurite = Azurite::shared();
    let container = fresh_container(azurite, "cli-err").await;
    let url = azurite.container_url(&container);
    let work = tempfile::tempdir().unwrap();

    let (code, _, err) = run(ferry_with_key().args(["copy", work.path().join("missing").to_str().unwrap(), &url]));
    assert_eq!(code, 1);
    assert!(err.contains("not found") && err.contains("missing"), "{err}");

    let (code, _, err) = run(ferry_with_key().args(["copy", work.path().to_str().unwrap(), &url]));
    assert_eq!(code, 2);
    assert!(err.contains("--recursive"), "{err}");

    let (code, _, err) =
        run(ferry_with_key().args(["copy", &format!("{url}/nothing-here"), work.path().to_str().unwrap()]));
    assert_eq!(code, 1);
    assert!(err.contains("no blob or virtual directory `nothing-here`"), "{err}");

    std::fs::write(work.path().join("f"), b"x").unwrap();
    let (code, _, err) =
        run(ferry_with_key().args(["copy", work.path().join("f").to_str().unwrap(), &url, "--block-size-mb=-1"]));
    assert_eq!(code, 2);
    assert!(err.contains("--block-size-mb"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_job_log_names_failures_is_private_and_holds_no_secret() {
    use std::os::unix::fs::PermissionsExt;
    let azurite = Azurite::shared();
    let container = fresh_container(azurite, "cli-log").await;
    let url = azurite.container_url_with_sas(&container, "rl");
    let signature = url.split("sig=").nth(1).unwrap().to_owned();
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("f.txt"), b"denied").unwrap();
    let logs = work.path().join("logs");
    let (code, out, err) = run(common::ferry().env("FERRY_LOG_LOCATION", &logs).args([
        "copy",
        work.path().join("f.txt").to_str().unwrap(),
        &url,
    ]));
    assert_eq!(code, 1, "a read-only SAS cannot upload");
    assert!(err.contains("UPLOADFAILED:") && err.contains(": 403 :"), "{err}");
    let path = out.lines().find_map(|l| l.strip_prefix("Log file is located at: ")).expect("the log's path is printed");
    assert!(Path::new(path).starts_with(&logs));
    let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the log is private");
    let log = std::fs::read_to_string(path).unwrap();
    assert!(log.contains("Job-Command") && log.contains("sig=REDACTED"), "{log}");
    assert!(log.contains("UPLOADFAILED:") && log.contains("Dst: "), "{log}");
    assert!(log.contains("Final Job Status: Failed"), "{log}");
    for text in [&out, &err, &log] {
        assert!(!text.contains(&signature), "the signature leaked");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn output_levels_and_log_level_none() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("a"), b"a").unwrap();
    let logs = work.path().join("logs");
    let copy = |level: &str, dest: &str| {
        run(common::ferry().env("FERRY_LOG_LOCATION", &logs).args([
            "copy",
            work.path().join("a").to_str().unwrap(),
            work.path().join(dest).to_str().unwrap(),
            "--output-level",
            level,
            "--log-level",
            "NONE",
        ]))
    };
    let (code, out, err) = copy("quiet", "q");
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    assert_eq!(std::fs::read(work.path().join("q")).unwrap(), b"a");
    let (code, out, _) = copy("essential", "e");
    assert_eq!(code, 0);
    assert!(out.contains("Final Job Status: Completed") && !out.contains("Log file is located at"), "{out}");
    assert!(!logs.exists(), "--log-level NONE writes no log");
    let (code, _, err) = run(common::ferry().args(["copy", "a", "b", "--cap-mbps=-5"]));
    assert_eq!(code, 2);
    assert!(err.contains("--cap-mbps"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn blob_options_reach_the_service() {
    let azurite = Azurite::shared();
    let container = fresh_container(azurite, "cli-opts").await;
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("page.html"), b"<html></html>").unwrap();
    std::fs::write(work.path().join("big.dat"), pattern(3 * MIB, 4)).unwrap();
    let (code, _, err) = run(ferry_with_key().args([
        "copy",
        &format!("{}/*", work.path().display()),
        &azurite.container_url(&container),
        "--block-size-mb",
        "1",
        "--metadata",
        "team=data;run=7",
        "--blob-tags",
        "project=ferry&stage=test",
        "--block-blob-tier",
        "cool",
        "--cache-control",
        "no-cache",
        "--content-language",
        "en",
    ]));
    assert_eq!(code, 0, "{err}");
    let script = r#"
import sys
from azure.storage.blob import ContainerClient
c = ContainerClient.from_container_url(sys.argv[1], credential={"account_name": "devstoreaccount1", "account_key": sys.argv[2]})
for name in ["page.html", "big.dat"]:
    b = c.get_blob_client(name)
    p = b.get_blob_properties()
    tags = b.get_blob_tags()
    print(name, p.content_settings.content_type, p.content_settings.cache_control, p.content_settings.content_language,
          p.blob_tier, sorted(p.metadata.items()), sorted(tags.items()))
"#;
    let out = Command::new(tools::python())
        .args(["-c", script, &azurite.container_url(&container), ferry_azure::DEVELOPMENT_KEY])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let expected_tail = "no-cache en Cool [('run', '7'), ('team', 'data')] [('project', 'ferry'), ('stage', 'test')]";
    assert!(text.contains(&format!("page.html text/html {expected_tail}")), "{text}");
    assert!(text.contains(&format!("big.dat application/octet-stream {expected_tail}")), "staged uploads too: {text}");
}

/// A Blob-to-Blob copy keeps each blob's access tier (AzCopy's `--s2s-preserve-access-tier`,
/// on by default), by the one-request copy and the block-by-block one alike; turned off, no
/// tier is sent and a block-by-block copy gets the account's default.
#[tokio::test(flavor = "multi_thread")]
async fn a_blob_to_blob_copy_keeps_the_access_tier() {
    let azurite = Azurite::shared();
    let source = fresh_container(azurite, "tier-src").await;
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("small.txt"), b"small").unwrap();
    std::fs::write(work.path().join("big.dat"), pattern(3 * MIB, 9)).unwrap();
    let up = [&format!("{}/*", work.path().display()), &azurite.container_url(&source), "--block-blob-tier", "Cool"];
    let (code, _, err) = run(ferry_with_key().arg("copy").args(up));
    assert_eq!(code, 0, "{err}");
    let tiers = |container: &str| {
        common::python_in(azurite, container, "for b in c.list_blobs():\n    print(b.name, b.blob_tier)")
    };
    assert_eq!(tiers(&source), "big.dat Cool\nsmall.txt Cool\n");
    for (flag, expected) in [("--s2s-preserve-access-tier=true", "Cool"), ("--s2s-preserve-access-tier=false", "Hot")] {
        let destination = fresh_container(azurite, "tier-dst").await;
        let (code, _, err) = run(ferry_with_key().args([
            "copy",
            &format!("{}/*", azurite.container_url(&source)),
            &azurite.container_url(&destination),
            "--block-size-mb",
            "1",
            flag,
        ]));
        assert_eq!(code, 0, "{flag}: {err}");
        let tiers = tiers(&destination);
        assert!(tiers.starts_with(&format!("big.dat {expected}\n")), "{flag}: {tiers}");
        // With the flag off no tier is sent, and what the service does decides: Azurite's Copy
        // Blob From URL keeps the source's tier by itself, so only the kept case is asserted.
        if expected == "Cool" {
            assert!(tiers.ends_with("small.txt Cool\n"), "{flag}: {tiers}");
        }
    }
}

/// Writes a blob with a raw HTTP request, so the name reaches the service exactly as given
/// (URL libraries normalise `..` segments away).
fn raw_put(port: u16, path_and_query: &str, body: &[u8]) {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!(
        "PUT {path_and_query} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nx-ms-blob-type: BlockBlob\r\nx-ms-version: 2025-01-05\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).unwrap();
    conn.write_all(body).unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blob_name_that_would_escape_the_destination_fails_and_writes_nothing() {
    let azurite = Azurite::shared();
    let container = fresh_container(azurite, "cli-escape").await;
    let sas = azurite.container_sas(&container, "racwdl");
    raw_put(azurite.port(), &format!("/devstoreaccount1/{container}/good.txt?{}", sas.expose()), b"good");
    raw_put(
        azurite.port(),
        &format!("/devstoreaccount1/{container}/a/%2E%2E/%2E%2E/escape.txt?{}", sas.expose()),
        b"evil",
    );
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("inside");
    let (code, out, err) = run(ferry_with_key().args([
        "copy",
        &format!("{}/*", azurite.container_url(&container)),
        dest.to_str().unwrap(),
        "--recursive",
    ]));
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("DOWNLOADFAILED") && err.contains("escape.txt"), "{err}");
    assert_eq!(summary(&out)["Number of File Transfers Completed"], "1");
    assert_eq!(std::fs::read(dest.join("good.txt")).unwrap(), b"good");
    assert!(!work.path().join("escape.txt").exists() && !dest.join("escape.txt").exists(), "nothing escaped");
}

#[tokio::test(flavor = "multi_thread")]
async fn downloads_can_keep_the_blobs_last_modified_time() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("cli-lmt").await;
    store
        .write("t.txt", bytes::Bytes::from_static(b"time").into(), &ferry_store::WriteOptions::default())
        .await
        .unwrap();
    let blob_time = store.stat("t.txt").await.unwrap().last_modified.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let work = tempfile::tempdir().unwrap();
    let url = format!("{}/t.txt", azurite.container_url(store.container()));
    let (kept, plain) = (work.path().join("kept.txt"), work.path().join("plain.txt"));
    assert_eq!(
        run(ferry_with_key().args(["copy", &url, kept.to_str().unwrap(), "--preserve-last-modified-time"])).0,
        0
    );
    assert_eq!(run(ferry_with_key().args(["copy", &url, plain.to_str().unwrap()])).0, 0);
    assert_eq!(std::fs::metadata(&kept).unwrap().modified().unwrap(), blob_time);
    assert!(std::fs::metadata(&plain).unwrap().modified().unwrap() > blob_time);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_name_the_service_would_rename_fails_clearly_and_the_rest_copy() {
    let azurite = Azurite::shared();
    let container = fresh_container(azurite, "cli-backslash").await;
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("back\\slash.txt"), b"b").unwrap();
    std::fs::write(work.path().join("trailing."), b"t").unwrap();
    std::fs::write(work.path().join("fine.txt"), b"f").unwrap();
    let url = azurite.container_url(&container);
    let (code, out, err) = run(ferry_with_key().args(["copy", &format!("{}/*", work.path().display()), &url]));
    assert_eq!(code, 1);
    assert!(err.contains("back\\slash.txt") && err.contains("backslash"), "{err}");
    assert!(err.contains("trailing.") && err.contains("cannot end with"), "{err}");
    let s = summary(&out);
    assert_eq!(
        (s["Number of File Transfers Completed"].as_str(), s["Number of File Transfers Failed"].as_str()),
        ("1", "2")
    );
    let (_, listed, _) = run(ferry_with_key().args(["list", &url, "--machine-readable"]));
    assert_eq!(listed, "fine.txt; Content Length: 1\n", "nothing landed under another name");
}

/// Runs a command with `input` on its standard input.
fn run_with_input(cmd: &mut Command, input: &str) -> (i32, String, String) {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn overwrite_prompt_asks_and_obeys() {
    let azurite = Azurite::shared();
    let container = fresh_container(azurite, "cli-prompt").await;
    let url = azurite.container_url(&container);
    let work = tempfile::tempdir().unwrap();
    let source = work.path().join("src");
    std::fs::create_dir_all(&source).unwrap();
    let put = |content: &str| {
        for name in ["one.txt", "two.txt"] {
            std::fs::write(source.join(name), content).unwrap();
        }
    };
    let contents = || {
        ["one.txt", "two.txt"].map(|name| {
            let back = work.path().join(format!("check-{name}"));
            run(ferry_with_key().args(["copy", &format!("{url}/{name}"), back.to_str().unwrap()]));
            std::fs::read_to_string(back).unwrap()
        })
    };
    put("v1");
    assert_eq!(run(ferry_with_key().args(["copy", &format!("{}/*", source.display()), &url])).0, 0);

    put("v2");
    let all = format!("{}/*", source.display());
    let copy = || {
        let mut cmd = ferry_with_key();
        cmd.args(["copy", all.as_str(), url.as_str(), "--overwrite", "prompt"]);
        cmd
    };
    let (code, out, err) = run_with_input(&mut copy(), "l\n");
    assert_eq!(code, 0, "{err}");
    assert_eq!(err.matches("already exists. Overwrite it?").count(), 1, "`none` answers for all: {err}");
    assert_eq!(summary(&out)["Number of File Transfers Skipped"], "2");
    assert_eq!(contents(), ["v1", "v1"]);

    let (_, out, _) = run_with_input(&mut copy(), "");
    assert_eq!(summary(&out)["Number of File Transfers Skipped"], "2", "no answer means no");

    let (_, out, err) = run_with_input(&mut copy(), "maybe\na\n");
    assert_eq!(summary(&out)["Number of File Transfers Completed"], "2", "{err}");
    assert_eq!(contents(), ["v2", "v2"]);

    std::fs::write(source.join("one.txt"), "v3").unwrap();
    let mut single = ferry_with_key();
    single.args(["copy", source.join("one.txt").to_str().unwrap(), url.as_str(), "--overwrite=prompt"]);
    let (_, out, _) = run_with_input(&mut single, "y\n");
    assert_eq!(summary(&out)["Number of File Transfers Completed"], "1");
    assert_eq!(contents(), ["v3", "v2"]);
}

/// `command` with the receive's and the download's debug lines on stderr.
fn with_debug_log(mut command: Command) -> Command {
    command.env("FERRY_LOG", "ferry::http=debug,ferry_engine=debug");
    command
}

/// Sets a blob's stored Content-MD5 with the Python SDK (the service does not check that one).
fn set_stored_md5(azurite: &Azurite, container: &str, blob: &str, md5: &[u8; 16]) {
    let script = r#"
import sys
from azure.storage.blob import ContainerClient, ContentSettings
url, key, blob, md5 = sys.argv[1], sys.argv[2], sys.argv[3], bytes.fromhex(sys.argv[4])
client = ContainerClient.from_container_url(url, credential={"account_name": "devstoreaccount1", "account_key": key})
client.get_blob_client(blob).set_http_headers(ContentSettings(content_md5=bytearray(md5)))
"#;
    let hex: String = md5.iter().map(|b| format!("{b:02x}")).collect();
    let status = Command::new(tools::python())
        .args(["-c", script, &azurite.container_url(container), ferry_azure::DEVELOPMENT_KEY, blob, &hex])
        .status()
        .expect("python runs");
    assert!(status.success(), "the Python SDK set the blob's MD5");
}

/// A file of several ranges with an MD5 is held in memory range by range (8 MiB ranges, each
/// asked for once), hashed from there and written around the page cache; it arrives intact, and a
/// wrong stored MD5 still fails it with nothing left behind. `FERRY_DIRECT_WRITES=off` takes the
/// page cache and the read-back, with the same bytes.
#[tokio::test(flavor = "multi_thread")]
async fn a_large_verified_download_is_hashed_from_memory() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("md5-staged").await;
    let container = store.container().to_owned();
    let data = pattern(40 * 1024 * 1024 + 17, 12);
    let work = tempfile::tempdir().unwrap();
    let local = work.path().join("big.bin");
    std::fs::write(&local, &data).unwrap();
    let url = format!("{}/big.bin", azurite.container_url(&container));
    let (code, _, err) = run(ferry_with_key().args(["copy", local.to_str().unwrap(), &url, "--put-md5"]));
    assert_eq!(code, 0, "{err}");

    for direct in ["on", "off"] {
        let good = work.path().join(format!("good-{direct}"));
        let mut copy = with_debug_log(ferry_with_key());
        copy.env("FERRY_DIRECT_WRITES", direct).args(["copy", &url, good.to_str().unwrap()]);
        let (code, _, err) = run(&mut copy);
        assert_eq!(code, 0, "{direct}: {err}");
        assert_eq!(std::fs::read(&good).unwrap(), data, "{direct}");
        let held = err.matches("hashed from memory").count();
        // 40 MiB and 17 bytes: five 8 MiB ranges and one of 17 bytes, all held (or, off, none;
        // the ranges are then 11 MiB and read back).
        assert_eq!(held, if direct == "on" { 6 } else { 0 }, "{direct}: {err}");
    }

    let mut wrong = ferry_store::md5_of(&data);
    wrong[15] ^= 0x01;
    set_stored_md5(azurite, &container, "big.bin", &wrong);
    let out_dir = work.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let (code, _, err) =
        run(with_debug_log(ferry_with_key()).args(["copy", &url, out_dir.join("big.bin").to_str().unwrap()]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("does not match the Content-MD5") && err.contains("big.bin"), "{err}");
    assert!(err.contains("hashed from memory"), "{err}");
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 0, "nothing under the final name, no temp file");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_download_whose_bytes_do_not_match_the_stored_md5_never_reaches_its_name() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("md5-check").await;
    let container = store.container().to_owned();
    let data = pattern(3 * 1024 * 1024 + 17, 9);
    let work = tempfile::tempdir().unwrap();
    let local = work.path().join("blob.bin");
    std::fs::write(&local, &data).unwrap();
    let url = format!("{}/blob.bin", azurite.container_url(&container));
    let (code, _, err) = run(ferry_with_key().args(["copy", local.to_str().unwrap(), &url, "--put-md5"]));
    assert_eq!(code, 0, "{err}");

    // With the right MD5, a download in several ranges passes the check: 1 MiB ranges streamed,
    // 2 MiB ones received directly and hashed as they land.
    for block_mb in ["1", "2"] {
        let good = work.path().join(format!("good-{block_mb}"));
        let (code, _, err) =
            run(ferry_with_key().args(["copy", &url, good.to_str().unwrap(), "--block-size-mb", block_mb]));
        assert_eq!(code, 0, "{err}");
        assert_eq!(std::fs::read(&good).unwrap(), data);
    }
    // In one range (the default for 3 MiB): received directly and hashed by the receiving thread.
    let good = work.path().join("good-whole");
    let (code, _, err) = run(with_debug_log(ferry_with_key()).args(["copy", &url, good.to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read(&good).unwrap(), data);
    assert!(err.contains("the body went straight to the file") && err.contains("hashed as it arrived"), "{err}");

    // A wrong stored MD5: the copy fails, names the object, and leaves no file at all.
    let mut wrong = ferry_store::md5_of(&data);
    wrong[0] ^= 0xff;
    set_stored_md5(azurite, &container, "blob.bin", &wrong);
    let out_dir = work.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    for block_mb in ["1", "2", "default"] {
        let out = out_dir.join("blob.bin");
        let mut copy = with_debug_log(ferry_with_key());
        copy.args(["copy", &url, out.to_str().unwrap()]);
        if block_mb != "default" {
            copy.args(["--block-size-mb", block_mb]);
        }
        let (code, _, err) = run(&mut copy);
        assert_eq!(code, 1, "{block_mb}: {err}");
        assert!(err.contains("does not match the Content-MD5") && err.contains("blob.bin"), "{err}");
        assert_eq!(err.contains("hashed as it arrived"), block_mb == "default", "{block_mb}: {err}");
        assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 0, "nothing under the final name, no temp file");
    }
    // --check-md5 NoCheck takes the bytes as they are.
    let (code, _, err) = run(ferry_with_key().args([
        "copy",
        &url,
        out_dir.join("blob.bin").to_str().unwrap(),
        "--check-md5",
        "NoCheck",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read(out_dir.join("blob.bin")).unwrap(), data);
}
