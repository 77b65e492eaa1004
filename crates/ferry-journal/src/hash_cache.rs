//! MD5s of local files, computed once and kept with the file's size and modification time.
//!
//! `sync --compare-hash MD5` needs an MD5 for every local file, and reading millions of files
//! on every run would defeat a no-op sync. An entry is used only while the file's size and
//! modification time (to the nanosecond) are what they were when it was hashed.

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

use crate::JournalError;

/// A cache of local file MD5s in one SQLite file.
#[derive(Debug)]
pub struct HashCache {
    conn: Mutex<Connection>,
    path: String,
}

impl HashCache {
    /// Opens (or creates) the cache at `path`.
    pub fn open(path: &Path) -> Result<Self, JournalError> {
        let shown = path.display().to_string();
        let sqlite = |source| JournalError::Sqlite { path: shown.clone(), source };
        let io = |source, p: &Path| JournalError::Io { path: p.display().to_string(), source };
        if let Some(dir) = path.parent() {
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|e| io(e, dir))?;
        }
        // Created private first, so SQLite's own files (which copy its mode) are private too: the
        // cache names the user's files.
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| io(e, path))?;
        let conn = Connection::open(path).map_err(sqlite)?;
        // Only a cache: losing the last writes on a crash costs a re-hash, nothing else.
        conn.pragma_update(None, "journal_mode", "WAL").map_err(sqlite)?;
        conn.pragma_update(None, "synchronous", "OFF").map_err(sqlite)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(sqlite)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS md5 (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, md5 BLOB NOT NULL) WITHOUT ROWID",
        )
        .map_err(sqlite)?;
        Ok(Self { conn: Mutex::new(conn), path: shown })
    }

    /// The cached MD5 of `path`, if it was hashed at this size and modification time.
    pub fn get(&self, path: &str, size: u64, mtime_ns: i64) -> Option<[u8; 16]> {
        let conn = self.conn.lock().ok()?;
        let found: Option<Vec<u8>> = conn
            .prepare_cached("SELECT md5 FROM md5 WHERE path = ?1 AND size = ?2 AND mtime_ns = ?3")
            .and_then(|mut s| {
                s.query_row(params![path, i64::try_from(size).unwrap_or(i64::MAX), mtime_ns], |r| r.get(0)).optional()
            })
            .ok()
            .flatten();
        found.and_then(|v| v.try_into().ok())
    }

    /// Records the MD5 of `path` at this size and modification time.
    pub fn put(&self, path: &str, size: u64, mtime_ns: i64, md5: [u8; 16]) -> Result<(), JournalError> {
        let conn = self.conn.lock().map_err(|_| JournalError::WriterGone)?;
        conn.prepare_cached("INSERT OR REPLACE INTO md5 (path, size, mtime_ns, md5) VALUES (?1, ?2, ?3, ?4)")
            .and_then(|mut s| {
                s.execute(params![path, i64::try_from(size).unwrap_or(i64::MAX), mtime_ns, md5.as_slice()])
            })
            .map(|_| ())
            .map_err(|source| JournalError::Sqlite { path: self.path.clone(), source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_hold_only_for_the_same_size_and_time() {
        let dir = tempfile::tempdir().unwrap();
        let cache = HashCache::open(&dir.path().join("sub/hashes.db")).unwrap();
        cache.put("/a", 10, 5, [7; 16]).unwrap();
        assert_eq!(cache.get("/a", 10, 5), Some([7; 16]));
        assert_eq!(cache.get("/a", 11, 5), None, "another size");
        assert_eq!(cache.get("/a", 10, 6), None, "another time");
        cache.put("/a", 10, 6, [8; 16]).unwrap();
        assert_eq!(cache.get("/a", 10, 6), Some([8; 16]));
        drop(cache);
        let again = HashCache::open(&dir.path().join("sub/hashes.db")).unwrap();
        assert_eq!(again.get("/a", 10, 6), Some([8; 16]), "kept across runs");
    }
}
