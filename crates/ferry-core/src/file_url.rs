//! Azure Files URLs: `https://ACCOUNT.file.core.windows.net/SHARE/PATH?SAS`, or an emulator's
//! `http://127.0.0.1:PORT/ACCOUNT/SHARE/PATH` (named with `--from-to`).

use std::fmt;

use crate::BlobUrl;
use crate::location::LocationError;

/// A parsed Azure Files URL: the account, an optional share, a path in it (decoded) and an
/// optional SAS. It has the shape of a Blob URL (account, then share where a container would
/// be, share names follow the same rules), so it is one underneath; printing it never shows the
/// SAS signature.
#[derive(Clone, PartialEq, Eq)]
pub struct FileUrl(BlobUrl);

/// The host marker of the File service in Azure's public and sovereign clouds.
const FILE_HOST_MARKER: &str = ".file.";

impl FileUrl {
    /// Parses a Files URL. `known` is true when the user declared the location to be Azure Files
    /// (`--from-to …FileSMB…`), which admits emulator and custom hosts.
    pub fn parse(text: &str, known: bool) -> Result<Self, LocationError> {
        if !known && !Self::is_files(text) {
            return Err(LocationError::new(
                text,
                "not an Azure Files host; for an emulator or a custom domain pass `--from-to` (e.g. `--from-to LocalFileSMB`)",
            ));
        }
        let url = BlobUrl::parse(text, true)?;
        if url.point_in_time().is_some() {
            return Err(LocationError::new(text, "share snapshots and versions are not supported"));
        }
        Ok(Self(url))
    }

    /// Whether `text` is an https URL whose host names the File service.
    pub fn is_files(text: &str) -> bool {
        url::Url::parse(text)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            .is_some_and(|h| h.contains(FILE_HOST_MARKER))
    }

    /// The URL in its Blob-shaped form: the account, the share (as the container) and the path,
    /// for the code that Blob and Files share (endpoints, signing, credentials).
    pub fn azure(&self) -> &BlobUrl {
        &self.0
    }

    /// The storage account.
    pub fn account(&self) -> &str {
        self.0.account()
    }

    /// The share, if the URL names one.
    pub fn share(&self) -> Option<&str> {
        self.0.container()
    }

    /// The path in the share, decoded (empty for the whole share).
    pub fn path(&self) -> &str {
        self.0.path()
    }

    /// True for a trailing `/*`: the contents of the directory, not the directory itself.
    pub fn contents_only(&self) -> bool {
        self.0.contents_only()
    }

    /// The SAS that came with the URL, if any.
    pub fn sas(&self) -> Option<&crate::SasToken> {
        self.0.sas()
    }

    /// The same URL with `sas` in place of its SAS.
    #[must_use]
    pub fn with_sas(&self, sas: Option<crate::SasToken>) -> Self {
        Self(self.0.with_sas(sas))
    }
}

impl fmt::Display for FileUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for FileUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FileUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_host_names_account_share_and_path() {
        let url =
            FileUrl::parse("https://acct.file.core.windows.net/share/dir/a%20b.txt?sv=1&sig=SECRET", false).unwrap();
        assert_eq!((url.account(), url.share(), url.path()), ("acct", Some("share"), "dir/a b.txt"));
        assert!(!url.to_string().contains("SECRET"), "{url}");
        assert!(url.sas().is_some());
    }

    #[test]
    fn an_emulator_needs_to_be_named() {
        let text = "http://127.0.0.1:10004/devstoreaccount1/share/x";
        assert!(FileUrl::parse(text, false).unwrap_err().reason().contains("--from-to"));
        let url = FileUrl::parse(text, true).unwrap();
        assert_eq!((url.account(), url.share(), url.path()), ("devstoreaccount1", Some("share"), "x"));
    }

    #[test]
    fn share_names_follow_the_service_rules() {
        assert!(FileUrl::parse("https://acct.file.core.windows.net/Bad_Share", false).is_err());
    }
}
