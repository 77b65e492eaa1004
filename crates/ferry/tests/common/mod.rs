//! Helpers for running the `ferry` binary in tests.

#![allow(dead_code, unreachable_pub)]

pub mod entra;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use ferry_azure::DEVELOPMENT_KEY;

/// A `ferry` command with a clean environment: no inherited credentials or settings, and
/// failures reported fast (no retries).
pub fn ferry() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferry"));
    for var in ferry_cli::ENV_VARS {
        cmd.env_remove(var.name);
    }
    cmd.env("FERRY_MAX_RETRIES", "0")
        .env("NO_COLOR", "1")
        .env("FERRY_LOG_LOCATION", std::env::temp_dir().join("ferry-test-logs"))
        .env("FERRY_JOB_PLAN_LOCATION", std::env::temp_dir().join("ferry-test-plans"));
    cmd
}

/// `ferry` authorised with the emulator's shared key through the environment.
pub fn ferry_with_key() -> Command {
    let mut cmd = ferry();
    cmd.env("AZURE_STORAGE_ACCOUNT", "devstoreaccount1").env("AZURE_STORAGE_KEY", DEVELOPMENT_KEY);
    cmd
}

/// Runs a command and returns (exit code, stdout, stderr).
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output { status, stdout, stderr } = cmd.output().expect("ferry runs");
    (
        status.code().expect("ferry exits with a code, not a signal"),
        String::from_utf8(stdout).expect("stdout is UTF-8"),
        String::from_utf8(stderr).expect("stderr is UTF-8"),
    )
}

/// The number after `LABEL: ` in a summary.
pub fn summary_value(stdout: &str, label: &str) -> u64 {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{label}: ")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no `{label}` in {stdout}"))
}

/// The job id in `Job ID has started`.
pub fn job_id(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("Job ")?.strip_suffix(" has started"))
        .unwrap_or_else(|| panic!("no job id in {stdout}"))
        .to_owned()
}

/// The MD5 of `data`, in lower-case hex.
pub fn md5_hex(data: &[u8]) -> String {
    ferry_store::md5_of(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// Each blob's stored Content-MD5 (hex, `-` when none) as the Python SDK reads it from the
/// service, by name: an independent reader's view.
pub fn python_md5s(azurite: &ferry_testkit::Azurite, container: &str) -> std::collections::BTreeMap<String, String> {
    let script = r#"
import sys
from azure.storage.blob import ContainerClient
client = ContainerClient.from_container_url(sys.argv[1], credential={"account_name": "devstoreaccount1", "account_key": sys.argv[2]})
for blob in client.list_blobs():
    md5 = blob.content_settings.content_md5
    print(blob.name + "\t" + (bytes(md5).hex() if md5 else "-"))
"#;
    let out = Command::new(ferry_testkit::tools::python())
        .args(["-c", script, &azurite.container_url(container), ferry_azure::DEVELOPMENT_KEY])
        .output()
        .expect("python runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .filter_map(|l| l.rsplit_once('\t').map(|(name, md5)| (name.to_owned(), md5.to_owned())))
        .collect()
}

/// Edits the spec of the journal at `from` with Python's sqlite3, as a user or an attacker with
/// write access could, writing the result to `to` (a copy, or `from` itself). `edit` is Python
/// that changes the dict `s`; `argv` is `sys.argv[3:]`.
pub fn edit_journal_spec(from: &std::path::Path, to: &std::path::Path, edit: &str, argv: &[&str]) {
    let script = format!(
        "import sqlite3,sys,json\nif sys.argv[1]!=sys.argv[2]: sqlite3.connect(sys.argv[1]).execute('vacuum into ?',(sys.argv[2],))\n\
         c=sqlite3.connect(sys.argv[2])\ns=json.loads(c.execute('select spec from job').fetchone()[0])\n{edit}\n\
         c.execute('update job set spec=?',(json.dumps(s),))\nc.commit()"
    );
    let status = std::process::Command::new(ferry_testkit::tools::python())
        .arg("-c")
        .arg(&script)
        .arg(from)
        .arg(to)
        .args(argv)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Name → MD5 (hex) of every blob, as the Python SDK computes it from the bytes it downloads.
pub fn blob_md5s(azurite: &ferry_testkit::Azurite, container: &str) -> std::collections::BTreeMap<String, String> {
    let script = r#"
import sys, hashlib
from azure.storage.blob import ContainerClient
c = ContainerClient.from_container_url(sys.argv[1], credential={"account_name": "devstoreaccount1", "account_key": sys.argv[2]})
for b in c.list_blobs():
    print(b.name + "\t" + hashlib.md5(c.download_blob(b.name).readall()).hexdigest())
"#;
    let out = std::process::Command::new(ferry_testkit::tools::python())
        .args(["-c", script, &azurite.container_url(container), ferry_azure::DEVELOPMENT_KEY])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (n, m) = l.rsplit_once('\t').unwrap();
            (n.to_owned(), m.to_owned())
        })
        .collect()
}

/// Runs Python `body` with `c`, a `ContainerClient` of `container` signed with the account key
/// (the Python SDK: an independent client), and returns what it printed.
pub fn python_in(azurite: &ferry_testkit::Azurite, container: &str, body: &str) -> String {
    let script = format!(
        "import sys\nfrom azure.storage.blob import ContainerClient\nc = ContainerClient.from_container_url(sys.argv[1], credential={{'account_name': 'devstoreaccount1', 'account_key': sys.argv[2]}})\n{body}"
    );
    let out = std::process::Command::new(ferry_testkit::tools::python())
        .args(["-c", &script, &azurite.container_url(container), DEVELOPMENT_KEY])
        .output()
        .expect("python runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// The journal's first row of `sql`, through Python's sqlite3 (an independent reader and writer).
pub fn sqlite(db: &std::path::Path, sql: &str) -> String {
    let script = "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nrows=c.executescript(sys.argv[2]) if ';' in sys.argv[2] else c.execute(sys.argv[2]).fetchall()\nc.commit()\nprint(rows[0][0] if isinstance(rows, list) and rows else '')";
    let out = std::process::Command::new(ferry_testkit::tools::python())
        .args(["-c", script])
        .arg(db)
        .arg(sql)
        .output()
        .expect("python runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8").trim().to_owned()
}

/// Runs AzCopy with its state kept in `state` and a stdin that blocks like a terminal's
/// (AzCopy busy-polls a stdin at end-of-file). Returns (exit code, stdout + stderr).
pub fn azcopy(state: &std::path::Path, args: &[&str]) -> (i32, String) {
    let log = state.join("azcopy-output.txt");
    let out = std::fs::File::create(&log).unwrap();
    let mut child = std::process::Command::new(ferry_testkit::tools::azcopy())
        .args(args)
        .env("AZCOPY_LOG_LOCATION", state.join("logs"))
        .env("AZCOPY_JOB_PLAN_LOCATION", state.join("plans"))
        .stdin(std::process::Stdio::piped())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .expect("AzCopy runs");
    let stdin = child.stdin.take();
    let status = child.wait().unwrap();
    drop(stdin);
    (status.code().unwrap_or(-1), std::fs::read_to_string(&log).unwrap_or_default())
}

/// A tree of `root` for split runs, its names its contents; names a partition must treat right: case twins, NFC and NFD spellings, non-Latin
/// letters, the special lower cases (`İ`, final `Σ`), and plenty of ordinary ones.
pub fn corpus(root: &Path) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = [
        "Photos/IMG_0001.JPG",
        "photos/img_0001.jpg",
        "caf\u{e9}.txt",
        "cafe\u{301}.txt",
        "\u{130}stanbul.txt",
        "istanbul.txt",
        "\u{39f}\u{394}\u{39f}\u{3a3}.txt",
        "STRASSE-\u{df}.txt",
        "\u{1c4}.txt",
        "K-kelvin-\u{212a}.txt",
        "emoji-\u{1f600}.txt",
        "deep/a/b/c/d.txt",
        "sp ace+plus%.txt",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    names.extend((0..300).map(|i| format!("dir{}/file-{i:04}.bin", i % 7)));
    for name in &names {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, name.as_bytes()).unwrap();
    }
    names
}

/// Every file under `root`, as relative paths.
pub fn files(root: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.insert(path.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(root, root, &mut out);
    out
}

/// Every file under `root` with its bytes.
pub fn tree(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.insert(path.strip_prefix(root).unwrap().display().to_string(), std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(root, root, &mut out);
    out
}
