//! A job's record, item by item, as its evidence shows it: read in key order straight from the
//! journal, one row at a time, so a job of millions of items is read in bounded memory.

use rusqlite::Row;

use crate::journal::{Journal, Result};
use crate::model::ItemStatus;

/// One item (or deletion) as the journal holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRecord {
    /// Its key in the source store (empty for a deletion).
    pub source: String,
    /// Its key in the destination store.
    pub destination: String,
    /// Its size.
    pub size: u64,
    /// Its state.
    pub status: ItemStatus,
    /// The last error, if it failed.
    pub error: Option<String>,
    /// The source's last-modified time, Unix nanoseconds.
    pub modified_ns: Option<i64>,
    /// Its MD5: stored at the source, or computed while copying.
    pub md5: Option<[u8; 16]>,
    /// How many times it was started (each run of the job that worked on it).
    pub attempts: u64,
    /// When it ended, Unix milliseconds.
    pub finished_ms: Option<i64>,
    /// Why it was skipped.
    pub reason: Option<String>,
}

/// When a job started and ended, and which Ferry created it (journals older than schema 4 have
/// none of these).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobTimes {
    /// Unix milliseconds.
    pub started_ms: Option<i64>,
    /// Unix milliseconds, once it ended.
    pub ended_ms: Option<i64>,
    /// The version of Ferry that created it.
    pub ferry_version: Option<String>,
    /// Whose identity each side signed in as (JSON: `source`, `destination`), for Entra ID.
    pub identity: Option<String>,
}

fn status(text: &str) -> ItemStatus {
    ItemStatus::parse(text).unwrap_or(ItemStatus::NotStarted)
}

fn item(row: &Row<'_>) -> rusqlite::Result<ItemRecord> {
    Ok(ItemRecord {
        source: row.get(0)?,
        destination: row.get(1)?,
        size: u64::try_from(row.get::<_, i64>(2)?).unwrap_or(0),
        status: status(&row.get::<_, String>(3)?),
        error: row.get(4)?,
        modified_ns: row.get(5)?,
        md5: row.get::<_, Option<Vec<u8>>>(6)?.and_then(|m| m.try_into().ok()),
        attempts: u64::try_from(row.get::<_, i64>(7)?).unwrap_or(0),
        finished_ms: row.get(8)?,
        reason: row.get(9)?,
    })
}

fn deletion(row: &Row<'_>) -> rusqlite::Result<ItemRecord> {
    Ok(ItemRecord {
        source: String::new(),
        destination: row.get(0)?,
        size: u64::try_from(row.get::<_, i64>(1)?).unwrap_or(0),
        status: status(&row.get::<_, String>(2)?),
        error: row.get(3)?,
        modified_ns: None,
        md5: None,
        attempts: 0,
        finished_ms: row.get(4)?,
        reason: None,
    })
}

impl Journal {
    /// Calls `each` with every item, in source-key order, then every object a sync left alone
    /// (and no run worked on), then every deletion, in destination-key order; stops at the first
    /// error `each` returns.
    pub fn for_each_record<E>(&self, mut each: impl FnMut(&ItemRecord) -> Result<(), E>) -> Result<Result<(), E>> {
        self.read(|c| {
            let mut items = c.prepare(
                "SELECT source, destination, size, status, error, modified, md5, attempts, finished_at, reason
                 FROM item ORDER BY source",
            )?;
            let mut rows = items.query([])?;
            while let Some(row) = rows.next()? {
                if let Err(e) = each(&item(row)?) {
                    return Ok(Err(e));
                }
            }
            // What a sync left alone, unless a run of the job worked on it too.
            let mut skips = c.prepare(
                "SELECT source, destination, size, 'SkippedEntityAlreadyExists', NULL, modified, md5, 0, finished_at,
                   reason FROM skip WHERE NOT EXISTS (SELECT 1 FROM item WHERE item.source = skip.source)
                 ORDER BY source",
            )?;
            let mut rows = skips.query([])?;
            while let Some(row) = rows.next()? {
                if let Err(e) = each(&item(row)?) {
                    return Ok(Err(e));
                }
            }
            let mut deletions =
                c.prepare("SELECT destination, size, status, error, finished_at FROM deletion ORDER BY destination")?;
            let mut rows = deletions.query([])?;
            while let Some(row) = rows.next()? {
                if let Err(e) = each(&deletion(row)?) {
                    return Ok(Err(e));
                }
            }
            Ok(Ok(()))
        })
    }

    /// When the job started and ended, and which Ferry created it.
    pub fn times(&self) -> Result<JobTimes> {
        self.read(|c| {
            c.query_row("SELECT started_at, ended_at, ferry_version, identity FROM job LIMIT 1", [], |r| {
                Ok(JobTimes {
                    started_ms: r.get(0)?,
                    ended_ms: r.get(1)?,
                    ferry_version: r.get(2)?,
                    identity: r.get(3)?,
                })
            })
        })
    }
}
