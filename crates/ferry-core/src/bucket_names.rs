//! AzCopy's bucket → container names (`azcopy/s3NameResolver.go`, `gcpNameResolver.go`): a
//! bucket name Blob Storage cannot take as a container name is made into one — `.` (and, for GCS,
//! `_`) becomes `-`, a run of N hyphens becomes `-N-` — and a name that then collides with another bucket's, or an earlier result, gets `-2`,
//! `-3`, …. All names are resolved up front, so the order buckets are listed in cannot change
//! the result.

use std::collections::{BTreeMap, BTreeSet};

/// Container names for a service's buckets.
#[derive(Debug, Clone, Default)]
pub struct BucketNames {
    resolved: BTreeMap<String, Option<String>>,
}

impl BucketNames {
    /// Resolves every name in `buckets` of an S3 service (in the given order, as AzCopy does).
    pub fn new(buckets: &[String]) -> Self {
        Self::resolve(buckets, &['.'])
    }

    /// Resolves every name in `buckets` of a GCS project, whose names may also hold `_`.
    pub fn for_gcs(buckets: &[String]) -> Self {
        Self::resolve(buckets, &['.', '_'])
    }

    fn resolve(buckets: &[String], to_hyphens: &[char]) -> Self {
        let originals: BTreeSet<&str> = buckets.iter().map(String::as_str).collect();
        let mut taken: BTreeSet<String> = BTreeSet::new();
        let mut resolved = BTreeMap::new();
        for bucket in buckets {
            let name = if bucket.contains(to_hyphens) || bucket.contains("--") {
                let mut name = collapse_hyphens(&bucket.replace(to_hyphens, "-"));
                if originals.contains(name.as_str()) || taken.contains(&name) {
                    name = (2..=999)
                        .map(|n| format!("{name}-{n}"))
                        .find(|candidate| !originals.contains(candidate.as_str()) && !taken.contains(candidate))
                        .unwrap_or_default();
                }
                Some(name).filter(|n| !n.is_empty() && n.len() <= 63)
            } else {
                Some(bucket.clone())
            };
            if let Some(n) = &name {
                taken.insert(n.clone());
            }
            resolved.insert(bucket.clone(), name);
        }
        Self { resolved }
    }

    /// The container name for `bucket`; `None` when it cannot be made into one (too long).
    pub fn container(&self, bucket: &str) -> Option<&str> {
        self.resolved.get(bucket).and_then(|n| n.as_deref())
    }

    /// The buckets whose names were changed, with their containers, for the job's report.
    pub fn renamed(&self) -> impl Iterator<Item = (&str, &str)> {
        self.resolved.iter().filter_map(|(b, c)| c.as_deref().filter(|c| c != b).map(|c| (b.as_str(), c)))
    }
}

/// A run of N ≥ 2 hyphens as `-N-`.
fn collapse_hyphens(name: &str) -> String {
    let mut out = String::new();
    let mut run = 0;
    for c in name.chars().chain(std::iter::once('\0')) {
        if c == '-' {
            run += 1;
            continue;
        }
        match run {
            0 => {}
            1 => out.push('-'),
            n => out.push_str(&format!("-{n}-")),
        }
        run = 0;
        if c != '\0' {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_as_azcopy_resolves_them() {
        let buckets: Vec<String> =
            ["bucket-name", "bucket.name", "my----bucket", "plain", "a.b", "a-b"].map(str::to_owned).into();
        let names = BucketNames::new(&buckets);
        assert_eq!(names.container("bucket-name"), Some("bucket-name"));
        assert_eq!(names.container("bucket.name"), Some("bucket-name-2"));
        assert_eq!(names.container("my----bucket"), Some("my-4-bucket"));
        assert_eq!(names.container("plain"), Some("plain"));
        assert_eq!(names.container("a.b"), Some("a-b-2"));
        assert_eq!(names.renamed().count(), 3);
        let long = format!("{}.x", "a".repeat(62));
        assert_eq!(BucketNames::new(std::slice::from_ref(&long)).container(&long), None);
    }

    #[test]
    fn gcs_names_also_lose_underscores() {
        let buckets: Vec<String> = ["my_bucket", "my-bucket", "a_.b"].map(str::to_owned).into();
        let names = BucketNames::for_gcs(&buckets);
        assert_eq!(names.container("my_bucket"), Some("my-bucket-2"));
        assert_eq!(names.container("my-bucket"), Some("my-bucket"));
        assert_eq!(names.container("a_.b"), Some("a-2-b"));
        assert_eq!(BucketNames::new(&buckets).container("my_bucket"), Some("my_bucket"));
    }
}
