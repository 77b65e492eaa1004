//! One module per command: resolved settings in, a library call with a reporter, a result out.

mod bench;
mod copy;
mod env;
mod jobs;
mod list;
mod make;
mod prompt;
mod remove;
mod sync;
mod verify;

use ferry_core::{BlobUrl, Location, LocationHint};
use ferry_report::Console;

use crate::{CliError, Command, Environment, Settings};

/// Runs one command.
pub async fn dispatch(
    command: &Command,
    settings: &Settings,
    env: &Environment,
    console: &Console,
) -> Result<(), CliError> {
    match command {
        Command::Copy(args) => copy::run(args, settings, env, console).await,
        Command::Sync(args) => sync::run(args, settings, env, console, None).await,
        Command::Verify(args) => verify::run(args, settings, env, console).await,
        Command::Remove(args) => remove::run(args, settings, env, console, None).await,
        Command::List(args) => list::run(args, settings, env, console).await,
        Command::Make(args) => make::run(args, settings, env, console).await,
        Command::Env(args) => env::run(args, console),
        Command::Bench(args) => bench::run(args, settings, env, console).await,
        Command::Jobs(command) => jobs::run(command, settings, env, console).await,
    }
}

/// Parses an argument that must be a Blob URL, for commands that work only on Blob.
fn blob_url(text: &str, hint: LocationHint, command: &str) -> Result<BlobUrl, CliError> {
    match Location::parse(text, hint)? {
        Location::Blob(url) => Ok(url),
        Location::Local(path) => {
            Err(CliError::usage(format!("`ferry {command}` works on Blob URLs, but `{path}` is a local path"))
                .with_hint("give a URL such as https://ACCOUNT.blob.core.windows.net/CONTAINER?SAS"))
        }
    }
}

/// Warns when a URL would send credentials or data in clear text over a real network.
fn warn_if_plain_http(url: &BlobUrl, console: &Console) {
    if url.is_http() && !url.is_loopback() {
        console.warn(&format!(
            "`{url}` uses plain http://: data and credentials cross the network unencrypted; use https://"
        ));
    }
}
