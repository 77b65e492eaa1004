//! Diagnostic logging to standard error.

use std::io::IsTerminal;

/// Sends `tracing` events to standard error, filtered by `FERRY_LOG` (default `warn`, so retries
/// and skipped files show). Colour only on a terminal and never with `NO_COLOR`.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("FERRY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .with_target(false)
        .try_init();
}
