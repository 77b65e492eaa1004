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
