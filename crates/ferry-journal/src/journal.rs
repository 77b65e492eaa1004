//! The journal file, its writer thread and its queries.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::oneshot;

use crate::model::{ItemRow, ItemStatus, JobRow, JobSpec, JobStatus, StatusCount};

/// A journal operation failed.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The database refused an operation.
    #[error("job journal `{path}`: {source}")]
    Sqlite {
        /// The journal file.
        path: String,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },
    /// A file could not be created or removed.
    #[error("job journal `{path}`: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// No such job.
    #[error("there is no job `{0}`")]
    NoSuchJob(String),
    /// Another Ferry process is running this job.
    #[error(
        "job `{0}` is being run by another Ferry process; wait for it to end (`ferry jobs show {0}` shows its progress)"
    )]
    Busy(String),
    /// The folder is not private to this user.
    #[error(
        "`{path}` {why}; Ferry keeps job journals and logs only in a folder that is yours and that no one else can write to (fix: `chmod 700 {path}`, or choose another folder with FERRY_JOB_PLAN_LOCATION / FERRY_LOG_LOCATION)"
    )]
    UnsafeDir {
        /// The folder.
        path: String,
        /// What is wrong with it.
        why: String,
    },
    /// Not a job id: it would name a file outside the plans folder, or none Ferry made.
    #[error("`{0}` is not a job id (32 hexadecimal digits, or a UUID)")]
    InvalidJobId(String),
    /// The writer thread is gone (the process is shutting down).
    #[error("the journal writer has stopped")]
    WriterGone,
}

pub(crate) type Result<T, E = JournalError> = std::result::Result<T, E>;

/// Refuses a plans or logs folder that another user owns or that others may write to, as ssh
/// does for `~/.ssh`: whoever can write there can plant a journal that `jobs resume` would run,
/// or swap a log for a link. A folder that does not exist yet is fine (Ferry creates it 0700).
pub fn check_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt as _;
    let meta = match fs::metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(JournalError::Io { path: dir.display().to_string(), source }),
    };
    let unsafe_dir = |why: String| Err(JournalError::UnsafeDir { path: dir.display().to_string(), why });
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return unsafe_dir(format!("belongs to user id {}, not to you ({me})", meta.uid()));
    }
    if meta.mode() & 0o022 != 0 {
        return unsafe_dir(format!("can be written by others (mode {:o})", meta.mode() & 0o7777));
    }
    Ok(())
}

/// Takes the job's run lock (an exclusive `flock` on its journal file, released when the
/// process ends, however it ends), so two `jobs resume` of one job never run at once.
fn lock_job(path: &Path, job_id: &str) -> Result<fs::File> {
    let file = fs::File::open(path).map_err(|source| JournalError::Io { path: path.display().to_string(), source })?;
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(file),
        Err(rustix::io::Errno::WOULDBLOCK) => Err(JournalError::Busy(job_id.to_owned())),
        Err(e) => Err(JournalError::Io { path: path.display().to_string(), source: e.into() }),
    }
}

/// Whether `id` has the shape of a job id: 32 hexadecimal digits (Ferry's), or a hyphenated
/// UUID (AzCopy's). Nothing else may become a file name in the plans or logs folders.
pub fn is_job_id(id: &str) -> bool {
    let hex = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
    match id.len() {
        32 => hex(id),
        36 => {
            let parts: Vec<&str> = id.split('-').collect();
            parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12]) && parts.iter().all(|p| hex(p))
        }
        _ => false,
    }
}

/// The journal file of `job_id` in `dir`; an error when `job_id` is not a job id.
pub fn job_path(dir: &Path, job_id: &str) -> Result<PathBuf> {
    if !is_job_id(job_id) {
        return Err(JournalError::InvalidJobId(job_id.to_owned()));
    }
    Ok(dir.join(format!("{job_id}.db")))
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS job (
    id TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    status TEXT NOT NULL,
    scan_complete INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS item (
    source TEXT PRIMARY KEY,
    destination TEXT NOT NULL,
    size INTEGER NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    http_status INTEGER
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chunk (
    source TEXT NOT NULL,
    tag TEXT NOT NULL,
    offset INTEGER NOT NULL,
    PRIMARY KEY (source, tag, offset)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS upload (
    source TEXT NOT NULL,
    tag TEXT NOT NULL,
    session TEXT NOT NULL,
    PRIMARY KEY (source, tag)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deletion (
    destination TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    http_status INTEGER
) WITHOUT ROWID;
";

/// The journal's schema version (SQLite's `user_version`). 1 is the schema above less `upload`,
/// as journals written before versioning have it (their `user_version` is 0); 2 adds
/// `job.progress`, the heartbeat another process reads to show a running job's progress; 3 adds
/// `upload`, the multipart upload session (S3's upload id) each partly uploaded object is in;
/// 4 adds what a job's evidence shows ([`EVIDENCE_COLUMNS`]).
pub const SCHEMA_VERSION: i64 = 4;

/// Columns schema 4 adds (table, column, declaration): per item the source's modification time
/// (Unix nanoseconds), its MD5 (stored at the source or computed while copying), how many times
/// it was started, when it ended (Unix milliseconds) and why it was skipped; when a deletion
/// ended; when the job ended, which Ferry created it, and whose identity it signed in as.
const EVIDENCE_COLUMNS: [(&str, &str, &str); 10] = [
    ("item", "modified", "INTEGER"),
    ("item", "md5", "BLOB"),
    ("item", "attempts", "INTEGER NOT NULL DEFAULT 0"),
    ("item", "finished_at", "INTEGER"),
    ("item", "reason", "TEXT"),
    ("deletion", "finished_at", "INTEGER"),
    ("job", "ended_at", "INTEGER"),
    ("job", "ferry_version", "TEXT"),
    ("job", "started_at", "INTEGER"),
    ("job", "identity", "TEXT"),
];

/// Schema 4: what a sync left alone (both sides the same) and why, apart from the items it
/// worked on, so a resumed job still copies an item that changed since.
const SKIP_TABLE: &str = "CREATE TABLE IF NOT EXISTS skip (
    source TEXT PRIMARY KEY, destination TEXT NOT NULL, size INTEGER NOT NULL, modified INTEGER, md5 BLOB,
    reason TEXT NOT NULL, finished_at INTEGER
) WITHOUT ROWID;";

/// Adds `column` to `table` unless it is there.
fn add_column(conn: &Connection, table: &str, column: &str, declaration: &str) -> rusqlite::Result<()> {
    let present = conn
        .prepare(&format!("SELECT 1 FROM pragma_table_info('{table}') WHERE name = ?1"))?
        .exists(params![column])?;
    if !present {
        conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {declaration}"))?;
    }
    Ok(())
}

/// An [`ItemRow`] from a row of (source, destination, size, status, error, http_status).
fn item_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ItemRow> {
    Ok(ItemRow {
        source: row.get(0)?,
        destination: row.get(1)?,
        size: u64::try_from(row.get::<_, i64>(2)?).unwrap_or(0),
        status: ItemStatus::parse(&row.get::<_, String>(3)?).unwrap_or(ItemStatus::NotStarted),
        error: row.get(4)?,
        http_status: row.get::<_, Option<i64>>(5)?.and_then(|s| u16::try_from(s).ok()),
    })
}

/// Now, in Unix milliseconds.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

const UPLOAD_TABLE: &str = "CREATE TABLE IF NOT EXISTS upload (
    source TEXT NOT NULL, tag TEXT NOT NULL, session TEXT NOT NULL, PRIMARY KEY (source, tag)
) WITHOUT ROWID;";

/// Brings a journal's schema up to [`SCHEMA_VERSION`], so jobs journaled by an older Ferry
/// still show and resume. A journal from a newer Ferry is refused rather than misread.
fn migrate(conn: &Connection, path: &Path) -> Result<()> {
    let sqlite = |source| JournalError::Sqlite { path: path.display().to_string(), source };
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(sqlite)?;
    if version > SCHEMA_VERSION {
        return Err(JournalError::Sqlite {
            path: path.display().to_string(),
            source: rusqlite::Error::InvalidParameterName(format!(
                "the journal has schema version {version}, newer than this Ferry's {SCHEMA_VERSION}: use a newer Ferry"
            )),
        });
    }
    if version < 2 {
        let has_progress = conn
            .prepare("SELECT 1 FROM pragma_table_info('job') WHERE name = 'progress'")
            .and_then(|mut s| s.exists([]))
            .map_err(sqlite)?;
        if !has_progress {
            conn.execute_batch("ALTER TABLE job ADD COLUMN progress TEXT").map_err(sqlite)?;
        }
    }
    if version < 3 {
        conn.execute_batch(UPLOAD_TABLE).map_err(sqlite)?;
    }
    if version < 4 {
        conn.execute_batch(SKIP_TABLE).map_err(sqlite)?;
        for (table, column, declaration) in EVIDENCE_COLUMNS {
            add_column(conn, table, column, declaration).map_err(sqlite)?;
        }
        conn.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(sqlite)?;
    }
    Ok(())
}

fn open_connection(path: &Path) -> Result<Connection> {
    let sqlite = |source| JournalError::Sqlite { path: path.display().to_string(), source };
    let conn = Connection::open(path).map_err(sqlite)?;
    // WAL with NORMAL sync: a committed change survives the process being killed.
    conn.pragma_update(None, "journal_mode", "WAL").map_err(sqlite)?;
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(sqlite)?;
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(sqlite)?;
    Ok(conn)
}

/// One queued change.
enum Op {
    Item(Box<FoundItem>),
    Started {
        source: String,
    },
    Md5 {
        source: String,
        md5: [u8; 16],
    },
    Status {
        source: String,
        status: ItemStatus,
        error: Option<String>,
        http_status: Option<u16>,
        reason: Option<String>,
    },
    Skip(Box<(FoundItem, String)>),
    Job {
        status: String,
        scan_complete: Option<bool>,
    },
    Chunk {
        source: String,
        tag: String,
        offset: u64,
    },
    Upload {
        source: String,
        tag: String,
        session: String,
    },
    Deletion {
        destination: String,
        size: u64,
    },
    Progress {
        json: String,
    },
    Identity {
        json: String,
    },
    DeletionStatus {
        destination: String,
        status: ItemStatus,
        error: Option<String>,
        http_status: Option<u16>,
    },
    Flush,
}

type Ack = Option<oneshot::Sender<Result<(), String>>>;

/// An item as a listing found it: what the journal keeps of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundItem {
    /// Its key in the source store.
    pub source: String,
    /// Its key in the destination store.
    pub destination: String,
    /// Its size.
    pub size: u64,
    /// The source's last-modified time.
    pub modified: Option<std::time::SystemTime>,
    /// The source's stored MD5.
    pub md5: Option<[u8; 16]>,
}

impl FoundItem {
    /// An item with only keys and size (no time, no MD5).
    pub fn new(source: &str, destination: &str, size: u64) -> Self {
        Self { source: source.to_owned(), destination: destination.to_owned(), size, modified: None, md5: None }
    }

    pub(crate) fn modified_ns(&self) -> Option<i64> {
        let since = self.modified?.duration_since(std::time::UNIX_EPOCH).ok()?;
        i64::try_from(since.as_nanos()).ok()
    }
}

fn apply(tx: &rusqlite::Transaction<'_>, op: &Op) -> rusqlite::Result<()> {
    match op {
        Op::Item(item) => {
            tx.prepare_cached(
                "INSERT INTO item (source, destination, size, status, modified, md5) VALUES (?1, ?2, ?3, 'NotStarted', ?4, ?5)
                 ON CONFLICT(source) DO UPDATE SET destination = excluded.destination, size = excluded.size,
                   modified = excluded.modified, md5 = COALESCE(excluded.md5, item.md5)",
            )?
            .execute(params![
                item.source,
                item.destination,
                i64::try_from(item.size).unwrap_or(i64::MAX),
                item.modified_ns(),
                item.md5.as_ref().map(<[u8; 16]>::as_slice)
            ])?;
        }
        Op::Started { source } => {
            tx.prepare_cached("UPDATE item SET status = 'Started', attempts = attempts + 1 WHERE source = ?1")?
                .execute(params![source])?;
        }
        Op::Md5 { source, md5 } => {
            tx.prepare_cached("UPDATE item SET md5 = ?2 WHERE source = ?1")?
                .execute(params![source, md5.as_slice()])?;
        }
        Op::Status { source, status, error, http_status, reason } => {
            tx.prepare_cached(
                "UPDATE item SET status = ?2, error = ?3, http_status = ?4, reason = ?5, finished_at = ?6 WHERE source = ?1",
            )?
            .execute(params![source, status.as_str(), error, http_status, reason, now_ms()])?;
        }
        Op::Skip(skip) => {
            let (item, reason) = &**skip;
            tx.prepare_cached(
                "INSERT OR REPLACE INTO skip (source, destination, size, modified, md5, reason, finished_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                item.source,
                item.destination,
                i64::try_from(item.size).unwrap_or(i64::MAX),
                item.modified_ns(),
                item.md5.as_ref().map(<[u8; 16]>::as_slice),
                reason,
                now_ms()
            ])?;
        }
        Op::Job { status, scan_complete } => {
            let ended = (status != JobStatus::InProgress.as_str()).then(now_ms);
            tx.prepare_cached("UPDATE job SET status = ?1, ended_at = ?2")?.execute(params![status, ended])?;
            if let Some(done) = scan_complete {
                tx.prepare_cached("UPDATE job SET scan_complete = ?1")?.execute(params![i64::from(*done)])?;
            }
        }
        Op::Progress { json } => {
            tx.prepare_cached("UPDATE job SET progress = ?1")?.execute(params![json])?;
        }
        Op::Identity { json } => {
            tx.prepare_cached("UPDATE job SET identity = ?1")?.execute(params![json])?;
        }
        Op::Chunk { source, tag, offset } => {
            tx.prepare_cached("INSERT OR IGNORE INTO chunk (source, tag, offset) VALUES (?1, ?2, ?3)")?
                .execute(params![source, tag, i64::try_from(*offset).unwrap_or(i64::MAX)])?;
        }
        Op::Upload { source, tag, session } => {
            tx.prepare_cached("INSERT OR REPLACE INTO upload (source, tag, session) VALUES (?1, ?2, ?3)")?
                .execute(params![source, tag, session])?;
        }
        Op::Deletion { destination, size } => {
            tx.prepare_cached(
                "INSERT INTO deletion (destination, size, status) VALUES (?1, ?2, 'NotStarted')
                 ON CONFLICT(destination) DO UPDATE SET size = excluded.size",
            )?
            .execute(params![destination, i64::try_from(*size).unwrap_or(i64::MAX)])?;
        }
        Op::DeletionStatus { destination, status, error, http_status } => {
            tx.prepare_cached(
                "UPDATE deletion SET status = ?2, error = ?3, http_status = ?4, finished_at = ?5 WHERE destination = ?1",
            )?
            .execute(params![destination, status.as_str(), error, http_status, now_ms()])?;
        }
        Op::Flush => {}
    }
    Ok(())
}

/// Applies queued operations in batches, one transaction per batch, until the sender is gone.
fn writer_loop(mut conn: Connection, receiver: mpsc::Receiver<(Op, Ack)>) {
    const BATCH: usize = QUEUED_MOST / 2;
    // Changes arriving within this window of the first share its transaction: one commit (and
    // one WAL write) per window instead of one per item, for at most this much added latency.
    const WINDOW: std::time::Duration = std::time::Duration::from_millis(2);
    while let Ok(first) = receiver.recv() {
        let deadline = std::time::Instant::now() + WINDOW;
        let mut batch = vec![first];
        while batch.len() < BATCH {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match receiver.recv_timeout(left) {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let result = conn.transaction().and_then(|tx| {
            for (op, _) in &batch {
                apply(&tx, op)?;
            }
            tx.commit()
        });
        let outcome = result.map_err(|e| e.to_string());
        for (_, ack) in batch {
            if let Some(ack) = ack {
                let _ = ack.send(outcome.clone());
            }
        }
    }
}

/// Changes queued for the writer at most: a listing that outruns SQLite waits here rather than
/// holding a million changes in memory (two batches: one being written, one gathering).
const QUEUED_MOST: usize = 10_000;

/// The writer thread, waited for when the last clone of a journal is dropped: everything queued
/// is committed and the database closed (its write-ahead log folded in and removed) before the
/// process goes on, so a finished job leaves one compact file.
struct WriterThread(Option<std::thread::JoinHandle<()>>);

impl Drop for WriterThread {
    fn drop(&mut self) {
        if let Some(thread) = self.0.take() {
            let _ = thread.join();
        }
    }
}

/// An open job journal. Cheap to clone; clones share the writer.
#[derive(Clone)]
pub struct Journal {
    path: PathBuf,
    spec: JobSpec,
    // Field order matters: this clone's sender goes first, so when the last clone drops, the
    // channel is closed before `_writer` waits for the thread to finish.
    sender: mpsc::SyncSender<(Op, Ack)>,
    reader: Arc<Mutex<Connection>>,
    _writer: Arc<WriterThread>,
    /// Created by this process: it held no items when opened, so lookups can be skipped.
    fresh: bool,
    /// The job's run lock, held while any clone of this journal lives.
    _lock: Option<Arc<fs::File>>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Journal({})", self.path.display())
    }
}

impl Journal {
    /// Creates the journal of a new job in `dir` (0700), as a file only the user can read (0600).
    pub fn create(dir: &Path, spec: &JobSpec) -> Result<Self> {
        let io = |source, p: &Path| JournalError::Io { path: p.display().to_string(), source };
        check_private_dir(dir)?;
        fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(|e| io(e, dir))?;
        let path = job_path(dir, &spec.job_id)?;
        // Create the file first so SQLite (and its WAL and shared-memory files, which take the
        // database file's permissions) never exist with wider permissions.
        fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| io(e, &path))?;
        let lock = lock_job(&path, &spec.job_id)?;
        let conn = open_connection(&path)?;
        let sqlite = |source| JournalError::Sqlite { path: path.display().to_string(), source };
        conn.execute_batch(SCHEMA).map_err(sqlite)?;
        migrate(&conn, &path)?;
        let spec_json = serde_json::to_string(spec).expect("a job spec serialises");
        conn.execute(
            "INSERT INTO job (id, spec, status, ferry_version, started_at) VALUES (?1, ?2, 'InProgress', ?3, ?4)
             ON CONFLICT(id) DO NOTHING",
            params![spec.job_id, spec_json, env!("CARGO_PKG_VERSION"), now_ms()],
        )
        .map_err(sqlite)?;
        let fresh = conn
            .query_row("SELECT NOT EXISTS (SELECT 1 FROM item) AND NOT EXISTS (SELECT 1 FROM deletion)", [], |r| {
                r.get::<_, bool>(0)
            })
            .map_err(sqlite)?;
        Self::start(path, spec.clone(), conn, fresh, Some(lock))
    }

    /// Opens the journal of an existing job, to read it (`jobs show`) while it may be running.
    pub fn open(dir: &Path, job_id: &str) -> Result<Self> {
        let path = job_path(dir, job_id)?;
        check_private_dir(dir)?;
        if !path.exists() {
            return Err(JournalError::NoSuchJob(job_id.to_owned()));
        }
        let conn = open_connection(&path)?;
        let spec = read_spec(&conn, &path)?;
        Self::start(path, spec, conn, false, None)
    }

    /// Opens the journal of an existing job to run it again (`jobs resume`): fails with
    /// [`JournalError::Busy`] while another process runs the job.
    pub fn open_to_run(dir: &Path, job_id: &str) -> Result<Self> {
        let path = job_path(dir, job_id)?;
        check_private_dir(dir)?;
        if !path.exists() {
            return Err(JournalError::NoSuchJob(job_id.to_owned()));
        }
        let lock = lock_job(&path, job_id)?;
        let conn = open_connection(&path)?;
        migrate(&conn, &path)?;
        let spec = read_spec(&conn, &path)?;
        if spec.job_id != job_id {
            return Err(JournalError::InvalidJobId(spec.job_id));
        }
        Self::start(path, spec, conn, false, Some(lock))
    }

    fn start(path: PathBuf, spec: JobSpec, writer: Connection, fresh: bool, lock: Option<fs::File>) -> Result<Self> {
        let reader = open_connection(&path)?;
        let (sender, receiver) = mpsc::sync_channel(QUEUED_MOST);
        let thread = std::thread::Builder::new()
            .name("ferry-journal".into())
            .spawn(move || writer_loop(writer, receiver))
            .map_err(|source| JournalError::Io { path: path.display().to_string(), source })?;
        let writer = Arc::new(WriterThread(Some(thread)));
        Ok(Self {
            path,
            spec,
            sender,
            reader: Arc::new(Mutex::new(reader)),
            _writer: writer,
            fresh,
            _lock: lock.map(Arc::new),
        })
    }

    /// The job's spec.
    pub fn spec(&self) -> &JobSpec {
        &self.spec
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn queue(&self, op: Op) {
        let _ = self.sender.send((op, None));
    }

    async fn durable(&self, op: Op) -> Result<()> {
        let (ack, done) = oneshot::channel();
        self.sender.send((op, Some(ack))).map_err(|_| JournalError::WriterGone)?;
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(JournalError::Sqlite {
                path: self.path.display().to_string(),
                source: rusqlite::Error::InvalidParameterName(message),
            }),
            Err(_) => Err(JournalError::WriterGone),
        }
    }

    /// Records a found item (queued; it becomes durable with the next awaited change).
    pub fn found(&self, item: FoundItem) {
        self.queue(Op::Item(Box::new(item)));
    }

    /// Records an item a sync found the same at both sides, and why it was left alone (queued).
    /// It is kept apart from the items the job works on: it does not count as one of them.
    pub fn skipped(&self, item: FoundItem, reason: &str) {
        self.queue(Op::Skip(Box::new((item, reason.to_owned()))));
    }

    /// Marks an item started, counting the attempt (queued).
    pub fn started(&self, source: &str) {
        self.queue(Op::Started { source: source.to_owned() });
    }

    /// Records the MD5 computed while copying an item (queued).
    pub fn computed_md5(&self, source: &str, md5: [u8; 16]) {
        self.queue(Op::Md5 { source: source.to_owned(), md5 });
    }

    /// Records that the chunk at `offset` of a partial download (named by `tag`) is written
    /// (queued).
    pub fn chunk_done(&self, source: &str, tag: &str, offset: u64) {
        self.queue(Op::Chunk { source: source.to_owned(), tag: tag.to_owned(), offset });
    }

    /// The offsets of the chunks recorded for `source` under `tag`.
    pub fn chunks_done(&self, source: &str, tag: &str) -> Result<Vec<u64>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT offset FROM chunk WHERE source = ?1 AND tag = ?2")?;
            let rows = stmt.query_map(params![source, tag], |r| r.get::<_, i64>(0))?;
            rows.map(|r| r.map(|o| u64::try_from(o).unwrap_or(0))).collect()
        })
    }

    /// Records that `source` is being uploaded in parts in the session `session` (S3's upload
    /// id), for the version `tag` of the source (queued).
    pub fn upload_started(&self, source: &str, tag: &str, session: &str) {
        self.queue(Op::Upload { source: source.to_owned(), tag: tag.to_owned(), session: session.to_owned() });
    }

    /// The upload session recorded for `source` under `tag`, if any.
    pub fn upload_session(&self, source: &str, tag: &str) -> Result<Option<String>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached("SELECT session FROM upload WHERE source = ?1 AND tag = ?2")?;
            let mut rows = stmt.query_map(params![source, tag], |r| r.get::<_, String>(0))?;
            rows.next().transpose()
        })
    }

    /// Records an item's final state (and, for a skip, why) and waits until it is on disk.
    pub async fn finished(&self, source: &str, ending: Ending) -> Result<()> {
        let Ending { status, error, http_status, reason } = ending;
        self.durable(Op::Status { source: source.to_owned(), status, error, http_status, reason }).await
    }

    /// Records that a sync decided to delete `destination` (an object the source does not have),
    /// and waits until that is on disk, so a deletion is never made before it is recorded.
    pub async fn deletion_planned(&self, destination: &str, size: u64) -> Result<()> {
        self.durable(Op::Deletion { destination: destination.to_owned(), size }).await
    }

    /// Records a deletion's outcome and waits until it is on disk.
    pub async fn deletion_finished(
        &self,
        destination: &str,
        status: ItemStatus,
        error: Option<String>,
        http_status: Option<u16>,
    ) -> Result<()> {
        self.durable(Op::DeletionStatus { destination: destination.to_owned(), status, error, http_status }).await
    }

    /// Records the job's status (and whether enumeration completed), and waits until it is on disk.
    pub async fn set_job_status(&self, status: JobStatus, scan_complete: Option<bool>) -> Result<()> {
        self.durable(Op::Job { status: status.as_str().to_owned(), scan_complete }).await
    }

    /// Waits until everything queued so far is on disk.
    pub async fn flush(&self) -> Result<()> {
        self.durable(Op::Flush).await
    }

    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let conn = self.reader.lock().map_err(|_| JournalError::WriterGone)?;
        f(&conn).map_err(|source| JournalError::Sqlite { path: self.path.display().to_string(), source })
    }

    /// Whether this journal was created empty by this process (a new job, not a resume): then
    /// no item has a recorded state from an earlier run.
    pub fn is_fresh(&self) -> bool {
        self.fresh
    }

    /// The recorded state of one item, if it was recorded.
    pub fn status_of(&self, source: &str) -> Result<Option<ItemStatus>> {
        self.read(|c| {
            c.prepare_cached("SELECT status FROM item WHERE source = ?1")?
                .query_row(params![source], |row| row.get::<_, String>(0))
                .optional()
        })
        .map(|s| s.and_then(|s| ItemStatus::parse(&s)))
    }

    /// Items and bytes per state.
    pub fn counts(&self) -> Result<Vec<StatusCount>> {
        self.counts_in("item")
    }

    /// Deletions and their sizes per state.
    pub fn deletion_counts(&self) -> Result<Vec<StatusCount>> {
        self.counts_in("deletion")
    }

    /// Rows and bytes per state in `table` (one of this module's two tables).
    fn counts_in(&self, table: &'static str) -> Result<Vec<StatusCount>> {
        self.read(|c| {
            let mut stmt =
                c.prepare(&format!("SELECT status, COUNT(*), COALESCE(SUM(size), 0) FROM {table} GROUP BY status"))?;
            let rows =
                stmt.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?, row.get::<_, i64>(2)?)))?;
            rows.map(|r| {
                r.map(|(s, n, b)| StatusCount {
                    status: ItemStatus::parse(&s).unwrap_or(ItemStatus::NotStarted),
                    items: u64::try_from(n).unwrap_or(0),
                    bytes: u64::try_from(b).unwrap_or(0),
                })
            })
            .collect()
        })
    }

    /// The deletions in `status` (all for `None`), in destination order; `source` is empty.
    pub fn deletions(&self, status: Option<ItemStatus>) -> Result<Vec<ItemRow>> {
        let mut rows = Vec::new();
        self.each_deletion(status, |row| rows.push(row))?;
        Ok(rows)
    }

    /// Calls `each` with every deletion in `status` (all for `None`), in destination order, one
    /// row at a time: memory does not grow with the journal.
    pub fn each_deletion(&self, status: Option<ItemStatus>, mut each: impl FnMut(ItemRow)) -> Result<()> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT '', destination, size, status, error, http_status FROM deletion
                 WHERE (?1 IS NULL OR status = ?1) ORDER BY destination",
            )?;
            let mut rows = stmt.query(params![status.map(ItemStatus::as_str)])?;
            while let Some(row) = rows.next()? {
                each(item_row(row)?);
            }
            Ok(())
        })
    }

    /// The items in `status` (all items for `None`), in source order.
    pub fn items(&self, status: Option<ItemStatus>) -> Result<Vec<ItemRow>> {
        self.first_items(status, u64::MAX)
    }

    /// The first `limit` items in `status` (all items for `None`), in source order.
    pub fn first_items(&self, status: Option<ItemStatus>, limit: u64) -> Result<Vec<ItemRow>> {
        let mut rows = Vec::new();
        self.each_item(status, limit, |row| rows.push(row))?;
        Ok(rows)
    }

    /// Calls `each` with the first `limit` items in `status` (all items for `None`), in source
    /// order, one row at a time: memory does not grow with the journal.
    pub fn each_item(&self, status: Option<ItemStatus>, limit: u64, mut each: impl FnMut(ItemRow)) -> Result<()> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT source, destination, size, status, error, http_status FROM item
                 WHERE (?1 IS NULL OR status = ?1) ORDER BY source LIMIT ?2",
            )?;
            let mut rows = stmt.query(params![status.map(ItemStatus::as_str), limit])?;
            while let Some(row) = rows.next()? {
                each(item_row(row)?);
            }
            Ok(())
        })
    }

    /// Records whose identity each side signed in as (object and tenant ids, never a token),
    /// as JSON (queued).
    pub fn set_identity(&self, json: String) {
        self.queue(Op::Identity { json });
    }

    /// Records how far the running job has come (a heartbeat, every few seconds), so another
    /// process (`jobs show`, later a dashboard) can show a running job's progress. Not durable
    /// on its own: it rides along with the next commit.
    pub fn heartbeat(&self, progress: &Progress) {
        self.queue(Op::Progress { json: serde_json::to_string(progress).expect("progress serialises") });
    }

    /// The last heartbeat, if the job has recorded one (journals older than schema 2 have none).
    pub fn progress(&self) -> Option<Progress> {
        let json: Option<String> =
            self.read(|c| c.query_row("SELECT progress FROM job LIMIT 1", [], |r| r.get(0))).ok().flatten();
        json.and_then(|j| serde_json::from_str(&j).ok())
    }

    /// The job's recorded status and whether its enumeration completed.
    pub fn job_status(&self) -> Result<(JobStatus, bool)> {
        self.read(|c| {
            c.query_row("SELECT status, scan_complete FROM job LIMIT 1", [], |r| {
                Ok((stored_status(&r.get::<_, String>(0)?), r.get::<_, i64>(1)? != 0))
            })
        })
    }
}

/// How an item ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ending {
    /// Its final state.
    pub status: ItemStatus,
    /// The error, when it failed.
    pub error: Option<String>,
    /// The HTTP status of that error, if any.
    pub http_status: Option<u16>,
    /// Why it was skipped, when it was.
    pub reason: Option<String>,
}

impl Ending {
    /// An ending in `status` with no error and no reason.
    pub fn of(status: ItemStatus) -> Self {
        Self { status, error: None, http_status: None, reason: None }
    }
}

/// A running job's heartbeat: how far it has come, and when that was.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Progress {
    /// Items finished (copied, skipped or failed).
    pub items_done: u64,
    /// Items found so far.
    pub items_found: u64,
    /// Bytes moved.
    pub bytes_done: u64,
    /// When this was recorded, in seconds since the Unix epoch.
    pub at: i64,
}

/// A stored status; a name this version does not know (written by a newer one) reads as
/// `InProgress`, which `jobs resume` may finish, rather than as an ending it did not reach.
fn stored_status(text: &str) -> JobStatus {
    JobStatus::parse(text).unwrap_or(JobStatus::InProgress)
}

fn read_spec(conn: &Connection, path: &Path) -> Result<JobSpec> {
    let sqlite = |source| JournalError::Sqlite { path: path.display().to_string(), source };
    let json: String = conn.query_row("SELECT spec FROM job LIMIT 1", [], |r| r.get(0)).map_err(sqlite)?;
    serde_json::from_str(&json).map_err(|e| JournalError::Sqlite {
        path: path.display().to_string(),
        source: rusqlite::Error::InvalidParameterName(format!("unreadable job spec: {e}")),
    })
}

/// Every job in `dir`, oldest first.
pub fn list_jobs(dir: &Path) -> Result<Vec<JobRow>> {
    check_private_dir(dir)?;
    let mut jobs = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(jobs),
        Err(source) => return Err(JournalError::Io { path: dir.display().to_string(), source }),
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("db") {
            continue;
        }
        // The id is the file's name; a journal whose spec names another id (a planted or edited
        // file: its id could be `../../elsewhere`) is not a job, and is left alone.
        let Some(id) = path.file_stem().and_then(|s| s.to_str()).filter(|id| is_job_id(id)) else { continue };
        let Ok(conn) = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY) else { continue };
        let Ok(spec) = read_spec(&conn, &path) else { continue };
        if spec.job_id != id {
            continue;
        }
        let status = conn
            .query_row("SELECT status FROM job LIMIT 1", [], |r| r.get::<_, String>(0))
            .map_or(JobStatus::InProgress, |s| stored_status(&s));
        jobs.push(JobRow { spec, status });
    }
    jobs.sort_by(|a, b| (a.spec.created, &a.spec.job_id).cmp(&(b.spec.created, &b.spec.job_id)));
    Ok(jobs)
}

/// Deletes a job's journal (and its WAL files).
pub fn remove_job(dir: &Path, job_id: &str) -> Result<()> {
    let path = job_path(dir, job_id)?;
    check_private_dir(dir)?;
    if !path.exists() {
        return Err(JournalError::NoSuchJob(job_id.to_owned()));
    }
    let _running = lock_job(&path, job_id)?;
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        match fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(JournalError::Io { path: file.display().to_string(), source }),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn spec(id: &str) -> JobSpec {
        JobSpec {
            job_id: id.into(),
            args: vec!["copy".into(), "a".into(), "b".into()],
            command_line: "ferry copy a b".into(),
            cwd: "/".into(),
            created: 1_700_000_000,
            source_credential: "none".into(),
            destination_credential: "none".into(),
            job: None,
        }
    }

    #[tokio::test]
    async fn deletions_are_kept_apart_from_items_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::create(dir.path(), &spec("d1000000000000000000000000000000")).unwrap();
        journal.found(FoundItem::new("a", "a", 1));
        journal.deletion_planned("a", 5).await.unwrap();
        journal.deletion_planned("b", 7).await.unwrap();
        journal.deletion_finished("a", ItemStatus::Success, None, None).await.unwrap();
        journal.deletion_finished("b", ItemStatus::Failed, Some("HTTP 403".into()), Some(403)).await.unwrap();
        drop(journal);
        let journal = Journal::open(dir.path(), "d1000000000000000000000000000000").unwrap();
        assert_eq!(journal.items(None).unwrap().len(), 1);
        let failed = journal.deletions(Some(ItemStatus::Failed)).unwrap();
        assert_eq!(failed.len(), 1);
        assert_eq!((failed[0].destination.as_str(), failed[0].size, failed[0].http_status), ("b", 7, Some(403)));
        let counts = journal.deletion_counts().unwrap();
        assert_eq!(counts.iter().map(|c| c.items).sum::<u64>(), 2);
        assert!(counts.iter().any(|c| c.status == ItemStatus::Success && c.items == 1 && c.bytes == 5));
    }

    #[tokio::test]
    async fn items_and_states_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::create(dir.path(), &spec("a1000000000000000000000000000000")).unwrap();
        journal.found(FoundItem::new("a", "x/a", 10));
        journal.found(FoundItem::new("b", "x/b", 20));
        journal.found(FoundItem::new("c", "x/c", 30));
        journal.started("a");
        journal.finished("a", Ending::of(ItemStatus::Success)).await.unwrap();
        journal
            .finished(
                "b",
                Ending { error: Some("HTTP 403".into()), http_status: Some(403), ..Ending::of(ItemStatus::Failed) },
            )
            .await
            .unwrap();
        journal.chunk_done("c", "v1", 0);
        journal.chunk_done("c", "v1", 8);
        journal.chunk_done("c", "v2", 16);
        journal.set_job_status(JobStatus::CompletedWithErrors, Some(true)).await.unwrap();
        drop(journal);

        let again = Journal::open(dir.path(), "a1000000000000000000000000000000").unwrap();
        assert_eq!(again.spec(), &spec("a1000000000000000000000000000000"));
        assert_eq!(again.status_of("a").unwrap(), Some(ItemStatus::Success));
        assert_eq!(again.status_of("c").unwrap(), Some(ItemStatus::NotStarted));
        assert_eq!(again.status_of("zzz").unwrap(), None);
        let failed = again.items(Some(ItemStatus::Failed)).unwrap();
        assert_eq!(failed.len(), 1);
        assert_eq!(
            (failed[0].source.as_str(), failed[0].error.as_deref(), failed[0].http_status),
            ("b", Some("HTTP 403"), Some(403))
        );
        assert_eq!(again.job_status().unwrap(), (JobStatus::CompletedWithErrors, true));
        let mut chunks = again.chunks_done("c", "v1").unwrap();
        chunks.sort_unstable();
        assert_eq!(chunks, [0, 8], "chunks are kept per version tag");
        let counts = again.counts().unwrap();
        assert_eq!(counts.iter().map(|c| c.items).sum::<u64>(), 3);
    }

    #[tokio::test]
    async fn files_are_private_and_jobs_list_and_remove() {
        let dir = tempfile::tempdir().unwrap();
        let plans = dir.path().join("plans");
        let journal = Journal::create(&plans, &spec("a2000000000000000000000000000000")).unwrap();
        journal.flush().await.unwrap();
        assert_eq!(fs::metadata(&plans).unwrap().permissions().mode() & 0o777, 0o700);
        for entry in fs::read_dir(&plans).unwrap() {
            let mode = entry.unwrap().metadata().unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let mut second = spec("a3000000000000000000000000000000");
        second.created += 5;
        Journal::create(&plans, &second).unwrap().flush().await.unwrap();
        let jobs = list_jobs(&plans).unwrap();
        assert_eq!(
            jobs.iter().map(|j| j.spec.job_id.as_str()).collect::<Vec<_>>(),
            ["a2000000000000000000000000000000", "a3000000000000000000000000000000"]
        );
        assert_eq!(jobs[0].status, JobStatus::InProgress);
        assert!(
            matches!(remove_job(&plans, "a2000000000000000000000000000000"), Err(JournalError::Busy(_))),
            "running"
        );
        drop(journal);
        remove_job(&plans, "a2000000000000000000000000000000").unwrap();
        assert_eq!(list_jobs(&plans).unwrap().len(), 1);
        assert!(matches!(remove_job(&plans, "a2000000000000000000000000000000"), Err(JournalError::NoSuchJob(_))));
    }

    #[tokio::test]
    async fn a_hundred_thousand_items_in_batches() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::create(dir.path(), &spec("b1000000000000000000000000000000")).unwrap();
        for i in 0..100_000 {
            journal.found(FoundItem::new(&format!("dir/{i:06}.bin"), &format!("dst/{i:06}.bin"), 4096));
        }
        let updates: Vec<_> = (0..100_000)
            .map(|i| {
                let journal = journal.clone();
                async move { journal.finished(&format!("dir/{i:06}.bin"), Ending::of(ItemStatus::Success)).await }
            })
            .collect();
        for result in futures::future::join_all(updates).await {
            result.unwrap();
        }
        let counts = journal.counts().unwrap();
        assert_eq!(counts, [StatusCount { status: ItemStatus::Success, items: 100_000, bytes: 409_600_000 }]);
        let size = fs::metadata(journal.path()).unwrap().len();
        assert!(size < 32 * 1024 * 1024, "the journal of 100,000 items takes {size} bytes");
    }
}
