//! `ferry sync` end to end against Azurite: what is copied and why, and guarded deletes.

mod common;

use std::path::Path;
use std::time::{Duration, SystemTime};

use common::{ferry, ferry_with_key, job_id, run, summary_value};
use ferry_store::{ListDepth, Store, WriteOptions};
use ferry_testkit::Azurite;
use ferry_testkit::fault_proxy::FaultProxy;
use futures::TryStreamExt;

fn write_tree(root: &Path, count: usize) {
    std::fs::create_dir_all(root.join("sub")).unwrap();
    for i in 0..count {
        let dir = if i % 2 == 0 { root.to_path_buf() } else { root.join("sub") };
        std::fs::write(dir.join(format!("f{i:02}.txt")), format!("content {i}")).unwrap();
    }
}

fn sync(source: &Path, url: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["sync", source.to_str().unwrap(), url];
    args.extend_from_slice(extra);
    run(ferry_with_key().args(&args))
}

async fn blob_keys(store: &impl Store) -> Vec<String> {
    store.list("", ListDepth::Recursive).map_ok(|e| e.key).try_collect().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_copies_only_what_changed_and_repairs_a_truncated_blob() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("sync-changes").await;
    let url = azurite.container_url(store.container());
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    write_tree(&src, 20);

    let (code, out, err) = sync(&src, &url, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary_value(&out, "Files Scanned at Source"), 20);
    assert_eq!(summary_value(&out, "Number of Copy Transfers Completed"), 20);

    let (_, out, _) = sync(&src, &url, &[]);
    assert_eq!(summary_value(&out, "Number of Copy Transfers Completed"), 0, "an unchanged tree transfers nothing");
    assert_eq!(summary_value(&out, "Files Scanned at Destination"), 20);

    // Same size, newer time: copied because the source is newer. (Wait a second first: times
    // compare in whole seconds, and the blobs were written this second.)
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let touched = src.join("f04.txt");
    std::fs::File::options().write(true).open(&touched).unwrap().set_modified(SystemTime::now()).unwrap();
    let (_, dry, _) = sync(&src, &url, &["--dry-run"]);
    assert_eq!(
        dry.lines().collect::<Vec<_>>(),
        [format!("DRYRUN: copy {}/f04.txt to {url}/f04.txt (source newer)", src.display())]
    );
    let (_, out, _) = sync(&src, &url, &[]);
    assert_eq!(summary_value(&out, "Number of Copy Transfers Completed"), 1);

    // A blob truncated behind Ferry's back, with a newer time than the file: repaired by size.
    store.write("sub/f05.txt", bytes::Bytes::from_static(b"cut").into(), &WriteOptions::default()).await.unwrap();
    let (_, dry, _) = sync(&src, &url, &["--dry-run"]);
    assert!(dry.ends_with("/sub/f05.txt (sizes differ)\n"), "{dry}");
    let (_, out, _) = sync(&src, &url, &[]);
    assert_eq!(summary_value(&out, "Number of Copy Transfers Completed"), 1);
    let back: Vec<bytes::Bytes> = store.read("sub/f05.txt", None).await.unwrap().try_collect().await.unwrap();
    assert_eq!(back.concat(), b"content 5");
}

#[tokio::test(flavor = "multi_thread")]
async fn deletes_only_extras_respect_filters_and_are_guarded() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("sync-delete").await;
    let url = azurite.container_url(store.container());
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    write_tree(&src, 4);
    assert_eq!(sync(&src, &url, &[]).0, 0);
    for extra in ["old.txt", "keep.log", "sub/gone.txt"] {
        store.write(extra, bytes::Bytes::from_static(b"extra").into(), &WriteOptions::default()).await.unwrap();
    }

    let (code, _, err) = sync(&src, &url, &["--delete-destination", "true", "--max-delete", "1"]);
    assert_eq!(code, 1);
    assert!(err.contains("exceed --max-delete 1"), "{err}");
    assert_eq!(blob_keys(&store).await.len(), 7, "nothing was deleted");

    // *.log is outside the filter on both sides, so keep.log is not an extra.
    let (code, out, err) = sync(&src, &url, &["--delete-destination", "true", "--exclude-pattern", "*.log"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary_value(&out, "Number of Deletions at Destination"), 2);
    assert_eq!(blob_keys(&store).await, ["f00.txt", "f02.txt", "keep.log", "sub/f01.txt", "sub/f03.txt"]);

    let empty = work.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let (code, _, err) = sync(&empty, &url, &["--delete-destination", "true"]);
    assert_eq!(code, 1);
    assert!(err.contains("--force-delete"), "{err}");
    assert_eq!(blob_keys(&store).await.len(), 5, "an empty source deletes nothing without --force-delete");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_source_listing_deletes_nothing() {
    let azurite = Azurite::shared();
    let source = azurite.new_container("sync-src-fail").await;
    let dest = azurite.new_container("sync-dst-fail").await;
    source.write("a.txt", bytes::Bytes::from_static(b"a").into(), &WriteOptions::default()).await.unwrap();
    dest.write("a.txt", bytes::Bytes::from_static(b"a").into(), &WriteOptions::default()).await.unwrap();
    dest.write("extra.txt", bytes::Bytes::from_static(b"x").into(), &WriteOptions::default()).await.unwrap();
    // The source is reached through a proxy that answers 503 to everything.
    let proxy = FaultProxy::start(azurite.port(), 1000).await.unwrap();
    let source_url = format!("http://127.0.0.1:{}/devstoreaccount1/{}", proxy.port(), source.container());
    let (code, _, err) = run(ferry_with_key().args([
        "sync",
        &source_url,
        &azurite.container_url(dest.container()),
        "--delete-destination",
        "true",
        "--force-delete",
    ]));
    assert_eq!(code, 1);
    assert!(err.contains("a listing failed, so nothing was deleted"), "{err}");
    assert_eq!(blob_keys(&dest).await, ["a.txt", "extra.txt"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn blob_to_local_sync_downloads_what_is_missing() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("sync-down").await;
    for name in ["x.txt", "dir/y.txt"] {
        store
            .write(name, bytes::Bytes::copy_from_slice(name.as_bytes()).into(), &WriteOptions::default())
            .await
            .unwrap();
    }
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("mirror");
    let url = azurite.container_url(store.container());
    let (code, out, err) = run(ferry_with_key().args(["sync", &url, dest.to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary_value(&out, "Number of Copy Transfers Completed"), 2);
    assert_eq!(std::fs::read(dest.join("dir/y.txt")).unwrap(), b"dir/y.txt");
    let (_, out, _) = run(ferry_with_key().args(["sync", &url, dest.to_str().unwrap()]));
    assert_eq!(summary_value(&out, "Number of Copy Transfers Completed"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_reports_each_planted_difference_exactly_once() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("verify").await;
    let url = azurite.container_url(store.container());
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    write_tree(&src, 6);
    assert_eq!(sync(&src, &url, &[]).0, 0);
    let reports = work.path().join("reports");
    let verify = |extra: &[&str]| {
        let mut args = vec!["verify", src.to_str().unwrap(), url.as_str(), "--report-dir", reports.to_str().unwrap()];
        args.extend_from_slice(extra);
        run(ferry_with_key().args(&args))
    };
    let (code, out, err) = verify(&["--compute-hash"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Objects Matched: 6\n") && out.contains("Final Status: Identical"), "{out}");

    std::fs::write(src.join("new.txt"), b"only here").unwrap(); // missing at destination
    store.write("extra.txt", bytes::Bytes::from_static(b"only there").into(), &WriteOptions::default()).await.unwrap();
    std::fs::write(src.join("f00.txt"), b"a different length").unwrap(); // size mismatch
    std::fs::write(src.join("sub/f01.txt"), b"CONTENT 1").unwrap(); // same size, other bytes

    let (code, out, _) = verify(&["--compute-hash"]);
    assert_eq!(code, 3, "{out}");
    for line in [
        "Objects Matched: 4",
        "Missing at Destination: 1",
        "Extra at Destination: 1",
        "Size Mismatches: 1",
        "Hash Mismatches: 1",
        "Unverifiable: 0",
        "Final Status: Different",
    ] {
        assert!(out.contains(&format!("{line}\n")) || out.ends_with(line), "{line}: {out}");
    }
    let jsonl = out.lines().find_map(|l| l.strip_prefix("Report (JSON Lines): ")).unwrap();
    let rows: Vec<serde_json::Value> =
        std::fs::read_to_string(jsonl).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let mut found: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r["path"].as_str().unwrap().to_owned(), r["reason"].as_str().unwrap().to_owned()))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("extra.txt".to_owned(), "extra at destination".to_owned()),
            ("f00.txt".to_owned(), "size mismatch".to_owned()),
            ("new.txt".to_owned(), "missing at destination".to_owned()),
            ("sub/f01.txt".to_owned(), "hash mismatch".to_owned()),
        ]
    );
    let csv_path = out.lines().find_map(|l| l.strip_prefix("Report (CSV): ")).unwrap();
    let csv = std::fs::read_to_string(csv_path).unwrap();
    assert_eq!(csv.lines().count(), 5, "a header and one row per difference:\n{csv}");
    assert!(csv.starts_with("path,reason,"));

    // Without --compute-hash, local files have no MD5 to compare: same-size changes are unverifiable.
    let (code, out, _) = verify(&[]);
    assert_eq!(code, 3);
    assert!(
        out.contains("Hash Mismatches: 0\n") && out.contains("Unverifiable: 5\n"),
        "the four unchanged pairs and the same-size change: {out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn remove_deletes_what_it_is_told_and_nothing_else() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("remove").await;
    for name in ["logs/a.tmp", "logs/b.txt", "logs/sub/c.tmp", "logsbook.tmp", "keep.txt"] {
        store.write(name, bytes::Bytes::from_static(b"x").into(), &WriteOptions::default()).await.unwrap();
    }
    let url = azurite.container_url(store.container());
    let work = tempfile::tempdir().unwrap();
    let remove = |args: &[&str]| {
        let mut cmd = ferry_with_key();
        cmd.env("FERRY_JOB_PLAN_LOCATION", work.path().join("plans")).arg("remove").args(args);
        run(&mut cmd)
    };
    let (code, _, err) = remove(&[&format!("{url}/logs")]);
    assert_eq!(code, 2, "a prefix needs --recursive: {err}");

    let (code, out, _) = remove(&[&format!("{url}/logs"), "--recursive", "--include-pattern", "*.tmp", "--dry-run"]);
    assert_eq!(code, 0);
    assert_eq!(out, format!("DRYRUN: remove {url}/logs/a.tmp\nDRYRUN: remove {url}/logs/sub/c.tmp\n"));
    assert_eq!(blob_keys(&store).await.len(), 5, "a dry run removes nothing");

    let (code, out, err) = remove(&[&format!("{url}/logs"), "--recursive", "--include-pattern", "*.tmp"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary_value(&out, "Number of File Transfers Completed"), 2);
    assert_eq!(blob_keys(&store).await, ["keep.txt", "logs/b.txt", "logsbook.tmp"]);

    let (code, _, _) = remove(&[&format!("{url}/keep.txt")]);
    assert_eq!(code, 0);
    assert_eq!(blob_keys(&store).await, ["logs/b.txt", "logsbook.tmp"]);

    let (code, _, err) = remove(&[&format!("{url}/nothing"), "--recursive"]);
    assert_eq!(code, 1);
    assert!(err.contains("nothing found to remove"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn copy_and_sync_verify_what_they_covered() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("verify-after").await;
    store
        .write("unrelated.txt", bytes::Bytes::from_static(b"was here before").into(), &WriteOptions::default())
        .await
        .unwrap();
    let url = azurite.container_url(store.container());
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    write_tree(&src, 6);
    let logs = work.path().join("logs");

    let (code, out, err) = run(ferry_with_key().env("FERRY_LOG_LOCATION", &logs).args([
        "copy",
        &format!("{}/*", src.display()),
        &url,
        "--recursive",
        "--verify",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Objects Matched: 6\n") && out.contains("Extra at Destination: 0\n"), "{out}");

    let single = src.join("f00.txt");
    let (code, out, err) = run(ferry_with_key().env("FERRY_LOG_LOCATION", &logs).args([
        "copy",
        single.to_str().unwrap(),
        &format!("{url}/renamed.txt"),
        "--verify",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Objects Matched: 1\n"), "{out}");

    let (code, out, err) =
        run(ferry_with_key().env("FERRY_LOG_LOCATION", &logs).args(["sync", src.to_str().unwrap(), &url, "--verify"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Objects Matched: 6\n") && out.contains("Final Status: Identical"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn compare_hash_md5_sees_a_change_that_keeps_size_and_time() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("sync-md5").await;
    let url = azurite.container_url(store.container());
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    write_tree(&src, 4);
    let plans = work.path().join("plans");
    let sync_in = |extra: &[&str]| {
        let mut cmd = ferry_with_key();
        cmd.env("FERRY_JOB_PLAN_LOCATION", &plans).args(["sync", src.to_str().unwrap(), url.as_str()]).args(extra);
        run(&mut cmd)
    };
    assert_eq!(sync_in(&[]).0, 0);

    // Other bytes, same size, same modification time: invisible to time and size.
    let file = src.join("f00.txt");
    let mtime = std::fs::metadata(&file).unwrap().modified().unwrap();
    std::fs::write(&file, b"CONTENT 0").unwrap();
    std::fs::File::options().write(true).open(&file).unwrap().set_modified(mtime).unwrap();
    let (_, out, _) = sync_in(&[]);
    assert_eq!(summary_value(&out, "Number of Copy Transfers Completed"), 0, "time and size cannot see it");

    let (_, dry, _) = sync_in(&["--compare-hash", "MD5", "--dry-run"]);
    assert_eq!(dry.lines().count(), 1, "{dry}");
    assert!(dry.ends_with("/f00.txt (hashes differ)\n"), "{dry}");
    let (code, out, err) = sync_in(&["--compare-hash", "MD5"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary_value(&out, "Number of Copy Transfers Completed"), 1);
    let (_, out, _) = sync_in(&["--compare-hash", "MD5"]);
    assert_eq!(summary_value(&out, "Number of Copy Transfers Completed"), 0, "now identical");

    let script =
        "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from md5').fetchone()[0])";
    let cached = std::process::Command::new(ferry_testkit::tools::python())
        .args(["-c", script, plans.join("local-md5.db").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(cached.stdout).unwrap().trim(), "4", "one cached MD5 per local file");
}

#[tokio::test(flavor = "multi_thread")]
async fn blob_to_blob_sync_copies_server_side_and_deletes_extras() {
    let azurite = Azurite::shared();
    let source = azurite.new_container("b2b-sync-src").await;
    let dest = azurite.new_container("b2b-sync-dst").await;
    for (name, body) in [("a.txt", "alpha"), ("dir/b.txt", "bravo"), ("dir/c.txt", "charlie")] {
        source.write(name, bytes::Bytes::from(body).into(), &WriteOptions::default()).await.unwrap();
    }
    dest.write("dir/b.txt", bytes::Bytes::from_static(b"old").into(), &WriteOptions::default()).await.unwrap();
    dest.write("stale.txt", bytes::Bytes::from_static(b"stale").into(), &WriteOptions::default()).await.unwrap();
    let (src_url, dst_url) = (azurite.container_url(source.container()), azurite.container_url(dest.container()));
    let (_, dry, _) =
        run(ferry_with_key().args(["sync", &src_url, &dst_url, "--delete-destination", "true", "--dry-run"]));
    assert!(dry.contains("/dir/b.txt (sizes differ)") && dry.contains("/a.txt (missing at destination)"), "{dry}");
    assert!(dry.contains(&format!("DRYRUN: remove {dst_url}/stale.txt (extra at destination)")), "{dry}");

    let (code, out, err) =
        run(ferry_with_key().args(["sync", &src_url, &dst_url, "--delete-destination", "true", "--verify"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary_value(&out, "Number of Copy Transfers Completed"), 3);
    assert_eq!(summary_value(&out, "Number of Deletions at Destination"), 1);
    assert!(out.contains("Final Status: Identical"), "{out}");
    assert_eq!(blob_keys(&dest).await, ["a.txt", "dir/b.txt", "dir/c.txt"]);
    let body: Vec<bytes::Bytes> = dest.read("dir/b.txt", None).await.unwrap().try_collect().await.unwrap();
    assert_eq!(body.concat(), b"bravo");
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_deletions_are_journaled_and_resume_finishes_them() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("sync-resume-delete").await;
    let container = store.container().to_owned();
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    write_tree(&src, 4);
    for extra in ["old/x.bin", "old/y.bin"] {
        store.write(extra, bytes::Bytes::from_static(b"stale").into(), &WriteOptions::default()).await.unwrap();
    }
    let plans = work.path().join("plans");
    // A SAS that may write but not delete: the copies succeed and both deletions are refused.
    let no_delete = azurite.container_url_with_sas(&container, "rcwl");
    let mut cmd = ferry();
    cmd.env("FERRY_JOB_PLAN_LOCATION", &plans);
    let (code, out, err) = run(cmd.args(["sync", src.to_str().unwrap(), &no_delete, "--delete-destination=true"]));
    assert_eq!(code, 1, "{out}\n{err}");
    assert_eq!(summary_value(&out, "Number of Copy Transfers Completed"), 4);
    assert_eq!(summary_value(&out, "Number of Deletions at Destination"), 0, "a failed delete is not a deletion");
    assert!(err.matches("DELETEFAILED").count() == 2, "{err}");
    assert!(!err.contains("sig="), "{err}");
    let id = job_id(&out);
    assert_eq!(blob_keys(&store).await.len(), 6, "nothing was deleted");

    let show = |status: Option<&str>| {
        let mut cmd = ferry();
        cmd.env("FERRY_JOB_PLAN_LOCATION", &plans).args(["jobs", "show", &id]);
        if let Some(status) = status {
            cmd.args(["--with-status", status]);
        }
        run(&mut cmd)
    };
    let (code, out, _) = show(None);
    assert_eq!(code, 0);
    assert_eq!(summary_value(&out, "Number of Deletions Failed"), 2, "{out}");
    assert!(out.contains("Final Job Status: CompletedWithErrors"), "{out}");
    let (_, out, _) = show(Some("Failed"));
    assert_eq!(out.lines().filter(|l| l.starts_with("Failed: delete old/")).count(), 2, "{out}");

    // Resumed with a SAS that may delete: the deletions are made, the copies are not redone.
    let full = azurite.container_sas(&container, "rcwdl");
    let mut cmd = ferry();
    cmd.env("FERRY_JOB_PLAN_LOCATION", &plans);
    let (code, out, err) = run(cmd.args(["jobs", "resume", &id, "--destination-sas", full.expose()]));
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(summary_value(&out, "Number of Copy Transfers Completed"), 0, "{out}");
    assert_eq!(summary_value(&out, "Number of Deletions at Destination"), 2, "{out}");
    let mut keys = blob_keys(&store).await;
    keys.sort();
    assert_eq!(keys, ["f00.txt", "f02.txt", "sub/f01.txt", "sub/f03.txt"]);
    let (_, out, _) = show(None);
    assert_eq!(summary_value(&out, "Number of Deletions at Destination"), 2, "{out}");
    assert_eq!(summary_value(&out, "Number of Deletions Failed"), 0, "{out}");
    assert!(out.contains("Final Job Status: Completed\n") || out.ends_with("Final Job Status: Completed"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_destination_prompt_deletes_only_what_the_user_confirms() {
    use std::io::Write as _;
    let azurite = Azurite::shared();
    let store = azurite.new_container("sync-prompt").await;
    let url = azurite.container_url(store.container());
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    write_tree(&src, 2);
    for extra in ["e1.txt", "e2.txt", "e3.txt", "e4.txt"] {
        store.write(extra, bytes::Bytes::from_static(b"extra").into(), &WriteOptions::default()).await.unwrap();
    }
    // No to e1, yes to e2, then "no to all" for the rest.
    let mut child = ferry_with_key()
        .args(["sync", src.to_str().unwrap(), &url, "--delete-destination", "prompt"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"n\ny\nl\n").unwrap();
    let output = child.wait_with_output().unwrap();
    let (out, err) = (String::from_utf8(output.stdout).unwrap(), String::from_utf8(output.stderr).unwrap());
    assert_eq!(output.status.code(), Some(0), "{out}\n{err}");
    assert_eq!(err.matches("does not exist at the source. Do you wish to delete it").count(), 3, "{err}");
    assert!(err.contains("The file 'e1.txt' does not exist at the source"), "{err}");
    assert_eq!(summary_value(&out, "Number of Deletions at Destination"), 1);
    let mut keys = blob_keys(&store).await;
    keys.sort();
    assert_eq!(keys, ["e1.txt", "e3.txt", "e4.txt", "f00.txt", "sub/f01.txt"]);

    // The end of input answers no to everything: an unattended run deletes nothing.
    let (code, out, err) = run(ferry_with_key()
        .args(["sync", src.to_str().unwrap(), &url, "--delete-destination", "prompt"])
        .stdin(std::process::Stdio::null()));
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary_value(&out, "Number of Deletions at Destination"), 0);
    assert_eq!(blob_keys(&store).await.len(), 5);

    let (code, _, err) = run(ferry_with_key().args([
        "sync",
        src.to_str().unwrap(),
        &url,
        "--delete-destination",
        "prompt",
        "--output-level",
        "quiet",
    ]));
    assert_eq!(code, 2, "{err}");
}
