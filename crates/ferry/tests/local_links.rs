//! Symbolic links and special files below a local source (issue #14): passed over and counted
//! by default (AzCopy's summary lines), followed with `--follow-symlinks` (a loop ends), and
//! stored as links with `--preserve-symlinks` (the target as content, `is_symlink` metadata),
//! then made links again on download. What lands is read back from Azurite and the disk.

mod common;

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;

use common::{ferry_with_key, run, summary_value};
use ferry_testkit::Azurite;

/// A tree with a file, links (to a file outside, to a directory inside, back to the root, to
/// nothing) and a FIFO, beside a folder `outside` it must not be mistaken for.
fn tree(work: &Path) -> std::path::PathBuf {
    let src = work.join("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::create_dir_all(work.join("outside")).unwrap();
    std::fs::write(src.join("a.txt"), b"a").unwrap();
    std::fs::write(src.join("sub/b.txt"), b"bb").unwrap();
    std::fs::write(work.join("outside/secret.txt"), b"outside").unwrap();
    symlink(work.join("outside/secret.txt"), src.join("link-file")).unwrap();
    symlink("sub", src.join("link-dir")).unwrap();
    symlink("..", src.join("sub/up")).unwrap();
    symlink("nowhere", src.join("broken")).unwrap();
    assert!(Command::new("mkfifo").arg(src.join("fifo")).status().unwrap().success());
    src
}

/// Each blob's name, content and `is_symlink` metadata, as the Python SDK reads them.
fn blobs(azurite: &Azurite, container: &str) -> Vec<String> {
    let body = "for b in c.list_blobs(include=['metadata']):\n    data = c.download_blob(b.name).readall().decode()\n    print(b.name, data, (b.metadata or {}).get('is_symlink', '-'))";
    common::python_in(azurite, container, body).lines().map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn links_are_skipped_and_counted_followed_or_preserved() {
    let azurite = Azurite::shared();
    let work = tempfile::tempdir().unwrap();
    let src = tree(work.path());

    // Default: only regular files; every link and the FIFO counted as AzCopy counts them.
    let skipped = azurite.new_container("links-skip").await.container().to_owned();
    let (code, out, err) = run(ferry_with_key().args([
        "copy",
        &format!("{}/*", src.display()),
        &azurite.container_url(&skipped),
        "--recursive",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary_value(&out, "Number of Symbolic Links Skipped"), 4, "{out}");
    assert_eq!(summary_value(&out, "Number of Special Files Skipped"), 1, "{out}");
    assert_eq!(blobs(azurite, &skipped), ["a.txt a -", "sub/b.txt bb -"]);

    // --follow-symlinks: what the links point to; the link back to the root is not walked
    // again, and the broken one is counted.
    let followed = azurite.new_container("links-follow").await.container().to_owned();
    let (code, out, err) = run(ferry_with_key().args([
        "copy",
        &format!("{}/*", src.display()),
        &azurite.container_url(&followed),
        "--recursive",
        "--follow-symlinks",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary_value(&out, "Number of Symbolic Links Skipped"), 1, "{out}");
    assert_eq!(
        blobs(azurite, &followed),
        ["a.txt a -", "link-dir/b.txt bb -", "link-file outside -", "sub/b.txt bb -"]
    );

    // --preserve-symlinks: each link stored as itself, then made a link again on download.
    let preserved = azurite.new_container("links-keep").await.container().to_owned();
    let (code, _, err) = run(ferry_with_key().args([
        "copy",
        &format!("{}/*", src.display()),
        &azurite.container_url(&preserved),
        "--recursive",
        "--preserve-symlinks",
    ]));
    assert_eq!(code, 0, "{err}");
    let outside = work.path().join("outside/secret.txt");
    assert_eq!(
        blobs(azurite, &preserved),
        [
            "a.txt a -".to_owned(),
            "broken nowhere true".to_owned(),
            "link-dir sub true".to_owned(),
            format!("link-file {} true", outside.display()),
            "sub/b.txt bb -".to_owned(),
            "sub/up .. true".to_owned(),
        ]
    );
    let back = work.path().join("back");
    let (code, _, err) = run(ferry_with_key().args([
        "copy",
        &format!("{}/*", azurite.container_url(&preserved)),
        back.to_str().unwrap(),
        "--recursive",
        "--preserve-symlinks",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_link(back.join("link-dir")).unwrap(), Path::new("sub"));
    assert_eq!(std::fs::read_link(back.join("sub/up")).unwrap(), Path::new(".."));
    assert_eq!(std::fs::read_link(back.join("link-file")).unwrap(), outside);
    assert_eq!(std::fs::read(back.join("sub/b.txt")).unwrap(), b"bb");
    assert_eq!(std::fs::read(&outside).unwrap(), b"outside", "nothing was written through a link");

    // Without the flag, a stored link downloads as the file it is: its target as text.
    let plain = work.path().join("plain");
    let (code, _, err) = run(ferry_with_key().args([
        "copy",
        &format!("{}/link-dir", azurite.container_url(&preserved)),
        plain.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read(&plain).unwrap(), b"sub");

    let (code, _, err) = run(ferry_with_key().args([
        "copy",
        src.to_str().unwrap(),
        work.path().join("x").to_str().unwrap(),
        "--recursive",
        "--follow-symlinks",
        "--preserve-symlinks",
    ]));
    assert_eq!(code, 2, "{err}");
}

/// `sync` takes the same link flags: `--follow-symlinks` syncs what links point to, and
/// `--preserve-symlinks` syncs links as links both ways, a second run finding them up to date
/// (the destination's restored links are listed as links, never followed). `--hardlinks skip`
/// passes over files with several links.
#[tokio::test(flavor = "multi_thread")]
async fn sync_follows_or_preserves_links() {
    let azurite = Azurite::shared();
    let work = tempfile::tempdir().unwrap();
    let src = tree(work.path());
    std::fs::remove_file(src.join("fifo")).unwrap();
    std::fs::hard_link(src.join("a.txt"), work.path().join("a-again.txt")).unwrap();
    let sync = |from: &str, to: &str, flags: &[&str]| {
        let mut cmd = ferry_with_key();
        cmd.args(["sync", from, to]).args(flags);
        run(&mut cmd)
    };

    let followed = azurite.new_container("sync-follow").await.container().to_owned();
    let (code, _, err) = sync(src.to_str().unwrap(), &azurite.container_url(&followed), &["--follow-symlinks"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        blobs(azurite, &followed),
        ["a.txt a -", "link-dir/b.txt bb -", "link-file outside -", "sub/b.txt bb -"]
    );

    let kept = azurite.new_container("sync-keep").await.container().to_owned();
    let (code, _, err) = sync(src.to_str().unwrap(), &azurite.container_url(&kept), &["--preserve-symlinks"]);
    assert_eq!(code, 0, "{err}");
    assert!(blobs(azurite, &kept).contains(&"link-dir sub true".to_owned()));
    let back = work.path().join("back");
    std::fs::create_dir(&back).unwrap();
    let (code, _, err) = sync(&azurite.container_url(&kept), back.to_str().unwrap(), &["--preserve-symlinks"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_link(back.join("link-dir")).unwrap(), Path::new("sub"));
    assert_eq!(std::fs::read_link(back.join("sub/up")).unwrap(), Path::new(".."));
    let (code, out, err) = sync(&azurite.container_url(&kept), back.to_str().unwrap(), &["--preserve-symlinks"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary_value(&out, "Number of Copy Transfers Completed"), 0, "the second run copies nothing: {out}");

    let (code, out, err) = sync(src.to_str().unwrap(), &azurite.container_url(&kept), &["--hardlinks=skip"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary_value(&out, "Number of Hardlinks Skipped"), 1, "{out}");
}

/// `--preserve-posix-properties`: owner, group, mode and times go into metadata under AzCopy's
/// names (standard, or Azure Managed Lustre's with `--posix-properties-style amlfs`, beside
/// metadata the job sets), and a download restores mode and modification time.
#[tokio::test(flavor = "multi_thread")]
async fn posix_properties_travel_in_metadata_and_come_back() {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    let azurite = Azurite::shared();
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("run.sh");
    std::fs::write(&file, b"#!/bin/sh\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o750)).unwrap();
    let when = std::time::UNIX_EPOCH + std::time::Duration::new(1_700_000_000, 123_456_789);
    std::fs::File::options().write(true).open(&file).unwrap().set_modified(when).unwrap();
    let meta = std::fs::metadata(&file).unwrap();

    let container = azurite.new_container("posix").await.container().to_owned();
    let (code, _, err) = run(ferry_with_key().args([
        "copy",
        file.to_str().unwrap(),
        &azurite.container_url(&container),
        "--preserve-posix-properties",
    ]));
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(ferry_with_key().args([
        "copy",
        file.to_str().unwrap(),
        &format!("{}/lustre.sh", azurite.container_url(&container)),
        "--preserve-posix-properties",
        "--posix-properties-style=amlfs",
        "--metadata=team=ops",
    ]));
    assert_eq!(code, 0, "{err}");
    let body = "for b in c.list_blobs(include=['metadata']):\n    m = b.metadata\n    print(b.name, *(f'{k}={m[k]}' for k in ['posix_owner', 'owner', 'permissions', 'modtime', 'team'] if k in m))";
    let seen = common::python_in(azurite, &container, body);
    let uid = meta.uid();
    assert!(
        seen.contains(&format!("run.sh posix_owner={uid} permissions={} modtime=1700000000123456789\n", 0o100_750)),
        "{seen}"
    );
    assert!(
        seen.contains(&format!("lustre.sh owner={uid} permissions=0750 modtime=2023-11-14 22:13:20 +0000 team=ops")),
        "{seen}"
    );

    let back = work.path().join("back");
    let (code, _, err) = run(ferry_with_key().args([
        "copy",
        &format!("{}/*", azurite.container_url(&container)),
        back.to_str().unwrap(),
        "--preserve-posix-properties",
    ]));
    assert_eq!(code, 0, "{err}");
    for (name, modified) in
        [("run.sh", when), ("lustre.sh", std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000))]
    {
        let got = std::fs::metadata(back.join(name)).unwrap();
        assert_eq!(got.mode() & 0o7777, 0o750, "{name}");
        assert_eq!(got.modified().unwrap(), modified, "{name}");
    }
    let (code, _, err) =
        run(ferry_with_key().args(["copy", file.to_str().unwrap(), "x", "--posix-properties-style=amlfs"]));
    assert_eq!(code, 2, "{err}");
}

/// `--hardlinks skip` passes over files with several hard links and counts them in AzCopy's
/// summary line; the default (`follow`) copies each as a file.
#[test]
fn hard_links_are_followed_or_skipped_and_counted() {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("one"), b"1").unwrap();
    std::fs::write(src.join("two"), b"2").unwrap();
    std::fs::hard_link(src.join("two"), src.join("two-again")).unwrap();
    for (flag, copied, skipped) in [("--hardlinks=follow", 3, 0), ("--hardlinks=skip", 1, 2)] {
        let dst = work.path().join(flag.trim_start_matches("--hardlinks="));
        let (code, out, err) =
            run(common::ferry().args(["copy", &format!("{}/*", src.display()), dst.to_str().unwrap(), flag]));
        assert_eq!(code, 0, "{err}");
        assert_eq!(summary_value(&out, "Number of File Transfers Completed"), copied, "{flag}: {out}");
        assert_eq!(summary_value(&out, "Number of Hardlinks Skipped"), skipped, "{flag}: {out}");
        assert_eq!(std::fs::read_dir(&dst).unwrap().count() as u64, copied);
    }
}
