//! `ferry list` end to end: the binary against Azurite, with data written by another client.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{ferry, ferry_with_key, run};
use ferry_testkit::{Azurite, tools};

/// Uploads `names` (blob i gets i % 997 bytes) with the Python Azure SDK, 16 threads.
fn upload_with_python(azurite: &Azurite, container: &str, names: &[String]) {
    let script = r#"
import sys, concurrent.futures
from azure.storage.blob import ContainerClient
url, key = sys.argv[1], sys.argv[2]
names = sys.stdin.read().split("\n")
client = ContainerClient.from_container_url(url, credential={"account_name": "devstoreaccount1", "account_key": key})
def put(i):
    client.upload_blob(names[i], b"x" * (i % 997), overwrite=True)
with concurrent.futures.ThreadPoolExecutor(16) as pool:
    list(pool.map(put, range(len(names))))
"#;
    let mut child = Command::new(tools::python())
        .args(["-c", script, &azurite.container_url(container), ferry_azure::DEVELOPMENT_KEY])
        .stdin(Stdio::piped())
        .spawn()
        .expect("python runs");
    child.stdin.take().unwrap().write_all(names.join("\n").as_bytes()).unwrap();
    assert!(child.wait().unwrap().success(), "the Python SDK uploaded every blob");
}

fn sizes(count: usize) -> (Vec<u64>, u64) {
    let sizes: Vec<u64> = (0..count).map(|i| (i % 997) as u64).collect();
    let total = sizes.iter().sum();
    (sizes, total)
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_twelve_thousand_blobs_written_by_the_python_sdk_in_order() {
    const COUNT: usize = 12_000;
    let azurite = Azurite::shared();
    let store = azurite.new_container("list12k").await;
    let tricky = ["sp ace", "hash#", "q?", "pct%25", "plus+", "amp&", "caf\u{e9}", "cafe\u{301}", "\u{1F600}"];
    let names: Vec<String> =
        (0..COUNT).map(|i| format!("d{:02}/{}-{i:05}.dat", i % 53, tricky[i % tricky.len()])).collect();
    upload_with_python(azurite, store.container(), &names);

    let url = azurite.container_url(store.container());
    let (code, stdout, stderr) = run(ferry_with_key().args(["list", &url, "--machine-readable", "--running-tally"]));
    assert_eq!(code, 0, "stderr: {stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), COUNT + 3, "every blob, a blank line and two tally lines");

    let (sizes, total) = sizes(COUNT);
    let mut expected: Vec<(String, u64)> = names.iter().cloned().zip(sizes).collect();
    expected.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    for (line, (name, size)) in lines.iter().zip(&expected) {
        assert_eq!(*line, format!("{name}; Content Length: {size}"));
    }
    assert_eq!(lines[COUNT], "");
    assert_eq!(lines[COUNT + 1], format!("File count: {COUNT}"));
    assert_eq!(lines[COUNT + 2], format!("Total file size: {total}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn virtual_directories_and_single_blobs_list_relative_names() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("listrel").await;
    upload_with_python(azurite, store.container(), &["top".into(), "dir/a".into(), "dir/sub/b".into(), "dirx".into()]);
    let base = azurite.container_url(store.container());
    let (code, out, _) = run(ferry_with_key().args(["ls", &format!("{base}/dir"), "--machine-readable"]));
    assert_eq!(code, 0);
    assert_eq!(out, "a; Content Length: 1\nsub/b; Content Length: 2\n");
    let (_, with_slash, _) = run(ferry_with_key().args(["ls", &format!("{base}/dir/"), "--machine-readable"]));
    assert_eq!(with_slash, out, "a trailing slash lists the same");
    let (code, one, _) = run(ferry_with_key().args(["ls", &format!("{base}/dirx"), "--machine-readable"]));
    assert_eq!(code, 0);
    assert_eq!(one, "dirx; Content Length: 3\n", "a blob URL lists that blob by its name");
    let (code, none, _) = run(ferry_with_key().args(["ls", &format!("{base}/absent"), "--running-tally"]));
    assert_eq!(code, 0, "an empty prefix is not an error, as in AzCopy");
    assert_eq!(none, "\nFile count: 0\nTotal file size: 0.00 B\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn account_urls_list_every_container_with_its_name() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("listacct").await;
    upload_with_python(azurite, store.container(), &["x.txt".into()]);
    let (code, out, err) = run(ferry_with_key().args(["list", &azurite.account_url(), "--machine-readable"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().any(|l| l == format!("{}/x.txt; Content Length: 0", store.container())), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn json_output_is_azcopys_envelope_and_the_sas_never_shows() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("listjson").await;
    upload_with_python(azurite, store.container(), &["a&b.txt".into(), "c.txt".into()]);
    let url = azurite.container_url_with_sas(store.container(), "rl");
    let signature = url.split("sig=").nth(1).unwrap().to_owned();
    let (code, out, err) = run(ferry().args([
        "list",
        &url,
        "--output-type",
        "json",
        "--running-tally",
        "--properties",
        "BlobType;ContentMD5",
    ]));
    assert_eq!(code, 0, "{err}");
    let messages: Vec<serde_json::Value> =
        out.lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect();
    let types: Vec<&str> = messages.iter().map(|m| m["MessageType"].as_str().unwrap()).collect();
    assert_eq!(types, ["ListObject", "ListObject", "ListSummary", "EndOfJob"]);
    let first: serde_json::Value = serde_json::from_str(messages[0]["MessageContent"].as_str().unwrap()).unwrap();
    assert_eq!(first["Path"], "a&b.txt");
    assert_eq!(first["BlobType"], "BlockBlob");
    assert_eq!(first["ContentLength"], "0.00 B");
    assert!(first["ContentMD5"].as_str().is_some_and(|m| m.len() == 24), "{first}");
    let summary: serde_json::Value = serde_json::from_str(messages[2]["MessageContent"].as_str().unwrap()).unwrap();
    assert_eq!(summary["FileCount"], "2");
    assert!(!out.contains(&signature) && !err.contains(&signature));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sas_without_list_permission_fails_with_a_hint_and_no_secret() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("listperm").await;
    let url = azurite.container_url_with_sas(store.container(), "r");
    let signature = url.split("sig=").nth(1).unwrap().to_owned();
    let (code, out, err) = run(ferry().args(["list", &url]));
    assert_eq!(code, 1);
    assert!(err.contains("error: permission denied"), "{err}");
    assert!(err.contains("hint:") && err.contains("`l` list"), "{err}");
    assert!(err.contains("authenticated with the SAS token in the URL"), "{err}");
    assert!(!out.contains(&signature) && !err.contains(&signature), "{err}");
}
