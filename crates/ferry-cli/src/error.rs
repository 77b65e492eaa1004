//! The process exit codes, and how a failure maps to one.

use ferry_job::ErrorClass;
pub use ferry_job::JobError as CliError;

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

    /// How a process that failed with `err` exits.
    pub fn of(err: &CliError) -> Self {
        match err.class() {
            ErrorClass::Failure => Self::Failure,
            ErrorClass::Usage => Self::Usage,
            ErrorClass::Differences => Self::Differences,
        }
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
        assert_eq!(ExitStatus::of(&CliError::usage("x")), ExitStatus::Usage);
        assert_eq!(ExitStatus::of(&CliError::differences("x")), ExitStatus::Differences);
    }
}
