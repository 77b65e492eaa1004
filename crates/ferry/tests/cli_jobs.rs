//! Durable jobs end to end: the journal, `jobs list/show/resume/remove/clean`, Ctrl-C and
//! `kill -9` followed by a resume that completes.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{ferry_with_key, md5_hex, run, summary_value};
use ferry_testkit::data::pattern;
use ferry_testkit::{Azurite, tools};

/// `ferry` with the key, and its journals and logs in `state`.
fn ferry_in(state: &Path) -> Command {
    let mut cmd = ferry_with_key();
    cmd.env("FERRY_JOB_PLAN_LOCATION", state.join("plans")).env("FERRY_LOG_LOCATION", state.join("logs"));
    cmd
}

fn job_id_from(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("Job ").and_then(|r| r.strip_suffix(" has started")))
        .expect("the job id is printed at start")
        .to_owned()
}

/// Bytes of blocks staged but not committed for `name` (0 when there are none).
fn staged_bytes(azurite: &Azurite, container: &str, name: &str) -> u64 {
    let script = r#"
import sys
from azure.storage.blob import ContainerClient
c = ContainerClient.from_container_url(sys.argv[1], credential={"account_name": "devstoreaccount1", "account_key": sys.argv[2]})
try:
    committed, uncommitted = c.get_blob_client(sys.argv[3]).get_block_list("uncommitted")
    print(sum(b.size for b in uncommitted))
except Exception:
    print(0)
"#;
    let out = Command::new(tools::python())
        .args(["-c", script, &azurite.container_url(container), ferry_azure::DEVELOPMENT_KEY, name])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().parse().unwrap()
}

/// A tree of `count` files of `size` bytes; returns name → MD5.
fn tree(root: &Path, count: usize, size: usize) -> BTreeMap<String, String> {
    std::fs::create_dir_all(root).unwrap();
    (0..count)
        .map(|i| {
            let name = format!("f{i:04}.bin");
            let data = pattern(size, i as u64);
            std::fs::write(root.join(&name), &data).unwrap();
            (name, md5_hex(&data))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn jobs_show_lists_exactly_the_failed_items_and_resume_finishes_them() {
    let azurite = Azurite::shared();
    let container = azurite.new_container("jobs-failed").await.container().to_owned();
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    let mut expected = tree(&src, 3, 100);
    for bad in ["bad\\one.txt", "bad\\two.txt"] {
        std::fs::write(src.join(bad), b"x").unwrap();
    }
    let url = azurite.container_url(&container);
    let (code, out, _) = run(ferry_in(work.path()).args(["copy", &format!("{}/*", src.display()), &url]));
    assert_eq!(code, 1);
    let id = job_id_from(&out);

    let (code, list, _) = run(ferry_in(work.path()).args(["jobs", "list"]));
    assert_eq!(code, 0);
    assert!(list.contains(&format!("JobId: {id}\n")) && list.contains("Status: CompletedWithErrors"), "{list}");

    let (code, failed, _) = run(ferry_in(work.path()).args(["jobs", "show", &id, "--with-status=Failed"]));
    assert_eq!(code, 0);
    let lines: Vec<&str> = failed.lines().collect();
    assert_eq!(lines.len(), 2, "{failed}");
    assert!(
        lines[0].starts_with("Failed: bad\\one.txt -> bad\\one.txt : 000 : ") && lines[0].contains("backslash"),
        "{failed}"
    );
    assert!(lines[1].starts_with("Failed: bad\\two.txt"), "{failed}");
    let (_, json, _) =
        run(ferry_in(work.path()).args(["jobs", "show", &id, "--with-status", "Failed", "--output-type", "json"]));
    let message: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    let text = message["MessageContent"].as_str().unwrap();
    let content: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(content["Details"].as_array().unwrap().len(), 2);
    assert_eq!(content["JobID"], id.as_str());
    // AzCopy's field order (its struct's): ErrorMsg, JobID, Details.
    let at = |key: &str| text.find(&format!("\"{key}\"")).unwrap();
    assert!(at("ErrorMsg") < at("JobID") && at("JobID") < at("Details"), "{text}");

    let (_, summary, _) = run(ferry_in(work.path()).args(["jobs", "show", &id]));
    assert!(
        summary.contains("Number of File Transfers Failed: 2\n") && summary.contains("Percent Complete (approx): "),
        "{summary}"
    );

    // The user renames the files; resume finishes them and keeps the three that were done.
    for (bad, good) in [("bad\\one.txt", "one.txt"), ("bad\\two.txt", "two.txt")] {
        std::fs::rename(src.join(bad), src.join(good)).unwrap();
        expected.insert(good.to_owned(), md5_hex(b"x"));
    }
    let (code, out, err) = run(ferry_in(work.path()).args(["jobs", "resume", &id]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Total Number of Bytes Transferred: 2\n"), "only the two new files moved: {out}");
    assert_eq!(common::blob_md5s(azurite, &container), expected);

    let (code, _, _) = run(ferry_in(work.path()).args(["jobs", "remove", &id]));
    assert_eq!(code, 0);
    let (code, _, err) = run(ferry_in(work.path()).args(["jobs", "show", &id]));
    assert_eq!(code, 1);
    assert!(err.contains(&format!("there is no job `{id}`")), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn resume_needs_the_sas_again_and_takes_a_fresh_one() {
    let azurite = Azurite::shared();
    let container = azurite.new_container("jobs-sas").await.container().to_owned();
    let work = tempfile::tempdir().unwrap();
    let expected = tree(&work.path().join("src"), 4, 1000);
    let now = time::OffsetDateTime::now_utc();
    let expired = ferry_azure::account_sas_from(
        &azurite.shared_key(),
        "racwdl",
        now - Duration::from_secs(7200),
        now - Duration::from_secs(3600),
    );
    let url = format!("{}?{}", azurite.container_url(&container), expired.expose());
    let (code, out, err) = run(common::ferry()
        .env("FERRY_JOB_PLAN_LOCATION", work.path().join("plans"))
        .env("FERRY_LOG_LOCATION", work.path().join("logs"))
        .args(["copy", &format!("{}/*", work.path().join("src").display()), &url]));
    assert_eq!(code, 1, "an expired SAS fails every item");
    assert!(err.contains("WARN: the destination SAS expired at"), "warned at start: {err}");
    assert!(err.contains(&format!("ferry jobs resume {} --source-sas TOKEN", job_id_from(&out))), "{err}");
    let id = job_id_from(&out);
    let journal = std::fs::read(work.path().join("plans").join(format!("{id}.db"))).unwrap();
    let signature = expired.param("sig").unwrap();
    assert!(!String::from_utf8_lossy(&journal).contains(signature), "the journal holds no signature");

    let plain = || {
        let mut cmd = common::ferry();
        cmd.env("FERRY_JOB_PLAN_LOCATION", work.path().join("plans"))
            .env("FERRY_LOG_LOCATION", work.path().join("logs"));
        cmd
    };
    let (code, _, err) = run(plain().args(["jobs", "resume", &id]));
    assert_eq!(code, 2);
    assert!(err.contains("destination-sas switch must be provided"), "{err}");
    let fresh = azurite.container_url_with_sas(&container, "racwdl");
    let (code, out, err) = run(plain().args(["jobs", "resume", &id, "--destination-sas", &fresh]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Number of File Transfers Completed: 4"), "{out}");
    assert_eq!(common::blob_md5s(azurite, &container), expected);
}

/// Starts a slow upload (capped at 16 Mb/s), interrupts it with `signal` once 4 MiB of its large
/// file are staged, checks
/// what the interruption left, resumes, and checks every blob.
async fn interrupt_then_resume(signal: &str) {
    let azurite = Azurite::shared();
    let container = azurite.new_container(&format!("jobs-{}", signal.to_lowercase())).await.container().to_owned();
    let work = tempfile::tempdir().unwrap();
    let mut expected = tree(&work.path().join("src"), 40, 64 * 1024);
    // Large enough that, at the capped rate, the interrupt always lands long before the upload
    // could finish (a job that completes first would exit 0 and prove nothing).
    let big = pattern(24 * 1024 * 1024, 99);
    std::fs::write(work.path().join("src/big.bin"), &big).unwrap();
    expected.insert("big.bin".into(), md5_hex(&big));
    let url = azurite.container_url(&container);
    let child = ferry_in(work.path())
        .args([
            "copy",
            &format!("{}/*", work.path().join("src").display()),
            &url,
            "--cap-mbps",
            "16",
            "--block-size-mb",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once most of the large file is staged, so that re-sending it would show.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while staged_bytes(azurite, &container, "big.bin") < 4 * 1024 * 1024 {
        assert!(std::time::Instant::now() < deadline, "the upload did not progress");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let started = std::time::Instant::now();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
    let (stdout, stderr) = (String::from_utf8(output.stdout).unwrap(), String::from_utf8(output.stderr).unwrap());
    let id = job_id_from(&stdout);
    if signal == "INT" {
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(started.elapsed() < Duration::from_secs(10), "Ctrl-C stops within seconds");
        assert!(stdout.contains("Final Job Status: Cancelled"), "{stdout}");
        assert!(stderr.contains(&format!("ferry jobs resume {id}")), "{stderr}");
        let (_, list, _) = run(ferry_in(work.path()).args(["jobs", "list"]));
        assert!(list.contains("Status: Cancelled"), "{list}");
    } else {
        assert_eq!(output.status.code(), None, "killed by a signal");
    }
    let before = common::blob_md5s(azurite, &container);
    assert!(
        before.len() < expected.len(),
        "the job was interrupted before it finished ({} of {})",
        before.len(),
        expected.len()
    );
    for (name, md5) in &before {
        assert_eq!(&expected[name], md5, "{name}: no blob mixes old and new content");
    }

    let size_of = |name: &str| if name == "big.bin" { big.len() as u64 } else { 64 * 1024 };
    let total: u64 = expected.keys().map(|n| size_of(n)).sum();
    let completed: u64 = before.keys().map(|n| size_of(n)).sum();
    let staged = if before.contains_key("big.bin") { 0 } else { staged_bytes(azurite, &container, "big.bin") };

    let (code, out, err) = run(ferry_in(work.path()).args(["jobs", "resume", &id]));
    assert_eq!(code, 0, "{err}\n{out}");
    // Ferry's own counter of bytes sent by the resumed run: what was neither finished nor staged,
    // plus what was in flight when the first run stopped (one block of the large file, and small
    // files the service stored but the journal had not yet recorded).
    let resent = summary_value(&out, "Total Number of Bytes Transferred");
    let missing = total - completed - staged;
    assert!(resent >= missing, "the resume sent {resent} bytes but {missing} were missing");
    let in_flight = 1024 * 1024 + 40 * 64 * 1024;
    assert!(staged > in_flight, "the test interrupts with more staged ({staged}) than could be in flight");
    assert!(
        resent <= missing + in_flight,
        "the resume sent {resent} bytes for {missing} missing ({staged} were staged)"
    );
    assert!(out.contains("Final Job Status: Completed"), "{out}");
    assert_eq!(common::blob_md5s(azurite, &container), expected, "every object is complete and correct");
    let (_, summary, _) = run(ferry_in(work.path()).args(["jobs", "show", &id]));
    assert!(summary.contains(&format!("Number of File Transfers Completed: {}\n", expected.len())), "{summary}");
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_cancels_and_resume_completes() {
    interrupt_then_resume("INT").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_then_resume_completes() {
    interrupt_then_resume("KILL").await;
}

/// Chunks the journal of `job` records, read with Python's sqlite3 while Ferry writes it.
fn recorded_chunks(plans: &Path, job: &str) -> u64 {
    let script = "import sqlite3,sys\ntry:\n    c=sqlite3.connect(sys.argv[1]); print(c.execute('select count(*) from chunk').fetchone()[0])\nexcept Exception:\n    print(0)";
    let db = plans.join(format!("{job}.db"));
    let out = Command::new(tools::python()).args(["-c", script, db.to_str().unwrap()]).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().parse().unwrap_or(0)
}

/// Replaces the job's 1 MiB block size by `block` in its saved spec, as a run that cuts the file
/// into other ranges (another version of Ferry) would see it.
fn change_block_size(plans: &Path, job: &str, block: u64) {
    let script = r#"import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
old, new = '"block_size":1048576', '"block_size":' + sys.argv[2]
print(c.execute("update job set spec = replace(spec, ?, ?) where instr(spec, ?)", (old, new, old)).rowcount)
c.commit()"#;
    let db = plans.join(format!("{job}.db"));
    let out =
        Command::new(tools::python()).args(["-c", script, db.to_str().unwrap(), &block.to_string()]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1", "{}", String::from_utf8_lossy(&out.stderr));
}

/// Downloads a 16 MiB blob slowly (8 s at the cap, so the interrupt always lands first), interrupts it with `signal` once 3 chunks are recorded,
/// resumes, and checks that the resume continued from the chunks already written. With
/// `resume_block`, the resume cuts the file into ranges of that size instead, and must trust none
/// of the recorded 1 MiB chunks (a recorded offset does not say a larger range is written).
async fn interrupt_download_then_resume(signal: &str, resume_block: Option<u64>) {
    let azurite = Azurite::shared();
    let store = azurite.new_container(&format!("jobs-dl-{}", signal.to_lowercase())).await;
    let data = pattern(16 * 1024 * 1024, 321);
    let mut write = ferry_store::WriteOptions::default();
    write.headers.content_md5 = Some(ferry_store::md5_of(&data));
    ferry_store::Store::write(&store, "big.bin", data.clone().into(), &write).await.unwrap();
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("dest");
    std::fs::create_dir_all(&dest).unwrap();
    let url = format!("{}/big.bin", azurite.container_url(store.container()));
    let mut child = ferry_in(work.path())
        .args(["copy", &url, dest.to_str().unwrap(), "--cap-mbps", "16", "--block-size-mb", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let plans = work.path().join("plans");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let job = loop {
        assert!(std::time::Instant::now() < deadline, "the download did not progress");
        let found = std::fs::read_dir(&plans)
            .ok()
            .and_then(|mut d| d.find_map(|e| e.ok().filter(|e| e.path().extension().is_some_and(|x| x == "db"))));
        if let Some(entry) = found {
            let name = entry.file_name().to_string_lossy().trim_end_matches(".db").to_owned();
            if recorded_chunks(&plans, &name) >= 3 {
                break name;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap().success());
    let _ = child.stdin.take();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
    assert!(!dest.join("big.bin").exists(), "nothing under the final name before the resume");
    let recorded = recorded_chunks(&plans, &job);
    assert!(recorded >= 3, "{}", String::from_utf8_lossy(&output.stderr));

    if let Some(block) = resume_block {
        change_block_size(&plans, &job, block);
    }
    let (code, out, err) = run(ferry_in(work.path()).args(["jobs", "resume", &job]));
    assert_eq!(code, 0, "{err}\n{out}");
    let resent = summary_value(&out, "Total Number of Bytes Transferred");
    if resume_block.is_some() {
        assert_eq!(resent, data.len() as u64, "a resume that cuts other ranges fetches every byte again");
    } else {
        let reused = recorded * 1024 * 1024;
        assert!(
            resent <= data.len() as u64 - reused,
            "the resume downloaded {resent} bytes though {reused} were on disk"
        );
    }
    assert!(std::fs::read(dest.join("big.bin")).unwrap() == data, "the file is complete and correct");
    let leftovers: Vec<_> = std::fs::read_dir(&dest).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, ["big.bin"], "no temporary file is left");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_download_resumes_from_its_chunks_after_kill_9() {
    interrupt_download_then_resume("KILL", None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resume_that_cuts_other_ranges_trusts_no_recorded_chunk() {
    interrupt_download_then_resume("KILL", Some(2 * 1024 * 1024)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_download_resumes_from_its_chunks_after_ctrl_c() {
    interrupt_download_then_resume("INT", None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_killed_while_enumerating_fifty_thousand_files_resumes() {
    const COUNT: usize = 50_000;
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    for d in 0..50 {
        std::fs::create_dir_all(src.join(format!("d{d:02}"))).unwrap();
    }
    for i in 0..COUNT {
        std::fs::write(src.join(format!("d{:02}/f{i:05}", i % 50)), format!("{i}")).unwrap();
    }
    let dest = work.path().join("dest");
    // The cap keeps transfers slow, so the listing (which only runs ahead by a bounded amount)
    // is still going when the job is killed.
    let mut child = ferry_in(work.path())
        .args(["copy", &format!("{}/*", src.display()), dest.to_str().unwrap(), "--recursive", "--cap-mbps", "0.05"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let (_, list, _) = run(ferry_in(work.path()).args(["jobs", "list"]));
    assert!(list.contains("Status: InProgress"), "killed while in progress: {list}");
    let id = list.lines().find_map(|l| l.strip_prefix("JobId: ")).unwrap().to_owned();
    let (_, show, _) = run(ferry_in(work.path()).args(["jobs", "show", &id]));
    let recorded = summary_value(&show, "Number of File Transfers");
    assert!(recorded < COUNT as u64, "the enumeration had not finished ({recorded} of {COUNT} found)");

    let (code, out, err) = run(ferry_in(work.path()).args(["jobs", "resume", &id]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary_value(&out, "Number of File Transfers Completed"), COUNT as u64, "{out}");
    for i in (0..COUNT).step_by(997).chain([COUNT - 1]) {
        let path = dest.join(format!("d{:02}/f{i:05}", i % 50));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), i.to_string());
    }
    let copied: usize = (0..50).map(|d| std::fs::read_dir(dest.join(format!("d{d:02}"))).unwrap().count()).sum();
    assert_eq!(copied, COUNT, "every file, once, and no temporary files");
}
