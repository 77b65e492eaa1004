//! Writes around the page cache (`O_DIRECT`), for a download's partial file.
//!
//! Why: a verified download of a large file used to write every byte into the page cache and read
//! it back for the in-order MD5. On the benchmark VM each new page-cache page costs the host a
//! fault (freed memory is handed back to it): `dd` of 1 GiB took 1.5–2.7 s of system time
//! buffered and 0.2–0.3 s with `oflag=direct`. Held in memory until hashed and written direct, a
//! range costs neither the page nor the read-back (`bench/receive-ceiling`, `HASH=memory DIRECT=1`).
//!
//! The direct handle is a second open of the same file through `/proc/self/fd` (never a path
//! lookup in the destination, which could have been swapped meanwhile) and must name the same
//! inode. Where that or a direct write is refused (a filesystem without `O_DIRECT`, no `/proc`),
//! the writes go through the page cache as before. `FERRY_DIRECT_WRITES=off` turns it off.

use std::fs;
use std::sync::atomic::{AtomicBool, Ordering};

/// A handle on a partial file that writes around the page cache, while the file takes it.
pub(crate) struct DirectFile {
    file: fs::File,
    /// Set at the first refusal (`EINVAL`): the filesystem cannot, so later writes do not try.
    refused: AtomicBool,
}

impl DirectFile {
    /// Opens `file` again for direct writes; `None` where it cannot be (or is turned off).
    pub(crate) fn reopen(file: &fs::File) -> Option<Self> {
        if std::env::var("FERRY_DIRECT_WRITES").is_ok_and(|v| v.trim().eq_ignore_ascii_case("off")) {
            return None;
        }
        let file = reopen_direct(file)?;
        Some(Self { file, refused: AtomicBool::new(false) })
    }

    /// Whether direct writes are still worth trying.
    pub(crate) fn usable(&self) -> bool {
        !self.refused.load(Ordering::Relaxed)
    }

    /// Writes `data` at `offset` around the page cache; `Ok(false)` (nothing written) when the
    /// arguments are not aligned or the filesystem refuses.
    pub(crate) fn write_at(&self, offset: u64, data: &[u8]) -> std::io::Result<bool> {
        use std::os::unix::fs::FileExt;
        let align = ferry_core::DIRECT_ALIGN;
        let aligned = offset.is_multiple_of(align as u64)
            && data.len().is_multiple_of(align)
            && data.as_ptr().align_offset(align) == 0;
        if !aligned || !self.usable() {
            return Ok(false);
        }
        match self.file.write_all_at(data, offset) {
            Ok(()) => Ok(true),
            // Refused before anything was written (EINVAL is checked up front by the kernel).
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::INVAL.raw_os_error()) && !data.is_empty() => {
                tracing::debug!("direct writes refused here ({e}); writing through the page cache");
                self.refused.store(true, Ordering::Relaxed);
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(target_os = "linux")]
fn reopen_direct(file: &fs::File) -> Option<fs::File> {
    use rustix::fs::{Mode, OFlags};
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::MetadataExt;
    let path = format!("/proc/self/fd/{}", file.as_raw_fd());
    let direct = rustix::fs::open(path.as_str(), OFlags::WRONLY | OFlags::DIRECT | OFlags::CLOEXEC, Mode::empty());
    let direct = fs::File::from(direct.ok()?);
    let (was, is) = (file.metadata().ok()?, direct.metadata().ok()?);
    (was.dev() == is.dev() && was.ino() == is.ino()).then_some(direct)
}

#[cfg(not(target_os = "linux"))]
fn reopen_direct(_file: &fs::File) -> Option<fs::File> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileExt;

    /// Memory aligned for direct writes: a slice of a larger vector.
    fn aligned(len: usize, fill: u8) -> (Vec<u8>, usize) {
        let mut v = vec![fill; len + ferry_core::DIRECT_ALIGN];
        let at = v.as_ptr().align_offset(ferry_core::DIRECT_ALIGN);
        v[at..at + len].iter_mut().enumerate().for_each(|(i, b)| *b = (i % 253) as u8 ^ fill);
        (v, at)
    }

    #[test]
    fn aligned_writes_land_and_unaligned_ones_are_declined() {
        // Beside the sources, on the disk the checkout is on (the system's temporary folder may be
        // a tmpfs, which takes no direct writes before Linux 6.6).
        let dir = tempfile::Builder::new().prefix(".direct-write-test").tempdir_in(env!("CARGO_MANIFEST_DIR")).unwrap();
        let path = dir.path().join("partial");
        let file = fs::File::options().create(true).truncate(true).read(true).write(true).open(&path).unwrap();
        file.set_len(3 * 8192).unwrap();
        let direct = DirectFile::reopen(&file).expect("the checkout's filesystem takes O_DIRECT");
        let (v, at) = aligned(8192, 5);
        assert!(direct.write_at(8192, &v[at..at + 8192]).unwrap(), "an aligned write is taken");
        // Unaligned offset, length or memory: declined, nothing written.
        assert!(!direct.write_at(100, &v[at..at + 8192]).unwrap());
        assert!(!direct.write_at(0, &v[at..at + 100]).unwrap());
        assert!(!direct.write_at(0, &v[at + 1..at + 1 + 4096]).unwrap());
        let mut back = vec![0u8; 3 * 8192];
        file.read_exact_at(&mut back, 0).unwrap();
        assert!(back[..8192].iter().all(|b| *b == 0), "the declined writes wrote nothing");
        assert_eq!(&back[8192..16384], &v[at..at + 8192]);
        assert!(direct.usable());
        assert!(back[16384..].iter().all(|b| *b == 0));
    }
}
