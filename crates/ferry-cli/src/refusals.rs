//! AzCopy flags that Ferry recognises but cannot act on yet, turned into clear usage errors
//! (exit 2, nothing done) instead of being ignored. A flag at AzCopy's default asks for nothing
//! and always passes; a value that needs something Ferry does not have is refused, saying what
//! is missing. Each check is a pure function of the parsed flags.

use crate::CliError;
use crate::args::{CopyArgs, HardlinksArg, LocalFsArgs, ProcessArgs, RemoveArgs, SyncArgs};

/// Why a flag's value cannot be honoured.
#[derive(Debug, Clone, Copy)]
enum Missing {
    /// Ferry has no such feature yet.
    NotYet(&'static str),
    /// It works only on Windows.
    Windows,
    /// It is about Azure Files NFS shares, which Ferry does not reach yet.
    AzureFiles,
}

fn refuse(flag: &str, missing: Missing) -> CliError {
    let (why, hint) = match missing {
        Missing::NotYet(what) => (format!("is not supported yet: {what}"), "leave the flag out"),
        Missing::Windows => ("works only on Windows (it is about Windows files)".to_owned(), "leave the flag out here"),
        Missing::AzureFiles => (
            "applies to Azure Files NFS shares, which Ferry does not reach yet (SMB shares it does)".to_owned(),
            "leave the flag out for Blob and local copies",
        ),
    };
    CliError::usage(format!("{flag} {why}")).with_hint(hint)
}

/// The first refusal among `checks`: `(flag, is it set to something that needs what is missing, what is missing)`.
fn first(checks: &[(&str, bool, Missing)]) -> Result<(), CliError> {
    match checks.iter().find(|(_, set, _)| *set) {
        Some((flag, _, missing)) => Err(refuse(flag, *missing)),
        None => Ok(()),
    }
}

/// The flags about local files, links and their properties.
fn local(args: &LocalFsArgs) -> Result<(), CliError> {
    if args.include.is_some() || args.exclude.is_some() {
        return Err(CliError::usage("--include and --exclude were removed from AzCopy")
            .with_hint("use --include-pattern / --exclude-pattern (names) or --include-path / --exclude-path"));
    }
    let on = |v: Option<bool>| v == Some(true);
    if args.follow_symlinks && args.preserve_symlinks {
        return Err(CliError::usage("--follow-symlinks and --preserve-symlinks cannot be used together")
            .with_hint("follow links to copy what they point to, or preserve them to copy the links themselves"));
    }
    first(&[
        ("--hardlinks", args.hardlinks == HardlinksArg::Preserve, Missing::AzureFiles),
        ("--include-attributes", args.include_attributes.is_some(), Missing::Windows),
        ("--exclude-attributes", args.exclude_attributes.is_some(), Missing::Windows),
        (
            "--delete-destination-file",
            on(args.delete_destination_file),
            Missing::NotYet("an upload replaces a blob's uncommitted blocks by committing its own list"),
        ),
    ])
}

/// `ferry copy`'s flags.
pub(crate) fn copy(args: &CopyArgs) -> Result<(), CliError> {
    local(&args.local)?;
    let invalid_metadata = ["ExcludeIfInvalid", "FailIfInvalid", "RenameIfInvalid"];
    if !invalid_metadata.iter().any(|v| v.eq_ignore_ascii_case(&args.s2s_handle_invalid_metadata)) {
        return Err(CliError::usage(format!(
            "--s2s-handle-invalid-metadata `{}` is not one of ExcludeIfInvalid, FailIfInvalid, RenameIfInvalid",
            args.s2s_handle_invalid_metadata
        )));
    }
    first(&[("--backup", args.backup, Missing::Windows)])
}

/// Why AzCopy's places for cached MD5s are not used.
const HASH_CACHE: &str =
    "Ferry caches local files' MD5s in its own store in the plans folder, not in extended attributes or hidden files";

/// `ferry sync`'s flags.
pub(crate) fn sync(args: &SyncArgs) -> Result<(), CliError> {
    local(&args.local)?;
    first(&[
        ("--local-hash-storage-mode", args.local_hash_storage_mode.is_some(), Missing::NotYet(HASH_CACHE)),
        ("--hash-meta-dir", args.hash_meta_dir.is_some(), Missing::NotYet(HASH_CACHE)),
        ("--include-root", args.include_root, Missing::AzureFiles),
    ])
}

/// `ferry remove`'s flags.
pub(crate) fn remove(_args: &RemoveArgs) -> Result<(), CliError> {
    Ok(())
}

/// The flags every command takes that Ferry has no counterpart for yet.
pub(crate) fn process(args: &ProcessArgs) -> Result<(), CliError> {
    first(&[
        ("--request-priority", args.request_priority.is_some(), Missing::NotYet("request priorities")),
        (
            "--memory-profile",
            args.memory_profile.is_some(),
            Missing::NotYet("heap profiles (Ferry's data buffers are bounded by AZCOPY_BUFFER_GB)"),
        ),
    ])
}

/// `ferry make --quota-gb`.
pub(crate) fn make(quota_gb: Option<u32>, files: bool) -> Result<(), CliError> {
    if quota_gb.is_some() && !files {
        return Err(CliError::usage("--quota-gb sets an Azure Files share's quota; a Blob container has none")
            .with_hint("leave --quota-gb out, or give a share's URL (https://ACCOUNT.file.core.windows.net/SHARE)"));
    }
    Ok(())
}

/// `ferry jobs resume --include/--exclude`.
pub(crate) fn resume(include: Option<&str>, exclude: Option<&str>) -> Result<(), CliError> {
    // AzCopy keeps these flags but no longer honours them either.
    let what =
        Missing::NotYet("choosing which failed items a resume retries (it retries all; AzCopy made these obsolete)");
    first(&[("--include", include.is_some(), what), ("--exclude", exclude.is_some(), what)])
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use crate::args::{Cli, Command};

    fn copy_refusal(extra: &[&str]) -> Option<String> {
        let mut argv = vec!["ferry", "copy", "a", "b"];
        argv.extend(extra);
        let Command::Copy(args) = Cli::try_parse_from(argv).unwrap().command else { panic!() };
        super::copy(&args).err().map(|e| e.message().to_owned())
    }

    #[test]
    fn defaults_ask_for_nothing_and_other_values_are_refused_by_name() {
        assert_eq!(copy_refusal(&[]), None);
        let defaults = [
            "--hardlinks=follow",
            "--trailing-dot=Enable",
            "--preserve-info=false",
            "--s2s-preserve-properties=true",
            "--s2s-preserve-access-tier=true",
            "--page-blob-tier=None",
            "--preserve-owner=true",
        ];
        assert_eq!(copy_refusal(&defaults), None);
        // Azure Files' own flags are accepted now that Ferry reaches SMB shares.
        assert_eq!(copy_refusal(&["--preserve-permissions", "--force-if-read-only", "--preserve-info"]), None);
        for (flag, says) in [
            ("--exclude-attributes=A", "only on Windows"),
            ("--include-attributes=A;S", "only on Windows"),
            ("--hardlinks=preserve", "Azure Files"),
            ("--backup", "Windows"),
        ] {
            let message = copy_refusal(&[flag]).unwrap_or_else(|| panic!("{flag} was accepted"));
            let name = flag.split('=').next().unwrap();
            assert!(message.starts_with(name) && message.contains(says), "{flag}: {message}");
        }
        let legacy = copy_refusal(&["--include=*.txt"]).unwrap();
        assert!(legacy.contains("removed from AzCopy"), "{legacy}");
    }
}
