//! Where GCS requests go: Google's endpoint, an emulator (`STORAGE_EMULATOR_HOST`, as Google's
//! own clients honour it: requests go unauthenticated), or another endpoint of the service
//! (`FERRY_GCS_ENDPOINT`, a Private Service Connect endpoint, say: signed in as usual).

use url::Url;

use crate::credentials::KEY_FILE_VARIABLE;

/// Google's storage endpoint, for the JSON API and for signed URLs.
pub const GOOGLE_ENDPOINT: &str = "https://storage.googleapis.com";
/// The variable Google's clients read to talk to an emulator instead.
pub const EMULATOR_VARIABLE: &str = "STORAGE_EMULATOR_HOST";
/// Ferry's variable for another endpoint of the real service.
pub const ENDPOINT_VARIABLE: &str = "FERRY_GCS_ENDPOINT";

/// A GCS endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcsEndpoint {
    base: Url,
    emulator: bool,
}

impl GcsEndpoint {
    /// Google's endpoint.
    pub fn google() -> Self {
        Self { base: Url::parse(GOOGLE_ENDPOINT).expect("a valid URL"), emulator: false }
    }

    /// An emulator at `host` (`HOST:PORT` or a URL, as `STORAGE_EMULATOR_HOST` holds it).
    pub fn emulator(host: &str) -> Result<Self, String> {
        let text = if host.contains("://") { host.to_owned() } else { format!("http://{host}") };
        Ok(Self { base: base_url(&text, EMULATOR_VARIABLE)?, emulator: true })
    }

    /// Another endpoint of the service, which is sent credentials: https only.
    pub fn custom(url: &str) -> Result<Self, String> {
        let base = base_url(url, ENDPOINT_VARIABLE)?;
        if base.scheme() != "https" {
            return Err(format!(
                "{ENDPOINT_VARIABLE} `{url}` must use https:// (it is sent an access token); for an emulator, set {EMULATOR_VARIABLE}"
            ));
        }
        Ok(Self { base, emulator: false })
    }

    /// The endpoint the environment names (`lookup` reads a variable).
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let set = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        match (set(EMULATOR_VARIABLE), set(ENDPOINT_VARIABLE)) {
            (Some(_), Some(_)) => Err(format!("set {EMULATOR_VARIABLE} or {ENDPOINT_VARIABLE}, not both")),
            (Some(host), None) => Self::emulator(host.trim()),
            (None, Some(url)) => Self::custom(url.trim()),
            (None, None) => Ok(Self::google()),
        }
    }

    /// Whether this is an emulator (requests go without credentials).
    pub fn is_emulator(&self) -> bool {
        self.emulator
    }

    /// `scheme://host[:port]`.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The JSON API URL of `path` (`/storage/v1/…`, already encoded).
    pub(crate) fn api(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        url.set_path(path);
        url
    }

    /// The XML API URL of an object (what a signed URL signs): `/BUCKET/OBJECT`.
    pub fn object_url(&self, bucket: &str, object: &str) -> Url {
        self.api(&format!("/{bucket}/{}", ferry_core::encoding::encode_path(object)))
    }
}

fn base_url(text: &str, variable: &str) -> Result<Url, String> {
    let mut url = Url::parse(text).map_err(|e| format!("{variable} `{text}` is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("{variable} `{text}` must be http(s)://HOST[:PORT]"));
    }
    url.set_path("");
    url.set_query(None);
    Ok(url)
}

/// What to say when a request needs a credential and there is none.
pub(crate) fn no_credential_hint() -> String {
    format!("set {KEY_FILE_VARIABLE} to a service account's JSON key file (the bucket is not public)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_picks_the_endpoint() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
        };
        assert_eq!(GcsEndpoint::from_env(env(&[])).unwrap(), GcsEndpoint::google());
        let emu = GcsEndpoint::from_env(env(&[(EMULATOR_VARIABLE, "127.0.0.1:4443")])).unwrap();
        assert!(emu.is_emulator());
        assert_eq!(emu.object_url("b", "a b").as_str(), "http://127.0.0.1:4443/b/a%20b");
        assert!(GcsEndpoint::from_env(env(&[(ENDPOINT_VARIABLE, "http://10.0.0.1")])).is_err());
        let psc = GcsEndpoint::from_env(env(&[(ENDPOINT_VARIABLE, "https://storage-x.p.googleapis.com")])).unwrap();
        assert!(!psc.is_emulator());
        assert!(GcsEndpoint::from_env(env(&[(ENDPOINT_VARIABLE, "https://a"), (EMULATOR_VARIABLE, "b:1")])).is_err());
    }
}
