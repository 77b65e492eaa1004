//! `/metrics` of `ferry serve`: every job in the folder, from its journal.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::Shared;
use crate::data::JobView;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobState {
    job_id: String,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabel {
    job_id: String,
}

fn exposition(jobs: &[JobView]) -> String {
    let mut registry = Registry::with_prefix("ferry");
    let (statuses, objects) = (Family::<StatusLabel, Gauge>::default(), Family::<JobState, Gauge>::default());
    let (bytes, throughput) =
        (Family::<JobLabel, Gauge>::default(), Family::<JobLabel, Gauge<f64, std::sync::atomic::AtomicU64>>::default());
    registry.register("jobs", "Jobs in the folder by status", statuses.clone());
    registry.register("job_objects", "Each job's objects by state", objects.clone());
    registry.register("job_bytes_transferred", "Bytes each job moved", bytes.clone());
    registry.register(
        "job_throughput_bytes_per_second",
        "Each job's bytes per second over its run",
        throughput.clone(),
    );
    let gauge = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    for job in jobs {
        statuses.get_or_create(&StatusLabel { status: job.shown_status().to_owned() }).inc();
        let pending = job.found.saturating_sub(job.done + job.failed + job.skipped);
        for (state, value) in
            [("done", job.done), ("failed", job.failed), ("skipped", job.skipped), ("pending", pending)]
        {
            objects.get_or_create(&JobState { job_id: job.id.clone(), state }).set(gauge(value));
        }
        bytes.get_or_create(&JobLabel { job_id: job.id.clone() }).set(gauge(job.bytes_done));
        throughput.get_or_create(&JobLabel { job_id: job.id.clone() }).set(job.throughput().unwrap_or(0.0));
    }
    let mut text = String::new();
    let _ = prometheus_client::encoding::text::encode(&mut text, &registry);
    text
}

pub(crate) async fn metrics(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    let plans = shared.options.plans.clone();
    let jobs = tokio::task::spawn_blocking(move || crate::data::jobs(&plans)).await.unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], exposition(&jobs))
}
