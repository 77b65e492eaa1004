//! One module per command: resolved settings in, a library call with a reporter, a result out.

mod bench;
mod copy;
mod env;
mod jobs;
mod lifecycle;
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

/// The words of [`warn_forwarded_sas`]'s warning, when one is due: a server-side copy hands the
/// source URL, SAS included, to the destination's service (`x-ms-copy-source`), as AzCopy does;
/// a SAS that can do more than read and list hands over more than the copy needs.
fn forwarded_sas_warning(source: &Location, destination: &Location) -> Option<String> {
    let (Location::Blob(source), Location::Blob(destination)) = (source, destination) else { return None };
    let permissions = source.sas()?.permissions().unwrap_or_default();
    let beyond_read = permissions.chars().any(|c| c != 'r' && c != 'l');
    beyond_read.then(|| {
        format!(
            "the source SAS (permissions `{permissions}`) is sent to the destination's service ({}) with each server-side copy; a read-only source SAS (sp=r or rl) is enough and hands over less",
            destination.service_url().host_str().unwrap_or_default()
        )
    })
}

/// Warns before a server-side copy would forward a source SAS that can do more than read.
fn warn_forwarded_sas(source: &Location, destination: &Location, console: &Console) {
    if let Some(warning) = forwarded_sas_warning(source, destination) {
        console.warn(&warning);
    }
}

/// Refuses plain `http://` to anything but this machine: data and credentials (a SAS, a Shared
/// Key signature) would cross the network unencrypted. `FERRY_ALLOW_HTTP=true` allows it, with a
/// warning. Loopback (an emulator) is always allowed.
fn check_plain_http(url: &BlobUrl, env: &Environment, console: &Console) -> Result<(), CliError> {
    if !url.is_http() || url.is_loopback() {
        return Ok(());
    }
    let allowed = env
        .get("FERRY_ALLOW_HTTP")
        .is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes"));
    if !allowed {
        return Err(CliError::usage(format!(
            "`{url}` uses plain http://, which would send data and credentials unencrypted"
        ))
        .with_hint("use https://; if this network is trusted, set FERRY_ALLOW_HTTP=true to allow it"));
    }
    console.warn(&format!(
        "`{url}` uses plain http://: data and credentials cross the network unencrypted (FERRY_ALLOW_HTTP=true)"
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Finding 19: a full-permission source SAS went to the destination endpoint unremarked.
    #[test]
    fn a_source_sas_beyond_read_is_named_before_it_is_forwarded() {
        let parse = |s: &str| Location::parse(s, LocationHint::Infer).unwrap();
        let dest = parse("https://b.blob.core.windows.net/dst?sv=1&sp=cw&sig=y");
        let full = parse("https://a.blob.core.windows.net/src?sv=1&sp=racwdl&sig=x");
        let warning = forwarded_sas_warning(&full, &dest).unwrap();
        assert!(warning.contains("racwdl") && warning.contains("b.blob.core.windows.net"), "{warning}");
        assert!(!warning.contains("sig=x"), "{warning}");
        let read_only = parse("https://a.blob.core.windows.net/src?sv=1&sp=rl&sig=x");
        assert_eq!(forwarded_sas_warning(&read_only, &dest), None);
        assert_eq!(forwarded_sas_warning(&full, &parse("/tmp/x")), None, "not a server-side copy");
    }
}
