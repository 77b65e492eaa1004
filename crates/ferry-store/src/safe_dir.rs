//! Directories reached without following symbolic links below a store's root.
//!
//! Every write, create, rename and delete of the local backend goes through a [`SafeDir`]: the
//! directory that holds the target, reached from the root one component at a time with
//! `O_NOFOLLOW | O_DIRECTORY`, and then used by handle (`openat`, `renameat`, `linkat`,
//! `unlinkat`). A symbolic link below the root is refused with a clear error, and a directory
//! swapped for a link after it was opened is never traversed: the handle names the directory
//! itself, not a path to it. The root may itself be a link: the user named it.

use std::fs;
use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, CWD, FileType, Mode, OFlags};
use rustix::io::Errno;

use crate::{ErrorKind, Result, StoreError};

/// A directory at or below a store's root, opened by handle.
#[derive(Debug)]
pub(crate) struct SafeDir {
    fd: OwnedFd,
    path: PathBuf,
}

const DIR_FLAGS: OFlags = OFlags::DIRECTORY.union(OFlags::RDONLY).union(OFlags::CLOEXEC);

/// The error for a link met below the root.
pub(crate) fn link_refused(path: &Path) -> StoreError {
    StoreError::new(
        ErrorKind::InvalidInput,
        path.display().to_string(),
        "is a symbolic link; Ferry never writes, creates or deletes through a link below the destination",
    )
    .with_hint("remove the link, or name the folder it points to as the destination")
}

impl SafeDir {
    /// Opens the directory `segments` below `root`, creating missing ones (and the root) when
    /// `create` is set.
    pub(crate) fn open(root: &Path, segments: &[&str], create: bool) -> Result<Self> {
        if create && !root.is_dir() {
            fs::create_dir_all(root).map_err(|e| StoreError::from_io(e, root.display().to_string()))?;
        }
        let fd = rustix::fs::openat(CWD, root, DIR_FLAGS, Mode::empty())
            .map_err(|e| StoreError::from_io(e.into(), root.display().to_string()))?;
        let mut dir = Self { fd, path: root.to_path_buf() };
        for segment in segments {
            dir = dir.subdir(segment, create)?;
        }
        Ok(dir)
    }

    /// The path of this directory, for messages.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The path of `name` in this directory, for messages.
    pub(crate) fn shown(&self, name: &str) -> String {
        self.path.join(name).display().to_string()
    }

    /// Opens the directory `name` in this one without following a link, creating it if asked.
    pub(crate) fn subdir(&self, name: &str, create: bool) -> Result<Self> {
        let path = self.path.join(name);
        let mut created = false;
        loop {
            match rustix::fs::openat(&self.fd, name, DIR_FLAGS | OFlags::NOFOLLOW, Mode::empty()) {
                Ok(fd) => return Ok(Self { fd, path }),
                Err(Errno::NOENT) if create && !created => {
                    created = true;
                    match rustix::fs::mkdirat(&self.fd, name, Mode::from_raw_mode(0o777)) {
                        Ok(()) | Err(Errno::EXIST) => {}
                        Err(e) => return Err(StoreError::from_io(e.into(), path.display().to_string())),
                    }
                }
                Err(e @ (Errno::LOOP | Errno::NOTDIR)) => {
                    return Err(if self.is_link(name) {
                        link_refused(&path)
                    } else {
                        StoreError::from_io(e.into(), path.display().to_string())
                    });
                }
                Err(e) => return Err(StoreError::from_io(e.into(), path.display().to_string())),
            }
        }
    }

    fn is_link(&self, name: &str) -> bool {
        self.stat(name).ok().flatten().is_some_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Symlink)
    }

    /// What `name` is, without following a link; `None` when nothing has that name.
    pub(crate) fn stat(&self, name: &str) -> io::Result<Option<rustix::fs::Stat>> {
        match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(Some(st)),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Creates the file `name`, which must not exist (not even as a link), for reading and
    /// writing. Its mode is 0666 less the umask, as for any new file.
    pub(crate) fn create_new(&self, name: &str) -> io::Result<fs::File> {
        let flags = OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::RDWR | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.fd, name, flags, Mode::from_raw_mode(0o666))?;
        Ok(fs::File::from(fd))
    }

    /// Opens the existing file `name` for reading (and writing when `write`), refusing a link.
    pub(crate) fn open_file(&self, name: &str, write: bool) -> io::Result<fs::File> {
        let access = if write { OFlags::RDWR } else { OFlags::RDONLY };
        let fd = rustix::fs::openat(&self.fd, name, access | OFlags::NOFOLLOW | OFlags::CLOEXEC, Mode::empty())
            .map_err(|e| if e == Errno::LOOP { io::Error::other("is a symbolic link") } else { e.into() })?;
        Ok(fs::File::from(fd))
    }

    /// Renames `from` to `to`, both in this directory; a link at `to` is replaced, not followed.
    pub(crate) fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        Ok(rustix::fs::renameat(&self.fd, from, &self.fd, to)?)
    }

    /// Links `from` as `to` (fails when `to` exists: the atomic "create if absent").
    pub(crate) fn link(&self, from: &str, to: &str) -> io::Result<()> {
        Ok(rustix::fs::linkat(&self.fd, from, &self.fd, to, AtFlags::empty())?)
    }

    /// Makes `name` a symbolic link to `target` (which is not looked at or followed).
    pub(crate) fn symlink(&self, target: &str, name: &str) -> io::Result<()> {
        Ok(rustix::fs::symlinkat(target, &self.fd, name)?)
    }

    /// Removes the file (or link) `name`; a link is removed itself, never its target.
    pub(crate) fn unlink(&self, name: &str) -> io::Result<()> {
        Ok(rustix::fs::unlinkat(&self.fd, name, AtFlags::empty())?)
    }

    /// Removes the empty directory `name`.
    pub(crate) fn remove_dir(&self, name: &str) -> io::Result<()> {
        Ok(rustix::fs::unlinkat(&self.fd, name, AtFlags::REMOVEDIR)?)
    }

    /// Gives `file` the permissions and owner of the regular file `name` that it is about to
    /// replace, so replacing a private file never widens who can read it. Best effort for the
    /// owner (only root may give a file away); the mode must take.
    pub(crate) fn copy_access_of(&self, name: &str, file: &fs::File) -> io::Result<()> {
        let Some(old) = self.stat(name)? else { return Ok(()) };
        if FileType::from_raw_mode(old.st_mode) != FileType::RegularFile {
            return Ok(());
        }
        let new = rustix::fs::fstat(file)?;
        if (new.st_uid, new.st_gid) != (old.st_uid, old.st_gid) {
            let owner = rustix::fs::Uid::from_raw(old.st_uid);
            let group = rustix::fs::Gid::from_raw(old.st_gid);
            if rustix::fs::fchown(file, Some(owner), Some(group)).is_err() {
                // Not allowed to give it the old owner: keep ours, but at most the old bits.
                let _ = rustix::fs::fchown(file, None, Some(group));
            }
        }
        Ok(rustix::fs::fchmod(file, Mode::from_raw_mode(old.st_mode & 0o777))?)
    }
}

/// Whether `file` (just opened) is a regular file owned by this user, `size` bytes long.
pub(crate) fn is_own_regular_file(file: &fs::File, size: u64) -> bool {
    rustix::fs::fstat(file).is_ok_and(|st| {
        FileType::from_raw_mode(st.st_mode) == FileType::RegularFile
            && st.st_uid == rustix::process::geteuid().as_raw()
            && u64::try_from(st.st_size).ok() == Some(size)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_below_the_root_are_refused_and_never_created_through() {
        let work = tempfile::tempdir().unwrap();
        let (root, outside) = (work.path().join("root"), work.path().join("outside"));
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("link")).unwrap();
        let err = SafeDir::open(&root, &["link", "deeper"], true).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert!(!outside.join("deeper").exists(), "nothing created through the link");
        // The root itself may be a link: the user named it.
        std::os::unix::fs::symlink(&root, work.path().join("root-link")).unwrap();
        let dir = SafeDir::open(&work.path().join("root-link"), &["a", "b"], true).unwrap();
        dir.create_new("f").unwrap();
        assert!(root.join("a/b/f").is_file());
    }

    #[test]
    fn create_new_refuses_an_existing_link() {
        let work = tempfile::tempdir().unwrap();
        fs::write(work.path().join("victim"), b"precious").unwrap();
        std::os::unix::fs::symlink(work.path().join("victim"), work.path().join("tmp")).unwrap();
        let dir = SafeDir::open(work.path(), &[], false).unwrap();
        assert!(dir.create_new("tmp").is_err());
        assert!(dir.open_file("tmp", true).is_err());
        assert_eq!(fs::read(work.path().join("victim")).unwrap(), b"precious");
    }
}
