//! Ferry's command line: what the user typed ([`Cli`]) is resolved once into settings (flags,
//! then environment, then defaults), made into a job spec by pure functions (`spec`), and run
//! by the application layer (`ferry-job`) with the terminal's reporter and prompt; the result
//! becomes an [`ExitStatus`]. Nothing here prints directly: the `ferry-report` console does.

mod args;
pub mod commands;
mod env_vars;
mod error;
mod legacy_spec;
pub mod logging;
mod login;
mod output;
mod refusals;
mod settings;
mod shard;
mod signals;
mod spec;
pub mod version;

pub use args::{Cli, Command};
pub use env_vars::{ENV_VARS, EnvVar};
pub use error::{CliError, ExitStatus};
pub use logging::{LogLevel, init_logging};
pub use settings::{Environment, Settings, TransferSettings};

use ferry_report::Console;

/// Runs a parsed command line and returns the process's exit status. A second Ctrl-C while a
/// job runs ends it at once (exit 1); the job's journal still resumes.
pub async fn run(cli: Cli) -> ExitStatus {
    let console = Console::new(cli.output_type.into()).with_level(cli.output_level.into());
    let env = Environment::from_process();
    let interrupts = signals::Interrupts::default();
    let result = match Settings::resolve(&cli, &env).and_then(|s| process_flags(&cli, &console).map(|()| s)) {
        Ok(mut settings) => {
            let metrics = match serve_metrics(&mut settings, &console).await {
                Ok(metrics) => metrics,
                Err(e) => {
                    console.error(e.message(), e.causes(), e.hint());
                    return ExitStatus::of(&e);
                }
            };
            if cli.process.await_continue {
                console.info("waiting for a line `continue` on standard input (--await-continue)");
            }
            if cli.process.cancel_from_stdin {
                interrupts.cancel_from_stdin(console);
            }
            let token = login::token_source(&env, &settings.http);
            let ctx = commands::Ctx {
                settings: &settings,
                env: &env,
                console: &console,
                interrupts: &interrupts,
                token,
                metrics,
            };
            let work = async {
                if cli.process.await_continue {
                    signals::await_word("continue").await?;
                }
                commands::dispatch(&cli.command, &ctx).await
            };
            tokio::select! {
                result = work => result,
                () = interrupts.forced() => Err(CliError::failed("interrupted twice: stopped at once")
                    .with_hint("`ferry jobs list` shows the job; `ferry jobs resume` finishes it")),
            }
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitStatus::Success,
        Err(err) => {
            console.error(err.message(), err.causes(), err.hint());
            ExitStatus::of(&err)
        }
    }
}

/// With `--metrics-addr`, starts serving the process's metrics there and has every request
/// counted; says where.
async fn serve_metrics(
    settings: &mut Settings,
    console: &Console,
) -> Result<Option<std::sync::Arc<ferry_metrics::Metrics>>, CliError> {
    let Some(addr) = settings.metrics_addr else { return Ok(None) };
    let metrics = std::sync::Arc::new(ferry_metrics::Metrics::new(Some(ferry_azure::entra::token_fetches)));
    let bound = ferry_metrics::serve(addr, metrics.clone()).await.map_err(|e| {
        CliError::usage(format!("cannot serve metrics on {addr}: {e}"))
            .with_hint("choose a free port with --metrics-addr (or FERRY_METRICS_ADDR)")
    })?;
    settings.http.observer = Some(metrics.clone());
    console.info(&format!("metrics at http://{bound}/metrics"));
    Ok(Some(metrics))
}

/// The flags about the process rather than the command: refused hooks, and the version note.
fn process_flags(cli: &Cli, console: &Console) -> Result<(), CliError> {
    refusals::process(&cli.process)?;
    if cli.process.check_version {
        console.info(&format!(
            "{}; Ferry does not ask a release feed for newer versions",
            version::long_version(&version::invoked_name())
        ));
    }
    Ok(())
}
