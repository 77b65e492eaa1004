//! Resolving flags and environment into the settings commands run with.
//!
//! Precedence: command-line flags, then environment variables, then defaults. The environment
//! is passed in as a value so tests can resolve settings without touching the process's.

use std::collections::BTreeMap;
use std::time::Duration;

use ferry_azure::HttpConfig;
use ferry_report::OutputFormat;

use crate::{Cli, CliError};

/// A snapshot of the environment variables Ferry reads.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl Environment {
    /// The process's environment (only the variables Ferry reads are kept).
    pub fn from_process() -> Self {
        let vars = crate::ENV_VARS
            .iter()
            .filter_map(|v| std::env::var(v.name).ok().map(|value| (v.name.to_owned(), value)))
            .collect();
        Self { vars }
    }

    /// An environment with exactly these variables (for tests).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self { vars: pairs.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect() }
    }

    /// A variable's value, if set and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str).filter(|v| !v.trim().is_empty())
    }

    fn parse<T: std::str::FromStr>(&self, name: &str, what: &str) -> Result<Option<T>, CliError> {
        match self.get(name) {
            None => Ok(None),
            Some(raw) => raw.trim().parse().map(Some).map_err(|_| {
                CliError::usage(format!("environment variable {name} is `{raw}`, which is not {what}"))
                    .with_hint(format!("unset {name} or give it {what}"))
            }),
        }
    }
}

/// Everything a command needs besides its own arguments.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Output format.
    pub output: OutputFormat,
    /// HTTP pool, timeouts and retries.
    pub http: HttpConfig,
    /// How much a copy does at once.
    pub transfer: TransferSettings,
    /// Where job logs go.
    pub log_dir: std::path::PathBuf,
    /// How much goes in them.
    pub log_level: crate::LogLevel,
    /// The largest a job log may grow, in bytes.
    pub log_cap: u64,
    /// Where job journals go.
    pub plan_dir: std::path::PathBuf,
    /// `--output-level`.
    pub output_level: ferry_report::OutputLevel,
    /// `--cap-mbps`, if a cap is set.
    pub cap_mbps: Option<f64>,
    /// `--metrics-addr` (or `FERRY_METRICS_ADDR`): where to serve Prometheus metrics.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// `--trusted-microsoft-suffixes`: more hosts that may receive an Entra token.
    pub trusted_suffixes: Vec<String>,
    /// `--source-sas-command` (or `FERRY_SOURCE_SAS_COMMAND`).
    pub source_sas_command: Option<String>,
    /// `--destination-sas-command` (or `FERRY_DESTINATION_SAS_COMMAND`).
    pub destination_sas_command: Option<String>,
    /// Testing: relative paths at which a copy is cancelled (`--debug-skip-files`).
    pub cancel_at: Vec<String>,
    /// Testing: a copy waits for a line `open` between its listing and its first file
    /// (`--await-open`).
    pub await_open: bool,
}

/// Concurrency and memory limits of transfers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferSettings {
    /// Requests in flight (`AZCOPY_CONCURRENCY_VALUE`).
    pub requests_in_flight: usize,
    /// Files in flight (`AZCOPY_CONCURRENT_FILES`, default 64).
    pub objects_in_flight: usize,
    /// Bytes of data buffers (`AZCOPY_BUFFER_GB`, default 0.5 GB per CPU, at most 16 GB).
    pub buffer_bytes: u64,
}

/// Where job journals go: `FERRY_JOB_PLAN_LOCATION`, else `AZCOPY_JOB_PLAN_LOCATION`, else
/// `~/.ferry/plans`.
fn plan_dir(env: &Environment) -> std::path::PathBuf {
    if let Some(dir) = env.get("FERRY_JOB_PLAN_LOCATION").or_else(|| env.get("AZCOPY_JOB_PLAN_LOCATION")) {
        return std::path::PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map_or_else(std::env::temp_dir, std::path::PathBuf::from);
    home.join(".ferry").join("plans")
}

fn cpus() -> usize {
    std::thread::available_parallelism().map(usize::from).unwrap_or(1)
}

/// AzCopy's default connection count: 16 per CPU, at least 32, at most 300.
fn default_concurrency() -> usize {
    (16 * cpus()).clamp(32, 300)
}

/// `--retry-status-codes`: HTTP statuses separated by commas or semicolons (AzCopy documents
/// the one and shows the other), each from 100 to 599.
fn retry_statuses(text: &str) -> Result<ferry_azure::StatusSet, CliError> {
    let mut statuses = Vec::new();
    for item in text.split([',', ';']).map(str::trim).filter(|i| !i.is_empty()) {
        match item.parse::<u16>() {
            Ok(status) if (100..600).contains(&status) => statuses.push(status),
            _ => {
                return Err(CliError::usage(format!("--retry-status-codes: `{item}` is not an HTTP status"))
                    .with_hint("list statuses from 100 to 599, such as 408;429;500;502;503;504"));
            }
        }
    }
    Ok(ferry_azure::StatusSet::of(&statuses))
}

/// `--metrics-addr`: `HOST:PORT`, or a bare `PORT` on the loopback interface (the default: the
/// metrics name the job's objects' counts, not for other machines unless asked).
pub(crate) fn metrics_addr(text: &str) -> Result<std::net::SocketAddr, CliError> {
    use std::net::ToSocketAddrs as _;
    let text = text.trim();
    let bad = || {
        CliError::usage(format!("--metrics-addr `{text}` is not HOST:PORT or PORT"))
            .with_hint("for example --metrics-addr 9464, or 127.0.0.1:9464")
    };
    if let Ok(port) = text.parse::<u16>() {
        return Ok(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    }
    text.to_socket_addrs().map_err(|_| bad())?.next().ok_or_else(bad)
}

impl Settings {
    /// Resolves settings from the command line and the environment.
    pub fn resolve(cli: &Cli, env: &Environment) -> Result<Self, CliError> {
        let max_idle_connections = match env.get("AZCOPY_CONCURRENCY_VALUE") {
            Some(v) if v.trim().eq_ignore_ascii_case("AUTO") => default_concurrency(),
            _ => env
                .parse::<usize>("AZCOPY_CONCURRENCY_VALUE", "a whole number of connections or AUTO")?
                .unwrap_or_else(default_concurrency)
                .max(1),
        };
        let mut http = HttpConfig { max_idle_connections, ..HttpConfig::default() };
        if let Some(minutes) = env.parse::<f64>("AZCOPY_REQUEST_TRY_TIMEOUT", "a number of minutes")? {
            if !(minutes.is_finite() && minutes > 0.0) {
                return Err(CliError::usage(
                    "environment variable AZCOPY_REQUEST_TRY_TIMEOUT must be a positive number of minutes",
                ));
            }
            http.response_timeout = Duration::from_secs_f64(minutes * 60.0);
        }
        if let Some(retries) = env.parse::<u32>("FERRY_MAX_RETRIES", "a whole number")? {
            http.retry.max_retries = retries;
        }
        if let Some(seconds) = env.parse::<u64>("FERRY_RETRY_MAX_SECONDS", "a whole number of seconds")? {
            http.retry.max_elapsed = Duration::from_secs(seconds);
        }
        if let Some(text) = &cli.process.retry_status_codes {
            http.retry.statuses = retry_statuses(text)?;
        }
        let objects_in_flight =
            env.parse::<usize>("AZCOPY_CONCURRENT_FILES", "a whole number of files")?.unwrap_or(64).max(1);
        let buffer_gb = match env.parse::<f64>("AZCOPY_BUFFER_GB", "a number of gigabytes")? {
            Some(gb) if gb.is_finite() && gb > 0.0 => gb,
            Some(_) => {
                return Err(CliError::usage(
                    "environment variable AZCOPY_BUFFER_GB must be a positive number of gigabytes",
                ));
            }
            None => (0.5 * cpus() as f64).min(16.0),
        };
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let buffer_bytes = (buffer_gb * 1e9) as u64;
        let transfer =
            TransferSettings { requests_in_flight: http.max_idle_connections, objects_in_flight, buffer_bytes };
        let metrics_addr =
            cli.metrics_addr.as_deref().or(env.get("FERRY_METRICS_ADDR")).map(metrics_addr).transpose()?;
        Ok(Self {
            metrics_addr,
            output: cli.output_type.into(),
            http,
            transfer,
            log_dir: crate::logging::log_dir(env),
            plan_dir: plan_dir(env),
            log_level: cli.log_level,
            log_cap: crate::logging::log_cap(env),
            output_level: cli.output_level.into(),
            source_sas_command: cli
                .source_sas_command
                .clone()
                .or_else(|| env.get("FERRY_SOURCE_SAS_COMMAND").map(str::to_owned)),
            destination_sas_command: cli
                .destination_sas_command
                .clone()
                .or_else(|| env.get("FERRY_DESTINATION_SAS_COMMAND").map(str::to_owned)),
            await_open: cli.process.await_open,
            cancel_at: cli
                .process
                .debug_skip_files
                .as_deref()
                .map(|s| s.split(';').map(str::trim).filter(|x| !x.is_empty()).map(str::to_owned).collect())
                .unwrap_or_default(),
            trusted_suffixes: cli
                .trusted_microsoft_suffixes
                .as_deref()
                .map(|s| s.split(';').map(str::trim).filter(|x| !x.is_empty()).map(str::to_owned).collect())
                .unwrap_or_default(),
            cap_mbps: match cli.cap_mbps {
                0.0 => None,
                c if c.is_finite() && c > 0.0 => Some(c),
                c => {
                    return Err(CliError::usage(format!(
                        "--cap-mbps must be a positive number of megabits per second, not {c}"
                    )));
                }
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn cli() -> Cli {
        Cli::parse_from(["ferry", "env"])
    }

    #[test]
    fn defaults_without_environment() {
        let s = Settings::resolve(&cli(), &Environment::default()).unwrap();
        assert!((32..=300).contains(&s.http.max_idle_connections));
        assert_eq!(s.http.retry.max_retries, 8);
        assert_eq!(s.output, OutputFormat::Text);
    }

    #[test]
    fn environment_overrides_defaults() {
        let env = Environment::from_pairs([
            ("AZCOPY_CONCURRENCY_VALUE", "7"),
            ("AZCOPY_REQUEST_TRY_TIMEOUT", "0.5"),
            ("FERRY_MAX_RETRIES", "0"),
            ("FERRY_RETRY_MAX_SECONDS", "9"),
            ("AZCOPY_CONCURRENT_FILES", "5"),
            ("AZCOPY_BUFFER_GB", "0.25"),
        ]);
        let s = Settings::resolve(&cli(), &env).unwrap();
        assert_eq!(s.http.max_idle_connections, 7);
        assert_eq!(s.http.response_timeout, Duration::from_secs(30));
        assert_eq!(s.http.retry.max_retries, 0);
        assert_eq!(s.http.retry.max_elapsed, Duration::from_secs(9));
        assert_eq!(
            s.transfer,
            TransferSettings { requests_in_flight: 7, objects_in_flight: 5, buffer_bytes: 250_000_000 }
        );
        let auto = Settings::resolve(&cli(), &Environment::from_pairs([("AZCOPY_CONCURRENCY_VALUE", "auto")])).unwrap();
        assert!(auto.http.max_idle_connections >= 32);
    }

    #[test]
    fn bad_values_are_usage_errors_naming_the_variable() {
        for (name, value) in
            [("FERRY_MAX_RETRIES", "many"), ("AZCOPY_CONCURRENCY_VALUE", "-3"), ("AZCOPY_REQUEST_TRY_TIMEOUT", "0")]
        {
            let err = Settings::resolve(&cli(), &Environment::from_pairs([(name, value)])).unwrap_err();
            assert_eq!(crate::ExitStatus::of(&err), crate::ExitStatus::Usage);
            assert!(err.message().contains(name), "{}", err.message());
        }
    }
}
