//! Errors by meaning.
//!
//! Backends translate what went wrong (an HTTP status, an `io::ErrorKind`) into an
//! [`ErrorKind`]; the engine decides what to do by looking only at the kind, never at HTTP codes.

use std::fmt;
use std::time::Duration;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What kind of failure this is, independent of the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The object, container or directory does not exist.
    NotFound,
    /// It exists already and the operation would not replace it.
    AlreadyExists,
    /// A condition (ETag, If-None-Match, lease) did not hold.
    PreconditionFailed,
    /// The caller is known but lacks permission (e.g. a read-only SAS used to write).
    PermissionDenied,
    /// The credential was refused (wrong key, bad or expired SAS, no credential).
    Unauthenticated,
    /// The service asked us to slow down.
    Throttled,
    /// A failure that may go away if retried (network error, 500, 503, timeout).
    Transient,
    /// The request itself was wrong (bad name, bad range, MD5 mismatch, bad block list).
    InvalidInput,
    /// The backend does not support this operation.
    NotSupported,
    /// In a server-side copy, the destination service could not read the source by its URL
    /// (it cannot reach it, or the source refused it: an expired presigned URL, say).
    SourceUnreadable,
    /// Anything else.
    Other,
}

impl ErrorKind {
    fn describe(self) -> &'static str {
        match self {
            Self::NotFound => "not found",
            Self::AlreadyExists => "already exists",
            Self::PreconditionFailed => "precondition failed",
            Self::PermissionDenied => "permission denied",
            Self::Unauthenticated => "authentication failed",
            Self::Throttled => "throttled by the service",
            Self::Transient => "transient failure",
            Self::InvalidInput => "invalid request",
            Self::NotSupported => "not supported",
            Self::SourceUnreadable => "the destination could not read the source",
            Self::Other => "failed",
        }
    }
}

/// A failed store operation: its kind, the object it was about (redacted), a message, an
/// optional fix, and the underlying cause.
#[derive(Debug, thiserror::Error)]
pub struct StoreError {
    kind: ErrorKind,
    target: String,
    message: String,
    hint: Option<String>,
    retry_after: Option<Duration>,
    status: Option<u16>,
    entry_only: bool,
    #[source]
    source: Option<BoxError>,
}

impl StoreError {
    /// A new error of `kind` about `target` (a key, a path or a redacted URL).
    pub fn new(kind: ErrorKind, target: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind,
            target: target.into(),
            message: message.into(),
            hint: None,
            retry_after: None,
            status: None,
            entry_only: false,
            source: None,
        }
    }

    /// Shorthand for a `NotFound` error.
    pub fn not_found(target: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, target, "does not exist")
    }

    /// Shorthand for a `NotSupported` error.
    pub fn not_supported(target: impl Into<String>, what: &str) -> Self {
        Self::new(ErrorKind::NotSupported, target, format!("{what} is not supported by this backend"))
    }

    /// Adds a hint telling the user how to fix it.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Records how long the service asked us to wait.
    #[must_use]
    pub fn with_retry_after(mut self, after: Option<Duration>) -> Self {
        self.retry_after = after;
        self
    }

    /// Records the HTTP status, for reports that show AzCopy's three-digit codes.
    #[must_use]
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Records the underlying cause.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The object, path or (redacted) URL the error is about.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The message, without the target.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// How to fix it, when known.
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// The wait the service asked for (`Retry-After`), if any.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The HTTP status, for HTTP backends.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// Marks a listing error as about one entry alone (a name that cannot become a key): the
    /// listing goes on past it. A sync still deletes nothing after one, since its view of the
    /// source is incomplete.
    #[must_use]
    pub fn for_one_entry(mut self) -> Self {
        self.entry_only = true;
        self
    }

    /// Whether this listing error is about one entry and the listing went on (see
    /// [`StoreError::for_one_entry`]).
    pub fn is_entry_only(&self) -> bool {
        self.entry_only
    }

    /// Whether trying the same operation again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind, ErrorKind::Throttled | ErrorKind::Transient)
    }

    /// Maps an I/O error on a local path to a store error of the right kind.
    pub fn from_io(err: std::io::Error, target: impl Into<String>) -> Self {
        use std::io::ErrorKind as Io;
        let kind = match err.kind() {
            Io::NotFound => ErrorKind::NotFound,
            Io::AlreadyExists => ErrorKind::AlreadyExists,
            Io::PermissionDenied => ErrorKind::PermissionDenied,
            Io::Interrupted | Io::TimedOut | Io::WouldBlock => ErrorKind::Transient,
            Io::InvalidInput | Io::InvalidFilename | Io::NotADirectory | Io::IsADirectory => ErrorKind::InvalidInput,
            _ => ErrorKind::Other,
        };
        let message = err.to_string();
        Self::new(kind, target, message).with_source(err)
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} `{}`: {}", self.kind.describe(), self.target, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_throttling_and_transient_failures_are_retryable() {
        let all = [
            ErrorKind::NotFound,
            ErrorKind::AlreadyExists,
            ErrorKind::PreconditionFailed,
            ErrorKind::PermissionDenied,
            ErrorKind::Unauthenticated,
            ErrorKind::Throttled,
            ErrorKind::Transient,
            ErrorKind::InvalidInput,
            ErrorKind::NotSupported,
            ErrorKind::Other,
        ];
        let retryable: Vec<_> = all.into_iter().filter(|k| StoreError::new(*k, "x", "m").is_retryable()).collect();
        assert_eq!(retryable, [ErrorKind::Throttled, ErrorKind::Transient]);
    }

    #[test]
    fn io_errors_map_by_meaning() {
        let e = StoreError::from_io(std::io::Error::from(std::io::ErrorKind::NotFound), "/a/b");
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(e.to_string().starts_with("not found `/a/b`"), "{e}");
    }
}
