//! One lifecycle for every job kind (issue #12's drift fixes): Ctrl-C in sync and remove ends
//! `Cancelled` with the resume hint and exit 1, sync and remove write AzCopy's failure lines to
//! the job log, a listing error sets remove's final status, and job ids are AzCopy's hyphenated
//! UUIDs (older ids still work).

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{ferry, ferry_with_key, job_id, run, sqlite};
use ferry_store::{ListDepth, Store};
use ferry_testkit::Azurite;
use ferry_testkit::hostile::{Behaviour, HostileServer};
use futures::TryStreamExt;

fn at(mut cmd: Command, work: &Path) -> Command {
    cmd.env("FERRY_JOB_PLAN_LOCATION", work.join("plans")).env("FERRY_LOG_LOCATION", work.join("logs"));
    cmd
}

/// Interrupts `child` with SIGINT and returns (exit code, stdout, stderr, seconds to exit).
fn interrupt(child: Child) -> (Option<i32>, String, String, f64) {
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (out.status.code(), text(out.stdout), text(out.stderr), started.elapsed().as_secs_f64())
}

fn is_hyphenated_uuid(id: &str) -> bool {
    let parts: Vec<&str> = id.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12]) && id.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
}

fn log_of(work: &Path, id: &str) -> String {
    std::fs::read_to_string(work.join("logs").join(format!("{id}.log"))).unwrap_or_default()
}

/// Ctrl-C during `ferry sync` killed the process at once (exit 130, no summary, the job left
/// `InProgress` forever); now it ends like copy: `Cancelled`, the resume hint, exit 1, and the
/// resume completes it.
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_in_sync_ends_cancelled_and_resume_completes_it() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("life-sync").await;
    let url = azurite.container_url(store.container());
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("big.bin"), vec![7u8; 12 * 1024 * 1024]).unwrap();
    for i in 0..20 {
        std::fs::write(src.join(format!("f{i:02}.txt")), format!("{i}")).unwrap();
    }
    let child = at(ferry_with_key(), work.path())
        .args(["sync", src.to_str().unwrap(), &url, "--cap-mbps", "16", "--block-size-mb", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let (code, out, err, secs) = interrupt(child);
    assert_eq!(code, Some(1), "exit 1, not killed by the signal: {err}");
    assert!(secs < 10.0, "stopped in {secs:.1} s");
    assert!(out.contains("Final Job Status: Cancelled"), "{out}");
    let id = job_id(&out);
    assert!(is_hyphenated_uuid(&id), "{id}");
    assert!(err.contains(&format!("ferry jobs resume {id}")), "{err}");
    let (_, list, _) = run(at(ferry(), work.path()).args(["jobs", "list"]));
    assert!(list.contains("Status: Cancelled"), "{list}");

    let (code, out, err) = run(at(ferry_with_key(), work.path()).args(["jobs", "resume", &id]));
    assert_eq!(code, 0, "{err}\n{out}");
    let keys: Vec<String> = store.list("", ListDepth::Recursive).map_ok(|e| e.key).try_collect().await.unwrap();
    assert_eq!(keys.len(), 21, "{keys:?}");
    let (_, list, _) = run(at(ferry(), work.path()).args(["jobs", "list"]));
    assert!(list.contains("Status: Completed"), "{list}");
}

/// The same for `ferry remove`, whose Ctrl-C also killed it at once; and a listing that fails
/// part-way now leaves the job `Failed` instead of `InProgress`.
#[test]
fn ctrl_c_in_remove_ends_cancelled_and_a_listing_error_sets_the_status() {
    let work = tempfile::tempdir().unwrap();
    let endless = HostileServer::start(Behaviour::EndlessPages(Duration::from_millis(200)));
    let url = format!("http://127.0.0.1:{}/devstoreaccount1/many", endless.port());
    let child = at(ferry(), work.path())
        .args(["remove", &url, "--recursive"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2000));
    let (code, out, err, secs) = interrupt(child);
    assert_eq!(code, Some(1), "{err}");
    assert!(secs < 5.0, "stopped in {secs:.1} s");
    assert!(out.contains("Final Job Status: Cancelled"), "{out}");
    let id = job_id(&out);
    assert!(err.contains(&format!("ferry jobs resume {id}")), "{err}");
    assert!(log_of(work.path(), &id).contains("Final Job Status: Cancelled"), "the job log has the summary too");

    let looping = HostileServer::start(Behaviour::RepeatMarker);
    let url = format!("http://127.0.0.1:{}/devstoreaccount1/loop", looping.port());
    let (code, _, err) = run(at(ferry(), work.path()).args(["remove", &url, "--recursive"]));
    assert_eq!(code, 1, "{err}");
    let (_, list, _) = run(at(ferry(), work.path()).args(["jobs", "list"]));
    assert!(list.contains("Status: Failed"), "{list}");
    assert!(!list.contains("Status: InProgress"), "{list}");
}

/// Sync and remove wrote no failure lines to the job log (only copy did).
#[tokio::test(flavor = "multi_thread")]
async fn sync_and_remove_write_failure_lines_to_the_job_log() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("life-log").await;
    store
        .write("extra.txt", bytes::Bytes::from_static(b"x").into(), &ferry_store::WriteOptions::default())
        .await
        .unwrap();
    let read_only = format!(
        "{}?{}",
        azurite.container_url(store.container()),
        azurite.container_sas(store.container(), "rl").expose()
    );
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("a.txt"), "a").unwrap();
    let (code, out, err) =
        run(at(ferry(), work.path()).args(["sync", src.to_str().unwrap(), &read_only, "--delete-destination", "true"]));
    assert_eq!(code, 1, "{err}");
    let log = log_of(work.path(), &job_id(&out));
    assert!(log.contains("COPYFAILED:") && log.contains("a.txt"), "{log}");
    let sas = azurite.container_sas(store.container(), "rl");
    let extra = format!("{}/extra.txt?{}", azurite.container_url(store.container()), sas.expose());
    let (code, out, err) = run(at(ferry(), work.path()).args(["remove", &extra]));
    assert_eq!(code, 1, "{err}");
    let log = log_of(work.path(), &job_id(&out));
    assert!(log.contains("DELETEFAILED:") && log.contains("extra.txt"), "{log}");
    let signature = sas.expose().split('&').find_map(|p| p.strip_prefix("sig=")).unwrap();
    assert!(!log.contains(signature), "no signature in the log: {log}");
}

/// Job ids printed as 32 bare hex digits; AzCopy prints hyphenated UUIDs, and runbooks parse that.
/// Jobs recorded under the older form still show and resume.
#[test]
fn job_ids_are_hyphenated_uuids_and_older_ids_still_work() {
    let work = tempfile::tempdir().unwrap();
    let (src, dst) = (work.path().join("src"), work.path().join("dst"));
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("a.txt"), "a").unwrap();
    let (code, out, err) =
        run(at(ferry(), work.path()).args(["copy", &format!("{}/*", src.display()), dst.to_str().unwrap()]));
    assert_eq!(code, 0, "{err}");
    let id = job_id(&out);
    assert!(is_hyphenated_uuid(&id), "{id}");
    assert!(work.path().join("plans").join(format!("{id}.db")).exists());
    // The same journal under an older, unhyphenated id.
    let old = id.replace('-', "");
    let plans = work.path().join("plans");
    let (from, to) = (plans.join(format!("{id}.db")), plans.join(format!("{old}.db")));
    common::edit_journal_spec(&from, &to, "s['job_id']=sys.argv[3]", &[&old]);
    let (code, show, err) = run(at(ferry(), work.path()).args(["jobs", "show", &old]));
    assert_eq!(code, 0, "{err}");
    assert!(show.contains("Number of File Transfers Completed: 1"), "{show}");
    let (code, _, err) = run(at(ferry(), work.path()).args(["jobs", "resume", &old]));
    assert_eq!(code, 0, "{err}");
}

/// Journal schema 2: a running job records a heartbeat that `jobs show` prints from another
/// process; a journal written before schema versions existed still shows and resumes, and is
/// migrated on resume.
#[tokio::test(flavor = "multi_thread")]
async fn a_running_jobs_heartbeat_shows_and_older_journals_migrate() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("life-beat").await;
    let url = azurite.container_url(store.container());
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("big.bin"), vec![3u8; 12 * 1024 * 1024]).unwrap();
    let child = at(ferry_with_key(), work.path())
        .args(["copy", &format!("{}/*", src.display()), &url, "--cap-mbps", "16", "--block-size-mb", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(4500));
    let plans = work.path().join("plans");
    let db = std::fs::read_dir(&plans)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "db"))
        .unwrap();
    let id = db.file_stem().unwrap().to_string_lossy().into_owned();
    let (code, show, err) = run(at(ferry(), work.path()).args(["jobs", "show", &id]));
    assert_eq!(code, 0, "{err}");
    assert!(show.contains("Final Job Status: InProgress"), "{show}");
    assert!(show.contains("Last Heartbeat: ") && show.contains("bytes moved"), "{show}");
    let (code, _, _, _) = interrupt(child);
    assert_eq!(code, Some(1));

    // Make it a journal from before schema versions: no progress column, user_version 0.
    // (Nor what schema 4 added for evidence.)
    sqlite(
        &db,
        "ALTER TABLE job DROP COLUMN progress; ALTER TABLE job DROP COLUMN ended_at; \
         ALTER TABLE job DROP COLUMN ferry_version; ALTER TABLE job DROP COLUMN started_at; \
         ALTER TABLE item DROP COLUMN modified; ALTER TABLE item DROP COLUMN md5; \
         ALTER TABLE item DROP COLUMN attempts; ALTER TABLE item DROP COLUMN finished_at; \
         ALTER TABLE item DROP COLUMN reason; ALTER TABLE deletion DROP COLUMN finished_at; DROP TABLE skip; \
         PRAGMA user_version = 0;",
    );
    assert_eq!(sqlite(&db, "PRAGMA user_version"), "0");
    let (code, show, err) = run(at(ferry(), work.path()).args(["jobs", "show", &id]));
    assert_eq!(code, 0, "an old journal still shows: {err}");
    assert!(show.contains("Final Job Status: Cancelled"), "{show}");
    let (code, out, err) = run(at(ferry_with_key(), work.path()).args(["jobs", "resume", &id]));
    assert_eq!(code, 0, "an old journal still resumes: {err}\n{out}");
    assert_eq!(sqlite(&db, "PRAGMA user_version"), ferry_journal::SCHEMA_VERSION.to_string(), "migrated");
    let evidence = work.path().join("evidence.jsonl");
    let (code, _, err) =
        run(at(ferry(), work.path()).args(["jobs", "evidence", &id, "--output", evidence.to_str().unwrap()]));
    assert_eq!(code, 0, "a migrated journal gives its evidence: {err}");
    let (code, out, err) =
        run(at(ferry(), work.path()).args(["jobs", "evidence", "verify", evidence.to_str().unwrap()]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 copied"), "{out}");
    let blob = store.stat("big.bin").await.unwrap();
    assert_eq!(blob.size, 12 * 1024 * 1024);
}

/// Remove recorded its deletions as transfers in the item table (`jobs show` printed
/// `Success: key -> `); they are journaled like a sync's deletions, before each is made.
#[tokio::test(flavor = "multi_thread")]
async fn remove_journals_its_deletions_like_syncs() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("life-rm-journal").await;
    for name in ["d/a.txt", "d/b.txt", "d/c.txt"] {
        store.write(name, bytes::Bytes::from_static(b"x").into(), &ferry_store::WriteOptions::default()).await.unwrap();
    }
    let work = tempfile::tempdir().unwrap();
    let url = format!("{}/d", azurite.container_url(store.container()));
    let (code, out, err) = run(at(ferry_with_key(), work.path()).args(["remove", &url, "--recursive"]));
    assert_eq!(code, 0, "{err}");
    let id = job_id(&out);
    let (_, show, _) = run(at(ferry(), work.path()).args(["jobs", "show", &id]));
    assert!(show.contains("Number of File Transfers Completed: 3\n"), "{show}");
    let (_, items, _) = run(at(ferry(), work.path()).args(["jobs", "show", &id, "--with-status=Success"]));
    let lines: Vec<&str> = items.lines().collect();
    assert_eq!(lines, ["Success: delete d/a.txt", "Success: delete d/b.txt", "Success: delete d/c.txt"], "{items}");
    let keys: Vec<String> = store.list("", ListDepth::Recursive).map_ok(|e| e.key).try_collect().await.unwrap();
    assert!(keys.is_empty(), "{keys:?}");
}

/// Only copy warned about an expired or expiring SAS; sync and remove started without a word and
/// failed item by item.
#[tokio::test(flavor = "multi_thread")]
async fn every_job_kind_warns_about_an_expired_sas() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("life-expired").await;
    let now = time::OffsetDateTime::now_utc();
    let hour = Duration::from_secs(3600);
    let expired = ferry_azure::account_sas_from(&azurite.shared_key(), "racwdl", now - 2 * hour, now - hour);
    let url = format!("{}?{}", azurite.container_url(store.container()), expired.expose());
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("a.txt"), "a").unwrap();
    let (code, _, err) = run(at(ferry(), work.path()).args(["sync", src.to_str().unwrap(), &url]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("WARN: the destination SAS expired at"), "{err}");
    let (code, _, err) = run(at(ferry(), work.path()).args(["remove", &url, "--recursive"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("WARN: the source SAS expired at"), "{err}");
}
