//! Interop with the real AzCopy binary (npm `@azure-tools/azcopy-linux`, pinned): what Ferry
//! uploads passes AzCopy's strictest download check, and what AzCopy uploads passes Ferry's.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{azcopy, ferry, run};
use ferry_testkit::Azurite;
use ferry_testkit::data::pattern;

fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let files: BTreeMap<String, Vec<u8>> = [
        ("a.txt".to_owned(), b"alpha".to_vec()),
        ("dir/b b.bin".to_owned(), pattern(3 * 1024 * 1024 + 5, 1)),
        ("dir/sub/c#.dat".to_owned(), pattern(20 * 1024 * 1024 + 9, 2)),
        ("empty".to_owned(), Vec::new()),
    ]
    .into_iter()
    .collect();
    for (name, data) in &files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    }
    files
}

fn assert_same(root: &Path, files: &BTreeMap<String, Vec<u8>>) {
    for (name, data) in files {
        assert!(std::fs::read(root.join(name)).unwrap() == *data, "{name} differs");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn azcopy_downloads_ferry_uploads_with_md5_required() {
    let azurite = Azurite::shared();
    let container = azurite.new_container("interop-up").await.container().to_owned();
    let url = azurite.container_url_with_sas(&container, "racwdl");
    let work = tempfile::tempdir().unwrap();
    let files = tree(&work.path().join("src"));
    let (code, _, err) = run(ferry().args([
        "copy",
        &format!("{}/*", work.path().join("src").display()),
        &url,
        "--recursive",
        "--put-md5",
        "--block-size-mb",
        "4",
    ]));
    assert_eq!(code, 0, "{err}");

    let dest = work.path().join("by-azcopy");
    std::fs::create_dir_all(&dest).unwrap();
    let (code, output) = azcopy(
        work.path(),
        &[
            "copy",
            &url,
            dest.to_str().unwrap(),
            "--recursive",
            "--from-to",
            "BlobLocal",
            "--check-md5",
            "FailIfDifferentOrMissing",
        ],
    );
    assert_eq!(code, 0, "AzCopy refused Ferry's upload:\n{output}");
    assert!(output.contains(&format!("Number of File Transfers Completed: {}", files.len())), "{output}");
    assert_same(&dest.join(&container), &files);
}

#[tokio::test(flavor = "multi_thread")]
async fn ferry_downloads_azcopy_uploads_with_md5_required() {
    let azurite = Azurite::shared();
    let container = azurite.new_container("interop-down").await.container().to_owned();
    let url = azurite.container_url_with_sas(&container, "racwdl");
    let work = tempfile::tempdir().unwrap();
    let files = tree(&work.path().join("src"));
    let source = format!("{}/*", work.path().join("src").display());
    let (code, output) =
        azcopy(work.path(), &["copy", &source, &url, "--recursive", "--from-to", "LocalBlob", "--put-md5"]);
    assert_eq!(code, 0, "AzCopy upload failed:\n{output}");

    let dest = work.path().join("by-ferry");
    let (code, out, err) = run(ferry().args([
        "copy",
        &url,
        dest.to_str().unwrap(),
        "--recursive",
        "--check-md5",
        "FailIfDifferentOrMissing",
    ]));
    assert_eq!(code, 0, "{err}\n{out}");
    assert_same(&dest.join(&container), &files);
}
