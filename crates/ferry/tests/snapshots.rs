//! A snapshot URL as a copy's source (issue #14): `?snapshot=…` names one earlier state of a
//! blob, kept apart from the SAS, read by a download and by a server-side copy; a snapshot
//! cannot be a destination; `remove` of its URL deletes that snapshot alone. The snapshot is made
//! and checked by the Python SDK on Azurite.

mod common;

use common::{ferry_with_key, run};
use ferry_testkit::Azurite;

#[tokio::test(flavor = "multi_thread")]
async fn a_snapshot_url_copies_that_state_of_the_blob() {
    let azurite = Azurite::shared();
    let container = azurite.new_container("snap").await.container().to_owned();
    let body = "b = c.get_blob_client('report.txt')\n\
                b.upload_blob(b'first version')\n\
                snap = b.create_snapshot()['snapshot']\n\
                b.upload_blob(b'second version, longer', overwrite=True)\n\
                print(snap)";
    let snapshot = common::python_in(azurite, &container, body).trim().to_owned();
    let url = format!("{}/report.txt?snapshot={snapshot}", azurite.container_url(&container));

    let work = tempfile::tempdir().unwrap();
    let (code, out, err) = run(ferry_with_key().args(["copy", &url, work.path().to_str().unwrap()]));
    assert_eq!(code, 0, "{err}\n{out}");
    assert_eq!(std::fs::read(work.path().join("report.txt")).unwrap(), b"first version");

    let copies = azurite.new_container("snap-copy").await.container().to_owned();
    let (code, _, err) = run(ferry_with_key().args(["copy", &url, &azurite.container_url(&copies)]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(common::blob_md5s(azurite, &copies)["report.txt"], common::md5_hex(b"first version"));

    let (code, _, err) = run(ferry_with_key().args(["copy", work.path().join("report.txt").to_str().unwrap(), &url]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("names a snapshot or version, which cannot be written"), "{err}");
    let (code, _, err) = run(ferry_with_key().args([
        "copy",
        &format!("{}?snapshot={snapshot}", azurite.container_url(&container)),
        work.path().to_str().unwrap(),
        "--recursive",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("names one blob"), "{err}");

    // `remove` of the snapshot's URL deletes that snapshot only; the blob stays.
    let (code, _, err) = run(ferry_with_key().args(["remove", &url]));
    assert_eq!(code, 0, "{err}");
    let left = common::python_in(
        azurite,
        &container,
        "print([b.snapshot for b in c.list_blobs(include=['snapshots']) if b.snapshot], c.download_blob('report.txt').readall())",
    );
    assert_eq!(left.trim(), "[] b'second version, longer'");
    let (code, _, err) = run(ferry_with_key().args(["remove", &url, "--delete-snapshots=include"]));
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(ferry_with_key().args(["set-properties", &url, "--block-blob-tier=Cool"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not supported yet"), "{err}");
}
