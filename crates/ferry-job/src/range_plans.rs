//! `ferry shards plan`: a range plan for a source, from two passes over its names (a listing, or
//! an earlier run's verifications): the first counts the objects and bytes, the second picks
//! where each shard begins ([`ferry_plan::BoundPicker`]). Memory holds one name (per shard of
//! the earlier run), whatever the size of the source.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

use ferry_plan::{Balance, BoundPicker, Filter, RangePlan};
use ferry_store::ListDepth;
use futures::TryStreamExt;

use crate::listing::{Selection, listing};
use crate::open::{SideOptions, tree};
use crate::shards::RunRecord;
use crate::verify_merge::{MergedRows, run_of};
use crate::{Endpoint, JobContext, JobError, JobEvent, Role};

/// What `ferry shards plan` splits, into how many shards, balancing what.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// Where the names come from.
    pub names: PlanNames,
    /// M, the number of shards.
    pub shards: u64,
    /// Objects or bytes.
    pub balance: Balance,
}

/// Where a plan's names come from.
#[derive(Debug, Clone)]
pub enum PlanNames {
    /// A listing of the source the run will copy, sync or verify (its tree, as those commands
    /// list it).
    Listing(Endpoint),
    /// The shards' verifications of an earlier run (`DIR/RUN`): every name the source had then,
    /// with its size, without listing the source again (a nightly run's plan from last night's).
    Reports(PathBuf),
}

/// Reads the names twice (a listing, or an earlier run's verifications) and returns the plan.
pub async fn plan_ranges(request: &PlanRequest, ctx: &JobContext) -> Result<RangePlan, JobError> {
    if request.shards == 0 {
        return Err(JobError::usage("a plan needs at least one shard"));
    }
    match &request.names {
        PlanNames::Listing(source) => from_listing(source, request, ctx).await,
        PlanNames::Reports(run_dir) => from_reports(run_dir, request, ctx),
    }
}

/// What the first pass says, before the second.
fn counted(ctx: &JobContext, objects: u64, bytes: u64, what: &str, request: &PlanRequest) {
    ctx.events.event(&JobEvent::Info(&format!(
        "{objects} objects, {bytes} bytes in {what}: choosing {} ranges by {}",
        request.shards,
        match request.balance {
            Balance::Count => "count",
            Balance::Bytes => "bytes",
        }
    )));
}

/// The names of a run's verifications that the source had, with their sizes, in name order.
fn source_names(
    dir: &Path,
    record: &RunRecord,
) -> Result<impl Iterator<Item = Result<(String, u64), JobError>>, JobError> {
    let rows = MergedRows::open(dir, record)?;
    Ok(rows.filter_map(|item| match item {
        Ok((row, _)) => row.source_size.map(|size| Ok((row.path, size))),
        Err(e) => Some(Err(e)),
    }))
}

fn from_reports(run_dir: &Path, request: &PlanRequest, ctx: &JobContext) -> Result<RangePlan, JobError> {
    let (dir, record) = run_of(run_dir)?;
    let (mut objects, mut bytes) = (0u64, 0u64);
    for item in source_names(dir, &record)? {
        objects += 1;
        bytes += item?.1;
    }
    let what = format!("the verifications of run `{}`", record.run_id);
    counted(ctx, objects, bytes, &what, request);
    let mut picker = BoundPicker::new(request.shards, request.balance, objects, bytes);
    for item in source_names(dir, &record)? {
        let (name, size) = item?;
        picker.push(&name, size);
    }
    Ok(picker.finish(format!("{} (from run `{}`)", record.source, record.run_id)))
}

async fn from_listing(source: &Endpoint, request: &PlanRequest, ctx: &JobContext) -> Result<RangePlan, JobError> {
    let location = source.to_location(ctx.secrets.sas(Role::Source))?;
    let (side, prefix) = tree(&location, Role::Source, ctx, false, SideOptions::default()).await?;
    let filter = Filter::all();
    let scanned = AtomicU64::new(0);
    let (mut objects, mut bytes) = (0u64, 0u64);
    let mut first = listing(&side, &prefix, ListDepth::Recursive, Selection::full(&filter), &scanned);
    while let Some(entry) = first.try_next().await.map_err(|e| side.explain(e.into()))? {
        objects += 1;
        bytes += entry.size;
    }
    drop(first);
    counted(ctx, objects, bytes, &source.location, request);
    let mut picker = BoundPicker::new(request.shards, request.balance, objects, bytes);
    let mut second = listing(&side, &prefix, ListDepth::Recursive, Selection::full(&filter), &scanned);
    while let Some(entry) = second.try_next().await.map_err(|e| side.explain(e.into()))? {
        picker.push(&entry.key, entry.size);
    }
    Ok(picker.finish(source.location.clone()))
}
