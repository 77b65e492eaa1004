//! SAS tokens that outlive the job (issue #13): a command prints a fresh SAS, and Ferry runs it
//! before the current one expires and when the service refuses it, so no item fails because a
//! SAS ran out. The SAS tokens are minted by the Python SDK with the account key, and Azurite
//! enforces their expiry.

mod common;

use std::path::Path;

use common::{ferry, md5_hex, run};
use ferry_testkit::{Azurite, data::pattern, tools};

const MINT: &str = r#"
import sys, datetime
from azure.storage.blob import generate_container_sas, ContainerSasPermissions
key = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
now = datetime.datetime.now(datetime.timezone.utc)
sas = generate_container_sas('devstoreaccount1', sys.argv[1], account_key=key,
    permission=ContainerSasPermissions(read=True, write=True, create=True, add=True, list=True),
    start=now - datetime.timedelta(seconds=60), expiry=now + datetime.timedelta(seconds=int(sys.argv[2])))
if len(sys.argv) > 3:
    open(sys.argv[3], 'a').write('minted\n')
print(sas)
"#;

/// A SAS for `container` that expires `seconds` from now (negative: expired).
fn mint(work: &Path, container: &str, seconds: i64) -> String {
    let script = work.join("mint.py");
    std::fs::write(&script, MINT).unwrap();
    let out = std::process::Command::new(tools::python())
        .arg(&script)
        .arg(container)
        .arg(seconds.to_string())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The shell command that mints a SAS of `seconds` and counts its runs in `count`.
fn command(work: &Path, container: &str, seconds: i64, count: &Path) -> String {
    format!(
        "'{}' '{}' {container} {seconds} '{}'",
        tools::python().display(),
        work.join("mint.py").display(),
        count.display()
    )
}

fn runs(count: &Path) -> usize {
    std::fs::read_to_string(count).map(|t| t.lines().count()).unwrap_or(0)
}

fn tree(dir: &Path, files: usize, size: usize) -> Vec<(String, String)> {
    std::fs::create_dir_all(dir).unwrap();
    (0..files)
        .map(|i| {
            let data = pattern(size, i as u64 + 17);
            std::fs::write(dir.join(format!("f{i:03}.bin")), &data).unwrap();
            (format!("f{i:03}.bin"), md5_hex(&data))
        })
        .collect()
}

/// A job started with an expired SAS gets a fresh one from its command, once, and no item fails.
#[tokio::test(flavor = "multi_thread")]
async fn an_expired_sas_is_renewed_by_its_command() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("sas-expired").await;
    let work = tempfile::tempdir().unwrap();
    let expected = tree(&work.path().join("src"), 20, 10_000);
    let expired = mint(work.path(), store.container(), -3600);
    let count = work.path().join("count");
    let url = format!("{}?{expired}", azurite.container_url(store.container()));
    let (code, out, err) = run(ferry()
        .env("FERRY_JOB_PLAN_LOCATION", work.path().join("plans"))
        .env("FERRY_LOG_LOCATION", work.path().join("logs"))
        .args(["copy", &format!("{}/*", work.path().join("src").display()), &url, "--put-md5"])
        .args(["--destination-sas-command", &command(work.path(), store.container(), 3600, &count)]));
    assert_eq!(code, 0, "{err}\n{out}");
    assert!(out.contains("Number of File Transfers Failed: 0"), "{out}");
    assert_eq!(runs(&count), 1, "one fresh SAS served the whole job");
    let blobs = common::blob_md5s(azurite, store.container());
    assert_eq!(blobs, expected.into_iter().collect());
}

/// SAS tokens that live 12 s carry a job that takes longer: each is renewed at half its life,
/// and no item fails.
#[tokio::test(flavor = "multi_thread")]
async fn short_lived_sas_tokens_carry_a_longer_job() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("sas-short").await;
    let work = tempfile::tempdir().unwrap();
    let expected = tree(&work.path().join("src"), 12, 150_000);
    let first = mint(work.path(), store.container(), 12);
    let count = work.path().join("count");
    let url = format!("{}?{first}", azurite.container_url(store.container()));
    let started = std::time::Instant::now();
    let (code, out, err) = run(ferry()
        .env("FERRY_JOB_PLAN_LOCATION", work.path().join("plans"))
        .env("FERRY_LOG_LOCATION", work.path().join("logs"))
        .args(["copy", &format!("{}/*", work.path().join("src").display()), &url, "--put-md5", "--cap-mbps", "1"])
        .args(["--destination-sas-command", &command(work.path(), store.container(), 12, &count)]));
    let took = started.elapsed();
    assert_eq!(code, 0, "{err}\n{out}");
    assert!(took.as_secs() >= 13, "the job outlived the first SAS ({took:?})");
    assert!(out.contains("Number of File Transfers Failed: 0"), "{out}");
    assert!(runs(&count) >= 2, "renewed along the way: {} runs in {took:?}", runs(&count));
    let blobs = common::blob_md5s(azurite, store.container());
    assert_eq!(blobs, expected.into_iter().collect());
}

/// A SAS that will run out before the job at the rate so far is warned about while the job runs,
/// with the numbers and the fix (AzCopy never checks, and cancels the job at the first 403).
#[tokio::test(flavor = "multi_thread")]
async fn a_sas_the_job_will_outlive_is_warned_about_with_the_numbers() {
    use std::io::BufRead as _;
    let azurite = Azurite::shared();
    let store = azurite.new_container("sas-eta").await;
    let work = tempfile::tempdir().unwrap();
    tree(&work.path().join("src"), 4, 2_000_000);
    let sas = mint(work.path(), store.container(), 40);
    let url = format!("{}?{sas}", azurite.container_url(store.container()));
    let mut child = ferry()
        .env("FERRY_JOB_PLAN_LOCATION", work.path().join("plans"))
        .env("FERRY_LOG_LOCATION", work.path().join("logs"))
        .args(["copy", &format!("{}/*", work.path().join("src").display()), &url, "--cap-mbps", "1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if line.contains("at the rate so far") {
                let _ = tx.send(line);
                return;
            }
        }
    });
    let warning = rx.recv_timeout(std::time::Duration::from_secs(20));
    let _ = child.kill();
    let _ = child.wait();
    let warning = warning.expect("a warning while the job runs");
    assert!(
        warning.contains("the destination SAS expires at") && warning.contains("of 8000000 bytes moved"),
        "{warning}"
    );
    assert!(warning.contains("--destination-sas-command"), "{warning}");
}
