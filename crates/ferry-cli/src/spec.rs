//! From what the user typed to what a job is: pure functions from parsed flags to a
//! [`JobSpec`] (plus the SAS tokens taken off its URLs, which are secrets and kept apart).
//! Nothing here opens a store; the only I/O is reading `--list-of-files`.

use ferry_core::{Location, LocationHint, LocationKind, SasToken};
use ferry_engine::{ObjectType, Overwrite};
use ferry_job::{
    CopySpec, DeleteMode, Endpoint, JobKind, JobSpec, MaxDelete, RemoveSpec, SetPropertiesSpec, SyncSpec,
    TransferPolicy, VerifySpec,
};
use ferry_plan::{ComparePolicy, Filter, FilterSpec, parse_size};
use ferry_store::WriteOptions;

use crate::CliError;
use crate::args::{
    BlockArgs, CpkArgs, LocalFsArgs, PosixStyleArg, RemoveArgs, SetPropertiesArgs, SyncArgs, VerifyArgs,
};
use crate::args::{CompareHashArg, CopyArgs, DeleteDestinationArg, DeleteSnapshotsArg, FilterArgs, OverwriteArg};

/// A job, and the SAS tokens that were on its URLs (source, destination).
pub(crate) type Made = (JobSpec, [Option<SasToken>; 2]);

const MIB: f64 = 1024.0 * 1024.0;

/// The location hints for a source and destination from an optional `--from-to`.
fn location_hints(from_to_flag: Option<&str>) -> Result<(LocationHint, LocationHint), CliError> {
    let Some(text) = from_to_flag else { return Ok((LocationHint::Infer, LocationHint::Infer)) };
    // ADLS Gen2 (BlobFS) goes through the account's Blob endpoint, as AzCopy does.
    // Azure Files is `File` or (10.3x) `FileSMB`.
    let (s, d) = match text.to_ascii_lowercase().replace("blobfs", "blob").replace("filesmb", "file").as_str() {
        "localblob" => (LocationKind::Local, LocationKind::Blob),
        "bloblocal" => (LocationKind::Blob, LocationKind::Local),
        "blobblob" => (LocationKind::Blob, LocationKind::Blob),
        "locallocal" => (LocationKind::Local, LocationKind::Local),
        "s3blob" => (LocationKind::S3, LocationKind::Blob),
        "s3local" => (LocationKind::S3, LocationKind::Local),
        "locals3" => (LocationKind::Local, LocationKind::S3),
        "blobs3" => (LocationKind::Blob, LocationKind::S3),
        "s3s3" => (LocationKind::S3, LocationKind::S3),
        "gcpblob" => (LocationKind::Gcs, LocationKind::Blob),
        "gcplocal" => (LocationKind::Gcs, LocationKind::Local),
        "localfile" => (LocationKind::Local, LocationKind::Files),
        "filelocal" => (LocationKind::Files, LocationKind::Local),
        "filefile" => (LocationKind::Files, LocationKind::Files),
        "blobfile" => (LocationKind::Blob, LocationKind::Files),
        "fileblob" => (LocationKind::Files, LocationKind::Blob),
        _ => {
            return Err(CliError::usage(format!("--from-to `{text}` is not supported")).with_hint(
                "use LocalBlob, BlobLocal, BlobBlob, LocalLocal, S3Blob, S3Local, LocalS3, BlobS3, S3S3, GCPBlob, GCPLocal, LocalFileSMB, FileSMBLocal, FileSMBFileSMB, BlobFileSMB, FileSMBBlob, or BlobFS in place of Blob",
            ));
        }
    };
    Ok((LocationHint::Known(s), LocationHint::Known(d)))
}

/// The two endpoints of a command, and their SAS tokens.
fn endpoints(
    source: &str,
    destination: &str,
    from_to: Option<&str>,
) -> Result<(Endpoint, Endpoint, [Option<SasToken>; 2]), CliError> {
    let (source_hint, dest_hint) = location_hints(from_to)?;
    let (source, source_sas) = Endpoint::from_location(&Location::parse(source, source_hint)?);
    let (destination, dest_sas) = Endpoint::from_location(&Location::parse(destination, dest_hint)?);
    Ok((source, destination, [source_sas, dest_sas]))
}

/// The source of a command, and its SAS (`--from-to` gives its kind for hosts Ferry cannot
/// recognise).
pub(crate) fn source_endpoint(source: &str, from_to: Option<&str>) -> Result<(Endpoint, Option<SasToken>), CliError> {
    let (hint, _) = location_hints(from_to)?;
    Ok(Endpoint::from_location(&Location::parse(source, hint)?))
}

/// A size flag in MiB, in bytes, within the service's limits: a block is at most 4,000 MiB, a
/// single Put Blob at most 5,000 MiB.
pub(crate) fn mib(value: Option<f64>, flag: &str) -> Result<Option<u64>, CliError> {
    let most = if flag == "--put-blob-size-mb" { 5000.0 } else { 4000.0 };
    match value {
        None => Ok(None),
        Some(v) if v.is_finite() && v > most => {
            Err(CliError::usage(format!("{flag} is at most {most} MiB (the service's limit), not {v}")))
        }
        Some(v) if v.is_finite() && v > 0.0 =>
        {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Ok(Some((v * MIB).round() as u64))
        }
        Some(v) => Err(CliError::usage(format!("{flag} must be a positive number of MiB, not {v}"))),
    }
}

/// `spec` with the customer-provided encryption the flags ask for (the key is never recorded).
fn encrypted(mut spec: JobSpec, args: &CpkArgs) -> Result<JobSpec, CliError> {
    spec.encryption = match (&args.cpk_by_name, args.cpk_by_value) {
        (Some(_), true) => {
            return Err(CliError::usage("--cpk-by-name and --cpk-by-value cannot be used together"));
        }
        (Some(scope), false) => Some(ferry_job::Encryption::Scope(scope.clone())),
        (None, true) => Some(ferry_job::Encryption::KeyFromEnvironment),
        (None, false) => None,
    };
    Ok(spec)
}

/// `--preserve-info` (or its old name `--preserve-smb-info`): on unless turned off.
fn preserve_smb_info(args: &LocalFsArgs) -> bool {
    args.preserve_info.or(args.preserve_smb_info).unwrap_or(true)
}

/// `--preserve-permissions` (or its old name `--preserve-smb-permissions`).
fn preserve_permissions(args: &LocalFsArgs) -> bool {
    args.preserve_permissions || args.preserve_smb_permissions == Some(true)
}

/// The Azure Files flags: `--trailing-dot` (kept unless `Disable`), `--force-if-read-only`.
fn files_flags(args: &LocalFsArgs) -> ferry_job::FilesFlags {
    ferry_job::FilesFlags {
        trailing_dot: args.trailing_dot != crate::args::TrailingDotArg::Disable,
        force_if_read_only: args.force_if_read_only,
    }
}

/// The POSIX properties style, when `--preserve-posix-properties` asks for them.
fn posix_style(args: &LocalFsArgs) -> Result<Option<ferry_store::PosixStyle>, CliError> {
    let style = match args.posix_properties_style {
        PosixStyleArg::Standard => ferry_store::PosixStyle::Standard,
        PosixStyleArg::Amlfs => ferry_store::PosixStyle::Amlfs,
    };
    match (args.preserve_posix_properties, args.posix_properties_style) {
        (true, _) => Ok(Some(style)),
        (false, PosixStyleArg::Standard) => Ok(None),
        (false, PosixStyleArg::Amlfs) => {
            Err(CliError::usage("--posix-properties-style needs --preserve-posix-properties"))
        }
    }
}

/// The transfer policy's block sizes and MD5 handling, the rest default.
fn block_policy(args: &BlockArgs) -> Result<TransferPolicy, CliError> {
    Ok(TransferPolicy {
        block_size: mib(args.block_size_mb, "--block-size-mb")?,
        put_blob_size: mib(args.put_blob_size_mb, "--put-blob-size-mb")?,
        put_md5: args.put_md5,
        check_md5: args.check_md5.into(),
        ..TransferPolicy::default()
    })
}

/// `name=value` pairs separated by `separator`, as `flag` takes them.
fn pairs(
    text: &str,
    separator: char,
    flag: &str,
    example: &str,
) -> Result<std::collections::BTreeMap<String, String>, CliError> {
    let mut out = std::collections::BTreeMap::new();
    for pair in text.split(separator).filter(|p| !p.trim().is_empty()) {
        let (name, value) = pair.split_once('=').ok_or_else(|| {
            CliError::usage(format!(
                "{flag} `{pair}` is not `{}`",
                if separator == ';' { "name=value" } else { "key=value" }
            ))
            .with_hint(format!("write {flag} '{example}'"))
        })?;
        let name = if separator == ';' { name.trim() } else { name };
        out.insert(name.to_owned(), value.to_owned());
    }
    Ok(out)
}

fn write_options(args: &CopyArgs) -> Result<WriteOptions, CliError> {
    let mut write = WriteOptions::default();
    write.headers.content_type = args.content_type.clone();
    write.headers.content_encoding = args.content_encoding.clone();
    write.headers.content_disposition = args.content_disposition.clone();
    write.headers.content_language = args.content_language.clone();
    write.headers.cache_control = args.cache_control.clone();
    if let Some(text) = &args.metadata {
        write.metadata = pairs(text, ';', "--metadata", "k1=v1;k2=v2")?;
    }
    if let Some(text) = &args.blob_tags {
        write.tags = pairs(text, '&', "--blob-tags", "k1=v1&k2=v2")?;
        if write.tags.len() > 10 {
            return Err(CliError::usage("--blob-tags: a blob takes at most 10 tags"));
        }
    }
    if let Some(tier) = &args.block_blob_tier {
        let known = ["Hot", "Cool", "Cold", "Archive"];
        match known.iter().find(|t| t.eq_ignore_ascii_case(tier)) {
            Some(t) => write.access_tier = Some((*t).to_owned()),
            None if tier.eq_ignore_ascii_case("None") => {}
            None => {
                return Err(CliError::usage(format!(
                    "--block-blob-tier `{tier}` is not one of Hot, Cool, Cold, Archive, None"
                )));
            }
        }
    }
    Ok(write)
}

/// The filter flags, checked (patterns compile, dates and sizes parse) and with the lines of
/// `--list-of-files` read in.
pub(crate) fn filter_spec(args: &FilterArgs) -> Result<FilterSpec, CliError> {
    let size = |value: &Option<String>, flag: &str| {
        value.as_deref().map(parse_size).transpose().map_err(|e| CliError::usage(format!("{flag}: {e}")))
    };
    let mut include_paths = FilterSpec::split_list(args.include_path.as_deref());
    if let Some(file) = &args.list_of_files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| CliError::usage(format!("--list-of-files: cannot read `{}`: {e}", file.display())))?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        include_paths.extend(text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned));
        if include_paths.is_empty() {
            return Err(CliError::usage(format!("--list-of-files: `{}` lists no paths", file.display())));
        }
    }
    let spec = FilterSpec {
        include_patterns: FilterSpec::split_list(args.include_pattern.as_deref()),
        exclude_patterns: FilterSpec::split_list(args.exclude_pattern.as_deref()),
        include_paths,
        exclude_paths: FilterSpec::split_list(args.exclude_path.as_deref()),
        include_regex: FilterSpec::split_list(args.include_regex.as_deref()),
        exclude_regex: FilterSpec::split_list(args.exclude_regex.as_deref()),
        include_after: args.include_after.clone(),
        include_before: args.include_before.clone(),
        min_size: size(&args.min_size, "--min-size")?,
        max_size: size(&args.max_size, "--max-size")?,
        ..FilterSpec::default()
    };
    Filter::new(&spec).map_err(|e| CliError::usage(e.to_string()))?;
    Ok(spec)
}

/// The version ids in a `--list-of-versions` file, one per line (blank lines passed over).
fn version_list(file: Option<&std::path::Path>) -> Result<Vec<String>, CliError> {
    let Some(file) = file else { return Ok(Vec::new()) };
    let text = std::fs::read_to_string(file)
        .map_err(|e| CliError::usage(format!("--list-of-versions: cannot read `{}`: {e}", file.display())))?;
    let versions: Vec<String> = text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
    if versions.is_empty() {
        return Err(CliError::usage(format!("--list-of-versions: `{}` lists no version ids", file.display()))
            .with_hint("write one version id per line, as `ferry list --properties VersionId` shows them"));
    }
    if let Some(bad) = versions.iter().find(|v| v.contains(['/', '?', '&', '#'])) {
        return Err(CliError::usage(format!("--list-of-versions: `{bad}` is not a version id"))
            .with_hint("a version id is a time such as 2026-11-30T18:00:00.1234567Z"));
    }
    Ok(versions)
}

/// `--permanent-delete`: none (the default), snapshots, versions or snapshotsandversions.
fn permanent_delete(text: &str) -> Result<Option<ferry_job::PermanentDelete>, CliError> {
    use ferry_job::PermanentDelete;
    match text.to_ascii_lowercase().as_str() {
        "" | "none" => Ok(None),
        "snapshots" => Ok(Some(PermanentDelete::Snapshots)),
        "versions" => Ok(Some(PermanentDelete::Versions)),
        "snapshotsandversions" => Ok(Some(PermanentDelete::SnapshotsAndVersions)),
        _ => Err(CliError::usage(format!(
            "--permanent-delete `{text}` is not one of none, snapshots, versions, snapshotsandversions"
        ))),
    }
}

/// `--server-side-copy`.
fn server_side(arg: crate::args::ServerSideArg) -> ferry_engine::ServerSide {
    match arg {
        crate::args::ServerSideArg::Auto => ferry_engine::ServerSide::Auto,
        crate::args::ServerSideArg::Always => ferry_engine::ServerSide::Always,
        crate::args::ServerSideArg::Never => ferry_engine::ServerSide::Never,
    }
}

/// `ferry copy`.
pub(crate) fn copy(args: &CopyArgs, display: String) -> Result<Made, CliError> {
    crate::refusals::copy(args)?;
    let (source, destination, sas) = endpoints(&args.source, &args.destination, args.from_to.as_deref())?;
    let object_type = match args.blob_type.to_ascii_lowercase().as_str() {
        "blockblob" => ObjectType::Block,
        "pageblob" => ObjectType::Page,
        "appendblob" => ObjectType::Append,
        "detect" => ObjectType::Detect,
        _ => {
            return Err(CliError::usage(format!(
                "--blob-type `{}` is not one of Detect, BlockBlob, PageBlob, AppendBlob",
                args.blob_type
            )));
        }
    };
    let page_tier = tier(None, args.page_blob_tier.as_deref())?;
    let overwrite = match args.overwrite {
        OverwriteArg::True => Overwrite::True,
        OverwriteArg::False => Overwrite::False,
        OverwriteArg::IfSourceNewer => Overwrite::IfSourceNewer,
        OverwriteArg::Prompt => Overwrite::Prompt,
    };
    let write = write_options(args)?;
    let filter = FilterSpec {
        exclude_blob_types: FilterSpec::split_list(args.exclude_blob_type.as_deref()),
        include_directory_stubs: args.local.include_directory_stub,
        ..filter_spec(&args.filters)?
    };
    Filter::new(&filter).map_err(|e| CliError::usage(e.to_string()))?;
    let policy = TransferPolicy {
        check_length: args.check_length,
        overwrite,
        preserve_last_modified: args.preserve_last_modified_time,
        guess_mime_type: !args.no_guess_mime_type,
        write,
        preserve_access_tier: args.s2s.s2s_preserve_access_tier,
        preserve_symlinks: args.local.preserve_symlinks,
        object_type,
        page_tier,
        posix: posix_style(&args.local)?,
        preserve_blob_tags: args.s2s.s2s_preserve_blob_tags,
        detect_source_changed: args.s2s_detect_source_changed,
        preserve_properties: args.s2s_preserve_properties,
        decompress: args.decompress,
        server_side: server_side(args.s2s.server_side_copy),
        preserve_smb_info: preserve_smb_info(&args.local),
        preserve_permissions: preserve_permissions(&args.local),
        ..block_policy(&args.blocks)?
    };
    if args.decompress && args.verify {
        return Err(CliError::usage("--verify and --decompress cannot be used together")
            .with_hint("--verify compares the bytes as stored, which --decompress changes"));
    }
    if args.s2s.s2s_preserve_blob_tags && args.blob_tags.is_some() {
        return Err(CliError::usage("--blob-tags and --s2s-preserve-blob-tags cannot be used together")
            .with_hint("set the tags, or keep the source's"));
    }
    let copy = CopySpec {
        source,
        destination,
        recursive: args.recursive,
        as_subdir: args.as_subdir,
        filter,
        policy,
        dry_run: args.dry_run,
        verify: args.verify,
        exclude_containers: FilterSpec::split_list(args.exclude_container.as_deref()),
        follow_symlinks: args.local.follow_symlinks,
        skip_hardlinks: args.local.hardlinks == crate::args::HardlinksArg::Skip,
        versions: version_list(args.list_of_versions.as_deref())?,
        files: files_flags(&args.local),
        invalid_metadata: match args.s2s_handle_invalid_metadata.to_ascii_lowercase().as_str() {
            "failifinvalid" => ferry_job::InvalidMetadata::Fail,
            "renameifinvalid" => ferry_job::InvalidMetadata::Rename,
            _ => ferry_job::InvalidMetadata::Exclude,
        },
    };
    Ok((encrypted(JobSpec::new(display, JobKind::Copy(copy)), &args.cpk)?, sas))
}

/// `ferry sync`.
pub(crate) fn sync(args: &SyncArgs, display: String) -> Result<Made, CliError> {
    crate::refusals::sync(args)?;
    let (source, destination, sas) = endpoints(&args.source, &args.destination, args.from_to.as_deref())?;
    let max_delete = args.max_delete.as_deref().map(MaxDelete::parse).transpose()?;
    let filter =
        FilterSpec { include_directory_stubs: args.local.include_directory_stub, ..filter_spec(&args.filters)? };
    let compare = if args.mirror_mode {
        ComparePolicy::Mirror
    } else if args.compare_hash == CompareHashArg::Md5 {
        ComparePolicy::Md5
    } else {
        ComparePolicy::TimeAndSize
    };
    let delete = match args.delete_destination {
        DeleteDestinationArg::False => DeleteMode::Never,
        DeleteDestinationArg::True => DeleteMode::Extras,
        DeleteDestinationArg::Prompt => DeleteMode::Ask,
    };
    let policy = TransferPolicy {
        preserve_access_tier: args.s2s.s2s_preserve_access_tier,
        preserve_blob_tags: args.s2s.s2s_preserve_blob_tags,
        posix: posix_style(&args.local)?,
        preserve_symlinks: args.local.preserve_symlinks,
        server_side: server_side(args.s2s.server_side_copy),
        preserve_smb_info: preserve_smb_info(&args.local),
        preserve_permissions: preserve_permissions(&args.local),
        ..block_policy(&args.blocks)?
    };
    let sync = SyncSpec {
        source,
        destination,
        recursive: args.recursive,
        filter,
        compare,
        delete,
        max_delete,
        force_delete: args.force_delete,
        policy,
        dry_run: args.dry_run,
        verify: args.verify,
        follow_symlinks: args.local.follow_symlinks,
        skip_hardlinks: args.local.hardlinks == crate::args::HardlinksArg::Skip,
        files: files_flags(&args.local),
        deferred: None,
    };
    Ok((encrypted(JobSpec::new(display, JobKind::Sync(sync)), &args.cpk)?, sas))
}

/// `ferry remove`.
pub(crate) fn remove(args: &RemoveArgs, display: String) -> Result<Made, CliError> {
    crate::refusals::remove(args)?;
    let files = match args.from_to.as_deref() {
        None => ferry_core::FileUrl::is_files(&args.url),
        Some(v) if ["FileTrash", "FileSMBTrash"].iter().any(|t| t.eq_ignore_ascii_case(v)) => true,
        Some(v) if ["BlobTrash", "BlobFSTrash"].iter().any(|t| t.eq_ignore_ascii_case(v)) => false,
        Some(v) => {
            return Err(CliError::usage(format!(
                "--from-to `{v}` is not supported by remove; use BlobTrash or FileSMBTrash"
            )));
        }
    };
    let (target, sas) = if files {
        Endpoint::from_location(&Location::parse(&args.url, LocationHint::Known(LocationKind::Files))?)
    } else {
        blob_target(&args.url, "`ferry remove` removes blobs and Azure Files")?
    };
    if files && (args.list_of_versions.is_some() || args.delete_snapshots.is_some()) {
        return Err(CliError::usage("--list-of-versions and --delete-snapshots are about blobs, not Azure Files"));
    }
    let pointed = Location::parse(&args.url, LocationHint::Known(LocationKind::Blob))
        .is_ok_and(|l| l.as_blob().is_some_and(|u| u.point_in_time().is_some()));
    if pointed && args.delete_snapshots.is_some() {
        return Err(CliError::usage(
            "--delete-snapshots applies to a blob, and the URL names one of its snapshots or versions",
        )
        .with_hint("give the blob's URL to remove its snapshots, or leave --delete-snapshots out to remove this one"));
    }
    let remove = RemoveSpec {
        target,
        recursive: args.recursive,
        filter: filter_spec(&args.filters)?,
        delete_snapshots: args.delete_snapshots.map(|s| {
            match s {
                DeleteSnapshotsArg::Include => "include",
                DeleteSnapshotsArg::Only => "only",
            }
            .to_owned()
        }),
        dry_run: args.dry_run,
        versions: version_list(args.list_of_versions.as_deref())?,
        permanent_delete: permanent_delete(&args.permanent_delete)?,
        files: ferry_job::FilesFlags {
            trailing_dot: args.trailing_dot != crate::args::TrailingDotArg::Disable,
            force_if_read_only: args.force_if_read_only,
        },
    };
    if remove.permanent_delete.is_some() && (!remove.versions.is_empty() || remove.delete_snapshots.is_some()) {
        return Err(CliError::usage(
            "--permanent-delete purges soft-deleted snapshots and versions; it takes no --list-of-versions or --delete-snapshots",
        ));
    }
    if !remove.versions.is_empty() && (args.recursive || remove.delete_snapshots.is_some()) {
        return Err(CliError::usage(
            "--list-of-versions deletes versions of one blob; it takes no --recursive or --delete-snapshots",
        )
        .with_hint("give the blob's URL and the file of version ids only"));
    }
    Ok((encrypted(JobSpec::new(display, JobKind::Remove(remove)), &args.cpk)?, [sas, None]))
}

/// `ferry verify`.
pub(crate) fn verify(args: &VerifyArgs) -> Result<(VerifySpec, [Option<SasToken>; 2]), CliError> {
    let (source, destination) = (args.source.as_deref().unwrap_or_default(), args.destination.as_deref());
    let (source, destination, sas) = endpoints(source, destination.unwrap_or_default(), args.from_to.as_deref())?;
    let spec = VerifySpec {
        source,
        destination,
        recursive: args.recursive,
        filter: filter_spec(&args.filters)?,
        compute_hash: args.compute_hash,
        report_dir: args.report_dir.clone(),
        run_id: None,
        plan: None,
    };
    Ok((spec, sas))
}

/// The Blob URL a `remove` or `set-properties` works on (`what` says what the command does, for
/// a local path), and its SAS.
fn blob_target(url: &str, what: &str) -> Result<(Endpoint, Option<SasToken>), CliError> {
    let location = match Location::parse(url, LocationHint::Known(LocationKind::Blob))? {
        Location::Local(_) | Location::S3(_) | Location::Gcs(_) | Location::Files(_) => {
            return Err(CliError::usage(format!("{what}; give a Blob URL")));
        }
        blob @ Location::Blob(_) => blob,
    };
    if location.as_blob().is_some_and(|u| u.container().is_none()) {
        return Err(CliError::usage(format!("`{location}` names no container")));
    }
    Ok(Endpoint::from_location(&location))
}

/// The tier `set-properties` sets: a block blob's or a page blob's, one of the two.
fn tier(block: Option<&str>, page: Option<&str>) -> Result<Option<String>, CliError> {
    const BLOCK: [&str; 4] = ["Hot", "Cool", "Cold", "Archive"];
    const PAGE: [&str; 12] = ["P4", "P6", "P10", "P15", "P20", "P30", "P40", "P50", "P60", "P70", "P80", "None"];
    let pick = |value: &str, known: &[&str], flag: &str| {
        known
            .iter()
            .find(|t| t.eq_ignore_ascii_case(value))
            .map(|t| (*t).to_owned())
            .ok_or_else(|| CliError::usage(format!("{flag} `{value}` is not one of {}", known.join(", "))))
    };
    let block = block.filter(|t| !t.eq_ignore_ascii_case("None")).map(|t| pick(t, &BLOCK, "--block-blob-tier"));
    let page = page.filter(|t| !t.eq_ignore_ascii_case("None")).map(|t| pick(t, &PAGE, "--page-blob-tier"));
    match (block.transpose()?, page.transpose()?) {
        (Some(_), Some(_)) => Err(CliError::usage("give --block-blob-tier or --page-blob-tier, not both")),
        (block, page) => Ok(block.or(page)),
    }
}

/// `name=value` pairs, or `clear` for none.
fn replacement(
    text: Option<&str>,
    separator: char,
    flag: &str,
    example: &str,
) -> Result<Option<std::collections::BTreeMap<String, String>>, CliError> {
    match text {
        None => Ok(None),
        Some(t) if t.trim().eq_ignore_ascii_case("clear") => Ok(Some(std::collections::BTreeMap::new())),
        Some(t) => pairs(t, separator, flag, example).map(Some),
    }
}

/// `ferry set-properties`.
pub(crate) fn set_properties(args: &SetPropertiesArgs, display: String) -> Result<Made, CliError> {
    if let Some(from_to) = &args.from_to
        && !["BlobNone", "BlobFSNone"].iter().any(|v| v.eq_ignore_ascii_case(from_to))
    {
        return Err(CliError::usage(format!("--from-to `{from_to}` is not supported by set-properties; use BlobNone")));
    }
    let (target, sas) = blob_target(&args.url, "`ferry set-properties` changes blobs")?;
    let tier = tier(args.block_blob_tier.as_deref(), args.page_blob_tier.as_deref())?;
    let rehydrate_priority = match args.rehydrate_priority.as_deref() {
        None => None,
        Some(_) if tier.is_none() => {
            return Err(CliError::usage("--rehydrate-priority goes with a tier to move blobs out of Archive to")
                .with_hint("add --block-blob-tier Hot (or Cool, Cold)"));
        }
        Some(p) => Some(
            ["Standard", "High"]
                .iter()
                .find(|v| v.eq_ignore_ascii_case(p))
                .map(|v| (*v).to_owned())
                .ok_or_else(|| CliError::usage(format!("--rehydrate-priority `{p}` is not Standard or High")))?,
        ),
    };
    let metadata = replacement(args.metadata.as_deref(), ';', "--metadata", "k1=v1;k2=v2")?;
    let tags = replacement(args.blob_tags.as_deref(), '&', "--blob-tags", "k1=v1&k2=v2")?;
    if tags.as_ref().is_some_and(|t| t.len() > 10) {
        return Err(CliError::usage("--blob-tags: a blob takes at most 10 tags"));
    }
    if tier.as_deref() == Some("Archive") && metadata.is_some() {
        return Err(CliError::usage("an archived blob's metadata cannot be set: give --metadata without Archive")
            .with_hint("set the metadata first, then the tier, in two commands"));
    }
    if tier.is_none() && metadata.is_none() && tags.is_none() {
        return Err(CliError::usage("nothing to set")
            .with_hint("give --block-blob-tier, --page-blob-tier, --metadata or --blob-tags"));
    }
    let set = SetPropertiesSpec {
        target,
        recursive: args.recursive,
        filter: filter_spec(&args.filters)?,
        tier,
        rehydrate_priority,
        metadata,
        tags,
        dry_run: args.dry_run,
    };
    Ok((JobSpec::new(display, JobKind::SetProperties(set)), [sas, None]))
}
