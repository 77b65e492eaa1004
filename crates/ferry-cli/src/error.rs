//! Command failures and the exit codes they map to.

use ferry_core::LocationError;
use ferry_store::{ErrorKind, StoreError};

/// The process exit codes Ferry uses. Documented in the README; scripts rely on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: everything asked for was done.
    Success,
    /// 1: the command ran and failed (or some items failed).
    Failure,
    /// 2: the command line was wrong; nothing was done.
    Usage,
    /// 3: `verify` ran and found differences.
    Differences,
}

impl ExitStatus {
    /// The numeric code.
    pub fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::Failure => 1,
            Self::Usage => 2,
            Self::Differences => 3,
        }
    }
}

/// A failed command: one message, its causes, an optional hint, and how to exit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    message: String,
    causes: Vec<String>,
    hint: Option<String>,
    status: ExitStatus,
    store_kind: Option<ErrorKind>,
}

impl CliError {
    /// A usage error: the command line is wrong and nothing was done (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self { message: message.into(), causes: Vec::new(), hint: None, status: ExitStatus::Usage, store_kind: None }
    }

    /// A failure while doing the work (exit 1).
    pub fn failed(message: impl Into<String>) -> Self {
        Self { message: message.into(), causes: Vec::new(), hint: None, status: ExitStatus::Failure, store_kind: None }
    }

    /// `verify` found differences (exit 3).
    pub fn differences(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            causes: Vec::new(),
            hint: None,
            status: ExitStatus::Differences,
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

    /// How the process should exit.
    pub fn exit_status(&self) -> ExitStatus {
        self.status
    }
}

impl From<StoreError> for CliError {
    fn from(err: StoreError) -> Self {
        let mut out = Self::failed(err.to_string());
        out.store_kind = Some(err.kind());
        if let Some(hint) = err.hint() {
            out = out.with_hint(hint);
        }
        out
    }
}

impl From<LocationError> for CliError {
    fn from(err: LocationError) -> Self {
        Self::usage(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_stable() {
        assert_eq!(
            [ExitStatus::Success, ExitStatus::Failure, ExitStatus::Usage, ExitStatus::Differences]
                .map(ExitStatus::code),
            [0, 1, 2, 3]
        );
    }

    #[test]
    fn store_errors_fail_and_keep_their_hint() {
        let e: CliError = StoreError::new(ErrorKind::PermissionDenied, "box/a", "HTTP 403").with_hint("fix it").into();
        assert_eq!(e.exit_status(), ExitStatus::Failure);
        assert_eq!(e.hint(), Some("fix it"));
        assert!(e.message().contains("box/a"));
    }
}
