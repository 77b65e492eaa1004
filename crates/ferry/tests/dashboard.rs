//! `ferry serve` (issue #17) in a real headless browser (Debian's Chromium, driven by
//! `ferry-testkit/checks/dashboard.py`): the page lists the jobs with their statuses, a job
//! running in another process advances between two loads, a job page shows its failures and the
//! command that resumes it, its evidence downloads and checks; and an exposed address needs a
//! token.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{ferry, job_id, run};

fn free_port() -> u16 {
    ferry_testkit::ports::free_port().unwrap()
}

/// What the browser saw at `url` (and a screenshot, when asked).
fn browse(url: &str, screenshot: Option<&Path>) -> serde_json::Value {
    let script = ferry_testkit::tools::repo_root().join("crates/ferry-testkit/checks/dashboard.py");
    let mut cmd = Command::new(ferry_testkit::tools::python());
    cmd.arg(script).arg(url);
    if let Some(path) = screenshot {
        cmd.arg("--screenshot").arg(path);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn row<'a>(page: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    page["rows"].as_array().unwrap().iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no row {id}: {page}"))
}

fn files(dir: &Path, count: usize, size: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for i in 0..count {
        std::fs::write(dir.join(format!("f{i:02}.bin")), ferry_testkit::data::pattern(size, i as u64)).unwrap();
    }
}

#[test]
fn the_dashboard_shows_every_job_in_a_browser() {
    let work = tempfile::tempdir().unwrap();
    let at = |mut cmd: Command| {
        cmd.env("FERRY_JOB_PLAN_LOCATION", work.path().join("plans"))
            .env("FERRY_LOG_LOCATION", work.path().join("logs"));
        cmd
    };
    // A job that completed, and one whose second file failed (a folder is where it would go).
    files(&work.path().join("one"), 5, 1000);
    let (code, out, err) = run(at(ferry())
        .args(["copy", &format!("{}/*", work.path().join("one").display())])
        .arg(work.path().join("dst-one")));
    assert_eq!(code, 0, "{err}");
    let done = job_id(&out);
    files(&work.path().join("two"), 3, 1000);
    std::fs::create_dir_all(work.path().join("dst-two/f01.bin/inside")).unwrap();
    let (code, out, _) = run(at(ferry())
        .args(["copy", &format!("{}/*", work.path().join("two").display())])
        .arg(work.path().join("dst-two")));
    assert_eq!(code, 1);
    let failed = job_id(&out);
    // A job running in another process: 3 MB at 1 Mbit/s, about 24 s.
    files(&work.path().join("three"), 30, 100 * 1024);
    let mut running = at(ferry())
        .args(["copy", &format!("{}/*", work.path().join("three").display())])
        .arg(work.path().join("dst-three"))
        .args(["--cap-mbps", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let port = free_port();
    let mut serve = at(ferry()).args(["serve", "--addr", &port.to_string()]).stderr(Stdio::null()).spawn().unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let url = format!("http://127.0.0.1:{port}/");
    let first = browse(&url, None);
    std::thread::sleep(Duration::from_secs(3));
    let shot = work.path().join("dashboard.png");
    let second = browse(&url, Some(&shot));
    assert_eq!(second["rows"].as_array().unwrap().len(), 3, "{second}");
    assert_eq!(row(&second, &done)["status"], "Completed");
    assert_eq!(row(&second, &failed)["status"], "CompletedWithErrors");
    let live = second["rows"].as_array().unwrap().iter().find(|r| r["id"] != done && r["id"] != failed).unwrap();
    let id = live["id"].as_str().unwrap().to_owned();
    assert_eq!(live["status"], "InProgress", "{second}");
    let (before, after) = (row(&first, &id)["bytes"].as_u64().unwrap(), live["bytes"].as_u64().unwrap());
    assert!(after > before, "the running job advanced between two loads: {before} then {after}");
    assert!(live["percent"].as_f64().unwrap() < 100.0);
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "a screenshot of the page");

    // The failed job's page: its failure with the reason, and the command that resumes it.
    let page = browse(&format!("{url}jobs/{failed}"), None);
    let failures = page["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{page}");
    assert!(failures[0]["cells"][0].as_str().unwrap().ends_with("f01.bin"), "{page}");
    assert_eq!(page["resume"], format!("ferry jobs resume {failed}"));
    // Its evidence downloads, and checks.
    let evidence = work.path().join("downloaded.jsonl");
    let fetch = Command::new(ferry_testkit::tools::python())
        .args([
            "-c",
            "import sys,urllib.request; open(sys.argv[2],'wb').write(urllib.request.urlopen(sys.argv[1]).read())",
        ])
        .arg(format!("{url}jobs/{failed}/evidence.jsonl"))
        .arg(&evidence)
        .status()
        .unwrap();
    assert!(fetch.success());
    let (code, out, err) = run(ferry().args(["jobs", "evidence", "verify", evidence.to_str().unwrap()]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("2 copied") && out.contains("1 failed"), "{out}");

    let _ = running.kill();
    let _ = running.wait();
    let _ = serve.kill();
    let _ = serve.wait();
}

#[test]
fn an_exposed_dashboard_needs_a_token() {
    let work = tempfile::tempdir().unwrap();
    let plans = work.path().join("plans");
    let port = free_port();
    let (code, _, err) =
        run(ferry().env("FERRY_JOB_PLAN_LOCATION", &plans).args(["serve", "--addr", &format!("0.0.0.0:{port}")]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a loopback address") && err.contains("FERRY_SERVE_TOKEN"), "{err}");
    let mut serve = ferry()
        .env("FERRY_JOB_PLAN_LOCATION", &plans)
        .env("FERRY_SERVE_TOKEN", "s3cret-token-for-the-test")
        .args(["serve", "--addr", &format!("0.0.0.0:{port}")])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let status = |headers: &str| {
        let script = "import sys,urllib.request,urllib.error\nr=urllib.request.Request(sys.argv[1])\nfor h in sys.argv[2:]:\n  k,v=h.split(': ',1); r.add_header(k,v)\ntry:\n  print(urllib.request.urlopen(r).status)\nexcept urllib.error.HTTPError as e:\n  print(e.code)";
        let mut cmd = Command::new(ferry_testkit::tools::python());
        cmd.args(["-c", script, &format!("http://127.0.0.1:{port}/")]);
        if !headers.is_empty() {
            cmd.arg(headers);
        }
        String::from_utf8(cmd.output().unwrap().stdout).unwrap().trim().to_owned()
    };
    assert_eq!(status(""), "401");
    assert_eq!(status("Authorization: Bearer wrong"), "401");
    assert_eq!(status("Authorization: Bearer s3cret-token-for-the-test"), "200");
    let _ = serve.kill();
    let _ = serve.wait();
}
