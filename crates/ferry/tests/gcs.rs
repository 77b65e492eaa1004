//! Google Cloud Storage as a source (issue #15), against fake-gcs-server (the JSON API), written
//! by Google's Python client; Blob destinations are Azurite, checked by the Azure SDK.

mod common;

use std::process::Command;

use common::{ferry_with_key, run};
use ferry_testkit::Azurite;
use ferry_testkit::gcs::GcsServer;

/// `ferry` pointed at `server` as Google's clients are (`STORAGE_EMULATOR_HOST`), with the
/// Azurite key for Blob.
fn ferry_gcs(server: &GcsServer) -> Command {
    let mut cmd = ferry_with_key();
    cmd.env("STORAGE_EMULATOR_HOST", server.host()).env_remove("GOOGLE_APPLICATION_CREDENTIALS");
    cmd
}

/// Names a user may really have, with their bytes.
fn objects() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("top.txt", b"top".to_vec()),
        ("dir/sp ace+plus.txt", b"odd name".to_vec()),
        ("dir/unicode/été.txt", "unicode".as_bytes().to_vec()),
        ("dir/big.bin", ferry_testkit::data::pattern(5 * 1024 * 1024 + 17, 5)),
        ("dir/empty", Vec::new()),
    ]
}

fn seed(server: &GcsServer, bucket: &str) {
    let objects = objects();
    let mut refs: Vec<(&str, &[u8])> = objects.iter().map(|(k, v)| (*k, v.as_slice())).collect();
    refs.push(("dir/marker/", b""));
    server.bucket_with(bucket, &refs, &[("fine_key", "kept"), ("123-invalid", "v")]);
}

/// The throwaway RSA key the test service account signs with.
const TEST_KEY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../ferry-gcs/tests/data/test_key.pem");
const EMAIL: &str = "ferry@ferry-test.iam.gserviceaccount.com";

/// A service account key file (a throwaway key), as `GOOGLE_APPLICATION_CREDENTIALS` names one.
fn key_file(dir: &std::path::Path) -> std::path::PathBuf {
    key_file_with(dir, TEST_KEY, "https://oauth2.googleapis.com/token")
}

fn key_file_with(dir: &std::path::Path, pem: &str, token_uri: &str) -> std::path::PathBuf {
    let json = serde_json::json!({
        "type": "service_account", "project_id": "ferry-test", "private_key_id": "k1",
        "private_key": std::fs::read_to_string(pem).unwrap(), "client_email": EMAIL, "token_uri": token_uri,
    });
    let path = dir.join(format!("key-{}.json", std::fs::read_dir(dir).unwrap().count()));
    std::fs::write(&path, json.to_string()).unwrap();
    path
}

fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn gcs_to_local_and_to_blob_arrive_intact_with_their_properties() {
    let server = GcsServer::shared();
    let bucket = GcsServer::unique_bucket("src");
    seed(server, &bucket);

    // GCS → local, in AzCopy's URL form: the bucket's contents, folder markers passed over.
    // The big object's 2 MiB ranges are received straight into the file.
    let local = tempfile::tempdir().unwrap();
    let (code, out, err) = run(ferry_gcs(server).env("FERRY_LOG", "ferry::http=debug").args([
        "copy",
        &format!("https://storage.cloud.google.com/{bucket}/*"),
        local.path().to_str().unwrap(),
        "--recursive",
        "--block-size-mb=2",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    let direct = err.matches("the body went straight to the file").count();
    assert!(direct == 3 && !err.contains("not received directly"), "{err}");
    for (key, data) in objects() {
        assert_eq!(std::fs::read(local.path().join(key)).unwrap(), data, "{key}");
    }
    assert!(!local.path().join("dir/marker").exists(), "a folder marker is not a file");

    // GCS → Blob (gs:// form), streamed through Ferry: the emulator is on this machine.
    let azurite = Azurite::shared();
    let container = azurite.new_container("from-gcs").await.container().to_owned();
    let (code, out, err) = run(ferry_gcs(server).args([
        "copy",
        &format!("gs://{bucket}/dir"),
        &azurite.container_url(&container),
        "--recursive",
        "--block-size-mb=1",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("on this machine or a private network"), "{err}");
    let md5s = common::blob_md5s(azurite, &container);
    for (key, data) in objects().into_iter().filter(|(k, _)| k.starts_with("dir/")) {
        assert_eq!(md5s.get(key), Some(&common::md5_hex(&data)), "{key}: {md5s:?}");
    }
    assert_eq!(md5s.len(), 4, "{md5s:?}");
    let props = common::python_in(
        azurite,
        &container,
        "p = c.get_blob_client('dir/sp ace+plus.txt').get_blob_properties()\nprint(p.content_settings.content_type, sorted(p.metadata.items()))",
    );
    assert_eq!(props.trim(), "text/plain [('fine_key', 'kept')]", "properties kept, the invalid metadata key left out");
}

/// GCS → Blob server-side, as AzCopy does it: Ferry signs a V4 URL for each object with the
/// service account's key and the destination fetches it. Azurite cannot fetch from another
/// host, so the test kit's from-URL proxy does the fetch Azure would do.
#[tokio::test(flavor = "multi_thread")]
async fn gcs_to_blob_server_side_by_signed_urls() {
    use ferry_testkit::fault_proxy::FaultProxy;
    let server = GcsServer::shared();
    let bucket = GcsServer::unique_bucket("signed");
    seed(server, &bucket);
    let keys = tempfile::tempdir().unwrap();
    let azurite = Azurite::shared();
    let container = azurite.new_container("gcs-server-side").await.container().to_owned();
    let proxy = FaultProxy::from_url(azurite.port()).await.unwrap();
    let sas = azurite.container_sas(&container, "racwdl");
    let dest = format!("http://127.0.0.1:{}/devstoreaccount1/{container}?{}", proxy.port(), sas.expose());
    let (code, out, err) = run(ferry_gcs(server).env("GOOGLE_APPLICATION_CREDENTIALS", key_file(keys.path())).args([
        "copy",
        &format!("gs://{bucket}/*"),
        &dest,
        "--recursive",
        "--block-size-mb=1",
        "--server-side-copy=always",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    let md5s = common::blob_md5s(azurite, &container);
    for (key, data) in objects().into_iter().filter(|(_, d)| !d.is_empty()) {
        assert_eq!(md5s.get(key), Some(&common::md5_hex(&data)), "{key}: {md5s:?}");
    }
    let heads = proxy.heads();
    let by_url = |needle: &str| heads.iter().filter(|h| h.contains(needle) && h.contains("x-ms-copy-source: ")).count();
    assert_eq!(by_url("big.bin?comp=block"), 6, "5 MiB + 17 bytes in 1 MiB blocks, each read by URL");
    assert_eq!(by_url("top.txt"), 1, "a small object in one Copy Blob From URL");
    let signed = heads.iter().find(|h| h.contains("x-ms-copy-source: ")).unwrap();
    assert!(signed.contains("X-Goog-Algorithm=GOOG4-RSA-SHA256") && signed.contains("X-Goog-Signature="), "{signed}");
    let props = common::python_in(
        azurite,
        &container,
        "p = c.get_blob_client('top.txt').get_blob_properties()\nprint(p.content_settings.content_type, sorted(p.metadata.items()))",
    );
    assert_eq!(props.trim(), "text/plain [('fine_key', 'kept')]");
}

/// `sync` and `verify` from GCS: by size and time, an object changed in GCS copied again, the
/// rest left; `verify` compares MD5s (GCS lists each object's) and finds a tampered copy.
#[tokio::test(flavor = "multi_thread")]
async fn sync_and_verify_from_gcs() {
    let server = GcsServer::shared();
    let bucket = GcsServer::unique_bucket("sync");
    seed(server, &bucket);
    let local = tempfile::tempdir().unwrap();
    let azurite = Azurite::shared();
    let container = azurite.new_container("sync-from-gcs").await.container().to_owned();
    let source = format!("gs://{bucket}");
    let targets = [local.path().to_str().unwrap().to_owned(), azurite.container_url(&container)];
    for dest in &targets {
        let (code, out, err) = run(ferry_gcs(server).args(["sync", &source, dest]));
        assert_eq!(code, 0, "{dest}: {out}{err}");
        assert_eq!(common::summary_value(&out, "Number of Copy Transfers Completed"), 5, "{dest}: {out}");
    }
    std::thread::sleep(std::time::Duration::from_millis(1100));
    server.python(
        &bucket,
        "b = client.bucket(bucket)\nb.blob('top.txt').upload_from_string(b'top, changed')\nb.blob('new.txt').upload_from_string(b'new')",
    );
    for dest in &targets {
        let (code, out, err) = run(ferry_gcs(server).args(["sync", &source, dest]));
        assert_eq!(code, 0, "{dest}: {out}{err}");
        assert_eq!(common::summary_value(&out, "Number of Copy Transfers Completed"), 2, "{dest}: {out}");
        let (code, out, err) = run(ferry_gcs(server).args(["verify", &source, dest, "--compute-hash"]));
        assert_eq!(code, 0, "{dest}: {out}{err}");
        assert_eq!(common::summary_value(&out, "Objects Matched"), 6, "{dest}: {out}");
    }
    assert_eq!(std::fs::read(local.path().join("top.txt")).unwrap(), b"top, changed");
    std::fs::write(local.path().join("top.txt"), b"top, CHANGED").unwrap();
    let (code, out, err) = run(ferry_gcs(server).args(["verify", &source, &targets[0], "--compute-hash"]));
    assert_eq!(code, 3, "{out}{err}");
    assert_eq!(common::summary_value(&out, "Hash Mismatches"), 1, "same size, other bytes: {out}");
}

/// A project URL (no bucket) copies every bucket of `GOOGLE_CLOUD_PROJECT`: locally into
/// folders of the buckets' names, into an account's containers by AzCopy's GCS rules
/// (`my_bucket` → `my-bucket`, a collision → `-2`). A server of its own, so no other test's
/// buckets are in it.
#[tokio::test(flavor = "multi_thread")]
async fn a_project_url_copies_every_bucket() {
    let server = GcsServer::start().unwrap();
    server.bucket_with("my_bucket", &[("a.txt", b"under")], &[]);
    server.bucket_with("my-bucket", &[("b.txt", b"dash")], &[]);
    server.bucket_with("plain", &[("d/c.txt", b"plain")], &[]);
    let service = "https://storage.cloud.google.com/";

    let (code, _, err) = run(ferry_gcs(&server).args(["copy", service, "/tmp/unused", "--recursive"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("GOOGLE_CLOUD_PROJECT"), "{err}");

    let local = tempfile::tempdir().unwrap();
    let (code, out, err) = run(ferry_gcs(&server).env("GOOGLE_CLOUD_PROJECT", "ferry-test").args([
        "copy",
        service,
        local.path().to_str().unwrap(),
        "--recursive",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(std::fs::read(local.path().join("my_bucket/a.txt")).unwrap(), b"under");
    assert_eq!(std::fs::read(local.path().join("plain/d/c.txt")).unwrap(), b"plain");

    let account = Azurite::start().unwrap();
    let (code, out, err) = run(ferry_gcs(&server).env("GOOGLE_CLOUD_PROJECT", "ferry-test").args([
        "copy",
        service,
        &account.account_url(),
        "--recursive",
        "--exclude-container=plain",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains(
            "the GCP bucket `my_bucket` is not a valid container name: its objects go to the container `my-bucket-2`"
        ),
        "{err}"
    );
    let listed = common::python_in(
        &account,
        "my-bucket",
        "from azure.storage.blob import BlobServiceClient\n\
         s = BlobServiceClient(account_url=sys.argv[1].rsplit('/', 1)[0], credential={'account_name': 'devstoreaccount1', 'account_key': sys.argv[2]})\n\
         for cont in s.list_containers():\n\
         \x20   for b in s.get_container_client(cont.name).list_blobs():\n\
         \x20       print(f'{cont.name}/{b.name}')",
    );
    let mut lines: Vec<&str> = listed.lines().collect();
    lines.sort();
    assert_eq!(lines, ["my-bucket-2/a.txt", "my-bucket/b.txt"]);
}

/// Bad input about GCS gets a clear error naming what to fix, and nothing is written: a key
/// file that is not there (AzCopy's words), a missing bucket, GCS as a destination, a signed
/// URL given as a location.
#[tokio::test(flavor = "multi_thread")]
async fn gcs_bad_input_is_explained() {
    let server = GcsServer::shared();
    let bucket = GcsServer::unique_bucket("bad");
    seed(server, &bucket);
    let local = tempfile::tempdir().unwrap();
    let dest = local.path().to_str().unwrap().to_owned();
    let source = format!("gs://{bucket}/*");

    let (code, out, err) = run(ferry_gcs(server)
        .env("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/key.json")
        .args(["copy", &source, &dest, "--recursive"]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("Cannot read JSON key file") && err.contains("GOOGLE_APPLICATION_CREDENTIALS"), "{err}");

    let (code, _, err) = run(ferry_gcs(server).args(["copy", "gs://no-such-bucket-here/*", &dest, "--recursive"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not found") && err.contains("no-such-bucket-here"), "{err}");

    let (code, _, err) = run(ferry_gcs(server).args(["copy", &dest, &format!("gs://{bucket}/x"), "--recursive"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("GCS as a destination is not supported"), "{err}");

    let signed = format!("https://storage.googleapis.com/{bucket}/top.txt?X-Goog-Signature=abc");
    let (code, _, err) = run(ferry_gcs(server).args(["copy", &signed, &dest]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("GOOGLE_APPLICATION_CREDENTIALS") && !err.contains("abc"), "{err}");
    assert_eq!(std::fs::read_dir(local.path()).unwrap().count(), 0, "nothing was written");
}

/// A GCS job cut off part-way is finished by `jobs resume`.
#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_gcs_copy_resumes() {
    let server = GcsServer::shared();
    let bucket = GcsServer::unique_bucket("resume");
    seed(server, &bucket);
    let work = tempfile::tempdir().unwrap();
    let (dest, plans) = (work.path().join("dest"), work.path().join("plans"));
    let ferry = || {
        let mut cmd = ferry_gcs(server);
        cmd.env("FERRY_JOB_PLAN_LOCATION", &plans);
        cmd
    };
    let (code, out, err) = run(ferry().args([
        "copy",
        &format!("gs://{bucket}/*"),
        dest.to_str().unwrap(),
        "--recursive",
        "--debug-skip-files=dir/unicode/été.txt",
    ]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(!dest.join("dir/unicode/été.txt").exists());
    let modified = |key: &str| std::fs::metadata(dest.join(key)).ok().and_then(|m| m.modified().ok());
    let done: Vec<_> = objects().iter().filter_map(|(k, _)| modified(k).map(|t| (k.to_string(), t))).collect();
    assert!(done.len() < objects().len(), "the job stopped part-way: {done:?}");
    std::thread::sleep(std::time::Duration::from_millis(20));
    let id = common::job_id(&out);
    let (code, out, err) = run(ferry().args(["jobs", "resume", &id]));
    assert_eq!(code, 0, "{out}{err}");
    for (key, before) in &done {
        assert_eq!(modified(key), Some(*before), "{key}: what was done is not copied again");
    }
    for (key, data) in objects() {
        assert_eq!(std::fs::read(dest.join(key)).unwrap(), data, "{key}");
    }
}

/// Signing in to GCS as a service account, against a stand-in for Google's token endpoint (it
/// verifies each JWT's RS256 signature with the account's public key) in front of
/// fake-gcs-server (it forwards only requests bearing a token it issued), all over HTTPS: one
/// token for the whole job, sent on every request, never shown; a key Google does not know is
/// refused with what to check; no key at all is refused by the service, with what to set.
#[tokio::test(flavor = "multi_thread")]
async fn signing_in_as_a_service_account() {
    use ferry_testkit::gcs::GoogleStandIn;
    let server = GcsServer::shared();
    let bucket = GcsServer::unique_bucket("signin");
    seed(server, &bucket);
    let work = tempfile::tempdir().unwrap();
    openssl(work.path(), &["pkey", "-in", TEST_KEY, "-pubout", "-out", "public.pem"]);
    let ca = ferry_testkit::entra::TestCa::generate().unwrap();
    let google = GoogleStandIn::start(&ca, server, &work.path().join("public.pem"), EMAIL).unwrap();
    let ferry = |key: Option<&std::path::Path>| {
        let mut cmd = ferry_with_key();
        cmd.env_remove("STORAGE_EMULATOR_HOST")
            .env("FERRY_GCS_ENDPOINT", google.endpoint())
            .env("SSL_CERT_FILE", &ca.ca)
            .env("FERRY_LOG_LOCATION", work.path().join("logs"));
        match key {
            Some(k) => cmd.env("GOOGLE_APPLICATION_CREDENTIALS", k),
            None => cmd.env_remove("GOOGLE_APPLICATION_CREDENTIALS"),
        };
        cmd
    };

    let good = key_file_with(work.path(), TEST_KEY, &google.token_uri());
    let dest = work.path().join("dest");
    let (code, out, err) = run(ferry(Some(&good)).args([
        "copy",
        &format!("gs://{bucket}/*"),
        dest.to_str().unwrap(),
        "--recursive",
        "--block-size-mb=1",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    for (key, data) in objects() {
        assert_eq!(std::fs::read(dest.join(key)).unwrap(), data, "{key}");
    }
    let requests = google.requests();
    let tokens: Vec<_> = requests.iter().filter(|r| r["path"] == "/token").collect();
    assert_eq!(tokens.len(), 1, "one token for the job: {requests:?}");
    assert!(tokens[0]["error"].is_null(), "the assertion verified: {:?}", tokens[0]);
    let storage: Vec<_> = requests.iter().filter(|r| r["path"] != "/token").collect();
    assert!(storage.len() >= 6 && storage.iter().all(|r| r["bearer"] == true), "{storage:?}");
    let logs: String = std::fs::read_dir(work.path().join("logs"))
        .unwrap()
        .flatten()
        .map(|f| std::fs::read_to_string(f.path()).unwrap_or_default())
        .collect();
    assert!(!format!("{out}{err}{logs}").contains("ya29."), "the access token is never shown");

    // A key the account does not have: the token endpoint refuses the assertion.
    openssl(work.path(), &["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "other.pem"]);
    let other = work.path().join("other.pem");
    let wrong = key_file_with(work.path(), other.to_str().unwrap(), &google.token_uri());
    let x = work.path().join("x.txt");
    let (code, out, err) =
        run(ferry(Some(&wrong)).args(["copy", &format!("gs://{bucket}/top.txt"), x.to_str().unwrap()]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("could not get an access token") && err.contains("Invalid JWT Signature"), "{err}");
    assert!(err.contains("GOOGLE_APPLICATION_CREDENTIALS"), "{err}");

    // No key: anonymous, which this bucket does not allow.
    let (code, out, err) = run(ferry(None).args(["copy", &format!("gs://{bucket}/top.txt"), x.to_str().unwrap()]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("401") && err.contains("set GOOGLE_APPLICATION_CREDENTIALS"), "{err}");
    assert!(!x.exists());
}

/// A download whose body breaks off after the headers (reset, or closed short of its length)
/// asks for the rest, on the same generation, and arrives whole: before, one lost connection
/// failed the object (only Blob reads resumed).
#[tokio::test(flavor = "multi_thread")]
async fn a_body_cut_short_is_resumed_from_where_it_stopped() {
    use ferry_testkit::fault_proxy::{Fault, FaultPlan, FaultProxy, Rule, Selector, When};
    let server = GcsServer::shared();
    let bucket = GcsServer::unique_bucket("cut");
    seed(server, &bucket);
    for fault in [Fault::ResetMidBody, Fault::TruncateBody] {
        let rule = Rule::new(fault, Selector::Path("big.bin".into()), When::FirstN(2));
        let proxy = FaultProxy::with_plan(server.port(), FaultPlan { rules: vec![rule], seed: 1 }).await.unwrap();
        let local = tempfile::tempdir().unwrap();
        let (code, out, err) = run(ferry_with_key()
            .env("STORAGE_EMULATOR_HOST", format!("127.0.0.1:{}", proxy.port()))
            .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
            .env("FERRY_MAX_RETRIES", "3")
            .args(["copy", &format!("gs://{bucket}/dir"), local.path().to_str().unwrap(), "--recursive"]));
        assert_eq!(code, 0, "{fault:?}: {out}{err}");
        assert_eq!(proxy.injected(), [2], "{fault:?}");
        let big = objects().into_iter().find(|(k, _)| *k == "dir/big.bin").unwrap().1;
        assert_eq!(std::fs::read(local.path().join("dir/big.bin")).unwrap(), big, "{fault:?}");
        let resumed =
            proxy.heads().iter().filter(|h| h.contains("big.bin") && h.contains("ifGenerationMatch=")).count();
        assert_eq!(resumed, 2, "{fault:?}: the rest asked for twice, on the first answer's generation");
    }
}
