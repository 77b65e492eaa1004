//! Blob versions (issue #14): `list --properties VersionId` lists every version (and its tally
//! counts each blob once, at its newest size), `copy --list-of-versions` downloads chosen versions
//! to files named after them, `remove --list-of-versions` deletes chosen versions and nothing
//! else. Azurite has no versioning, so the fault proxy plays it with snapshots (a snapshot after
//! each write; the newest is the current version); the real AzCopy lists through the same proxy
//! and must print the same, and the Python SDK, straight to Azurite, checks what was deleted.
//! `remove --permanent-delete` purges soft-deleted snapshots and versions, never live ones; the
//! proxy plays soft delete too (metadata `softdeleted=true`), and keeps each request's head, so
//! the purge's `deletetype=permanent` is checked on the wire.

mod common;

use common::{azcopy, ferry, python_in as python, run};
use ferry_testkit::Azurite;
use ferry_testkit::fault_proxy::FaultProxy;

/// Writes `doc.txt` three times and `other.txt` once, a snapshot after each write; returns the
/// version ids of `doc.txt`, oldest first.
fn versioned_blobs(azurite: &Azurite, container: &str) -> Vec<String> {
    let body = "import time\n\
                ids = []\n\
                for text in [b'first', b'second, longer', b'third and longest']:\n\
                \x20   b = c.get_blob_client('doc.txt'); b.upload_blob(text, overwrite=True)\n\
                \x20   ids.append(b.create_snapshot()['snapshot']); time.sleep(0.01)\n\
                o = c.get_blob_client('other.txt'); o.upload_blob(b'only'); o.create_snapshot()\n\
                print('\\n'.join(ids))";
    python(azurite, container, body).lines().map(str::to_owned).collect()
}

/// The snapshots of `doc.txt` that Azurite still has, as the Python SDK lists them.
fn snapshots_left(azurite: &Azurite, container: &str) -> Vec<String> {
    let body = "print('\\n'.join(b.snapshot for b in c.list_blobs(name_starts_with='doc.txt', include=['snapshots']) if b.snapshot))";
    python(azurite, container, body).lines().map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn versions_are_listed_downloaded_and_deleted_by_id() {
    let azurite = Azurite::shared();
    let container = azurite.new_container("versions").await.container().to_owned();
    let ids = versioned_blobs(azurite, &container);
    assert_eq!(ids.len(), 3, "{ids:?}");
    let proxy = FaultProxy::versioning(azurite.port()).await.unwrap();
    // An account SAS: Azurite checks a container SAS against a snapshot read as if it were
    // signed for that snapshot, and refuses it.
    let expiry = time::OffsetDateTime::now_utc() + std::time::Duration::from_secs(3600);
    let sas = ferry_azure::account_sas(&azurite.shared_key(), "rldx", expiry);
    let base = format!("http://127.0.0.1:{}/devstoreaccount1/{container}", proxy.port());
    let container_url = format!("{base}?{}", sas.expose());
    let blob_url = format!("{base}/doc.txt?{}", sas.expose());

    // Every version, oldest first; the tally counts each blob once, at its current size.
    let (code, listed, err) =
        run(ferry().args(["list", &container_url, "--properties", "VersionId", "--running-tally"]));
    assert_eq!(code, 0, "{err}");
    let expected = format!(
        "doc.txt; VersionId: {}; Content Length: 5.00 B\n\
         doc.txt; VersionId: {}; Content Length: 14.00 B\n\
         doc.txt; VersionId: {}; Content Length: 17.00 B\n",
        ids[0], ids[1], ids[2]
    );
    assert!(listed.starts_with(&expected), "{listed}");
    assert!(listed.contains("other.txt; VersionId: "), "{listed}");
    assert!(listed.contains("File count: 2") && listed.contains("Total file size: 21.00 B"), "{listed}");
    let state = tempfile::tempdir().unwrap();
    let (code, by_azcopy) =
        azcopy(state.path(), &["list", &container_url, "--properties", "VersionId", "--location", "Blob"]);
    assert_eq!(code, 0, "{by_azcopy}");
    let objects = |text: &str| -> Vec<String> {
        text.lines().filter(|l| l.contains("; Content Length: ")).map(str::to_owned).collect()
    };
    assert_eq!(objects(&listed), objects(&by_azcopy), "AzCopy lists the same versions the same way");
    let (code, one, err) = run(ferry().args(["list", &blob_url, "--properties", "VersionId"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(one, expected, "a blob's URL lists its versions");

    // The first two versions downloaded, each to a file named after it; the third left.
    let work = tempfile::tempdir().unwrap();
    let list = work.path().join("versions.txt");
    std::fs::write(&list, format!("{}\n\n  {}  \n", ids[0], ids[1])).unwrap();
    let dest = work.path().join("out");
    let (code, out, err) =
        run(ferry().args(["copy", &blob_url, dest.to_str().unwrap(), "--list-of-versions", list.to_str().unwrap()]));
    assert_eq!(code, 0, "{out}{err}");
    let file = |id: &str| dest.join(format!("{}-doc.txt", id.replace(':', "-")));
    assert_eq!(std::fs::read(file(&ids[0])).unwrap(), b"first");
    assert_eq!(std::fs::read(file(&ids[1])).unwrap(), b"second, longer");
    assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 2, "only the versions listed");

    // The first version deleted, and nothing else: the Python SDK still finds the other two
    // (the newest is the current version) and the blob itself.
    let one_version = work.path().join("one.txt");
    std::fs::write(&one_version, format!("{}\n", ids[0])).unwrap();
    let (code, out, err) =
        run(ferry().args(["remove", &blob_url, "--list-of-versions", one_version.to_str().unwrap()]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(snapshots_left(azurite, &container), ids[1..], "only the listed version is gone");
    let current = python(azurite, &container, "print(c.download_blob('doc.txt').readall().decode())");
    assert_eq!(current.trim(), "third and longest");

    // A version list goes with one blob's URL, and versions download to a local directory.
    let (code, _, err) = run(ferry().args([
        "copy",
        &container_url,
        dest.to_str().unwrap(),
        "--recursive",
        "--list-of-versions",
        list.to_str().unwrap(),
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--list-of-versions downloads versions of one blob"), "{err}");
    let empty = work.path().join("empty.txt");
    std::fs::write(&empty, "\n\n").unwrap();
    let (code, _, err) = run(ferry().args(["remove", &blob_url, "--list-of-versions", empty.to_str().unwrap()]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("lists no version ids"), "{err}");
}

/// Writes `name` three times with a snapshot after each; the first snapshot is soft-deleted.
/// Returns the snapshot times, oldest first.
fn soft_deleted_history(azurite: &Azurite, container: &str, name: &str) -> Vec<String> {
    let body = format!(
        "import time\n\
         ids = []\n\
         b = c.get_blob_client({name:?})\n\
         for i, text in enumerate([b'one', b'two', b'three']):\n\
         \x20   b.upload_blob(text, overwrite=True)\n\
         \x20   ids.append(b.create_snapshot(metadata={{'softdeleted': 'true'}} if i == 0 else None)['snapshot']); time.sleep(0.01)\n\
         print('\\n'.join(ids))"
    );
    python(azurite, container, &body).lines().map(str::to_owned).collect()
}

/// The snapshots of every blob that Azurite still has, as `name@time`, by the Python SDK.
fn all_snapshots(azurite: &Azurite, container: &str) -> Vec<String> {
    let body = "print('\\n'.join(f'{b.name}@{b.snapshot}' for b in c.list_blobs(include=['snapshots']) if b.snapshot))";
    python(azurite, container, body).lines().map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn permanent_delete_purges_soft_deleted_snapshots_and_versions_only() {
    let azurite = Azurite::shared();
    let expiry = time::OffsetDateTime::now_utc() + std::time::Duration::from_secs(3600);
    let sas = ferry_azure::account_sas(&azurite.shared_key(), "rldx", expiry);
    let proxy = FaultProxy::versioning(azurite.port()).await.unwrap();
    let url = |container: &str, path: &str| {
        format!("http://127.0.0.1:{}/devstoreaccount1/{container}/{path}?{}", proxy.port(), sas.expose())
    };
    let purges = |proxy: &FaultProxy| {
        proxy.heads().iter().filter(|h| h.starts_with("DELETE ") && h.contains("deletetype=permanent")).count()
    };

    // Snapshots, under a whole container: the two soft-deleted ones go, the live ones stay.
    let container = azurite.new_container("purge-snap").await.container().to_owned();
    let a = soft_deleted_history(azurite, &container, "a.txt");
    let b = soft_deleted_history(azurite, &container, "dir/b.txt");
    let (code, out, err) =
        run(ferry().args(["remove", &url(&container, ""), "--recursive", "--permanent-delete=snapshots"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("INFO: Permanent delete is a PREVIEW feature"), "{err}");
    let live = |name: &str, ids: &[String]| ids[1..].iter().map(|t| format!("{name}@{t}")).collect::<Vec<_>>();
    let mut expected = live("a.txt", &a);
    expected.extend(live("dir/b.txt", &b));
    assert_eq!(all_snapshots(azurite, &container), expected);
    assert_eq!(purges(&proxy), 2, "one purge per soft-deleted snapshot, each with deletetype=permanent");
    let current = python(azurite, &container, "print(c.download_blob('a.txt').readall().decode())");
    assert_eq!(current.trim(), "three", "the blob itself is live and stays");

    // Versions of one blob: the soft-deleted version goes; --permanent-delete=versions leaves
    // snapshots alone, and nothing soft-deleted is left to purge the second time.
    let container = azurite.new_container("purge-ver").await.container().to_owned();
    let ids = soft_deleted_history(azurite, &container, "v.txt");
    let before = purges(&proxy);
    let (code, out, err) = run(ferry().args(["remove", &url(&container, "v.txt"), "--permanent-delete=versions"]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(all_snapshots(azurite, &container), live("v.txt", &ids));
    assert_eq!(purges(&proxy) - before, 1);
    let (code, _, err) = run(ferry().args(["remove", &url(&container, "v.txt"), "--permanent-delete=versions"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("nothing found to remove"), "{err}");

    let (code, _, err) = run(ferry().args(["remove", &url(&container, "v.txt"), "--permanent-delete=all"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is not one of none, snapshots, versions, snapshotsandversions"), "{err}");
}
