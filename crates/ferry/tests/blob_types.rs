//! Which blobs a copy covers by type and stub (issue #14): `--exclude-blob-type` leaves out page
//! and append blobs by the type the service lists, and `--include-directory-stub` copies folder
//! stubs (`hdi_isfolder=true`) that are otherwise passed over. Blobs of each type are made by
//! the Python SDK on Azurite and read back by it.

mod common;

use std::process::Command;

use common::{ferry_with_key, python_in as python, run};
use ferry_testkit::{Azurite, tools};

fn listing(azurite: &Azurite, container: &str) -> Vec<String> {
    python(
        azurite,
        container,
        "for b in c.list_blobs(include=['metadata']):\n    print(b.name, b.blob_type.split('.')[-1] if hasattr(b.blob_type, 'split') else b.blob_type, (b.metadata or {}).get('hdi_isfolder', '-'))",
    )
    .lines()
    .map(str::to_owned)
    .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn blob_types_and_folder_stubs_select_what_is_copied() {
    let azurite = Azurite::shared();
    let source = azurite.new_container("types-src").await.container().to_owned();
    python(
        azurite,
        &source,
        "c.upload_blob('a.txt', b'block')\n\
         c.get_blob_client('disk.vhd').create_page_blob(1024)\n\
         a = c.get_blob_client('log.txt'); a.create_append_blob(); a.append_block(b'line\\n')\n\
         c.upload_blob('folder', b'', metadata={'hdi_isfolder': 'true'})\n\
         c.upload_blob('folder/x.txt', b'x')\n",
    );
    let copy = |dest: &str, extra: &[&str]| {
        let mut cmd = ferry_with_key();
        cmd.args([
            "copy",
            &format!("{}/*", azurite.container_url(&source)),
            &azurite.container_url(dest),
            "--recursive",
        ])
        .args(extra);
        run(&mut cmd)
    };
    let plain = azurite.new_container("types-plain").await.container().to_owned();
    let (code, _, err) = copy(&plain, &["--exclude-blob-type=PageBlob;appendblob"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(listing(azurite, &plain), ["a.txt BlockBlob -", "folder/x.txt BlockBlob -"]);

    let stubs = azurite.new_container("types-stubs").await.container().to_owned();
    let (code, _, err) = copy(&stubs, &["--exclude-blob-type=PageBlob;AppendBlob", "--include-directory-stub"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(listing(azurite, &stubs), ["a.txt BlockBlob -", "folder BlockBlob true", "folder/x.txt BlockBlob -"]);

    let (code, _, err) = copy(&plain, &["--exclude-blob-type=DiskBlob"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("`DiskBlob` is not one of BlockBlob, PageBlob, AppendBlob"), "{err}");
    let local = tempfile::tempdir().unwrap();
    let (code, _, err) = run(ferry_with_key().args([
        "copy",
        &format!("{}/*", azurite.container_url(&source)),
        local.path().to_str().unwrap(),
        "--recursive",
        "--include-directory-stub",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("needs Blob on both sides"), "{err}");
}

/// Page and append blobs: a `.vhd` becomes a page blob by default (its all-zero range is not
/// sent, so the service lists only the written pages), `--blob-type AppendBlob` appends block
/// after block, `--put-md5` stores the whole MD5 of both; a Blob-to-Blob copy keeps each type,
/// and downloads give back the bytes.
#[tokio::test(flavor = "multi_thread")]
async fn page_and_append_blobs_are_written_kept_and_read() {
    const MIB: usize = 1024 * 1024;
    let azurite = Azurite::shared();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("up");
    std::fs::create_dir_all(&dir).unwrap();
    let mut disk = ferry_testkit::data::pattern(4 * MIB, 3);
    disk.extend(std::iter::repeat_n(0u8, 4 * MIB));
    std::fs::write(dir.join("disk.vhd"), &disk).unwrap();
    let log = ferry_testkit::data::pattern(3 * MIB + 5, 4);
    std::fs::write(dir.join("app.log"), &log).unwrap();
    let source = azurite.new_container("pages-src").await.container().to_owned();
    let (code, _, err) = run(ferry_with_key().args([
        "copy",
        dir.join("disk.vhd").to_str().unwrap(),
        &azurite.container_url(&source),
        "--put-md5",
    ]));
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(ferry_with_key().args([
        "copy",
        dir.join("app.log").to_str().unwrap(),
        &format!("{}/app.log", azurite.container_url(&source)),
        "--blob-type=AppendBlob",
        "--block-size-mb=1",
        "--put-md5",
    ]));
    assert_eq!(code, 0, "{err}");
    let describe = "import hashlib, base64\n\
        for b in c.list_blobs():\n    data = c.download_blob(b.name).readall()\n    md5 = b.content_settings.content_md5\n    \
        print(b.name, str(b.blob_type).split('.')[-1], hashlib.md5(data).hexdigest(), bytes(md5).hex() if md5 else '-')\n\
        print('pages', [(r['start'], r['end']) for r in c.get_blob_client('disk.vhd').get_page_ranges()[0]])\n";
    let expected = |name: &str, kind: &str, data: &[u8]| {
        let md5 = common::md5_hex(data);
        format!("{name} {kind} {md5} {md5}")
    };
    let seen = python(azurite, &source, describe);
    assert!(
        seen.contains(&expected("disk.vhd", "PAGEBLOB", &disk))
            || seen.contains(&expected("disk.vhd", "PageBlob", &disk)),
        "{seen}"
    );
    assert!(
        seen.contains(&expected("app.log", "APPENDBLOB", &log))
            || seen.contains(&expected("app.log", "AppendBlob", &log)),
        "{seen}"
    );
    assert!(seen.contains(&format!("pages [(0, {})]", 4 * MIB - 1)), "only the written range: {seen}");

    // Blob to Blob keeps each type (Detect, the default).
    let copied = azurite.new_container("pages-dst").await.container().to_owned();
    let (code, _, err) = run(ferry_with_key().args([
        "copy",
        &format!("{}/*", azurite.container_url(&source)),
        &azurite.container_url(&copied),
        "--recursive",
    ]));
    assert_eq!(code, 0, "{err}");
    let seen = python(
        azurite,
        &copied,
        "for b in c.list_blobs():\n    print(b.name, str(b.blob_type).split('.')[-1].lower())",
    );
    assert_eq!(seen, "app.log appendblob\ndisk.vhd pageblob\n");

    // Downloads give back the bytes.
    let back = work.path().join("back");
    let (code, _, err) = run(ferry_with_key().args([
        "copy",
        &format!("{}/*", azurite.container_url(&copied)),
        back.to_str().unwrap(),
        "--recursive",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::read(back.join("disk.vhd")).unwrap() == disk);
    assert!(std::fs::read(back.join("app.log")).unwrap() == log);

    // A page blob is a whole number of 512-byte pages.
    let (code, out, err) = run(ferry_with_key().args([
        "copy",
        dir.join("app.log").to_str().unwrap(),
        &format!("{}/odd.bin", azurite.container_url(&source)),
        "--blob-type=PageBlob",
    ]));
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("multiple of 512"), "{err}");
}

/// `--s2s-preserve-blob-tags` gives each copy its source's index tags, by the one-request copy
/// and the block-by-block one; without it the copies have none. `--s2s-detect-source-changed`
/// passes a source that stayed as listed.
#[tokio::test(flavor = "multi_thread")]
async fn a_blob_to_blob_copy_keeps_index_tags_when_asked() {
    let azurite = Azurite::shared();
    let source = azurite.new_container("tags-src").await.container().to_owned();
    python(
        azurite,
        &source,
        "import os\n\
         c.upload_blob('small.txt', b'small', tags={'project': 'ferry', 'stage': 'test'})\n\
         c.upload_blob('big.bin', os.urandom(3 * 1024 * 1024), tags={'size': 'big'})\n",
    );
    let tags = |container: &str| {
        python(
            azurite,
            container,
            "for b in c.list_blobs():\n    print(b.name, sorted(c.get_blob_client(b.name).get_blob_tags().items()))",
        )
    };
    for (flags, expected) in [
        (
            vec!["--s2s-preserve-blob-tags", "--s2s-detect-source-changed"],
            "big.bin [('size', 'big')]\nsmall.txt [('project', 'ferry'), ('stage', 'test')]\n",
        ),
        (vec![], "big.bin []\nsmall.txt []\n"),
    ] {
        let dest = azurite.new_container("tags-dst").await.container().to_owned();
        let mut cmd = ferry_with_key();
        cmd.args(["copy", &format!("{}/*", azurite.container_url(&source)), &azurite.container_url(&dest)])
            .args(["--block-size-mb=1"])
            .args(&flags);
        let (code, _, err) = run(&mut cmd);
        assert_eq!(code, 0, "{flags:?}: {err}");
        assert_eq!(tags(&dest), expected, "{flags:?}");
    }
}

/// Customer-provided encryption (`--cpk-by-value`, `--cpk-by-name`): every request that writes
/// (Put Blob, Put Block, Put Block List) or reads a blob's data carries the key's headers, its
/// SHA-256 as Python computes it; the key itself is never printed or kept; the job records only
/// where the key comes from. Azurite ignores these headers, so their shape is checked on the
/// wire through the test proxy, and the bytes by the download.
#[tokio::test(flavor = "multi_thread")]
async fn customer_provided_keys_go_on_every_data_request() {
    use ferry_testkit::fault_proxy::{FaultPlan, FaultProxy};
    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    let azurite = Azurite::shared();
    let container = azurite.new_container("cpk").await.container().to_owned();
    let proxy = FaultProxy::with_plan(azurite.port(), FaultPlan { rules: vec![], seed: 1 }).await.unwrap();
    let url = format!("http://127.0.0.1:{}/devstoreaccount1/{container}", proxy.port());
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("small.txt"), b"small").unwrap();
    let big = ferry_testkit::data::pattern(3 * 1024 * 1024, 11);
    std::fs::write(src.join("big.bin"), &big).unwrap();
    let plans = work.path().join("plans");
    let (code, out, err) = run(ferry_with_key()
        .env("CPK_ENCRYPTION_KEY", KEY)
        .env("FERRY_JOB_PLAN_LOCATION", &plans)
        .args(["copy", &format!("{}/*", src.display()), &url, "--cpk-by-value", "--block-size-mb=1"]));
    assert_eq!(code, 0, "{err}");
    let back = work.path().join("back");
    let (code, _, err) = run(ferry_with_key().env("CPK_ENCRYPTION_KEY", KEY).args([
        "copy",
        &format!("{url}/*"),
        back.to_str().unwrap(),
        "--cpk-by-value",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::read(back.join("big.bin")).unwrap() == big);
    let sha = Command::new(tools::python())
        .args(["-c", "import sys,hashlib,base64; print(base64.b64encode(hashlib.sha256(base64.b64decode(sys.argv[1])).digest()).decode())", KEY])
        .output()
        .unwrap();
    let sha = String::from_utf8(sha.stdout).unwrap().trim().to_owned();
    let heads = proxy.heads();
    let data: Vec<&String> = heads
        .iter()
        .filter(|h| {
            let line = h.lines().next().unwrap_or_default();
            (line.starts_with("PUT ") || line.starts_with("GET "))
                && line.contains("/cpk-")
                && !line.contains("restype=container")
        })
        .collect();
    assert!(data.len() >= 6, "put blob, 3 blocks, block list, downloads: {}", data.len());
    for head in &data {
        let lower = head.to_ascii_lowercase();
        assert!(lower.contains(&format!("x-ms-encryption-key-sha256: {}", sha.to_ascii_lowercase())), "{head}");
        assert!(lower.contains("x-ms-encryption-algorithm: aes256"), "{head}");
    }
    assert!(!out.contains(KEY) && !err.contains(KEY));
    for path in std::fs::read_dir(&plans).unwrap().flatten().map(|e| e.path()) {
        let bytes = std::fs::read(&path).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains(KEY), "the key is in {}", path.display());
    }

    let scoped = azurite.new_container("cpk-scope").await.container().to_owned();
    let before = proxy.heads().len();
    let (code, _, err) = run(ferry_with_key().args([
        "copy",
        src.join("small.txt").to_str().unwrap(),
        &format!("http://127.0.0.1:{}/devstoreaccount1/{scoped}", proxy.port()),
        "--cpk-by-name=scope-1",
    ]));
    assert_eq!(code, 0, "{err}");
    let put =
        proxy.heads()[before..].iter().find(|h| h.starts_with("PUT ") && h.contains("small.txt")).cloned().unwrap();
    assert!(put.to_ascii_lowercase().contains("x-ms-encryption-scope: scope-1"), "{put}");
    let (code, _, err) = run(ferry_with_key().args(["copy", "a", "b", "--cpk-by-value"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("CPK_ENCRYPTION_KEY"), "{err}");
}

/// `--s2s-preserve-properties=false` leaves a server-side copy without its source's content
/// headers and metadata (by default they are kept), for the one-request copy and the
/// block-by-block one.
#[tokio::test(flavor = "multi_thread")]
async fn a_blob_to_blob_copy_can_leave_the_source_properties_behind() {
    let azurite = Azurite::shared();
    let source = azurite.new_container("props-src").await.container().to_owned();
    python(
        azurite,
        &source,
        "import os\nfrom azure.storage.blob import ContentSettings\n\
         for name, data in [('small.txt', b'small'), ('big.bin', os.urandom(3 * 1024 * 1024))]:\n    \
         c.upload_blob(name, data, metadata={'team': 'data'}, content_settings=ContentSettings(content_type='text/x-ferry'))\n",
    );
    let shown = "for b in c.list_blobs(include=['metadata']):\n    print(b.name, b.content_settings.content_type, sorted((b.metadata or {}).items()))";
    for (flag, kept) in [("--s2s-preserve-properties=true", true), ("--s2s-preserve-properties=false", false)] {
        let dest = azurite.new_container("props-dst").await.container().to_owned();
        let (code, _, err) = run(ferry_with_key().args([
            "copy",
            &format!("{}/*", azurite.container_url(&source)),
            &azurite.container_url(&dest),
            "--block-size-mb=1",
            flag,
        ]));
        assert_eq!(code, 0, "{flag}: {err}");
        let seen = python(azurite, &dest, shown);
        for name in ["big.bin", "small.txt"] {
            let line = seen.lines().find(|l| l.starts_with(name)).unwrap();
            assert_eq!(line.contains("text/x-ferry"), kept, "{flag}: {line}");
            assert_eq!(line.contains("('team', 'data')"), kept, "{flag}: {line}");
        }
    }
}
