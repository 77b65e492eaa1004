//! How a job (or any command) fails: one message, its causes, a hint, and its class, which the
//! command line maps to an exit code.

use ferry_core::LocationError;
use ferry_store::{ErrorKind, StoreError};

/// What kind of failure an error is; the command line maps each to its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The work ran and failed (or some items failed).
    Failure,
    /// What was asked is wrong (a flag, a path, a variable); nothing was done.
    Usage,
    /// `verify` ran and found differences.
    Differences,
}

/// A failed job or command: one message, its causes, an optional hint, and its class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobError {
    message: String,
    causes: Vec<String>,
    hint: Option<String>,
    status: ErrorClass,
    store_kind: Option<ErrorKind>,
}

impl JobError {
    /// A usage error: the command line is wrong and nothing was done (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self { message: message.into(), causes: Vec::new(), hint: None, status: ErrorClass::Usage, store_kind: None }
    }

    /// A failure while doing the work (exit 1).
    pub fn failed(message: impl Into<String>) -> Self {
        Self { message: message.into(), causes: Vec::new(), hint: None, status: ErrorClass::Failure, store_kind: None }
    }

    /// `verify` found differences (exit 3).
    pub fn differences(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            causes: Vec::new(),
            hint: None,
            status: ErrorClass::Differences,
            store_kind: None,
        }
    }

    /// Adds a hint.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds a cause line.
    #[must_use]
    pub fn caused_by(mut self, cause: impl Into<String>) -> Self {
        self.causes.push(cause.into());
        self
    }

    /// The main message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Cause lines.
    pub fn causes(&self) -> &[String] {
        &self.causes
    }

    /// The hint, if any.
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// The kind of store failure behind this error, if it came from a store.
    pub fn store_kind(&self) -> Option<ErrorKind> {
        self.store_kind
    }

    /// What kind of failure this is.
    pub fn class(&self) -> ErrorClass {
        self.status
    }
}

impl From<StoreError> for JobError {
    fn from(err: StoreError) -> Self {
        let mut out = Self::failed(err.to_string());
        out.store_kind = Some(err.kind());
        if let Some(hint) = err.hint() {
            out = out.with_hint(hint);
        }
        out
    }
}

impl From<LocationError> for JobError {
    fn from(err: LocationError) -> Self {
        Self::usage(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_fail_and_keep_their_hint() {
        let e: JobError = StoreError::new(ErrorKind::PermissionDenied, "box/a", "HTTP 403").with_hint("fix it").into();
        assert_eq!(e.class(), ErrorClass::Failure);
        assert_eq!(e.hint(), Some("fix it"));
        assert!(e.message().contains("box/a"));
    }
}
