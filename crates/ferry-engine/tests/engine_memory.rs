//! The copy engine on the in-memory store with injected faults: failures stay per item,
//! cancellation drops even a slow listing, and a cut-short read never publishes. Milliseconds
//! each, beside the Azurite suite.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ferry_engine::{CopyEngine, CopyOptions, Transfer};
use ferry_store::{ListDepth, MemoryStore, Store, WriteOptions};
use ferry_testkit::store_faults::{Faults, FaultyStore, Op};
use futures::TryStreamExt;

async fn filled(count: usize, size: usize) -> MemoryStore {
    let store = MemoryStore::new();
    for i in 0..count {
        let data = Bytes::from(vec![(i % 251) as u8; size]);
        store.write(&format!("k{i:05}"), data.into(), &WriteOptions::default()).await.unwrap();
    }
    store
}

async fn keys(store: &dyn Store) -> Vec<String> {
    store.list("", ListDepth::Recursive).map_ok(|e| e.key).try_collect().await.unwrap()
}

fn engine(source: Arc<dyn Store>, dest: Arc<dyn Store>) -> CopyEngine {
    CopyEngine::new(source, dest, CopyOptions { part_tag: "memory-test".into(), ..CopyOptions::default() })
}

async fn run(engine: &CopyEngine, source: &Arc<dyn Store>) -> ferry_engine::CopyReport {
    engine.run(source.list("", ListDepth::Recursive).map_ok(same_key)).await
}

/// A transfer of `entry` to the same key.
fn same_key(entry: ferry_store::Entry) -> Transfer {
    let key = entry.key.clone();
    Transfer::from_entry(entry, key)
}

#[tokio::test]
async fn a_failed_write_fails_one_item_and_the_others_arrive() {
    let source: Arc<dyn Store> = Arc::new(filled(20, 100).await);
    let dest = Arc::new(MemoryStore::new());
    let faulty: Arc<dyn Store> =
        Arc::new(FaultyStore::new(dest.clone(), Faults { fail_nth: vec![(Op::Write, 3)], ..Faults::default() }));
    let report = run(&engine(source.clone(), faulty), &source).await;
    assert_eq!((report.stats.done, report.stats.failed), (19, 1), "{report:?}");
    assert_eq!(report.failures.len(), 1);
    let failed = &report.failures[0].dest_key;
    let landed = keys(dest.as_ref()).await;
    assert_eq!(landed.len(), 19);
    assert!(!landed.contains(failed), "the failed item is not at the destination");
}

#[tokio::test]
async fn cancel_drops_a_slow_listing_and_starts_nothing_new() {
    let memory: Arc<dyn Store> = Arc::new(filled(1000, 10).await);
    let slow: Arc<dyn Store> =
        Arc::new(FaultyStore::new(memory, Faults { delay: Some(Duration::from_millis(20)), ..Faults::default() }));
    let dest = Arc::new(MemoryStore::new());
    let engine = engine(slow.clone(), dest.clone());
    let cancel = engine.cancel_flag();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        cancel.store(true, Ordering::Relaxed);
    });
    let started = Instant::now();
    let report = tokio::time::timeout(Duration::from_secs(10), run(&engine, &slow)).await.expect("the run ends");
    assert!(report.cancelled);
    assert!(!report.stats.scanning_finished, "the listing was dropped, not drained");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?} (listing all would take 20 s)", started.elapsed());
    let landed = keys(dest.as_ref()).await.len() as u64;
    assert!(landed < 1000 && landed == report.stats.done, "{landed} landed, {} done", report.stats.done);
}

#[tokio::test]
async fn a_read_cut_short_never_publishes() {
    let memory: Arc<dyn Store> = Arc::new(filled(3, 1000).await);
    let cut: Arc<dyn Store> =
        Arc::new(FaultyStore::new(memory, Faults { cut_reads_at: Some(100), ..Faults::default() }));
    let dest = Arc::new(MemoryStore::new());
    let report = run(&engine(cut.clone(), dest.clone()), &cut).await;
    assert_eq!(report.stats.failed, 3, "{report:?}");
    assert!(keys(dest.as_ref()).await.is_empty(), "nothing half-written is published");
}

#[tokio::test]
async fn a_snapshot_source_changed_after_listing_fails_without_a_second_look() {
    let memory = Arc::new(filled(4, 1000).await);
    let with_md5 = |data: &Bytes| WriteOptions {
        headers: ferry_store::ContentHeaders { content_md5: Some(ferry_store::md5_of(data)), ..Default::default() },
        ..WriteOptions::default()
    };
    let first = Bytes::from(vec![1u8; 1000]);
    memory.write("k00002", first.clone().into(), &with_md5(&first)).await.unwrap();
    let counted = Arc::new(FaultyStore::new(memory.clone(), Faults::default()));
    let source: Arc<dyn Store> = counted.clone();
    let listed: Vec<Transfer> = source.list("", ListDepth::Recursive).map_ok(same_key).try_collect().await.unwrap();
    // After the listing: k00000 grows, k00001 shrinks, k00002 is replaced by as many other bytes.
    for (key, len, byte) in [("k00000", 1001, 7u8), ("k00001", 999, 7), ("k00002", 1000, 2)] {
        memory.write(key, Bytes::from(vec![byte; len]).into(), &WriteOptions::default()).await.unwrap();
    }
    let dest = Arc::new(MemoryStore::new());
    let objects: Arc<dyn Store> =
        Arc::new(FaultyStore::new(dest.clone(), Faults { no_positional_writes: true, ..Faults::default() }));
    let report = engine(source, objects).run(futures::stream::iter(listed.into_iter().map(Ok))).await;
    assert_eq!((report.stats.done, report.stats.failed), (1, 3), "{report:?}");
    let said: Vec<String> = report.failures.iter().map(|f| format!("{}: {}", f.source_key, f.error)).collect();
    for key in ["k00000", "k00001"] {
        assert!(said.iter().any(|s| s.starts_with(key) && s.contains("modified during the transfer")), "{said:?}");
    }
    // The source's MD5 travels with the body, and the destination refuses a body that does not match it.
    assert!(said.iter().any(|s| s.starts_with("k00002") && s.contains("MD5")), "{said:?}");
    assert_eq!(keys(dest.as_ref()).await, ["k00003"], "only the unchanged object arrives");
    assert_eq!(counted.calls(Op::Stat), 0, "one read per object, no stat after it");
    assert_eq!(counted.calls(Op::Read), 4);
}

#[tokio::test]
async fn a_download_of_an_object_that_changed_size_after_listing_fails() {
    // Objects of one range each, without a stored MD5 to catch a change: only the length can.
    let memory = Arc::new(filled(3, 1000).await);
    let source: Arc<dyn Store> = memory.clone();
    let listed: Vec<Transfer> = source.list("", ListDepth::Recursive).map_ok(same_key).try_collect().await.unwrap();
    // After the listing: k00000 grows, k00001 shrinks.
    for (key, len) in [("k00000", 1001), ("k00001", 999)] {
        memory.write(key, Bytes::from(vec![7u8; len]).into(), &WriteOptions::default()).await.unwrap();
    }
    let dest = Arc::new(MemoryStore::new());
    assert!(dest.capabilities().positional_writes, "the download path, not the upload path");
    let report = engine(source, dest.clone()).run(futures::stream::iter(listed.into_iter().map(Ok))).await;
    assert_eq!((report.stats.done, report.stats.failed), (1, 2), "{report:?}");
    for f in &report.failures {
        assert!(f.error.to_string().contains("changed during the transfer"), "{}: {}", f.source_key, f.error);
    }
    assert_eq!(keys(dest.as_ref()).await, ["k00002"], "only the unchanged object arrives");
}
