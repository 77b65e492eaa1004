//! Ferry's pure decision logic: no I/O, tested with vectors.
//!
//! For now this is the [`Filter`]: which listed objects a job covers. The sync planner (a
//! merge-join of two ordered listings with a reason per decision) joins it here.

mod filter;
mod size;

pub use filter::{Filter, FilterError, FilterSpec};
pub use size::parse_size;
