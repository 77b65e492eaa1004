//! What a job is: a typed, serialisable, versioned description, stored in the job's journal and
//! read back by `jobs resume`. Paths are absolute when a spec is made, and no secret is ever in
//! one: a credential is a [`CredentialRef`], and what it refers to (a SAS, a key) is given to
//! each run apart, in the job's [`crate::Secrets`].

use ferry_core::{Location, LocationHint, LocationKind, SasToken};
pub use ferry_engine::TransferPolicy;
use ferry_plan::{ComparePolicy, FilterSpec};
use serde::{Deserialize, Serialize};

use crate::JobError;

/// The version of [`JobSpec`] this build writes. A journal with a newer one is refused; older
/// ones are read (and, when the format changes, migrated here).
pub const SPEC_VERSION: u16 = 1;

/// One job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSpec {
    /// [`SPEC_VERSION`] when written.
    pub version: u16,
    /// The command as people see it in `jobs list` and the job log (secrets redacted).
    pub display: String,
    /// What the job does.
    pub kind: JobKind,
    /// Customer-provided encryption of its Blob sides (`--cpk-by-name`, `--cpk-by-value`); the
    /// key itself is never recorded, only that it comes from the environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
    /// The run this job is one shard of (`--shard`, `--shards`, `--run-id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::ShardRun>,
    /// `--evidence FILE`: the job's evidence is written there when it ends (each time it does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<std::path::PathBuf>,
}

/// How a job's blobs are encrypted by the customer's choice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Encryption {
    /// An encryption scope, by name.
    Scope(String),
    /// A key from `CPK_ENCRYPTION_KEY` (read again when the job resumes).
    KeyFromEnvironment,
}

/// What a job does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum JobKind {
    /// Copy what the source names to the destination.
    Copy(CopySpec),
    /// Make the destination match the source: copy what differs, optionally delete extras.
    Sync(SyncSpec),
    /// Delete what the target names.
    Remove(RemoveSpec),
    /// Change the tier, metadata or tags of what the target names.
    SetProperties(SetPropertiesSpec),
}

impl JobSpec {
    /// A spec of this version.
    pub fn new(display: String, kind: JobKind) -> Self {
        Self { version: SPEC_VERSION, display, kind, encryption: None, shard: None, evidence: None }
    }

    /// Reads a stored spec, refusing one written by a newer Ferry.
    pub fn from_stored(value: serde_json::Value) -> Result<Self, JobError> {
        // The version first: a newer spec may not even parse as this one.
        let version = value.get("version").and_then(serde_json::Value::as_u64).unwrap_or(0);
        if version > u64::from(SPEC_VERSION) {
            return Err(JobError::failed(format!(
                "the job was written by a newer Ferry (job spec version {version}, this one reads up to {SPEC_VERSION})"
            ))
            .with_hint("resume it with the Ferry version that started it"));
        }
        serde_json::from_value(value)
            .map_err(|e| JobError::failed(format!("the job's stored spec cannot be read: {e}")))
    }

    /// This job as shard `run.shard` of a run: its listings hold only the shard's names.
    #[must_use]
    pub fn sharded(mut self, run: crate::ShardRun) -> Self {
        let filter = match &mut self.kind {
            JobKind::Copy(c) => &mut c.filter,
            JobKind::Sync(s) => &mut s.filter,
            JobKind::Remove(r) => &mut r.filter,
            JobKind::SetProperties(p) => &mut p.filter,
        };
        filter.shard = Some(run.shard);
        filter.range = run.plan.as_ref().map(|p| p.range.clone());
        self.shard = Some(run);
        self
    }

    /// Whether it only shows what it would do.
    pub fn is_dry_run(&self) -> bool {
        match &self.kind {
            JobKind::Copy(c) => c.dry_run,
            JobKind::Sync(s) => s.dry_run,
            JobKind::Remove(r) => r.dry_run,
            JobKind::SetProperties(p) => p.dry_run,
        }
    }

    /// Its endpoints with their roles: source (or a remove's target) first.
    pub fn endpoints(&self) -> Vec<(&Endpoint, Role)> {
        match &self.kind {
            JobKind::Copy(c) => vec![(&c.source, Role::Source), (&c.destination, Role::Destination)],
            JobKind::Sync(s) => vec![(&s.source, Role::Source), (&s.destination, Role::Destination)],
            JobKind::Remove(r) => vec![(&r.target, Role::Source)],
            JobKind::SetProperties(p) => vec![(&p.target, Role::Source)],
        }
    }
}

impl JobSpec {
    /// The job as the arguments of a `ferry` command that does what it does (its endpoints and
    /// the flags that change what is touched), for people to read.
    pub fn command_args(&self) -> Vec<String> {
        let mut args: Vec<String> = Vec::new();
        let (filter, dry_run) = match &self.kind {
            JobKind::Copy(c) => {
                args.extend(["copy".into(), c.source.location.clone(), c.destination.location.clone()]);
                flag(&mut args, c.recursive, "--recursive");
                flag(&mut args, !c.as_subdir, "--as-subdir=false");
                flag(&mut args, c.verify, "--verify");
                (&c.filter, c.dry_run)
            }
            JobKind::Sync(s) => {
                args.extend(["sync".into(), s.source.location.clone(), s.destination.location.clone()]);
                flag(&mut args, !s.recursive, "--recursive=false");
                match s.delete {
                    DeleteMode::Never => {}
                    DeleteMode::Extras => args.extend(["--delete-destination".into(), "true".into()]),
                    DeleteMode::Ask => args.extend(["--delete-destination".into(), "prompt".into()]),
                }
                if let Some(max) = s.max_delete {
                    args.extend(["--max-delete".into(), max.shown()]);
                }
                flag(&mut args, s.force_delete, "--force-delete");
                flag(&mut args, s.compare == ComparePolicy::Md5, "--compare-hash=MD5");
                flag(&mut args, s.compare == ComparePolicy::Mirror, "--mirror-mode");
                flag(&mut args, s.verify, "--verify");
                (&s.filter, s.dry_run)
            }
            JobKind::Remove(r) => {
                args.extend(["remove".into(), r.target.location.clone()]);
                flag(&mut args, r.recursive, "--recursive");
                (&r.filter, r.dry_run)
            }
            JobKind::SetProperties(p) => {
                args.extend(["set-properties".into(), p.target.location.clone()]);
                flag(&mut args, p.recursive, "--recursive");
                if let Some(tier) = &p.tier {
                    args.push(format!("--block-blob-tier={tier}"));
                }
                if let Some(priority) = &p.rehydrate_priority {
                    args.push(format!("--rehydrate-priority={priority}"));
                }
                let joined = |map: &std::collections::BTreeMap<String, String>, sep: &str| {
                    if map.is_empty() {
                        "clear".to_owned()
                    } else {
                        map.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(sep)
                    }
                };
                if let Some(metadata) = &p.metadata {
                    args.push(format!("--metadata={}", joined(metadata, ";")));
                }
                if let Some(tags) = &p.tags {
                    args.push(format!("--blob-tags={}", joined(tags, "&")));
                }
                (&p.filter, p.dry_run)
            }
        };
        filter_args(&mut args, filter);
        flag(&mut args, dry_run, "--dry-run");
        args
    }
}

fn flag(args: &mut Vec<String>, set: bool, text: &str) {
    if set {
        args.push(text.to_owned());
    }
}

/// The filter flags of `filter`.
fn filter_args(args: &mut Vec<String>, filter: &FilterSpec) {
    let lists = [
        ("--include-pattern", &filter.include_patterns),
        ("--exclude-pattern", &filter.exclude_patterns),
        ("--include-path", &filter.include_paths),
        ("--exclude-path", &filter.exclude_paths),
        ("--include-regex", &filter.include_regex),
        ("--exclude-regex", &filter.exclude_regex),
    ];
    for (name, values) in lists {
        if !values.is_empty() {
            args.extend([name.to_owned(), values.join(";")]);
        }
    }
    for (name, value) in [("--include-after", &filter.include_after), ("--include-before", &filter.include_before)] {
        if let Some(value) = value {
            args.extend([name.to_owned(), value.clone()]);
        }
    }
    for (name, value) in [("--min-size", filter.min_size), ("--max-size", filter.max_size)] {
        if let Some(value) = value {
            args.extend([name.to_owned(), value.to_string()]);
        }
    }
}

/// Which side of a job an endpoint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Read from (a remove's target counts as its source, as AzCopy's `--source-sas`).
    Source,
    /// Written to.
    Destination,
}

impl Role {
    /// `source` or `destination`, as in flag names and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Source => "source",
            Self::Destination => "destination",
        }
    }
}

/// A place a job reads or writes, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// An absolute local path (with any wildcard) or a URL without its SAS.
    pub location: String,
    /// What kind of place it is.
    pub kind: EndpointKind,
    /// How the job authenticates to it.
    pub credential: CredentialRef,
}

/// The kinds of place a job can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointKind {
    /// A local file system.
    Local,
    /// Azure Blob Storage.
    Blob,
    /// Amazon S3 or an S3-compatible service.
    S3,
    /// Google Cloud Storage.
    Gcs,
    /// Azure Files.
    Files,
}

/// Where an endpoint's credential comes from: a reference, never the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialRef {
    /// None needed (a local path).
    Local,
    /// The SAS that was on the URL: given again to each run (`jobs resume --source-sas`).
    UrlSas,
    /// Whatever the environment offers when the job runs (a connection string, an account key),
    /// else anonymous access.
    Environment,
}

impl Endpoint {
    /// The endpoint of a location the user gave, and the SAS taken off it (a secret, kept apart).
    pub fn from_location(location: &Location) -> (Self, Option<SasToken>) {
        match location {
            Location::Local(path) => {
                let endpoint =
                    Self { location: path.to_string(), kind: EndpointKind::Local, credential: CredentialRef::Local };
                (endpoint, None)
            }
            Location::Blob(url) => {
                let sas = url.sas().cloned();
                let credential = if sas.is_some() { CredentialRef::UrlSas } else { CredentialRef::Environment };
                let endpoint = Self { location: url.with_sas(None).to_string(), kind: EndpointKind::Blob, credential };
                (endpoint, sas)
            }
            Location::S3(url) => {
                // S3 credentials come from the environment (or the shared credentials file).
                let endpoint =
                    Self { location: url.to_string(), kind: EndpointKind::S3, credential: CredentialRef::Environment };
                (endpoint, None)
            }
            Location::Files(url) => {
                let sas = url.sas().cloned();
                let credential = if sas.is_some() { CredentialRef::UrlSas } else { CredentialRef::Environment };
                let endpoint = Self { location: url.with_sas(None).to_string(), kind: EndpointKind::Files, credential };
                (endpoint, sas)
            }
            Location::Gcs(url) => {
                // GCS credentials come from the environment (GOOGLE_APPLICATION_CREDENTIALS).
                let endpoint =
                    Self { location: url.to_string(), kind: EndpointKind::Gcs, credential: CredentialRef::Environment };
                (endpoint, None)
            }
        }
    }

    /// The location again, with `sas` (if any) put back on a URL.
    pub fn to_location(&self, sas: Option<&SasToken>) -> Result<Location, JobError> {
        let kind = match self.kind {
            EndpointKind::Local => LocationKind::Local,
            EndpointKind::Blob => LocationKind::Blob,
            EndpointKind::S3 => LocationKind::S3,
            EndpointKind::Gcs => LocationKind::Gcs,
            EndpointKind::Files => LocationKind::Files,
        };
        Ok(match Location::parse(&self.location, LocationHint::Known(kind))? {
            Location::Blob(url) => Location::Blob(url.with_sas(sas.cloned())),
            Location::Files(url) => Location::Files(url.with_sas(sas.cloned())),
            other => other,
        })
    }
}

/// `ferry copy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CopySpec {
    /// What is copied.
    pub source: Endpoint,
    /// Where it goes.
    pub destination: Endpoint,
    /// `--recursive` (or a wildcard that spans directories).
    pub recursive: bool,
    /// `--as-subdir`.
    pub as_subdir: bool,
    /// The filter flags.
    pub filter: FilterSpec,
    /// How objects are written.
    pub policy: TransferPolicy,
    /// Show the transfers instead of doing them.
    pub dry_run: bool,
    /// Verify what was copied afterwards.
    pub verify: bool,
    /// `--exclude-container`: containers an account-level copy leaves out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_containers: Vec<String>,
    /// `--follow-symlinks`: a local source's links are listed as what they point to.
    #[serde(default)]
    pub follow_symlinks: bool,
    /// `--hardlinks skip`: a local source's files with several hard links are passed over.
    #[serde(default)]
    pub skip_hardlinks: bool,
    /// How Azure Files sides are treated.
    #[serde(default)]
    pub files: FilesFlags,
    /// Versions of the one source blob to download, each to a file named after it
    /// (`--list-of-versions`; read from the file when the job is made, so a resume has them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// `--s2s-handle-invalid-metadata`: S3 metadata keys Azure cannot hold.
    #[serde(default)]
    pub invalid_metadata: crate::InvalidMetadata,
}

/// `--max-delete`: at most this many deletions, or this share of the destination.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum MaxDelete {
    /// A count.
    Count(u64),
    /// A percentage of the objects listed at the destination.
    Percent(f64),
}

impl MaxDelete {
    /// Parses `500` or `5%`.
    pub fn parse(text: &str) -> Result<Self, JobError> {
        let bad = || JobError::usage(format!("--max-delete `{text}` is not a count or a percentage such as 500 or 5%"));
        match text.trim().strip_suffix('%') {
            Some(p) => {
                p.trim().parse::<f64>().ok().filter(|p| (0.0..=100.0).contains(p)).map(Self::Percent).ok_or_else(bad)
            }
            None => text.trim().parse::<u64>().map(Self::Count).map_err(|_| bad()),
        }
    }

    /// As typed.
    pub fn shown(self) -> String {
        match self {
            Self::Count(n) => n.to_string(),
            Self::Percent(p) => format!("{p}%"),
        }
    }
}

/// What a sync may delete: extras at the destination, behind guards.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum DeleteMode {
    /// Never delete (the default).
    Never,
    /// Delete extras.
    Extras,
    /// Ask before each deletion.
    Ask,
}

/// `ferry sync`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncSpec {
    /// The tree that is the truth.
    pub source: Endpoint,
    /// The tree made to match it.
    pub destination: Endpoint,
    /// `--recursive`.
    pub recursive: bool,
    /// The filter flags.
    pub filter: FilterSpec,
    /// How an object on both sides is compared.
    pub compare: ComparePolicy,
    /// `--delete-destination`.
    pub delete: DeleteMode,
    /// `--max-delete`.
    pub max_delete: Option<MaxDelete>,
    /// `--force-delete`: delete even when the source lists nothing.
    pub force_delete: bool,
    /// How objects are written.
    pub policy: TransferPolicy,
    /// Show what would be done instead of doing it.
    pub dry_run: bool,
    /// Verify the trees afterwards.
    pub verify: bool,
    /// `--follow-symlinks`: a local source's links are followed (what they point to is synced).
    #[serde(default)]
    pub follow_symlinks: bool,
    /// `--hardlinks skip`: a local source's files with several hard links are passed over.
    #[serde(default)]
    pub skip_hardlinks: bool,
    /// How Azure Files sides are treated.
    #[serde(default)]
    pub files: FilesFlags,
    /// A sharded run's deletes, deferred to one commit (`--delete-phase deferred`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deferred: Option<DeferredDeletes>,
}

/// A sharded sync's deletes, deferred to one guarded commit for the whole run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeferredDeletes {
    /// A shard: once both its listings completed, its extras are written to this file (JSON
    /// Lines of `key` and `size`), and nothing is deleted.
    Record(std::path::PathBuf),
    /// The run's commit: nothing is copied; of the extras its own full listings find, only those
    /// the shards recorded in these files are deleted, behind the run-level guards.
    Commit(Vec<std::path::PathBuf>),
}

/// How a job treats Azure Files sides, beyond what the transfer policy says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilesFlags {
    /// `--trailing-dot Enable`: names ending in `.` are kept as they are (the service otherwise
    /// trims them).
    #[serde(default)]
    pub trailing_dot: bool,
    /// `--force-if-read-only`: read-only files are made writable to be replaced or deleted.
    #[serde(default)]
    pub force_if_read_only: bool,
}

/// `ferry remove`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoveSpec {
    /// What is removed: a blob, or the blobs under a prefix.
    pub target: Endpoint,
    /// `--recursive`.
    pub recursive: bool,
    /// The filter flags.
    pub filter: FilterSpec,
    /// `--delete-snapshots`: `include` or `only`.
    pub delete_snapshots: Option<String>,
    /// Show what would be removed instead of removing it.
    pub dry_run: bool,
    /// Versions of the one target blob to delete, instead of the blob (`--list-of-versions`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// `--permanent-delete`: purge soft-deleted snapshots and/or versions of the blobs named
    /// for good, instead of deleting the blobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permanent_delete: Option<PermanentDelete>,
    /// How Azure Files targets are treated.
    #[serde(default)]
    pub files: FilesFlags,
}

/// What `remove --permanent-delete` purges (AzCopy's preview feature): only what is
/// soft-deleted, never a live blob, snapshot or version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PermanentDelete {
    /// Soft-deleted snapshots.
    Snapshots,
    /// Soft-deleted versions.
    Versions,
    /// Both.
    SnapshotsAndVersions,
}

impl PermanentDelete {
    /// Whether soft-deleted snapshots are purged.
    pub fn snapshots(self) -> bool {
        matches!(self, Self::Snapshots | Self::SnapshotsAndVersions)
    }

    /// Whether soft-deleted versions are purged.
    pub fn versions(self) -> bool {
        matches!(self, Self::Versions | Self::SnapshotsAndVersions)
    }
}

/// `ferry set-properties`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetPropertiesSpec {
    /// What is changed: a blob, or the blobs under a prefix.
    pub target: Endpoint,
    /// `--recursive`.
    pub recursive: bool,
    /// The filter flags.
    pub filter: FilterSpec,
    /// The access tier to set (`--block-blob-tier` or `--page-blob-tier`).
    pub tier: Option<String>,
    /// `--rehydrate-priority` for blobs leaving Archive: Standard or High.
    pub rehydrate_priority: Option<String>,
    /// The metadata that replaces each blob's (empty: `clear`).
    pub metadata: Option<std::collections::BTreeMap<String, String>>,
    /// The index tags that replace each blob's (empty: `clear`).
    pub tags: Option<std::collections::BTreeMap<String, String>>,
    /// Show what would be changed instead of changing it.
    pub dry_run: bool,
}

/// `ferry verify`: not a journaled job, but it opens and lists as one.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifySpec {
    /// The tree that is the truth.
    pub source: Endpoint,
    /// The tree compared with it.
    pub destination: Endpoint,
    /// `--recursive`.
    pub recursive: bool,
    /// The filter flags.
    pub filter: FilterSpec,
    /// Read and hash objects that have no stored MD5.
    pub compute_hash: bool,
    /// Where the reports go (the log folder when not given).
    pub report_dir: Option<std::path::PathBuf>,
    /// The run a sharded verify is part of (`--run-id` with `--shard`): its evidence goes to
    /// `REPORT_DIR/RUN/` for `ferry verify --merge`.
    pub run_id: Option<String>,
    /// The range plan a sharded verify's run is split by (`--shard-plan`).
    pub plan: Option<crate::PlanChoice>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_delete_takes_counts_and_percentages() {
        assert_eq!(MaxDelete::parse("500").unwrap(), MaxDelete::Count(500));
        assert_eq!(MaxDelete::parse("5%").unwrap(), MaxDelete::Percent(5.0));
        assert!(MaxDelete::parse("five").is_err());
        assert!(MaxDelete::parse("150%").is_err());
    }

    #[test]
    fn a_spec_keeps_no_sas_and_round_trips() {
        let url =
            Location::parse("https://acct.blob.core.windows.net/box/dir?sv=1&sp=rl&sig=SECRET", LocationHint::Infer)
                .unwrap();
        let (endpoint, sas) = Endpoint::from_location(&url);
        assert_eq!(endpoint.credential, CredentialRef::UrlSas);
        assert!(sas.is_some());
        let local = Location::parse("relative/dir/*", LocationHint::Infer).unwrap();
        let (local, _) = Endpoint::from_location(&local);
        assert!(local.location.starts_with('/'), "absolute: {}", local.location);
        let spec = JobSpec::new(
            "ferry remove …".into(),
            JobKind::Remove(RemoveSpec {
                target: endpoint.clone(),
                recursive: true,
                filter: FilterSpec::default(),
                delete_snapshots: None,
                dry_run: false,
                versions: Vec::new(),
                permanent_delete: None,
                files: FilesFlags::default(),
            }),
        );
        let stored = serde_json::to_value(&spec).unwrap();
        assert!(!stored.to_string().contains("SECRET"), "{stored}");
        assert_eq!(JobSpec::from_stored(stored).unwrap(), spec);
        let again = endpoint.to_location(sas.as_ref()).unwrap();
        assert_eq!(again.as_blob().unwrap().sas(), sas.as_ref());
        let newer = serde_json::json!({"version": SPEC_VERSION + 1, "display": "", "kind": {"type": "remove"}});
        assert!(JobSpec::from_stored(newer).unwrap_err().message().contains("newer Ferry"));
    }
}
