//! Locating the pinned tools that `scripts/install-tools` puts under `tools/`.

use std::path::{Path, PathBuf};

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the repository root exists")
}

/// The `tools/` folder with the pinned peers.
pub fn tools_dir() -> PathBuf {
    repo_root().join("tools")
}

fn required(path: PathBuf, what: &str) -> PathBuf {
    assert!(
        path.exists(),
        "{what} is not installed at {}: run `./scripts/install-tools` first (./scripts/test does it)",
        path.display()
    );
    path
}

/// The `azurite-blob` launcher (`FERRY_AZURITE_BIN` overrides).
pub fn azurite_bin() -> PathBuf {
    let path = std::env::var_os("FERRY_AZURITE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| tools_dir().join("node/node_modules/.bin/azurite-blob"));
    required(path, "Azurite")
}

/// The AzCopy binary from npm `@azure-tools/azcopy-linux`.
pub fn azcopy() -> PathBuf {
    required(tools_dir().join("node/node_modules/@azure-tools/azcopy-linux/dist/bin/azcopy_linux_amd64"), "AzCopy")
}

/// The Python interpreter of the tools virtual environment (with `azure-storage-blob`).
pub fn python() -> PathBuf {
    required(tools_dir().join("venv/bin/python"), "the Python tools environment")
}

/// The `ferry` binary built by Cargo for integration tests, if the caller is the `ferry` crate.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("target"))
}

/// Starts the Python stand-in `script` (beside this crate's manifest) with `args` and
/// `--ports FILE` (a file in `dir`), and waits for it to write that file: the ports (and whatever
/// else it says) as JSON.
pub(crate) fn start_stand_in(
    script: &str,
    args: &[&std::ffi::OsStr],
    dir: &std::path::Path,
) -> Result<(std::process::Child, serde_json::Value), String> {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(script);
    let ports = dir.join("ports.json");
    let child = std::process::Command::new(python())
        .arg(&script)
        .args(args)
        .arg("--ports")
        .arg(&ports)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    let text = loop {
        if let Ok(text) = std::fs::read_to_string(&ports) {
            break text;
        }
        if started.elapsed() > std::time::Duration::from_secs(20) {
            return Err(format!("{} did not start", script.display()));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    Ok((child, serde_json::from_str(&text).map_err(|e| e.to_string())?))
}
