//! Every filter flag of `ferry copy`, through the binary: each case lists exactly which files a
//! dry run would copy, so a flag that were ignored fails its case.

mod common;

use std::path::Path;
use std::time::{Duration, SystemTime};

use common::{ferry, run};

const FILES: [(&str, usize); 8] = [
    ("a.txt", 10),
    ("b.jpg", 2000),
    ("docs/readme.md", 300),
    ("docs/img/logo.jpg", 5000),
    ("photos/2024/beach.jpg", 70_000),
    ("photos/2024/raw/beach.cr2", 900_000),
    ("ab/c.txt", 1),
    ("abc/d.txt", 0),
];

fn tree(root: &Path) {
    for (name, size) in FILES {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, vec![b'x'; size]).unwrap();
        // Files under photos/ are a year old; the rest are new.
        let age = if name.starts_with("photos/") { 365 * 86_400 } else { 0 };
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(SystemTime::now() - Duration::from_secs(age)).unwrap();
    }
}

/// The source-relative paths a dry run with `flags` would copy, sorted.
fn selected(root: &Path, flags: &[&str]) -> Vec<String> {
    let source = format!("{}/*", root.join("src").display());
    let dest = root.join("dst");
    let mut args = vec!["copy", source.as_str(), dest.to_str().unwrap(), "--recursive", "--dry-run"];
    args.extend_from_slice(flags);
    let (code, out, err) = run(ferry().args(&args));
    assert_eq!(code, 0, "{flags:?}: {err}");
    let prefix = format!("DRYRUN: copy {}/", root.join("src").display());
    let mut paths: Vec<String> = out
        .lines()
        .map(|l| l.strip_prefix(&prefix).unwrap_or_else(|| panic!("unexpected line {l}")))
        .map(|l| l.split(" to ").next().unwrap().to_owned())
        .collect();
    paths.sort();
    paths
}

#[test]
fn each_filter_selects_exactly_its_files() {
    let work = tempfile::tempdir().unwrap();
    tree(&work.path().join("src"));
    let list_file = work.path().join("list.txt");
    std::fs::write(&list_file, "\u{feff}docs\nab/c.txt\n\n").unwrap();
    let list_flag = format!("--list-of-files={}", list_file.display());

    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (vec![], FILES.iter().map(|(n, _)| *n).collect()),
        (
            vec!["--include-pattern", "*.jpg;*.md"],
            vec!["b.jpg", "docs/img/logo.jpg", "docs/readme.md", "photos/2024/beach.jpg"],
        ),
        (vec!["--exclude-pattern", "*.jpg;*.txt"], vec!["docs/readme.md", "photos/2024/raw/beach.cr2"]),
        (vec!["--include-pattern", "photos/**/*.jpg"], vec!["photos/2024/beach.jpg"]),
        (vec!["--include-path", "ab;docs/readme.md"], vec!["ab/c.txt", "docs/readme.md"]),
        (vec!["--exclude-path", "photos;docs"], vec!["a.txt", "ab/c.txt", "abc/d.txt", "b.jpg"]),
        (vec!["--include-regex", r"^photos/.*\.cr2$"], vec!["photos/2024/raw/beach.cr2"]),
        (vec!["--exclude-regex", "^(photos|docs)/"], vec!["a.txt", "ab/c.txt", "abc/d.txt", "b.jpg"]),
        (vec!["--min-size", "2000", "--max-size", "70KB"], vec!["b.jpg", "docs/img/logo.jpg", "photos/2024/beach.jpg"]),
        (vec!["--include-before", "2020-01-01"], vec![]),
        (vec![list_flag.as_str()], vec!["ab/c.txt", "docs/img/logo.jpg", "docs/readme.md"]),
    ];
    for (flags, mut expected) in cases {
        expected.sort_unstable();
        assert_eq!(selected(work.path(), &flags), expected, "{flags:?}");
    }

    let a_month_ago = time_text(SystemTime::now() - Duration::from_secs(30 * 86_400));
    let recent = selected(work.path(), &["--include-after", &a_month_ago]);
    assert_eq!(recent, ["a.txt", "ab/c.txt", "abc/d.txt", "b.jpg", "docs/img/logo.jpg", "docs/readme.md"]);
    let old = selected(work.path(), &["--include-before", &a_month_ago]);
    assert_eq!(old, ["photos/2024/beach.jpg", "photos/2024/raw/beach.cr2"]);
}

fn time_text(t: SystemTime) -> String {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    // Days since the epoch to a civil date (proleptic Gregorian), for an RFC 3339 timestamp.
    let days = secs / 86_400;
    let (y, m, d) = civil_from_days(i64::try_from(days).unwrap());
    format!("{y:04}-{m:02}-{d:02}T00:00:00Z")
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[test]
fn bad_filter_values_are_usage_errors_naming_the_flag() {
    let work = tempfile::tempdir().unwrap();
    tree(&work.path().join("src"));
    for (flags, flag) in [
        (vec!["--include-pattern", "[oops"], "--include-pattern"),
        (vec!["--exclude-regex", "(oops"], "--exclude-regex"),
        (vec!["--include-after", "last tuesday"], "--include-after"),
        (vec!["--min-size", "lots"], "--min-size"),
        (vec!["--list-of-files", "/no/such/list"], "--list-of-files"),
    ] {
        let source = format!("{}/*", work.path().join("src").display());
        let mut args = vec!["copy", source.as_str(), "/tmp/ferry-never-written", "--recursive"];
        args.extend_from_slice(&flags);
        let (code, _, err) = run(ferry().args(&args));
        assert_eq!(code, 2, "{flags:?}: {err}");
        assert!(err.contains(flag), "{flags:?}: {err}");
    }
    assert!(!Path::new("/tmp/ferry-never-written").exists(), "nothing was written");
}

#[test]
fn local_wildcards_select_by_name_or_path() {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    tree(&src);
    let pick = |pattern: &str, recursive: bool| {
        let source = format!("{}/{pattern}", src.display());
        let dest = work.path().join("dst");
        let mut args = vec!["copy", source.as_str(), dest.to_str().unwrap(), "--dry-run"];
        if recursive {
            args.push("--recursive");
        }
        let (code, out, err) = run(ferry().args(&args));
        assert_eq!(code, 0, "{pattern}: {err}");
        let prefix = format!("DRYRUN: copy {}/", src.display());
        let mut got: Vec<String> =
            out.lines().map(|l| l.strip_prefix(&prefix).unwrap().split(" to ").next().unwrap().to_owned()).collect();
        got.sort();
        got
    };
    assert_eq!(pick("*.jpg", false), ["b.jpg"], "top level only without --recursive");
    assert_eq!(pick("*.jpg", true), ["b.jpg", "docs/img/logo.jpg", "photos/2024/beach.jpg"]);
    assert_eq!(pick("photos/*/*.jpg", false), ["photos/2024/beach.jpg"], "a path wildcard lists recursively");
    assert_eq!(pick("docs/*", false), ["docs/readme.md"], "`*` stays within one segment");
}
