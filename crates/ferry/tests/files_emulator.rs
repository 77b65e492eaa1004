//! The test kit's Azure Files emulator (issue #18, part 1) is trusted only as far as independent
//! clients agree with it: the official Python SDK (`azure-storage-file-share`) over every
//! operation it serves, and AzCopy 10.32.2 uploading, downloading and syncing a tree through it
//! (`--from-to LocalFileSMB` / `FileSMBLocal`), byte for byte.

mod common;

use common::tree;

use ferry_testkit::files_emulator::FilesEmulator;

#[test]
fn the_official_file_share_client_agrees_with_the_emulator() {
    let emulator = FilesEmulator::shared();
    let script = ferry_testkit::tools::repo_root().join("crates/ferry-testkit/checks/files_sdk.py");
    let out = std::process::Command::new(ferry_testkit::tools::python())
        .arg(script)
        .arg(emulator.account_url())
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{printed}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(printed.lines().filter(|l| l.starts_with("ok: ")).count(), 21, "{printed}");
}

#[test]
fn azcopy_uploads_downloads_and_syncs_through_the_emulator() {
    let emulator = FilesEmulator::shared();
    let share = emulator.new_share("azcopy");
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    std::fs::create_dir_all(src.join("d/e")).unwrap();
    std::fs::write(src.join("d/big.bin"), ferry_testkit::data::pattern(9 * 1024 * 1024 + 17, 3)).unwrap();
    std::fs::write(src.join("d/e/small.txt"), b"small").unwrap();
    std::fs::write(src.join("top.txt"), b"top").unwrap();
    std::fs::write(src.join("empty.bin"), b"").unwrap();
    // Written an hour ago: a sync compares with the share's second-granular Last-Modified, and a
    // file written in the same second as its upload would look newer than its copy.
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for name in ["d/big.bin", "d/e/small.txt", "top.txt", "empty.bin"] {
        std::fs::File::options().write(true).open(src.join(name)).unwrap().set_modified(hour_ago).unwrap();
    }
    let url = format!("{}/{share}?{}", emulator.account_url(), emulator.account_sas());
    let state = work.path().join("azcopy");
    std::fs::create_dir_all(&state).unwrap();
    let (code, out) = common::azcopy(
        &state,
        &["copy", &format!("{}/*", src.display()), &url, "--from-to", "LocalFileSMB", "--recursive"],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Number of File Transfers Completed: 4"), "{out}");

    let down = work.path().join("down");
    std::fs::create_dir_all(&down).unwrap();
    let everything = format!("{}/{share}/*?{}", emulator.account_url(), emulator.account_sas());
    let (code, out) = common::azcopy(
        &state,
        &["copy", &everything, down.to_str().unwrap(), "--from-to", "FileSMBLocal", "--recursive"],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(tree(&down), tree(&src), "AzCopy reads back what it wrote, byte for byte");

    std::fs::write(src.join("top.txt"), b"changed since").unwrap();
    let (code, out) = common::azcopy(&state, &["sync", src.to_str().unwrap(), &url, "--from-to", "LocalFileSMB"]);
    assert_eq!(code, 0, "{out}");
    let scanning: String = std::fs::read_dir(state.join("logs"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with("scanning.log"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect();
    assert!(out.contains("Number of Copy Transfers for Files: 1\n"), "only the changed file: {out}\n{scanning}");
    let again = work.path().join("again");
    std::fs::create_dir_all(&again).unwrap();
    let (code, out) = common::azcopy(
        &state,
        &["copy", &everything, again.to_str().unwrap(), "--from-to", "FileSMBLocal", "--recursive"],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(tree(&again), tree(&src));
}
