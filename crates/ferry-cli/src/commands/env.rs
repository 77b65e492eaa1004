//! `ferry env`: the environment variables Ferry reads, in AzCopy's format.

use ferry_core::REDACTED;
use ferry_report::{Console, OutputFormat};

use crate::args::EnvArgs;
use crate::{CliError, ENV_VARS};

pub(super) fn run(args: &EnvArgs, console: &Console) -> Result<(), CliError> {
    for var in ENV_VARS {
        let value = std::env::var(var.name).unwrap_or_default();
        let shown = if var.secret && !value.is_empty() && !args.show_sensitive { REDACTED.to_owned() } else { value };
        let block = format!("Name: {}\nCurrent Value: {shown}\nDescription: {}\n", var.name, var.description);
        match console.format() {
            OutputFormat::Text => console.data(&format!("INFO: {block}")),
            OutputFormat::Json => console.data(&block),
        }
    }
    Ok(())
}
