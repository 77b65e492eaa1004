//! What the user can type. Flag names and spellings follow AzCopy v10 where they overlap.

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use ferry_core::LocationKind;
use ferry_report::OutputFormat;

/// Ferry copies and syncs data between local disks and Azure Blob Storage as resumable jobs.
#[derive(Debug, Parser)]
#[command(
    name = "ferry",
    version,
    propagate_version = true,
    arg_required_else_help = true,
    after_help = "Exit codes: 0 success, 1 failure, 2 usage error (nothing was done).\n\
                  Authentication: a SAS in the URL, or AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_KEY, or\n\
                  AZURE_STORAGE_CONNECTION_STRING; public containers need none. See `ferry env`."
)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,

    /// Format of the command's output: `text`, or `json` (AzCopy's JSON envelope, one message per line).
    #[arg(long, global = true, value_enum, ignore_case = true, default_value = "text")]
    pub output_type: OutputType,

    /// How much is printed: default, essential (no progress or notes), quiet (nothing on standard output).
    #[arg(long, global = true, value_enum, ignore_case = true, default_value = "default")]
    pub output_level: OutputLevelArg,

    /// Cap throughput at this many megabits per second (base 10); 0 means no cap.
    #[arg(long, global = true, default_value_t = 0.0)]
    pub cap_mbps: f64,

    /// How much a job writes to its log file: DEBUG, INFO, WARNING, ERROR, or NONE for no file.
    #[arg(long, global = true, value_enum, ignore_case = true, default_value = "INFO")]
    pub log_level: crate::LogLevel,

    /// More host suffixes (`;`-separated, port included when given) that may receive a Microsoft
    /// Entra ID token, besides Azure Storage's own (`*.core.windows.net`, `*.storage.azure.net`, …).
    #[arg(long, global = true)]
    pub trusted_microsoft_suffixes: Option<String>,

    /// A command that prints a fresh SAS for the source (run by `sh -c` before the current one
    /// expires and when the service refuses it); or FERRY_SOURCE_SAS_COMMAND.
    #[arg(long, global = true)]
    pub source_sas_command: Option<String>,

    /// A command that prints a fresh SAS for the destination; or FERRY_DESTINATION_SAS_COMMAND.
    #[arg(long, global = true)]
    pub destination_sas_command: Option<String>,
}

/// `--output-type` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputType {
    /// Human-readable text.
    Text,
    /// One JSON message per line.
    Json,
}

impl From<OutputType> for OutputFormat {
    fn from(t: OutputType) -> Self {
        match t {
            OutputType::Text => Self::Text,
            OutputType::Json => Self::Json,
        }
    }
}

/// `--output-level` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputLevelArg {
    /// Everything.
    Default,
    /// Results, warnings and errors; no progress or notes.
    Essential,
    /// Nothing on standard output.
    Quiet,
}

impl From<OutputLevelArg> for ferry_report::OutputLevel {
    fn from(l: OutputLevelArg) -> Self {
        match l {
            OutputLevelArg::Default => Self::Default,
            OutputLevelArg::Essential => Self::Essential,
            OutputLevelArg::Quiet => Self::Quiet,
        }
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Copy files and blobs: local to Blob, Blob to local, Blob to Blob (server-side), local to local.
    #[command(visible_aliases = ["cp", "c"], after_help = COPY_EXAMPLES)]
    Copy(Box<CopyArgs>),
    /// Make the destination hold the source's current files: copy what is missing, newer or a
    /// different size; optionally delete what the source no longer has (guarded).
    #[command(visible_aliases = ["sc"], after_help = SYNC_EXAMPLES)]
    Sync(Box<SyncArgs>),
    /// Prove that a destination matches its source: presence, size and MD5 of every object, with
    /// a report of each difference (JSON Lines and CSV). Exit 0 when identical, 3 when not.
    #[command(after_help = VERIFY_EXAMPLES)]
    Verify(Box<VerifyArgs>),
    /// Delete blobs: one, or those under a virtual directory or container (`--recursive`).
    #[command(visible_aliases = ["rm"], after_help = REMOVE_EXAMPLES)]
    Remove(Box<RemoveArgs>),
    /// List the blobs under a container, virtual directory or account URL.
    #[command(visible_alias = "ls", after_help = LIST_EXAMPLES)]
    List(ListArgs),
    /// Create a container.
    #[command(visible_aliases = ["mk", "mkdir"], after_help = MAKE_EXAMPLES)]
    Make(MakeArgs),
    /// List, show, resume and remove jobs (every copy is a job with a journal).
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Show the environment variables Ferry reads and their current values (secrets redacted).
    #[command(after_help = ENV_EXAMPLES)]
    Env(EnvArgs),
    /// Measure upload or download speed to a container with generated data, without the local
    /// disk; prints the throughput, the likely bottleneck and advice.
    #[command(visible_aliases = ["ben", "benchmark"], after_help = BENCH_EXAMPLES)]
    Bench(BenchArgs),
    /// Sign in to Microsoft Entra ID and save the sign-in (never a secret) for later commands in
    /// any process; `ferry login status` shows it.
    #[command(after_help = LOGIN_EXAMPLES)]
    Login(LoginArgs),
    /// Forget the saved sign-in and the access tokens kept for it.
    Logout,
}

const LOGIN_EXAMPLES: &str = "Examples:
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
    #[arg(long, default_value = "device")]
    pub login_type: String,
    /// The tenant (required for spn).
    #[arg(long)]
    pub tenant_id: Option<String>,
    /// The Entra authority host, for national clouds (https only).
    #[arg(long)]
    pub aad_endpoint: Option<String>,
    /// The service principal's application (client) id.
    #[arg(long)]
    pub application_id: Option<String>,
    /// A service principal's certificate: a PEM file with the certificate and its RSA key, or a
    /// PKCS#12 file (its password in AZCOPY_SPA_CERT_PASSWORD).
    #[arg(long)]
    pub certificate_path: Option<String>,
    /// A user-assigned managed identity, by client id.
    #[arg(long)]
    pub identity_client_id: Option<String>,
    /// A user-assigned managed identity, by resource id.
    #[arg(long)]
    pub identity_resource_id: Option<String>,
    /// Deprecated by AzCopy and refused.
    #[arg(long, hide = true)]
    pub identity_object_id: Option<String>,
    /// Deprecated: use --login-type=MSI.
    #[arg(long, hide = true)]
    pub identity: bool,
    /// Deprecated: use --login-type=SPN.
    #[arg(long, hide = true)]
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

const COPY_EXAMPLES: &str = "Examples:
  ferry copy ./photos 'https://ACCOUNT.blob.core.windows.net/CONTAINER?SAS' --recursive --put-md5
  ferry copy './photos/*' 'https://ACCOUNT.blob.core.windows.net/CONTAINER/2024?SAS' --recursive
  ferry copy 'https://ACCOUNT.blob.core.windows.net/CONTAINER/reports?SAS' ./restore --recursive
  ferry copy 'https://A.blob.core.windows.net/src?SAS' 'https://B.blob.core.windows.net/dst?SAS' --recursive
  ferry copy ./big.iso 'https://ACCOUNT.blob.core.windows.net/CONTAINER/big.iso?SAS' --block-size-mb 64
  ferry copy ./data /mnt/backup --recursive --dry-run

A directory (a local folder, a container, a virtual directory) needs --recursive and lands in a
subdirectory named after it (--as-subdir=false to drop it); `DIR/*` copies its contents.";

const SYNC_EXAMPLES: &str = "Examples:
  ferry sync ./site 'https://ACCOUNT.blob.core.windows.net/$web?SAS'
  ferry sync ./site 'https://ACCOUNT.blob.core.windows.net/$web?SAS' --delete-destination true --dry-run
  ferry sync 'https://ACCOUNT.blob.core.windows.net/photos?SAS' /mnt/photos --compare-hash MD5
  ferry sync ./data 'https://ACCOUNT.blob.core.windows.net/backup?SAS' --delete-destination true --max-delete 5%

An object is copied when it is missing at the destination, when the source is newer, or when the sizes
differ (so a truncated copy is repaired). Deletions happen only after both listings completed without
error, never when the source is empty (unless --force-delete), and never beyond --max-delete.";

const VERIFY_EXAMPLES: &str = "Examples:
  ferry verify ./restore 'https://ACCOUNT.blob.core.windows.net/backup?SAS' --compute-hash
  ferry verify 'https://A.blob.core.windows.net/src?SAS' 'https://B.blob.core.windows.net/dst?SAS' --report-dir ./evidence

Stored MD5s (Content-MD5) are compared where both sides have one; --compute-hash reads and hashes the
objects that lack one (local files always do). Exit codes: 0 identical, 3 differences found, 1 failure.";

const REMOVE_EXAMPLES: &str = "Examples:
  ferry remove 'https://ACCOUNT.blob.core.windows.net/CONTAINER/old.log?SAS'
  ferry remove 'https://ACCOUNT.blob.core.windows.net/CONTAINER/logs/2023?SAS' --recursive --dry-run
  ferry remove 'https://ACCOUNT.blob.core.windows.net/CONTAINER?SAS' --recursive --include-pattern '*.tmp'

Every removal is a job: `ferry jobs resume JOBID` finishes one that was interrupted. Nothing matched is an error.";

const LIST_EXAMPLES: &str = "Examples:
  ferry list 'https://ACCOUNT.blob.core.windows.net/CONTAINER?SAS'
  ferry list 'https://ACCOUNT.blob.core.windows.net/CONTAINER/photos/2024/?SAS' --running-tally
  ferry list 'https://ACCOUNT.blob.core.windows.net/CONTAINER?SAS' --properties 'LastModifiedTime;ContentMD5' --machine-readable
  AZURE_STORAGE_ACCOUNT=devstoreaccount1 AZURE_STORAGE_KEY=... ferry list http://127.0.0.1:10000/devstoreaccount1/box

Names are listed in the service's order (UTF-16 code units, which is byte order except that characters above U+FFFF, such as emoji, sort before U+E000-U+FFFF), relative to the URL's virtual directory.";

const MAKE_EXAMPLES: &str = "Examples:
  ferry make 'https://ACCOUNT.blob.core.windows.net/newcontainer?SAS'
  AZURE_STORAGE_CONNECTION_STRING='...' ferry make http://127.0.0.1:10000/devstoreaccount1/box";

const ENV_EXAMPLES: &str = "Examples:
  ferry env
  ferry env --show-sensitive";

/// An AzCopy-style boolean: `--flag`, `--flag=true` and `--flag=false` all work.
macro_rules! azcopy_bool {
    () => {
        ArgAction::Set
    };
}

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
}

/// `--location` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LocationArg {
    /// Azure Blob Storage.
    Blob,
}

impl From<LocationArg> for LocationKind {
    fn from(_: LocationArg) -> Self {
        LocationKind::Blob
    }
}

/// `ferry make`.
#[derive(Debug, Args)]
pub struct MakeArgs {
    /// The URL of the container to create.
    pub url: String,
}

/// `ferry env`.
#[derive(Debug, Args)]
pub struct EnvArgs {
    /// Show secret values instead of `REDACTED`.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub show_sensitive: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn azcopy_style_booleans() {
        for (args, expected) in [
            (vec!["ferry", "list", "u"], false),
            (vec!["ferry", "list", "u", "--running-tally"], true),
            (vec!["ferry", "list", "u", "--running-tally=true"], true),
            (vec!["ferry", "list", "u", "--running-tally=false"], false),
        ] {
            let cli = Cli::try_parse_from(&args).unwrap();
            let Command::List(list) = cli.command else { panic!("list") };
            assert_eq!(list.running_tally, expected, "{args:?}");
        }
    }

    #[test]
    fn aliases_and_global_output_type() {
        let cli = Cli::try_parse_from(["ferry", "ls", "u", "--output-type", "JSON"]).unwrap();
        assert!(matches!(cli.command, Command::List(_)));
        assert_eq!(cli.output_type, OutputType::Json);
        assert!(matches!(Cli::try_parse_from(["ferry", "mk", "u"]).unwrap().command, Command::Make(_)));
        assert!(matches!(Cli::try_parse_from(["ferry", "mkdir", "u"]).unwrap().command, Command::Make(_)));
    }

    #[test]
    fn unknown_flags_and_bad_values_are_usage_errors() {
        let err = Cli::try_parse_from(["ferry", "list", "u", "--no-such-flag"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let err = Cli::try_parse_from(["ferry", "list", "u", "--output-type", "xml"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let err = Cli::try_parse_from(["ferry", "list", "u", "--running-tally=maybe"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }
}

/// `--overwrite` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OverwriteArg {
    /// Replace what exists.
    True,
    /// Keep what exists and skip the item.
    False,
    /// Ask before replacing each existing item: (y)es, (n)o, (a)ll, none (l).
    Prompt,
    /// Replace only when the source is newer.
    #[value(name = "ifSourceNewer")]
    IfSourceNewer,
}

/// `--check-md5` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckMd5Arg {
    /// Do not check.
    #[value(name = "NoCheck")]
    NoCheck,
    /// Check and log a mismatch, keeping the file.
    #[value(name = "LogOnly")]
    LogOnly,
    /// Fail when the stored MD5 differs.
    #[value(name = "FailIfDifferent")]
    FailIfDifferent,
    /// Fail when it differs or is missing.
    #[value(name = "FailIfDifferentOrMissing")]
    FailIfDifferentOrMissing,
}

impl From<CheckMd5Arg> for ferry_engine::CheckMd5 {
    fn from(a: CheckMd5Arg) -> Self {
        match a {
            CheckMd5Arg::NoCheck => Self::NoCheck,
            CheckMd5Arg::LogOnly => Self::LogOnly,
            CheckMd5Arg::FailIfDifferent => Self::FailIfDifferent,
            CheckMd5Arg::FailIfDifferentOrMissing => Self::FailIfDifferentOrMissing,
        }
    }
}

/// `ferry copy`.
#[derive(Debug, Args)]
pub struct CopyArgs {
    /// What to copy: a local path (file, directory, `DIR/*`) or a Blob URL.
    pub source: String,
    /// Where to copy it: a local path or a Blob URL.
    pub destination: String,

    /// Copy directories with everything below them.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub recursive: bool,

    /// Put a copied directory in a subdirectory named after it (the default).
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = true, default_missing_value = "true")]
    pub as_subdir: bool,

    /// What to do when the destination exists: true, false, prompt, ifSourceNewer.
    #[arg(long, value_enum, ignore_case = true, default_value = "true")]
    pub overwrite: OverwriteArg,

    /// Print what would be copied (`DRYRUN: copy SRC to DST`) and copy nothing.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub dry_run: bool,

    /// After the copy, verify what it covered (as `ferry verify --compute-hash`); exit 3 on differences.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub verify: bool,

    /// Compute each file's MD5 while uploading and store it as the blob's Content-MD5.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub put_md5: bool,

    /// How downloads are checked against the stored Content-MD5.
    #[arg(long, value_enum, ignore_case = true, default_value = "FailIfDifferent")]
    pub check_md5: CheckMd5Arg,

    /// Fail an item whose source yields a different number of bytes than listed.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = true, default_missing_value = "true")]
    pub check_length: bool,

    /// Block size in MiB (decimals allowed). Default: 8, grown as needed to stay within 50,000 blocks.
    #[arg(long)]
    pub block_size_mb: Option<f64>,

    /// Files up to this many MiB are uploaded with one Put Blob. Default: the block size.
    #[arg(long)]
    pub put_blob_size_mb: Option<f64>,

    /// Give downloaded files the blob's last-modified time.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub preserve_last_modified_time: bool,

    /// The kinds of source and destination: LocalBlob, BlobLocal, BlobBlob, LocalLocal
    /// (needed for custom domains).
    #[arg(long)]
    pub from_to: Option<String>,

    /// Content-Type for uploaded blobs (default: guessed from the file extension).
    #[arg(long)]
    pub content_type: Option<String>,

    /// Content-Encoding for uploaded blobs.
    #[arg(long)]
    pub content_encoding: Option<String>,

    /// Content-Disposition for uploaded blobs.
    #[arg(long)]
    pub content_disposition: Option<String>,

    /// Content-Language for uploaded blobs.
    #[arg(long)]
    pub content_language: Option<String>,

    /// Cache-Control for uploaded blobs.
    #[arg(long)]
    pub cache_control: Option<String>,

    /// Metadata for uploaded blobs: `name=value;name2=value2`.
    #[arg(long)]
    pub metadata: Option<String>,

    /// Index tags for uploaded blobs: `key=value&key2=value2`.
    #[arg(long)]
    pub blob_tags: Option<String>,

    /// Access tier for uploaded blobs: Hot, Cool, Cold, Archive.
    #[arg(long)]
    pub block_blob_tier: Option<String>,

    /// Do not guess Content-Type from file extensions (blobs get application/octet-stream).
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub no_guess_mime_type: bool,

    /// Blob type of uploads. Only BlockBlob for now.
    #[arg(long, default_value = "BlockBlob")]
    pub blob_type: String,

    /// Which objects to cover.
    #[command(flatten)]
    pub filters: FilterArgs,
}

/// The filter flags shared by commands that select objects.
#[derive(Debug, Args, Default)]
pub struct FilterArgs {
    /// Only names matching these globs, `;`-separated (`*.jpg;*.png`); a pattern with `/` matches
    /// the relative path, and `**` spans directories (`photos/**/*.jpg`).
    #[arg(long)]
    pub include_pattern: Option<String>,

    /// Leave out names (or, with `/`, paths) matching these globs, `;`-separated.
    #[arg(long)]
    pub exclude_pattern: Option<String>,

    /// Only these relative paths (files, or directories with everything below), `;`-separated.
    #[arg(long)]
    pub include_path: Option<String>,

    /// Leave out these relative paths (and everything below them), `;`-separated.
    #[arg(long)]
    pub exclude_path: Option<String>,

    /// Only relative paths matching these regular expressions, `;`-separated.
    #[arg(long)]
    pub include_regex: Option<String>,

    /// Leave out relative paths matching these regular expressions, `;`-separated.
    #[arg(long)]
    pub exclude_regex: Option<String>,

    /// Only objects modified at or after this ISO 8601 time (`2024-05-01T12:00:00Z`, or a date for UTC midnight).
    #[arg(long)]
    pub include_after: Option<String>,

    /// Only objects modified at or before this ISO 8601 time.
    #[arg(long)]
    pub include_before: Option<String>,

    /// A file of relative paths to cover, one per line (files, or directories with everything below).
    #[arg(long)]
    pub list_of_files: Option<std::path::PathBuf>,

    /// Only objects at least this large (`500`, `10KiB`, `1.5GB`).
    #[arg(long)]
    pub min_size: Option<String>,

    /// Only objects at most this large.
    #[arg(long)]
    pub max_size: Option<String>,
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
}

/// `ferry jobs remove`.
#[derive(Debug, Args)]
pub struct JobsRemoveArgs {
    /// The job id.
    pub job_id: String,
}

/// `--compare-hash` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompareHashArg {
    /// Compare times and sizes.
    None,
    /// Compare stored MD5s where both sides have one.
    #[value(name = "MD5")]
    Md5,
}

/// `--delete-destination` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeleteDestinationArg {
    /// Keep extras (the default).
    False,
    /// Delete objects the source does not have, after the guards.
    True,
    /// Ask for each (not supported yet).
    Prompt,
}

/// `ferry sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The source directory, container or virtual directory.
    pub source: String,
    /// The destination directory, container or virtual directory.
    pub destination: String,

    /// Include subdirectories (the default).
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = true, default_missing_value = "true")]
    pub recursive: bool,

    /// Delete destination objects the source does not have (after filters): true, false, prompt.
    #[arg(long, value_enum, ignore_case = true, default_value = "false")]
    pub delete_destination: DeleteDestinationArg,

    /// Allow deleting even when the source is empty (a guard against wiping a destination by
    /// syncing from the wrong, empty place).
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub force_delete: bool,

    /// Abort the deletion phase if it would delete more than this many objects, or this share of
    /// the destination (`500` or `5%`).
    #[arg(long)]
    pub max_delete: Option<String>,

    /// How objects on both sides are compared: None (time and size) or MD5.
    #[arg(long, value_enum, ignore_case = true, default_value = "None")]
    pub compare_hash: CompareHashArg,

    /// Copy every object present on both sides, without comparing.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub mirror_mode: bool,

    /// Print what would be copied and deleted, with the reason, and change nothing.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub dry_run: bool,

    /// After the sync, verify both sides (as `ferry verify --compute-hash`); exit 3 on differences.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub verify: bool,

    /// Store each uploaded file's MD5 as its Content-MD5.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub put_md5: bool,

    /// How downloads are checked against the stored Content-MD5.
    #[arg(long, value_enum, ignore_case = true, default_value = "FailIfDifferent")]
    pub check_md5: CheckMd5Arg,

    /// Block size in MiB.
    #[arg(long)]
    pub block_size_mb: Option<f64>,

    /// The kinds of source and destination: LocalBlob, BlobLocal, BlobBlob, LocalLocal.
    #[arg(long)]
    pub from_to: Option<String>,

    /// Which objects to cover (on both sides).
    #[command(flatten)]
    pub filters: FilterArgs,
}

/// `ferry verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The source directory, container or virtual directory.
    pub source: String,
    /// The destination to check against it.
    pub destination: String,

    /// Read and hash objects that have no stored MD5 (on either side), so every pair can be compared.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub compute_hash: bool,

    /// Where to write the report files (default: the log folder).
    #[arg(long)]
    pub report_dir: Option<std::path::PathBuf>,

    /// Include subdirectories (the default).
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = true, default_missing_value = "true")]
    pub recursive: bool,

    /// The kinds of source and destination: LocalBlob, BlobLocal, BlobBlob, LocalLocal.
    #[arg(long)]
    pub from_to: Option<String>,

    /// Which objects to cover (on both sides).
    #[command(flatten)]
    pub filters: FilterArgs,
}

/// `--delete-snapshots` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeleteSnapshotsArg {
    /// Delete the blob and its snapshots.
    Include,
    /// Delete only the snapshots, keeping the blob.
    Only,
}

/// `ferry remove`.
#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// A blob, virtual directory or container URL.
    pub url: String,

    /// Remove everything under a virtual directory or container.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub recursive: bool,

    /// Print what would be removed (`DRYRUN: remove URL`) and remove nothing.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub dry_run: bool,

    /// What to do with snapshots: include (delete them too) or only (delete just the snapshots).
    #[arg(long, value_enum, ignore_case = true)]
    pub delete_snapshots: Option<DeleteSnapshotsArg>,

    /// Accepted for AzCopy compatibility: BlobTrash.
    #[arg(long)]
    pub from_to: Option<String>,

    /// Which blobs to remove.
    #[command(flatten)]
    pub filters: FilterArgs,
}

const BENCH_EXAMPLES: &str = "Examples:
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
}
