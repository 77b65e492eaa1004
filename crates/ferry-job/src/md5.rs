//! MD5s of local files for `sync --compare-hash MD5`: computed once, then cached by path, size
//! and modification time.

use std::sync::Arc;

use ferry_journal::HashCache;
use ferry_store::{Entry, StoreError};
use futures::{Stream, StreamExt};

use crate::open::Side;

/// Gives local entries their MD5 (from the cache, or by reading the file once and caching it),
/// in listing order. Remote entries pass through untouched.
pub(crate) fn with_local_md5<'a>(
    entries: impl Stream<Item = Result<Entry, StoreError>> + Send + 'a,
    side: &'a Side,
    prefix: &'a str,
    cache: Option<&'a Arc<HashCache>>,
) -> futures::stream::BoxStream<'a, Result<Entry, StoreError>> {
    let (Some(root), Some(cache)) = (side.local_root.clone(), cache.cloned()) else {
        return entries.boxed();
    };
    entries
        .map(move |item| {
            let (root, cache) = (root.clone(), cache.clone());
            async move {
                let mut entry = item?;
                let path = root.join(format!("{prefix}{}", entry.key));
                let mtime_ns = entry
                    .last_modified
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
                let key = path.display().to_string();
                if let Some(md5) = cache.get(&key, entry.size, mtime_ns) {
                    entry.content_md5 = Some(md5);
                    return Ok(entry);
                }
                let md5 = hash_file(path).await?;
                if let Err(e) = cache.put(&key, entry.size, mtime_ns, md5) {
                    tracing::debug!(error = %e, "cannot cache an MD5");
                }
                entry.content_md5 = Some(md5);
                Ok(entry)
            }
        })
        .buffered(8)
        .boxed()
}

/// The MD5 of a local file, read on a blocking thread.
async fn hash_file(path: std::path::PathBuf) -> Result<[u8; 16], StoreError> {
    let shown = path.display().to_string();
    tokio::task::spawn_blocking(move || -> std::io::Result<[u8; 16]> {
        use std::io::Read as _;
        let mut file = std::fs::File::open(&path)?;
        let mut hasher = ferry_md5::Md5::new();
        let mut buffer = vec![0u8; 1024 * 1024];
        loop {
            let n = file.read(&mut buffer)?;
            if n == 0 {
                return Ok(hasher.finalize());
            }
            hasher.update(&buffer[..n]);
        }
    })
    .await
    .map_err(|e| StoreError::new(ferry_store::ErrorKind::Other, &shown, e.to_string()))?
    .map_err(|e| StoreError::from_io(e, &shown))
}

/// The MD5 cache, when comparing by MD5 with a local side; a cache that cannot open is warned
/// about, and files are then hashed every time.
pub(crate) fn cache_for(compare_md5: bool, sides: (&Side, &Side), ctx: &crate::JobContext) -> Option<Arc<HashCache>> {
    if !compare_md5 || (sides.0.local_root.is_none() && sides.1.local_root.is_none()) {
        return None;
    }
    match HashCache::open(&ctx.dirs.plans.join("local-md5.db")) {
        Ok(cache) => Some(Arc::new(cache)),
        Err(e) => {
            let warning = format!("cannot open the MD5 cache, so local files are hashed every time: {e}");
            ctx.events.event(&crate::JobEvent::Warning(&warning));
            None
        }
    }
}
