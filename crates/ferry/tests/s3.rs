//! Amazon S3 as a source (issue #15), against real S3 servers: moto (every key byte for byte)
//! and SeaweedFS (checks each SigV4 signature), written and checked by boto3; Blob
//! destinations are Azurite, checked by the Azure SDK.

mod common;

use std::process::Command;

use common::{ferry_with_key, run};
use ferry_testkit::Azurite;
use ferry_testkit::s3::{ACCESS_KEY, S3Server, SECRET_KEY};

/// `ferry` with the test key pair for S3 (and the Azurite key for Blob).
fn ferry_s3() -> Command {
    let mut cmd = ferry_with_key();
    cmd.env("AWS_ACCESS_KEY_ID", ACCESS_KEY).env("AWS_SECRET_ACCESS_KEY", SECRET_KEY);
    cmd
}

/// Keys a user may really have, with their bytes (folder markers and `a//b` have their own tests).
fn objects() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("top.txt", b"top".to_vec()),
        ("dir/sp ace+plus.txt", b"odd name".to_vec()),
        ("dir/unicode/été.txt", "unicode".as_bytes().to_vec()),
        ("dir/big.bin", ferry_testkit::data::pattern(5 * 1024 * 1024 + 17, 3)),
        ("dir/empty", Vec::new()),
    ]
}

fn seed(server: &S3Server, bucket: &str) {
    let objects = objects();
    let refs: Vec<(&str, &[u8])> = objects.iter().map(|(k, v)| (*k, v.as_slice())).collect();
    server.bucket_with(bucket, &refs);
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_to_local_and_to_blob_arrive_intact() {
    for server in [S3Server::moto(), S3Server::seaweed()] {
        let bucket = S3Server::unique_bucket("src");
        seed(server, &bucket);
        server.python(&bucket, "s3.put_object(Bucket=bucket, Key='dir/marker/', Body=b'')");

        // S3 → local: the bucket's contents, folder markers passed over; the big object's
        // 2 MiB ranges received straight into the file.
        let local = tempfile::tempdir().unwrap();
        let (code, out, err) = run(ferry_s3().env("FERRY_LOG", "ferry::http=debug").args([
            "copy",
            &server.url(&bucket, "*"),
            local.path().to_str().unwrap(),
            "--from-to=S3Local",
            "--recursive",
            "--block-size-mb=2",
        ]));
        assert_eq!(code, 0, "{:?}: {out}{err}", server.flavor());
        let direct = err.matches("the body went straight to the file").count();
        assert!(direct == 3 && !err.contains("not received directly"), "{:?}: {err}", server.flavor());
        for (key, data) in objects() {
            assert_eq!(std::fs::read(local.path().join(key)).unwrap(), data, "{:?} {key}", server.flavor());
        }
        assert!(!local.path().join("dir/marker").exists(), "a folder marker is not a file");

        // S3 → Blob, streamed through Ferry (Azurite cannot fetch from S3 itself).
        let azurite = Azurite::shared();
        let container = azurite.new_container("from-s3").await.container().to_owned();
        let (code, out, err) = run(ferry_s3().args([
            "copy",
            &server.url(&bucket, "dir"),
            &azurite.container_url(&container),
            "--from-to=S3Blob",
            "--recursive",
            "--block-size-mb=1",
        ]));
        assert_eq!(code, 0, "{:?}: {out}{err}", server.flavor());
        let md5s = common::blob_md5s(azurite, &container);
        for (key, data) in objects().into_iter().filter(|(k, _)| k.starts_with("dir/")) {
            assert_eq!(md5s.get(key), Some(&common::md5_hex(&data)), "{:?} {key}: {md5s:?}", server.flavor());
        }
        assert_eq!(md5s.len(), 4, "{md5s:?}");
    }
}

/// `sync` and `verify` across clouds: S3 → local and S3 → Blob by size and time, an object
/// changed in S3 copied again, the rest left; `verify` compares MD5s (a single-part ETag is the
/// MD5, the local side hashed) and finds a tampered copy.
#[tokio::test(flavor = "multi_thread")]
async fn sync_and_verify_from_s3() {
    let server = S3Server::seaweed();
    let bucket = S3Server::unique_bucket("sync");
    seed(server, &bucket);
    let local = tempfile::tempdir().unwrap();
    let azurite = Azurite::shared();
    let container = azurite.new_container("sync-from-s3").await.container().to_owned();
    let targets =
        [(local.path().to_str().unwrap().to_owned(), "S3Local"), (azurite.container_url(&container), "S3Blob")];
    for (dest, from_to) in &targets {
        let (code, out, err) =
            run(ferry_s3().args(["sync", &server.url(&bucket, ""), dest, &format!("--from-to={from_to}")]));
        assert_eq!(code, 0, "{from_to}: {out}{err}");
        assert_eq!(common::summary_value(&out, "Number of Copy Transfers Completed"), 5, "{from_to}: {out}");
    }
    std::thread::sleep(std::time::Duration::from_millis(1100));
    server.python(&bucket, "s3.put_object(Bucket=bucket, Key='top.txt', Body=b'top, changed')\ns3.put_object(Bucket=bucket, Key='new.txt', Body=b'new')");
    for (dest, from_to) in &targets {
        let (code, out, err) =
            run(ferry_s3().args(["sync", &server.url(&bucket, ""), dest, &format!("--from-to={from_to}")]));
        assert_eq!(code, 0, "{from_to}: {out}{err}");
        assert_eq!(common::summary_value(&out, "Number of Copy Transfers Completed"), 2, "{from_to}: {out}");
        let (code, out, err) = run(ferry_s3().args([
            "verify",
            &server.url(&bucket, ""),
            dest,
            &format!("--from-to={from_to}"),
            "--compute-hash",
        ]));
        assert_eq!(code, 0, "{from_to}: {out}{err}");
        assert_eq!(common::summary_value(&out, "Objects Matched"), 6, "{from_to}: {out}");
    }
    assert_eq!(std::fs::read(local.path().join("top.txt")).unwrap(), b"top, changed");
    std::fs::write(local.path().join("dir/empty"), b"tampered").unwrap();
    std::fs::write(local.path().join("top.txt"), b"top, CHANGED").unwrap();
    let (code, out, err) = run(ferry_s3().args([
        "verify",
        &server.url(&bucket, ""),
        local.path().to_str().unwrap(),
        "--from-to=S3Local",
        "--compute-hash",
    ]));
    assert_eq!(code, 3, "{out}{err}");
    assert_eq!(common::summary_value(&out, "Size Mismatches"), 1, "{out}");
    assert_eq!(common::summary_value(&out, "Hash Mismatches"), 1, "same size, other bytes: {out}");
}

/// AzCopy's S3 → Blob rules: each object's content headers and metadata are kept (one HEAD
/// each), metadata keys Azure cannot hold are excluded, renamed or fail the object
/// (`--s2s-handle-invalid-metadata`), and keys Blob Storage cannot hold (`trailing.`,
/// `sub./x`) are skipped with AzCopy's warning and counted as skipped.
#[tokio::test(flavor = "multi_thread")]
async fn s3_properties_metadata_and_invalid_names() {
    let server = S3Server::moto();
    let bucket = S3Server::unique_bucket("props");
    server.python(
        &bucket,
        "s3.create_bucket(Bucket=bucket)\n\
         s3.put_object(Bucket=bucket, Key='doc.html', Body=b'<p>hi</p>', ContentType='text/x-custom', CacheControl='max-age=60', ContentLanguage='fr', Metadata={'fine_key': 'kept', '123-invalid': 'v'})\n\
         s3.put_object(Bucket=bucket, Key='trailing.', Body=b'x')\n\
         s3.put_object(Bucket=bucket, Key='sub./x', Body=b'y')\n",
    );
    let azurite = Azurite::shared();
    let props = |container: &str| {
        common::python_in(
            azurite,
            container,
            "p = c.get_blob_client('doc.html').get_blob_properties()\nprint(p.content_settings.content_type, p.content_settings.cache_control, p.content_settings.content_language, sorted(p.metadata.items()))",
        )
        .trim()
        .to_owned()
    };
    let copy = |container: &str, extra: &[&str]| {
        let mut cmd = ferry_s3();
        let url = server.url(&bucket, "*");
        cmd.args(["copy", &url, &azurite.container_url(container), "--from-to=S3Blob", "--recursive"]).args(extra);
        run(&mut cmd)
    };

    let plain = azurite.new_container("props-default").await.container().to_owned();
    let (code, out, err) = copy(&plain, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(props(&plain), "text/x-custom max-age=60 fr [('fine_key', 'kept')]");
    assert_eq!(common::summary_value(&out, "Number of File Transfers Skipped"), 2, "{out}");
    for key in ["trailing.", "sub./x"] {
        assert!(
            err.contains(&format!(
                "Skipping S3 object {key}, as it is not a valid Blob name. Rename the object and retry the transfer"
            )),
            "{err}"
        );
    }
    assert_eq!(common::blob_md5s(azurite, &plain).len(), 1);

    let renamed = azurite.new_container("props-rename").await.container().to_owned();
    let (code, out, err) = copy(&renamed, &["--s2s-handle-invalid-metadata=RenameIfInvalid"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        props(&renamed).ends_with(
            "[('fine_key', 'kept'), ('rename_123_invalid', 'v'), ('rename_key_123_invalid', '123-invalid')]"
        ),
        "{}",
        props(&renamed)
    );

    let failed = azurite.new_container("props-fail").await.container().to_owned();
    let (code, out, err) = copy(&failed, &["--s2s-handle-invalid-metadata=FailIfInvalid"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("metadata with keys '123-invalid' in source is invalid"), "{err}");
    assert!(common::blob_md5s(azurite, &failed).is_empty());
}

/// S3 → Blob server-side, as AzCopy does it: Ferry presigns each object and the destination
/// fetches it (Copy Blob From URL for a small object, Put Block From URL per block for a large
/// one), so the bytes never pass through Ferry. Azurite cannot fetch from another host, so the
/// test kit's from-URL proxy does the fetch Azure would do — from SeaweedFS, which checks each
/// presigned signature. Without that proxy the destination cannot reach the source: `always`
/// fails the items saying so, and `auto` streams from a source on this machine.
#[tokio::test(flavor = "multi_thread")]
async fn s3_to_blob_server_side_by_presigned_urls() {
    use ferry_testkit::fault_proxy::FaultProxy;
    let server = S3Server::seaweed();
    let bucket = S3Server::unique_bucket("presign");
    seed(server, &bucket);
    let azurite = Azurite::shared();
    let container = azurite.new_container("server-side").await.container().to_owned();
    let proxy = FaultProxy::from_url(azurite.port()).await.unwrap();
    let sas = azurite.container_sas(&container, "racwdl");
    let dest = format!("http://127.0.0.1:{}/devstoreaccount1/{container}?{}", proxy.port(), sas.expose());
    let (code, out, err) = run(ferry_s3().args([
        "copy",
        &server.url(&bucket, "*"),
        &dest,
        "--from-to=S3Blob",
        "--recursive",
        "--block-size-mb=1",
        "--server-side-copy=always",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    let md5s = common::blob_md5s(azurite, &container);
    for (key, data) in objects() {
        if !data.is_empty() {
            assert_eq!(md5s.get(key), Some(&common::md5_hex(&data)), "{key}: {md5s:?}");
        }
    }
    let heads = proxy.heads();
    let by_url = |needle: &str| heads.iter().filter(|h| h.contains(needle) && h.contains("x-ms-copy-source: ")).count();
    assert_eq!(by_url("big.bin?comp=block"), 6, "5 MiB + 17 bytes in 1 MiB blocks, each read by URL");
    assert_eq!(by_url("top.txt"), 1, "a small object in one Copy Blob From URL");
    assert!(
        heads.iter().all(|h| !h.contains("comp=block&") || h.contains("x-ms-copy-source")),
        "no block's bytes went through Ferry"
    );
    let presigned = heads.iter().find(|h| h.contains("x-ms-copy-source: ")).unwrap();
    assert!(presigned.contains("X-Amz-Signature="), "{presigned}");

    // Straight to Azurite, which cannot fetch from another host.
    let direct = azurite.new_container("server-side-no").await.container().to_owned();
    let direct_url = azurite.container_url_with_sas(&direct, "racwdl");
    let copy = |mode: &str| {
        run(ferry_s3().args([
            "copy",
            &server.url(&bucket, "top.txt"),
            &direct_url,
            "--from-to=S3Blob",
            &format!("--server-side-copy={mode}"),
        ]))
    };
    let (code, _, err) = copy("always");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("CannotVerifyCopySource") && err.contains("could not reach the source"), "{err}");
    let (code, _, err) = copy("auto");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("on this machine or a private network"), "{err}");
    assert_eq!(common::blob_md5s(azurite, &direct)["top.txt"], common::md5_hex(b"top"));
}

/// Bad input from or about S3 gets a clear error naming what to fix, and nothing is done: a
/// wrong secret (SeaweedFS checks it), a missing bucket, half a key pair, a custom endpoint not
/// declared as S3. The secret never appears.
#[tokio::test(flavor = "multi_thread")]
async fn s3_bad_input_is_explained() {
    let server = S3Server::seaweed();
    let bucket = S3Server::unique_bucket("bad");
    seed(server, &bucket);
    let local = tempfile::tempdir().unwrap();
    let dest = local.path().to_str().unwrap().to_owned();
    let source = server.url(&bucket, "*");

    let (code, out, err) = run(ferry_with_key()
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", "WRONG-SECRET-123")
        .args(["copy", &source, &dest, "--from-to=S3Local"]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("SignatureDoesNotMatch") && err.contains("AWS_SECRET_ACCESS_KEY"), "{err}");
    assert!(!err.contains("--source-sas"), "no SAS advice for an S3 key: {err}");
    assert!(!format!("{out}{err}").contains("WRONG-SECRET-123"));

    let (code, _, err) =
        run(ferry_s3().args(["copy", &server.url("no-such-bucket-here", "*"), &dest, "--from-to=S3Local"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("NoSuchBucket") && err.contains("the bucket does not exist"), "{err}");

    let (code, _, err) =
        run(ferry_with_key().env("AWS_ACCESS_KEY_ID", ACCESS_KEY).args(["copy", &source, &dest, "--from-to=S3Local"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"), "{err}");

    let (code, _, err) = run(ferry_s3().args(["copy", &source, &dest]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--from-to"),
        "an undeclared custom endpoint is taken for Blob, and the message says how to say S3: {err}"
    );
    assert_eq!(std::fs::read_dir(local.path()).unwrap().count(), 0, "nothing was written");
}

/// An S3 job cut off part-way is finished by `jobs resume`, which does not copy again what was
/// done.
#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_s3_copy_resumes() {
    let server = S3Server::moto();
    let bucket = S3Server::unique_bucket("resume");
    seed(server, &bucket);
    let work = tempfile::tempdir().unwrap();
    let (dest, plans) = (work.path().join("dest"), work.path().join("plans"));
    let ferry = || {
        let mut cmd = ferry_s3();
        cmd.env("FERRY_JOB_PLAN_LOCATION", &plans);
        cmd
    };
    let (code, out, err) = run(ferry().args([
        "copy",
        &server.url(&bucket, "*"),
        dest.to_str().unwrap(),
        "--from-to=S3Local",
        "--recursive",
        "--debug-skip-files=dir/unicode/été.txt",
    ]));
    assert_eq!(code, 1, "{out}{err}");
    let id = common::job_id(&out);
    let (code, out, err) = run(ferry().args(["jobs", "resume", &id]));
    assert_eq!(code, 0, "{out}{err}");
    for (key, data) in objects() {
        assert_eq!(std::fs::read(dest.join(key)).unwrap(), data, "{key}");
    }
}

/// A service URL (no bucket) copies every bucket, as AzCopy does: into folders of the buckets'
/// names locally, and into an account's containers named by AzCopy's rules (`my.bucket` →
/// `my-bucket`, `a--b` → `a-2-b`, a collision → `-2`), less the buckets `--exclude-container`
/// names. A moto of its own, so no other test's buckets are in it.
#[tokio::test(flavor = "multi_thread")]
async fn a_service_url_copies_every_bucket() {
    let server = S3Server::start(ferry_testkit::s3::Flavor::Moto).unwrap();
    server.bucket_with("plain-bucket", &[("a.txt", b"a")]);
    server.bucket_with("dotted.bucket", &[("d/x.txt", b"dotted")]);
    server.bucket_with("dotted-bucket", &[("y.txt", b"dashed")]);
    server.bucket_with("two--dashes", &[("z.txt", b"zz")]);
    let service = format!("{}/", server.endpoint());

    let local = tempfile::tempdir().unwrap();
    let (code, out, err) =
        run(ferry_s3().args(["copy", &service, local.path().to_str().unwrap(), "--from-to=S3Local", "--recursive"]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(std::fs::read(local.path().join("dotted.bucket/d/x.txt")).unwrap(), b"dotted");
    assert_eq!(std::fs::read(local.path().join("two--dashes/z.txt")).unwrap(), b"zz");

    server.bucket_with("left-out", &[("no.txt", b"no")]);
    let account = Azurite::start().unwrap();
    let (code, out, err) = run(ferry_s3().args([
        "copy",
        &service,
        &account.account_url(),
        "--from-to=S3Blob",
        "--recursive",
        "--exclude-container=left-out",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("the S3 bucket `dotted.bucket` is not a valid container name: its objects go to the container `dotted-bucket-2`"), "{err}");
    let listed = common::python_in(
        &account,
        "plain-bucket",
        "from azure.storage.blob import BlobServiceClient\n\
         s = BlobServiceClient(account_url=sys.argv[1].rsplit('/', 1)[0], credential={'account_name': 'devstoreaccount1', 'account_key': sys.argv[2]})\n\
         for cont in s.list_containers():\n\
         \x20   for b in s.get_container_client(cont.name).list_blobs():\n\
         \x20       print(f'{cont.name}/{b.name}')",
    );
    let mut lines: Vec<&str> = listed.lines().collect();
    lines.sort();
    assert_eq!(lines, ["dotted-bucket-2/d/x.txt", "dotted-bucket/y.txt", "plain-bucket/a.txt", "two-2-dashes/z.txt"]);
}

/// A multipart object (its ETag `…-3` is no MD5) arrives intact both ways, and a sync to Blob
/// keeps content headers as a copy does.
#[tokio::test(flavor = "multi_thread")]
async fn a_multipart_object_and_a_synced_content_type() {
    let server = S3Server::seaweed();
    let bucket = S3Server::unique_bucket("multipart");
    let big = ferry_testkit::data::pattern(12 * 1024 * 1024 + 5, 9);
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("big.bin");
    std::fs::write(&file, &big).unwrap();
    let etag = server.python(
        &bucket,
        &format!(
            "from boto3.s3.transfer import TransferConfig\n\
             s3.create_bucket(Bucket=bucket)\n\
             s3.upload_file({:?}, bucket, 'big.bin', Config=TransferConfig(multipart_threshold=5*1024*1024, multipart_chunksize=5*1024*1024))\n\
             s3.put_object(Bucket=bucket, Key='page.html', Body=b'<p/>', ContentType='text/x-sync')\n\
             print(s3.head_object(Bucket=bucket, Key='big.bin')['ETag'])",
            file.display().to_string()
        ),
    );
    assert!(etag.trim().ends_with("-3\""), "a three-part upload: {etag}");
    let local = work.path().join("down");
    let (code, out, err) =
        run(ferry_s3().args(["copy", &server.url(&bucket, "big.bin"), local.to_str().unwrap(), "--from-to=S3Local"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(std::fs::read(&local).unwrap() == big);

    let azurite = Azurite::shared();
    let container = azurite.new_container("multipart").await.container().to_owned();
    let (code, out, err) = run(ferry_s3().args([
        "sync",
        &server.url(&bucket, ""),
        &azurite.container_url(&container),
        "--from-to=S3Blob",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(common::blob_md5s(azurite, &container)["big.bin"], common::md5_hex(&big));
    let content_type = common::python_in(
        azurite,
        &container,
        "print(c.get_blob_client('page.html').get_blob_properties().content_settings.content_type)",
    );
    assert_eq!(content_type.trim(), "text/x-sync");
}

/// A presigned URL that expires before the destination service reads it (SeaweedFS refuses it:
/// the service reports the source's 403) is signed again, once, and the copy goes through; the
/// proxy's first fetch waits past the URL's life (`FERRY_PRESIGN_SECONDS=2`, a test hook; a URL signed
/// within a second lives 1 to 2 s, and the second read follows its signing at once).
#[tokio::test(flavor = "multi_thread")]
async fn an_expired_presign_is_signed_again() {
    use ferry_testkit::fault_proxy::FaultProxy;
    let server = S3Server::seaweed();
    let bucket = S3Server::unique_bucket("expire");
    server.bucket_with(&bucket, &[("late.txt", b"arrives anyway")]);
    let azurite = Azurite::shared();
    let container = azurite.new_container("expire").await.container().to_owned();
    let proxy = FaultProxy::from_url(azurite.port()).await.unwrap();
    proxy.delay_first_fetches(1, std::time::Duration::from_secs(4));
    let sas = azurite.container_sas(&container, "racwdl");
    let dest = format!("http://127.0.0.1:{}/devstoreaccount1/{container}?{}", proxy.port(), sas.expose());
    let (code, out, err) = run(ferry_s3().env("FERRY_PRESIGN_SECONDS", "2").args([
        "copy",
        &server.url(&bucket, "late.txt"),
        &dest,
        "--from-to=S3Blob",
        "--server-side-copy=always",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(common::blob_md5s(azurite, &container)["late.txt"], common::md5_hex(b"arrives anyway"));
    let copies: Vec<String> =
        proxy.heads().into_iter().filter(|h| h.contains("late.txt") && h.contains("x-ms-copy-source: ")).collect();
    assert_eq!(copies.len(), 2, "the refused read and the one with a fresh signature: {copies:#?}");
    let signature = |h: &str| h.split("X-Amz-Signature=").nth(1).map(|s| s[..64.min(s.len())].to_owned());
    assert_ne!(signature(&copies[0]), signature(&copies[1]), "signed again");
}

/// A download whose body breaks off after the headers (reset, or closed short of its length)
/// asks for the rest, on the same version (`If-Match`), and arrives whole: before, one lost
/// connection failed the object (only Blob reads resumed).
#[tokio::test(flavor = "multi_thread")]
async fn a_body_cut_short_is_resumed_from_where_it_stopped() {
    use ferry_testkit::fault_proxy::{Fault, FaultPlan, FaultProxy, Rule, Selector, When};
    for server in [S3Server::moto(), S3Server::seaweed()] {
        let bucket = S3Server::unique_bucket("cut");
        seed(server, &bucket);
        for fault in [Fault::ResetMidBody, Fault::TruncateBody] {
            let rule = Rule::new(fault, Selector::Path("big.bin".into()), When::FirstN(2));
            let proxy = FaultProxy::with_plan(server.port(), FaultPlan { rules: vec![rule], seed: 1 }).await.unwrap();
            let local = tempfile::tempdir().unwrap();
            let (code, out, err) = run(ferry_s3().env("FERRY_MAX_RETRIES", "3").args([
                "copy",
                &format!("http://127.0.0.1:{}/{bucket}/dir", proxy.port()),
                local.path().to_str().unwrap(),
                "--from-to=S3Local",
                "--recursive",
            ]));
            let case = format!("{:?} {fault:?}", server.flavor());
            assert_eq!(code, 0, "{case}: {out}{err}");
            assert_eq!(proxy.injected(), [2], "{case}");
            let big = objects().into_iter().find(|(k, _)| *k == "dir/big.bin").unwrap().1;
            assert_eq!(std::fs::read(local.path().join("dir/big.bin")).unwrap(), big, "{case}");
            let resumed = proxy.heads().iter().filter(|h| h.contains("big.bin") && h.contains("if-match")).count();
            assert_eq!(resumed, 2, "{case}: the rest asked for twice, on the first answer's version");
        }
    }
}
