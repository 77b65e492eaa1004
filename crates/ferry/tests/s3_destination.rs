//! Amazon S3 as a destination (issue #15): local → S3 and Blob → S3 with PutObject or a multipart
//! upload (a Content-MD5 per part, the completed object's ETag checked against its parts), the
//! upload session recorded in the job's journal so a job killed inside a large object resumes
//! inside it. Against moto and SeaweedFS (which checks every signature); boto3 reads back.

mod common;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{ferry_with_key, md5_hex, run, summary_value};
use ferry_testkit::Azurite;
use ferry_testkit::data::pattern;
use ferry_testkit::s3::{ACCESS_KEY, S3Server, SECRET_KEY};

fn ferry_s3() -> Command {
    let mut cmd = ferry_with_key();
    cmd.env("AWS_ACCESS_KEY_ID", ACCESS_KEY).env("AWS_SECRET_ACCESS_KEY", SECRET_KEY);
    cmd
}

/// key → MD5 of every object in `bucket`, read back by boto3 (bodies hashed, not ETags).
fn s3_md5s(server: &S3Server, bucket: &str) -> BTreeMap<String, String> {
    let out = server.python(
        bucket,
        "import hashlib\n\
         for page in s3.get_paginator('list_objects_v2').paginate(Bucket=bucket):\n\
         \x20   for o in page.get('Contents', []):\n\
         \x20       body = s3.get_object(Bucket=bucket, Key=o['Key'])['Body'].read()\n\
         \x20       print(o['Key'] + '\\t' + hashlib.md5(body).hexdigest())",
    );
    out.lines().filter_map(|l| l.split_once('\t')).map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}

/// A local tree: small files, an empty one, odd names, and one of three parts at 5 MiB.
fn local_tree(root: &std::path::Path) -> BTreeMap<String, String> {
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("small.txt", b"small".to_vec()),
        ("dir/sp ace+plus é.txt", b"odd".to_vec()),
        ("dir/empty", Vec::new()),
        ("dir/big.bin", pattern(10 * 1024 * 1024 + 17, 7)),
    ];
    let mut expected = BTreeMap::new();
    for (name, data) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &data).unwrap();
        expected.insert(name.to_owned(), md5_hex(&data));
    }
    expected
}

#[tokio::test(flavor = "multi_thread")]
async fn local_and_blob_to_s3_arrive_intact() {
    for server in [S3Server::moto(), S3Server::seaweed()] {
        let bucket = S3Server::unique_bucket("dest");
        let work = tempfile::tempdir().unwrap();
        let src = work.path().join("src");
        let expected = local_tree(&src);

        // local → S3: the bucket is made, a large file goes in parts (5 MiB is S3's least).
        let (code, out, err) = run(ferry_s3().args([
            "copy",
            &format!("{}/*", src.display()),
            &server.url(&bucket, ""),
            "--from-to=LocalS3",
            "--recursive",
            "--block-size-mb=1",
            "--put-blob-size-mb=1",
        ]));
        assert_eq!(code, 0, "{:?}: {out}{err}", server.flavor());
        assert_eq!(s3_md5s(server, &bucket), expected, "{:?}", server.flavor());
        let head = server.python(
            &bucket,
            "h = s3.head_object(Bucket=bucket, Key='dir/big.bin')\nprint(h['ETag'], h['ContentType'])",
        );
        assert!(head.trim().ends_with("-3\" application/octet-stream"), "three parts of 5 MiB: {head}");
        let small = server.python(&bucket, "print(s3.head_object(Bucket=bucket, Key='small.txt')['ContentType'])");
        assert_eq!(small.trim(), "text/plain", "a content type guessed from the name, as for Blob");

        // Blob → S3, streamed through Ferry, properties kept.
        let azurite = Azurite::shared();
        let container = azurite.new_container("to-s3").await.container().to_owned();
        let (code, out, err) = run(ferry_with_key().args([
            "copy",
            &format!("{}/*", src.display()),
            &azurite.container_url(&container),
            "--recursive",
            "--metadata=origin=blob",
        ]));
        assert_eq!(code, 0, "{out}{err}");
        let from_blob = S3Server::unique_bucket("fromblob");
        let (code, out, err) = run(ferry_s3().args([
            "copy",
            &azurite.container_url(&container),
            &server.url(&from_blob, "copied/"),
            "--from-to=BlobS3",
            "--recursive",
        ]));
        assert_eq!(code, 0, "{:?}: {out}{err}", server.flavor());
        let arrived: BTreeMap<String, String> = s3_md5s(server, &from_blob)
            .into_iter()
            .map(|(k, v)| (k.strip_prefix(&format!("copied/{container}/")).unwrap_or(&k).to_owned(), v))
            .collect();
        assert_eq!(arrived, expected, "{:?}", server.flavor());
        let meta = server.python(
            &from_blob,
            &format!("print(s3.head_object(Bucket=bucket, Key='copied/{container}/small.txt')['Metadata'])"),
        );
        assert_eq!(meta.trim(), "{'origin': 'blob'}", "metadata travels");

        // A sync to S3 copies what changed and, asked to, deletes what the source lacks.
        std::fs::write(src.join("small.txt"), b"small, changed").unwrap();
        std::fs::remove_file(src.join("dir/empty")).unwrap();
        let (code, out, err) = run(ferry_s3().args([
            "sync",
            src.to_str().unwrap(),
            &server.url(&bucket, ""),
            "--from-to=LocalS3",
            "--delete-destination=true",
        ]));
        assert_eq!(code, 0, "{:?}: {out}{err}", server.flavor());
        assert_eq!(summary_value(&out, "Number of Copy Transfers Completed"), 1, "{out}");
        let now = s3_md5s(server, &bucket);
        assert_eq!(now.get("small.txt"), Some(&md5_hex(b"small, changed")));
        assert!(!now.contains_key("dir/empty"), "{now:?}");
        let (code, out, err) = run(ferry_s3().args([
            "verify",
            src.to_str().unwrap(),
            &server.url(&bucket, ""),
            "--from-to=LocalS3",
            "--compute-hash",
        ]));
        assert_eq!(code, 0, "{out}{err}");
    }
}

fn staged_bytes(server: &S3Server, bucket: &str, key: &str) -> u64 {
    let out = server.python(
        bucket,
        &format!(
            "total = 0\n\
             for u in s3.list_multipart_uploads(Bucket=bucket).get('Uploads', []):\n\
             \x20   if u['Key'] == {key:?}:\n\
             \x20       total += sum(p['Size'] for p in s3.list_parts(Bucket=bucket, Key=u['Key'], UploadId=u['UploadId']).get('Parts', []))\n\
             print(total)"
        ),
    );
    out.trim().parse().unwrap_or(0)
}

/// A job killed (`kill -9`) inside a large object's multipart upload is resumed inside it: the
/// journal has the upload's id, S3 lists the parts it holds, only the others are sent, and the
/// one upload is completed — none is left behind.
#[tokio::test(flavor = "multi_thread")]
async fn a_killed_multipart_upload_resumes_inside_the_object() {
    let server = S3Server::moto();
    let bucket = S3Server::unique_bucket("killed");
    server.python(&bucket, "s3.create_bucket(Bucket=bucket)");
    let work = tempfile::tempdir().unwrap();
    let big = pattern(40 * 1024 * 1024, 11);
    std::fs::write(work.path().join("big.bin"), &big).unwrap();
    let ferry = || {
        let mut cmd = ferry_s3();
        cmd.env("FERRY_JOB_PLAN_LOCATION", work.path().join("plans"))
            .env("FERRY_LOG_LOCATION", work.path().join("logs"));
        cmd
    };
    let child = ferry()
        .args([
            "copy",
            work.path().join("big.bin").to_str().unwrap(),
            &server.url(&bucket, "big.bin"),
            "--from-to=LocalS3",
            "--cap-mbps=40",
            "--block-size-mb=5",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while staged_bytes(server, &bucket, "big.bin") < 15 * 1024 * 1024 {
        assert!(std::time::Instant::now() < deadline, "the upload did not progress");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(Command::new("kill").args(["-KILL", &child.id().to_string()]).status().unwrap().success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
    assert_eq!(output.status.code(), None, "killed by a signal");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let id = common::job_id(&stdout);
    assert!(s3_md5s(server, &bucket).is_empty(), "no object yet: a multipart object appears only when completed");
    let staged = staged_bytes(server, &bucket, "big.bin");
    let journal = work.path().join("plans").join(format!("{id}.db"));
    let recorded = common::sqlite(&journal, "SELECT session FROM upload");
    let listed = server.python(&bucket, "print(s3.list_multipart_uploads(Bucket=bucket)['Uploads'][0]['UploadId'])");
    assert_eq!(recorded, listed.trim(), "the journal holds the upload's id");

    let (code, out, err) = run(ferry().args(["jobs", "resume", &id]));
    assert_eq!(code, 0, "{out}{err}");
    let resent = summary_value(&out, "Total Number of Bytes Transferred");
    let missing = big.len() as u64 - staged;
    // Reads are paced (--cap-mbps), so a part or two at most are on their way when it is killed.
    let in_flight = 2 * 5 * 1024 * 1024;
    assert!(staged > in_flight, "the test kills with more staged ({staged}) than could be in flight");
    assert!(resent <= missing + in_flight, "the resume sent {resent} bytes for {missing} missing ({staged} staged)");
    assert_eq!(s3_md5s(server, &bucket), BTreeMap::from([("big.bin".to_owned(), md5_hex(&big))]));
    let left = server.python(&bucket, "print(len(s3.list_multipart_uploads(Bucket=bucket).get('Uploads', [])))");
    assert_eq!(left.trim(), "0", "the recorded upload was the one completed");
}

/// S3 as a destination refuses what it cannot do, clearly: a wrong secret (SeaweedFS checks),
/// and nothing is half-written.
#[tokio::test(flavor = "multi_thread")]
async fn s3_destination_bad_input_is_explained() {
    let server = S3Server::seaweed();
    let bucket = S3Server::unique_bucket("baddest");
    server.python(&bucket, "s3.create_bucket(Bucket=bucket)");
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("f.txt"), b"data").unwrap();
    let (code, out, err) = run(ferry_with_key()
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", "WRONG-SECRET-456")
        .args([
            "copy",
            work.path().join("f.txt").to_str().unwrap(),
            &server.url(&bucket, "f.txt"),
            "--from-to=LocalS3",
        ]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("SignatureDoesNotMatch") && err.contains("AWS_SECRET_ACCESS_KEY"), "{err}");
    assert!(!format!("{out}{err}").contains("WRONG-SECRET-456"));
    assert!(s3_md5s(server, &bucket).is_empty());
}

/// S3 → S3 across two S3-compatible services (moto to SeaweedFS, `--from-to S3S3`): streamed
/// through Ferry, a large object in parts, every object read back and hashed by boto3.
#[tokio::test(flavor = "multi_thread")]
async fn s3_to_s3_across_services() {
    let (from, to) = (S3Server::moto(), S3Server::seaweed());
    let bucket = S3Server::unique_bucket("s3s3");
    let big = pattern(12 * 1024 * 1024 + 5, 9);
    from.bucket_with(&bucket, &[("a.txt", b"a"), ("dir/sp ace.txt", b"space"), ("dir/big.bin", &big)]);
    let target = S3Server::unique_bucket("s3s3-dest");
    let (code, out, err) =
        run(ferry_s3().args(["copy", &from.url(&bucket, "*"), &to.url(&target, ""), "--from-to=S3S3", "--recursive"]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(s3_md5s(to, &target), s3_md5s(from, &bucket), "every object, by the MD5 of its bytes");
    assert_eq!(s3_md5s(to, &target).get("dir/big.bin"), Some(&md5_hex(&big)));
}
