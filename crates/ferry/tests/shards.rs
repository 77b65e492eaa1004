//! One transfer split into shards (issue #16): `--shard K/N` / `--shards N` hold exactly the
//! names rclone's `--hash-filter K/N` holds (rclone 1.75.2 is the oracle), every name lands in
//! one shard, and a shard's job id follows from its run, so running the same command again
//! resumes it or, done, ends at once; a shard that disagrees with its run is refused.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use common::{corpus, ferry, files, run};

/// What rclone's `--hash-filter K/N` holds of `root`.
fn rclone_shard(root: &Path, k: u64, n: u64) -> BTreeSet<String> {
    let rclone = ferry_testkit::tools::tools_dir().join("venv/bin/rclone");
    let out = Command::new(rclone)
        .args(["lsf", "-R", "--files-only", "--hash-filter", &format!("{k}/{n}")])
        .arg(root)
        .env("RCLONE_CONFIG", "/dev/null")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_owned).collect()
}

#[test]
fn shards_hold_what_rclones_hash_filter_holds_and_cover_every_name_once() {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    let names = corpus(&src);
    let n = 4;
    let mut seen = BTreeSet::new();
    for k in 0..n {
        let dest = work.path().join(format!("dest-{k}"));
        let (code, out, err) = run(ferry()
            .env("FERRY_JOB_PLAN_LOCATION", work.path().join("plans"))
            .args(["copy", &format!("{}/*", src.display()), dest.to_str().unwrap(), "--recursive"])
            .args(["--shard", &format!("{k}/{n}"), "--run-id", "corpus"]));
        assert_eq!(code, 0, "{out}{err}");
        let held = files(&dest);
        assert_eq!(held, rclone_shard(&src, k, n), "shard {k}/{n}: Ferry and rclone hold the same names");
        assert!(held.is_disjoint(&seen), "a name in two shards");
        for name in &held {
            assert_eq!(std::fs::read(dest.join(name)).unwrap(), name.as_bytes(), "{name}");
        }
        // A verify of the shard compares the shard's names on both sides: all there, no extras.
        let (code, out, err) = run(ferry()
            .args(["verify", src.to_str().unwrap(), dest.to_str().unwrap(), "--compute-hash"])
            .args(["--shard", &format!("{k}/{n}")]));
        assert_eq!(code, 0, "{out}{err}");
        assert_eq!(common::summary_value(&out, "Objects Matched"), held.len() as u64, "{out}");
        seen.extend(held);
    }
    assert_eq!(seen, names, "every name in one shard");
    // Twins a case-insensitive or normalising destination would merge go to one shard.
    for (a, b) in [("Photos/IMG_0001.JPG", "photos/img_0001.jpg"), ("caf\u{e9}.txt", "cafe\u{301}.txt")] {
        let shard_of = |name: &str| (0..n).find(|k| work.path().join(format!("dest-{k}")).join(name).exists());
        assert_eq!(shard_of(a), shard_of(b), "{a} and {b}");
    }
}

#[test]
fn a_shard_run_again_resumes_or_ends_and_a_disagreeing_one_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    corpus(&src);
    let dest = work.path().join("dest");
    let reports = work.path().join("reports");
    let shard = |extra: &[&str], env: &[(&str, &str)]| {
        let mut cmd = ferry();
        cmd.env("FERRY_JOB_PLAN_LOCATION", work.path().join("plans"))
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("FERRY_SHARD_INDEX")
            .envs(env.iter().copied())
            .args(["copy", &format!("{}/*", src.display()), dest.to_str().unwrap(), "--recursive"])
            .args(["--report-dir", reports.to_str().unwrap()])
            .args(extra);
        run(&mut cmd)
    };
    // K from Slurm's variable, N from the flag; the job id follows from run, K and N.
    let (code, out, err) = shard(&["--shards", "3", "--run-id", "nightly"], &[("SLURM_ARRAY_TASK_ID", "1")]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("shard 1/3 of run `nightly` (K from SLURM_ARRAY_TASK_ID)"), "{err}");
    let id = common::job_id(&out);
    assert!(err.contains(&format!("job {id}")), "{err}");
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(reports.join("nightly/shard-00001-of-00003.manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!((manifest["status"].as_str(), manifest["job_id"].as_str()), (Some("done"), Some(id.as_str())));
    use std::os::unix::fs::PermissionsExt as _;
    for file in ["nightly/run.json", "nightly/shard-00001-of-00003.manifest.json"] {
        let mode = std::fs::metadata(reports.join(file)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file}: the run's evidence names the user's files");
    }
    let run_record = std::fs::read_to_string(reports.join("nightly/run.json")).unwrap();
    assert!(run_record.contains("\"shards\": 3"), "{run_record}");

    // The same command again (a requeued worker): the shard is done, so it ends at once.
    let (code, _, err) = shard(&["--shard", "1/3", "--run-id", "nightly"], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(&format!("is already complete (job {id})")), "the same job: {err}");
    let started: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(reports.join("nightly/shard-00001-of-00003.started.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(started["attempt"], 2, "each attempt is counted: {started}");
    assert!(started["host"].as_str().is_some_and(|h| !h.is_empty()), "{started}");

    // Another N under the same run, no run id, a K past N, N with no K: refused, nothing done.
    let (code, _, err) = shard(&["--shard", "0/2", "--run-id", "nightly"], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("disagrees with the run") && err.contains("3 shards"), "{err}");
    let (code, _, err) = shard(&["--shard", "0/3"], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--run-id"), "{err}");
    let (code, _, err) = shard(&["--shards", "3", "--run-id", "nightly"], &[("JOB_COMPLETION_INDEX", "3")]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("from 0 to 2") && err.contains("--shard $((JOB_COMPLETION_INDEX-1))/3"), "{err}");
    let (code, _, err) = shard(&["--shards", "3", "--run-id", "nightly"], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("SLURM_ARRAY_TASK_ID"), "{err}");
    let status =
        || run(ferry().args(["shards", "status", "--run-id", "nightly", "--report-dir", reports.to_str().unwrap()]));
    let (code, out, err) = status();
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains(&format!("Shard 1/3: done (job {id})")) && out.contains("Shard 0/3: missing"), "{out}");
    assert!(out.contains("3 shards, 1 done, 0 failed, 0 running, 2 missing"), "{out}");

    // The other shards, as an array would run them: then the run is complete.
    for k in ["0", "2"] {
        let (code, out, err) = shard(&["--shards", "3", "--run-id", "nightly"], &[("FERRY_SHARD_INDEX", k)]);
        assert_eq!(code, 0, "{out}{err}");
    }
    let (code, out, err) = status();
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("3 shards, 3 done"), "{out}");
    assert_eq!(files(&dest), files(&src), "the three shards copied everything");
}

#[test]
fn a_sharded_syncs_deletes_wait_for_the_runs_commit() {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    corpus(&src);
    let dest = work.path().join("dest");
    let reports = work.path().join("reports");
    std::fs::create_dir_all(&dest).unwrap();
    for extra in ["extra-1.txt", "extra-2.txt", "gone/extra-3.txt"] {
        std::fs::create_dir_all(dest.join(extra).parent().unwrap()).unwrap();
        std::fs::write(dest.join(extra), b"not in the source").unwrap();
    }
    let ferry_at = || {
        let mut cmd = ferry();
        cmd.env("FERRY_JOB_PLAN_LOCATION", work.path().join("plans"));
        cmd
    };
    let sync = |extra: &[&str]| {
        run(ferry_at()
            .args(["sync", src.to_str().unwrap(), dest.to_str().unwrap(), "--delete-destination=true"])
            .args(["--run-id", "s", "--report-dir", reports.to_str().unwrap()])
            .args(extra))
    };
    let commit = || {
        run(ferry_at()
            .args(["shards", "commit", src.to_str().unwrap(), dest.to_str().unwrap(), "--delete-destination=true"])
            .args(["--run-id", "s", "--report-dir", reports.to_str().unwrap()]))
    };
    // Without a report folder there is nowhere to record the candidates.
    let (code, _, err) = run(ferry_at()
        .args(["sync", src.to_str().unwrap(), dest.to_str().unwrap(), "--delete-destination=true"])
        .args(["--run-id", "s0", "--shard", "0/2"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--report-dir") && err.contains("--delete-phase inline"), "{err}");

    // A dry run shows the shard's work and leaves no evidence a commit could act on.
    let (code, out, err) = sync(&["--shard", "0/2", "--dry-run"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!reports.join("s").exists(), "a dry run leaves no evidence");
    let (code, out, err) = sync(&["--shard", "0/2"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("recorded for the run's commit"), "{err}");
    assert!(dest.join("extra-1.txt").exists() && dest.join("extra-2.txt").exists(), "a shard deletes nothing");
    let (code, _, err) = commit();
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not complete") && err.contains("1/2 (missing)"), "{err}");
    assert!(dest.join("extra-1.txt").exists(), "an incomplete run deletes nothing");

    let (code, out, err) = sync(&["--shard", "1/2"]);
    assert_eq!(code, 0, "{out}{err}");
    // Since the shards listed: the source gained one candidate's name, and the destination
    // gained an extra no shard saw. Neither may be deleted.
    std::fs::write(src.join("extra-2.txt"), b"now in the source").unwrap();
    std::fs::write(dest.join("late.txt"), b"arrived after the shards").unwrap();
    let (code, out, err) = commit();
    assert_eq!(code, 0, "{out}{err}");
    assert!(!dest.join("extra-1.txt").exists() && !dest.join("gone/extra-3.txt").exists(), "recorded extras deleted");
    assert_eq!(std::fs::read(dest.join("extra-2.txt")).unwrap(), b"not in the source", "the source has it now: kept");
    assert!(dest.join("late.txt").exists(), "no shard recorded it: kept");
    assert_eq!(
        common::summary_value(&out, "Number of Copy Transfers Completed"),
        0,
        "the commit copies nothing: {out}"
    );
    let (code, _, err) = commit();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("is already complete"), "{err}");
}

#[test]
fn a_sharded_sync_deletes_inline_only_its_own_extras() {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    corpus(&src);
    let dest = work.path().join("dest");
    std::fs::create_dir_all(&dest).unwrap();
    std::fs::write(dest.join("extra.txt"), b"not in the source").unwrap();
    let sync = |extra: &[&str]| {
        let mut cmd = ferry();
        cmd.env("FERRY_JOB_PLAN_LOCATION", work.path().join("plans"))
            .args(["sync", src.to_str().unwrap(), dest.to_str().unwrap(), "--delete-destination=true"])
            .args(["--run-id", "s", "--delete-phase", "inline"])
            .args(extra);
        run(&mut cmd)
    };
    let holder = (0..2).find(|k| ferry_plan::Shard::new(*k, 2).unwrap().holds("extra.txt")).unwrap();
    let other = 1 - holder;
    let (code, out, err) = sync(&["--shard", &format!("{other}/2")]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(dest.join("extra.txt").exists(), "another shard's extra is not this shard's to delete");
    let (code, out, err) = sync(&["--shard", &format!("{holder}/2")]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!dest.join("extra.txt").exists(), "its own shard deletes it");
    assert_eq!(files(&dest), files(&src), "the two shards made the destination the source");
}

/// `ferry verify --merge`: the shards' verifications make one, or say what is wrong with them.
#[test]
fn sharded_verifications_merge_into_one() {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    let names = corpus(&src);
    let dest = work.path().join("dest");
    let reports = work.path().join("reports");
    let (code, out, err) =
        run(ferry().args(["copy", &format!("{}/*", src.display()), dest.to_str().unwrap(), "--recursive"]));
    assert_eq!(code, 0, "{out}{err}");
    let verify = |k: u64| {
        run(ferry().args(["verify", src.to_str().unwrap(), dest.to_str().unwrap(), "--compute-hash"]).args([
            "--shard",
            &format!("{k}/3"),
            "--run-id",
            "v",
            "--report-dir",
            reports.to_str().unwrap(),
        ]))
    };
    let merge = || run(ferry().args(["verify", "--merge", reports.join("v").to_str().unwrap()]));
    for k in 0..3 {
        let (code, out, err) = verify(k);
        assert_eq!(code, 0, "{out}{err}");
    }
    let (code, out, err) = merge();
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(common::summary_value(&out, "Objects Matched"), names.len() as u64, "{out}");

    // A changed destination file: its shard's verification and the merge say so (exit 3).
    let victim = "dir3/file-0003.bin";
    std::fs::write(dest.join(victim), b"dir3/file-0003.biX").unwrap();
    let owner = (0..3).find(|k| ferry_plan::Shard::new(*k, 3).unwrap().holds(victim)).unwrap();
    let (code, _, _) = verify(owner);
    assert_eq!(code, 3);
    let (code, out, err) = merge();
    assert_eq!(code, 3, "{out}{err}");
    assert_eq!(common::summary_value(&out, "Hash Mismatches"), 1, "{out}");
    let merged = std::fs::read_to_string(reports.join("v/verify-merged-v.jsonl")).unwrap();
    assert!(merged.contains(victim), "{merged}");

    // A name in a shard it does not belong to, and a missing shard: refused.
    let other = (owner + 1) % 3;
    let file = |k: u64| reports.join(format!("v/shard-{k:05}-of-00003.verify.jsonl"));
    let stray = std::fs::read_to_string(file(owner)).unwrap().lines().next().unwrap().to_owned();
    let mut into = std::fs::read_to_string(file(other)).unwrap();
    into.insert_str(0, &format!("{stray}\n"));
    std::fs::write(file(other), into).unwrap();
    let (code, _, err) = merge();
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("in two shards") || err.contains("belongs to shard") || err.contains("out of order"), "{err}");
    std::fs::remove_file(file(other)).unwrap();
    let (code, _, err) = merge();
    assert_eq!(code, 3, "{err}");
    assert!(err.contains(&format!("shard {other}/3 has no verification")), "{err}");
}

/// The README's Kubernetes Indexed Job for a sharded run uses only fields the Kubernetes API has
/// (checked against the official client's models; no cluster runs here).
#[test]
fn the_readmes_kubernetes_job_fits_the_api() {
    let readme = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let check = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ferry-testkit/checks/k8s_manifest.py");
    let out = Command::new(ferry_testkit::tools::python()).arg(check).arg(readme).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Job ferry-nightly-20261130: checked against V1Job"), "{text}");
}
