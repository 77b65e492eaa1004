//! Access tokens shared by the Ferry processes of one user: ten processes started together make
//! one token request, not ten (Entra throttles a client that asks too often, AzCopy #2799).
//!
//! One file per token source (named by a hash of its endpoint, identity and scope), 0600 in a
//! 0700 folder the user owns, holding the access token and its expiry — never a secret that can
//! mint tokens (no client secret, no refresh token). A process takes the source's lock file
//! before it asks Entra, and looks again once it holds it, so the others wait and then reuse.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use ferry_core::Secret;
use ferry_http::Expiring;
use sha2::{Digest, Sha256};

/// The shared token of one source.
#[derive(Debug, Clone)]
pub(crate) struct TokenFile {
    path: PathBuf,
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Whether `dir` is a folder only this user can write to (made 0700 when missing).
fn private_dir(dir: &Path) -> bool {
    if fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).is_err() {
        return false;
    }
    fs::metadata(dir).is_ok_and(|m| {
        m.is_dir() && m.uid() == rustix::process::geteuid().as_raw() && m.permissions().mode() & 0o022 == 0
    })
}

/// Holds a source's lock file until dropped.
pub(crate) struct Held(#[allow(dead_code)] File);

impl TokenFile {
    /// The shared token for the source described by `key`, in `dir`; `None` when `dir` is not
    /// private to this user (then each process keeps its own token, as before).
    pub(crate) fn new(dir: &Path, key: &str) -> Option<Self> {
        if !private_dir(dir) {
            tracing::warn!(dir = %dir.display(), "not sharing tokens between processes: the folder is not private to this user");
            return None;
        }
        let name: String = Sha256::digest(key.as_bytes()).iter().take(16).map(|b| format!("{b:02x}")).collect();
        Some(Self { path: dir.join(format!("{name}.json")) })
    }

    /// The shared token, when one is there with more than `min_ttl` left.
    pub(crate) fn read(&self, min_ttl: Duration) -> Option<Expiring<Secret>> {
        let text = fs::read_to_string(&self.path).ok()?;
        let json: serde_json::Value = serde_json::from_str(&text).ok()?;
        let token = json.get("access_token")?.as_str()?;
        let left = json.get("expires_on")?.as_u64()?.checked_sub(unix_now())?;
        (left > min_ttl.as_secs())
            .then(|| Expiring { value: Secret::new(token), expires_at: Instant::now() + Duration::from_secs(left) })
    }

    /// Shares `token` (written whole, then renamed into place, 0600).
    pub(crate) fn write(&self, token: &Expiring<Secret>) {
        let left = token.expires_at.saturating_duration_since(Instant::now()).as_secs();
        let json = serde_json::json!({ "access_token": token.value.expose(), "expires_on": unix_now() + left });
        let temp = self.path.with_extension(format!("tmp-{}", std::process::id()));
        let written = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)
            .and_then(|mut f| f.write_all(json.to_string().as_bytes()))
            .and_then(|()| fs::rename(&temp, &self.path));
        if let Err(e) = written {
            let _ = fs::remove_file(&temp);
            tracing::debug!(error = %e, "cannot share the access token");
        }
    }

    /// Removes the shared token (the service refused it).
    pub(crate) fn forget(&self) {
        let _ = fs::remove_file(&self.path);
    }

    /// Takes the source's lock (waiting for another process that holds it, on a blocking
    /// thread); `None` if it cannot be had, and the caller goes on alone.
    pub(crate) async fn lock(&self) -> Option<Held> {
        let path = self.path.with_extension("lock");
        tokio::task::spawn_blocking(move || {
            let file = OpenOptions::new().write(true).create(true).truncate(false).mode(0o600).open(path).ok()?;
            rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive).ok()?;
            Some(Held(file))
        })
        .await
        .ok()
        .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_token_is_read_back_until_near_expiry_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("tokens");
        let file = TokenFile::new(&shared, "spn|https://login/t/oauth2/v2.0/token|app").unwrap();
        assert!(file.read(Duration::from_secs(300)).is_none());
        file.write(&Expiring { value: Secret::new("tok"), expires_at: Instant::now() + Duration::from_secs(3600) });
        assert_eq!(file.read(Duration::from_secs(300)).unwrap().value.expose(), "tok");
        assert!(file.read(Duration::from_secs(4000)).is_none(), "too close to its expiry");
        let mode = fs::metadata(&file.path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(fs::metadata(&shared).unwrap().permissions().mode() & 0o777, 0o700);
        let other = TokenFile::new(&shared, "spn|https://login/t/oauth2/v2.0/token|another-app").unwrap();
        assert!(other.read(Duration::ZERO).is_none(), "another source's token is not shared");
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o777)).unwrap();
        assert!(TokenFile::new(&shared, "x").is_none(), "a folder others can write to is not used");
    }
}
