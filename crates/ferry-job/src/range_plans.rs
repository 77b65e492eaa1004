//! `ferry shards plan`: a range plan for a source, from two passes over its listing: the first
//! counts the objects and bytes, the second picks where each shard begins
//! ([`ferry_plan::BoundPicker`]). Memory holds one name, whatever the size of the source.

use std::sync::atomic::AtomicU64;

use ferry_plan::{Balance, BoundPicker, Filter, RangePlan};
use ferry_store::ListDepth;
use futures::TryStreamExt;

use crate::listing::{Selection, listing};
use crate::open::{LocalListing, tree};
use crate::{Endpoint, JobContext, JobError, JobEvent, Role};

/// What `ferry shards plan` splits, into how many shards, balancing what.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// The source the run will copy, sync or verify (its tree, as those commands list it).
    pub source: Endpoint,
    /// M, the number of shards.
    pub shards: u64,
    /// Objects or bytes.
    pub balance: Balance,
}

/// Lists `request.source` twice and returns its plan.
pub async fn plan_ranges(request: &PlanRequest, ctx: &JobContext) -> Result<RangePlan, JobError> {
    if request.shards == 0 {
        return Err(JobError::usage("a plan needs at least one shard"));
    }
    let location = request.source.to_location(ctx.secrets.sas(Role::Source))?;
    let (side, prefix) = tree(&location, Role::Source, ctx, false, LocalListing::default()).await?;
    let filter = Filter::all();
    let scanned = AtomicU64::new(0);
    let (mut objects, mut bytes) = (0u64, 0u64);
    let mut first = listing(&side, &prefix, ListDepth::Recursive, Selection::full(&filter), &scanned);
    while let Some(entry) = first.try_next().await.map_err(|e| side.explain(e.into()))? {
        objects += 1;
        bytes += entry.size;
    }
    drop(first);
    ctx.events.event(&JobEvent::Info(&format!(
        "{objects} objects, {bytes} bytes under {}: choosing {} ranges by {}",
        request.source.location,
        request.shards,
        match request.balance {
            Balance::Count => "count",
            Balance::Bytes => "bytes",
        }
    )));
    let mut picker = BoundPicker::new(request.shards, request.balance, objects, bytes);
    let mut second = listing(&side, &prefix, ListDepth::Recursive, Selection::full(&filter), &scanned);
    while let Some(entry) = second.try_next().await.map_err(|e| side.explain(e.into()))? {
        picker.push(&entry.key, entry.size);
    }
    Ok(picker.finish(request.source.location.clone()))
}
