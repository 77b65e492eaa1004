//! The File service's listings: List Directories and Files pages and List Shares pages, read
//! with the same small event walker as Blob's (names byte for byte, no tree built).

use ferry_http::xml::{Visitor, XmlError, walk};
use ferry_store::SmbProperties;

use crate::smb::parse_smb_time;

/// One file or directory of a directory listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Child {
    /// Its name in its directory.
    pub(crate) name: String,
    /// A directory (else a file).
    pub(crate) is_directory: bool,
    /// A file's size.
    pub(crate) size: u64,
    /// Last-Modified (the REST resource's time).
    pub(crate) last_modified: Option<std::time::SystemTime>,
    /// The ETag, unquoted.
    pub(crate) etag: Option<String>,
    /// SMB times, attributes and permission key, as far as the listing gave them.
    pub(crate) smb: SmbProperties,
}

/// One page of a directory listing.
#[derive(Debug, Default)]
pub(crate) struct DirectoryPage {
    pub(crate) children: Vec<Child>,
    pub(crate) next_marker: Option<String>,
}

#[derive(Default)]
struct PageVisitor {
    page: DirectoryPage,
    current: Option<Child>,
    encoded: bool,
}

impl Visitor for PageVisitor {
    fn open(&mut self, path: &[String], attrs: &[(String, String)]) {
        match path.last().map(String::as_str) {
            Some(tag @ ("File" | "Directory")) if path.len() >= 2 && path[path.len() - 2] == "Entries" => {
                self.current = Some(Child { is_directory: tag == "Directory", ..Child::default() });
            }
            Some("Name") => self.encoded = attrs.iter().any(|(k, v)| k == "Encoded" && v.eq_ignore_ascii_case("true")),
            _ => {}
        }
    }

    fn text(&mut self, path: &[String], text: &str) {
        let n = path.len();
        let leaf = path[n - 1].as_str();
        if leaf == "NextMarker" && n == 2 {
            self.page.next_marker = (!text.is_empty()).then(|| text.to_owned());
            return;
        }
        let Some(child) = self.current.as_mut() else { return };
        let owned = || Some(text.to_owned());
        match leaf {
            "Name" if n >= 2 && matches!(path[n - 2].as_str(), "File" | "Directory") => {
                child.name = if self.encoded {
                    ferry_core::encoding::decode(text).unwrap_or_else(|_| text.to_owned())
                } else {
                    text.to_owned()
                };
            }
            "Content-Length" => child.size = text.trim().parse().unwrap_or(0),
            "Last-Modified" => child.last_modified = httpdate::parse_http_date(text.trim()).ok(),
            "Etag" => child.etag = Some(text.trim_matches('"').to_owned()),
            "CreationTime" => child.smb.creation_time = parse_smb_time(text),
            "LastWriteTime" => child.smb.last_write_time = parse_smb_time(text),
            "ChangeTime" => child.smb.change_time = parse_smb_time(text),
            "Attributes" => child.smb.attributes = owned(),
            "PermissionKey" => child.smb.permission_key = owned(),
            _ => {}
        }
    }

    fn close(&mut self, path: &[String]) {
        if matches!(path.last().map(String::as_str), Some("File" | "Directory"))
            && path.len() >= 2
            && path[path.len() - 2] == "Entries"
            && let Some(child) = self.current.take()
        {
            self.page.children.push(child);
        }
    }
}

/// Parses one page of List Directories and Files.
pub(crate) fn parse_directory_page(xml: &str) -> Result<DirectoryPage, XmlError> {
    let mut visitor = PageVisitor::default();
    walk(xml, &mut visitor)?;
    if visitor.page.children.iter().any(|c| c.name.is_empty()) {
        return Err(XmlError("a listed entry has no name".into()));
    }
    Ok(visitor.page)
}

#[derive(Default)]
struct SharePageVisitor {
    names: Vec<String>,
    next: Option<String>,
}

impl Visitor for SharePageVisitor {
    fn text(&mut self, path: &[String], text: &str) {
        let n = path.len();
        match path[n - 1].as_str() {
            "Name" if n >= 2 && path[n - 2] == "Share" => self.names.push(text.to_owned()),
            "NextMarker" if n == 2 => self.next = (!text.is_empty()).then(|| text.to_owned()),
            _ => {}
        }
    }
}

/// Parses one page of List Shares: the names and the next marker.
pub(crate) fn parse_share_page(xml: &str) -> Result<(Vec<String>, Option<String>), XmlError> {
    let mut visitor = SharePageVisitor::default();
    walk(xml, &mut visitor)?;
    Ok((visitor.names, visitor.next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_gives_files_directories_and_their_smb_properties() {
        let xml = r#"<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="x" ShareName="s" DirectoryPath=""><Entries><File><FileId>5</FileId><Name>a &amp; b.txt</Name><Properties><Content-Length>12</Content-Length><CreationTime>2023-11-14T22:13:20.1234567Z</CreationTime><LastWriteTime>2023-11-14T22:13:21.0000000Z</LastWriteTime><Last-Modified>Tue, 14 Nov 2023 22:13:22 GMT</Last-Modified><Etag>"0x1"</Etag></Properties><Attributes>ReadOnly | Archive</Attributes><PermissionKey>k1</PermissionKey></File><Directory><FileId>6</FileId><Name>dir</Name><Properties /></Directory></Entries><NextMarker>dir2</NextMarker></EnumerationResults>"#;
        let page = parse_directory_page(xml).unwrap();
        assert_eq!(page.children.len(), 2);
        let file = &page.children[0];
        assert_eq!((file.name.as_str(), file.is_directory, file.size), ("a & b.txt", false, 12));
        assert_eq!(file.smb.attributes.as_deref(), Some("ReadOnly | Archive"));
        assert_eq!(file.smb.permission_key.as_deref(), Some("k1"));
        assert_eq!(file.etag.as_deref(), Some("0x1"));
        assert!(file.smb.last_write_time.is_some() && file.last_modified.is_some());
        assert!(page.children[1].is_directory);
        assert_eq!(page.next_marker.as_deref(), Some("dir2"));
    }

    #[test]
    fn share_pages_list_names() {
        let xml = "<EnumerationResults><Shares><Share><Name>one</Name></Share><Share><Name>two</Name></Share></Shares><NextMarker /></EnumerationResults>";
        assert_eq!(parse_share_page(xml).unwrap(), (vec!["one".to_owned(), "two".to_owned()], None));
    }
}
