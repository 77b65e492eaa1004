//! Listing a share in the contract's key order: directory by directory, each directory's
//! entries sorted by their keys (a directory's key ends in `/`, so `a-b` comes before the
//! contents of `a/`), and the walk descends into a directory when its turn comes. Memory holds
//! one directory's entries per level, never the whole share.

use std::collections::VecDeque;

use ferry_core::encoding::encode_component;
use ferry_store::{Entry, EntryStream, ErrorKind, ListDepth, ObjectProperties, Result, cmp_keys};
use futures::{StreamExt, stream};
use reqwest::Method;

use crate::store::{FilesStore, is_share_missing, with_query};
use crate::xml::{Child, parse_directory_page};

/// What is still to be listed at one level of the walk.
enum Pending {
    /// A file, ready to be yielded.
    File(Box<Entry>),
    /// A directory (its path, without the trailing `/`), to be read when its turn comes.
    Directory(String),
}

pub(crate) fn listing<'a>(store: &'a FilesStore, prefix: &'a str, depth: ListDepth) -> EntryStream<'a> {
    // The directory the prefix is in, and the start of names in it.
    let (dir, name_prefix) = match prefix.rfind('/') {
        Some(at) => (&prefix[..at], &prefix[at + 1..]),
        None => ("", prefix),
    };
    let start = (dir.to_owned(), name_prefix.to_owned());
    stream::try_unfold(
        (store, Some(start), Vec::<VecDeque<Pending>>::new()),
        move |(store, first, mut stack)| async move {
            if let Some((dir, name_prefix)) = first {
                let children = store.children(&dir, &name_prefix).await?;
                stack.push(level(store, &dir, children, depth).await?);
            }
            loop {
                let Some(top) = stack.last_mut() else { return Ok(None) };
                match top.pop_front() {
                    None => {
                        stack.pop();
                    }
                    Some(Pending::File(entry)) => return Ok(Some((*entry, (store, None, stack)))),
                    Some(Pending::Directory(path)) => {
                        let children = store.children(&path, "").await?;
                        stack.push(level(store, &path, children, depth).await?);
                    }
                }
            }
        },
    )
    .boxed()
}

/// One directory's entries as the walk yields them, in key order: files as entries, directories
/// as places to descend (recursive) or as prefix entries (one level).
async fn level(store: &FilesStore, dir: &str, children: Vec<Child>, depth: ListDepth) -> Result<VecDeque<Pending>> {
    let base = if dir.is_empty() { String::new() } else { format!("{dir}/") };
    let mut keyed: Vec<(String, Child)> = children
        .into_iter()
        .map(|c| {
            let key = if c.is_directory { format!("{base}{}/", c.name) } else { format!("{base}{}", c.name) };
            (key, c)
        })
        .collect();
    keyed.sort_by(|a, b| cmp_keys(&a.0, &b.0));
    let mut out = VecDeque::with_capacity(keyed.len());
    for (key, child) in keyed {
        if child.is_directory {
            match depth {
                ListDepth::Recursive => out.push_back(Pending::Directory(key.trim_end_matches('/').to_owned())),
                ListDepth::OneLevel => out.push_back(Pending::File(Box::new(Entry::prefix(key)))),
            }
            continue;
        }
        let smb = store.with_permission(child.smb).await?;
        let entry = Entry {
            key,
            kind: ferry_store::EntryKind::Object,
            size: child.size,
            last_modified: smb.last_write_time.or(child.last_modified),
            content_md5: None,
            etag: child.etag,
            properties: Some(Box::new(ObjectProperties { smb: Some(smb), ..ObjectProperties::default() })),
        };
        out.push_back(Pending::File(Box::new(entry)));
    }
    Ok(out)
}

/// Every directory under `prefix` (ending in `/` or empty), parents first, as prefix entries.
pub(crate) fn directories<'a>(store: &'a FilesStore, prefix: &'a str) -> EntryStream<'a> {
    let start = prefix.trim_end_matches('/').to_owned();
    stream::try_unfold(vec![start], move |mut pending| async move {
        while let Some(dir) = pending.pop() {
            let mut below: Vec<String> = store
                .children(&dir, "")
                .await?
                .into_iter()
                .filter(|c| c.is_directory)
                .map(|c| if dir.is_empty() { c.name } else { format!("{dir}/{}", c.name) })
                .collect();
            below.sort_by(|a, b| cmp_keys(b, a));
            pending.extend(below);
            if dir != prefix.trim_end_matches('/') {
                return Ok(Some((Entry::prefix(format!("{dir}/")), pending)));
            }
        }
        Ok(None)
    })
    .boxed()
}

impl FilesStore {
    /// Deletes the directories below `dir` (and `dir` itself when `itself`) that hold nothing,
    /// deepest first; a directory that still holds anything is kept (the service refuses to
    /// delete it). Returns how many were deleted. Never deletes a file.
    pub async fn remove_empty_directories(&self, dir: &str, itself: bool) -> Result<u64> {
        let mut removed = 0;
        // Directories in the order found (parents before children); deleted in reverse.
        let mut found = Vec::new();
        let mut pending = vec![dir.trim_end_matches('/').to_owned()];
        while let Some(path) = pending.pop() {
            for child in self.children(&path, "").await? {
                if child.is_directory {
                    let below = if path.is_empty() { child.name } else { format!("{path}/{}", child.name) };
                    pending.push(below.clone());
                    found.push(below);
                }
            }
        }
        if itself && !dir.trim_end_matches('/').is_empty() {
            found.insert(0, dir.trim_end_matches('/').to_owned());
        }
        for path in found.iter().rev() {
            let target = self.target(path);
            let url = with_query(self.file_url(path), "restype=directory");
            match self.send(self.request(Method::DELETE, url, &target)).await {
                Ok(_) => removed += 1,
                Err(e) if matches!(e.kind(), ErrorKind::PreconditionFailed | ErrorKind::NotFound) => {
                    tracing::debug!(directory = %path, error = %e, "kept: not empty, or gone");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(removed)
    }

    /// Every entry of directory `dir` whose name starts with `name_prefix`, page by page. A
    /// directory that is not there has none (a missing share is an error).
    pub(crate) async fn children(&self, dir: &str, name_prefix: &str) -> Result<Vec<Child>> {
        let target = self.target(dir);
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let mut query = format!(
                "restype=directory&comp=list&include=Timestamps,ETag,Attributes,PermissionKey&maxresults={}",
                self.page_size
            );
            if !name_prefix.is_empty() {
                query.push_str(&format!("&prefix={}", encode_component(name_prefix)));
            }
            if let Some(m) = &marker {
                query.push_str(&format!("&marker={}", encode_component(m)));
            }
            let request = self
                .request(Method::GET, with_query(self.directory_url(dir), &query), &target)
                .header("x-ms-file-extended-info", "true");
            let body = match self.get_xml(request).await {
                Ok(body) => body,
                Err(e) if e.kind() == ErrorKind::NotFound && !is_share_missing(&e) => return Ok(out),
                Err(e) => return Err(e),
            };
            let page = parse_directory_page(&body)
                .map_err(|e| ferry_store::StoreError::new(ErrorKind::Other, &target, e.to_string()))?;
            out.extend(page.children.into_iter().filter(|c| c.name.starts_with(name_prefix)));
            match page.next_marker {
                Some(next) if Some(&next) != marker.as_ref() => marker = Some(next),
                _ => return Ok(out),
            }
        }
    }
}
