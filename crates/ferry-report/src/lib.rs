//! Ferry's reporters: the only code that prints.
//!
//! Data goes to standard output (listings, the `env` table, and in JSON mode every message);
//! everything else (warnings, errors, hints) goes to standard error in text mode. The JSON
//! renderings follow AzCopy's envelope so wrappers written for AzCopy read Ferry unchanged.
//!
//! A closed pipe (`ferry list … | head`) is not an error: writers stop quietly.

mod bench;
mod console;
mod events;
mod evidence;
mod job;
mod jobs;
mod json;
mod list;
mod shards;
mod verify;

pub use bench::BenchResult;
pub use console::{Console, OutputFormat, OutputLevel, env_table, escape_controls};
pub use events::{JobLogEvents, TerminalEvents};
pub use evidence::{evidence_checked, evidence_written};
pub use job::{JobReporter, show_summary_text, summary_text, sync_summary_text};
pub use jobs::{TransferList, job_details, job_list};
pub use json::{envelope, go_escape};
pub use list::{ListProperty, ListReporter, ListTotals, UnknownProperty};
pub use shards::{shard_plan, shard_status};
pub use verify::verify_summary;
