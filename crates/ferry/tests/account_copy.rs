//! Account-level copies (issue #14): an account URL as the source copies every container (less
//! `--exclude-container`), into folders of the same names, or into containers of the same names
//! in another account. Each test has Azurite instances of its own, so no other test's
//! containers are in the account.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{ferry_with_key, run};
use ferry_testkit::Azurite;
use ferry_testkit::azurite::SECOND_ACCOUNT;

/// Every file below `dir`: relative path → bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

/// Uploads `tree` (relative path → bytes) into `container` of `azurite`.
fn upload(azurite: &Azurite, container: &str, tree: &[(&str, &[u8])]) {
    let work = tempfile::tempdir().unwrap();
    for (name, data) in tree {
        let path = work.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    }
    let (code, _, err) = run(ferry_with_key().args([
        "copy",
        &format!("{}/*", work.path().display()),
        &azurite.container_url(container),
        "--recursive",
    ]));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn an_account_copies_every_container_but_the_excluded_ones() {
    let source = Azurite::start().unwrap();
    let big = ferry_testkit::data::pattern(3 * 1024 * 1024, 5);
    upload(&source, "photos", &[("2024/a.jpg", b"jpeg"), ("b.png", b"png")]);
    upload(&source, "photos-raw", &[("c.raw", &big)]);
    upload(&source, "scratch", &[("tmp.bin", b"tmp")]);

    let local = tempfile::tempdir().unwrap();
    let (code, out, err) = run(ferry_with_key().args([
        "copy",
        &source.account_url(),
        local.path().to_str().unwrap(),
        "--recursive",
        "--exclude-container=scratch",
    ]));
    assert_eq!(code, 0, "{err}\n{out}");
    let got = files(local.path());
    let expected: BTreeMap<String, Vec<u8>> =
        [("photos/2024/a.jpg", b"jpeg".to_vec()), ("photos/b.png", b"png".to_vec()), ("photos-raw/c.raw", big.clone())]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
    assert_eq!(got.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>());
    assert!(got == expected, "the bytes differ");

    // Account to account (a second account of the same emulator: Azurite reads a server-side
    // copy's source only from itself): containers of the same names are made.
    let second = Azurite::start_with_second_account().unwrap();
    upload(&second, "photos", &[("2024/a.jpg", b"jpeg"), ("b.png", b"png")]);
    upload(&second, "photos-raw", &[("c.raw", &big)]);
    upload(&second, "scratch", &[("tmp.bin", b"tmp")]);
    let key =
        ferry_azure::SharedKey::new(SECOND_ACCOUNT, &ferry_core::Secret::new(ferry_azure::DEVELOPMENT_KEY)).unwrap();
    let sas = ferry_azure::account_sas(
        &key,
        "racwdl",
        time::OffsetDateTime::now_utc() + std::time::Duration::from_secs(3600),
    );
    let destination = format!("http://127.0.0.1:{}/{SECOND_ACCOUNT}", second.port());
    let (code, out, err) = run(ferry_with_key().args([
        "copy",
        &second.account_url(),
        &format!("{destination}?{}", sas.expose()),
        "--recursive",
        "--exclude-container=scratch",
    ]));
    assert_eq!(code, 0, "{err}\n{out}");
    for container in ["photos", "photos-raw"] {
        let back = tempfile::tempdir().unwrap();
        let (code, _, err) = run(ferry_with_key().args([
            "copy",
            &format!("{destination}/{container}/*?{}", sas.expose()),
            back.path().to_str().unwrap(),
            "--recursive",
        ]));
        assert_eq!(code, 0, "{err}");
        let want: BTreeMap<String, Vec<u8>> = expected
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(&format!("{container}/")).map(|rest| (rest.to_owned(), v.clone())))
            .collect();
        assert!(files(back.path()) == want, "{container} differs");
    }
    let (code, _, err) = run(ferry_with_key().args(["list", &format!("{destination}/scratch?{}", sas.expose())]));
    assert_ne!(code, 0, "the excluded container was not made: {err}");

    let (code, _, err) = run(ferry_with_key().args([
        "copy",
        &source.container_url("photos"),
        local.path().to_str().unwrap(),
        "--recursive",
        "--exclude-container=scratch",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--exclude-container applies to account-level copies only"), "{err}");
}

/// Customer-provided keys reach every container of an account-level copy: each blob read
/// carries the key's headers (checked on the wire through the test proxy; Azurite ignores them).
#[tokio::test(flavor = "multi_thread")]
async fn an_account_copy_reads_every_container_with_the_customer_key() {
    use ferry_testkit::fault_proxy::{FaultPlan, FaultProxy};
    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    let source = Azurite::start().unwrap();
    upload(&source, "first", &[("a.txt", b"a")]);
    upload(&source, "second", &[("b.txt", b"b")]);
    let proxy = FaultProxy::with_plan(source.port(), FaultPlan::default()).await.unwrap();
    let local = tempfile::tempdir().unwrap();
    let (code, _, err) = run(ferry_with_key().env("CPK_ENCRYPTION_KEY", KEY).args([
        "copy",
        &format!("http://127.0.0.1:{}/devstoreaccount1", proxy.port()),
        local.path().to_str().unwrap(),
        "--recursive",
        "--cpk-by-value",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(files(local.path()).len(), 2);
    let reads: Vec<String> = proxy
        .heads()
        .into_iter()
        .filter(|h| {
            h.starts_with("GET /devstoreaccount1/first/a.txt") || h.starts_with("GET /devstoreaccount1/second/b.txt")
        })
        .collect();
    assert_eq!(reads.len(), 2, "{reads:?}");
    for head in reads {
        assert!(head.to_ascii_lowercase().contains("x-ms-encryption-algorithm: aes256"), "{head}");
    }
}
