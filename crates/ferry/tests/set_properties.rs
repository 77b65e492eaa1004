//! `ferry set-properties` (issue #14): tier, metadata and tags changed in place on Azurite, as
//! the Python SDK then reads them; a dry run changes nothing; a resumed job skips the blobs an
//! earlier run changed and redoes the rest.

mod common;

use std::path::Path;

use common::{ferry_with_key, run, sqlite};
use ferry_testkit::Azurite;

/// Each blob's tier, metadata and tags, as the Python SDK reads them with the account key.
fn properties(azurite: &Azurite, container: &str) -> Vec<String> {
    let body = "for b in c.list_blobs(include=['metadata', 'tags']):\n    print(b.name, b.blob_tier, sorted((b.metadata or {}).items()), sorted((b.tags or {}).items()))";
    common::python_in(azurite, container, body).lines().map(str::to_owned).collect()
}

async fn uploaded(azurite: &Azurite, work: &Path) -> String {
    let container = azurite.new_container("setprops").await.container().to_owned();
    let tree = work.join("tree");
    std::fs::create_dir_all(tree.join("dir")).unwrap();
    for name in ["top.txt", "dir/a.txt", "dir/b.log"] {
        std::fs::write(tree.join(name), name).unwrap();
    }
    let (code, _, err) = run(ferry_with_key()
        .args(["copy", &format!("{}/*", tree.display()), &azurite.container_url(&container)])
        .arg("--recursive"));
    assert_eq!(code, 0, "{err}");
    container
}

#[tokio::test(flavor = "multi_thread")]
async fn tier_metadata_and_tags_change_in_place_under_a_prefix() {
    let azurite = Azurite::shared();
    let work = tempfile::tempdir().unwrap();
    let container = uploaded(azurite, work.path()).await;
    let url = format!("{}/dir", azurite.container_url(&container));
    let plans = work.path().join("plans");
    let ferry = || {
        let mut cmd = ferry_with_key();
        cmd.env("FERRY_JOB_PLAN_LOCATION", &plans);
        cmd
    };
    let before = properties(azurite, &container);
    let (code, out, err) =
        run(ferry().args(["set-properties", &url, "--recursive", "--block-blob-tier=Cool", "--dry-run"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("DRYRUN: set-properties {url}/a.txt")), "{out}");
    assert_eq!(out.matches("DRYRUN: set-properties").count(), 2, "{out}");
    assert_eq!(properties(azurite, &container), before, "a dry run changes nothing");

    let (code, out, err) = run(ferry().args([
        "sp",
        &url,
        "--recursive",
        "--block-blob-tier=cool",
        "--metadata=team=data;run=7",
        "--blob-tags=project=ferry&stage=test",
        "--exclude-pattern=*.log",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Final Job Status: Completed"), "{out}");
    assert_eq!(
        properties(azurite, &container),
        [
            "dir/a.txt Cool [('run', '7'), ('team', 'data')] [('project', 'ferry'), ('stage', 'test')]",
            "dir/b.log Hot [] []",
            "top.txt Hot [] []",
        ]
    );
    let (code, _, err) =
        run(ferry().args(["set-properties", &format!("{url}/a.txt"), "--blob-tags=clear", "--metadata=clear"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(properties(azurite, &container)[0], "dir/a.txt Cool [] []");

    let (code, _, err) = run(ferry().args(["set-properties", &url, "--block-blob-tier=Warm"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--block-blob-tier `Warm` is not one of Hot, Cool, Cold, Archive"), "{err}");
    let (code, _, err) = run(ferry().args(["set-properties", &url]));
    assert_eq!(code, 2);
    assert!(err.contains("nothing to set"), "{err}");
}

/// A resumed job redoes what did not finish and skips what did: the journal says which.
#[tokio::test(flavor = "multi_thread")]
async fn a_resumed_job_skips_the_blobs_it_changed() {
    let azurite = Azurite::shared();
    let work = tempfile::tempdir().unwrap();
    let container = uploaded(azurite, work.path()).await;
    let plans = work.path().join("plans");
    let ferry = || {
        let mut cmd = ferry_with_key();
        cmd.env("FERRY_JOB_PLAN_LOCATION", &plans);
        cmd
    };
    let url = azurite.container_url(&container);
    let (code, out, err) = run(ferry().args(["set-properties", &url, "--recursive", "--block-blob-tier=Cool"]));
    assert_eq!(code, 0, "{err}");
    let id = common::job_id(&out);
    let db = plans.join(format!("{id}.db"));
    assert_eq!(sqlite(&db, "select count(*) from item where status = 'Success'"), "3");
    // As if the job had been interrupted before `top.txt`, and someone then set every tier back.
    sqlite(&db, "update item set status = 'Started' where source = 'top.txt'; update job set status = 'Cancelled';");
    let (code, _, err) = run(ferry().args(["set-properties", &url, "--recursive", "--block-blob-tier=Hot"]));
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(ferry().args(["jobs", "resume", &id]));
    assert_eq!(code, 0, "{err}\n{out}");
    let tiers: Vec<String> =
        properties(azurite, &container).iter().map(|l| l.split(' ').take(2).collect::<Vec<_>>().join(" ")).collect();
    assert_eq!(tiers, ["dir/a.txt Hot", "dir/b.log Hot", "top.txt Cool"], "only the unfinished blob was redone");
    let (code, show, _) = run(ferry().args(["jobs", "show", &id]));
    assert_eq!(code, 0);
    assert!(show.contains("Final Job Status: Completed"), "{show}");
}
