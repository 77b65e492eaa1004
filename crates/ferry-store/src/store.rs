//! The [`Store`] trait and its small companion types.

use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use bytes::Bytes;
use ferry_md5::Md5;
use futures::Stream;

use crate::{ByteStream, Entry, Payload, PositionalSink, Result, StoreError, WriteOptions, WriteReceipt};

/// A stream of listed entries.
pub type EntryStream<'a> = Pin<Box<dyn Stream<Item = Result<Entry>> + Send + 'a>>;

/// How deep a listing goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListDepth {
    /// Every object under the prefix, at any depth; no prefix entries.
    Recursive,
    /// Objects directly under the prefix, plus one [`crate::EntryKind::Prefix`] entry (key
    /// ending in `/`) for each virtual directory there.
    OneLevel,
}

/// The id of one staged part (an Azure block id), in its base64 form.
///
/// All parts of one object must have ids of the same length; [`PartId::numbered`] makes such ids.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartId(String);

impl PartId {
    /// Wraps an id that is already base64 (as returned by the service).
    pub fn from_base64(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// A fixed-length id for part `index` of an upload tagged `tag` (at most 32 bytes of tag);
    /// the tag lets a resumed upload recognise its own staged parts.
    pub fn numbered(tag: &str, index: u32) -> Self {
        let raw = format!("{tag:<32.32}{index:08}");
        Self(base64::engine::general_purpose::STANDARD.encode(raw))
    }

    /// The base64 form, as sent to the service.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The decoded bytes (used for local staging file names).
    pub fn decoded(&self) -> Option<Vec<u8>> {
        base64::engine::general_purpose::STANDARD.decode(&self.0).ok()
    }
}

/// A staged part and its size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartInfo {
    /// The part's id.
    pub id: PartId,
    /// Its size in bytes.
    pub size: u64,
}

/// The parts of one object: those committed into its current content and those staged but not
/// yet committed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartList {
    /// Parts that make up the object now, in order.
    pub committed: Vec<PartInfo>,
    /// Parts staged since, in the order the backend reports them.
    pub uncommitted: Vec<PartInfo>,
}

/// What a listing passed over without listing it: symbolic links (when they are neither
/// followed nor preserved) and special files (FIFOs, sockets, devices), for the summary's
/// "Symbolic Links Skipped" and "Special Files Skipped".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SkippedEntries {
    /// Symbolic links (and links whose target is gone, when following).
    pub symlinks: u64,
    /// FIFOs, sockets, devices.
    pub special: u64,
    /// Files with more than one hard link, when those are skipped.
    pub hardlinks: u64,
}

/// The metadata key that marks a blob as a stored symbolic link (its content is the link's
/// target), as AzCopy's `--preserve-symlinks` writes it.
pub const SYMLINK_METADATA: &str = "is_symlink";

/// What a backend can do beyond the required operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// `put_part_from_url` works: the service fetches a source URL itself.
    pub server_side_copy: bool,
    /// Content headers, metadata and Content-MD5 are stored and returned by `stat`/`list`.
    pub stores_properties: bool,
    /// Listings carry each object's metadata too (S3's do not: only a HEAD gives it).
    pub lists_metadata: bool,
    /// `list_parts` reports the committed parts of an object.
    pub lists_committed_parts: bool,
    /// Largest part, in bytes.
    pub max_part_size: u64,
    /// Smallest part but the last, in bytes (S3's 5 MiB; 0 where any size goes).
    pub min_part_size: u64,
    /// Most parts in one object.
    pub max_parts: u32,
    /// Largest single-shot write, in bytes.
    pub max_single_write: u64,
    /// `begin_positional_write` works.
    pub positional_writes: bool,
    /// Objects are files written in place (Azure Files): created at their full size with
    /// [`Store::create_ranged`], written range by range with [`Store::write_range`] (or
    /// [`Store::write_range_from_url`]), at most `max_part_size` each, in any order, then given
    /// their headers and MD5 with [`Store::set_content_headers`]. There are no staged parts, and
    /// a file being written is visible (as the service itself allows nothing else).
    pub writes_in_place: bool,
    /// Names follow the SMB rules ([`crate::smb_name_problem`]): no `" \ : | < > * ?` or
    /// control characters, no segment ending in `.` or a space, segments of at most 255
    /// characters.
    pub smb_names: bool,
    /// One `read` is served from one version of the object, even while it is being replaced
    /// (an object store's GET). A whole object read in one request then cannot mix two
    /// versions, so a copy needs no second look at the source to know it did not change
    /// underneath (a local file, read while it is written, can mix them).
    pub snapshot_reads: bool,
    /// [`Store::read_into`] can take a range straight into a sink (its own receive); where it is
    /// false, `read_into` always declines.
    pub reads_into: bool,
}

/// Why `key` cannot be a name on an SMB share (Azure Files), or `None` if it can: the
/// service refuses `" \ : | < > * ?` and control characters, and a name ending in `.` (unless
/// trailing dots are allowed) or a space; a segment is at most 255 characters.
pub fn smb_name_problem(key: &str, trailing_dot: bool) -> Option<String> {
    for segment in key.split('/') {
        if let Some(c) =
            segment.chars().find(|c| matches!(c, '"' | '\\' | ':' | '|' | '<' | '>' | '*' | '?') || c.is_control())
        {
            return Some(format!("`{}` cannot be in an Azure Files name", c.escape_default()));
        }
        if segment.chars().count() > 255 {
            return Some("a name on an Azure Files share is at most 255 characters per folder level".into());
        }
        if segment.ends_with(' ') || (!trailing_dot && segment.ends_with('.')) {
            return Some(
                "an Azure Files name cannot end in a space, nor in `.` unless --trailing-dot is Enable".into(),
            );
        }
    }
    None
}

/// How a positional write is published.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FinishOptions {
    /// Replace an existing object. When false, an existing object makes `finish` fail with
    /// `AlreadyExists` and is left untouched.
    pub overwrite: bool,
    /// Set the object's last-modified time (where the backend allows it).
    pub last_modified: Option<std::time::SystemTime>,
    /// Set the file's permission bits, instead of keeping a replaced file's (POSIX properties).
    pub mode: Option<u32>,
    /// Set the file's owner and group, where the process may (POSIX properties).
    pub owner: Option<(u32, u32)>,
}

/// An object being written at arbitrary offsets; see [`Store::begin_positional_write`].
#[async_trait]
pub trait PositionalWrite: Send + Sync {
    /// Writes `data` at `offset`. Writes may run concurrently and in any order.
    async fn write_at(&self, offset: u64, data: Bytes) -> Result<()>;

    /// Writes `pieces` one after another from `offset`: where the backend can, in one vectored
    /// write, so pieces gathered from the network are not first copied into one buffer.
    async fn write_pieces_at(&self, offset: u64, pieces: Vec<Bytes>) -> Result<()> {
        let mut at = offset;
        for piece in pieces {
            let len = piece.len() as u64;
            self.write_at(at, piece).await?;
            at += len;
        }
        Ok(())
    }

    /// Reads the written content back in order, for verification before publishing.
    async fn read_back(&self) -> Result<ByteStream>;

    /// A handle that writes into this object from blocking threads (see [`Store::read_into`]),
    /// where the backend has one (a local file); `None` elsewhere. It checks the bounds as
    /// [`Self::write_at`] does and stays usable while any receive holds it.
    fn sink(&self) -> Option<Arc<dyn PositionalSink>> {
        None
    }

    /// Feeds the `range` already written to `hasher`, read back (so a download is hashed in
    /// order while later ranges are still arriving): where the backend can, in one pass with
    /// one buffer off the async runtime. `NotSupported` where nothing is kept.
    async fn hash_written(&self, range: Range<u64>, mut hasher: Md5) -> Result<Md5> {
        const PIECE: u64 = 1024 * 1024;
        let mut at = range.start;
        while at < range.end {
            let len = PIECE.min(range.end - at);
            hasher.update(&self.read_at(at, usize::try_from(len).unwrap_or(usize::MAX)).await?);
            at += len;
        }
        Ok(hasher)
    }

    /// Reads back `len` bytes written at `offset` (so a download can be hashed in order while
    /// later ranges are still arriving). `NotSupported` where nothing is kept.
    async fn read_at(&self, offset: u64, len: usize) -> Result<Bytes> {
        let _ = (offset, len);
        Err(StoreError::not_supported("a positional write", "reading back"))
    }

    /// Grows the object to `size` bytes (zeros at the end), for data whose length is learnt only
    /// as it is written (an inflated download). `NotSupported` where the size is fixed.
    async fn grow(&self, size: u64) -> Result<()> {
        let _ = size;
        Err(StoreError::not_supported("a positional write", "growing"))
    }

    /// Checks the length and publishes the object atomically under its key.
    async fn finish(self: Box<Self>, options: &FinishOptions) -> Result<()>;

    /// Leaves the partial data in place (unpublished) so a later run can reopen it, instead of
    /// discarding it as dropping does.
    fn keep(self: Box<Self>) {}
}

/// A place objects live: a container, a directory.
///
/// # Contract
/// - **Keys** are relative, `/`-separated UTF-8 strings of at most 1,024 characters, kept exactly
///   as given: no Unicode normalisation, no case folding. An empty segment, `.` or `..` is
///   `InvalidInput` on backends that have real directories.
/// - **Listing order**: `list` yields entries in ascending byte order of the UTF-8 key. This one
///   promise lets the planner merge two listings with bounded memory. A listing is a stream: it
///   never holds the whole result in memory.
/// - **Atomic writes**: after `write` or `commit_parts` returns, readers see the whole new
///   content; before, the whole old content (or nothing). A failed write leaves the old object.
/// - **Integrity**: a `content_md5` in [`WriteOptions`] or an `md5` passed to `put_part` is
///   checked; data that does not match is refused with `InvalidInput` and nothing is stored.
/// - **Missing things** are `NotFound`: `stat`, `read` and `delete` of a missing key, and any
///   operation on a missing container.
/// - **Ranges**: `read` with `start..end` returns bytes `start..min(end, size)`; a start at or
///   beyond the end of a non-empty object is `InvalidInput`.
///
/// # Wrappers
/// A decorator (a fault injector, a rate limiter) must forward every method, including the
/// provided ones, so the wrapped backend's capabilities are kept.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// The root this store points at, for messages (secrets redacted).
    fn describe(&self) -> String;

    /// What this backend can do.
    fn capabilities(&self) -> Capabilities;

    /// Lists entries whose key starts with `prefix`, in key order: [`crate::cmp_keys`], the order
    /// of UTF-16 code units in which the Blob service lists names. (It equals UTF-8 byte order
    /// except that characters above U+FFFF sort before U+E000–U+FFFF.)
    fn list<'a>(&'a self, prefix: &'a str, depth: ListDepth) -> EntryStream<'a>;

    /// [`Store::list`] from the key `start` on (inclusive; a full key, not relative to
    /// `prefix`): the same entries in the same order, less those before `start`. Backends that
    /// can, ask the service to start there ([`crate::start`]) so the entries before it are
    /// never fetched; the others list them and drop them.
    fn list_from<'a>(&'a self, prefix: &'a str, depth: ListDepth, start: &str) -> EntryStream<'a> {
        crate::start::skip_before(self.list(prefix, depth), start.to_owned())
    }

    /// The entry for one object.
    async fn stat(&self, key: &str) -> Result<Entry>;

    /// Reads an object, or a range of it, as a stream.
    async fn read(&self, key: &str, range: Option<Range<u64>>) -> Result<ByteStream>;

    /// Reads `range` of `key` straight into `sink` at the same offsets, received and written on
    /// a blocking thread with no async body stream between (for a large download, that costs
    /// less CPU: each piece is written while it is in the CPU's cache). `whole`: the range is
    /// all of the object, asked for with no range, so the answer is one version.
    ///
    /// Only the plain case is taken: a success carrying exactly the range (a body that breaks
    /// off is resumed as [`Self::read`] resumes). Anything else (no such path here, a proxy, an
    /// error answer, another length) returns `false`, and the caller reads the range again by
    /// [`Self::read`], which has the retries and the error classification; whatever was written
    /// is then overwritten. An error is one the resumption met.
    async fn read_into(
        &self,
        key: &str,
        range: Range<u64>,
        whole: bool,
        sink: Arc<dyn PositionalSink>,
    ) -> Result<bool> {
        let _ = (key, range, whole, sink);
        Ok(false)
    }

    /// Writes a whole object in one operation.
    async fn write(&self, key: &str, payload: Payload, options: &WriteOptions) -> Result<WriteReceipt>;

    /// Stages one part of an object without changing the object. `md5`, when given, is the
    /// part's MD5 and is checked.
    async fn put_part(&self, key: &str, part: &PartId, data: Bytes, md5: Option<[u8; 16]>) -> Result<()>;

    /// Lists the committed and staged parts of an object (empty lists if it has none).
    async fn list_parts(&self, key: &str) -> Result<PartList>;

    /// Makes the object consist of `parts`, in order, each either staged or already committed.
    /// Staged parts not named are discarded.
    async fn commit_parts(&self, key: &str, parts: &[PartId], options: &WriteOptions) -> Result<WriteReceipt>;

    /// Prepares `key` for parts staged with ids [`PartId::numbered`] under `tag`: continues the
    /// upload session `earlier` (one an earlier run recorded) when the service still has it, or
    /// starts one, with `options` (S3 fixes an object's headers and metadata when its multipart
    /// upload starts; Azure at commit). Returns the session's id, for the journal to record so a
    /// resumed job finds its parts again, or `None` where parts need no session (Azure's staged
    /// blocks belong to the blob itself).
    async fn open_parts(
        &self,
        key: &str,
        tag: &str,
        options: &WriteOptions,
        earlier: Option<&str>,
    ) -> Result<Option<String>> {
        let _ = (key, tag, options, earlier);
        Ok(None)
    }

    /// Stages a part whose bytes the service fetches from `source_url` (which must carry its own
    /// authorization, e.g. a SAS). `NotSupported` unless `capabilities().server_side_copy`.
    async fn put_part_from_url(
        &self,
        key: &str,
        part: &PartId,
        source_url: &url::Url,
        range: Option<Range<u64>>,
    ) -> Result<()> {
        let _ = (part, source_url, range);
        Err(StoreError::not_supported(key, "server-side copy"))
    }

    /// Copies a whole object the service reads from `source_url` in one synchronous request
    /// (Azure's Copy Blob From URL; at most 256 MiB). The copy keeps the source's content headers
    /// and Content-MD5; `options` may give metadata (replacing the source's), tier, tags and
    /// `overwrite`, but no content headers. `NotSupported` unless `capabilities().server_side_copy`.
    async fn copy_object_from_url(
        &self,
        key: &str,
        source_url: &url::Url,
        options: &WriteOptions,
    ) -> Result<WriteReceipt> {
        let _ = (source_url, options);
        Err(StoreError::not_supported(key, "server-side copy"))
    }

    /// Opens `key` for writing `size` bytes at any offsets, in any order (parallel ranged
    /// downloads). Nothing is visible under `key` until [`PositionalWrite::finish`]; dropping the
    /// writer unfinished discards the partial data. `NotSupported` unless
    /// `capabilities().positional_writes`.
    async fn begin_positional_write(&self, key: &str, size: u64) -> Result<Box<dyn PositionalWrite>> {
        let _ = size;
        Err(StoreError::not_supported(key, "positional writes"))
    }

    /// Like [`Store::begin_positional_write`], but the partial data lives under a name derived
    /// from `tag`, so an interrupted run's partial object can be picked up again. Returns the
    /// writer and whether an earlier partial object of the right size was reopened (its content
    /// is whatever the earlier run wrote). `NotSupported` where there are no positional writes.
    async fn reopen_positional_write(
        &self,
        key: &str,
        size: u64,
        tag: &str,
    ) -> Result<(Box<dyn PositionalWrite>, bool)> {
        let _ = (size, tag);
        Err(StoreError::not_supported(key, "resumable positional writes"))
    }

    /// A URL from which a storage service can read `key` by itself (for server-side copy): it
    /// carries its own authorisation (a SAS) where one is needed. `NotSupported` for backends a
    /// service cannot reach.
    async fn service_readable_url(&self, key: &str) -> Result<url::Url> {
        Err(StoreError::not_supported(key, "reading by URL"))
    }

    /// Creates `key` as an object of `size` zero bytes whose ranges are then written in place
    /// with [`Store::write_range`] (Azure: a page blob; `size` a multiple of 512). `NotSupported`
    /// where there are none.
    async fn create_ranged(&self, key: &str, size: u64, options: &WriteOptions) -> Result<WriteReceipt> {
        let _ = (size, options);
        Err(StoreError::not_supported(key, "page blobs"))
    }

    /// Writes `data` at `offset` of an object made by [`Store::create_ranged`] (Azure: 512-byte
    /// aligned, at most 4 MiB).
    async fn write_range(&self, key: &str, offset: u64, data: Bytes, md5: Option<[u8; 16]>) -> Result<()> {
        let _ = (offset, data, md5);
        Err(StoreError::not_supported(key, "page blobs"))
    }

    /// Has the service write `range` of `source_url` at the same offsets of an object made by
    /// [`Store::create_ranged`] (Azure Files' Put Range From URL; at most `max_part_size`).
    /// `NotSupported` unless `capabilities().writes_in_place && capabilities().server_side_copy`.
    async fn write_range_from_url(&self, key: &str, source_url: &url::Url, range: Range<u64>) -> Result<()> {
        let _ = (source_url, range);
        Err(StoreError::not_supported(key, "server-side range copies"))
    }

    /// Creates `key` as an empty object that grows only at its end, with
    /// [`Store::append`] (Azure: an append blob).
    async fn create_appendable(&self, key: &str, options: &WriteOptions) -> Result<WriteReceipt> {
        let _ = options;
        Err(StoreError::not_supported(key, "append blobs"))
    }

    /// Appends `data` to an appendable object that is `at` bytes long now (refused if it is
    /// not, so nothing is appended twice).
    async fn append(&self, key: &str, at: u64, data: Bytes, md5: Option<[u8; 16]>) -> Result<()> {
        let _ = (at, data, md5);
        Err(StoreError::not_supported(key, "append blobs"))
    }

    /// Replaces an object's content headers with `options`' (e.g. its whole MD5, known only once
    /// a page or append blob is written).
    async fn set_content_headers(&self, key: &str, options: &WriteOptions) -> Result<()> {
        let _ = options;
        Err(StoreError::not_supported(key, "setting content headers"))
    }

    /// An object's index tags (Azure's blob index tags). `NotSupported` where there are none.
    async fn tags(&self, key: &str) -> Result<std::collections::BTreeMap<String, String>> {
        Err(StoreError::not_supported(key, "index tags"))
    }

    /// Makes `key` a symbolic link to `target` (a stored link being restored), replacing what is
    /// there. `NotSupported` where there are no links.
    async fn write_symlink(&self, key: &str, target: &str) -> Result<()> {
        let _ = target;
        Err(StoreError::not_supported(key, "symbolic links"))
    }

    /// Every directory under `prefix` (which ends in `/` or is empty), empty ones included, as
    /// [`crate::EntryKind::Prefix`] entries whose keys end in `/`, parents before children — for
    /// copies between places that have real directories (local disks, Azure Files), which
    /// recreate them. Object stores have none: the default lists nothing.
    fn list_directories<'a>(&'a self, prefix: &'a str) -> EntryStream<'a> {
        let _ = prefix;
        Box::pin(futures::stream::empty())
    }

    /// Creates directory `key` (and its parents), where there are real directories; one that
    /// exists is fine. `NotSupported` for object stores.
    async fn make_directory(&self, key: &str) -> Result<()> {
        Err(StoreError::not_supported(key, "directories"))
    }

    /// What listings so far passed over (see [`SkippedEntries`]); none for most backends.
    fn skipped_entries(&self) -> SkippedEntries {
        SkippedEntries::default()
    }

    /// Deletes an object. `NotFound` if it does not exist.
    async fn delete(&self, key: &str) -> Result<()>;

    /// Creates the root (a container, a directory). `AlreadyExists` if it exists.
    async fn create_root(&self) -> Result<()>;
}

/// The MD5 of `data`, as stored in Content-MD5.
pub fn md5_of(data: &[u8]) -> [u8; 16] {
    Md5::digest(data)
}

pub(crate) fn check_md5(key: &str, data: &Bytes, expected: Option<[u8; 16]>) -> Result<()> {
    match expected {
        Some(md5) if md5_of(data) != md5 => Err(StoreError::new(
            crate::ErrorKind::InvalidInput,
            key,
            "the data does not match the MD5 sent with it (Md5Mismatch)",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_part_ids_have_one_length_and_sort_by_index() {
        let a = PartId::numbered("job-1", 0);
        let b = PartId::numbered("job-1", 99_999);
        assert_eq!(a.as_str().len(), b.as_str().len());
        assert_eq!(a.decoded().unwrap().len(), 40);
        assert_ne!(a, PartId::numbered("job-2", 0));
    }

    #[test]
    fn md5_matches_known_vector() {
        // RFC 1321 test suite: MD5("abc").
        let hex: String = md5_of(b"abc").iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "900150983cd24fb0d6963f7d28e17f72");
    }
}
