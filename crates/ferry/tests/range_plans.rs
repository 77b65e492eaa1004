//! Range plans (issue #16, item 5): `ferry shards plan` splits a source into consecutive ranges
//! of names; `--shard-plan` makes each shard hold, list and verify only its range. Checked on
//! real outcomes: the files each shard wrote, the run's evidence, and the listing requests a
//! Blob shard sends (through a recording proxy in front of Azurite).

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{corpus, ferry, ferry_with_key, files, run};
use ferry_plan::RangePlan;

fn read_plan(path: &Path) -> RangePlan {
    RangePlan::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn make_plan(source: &str, shards: u64, by: &str, out: &Path) -> RangePlan {
    let (code, stdout, err) = run(ferry_with_key()
        .args(["shards", "plan", source, "--shards", &shards.to_string()])
        .args(["--by", by, "-o", out.to_str().unwrap()]));
    assert_eq!(code, 0, "{stdout}{err}");
    assert!(stdout.contains(&format!("{shards} ranges, digest")), "{stdout}");
    read_plan(out)
}

#[test]
fn a_range_plan_splits_a_tree_into_shards_that_hold_each_name_once() {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    let names = corpus(&src);
    let plan_file = work.path().join("plan.json");
    let plan = make_plan(src.to_str().unwrap(), 5, "bytes", &plan_file);
    assert_eq!(plan.shards.iter().map(|s| s.objects).sum::<u64>(), names.len() as u64, "the plan counted every file");
    let mut seen = BTreeSet::new();
    for k in 0..5u64 {
        // Each shard into a folder of its own, to see exactly what it held.
        let dest = work.path().join(format!("shard-{k}"));
        let (code, out, err) = run(ferry()
            .env("FERRY_JOB_PLAN_LOCATION", work.path().join("plans"))
            .env("JOB_COMPLETION_INDEX", k.to_string())
            .args(["copy", &format!("{}/*", src.display()), dest.to_str().unwrap(), "--recursive"])
            .args(["--shard-plan", plan_file.to_str().unwrap(), "--run-id", "split"]));
        assert_eq!(code, 0, "{out}{err}");
        assert!(err.contains(&format!("shard {k}/5 of run `split` (K from JOB_COMPLETION_INDEX)")), "{err}");
        let held = files(&dest);
        let range = plan.range(k).unwrap();
        let expected: BTreeSet<String> = names.iter().filter(|n| range.holds(n)).cloned().collect();
        assert_eq!(held, expected, "shard {k} holds its range {range}, no more, no less");
        assert_eq!(held.len() as u64, plan.shards[k as usize].objects, "as planned");
        for name in &held {
            assert!(seen.insert(name.clone()), "`{name}` in two shards");
            assert_eq!(std::fs::read(dest.join(name)).unwrap(), name.as_bytes());
        }
    }
    assert_eq!(seen, names, "the shards cover every name");
}

#[test]
fn a_sync_split_by_a_plan_commits_its_deletes_and_verifies_as_one() {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    let names = corpus(&src);
    let dest = work.path().join("dest");
    let reports = work.path().join("reports");
    for extra in ["0-first-extra.txt", "dir3/extra.bin", "zz-last-extra.txt"] {
        std::fs::create_dir_all(dest.join(extra).parent().unwrap()).unwrap();
        std::fs::write(dest.join(extra), b"not in the source").unwrap();
    }
    let plan_file = work.path().join("plan.json");
    make_plan(src.to_str().unwrap(), 3, "count", &plan_file);
    let ferry_at = || {
        let mut cmd = ferry();
        cmd.env("FERRY_JOB_PLAN_LOCATION", work.path().join("plans"));
        cmd
    };
    let shard_flags = |k: u64, run_id: &str| {
        [
            "--shard-plan".to_owned(),
            plan_file.display().to_string(),
            "--shard".to_owned(),
            format!("{k}/3"),
            "--run-id".to_owned(),
            run_id.to_owned(),
            "--report-dir".to_owned(),
            reports.display().to_string(),
        ]
    };
    for k in 0..3 {
        let (code, out, err) = run(ferry_at()
            .args(["sync", src.to_str().unwrap(), dest.to_str().unwrap(), "--delete-destination=true"])
            .args(shard_flags(k, "nightly")));
        assert_eq!(code, 0, "{out}{err}");
    }
    assert!(dest.join("0-first-extra.txt").exists(), "the shards delete nothing");
    assert!(reports.join("nightly/plan.json").exists(), "the run keeps its plan");
    let (code, out, err) = run(ferry_at()
        .args(["shards", "commit", src.to_str().unwrap(), dest.to_str().unwrap(), "--delete-destination=true"])
        .args(["--run-id", "nightly", "--report-dir", reports.to_str().unwrap()]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(files(&dest), names, "the run made the destination the source");

    for k in 0..3 {
        let (code, out, err) = run(ferry_at()
            .args(["verify", src.to_str().unwrap(), dest.to_str().unwrap(), "--compute-hash"])
            .args(shard_flags(k, "check")));
        assert_eq!(code, 0, "{out}{err}");
    }
    let (code, out, err) = run(ferry().args(["verify", "--merge", reports.join("check").to_str().unwrap()]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(common::summary_value(&out, "Objects Matched"), names.len() as u64, "{out}");

    // Next night's plan from tonight's verifications, without listing the source: the same
    // names and sizes give the same bounds as a listing.
    let from_reports = work.path().join("from-reports.json");
    let (code, out, err) = run(ferry()
        .args(["shards", "plan", "--from-reports", reports.join("check").to_str().unwrap()])
        .args(["--shards", "3", "-o", from_reports.to_str().unwrap()]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(read_plan(&from_reports).digest(), read_plan(&plan_file).digest(), "{out}");
    let by_bytes = |out: &Path, names: &[&str]| {
        run(ferry().args(["shards", "plan", "--by", "bytes", "--shards", "7", "-o", out.to_str().unwrap()]).args(names))
    };
    let (a, b) = (work.path().join("a.json"), work.path().join("b.json"));
    assert_eq!(by_bytes(&a, &["--from-reports", reports.join("check").to_str().unwrap()]).0, 0);
    assert_eq!(by_bytes(&b, &[src.to_str().unwrap()]).0, 0);
    assert_eq!(read_plan(&a).digest(), read_plan(&b).digest(), "by bytes too");

    // A name moved into a neighbouring shard's evidence is out of its range: the merge says so.
    let file = |k: u64| reports.join(format!("check/shard-{k:05}-of-00003.verify.jsonl"));
    let last_of_first = std::fs::read_to_string(file(0)).unwrap().lines().last().unwrap().to_owned();
    let second = std::fs::read_to_string(file(1)).unwrap();
    std::fs::write(file(1), format!("{last_of_first}\n{second}")).unwrap();
    let mut first: Vec<String> = std::fs::read_to_string(file(0)).unwrap().lines().map(str::to_owned).collect();
    first.pop();
    std::fs::write(file(0), first.join("\n") + "\n").unwrap();
    let (code, _, err) = run(ferry().args(["verify", "--merge", reports.join("check").to_str().unwrap()]));
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("was verified by shard 1 but belongs to shard 0"), "{err}");
}

#[test]
fn plans_that_disagree_or_do_not_cover_every_name_are_refused() {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    corpus(&src);
    let plan_file = work.path().join("plan.json");
    let plan = make_plan(src.to_str().unwrap(), 4, "count", &plan_file);
    let copy = |extra: &[&str]| {
        run(ferry()
            .env("FERRY_JOB_PLAN_LOCATION", work.path().join("plans"))
            .args(["copy", &format!("{}/*", src.display()), work.path().join("d").to_str().unwrap(), "--recursive"])
            .args(["--run-id", "r", "--report-dir", work.path().join("reports").to_str().unwrap()])
            .args(extra))
    };
    let plan_arg = plan_file.to_str().unwrap();
    let (code, _, err) = copy(&["--shard-plan", plan_arg, "--shards", "3"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--shards 3 disagrees with the plan, which has 4 ranges"), "{err}");
    let (code, _, err) = copy(&["--shard-plan", plan_arg]);
    assert_eq!(code, 2, "no index: {err}");
    assert!(err.contains("4 shards need this shard's index K"), "{err}");

    // A plan whose ranges leave a gap is not a plan.
    let mut gap = serde_json::to_value(&plan).unwrap();
    gap["shards"][2]["from"] = serde_json::Value::String("~after".into());
    let gap_file = work.path().join("gap.json");
    std::fs::write(&gap_file, gap.to_string()).unwrap();
    let (code, _, err) = copy(&["--shard-plan", gap_file.to_str().unwrap(), "--shard", "1/4"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("do not cover every name once") && err.contains("ferry shards plan"), "{err}");

    // The run began with one plan: a shard given another is refused, and copies nothing.
    let (code, out, err) = copy(&["--shard-plan", plan_arg, "--shard", "0/4"]);
    assert_eq!(code, 0, "{out}{err}");
    let other = work.path().join("other.json");
    make_plan(src.to_str().unwrap(), 4, "bytes", &other);
    assert_ne!(read_plan(&other).digest(), plan.digest(), "by bytes, other bounds");
    let before = files(&work.path().join("d"));
    let (code, _, err) = copy(&["--shard-plan", other.to_str().unwrap(), "--shard", "1/4"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("split by the plan with digest"), "{err}");
    assert_eq!(files(&work.path().join("d")), before, "a refused shard writes nothing");
}

/// A Blob shard asks the service to start at its range (`startFrom`, with the service version
/// that has it) and stops at its end; the shards together download every blob once.
#[tokio::test(flavor = "multi_thread")]
async fn a_blob_shard_lists_from_its_range() {
    use ferry_testkit::fault_proxy::FaultProxy;
    let azurite = ferry_testkit::Azurite::shared();
    let container = azurite.new_container("rangeplan").await;
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    let names = corpus(&src);
    let url = azurite.container_url(container.container());
    let (code, out, err) = run(ferry_with_key().args(["copy", &format!("{}/*", src.display()), &url, "--recursive"]));
    assert_eq!(code, 0, "{out}{err}");
    let proxy = FaultProxy::start(azurite.port(), 0).await.unwrap();
    let through = format!("http://127.0.0.1:{}/devstoreaccount1/{}", proxy.port(), container.container());
    let plan_file = work.path().join("plan.json");
    let plan = make_plan(&through, 4, "count", &plan_file);
    let dest = work.path().join("dest");
    for k in 1..4u64 {
        let before = proxy.heads().len();
        let (code, out, err) = run(ferry_with_key()
            .env("FERRY_JOB_PLAN_LOCATION", work.path().join("plans"))
            .env("SLURM_ARRAY_TASK_ID", k.to_string())
            .args(["copy", &through, dest.to_str().unwrap(), "--recursive", "--as-subdir=false"])
            .args(["--shard-plan", plan_file.to_str().unwrap(), "--run-id", "blob"]));
        assert_eq!(code, 0, "{out}{err}");
        let heads = proxy.heads();
        let lists: Vec<&String> = heads[before..].iter().filter(|h| h.contains("comp=list")).collect();
        assert!(!lists.is_empty(), "shard {k} listed");
        let from = &plan.range(k).unwrap().from;
        for head in lists {
            assert_eq!(
                start_from(head).as_deref(),
                Some(ferry_store::start::service_floor(from)),
                "shard {k} starts at its range: {head}"
            );
            assert!(
                head.to_lowercase().contains(&format!("x-ms-version: {}", ferry_azure::START_FROM_VERSION)),
                "at the version that has startFrom: {head}"
            );
        }
    }
    let (code, out, err) = run(ferry_with_key()
        .env("FERRY_JOB_PLAN_LOCATION", work.path().join("plans"))
        .args(["copy", &through, dest.to_str().unwrap(), "--recursive", "--as-subdir=false"])
        .args(["--shard-plan", plan_file.to_str().unwrap(), "--shard", "0/4", "--run-id", "blob"]));
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(files(&dest), names, "the four shards downloaded every blob once");
    for name in &names {
        assert_eq!(std::fs::read(dest.join(name)).unwrap(), name.as_bytes(), "{name}");
    }
}

/// The `startFrom` of a request head, percent-decoded.
fn start_from(head: &str) -> Option<String> {
    let value = head.split(['?', '&', ' ']).find_map(|p| p.strip_prefix("startFrom="))?;
    let bytes = value.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 3 <= bytes.len() {
            out.push(u8::from_str_radix(&value[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(String::from_utf8(out).unwrap())
}
