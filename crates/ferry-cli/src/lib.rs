//! Ferry's command line.
//!
//! What the user typed ([`Cli`]) is resolved once into settings (flags, then environment, then
//! defaults), and each command is a short function in [`commands`]: resolved settings in, a
//! library call with a reporter, an [`ExitStatus`] out. Nothing here prints directly: the
//! `ferry-report` console does.

mod args;
pub mod commands;
mod connect;
mod env_vars;
mod error;
pub mod logging;
mod settings;

pub use args::{Cli, Command};
pub use env_vars::{ENV_VARS, EnvVar};
pub use error::{CliError, ExitStatus};
pub use logging::{LogLevel, init_logging};
pub use settings::{Environment, Settings, TransferSettings};

use ferry_report::Console;

/// Runs a parsed command line and returns the process's exit status.
pub async fn run(cli: Cli) -> ExitStatus {
    let console = Console::new(cli.output_type.into()).with_level(cli.output_level.into());
    let env = Environment::from_process();
    let result = match Settings::resolve(&cli, &env) {
        Ok(settings) => commands::dispatch(&cli.command, &settings, &env, &console).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitStatus::Success,
        Err(err) => {
            console.error(err.message(), err.causes(), err.hint());
            err.exit_status()
        }
    }
}
