//! `ferry make URL`: create a container.

use ferry_azure::AzureStore;
use ferry_core::LocationHint;
use ferry_store::{ErrorKind, Store};

use super::Ctx;
use crate::CliError;
use crate::args::MakeArgs;

pub(super) async fn run(args: &MakeArgs, ctx: &Ctx<'_>) -> Result<(), CliError> {
    crate::refusals::make(args.quota_gb)?;
    let url = super::blob_url(&args.url, LocationHint::Infer, "make")?;
    let Some(container) = url.container() else {
        return Err(
            CliError::usage(format!("`{url}` names no container")).with_hint("add the container name to the URL")
        );
    };
    if !url.path().is_empty() {
        return Err(CliError::usage(format!("`{url}` names a blob path, but `ferry make` creates containers"))
            .with_hint(format!("give the container URL alone, ending in /{container}")));
    }
    let (client, credential) = ferry_job::blob_client(&url, &ctx.job([None, None])?)?;
    let store = AzureStore::new(client, &url)?;
    match store.create_root().await {
        Ok(()) => {
            ctx.console.end_of_job("Successfully created the resource.");
            Ok(())
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            Err(CliError::failed(format!("the container `{container}` already exists at {}", url.with_sas(None)))
                .with_hint("choose another name; nothing was changed"))
        }
        Err(e) => Err(credential.explain(e.into())),
    }
}
