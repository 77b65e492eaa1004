//! Counters the engine updates and reporters read.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Live counters of one job. Cheap to update from many tasks; read with [`Stats::snapshot`].
#[derive(Debug, Default)]
pub struct Stats {
    total: AtomicU64,
    done: AtomicU64,
    failed: AtomicU64,
    skipped: AtomicU64,
    bytes_enumerated: AtomicU64,
    bytes_transferred: AtomicU64,
    bytes_expected: AtomicU64,
    bytes_reused: AtomicU64,
    scanning_finished: AtomicBool,
    /// The engine's limits on memory and requests, read for the gauges of a snapshot.
    limits: std::sync::OnceLock<Limits>,
}

/// The semaphores that bound a run's buffers (in KiB) and requests, and their sizes.
#[derive(Debug)]
pub(crate) struct Limits {
    pub(crate) buffer: std::sync::Arc<tokio::sync::Semaphore>,
    pub(crate) buffer_kib: u32,
    pub(crate) requests: std::sync::Arc<tokio::sync::Semaphore>,
    pub(crate) requests_limit: usize,
}

/// The counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StatsSnapshot {
    /// Items found so far.
    pub total: u64,
    /// Items transferred.
    pub done: u64,
    /// Items that failed.
    pub failed: u64,
    /// Items skipped (e.g. the destination existed and overwrite was off).
    pub skipped: u64,
    /// Bytes of every item found.
    pub bytes_enumerated: u64,
    /// Bytes moved so far (finished items and finished chunks of items in flight).
    pub bytes_transferred: u64,
    /// Bytes of the items that are being or will be transferred (not skipped).
    pub bytes_expected: u64,
    /// Bytes an earlier run of the job had staged that this run did not send again.
    pub bytes_reused: u64,
    /// Whether the source listing has ended.
    pub scanning_finished: bool,
    /// Symbolic links the source listing passed over.
    pub symlinks_skipped: u64,
    /// Special files (FIFOs, sockets, devices) the source listing passed over.
    pub special_skipped: u64,
    /// Files with several hard links the source listing passed over (`--hardlinks skip`).
    pub hardlinks_skipped: u64,
    /// Bytes of data buffers held now (read, not yet written).
    pub buffer_bytes_in_use: u64,
    /// The most the buffers may hold.
    pub buffer_bytes_limit: u64,
    /// Requests carrying data now.
    pub requests_in_flight: u64,
}

impl StatsSnapshot {
    /// Items neither done, failed nor skipped.
    pub fn pending(&self) -> u64 {
        self.total.saturating_sub(self.done + self.failed + self.skipped)
    }

    /// Bytes transferred as a percentage of the bytes expected so far (AzCopy's measure).
    pub fn percent(&self) -> f64 {
        if self.bytes_expected == 0 {
            return if self.pending() == 0 { 100.0 } else { 0.0 };
        }
        #[allow(clippy::cast_precision_loss)]
        let ratio = self.bytes_transferred as f64 / self.bytes_expected as f64;
        (ratio * 100.0).min(100.0)
    }
}

impl Stats {
    pub(crate) fn found(&self, bytes: u64) {
        self.total.fetch_add(1, Ordering::Relaxed);
        self.bytes_enumerated.fetch_add(bytes, Ordering::Relaxed);
        self.bytes_expected.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(crate) fn listing_failed(&self) {
        self.total.fetch_add(1, Ordering::Relaxed);
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn moved(&self, bytes: u64) {
        self.bytes_transferred.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Takes back bytes counted for an item that then failed, so the percentage stays honest.
    pub(crate) fn unmoved(&self, bytes: u64) {
        self.bytes_transferred.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// An item a resumed job had already finished: counted as done, but its bytes are not
    /// expected again.
    pub(crate) fn previously_done(&self, expected: u64) {
        self.done.fetch_add(1, Ordering::Relaxed);
        self.bytes_expected.fetch_sub(expected, Ordering::Relaxed);
    }

    /// Bytes an earlier run already staged, not sent again.
    pub(crate) fn reused(&self, bytes: u64) {
        self.bytes_expected.fetch_sub(bytes, Ordering::Relaxed);
        self.bytes_reused.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(crate) fn finished(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn failed(&self, expected: u64) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        self.bytes_expected.fetch_sub(expected, Ordering::Relaxed);
    }

    pub(crate) fn skipped(&self, expected: u64) {
        self.skipped.fetch_add(1, Ordering::Relaxed);
        self.bytes_expected.fetch_sub(expected, Ordering::Relaxed);
    }

    pub(crate) fn scanning_finished(&self) {
        self.scanning_finished.store(true, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            total: self.total.load(Ordering::Relaxed),
            done: self.done.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            skipped: self.skipped.load(Ordering::Relaxed),
            bytes_enumerated: self.bytes_enumerated.load(Ordering::Relaxed),
            bytes_transferred: self.bytes_transferred.load(Ordering::Relaxed),
            bytes_expected: self.bytes_expected.load(Ordering::Relaxed),
            bytes_reused: self.bytes_reused.load(Ordering::Relaxed),
            scanning_finished: self.scanning_finished.load(Ordering::Relaxed),
            // Counted by the source store's listing; the job fills them in.
            symlinks_skipped: 0,
            special_skipped: 0,
            hardlinks_skipped: 0,
            ..self.gauges()
        }
    }

    /// Remembers the run's limits, for the gauges.
    pub(crate) fn set_limits(&self, limits: Limits) {
        let _ = self.limits.set(limits);
    }

    /// Buffers and requests in use now.
    fn gauges(&self) -> StatsSnapshot {
        let Some(l) = self.limits.get() else { return StatsSnapshot::default() };
        let free_kib = u64::try_from(l.buffer.available_permits()).unwrap_or(0);
        let limit = u64::from(l.buffer_kib);
        let busy = l.requests_limit.saturating_sub(l.requests.available_permits());
        StatsSnapshot {
            buffer_bytes_in_use: limit.saturating_sub(free_kib) * 1024,
            buffer_bytes_limit: limit * 1024,
            requests_in_flight: u64::try_from(busy).unwrap_or(0),
            ..StatsSnapshot::default()
        }
    }
}
