//! Ferry's metrics in Prometheus' (OpenMetrics) text format, served while a job runs
//! (`--metrics-addr`) and by `ferry serve`.
//!
//! What is measured: the job's objects by state and its bytes, the current throughput, buffers
//! and requests in use (from the engine's live counters, read when scraped); every HTTP attempt
//! by operation and status, its latency, and retries (the HTTP layer tells [`Metrics`] as a
//! [`ferry_http::RequestObserver`]); access tokens fetched. The exposition is
//! `prometheus-client`'s; nothing here formats the text by hand.

mod serve;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferry_engine::Stats;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

pub use serve::{CONTENT_TYPE, serve};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    operation: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabel {
    operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabel {
    job_id: String,
}

type Latency = Family<OperationLabel, Histogram, fn() -> Histogram>;

/// Request latency buckets: 5 ms to about 40 s.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 14))
}

/// Where the job's numbers come from: its engine's live counters, and the throughput the job
/// last measured.
struct Source {
    job_id: String,
    stats: Arc<Stats>,
}

/// One process's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    retries: Family<OperationLabel, Counter>,
    latency: Latency,
    job: Family<JobLabel, Gauge>,
    objects: Family<StateLabel, Gauge>,
    found: Gauge,
    bytes_transferred: Gauge,
    bytes_expected: Gauge,
    throughput: Gauge<f64, AtomicU64>,
    buffer_in_use: Gauge,
    buffer_limit: Gauge,
    requests_in_flight: Gauge,
    token_fetches: Counter,
    tokens_seen: AtomicU64,
    token_source: Option<fn() -> u64>,
    source: Mutex<Option<Source>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// Metrics with nothing measured yet; `token_fetches` reads how many access tokens the
    /// process has fetched, when it signs in with Entra ID.
    pub fn new(token_fetches: Option<fn() -> u64>) -> Self {
        let mut registry = Registry::with_prefix("ferry");
        let metrics = Self {
            requests: Family::default(),
            retries: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            job: Family::default(),
            objects: Family::default(),
            found: Gauge::default(),
            bytes_transferred: Gauge::default(),
            bytes_expected: Gauge::default(),
            throughput: Gauge::default(),
            buffer_in_use: Gauge::default(),
            buffer_limit: Gauge::default(),
            requests_in_flight: Gauge::default(),
            token_fetches: Counter::default(),
            tokens_seen: AtomicU64::new(0),
            token_source: token_fetches,
            source: Mutex::new(None),
            registry: Registry::default(),
        };
        let r = &mut registry;
        r.register(
            "http_requests",
            "HTTP attempts by operation and response status (none: no response)",
            metrics.requests.clone(),
        );
        r.register("http_retries", "Failed HTTP attempts that were retried, by operation", metrics.retries.clone());
        r.register(
            "http_request_duration_seconds",
            "Time of one HTTP attempt to its response headers",
            metrics.latency.clone(),
        );
        r.register("job", "The job running (1), by id", metrics.job.clone());
        r.register(
            "job_objects",
            "The job's objects by state: done, failed, skipped, pending",
            metrics.objects.clone(),
        );
        r.register("job_objects_found", "Objects the job's listing found so far", metrics.found.clone());
        r.register("job_bytes_transferred", "Bytes the job moved so far", metrics.bytes_transferred.clone());
        r.register("job_bytes_expected", "Bytes of the objects the job is moving", metrics.bytes_expected.clone());
        r.register(
            "job_throughput_bytes_per_second",
            "Bytes moved per second over the last few seconds",
            metrics.throughput.clone(),
        );
        r.register(
            "buffer_bytes_in_use",
            "Bytes of data held in memory between read and write",
            metrics.buffer_in_use.clone(),
        );
        r.register("buffer_bytes_limit", "The most data the buffers may hold", metrics.buffer_limit.clone());
        r.register("requests_in_flight", "Data requests under way", metrics.requests_in_flight.clone());
        r.register(
            "token_fetches",
            "Access tokens fetched from Microsoft Entra ID (sign-in and refreshes)",
            metrics.token_fetches.clone(),
        );
        Self { registry, ..metrics }
    }

    /// Watches the job `job_id` whose engine counts in `stats` (the last job watched is shown).
    pub fn watch(&self, job_id: &str, stats: Arc<Stats>) {
        if let Ok(mut source) = self.source.lock() {
            if let Some(old) = source.as_ref() {
                self.job.get_or_create(&JobLabel { job_id: old.job_id.clone() }).set(0);
            }
            *source = Some(Source { job_id: job_id.to_owned(), stats });
        }
    }

    /// The throughput the job measured over its last interval.
    pub fn set_throughput(&self, bytes_per_second: f64) {
        self.throughput.set(bytes_per_second);
    }

    /// Reads the live counters into the gauges (done before each scrape).
    fn refresh(&self) {
        if let Some(read) = self.token_source {
            let now = read();
            let before = self.tokens_seen.swap(now, Ordering::Relaxed);
            self.token_fetches.inc_by(now.saturating_sub(before));
        }
        let Ok(source) = self.source.lock() else { return };
        let Some(source) = source.as_ref() else { return };
        let s = source.stats.snapshot();
        let gauge = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        self.job.get_or_create(&JobLabel { job_id: source.job_id.clone() }).set(1);
        for (state, value) in [("done", s.done), ("failed", s.failed), ("skipped", s.skipped), ("pending", s.pending())]
        {
            self.objects.get_or_create(&StateLabel { state }).set(gauge(value));
        }
        self.found.set(gauge(s.total));
        self.bytes_transferred.set(gauge(s.bytes_transferred));
        self.bytes_expected.set(gauge(s.bytes_expected));
        self.buffer_in_use.set(gauge(s.buffer_bytes_in_use));
        self.buffer_limit.set(gauge(s.buffer_bytes_limit));
        self.requests_in_flight.set(gauge(s.requests_in_flight));
    }

    /// The exposition, current as of now.
    pub fn render(&self) -> String {
        self.refresh();
        let mut text = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::warn!(error = %e, "cannot encode the metrics");
        }
        text
    }
}

impl ferry_http::RequestObserver for Metrics {
    fn attempt(&self, operation: &str, status: Option<u16>, elapsed: Duration) {
        let status = status.map_or_else(|| "none".to_owned(), |s| s.to_string());
        self.requests.get_or_create(&RequestLabels { operation: operation.to_owned(), status }).inc();
        self.latency.get_or_create(&OperationLabel { operation: operation.to_owned() }).observe(elapsed.as_secs_f64());
    }

    fn retry(&self, operation: &str) {
        self.retries.get_or_create(&OperationLabel { operation: operation.to_owned() }).inc();
    }
}
