//! Azure Blob URLs: account, container, blob path and SAS, parsed once.

use std::fmt;

use url::{Host, Url};

use crate::encoding::{decode, encode_path};
use crate::location::LocationError;
use crate::sas::SasToken;

/// How the account is named in the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlStyle {
    /// `https://ACCOUNT.blob.core.windows.net/CONTAINER/PATH` (and custom domains).
    Host,
    /// `http://127.0.0.1:PORT/ACCOUNT/CONTAINER/PATH`, as emulators and Azure Stack serve.
    Path,
}

/// A parsed Azure Blob URL: the service endpoint, the account, an optional container, a blob
/// name or prefix (decoded, exactly as stored in the service), and an optional SAS.
///
/// Printing a `BlobUrl` never shows the SAS signature.
#[derive(Clone, PartialEq, Eq)]
pub struct BlobUrl {
    /// `scheme://host[:port]` plus `/ACCOUNT` in path style; no trailing slash, no query.
    endpoint: Url,
    account: String,
    container: Option<String>,
    path: String,
    sas: Option<SasToken>,
    style: UrlStyle,
    contents_only: bool,
    /// `snapshot=…` or `versionid=…`: one earlier state of the blob named (read only).
    point_in_time: Option<(&'static str, String)>,
}

/// Host suffixes of Azure's public and sovereign clouds; `.blob.` anywhere in the host is taken
/// as Blob too, which also covers the `.blob.storage.azure.net` DNS-zone endpoints.
const BLOB_HOST_MARKER: &str = ".blob.";
/// ADLS Gen2's endpoint marker: such a URL is served through the account's Blob endpoint.
const DFS_HOST_MARKER: &str = ".dfs.";

impl BlobUrl {
    /// Parses a Blob URL. `known_blob` is true when the user declared the location to be Blob
    /// (`--from-to`), which admits custom domains.
    pub fn parse(text: &str, known_blob: bool) -> Result<Self, LocationError> {
        let url = Url::parse(text).map_err(|e| LocationError::new(text, format!("not a valid URL ({e})")))?;
        if !url.username().is_empty() || url.password().is_some() {
            // It would otherwise go out as HTTP Basic authentication, to whatever host this is.
            return Err(LocationError::new(
                text,
                "a user name or password in the URL is not a credential Azure Storage takes, and Ferry does not send it; use a SAS, AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_KEY",
            ));
        }
        let mut dfs = false;
        let (style, account) = match url.host() {
            None => return Err(LocationError::new(text, "the URL has no host")),
            Some(Host::Ipv4(_) | Host::Ipv6(_)) => (UrlStyle::Path, None),
            Some(Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => (UrlStyle::Path, None),
            Some(Host::Domain(d)) => {
                let d = d.to_ascii_lowercase();
                let first_label = d.split('.').next().unwrap_or_default().to_owned();
                if d.contains(BLOB_HOST_MARKER) || known_blob {
                    (UrlStyle::Host, Some(first_label))
                } else if d.contains(DFS_HOST_MARKER) {
                    // ADLS Gen2: the same account through its Blob endpoint, as AzCopy does.
                    dfs = true;
                    (UrlStyle::Host, Some(first_label))
                } else if d.contains(".file.") {
                    return Err(LocationError::new(text, "this is an Azure Files URL, not a Blob URL"));
                } else if d.contains("amazonaws.com") {
                    return Err(LocationError::new(text, "Amazon S3 sources are not supported yet"));
                } else {
                    return Err(LocationError::new(
                        text,
                        "cannot tell what service this host is; for a Blob custom domain pass `--from-to` (e.g. `--from-to LocalBlob`)",
                    ));
                }
            }
        };

        let raw_path = url.path().trim_start_matches('/');
        let mut segments = raw_path.splitn(if style == UrlStyle::Path { 3 } else { 2 }, '/');
        let account = match account {
            Some(a) => a,
            None => {
                let a = segments.next().unwrap_or_default();
                if a.is_empty() {
                    return Err(LocationError::new(
                        text,
                        "an emulator URL must name the account as its first path segment, e.g. http://127.0.0.1:10000/devstoreaccount1/container",
                    ));
                }
                decode(a).map_err(|_| LocationError::new(text, "the account name is not valid UTF-8"))?
            }
        };
        if account.is_empty() {
            return Err(LocationError::new(text, "the URL does not name a storage account"));
        }

        let container = segments.next().filter(|c| !c.is_empty()).map(str::to_owned);
        let mut raw_blob = segments.next().unwrap_or_default().to_owned();
        let mut contents_only = false;
        if let Some(c) = &container {
            if c == "*" {
                return Err(LocationError::new(text, "wildcards in container names are not supported"));
            }
            validate_container_name(c).map_err(|why| LocationError::new(text, why))?;
            if raw_blob == "*" {
                raw_blob.clear();
                contents_only = true;
            } else if let Some(stripped) = raw_blob.strip_suffix("/*") {
                raw_blob = format!("{stripped}/");
                contents_only = true;
            }
            if raw_blob.contains('*') {
                return Err(LocationError::new(
                    text,
                    "a wildcard in a Blob URL is only supported as a trailing `/*`; encode a literal `*` in a blob name as `%2A`",
                ));
            }
        }
        let path =
            decode(&raw_blob).map_err(|_| LocationError::new(text, "the blob path is not valid UTF-8 once decoded"))?;
        if path.len() > 1024 {
            return Err(LocationError::new(text, "a blob name is at most 1,024 characters"));
        }

        // A snapshot or version names one state of the blob: kept apart from the SAS, which
        // goes on every request.
        let mut point_in_time = None;
        let mut rest = Vec::new();
        for pair in url.query().unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            match name.to_ascii_lowercase().as_str() {
                "snapshot" => point_in_time = Some(("snapshot", decode(value).unwrap_or_default())),
                "versionid" => point_in_time = Some(("versionid", decode(value).unwrap_or_default())),
                _ => rest.push(pair),
            }
        }
        if point_in_time.is_some() && (path.is_empty() || contents_only || path.ends_with('/')) {
            return Err(LocationError::new(text, "a snapshot or version id names one blob; give the blob's URL"));
        }
        let sas = SasToken::parse(&rest.join("&"));
        let mut endpoint = url.clone();
        endpoint.set_query(None);
        endpoint.set_fragment(None);
        if dfs {
            let host = endpoint.host_str().unwrap_or_default().to_ascii_lowercase().replacen(
                DFS_HOST_MARKER,
                BLOB_HOST_MARKER,
                1,
            );
            endpoint
                .set_host(Some(&host))
                .map_err(|e| LocationError::new(text, format!("its Blob endpoint `{host}` is not a host ({e})")))?;
        }
        match style {
            UrlStyle::Host => endpoint.set_path(""),
            UrlStyle::Path => endpoint.set_path(&format!("/{}", crate::encoding::encode_component(&account))),
        }
        Ok(Self { endpoint, account, container, path, sas, style, contents_only, point_in_time })
    }

    /// The snapshot or version the URL names, as its query parameter: (`snapshot` or
    /// `versionid`, value).
    pub fn point_in_time(&self) -> Option<(&'static str, &str)> {
        self.point_in_time.as_ref().map(|(k, v)| (*k, v.as_str()))
    }

    /// The storage account name.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The container, if the URL names one.
    pub fn container(&self) -> Option<&str> {
        self.container.as_deref()
    }

    /// The blob name or virtual-directory prefix, decoded (empty for a whole container).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The SAS that came with the URL, if any.
    pub fn sas(&self) -> Option<&SasToken> {
        self.sas.as_ref()
    }

    /// Whether the account is in the host or in the path.
    pub fn style(&self) -> UrlStyle {
        self.style
    }

    /// True for a trailing `/*`: the contents of the directory, not the directory itself.
    pub fn contents_only(&self) -> bool {
        self.contents_only
    }

    /// Whether the endpoint is plain `http://`.
    pub fn is_http(&self) -> bool {
        self.endpoint.scheme() == "http"
    }

    /// Whether the host is a loopback address or `localhost`.
    pub fn is_loopback(&self) -> bool {
        is_loopback_url(&self.endpoint)
    }

    /// The service endpoint (for account-level calls such as listing containers), no query.
    pub fn service_url(&self) -> Url {
        self.endpoint.clone()
    }

    /// The URL of `container`, no query.
    pub fn container_url_for(&self, container: &str) -> Url {
        let mut url = self.endpoint.clone();
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}/{container}"));
        url
    }

    /// The URL of one blob in `container`, no query. The name is encoded so that it round-trips.
    pub fn object_url_for(&self, container: &str, name: &str) -> Url {
        let mut url = self.endpoint.clone();
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}/{container}/{}", encode_path(name)));
        url
    }

    /// This URL with another container and path (the SAS and endpoint are kept).
    pub fn with_container_and_path(&self, container: Option<&str>, path: &str) -> Self {
        Self {
            container: container.map(str::to_owned),
            path: path.to_owned(),
            contents_only: false,
            point_in_time: None,
            ..self.clone()
        }
    }

    /// This URL naming version `version` of the blob at `path` (the SAS and endpoint are kept).
    pub fn at_version(&self, path: &str, version: &str) -> Self {
        Self {
            path: path.to_owned(),
            contents_only: false,
            point_in_time: Some(("versionid", version.to_owned())),
            ..self.clone()
        }
    }

    /// This URL naming snapshot `snapshot` of the blob at `path`.
    pub fn at_snapshot(&self, path: &str, snapshot: &str) -> Self {
        Self {
            path: path.to_owned(),
            contents_only: false,
            point_in_time: Some(("snapshot", snapshot.to_owned())),
            ..self.clone()
        }
    }

    /// This URL with another SAS (or none).
    pub fn with_sas(&self, sas: Option<SasToken>) -> Self {
        Self { sas, ..self.clone() }
    }
}

/// Checks the service's container naming rules: 3–63 characters of lower-case letters, digits
/// and single hyphens, starting and ending with a letter or digit; or one of the special
/// containers `$root`, `$web`, `$logs`.
fn validate_container_name(name: &str) -> Result<(), String> {
    if matches!(name, "$root" | "$web" | "$logs") {
        return Ok(());
    }
    let ok_chars = name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let ok = (3..=63).contains(&name.len())
        && ok_chars
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a valid container name: use 3-63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit"
        ))
    }
}

/// Whether `url`'s host is a loopback address or `localhost` (an emulator on this machine).
pub fn is_loopback_url(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Whether `url`'s host is where a cloud service could not reach it: this machine, a private or
/// link-local address, or a host name without a dot (a local network's).
pub fn is_private_url(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback() || ip.is_private() || ip.is_link_local(),
        Some(Host::Ipv6(ip)) => ip.is_loopback() || ip.is_unique_local() || ip.is_unicast_link_local(),
        Some(Host::Domain(d)) => !d.contains('.') || d.ends_with(".local") || d.ends_with(".internal"),
        None => true,
    }
}

impl fmt::Display for BlobUrl {
    /// The URL as the user would recognise it, with the SAS signature redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = match &self.container {
            Some(c) => self.object_url_for(c, &self.path),
            None => self.service_url(),
        };
        let shown = url.as_str();
        let shown = if self.container.is_some() && self.path.is_empty() { shown.trim_end_matches('/') } else { shown };
        write!(f, "{shown}")?;
        if self.contents_only {
            f.write_str(if self.path.is_empty() { "/*" } else { "*" })?;
        }
        let mut separator = '?';
        if let Some((name, value)) = &self.point_in_time {
            write!(f, "?{name}={}", crate::encoding::encode_component(value))?;
            separator = '&';
        }
        if let Some(sas) = &self.sas {
            write!(f, "{separator}{sas}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for BlobUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlobUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_is_refused_and_never_shown() {
        let err = BlobUrl::parse("http://alice:PASSW0RDSECRET@127.0.0.1:1/devstoreaccount1/c", false).unwrap_err();
        assert!(!err.to_string().contains("PASSW0RDSECRET"), "{err}");
        assert!(err.reason().contains("user name or password"), "{err}");
        assert!(BlobUrl::parse("https://bob@a.blob.core.windows.net/c", false).is_err());
    }

    fn parse(s: &str) -> BlobUrl {
        BlobUrl::parse(s, false).unwrap()
    }

    #[test]
    fn host_style_with_sas() {
        let b = parse("https://myacct.blob.core.windows.net/photos/2024/a%20b.jpg?sv=2022-11-02&sig=XYZ");
        assert_eq!(b.account(), "myacct");
        assert_eq!(b.container(), Some("photos"));
        assert_eq!(b.path(), "2024/a b.jpg");
        assert_eq!(b.style(), UrlStyle::Host);
        assert!(b.sas().is_some());
        assert_eq!(
            b.to_string(),
            "https://myacct.blob.core.windows.net/photos/2024/a%20b.jpg?sv=2022-11-02&sig=REDACTED"
        );
    }

    #[test]
    fn sovereign_clouds_and_dns_zone_endpoints() {
        for host in [
            "acct.blob.core.chinacloudapi.cn",
            "acct.blob.core.usgovcloudapi.net",
            "acct.blob.core.cloudapi.de",
            "acct.z12.blob.storage.azure.net",
        ] {
            let b = parse(&format!("https://{host}/box1/x"));
            assert_eq!(b.account(), "acct", "{host}");
            assert_eq!(b.path(), "x");
        }
    }

    #[test]
    fn emulator_path_style() {
        let b = parse("http://127.0.0.1:10000/devstoreaccount1/box1/dir/file.txt");
        assert_eq!(b.account(), "devstoreaccount1");
        assert_eq!(b.container(), Some("box1"));
        assert_eq!(b.path(), "dir/file.txt");
        assert_eq!(b.style(), UrlStyle::Path);
        assert!(b.is_loopback() && b.is_http());
        assert_eq!(b.object_url_for("box1", "a b").as_str(), "http://127.0.0.1:10000/devstoreaccount1/box1/a%20b");
        assert_eq!(b.service_url().as_str(), "http://127.0.0.1:10000/devstoreaccount1");
        let account_only = parse("http://localhost:10000/devstoreaccount1");
        assert_eq!(account_only.container(), None);
        assert!(BlobUrl::parse("http://127.0.0.1:10000/", false).is_err());
    }

    #[test]
    fn names_round_trip_through_urls() {
        let long = "n".repeat(1024);
        let names = ["sp ace#?%+&.txt", "caf\u{e9}", "cafe\u{301}", "a/b/c", long.as_str(), "star*name"];
        let base = parse("http://127.0.0.1:1/devstoreaccount1/box1");
        for name in names {
            let url = base.object_url_for("box1", name);
            let back = parse(url.as_str());
            assert_eq!(back.path(), name);
        }
    }

    #[test]
    fn trailing_wildcard_means_contents() {
        let b = parse("https://a.blob.core.windows.net/box1/dir/*");
        assert!(b.contents_only());
        assert_eq!(b.path(), "dir/");
        let c = parse("https://a.blob.core.windows.net/box1/*");
        assert!(c.contents_only());
        assert_eq!(c.path(), "");
        assert!(BlobUrl::parse("https://a.blob.core.windows.net/box1/d*r/x", false).is_err());
    }

    #[test]
    fn container_names_are_checked() {
        for bad in ["UPPER", "ab", "a--b", "-ab", "has_underscore"] {
            let err = BlobUrl::parse(&format!("https://a.blob.core.windows.net/{bad}"), false).unwrap_err();
            assert!(err.reason().contains("not a valid container name"), "{bad}: {err}");
        }
        assert!(BlobUrl::parse("https://a.blob.core.windows.net/$web/index.html", false).is_ok());
    }

    #[test]
    fn other_services_are_named_in_the_error() {
        let dfs = BlobUrl::parse("https://a.dfs.core.windows.net/box/dir/f.txt?sv=1&sig=x", false).unwrap();
        assert_eq!(dfs.object_url_for("box", "dir/f.txt").as_str(), "https://a.blob.core.windows.net/box/dir/f.txt");
        assert_eq!((dfs.account(), dfs.container(), dfs.path()), ("a", Some("box"), "dir/f.txt"));
        assert!(dfs.sas().is_some());
        let e = BlobUrl::parse("https://a.file.core.windows.net/share", false).unwrap_err();
        assert!(e.reason().contains("Azure Files"));
    }

    #[test]
    fn names_over_1024_characters_are_refused() {
        let name = "x".repeat(1025);
        assert!(BlobUrl::parse(&format!("https://a.blob.core.windows.net/box1/{name}"), false).is_err());
    }
}
