//! More Microsoft Entra ID credential sources (issue #13): the Azure CLI's and Azure PowerShell's
//! sign-ins (`azcli`, `pscred`), through stand-ins for `az` and `pwsh` (neither can be installed
//! and signed in here) that hand out the Entra stand-in's tokens in their own output shapes; and
//! a service principal's PKCS#12 certificate opened with its password. Azurite in OAuth mode
//! checks every token; the Python SDK checks what landed.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::entra::{all_files, blobs, ferry_at, oauth, token_posts, trusted};
use common::run;
use ferry_testkit::entra::{EntraStandIn, StandInOptions};

/// `ferry` with the developer-tool stand-ins first on `PATH`.
fn ferry_with_tools(work: &Path, tools: &Path) -> Command {
    let mut cmd = ferry_at(work);
    let path = std::env::var("PATH").unwrap_or_default();
    cmd.env("PATH", format!("{}:{path}", tools.display()));
    cmd
}

fn a_file(work: &Path, name: &str, size: usize) -> (PathBuf, Vec<u8>) {
    let data = ferry_testkit::data::pattern(size, size as u64);
    let path = work.join(name);
    std::fs::write(&path, &data).unwrap();
    (path, data)
}

/// `ferry login --login-type azcli` asks `az` once for a storage token (for the tenant given);
/// a later process uses the saved sign-in and the shared token without asking again, and
/// `login status` names the method.
#[test]
fn an_azure_cli_sign_in_serves_later_processes() {
    let stand_in = EntraStandIn::start(&oauth().0, &StandInOptions::default()).unwrap();
    let tools = stand_in.developer_tools().unwrap();
    let work = tempfile::tempdir().unwrap();
    let d = work.path();
    let (code, out, err) =
        run(ferry_with_tools(d, &tools).args(["login", "--login-type", "AZCLI", "--tenant-id", &stand_in.tenant]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("INFO: Login with AzCliCreds succeeded"), "{out}");
    let (file, data) = a_file(d, "cli.bin", 300_000);
    let url = format!("{}/entra-azcli", oauth().1.account_url());
    let (code, out, err) = run(ferry_with_tools(d, &tools).args([
        "copy",
        file.to_str().unwrap(),
        &url,
        "--put-md5",
        "--trusted-microsoft-suffixes",
        &trusted(),
    ]));
    assert_eq!(code, 0, "{err}\n{out}");
    assert!(err.contains("INFO: Authenticating to destination using Azure AD"), "{err}");
    assert_eq!(blobs("entra-azcli"), vec![("cli.bin".to_owned(), common::md5_hex(&data))]);
    let calls = stand_in.tool_calls();
    assert_eq!(calls.len(), 1, "one token between login and copy: {calls:?}");
    let args: Vec<&str> = calls[0]["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert_eq!(
        args,
        [
            "account",
            "get-access-token",
            "--output",
            "json",
            "--resource",
            "https://storage.azure.com",
            "--tenant",
            &stand_in.tenant
        ]
    );
    let (code, out, _) = run(ferry_with_tools(d, &tools).args(["login", "status", "--method"]));
    assert_eq!(code, 0);
    assert!(out.contains("INFO: Authorized using azcli"), "{out}");
    let token = stand_in.requests().into_iter().find(|r| r["method"] == "GET").unwrap();
    assert_eq!(token["query"]["resource"], "https://storage.azure.com", "{token}");
    for (path, bytes) in all_files(d) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("accessToken"), "a tool's answer is kept in {}", path.display());
    }
}

/// Auto-login through Azure PowerShell (`AZCOPY_AUTO_LOGIN_TYPE=PSCRED`) uploads with the token
/// `Get-AzAccessToken` gave; a tool nobody signed in to, and a missing one, are named as such.
#[test]
fn powershell_auto_login_and_tools_that_cannot_give_a_token() {
    let stand_in = EntraStandIn::start(&oauth().0, &StandInOptions::default()).unwrap();
    let tools = stand_in.developer_tools().unwrap();
    let work = tempfile::tempdir().unwrap();
    let d = work.path();
    let (file, data) = a_file(d, "ps.bin", 123_457);
    let url = format!("{}/entra-pscred", oauth().1.account_url());
    let copy = |cmd: &mut Command, kind: &str| {
        run(cmd.env("AZCOPY_AUTO_LOGIN_TYPE", kind).args([
            "copy",
            file.to_str().unwrap(),
            &url,
            "--put-md5",
            "--trusted-microsoft-suffixes",
            &trusted(),
        ]))
    };
    let (code, out, err) = copy(&mut ferry_with_tools(d, &tools), "PSCRED");
    assert_eq!(code, 0, "{err}\n{out}");
    assert_eq!(blobs("entra-pscred"), vec![("ps.bin".to_owned(), common::md5_hex(&data))]);
    let calls = stand_in.tool_calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0]["tool"], "pwsh");
    let script = calls[0]["args"].as_array().unwrap().last().unwrap().as_str().unwrap().to_owned();
    assert!(script.contains("Get-AzAccessToken -ResourceUrl 'https://storage.azure.com'"), "{script}");

    let signed_out = tempfile::tempdir().unwrap();
    let (code, _, err) =
        copy(ferry_with_tools(signed_out.path(), &tools).env("FERRY_TEST_TOOL_SIGNED_OUT", "1"), "AZCLI");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("Please run 'az login'") && err.contains("az login"), "{err}");

    let no_tools = tempfile::tempdir().unwrap();
    let (code, _, err) =
        run(ferry_at(no_tools.path()).env("PATH", "/nonexistent").args(["login", "--login-type=pscred"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("`pwsh` is not installed"), "{err}");
    assert!(!no_tools.path().join("tokens/login.json").exists(), "a failed login saves nothing");
}

/// A service principal's PKCS#12 certificate (OpenSSL 3's AES form and the legacy one) opens with
/// `AZCOPY_SPA_CERT_PASSWORD` and signs the assertion; a wrong password is named before any token
/// request; the password shows nowhere.
#[test]
fn a_pkcs12_certificate_opens_with_its_password() {
    use base64::Engine as _;
    const PASSWORD: &str = "pfx-Password-never-shown";
    let stand_in = EntraStandIn::start(&oauth().0, &StandInOptions::default()).unwrap();
    let work = tempfile::tempdir().unwrap();
    let d = work.path();
    let sh = |script: &str| {
        let out = Command::new("sh").arg("-c").arg(script).current_dir(d).output().unwrap();
        assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    sh(&format!(
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 -subj /CN=app-pfx 2>/dev/null \
         && openssl pkcs12 -export -in cert.pem -inkey key.pem -out modern.pfx -passout pass:{PASSWORD} \
         && openssl pkcs12 -export -legacy -in cert.pem -inkey key.pem -out legacy.pfx -passout pass:{PASSWORD}"
    ));
    let thumbprint = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sh("openssl x509 -in cert.pem -outform der | openssl dgst -sha256 -binary"));
    let url = format!("{}/entra-pfx", oauth().1.account_url());
    let make = |pfx: &str, password: &str| {
        let state = d.join(format!("state-{pfx}-{}", password.len()));
        run(ferry_at(&state)
            .env("AZCOPY_AUTO_LOGIN_TYPE", "SPN")
            .env("AZCOPY_SPA_APPLICATION_ID", "app-pfx")
            .env("AZCOPY_SPA_CERT_PATH", d.join(pfx))
            .env("AZCOPY_SPA_CERT_PASSWORD", password)
            .env("AZCOPY_TENANT_ID", &stand_in.tenant)
            .env("AZCOPY_ACTIVE_DIRECTORY_ENDPOINT", stand_in.authority())
            .args(["make", &url, "--trusted-microsoft-suffixes", &trusted()]))
    };
    let (code, out, err) = make("modern.pfx", "not-the-password");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("does not open with the password in AZCOPY_SPA_CERT_PASSWORD"), "{err}");
    assert!(token_posts(&stand_in).is_empty(), "no token request with a wrong password");
    assert!(!out.contains("not-the-password") && !err.contains("not-the-password"));
    for pfx in ["modern.pfx", "legacy.pfx"] {
        let before = token_posts(&stand_in).len();
        let (code, out, err) = make(pfx, PASSWORD);
        assert!(code == 0 || err.contains("already exists"), "{pfx}: {err}");
        assert!(!out.contains(PASSWORD) && !err.contains(PASSWORD));
        let posts = token_posts(&stand_in);
        assert_eq!(posts.len(), before + 1, "{pfx}: {posts:?}");
        let jwt = posts[before]["form"]["client_assertion"].as_str().unwrap().to_owned();
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(jwt.split('.').next().unwrap()).unwrap();
        let header: serde_json::Value = serde_json::from_slice(&header).unwrap();
        assert_eq!((header["alg"].as_str(), header["x5t#S256"].as_str()), (Some("PS256"), Some(thumbprint.as_str())));
    }
    for (path, bytes) in all_files(d) {
        assert!(!String::from_utf8_lossy(&bytes).contains(PASSWORD), "the password is in {}", path.display());
    }
}
