//! Flag groups several commands share, each declared once. Their names, spellings and defaults
//! are AzCopy's. A flag whose subject Ferry does not have yet (Azure Files, NFS, Windows) is still
//! recognised; `crate::refusals` turns a value that would need it into a clear usage error.

use clap::{ArgAction, Args, ValueEnum};

use super::CheckMd5Arg;

/// How data is cut into blocks and checked (copy, sync).
#[derive(Debug, Args)]
pub struct BlockArgs {
    /// Block size in MiB (decimals allowed). Default: 8, grown as needed to stay within 50,000 blocks.
    #[arg(long)]
    pub block_size_mb: Option<f64>,

    /// Files up to this many MiB are uploaded with one Put Blob. Default: the block size.
    #[arg(long)]
    pub put_blob_size_mb: Option<f64>,

    /// Compute each file's MD5 while uploading and store it as the blob's Content-MD5.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub put_md5: bool,

    /// How downloads are checked against the stored Content-MD5.
    #[arg(long, value_enum, ignore_case = true, default_value = "FailIfDifferent")]
    pub check_md5: CheckMd5Arg,
}

/// `--hardlinks` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HardlinksArg {
    /// Copy each hard link as the file it is (the default).
    Follow,
    /// Leave out files with more than one link.
    Skip,
    /// Recreate the links at the destination (NFS).
    Preserve,
}

/// `--server-side-copy` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServerSideArg {
    /// Server-side when the destination service can reach the source; else through Ferry.
    Auto,
    /// Always server-side: a source the destination cannot reach fails its item.
    Always,
    /// Always through Ferry (read from the source, written to the destination).
    Never,
}

/// `--posix-properties-style` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PosixStyleArg {
    /// AzCopy's metadata names.
    Standard,
    /// Azure Managed Lustre's names.
    Amlfs,
}

/// `--trailing-dot` values (Azure Files names ending in a dot).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TrailingDotArg {
    /// Keep trailing dots where both sides can (the default).
    Enable,
    /// The old handling, where the file service trims them.
    Disable,
    /// Transfer them even to places that cannot hold them.
    #[value(name = "AllowToUnsafeDestination")]
    AllowToUnsafeDestination,
}

/// How local files, links and their properties are treated (copy, sync).
#[derive(Debug, Args)]
pub struct LocalFsArgs {
    /// Follow symbolic links when uploading (by default they are skipped and counted).
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub follow_symlinks: bool,

    /// Store symbolic links themselves (as AzCopy does: the target path as content, `is_symlink` metadata).
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub preserve_symlinks: bool,

    /// Hard links: follow (copy each as a file), skip, preserve (NFS).
    #[arg(long, value_enum, ignore_case = true, default_value = "follow")]
    pub hardlinks: HardlinksArg,

    /// Treat blobs with `hdi_isfolder=true` metadata (folder stubs) as objects.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub include_directory_stub: bool,

    /// Keep POSIX properties (times, mode, owner) in blob metadata and restore them on download.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub preserve_posix_properties: bool,

    /// The metadata names for POSIX properties: standard or amlfs.
    #[arg(long, value_enum, ignore_case = true, default_value = "standard")]
    pub posix_properties_style: PosixStyleArg,

    /// Keep SMB or NFS properties between places that have them (Azure Files, Windows).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub preserve_info: Option<bool>,

    /// Keep ACLs between places that have them (Azure Files, ADLS Gen2, Windows).
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub preserve_permissions: bool,

    /// Windows only: only files with these attributes (`A;S;R`).
    #[arg(long)]
    pub include_attributes: Option<String>,

    /// Windows only: leave out files with these attributes.
    #[arg(long)]
    pub exclude_attributes: Option<String>,

    /// Azure Files and Windows: overwrite or delete read-only files.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub force_if_read_only: bool,

    /// Azure Files names ending in a dot: Enable, Disable, AllowToUnsafeDestination.
    #[arg(long, value_enum, ignore_case = true, default_value = "Enable")]
    pub trailing_dot: TrailingDotArg,

    /// AzCopy's old name for --preserve-info.
    #[arg(long, hide = true, num_args = 0..=1, default_missing_value = "true")]
    pub preserve_smb_info: Option<bool>,

    /// AzCopy's old name for --preserve-permissions.
    #[arg(long, hide = true, num_args = 0..=1, default_missing_value = "true")]
    pub preserve_smb_permissions: Option<bool>,

    /// AzCopy's hidden work-around: delete a destination blob with uncommitted blocks first.
    #[arg(long, hide = true, num_args = 0..=1, default_missing_value = "true")]
    pub delete_destination_file: Option<bool>,

    /// AzCopy's removed filter; use --include-pattern.
    #[arg(long, hide = true)]
    pub include: Option<String>,

    /// AzCopy's removed filter; use --exclude-pattern.
    #[arg(long, hide = true)]
    pub exclude: Option<String>,
}

/// What a Blob-to-Blob copy keeps (copy, sync).
#[derive(Debug, Args)]
pub struct S2sArgs {
    /// Keep each blob's access tier (Hot, Cool, Cold, Archive).
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = true, default_missing_value = "true")]
    pub s2s_preserve_access_tier: bool,

    /// Keep each blob's index tags.
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub s2s_preserve_blob_tags: bool,

    /// Copies between services (S3 or Blob to Blob): made by the destination reading the source
    /// by URL (`auto`: unless the source is on this machine or a private network, or the
    /// destination cannot reach it), `always`, or `never` (through Ferry). Ferry's own flag.
    #[arg(long, value_enum, ignore_case = true, default_value_t = ServerSideArg::Auto)]
    pub server_side_copy: ServerSideArg,
}

/// Customer-provided encryption keys (copy, sync, remove).
#[derive(Debug, Args)]
pub struct CpkArgs {
    /// An encryption scope to write with (and read from).
    #[arg(long)]
    pub cpk_by_name: Option<String>,

    /// Encrypt with the key in CPK_ENCRYPTION_KEY (and its SHA-256 in CPK_ENCRYPTION_KEY_SHA256).
    #[arg(long, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub cpk_by_value: bool,
}

/// AzCopy's flags for every command that are about the process rather than the job: version
/// checks and its test and debugging hooks.
#[derive(Debug, Args)]
pub struct ProcessArgs {
    /// Check for a newer release (Ferry says which AzCopy release its surface matches; it never
    /// calls out to a release feed).
    #[arg(long, global = true, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub check_version: bool,

    /// Deprecated by AzCopy; accepted and ignored.
    #[arg(long, global = true, hide = true, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub skip_version_check: bool,

    /// Testing: wait for a line `continue` on standard input before starting any work.
    #[arg(long, global = true, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub await_continue: bool,

    /// Testing: wait for a line `open` on standard input after scanning, before the first file is opened.
    #[arg(long, global = true, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub await_open: bool,

    /// Testing: relative paths (`;`-separated) at which AzCopy's engine cancels the job.
    #[arg(long, global = true)]
    pub debug_skip_files: Option<String>,

    /// Stop the job when a line `cancel` arrives on standard input (for callers without signals).
    #[arg(long, global = true, hide = true, action = azcopy_bool!(), num_args = 0..=1, default_value_t = false, default_missing_value = "true")]
    pub cancel_from_stdin: bool,

    /// AzCopy's hidden change to the set of retried HTTP statuses.
    #[arg(long, global = true, hide = true)]
    pub retry_status_codes: Option<String>,

    /// AzCopy's hidden request priority (0-7).
    #[arg(long, global = true, hide = true)]
    pub request_priority: Option<i32>,

    /// AzCopy's hidden Go heap profile.
    #[arg(long, global = true, hide = true)]
    pub memory_profile: Option<String>,
}
