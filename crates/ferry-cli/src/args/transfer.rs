//! The commands that move or check data: copy, sync, verify, remove, and the flag groups they share.

use clap::{ArgAction, Args, ValueEnum};

use super::groups::{BlockArgs, CpkArgs, LocalFsArgs, S2sArgs, TrailingDotArg};

pub(super) const COPY_EXAMPLES: &str = "Examples:
  ferry copy ./photos 'https://ACCOUNT.blob.core.windows.net/CONTAINER?SAS' --recursive --put-md5
  ferry copy './photos/*' 'https://ACCOUNT.blob.core.windows.net/CONTAINER/2024?SAS' --recursive
  ferry copy 'https://ACCOUNT.blob.core.windows.net/CONTAINER/reports?SAS' ./restore --recursive
  ferry copy 'https://A.blob.core.windows.net/src?SAS' 'https://B.blob.core.windows.net/dst?SAS' --recursive
  ferry copy ./big.iso 'https://ACCOUNT.blob.core.windows.net/CONTAINER/big.iso?SAS' --block-size-mb 64
  ferry copy ./data /mnt/backup --recursive --dry-run

A directory (a local folder, a container, a virtual directory) needs --recursive and lands in a
subdirectory named after it (--as-subdir=false to drop it); `DIR/*` copies its contents.";

pub(super) const SYNC_EXAMPLES: &str = "Examples:
  ferry sync ./site 'https://ACCOUNT.blob.core.windows.net/$web?SAS'
  ferry sync ./site 'https://ACCOUNT.blob.core.windows.net/$web?SAS' --delete-destination true --dry-run
  ferry sync 'https://ACCOUNT.blob.core.windows.net/photos?SAS' /mnt/photos --compare-hash MD5
  ferry sync ./data 'https://ACCOUNT.blob.core.windows.net/backup?SAS' --delete-destination true --max-delete 5%

An object is copied when it is missing at the destination, when the source is newer, or when the sizes
differ (so a truncated copy is repaired). Deletions happen only after both listings completed without
error, never when the source is empty (unless --force-delete), and never beyond --max-delete.";

pub(super) const VERIFY_EXAMPLES: &str = "Examples:
  ferry verify ./restore 'https://ACCOUNT.blob.core.windows.net/backup?SAS' --compute-hash
  ferry verify 'https://A.blob.core.windows.net/src?SAS' 'https://B.blob.core.windows.net/dst?SAS' --report-dir ./evidence

Stored MD5s (Content-MD5) are compared where both sides have one; --compute-hash reads and hashes the
objects that lack one (local files always do). Exit codes: 0 identical, 3 differences found, 1 failure.";

pub(super) const SET_PROPERTIES_EXAMPLES: &str = "Examples:
  ferry set-properties 'https://ACCOUNT.blob.core.windows.net/CONTAINER/old.log?SAS' --block-blob-tier Cool
  ferry set-properties 'https://ACCOUNT.blob.core.windows.net/CONTAINER/2023?SAS' --recursive --block-blob-tier Archive --dry-run
  ferry set-properties 'https://ACCOUNT.blob.core.windows.net/CONTAINER/x.bin?SAS' --block-blob-tier Hot --rehydrate-priority High
  ferry set-properties 'https://ACCOUNT.blob.core.windows.net/CONTAINER?SAS' --recursive --metadata 'team=data;owner=ops'
  ferry set-properties 'https://ACCOUNT.blob.core.windows.net/CONTAINER?SAS' --recursive --blob-tags clear

--metadata and --blob-tags replace what each blob has (`clear` removes it all). Every change is a job:
`ferry jobs resume JOBID` finishes one that was interrupted, skipping the blobs already changed.";

pub(super) const REMOVE_EXAMPLES: &str = "Examples:
  ferry remove 'https://ACCOUNT.blob.core.windows.net/CONTAINER/old.log?SAS'
  ferry remove 'https://ACCOUNT.blob.core.windows.net/CONTAINER/logs/2023?SAS' --recursive --dry-run
  ferry remove 'https://ACCOUNT.blob.core.windows.net/CONTAINER?SAS' --recursive --include-pattern '*.tmp'

Every removal is a job: `ferry jobs resume JOBID` finishes one that was interrupted. Nothing matched is an error.";

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

    /// Fail an item whose source yields a different number of bytes than listed.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = true, default_missing_value = "true")]
    pub check_length: bool,

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

    /// The blob type written: Detect (the default: a copy keeps the source's type, an upload makes
    /// `.vhd`/`.vhdx` files page blobs), BlockBlob, PageBlob (sizes a multiple of 512; zero
    /// ranges are not sent), AppendBlob.
    #[arg(long, default_value = "Detect")]
    pub blob_type: String,

    /// Access tier for uploaded page blobs (premium accounts): P4 … P50.
    #[arg(long)]
    pub page_blob_tier: Option<String>,

    /// Leave out blobs of these types (`BlockBlob;PageBlob;AppendBlob`).
    #[arg(long)]
    pub exclude_blob_type: Option<String>,

    /// Account-to-account copies: leave out these containers (`;`-separated).
    #[arg(long)]
    pub exclude_container: Option<String>,

    /// A file of version ids of the one source blob, one per line: copy those versions.
    #[arg(long)]
    pub list_of_versions: Option<std::path::PathBuf>,

    /// Downloads: inflate gzip/deflate content per its Content-Encoding (and drop `.gz`, `.zz`).
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub decompress: bool,

    /// Windows only: keep `%`-encoded illegal characters in names as they are.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub disable_auto_decoding: bool,

    /// Windows only: use SeBackupPrivilege / SeRestorePrivilege.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub backup: bool,

    /// Downloads with --preserve-permissions: keep owner and group.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = true, default_missing_value = "true")]
    pub preserve_owner: bool,

    /// Blob-to-Blob: keep content headers and metadata.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = true, default_missing_value = "true")]
    pub s2s_preserve_properties: bool,

    /// Blob-to-Blob: fail an item whose source changed while it was copied.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub s2s_detect_source_changed: bool,

    /// Metadata keys that are not valid on Azure (from S3 or GCS): ExcludeIfInvalid,
    /// FailIfInvalid, RenameIfInvalid. Blob sources' keys are always valid.
    #[arg(long, default_value = "ExcludeIfInvalid")]
    pub s2s_handle_invalid_metadata: String,

    /// AzCopy's hidden switch for fetching S3/Files properties in its engine.
    #[arg(long, hide = true, num_args = 0..=1, default_missing_value = "true")]
    pub s2s_get_properties_in_backend: Option<bool>,

    /// AzCopy's hidden ADLS flush batching.
    #[arg(long, hide = true)]
    pub flush_threshold: Option<u64>,

    /// Block sizes and MD5s.
    #[command(flatten)]
    pub blocks: BlockArgs,

    /// Local links and properties.
    #[command(flatten)]
    pub local: LocalFsArgs,

    /// What a Blob-to-Blob copy keeps.
    #[command(flatten)]
    pub s2s: S2sArgs,

    /// Customer-provided keys.
    #[command(flatten)]
    pub cpk: CpkArgs,

    /// A sharded run's evidence: DIR/RUN-ID/run.json and each shard's manifest.
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<std::path::PathBuf>,

    /// When the job ends, write its evidence here (hash-chained JSON Lines, or CSV for a name
    /// ending in .csv): every object with its outcome, size and MD5 (`ferry jobs evidence`).
    #[arg(long, value_name = "FILE")]
    pub evidence: Option<std::path::PathBuf>,

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

    /// Running on many machines: which shard of the run this is.
    #[command(flatten)]
    pub shards: ShardArgs,
}

/// Running one transfer as shards on many machines (a Slurm array, a Kubernetes Indexed Job).
#[derive(Debug, Args, Default)]
pub struct ShardArgs {
    /// This is shard K of N (`3/16`, counted from 0): only names whose hash (rclone's
    /// `--hash-filter`) falls in it.
    #[arg(long, value_name = "K/N", conflicts_with = "shards")]
    pub shard: Option<String>,

    /// N shards, K read from FERRY_SHARD_INDEX, JOB_COMPLETION_INDEX (Kubernetes) or
    /// SLURM_ARRAY_TASK_ID (Slurm), the first set.
    #[arg(long, value_name = "N")]
    pub shards: Option<u64>,

    /// A range plan (`ferry shards plan`): shard K holds the plan's Kth range of names and lists
    /// only that; N is the plan's number of ranges, K as for --shards (or --shard K/N).
    #[arg(long, value_name = "PLAN.json")]
    pub shard_plan: Option<std::path::PathBuf>,

    /// The run the shards belong to (required with --shard/--shards); the shard's job id follows
    /// from it, so running the same command again resumes the shard.
    #[arg(long, env = "FERRY_RUN_ID", value_name = "ID")]
    pub run_id: Option<String>,
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

/// `--delete-phase` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeletePhaseArg {
    /// One guarded commit after every shard (`ferry shards commit`).
    Deferred,
    /// Each shard deletes its own extras.
    Inline,
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

    /// When a sharded sync deletes: `deferred` (the default), each shard records its extras in
    /// --report-dir and `ferry shards commit` deletes them once, behind the run's guards;
    /// `inline`, each shard deletes the extras among its own names (guards per shard).
    #[arg(long, value_enum, ignore_case = true)]
    pub delete_phase: Option<DeletePhaseArg>,

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

    /// The kinds of source and destination: LocalBlob, BlobLocal, BlobBlob, LocalLocal.
    #[arg(long)]
    pub from_to: Option<String>,

    /// Where hashes of local files are cached for --compare-hash MD5: HiddenFiles, XAttr.
    #[arg(long)]
    pub local_hash_storage_mode: Option<String>,

    /// With --local-hash-storage-mode=HiddenFiles, a separate folder for the hash files.
    #[arg(long)]
    pub hash_meta_dir: Option<std::path::PathBuf>,

    /// With a --preserve-* flag, also keep the root folder's properties.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub include_root: bool,

    /// Block sizes and MD5s.
    #[command(flatten)]
    pub blocks: BlockArgs,

    /// Local links and properties.
    #[command(flatten)]
    pub local: LocalFsArgs,

    /// What a Blob-to-Blob sync keeps.
    #[command(flatten)]
    pub s2s: S2sArgs,

    /// Customer-provided keys.
    #[command(flatten)]
    pub cpk: CpkArgs,

    /// A sharded run's evidence: DIR/RUN-ID/run.json and each shard's manifest.
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<std::path::PathBuf>,

    /// When the job ends, write its evidence here (hash-chained JSON Lines, or CSV for a name
    /// ending in .csv): every object with its outcome, size and MD5 (`ferry jobs evidence`).
    #[arg(long, value_name = "FILE")]
    pub evidence: Option<std::path::PathBuf>,

    /// Which objects to cover (on both sides).
    #[command(flatten)]
    pub filters: FilterArgs,
}

/// `ferry verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The source directory, container or virtual directory.
    #[arg(required_unless_present = "merge")]
    pub source: Option<String>,
    /// The destination to check against it.
    #[arg(required_unless_present = "merge")]
    pub destination: Option<String>,

    /// Merge the verifications of a sharded run (`--shard`, `--run-id`, `--report-dir DIR`) in
    /// DIR/RUN-ID into one report: every shard there, each name in its own shard only; exit 0
    /// when identical, 3 otherwise.
    #[arg(long, value_name = "DIR/RUN-ID", conflicts_with_all = ["source", "destination"])]
    pub merge: Option<std::path::PathBuf>,

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

    /// A file of version ids of the one blob named, one per line: delete those versions.
    #[arg(long)]
    pub list_of_versions: Option<std::path::PathBuf>,

    /// Delete soft-deleted snapshots or versions for good: none, snapshots, versions, snapshotsandversions.
    #[arg(long, default_value = "none")]
    pub permanent_delete: String,

    /// Azure Files and Windows: delete read-only files.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub force_if_read_only: bool,

    /// Azure Files names ending in a dot: Enable, Disable, AllowToUnsafeDestination.
    #[arg(long, value_enum, ignore_case = true, default_value = "Enable")]
    pub trailing_dot: TrailingDotArg,

    /// Customer-provided keys.
    #[command(flatten)]
    pub cpk: CpkArgs,

    /// A sharded run's evidence: DIR/RUN-ID/run.json and each shard's manifest.
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<std::path::PathBuf>,

    /// Which blobs to remove.
    #[command(flatten)]
    pub filters: FilterArgs,
}

/// `ferry set-properties`.
#[derive(Debug, Args)]
pub struct SetPropertiesArgs {
    /// A blob, virtual directory or container URL.
    pub url: String,

    /// Change everything under a virtual directory or container.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub recursive: bool,

    /// The access tier to set on block blobs: Hot, Cool, Cold, Archive.
    #[arg(long)]
    pub block_blob_tier: Option<String>,

    /// The access tier to set on page blobs (premium accounts): P4 … P80.
    #[arg(long)]
    pub page_blob_tier: Option<String>,

    /// For blobs leaving Archive: Standard (the default) or High.
    #[arg(long)]
    pub rehydrate_priority: Option<String>,

    /// Metadata that replaces each blob's: `name=value;name2=value2`, or `clear`.
    #[arg(long)]
    pub metadata: Option<String>,

    /// Index tags that replace each blob's: `key=value&key2=value2`, or `clear`.
    #[arg(long)]
    pub blob_tags: Option<String>,

    /// Print what would be changed (`DRYRUN: set-properties URL`) and change nothing.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub dry_run: bool,

    /// Accepted for AzCopy compatibility: BlobNone (or BlobFSNone).
    #[arg(long)]
    pub from_to: Option<String>,

    /// Azure Files names ending in a dot: Enable, Disable, AllowToUnsafeDestination.
    #[arg(long, value_enum, ignore_case = true, default_value = "Enable")]
    pub trailing_dot: TrailingDotArg,

    /// A sharded run's evidence: DIR/RUN-ID/run.json and each shard's manifest.
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<std::path::PathBuf>,

    /// Which blobs to change.
    #[command(flatten)]
    pub filters: FilterArgs,
}
