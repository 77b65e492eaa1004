//! The other commands: login, list, make, env, jobs, bench.

use clap::{ArgAction, Args, Subcommand, ValueEnum};
use ferry_core::LocationKind;

pub(super) const LOGIN_EXAMPLES: &str = "Examples:
  ferry login                              # device code: sign in with a browser anywhere
  ferry login --login-type msi
  ferry login --login-type msi --identity-client-id CLIENT_ID
  AZCOPY_SPA_CLIENT_SECRET=... ferry login --login-type spn --application-id APP_ID --tenant-id TENANT_ID
  AZCOPY_SPA_CERT_PASSWORD=... ferry login --login-type spn --application-id APP_ID --tenant-id TENANT_ID --certificate-path cert.pfx
  ferry login --login-type workload        # reads AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE
  ferry login --login-type azcli           # uses `az login`'s sign-in
  ferry login --login-type pscred          # uses Connect-AzAccount's sign-in (pwsh)
  ferry login status --tenant --endpoint --method

A service principal's secret is never saved: later commands read AZCOPY_SPA_CLIENT_SECRET when they need
a new token (the access token itself is shared until it nears its expiry).";

/// `ferry login` (and `ferry login status`).
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct LoginArgs {
    /// `status`: whether a sign-in is saved, and that it still gets tokens.
    #[command(subcommand)]
    pub status: Option<LoginCommand>,
    /// How to sign in: device (a person, with a code), spn (a service principal), msi (a managed
    /// identity), azcli (the Azure CLI's sign-in), pscred (Azure PowerShell's), workload (workload
    /// identity).
    #[arg(long, global = true, default_value = "device")]
    pub login_type: String,
    /// The tenant (required for spn).
    #[arg(long, global = true)]
    pub tenant_id: Option<String>,
    /// The Entra authority host, for national clouds (https only).
    #[arg(long, global = true)]
    pub aad_endpoint: Option<String>,
    /// The service principal's application (client) id.
    #[arg(long, global = true)]
    pub application_id: Option<String>,
    /// A service principal's certificate: a PEM file with the certificate and its RSA key, or a
    /// PKCS#12 file (its password in AZCOPY_SPA_CERT_PASSWORD).
    #[arg(long, global = true)]
    pub certificate_path: Option<String>,
    /// A user-assigned managed identity, by client id.
    #[arg(long, global = true)]
    pub identity_client_id: Option<String>,
    /// A user-assigned managed identity, by resource id.
    #[arg(long, global = true)]
    pub identity_resource_id: Option<String>,
    /// Deprecated by AzCopy and refused.
    #[arg(long, global = true, hide = true)]
    pub identity_object_id: Option<String>,
    /// Deprecated: use --login-type=MSI.
    #[arg(long, global = true, hide = true)]
    pub identity: bool,
    /// Deprecated: use --login-type=SPN.
    #[arg(long, global = true, hide = true)]
    pub service_principal: bool,
}

/// `ferry login` subcommands.
#[derive(Debug, Subcommand)]
pub enum LoginCommand {
    /// Whether a sign-in is saved and still gets tokens (exit 1 when not).
    Status(LoginStatusArgs),
}

/// `ferry login status`.
#[derive(Debug, Args)]
pub struct LoginStatusArgs {
    /// Show the tenant.
    #[arg(long)]
    pub tenant: bool,
    /// Show the authority.
    #[arg(long)]
    pub endpoint: bool,
    /// Show how it signs in.
    #[arg(long)]
    pub method: bool,
}

pub(super) const LIST_EXAMPLES: &str = "Examples:
  ferry list 'https://ACCOUNT.blob.core.windows.net/CONTAINER?SAS'
  ferry list 'https://ACCOUNT.blob.core.windows.net/CONTAINER/photos/2024/?SAS' --running-tally
  ferry list 'https://ACCOUNT.blob.core.windows.net/CONTAINER?SAS' --properties 'LastModifiedTime;ContentMD5' --machine-readable
  AZURE_STORAGE_ACCOUNT=devstoreaccount1 AZURE_STORAGE_KEY=... ferry list http://127.0.0.1:10000/devstoreaccount1/box

Names are listed in the service's order (UTF-16 code units, which is byte order except that characters above U+FFFF, such as emoji, sort before U+E000-U+FFFF), relative to the URL's virtual directory.";

pub(super) const MAKE_EXAMPLES: &str = "Examples:
  ferry make 'https://ACCOUNT.blob.core.windows.net/newcontainer?SAS'
  AZURE_STORAGE_CONNECTION_STRING='...' ferry make http://127.0.0.1:10000/devstoreaccount1/box";

pub(super) const ENV_EXAMPLES: &str = "Examples:
  ferry env
  ferry env --show-sensitive";

/// `ferry list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The Blob URL to list: an account, a container, a virtual directory or a blob.
    pub url: String,

    /// Properties to show for each blob, `;`-separated: LastModifiedTime, VersionId, BlobType,
    /// BlobAccessTier, ContentType, ContentEncoding, ContentMD5, LeaseState, LeaseDuration,
    /// LeaseStatus, ArchiveStatus.
    #[arg(long)]
    pub properties: Option<String>,

    /// Show sizes in bytes.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub machine_readable: bool,

    /// Show sizes in powers of 1,000 (KB, MB) instead of 1,024 (KiB, MiB).
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub mega_units: bool,

    /// End with the number of blobs and their total size.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub running_tally: bool,

    /// What the URL points at, for hosts Ferry cannot recognise (custom domains). Only `Blob`.
    #[arg(long, value_enum, ignore_case = true)]
    pub location: Option<LocationArg>,

    /// Azure Files names ending in a dot: Enable, Disable, AllowToUnsafeDestination.
    #[arg(long, value_enum, ignore_case = true, default_value = "Enable")]
    pub trailing_dot: super::TrailingDotArg,
}

/// `--location` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LocationArg {
    /// Azure Blob Storage.
    Blob,
    /// Azure Files (SMB shares).
    #[value(alias = "FileSMB")]
    File,
}

impl From<LocationArg> for LocationKind {
    fn from(arg: LocationArg) -> Self {
        match arg {
            LocationArg::Blob => LocationKind::Blob,
            LocationArg::File => LocationKind::Files,
        }
    }
}

/// `ferry make`.
#[derive(Debug, Args)]
pub struct MakeArgs {
    /// The URL of the container to create.
    pub url: String,

    /// An Azure Files share's quota in GiB.
    #[arg(long)]
    pub quota_gb: Option<u32>,

    /// What the URL is, when its host does not say (an emulator): Blob or File.
    #[arg(long, value_enum, ignore_case = true)]
    pub location: Option<LocationArg>,
}

/// `ferry env`.
#[derive(Debug, Args)]
pub struct EnvArgs {
    /// Show secret values instead of `REDACTED`.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub show_sensitive: bool,
}

/// `ferry jobs …`.
#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// List the jobs: id, start time, status, command.
    #[command(
        visible_alias = "ls",
        after_help = "Examples:\n  ferry jobs list\n  ferry jobs list --with-status Failed"
    )]
    List(JobsListArgs),
    /// Show a job's summary, or with --with-status its items in that state.
    #[command(after_help = "Examples:\n  ferry jobs show JOBID\n  ferry jobs show JOBID --with-status Failed")]
    Show(JobsShowArgs),
    /// Resume a job: items it finished are kept; failed, cancelled and unfinished items are done again.
    #[command(
        after_help = "Examples:\n  ferry jobs resume JOBID\n  ferry jobs resume JOBID --destination-sas 'sv=...&sig=...'\n\nA SAS that was in the job's URLs is never stored: give it again (a bare token or a whole URL)."
    )]
    Resume(JobsResumeArgs),
    /// Delete a job's journal and log.
    #[command(visible_alias = "rm", after_help = "Examples:\n  ferry jobs remove JOBID")]
    Remove(JobsRemoveArgs),
    /// Delete the journals and logs of every job, or of those with a status.
    #[command(
        visible_alias = "cl",
        after_help = "Examples:\n  ferry jobs clean\n  ferry jobs clean --with-status Completed"
    )]
    Clean(JobsListArgs),
    /// Write a job's evidence from its journal: a header (the job, its command, source and
    /// destination without secrets, how it signed in, Ferry's version, when it ran), one record
    /// per object (copied, skipped and why, failed and why, deleted; size, MD5, times,
    /// attempts) and a trailer with the totals, every line hash-chained to the one before.
    /// `ferry jobs evidence verify FILE` checks one.
    #[command(
        args_conflicts_with_subcommands = true,
        subcommand_negates_reqs = true,
        after_help = "Examples:
  ferry jobs evidence JOBID --output evidence.jsonl
  ferry jobs evidence JOBID --format csv --output evidence.csv
  ferry jobs evidence verify evidence.jsonl
  ferry jobs evidence verify evidence.jsonl --against 'https://A.blob.core.windows.net/c?SAS'"
    )]
    Evidence(JobsEvidenceArgs),
}

/// `ferry jobs evidence`.
#[derive(Debug, Args)]
pub struct JobsEvidenceArgs {
    /// The job id.
    #[arg(required = true)]
    pub job_id: Option<String>,
    /// jsonl (one JSON object a line) or csv.
    #[arg(long, value_enum, default_value = "jsonl", ignore_case = true)]
    pub format: EvidenceFormatArg,
    /// Write it to this file (readable by you only) instead of the standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
    /// Check evidence instead of writing it.
    #[command(subcommand)]
    pub check: Option<EvidenceCommand>,
}

/// `--format` of `ferry jobs evidence`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EvidenceFormatArg {
    /// JSON Lines.
    Jsonl,
    /// Comma-separated values.
    Csv,
}

/// `ferry jobs evidence verify`.
#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Check evidence: every line chained to the one before (an edited, removed, added or moved
    /// line is named), the trailer's totals those of the records; with --against, that the
    /// destination still holds every copied object with the recorded size and MD5. Exit 0 when
    /// it all holds, 3 when not.
    Verify(EvidenceVerifyArgs),
}

/// `ferry jobs evidence verify FILE`.
#[derive(Debug, Args)]
pub struct EvidenceVerifyArgs {
    /// The evidence file (JSON Lines or CSV).
    pub file: std::path::PathBuf,
    /// Also check the destination (the job's, as the evidence names it, when no value is given;
    /// give the URL with its SAS if it needs one).
    #[arg(long, value_name = "DESTINATION", num_args = 0..=1, default_missing_value = "")]
    pub against: Option<String>,
}

/// `ferry jobs list` and `ferry jobs clean`.
#[derive(Debug, Args)]
pub struct JobsListArgs {
    /// Only jobs with this status (Completed, CompletedWithErrors, Cancelled, InProgress, …); default all.
    #[arg(long)]
    pub with_status: Option<String>,
}

/// `ferry jobs show`.
#[derive(Debug, Args)]
pub struct JobsShowArgs {
    /// The job id.
    pub job_id: String,
    /// List the items in this state: Success, Failed, SkippedEntityAlreadyExists, NotStarted, Started, Cancelled, All.
    #[arg(long)]
    pub with_status: Option<String>,
}

/// `ferry jobs resume`.
#[derive(Debug, Args)]
pub struct JobsResumeArgs {
    /// The job id.
    pub job_id: String,
    /// The SAS for the source (a token or a whole URL), needed when the job's source URL had one.
    #[arg(long)]
    pub source_sas: Option<String>,
    /// The SAS for the destination (a token or a whole URL), needed when the job's destination URL had one.
    #[arg(long)]
    pub destination_sas: Option<String>,

    /// Resume only the failed items with these file names (`;`-separated).
    #[arg(long)]
    pub include: Option<String>,

    /// Resume the failed items except those with these file names (`;`-separated).
    #[arg(long)]
    pub exclude: Option<String>,
}

/// `ferry jobs remove`.
#[derive(Debug, Args)]
pub struct JobsRemoveArgs {
    /// The job id.
    pub job_id: String,
}

pub(super) const BENCH_EXAMPLES: &str = "Examples:
  ferry bench 'https://ACCOUNT.blob.core.windows.net/CONTAINER?SAS'
  ferry bench 'https://ACCOUNT.blob.core.windows.net/CONTAINER?SAS' --file-count 10000 --size-per-file 4K
  ferry bench 'https://ACCOUNT.blob.core.windows.net/CONTAINER/data?SAS' --mode Download

Upload sends generated data to a new virtual directory (ferry-bench-JOBID) and deletes it afterwards
unless --delete-test-data=false; Download reads the blobs already under the URL and discards them.";

/// `ferry bench`'s direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchMode {
    /// Generated data to the container.
    Upload,
    /// The container's blobs to nowhere.
    Download,
}

/// `ferry bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The container or virtual directory URL to measure against.
    pub url: String,

    /// Upload (generated data) or Download (existing blobs, discarded).
    #[arg(long, value_enum, ignore_case = true, default_value = "upload")]
    pub mode: BenchMode,

    /// How many files to upload.
    #[arg(long, default_value_t = 100)]
    pub file_count: u64,

    /// The size of each uploaded file: a number of bytes, or with K, M or G (binary units).
    #[arg(long, default_value = "250M")]
    pub size_per_file: String,

    /// Spread the uploaded files over this many folders.
    #[arg(long, default_value_t = 0)]
    pub number_of_folders: u64,

    /// Delete the uploaded test data afterwards.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = true, default_missing_value = "true")]
    pub delete_test_data: bool,

    /// Block size in MiB (default 8, grown to stay within 50,000 blocks).
    #[arg(long)]
    pub block_size_mb: Option<f64>,

    /// Store each file's MD5 (costs the CPU time of hashing, as in a real upload with --put-md5).
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub put_md5: bool,

    /// Files up to this many MiB are uploaded with one Put Blob. Default: the block size.
    #[arg(long)]
    pub put_blob_size_mb: Option<f64>,

    /// Check that each blob has the length written.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = true, default_missing_value = "true")]
    pub check_length: bool,

    /// The blob type to measure: BlockBlob (PageBlob and AppendBlob come with their upload support).
    #[arg(long, default_value = "BlockBlob")]
    pub blob_type: String,
}

/// `ferry completion SHELL`.
#[derive(Debug, Subcommand)]
pub enum CompletionCommand {
    /// Completion for bash: `source <(ferry completion bash)`.
    Bash(CompletionArgs),
    /// Completion for zsh: `ferry completion zsh > "${fpath[1]}/_ferry"`.
    Zsh(CompletionArgs),
    /// Completion for fish: `ferry completion fish > ~/.config/fish/completions/ferry.fish`.
    Fish(CompletionArgs),
    /// Completion for PowerShell: `ferry completion powershell | Out-String | Invoke-Expression`.
    Powershell(CompletionArgs),
}

/// A completion script's options.
#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// Leave the descriptions of commands and flags out of the script.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub no_descriptions: bool,
}

/// `--format` values of `ferry doc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DocFormat {
    /// A Markdown page per command, with its usage and options as `--help` shows them.
    Default,
    /// A Markdown page per command, with its options in a table (for a wiki).
    Wiki,
    /// A man page per command (roff), for `man -l` or a man directory.
    Man,
}

/// `ferry doc`.
#[derive(Debug, Args)]
pub struct DocArgs {
    /// The folder the pages are written to (created if missing).
    #[arg(long, default_value = "./doc")]
    pub output_location: std::path::PathBuf,

    /// default (Markdown), wiki (Markdown with tables) or man (roff man pages).
    #[arg(long, value_enum, ignore_case = true, default_value = "default")]
    pub format: DocFormat,
}

/// `ferry shards`: a run split over many workers.
#[derive(Debug, Subcommand)]
pub enum ShardsCommand {
    /// Where each shard of a run stands (done, failed, running, missing), from its report folder;
    /// exit 0 only when every shard is done.
    #[command(after_help = "Examples:\n  ferry shards status --run-id nightly-20261130 --report-dir /evidence")]
    Status(ShardsStatusArgs),
    /// The deletes of a sharded sync, once for the whole run: refused unless every shard is done;
    /// lists both trees again (the run's guards: an empty source, --max-delete), checks each
    /// candidate against the source as it is now, and deletes, journaled and resumable. Takes
    /// the run's sync command, with --run-id and --report-dir and without --shard/--shards.
    #[command(
        after_help = "Examples:\n  ferry shards commit /data 'https://A.blob.core.windows.net/c?SAS' --run-id nightly-20261130 --report-dir /evidence"
    )]
    Commit(Box<crate::args::SyncArgs>),
    /// A range plan for a run: lists the source twice (once to count, once to choose bounds)
    /// and writes M ranges of names, each about 1/M of the objects (or bytes), for
    /// `--shard-plan`; each shard then lists only its range.
    #[command(after_help = "Examples:
  ferry shards plan 'https://A.blob.core.windows.net/c?SAS' --shards 64 -o plan.json
  ferry shards plan /data --shards 16 --by bytes -o plan.json")]
    Plan(ShardsPlanArgs),
}

/// `ferry shards plan`.
#[derive(Debug, Args)]
pub struct ShardsPlanArgs {
    /// The run's source, as the run's command gives it.
    #[arg(required_unless_present = "from_reports")]
    pub source: Option<String>,

    /// Take the names from an earlier run's sharded verifications (`verify --shard … --run-id
    /// RUN --report-dir DIR`) in DIR/RUN instead of listing the source.
    #[arg(long, value_name = "DIR/RUN", conflicts_with_all = ["source", "from_to"])]
    pub from_reports: Option<std::path::PathBuf>,

    /// M, the number of ranges (shards).
    #[arg(long, value_name = "M")]
    pub shards: u64,

    /// Balance the number of objects (count) or their bytes (a file is never split).
    #[arg(long, value_enum, default_value = "count", ignore_case = true)]
    pub by: BalanceArg,

    /// Where to write the plan (JSON).
    #[arg(long, short = 'o', value_name = "PLAN.json")]
    pub output: std::path::PathBuf,

    /// The kinds of source and destination, as the run's command gives them (only the source's
    /// is used): for hosts Ferry cannot recognise.
    #[arg(long)]
    pub from_to: Option<String>,
}

/// `--by` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BalanceArg {
    /// About as many objects in each range.
    Count,
    /// About as many bytes in each range.
    Bytes,
}

/// `ferry shards status`.
#[derive(Debug, Args)]
pub struct ShardsStatusArgs {
    /// The run.
    #[arg(long, env = "FERRY_RUN_ID", value_name = "ID")]
    pub run_id: String,

    /// The folder the shards wrote their evidence to (their --report-dir).
    #[arg(long, value_name = "DIR")]
    pub report_dir: std::path::PathBuf,
}

/// `ferry serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where to listen: HOST:PORT, or a bare PORT on 127.0.0.1.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8650")]
    pub addr: String,
}
