//! The emulated account: shares of directories and files in memory, with the properties the
//! File service keeps (content headers, metadata, SMB attributes and times, permission keys).

use std::collections::{BTreeMap, HashMap};

use time::OffsetDateTime;

/// Content headers of a file, as `x-ms-content-*` set them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct ContentHeaders {
    pub(super) content_type: Option<String>,
    pub(super) content_encoding: Option<String>,
    pub(super) content_language: Option<String>,
    pub(super) content_disposition: Option<String>,
    pub(super) cache_control: Option<String>,
    pub(super) content_md5: Option<String>,
}

/// SMB properties of a file or directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Smb {
    pub(super) attributes: String,
    pub(super) creation: OffsetDateTime,
    pub(super) last_write: OffsetDateTime,
    pub(super) change: OffsetDateTime,
    pub(super) permission_key: String,
    pub(super) file_id: u64,
}

/// What every node has.
#[derive(Debug, Clone)]
pub(super) struct Common {
    pub(super) metadata: BTreeMap<String, String>,
    pub(super) smb: Smb,
    pub(super) last_modified: OffsetDateTime,
    pub(super) etag: String,
}

/// A file.
#[derive(Debug, Clone)]
pub(super) struct File {
    pub(super) common: Common,
    pub(super) data: Vec<u8>,
    pub(super) headers: ContentHeaders,
    /// Byte ranges written (merged), for Get Range List.
    pub(super) written: Vec<(u64, u64)>,
}

/// A directory: its children by name (byte order, as the listing returns them).
#[derive(Debug, Clone)]
pub(super) struct Directory {
    pub(super) common: Common,
    pub(super) children: BTreeMap<String, Node>,
}

/// A file or a directory.
#[derive(Debug, Clone)]
pub(super) enum Node {
    File(Box<File>),
    Directory(Box<Directory>),
}

/// A share.
#[derive(Debug, Clone)]
pub(super) struct Share {
    pub(super) quota_gb: u64,
    pub(super) metadata: BTreeMap<String, String>,
    pub(super) last_modified: OffsetDateTime,
    pub(super) etag: String,
    pub(super) root: Directory,
    /// Security descriptors (SDDL) by permission key.
    pub(super) permissions: HashMap<String, String>,
    /// How many ranges were written from a URL (Put Range From URL): what tests check to see a
    /// copy went server-side.
    pub(super) ranges_from_urls: u64,
}

/// The SDDL a node inherits when none is given, and its key.
pub(super) const DEFAULT_SDDL: &str = "O:SYG:SYD:(A;OICI;FA;;;BA)(A;OICI;FA;;;SY)(A;OICI;0x1200a9;;;BU)";
pub(super) const DEFAULT_KEY: &str = "4066528134148476695*1";

/// The whole account.
#[derive(Debug, Default)]
pub(super) struct Account {
    pub(super) shares: BTreeMap<String, Share>,
    next_id: u64,
    next_etag: u64,
}

impl Account {
    /// A fresh entity tag.
    pub(super) fn etag(&mut self) -> String {
        self.next_etag += 1;
        format!("\"0x8DD{:012X}\"", self.next_etag)
    }

    /// A fresh file id.
    pub(super) fn file_id(&mut self) -> u64 {
        self.next_id += 1;
        13_835_058_055_282_163_712 + self.next_id
    }

    /// What a new node starts with.
    pub(super) fn common(&mut self, attributes: &str) -> Common {
        let now = OffsetDateTime::now_utc();
        let smb = Smb {
            attributes: attributes.to_owned(),
            creation: now,
            last_write: now,
            change: now,
            permission_key: DEFAULT_KEY.to_owned(),
            file_id: self.file_id(),
        };
        Common { metadata: BTreeMap::new(), smb, last_modified: now, etag: self.etag() }
    }

    /// A new, empty share.
    pub(super) fn new_share(&mut self, quota_gb: u64, metadata: BTreeMap<String, String>) -> Share {
        let root = Directory { common: self.common("Directory"), children: BTreeMap::new() };
        let permissions = HashMap::from([(DEFAULT_KEY.to_owned(), DEFAULT_SDDL.to_owned())]);
        Share {
            quota_gb,
            metadata,
            last_modified: OffsetDateTime::now_utc(),
            etag: self.etag(),
            root,
            permissions,
            ranges_from_urls: 0,
        }
    }
}

impl Directory {
    /// The node at `path` (segments) below this directory.
    pub(super) fn find(&self, path: &[&str]) -> Option<&Node> {
        let (first, rest) = path.split_first()?;
        let node = self.children.get(*first)?;
        if rest.is_empty() {
            return Some(node);
        }
        match node {
            Node::Directory(d) => d.find(rest),
            Node::File(_) => None,
        }
    }

    /// The directory at `path` (the root for an empty path).
    pub(super) fn dir_mut(&mut self, path: &[&str]) -> Option<&mut Directory> {
        let Some((first, rest)) = path.split_first() else { return Some(self) };
        match self.children.get_mut(*first)? {
            Node::Directory(d) => d.dir_mut(rest),
            Node::File(_) => None,
        }
    }

    /// The directory at `path`, read-only.
    pub(super) fn dir(&self, path: &[&str]) -> Option<&Directory> {
        if path.is_empty() {
            return Some(self);
        }
        match self.find(path)? {
            Node::Directory(d) => Some(d),
            Node::File(_) => None,
        }
    }

    /// The file at `path`.
    pub(super) fn file_mut(&mut self, path: &[&str]) -> Option<&mut File> {
        let (name, parent) = path.split_last()?;
        match self.dir_mut(parent)?.children.get_mut(*name)? {
            Node::File(f) => Some(f),
            Node::Directory(_) => None,
        }
    }
}

impl File {
    /// Records that `start..end` was written, merging with what was.
    pub(super) fn mark_written(&mut self, start: u64, end: u64) {
        self.written.push((start, end));
        self.written.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::new();
        for (s, e) in self.written.drain(..) {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        self.written = merged;
    }

    /// Forgets what was written in `start..end` (a cleared range, or a shrink).
    pub(super) fn mark_cleared(&mut self, start: u64, end: u64) {
        let mut kept = Vec::new();
        for (s, e) in self.written.drain(..) {
            if e <= start || s >= end {
                kept.push((s, e));
            } else {
                if s < start {
                    kept.push((s, start));
                }
                if e > end {
                    kept.push((end, e));
                }
            }
        }
        self.written = kept;
    }
}
