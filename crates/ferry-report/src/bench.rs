//! `ferry bench`'s results and what most likely held the run back.

use std::time::Duration;

/// What a `ferry bench` run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchResult {
    /// An upload (else a download).
    pub upload: bool,
    /// Files moved.
    pub files: u64,
    /// Files that failed.
    pub failed: u64,
    /// Bytes moved.
    pub bytes: u64,
    /// How long it took.
    pub elapsed: Duration,
    /// Ferry's CPU time over that.
    pub cpu: Duration,
    /// This machine's cores.
    pub cores: usize,
}

impl BenchResult {
    /// The likely bottleneck and what to do about it.
    pub fn diagnosis(&self) -> (&'static str, String) {
        let seconds = self.elapsed.as_secs_f64().max(0.001);
        #[allow(clippy::cast_precision_loss)]
        let cpu_share = self.cpu.as_secs_f64() / (seconds * self.cores as f64);
        #[allow(clippy::cast_precision_loss)]
        let average = if self.files == 0 { 0.0 } else { self.bytes as f64 / self.files as f64 };
        if self.failed > 0 {
            (
                "Service errors",
                format!(
                    "{} files failed: see the lines above; the service may be throttling (503) or refusing the credential",
                    self.failed
                ),
            )
        } else if cpu_share >= 0.8 {
            (
                "CPU",
                format!(
                    "Ferry used {:.0}% of this machine's {} cores: a machine with more cores, or leaving out --put-md5, would go faster",
                    cpu_share * 100.0,
                    self.cores
                ),
            )
        } else if average < 1024.0 * 1024.0 {
            ("Small files", "each file costs at least one request, so the request rate sets the pace, not the bandwidth: more parallel requests (AZCOPY_CONCURRENCY_VALUE) help until the service throttles; fewer, larger files help most".into())
        } else {
            (
                "Network or service",
                format!(
                    "Ferry used {:.0}% of the CPU; the bandwidth to the service, or the account's throughput limits, set this rate",
                    cpu_share * 100.0
                ),
            )
        }
    }

    /// The results, as `ferry bench` prints them.
    pub fn text(&self) -> String {
        let seconds = self.elapsed.as_secs_f64().max(0.001);
        #[allow(clippy::cast_precision_loss)]
        let (megabits, mib_s, files_s) = (
            self.bytes as f64 * 8.0 / seconds / 1e6,
            self.bytes as f64 / seconds / (1024.0 * 1024.0),
            self.files as f64 / seconds,
        );
        let (code, advice) = self.diagnosis();
        [
            "Performance benchmark results:".to_owned(),
            format!("Mode: {}", if self.upload { "Upload" } else { "Download" }),
            format!("Files: {} ({} failed)", self.files, self.failed),
            format!("Bytes: {}", self.bytes),
            format!("Elapsed Time (Seconds): {seconds:.2}"),
            format!("Throughput (Mb/s): {megabits:.1}"),
            format!("Throughput (MiB/s): {mib_s:.1}"),
            format!("Files per second: {files_s:.1}"),
            format!("Ferry CPU (Seconds): {:.2}", self.cpu.as_secs_f64()),
            format!("Likely bottleneck: {code}"),
            format!("Advice: {advice}"),
        ]
        .join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bottleneck_follows_the_measurements() {
        let run = |files, bytes, cpu| BenchResult {
            upload: true,
            files,
            failed: 0,
            bytes,
            elapsed: Duration::from_secs(10),
            cpu: Duration::from_secs(cpu),
            cores: 2,
        };
        assert_eq!(run(10, 10 << 30, 18).diagnosis().0, "CPU");
        assert_eq!(run(10_000, 40 << 20, 2).diagnosis().0, "Small files");
        assert_eq!(run(10, 10 << 30, 2).diagnosis().0, "Network or service");
    }
}
