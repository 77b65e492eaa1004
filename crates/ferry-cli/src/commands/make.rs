//! `ferry make URL`: create a container, or an Azure Files share (with `--quota-gb`).

use ferry_azure::AzureStore;
use ferry_core::{BlobUrl, Location, LocationHint};
use ferry_store::{ErrorKind, Store};

use super::Ctx;
use crate::CliError;
use crate::args::MakeArgs;

pub(super) async fn run(args: &MakeArgs, ctx: &Ctx<'_>) -> Result<(), CliError> {
    let hint = args.location.map_or(LocationHint::Infer, |l| LocationHint::Known(l.into()));
    let files = match Location::parse(&args.url, hint)? {
        Location::Files(url) => Some(url),
        _ => None,
    };
    crate::refusals::make(args.quota_gb, files.is_some())?;
    let url = match &files {
        Some(files) => files.azure().clone(),
        None => super::blob_url(&args.url, hint, "make")?,
    };
    let noun = if files.is_some() { "share" } else { "container" };
    let Some(root) = url.container() else {
        return Err(
            CliError::usage(format!("`{url}` names no {noun}")).with_hint(format!("add the {noun} name to the URL"))
        );
    };
    if !url.path().is_empty() {
        return Err(CliError::usage(format!("`{url}` names a path, but `ferry make` creates {noun}s"))
            .with_hint(format!("give the {noun} URL alone, ending in /{root}")));
    }
    let (client, credential) = ferry_job::blob_client(&url, &ctx.job([None, None])?)?;
    let made = match &files {
        Some(_) => ferry_files::create_share(&client, &url, args.quota_gb.map(u64::from)).await,
        None => AzureStore::new(client, &url)?.create_root().await,
    };
    match made {
        Ok(()) => {
            ctx.console.end_of_job("Successfully created the resource.");
            Ok(())
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Err(already(&url, noun, root)),
        Err(e) => Err(credential.explain(e.into())),
    }
}

fn already(url: &BlobUrl, noun: &str, name: &str) -> CliError {
    CliError::failed(format!("the {noun} `{name}` already exists at {}", url.with_sas(None)))
        .with_hint("choose another name; nothing was changed")
}
