//! `ferry make URL`: create a container.

use ferry_azure::AzureStore;
use ferry_core::LocationHint;
use ferry_report::Console;
use ferry_store::{ErrorKind, Store};

use crate::args::MakeArgs;
use crate::connect::{client_for, explain_auth};
use crate::{CliError, Environment, Settings};

pub(super) async fn run(
    args: &MakeArgs,
    settings: &Settings,
    env: &Environment,
    console: &Console,
) -> Result<(), CliError> {
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
    super::check_plain_http(&url, env, console)?;
    let (client, source) = client_for(&url, settings, env)?;
    let store = AzureStore::new(client, &url)?;
    match store.create_root().await {
        Ok(()) => {
            console.end_of_job("Successfully created the resource.");
            Ok(())
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            Err(CliError::failed(format!("the container `{container}` already exists at {}", url.with_sas(None)))
                .with_hint("choose another name; nothing was changed"))
        }
        Err(e) => Err(explain_auth(e.into(), source)),
    }
}
