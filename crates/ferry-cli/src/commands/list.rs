//! `ferry list URL`: blobs under an account, container, virtual directory or blob, in byte
//! order of their names, in AzCopy's output format.

use ferry_azure::{AzureStore, list_containers};
use ferry_core::size::SizeUnits;
use ferry_core::{BlobUrl, Location, LocationHint};
use ferry_report::{ListProperty, ListReporter};
use ferry_store::{Entry, ErrorKind, ListDepth, Store};
use futures::TryStreamExt;

use super::Ctx;
use crate::args::ListArgs;
use crate::{CliError, Settings};

type Reporter = ListReporter<std::io::StdoutLock<'static>>;

pub(super) async fn run(args: &ListArgs, ctx: &Ctx<'_>) -> Result<(), CliError> {
    let hint = args.location.map_or(LocationHint::Infer, |l| LocationHint::Known(l.into()));
    let files = match Location::parse(&args.url, hint)? {
        Location::Files(url) => Some(url.azure().clone()),
        _ => None,
    };
    let url = match &files {
        Some(url) => url.clone(),
        None => super::blob_url(&args.url, hint, "list")?,
    };
    let properties = match &args.properties {
        Some(text) => ListProperty::parse_list(text).map_err(|e| CliError::usage(format!("--properties: {e}")))?,
        None => Vec::new(),
    };
    let units = if args.machine_readable {
        SizeUnits::Bytes
    } else if args.mega_units {
        SizeUnits::Decimal
    } else {
        SizeUnits::Binary
    };
    let (client, credential) = ferry_job::blob_client(&url, &ctx.job([None, None])?)?;
    if files.is_some() {
        let reporter = ListReporter::stdout(ctx.settings.output, units, properties, args.running_tally);
        return list_files(&url, client, reporter).await.map_err(|e| credential.explain(e));
    }
    list_url(&url, client, ctx.settings, units, properties, args.running_tally).await.map_err(|e| credential.explain(e))
}

/// `ferry list` of an Azure Files account, share, directory or file: files named as a Blob
/// listing names blobs (relative to the URL, behind the share's name for an account).
async fn list_files(url: &BlobUrl, client: ferry_azure::BlobClient, mut reporter: Reporter) -> Result<(), CliError> {
    let shares = match url.container() {
        Some(share) => vec![(share.to_owned(), String::new())],
        None => {
            let names = ferry_files::list_shares(&client, url).await?;
            names.into_iter().map(|n| (n.clone(), format!("{n}/"))).collect()
        }
    };
    for (share, shown) in shares {
        let store = ferry_files::FilesStore::new(client.clone(), &url.with_container_and_path(Some(&share), ""))?;
        let path = url.path();
        if path.is_empty() || path.ends_with('/') {
            print_prefix(&store, path, &shown, &mut reporter).await?;
            continue;
        }
        match store.stat(path).await {
            Ok(entry) => emit(&mut reporter, path.rsplit('/').next().unwrap_or(path), &entry)?,
            Err(e) if e.kind() == ErrorKind::NotFound && !e.message().contains("ShareNotFound") => {}
            Err(e) => return Err(e.into()),
        }
        print_prefix(&store, &format!("{path}/"), "", &mut reporter).await?;
    }
    reporter.finish().map_err(|e| CliError::failed(format!("cannot write the listing: {e}")))?;
    Ok(())
}

async fn list_url(
    url: &BlobUrl,
    client: ferry_azure::BlobClient,
    settings: &Settings,
    units: SizeUnits,
    properties: Vec<ListProperty>,
    running_tally: bool,
) -> Result<(), CliError> {
    // `VersionId` among the properties lists every version of each blob, as AzCopy does.
    let versions = properties.contains(&ListProperty::VersionId);
    let open = |client: ferry_azure::BlobClient, url: &BlobUrl| {
        AzureStore::new(client, url).map(|s| if versions { s.with_versions() } else { s })
    };
    let mut reporter = ListReporter::stdout(settings.output, units, properties, running_tally);

    match url.container() {
        None => {
            for container in list_containers(&client, url).await? {
                let store = open(client.clone(), &url.with_container_and_path(Some(&container), ""))?;
                print_prefix(&store, "", &format!("{container}/"), &mut reporter).await?;
            }
        }
        Some(_) => {
            let store = open(client, url)?;
            let path = url.path();
            if path.is_empty() || path.ends_with('/') {
                print_prefix(&store, path, "", &mut reporter).await?;
            } else {
                // The URL may name one blob, a virtual directory, or both ("dir" and "dir/…").
                let name = path.rsplit('/').next().unwrap_or(path);
                match store.stat(path).await {
                    Ok(_) if versions => {
                        let mut entries = store.list(path, ListDepth::Recursive);
                        while let Some(entry) = entries.try_next().await? {
                            if entry.key == path {
                                emit(&mut reporter, name, &entry)?;
                            }
                        }
                    }
                    Ok(entry) => emit(&mut reporter, name, &entry)?,
                    Err(e) if e.kind() == ErrorKind::NotFound && !e.message().contains("ContainerNotFound") => {}
                    Err(e) => return Err(e.into()),
                }
                print_prefix(&store, &format!("{path}/"), "", &mut reporter).await?;
            }
        }
    }
    reporter.finish().map_err(|e| CliError::failed(format!("cannot write the listing: {e}")))?;
    Ok(())
}

/// Prints every blob under `prefix`, named relative to it and behind `shown_prefix`.
async fn print_prefix(
    store: &dyn Store,
    prefix: &str,
    shown_prefix: &str,
    reporter: &mut Reporter,
) -> Result<(), CliError> {
    let mut entries = store.list(prefix, ListDepth::Recursive);
    while let Some(entry) = entries.try_next().await? {
        let relative = entry.key.strip_prefix(prefix).unwrap_or(&entry.key);
        emit(reporter, &format!("{shown_prefix}{relative}"), &entry)?;
    }
    Ok(())
}

fn emit(reporter: &mut Reporter, shown: &str, entry: &Entry) -> Result<(), CliError> {
    reporter.object(shown, entry).map_err(|e| CliError::failed(format!("cannot write the listing: {e}")))
}
