//! Microsoft Entra ID sign-in (issue #13), end to end on one machine: Azurite in `--oauth basic`
//! mode over HTTPS (a test CA that Ferry trusts through `SSL_CERT_FILE`), and a loopback stand-in
//! for Entra's token endpoints that logs what it was asked. What lands is checked by the Python
//! SDK with the account key; the App Service managed-identity path is also run by AzCopy.

mod common;

use std::process::Command;

use common::entra::{all_files, blobs, ferry_at, ferry_spn, oauth, token_posts, trusted};
use common::run;
use ferry_testkit::entra::{EntraStandIn, StandInOptions};
use ferry_testkit::{Azurite, tools};

const SECRET: &str = "s3cret-Value-that-must-never-show";

/// A service principal's auto-login uploads a tree: one token request of the right shape, the
/// blobs land intact, and the secret shows nowhere.
#[test]
fn spn_auto_login_copies_with_one_token_request_and_no_secret_anywhere() {
    let stand_in =
        EntraStandIn::start(&oauth().0, &StandInOptions { secret: Some(SECRET.into()), ..Default::default() }).unwrap();
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    let mut expected = Vec::new();
    for i in 0..5 {
        let data = ferry_testkit::data::pattern(100_000 + i * 7, i as u64);
        std::fs::write(src.join(format!("f{i}.bin")), &data).unwrap();
        expected.push((format!("f{i}.bin"), common::md5_hex(&data)));
    }
    let url = format!("{}/entra-spn", oauth().1.account_url());
    let (code, out, err) = run(ferry_spn(work.path(), &stand_in, SECRET).args([
        "copy",
        &format!("{}/*", src.display()),
        &url,
        "--put-md5",
        "--trusted-microsoft-suffixes",
        &trusted(),
        "--evidence",
        work.path().join("evidence.jsonl").to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{err}\n{out}");
    assert_eq!(blobs("entra-spn"), expected);
    // The evidence names the identity the job signed in as (ids from the token), never a secret.
    let evidence = std::fs::read_to_string(work.path().join("evidence.jsonl")).unwrap();
    let header: serde_json::Value = serde_json::from_str(evidence.lines().next().unwrap()).unwrap();
    assert_eq!(header["destination_auth"], "entra", "{header}");
    let identity = header["destination_identity"].as_str().unwrap_or_default();
    assert!(identity.contains("signed in by") && identity.contains("object id "), "{header}");
    let posts = token_posts(&stand_in);
    assert_eq!(posts.len(), 1, "one token for the whole job: {posts:?}");
    let form = &posts[0]["form"];
    assert_eq!(posts[0]["path"], format!("/{}/oauth2/v2.0/token", stand_in.tenant));
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["client_id"], "app-1");
    assert_eq!(form["scope"], "https://storage.azure.com/.default");
    assert_eq!(form["client_secret"], format!("<{} characters>", SECRET.len()));
    assert!(!out.contains(SECRET) && !err.contains(SECRET));
    for (path, bytes) in all_files(work.path()) {
        assert!(!String::from_utf8_lossy(&bytes).contains(SECRET), "the secret is in {}", path.display());
    }
}

/// A refused secret is reported in Entra's own words (the AADSTS code says what to fix).
#[test]
fn a_wrong_client_secret_is_named_as_such() {
    let stand_in =
        EntraStandIn::start(&oauth().0, &StandInOptions { secret: Some(SECRET.into()), ..Default::default() }).unwrap();
    let work = tempfile::tempdir().unwrap();
    let url = format!("{}/entra-refused", oauth().1.account_url());
    let given = "not-the-secret-4711";
    let (code, _, err) =
        run(ferry_spn(work.path(), &stand_in, given).args(["list", &url, "--trusted-microsoft-suffixes", &trusted()]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("AADSTS7000215") && err.contains("Invalid client secret"), "{err}");
    assert!(!err.contains(given), "the secret given is not echoed: {err}");
}

/// Managed identity through App Service's endpoint (with a user-assigned client id) and through
/// the VM's IMDS (its host overridden); a failing endpoint is retried.
#[test]
fn managed_identity_through_app_service_and_imds() {
    let (_, azurite) = oauth();
    let stand_in = EntraStandIn::start(&oauth().0, &StandInOptions { fail_first: 1, ..Default::default() }).unwrap();
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("one.txt");
    std::fs::write(&src, "managed").unwrap();
    let url = format!("{}/entra-msi", azurite.account_url());
    let msi = |cmd: &mut Command| {
        cmd.env("AZCOPY_AUTO_LOGIN_TYPE", "MSI").env("FERRY_MAX_RETRIES", "2");
    };
    let mut app_service = ferry_at(work.path());
    msi(&mut app_service);
    app_service
        .env("IDENTITY_ENDPOINT", stand_in.identity_endpoint())
        .env("IDENTITY_HEADER", "test-identity-header")
        .env("AZCOPY_MSI_CLIENT_ID", "client-7");
    let (code, out, err) =
        run(app_service.args(["copy", src.to_str().unwrap(), &url, "--trusted-microsoft-suffixes", &trusted()]));
    assert_eq!(code, 0, "{err}\n{out}");
    assert_eq!(blobs("entra-msi").len(), 1);
    let asked = stand_in.requests();
    assert_eq!(asked.len(), 2, "one failed (500) and retried: {asked:?}");
    let query = &asked[1]["query"];
    assert_eq!(
        (query["api-version"].as_str(), query["resource"].as_str()),
        (Some("2019-08-01"), Some("https://storage.azure.com"))
    );
    assert_eq!(query["client_id"], "client-7");
    assert_eq!(asked[1]["headers"]["x-identity-header"], "<20 characters>");

    let mut imds = ferry_at(work.path());
    msi(&mut imds);
    imds.env("AZURE_POD_IDENTITY_AUTHORITY_HOST", stand_in.imds_host()).env(
        "AZCOPY_MSI_RESOURCE_STRING",
        "/subscriptions/s/resourceGroups/g/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i",
    );
    let (code, out, err) = run(imds.args(["list", &url, "--trusted-microsoft-suffixes", &trusted()]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("one.txt"), "{out}");
    let last = stand_in.requests().pop().unwrap();
    assert_eq!(last["path"], "/metadata/identity/oauth2/token");
    assert_eq!(last["headers"]["metadata"], "true");
    assert_eq!(last["query"]["api-version"], "2018-02-01");
    assert!(last["query"]["msi_res_id"].as_str().unwrap().ends_with("/userAssignedIdentities/i"));
}

/// Workload identity: the federated token file's content is the client assertion.
#[test]
fn workload_identity_sends_the_federated_token() {
    let stand_in = EntraStandIn::start(&oauth().0, &StandInOptions::default()).unwrap();
    let work = tempfile::tempdir().unwrap();
    let token_file = work.path().join("federated-token");
    std::fs::write(&token_file, "federated-assertion-1\n").unwrap();
    let url = format!("{}/entra-workload", oauth().1.account_url());
    let (code, _, err) = run(ferry_at(work.path())
        .env("AZCOPY_AUTO_LOGIN_TYPE", "WORKLOAD")
        .env("AZURE_CLIENT_ID", "wl-client")
        .env("AZURE_TENANT_ID", &stand_in.tenant)
        .env("AZURE_FEDERATED_TOKEN_FILE", &token_file)
        .env("AZURE_AUTHORITY_HOST", stand_in.authority())
        .args(["make", &url, "--trusted-microsoft-suffixes", &trusted()]));
    assert_eq!(code, 0, "{err}");
    let posts = token_posts(&stand_in);
    assert_eq!(posts.len(), 1, "{posts:?}");
    let form = &posts[0]["form"];
    assert_eq!(form["client_assertion"], "federated-assertion-1");
    assert_eq!(form["client_assertion_type"], "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    assert_eq!(form["client_id"], "wl-client");
    assert!(blobs("entra-workload").is_empty(), "the container exists and is empty");
}

/// A token never goes over plain http or to a host that is not Azure Storage's (unless trusted):
/// the command stops before any token is even requested, and says why.
#[test]
fn no_token_over_http_or_to_untrusted_hosts() {
    let stand_in = EntraStandIn::start(&oauth().0, &StandInOptions::default()).unwrap();
    let work = tempfile::tempdir().unwrap();
    let plain = format!("{}/entra-plain", Azurite::shared().account_url());
    let (code, _, err) = run(ferry_spn(work.path(), &stand_in, SECRET).args(["list", &plain]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("never sent unencrypted"), "{err}");
    let https = format!("{}/entra-untrusted", oauth().1.account_url());
    let (code, _, err) = run(ferry_spn(work.path(), &stand_in, SECRET).args(["list", &https]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--trusted-microsoft-suffixes"), "{err}");
    assert!(stand_in.requests().is_empty(), "no token was requested: {:?}", stand_in.requests());
}

/// AzCopy, signed in through the same App Service endpoint, lists what Ferry listed.
#[test]
fn azcopy_lists_the_same_through_the_same_managed_identity() {
    let (ca, azurite) = oauth();
    let stand_in = EntraStandIn::start(ca, &StandInOptions::default()).unwrap();
    let work = tempfile::tempdir().unwrap();
    let url = format!("{}/entra-peer", azurite.account_url());
    let file = work.path().join("peer.txt");
    std::fs::write(&file, "peer").unwrap();
    let with_msi = |cmd: &mut Command| {
        cmd.env("AZCOPY_AUTO_LOGIN_TYPE", "MSI")
            .env("IDENTITY_ENDPOINT", stand_in.identity_endpoint())
            .env("IDENTITY_HEADER", "test-identity-header")
            .env("SSL_CERT_FILE", &ca.ca);
    };
    let mut copy = ferry_at(work.path());
    with_msi(&mut copy);
    let (code, _, err) =
        run(copy.args(["copy", file.to_str().unwrap(), &url, "--trusted-microsoft-suffixes", &trusted()]));
    assert_eq!(code, 0, "{err}");
    let mut list = ferry_at(work.path());
    with_msi(&mut list);
    let (code, ours, err) = run(list.args(["list", &url, "--trusted-microsoft-suffixes", &trusted()]));
    assert_eq!(code, 0, "{err}");
    let mut azcopy = Command::new(tools::azcopy());
    with_msi(&mut azcopy);
    let out = azcopy
        .env("HOME", work.path())
        .env("AZCOPY_LOG_LOCATION", work.path().join("azcopy-logs"))
        .env("AZCOPY_JOB_PLAN_LOCATION", work.path().join("azcopy-plans"))
        .args(["list", &url, "--location", "Blob", "--trusted-microsoft-suffixes", &trusted()])
        .output()
        .unwrap();
    let theirs = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{theirs}{}", String::from_utf8_lossy(&out.stderr));
    let line = |text: &str| text.lines().find(|l| l.starts_with("peer.txt")).map(str::to_owned);
    assert_eq!(line(&ours), line(&theirs), "ours:\n{ours}\nAzCopy's:\n{theirs}");
    assert!(line(&ours).is_some(), "{ours}");
}

/// A token the service finds expired is reported with the service's own reason, and a hint about
/// tokens (not about SAS expiry fields).
#[test]
fn an_expired_token_is_named_as_such() {
    let stand_in = EntraStandIn::start(&oauth().0, &StandInOptions { lifetime: -30, ..Default::default() }).unwrap();
    let work = tempfile::tempdir().unwrap();
    let url = format!("{}/entra-expired", oauth().1.account_url());
    let (code, _, err) = run(ferry_at(work.path())
        .env("AZCOPY_AUTO_LOGIN_TYPE", "MSI")
        .env("IDENTITY_ENDPOINT", stand_in.identity_endpoint())
        .env("IDENTITY_HEADER", "test-identity-header")
        .args(["list", &url, "--trusted-microsoft-suffixes", &trusted()]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("Lifetime validation failed. The token is expired."), "{err}");
    assert!(err.contains("Microsoft Entra ID token (signed in by msi, object id "), "{err}");
    assert!(err.contains("hint: the token was refused") && !err.contains("se="), "{err}");
}

/// Ten processes started together, signed in as one service principal, make one token request
/// between them: the first asks, the others wait for its token and reuse it (AzCopy makes ten).
#[test]
fn ten_processes_share_one_token_request() {
    let stand_in = EntraStandIn::start(&oauth().0, &StandInOptions::default()).unwrap();
    let work = tempfile::tempdir().unwrap();
    let url = format!("{}/entra-shared", oauth().1.account_url());
    let (code, _, err) =
        run(ferry_spn(work.path(), &stand_in, SECRET).args(["make", &url, "--trusted-microsoft-suffixes", &trusted()]));
    assert_eq!(code, 0, "{err}");
    let before = token_posts(&stand_in).len();
    std::fs::remove_dir_all(work.path().join("tokens")).unwrap();
    let children: Vec<_> = (0..10)
        .map(|_| {
            ferry_spn(work.path(), &stand_in, SECRET)
                .args(["list", &url, "--trusted-microsoft-suffixes", &trusted()])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let asked = token_posts(&stand_in).len() - before;
    assert_eq!(asked, 1, "ten processes, one token request");
    let shared = std::fs::read_dir(work.path().join("tokens"))
        .unwrap()
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "json"))
        .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(shared.metadata().unwrap().permissions().mode() & 0o777, 0o600);
    assert!(!std::fs::read_to_string(shared.path()).unwrap().contains(SECRET));
}

/// `ferry login` saves a sign-in (no secret) that later processes use — `login status`, `list` —
/// with one token request between them all; `ferry logout` forgets it.
#[test]
fn a_saved_login_serves_later_processes_until_logout() {
    let stand_in = EntraStandIn::start(&oauth().0, &StandInOptions::default()).unwrap();
    let work = tempfile::tempdir().unwrap();
    let platform = |cmd: &mut Command| {
        cmd.env("IDENTITY_ENDPOINT", stand_in.identity_endpoint()).env("IDENTITY_HEADER", "test-identity-header");
    };
    let mut login = ferry_at(work.path());
    platform(&mut login);
    let (code, out, err) = run(login.args(["login", "--login-type", "msi", "--identity-client-id", "c-9"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "INFO: Login with identity succeeded.");
    let saved = std::fs::read_to_string(work.path().join("tokens").join("login.json")).unwrap();
    assert!(saved.contains("\"c-9\"") && !saved.contains("test-identity-header"), "{saved}");

    let mut status = ferry_at(work.path());
    platform(&mut status);
    let (code, out, err) = run(status.args(["login", "status", "--tenant", "--endpoint", "--method"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        "INFO: You have successfully refreshed your token. Your login session is still active\nINFO: Tenant ID: common\nINFO: Active directory endpoint: https://login.microsoftonline.com\nINFO: Authorized using msi"
    );
    let url = format!("{}/entra-saved", oauth().1.account_url());
    let mut make = ferry_at(work.path());
    platform(&mut make);
    let (code, _, err) = run(make.args(["make", &url, "--trusted-microsoft-suffixes", &trusted()]));
    assert_eq!(code, 0, "the saved sign-in serves a later command: {err}");
    let asked = stand_in.requests();
    assert_eq!(asked.len(), 1, "login, status and make shared one token: {asked:?}");
    assert_eq!(asked[0]["query"]["client_id"], "c-9");

    let (code, out, _) = run(ferry_at(work.path()).arg("logout"));
    assert_eq!((code, out.trim()), (0, "INFO: Logout succeeded."));
    let (code, out, _) = run(ferry_at(work.path()).args(["login", "status"]));
    assert_eq!(code, 1);
    assert!(out.contains("INFO: You are currently not logged in. Please login using 'ferry login'"), "{out}");
    let (code, _, err) = run(ferry_at(work.path()).arg("logout"));
    assert_eq!(code, 1);
    assert!(err.contains("no cached token found for current user"), "{err}");
    let (code, _, err) = run(ferry_at(work.path()).args(["list", &url, "--trusted-microsoft-suffixes", &trusted()]));
    assert_eq!(code, 1, "after logout, anonymous access is refused: {err}");
}

/// A server whose certificate this machine does not trust is reported as such (not as "check the
/// host and port"), at once (no retries), and no token is fetched for it.
#[test]
fn an_untrusted_certificate_is_named_as_such() {
    let work = tempfile::tempdir().unwrap();
    let url = format!("{}/entra-untrusted-ca", oauth().1.account_url());
    let mut cmd = ferry_at(work.path());
    cmd.env_remove("SSL_CERT_FILE")
        .env("FERRY_MAX_RETRIES", "3")
        .env("AZURE_STORAGE_ACCOUNT", "devstoreaccount1")
        .env("AZURE_STORAGE_KEY", ferry_azure::DEVELOPMENT_KEY);
    let started = std::time::Instant::now();
    let (code, _, err) = run(cmd.args(["list", &url]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is not trusted by this machine") && err.contains("SSL_CERT_FILE"), "{err}");
    assert!(!err.contains("check the host"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "not retried");
}

/// AzCopy's default sign-in, the device code: Ferry shows where to sign in, polls while Entra
/// says the user has not yet, keeps the refresh token (0600), and a later process gets access
/// tokens with it; the refresh token never shows.
#[test]
fn a_device_code_login_serves_later_processes() {
    let stand_in = EntraStandIn::start(&oauth().0, &StandInOptions::default()).unwrap();
    let work = tempfile::tempdir().unwrap();
    let (code, out, err) = run(ferry_at(work.path()).args([
        "login",
        "--tenant-id",
        &stand_in.tenant,
        "--aad-endpoint",
        &stand_in.authority(),
    ]));
    assert_eq!(code, 0, "{err}\n{out}");
    assert!(
        out.contains("INFO: Authentication is required. To sign in, open the webpage https://microsoft.com/devicelogin and enter the code FERRY-4711 to authenticate."),
        "{out}"
    );
    assert!(out.trim_end().ends_with("INFO: Login succeeded."), "{out}");
    let grants: Vec<String> = token_posts(&stand_in)
        .iter()
        .map(|r| r["form"]["grant_type"].as_str().unwrap_or_default().to_owned())
        .collect();
    let device = "urn:ietf:params:oauth:grant-type:device_code";
    assert_eq!(grants.iter().filter(|g| *g == device).count(), 3, "two pending answers, then signed in: {grants:?}");
    let kept = work.path().join("tokens").join("refresh-token");
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(std::fs::metadata(&kept).unwrap().permissions().mode() & 0o777, 0o600);
    let refresh = std::fs::read_to_string(&kept).unwrap();
    assert!(refresh.starts_with("refresh-token-"), "{refresh}");

    // A later process, with the shared access token gone, gets one with the refresh token.
    for entry in std::fs::read_dir(work.path().join("tokens")).unwrap().flatten() {
        if entry.path().extension().is_some_and(|x| x == "json") && entry.file_name() != "login.json" {
            std::fs::remove_file(entry.path()).unwrap();
        }
    }
    let url = format!("{}/entra-device", oauth().1.account_url());
    let (code, out, err) = run(ferry_at(work.path()).args(["make", &url, "--trusted-microsoft-suffixes", &trusted()]));
    assert_eq!(code, 0, "{err}");
    let last = token_posts(&stand_in).pop().unwrap();
    assert_eq!(last["form"]["grant_type"], "refresh_token");
    assert_eq!(last["form"]["client_id"], "579a7132-0e58-4d80-b1e1-7a1e2d337859");
    let rotated = std::fs::read_to_string(&kept).unwrap();
    assert_ne!(rotated, refresh, "the rotated refresh token is kept");
    assert!(!out.contains(&rotated) && !err.contains(&rotated));
    let (code, out, _) = run(ferry_at(work.path()).args(["login", "status", "--method"]));
    assert_eq!(code, 0);
    assert!(out.contains("INFO: Authorized using device"), "{out}");
    let (code, _, _) = run(ferry_at(work.path()).arg("logout"));
    assert_eq!(code, 0);
    assert!(!kept.exists(), "logout forgets the refresh token");
}

/// A server-side copy (Blob to Blob) signed in with Entra ID: the service cannot use Ferry's
/// token to read the source, so Ferry asks it for a user delegation key and hands it a read-only
/// user-delegation SAS for each source blob; Azurite validates that SAS when it reads the source.
#[test]
fn a_server_side_copy_with_entra_reads_its_source_through_a_user_delegation_sas() {
    let (_, azurite) = oauth();
    let stand_in = EntraStandIn::start(&oauth().0, &StandInOptions::default()).unwrap();
    let work = tempfile::tempdir().unwrap();
    let data = ferry_testkit::data::pattern(3 * 1024 * 1024 + 17, 5);
    let big = work.path().join("big.bin");
    std::fs::write(&big, &data).unwrap();
    let msi = |cmd: &mut Command| {
        cmd.env("AZCOPY_AUTO_LOGIN_TYPE", "MSI")
            .env("IDENTITY_ENDPOINT", stand_in.identity_endpoint())
            .env("IDENTITY_HEADER", "test-identity-header");
    };
    let src = format!("{}/entra-ud-src", azurite.account_url());
    let mut upload = ferry_at(work.path());
    msi(&mut upload);
    let big = work.path().join("big.bin");
    let (code, _, err) = run(upload.args([
        "copy",
        big.to_str().unwrap(),
        &src,
        "--put-md5",
        "--trusted-microsoft-suffixes",
        &trusted(),
    ]));
    assert_eq!(code, 0, "{err}");
    let dst = format!("{}/entra-ud-dst", azurite.account_url());
    let mut copy = ferry_at(work.path());
    msi(&mut copy);
    let (code, out, err) = run(copy.args([
        "copy",
        &format!("{src}/big.bin"),
        &format!("{dst}/big.bin"),
        "--block-size-mb",
        "1",
        "--trusted-microsoft-suffixes",
        &trusted(),
    ]));
    assert_eq!(code, 0, "{err}\n{out}");
    assert_eq!(blobs("entra-ud-dst"), vec![("big.bin".to_owned(), common::md5_hex(&data))]);
}

/// A service principal's certificate: the client assertion is a PS256 JWT whose signature
/// `openssl` verifies with the certificate's public key, with the claims Entra requires (aud =
/// the token URL, iss = sub = the app, at most ten minutes, the certificate's SHA-256 thumbprint).
#[test]
fn a_certificate_signs_the_client_assertion() {
    use base64::Engine as _;
    let stand_in = EntraStandIn::start(&oauth().0, &StandInOptions::default()).unwrap();
    let work = tempfile::tempdir().unwrap();
    let d = work.path();
    let sh = |script: &str| {
        let out = Command::new("sh").arg("-c").arg(script).current_dir(d).output().unwrap();
        assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    sh(
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 -subj /CN=app-cert 2>/dev/null && cat cert.pem key.pem > both.pem",
    );
    let url = format!("{}/entra-cert", oauth().1.account_url());
    let (code, _, err) = run(ferry_at(d)
        .env("AZCOPY_AUTO_LOGIN_TYPE", "SPN")
        .env("AZCOPY_SPA_APPLICATION_ID", "app-cert")
        .env("AZCOPY_SPA_CERT_PATH", d.join("both.pem"))
        .env("AZCOPY_TENANT_ID", &stand_in.tenant)
        .env("AZCOPY_ACTIVE_DIRECTORY_ENDPOINT", stand_in.authority())
        .args(["make", &url, "--trusted-microsoft-suffixes", &trusted()]));
    assert_eq!(code, 0, "{err}");
    let posts = token_posts(&stand_in);
    assert_eq!(posts.len(), 1, "{posts:?}");
    let form = &posts[0]["form"];
    assert_eq!(form["client_assertion_type"], "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    assert!(form.get("client_secret").is_none());
    let jwt = form["client_assertion"].as_str().unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    let decode = |p: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p).unwrap();
    let header: serde_json::Value = serde_json::from_slice(&decode(parts[0])).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&decode(parts[1])).unwrap();
    assert_eq!(header["alg"], "PS256");
    let der_sha = sh("openssl x509 -in cert.pem -outform der | openssl dgst -sha256 -binary");
    assert_eq!(header["x5t#S256"], base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(der_sha));
    assert_eq!(claims["aud"], format!("{}/{}/oauth2/v2.0/token", stand_in.authority(), stand_in.tenant));
    assert_eq!((claims["iss"].as_str(), claims["sub"].as_str()), (Some("app-cert"), Some("app-cert")));
    assert!(claims["exp"].as_u64().unwrap() - claims["nbf"].as_u64().unwrap() <= 660);
    std::fs::write(d.join("signed.txt"), format!("{}.{}", parts[0], parts[1])).unwrap();
    std::fs::write(d.join("signature.bin"), decode(parts[2])).unwrap();
    let verified = sh(
        "openssl x509 -in cert.pem -pubkey -noout > pub.pem && openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:-2 -verify pub.pem -signature signature.bin signed.txt",
    );
    assert_eq!(String::from_utf8_lossy(&verified).trim(), "Verified OK");
}

/// A large download over HTTPS (rustls, the CA trusted through `SSL_CERT_FILE`) takes the direct
/// receive, and the file arrives intact.
#[test]
fn a_large_download_over_https_is_received_directly() {
    let stand_in =
        EntraStandIn::start(&oauth().0, &StandInOptions { secret: Some(SECRET.into()), ..Default::default() }).unwrap();
    let work = tempfile::tempdir().unwrap();
    let data = ferry_testkit::data::pattern(6 * 1024 * 1024 + 11, 3);
    let big = work.path().join("big.bin");
    std::fs::write(&big, &data).unwrap();
    let url = format!("{}/entra-direct", oauth().1.account_url());
    let trusted = trusted();
    let up = ["copy", big.to_str().unwrap(), &url, "--put-md5"];
    let (code, out, err) =
        run(ferry_spn(work.path(), &stand_in, SECRET).args(up).args(["--trusted-microsoft-suffixes", &trusted]));
    assert_eq!(code, 0, "{err}\n{out}");
    let back = work.path().join("back.bin");
    let down = ["copy", &format!("{url}/big.bin"), back.to_str().unwrap(), "--block-size-mb", "2"];
    let (code, out, err) = run(ferry_spn(work.path(), &stand_in, SECRET)
        .env("FERRY_LOG", "ferry::http=debug")
        .args(down)
        .args(["--trusted-microsoft-suffixes", &trusted]));
    assert_eq!(code, 0, "{err}\n{out}");
    assert_eq!(std::fs::read(&back).unwrap(), data);
    assert!(!err.contains("not received directly"), "{err}");
    assert!(err.matches("the body went straight to the file").count() >= 3, "{err}");
    assert!(!err.contains(SECRET));
}
