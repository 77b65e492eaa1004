//! Jobs run in-process, without a terminal or a command line: what a server, a dashboard or a
//! shard runner will do. Local folders stand in for the stores (the Azurite suite covers Blob).

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use ferry_core::{Location, LocationHint};
use ferry_job::{
    CopySpec, DeleteMode, Endpoint, JobContext, JobEvent, JobEvents, JobKind, JobSpec, Limits, LogLevel, Secrets,
    StateDirs, SyncSpec, TransferPolicy,
};
use ferry_journal::{JobStatus, Journal};

/// Keeps a line per event.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl JobEvents for Recorder {
    fn event(&self, event: &JobEvent<'_>) {
        let line = match event {
            JobEvent::Started { id, .. } => format!("started {id}"),
            JobEvent::Finished(f) => format!("finished {} {} {}", f.id, f.status, f.stats.done),
            JobEvent::Deleted { target, .. } => format!("deleted {target}"),
            JobEvent::Warning(text) => format!("warning {text}"),
            JobEvent::Progress(_) | JobEvent::ProgressEnded => return,
            other => format!("{other:?}"),
        };
        self.0.lock().unwrap().push(line);
    }
}

impl Recorder {
    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

fn context(state: &Path, events: Arc<Recorder>) -> JobContext {
    JobContext {
        cancel: Arc::new(AtomicBool::new(false)),
        events,
        limits: Limits {
            objects_in_flight: 8,
            requests_in_flight: 8,
            buffer_bytes: 64 << 20,
            cap_mbps: None,
            presign_seconds: None,
        },
        dirs: StateDirs {
            plans: state.join("plans"),
            logs: state.join("logs"),
            log_level: LogLevel::Info,
            log_cap: 1 << 20,
        },
        http: ferry_azure::HttpConfig::default(),
        secrets: Secrets::default(),
        allow_plain_http: false,
        prompt: None,
        metrics: None,
        cancel_at: Vec::new(),
        await_open: None,
    }
}

fn endpoint(path: &Path) -> Endpoint {
    Endpoint::from_location(&Location::parse(path.to_str().unwrap(), LocationHint::Infer).unwrap()).0
}

fn tree(root: &Path, names: &[&str]) {
    std::fs::create_dir_all(root).unwrap();
    for name in names {
        std::fs::write(root.join(name), format!("content of {name}")).unwrap();
    }
}

fn copy_spec(source: &Path, destination: &Path) -> JobSpec {
    JobSpec::new(
        "copy (in-process)".into(),
        JobKind::Copy(CopySpec {
            source: endpoint(source),
            destination: endpoint(destination),
            recursive: true,
            as_subdir: false,
            filter: ferry_plan::FilterSpec::default(),
            policy: TransferPolicy::default(),
            dry_run: false,
            verify: false,
            exclude_containers: Vec::new(),
            follow_symlinks: false,
            skip_hardlinks: false,
            files: ferry_job::FilesFlags::default(),
            versions: Vec::new(),
            invalid_metadata: Default::default(),
        }),
    )
}

fn only_job(plans: &Path) -> Journal {
    let jobs = ferry_journal::list_jobs(plans).unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    Journal::open(plans, &jobs[0].spec.job_id).unwrap()
}

/// Two jobs in one process, each with its own context: nothing is shared but the runtime.
#[tokio::test(flavor = "multi_thread")]
async fn two_jobs_run_side_by_side_in_one_process() {
    let work = tempfile::tempdir().unwrap();
    let (a, b) = (work.path().join("a"), work.path().join("b"));
    tree(&a.join("src"), &["1.txt", "2.txt", "3.txt"]);
    tree(&b.join("src"), &["x.txt", "y.txt"]);
    let (events_a, events_b) = (Arc::new(Recorder::default()), Arc::new(Recorder::default()));
    let (ctx_a, ctx_b) = (context(&a, events_a.clone()), context(&b, events_b.clone()));
    let (spec_a, spec_b) = (copy_spec(&a.join("src"), &a.join("dst")), copy_spec(&b.join("src"), &b.join("dst")));
    let (ra, rb) = tokio::join!(ferry_job::run(&spec_a, &ctx_a), ferry_job::run(&spec_b, &ctx_b));
    ra.unwrap();
    rb.unwrap();
    for (root, names, events) in
        [(&a, vec!["1.txt", "2.txt", "3.txt"], &events_a), (&b, vec!["x.txt", "y.txt"], &events_b)]
    {
        for name in &names {
            assert_eq!(std::fs::read_to_string(root.join("dst").join(name)).unwrap(), format!("content of {name}"));
        }
        let journal = only_job(&root.join("plans"));
        assert_eq!(journal.job_status().unwrap().0, JobStatus::Completed);
        let id = journal.spec().job_id.clone();
        let lines = events.lines();
        assert_eq!(lines.first().unwrap(), &format!("started {id}"), "{lines:?}");
        assert_eq!(lines.last().unwrap(), &format!("finished {id} Completed {}", names.len()), "{lines:?}");
        // The journal holds the typed job, with absolute paths and no command line.
        assert!(journal.spec().args.is_empty() && journal.spec().cwd.is_empty());
        let stored = ferry_job::stored_spec(&journal).unwrap().unwrap();
        assert_eq!(stored, if root == &a { spec_a.clone() } else { spec_b.clone() });
    }
}

/// A sync cancelled before it starts deletes nothing and ends `Cancelled`; a resume of its
/// journal (no command line involved) finishes the copies and the deletions.
#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_sync_deletes_nothing_and_its_resume_finishes_it() {
    let work = tempfile::tempdir().unwrap();
    let (src, dst) = (work.path().join("src"), work.path().join("dst"));
    tree(&src, &["keep.txt", "new.txt"]);
    tree(&dst, &["keep.txt", "extra.txt"]);
    let spec = JobSpec::new(
        "sync (in-process)".into(),
        JobKind::Sync(SyncSpec {
            source: endpoint(&src),
            destination: endpoint(&dst),
            recursive: true,
            filter: ferry_plan::FilterSpec::default(),
            compare: ferry_plan::ComparePolicy::TimeAndSize,
            delete: DeleteMode::Extras,
            max_delete: None,
            force_delete: false,
            policy: TransferPolicy::default(),
            dry_run: false,
            verify: false,
            follow_symlinks: false,
            skip_hardlinks: false,
            files: ferry_job::FilesFlags::default(),
            deferred: None,
        }),
    );
    let events = Arc::new(Recorder::default());
    let ctx = context(work.path(), events.clone());
    ctx.cancel.store(true, std::sync::atomic::Ordering::Relaxed);
    let err = ferry_job::run(&spec, &ctx).await.unwrap_err();
    assert!(err.message().contains("was cancelled"), "{}", err.message());
    assert!(dst.join("extra.txt").exists(), "a cancelled sync deletes nothing");
    let journal = Journal::open_to_run(&ctx.dirs.plans, &only_job(&ctx.dirs.plans).spec().job_id).unwrap();
    assert_eq!(journal.job_status().unwrap().0, JobStatus::Cancelled);
    assert!(events.lines().iter().any(|l| l.contains("nothing was deleted")), "{:?}", events.lines());

    let events = Arc::new(Recorder::default());
    let ctx = context(work.path(), events.clone());
    let stored = ferry_job::stored_spec(&journal).unwrap().unwrap();
    ferry_job::resume(journal, &stored, &ctx).await.unwrap();
    assert!(!dst.join("extra.txt").exists(), "the resume deleted the extra");
    assert_eq!(std::fs::read_to_string(dst.join("new.txt")).unwrap(), "content of new.txt");
    assert!(
        events.lines().iter().any(|l| l.starts_with("deleted ") && l.ends_with("extra.txt")),
        "{:?}",
        events.lines()
    );
    let journal = only_job(&ctx.dirs.plans);
    assert_eq!(journal.job_status().unwrap().0, JobStatus::Completed);
    let deletions = journal.deletions(None).unwrap();
    assert_eq!(deletions.len(), 1, "the deletion is journaled: {deletions:?}");
}

/// A second run of a job whose journal is held by a running one is refused.
#[tokio::test(flavor = "multi_thread")]
async fn a_job_held_by_a_run_cannot_be_run_again() {
    let work = tempfile::tempdir().unwrap();
    tree(&work.path().join("src"), &["a.txt"]);
    let ctx = context(work.path(), Arc::new(Recorder::default()));
    ferry_job::run(&copy_spec(&work.path().join("src"), &work.path().join("dst")), &ctx).await.unwrap();
    let id = only_job(&ctx.dirs.plans).spec().job_id.clone();
    let _held = Journal::open_to_run(&ctx.dirs.plans, &id).unwrap();
    let again = Journal::open_to_run(&ctx.dirs.plans, &id).unwrap_err();
    assert!(again.to_string().contains("being run by another"), "{again}");
}
