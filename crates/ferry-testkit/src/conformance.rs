//! The [`Store`] contract as executable checks.
//!
//! Each check takes a fresh, empty store and panics with a message naming the contract point it
//! found broken. Every backend runs all of them through [`store_conformance_tests!`], so a new
//! backend is correct when the same suite passes for it.

use std::collections::BTreeMap;

use bytes::Bytes;
use ferry_store::{
    ContentHeaders, Entry, EntryKind, ErrorKind, FinishOptions, ListDepth, PartId, Payload, Store, WriteOptions, md5_of,
};
use futures::{StreamExt, TryStreamExt, stream};

use crate::data::pattern;

/// Runs every check as its own `#[tokio::test]`. `$fresh` is an async fn returning
/// `(impl Store, guard)`: a new empty store and whatever must live as long as it.
#[macro_export]
macro_rules! store_conformance_tests {
    ($fresh:path) => {
        $crate::store_conformance_tests!(@tests $fresh;
            content_md5_is_checked_and_kept,
        );
        $crate::store_conformance_tests!($fresh; but_md5);
    };
    // Every check but the Content-MD5 one, for a server that does not check Content-MD5 (moto);
    // that check then runs against one that does.
    ($fresh:path; but_md5) => {
        $crate::store_conformance_tests!(@tests $fresh;
            listing_order_and_names_round_trip,
            listing_from_a_key_starts_there,
            one_level_listing_shows_virtual_directories,
            listing_pages_through_ten_thousand_entries,
            ranged_reads,
            staged_write_with_list_parts,
            overwrite_semantics,
            stat_reports_size_time_and_properties,
            missing_objects_are_not_found,
            delete_removes_the_object,
            create_root_twice_is_already_exists,
            writes_from_file_ranges_and_streams,
            positional_writes_publish_atomically,
            directories_where_there_are_real_ones,
        );
    };
    (@tests $fresh:path; $($check:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $check() {
                let (store, _guard) = $fresh().await;
                $crate::conformance::$check(&store).await;
            }
        )+
    };
}

async fn put(store: &dyn Store, key: &str, data: impl Into<Bytes>) {
    store
        .write(key, Payload::Bytes(data.into()), &WriteOptions::default())
        .await
        .unwrap_or_else(|e| panic!("write `{key}` failed: {e}"));
}

async fn get(store: &dyn Store, key: &str, range: Option<std::ops::Range<u64>>) -> Vec<u8> {
    let stream = store.read(key, range).await.unwrap_or_else(|e| panic!("read `{key}` failed: {e}"));
    let chunks: Vec<Bytes> = stream.try_collect().await.unwrap_or_else(|e| panic!("reading `{key}` broke: {e}"));
    chunks.concat()
}

async fn list(store: &dyn Store, prefix: &str, depth: ListDepth) -> Vec<Entry> {
    store.list(prefix, depth).try_collect().await.unwrap_or_else(|e| panic!("list `{prefix}` failed: {e}"))
}

fn keys(entries: &[Entry]) -> Vec<&str> {
    entries.iter().map(|e| e.key.as_str()).collect()
}

/// Names that break naive encoders and sorters. Every segment stays under 255 bytes so local
/// file systems can hold them; the longest name is exactly 1,024 characters.
pub fn tricky_names() -> Vec<String> {
    let mut long = String::new();
    while long.len() < 1000 {
        long.push_str(&"l".repeat(199));
        long.push('/');
    }
    long.push_str(&"e".repeat(1024 - long.len()));
    assert_eq!(long.chars().count(), 1024);
    [
        "plain.txt",
        "sp ace.txt",
        "hash#tag",
        "question?mark",
        "per%25cent",
        "lone%",
        "plus+sign",
        "amp&ersand",
        "caf\u{e9}.txt",
        "cafe\u{301}.txt",
        "\u{1F600}-emoji",
        "\u{FF5E}-fullwidth-tilde",
        "\u{E000}-private-use",
        "UPPER",
        "lower",
        "dir/inner.txt",
        "dir.txt",
        "dir-x",
        "dir0",
        "semi;colon=equals,comma",
        "quote'and\"double",
        "tab\there",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain(std::iter::once(long))
    .collect()
}

/// The tricky names `store` can hold: all of them, less those SMB forbids on a store with SMB
/// names (Azure Files: `?`, `"`, control characters).
fn tricky_names_for(store: &dyn Store) -> Vec<String> {
    let smb = store.capabilities().smb_names;
    tricky_names().into_iter().filter(|n| !smb || ferry_store::smb_name_problem(n, false).is_none()).collect()
}

/// Listing returns every key exactly as written, in key order (UTF-16 code units, as the Blob
/// service lists: an emoji before U+FF5E); reading returns its bytes.
pub async fn listing_order_and_names_round_trip(store: &dyn Store) {
    let names = tricky_names_for(store);
    for name in &names {
        put(store, name, Bytes::copy_from_slice(name.as_bytes())).await;
    }
    let listed = list(store, "", ListDepth::Recursive).await;
    let mut expected: Vec<&str> = names.iter().map(String::as_str).collect();
    expected.sort_unstable_by(|a, b| ferry_store::cmp_keys(a, b));
    assert_eq!(keys(&listed), expected, "keys must list exactly as written, in key order (UTF-16 code units)");
    for entry in &listed {
        assert_eq!(entry.kind, EntryKind::Object);
        assert_eq!(entry.size, entry.key.len() as u64, "size of `{}`", entry.key);
        assert_eq!(get(store, &entry.key, None).await, entry.key.as_bytes(), "content of `{}`", entry.key);
    }
}

/// A listing from a key holds exactly the keys at or after it, in key order, whether or not the
/// key exists, across names the services order differently (U+E000 and above).
pub async fn listing_from_a_key_starts_there(store: &dyn Store) {
    let mut names = tricky_names_for(store);
    names.extend(["t/a/1", "t/a/2", "t/b/1", "t/b/c/1", "t/c"].map(str::to_owned));
    for name in &names {
        put(store, name, Bytes::from_static(b"x")).await;
    }
    names.sort_unstable_by(|a, b| ferry_store::cmp_keys(a, b));
    let absent = ["", "dir", "dir/", "dir/i", "t/b/", "t/b/b", "t/a/1x", "\u{F000}", "\u{1F600}", "\u{E000}", "~~~"];
    let starts = names.iter().map(String::as_str).chain(absent);
    for start in starts {
        let listed: Vec<Entry> = store
            .list_from("", ListDepth::Recursive, start)
            .try_collect()
            .await
            .unwrap_or_else(|e| panic!("list from `{start}` failed: {e}"));
        let expected: Vec<&str> = names
            .iter()
            .map(String::as_str)
            .filter(|n| ferry_store::cmp_keys(n, start) != std::cmp::Ordering::Less)
            .collect();
        assert_eq!(keys(&listed), expected, "a listing from {start:?} holds the keys at or after it, in key order");
    }
    let from = |prefix: &'static str, start: &'static str| async move {
        let listed: Vec<Entry> = store.list_from(prefix, ListDepth::Recursive, start).try_collect().await.unwrap();
        listed.into_iter().map(|e| e.key).collect::<Vec<_>>()
    };
    assert_eq!(from("t/", "t/b/").await, ["t/b/1", "t/b/c/1", "t/c"]);
    assert_eq!(from("t/", "a").await, ["t/a/1", "t/a/2", "t/b/1", "t/b/c/1", "t/c"], "a start before the prefix");
    assert!(from("t/", "u").await.is_empty(), "a start after the prefix");
}

/// A one-level listing shows objects and virtual directories directly under the prefix.
pub async fn one_level_listing_shows_virtual_directories(store: &dyn Store) {
    for key in ["top.txt", "d1/a", "d1/b/c", "d2/x", "d1-sibling"] {
        put(store, key, Bytes::from_static(b"x")).await;
    }
    let top = list(store, "", ListDepth::OneLevel).await;
    assert_eq!(keys(&top), ["d1-sibling", "d1/", "d2/", "top.txt"]);
    let kinds: Vec<EntryKind> = top.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EntryKind::Object, EntryKind::Prefix, EntryKind::Prefix, EntryKind::Object]);
    assert_eq!(keys(&list(store, "d1/", ListDepth::OneLevel).await), ["d1/a", "d1/b/"]);
    assert_eq!(keys(&list(store, "d1/", ListDepth::Recursive).await), ["d1/a", "d1/b/c"]);
    assert_eq!(keys(&list(store, "d1", ListDepth::Recursive).await), ["d1-sibling", "d1/a", "d1/b/c"]);
}

/// Ten thousand entries list completely and in order (more than one service page).
pub async fn listing_pages_through_ten_thousand_entries(store: &dyn Store) {
    const COUNT: usize = 10_000;
    let names: Vec<String> = (0..COUNT).map(|i| format!("many/{:02}/{i:05}.bin", i % 37)).collect();
    stream::iter(names.iter())
        .for_each_concurrent(32, |name| async move { put(store, name, Bytes::from_static(b"0123456789")).await })
        .await;
    let listed = list(store, "many/", ListDepth::Recursive).await;
    assert_eq!(listed.len(), COUNT, "every entry is listed once");
    let mut expected: Vec<&str> = names.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(keys(&listed), expected);
    assert_eq!(listed.iter().map(|e| e.size).sum::<u64>(), 10 * COUNT as u64);
}

/// Ranged reads return exactly the requested bytes, clipped at the end of the object.
pub async fn ranged_reads(store: &dyn Store) {
    let data = pattern(1024 * 1024 + 123, 7);
    let size = data.len() as u64;
    put(store, "ranged.bin", data.clone()).await;
    assert_eq!(get(store, "ranged.bin", None).await, data);
    assert_eq!(get(store, "ranged.bin", Some(0..10)).await, data[..10]);
    assert_eq!(get(store, "ranged.bin", Some(100_000..size)).await, data[100_000..]);
    assert_eq!(
        get(store, "ranged.bin", Some(size - 5..size + 100)).await,
        data[data.len() - 5..],
        "clipped at the end"
    );
    assert_eq!(get(store, "ranged.bin", Some(500..500)).await, b"", "an empty range");
    let err = store.read("ranged.bin", Some(size..size + 10)).await.err().expect("a range past the end fails");
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    put(store, "empty.bin", Bytes::new()).await;
    assert_eq!(get(store, "empty.bin", Some(0..10)).await, b"", "a range on an empty object reads empty");
}

/// Staged parts (in a session [`Store::open_parts`] opens) are listed before commit, invisible
/// until committed, and assembled in order; a session an earlier run recorded is continued.
///
/// A store that writes in place (Azure Files) has no parts: staging one is `NotSupported`, and a
/// file is created at its size, written range by range in any order, then given its MD5.
pub async fn staged_write_with_list_parts(store: &dyn Store) {
    if store.capabilities().writes_in_place {
        return ranges_written_in_place(store).await;
    }
    // Every part but the last at least the store's least (S3: 5 MiB).
    let least = usize::try_from(store.capabilities().min_part_size).unwrap_or(usize::MAX);
    let parts: Vec<(PartId, Vec<u8>)> = [300_000usize.max(least), 17usize.max(least), 65_536]
        .iter()
        .enumerate()
        .map(|(i, n)| (PartId::numbered("conf", i as u32), pattern(*n, i as u64)))
        .collect();
    let options = WriteOptions::default();
    let session = store.open_parts("staged/big.bin", "conf", &options, None).await.expect("open_parts");
    for (id, data) in parts.iter().rev().take(2) {
        store
            .put_part("staged/big.bin", id, Bytes::copy_from_slice(data), Some(md5_of(data)))
            .await
            .unwrap_or_else(|e| panic!("put_part failed: {e}"));
    }
    // As a resumed job: the session continued (the same one, where there are sessions).
    let again = store.open_parts("staged/big.bin", "conf", &options, session.as_deref()).await.expect("reopen");
    assert_eq!(again, session, "a recorded session is continued, not replaced");
    for (id, data) in parts.iter().take(1) {
        store
            .put_part("staged/big.bin", id, Bytes::copy_from_slice(data), Some(md5_of(data)))
            .await
            .unwrap_or_else(|e| panic!("put_part failed: {e}"));
    }
    let before = store.list_parts("staged/big.bin").await.expect("list_parts before commit");
    let mut staged: Vec<(String, u64)> =
        before.uncommitted.iter().map(|p| (p.id.as_str().to_owned(), p.size)).collect();
    staged.sort();
    let mut expected: Vec<(String, u64)> =
        parts.iter().map(|(id, d)| (id.as_str().to_owned(), d.len() as u64)).collect();
    expected.sort();
    assert_eq!(staged, expected, "every staged part is listed with its size");
    assert!(before.committed.is_empty());
    let err = store.stat("staged/big.bin").await.expect_err("staged parts are not an object yet");
    assert_eq!(err.kind(), ErrorKind::NotFound);

    let bad = store
        .put_part("staged/big.bin", &PartId::numbered("conf", 9), Bytes::from_static(b"abc"), Some(md5_of(b"abd")))
        .await;
    assert_eq!(bad.expect_err("a part with a wrong MD5 is refused").kind(), ErrorKind::InvalidInput);

    let missing =
        store.commit_parts("staged/other.bin", &[PartId::numbered("conf", 42)], &WriteOptions::default()).await;
    assert_eq!(missing.expect_err("committing an unknown part fails").kind(), ErrorKind::InvalidInput);

    let ids: Vec<PartId> = parts.iter().map(|(id, _)| id.clone()).collect();
    store.commit_parts("staged/big.bin", &ids, &WriteOptions::default()).await.expect("commit");
    let whole: Vec<u8> = parts.iter().flat_map(|(_, d)| d.iter().copied()).collect();
    assert_eq!(get(store, "staged/big.bin", None).await, whole, "parts assembled in the committed order");
    let after = store.list_parts("staged/big.bin").await.expect("list_parts after commit");
    assert!(after.uncommitted.is_empty(), "no staged parts remain after commit");
    if store.capabilities().lists_committed_parts {
        let committed: Vec<&str> = after.committed.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(committed, ids.iter().map(PartId::as_str).collect::<Vec<_>>());
    }
}

async fn ranges_written_in_place(store: &dyn Store) {
    let err = store.put_part("p.bin", &PartId::numbered("conf", 0), Bytes::from_static(b"x"), None).await;
    assert_eq!(err.expect_err("no staged parts").kind(), ErrorKind::NotSupported);
    let most = store.capabilities().max_part_size;
    let data = pattern(usize::try_from(most * 2 + 1000).unwrap_or(0), 5);
    store.create_ranged("in/place.bin", data.len() as u64, &WriteOptions::default()).await.expect("create");
    let ranges: Vec<std::ops::Range<usize>> =
        (0..data.len()).step_by(most as usize).map(|a| a..(a + most as usize).min(data.len())).collect();
    for r in ranges.iter().rev() {
        let piece = Bytes::copy_from_slice(&data[r.clone()]);
        store
            .write_range("in/place.bin", r.start as u64, piece, Some(md5_of(&data[r.clone()])))
            .await
            .expect("a range");
    }
    let bad = store.write_range("in/place.bin", 0, Bytes::from_static(b"abc"), Some(md5_of(b"abd"))).await;
    assert_eq!(bad.expect_err("a range with a wrong MD5 is refused").kind(), ErrorKind::InvalidInput);
    let md5 = md5_of(&data);
    let headers = ContentHeaders { content_md5: Some(md5), ..ContentHeaders::default() };
    store
        .set_content_headers("in/place.bin", &WriteOptions { headers, ..WriteOptions::default() })
        .await
        .expect("headers");
    assert_eq!(get(store, "in/place.bin", None).await, data, "ranges written in any order make the file");
    assert_eq!(store.stat("in/place.bin").await.expect("stat").content_md5, Some(md5), "the MD5 is kept");
}

/// Writes replace by default; with `overwrite: false` an existing object is kept.
pub async fn overwrite_semantics(store: &dyn Store) {
    put(store, "ow.txt", Bytes::from_static(b"one")).await;
    put(store, "ow.txt", Bytes::from_static(b"two")).await;
    assert_eq!(get(store, "ow.txt", None).await, b"two");
    let keep = WriteOptions { overwrite: false, ..WriteOptions::default() };
    let err = store.write("ow.txt", Payload::from(&b"three"[..]), &keep).await.expect_err("no overwrite");
    assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
    assert_eq!(get(store, "ow.txt", None).await, b"two", "the existing object is untouched");
    store.write("fresh.txt", Payload::from(&b"new"[..]), &keep).await.expect("a new key is written");
    assert_eq!(get(store, "fresh.txt", None).await, b"new");
}

/// A wrong Content-MD5 refuses the write and stores nothing; a right one is kept.
pub async fn content_md5_is_checked_and_kept(store: &dyn Store) {
    let data = pattern(5000, 3);
    let wrong = WriteOptions {
        headers: ContentHeaders { content_md5: Some(md5_of(b"something else")), ..ContentHeaders::default() },
        ..WriteOptions::default()
    };
    let err = store.write("md5.bin", Payload::from(data.clone()), &wrong).await.expect_err("MD5 mismatch");
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_eq!(store.stat("md5.bin").await.expect_err("nothing stored").kind(), ErrorKind::NotFound);

    let right = WriteOptions {
        headers: ContentHeaders { content_md5: Some(md5_of(&data)), ..ContentHeaders::default() },
        ..WriteOptions::default()
    };
    store.write("md5.bin", Payload::from(data.clone()), &right).await.expect("matching MD5");
    assert_eq!(get(store, "md5.bin", None).await, data);
    if store.capabilities().stores_properties {
        assert_eq!(store.stat("md5.bin").await.unwrap().content_md5, Some(md5_of(&data)));
        // Azure Files lists no MD5 (only Get File Properties gives it).
        if !store.capabilities().smb_names {
            let listed = list(store, "md5", ListDepth::Recursive).await;
            assert_eq!(listed[0].content_md5, Some(md5_of(&data)), "listing carries the MD5 too");
        }
    }
}

/// Stat gives size and time, and the stored properties where the backend keeps them.
pub async fn stat_reports_size_time_and_properties(store: &dyn Store) {
    let mut metadata = BTreeMap::new();
    metadata.insert("origin".to_owned(), "ferry-conformance".to_owned());
    let options = WriteOptions {
        headers: ContentHeaders {
            content_type: Some("text/csv".into()),
            cache_control: Some("no-cache".into()),
            ..ContentHeaders::default()
        },
        metadata: metadata.clone(),
        ..WriteOptions::default()
    };
    let before = std::time::SystemTime::now() - std::time::Duration::from_secs(120);
    store.write("props.csv", Payload::from(&b"a,b\n1,2\n"[..]), &options).await.expect("write");
    let entry = store.stat("props.csv").await.expect("stat");
    assert_eq!(entry.key, "props.csv");
    assert_eq!(entry.size, 8);
    let modified = entry.last_modified.expect("a last-modified time");
    assert!(modified > before, "last-modified is recent");
    if store.capabilities().stores_properties {
        let props = entry.props();
        assert_eq!(props.headers.content_type.as_deref(), Some("text/csv"));
        assert_eq!(props.headers.cache_control.as_deref(), Some("no-cache"));
        assert_eq!(props.metadata, metadata);
        assert!(entry.etag.is_some());
        if store.capabilities().lists_metadata {
            let listed = list(store, "props", ListDepth::Recursive).await;
            assert_eq!(listed[0].props().metadata, metadata, "listing carries metadata");
        }
    }
}

/// Missing keys are `NotFound` for stat, read and delete; an empty prefix lists nothing.
pub async fn missing_objects_are_not_found(store: &dyn Store) {
    put(store, "present", Bytes::from_static(b"x")).await;
    assert_eq!(store.stat("absent").await.expect_err("stat").kind(), ErrorKind::NotFound);
    assert_eq!(store.read("absent", None).await.err().expect("read").kind(), ErrorKind::NotFound);
    assert_eq!(store.delete("absent").await.expect_err("delete").kind(), ErrorKind::NotFound);
    assert!(list(store, "nothing/here/", ListDepth::Recursive).await.is_empty());
}

/// Delete removes the object and nothing else.
pub async fn delete_removes_the_object(store: &dyn Store) {
    put(store, "del/a", Bytes::from_static(b"a")).await;
    put(store, "del/b", Bytes::from_static(b"b")).await;
    store.delete("del/a").await.expect("delete");
    assert_eq!(store.stat("del/a").await.expect_err("gone").kind(), ErrorKind::NotFound);
    assert_eq!(keys(&list(store, "del/", ListDepth::Recursive).await), ["del/b"]);
}

/// Creating a root that exists is `AlreadyExists`, and leaves its content alone.
pub async fn create_root_twice_is_already_exists(store: &dyn Store) {
    put(store, "keep", Bytes::from_static(b"k")).await;
    let err = store.create_root().await.expect_err("the root exists");
    assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
    assert_eq!(get(store, "keep", None).await, b"k");
}

/// A write can take its bytes from a slice of a local file or from a one-shot stream; a stream
/// shorter than announced is refused and leaves nothing behind.
pub async fn writes_from_file_ranges_and_streams(store: &dyn Store) {
    let data = pattern(700_000, 11);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("source.bin");
    std::fs::write(&file, &data).expect("write the source file");
    let slice = Payload::FileRange { path: file.clone(), offset: 1000, len: 500_000 };
    store.write("from-file.bin", slice, &WriteOptions::default()).await.expect("write from a file range");
    assert_eq!(get(store, "from-file.bin", None).await, data[1000..501_000]);

    let chunks: Vec<Result<Bytes, ferry_store::StoreError>> =
        data.chunks(64 * 1024).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    let streamed = Payload::Stream { stream: stream::iter(chunks).boxed(), len: data.len() as u64 };
    store.write("from-stream.bin", streamed, &WriteOptions::default()).await.expect("write from a stream");
    assert_eq!(get(store, "from-stream.bin", None).await, data);

    let short = Payload::Stream { stream: stream::iter(vec![Ok(Bytes::from_static(b"only this"))]).boxed(), len: 1000 };
    assert!(store.write("short.bin", short, &WriteOptions::default()).await.is_err(), "a short stream fails");
    assert_eq!(store.stat("short.bin").await.expect_err("nothing stored").kind(), ErrorKind::NotFound);
}

/// Where positional writes exist: ranges land in any order, nothing is visible before `finish`,
/// an abandoned writer leaves nothing, and `finish` respects `overwrite`.
pub async fn positional_writes_publish_atomically(store: &dyn Store) {
    if !store.capabilities().positional_writes {
        let err = store.begin_positional_write("p.bin", 10).await.err().expect("NotSupported");
        assert_eq!(err.kind(), ErrorKind::NotSupported);
        return;
    }
    let writer = store.begin_positional_write("dl/p.bin", 10).await.expect("begin");
    writer.write_at(5, Bytes::from_static(b"56789")).await.expect("second half first");
    writer.write_at(0, Bytes::from_static(b"01234")).await.expect("first half");
    assert_eq!(store.stat("dl/p.bin").await.expect_err("invisible before finish").kind(), ErrorKind::NotFound);
    let back: Vec<Bytes> = writer.read_back().await.unwrap().try_collect().await.unwrap();
    assert_eq!(back.concat(), b"0123456789");
    assert!(writer.write_at(8, Bytes::from_static(b"abc")).await.is_err(), "past the announced size");
    writer.finish(&FinishOptions { overwrite: true, ..FinishOptions::default() }).await.expect("finish");
    assert_eq!(get(store, "dl/p.bin", None).await, b"0123456789");

    let abandoned = store.begin_positional_write("dl/abandoned.bin", 4).await.expect("begin");
    abandoned.write_at(0, Bytes::from_static(b"half")).await.unwrap();
    drop(abandoned);
    assert_eq!(store.stat("dl/abandoned.bin").await.expect_err("dropped").kind(), ErrorKind::NotFound);
    assert_eq!(keys(&list(store, "dl/", ListDepth::Recursive).await), ["dl/p.bin"], "no work files listed");

    let keep = store.begin_positional_write("dl/p.bin", 3).await.expect("begin");
    keep.write_at(0, Bytes::from_static(b"new")).await.unwrap();
    let err = keep.finish(&FinishOptions { overwrite: false, ..FinishOptions::default() }).await.expect_err("exists");
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    assert_eq!(get(store, "dl/p.bin", None).await, b"0123456789", "the existing object is untouched");
}

/// Where there are real directories (local disks, Azure Files), empty ones can be made and are
/// listed, parents first, under a prefix; elsewhere making one is `NotSupported` and none are
/// listed.
pub async fn directories_where_there_are_real_ones(store: &dyn Store) {
    put(store, "tree/f.txt", Bytes::from_static(b"f")).await;
    match store.make_directory("tree/b/c").await {
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::NotSupported, "{e}");
            let listed: Vec<Entry> = store.list_directories("").try_collect().await.expect("list directories");
            assert!(listed.is_empty(), "no directories where there are none");
        }
        Ok(()) => {
            store.make_directory("tree/empty/").await.expect("a second directory");
            store.make_directory("tree/b/c").await.expect("one that exists is fine");
            let listed: Vec<Entry> = store.list_directories("").try_collect().await.expect("list directories");
            assert_eq!(keys(&listed), ["tree/", "tree/b/", "tree/b/c/", "tree/empty/"], "parents first");
            assert!(listed.iter().all(|e| e.kind == EntryKind::Prefix));
            let below: Vec<Entry> = store.list_directories("tree/b/").try_collect().await.expect("under a prefix");
            assert_eq!(keys(&below), ["tree/b/c/"]);
            assert_eq!(keys(&list(store, "tree/", ListDepth::Recursive).await), ["tree/f.txt"], "files list as before");
        }
    }
}
