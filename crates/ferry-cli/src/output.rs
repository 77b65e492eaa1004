//! Files a command writes for the user (a shard plan, evidence): readable by the user only, and
//! whole or not at all — written beside the target and renamed into place.

use std::io::Write;
use std::path::Path;

use crate::CliError;

/// Writes `path` through `write`, privately and whole: a failure leaves no file (and an earlier
/// one as it was).
pub(crate) fn write_private<T>(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<T, CliError>,
) -> Result<T, CliError> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let cannot = |e: std::io::Error| CliError::failed(format!("cannot write `{}`: {e}", path.display()));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&temporary).map_err(cannot)?;
    let mut out = std::io::BufWriter::new(file);
    let result = write(&mut out).and_then(|value| {
        let file = out.into_inner().map_err(|e| cannot(e.into_error()))?;
        file.sync_all().map_err(cannot)?;
        std::fs::rename(&temporary, path).map_err(cannot)?;
        Ok(value)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}
