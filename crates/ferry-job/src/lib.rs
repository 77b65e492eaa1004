//! Ferry's application layer: what a job is ([`JobSpec`]), what it runs with ([`JobContext`]),
//! and one lifecycle for copy, sync and remove, from opening the two sides to the final status.
//!
//! Nothing here prints or reads the terminal: a job reports through [`JobEvents`], asks through
//! a [`Prompt`], is stopped through its context's cancel flag, and is given its secrets. So a job
//! runs the same under the command line, in a test, or (later) in a server, and several can run
//! in one process.
//!
//! - [`run`] starts a job; [`resume`] continues one from its journal (no command line is read
//!   again); [`verify()`] compares two trees.
//! - `open` is the one place that knows which kinds of place exist; `listing` the one listing;
//!   `lifecycle` the one run loop; `delete` the one journaled deleter.

mod copy;
mod credentials;
mod delete;
mod directories;
mod error;
mod events;
mod evidence;
mod joblog;
mod jobs;
mod lifecycle;
mod listing;
mod md5;
mod naming;
mod observer;
mod open;
mod range_plans;
mod remove;
mod s3_names;
mod set_properties;
mod shards;
mod spec;
mod sync;
mod targets;
mod verify;
mod verify_merge;
mod warnings;

pub mod context;

pub use context::{JobContext, Limits, LogLevel, Pause, Prompt, Secrets, StateDirs};
pub use error::{ErrorClass, JobError};
pub use events::{Fanout, Finished, JobEvent, JobEvents, Progress, SyncCounts, final_status};
pub use evidence::{
    AgainstSummary, EvidenceCheck, EvidenceFormat, Totals as EvidenceTotals, check_against, check_evidence,
    write_evidence,
};
pub use joblog::{CappedWriter, JOB_TARGET, JobLogLayer};
pub use jobs::{JobDetails, details, shown_command, stored_spec};
pub use open::{CredentialUse, blob_client};
pub use range_plans::{PlanNames, PlanRequest, plan_ranges};
pub use s3_names::InvalidMetadata;
pub use shards::{
    INDEX_VARIABLES, PlanChoice, ShardRun, ShardState, ShardStatus, commit_run, deletes_file, run_status, shard_job_id,
    valid_run_id, write_whole,
};
pub use spec::{
    CopySpec, CredentialRef, DeferredDeletes, DeleteMode, Encryption, Endpoint, EndpointKind, FilesFlags, JobKind,
    JobSpec, MaxDelete, PermanentDelete, RemoveSpec, Role, SPEC_VERSION, SetPropertiesSpec, SyncSpec, TransferPolicy,
    VerifySpec,
};
pub use verify::{VerifySummary, verify};
pub use verify_merge::merge_verify;

use ferry_journal::{JobStatus, Journal};
use tracing::Instrument as _;

/// Runs a new job. A dry run shows what it would do and records nothing.
pub async fn run(spec: &JobSpec, ctx: &JobContext) -> Result<(), JobError> {
    match &spec.shard {
        Some(shard) => shards::run_shard(spec, shard, ctx).await,
        None => execute(spec, lifecycle::new_job_id(), None, ctx).await,
    }
}

/// Continues the job `journal` records (opened with its lock held), as `spec` describes it:
/// items it finished are left alone, the rest are done again.
pub async fn resume(journal: Journal, spec: &JobSpec, ctx: &JobContext) -> Result<(), JobError> {
    check_secrets(spec, &ctx.secrets)?;
    journal
        .set_job_status(JobStatus::InProgress, None)
        .await
        .map_err(|e| JobError::failed(format!("cannot record the job's status: {e}")))?;
    let id = journal.spec().job_id.clone();
    execute(spec, id, Some(journal), ctx).await
}

/// Refuses to run a job without a secret its spec refers to (a SAS that was on a URL).
pub fn check_secrets(spec: &JobSpec, secrets: &Secrets) -> Result<(), JobError> {
    for (endpoint, role) in spec.endpoints() {
        let renewable = secrets.sas_command(role).is_some();
        if endpoint.credential == CredentialRef::UrlSas && secrets.sas(role).is_none() && !renewable {
            let flag = role.as_str();
            return Err(JobError::usage(format!("the {flag}-sas switch must be provided to resume the job"))
                .with_hint(format!(
                    "the job's {flag} URL carried a SAS, which Ferry never stores: pass --{flag}-sas TOKEN"
                )));
        }
    }
    Ok(())
}

pub(crate) async fn execute(
    spec: &JobSpec,
    id: String,
    resume: Option<Journal>,
    ctx: &JobContext,
) -> Result<(), JobError> {
    let span = tracing::info_span!("job", id = %id);
    let run = lifecycle::Run { id: &id, spec, resume, ctx };
    async {
        match &spec.kind {
            JobKind::Copy(copy) => copy::run(run, copy).await,
            JobKind::Sync(sync) => sync::run(run, sync).await,
            JobKind::Remove(remove) => remove::run(run, remove).await,
            JobKind::SetProperties(set) => set_properties::run(run, set).await,
        }
    }
    .instrument(span)
    .await
}
