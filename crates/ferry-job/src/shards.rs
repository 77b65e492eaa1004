//! One shard of a run split over many workers (a Slurm array, a Kubernetes Indexed Job): its job
//! id follows from the run, K and N, so running the same command again resumes the shard, a
//! finished shard ends at once, and a shard whose run says otherwise is refused. The run's record
//! (`DIR/RUN/run.json`, made by the first shard to start) and each shard's manifest (when it ends)
//! are the evidence the run leaves.

use std::path::{Path, PathBuf};

use ferry_journal::{JobStatus, Journal, JournalError};
use ferry_plan::Shard;
use serde::{Deserialize, Serialize};

use crate::{JobContext, JobError, JobEvent, JobSpec};

/// Which run a job is a shard of, and where its evidence goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardRun {
    /// The run (`--run-id`): what ties the shards, their retries and their evidence together.
    pub run_id: String,
    /// K/N.
    pub shard: Shard,
    /// Where K came from: `--shard`, or the variable it was read from.
    pub index_from: String,
    /// `--report-dir`: the run's evidence goes to `DIR/RUN/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_dir: Option<PathBuf>,
    /// `--shard-plan`: the range plan that says which names are in the shard (else the hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanChoice>,
}

/// A shard's part of a range plan (`--shard-plan`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanChoice {
    /// The plan's digest ([`ferry_plan::RangePlan::digest`]): every shard of a run must share it.
    pub digest: String,
    /// This shard's names.
    pub range: ferry_plan::KeyRange,
    /// The plan file, copied to the run's evidence (`DIR/RUN/plan.json`) for the merge.
    pub file: PathBuf,
}

impl PlanChoice {
    /// Shard `index` of the plan in `file` (whose text is `text`).
    pub fn of(plan: &ferry_plan::RangePlan, index: u64, file: &Path) -> Option<Self> {
        let range = plan.range(index)?.clone();
        Some(Self { digest: plan.digest(), range, file: file.to_owned() })
    }
}

/// The variables K is read from when only N is given, first set wins: Ferry's own, Kubernetes
/// Indexed Jobs', Slurm arrays'.
pub const INDEX_VARIABLES: [&str; 3] = ["FERRY_SHARD_INDEX", "JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID"];

/// Whether `id` can name a run: 1 to 64 of `A-Z a-z 0-9 . _ -`.
pub fn valid_run_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// The job id of shard `shard` of `run`: a name-based UUID (version 8, from SHA-256), in AzCopy's
/// form, the same on every machine and every attempt.
pub fn shard_job_id(run: &str, shard: Shard) -> String {
    named_job_id(&format!("ferry-shard\0{run}\0{}\0{}", shard.index, shard.count))
}

/// A job id named by `name`: a version-8 UUID from its SHA-256.
fn named_job_id(name: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(name.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid().hyphenated().to_string()
}

/// What `run.json` records: what every shard of the run must agree on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RunRecord {
    pub(crate) run_id: String,
    pub(crate) shards: u64,
    command: String,
    pub(crate) source: String,
    destination: String,
    /// The range plan's digest, for a run split by one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) plan: Option<String>,
}

impl RunRecord {
    /// The record of a sharded verify.
    pub(crate) fn verify(run_id: &str, shard: Shard, spec: &crate::VerifySpec) -> Self {
        Self {
            run_id: run_id.to_owned(),
            shards: shard.count,
            command: "verify".into(),
            source: spec.source.location.clone(),
            destination: spec.destination.location.clone(),
            plan: spec.plan.as_ref().map(|p| p.digest.clone()),
        }
    }

    /// The record of run `run_id` under `dir`.
    pub(crate) fn read(dir: &Path, run_id: &str) -> Result<Self, JobError> {
        let path = dir.join(run_id).join("run.json");
        std::fs::read_to_string(&path).ok().and_then(|t| serde_json::from_str(&t).ok()).ok_or_else(|| {
            JobError::failed(format!("no run `{run_id}` in {}: `{}` cannot be read", dir.display(), path.display()))
                .with_hint("check --run-id and --report-dir: the first shard to start writes run.json")
        })
    }
}

fn record_of(spec: &JobSpec, run: &ShardRun) -> RunRecord {
    let endpoints = spec.endpoints();
    let shown = |i: usize| endpoints.get(i).map(|(e, _)| e.location.clone()).unwrap_or_default();
    let command = match &spec.kind {
        crate::JobKind::Copy(_) => "copy",
        crate::JobKind::Sync(_) => "sync",
        crate::JobKind::Remove(_) => "remove",
        crate::JobKind::SetProperties(_) => "set-properties",
    };
    RunRecord {
        run_id: run.run_id.clone(),
        shards: run.shard.count,
        command: command.to_owned(),
        source: shown(0),
        destination: shown(1),
        plan: run.plan.as_ref().map(|p| p.digest.clone()),
    }
}

/// Makes `DIR/RUN/run.json` if no shard has yet, else checks this shard agrees with it.
pub(crate) fn check_run_record(dir: &Path, mine: &RunRecord) -> Result<(), JobError> {
    let folder = dir.join(&mine.run_id);
    std::fs::create_dir_all(&folder)
        .map_err(|e| JobError::failed(format!("cannot make the report folder `{}`: {e}", folder.display())))?;
    let path = folder.join("run.json");
    let text = serde_json::to_string_pretty(mine).unwrap_or_default();
    if create_if_absent(&path, &text)
        .map_err(|e| JobError::failed(format!("cannot write `{}`: {e}", path.display())))?
    {
        return Ok(());
    }
    let theirs: RunRecord = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or_else(|| JobError::failed(format!("`{}` cannot be read", path.display())))?;
    if &theirs != mine {
        return Err(JobError::usage(format!(
            "this shard of run `{}` disagrees with the run as its first shard recorded it in {}: {} shards, `ferry {}` from {} to {}{}",
            mine.run_id,
            path.display(),
            theirs.shards,
            theirs.command,
            theirs.source,
            theirs.destination,
            match (&theirs.plan, &mine.plan) {
                (Some(t), Some(m)) if t != m => format!(", split by the plan with digest {t} (this shard's plan: {m})"),
                (Some(t), None) => format!(", split by the range plan with digest {t}"),
                (None, Some(_)) => ", split by hash (this shard was given a range plan)".to_owned(),
                _ => String::new(),
            }
        ))
        .with_hint("run every shard with the same command, source, destination, number of shards and plan, or use another --run-id"));
    }
    Ok(())
}

/// Writes `text` to `path` (private) unless it exists; whether it wrote. Made whole beside it
/// and linked into place, so no reader sees half a file and of two writers one wins.
fn create_if_absent(path: &Path, text: &str) -> std::io::Result<bool> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.{}", std::process::id()));
    let made = write_private(&temporary, text).and_then(|()| std::fs::hard_link(&temporary, path));
    let _ = std::fs::remove_file(&temporary);
    match made {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// Copies the run's range plan to `DIR/RUN/plan.json` (the first shard to start does), where
/// `ferry verify --merge` finds every shard's range. The file given must still be the plan the
/// shard was started with.
pub(crate) fn keep_plan(dir: &Path, run_id: &str, choice: &PlanChoice) -> Result<(), JobError> {
    let kept = dir.join(run_id).join("plan.json");
    if kept.exists() {
        return Ok(());
    }
    let text = std::fs::read_to_string(&choice.file)
        .map_err(|e| JobError::failed(format!("cannot read the shard plan `{}`: {e}", choice.file.display())))?;
    let plan =
        ferry_plan::RangePlan::parse(&text).map_err(|e| JobError::usage(format!("{}: {e}", choice.file.display())))?;
    if plan.digest() != choice.digest {
        return Err(JobError::usage(format!(
            "the shard plan `{}` changed since this shard began",
            choice.file.display()
        ))
        .with_hint("give every shard of a run the same plan; a new plan needs a new --run-id"));
    }
    create_if_absent(&kept, &text).map_err(|e| JobError::failed(format!("cannot write `{}`: {e}", kept.display())))?;
    Ok(())
}

/// The range plan of run `run_id` (from `DIR/RUN/plan.json`), when it was split by one.
pub(crate) fn run_plan(dir: &Path, record: &RunRecord) -> Result<Option<ferry_plan::RangePlan>, JobError> {
    let Some(digest) = &record.plan else { return Ok(None) };
    let path = dir.join(&record.run_id).join("plan.json");
    let plan = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| ferry_plan::RangePlan::parse(&t).ok())
        .filter(|p| &p.digest() == digest && p.count() == record.shards)
        .ok_or_else(|| {
            JobError::failed(format!(
                "run `{}` was split by a range plan, but `{}` is missing or another plan",
                record.run_id,
                path.display()
            ))
            .with_hint("the first shard to start copies the plan there; copy the run's plan file there")
        })?;
    Ok(Some(plan))
}

/// Creates (or truncates) `path` readable by its owner only, like the job's log and reports: the
/// run's evidence names the user's files.
pub(crate) fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)
}

/// Writes `text` to `path`, readable by its owner only.
pub(crate) fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    private_file(path)?.write_all(text.as_bytes())
}

/// Writes `path` whole or not at all, readable by its owner only: `write` fills a temporary file
/// beside it, which is synced and renamed into place. On failure the temporary file is removed
/// and an earlier file at `path` stays as it was.
pub fn write_whole<T>(
    path: &Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<T>,
) -> std::io::Result<T> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let result = private_file(&temporary).and_then(|file| {
        let mut out = std::io::BufWriter::new(file);
        let value = write(&mut out)?;
        out.into_inner().map_err(std::io::IntoInnerError::into_error)?.sync_all()?;
        std::fs::rename(&temporary, path)?;
        Ok(value)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// The evidence file of shard `shard` ending in `what` (`started.json`, `manifest.json`).
pub(crate) fn evidence(dir: &Path, run_id: &str, shard: Shard, what: &str) -> PathBuf {
    dir.join(run_id).join(format!("shard-{:05}-of-{:05}.{what}", shard.index, shard.count))
}

/// Runs (or, run again, resumes) the shard `spec` describes.
pub(crate) async fn run_shard(spec: &JobSpec, run: &ShardRun, ctx: &JobContext) -> Result<(), JobError> {
    let id = shard_job_id(&run.run_id, run.shard);
    if spec.is_dry_run() {
        // A dry run shows the shard's work and leaves no journal and no evidence.
        return crate::execute(spec, id, None, ctx).await;
    }
    if let Some(dir) = &run.report_dir {
        check_run_record(dir, &record_of(spec, run))?;
        if let Some(choice) = &run.plan {
            keep_plan(dir, &run.run_id, choice)?;
        }
        mark_started(dir, run, &id);
    }
    ctx.events.event(&JobEvent::Info(&format!(
        "shard {} of run `{}` (K from {}): job {id}",
        run.shard, run.run_id, run.index_from
    )));
    let label = format!("shard {} of run `{}`", run.shard, run.run_id);
    let result = run_or_resume(spec, &id, &label, ctx).await;
    if let Some(dir) = &run.report_dir {
        write_manifest(dir, run, &id, &result, ctx);
    }
    result
}

/// Writes `shard-K-of-N.started.json` (job, process, attempt) and removes the manifest an
/// earlier attempt left, so `ferry shards status` shows a retry as running, not failed.
fn mark_started(dir: &Path, run: &ShardRun, id: &str) {
    let path = evidence(dir, &run.run_id, run.shard, "started.json");
    let earlier = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["attempt"].as_u64())
        .unwrap_or(0);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let started = serde_json::json!({
        "job_id": id, "pid": std::process::id(), "host": host.trim(), "attempt": earlier + 1,
    });
    let _ = std::fs::remove_file(evidence(dir, &run.run_id, run.shard, "manifest.json"));
    let _ = write_private(&path, &started.to_string());
}

/// Whether two specs do the same work: the same job, shard and run, however the command was
/// spelled or where K was read from.
fn same_work(a: &JobSpec, b: &JobSpec) -> bool {
    let run = |s: &JobSpec| s.shard.as_ref().map(|r| (r.run_id.clone(), r.shard));
    a.kind == b.kind && a.encryption == b.encryption && run(a) == run(b)
}

/// Runs the job `id` as `spec` says, or resumes it when its journal is there (a run of the
/// same command again), or, done already, ends at once; a journal of other work is refused.
async fn run_or_resume(spec: &JobSpec, id: &str, label: &str, ctx: &JobContext) -> Result<(), JobError> {
    let journal = match Journal::open_to_run(&ctx.dirs.plans, id) {
        Ok(journal) => Some(journal),
        Err(JournalError::NoSuchJob(_)) => None,
        Err(e) => return Err(JobError::failed(format!("cannot open job {id}: {e}"))),
    };
    let Some(journal) = journal else { return crate::execute(spec, id.to_owned(), None, ctx).await };
    let recorded = crate::stored_spec(&journal).transpose()?;
    if !recorded.as_ref().is_some_and(|r| same_work(r, spec)) {
        return Err(JobError::usage(format!("job {id} ({label}) was made by another command"))
            .with_hint("run it with the command its run began with, or use another --run-id"));
    }
    match journal.job_status() {
        Ok((JobStatus::Completed, _)) => {
            ctx.events.event(&JobEvent::Info(&format!("{label} is already complete (job {id}): nothing to do")));
            Ok(())
        }
        _ => {
            ctx.events.event(&JobEvent::Info(&format!("resuming job {id}")));
            crate::resume(journal, spec, ctx).await
        }
    }
}

/// The file where shard `shard` of `run_id` records its delete candidates for the commit.
pub fn deletes_file(dir: &Path, run_id: &str, shard: Shard) -> PathBuf {
    evidence(dir, run_id, shard, "deletes.jsonl")
}

/// `ferry shards commit`: once every shard of the sync run `run_id` is done and recorded its
/// delete candidates, runs `spec` (the run's sync, unsharded) as the commit: nothing is copied;
/// both trees are listed again in full, so the run-level guards (an empty source,
/// `--max-delete`) judge the whole run and each candidate is checked against the source as it is
/// now; only extras a shard recorded are deleted, each journaled. Its job id follows from the
/// run, so running it again resumes it.
pub async fn commit_run(mut spec: JobSpec, dir: &Path, run_id: &str, ctx: &JobContext) -> Result<(), JobError> {
    let statuses = run_status(dir, run_id)?;
    let undone: Vec<String> = statuses
        .iter()
        .filter(|s| s.state != ShardState::Done)
        .map(|s| format!("{} ({})", s.shard, s.state.as_str()))
        .collect();
    if !undone.is_empty() {
        return Err(JobError::failed(format!(
            "run `{run_id}` is not complete, so nothing was deleted: shard {} not done",
            undone.join(", ")
        ))
        .with_hint(
            "let the array job finish (or requeue the failed shards), then commit; `ferry shards status` shows them",
        ));
    }
    let record = RunRecord::read(dir, run_id)?;
    let endpoints = spec.endpoints();
    let given = |i: usize| endpoints.get(i).map(|(e, _)| e.location.clone()).unwrap_or_default();
    if record.command != "sync" || record.source != given(0) || record.destination != given(1) {
        return Err(JobError::usage(format!(
            "run `{run_id}` was `ferry {}` from {} to {}: the commit must name the same source and destination",
            record.command, record.source, record.destination
        )));
    }
    let mut files = Vec::new();
    for status in &statuses {
        let file = deletes_file(dir, run_id, status.shard);
        if !file.exists() {
            return Err(JobError::failed(format!(
                "shard {} recorded no delete candidates, so nothing was deleted",
                status.shard
            ))
            .with_hint("the commit applies to a sharded sync with --delete-destination and --delete-phase deferred (the default)"));
        }
        files.push(file);
    }
    let crate::JobKind::Sync(sync) = &mut spec.kind else {
        return Err(JobError::usage("`ferry shards commit` commits a sharded sync"));
    };
    sync.deferred = Some(crate::DeferredDeletes::Commit(files));
    if sync.delete == crate::DeleteMode::Never {
        sync.delete = crate::DeleteMode::Extras;
    }
    let id = named_job_id(&format!("ferry-commit\0{run_id}"));
    run_or_resume(&spec, &id, &format!("the commit of run `{run_id}`"), ctx).await
}

/// Writes `DIR/RUN/shard-K-of-N.manifest.json`: the shard, its job and how it ended.
fn write_manifest(dir: &Path, run: &ShardRun, id: &str, result: &Result<(), JobError>, ctx: &JobContext) {
    let counts = Journal::open(&ctx.dirs.plans, id).ok().and_then(|j| j.counts().ok()).unwrap_or_default();
    let manifest = serde_json::json!({
        "run_id": run.run_id, "shard": run.shard.index, "shards": run.shard.count, "index_from": run.index_from,
        "job_id": id, "status": if result.is_ok() { "done" } else { "failed" },
        "range": run.plan.as_ref().map(|p| &p.range), "plan": run.plan.as_ref().map(|p| &p.digest),
        "items": counts.iter().map(|c| (c.status.as_str().to_owned(), c.items)).collect::<std::collections::BTreeMap<_, _>>(),
    });
    let path = evidence(dir, &run.run_id, run.shard, "manifest.json");
    let text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
    if let Err(e) = write_whole(&path, |out| out.write_all(text.as_bytes())) {
        ctx.events.event(&JobEvent::Warning(&format!("cannot write the shard's manifest `{}`: {e}", path.display())));
    }
}

/// Where one shard of a run stands, by the evidence in the report folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardState {
    /// It ended and did everything.
    Done,
    /// It ended with failures (a retry resumes it).
    Failed,
    /// It started and has not ended (or its worker died: the engine retries it).
    Running,
    /// It never started.
    Missing,
}

impl ShardState {
    /// The word `ferry shards status` shows.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Running => "running",
            Self::Missing => "missing",
        }
    }
}

/// One shard's state, and its job when it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardStatus {
    /// K/N.
    pub shard: Shard,
    /// Where it stands.
    pub state: ShardState,
    /// Its job id, once it started.
    pub job_id: Option<String>,
}

/// Where every shard of `run_id` stands, by the evidence under `dir` (`DIR/RUN/run.json` says how
/// many shards there are).
pub fn run_status(dir: &Path, run_id: &str) -> Result<Vec<ShardStatus>, JobError> {
    let path = dir.join(run_id).join("run.json");
    let record: RunRecord =
        std::fs::read_to_string(&path).ok().and_then(|t| serde_json::from_str(&t).ok()).ok_or_else(|| {
            JobError::failed(format!("no run `{run_id}` in {}: `{}` cannot be read", dir.display(), path.display()))
                .with_hint("check --run-id and --report-dir: the first shard to start writes run.json")
        })?;
    let read = |p: PathBuf| -> Option<serde_json::Value> {
        std::fs::read_to_string(p).ok().and_then(|t| serde_json::from_str(&t).ok())
    };
    (0..record.shards)
        .map(|k| {
            let shard = Shard::new(k, record.shards).map_err(|e| JobError::failed(e.to_string()))?;
            let manifest = read(evidence(dir, run_id, shard, "manifest.json"));
            let started = read(evidence(dir, run_id, shard, "started.json"));
            let state = match manifest.as_ref().and_then(|m| m["status"].as_str().map(str::to_owned)).as_deref() {
                Some("done") => ShardState::Done,
                Some(_) => ShardState::Failed,
                None if started.is_some() => ShardState::Running,
                None => ShardState::Missing,
            };
            let job_id = manifest.or(started).and_then(|m| m["job_id"].as_str().map(str::to_owned));
            Ok(ShardStatus { shard, state, job_id })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_job_ids_are_uuids_fixed_by_run_and_shard() {
        let a = shard_job_id("nightly-20261130", Shard::new(7, 32).unwrap());
        assert!(ferry_journal::is_job_id(&a), "{a}");
        assert_eq!(a, shard_job_id("nightly-20261130", Shard::new(7, 32).unwrap()));
        assert_ne!(a, shard_job_id("nightly-20261130", Shard::new(7, 16).unwrap()));
        assert_ne!(a, shard_job_id("nightly-20261201", Shard::new(7, 32).unwrap()));
        assert!(valid_run_id("nightly-2026.11_30") && !valid_run_id("a/b") && !valid_run_id(""));
    }
}
