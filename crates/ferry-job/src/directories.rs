//! Directories between places that have them (a local disk and an Azure Files share): a copy of
//! a tree recreates the source's directories at the destination, empty ones too, as AzCopy
//! transfers folders between folder-aware places. (Object stores have no directories: a Blob
//! destination gets none, as before.)

use ferry_core::LocationKind;
use ferry_store::ListDepth;
use futures::TryStreamExt;

use crate::naming::Naming;
use crate::open::Side;
use crate::{JobContext, JobError, JobEvent};

/// Whether a copy from `source` to `dest` carries directories: one side is a share and the
/// other a share or a local disk.
pub(crate) fn carried(source: &Side, dest: &Side) -> bool {
    let real = |k: LocationKind| matches!(k, LocationKind::Local | LocationKind::Files);
    real(source.kind) && real(dest.kind) && (source.kind == LocationKind::Files || dest.kind == LocationKind::Files)
}

/// Makes every directory below the tree's source prefix at the destination (one that exists is
/// fine); returns how many there were. Only for a recursive tree copied without filters: with
/// filters, only the directories the chosen files need are made (as the files land).
pub(crate) async fn recreate(source: &Side, dest: &Side, naming: &Naming, ctx: &JobContext) -> Result<u64, JobError> {
    let Naming::Tree { source_prefix, depth: ListDepth::Recursive, dest_prefix } = naming else { return Ok(0) };
    let mut made = 0;
    let mut directories = source.store.list_directories(source_prefix);
    while let Some(entry) = directories.try_next().await.map_err(|e| source.explain(e.into()))? {
        let relative = entry.key.strip_prefix(source_prefix.as_str()).unwrap_or(&entry.key);
        let key = format!("{dest_prefix}{relative}");
        dest.store.make_directory(&key).await.map_err(|e| dest.explain(e.into()))?;
        made += 1;
        if ctx.is_cancelled() {
            break;
        }
    }
    if made > 0 {
        ctx.events.event(&JobEvent::Info(&format!("{made} directories made at the destination (empty ones too)")));
    }
    Ok(made)
}
