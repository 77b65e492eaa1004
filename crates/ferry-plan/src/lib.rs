//! Ferry's pure decision logic: no I/O, tested with vectors.
//!
//! The [`Filter`] says which listed objects a job covers; [`plan`] merges two ordered listings
//! into decisions (copy, skip, extra) with a reason for each.

mod filter;
mod planner;
mod range_plan;
mod shard;
mod size;

pub use filter::{Filter, FilterError, FilterSpec};
pub use planner::{Action, ComparePolicy, Decision, Reason, compare, plan};
pub use range_plan::{Balance, BoundPicker, KeyRange, PlannedShard, RangePlan};
pub use shard::{Shard, ShardError, hash as shard_hash};
pub use size::parse_size;
