//! Files a command writes for the user (a shard plan, evidence): readable by the user only, and
//! whole or not at all ([`ferry_job::write_whole`]).

use std::io::Write;
use std::path::Path;

use crate::CliError;

/// Writes `path` through `write`, privately and whole: a failure leaves no file (and an earlier
/// one as it was), and is named with the path.
pub(crate) fn write_private<T>(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<T, CliError>,
) -> Result<T, CliError> {
    let mut failure = None;
    let written = ferry_job::write_whole(path, |out| {
        write(out).map_err(|e| {
            let io = std::io::Error::other(e.message().to_owned());
            failure = Some(e);
            io
        })
    });
    written.map_err(|e| failure.unwrap_or_else(|| CliError::failed(format!("cannot write `{}`: {e}", path.display()))))
}
