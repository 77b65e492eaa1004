//! The local file-system backend.
//!
//! Keys map to paths under the root directory. Listing walks the tree depth-first, sorting each
//! directory with directories keyed as `name/`, which yields keys in global key order
//! ([`crate::cmp_keys`]) while
//! holding only one directory's entries per level in memory. Writes go to a temporary file beside
//! the target and are renamed into place, so a reader never sees half a file. Staged parts live
//! in a hidden folder beside the target until they are committed.
//!
//! Nothing below the root is reached through a symbolic link when writing, creating, renaming or
//! deleting: see [`crate::safe_dir`]. A replaced file keeps the permissions (and, where allowed,
//! the owner) of the file it replaces.
//!
//! Ferry's own work files are [`TEMP_PREFIX`] or [`STAGING_PREFIX`] followed by exactly the
//! suffixes Ferry generates; listings skip those, with a warning, and nothing else: a user's file
//! that merely starts with the prefix is an ordinary file.

use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use ferry_md5::Md5;
use futures::{StreamExt, TryStreamExt};
use tokio::sync::mpsc;

use crate::safe_dir::SafeDir;
use crate::store::check_md5;
use crate::{
    ByteStream, Capabilities, Entry, EntryStream, ErrorKind, ListDepth, PartId, PartInfo, PartList, Payload, Result,
    Store, StoreError, WriteOptions, WriteReceipt,
};

/// Prefix of temporary files written before a rename.
pub const TEMP_PREFIX: &str = ".ferry-tmp-";
/// Prefix of the hidden folders that hold staged parts.
pub const STAGING_PREFIX: &str = ".ferry-part-";

const READ_CHUNK: usize = 256 * 1024;
/// Ranges up to this size are read with one positional read into one buffer.
const SINGLE_READ_MAX: u64 = 256 * 1024 * 1024;
/// Reads up to this size run on the calling task rather than the blocking pool.
const INLINE_READ_MAX: usize = 64 * 1024;
const LIST_CHANNEL: usize = 1024;

/// What a listing does with the symbolic links it meets below the root.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Links {
    /// Pass over them, counting them in [`Store::skipped_entries`] (the default: a link can
    /// point anywhere, and nothing outside the tree is read unless asked).
    #[default]
    Skip,
    /// List what they point to as if it were there: a file, or a directory's whole tree (each
    /// directory once, so a link to an ancestor ends instead of looping). AzCopy's
    /// `--follow-symlinks`.
    Follow,
    /// List each link itself: an object whose content is the link's target, marked with
    /// [`crate::SYMLINK_METADATA`]. AzCopy's `--preserve-symlinks`.
    Preserve,
}

/// What listings passed over, counted as they go.
#[derive(Debug, Default)]
struct Skipped {
    symlinks: AtomicU64,
    special: AtomicU64,
    hardlinks: AtomicU64,
}

/// A store rooted at a local directory.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
    links: Links,
    skipped: std::sync::Arc<Skipped>,
    posix: Option<crate::PosixStyle>,
    skip_hardlinks: bool,
}

impl LocalStore {
    /// Walks the tree under `prefix` on a blocking thread, from the key `start` on (all when
    /// empty), sending entries in key order.
    fn walk_from(&self, prefix: &str, depth: ListDepth, start: String) -> EntryStream<'static> {
        let (dir_part, filter) = match prefix.rfind('/') {
            Some(i) => (&prefix[..=i], &prefix[i + 1..]),
            None => ("", prefix),
        };
        let root = self.root.clone();
        let top = if dir_part.is_empty() { Ok(root.clone()) } else { self.path_of(dir_part.trim_end_matches('/')) };
        let (dir_part, filter) = (dir_part.to_owned(), filter.to_owned());
        let (links, skipped, posix, skip_hardlinks) =
            (self.links, self.skipped.clone(), self.posix, self.skip_hardlinks);
        let (tx, rx) = mpsc::channel(LIST_CHANNEL);
        tokio::task::spawn_blocking(move || {
            if !root.is_dir() {
                let _ = tx.blocking_send(Err(
                    StoreError::not_found(shown(&root)).with_hint("check the path; the directory must exist")
                ));
                return;
            }
            match top {
                Ok(top) if top.is_dir() => {
                    let mut walk = Walk {
                        depth,
                        links,
                        posix,
                        skip_hardlinks,
                        skipped: &skipped,
                        tx: &tx,
                        visited: std::collections::HashSet::new(),
                        start,
                    };
                    walk.walk(&top, &dir_part, &filter);
                }
                // A prefix under which nothing exists lists as empty, as in a blob container.
                Ok(_) => {}
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                }
            }
        });
        tokio_stream::wrappers::ReceiverStream::new(rx).boxed()
    }

    /// A store rooted at `root`. The directory need not exist yet (see [`Store::create_root`]).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            links: Links::Skip,
            skipped: std::sync::Arc::default(),
            posix: None,
            skip_hardlinks: false,
        }
    }

    /// Passes over files with more than one hard link, counting them (AzCopy's
    /// `--hardlinks skip`).
    #[must_use]
    pub fn skipping_hardlinks(mut self, skip: bool) -> Self {
        self.skip_hardlinks = skip;
        self
    }

    /// Lists each file with its POSIX properties as metadata in `style` (AzCopy's
    /// `--preserve-posix-properties`).
    #[must_use]
    pub fn with_posix(mut self, style: Option<crate::PosixStyle>) -> Self {
        self.posix = style;
        self
    }

    /// Sets what listings do with symbolic links (reads follow the same choice).
    #[must_use]
    pub fn with_links(mut self, links: Links) -> Self {
        self.links = links;
        self
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path of `key`, refusing keys that would escape the root or that a file system cannot
    /// hold (`..`, `.`, empty segments, NUL, a leading `/`).
    pub fn path_of(&self, key: &str) -> Result<PathBuf> {
        if key.is_empty() || key.starts_with('/') || key.contains('\0') {
            return Err(StoreError::new(ErrorKind::InvalidInput, key, "not a valid relative key"));
        }
        let mut path = self.root.clone();
        for segment in key.split('/') {
            if segment.is_empty() || segment == "." || segment == ".." {
                return Err(StoreError::new(
                    ErrorKind::InvalidInput,
                    key,
                    "a key segment is empty, `.` or `..`, which a local path cannot represent safely",
                ));
            }
            path.push(segment);
        }
        Ok(path)
    }

    /// The directory that holds `key`'s file, reached without following links (created when
    /// `create` is set), and the file's name in it.
    fn parent_of(&self, key: &str, create: bool) -> Result<(SafeDir, String)> {
        self.path_of(key)?;
        let mut segments: Vec<&str> = key.split('/').collect();
        let name = segments.pop().unwrap_or_default().to_owned();
        Ok((SafeDir::open(&self.root, &segments, create)?, name))
    }

    /// The hidden folder beside `key`'s file that holds its staged parts.
    fn staging_of(&self, key: &str, create: bool) -> Result<(SafeDir, SafeDir, String)> {
        let (dir, name) = self.parent_of(key, create)?;
        let digest: String = Md5::digest(key.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        let staging = dir.subdir(&format!("{STAGING_PREFIX}{digest}"), create)?;
        Ok((dir, staging, name))
    }
}

/// A unique temporary file name.
pub(crate) fn temp_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // The pid and a counter make the name unique within this process; the clock's nanoseconds
    // keep a later process that reuses the pid from colliding with a leftover file.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{TEMP_PREFIX}{}-{n}-{nanos:08x}", std::process::id())
}

/// A path as shown in messages.
pub(crate) fn shown(path: &Path) -> String {
    path.display().to_string()
}

fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether `name` is one of Ferry's own work files: exactly a name [`temp_name`], a resume tag
/// (32 hex digits) or a staging folder would have. A user's `.ferry-tmp-notes.txt` is not.
pub(crate) fn is_work_file(name: &str) -> bool {
    if let Some(rest) = name.strip_prefix(TEMP_PREFIX) {
        let generated = match rest.split('-').collect::<Vec<_>>()[..] {
            [pid, n, nanos] => {
                [pid, n].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) && is_hex(nanos, 8)
            }
            _ => false,
        };
        generated || is_hex(rest, 32)
    } else {
        name.strip_prefix(STAGING_PREFIX).is_some_and(|rest| is_hex(rest, 32))
    }
}

/// Moves the temporary file `temp` (open as `file`) to `target`, both in `dir`, replacing it only
/// when `overwrite` is set; a replaced file's permissions and owner carry over when `inherit`
/// (not when the file was given its own). Without overwrite a hard link is the atomic "create if
/// absent": it fails when the target exists.
pub(crate) fn publish(
    dir: &SafeDir,
    temp: &str,
    target: &str,
    overwrite: bool,
    key: &str,
    file: &fs::File,
    inherit: bool,
) -> Result<()> {
    let result = if overwrite {
        let access = if inherit { dir.copy_access_of(target, file) } else { Ok(()) };
        access.and_then(|()| dir.rename(temp, target))
    } else {
        dir.link(temp, target).and_then(|()| dir.unlink(temp))
    };
    result.map_err(|e| {
        let _ = dir.unlink(temp);
        if e.kind() == io::ErrorKind::AlreadyExists {
            StoreError::new(ErrorKind::AlreadyExists, key, "the object exists and overwrite is off")
        } else {
            StoreError::from_io(e, dir.shown(target))
        }
    })
}

fn entry_from_metadata(key: String, meta: &fs::Metadata) -> Entry {
    Entry { last_modified: meta.modified().ok(), ..Entry::object(key, meta.len()) }
}

/// One child of a directory being listed.
enum Child {
    Dir(String),
    File(String),
    /// A preserved link and its target.
    Link(String, String),
}

impl Child {
    fn sort_key(&self) -> &str {
        match self {
            Self::Dir(k) | Self::File(k) | Self::Link(k, _) => k,
        }
    }
}

/// A listing's walk: where entries go, and what it does with links.
struct Walk<'a> {
    depth: ListDepth,
    links: Links,
    posix: Option<crate::PosixStyle>,
    skip_hardlinks: bool,
    skipped: &'a Skipped,
    tx: &'a mpsc::Sender<Result<Entry>>,
    /// The directories being walked, from the start down to the current one (device, inode):
    /// a followed link to one of them would loop, so it is not walked.
    visited: std::collections::HashSet<(u64, u64)>,
    /// The first key wanted (`Store::list_from`), empty for all: files before it are not
    /// looked at, nor folders whose every key is before it.
    start: String,
}

impl Walk<'_> {
    /// Lists one directory, sorted so that a depth-first walk yields keys in byte order.
    /// Unreadable names are reported through `errors`.
    fn children(
        &self,
        dir: &Path,
        key_prefix: &str,
        filter: &str,
        errors: &mut Vec<StoreError>,
    ) -> io::Result<Vec<Child>> {
        let mut children = Vec::new();
        for item in fs::read_dir(dir)? {
            let item = item?;
            let name = item.file_name();
            let Some(name) = name.to_str().map(str::to_owned) else {
                errors.push(
                    StoreError::new(
                        ErrorKind::InvalidInput,
                        format!("{key_prefix}{}", name.to_string_lossy()),
                        format!(
                            "the file name of `{}` is not valid UTF-8 and cannot become a blob name; skipped",
                            item.path().display()
                        ),
                    )
                    .for_one_entry(),
                );
                continue;
            };
            if !name.starts_with(filter) {
                continue;
            }
            if is_work_file(&name) {
                tracing::warn!(path = %item.path().display(), "skipping a work file Ferry left (an unfinished download or upload)");
                continue;
            }
            let file_type = item.file_type()?;
            let key = format!("{key_prefix}{name}");
            if file_type.is_dir() {
                children.push(Child::Dir(format!("{name}/")));
            } else if file_type.is_file() {
                children.push(Child::File(name));
            } else if file_type.is_symlink() {
                if let Some(child) = self.link(&item.path(), name, &key) {
                    children.push(child);
                }
            } else {
                self.skipped.special.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(path = %item.path().display(), key = %key, "skipping a special file (a FIFO, socket or device)");
            }
        }
        children.sort_unstable_by(|a, b| crate::cmp_keys(a.sort_key(), b.sort_key()));
        Ok(children)
    }

    /// What a symbolic link becomes under this walk's choice, if anything.
    fn link(&self, path: &Path, name: String, key: &str) -> Option<Child> {
        let skip = |why: &str| {
            self.skipped.symlinks.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(path = %path.display(), key = %key, "skipping a symbolic link{why}");
            None
        };
        match self.links {
            Links::Skip => skip(""),
            Links::Preserve => match fs::read_link(path) {
                Ok(target) => match target.to_str() {
                    Some(t) => Some(Child::Link(name, t.to_owned())),
                    None => skip(": its target is not valid UTF-8"),
                },
                Err(_) => skip(": it cannot be read"),
            },
            Links::Follow => match fs::metadata(path) {
                Ok(m) if m.is_dir() => Some(Child::Dir(format!("{name}/"))),
                Ok(m) if m.is_file() => Some(Child::File(name)),
                Ok(_) => {
                    self.skipped.special.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(path = %path.display(), "skipping a link to a special file");
                    None
                }
                Err(_) => skip(": its target does not exist"),
            },
        }
    }

    /// Walks `dir` (whose keys start with `key_prefix`), sending entries in key order.
    /// Returns false once the receiver has gone away.
    fn walk(&mut self, dir: &Path, key_prefix: &str, filter: &str) -> bool {
        use std::os::unix::fs::MetadataExt as _;
        // Only a followed link can lead back into the walk: otherwise no stat per directory.
        let id = (self.links == Links::Follow).then(|| fs::metadata(dir).map(|m| (m.dev(), m.ino())).ok()).flatten();
        if let Some(id) = id
            && !self.visited.insert(id)
        {
            tracing::warn!(path = %dir.display(), "not walking into a directory that contains it (a link loops back)");
            return true;
        }
        let keep_going = self.walk_children(dir, key_prefix, filter);
        if let Some(id) = id {
            self.visited.remove(&id);
        }
        keep_going
    }

    /// Whether every key at or below `key` (a folder's ends in `/`) comes before the start.
    fn before_start(&self, key: &str) -> bool {
        !self.start.is_empty()
            && crate::cmp_keys(key, &self.start) == std::cmp::Ordering::Less
            && !(key.ends_with('/') && self.start.starts_with(key))
    }

    fn walk_children(&mut self, dir: &Path, key_prefix: &str, filter: &str) -> bool {
        let mut errors = Vec::new();
        let children = match self.children(dir, key_prefix, filter, &mut errors) {
            Ok(c) => c,
            Err(e) => return self.tx.blocking_send(Err(StoreError::from_io(e, shown(dir)))).is_ok(),
        };
        for err in errors {
            if self.tx.blocking_send(Err(err)).is_err() {
                return false;
            }
        }
        for child in children {
            let key = format!("{key_prefix}{}", child.sort_key());
            if self.before_start(&key) {
                continue;
            }
            let keep_going = match child {
                Child::Dir(sort_key) => {
                    let name = sort_key.trim_end_matches('/');
                    match self.depth {
                        ListDepth::Recursive => self.walk(&dir.join(name), &key, ""),
                        ListDepth::OneLevel => self.tx.blocking_send(Ok(Entry::prefix(key))).is_ok(),
                    }
                }
                Child::File(name) => {
                    let path = dir.join(&name);
                    let posix = self.posix;
                    let meta = fs::metadata(&path);
                    if self.skip_hardlinks && meta.as_ref().is_ok_and(|m| std::os::unix::fs::MetadataExt::nlink(m) > 1)
                    {
                        self.skipped.hardlinks.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(path = %path.display(), "skipping a file with more than one hard link");
                        continue;
                    }
                    let item = meta
                        .map(|m| with_posix(entry_from_metadata(key, &m), &m, posix))
                        .map_err(|e| StoreError::from_io(e, shown(&path)));
                    self.tx.blocking_send(item).is_ok()
                }
                Child::Link(name, target) => {
                    let modified = fs::symlink_metadata(dir.join(&name)).ok().and_then(|m| m.modified().ok());
                    self.tx.blocking_send(Ok(link_entry(key, &target, modified))).is_ok()
                }
            };
            if !keep_going {
                return false;
            }
        }
        true
    }
}

/// `entry` with its file's POSIX properties as metadata, when they are kept.
fn with_posix(mut entry: Entry, meta: &fs::Metadata, style: Option<crate::PosixStyle>) -> Entry {
    if let Some(style) = style {
        let metadata = crate::posix::to_metadata(meta, style);
        entry.properties = Some(Box::new(crate::ObjectProperties { metadata, ..crate::ObjectProperties::default() }));
    }
    entry
}

/// A preserved link as an object: its target as content, marked as a link.
fn link_entry(key: String, target: &str, modified: Option<std::time::SystemTime>) -> Entry {
    let metadata = std::collections::BTreeMap::from([(crate::SYMLINK_METADATA.to_owned(), "true".to_owned())]);
    let properties = crate::ObjectProperties { metadata, ..crate::ObjectProperties::default() };
    Entry { last_modified: modified, properties: Some(Box::new(properties)), ..Entry::object(key, target.len() as u64) }
}

fn write_payload_blocking(file: &mut fs::File, payload_bytes: &[u8], hasher: &mut Option<Md5>) -> io::Result<()> {
    if let Some(h) = hasher.as_mut() {
        h.update(payload_bytes);
    }
    file.write_all(payload_bytes)
}

#[async_trait]
impl Store for LocalStore {
    fn describe(&self) -> String {
        shown(&self.root)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            server_side_copy: false,
            stores_properties: false,
            lists_metadata: false,
            lists_committed_parts: false,
            max_part_size: 4000 * 1024 * 1024,
            min_part_size: 0,
            max_parts: 50_000,
            max_single_write: u64::MAX,
            positional_writes: true,
            writes_in_place: false,
            smb_names: false,
            snapshot_reads: false,
            reads_into: false,
        }
    }

    fn list<'a>(&'a self, prefix: &'a str, depth: ListDepth) -> EntryStream<'a> {
        self.walk_from(prefix, depth, String::new())
    }

    fn list_from<'a>(&'a self, prefix: &'a str, depth: ListDepth, start: &str) -> EntryStream<'a> {
        self.walk_from(prefix, depth, start.to_owned())
    }

    fn skipped_entries(&self) -> crate::SkippedEntries {
        crate::SkippedEntries {
            symlinks: self.skipped.symlinks.load(Ordering::Relaxed),
            special: self.skipped.special.load(Ordering::Relaxed),
            hardlinks: self.skipped.hardlinks.load(Ordering::Relaxed),
        }
    }

    async fn write_symlink(&self, key: &str, target: &str) -> Result<()> {
        let (dir, name) = self.parent_of(key, true)?;
        let temp = temp_name();
        dir.symlink(target, &temp).and_then(|()| dir.rename(&temp, &name)).map_err(|e| {
            let _ = dir.unlink(&temp);
            StoreError::from_io(e, dir.shown(&name))
        })
    }

    async fn stat(&self, key: &str) -> Result<Entry> {
        let path = self.path_of(key)?;
        if self.links == Links::Preserve
            && let Ok(meta) = fs::symlink_metadata(&path)
            && meta.file_type().is_symlink()
        {
            let target = fs::read_link(&path).map_err(|e| StoreError::from_io(e, shown(&path)))?;
            return Ok(link_entry(key.to_owned(), &target.to_string_lossy(), meta.modified().ok()));
        }
        let meta = tokio::fs::metadata(&path).await.map_err(|e| StoreError::from_io(e, shown(&path)))?;
        if !meta.is_file() {
            let what = if meta.is_dir() {
                "is a directory, not a file"
            } else {
                "is not a regular file (a FIFO, socket or device); Ferry copies regular files only"
            };
            return Err(StoreError::new(ErrorKind::NotFound, shown(&path), what));
        }
        Ok(with_posix(entry_from_metadata(key.to_owned(), &meta), &meta, self.posix))
    }

    async fn read(&self, key: &str, range: Option<Range<u64>>) -> Result<ByteStream> {
        let path = self.path_of(key)?;
        let shown = shown(&path);
        if self.links == Links::Preserve && fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
            // A preserved link's content is its target.
            let target = fs::read_link(&path).map_err(|e| StoreError::from_io(e, &shown))?;
            let bytes = Bytes::from(target.to_string_lossy().into_owned().into_bytes());
            let bytes = match range {
                Some(r) => bytes.slice((r.start as usize).min(bytes.len())..(r.end as usize).min(bytes.len())),
                None => bytes,
            };
            return Ok(futures::stream::iter([Ok(bytes)]).boxed());
        }
        let mut file = fs::File::open(&path).map_err(|e| StoreError::from_io(e, &shown))?;
        let size = file.metadata().map_err(|e| StoreError::from_io(e, &shown))?.len();
        let ranged = range.is_some();
        let (start, end) = match range {
            None => (0, size),
            Some(r) if r.start >= size && size > 0 || r.start > r.end => {
                return Err(StoreError::new(
                    ErrorKind::InvalidInput,
                    shown,
                    format!("range {}..{} is outside the object ({size} bytes)", r.start, r.end),
                ));
            }
            Some(r) => (r.start, r.end.min(size)),
        };
        if ranged && end - start <= SINGLE_READ_MAX {
            // A range (a block, or a small file) is read with one positional read into one buffer:
            // no stream of small reads to join, and a single allocation the engine can send as is.
            let len = usize::try_from(end - start).unwrap_or(0);
            let read = move || -> io::Result<Bytes> {
                let mut buffer = vec![0u8; len];
                let mut filled = 0;
                while filled < len {
                    match file.read_at(&mut buffer[filled..], start + filled as u64) {
                        Ok(0) => break,
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                buffer.truncate(filled);
                Ok(Bytes::from(buffer))
            };
            // A small read (a page-cache copy of a few KiB) costs less than handing it to the
            // blocking pool and back; larger ones go there so they never stall the runtime.
            let data = if len <= INLINE_READ_MAX {
                read()
            } else {
                tokio::task::spawn_blocking(read)
                    .await
                    .map_err(|e| StoreError::new(ErrorKind::Other, &shown, format!("the reader thread failed: {e}")))?
            }
            .map_err(|e| StoreError::from_io(e, &shown))?;
            return Ok(futures::stream::iter([Ok(data)]).boxed());
        }
        file.seek(SeekFrom::Start(start)).map_err(|e| StoreError::from_io(e, &shown))?;
        let reader = tokio::fs::File::from_std(file);
        let limited = tokio::io::AsyncReadExt::take(reader, end - start);
        let stream = tokio_util::io::ReaderStream::with_capacity(limited, READ_CHUNK)
            .map(move |r| r.map_err(|e| StoreError::from_io(e, &shown)));
        Ok(stream.boxed())
    }

    async fn write(&self, key: &str, payload: Payload, options: &WriteOptions) -> Result<WriteReceipt> {
        let (dir, target) = self.parent_of(key, true)?;
        let temp = temp_name();
        let temp_shown = dir.shown(&temp);
        let mut file = dir.create_new(&temp).map_err(|e| StoreError::from_io(e, &temp_shown))?;
        let expected_md5 = options.headers.content_md5;
        let mut hasher = expected_md5.map(|_| Md5::new());
        let expected_len = payload.len();

        let written: Result<u64> = async {
            let mut total = 0u64;
            match payload {
                Payload::Bytes(b) => {
                    write_payload_blocking(&mut file, &b, &mut hasher)
                        .map_err(|e| StoreError::from_io(e, &temp_shown))?;
                    total = b.len() as u64;
                }
                Payload::FileRange { path, offset, len } => {
                    let src_shown = shown(&path);
                    let mut src = fs::File::open(&path).map_err(|e| StoreError::from_io(e, &src_shown))?;
                    src.seek(SeekFrom::Start(offset)).map_err(|e| StoreError::from_io(e, &src_shown))?;
                    let mut src = src.take(len);
                    let mut buf = vec![0u8; READ_CHUNK];
                    loop {
                        let n = src.read(&mut buf).map_err(|e| StoreError::from_io(e, &src_shown))?;
                        if n == 0 {
                            break;
                        }
                        write_payload_blocking(&mut file, &buf[..n], &mut hasher)
                            .map_err(|e| StoreError::from_io(e, &temp_shown))?;
                        total += n as u64;
                    }
                }
                Payload::Stream { mut stream, .. } => {
                    while let Some(chunk) = stream.next().await {
                        let chunk = chunk?;
                        write_payload_blocking(&mut file, &chunk, &mut hasher)
                            .map_err(|e| StoreError::from_io(e, &temp_shown))?;
                        total += chunk.len() as u64;
                    }
                }
            }
            Ok(total)
        }
        .await;

        let check = written.and_then(|total| {
            if total != expected_len {
                return Err(StoreError::new(
                    ErrorKind::InvalidInput,
                    key,
                    format!("expected {expected_len} bytes but the source gave {total}"),
                ));
            }
            if let (Some(h), Some(expected)) = (hasher, expected_md5) {
                let actual: [u8; 16] = h.finalize();
                if actual != expected {
                    return Err(StoreError::new(
                        ErrorKind::InvalidInput,
                        key,
                        "the data does not match the Content-MD5 sent with it (Md5Mismatch)",
                    ));
                }
            }
            Ok(())
        });
        if let Err(e) = check {
            let _ = dir.unlink(&temp);
            return Err(e);
        }
        publish(&dir, &temp, &target, options.overwrite, key, &file, true)?;
        let modified = file.metadata().ok().and_then(|m| m.modified().ok());
        Ok(WriteReceipt { etag: None, last_modified: modified })
    }

    async fn put_part(&self, key: &str, part: &PartId, data: Bytes, md5: Option<[u8; 16]>) -> Result<()> {
        check_md5(key, &data, md5)?;
        let (_, staging, _) = self.staging_of(key, true)?;
        let name = part_file_name(key, part)?;
        let temp = temp_name();
        let written = staging.create_new(&temp).and_then(|mut f| f.write_all(&data));
        if let Err(e) = written.and_then(|()| staging.rename(&temp, &name)) {
            let _ = staging.unlink(&temp);
            return Err(StoreError::from_io(e, staging.shown(&name)));
        }
        Ok(())
    }

    async fn list_parts(&self, key: &str) -> Result<PartList> {
        let staging = match self.staging_of(key, false) {
            Ok((_, staging, _)) => staging,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(PartList::default()),
            Err(e) => return Err(e),
        };
        let shown_dir = shown(staging.path());
        let mut uncommitted = Vec::new();
        for item in fs::read_dir(staging.path()).map_err(|e| StoreError::from_io(e, &shown_dir))? {
            let item = item.map_err(|e| StoreError::from_io(e, &shown_dir))?;
            let name = item.file_name();
            let Some(id) = part_id_from_file_name(&name) else {
                continue;
            };
            let name = name.to_string_lossy();
            let stat = staging.stat(&name).map_err(|e| StoreError::from_io(e, staging.shown(&name)))?;
            let size = stat.map_or(0, |st| u64::try_from(st.st_size).unwrap_or(0));
            uncommitted.push(PartInfo { id, size });
        }
        uncommitted.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(PartList { committed: Vec::new(), uncommitted })
    }

    async fn commit_parts(&self, key: &str, parts: &[PartId], options: &WriteOptions) -> Result<WriteReceipt> {
        let (dir, target) = self.parent_of(key, true)?;
        let staging = match self.staging_of(key, false) {
            Ok((_, staging, _)) => Some(staging),
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        let temp = temp_name();
        let mut out = dir.create_new(&temp).map_err(|e| StoreError::from_io(e, dir.shown(&temp)))?;
        let assembled: Result<()> = (|| {
            for part in parts {
                let name = part_file_name(key, part)?;
                let never_staged = || {
                    StoreError::new(
                        ErrorKind::InvalidInput,
                        key,
                        format!("part `{}` was never staged (InvalidBlockList)", part.as_str()),
                    )
                };
                let staging = staging.as_ref().ok_or_else(never_staged)?;
                let mut file = staging.open_file(&name, false).map_err(|e| {
                    if e.kind() == io::ErrorKind::NotFound {
                        never_staged()
                    } else {
                        StoreError::from_io(e, staging.shown(&name))
                    }
                })?;
                io::copy(&mut file, &mut out).map_err(|e| StoreError::from_io(e, dir.shown(&temp)))?;
            }
            Ok(())
        })();
        if let Err(e) = assembled {
            let _ = dir.unlink(&temp);
            return Err(e);
        }
        publish(&dir, &temp, &target, options.overwrite, key, &out, true)?;
        if let Some(staging) = staging {
            remove_staging(&dir, &staging);
        }
        let modified = out.metadata().ok().and_then(|m| m.modified().ok());
        Ok(WriteReceipt { etag: None, last_modified: modified })
    }

    async fn begin_positional_write(&self, key: &str, size: u64) -> Result<Box<dyn crate::PositionalWrite>> {
        let (dir, target) = self.parent_of(key, true)?;
        Ok(Box::new(crate::partial_file::PartialFile::create(key, dir, target, size)?))
    }

    async fn reopen_positional_write(
        &self,
        key: &str,
        size: u64,
        tag: &str,
    ) -> Result<(Box<dyn crate::PositionalWrite>, bool)> {
        if tag.is_empty() || !tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(StoreError::new(ErrorKind::InvalidInput, key, "a resume tag is letters, digits and `-` only"));
        }
        let (dir, target) = self.parent_of(key, true)?;
        let (file, reopened) = crate::partial_file::PartialFile::reopen(key, dir, target, size, tag)?;
        Ok((Box::new(file), reopened))
    }

    async fn delete(&self, key: &str) -> Result<()> {
        // Through handles opened without following links, so a folder swapped for a link after
        // the listing can never turn this into a delete outside the root.
        let (dir, name) = self.parent_of(key, false)?;
        let shown = dir.shown(&name);
        match dir.stat(&name).map_err(|e| StoreError::from_io(e, &shown))? {
            None => Err(StoreError::not_found(shown)),
            Some(st) if rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Directory => {
                Err(StoreError::new(ErrorKind::NotFound, shown, "is a directory, not a file"))
            }
            Some(_) => dir.unlink(&name).map_err(|e| StoreError::from_io(e, shown)),
        }
    }

    fn list_directories<'a>(&'a self, prefix: &'a str) -> EntryStream<'a> {
        let root = self.root.clone();
        let start = prefix.trim_end_matches('/').to_owned();
        let found = tokio::task::spawn_blocking(move || directories_below(&root, &start));
        Box::pin(
            futures::stream::once(async move {
                let listed =
                    found.await.map_err(|e| StoreError::new(ErrorKind::Other, "directories", e.to_string()))?;
                Ok::<_, StoreError>(futures::stream::iter(listed?.into_iter().map(|k| Ok(Entry::prefix(k)))))
            })
            .try_flatten(),
        )
    }

    async fn make_directory(&self, key: &str) -> Result<()> {
        let segments: Vec<&str> = key.trim_end_matches('/').split('/').collect();
        self.path_of(&segments.join("/"))?;
        let root = self.root.clone();
        let owned: Vec<String> = segments.iter().map(|s| (*s).to_owned()).collect();
        tokio::task::spawn_blocking(move || {
            let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
            SafeDir::open(&root, &refs, true).map(|_| ())
        })
        .await
        .map_err(|e| StoreError::new(ErrorKind::Other, key, e.to_string()))?
    }

    async fn create_root(&self) -> Result<()> {
        if let Some(parent) = self.root.parent() {
            fs::create_dir_all(parent).map_err(|e| StoreError::from_io(e, shown(parent)))?;
        }
        fs::create_dir(&self.root).map_err(|e| StoreError::from_io(e, shown(&self.root)))
    }
}

/// The directories below `root/start` (keys relative to `root`, ending in `/`), parents first,
/// each directory's in name order; links are never followed, and Ferry's own work folders
/// (staging, temporary) are passed over.
fn directories_below(root: &Path, start: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut pending = vec![start.to_owned()];
    while let Some(dir) = pending.pop() {
        let path = if dir.is_empty() { root.to_path_buf() } else { root.join(&dir) };
        let entries = match fs::read_dir(&path) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(StoreError::from_io(e, shown(&path))),
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !n.starts_with(STAGING_PREFIX) && !n.starts_with(TEMP_PREFIX))
            .collect();
        names.sort();
        for name in names.into_iter().rev() {
            let key = if dir.is_empty() { name } else { format!("{dir}/{name}") };
            pending.push(key);
        }
        if !dir.is_empty() && dir != start {
            out.push(format!("{dir}/"));
        }
    }
    Ok(out)
}

/// Removes a staging folder's part files and then the folder, by handle (best effort).
fn remove_staging(dir: &SafeDir, staging: &SafeDir) {
    if let Ok(items) = fs::read_dir(staging.path()) {
        for item in items.flatten() {
            let _ = staging.unlink(&item.file_name().to_string_lossy());
        }
    }
    if let Some(name) = staging.path().file_name() {
        let _ = dir.remove_dir(&name.to_string_lossy());
    }
}

fn part_file_name(key: &str, part: &PartId) -> Result<String> {
    let raw = part.decoded().ok_or_else(|| {
        StoreError::new(ErrorKind::InvalidInput, key, format!("part id `{}` is not base64", part.as_str()))
    })?;
    Ok(raw.iter().map(|b| format!("{b:02x}")).collect())
}

fn part_id_from_file_name(name: &OsStr) -> Option<PartId> {
    use base64::Engine as _;
    let name = name.to_str()?;
    if name.starts_with(TEMP_PREFIX) || name.len() % 2 != 0 {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        (0..name.len()).step_by(2).map(|i| u8::from_str_radix(&name[i..i + 2], 16).ok()).collect();
    Some(PartId::from_base64(base64::engine::general_purpose::STANDARD.encode(bytes?)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;

    #[test]
    fn keys_that_escape_the_root_are_refused() {
        let store = LocalStore::new("/tmp/root");
        for bad in ["../x", "a/../b", "/abs", "a//b", "./a", "a\0b", ""] {
            let err = store.path_of(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
        }
        assert_eq!(store.path_of("a/b c").unwrap(), Path::new("/tmp/root/a/b c"));
    }

    #[tokio::test]
    async fn directories_sort_as_name_slash() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["a.txt", "a/b", "a-b", "a0", "b"] {
            let p = dir.path().join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, f).unwrap();
        }
        let store = LocalStore::new(dir.path());
        let keys: Vec<String> = store.list("", ListDepth::Recursive).map_ok(|e| e.key).try_collect().await.unwrap();
        assert_eq!(keys, ["a-b", "a.txt", "a/b", "a0", "b"]);
    }

    /// Finding 13: any name starting with the prefixes was hidden, so a user's file
    /// `.ferry-tmp-notes.txt` was never uploaded and its backup was deleted by a sync.
    #[tokio::test]
    async fn only_ferrys_own_work_files_are_not_listed() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("real"), b"1").unwrap();
        fs::write(dir.path().join(temp_name()), b"1").unwrap();
        fs::write(dir.path().join(format!("{TEMP_PREFIX}{}", "0123456789abcdef0123456789abcdef")), b"1").unwrap();
        fs::create_dir(dir.path().join(format!("{STAGING_PREFIX}{}", "0123456789abcdef0123456789abcdef"))).unwrap();
        fs::write(dir.path().join(format!("{TEMP_PREFIX}notes.txt")), b"1").unwrap();
        fs::write(dir.path().join(format!("{STAGING_PREFIX}plan")), b"1").unwrap();
        let store = LocalStore::new(dir.path());
        let keys: Vec<String> = store.list("", ListDepth::Recursive).map_ok(|e| e.key).try_collect().await.unwrap();
        assert_eq!(keys, [".ferry-part-plan", ".ferry-tmp-notes.txt", "real"]);
    }

    /// Findings 2, 5 and 6 at the store level: no write or delete through a linked folder, and a
    /// replaced file keeps its mode.
    #[tokio::test]
    async fn writes_and_deletes_never_pass_a_link_and_replacements_keep_the_mode() {
        use std::os::unix::fs::PermissionsExt as _;
        let work = tempfile::tempdir().unwrap();
        let (root, outside) = (work.path().join("root"), work.path().join("outside"));
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("victim.txt"), b"precious").unwrap();
        std::os::unix::fs::symlink(&outside, root.join("link")).unwrap();
        let store = LocalStore::new(&root);
        let options = WriteOptions { overwrite: true, ..WriteOptions::default() };
        let err = store.write("link/victim.txt", Bytes::from_static(b"evil").into(), &options).await.unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert!(store.begin_positional_write("link/new.bin", 4).await.is_err());
        assert!(store.delete("link/victim.txt").await.is_err());
        assert_eq!(fs::read(outside.join("victim.txt")).unwrap(), b"precious");
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 1, "nothing created outside");

        fs::write(root.join("private.txt"), b"old").unwrap();
        fs::set_permissions(root.join("private.txt"), fs::Permissions::from_mode(0o600)).unwrap();
        store.write("private.txt", Bytes::from_static(b"new").into(), &options).await.unwrap();
        assert_eq!(fs::read(root.join("private.txt")).unwrap(), b"new");
        assert_eq!(fs::metadata(root.join("private.txt")).unwrap().permissions().mode() & 0o777, 0o600);
    }
}

#[cfg(test)]
mod start_tests {
    use futures::TryStreamExt;

    use super::*;

    /// A listing from a key never reads the folders wholly before it: a FIFO in one is not even
    /// seen (it would be counted as a special file passed over).
    #[tokio::test]
    async fn a_listing_from_a_key_does_not_walk_folders_before_it() {
        let root = tempfile::tempdir().unwrap();
        for dir in ["a/deep", "b"] {
            fs::create_dir_all(root.path().join(dir)).unwrap();
        }
        fs::write(root.path().join("b/x"), b"x").unwrap();
        assert!(std::process::Command::new("mkfifo").arg(root.path().join("a/deep/fifo")).status().unwrap().success());
        let store = LocalStore::new(root.path());
        let from: Vec<String> =
            store.list_from("", ListDepth::Recursive, "b/").map_ok(|e| e.key).try_collect().await.unwrap();
        assert_eq!(from, ["b/x"]);
        assert_eq!(store.skipped_entries().special, 0, "folder `a/` was not read");
        let all: Vec<String> = store.list("", ListDepth::Recursive).map_ok(|e| e.key).try_collect().await.unwrap();
        assert_eq!(all, ["b/x"]);
        assert_eq!(store.skipped_entries().special, 1, "a full listing reads it");
    }
}
