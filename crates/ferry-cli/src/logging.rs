//! Diagnostics: standard error for the user, and a log file per job.
//!
//! `tracing` events go to standard error filtered by `FERRY_LOG` (default `warn`), and, once a
//! job has started, to its log file at the `--log-level` (default `INFO`). Job events (target
//! `ferry::job`: the header and per-item failure lines) go only to the file, since the reporter
//! already shows them. Log files are private to the user (0600) and never hold a secret: every
//! URL is redacted before it is logged.

use std::fs::{self, File, OpenOptions};
use std::io::{self, IsTerminal, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};

use tracing::Level;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{EnvFilter, filter_fn};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The target of job events that belong in the job log only.
pub const JOB_TARGET: &str = "ferry::job";

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

impl LogLevel {
    fn code(self) -> u8 {
        match self {
            Self::None => 0,
            Self::Error => 1,
            Self::Warning => 2,
            Self::Info => 3,
            Self::Debug => 4,
        }
    }
}

fn level_code(level: Level) -> u8 {
    match level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        _ => 4,
    }
}

/// A writer that stops at `cap` bytes, noting once that the rest was left out, so a job's log
/// cannot fill a disk (AzCopy's logs grow without bound).
pub struct CappedWriter<W: Write> {
    inner: W,
    written: u64,
    cap: u64,
    truncated: bool,
}

impl<W: Write> CappedWriter<W> {
    /// Wraps `inner`, allowing at most `cap` bytes.
    pub fn new(inner: W, cap: u64) -> Self {
        Self { inner, written: 0, cap, truncated: false }
    }
}

impl<W: Write> Write for CappedWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.written + buf.len() as u64 <= self.cap {
            self.inner.write_all(buf)?;
            self.written += buf.len() as u64;
        } else if !self.truncated {
            self.truncated = true;
            let note = format!("[the log reached its size cap of {} bytes; later lines are left out]\n", self.cap);
            self.inner.write_all(note.as_bytes())?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The largest a job log may grow: `FERRY_LOG_MAX_MB` (default 512).
pub fn log_cap(env: &crate::Environment) -> u64 {
    env.get("FERRY_LOG_MAX_MB").and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(512).max(1) * 1024 * 1024
}

/// The open job log, if any, and the level it takes.
static JOB_LOG: OnceLock<Mutex<Option<CappedWriter<File>>>> = OnceLock::new();
static JOB_LOG_LEVEL: AtomicU8 = AtomicU8::new(0);

fn job_log() -> &'static Mutex<Option<CappedWriter<File>>> {
    JOB_LOG.get_or_init(|| Mutex::new(None))
}

/// Writes to the job log when one is open; otherwise discards.
#[derive(Clone, Copy)]
struct JobLogWriter;

impl Write for JobLogWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match job_log().lock() {
            Ok(mut guard) => match guard.as_mut() {
                Some(file) => file.write(buf),
                None => Ok(buf.len()),
            },
            Err(_) => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match job_log().lock() {
            Ok(mut guard) => guard.as_mut().map_or(Ok(()), Write::flush),
            Err(_) => Ok(()),
        }
    }
}

impl<'a> MakeWriter<'a> for JobLogWriter {
    type Writer = Self;
    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
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
    let file =
        tracing_subscriber::fmt::layer().with_writer(JobLogWriter).with_ansi(false).with_target(false).with_filter(
            filter_fn(|meta| {
                let wanted = JOB_LOG_LEVEL.load(Ordering::Relaxed);
                wanted > 0
                    && level_code(*meta.level()) <= wanted
                    && !meta.target().starts_with("hyper")
                    && !meta.target().starts_with("reqwest")
            }),
        );
    let _ = tracing_subscriber::registry().with(stderr).with(file).try_init();
}

/// Where job logs go: `FERRY_LOG_LOCATION`, else `AZCOPY_LOG_LOCATION`, else `~/.ferry/logs`.
pub fn log_dir(env: &crate::Environment) -> PathBuf {
    if let Some(dir) = env.get("FERRY_LOG_LOCATION").or_else(|| env.get("AZCOPY_LOG_LOCATION")) {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map_or_else(std::env::temp_dir, PathBuf::from);
    home.join(".ferry").join("logs")
}

/// Opens `DIR/JOBID.log` (0600, in a 0700 directory) as the job log at `level`. Returns its
/// path, or `None` for `--log-level NONE`.
pub fn open_job_log(dir: &Path, job_id: &str, level: LogLevel, cap: u64) -> io::Result<Option<PathBuf>> {
    if level == LogLevel::None {
        return Ok(None);
    }
    ferry_journal::check_private_dir(dir).map_err(io::Error::other)?;
    if !ferry_journal::is_job_id(job_id) {
        return Err(io::Error::other(format!("`{job_id}` is not a job id")));
    }
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    let path = dir.join(format!("{job_id}.log"));
    let file = OpenOptions::new().create(true).append(true).mode(0o600).open(&path)?;
    if let Ok(mut guard) = job_log().lock() {
        *guard = Some(CappedWriter::new(file, cap));
    }
    JOB_LOG_LEVEL.store(level.code(), Ordering::Relaxed);
    Ok(Some(path))
}

/// Flushes and closes the job log.
pub fn close_job_log() {
    JOB_LOG_LEVEL.store(0, Ordering::Relaxed);
    if let Ok(mut guard) = job_log().lock()
        && let Some(mut file) = guard.take()
    {
        let _ = file.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_holds_and_is_noted_once() {
        let mut w = CappedWriter::new(Vec::new(), 10);
        w.write_all(b"12345").unwrap();
        w.write_all(b"67890").unwrap();
        w.write_all(b"over").unwrap();
        w.write_all(b"more").unwrap();
        let text = String::from_utf8(w.inner).unwrap();
        assert!(text.starts_with("1234567890[the log reached its size cap of 10 bytes"), "{text}");
        assert_eq!(text.matches("size cap").count(), 1);
    }
}
