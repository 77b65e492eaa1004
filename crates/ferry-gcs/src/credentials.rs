//! A Google service account's key file (`GOOGLE_APPLICATION_CREDENTIALS`, the JSON a console or
//! `gcloud iam service-accounts keys create` gives): its e-mail, its RSA key, its token endpoint
//! and project. The key signs the JWT traded for an access token and the V4 signed URLs; it is
//! never shown.

use std::path::Path;

use ferry_core::{ErrorKind, StoreError};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject as _;
use url::Url;

/// The variable that names the key file, as Google's clients and AzCopy read it.
pub const KEY_FILE_VARIABLE: &str = "GOOGLE_APPLICATION_CREDENTIALS";
/// The variable that names the project, for a service-level copy (every bucket).
pub const PROJECT_VARIABLE: &str = "GOOGLE_CLOUD_PROJECT";
/// Google's token endpoint, when the key file names none.
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// A service account that can sign.
pub struct ServiceAccount {
    email: String,
    key_id: Option<String>,
    key: RsaKeyPair,
    token_uri: Url,
    project_id: Option<String>,
}

impl std::fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccount").field("email", &self.email).finish_non_exhaustive()
    }
}

/// What the environment says of GCS, read when a command starts and acted on only when a job
/// reaches GCS (so a bad key file troubles no other job).
#[derive(Debug, Clone, Default)]
pub struct GcsEnvironment {
    /// `GOOGLE_APPLICATION_CREDENTIALS`.
    pub key_file: Option<std::path::PathBuf>,
    /// `GOOGLE_CLOUD_PROJECT`.
    pub project: Option<String>,
    /// `STORAGE_EMULATOR_HOST`.
    pub emulator_host: Option<String>,
    /// `FERRY_GCS_ENDPOINT`.
    pub endpoint: Option<String>,
}

impl GcsEnvironment {
    /// Reads the variables through `lookup`.
    pub fn from_env(lookup: &dyn Fn(&str) -> Option<String>) -> Self {
        let set = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        Self {
            key_file: set(KEY_FILE_VARIABLE).map(Into::into),
            project: set(PROJECT_VARIABLE),
            emulator_host: set(crate::endpoint::EMULATOR_VARIABLE),
            endpoint: set(crate::endpoint::ENDPOINT_VARIABLE),
        }
    }

    /// The endpoint requests go to.
    pub fn endpoint(&self) -> Result<crate::GcsEndpoint, String> {
        let lookup = |name: &str| match name {
            crate::endpoint::EMULATOR_VARIABLE => self.emulator_host.clone(),
            crate::endpoint::ENDPOINT_VARIABLE => self.endpoint.clone(),
            _ => None,
        };
        crate::GcsEndpoint::from_env(lookup)
    }

    /// The service account, when a key file is named (an error when it cannot be used).
    pub fn account(&self) -> Result<Option<ServiceAccount>, StoreError> {
        self.key_file.as_deref().map(ServiceAccount::from_file).transpose()
    }

    /// The project for a service-level listing: the variable, else the key's own.
    pub fn project_of(&self, account: Option<&ServiceAccount>) -> Option<String> {
        self.project.clone().or_else(|| account.and_then(|a| a.project_id().map(str::to_owned)))
    }
}

#[derive(serde::Deserialize)]
struct KeyFile {
    #[serde(rename = "type")]
    kind: Option<String>,
    client_email: Option<String>,
    private_key: Option<String>,
    private_key_id: Option<String>,
    token_uri: Option<String>,
    project_id: Option<String>,
}

fn unusable(path: &Path, why: impl std::fmt::Display) -> StoreError {
    StoreError::new(ErrorKind::Unauthenticated, path.display().to_string(), format!("the GCS key file {why}"))
        .with_hint(format!(
            "set {KEY_FILE_VARIABLE} to a service account's JSON key file (gcloud iam service-accounts keys create KEY.json --iam-account=ACCOUNT)"
        ))
}

impl ServiceAccount {
    /// Reads the key file at `path`.
    pub fn from_file(path: &Path) -> Result<Self, StoreError> {
        // AzCopy's words for a file it cannot read.
        let text = std::fs::read_to_string(path).map_err(|e| {
            unusable(path, format!("cannot be read ({e}). Cannot read JSON key file. Please verify you have correctly set {KEY_FILE_VARIABLE} environment variable"))
        })?;
        Self::from_json(&text).map_err(|why| unusable(path, why))
    }

    /// Reads a key file's JSON; the error says what is wrong with it (never its contents).
    pub fn from_json(text: &str) -> Result<Self, String> {
        let file: KeyFile = serde_json::from_str(text)
            .map_err(|e| format!("is not JSON (line {}, column {})", e.line(), e.column()))?;
        if let Some(kind) = file.kind.as_deref().filter(|k| *k != "service_account") {
            return Err(format!(
                "holds `{kind}` credentials; Ferry (like AzCopy) signs in to GCS as a service account"
            ));
        }
        let email = file.client_email.ok_or("has no client_email")?;
        let pem = file.private_key.ok_or("has no private_key")?;
        let der = PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|_| "has a private_key that is not PEM")?;
        let key = match &der {
            PrivateKeyDer::Pkcs8(der) => RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(der) => RsaKeyPair::from_der(der.secret_pkcs1_der()),
            _ => return Err("has a private_key that is not RSA".to_owned()),
        }
        .map_err(|e| format!("has an RSA key that cannot sign ({e})"))?;
        let token_uri = file.token_uri.as_deref().unwrap_or(DEFAULT_TOKEN_URI);
        let token_uri = Url::parse(token_uri).map_err(|_| "has a token_uri that is not a URL".to_owned())?;
        if token_uri.scheme() != "https" {
            return Err("has a token_uri that is not https:// (the signed assertion must not cross unencrypted)".into());
        }
        Ok(Self { email, key_id: file.private_key_id, key, token_uri, project_id: file.project_id })
    }

    /// The account's e-mail (its name in signed URLs and tokens).
    pub fn email(&self) -> &str {
        &self.email
    }

    /// The id of the key, for a JWT's `kid`.
    pub(crate) fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }

    /// Where access tokens are asked for.
    pub fn token_uri(&self) -> &Url {
        &self.token_uri
    }

    /// The project the key belongs to.
    pub fn project_id(&self) -> Option<&str> {
        self.project_id.as_deref()
    }

    /// The RSASSA-PKCS1-v1_5 SHA-256 signature of `data` (what RS256 and GOOG4-RSA-SHA256 use).
    pub fn sign(&self, data: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut signature = vec![0u8; self.key.public().modulus_len()];
        self.key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), data, &mut signature).map_err(|_| {
            StoreError::new(ErrorKind::Unauthenticated, &self.email, "the service account's key could not sign")
        })?;
        Ok(signature)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A throwaway 2048-bit RSA key (made for these tests with `openssl genpkey`; it signs nothing real).
    pub(crate) const TEST_KEY: &str = include_str!("../tests/data/test_key.pem");

    pub(crate) fn key_json(token_uri: &str) -> String {
        serde_json::json!({
            "type": "service_account", "project_id": "ferry-test", "private_key_id": "k1",
            "private_key": TEST_KEY, "client_email": "ferry@ferry-test.iam.gserviceaccount.com",
            "token_uri": token_uri,
        })
        .to_string()
    }

    #[test]
    fn a_key_file_reads_and_signs_and_bad_ones_say_why() {
        let account = ServiceAccount::from_json(&key_json("https://oauth2.googleapis.com/token")).unwrap();
        assert_eq!(account.email(), "ferry@ferry-test.iam.gserviceaccount.com");
        assert_eq!(account.sign(b"x").unwrap().len(), 256);
        assert!(!format!("{account:?}").contains("PRIVATE"));
        let plain = ServiceAccount::from_json(&key_json("http://127.0.0.1/token")).unwrap_err();
        assert!(plain.contains("https://"), "{plain}");
        let user = ServiceAccount::from_json(r#"{"type":"authorized_user"}"#).unwrap_err();
        assert!(user.contains("service account"), "{user}");
        let broken = ServiceAccount::from_json(r#"{"type":"service_account","client_email":"a","private_key":"x"}"#);
        assert!(broken.unwrap_err().contains("not PEM"));
        let missing = ServiceAccount::from_file(Path::new("/nonexistent/key.json")).unwrap_err();
        assert!(missing.to_string().contains("Cannot read JSON key file"), "{missing}");
    }
}
