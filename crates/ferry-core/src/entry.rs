//! What a listing or a stat returns, and what a write sets.

use std::collections::BTreeMap;
use std::time::SystemTime;

/// Whether a listed entry is an object or a virtual directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// An object (a blob, a file).
    Object,
    /// A virtual directory, returned only by one-level listings; its key ends with `/`.
    Prefix,
}

/// One object (or, in a one-level listing, one virtual directory).
///
/// Kept small on purpose: a sync of millions of objects holds many of these in flight.
/// The rarely needed properties sit behind one optional box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key, relative to the store's root, exactly as stored (no normalisation).
    pub key: String,
    /// Object or virtual directory.
    pub kind: EntryKind,
    /// Size in bytes (0 for a prefix).
    pub size: u64,
    /// Last-modified time, when the backend knows it.
    pub last_modified: Option<SystemTime>,
    /// The stored whole-object MD5 (Azure's Content-MD5), when there is one.
    pub content_md5: Option<[u8; 16]>,
    /// The entity tag, unquoted, when the backend has one.
    pub etag: Option<String>,
    /// Content headers, metadata, tier and the like, when the backend has them.
    pub properties: Option<Box<ObjectProperties>>,
}

impl Entry {
    /// A plain object entry with only a key and a size.
    pub fn object(key: impl Into<String>, size: u64) -> Self {
        Self {
            key: key.into(),
            kind: EntryKind::Object,
            size,
            last_modified: None,
            content_md5: None,
            etag: None,
            properties: None,
        }
    }

    /// A virtual-directory entry (`key` ends with `/`).
    pub fn prefix(key: impl Into<String>) -> Self {
        Self { kind: EntryKind::Prefix, ..Self::object(key, 0) }
    }

    /// Whether this is a directory stub: an empty blob with metadata `hdi_isfolder=true`, which
    /// ADLS Gen2 accounts, Storage Explorer's "New folder" and AzCopy write to stand for a
    /// folder. Copies and syncs skip them, as AzCopy does without `--include-directory-stub`:
    /// downloaded as files they would block their own folder.
    pub fn is_folder_marker(&self) -> bool {
        self.kind == EntryKind::Object
            && self.properties.as_ref().is_some_and(|p| {
                p.metadata.iter().any(|(k, v)| k.eq_ignore_ascii_case("hdi_isfolder") && v.eq_ignore_ascii_case("true"))
            })
    }

    /// The properties, or an empty set.
    pub fn props(&self) -> &ObjectProperties {
        static EMPTY: std::sync::OnceLock<ObjectProperties> = std::sync::OnceLock::new();
        self.properties.as_deref().unwrap_or_else(|| EMPTY.get_or_init(ObjectProperties::default))
    }
}

/// Standard HTTP content headers stored with an object.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ContentHeaders {
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// `Content-Language`.
    pub content_language: Option<String>,
    /// `Content-Disposition`.
    pub content_disposition: Option<String>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// The whole object's MD5 (stored as Content-MD5). On a write it is also checked: a backend
    /// refuses the write when the data does not hash to it.
    pub content_md5: Option<[u8; 16]>,
}

/// Everything about an object beyond key, size, time and hash.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectProperties {
    /// Content headers.
    pub headers: ContentHeaders,
    /// User metadata (`x-ms-meta-*`), names as stored.
    pub metadata: BTreeMap<String, String>,
    /// `BlockBlob`, `PageBlob` or `AppendBlob`.
    pub blob_type: Option<String>,
    /// Access tier (`Hot`, `Cool`, `Cold`, `Archive`, …).
    pub access_tier: Option<String>,
    /// Archive rehydration status.
    pub archive_status: Option<String>,
    /// Lease state (`available`, `leased`, …).
    pub lease_state: Option<String>,
    /// Lease status (`locked`, `unlocked`).
    pub lease_status: Option<String>,
    /// Lease duration (`infinite`, `fixed`).
    pub lease_duration: Option<String>,
    /// Version id, when versioning is on.
    pub version_id: Option<String>,
    /// The snapshot's time, when the entry is a snapshot (listed with snapshots).
    pub snapshot: Option<String>,
    /// Soft-deleted (listed with deleted blobs): it can be restored, or purged for good.
    pub deleted: bool,
    /// A file's SMB properties (Azure Files).
    pub smb: Option<SmbProperties>,
}

/// The SMB properties of a file on an Azure Files share: what `--preserve-smb-info` and
/// `--preserve-permissions` carry from share to share.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SmbProperties {
    /// Attributes in the service's spelling (`ReadOnly | Archive`), `None` for none known.
    pub attributes: Option<String>,
    /// When the file was created.
    pub creation_time: Option<SystemTime>,
    /// When its content was last written (what `sync` compares for Azure Files).
    pub last_write_time: Option<SystemTime>,
    /// When its properties last changed.
    pub change_time: Option<SystemTime>,
    /// The key of its security descriptor in its own share (`x-ms-file-permission-key`).
    pub permission_key: Option<String>,
    /// Its security descriptor in SDDL, when it was read (`--preserve-permissions`).
    pub permission: Option<String>,
}

/// How an object is written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WriteOptions {
    /// Content headers to store; `content_md5` is also verified against the data.
    pub headers: ContentHeaders,
    /// User metadata.
    pub metadata: BTreeMap<String, String>,
    /// Access tier to set, where the backend has tiers.
    pub access_tier: Option<String>,
    /// Index tags to set, where the backend has them (Azure blob index tags).
    pub tags: BTreeMap<String, String>,
    /// Replace an existing object (the default). When false, an existing object makes the write
    /// fail with `AlreadyExists` and is left untouched.
    pub overwrite: bool,
    /// SMB properties to set, where the backend has them (Azure Files); set per item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smb: Option<SmbProperties>,
}

impl Default for WriteOptions {
    fn default() -> Self {
        Self {
            headers: ContentHeaders::default(),
            metadata: BTreeMap::new(),
            access_tier: None,
            tags: BTreeMap::new(),
            overwrite: true,
            smb: None,
        }
    }
}

/// What a successful write reports back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteReceipt {
    /// The new entity tag, when the backend has one.
    pub etag: Option<String>,
    /// The new last-modified time, when the backend reports one.
    pub last_modified: Option<SystemTime>,
}
