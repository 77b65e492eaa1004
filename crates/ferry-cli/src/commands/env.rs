//! `ferry env`: the environment variables Ferry reads, in AzCopy's format.

use ferry_core::REDACTED;
use ferry_report::Console;

use crate::args::EnvArgs;
use crate::{CliError, ENV_VARS};

pub(super) fn run(args: &EnvArgs, console: &Console) -> Result<(), CliError> {
    let rows: Vec<(&str, String, &str)> = ENV_VARS
        .iter()
        .map(|var| {
            let value = std::env::var(var.name).unwrap_or_default();
            let shown =
                if var.secret && !value.is_empty() && !args.show_sensitive { REDACTED.to_owned() } else { value };
            (var.name, shown, var.description)
        })
        .collect();
    ferry_report::env_table(&rows, console);
    Ok(())
}
