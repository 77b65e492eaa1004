//! Helpers for the Entra ID tests: the test CA and the OAuth-mode Azurite one test binary
//! shares, `ferry` trusting them, and what landed as the Python SDK sees it.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use ferry_testkit::entra::{EntraStandIn, TestCa};
use ferry_testkit::{Azurite, tools};

use super::ferry;

/// The test CA and the OAuth-mode Azurite shared by this binary.
pub fn oauth() -> &'static (TestCa, Azurite) {
    static SHARED: OnceLock<(TestCa, Azurite)> = OnceLock::new();
    SHARED.get_or_init(|| {
        let ca = TestCa::generate().expect("a test CA");
        let azurite = Azurite::start_oauth(&ca).expect("Azurite in OAuth mode");
        (ca, azurite)
    })
}

/// `host:port` of the OAuth Azurite, for `--trusted-microsoft-suffixes`.
pub fn trusted() -> String {
    format!("127.0.0.1:{}", oauth().1.port())
}

/// `ferry` trusting the test CA, with its state in `work`.
pub fn ferry_at(work: &Path) -> Command {
    let mut cmd = ferry();
    cmd.env("SSL_CERT_FILE", &oauth().0.ca)
        .env("FERRY_JOB_PLAN_LOCATION", work.join("plans"))
        .env("FERRY_LOG_LOCATION", work.join("logs"))
        .env("FERRY_LOGIN_LOCATION", work.join("tokens"));
    cmd
}

/// `ferry` signing in as a service principal through `stand_in`.
pub fn ferry_spn(work: &Path, stand_in: &EntraStandIn, secret: &str) -> Command {
    let mut cmd = ferry_at(work);
    cmd.env("AZCOPY_AUTO_LOGIN_TYPE", "SPN")
        .env("AZCOPY_SPA_APPLICATION_ID", "app-1")
        .env("AZCOPY_SPA_CLIENT_SECRET", secret)
        .env("AZCOPY_TENANT_ID", &stand_in.tenant)
        .env("AZCOPY_ACTIVE_DIRECTORY_ENDPOINT", stand_in.authority());
    cmd
}

/// The blobs of `container` and their MD5s (hex), as the Python SDK sees them with the key.
pub fn blobs(container: &str) -> Vec<(String, String)> {
    let script = r#"
import sys, base64
from azure.storage.blob import ContainerClient
key = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
c = ContainerClient(sys.argv[1], sys.argv[2], credential={'account_name': 'devstoreaccount1', 'account_key': key}, connection_verify=sys.argv[3])
for b in c.list_blobs():
    md5 = b.content_settings.content_md5
    print(b.name, base64.b16encode(bytes(md5)).decode().lower() if md5 else '-')
"#;
    let (ca, azurite) = oauth();
    let out = Command::new(tools::python())
        .args(["-c", script, &azurite.account_url(), container])
        .arg(&ca.ca)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (name, md5) = l.split_once(' ').unwrap();
            (name.to_owned(), md5.to_owned())
        })
        .collect()
}

pub fn token_posts(stand_in: &EntraStandIn) -> Vec<serde_json::Value> {
    stand_in.requests().into_iter().filter(|r| r["method"] == "POST").collect()
}

/// Every file below `dir`, read (for secrets).
pub fn all_files(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(all_files(&path));
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.push((path, bytes));
            }
        }
    }
    out
}
