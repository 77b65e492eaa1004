//! Parsing what the user typed into a typed [`Location`], once.

use std::fmt;

use crate::{BlobUrl, FileUrl, GcsUrl, LocalPath, S3Url};

/// The kind of place a location points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocationKind {
    /// A path on a local file system.
    Local,
    /// Azure Blob Storage (or a compatible emulator).
    Blob,
    /// Amazon S3 or an S3-compatible service.
    S3,
    /// Google Cloud Storage.
    Gcs,
    /// Azure Files (SMB shares), through the File service's REST API.
    Files,
}

impl fmt::Display for LocationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Local => "Local",
            Self::Blob => "Blob",
            Self::S3 => "S3",
            Self::Gcs => "GCP",
            Self::Files => "File",
        })
    }
}

/// What the caller knows about a location before parsing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocationHint {
    /// Infer from the text, as AzCopy does: URLs by their host, everything else is local.
    Infer,
    /// The user said what it is (`--from-to`, `--location`); needed for custom domains.
    Known(LocationKind),
}

/// A parsed source or destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A local path.
    Local(LocalPath),
    /// An Azure Blob account, container, virtual directory or blob.
    Blob(BlobUrl),
    /// An S3 service, bucket, prefix or object.
    S3(S3Url),
    /// A GCS project, bucket, prefix or object.
    Gcs(GcsUrl),
    /// An Azure Files account, share, directory or file.
    Files(FileUrl),
}

impl Location {
    /// Parses a command-line argument.
    ///
    /// Anything that does not start with `http://` or `https://` is a local path. A URL is Azure
    /// Blob when its host names the blob service (`ACCOUNT.blob.core.windows.net` and the
    /// sovereign-cloud suffixes), when the host is an IP address or `localhost` (an emulator, with
    /// the account as the first path segment), or when `hint` says so (a custom domain).
    pub fn parse(text: &str, hint: LocationHint) -> Result<Self, LocationError> {
        let lower = text.to_ascii_lowercase();
        let is_url = lower.starts_with("http://") || lower.starts_with("https://");
        match hint {
            LocationHint::Known(LocationKind::Local) => Ok(Self::Local(LocalPath::parse(text)?)),
            LocationHint::Known(LocationKind::Blob) if !is_url => {
                Err(LocationError::new(text, "a Blob location must be an http:// or https:// URL"))
            }
            LocationHint::Known(LocationKind::Blob) => Ok(Self::Blob(BlobUrl::parse(text, true)?)),
            LocationHint::Known(LocationKind::S3) if !is_url => {
                Err(LocationError::new(text, "an S3 location must be an http:// or https:// URL"))
            }
            LocationHint::Known(LocationKind::S3) => Ok(Self::S3(S3Url::parse(text, true)?)),
            LocationHint::Known(LocationKind::Gcs) => Ok(Self::Gcs(GcsUrl::parse(text)?)),
            LocationHint::Known(LocationKind::Files) if !is_url => {
                Err(LocationError::new(text, "an Azure Files location must be an http:// or https:// URL"))
            }
            LocationHint::Known(LocationKind::Files) => Ok(Self::Files(FileUrl::parse(text, true)?)),
            LocationHint::Infer if FileUrl::is_files(text) => Ok(Self::Files(FileUrl::parse(text, false)?)),
            LocationHint::Infer if GcsUrl::is_gcs(text) => Ok(Self::Gcs(GcsUrl::parse(text)?)),
            LocationHint::Infer if is_url && url::Url::parse(text).is_ok_and(|u| S3Url::is_aws_host(&u)) => {
                Ok(Self::S3(S3Url::parse(text, false)?))
            }
            LocationHint::Infer if is_url => BlobUrl::parse(text, false).map(Self::Blob).map_err(|e| {
                // Not an Azure host by its name: it may be an S3-compatible endpoint.
                if lower.contains(".blob.") || lower.contains(".dfs.") || e.reason().contains("--from-to") {
                    e
                } else {
                    LocationError::new(
                        text,
                        format!(
                            "{}; if this is an S3-compatible endpoint, say so with --from-to S3Blob or S3Local",
                            e.reason()
                        ),
                    )
                }
            }),
            LocationHint::Infer => {
                if let Some((scheme, _)) = text.split_once("://")
                    && !scheme.is_empty()
                    && scheme.chars().all(|c| c.is_ascii_alphanumeric())
                {
                    return Err(LocationError::new(
                        text,
                        format!("the `{scheme}://` scheme is not supported; use a local path or an https:// Blob URL"),
                    ));
                }
                Ok(Self::Local(LocalPath::parse(text)?))
            }
        }
    }

    /// The kind of this location.
    pub fn kind(&self) -> LocationKind {
        match self {
            Self::Local(_) => LocationKind::Local,
            Self::Blob(_) => LocationKind::Blob,
            Self::S3(_) => LocationKind::S3,
            Self::Gcs(_) => LocationKind::Gcs,
            Self::Files(_) => LocationKind::Files,
        }
    }

    /// The Blob URL, if this is one.
    pub fn as_blob(&self) -> Option<&BlobUrl> {
        match self {
            Self::Blob(b) => Some(b),
            _ => None,
        }
    }

    /// The S3 URL, if this is one.
    pub fn as_s3(&self) -> Option<&S3Url> {
        match self {
            Self::S3(s) => Some(s),
            _ => None,
        }
    }

    /// The GCS URL, if this is one.
    pub fn as_gcs(&self) -> Option<&GcsUrl> {
        match self {
            Self::Gcs(g) => Some(g),
            _ => None,
        }
    }

    /// The Azure Files URL, if this is one.
    pub fn as_files(&self) -> Option<&FileUrl> {
        match self {
            Self::Files(f) => Some(f),
            _ => None,
        }
    }

    /// The local path, if this is one.
    pub fn as_local(&self) -> Option<&LocalPath> {
        match self {
            Self::Local(l) => Some(l),
            _ => None,
        }
    }
}

impl fmt::Display for Location {
    /// Shows the location with secrets redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Local(l) => write!(f, "{l}"),
            Self::Blob(b) => write!(f, "{b}"),
            Self::S3(s) => write!(f, "{s}"),
            Self::Gcs(g) => write!(f, "{g}"),
            Self::Files(u) => write!(f, "{u}"),
        }
    }
}

/// A location that could not be parsed. The message names the (redacted) input and says why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid location `{shown}`: {reason}")]
pub struct LocationError {
    shown: String,
    reason: String,
}

impl LocationError {
    pub(crate) fn new(input: &str, reason: impl Into<String>) -> Self {
        Self { shown: crate::redact_text(input), reason: reason.into() }
    }

    /// Why the location was rejected.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_local_and_urls_are_blob() {
        assert_eq!(Location::parse("./data", LocationHint::Infer).unwrap().kind(), LocationKind::Local);
        let blob = Location::parse("https://a.blob.core.windows.net/box", LocationHint::Infer).unwrap();
        assert_eq!(blob.kind(), LocationKind::Blob);
        let emu = Location::parse("http://127.0.0.1:10000/devstoreaccount1/box/x", LocationHint::Infer).unwrap();
        assert_eq!(emu.as_blob().unwrap().account(), "devstoreaccount1");
    }

    #[test]
    fn unknown_schemes_are_refused_with_a_reason() {
        let err = Location::parse("ftp://host/x", LocationHint::Infer).unwrap_err();
        assert!(err.to_string().contains("`ftp://` scheme is not supported"), "{err}");
    }

    #[test]
    fn custom_domain_needs_a_hint() {
        let text = "https://files.example.com/box/x";
        let err = Location::parse(text, LocationHint::Infer).unwrap_err();
        assert!(err.reason().contains("--from-to"), "{err}");
        let ok = Location::parse(text, LocationHint::Known(LocationKind::Blob)).unwrap();
        assert_eq!(ok.as_blob().unwrap().container(), Some("box"));
    }

    #[test]
    fn errors_never_show_the_signature() {
        let err = Location::parse("https://files.example.com/box?sig=SECRET", LocationHint::Infer).unwrap_err();
        assert!(!err.to_string().contains("SECRET"), "{err}");
    }

    #[test]
    fn file_hosts_are_azure_files() {
        let files = Location::parse("https://a.file.core.windows.net/share/d/f", LocationHint::Infer).unwrap();
        assert_eq!(files.kind(), LocationKind::Files);
        assert_eq!(files.as_files().unwrap().path(), "d/f");
        let emu = "http://127.0.0.1:10004/devstoreaccount1/share";
        assert_eq!(Location::parse(emu, LocationHint::Known(LocationKind::Files)).unwrap().kind(), LocationKind::Files);
    }

    #[test]
    fn known_blob_refuses_a_path() {
        assert!(Location::parse("/tmp/x", LocationHint::Known(LocationKind::Blob)).is_err());
    }
}
