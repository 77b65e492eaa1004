//! Ferry's job journal: the durable record of a job.
//!
//! One SQLite database per job, `DIR/JOBID.db`, in WAL mode, private to the user (0600 in a 0700
//! folder). It holds the job's [`JobSpec`] (the command line with secrets removed and *where* the
//! credentials came from, never the credentials), every item with its state and last error, and
//! the job's status. `jobs list/show/resume/remove/clean` are queries over these files.
//!
//! Writes go through one writer thread that applies everything queued in one transaction (group
//! commit): a caller that awaits [`Journal::record`] knows its change is on disk, yet 100,000
//! small items cost a few hundred transactions, not 100,000. Reads use a separate connection,
//! which WAL lets run beside the writer.

mod hash_cache;
mod journal;
mod model;
mod records;

pub use hash_cache::HashCache;
pub use journal::{
    Ending, FoundItem, Journal, JournalError, Progress, SCHEMA_VERSION, check_private_dir, is_job_id, job_path,
    list_jobs, remove_job,
};
pub use model::{ItemRow, ItemStatus, JobRow, JobSpec, JobStatus, StatusCount};
pub use records::{ItemRecord, JobTimes};
