//! Diagnostics: standard error for the user, and a log file per job.
//!
//! `tracing` events go to standard error filtered by `FERRY_LOG` (default `warn`), and, while a
//! job runs, to its log file at the `--log-level` (default `INFO`; see `ferry_job::JobLogLayer`).
//! Job events (target `ferry::job`: the header, failure lines, the summary) go only to the file,
//! since the terminal shows them already. Log files are private to the user (0600) and never
//! hold a secret: every URL is redacted before it is logged.

use std::io::{self, IsTerminal};
use std::path::PathBuf;

use ferry_job::JOB_TARGET;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// `--log-level`: how much goes to the job log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogLevel {
    /// Everything, including each request.
    #[value(name = "DEBUG")]
    Debug,
    /// Job events, retries and failures (the default).
    #[default]
    #[value(name = "INFO")]
    Info,
    /// Warnings and failures.
    #[value(name = "WARNING")]
    Warning,
    /// Failures only.
    #[value(name = "ERROR")]
    Error,
    /// No log file.
    #[value(name = "NONE")]
    None,
}

impl From<LogLevel> for ferry_job::LogLevel {
    fn from(level: LogLevel) -> Self {
        match level {
            LogLevel::Debug => Self::Debug,
            LogLevel::Info => Self::Info,
            LogLevel::Warning => Self::Warning,
            LogLevel::Error => Self::Error,
            LogLevel::None => Self::None,
        }
    }
}

/// The largest a job log may grow: `FERRY_LOG_MAX_MB` (default 512).
pub fn log_cap(env: &crate::Environment) -> u64 {
    env.get("FERRY_LOG_MAX_MB").and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(512).max(1) * 1024 * 1024
}

/// Installs the logging: standard error per `FERRY_LOG`, and the job log once opened.
pub fn init_logging() {
    let stderr_filter = EnvFilter::try_from_env("FERRY_LOG")
        .unwrap_or_else(|_| EnvFilter::new("warn"))
        .add_directive(format!("{JOB_TARGET}=off").parse().expect("a valid directive"));
    let color = io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(io::stderr)
        .with_ansi(color)
        .with_target(false)
        .with_filter(stderr_filter);
    let _ = tracing_subscriber::registry().with(stderr).with(ferry_job::JobLogLayer).try_init();
}

/// Where job logs go: `FERRY_LOG_LOCATION`, else `AZCOPY_LOG_LOCATION`, else `~/.ferry/logs`.
pub fn log_dir(env: &crate::Environment) -> PathBuf {
    if let Some(dir) = env.get("FERRY_LOG_LOCATION").or_else(|| env.get("AZCOPY_LOG_LOCATION")) {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map_or_else(std::env::temp_dir, PathBuf::from);
    home.join(".ferry").join("logs")
}
