//! Which objects a job covers.
//!
//! AzCopy's semantics, with its known gaps filled:
//! - `--include-pattern` / `--exclude-pattern`: `;`-separated shell globs (`*`, `?`, `[…]`)
//!   matched against the object's **name** (last path segment). Includes are OR-ed; an object
//!   matching any exclude is out. *Beyond AzCopy*: a pattern containing `/` matches the whole
//!   relative path, where `*` stays within one segment and `**` spans any number of segments
//!   (`photos/**/*.jpg`).
//! - `--include-path` / `--exclude-path` (and `--list-of-files`): relative paths, matched as
//!   whole segments: `a/b` covers `a/b` and everything under `a/b/`, but not `a/bc` (AzCopy
//!   matches a raw prefix there, which surprises users).
//! - `--include-regex` / `--exclude-regex`: `;`-separated regular expressions searched in the
//!   relative path.
//! - `--include-after` / `--include-before`: an inclusive window on the last-modified time.
//! - *Beyond AzCopy*: `--min-size` / `--max-size`, inclusive.
//!
//! Every kind of filter present must admit an object for it to be included.

use std::time::SystemTime;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use regex::RegexSet;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A filter that could not be built; the message names the flag and the bad value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{flag}: {reason}")]
pub struct FilterError {
    /// The flag, e.g. `--include-pattern`.
    pub flag: &'static str,
    /// What is wrong.
    pub reason: String,
}

/// The filter flags as given (each list already split on `;`, empty entries dropped).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FilterSpec {
    /// `--include-pattern`.
    pub include_patterns: Vec<String>,
    /// `--exclude-pattern`.
    pub exclude_patterns: Vec<String>,
    /// `--include-path` and the lines of `--list-of-files`.
    pub include_paths: Vec<String>,
    /// `--exclude-path`.
    pub exclude_paths: Vec<String>,
    /// `--include-regex`.
    pub include_regex: Vec<String>,
    /// `--exclude-regex`.
    pub exclude_regex: Vec<String>,
    /// `--include-after`, as typed.
    pub include_after: Option<String>,
    /// `--include-before`, as typed.
    pub include_before: Option<String>,
    /// `--min-size`, in bytes.
    pub min_size: Option<u64>,
    /// `--max-size`, in bytes.
    pub max_size: Option<u64>,
    /// `--exclude-blob-type`: BlockBlob, PageBlob, AppendBlob.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_blob_types: Vec<String>,
    /// `--include-directory-stub`: folder stubs (`hdi_isfolder=true`) are objects too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub include_directory_stubs: bool,
    /// `--shard K/N` (or `--shards N`): only the names of this shard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::Shard>,
    /// `--shard-plan`: this shard's range of names. When set, `shard` only numbers the shard;
    /// the range, not the hash, says which names are in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<crate::KeyRange>,
}

impl FilterSpec {
    /// Splits a `;`-separated flag value into its non-empty parts.
    pub fn split_list(value: Option<&str>) -> Vec<String> {
        value
            .map(|v| v.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default()
    }
}

/// Globs split by what they match: names or whole paths.
#[derive(Debug, Clone)]
struct Globs {
    names: GlobSet,
    paths: GlobSet,
    count: usize,
}

impl Globs {
    fn new(patterns: &[String], flag: &'static str) -> Result<Self, FilterError> {
        let mut names = GlobSetBuilder::new();
        let mut paths = GlobSetBuilder::new();
        for pattern in patterns {
            let glob = GlobBuilder::new(pattern)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| FilterError { flag, reason: format!("`{pattern}` is not a valid pattern: {e}") })?;
            if pattern.contains('/') {
                paths.add(glob);
            } else {
                names.add(glob);
            }
        }
        let build = |b: GlobSetBuilder| b.build().map_err(|e| FilterError { flag, reason: e.to_string() });
        Ok(Self { names: build(names)?, paths: build(paths)?, count: patterns.len() })
    }

    fn is_match(&self, path: &str) -> bool {
        let name = path.rsplit('/').next().unwrap_or(path);
        self.names.is_match(name) || self.paths.is_match(path)
    }
}

/// A compiled filter; see the module docs for the semantics.
#[derive(Debug, Clone)]
pub struct Filter {
    include: Globs,
    exclude: Globs,
    include_paths: Vec<String>,
    exclude_paths: Vec<String>,
    include_regex: Option<RegexSet>,
    exclude_regex: Option<RegexSet>,
    after: Option<SystemTime>,
    before: Option<SystemTime>,
    min_size: Option<u64>,
    max_size: Option<u64>,
    exclude_blob_types: Vec<String>,
    include_directory_stubs: bool,
    shard: Option<crate::Shard>,
    range: Option<crate::KeyRange>,
}

/// The blob types `--exclude-blob-type` takes, as the service names them.
const BLOB_TYPES: [&str; 3] = ["BlockBlob", "PageBlob", "AppendBlob"];

/// Parses `2020-08-19T15:04:00Z` (any RFC 3339 time), `2020-08-19T15:04:00` (UTC), or
/// `2020-08-19` (UTC midnight).
fn parse_time(text: &str, flag: &'static str) -> Result<SystemTime, FilterError> {
    let t = text.trim();
    let candidates = [t.to_owned(), format!("{t}Z"), format!("{t}T00:00:00Z")];
    candidates.iter().find_map(|c| OffsetDateTime::parse(c, &Rfc3339).ok()).map(SystemTime::from).ok_or_else(|| {
        FilterError {
            flag,
            reason: format!("`{text}` is not an ISO 8601 time such as 2024-05-01T12:00:00Z or 2024-05-01"),
        }
    })
}

fn normalise_path(path: &str) -> String {
    path.trim().trim_start_matches("./").trim_matches('/').to_owned()
}

/// Whether `path` is `prefix` or lies under it, segment by segment.
fn under(path: &str, prefix: &str) -> bool {
    path == prefix || (path.starts_with(prefix) && path.as_bytes().get(prefix.len()) == Some(&b'/'))
}

fn regex_set(patterns: &[String], flag: &'static str) -> Result<Option<RegexSet>, FilterError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    RegexSet::new(patterns).map(Some).map_err(|e| FilterError { flag, reason: e.to_string() })
}

impl Filter {
    /// Compiles a filter.
    pub fn new(spec: &FilterSpec) -> Result<Self, FilterError> {
        if let (Some(min), Some(max)) = (spec.min_size, spec.max_size)
            && min > max
        {
            return Err(FilterError { flag: "--min-size", reason: format!("{min} is larger than --max-size {max}") });
        }
        Ok(Self {
            include: Globs::new(&spec.include_patterns, "--include-pattern")?,
            exclude: Globs::new(&spec.exclude_patterns, "--exclude-pattern")?,
            include_paths: spec.include_paths.iter().map(|p| normalise_path(p)).filter(|p| !p.is_empty()).collect(),
            exclude_paths: spec.exclude_paths.iter().map(|p| normalise_path(p)).filter(|p| !p.is_empty()).collect(),
            include_regex: regex_set(&spec.include_regex, "--include-regex")?,
            exclude_regex: regex_set(&spec.exclude_regex, "--exclude-regex")?,
            after: spec.include_after.as_deref().map(|t| parse_time(t, "--include-after")).transpose()?,
            before: spec.include_before.as_deref().map(|t| parse_time(t, "--include-before")).transpose()?,
            min_size: spec.min_size,
            max_size: spec.max_size,
            exclude_blob_types: spec
                .exclude_blob_types
                .iter()
                .map(|t| {
                    BLOB_TYPES
                        .iter()
                        .find(|known| known.eq_ignore_ascii_case(t.trim()))
                        .map(|k| (*k).to_owned())
                        .ok_or_else(|| FilterError {
                            flag: "--exclude-blob-type",
                            reason: format!("`{t}` is not one of BlockBlob, PageBlob, AppendBlob"),
                        })
                })
                .collect::<Result<_, _>>()?,
            include_directory_stubs: spec.include_directory_stubs,
            shard: spec.shard,
            range: spec.range.clone(),
        })
    }

    /// Whether an object of `blob_type` (none for places without blob types) is admitted.
    pub fn admits_blob_type(&self, blob_type: Option<&str>) -> bool {
        blob_type.is_none_or(|t| !self.exclude_blob_types.iter().any(|x| x == t))
    }

    /// Whether folder stubs are objects too (`--include-directory-stub`).
    pub fn includes_directory_stubs(&self) -> bool {
        self.include_directory_stubs
    }

    /// A filter that admits everything.
    pub fn all() -> Self {
        Self::new(&FilterSpec::default()).expect("an empty filter compiles")
    }

    /// Whether an object at `path` (relative to the job's source) with `size` and `modified`
    /// is covered.
    pub fn admits(&self, path: &str, size: u64, modified: Option<SystemTime>) -> bool {
        self.admits_name(path) && self.admits_properties(size, modified)
    }

    /// Whether a filter on times or sizes is set (`--include-after/-before`, `--min/max-size`).
    pub fn has_property_filters(&self) -> bool {
        self.after.is_some() || self.before.is_some() || self.min_size.is_some() || self.max_size.is_some()
    }

    /// The name, path and regex half of [`Filter::admits`]: what does not depend on a side's own
    /// times or sizes, so it judges a key the same way at the source and at the destination.
    pub fn admits_name(&self, path: &str) -> bool {
        if self.include.count > 0 && !self.include.is_match(path) {
            return false;
        }
        if self.exclude.count > 0 && self.exclude.is_match(path) {
            return false;
        }
        if !self.include_paths.is_empty() && !self.include_paths.iter().any(|p| under(path, p)) {
            return false;
        }
        if self.exclude_paths.iter().any(|p| under(path, p)) {
            return false;
        }
        if self.include_regex.as_ref().is_some_and(|set| !set.is_match(path)) {
            return false;
        }
        if self.exclude_regex.as_ref().is_some_and(|set| set.is_match(path)) {
            return false;
        }
        // The shard last: it hashes the name, the costliest test.
        match &self.range {
            Some(range) => range.holds(path),
            None => self.shard.is_none_or(|shard| shard.holds(path)),
        }
    }

    /// The range of names a range plan's shard holds (`--shard-plan`): a listing may start at
    /// its beginning and stop at its end.
    pub fn range(&self) -> Option<&crate::KeyRange> {
        self.range.as_ref()
    }

    /// The time and size half of [`Filter::admits`]. A sync applies it to the source only, to
    /// decide what is copied: a destination object is judged by its own key, never by whether its
    /// own time or size falls in the window (that would make it look like an extra).
    pub fn admits_properties(&self, size: u64, modified: Option<SystemTime>) -> bool {
        if self.after.is_some() || self.before.is_some() {
            let Some(modified) = modified else { return false };
            if self.after.is_some_and(|after| modified < after) || self.before.is_some_and(|before| modified > before) {
                return false;
            }
        }
        self.min_size.is_none_or(|min| size >= min) && self.max_size.is_none_or(|max| size <= max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const PATHS: [&str; 8] = [
        "a.txt",
        "b.jpg",
        "docs/readme.md",
        "docs/img/logo.jpg",
        "photos/2024/beach.jpg",
        "photos/2024/raw/beach.cr2",
        "ab/c.txt",
        "abc/d.txt",
    ];

    fn admitted(spec: FilterSpec) -> Vec<&'static str> {
        let filter = Filter::new(&spec).unwrap();
        PATHS.iter().copied().filter(|p| filter.admits(p, p.len() as u64, None)).collect()
    }

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn name_patterns_match_the_last_segment() {
        let got = admitted(FilterSpec { include_patterns: list(&["*.jpg", "*.md"]), ..FilterSpec::default() });
        assert_eq!(got, ["b.jpg", "docs/readme.md", "docs/img/logo.jpg", "photos/2024/beach.jpg"]);
        let got = admitted(FilterSpec { exclude_patterns: list(&["*.jpg", "?.txt"]), ..FilterSpec::default() });
        assert_eq!(
            got,
            ["docs/readme.md", "photos/2024/raw/beach.cr2"],
            "`?.txt` matches the names c.txt and d.txt too"
        );
    }

    #[test]
    fn path_patterns_with_double_star() {
        let got = admitted(FilterSpec { include_patterns: list(&["photos/**/*.jpg"]), ..FilterSpec::default() });
        assert_eq!(got, ["photos/2024/beach.jpg"]);
        let got = admitted(FilterSpec { include_patterns: list(&["photos/*/*"]), ..FilterSpec::default() });
        assert_eq!(got, ["photos/2024/beach.jpg"], "a single star stays within one segment");
        let got = admitted(FilterSpec { include_patterns: list(&["**/*.jpg"]), ..FilterSpec::default() });
        assert_eq!(got, ["b.jpg", "docs/img/logo.jpg", "photos/2024/beach.jpg"]);
    }

    #[test]
    fn include_and_exclude_paths_match_whole_segments() {
        let got = admitted(FilterSpec { include_paths: list(&["ab", "docs/readme.md"]), ..FilterSpec::default() });
        assert_eq!(got, ["docs/readme.md", "ab/c.txt"], "`ab` covers ab/… but not abc/…");
        let got = admitted(FilterSpec { exclude_paths: list(&["photos/", "./docs"]), ..FilterSpec::default() });
        assert_eq!(got, ["a.txt", "b.jpg", "ab/c.txt", "abc/d.txt"]);
    }

    #[test]
    fn regexes_see_the_relative_path() {
        let got = admitted(FilterSpec { include_regex: list(&["^photos/", r"\.md$"]), ..FilterSpec::default() });
        assert_eq!(got, ["docs/readme.md", "photos/2024/beach.jpg", "photos/2024/raw/beach.cr2"]);
        let got = admitted(FilterSpec { exclude_regex: list(&["raw", "^a"]), ..FilterSpec::default() });
        assert_eq!(got, ["b.jpg", "docs/readme.md", "docs/img/logo.jpg", "photos/2024/beach.jpg"]);
    }

    #[test]
    fn sizes_are_inclusive() {
        // Sizes here are the path lengths.
        let got = admitted(FilterSpec { min_size: Some(14), max_size: Some(17), ..FilterSpec::default() });
        assert_eq!(got, ["docs/readme.md", "docs/img/logo.jpg"]);
        assert!(Filter::new(&FilterSpec { min_size: Some(2), max_size: Some(1), ..FilterSpec::default() }).is_err());
    }

    #[test]
    fn time_windows_are_inclusive_and_need_a_time() {
        let spec = FilterSpec {
            include_after: Some("2024-05-01".into()),
            include_before: Some("2024-05-02T00:00:00Z".into()),
            ..FilterSpec::default()
        };
        let f = Filter::new(&spec).unwrap();
        let at = |s: &str| SystemTime::from(OffsetDateTime::parse(s, &Rfc3339).unwrap());
        assert!(f.admits("x", 1, Some(at("2024-05-01T00:00:00Z"))));
        assert!(f.admits("x", 1, Some(at("2024-05-02T00:00:00Z"))));
        assert!(!f.admits("x", 1, Some(at("2024-05-02T00:00:00Z") + Duration::from_secs(1))));
        assert!(!f.admits("x", 1, Some(at("2024-04-30T23:59:59Z"))));
        assert!(!f.admits("x", 1, None), "no time, no match");
        assert!(Filter::new(&FilterSpec { include_after: Some("yesterday".into()), ..FilterSpec::default() }).is_err());
    }

    #[test]
    fn everything_passes_an_empty_filter_and_bad_input_names_the_flag() {
        assert_eq!(admitted(FilterSpec::default()).len(), PATHS.len());
        let err =
            Filter::new(&FilterSpec { include_patterns: list(&["[unclosed"]), ..FilterSpec::default() }).unwrap_err();
        assert_eq!(err.flag, "--include-pattern");
        let err =
            Filter::new(&FilterSpec { exclude_regex: list(&["(unclosed"]), ..FilterSpec::default() }).unwrap_err();
        assert_eq!(err.flag, "--exclude-regex");
    }
}
