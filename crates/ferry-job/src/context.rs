//! Everything a job run needs that is not its spec: passed in, never global, so one process can
//! run several jobs (a server, a test) and nothing here depends on a terminal.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ferry_azure::HttpConfig;
use ferry_core::{SasToken, Secret};
use futures::future::BoxFuture;

use crate::events::JobEvents;
use crate::spec::Role;

/// A job's context.
#[derive(Clone)]
pub struct JobContext {
    /// Set to cancel: no new item starts, items in flight stop at their next block, listings are
    /// dropped, nothing more is deleted, and the job ends `Cancelled` (and resumable).
    pub cancel: Arc<AtomicBool>,
    /// Where the job's events go.
    pub events: Arc<dyn JobEvents>,
    /// How much runs at once.
    pub limits: Limits,
    /// Where journals and logs go.
    pub dirs: StateDirs,
    /// The HTTP pool, timeouts and retries.
    pub http: HttpConfig,
    /// The secrets the spec refers to.
    pub secrets: Secrets,
    /// Whether plain `http://` to a host other than this machine is allowed (`FERRY_ALLOW_HTTP`).
    pub allow_plain_http: bool,
    /// Asks the user (for `--overwrite prompt` and `--delete-destination prompt`); none when
    /// nobody can answer.
    pub prompt: Option<Arc<dyn Prompt>>,
    /// The metrics served while the job runs (`--metrics-addr`): the job's counters are shown.
    pub metrics: Option<Arc<ferry_metrics::Metrics>>,
    /// Testing: a copy is cancelled when its listing reaches one of these relative paths,
    /// leaving a job to resume (AzCopy's `--debug-skip-files`).
    pub cancel_at: Vec<String>,
    /// Testing: a copy lists everything, then waits on this before it opens the first file, so a
    /// test can change files between the listing and their use (AzCopy's `--await-open`).
    pub await_open: Option<Arc<dyn Pause>>,
}

/// A pause a debugging hook asks for; see [`JobContext::await_open`].
pub trait Pause: Send + Sync {
    /// Waits until the hook says to go on; an error (nobody can say so) ends the job.
    fn wait(&self) -> BoxFuture<'_, Result<(), String>>;
}

impl JobContext {
    /// Whether the job has been cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// Concurrency, memory and bandwidth limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Files in flight.
    pub objects_in_flight: usize,
    /// Requests in flight.
    pub requests_in_flight: usize,
    /// Bytes of data buffers.
    pub buffer_bytes: u64,
    /// `--cap-mbps`, if set.
    pub cap_mbps: Option<f64>,
    /// How long a presigned S3 URL lives (`None`: seven days, the most SigV4 allows). A test
    /// hook (`FERRY_PRESIGN_SECONDS`) for a URL that expires before the service fetches it.
    pub presign_seconds: Option<u64>,
}

/// Where a job keeps its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDirs {
    /// Job journals.
    pub plans: PathBuf,
    /// Job logs (and, by default, verify reports).
    pub logs: PathBuf,
    /// How much goes in a job's log.
    pub log_level: LogLevel,
    /// The largest a job log may grow, in bytes.
    pub log_cap: u64,
}

/// How much goes to a job's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum LogLevel {
    /// No log file.
    None,
    /// Failures only.
    Error,
    /// Warnings and failures.
    Warning,
    /// Job events, retries and failures (the default).
    #[default]
    Info,
    /// Everything, including each request.
    Debug,
}

/// The secrets a job's [`crate::CredentialRef`]s refer to: given to each run, never stored.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    /// The source's SAS (from its URL, or `jobs resume --source-sas`).
    pub source_sas: Option<SasToken>,
    /// The destination's SAS.
    pub destination_sas: Option<SasToken>,
    /// `AZURE_STORAGE_CONNECTION_STRING`.
    pub connection_string: Option<Secret>,
    /// `AZURE_STORAGE_ACCOUNT`.
    pub account: Option<String>,
    /// `AZURE_STORAGE_KEY`.
    pub account_key: Option<Secret>,
    /// A Microsoft Entra ID token source (auto-login), shared by every client of the job.
    pub token: Option<Arc<dyn ferry_azure::TokenSource>>,
    /// Host suffixes besides Azure Storage's own that may receive a token
    /// (`--trusted-microsoft-suffixes`).
    pub trusted_suffixes: Vec<String>,
    /// A command that prints a fresh source SAS (`--source-sas-command`).
    pub source_sas_command: Option<String>,
    /// A command that prints a fresh destination SAS (`--destination-sas-command`).
    pub destination_sas_command: Option<String>,
    /// Customer-provided encryption for the job's blobs (resolved from its spec and
    /// `CPK_ENCRYPTION_KEY`).
    pub cpk: Option<ferry_azure::Cpk>,
    /// The AWS key pair for S3 endpoints (none: anonymous, public buckets).
    pub aws: Option<ferry_s3::Credentials>,
    /// Why the AWS credentials in the environment cannot be used (a half-given pair), reported
    /// only when a job reaches S3.
    pub aws_problem: Option<String>,
    /// The region to sign for when an S3 URL names none (`AWS_REGION`, `AWS_DEFAULT_REGION`).
    pub aws_region: Option<String>,
    /// What the environment says of GCS: the key file, the endpoint, the project (read only
    /// when a job reaches GCS).
    pub gcs: ferry_gcs::credentials::GcsEnvironment,
}

impl Secrets {
    /// The command that renews the SAS of the endpoint in `role`, if one was given.
    pub fn sas_command(&self, role: Role) -> Option<&str> {
        match role {
            Role::Source => self.source_sas_command.as_deref(),
            Role::Destination => self.destination_sas_command.as_deref(),
        }
    }

    /// The SAS for the endpoint in `role`.
    pub fn sas(&self, role: Role) -> Option<&SasToken> {
        match role {
            Role::Source => self.source_sas.as_ref(),
            Role::Destination => self.destination_sas.as_ref(),
        }
    }
}

/// Asks the user a yes/no question; many may be asked at once, and an implementation asks one
/// at a time. "No" is the safe answer when nobody can reply.
pub trait Prompt: Send + Sync {
    /// Whether the answer to `question` is yes.
    fn confirm<'a>(&'a self, question: &'a str) -> BoxFuture<'a, bool>;
}

/// `--overwrite prompt` through a [`Prompt`].
pub(crate) struct OverwriteQuestion(pub(crate) Arc<dyn Prompt>);

impl ferry_engine::OverwritePrompt for OverwriteQuestion {
    fn should_replace<'a>(&'a self, dest: &'a str) -> BoxFuture<'a, bool> {
        Box::pin(async move { self.0.confirm(&format!("`{dest}` already exists. Overwrite it?")).await })
    }
}
