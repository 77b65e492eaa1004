//! `copy --decompress` (issue #14): blobs stored gzip- or deflate-encoded (by Content-Encoding)
//! are inflated on download and lose the extension that says so, as AzCopy does; blobs without
//! an encoding are copied as they are; bad data fails its item and leaves no file. The blobs
//! and the expected bytes are made by Python's own gzip and zlib, uploaded with the Python SDK.

mod common;

use common::{ferry_with_key, python_in as python, run};
use ferry_testkit::Azurite;

#[tokio::test(flavor = "multi_thread")]
async fn encoded_blobs_are_inflated_on_download_and_bad_data_leaves_nothing() {
    let azurite = Azurite::shared();
    let container = azurite.new_container("inflate").await.container().to_owned();
    let expected = tempfile::tempdir().unwrap();
    // Text of ~3 MiB (several 1 MiB chunks compressed), 24 MiB of zeros (a ~24 KiB blob that
    // inflates a thousandfold), a two-member gzip, a zlib stream, a .gz without an encoding.
    python(
        azurite,
        &container,
        &format!(
            "import gzip, zlib, os, random\nfrom azure.storage.blob import ContentSettings\n\
             out = {dir:?}\n\
             random.seed(7)\n\
             text = ''.join(random.choice('abcdefgh \\n') for _ in range(3_000_000)).encode()\n\
             def put(name, data, encoding, original):\n\
             \x20   c.upload_blob(name, data, content_settings=ContentSettings(content_encoding=encoding) if encoding else None)\n\
             \x20   open(os.path.join(out, name.replace('/', '_')), 'wb').write(original)\n\
             put('logs/app.log.gz', gzip.compress(text), 'gzip', text)\n\
             put('zeros.bin.GZIP', gzip.compress(bytes(24 << 20)), 'GZIP', bytes(24 << 20))\n\
             put('two.txt.gz', gzip.compress(b'first member\\n') + gzip.compress(b'second member\\n'), 'gzip', b'first member\\nsecond member\\n')\n\
             put('table.csv.zz', zlib.compress(text[:100000]), 'deflate', text[:100000])\n\
             put('raw.gz', gzip.compress(b'kept as it is'), None, gzip.compress(b'kept as it is'))\n\
             put('empty.txt', b'', None, b'')\n",
            dir = expected.path().to_str().unwrap()
        ),
    );
    let dest = tempfile::tempdir().unwrap();
    let source = format!("{}/*", azurite.container_url(&container));
    let (code, out, err) = run(ferry_with_key().args([
        "copy",
        &source,
        dest.path().to_str().unwrap(),
        "--recursive",
        "--decompress",
        "--block-size-mb=1",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    let read = |p: &str| std::fs::read(dest.path().join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    let want = |p: &str| std::fs::read(expected.path().join(p)).unwrap();
    assert_eq!(read("logs/app.log"), want("logs_app.log.gz"));
    assert_eq!(read("zeros.bin"), want("zeros.bin.GZIP"));
    assert_eq!(read("two.txt"), b"first member\nsecond member\n");
    assert_eq!(read("table.csv"), want("table.csv.zz"));
    assert_eq!(read("raw.gz"), want("raw.gz"), "no Content-Encoding: copied as stored, name kept");
    assert_eq!(read("empty.txt"), b"");
    assert!(!dest.path().join("logs/app.log.gz").exists());

    // Data that is not what its encoding says fails its item; nothing is left behind for it,
    // and an encoding Ferry cannot inflate fails before anything is read.
    let bad = azurite.new_container("inflate-bad").await.container().to_owned();
    python(
        azurite,
        &bad,
        "from azure.storage.blob import ContentSettings\n\
         c.upload_blob('broken.txt.gz', b'\\x1f\\x8b\\x08\\x00' + bytes(range(256)) * 64, content_settings=ContentSettings(content_encoding='gzip'))\n\
         c.upload_blob('fine.txt', b'fine')\n\
         c.upload_blob('page.br', b'brotli?', content_settings=ContentSettings(content_encoding='br'))\n",
    );
    let dest = tempfile::tempdir().unwrap();
    let (code, out, err) = run(ferry_with_key().args([
        "copy",
        &format!("{}/*", azurite.container_url(&bad)),
        dest.path().to_str().unwrap(),
        "--decompress",
    ]));
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("broken.txt.gz") && err.contains("not valid Gzip"), "{err}");
    assert!(err.contains("not Content-Encoding `br`"), "{err}");
    let mut names: Vec<String> =
        std::fs::read_dir(dest.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["fine.txt"], "only the good file, no partial or temporary file");

    // Only downloads inflate; --verify compares stored bytes, so the two do not go together.
    let (code, _, err) =
        run(ferry_with_key().args(["copy", &source, &azurite.container_url(&bad), "--recursive", "--decompress"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--decompress applies to downloads"), "{err}");
    let (code, _, err) =
        run(ferry_with_key().args(["copy", &source, dest.path().to_str().unwrap(), "--decompress", "--verify"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--verify and --decompress cannot be used together"), "{err}");
}
