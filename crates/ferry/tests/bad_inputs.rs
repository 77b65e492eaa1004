//! The bad-input corpus: every way a user can hold Ferry wrong that we know of, run by one test.
//!
//! Each case states its arguments, its documented exit code (2: the command line or the
//! environment is wrong; 1: the job ran and failed) and what the one message must say (what
//! failed, and on what). Every case must also: not panic, leave nothing under a final name that
//! was not there, and delete nothing. Cases that need a scene (a read-only SAS, a file that
//! changes during its upload, a full disk) are set up first.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{ferry, ferry_with_key, run};
use ferry_store::{ListDepth, Store, WriteOptions};
use ferry_testkit::Azurite;
use futures::TryStreamExt;

/// One case: arguments, environment, credentials, and what must come out.
struct Case {
    name: &'static str,
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    with_key: bool,
    code: i32,
    says: Vec<String>,
    /// Paths that must not exist afterwards (a final name that must not appear).
    absent: Vec<PathBuf>,
}

fn case(name: &'static str, code: i32, args: &[&str], says: &[&str]) -> Case {
    Case {
        name,
        args: args.iter().map(|s| (*s).to_owned()).collect(),
        env: Vec::new(),
        with_key: false,
        code,
        says: says.iter().map(|s| (*s).to_owned()).collect(),
        absent: Vec::new(),
    }
}

impl Case {
    fn key(mut self) -> Self {
        self.with_key = true;
        self
    }

    fn env(mut self, name: &'static str, value: &str) -> Self {
        self.env.push((name, value.to_owned()));
        self
    }

    fn absent(mut self, path: &Path) -> Self {
        self.absent.push(path.to_path_buf());
        self
    }
}

async fn keys(store: &impl Store) -> Vec<String> {
    let mut keys: Vec<String> = store.list("", ListDepth::Recursive).map_ok(|e| e.key).try_collect().await.unwrap();
    keys.sort();
    keys
}

fn tree_listing(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file() {
                out.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
#[allow(clippy::too_many_lines)]
async fn every_bad_input_gets_one_clear_message_and_loses_nothing() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("corpus").await;
    let container = store.container().to_owned();
    for (key, body) in [("keep.txt", "keep"), ("dir/a.txt", "a"), ("dir/b.txt", "bb")] {
        store.write(key, bytes::Bytes::from(body).into(), &WriteOptions::default()).await.unwrap();
    }
    let url = azurite.container_url(&container);
    let blob = |name: &str| format!("{url}/{name}");
    let read_only = azurite.container_url_with_sas(&container, "rl");
    let expired = {
        let key = azurite.shared_key();
        let past = time::OffsetDateTime::now_utc() - Duration::from_secs(7200);
        let sas = ferry_azure::service_sas(&key, &ferry_azure::SasScope::Container(container.clone()), "rwdl", past);
        format!("{url}?{}", sas.expose())
    };
    let forged = format!("{url}?sv=2022-11-02&sr=c&sp=rl&se=2099-01-01T00:00:00Z&sig=Zm9yZ2VkLXNpZ25hdHVyZQ%3D%3D");

    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let src = w.join("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("one.txt"), b"one").unwrap();
    std::fs::write(src.join("sub/two.txt"), b"two").unwrap();
    let a_file = w.join("plain-file.txt");
    std::fs::write(&a_file, b"I am a file").unwrap();
    let dangling = w.join("dangling.txt");
    std::os::unix::fs::symlink(w.join("nowhere"), &dangling).unwrap();
    let fifo = w.join("a-fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let odd = w.join("odd");
    std::fs::create_dir(&odd).unwrap();
    std::fs::write(odd.join("trailing."), b"x").unwrap();
    let control = w.join("control");
    std::fs::create_dir(&control).unwrap();
    std::fs::write(control.join("bell\u{7}.txt"), b"x").unwrap();
    let long = w.join("long");
    let mut deep = long.clone();
    for i in 0..5 {
        deep = deep.join(format!("{i}{}", "d".repeat(240)));
    }
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("f.txt"), b"x").unwrap();
    let list_file = w.join("missing-list.txt");
    let (s, file, dl) = (src.to_str().unwrap(), a_file.to_str().unwrap(), w.join("dl"));
    let dl_s = dl.to_str().unwrap();
    let local_before = tree_listing(&src);
    let blobs_before = keys(&store).await;

    let mut cases = vec![
        // Malformed URLs and locations.
        case("ftp scheme", 2, &["list", "ftp://host/x"], &["`ftp://` scheme is not supported"]),
        case(
            "bad container name",
            2,
            &["list", "https://acct.blob.core.windows.net/Bad_Name"],
            &["Bad_Name", "not a valid container name"],
        ),
        case(
            "container name too short",
            2,
            &["list", "https://acct.blob.core.windows.net/ab"],
            &["`ab`", "not a valid container name"],
        ),
        case(
            "double hyphen container",
            2,
            &["copy", s, "https://acct.blob.core.windows.net/a--b", "--recursive"],
            &["a--b", "not a valid container name"],
        ),
        case("no account in path-style URL", 2, &["list", "http://127.0.0.1:1/"], &["name the account"]),
        case("unknown host kind", 2, &["list", "https://files.example.com/box"], &["--from-to"]),
        case("list of a local path", 2, &["list", "./local/dir"], &["works on Blob URLs"]),
        // From the adversarial review (issue #11).
        case(
            "a password in the URL",
            2,
            &["list", "http://alice:PASSW0RD@127.0.0.1:1/devstoreaccount1/box"],
            &["user name or password", "alice:REDACTED@"],
        ),
        case("a job id that is a path", 2, &["jobs", "remove", "../../etc/passwd"], &["not a job id"]),
        case("a job id that is a path, resumed", 2, &["jobs", "resume", "../x"], &["not a job id"]),
        case(
            "a key for a look-alike host",
            1,
            &["list", "https://devstoreaccount1.blob.core.windows.net.attacker.invalid/box"],
            &["not account `devstoreaccount1`'s Azure endpoint"],
        )
        .key(),
        case(
            "remove of a local path",
            2,
            &["remove", "./local/file.txt"],
            &["./local/file.txt", "must be an http:// or https:// URL"],
        ),
        case(
            "make of a blob URL",
            2,
            &["make", "https://a.blob.core.windows.net/box/blob.txt"],
            &["creates containers"],
        ),
        case("copy with no arguments", 2, &["copy"], &["required"]),
        case("copy with one argument", 2, &["copy", s], &["required"]),
        case("sync of a file", 2, &["sync", file, &url], &["plain-file.txt", "is a file"]),
        case("sync of a wildcard", 2, &["sync", &format!("{s}/*.txt"), &url], &["sync takes directories"]),
        case("directory without --recursive", 2, &["copy", s, &url], &["--recursive"]).key(),
        case(
            "account URL as a copy destination",
            2,
            &["copy", file, "https://a.blob.core.windows.net/"],
            &["container"],
        ),
        // Unknown flags and bad values.
        case("unknown flag", 2, &["copy", s, &url, "--bogus"], &["--bogus"]),
        case("block size not a number", 2, &["copy", s, &url, "--block-size-mb", "abc"], &["--block-size-mb", "abc"]),
        case("block size zero", 2, &["copy", file, &url, "--block-size-mb", "0"], &["--block-size-mb"]).key(),
        case("block size too big", 2, &["copy", file, &url, "--block-size-mb", "5000"], &["--block-size-mb"]).key(),
        case("put blob size too big", 2, &["copy", file, &url, "--put-blob-size-mb", "9999"], &["--put-blob-size-mb"])
            .key(),
        case("bad overwrite value", 2, &["copy", s, &url, "--overwrite", "maybe"], &["--overwrite", "maybe"]),
        case(
            "bad check-md5 value",
            2,
            &["copy", &url, dl_s, "--check-md5", "Sometimes"],
            &["--check-md5", "Sometimes"],
        ),
        case(
            "unsupported from-to",
            2,
            &["copy", s, &url, "--from-to", "LocalFileNFS", "--recursive"],
            &["LocalFileNFS"],
        )
        .key(),
        case("nonsense from-to", 2, &["copy", s, &url, "--from-to", "Nonsense"], &["Nonsense"]),
        case("bad output type", 2, &["list", &url, "--output-type", "xml"], &["--output-type", "xml"]),
        case("bad output level", 2, &["list", &url, "--output-level", "loud"], &["--output-level", "loud"]),
        case("bad log level", 2, &["copy", s, &url, "--log-level", "CHATTY"], &["--log-level", "CHATTY"]),
        case("bad max-delete", 2, &["sync", s, &url, "--max-delete", "five"], &["--max-delete `five`"]).key(),
        case("max-delete over 100%", 2, &["sync", s, &url, "--max-delete", "150%"], &["--max-delete `150%`"]).key(),
        case(
            "bad delete-destination",
            2,
            &["sync", s, &url, "--delete-destination", "maybe"],
            &["--delete-destination", "maybe"],
        ),
        case(
            "bad include-after",
            2,
            &["copy", s, &url, "--recursive", "--include-after", "yesterday"],
            &["--include-after", "yesterday"],
        )
        .key(),
        case("bad include-pattern glob", 2, &["copy", s, &url, "--recursive", "--include-pattern", "[a"], &["[a"])
            .key(),
        case("bad include-regex", 2, &["copy", s, &url, "--recursive", "--include-regex", "(unclosed"], &["(unclosed"])
            .key(),
        case("metadata without =", 2, &["copy", file, &url, "--metadata", "novalue"], &["--metadata", "novalue"]).key(),
        case("blob tags without =", 2, &["copy", file, &url, "--blob-tags", "k"], &["--blob-tags"]).key(),
        case("negative cap-mbps", 2, &["copy", file, &url, "--cap-mbps=-1"], &["--cap-mbps"]).key(),
        case("negative number as a flag", 2, &["copy", file, &url, "--cap-mbps", "-1"], &["'-1'"]).key(),
        case("bad compare-hash", 2, &["sync", s, &url, "--compare-hash", "SHA1"], &["--compare-hash", "SHA1"]),
        case("bad boolean", 2, &["copy", s, &url, "--recursive=maybe"], &["--recursive", "maybe"]),
        case("bench size unit", 2, &["bench", &url, "--size-per-file", "3X"], &["--size-per-file `3X`"]).key(),
        case("bench zero files", 2, &["bench", &url, "--file-count", "0"], &["--file-count"]).key(),
        case(
            "jobs show unknown id",
            1,
            &["jobs", "show", "0123456789abcdef0123456789abcdef"],
            &["0123456789abcdef0123456789abcdef"],
        ),
        case(
            "jobs resume unknown id",
            1,
            &["jobs", "resume", "0123456789abcdef0123456789abcdef"],
            &["0123456789abcdef0123456789abcdef"],
        ),
        case("bad environment number", 2, &["list", &url], &["FERRY_MAX_RETRIES"]).env("FERRY_MAX_RETRIES", "lots"),
        case("bad concurrency", 2, &["list", &url], &["AZCOPY_CONCURRENCY_VALUE"])
            .env("AZCOPY_CONCURRENCY_VALUE", "-3"),
        // Conflicting flags.
        case(
            "delete prompt while quiet",
            2,
            &["sync", s, &url, "--delete-destination", "prompt", "--output-level", "quiet"],
            &["--delete-destination prompt"],
        )
        .key(),
        case(
            "overwrite prompt while essential",
            2,
            &["copy", s, &url, "--recursive", "--overwrite", "prompt", "--output-level", "essential"],
            &["--overwrite prompt"],
        )
        .key(),
        case(
            "list-of-files that does not exist",
            2,
            &["copy", &url, dl_s, "--list-of-files", list_file.to_str().unwrap()],
            &["missing-list.txt"],
        )
        .key(),
        // Credentials.
        case("no credential for a private container", 1, &["list", &url], &[&container]),
        case("read-only SAS for a write", 1, &["copy", file, &read_only], &["plain-file.txt", "403"]),
        case("expired SAS", 1, &["list", &expired], &[&container, "expired"]),
        case("forged SAS signature", 1, &["list", &forged], &["authentication failed"]),
        case("wrong account key", 1, &["list", &url], &["authentication failed"])
            .env("AZURE_STORAGE_ACCOUNT", "devstoreaccount1")
            .env("AZURE_STORAGE_KEY", "d3JvbmcgYnV0IHZhbGlkIGJhc2U2NA=="),
        case("account key not base64", 2, &["list", &url], &["AZURE_STORAGE_KEY"])
            .env("AZURE_STORAGE_ACCOUNT", "devstoreaccount1")
            .env("AZURE_STORAGE_KEY", "***not base64***"),
        case("garbage connection string", 2, &["list", &url], &["AZURE_STORAGE_CONNECTION_STRING"])
            .env("AZURE_STORAGE_CONNECTION_STRING", "this is not one"),
        // Things that do not exist.
        case(
            "missing container",
            1,
            &["list", &azurite.container_url("never-made-corpus")],
            &["never-made-corpus", "ContainerNotFound"],
        )
        .key(),
        case("missing blob to download", 1, &["copy", &blob("nope.bin"), dl_s], &["nope.bin"])
            .key()
            .absent(&dl.join("nope.bin")),
        case("missing local file to upload", 1, &["copy", w.join("nope.txt").to_str().unwrap(), &url], &["nope.txt"])
            .key(),
        case("remove of a missing blob", 2, &["remove", &blob("nope.bin")], &["nope.bin", "is not a blob"]).key(),
        case(
            "remove of an empty prefix",
            1,
            &["remove", &blob("nothing-here"), "--recursive"],
            &["nothing found to remove"],
        )
        .key(),
        case(
            "sync from a missing directory",
            1,
            &["sync", w.join("gone").to_str().unwrap(), &url],
            &["gone", "does not exist"],
        )
        .key(),
        case(
            "download of an empty prefix",
            1,
            &["copy", &blob("empty-prefix"), dl_s, "--recursive"],
            &["empty-prefix"],
        )
        .key(),
        case("connection refused", 1, &["list", "http://127.0.0.1:1/devstoreaccount1/box"], &["127.0.0.1:1"]),
        // Local trouble.
        case("dangling symlink to upload", 1, &["copy", dangling.to_str().unwrap(), &url], &["dangling.txt"]).key(),
        case("a FIFO to upload", 1, &["copy", fifo.to_str().unwrap(), &url], &["a-fifo", "not a regular file"]).key(),
        case(
            "download below a file",
            1,
            &["copy", &blob("keep.txt"), &format!("{file}/inside.txt")],
            &["plain-file.txt"],
        )
        .key(),
        case("recursive download onto a file", 2, &["copy", &blob("dir"), file, "--recursive"], &["plain-file.txt"])
            .key(),
        // Names the service would change or refuse.
        case("trailing dot name", 1, &["copy", &format!("{}/*", odd.display()), &url], &["trailing."]).key(),
        case("control character name", 1, &["copy", &format!("{}/*", control.display()), &url], &["bell"]).key(),
        case(
            "name over 1,024 characters",
            1,
            &["copy", long.to_str().unwrap(), &url, "--recursive"],
            &["1,024", "f.txt"],
        )
        .key(),
        // Plain http to a real host is refused unless asked for.
        case(
            "plain http to a remote host",
            2,
            &["list", "http://myaccount.blob.core.windows.net/box"],
            &["http://", "FERRY_ALLOW_HTTP"],
        ),
    ];

    // A file that changes while it is being uploaded (slowed down so the change lands mid-way).
    let changing = w.join("changing.bin");
    std::fs::write(&changing, vec![7u8; 3 * 1024 * 1024]).unwrap();

    let total = cases.len() + 2;
    assert!(total >= 60, "the corpus has {total} cases");
    let mut failures = Vec::new();
    for c in cases.drain(..) {
        let mut cmd = if c.with_key { ferry_with_key() } else { ferry() };
        for (k, v) in &c.env {
            cmd.env(k, v);
        }
        cmd.env("FERRY_JOB_PLAN_LOCATION", w.join("plans")).env("FERRY_LOG_LOCATION", w.join("logs"));
        let (code, out, err) = run(cmd.args(&c.args));
        let mut wrong = Vec::new();
        if code != c.code {
            wrong.push(format!("exit {code}, expected {}", c.code));
        }
        for text in &c.says {
            if !err.contains(text.as_str()) {
                wrong.push(format!("does not say `{text}`"));
            }
        }
        if err.contains("panicked") || err.contains("RUST_BACKTRACE") {
            wrong.push("panicked".into());
        }
        if !err.contains("error") && !err.contains("ERROR") && !err.contains("FAILED") {
            wrong.push("no error message".into());
        }
        for path in &c.absent {
            if path.exists() {
                wrong.push(format!("left {}", path.display()));
            }
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "[{}] {}\n  stdout: {}\n  stderr: {}",
                c.name,
                wrong.join("; "),
                out.trim(),
                err.trim()
            ));
        }
    }

    // The file that changes mid-upload: the copy fails, naming it, and no blob is committed.
    let child = ferry_with_key()
        .args(["copy", changing.to_str().unwrap(), &blob("changing.bin"), "--cap-mbps", "4", "--block-size-mb", "1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    std::fs::write(&changing, vec![9u8; 3 * 1024 * 1024 + 1]).unwrap();
    let output = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    if output.status.code() != Some(1) || !err.contains("changing.bin") || !err.contains("changed") {
        failures.push(format!("[file changed during upload] exit {:?}: {err}", output.status.code()));
    }

    // A destination that cannot take the data: writes past 1 MiB fail (the file-size limit
    // stands in for a full disk; SIGXFSZ is ignored so the write fails instead of killing).
    let big = w.join("big.bin");
    std::fs::write(&big, vec![1u8; 2 * 1024 * 1024]).unwrap();
    store
        .write("big.bin", bytes::Bytes::from(vec![1u8; 2 * 1024 * 1024]).into(), &WriteOptions::default())
        .await
        .unwrap();
    let full = w.join("full");
    std::fs::create_dir(&full).unwrap();
    let script = format!(
        "trap '' XFSZ; ulimit -f 1024; exec \"$0\" copy '{}' '{}'",
        blob("big.bin"),
        full.join("big.bin").display()
    );
    let (code, _, err) = run(&mut through_shell(ferry_with_key(), &script));
    if code != 1 || !err.contains("big.bin") || full.join("big.bin").exists() {
        failures.push(format!("[destination cannot take the data] exit {code}: {err}"));
    }
    if std::fs::read_dir(&full).unwrap().count() != 0 {
        failures.push("[destination cannot take the data] left a temporary file".into());
    }

    assert!(failures.is_empty(), "{} of {total} cases failed:\n{}", failures.len(), failures.join("\n"));
    // Nothing was deleted or changed by any of it.
    assert_eq!(tree_listing(&src), local_before, "the local source is untouched");
    let after = keys(&store).await;
    for key in &blobs_before {
        assert!(after.contains(key), "{key} survived the corpus");
    }
    assert!(!after.iter().any(|k| k.contains("trailing") || k.contains("bell") || k.contains("changing")), "{after:?}");
    assert!(failures.is_empty(), "{} of {total} cases failed:\n{}", failures.len(), failures.join("\n"));
}

/// `ferry` (with its environment) run through `sh -c SCRIPT`, the binary being `$0`.
fn through_shell(ferry: std::process::Command, script: &str) -> std::process::Command {
    let mut shell = std::process::Command::new("/bin/sh");
    shell.arg("-c").arg(script).arg(ferry.get_program());
    for (name, value) in ferry.get_envs() {
        match value {
            Some(value) => shell.env(name, value),
            None => shell.env_remove(name),
        };
    }
    shell
}
