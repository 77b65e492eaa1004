//! `--metrics-addr` (issue #17): while a throttled upload runs, `/metrics` is scraped twice; both
//! scrapes parse with Prometheus' own Python parser (OpenMetrics text), the job's bytes and
//! objects grow between them, and the requests are counted by operation and status with their
//! latencies.

mod common;

use std::time::Duration;

use common::ferry_with_key;
use ferry_testkit::{Azurite, data::pattern};

/// Scrapes `url` and returns the samples Prometheus' parser reads, as `name{labels} value` lines.
fn scrape(url: &str) -> Vec<String> {
    let script = r#"
import sys, urllib.request
from prometheus_client.openmetrics.parser import text_string_to_metric_families
body = urllib.request.urlopen(sys.argv[1]).read().decode()
for family in text_string_to_metric_families(body):
    for s in family.samples:
        labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
        print(f"{s.name}{{{labels}}} {s.value}")
"#;
    let out = std::process::Command::new(ferry_testkit::tools::python()).args(["-c", script, url]).output().unwrap();
    assert!(out.status.success(), "the exposition does not parse: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect()
}

fn value(samples: &[String], name_and_labels: &str) -> f64 {
    samples
        .iter()
        .find_map(|s| s.strip_prefix(name_and_labels).and_then(|v| v.trim().parse().ok()))
        .unwrap_or_else(|| panic!("no sample {name_and_labels} in {samples:#?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_during_a_throttled_upload_parse_and_grow() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("metrics").await;
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    for i in 0..40 {
        std::fs::write(src.join(format!("f{i:02}.bin")), pattern(64 * 1024, i)).unwrap();
    }
    let port = ferry_testkit::ports::free_port().unwrap();
    // 40 × 64 KiB at 2 Mbit/s: about 10 s.
    let mut child = ferry_with_key()
        .env("FERRY_METRICS_ADDR", port.to_string())
        .env("FERRY_JOB_PLAN_LOCATION", work.path().join("plans"))
        .args(["copy", &format!("{}/*", src.display()), &azurite.container_url(store.container()), "--cap-mbps", "2"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/metrics");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let first = scrape(&url);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let second = scrape(&url);
    let status = child.wait().unwrap();
    assert!(status.success());

    let bytes = |s: &[String]| value(s, "ferry_job_bytes_transferred{}");
    let done = |s: &[String]| value(s, "ferry_job_objects{state=done}");
    assert!(bytes(&first) > 0.0 && bytes(&second) > bytes(&first), "bytes grow: {first:#?}\n{second:#?}");
    assert!(done(&second) > done(&first), "objects done grow");
    assert_eq!(value(&second, "ferry_job_objects_found{}"), 40.0);
    assert!(value(&second, "ferry_job_throughput_bytes_per_second{}") > 0.0);
    assert!(value(&second, "ferry_buffer_bytes_limit{}") > 0.0);
    // Each upload is one Put Blob answered 201, counted and timed.
    let puts = value(&second, "ferry_http_requests_total{operation=PUT,status=201}");
    assert!(puts >= done(&second) && puts <= 40.0, "{puts} PUTs for {} uploads", done(&second));
    assert!(value(&second, "ferry_http_request_duration_seconds_count{operation=PUT}") >= puts);
    assert!(second.iter().any(|s| s.starts_with("ferry_http_request_duration_seconds_bucket{le=0.005,operation=PUT}")));
    assert!(second.iter().any(|s| s.starts_with("ferry_job{job_id=")), "the job is named");
}
