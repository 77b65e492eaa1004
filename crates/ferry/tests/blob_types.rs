//! Which blobs a copy covers by type and stub (issue #14): `--exclude-blob-type` leaves out page
//! and append blobs by the type the service lists, and `--include-directory-stub` copies folder
//! stubs (`hdi_isfolder=true`) that are otherwise passed over. Blobs of each type are made by
//! the Python SDK on Azurite and read back by it.

mod common;

use std::process::Command;

use common::{ferry_with_key, run};
use ferry_testkit::{Azurite, tools};

/// Runs Python with the container URL and the key as `sys.argv[1:3]`, after `prelude`.
fn python(azurite: &Azurite, container: &str, body: &str) -> String {
    let script = format!(
        "import sys\nfrom azure.storage.blob import ContainerClient\nc = ContainerClient.from_container_url(sys.argv[1], credential={{'account_name': 'devstoreaccount1', 'account_key': sys.argv[2]}})\n{body}"
    );
    let out = Command::new(tools::python())
        .args(["-c", &script, &azurite.container_url(container), ferry_azure::DEVELOPMENT_KEY])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

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
