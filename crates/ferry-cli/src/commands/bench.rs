//! `ferry bench URL`: upload generated data to a container, or download a container's blobs to
//! nowhere, and say how fast it went and what most likely held it back (AzCopy's `bench`).
//!
//! The local disk takes no part: the source of an upload is [`GeneratedSource`] and the
//! destination of a download is [`DiscardSink`], so what is measured is Ferry, the network and
//! the service.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ferry_azure::AzureStore;
use ferry_core::LocationHint;
use ferry_engine::{CheckMd5, CopyEngine, CopyOptions, Transfer, TransferPolicy};
use ferry_report::{BenchResult, Console};
use ferry_store::{DiscardSink, EntryKind, GeneratedSource, ListDepth, Store};
use futures::{StreamExt, TryStreamExt};

use super::Ctx;
use crate::CliError;
use crate::args::{BenchArgs, BenchMode};
use crate::spec::mib;

/// Parses `250M`, `4K`, `1G` (binary units) or a plain number of bytes.
fn parse_size(text: &str) -> Result<u64, CliError> {
    let t = text.trim();
    let (number, unit) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&t[..i], c.to_ascii_uppercase()),
        _ => (t, 'B'),
    };
    let scale: u64 = match unit {
        'B' => 1,
        'K' => 1 << 10,
        'M' => 1 << 20,
        'G' => 1 << 30,
        _ => 0,
    };
    number
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|_| scale > 0)
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| CliError::usage(format!("--size-per-file `{text}` is not a size such as 4K, 250M or 1G")))
}

/// This process's CPU time (user + system) so far, from `/proc/self/stat` (in USER_HZ ticks,
/// which Linux fixes at 100 per second).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

pub(crate) async fn run(args: &BenchArgs, ctx: &Ctx<'_>) -> Result<(), CliError> {
    let (settings, console) = (ctx.settings, ctx.console);
    let url = super::blob_url(&args.url, LocationHint::Known(ferry_core::LocationKind::Blob), "bench")?;
    let Some(_) = url.container() else {
        return Err(CliError::usage(format!("`{url}` names no container")).with_hint("give a container URL"));
    };
    if !args.blob_type.eq_ignore_ascii_case("BlockBlob") {
        return Err(CliError::usage(format!(
            "--blob-type `{}` is not supported yet; bench measures BlockBlob",
            args.blob_type
        ))
        .with_hint("leave --blob-type out"));
    }
    let size = parse_size(&args.size_per_file)?;
    if args.file_count == 0 {
        return Err(CliError::usage("--file-count must be at least 1"));
    }
    let (client, credential) = ferry_job::blob_client(&url, &ctx.job([None, None])?)?;
    let store: Arc<dyn Store> = Arc::new(AzureStore::new(client, &url)?);
    let job_id = uuid::Uuid::new_v4().simple().to_string();
    let path = url.path().trim_end_matches('/');
    let base = if path.is_empty() { String::new() } else { format!("{path}/") };
    let options = CopyOptions {
        policy: TransferPolicy {
            block_size: mib(args.block_size_mb, "--block-size-mb")?,
            put_blob_size: mib(args.put_blob_size_mb, "--put-blob-size-mb")?,
            put_md5: args.put_md5,
            check_md5: CheckMd5::NoCheck,
            check_length: args.check_length,
            ..TransferPolicy::default()
        },
        objects_in_flight: settings.transfer.objects_in_flight,
        requests_in_flight: settings.transfer.requests_in_flight,
        buffer_bytes: settings.transfer.buffer_bytes,
        part_tag: job_id.clone(),
        ..CopyOptions::default()
    };

    let (mut report, elapsed, cpu) = match args.mode {
        BenchMode::Upload => {
            if let Err(e) = store.create_root().await {
                tracing::debug!(error = %e, "not creating the container");
            }
            let prefix = format!("{base}ferry-bench-{job_id}/");
            let source = Arc::new(GeneratedSource::new(args.file_count, size, args.number_of_folders));
            console.info(&format!(
                "Uploading {} generated files of {size} bytes to {}/{prefix}",
                args.file_count,
                url.with_sas(None).with_container_and_path(url.container(), "")
            ));
            let engine = CopyEngine::new(source.clone(), store.clone(), options);
            let transfers = source.list("", ListDepth::Recursive).map_ok(move |entry| {
                let dest = format!("{prefix}{}", entry.key);
                Transfer::from_entry(entry, dest)
            });
            let (started, cpu_before) = (Instant::now(), cpu_time());
            let report = engine.run(transfers).await;
            let measured = (report, started.elapsed(), cpu_time().saturating_sub(cpu_before));
            if args.delete_test_data {
                delete_under(&*store, &format!("{base}ferry-bench-{job_id}/"), console).await;
            }
            measured
        }
        BenchMode::Download => {
            let sink = Arc::new(DiscardSink::default());
            let engine = CopyEngine::new(store.clone(), sink, options);
            let listing = store
                .list(&base, ListDepth::Recursive)
                .try_filter(|e| futures::future::ready(e.kind == EntryKind::Object))
                .map_ok(|entry| {
                    let dest = entry.key.clone();
                    Transfer::from_entry(entry, dest)
                });
            let (started, cpu_before) = (Instant::now(), cpu_time());
            let report = engine.run(listing).await;
            (report, started.elapsed(), cpu_time().saturating_sub(cpu_before))
        }
    };
    // A failure with no destination is the listing's: nothing after it can be trusted.
    if let Some(at) = report.failures.iter().position(|f| f.dest_key.is_empty()) {
        return Err(credential.explain(CliError::from(report.failures.swap_remove(at).error)));
    }
    if report.stats.total == 0 {
        return Err(CliError::failed(format!("nothing to download under {url}"))
            .with_hint("upload test data first: ferry bench URL --delete-test-data=false"));
    }
    for failure in report.failures.iter().take(10) {
        console.warn(&format!("BENCHFAILED: {} : {}", failure.dest_key, failure.error));
    }
    let measured = BenchResult {
        upload: args.mode == BenchMode::Upload,
        files: report.stats.done,
        failed: report.stats.failed,
        bytes: report.stats.bytes_transferred,
        elapsed,
        cpu,
        cores: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
    };
    console.end_of_job(&measured.text());
    if measured.failed > 0 {
        return Err(CliError::failed(format!("{} of {} files failed", measured.failed, report.stats.total)));
    }
    Ok(())
}

/// Deletes the test data (best effort: what is left is named in a warning).
async fn delete_under(store: &dyn Store, prefix: &str, console: &Console) {
    let keys: Vec<String> = match store.list(prefix, ListDepth::Recursive).map_ok(|e| e.key).try_collect().await {
        Ok(keys) => keys,
        Err(e) => {
            console.warn(&format!("cannot list the test data to delete it: {e}"));
            return;
        }
    };
    let failed = futures::stream::iter(keys)
        .map(|key| async move { store.delete(&key).await.is_err() })
        .buffer_unordered(32)
        .filter(|failed| futures::future::ready(*failed))
        .count()
        .await;
    if failed > 0 {
        console.warn(&format!("{failed} test files under `{prefix}` could not be deleted"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_units() {
        assert_eq!(parse_size("250M").unwrap(), 250 << 20);
        assert_eq!(parse_size("4k").unwrap(), 4096);
        assert_eq!(parse_size("1G").unwrap(), 1 << 30);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert!(parse_size("4X").is_err());
        assert!(parse_size("M").is_err());
    }
}
