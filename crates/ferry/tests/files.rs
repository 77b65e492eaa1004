//! Ferry on Azure Files (issue #18), against the test kit's Files emulator (itself checked by
//! the official Python client and by AzCopy): local ↔ share, Blob ↔ share and share ↔ share,
//! `sync`, `list`, `make --quota-gb`, and what the share holds afterwards read by the official
//! client — and, as a differential check, the same jobs done by AzCopy leave the same state.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{ferry_with_key, run, summary_value, tree};
use ferry_testkit::files_emulator::FilesEmulator;
use serde_json::Value;

/// What `share` holds, read by the official Python client: one record per file, by path.
fn share_state(emulator: &FilesEmulator, share: &str) -> BTreeMap<String, Value> {
    let script = ferry_testkit::tools::repo_root().join("crates/ferry-testkit/checks/files_state.py");
    let out = std::process::Command::new(ferry_testkit::tools::python())
        .arg(script)
        .args([&emulator.account_url(), share])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["path"].as_str().unwrap().to_owned(), v)
        })
        .collect()
}

/// Gives `path` in `share` SMB attributes, a creation (and last-write) time and a permission,
/// through the official client.
fn mark(emulator: &FilesEmulator, share: &str, path: &str, attributes: &str, creation: &str, sddl: &str) {
    let script = ferry_testkit::tools::repo_root().join("crates/ferry-testkit/checks/files_state.py");
    let out = std::process::Command::new(ferry_testkit::tools::python())
        .arg(script)
        .args([&emulator.account_url(), share, "--mark", path, attributes, creation, sddl])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Every file and directory path in `share` (directories end in `/`), by the official client.
fn share_paths(emulator: &FilesEmulator, share: &str) -> Vec<String> {
    let script = ferry_testkit::tools::repo_root().join("crates/ferry-testkit/checks/files_state.py");
    let out = std::process::Command::new(ferry_testkit::tools::python())
        .arg(script)
        .args([&emulator.account_url(), share, "--paths"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect()
}

/// A small tree: a 9 MiB file (three ranges, one all zeros), nested folders, an empty file, a
/// name with spaces and `#`, written an hour ago.
fn source_tree(root: &Path) {
    std::fs::create_dir_all(root.join("d/e")).unwrap();
    std::fs::create_dir_all(root.join("d/empty")).unwrap();
    let mut big = ferry_testkit::data::pattern(9 * 1024 * 1024 + 17, 3);
    big[4 * 1024 * 1024..8 * 1024 * 1024].fill(0);
    std::fs::write(root.join("d/big.bin"), big).unwrap();
    std::fs::write(root.join("d/e/small.txt"), b"small").unwrap();
    std::fs::write(root.join("top #1.txt"), b"top").unwrap();
    std::fs::write(root.join("empty.bin"), b"").unwrap();
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for name in ["d/big.bin", "d/e/small.txt", "top #1.txt", "empty.bin"] {
        std::fs::File::options().write(true).open(root.join(name)).unwrap().set_modified(hour_ago).unwrap();
    }
}

fn md5_hex(data: &[u8]) -> String {
    common::md5_hex(data)
}

#[test]
fn a_tree_goes_to_a_share_and_back_and_sync_copies_only_what_changed() {
    let emulator = FilesEmulator::shared();
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    source_tree(&src);
    let share = ferry_testkit::Azurite::unique_name("made");
    let share_url = format!("{}/{share}", emulator.account_url());

    let (code, out, err) = run(ferry_with_key().args(["make", &share_url, "--location", "File", "--quota-gb", "7"]));
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = run(ferry_with_key().args(["make", &share_url, "--location", "File"]));
    assert_eq!(code, 1, "a second make fails");
    assert!(err.contains("already exists"), "{err}");

    let into = format!("{share_url}/up");
    let (code, out, err) = run(ferry_with_key().args([
        "copy",
        &format!("{}/*", src.display()),
        &into,
        "--from-to",
        "LocalFileSMB",
        "--recursive",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(summary_value(&out, "Number of File Transfers Completed"), 4, "{out}");
    assert!(share_paths(emulator, &share).contains(&"up/d/empty/".to_owned()), "an empty directory is made too");

    // The official client reads what Ferry wrote: bytes, the whole file's MD5 stored, and the
    // local modification time as the last-write time.
    let state = share_state(emulator, &share);
    let files = tree(&src);
    assert_eq!(state.keys().cloned().collect::<Vec<_>>(), files.keys().map(|k| format!("up/{k}")).collect::<Vec<_>>());
    for (name, data) in &files {
        let record = &state[&format!("up/{name}")];
        assert_eq!(record["md5"], md5_hex(data), "{name}");
        assert_eq!(record["size"], data.len(), "{name}");
        let stored = base64_md5(record["content_md5"].as_str().expect("Content-MD5 stored"));
        assert_eq!(stored, md5_hex(data), "{name}: the stored Content-MD5");
        let mtime = std::fs::metadata(src.join(name)).unwrap().modified().unwrap();
        assert_eq!(record["last_write"].as_str().unwrap(), iso(mtime), "{name}: last-write time is the file's mtime");
    }

    let (code, out, err) = run(ferry_with_key().args(["list", &share_url, "--location", "File", "--machine-readable"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("up/d/big.bin; Content Length: 9437201"), "{out}");

    let down = work.path().join("down");
    let (code, out, err) = run(ferry_with_key().args([
        "copy",
        &format!("{into}/*"),
        down.to_str().unwrap(),
        "--from-to",
        "FileSMBLocal",
        "--recursive",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(tree(&down), files, "downloaded byte for byte");
    assert!(down.join("d/empty").is_dir(), "and the empty directory with them");

    // Nothing changed: nothing copied. One file changed, one added, one gone from the source.
    let sync = |extra: &[&str]| {
        let mut args = vec!["sync", src.to_str().unwrap(), into.as_str(), "--from-to", "LocalFileSMB"];
        args.extend_from_slice(extra);
        run(ferry_with_key().args(args))
    };
    let (code, out, err) = sync(&[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(summary_value(&out, "Number of Copy Transfers for Files"), 0, "{out}");
    std::fs::write(src.join("d/e/small.txt"), b"changed").unwrap();
    std::fs::write(src.join("new.txt"), b"new").unwrap();
    std::fs::remove_file(src.join("empty.bin")).unwrap();
    let (code, out, err) = sync(&["--delete-destination", "true"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(summary_value(&out, "Number of Copy Transfers for Files"), 2, "{out}");
    assert_eq!(summary_value(&out, "Number of Deletions at Destination"), 1, "{out}");
    let state = share_state(emulator, &share);
    let files = tree(&src);
    assert_eq!(state.keys().cloned().collect::<Vec<_>>(), files.keys().map(|k| format!("up/{k}")).collect::<Vec<_>>());
    assert_eq!(state["up/d/e/small.txt"]["md5"], md5_hex(b"changed"));

    // Removing a directory removes its files, then the directories left empty; nothing else.
    let (code, out, err) =
        run(ferry_with_key().args(["remove", &format!("{into}/d"), "--from-to", "FileSMBTrash", "--recursive"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(format!("{out}{err}").contains("Removed 3 empty directories"), "{out}{err}");
    assert_eq!(share_paths(emulator, &share), ["up/", "up/new.txt", "up/top #1.txt"]);
    let (code, _, err) =
        run(ferry_with_key().args(["remove", &format!("{into}/new.txt"), "--from-to", "FileSMBTrash"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(share_paths(emulator, &share), ["up/", "up/top #1.txt"]);
}

fn base64_md5(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).unwrap().iter().map(|b| format!("{b:02x}")).collect()
}

/// A time as Python's `datetime.isoformat()` prints an aware UTC time (microseconds).
fn iso(at: std::time::SystemTime) -> String {
    let t = time::OffsetDateTime::from(at);
    let micros = t.microsecond();
    let base = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    if micros == 0 { format!("{base}+00:00") } else { format!("{base}.{micros:06}+00:00") }
}

#[test]
fn blobs_go_to_a_share_and_files_to_a_container() {
    let azurite = ferry_testkit::Azurite::shared();
    let emulator = FilesEmulator::shared();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let container = rt.block_on(azurite.new_container("tofiles"));
    let container = ferry_store::Store::describe(&container);
    let container = container.rsplit('/').next().unwrap().to_owned();
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    source_tree(&src);
    let (code, out, err) = run(ferry_with_key().args([
        "copy",
        &format!("{}/*", src.display()),
        &azurite.container_url(&container),
        "--recursive",
        "--put-md5",
    ]));
    assert_eq!(code, 0, "{out}{err}");

    let share = emulator.new_share("fromblob");
    let share_url = format!("{}/{share}", emulator.account_url());
    let (code, out, err) = run(ferry_with_key().args([
        "copy",
        &format!("{}/*", azurite.container_url(&container)),
        &share_url,
        "--from-to",
        "BlobFileSMB",
        "--recursive",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    // Server-side: the share fetched the 9 MiB file's three ranges and each small file's one
    // from Blob by SAS URL (the all-zero range too: the service does not know it is zeros).
    assert_eq!(emulator.ranges_from_urls(&share), 3 + 2, "ranges fetched by the share itself");
    let files = tree(&src);
    let state = share_state(emulator, &share);
    assert_eq!(state.len(), files.len(), "{state:?}");
    for (name, data) in &files {
        assert_eq!(state[name]["md5"], md5_hex(data), "{name}");
    }
    // Verified by stored MD5s on both sides (the share's from each file's properties).
    let (code, out, err) = run(ferry_with_key().args([
        "verify",
        &azurite.container_url(&container),
        &share_url,
        "--from-to",
        "BlobFileSMB",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Unverifiable: 0") && out.contains("Final Status: Identical"), "{out}");

    let back = ferry_testkit::Azurite::unique_name("fromfiles");
    let (code, out, err) = run(ferry_with_key().args([
        "copy",
        &format!("{share_url}/*"),
        &azurite.container_url(&back),
        "--from-to",
        "FileSMBBlob",
        "--recursive",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    let blobs = common::blob_md5s(azurite, &back);
    let expected: BTreeMap<String, String> = files.iter().map(|(k, v)| (k.clone(), md5_hex(v))).collect();
    assert_eq!(blobs, expected, "the share's files arrive as blobs, byte for byte");
}

/// The records of a share's state that a comparison between tools looks at.
fn comparable(state: &BTreeMap<String, Value>, fields: &[&str]) -> BTreeMap<String, Vec<Value>> {
    state.iter().map(|(k, v)| (k.clone(), fields.iter().map(|f| v[*f].clone()).collect())).collect()
}

const SDDL_A: &str = "O:BAG:SYD:(A;;FA;;;BA)(A;;0x1200a9;;;WD)";
const SDDL_B: &str = "O:SYG:SYD:(A;OICI;FA;;;SY)(D;;FA;;;AN)";

#[test]
fn ferry_and_azcopy_leave_the_same_share_state_and_read_each_others_uploads() {
    let emulator = FilesEmulator::shared();
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    source_tree(&src);
    let sas = emulator.account_sas();
    let url = |share: &str, tail: &str| format!("{}/{share}{tail}?{sas}", emulator.account_url());
    let state_dir = work.path().join("azcopy");
    std::fs::create_dir_all(&state_dir).unwrap();
    let everything = format!("{}/*", src.display());

    // The same tree uploaded by each.
    let (by_azcopy, by_ferry) = (emulator.new_share("azcopy-up"), emulator.new_share("ferry-up"));
    let (code, out) = common::azcopy(
        &state_dir,
        &["copy", &everything, &url(&by_azcopy, ""), "--from-to", "LocalFileSMB", "--recursive"],
    );
    assert_eq!(code, 0, "{out}");
    let (code, out, err) = run(common::ferry().args([
        "copy",
        &everything,
        &url(&by_ferry, ""),
        "--from-to",
        "LocalFileSMB",
        "--recursive",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    let (a, f) = (share_state(emulator, &by_azcopy), share_state(emulator, &by_ferry));
    // Names, sizes, bytes and attributes agree. (Times differ by design: on Linux AzCopy leaves
    // the upload time as the last-write time, Ferry gives the file's modification time.)
    let fields = ["size", "md5", "attributes"];
    assert_eq!(comparable(&a, &fields), comparable(&f, &fields));
    assert_eq!(a.len(), 4);
    assert_eq!(share_paths(emulator, &by_ferry), share_paths(emulator, &by_azcopy), "the same directories too");

    // Each reads back the other's upload byte for byte.
    let files = tree(&src);
    let (ferry_reads, azcopy_reads) = (work.path().join("ferry-reads"), work.path().join("azcopy-reads"));
    let (code, out, err) = run(common::ferry().args([
        "copy",
        &url(&by_azcopy, "/*"),
        ferry_reads.to_str().unwrap(),
        "--from-to",
        "FileSMBLocal",
        "--recursive",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(tree(&ferry_reads), files, "Ferry reads AzCopy's upload");
    std::fs::create_dir_all(&azcopy_reads).unwrap();
    let (code, out) = common::azcopy(
        &state_dir,
        &["copy", &url(&by_ferry, "/*"), azcopy_reads.to_str().unwrap(), "--from-to", "FileSMBLocal", "--recursive"],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(tree(&azcopy_reads), files, "AzCopy reads Ferry's upload");

    // Share to share, keeping SMB properties and permissions: the same state from each.
    mark(emulator, &by_azcopy, "d/e/small.txt", "ReadOnly|Hidden", "2020-01-02T03:04:05.123456+00:00", SDDL_A);
    mark(emulator, &by_azcopy, "top #1.txt", "Archive", "2021-06-07T08:09:10+00:00", SDDL_B);
    let (to_azcopy, to_ferry) = (emulator.new_share("azcopy-s2s"), emulator.new_share("ferry-s2s"));
    let flags =
        ["--from-to", "FileSMBFileSMB", "--recursive", "--preserve-smb-info=true", "--preserve-permissions=true"];
    let from = url(&by_azcopy, "/*");
    let copy_to = |to: &str| {
        [&["copy", from.as_str(), to][..], &flags[..]].concat().iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let args = copy_to(&url(&to_azcopy, ""));
    let (code, out) = common::azcopy(&state_dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{out}");
    let (code, out, err) = run(common::ferry().args(copy_to(&url(&to_ferry, ""))));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(emulator.ranges_from_urls(&to_ferry), 3 + 2, "Ferry copied share to share server-side");
    let (a, f, source) =
        (share_state(emulator, &to_azcopy), share_state(emulator, &to_ferry), share_state(emulator, &by_azcopy));
    let fields = ["size", "md5", "attributes", "creation", "last_write", "permission"];
    assert_eq!(comparable(&f, &fields), comparable(&source, &fields), "Ferry's copy has the source's state");
    // AzCopy 10.32.2 means to set ReadOnly again after writing the ranges (its sender says so),
    // but it clears it in the same properties it sends then, so its copy loses ReadOnly; Ferry
    // keeps it. Less that one attribute, the two copies agree in every field.
    let without_read_only = |state: &BTreeMap<String, Value>| {
        let mut out = comparable(state, &fields);
        for record in out.values_mut() {
            record[2] = Value::Array(
                record[2].as_array().unwrap().iter().filter(|a| a.as_str() != Some("ReadOnly")).cloned().collect(),
            );
        }
        out
    };
    assert_eq!(without_read_only(&f), without_read_only(&a), "Ferry and AzCopy leave the same state");
    assert_eq!(a["d/e/small.txt"]["attributes"], serde_json::json!(["Hidden"]), "AzCopy drops ReadOnly");
    assert_eq!(share_paths(emulator, &to_ferry), share_paths(emulator, &to_azcopy), "the same directories");
    assert_eq!(f["d/e/small.txt"]["permission"], SDDL_A);
    assert_eq!(f["d/e/small.txt"]["attributes"], serde_json::json!(["Hidden", "ReadOnly"]));
}

#[test]
fn a_missing_share_and_names_a_share_cannot_hold_are_refused_clearly() {
    let emulator = FilesEmulator::shared();
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("fine.txt"), b"fine").unwrap();
    std::fs::write(src.join("what?.txt"), b"no").unwrap();
    std::fs::write(src.join("a:b.txt"), b"no").unwrap();

    let missing = format!("{}/no-such-share", emulator.account_url());
    let (code, out, err) = run(ferry_with_key().args([
        "copy",
        src.to_str().unwrap(),
        &missing,
        "--from-to",
        "LocalFileSMB",
        "--recursive",
    ]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("the file share `no-such-share` does not exist") && err.contains("ferry make"), "{err}");

    let share = emulator.new_share("names");
    let url = format!("{}/{share}", emulator.account_url());
    let (code, out, err) =
        run(ferry_with_key().args(["copy", &format!("{}/*", src.display()), &url, "--from-to", "LocalFileSMB"]));
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(summary_value(&out, "Number of File Transfers Completed"), 1, "{out}");
    assert_eq!(summary_value(&out, "Number of File Transfers Failed"), 2, "{out}");
    assert!(format!("{out}{err}").contains("cannot be in an Azure Files name"), "{out}{err}");
    assert_eq!(share_paths(emulator, &share), ["fine.txt"], "only the file a share can hold, nothing else");

    let (code, _, err) =
        run(ferry_with_key().args(["make", "http://127.0.0.1:10000/devstoreaccount1/box", "--quota-gb", "5"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--quota-gb sets an Azure Files share's quota"), "{err}");
}

/// rclone's `azurefiles` backend (its own client, on Microsoft's Go SDK) is a third reader:
/// it lists Ferry's upload with its sizes and last-write times, hashes it by the Content-MD5
/// Ferry stored, and downloads it byte for byte; Ferry downloads rclone's upload byte for byte.
#[test]
fn rclone_reads_what_ferry_wrote_and_ferry_reads_what_rclone_wrote() {
    let emulator = FilesEmulator::shared();
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    source_tree(&src);
    let (by_ferry, by_rclone) = (emulator.new_share("ferry-for-rclone"), emulator.new_share("rclone-up"));
    let conf = work.path().join("rclone.conf");
    std::fs::write(
        &conf,
        format!(
            "[files]\ntype = azurefiles\naccount = devstoreaccount1\nkey = {}\nendpoint = {}\n",
            ferry_azure::DEVELOPMENT_KEY,
            emulator.account_url()
        ),
    )
    .unwrap();
    let rclone = |args: &[&str]| {
        let out = std::process::Command::new(ferry_testkit::tools::tools_dir().join("venv/bin/rclone"))
            .args(args)
            .env("RCLONE_CONFIG", &conf)
            .output()
            .unwrap();
        assert!(out.status.success(), "rclone {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let remote = |share: &str| format!("files,share_name={share}:");

    let url = format!("{}/{by_ferry}", emulator.account_url());
    let (code, out, err) = run(ferry_with_key().args([
        "copy",
        &format!("{}/*", src.display()),
        &url,
        "--from-to",
        "LocalFileSMB",
        "--recursive",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    let files = tree(&src);
    let sums: BTreeMap<String, String> = rclone(&["md5sum", &remote(&by_ferry)])
        .lines()
        .map(|l| {
            let (md5, name) = l.split_once("  ").unwrap();
            (name.to_owned(), md5.to_owned())
        })
        .collect();
    let expected: BTreeMap<String, String> = files.iter().map(|(k, v)| (k.clone(), md5_hex(v))).collect();
    assert_eq!(sums, expected, "rclone hashes Ferry's files by the MD5 Ferry stored");
    let listed = rclone(&["lsjson", "-R", "--files-only", &remote(&by_ferry)]);
    let listed: Vec<Value> = serde_json::from_str(&listed).unwrap();
    for entry in &listed {
        let name = entry["Path"].as_str().unwrap();
        let mtime = std::fs::metadata(src.join(name)).unwrap().modified().unwrap();
        let shown = time::OffsetDateTime::parse(
            entry["ModTime"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        let mtime = time::OffsetDateTime::from(mtime);
        assert!((shown - mtime).abs() < time::Duration::microseconds(1), "{name}: {shown} vs {mtime}");
    }
    let down = work.path().join("rclone-down");
    rclone(&["copy", &remote(&by_ferry), down.to_str().unwrap()]);
    assert_eq!(tree(&down), files, "rclone downloads Ferry's upload byte for byte");

    // In place: rclone's default writes a partial file and renames it, and the emulator has no
    // Rename File (an operation neither Ferry nor AzCopy uses).
    rclone(&["copy", "--inplace", src.to_str().unwrap(), &remote(&by_rclone)]);
    let back = work.path().join("ferry-down");
    let from = format!("{}/{by_rclone}/*", emulator.account_url());
    let (code, out, err) =
        run(ferry_with_key().args(["copy", &from, back.to_str().unwrap(), "--from-to", "FileSMBLocal", "--recursive"]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(tree(&back), files, "Ferry downloads rclone's upload byte for byte");
}
