//! What a job records about how objects are written and checked.

use ferry_store::WriteOptions;

/// `--overwrite`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Overwrite {
    /// Replace what exists (the default).
    #[default]
    True,
    /// Keep what exists; the item is skipped.
    False,
    /// Replace only when the source is newer than the destination.
    IfSourceNewer,
    /// Ask [`crate::CopyOptions::prompt`] for each existing destination.
    Prompt,
}

/// `--check-md5`, for downloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum CheckMd5 {
    /// Do not check.
    NoCheck,
    /// Check and log a mismatch, but keep the file.
    LogOnly,
    /// Fail the item when the stored MD5 differs (the default).
    #[default]
    FailIfDifferent,
    /// Fail when it differs or when the source has no stored MD5.
    FailIfDifferentOrMissing,
}

/// How objects are written and checked: the part of a copy's options a job records (so it is
/// serialisable), apart from limits and hooks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TransferPolicy {
    /// Block (and download chunk) size; `None` for AzCopy's automatic size.
    pub block_size: Option<u64>,
    /// Objects up to this size go in one Put Blob; `None` means the block size.
    pub put_blob_size: Option<u64>,
    /// Store the whole object's MD5 (computed while reading) as Content-MD5 on staged uploads.
    pub put_md5: bool,
    /// Verify downloads against the stored MD5.
    pub check_md5: CheckMd5,
    /// Fail an item whose source yields a different number of bytes than listed.
    pub check_length: bool,
    /// What to do when the destination exists.
    pub overwrite: Overwrite,
    /// Give downloaded files the source's last-modified time.
    pub preserve_last_modified: bool,
    /// Give uploads without a Content-Type one guessed from the file extension.
    pub guess_mime_type: bool,
    /// Headers, metadata and tier for uploads (`content_md5` and `overwrite` are set per item).
    pub write: WriteOptions,
    /// Server-side copies give the destination the source's access tier, unless `write` names
    /// one (AzCopy's `--s2s-preserve-access-tier`, on by default; journals from before it had
    /// it read as on).
    #[serde(default = "yes")]
    pub preserve_access_tier: bool,
    /// Downloads make a blob marked as a stored link (`is_symlink`) a symbolic link again
    /// (AzCopy's `--preserve-symlinks`); uploads of such links carry the mark.
    #[serde(default)]
    pub preserve_symlinks: bool,
    /// The type of object written (AzCopy's `--blob-type`).
    #[serde(default)]
    pub object_type: ObjectType,
    /// The tier of page blobs written (AzCopy's `--page-blob-tier`: P4 … P80).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_tier: Option<String>,
    /// Server-side copies keep the source's content headers and metadata (AzCopy's
    /// `--s2s-preserve-properties`, on by default; journals from before it had it read as on).
    #[serde(default = "yes")]
    pub preserve_properties: bool,
    /// Server-side copies give the destination the source's index tags (AzCopy's
    /// `--s2s-preserve-blob-tags`), unless `write` names tags.
    #[serde(default)]
    pub preserve_blob_tags: bool,
    /// Server-side copies check afterwards that the source did not change while it was read
    /// (AzCopy's `--s2s-detect-source-changed`); the item fails if it did.
    #[serde(default)]
    pub detect_source_changed: bool,
    /// POSIX properties travel as metadata in this style: uploads record them, downloads
    /// restore mode, owner and modification time (AzCopy's `--preserve-posix-properties`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posix: Option<ferry_store::PosixStyle>,
    /// Downloads of objects stored gzip- or deflate-encoded are inflated, and lose the
    /// extension that says so (AzCopy's `--decompress`).
    #[serde(default)]
    pub decompress: bool,
    /// Whether copies between services are made by the destination reading the source by URL.
    #[serde(default)]
    pub server_side: ServerSide,
    /// Files written to Azure Files keep the source's SMB times and attributes (a local file's
    /// modification time becomes its last-write time), so a later `sync` compares like with
    /// like (AzCopy's `--preserve-smb-info`, on by default).
    #[serde(default = "yes")]
    pub preserve_smb_info: bool,
    /// Files written to Azure Files from a share keep its permissions, as SDDL (AzCopy's
    /// `--preserve-permissions`).
    #[serde(default)]
    pub preserve_permissions: bool,
}

/// Whether a copy between services is made server-side (the destination reads the source by
/// URL, the bytes never passing through Ferry) or streamed through Ferry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ServerSide {
    /// Server-side; an item whose source the destination cannot reach is streamed instead.
    #[default]
    Auto,
    /// Server-side only: an unreachable source fails the item.
    Always,
    /// Always through Ferry.
    Never,
}

/// What kind of object an upload or copy writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ObjectType {
    /// Written in blocks, committed at once (what journals from before this field mean).
    #[default]
    Block,
    /// 512-byte pages written in place (disks; all-zero ranges are not sent).
    Page,
    /// Blocks appended at the end.
    Append,
    /// A copy keeps the source's type; an upload makes `.vhd`/`.vhdx` files page blobs, the
    /// rest block blobs (AzCopy's default).
    Detect,
}

fn yes() -> bool {
    true
}

impl Default for TransferPolicy {
    fn default() -> Self {
        Self {
            block_size: None,
            put_blob_size: None,
            put_md5: false,
            check_md5: CheckMd5::default(),
            check_length: true,
            overwrite: Overwrite::default(),
            preserve_last_modified: false,
            guess_mime_type: true,
            write: WriteOptions::default(),
            preserve_access_tier: true,
            preserve_smb_info: true,
            preserve_permissions: false,
            preserve_symlinks: false,
            object_type: ObjectType::Block,
            page_tier: None,
            posix: None,
            preserve_properties: true,
            preserve_blob_tags: false,
            detect_source_changed: false,
            decompress: false,
            server_side: ServerSide::Auto,
        }
    }
}
