//! Each job's log file: private (0600 in a 0700 folder), capped in size, and fed by `tracing`.
//!
//! A job runs inside a `job` span with its id; [`JobLogLayer`] sends each event in that span to
//! that job's file, at the job's level. Events outside any job span (from tasks a job spawned,
//! such as an HTTP retry) go to the one open log when exactly one is open, as they did when a
//! process ran one job. Job events proper (target [`JOB_TARGET`]: the header, failure lines,
//! the summary) are written by a reporter; nothing here formats them.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::context::{LogLevel, StateDirs};

/// The target of events that belong in the job log only (the terminal shows them already).
pub const JOB_TARGET: &str = "ferry::job";

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

/// One open job log.
struct OpenLog {
    id: String,
    level: LogLevel,
    writer: CappedWriter<File>,
}

/// The open job logs. The `tracing` subscriber is process-wide, so the table it writes to is too;
/// each job adds its own entry and removes it when its [`JobLog`] is dropped.
static OPEN: Mutex<Vec<OpenLog>> = Mutex::new(Vec::new());

/// A job's open log; closed (flushed and removed) when dropped.
#[derive(Debug)]
pub(crate) struct JobLog {
    id: String,
    path: PathBuf,
}

impl JobLog {
    /// Opens `DIR/JOBID.log` at the configured level; `None` at [`LogLevel::None`].
    pub(crate) fn open(dirs: &StateDirs, job_id: &str) -> io::Result<Option<Self>> {
        if dirs.log_level == LogLevel::None {
            return Ok(None);
        }
        ferry_journal::check_private_dir(&dirs.logs).map_err(io::Error::other)?;
        if !ferry_journal::is_job_id(job_id) {
            return Err(io::Error::other(format!("`{job_id}` is not a job id")));
        }
        fs::DirBuilder::new().recursive(true).mode(0o700).create(&dirs.logs)?;
        let path = dirs.logs.join(format!("{job_id}.log"));
        let file = OpenOptions::new().create(true).append(true).mode(0o600).open(&path)?;
        let log =
            OpenLog { id: job_id.to_owned(), level: dirs.log_level, writer: CappedWriter::new(file, dirs.log_cap) };
        if let Ok(mut open) = OPEN.lock() {
            open.retain(|l| l.id != job_id);
            open.push(log);
        }
        Ok(Some(Self { id: job_id.to_owned(), path }))
    }

    /// Where it is.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for JobLog {
    fn drop(&mut self) {
        if let Ok(mut open) = OPEN.lock()
            && let Some(at) = open.iter().position(|l| l.id == self.id)
        {
            let mut log = open.remove(at);
            let _ = log.writer.flush();
        }
    }
}

/// The job id a `job` span carries, kept in the span's extensions.
struct JobSpanId(String);

/// Finds the `id` field of a `job` span.
#[derive(Default)]
struct IdVisitor(Option<String>);

impl Visit for IdVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "id" {
            self.0 = Some(format!("{value:?}").trim_matches('"').to_owned());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "id" {
            self.0 = Some(value.to_owned());
        }
    }
}

/// An event's message and fields, as one line.
#[derive(Default)]
struct LineVisitor(String);

impl Visit for LineVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write as _;
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        use std::fmt::Write as _;
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
}

fn level_of(level: Level) -> LogLevel {
    match level {
        Level::ERROR => LogLevel::Error,
        Level::WARN => LogLevel::Warning,
        Level::INFO => LogLevel::Info,
        _ => LogLevel::Debug,
    }
}

/// The `tracing` layer that writes job logs. Install it once, beside the standard-error layer.
pub struct JobLogLayer;

impl<S: Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for JobLogLayer {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != "job" {
            return;
        }
        let mut visitor = IdVisitor::default();
        attrs.record(&mut visitor);
        if let (Some(job), Some(span)) = (visitor.0, ctx.span(id)) {
            span.extensions_mut().insert(JobSpanId(job));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        if meta.target().starts_with("hyper") || meta.target().starts_with("reqwest") {
            return;
        }
        let job = ctx.event_scope(event).and_then(|scope| {
            scope.from_root().filter_map(|span| span.extensions().get::<JobSpanId>().map(|j| j.0.clone())).last()
        });
        let Ok(mut open) = OPEN.lock() else { return };
        let log = match &job {
            Some(id) => open.iter_mut().find(|l| &l.id == id),
            None if open.len() == 1 => open.first_mut(),
            None => None,
        };
        let Some(log) = log else { return };
        if level_of(*meta.level()) > log.level {
            return;
        }
        let mut line = LineVisitor::default();
        event.record(&mut line);
        let at =
            time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        let _ = writeln!(log.writer, "{at} {:>5} {}", meta.level(), line.0);
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
