//! A job's evidence (issue #17): every object the job covered — copied, skipped and why, failed
//! and why, deleted — checked record by record against the Python SDK's view of the destination
//! (its MD5s from the bytes it downloads); the chain catches an edited, removed or moved line;
//! `--against` finds a destination that no longer holds what was copied.

mod common;

use std::collections::BTreeMap;

use base64::Engine as _;
use common::{blob_md5s, ferry_with_key, run};
use ferry_store::{Payload, Store, WriteOptions};
use ferry_testkit::fault_proxy::{Fault, FaultPlan, FaultProxy, Rule, Selector, When};
use ferry_testkit::{Azurite, data::pattern};

fn records(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn hex_of_base64(b64: &str) -> String {
    base64::engine::general_purpose::STANDARD.decode(b64).unwrap().iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_syncs_evidence_records_every_object_and_catches_tampering() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("evidence").await;
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    std::fs::create_dir_all(src.join("new")).unwrap();
    std::fs::create_dir_all(src.join("old")).unwrap();
    for i in 0..6 {
        std::fs::write(src.join(format!("new/n{i}.bin")), pattern(1000 + i * 700, i as u64)).unwrap();
        std::fs::write(src.join(format!("old/o{i}.bin")), pattern(500 + i * 300, 50 + i as u64)).unwrap();
    }
    std::fs::write(src.join("fail-me.bin"), b"this upload is refused").unwrap();
    let url = azurite.container_url(store.container());
    // The old files are there already (and newer there): the sync leaves them alone.
    let (code, out, err) = run(ferry_with_key().args(["copy", &format!("{}/old", src.display()), &url, "--recursive"]));
    assert_eq!(code, 0, "{out}{err}");
    for extra in ["extra/a.txt", "extra/b.txt", "z-extra.txt"] {
        store.write(extra, Payload::from(&b"only at the destination"[..]), &WriteOptions::default()).await.unwrap();
    }
    // Every request for fail-me.bin is refused (and never retried: FERRY_MAX_RETRIES=0).
    let plan = FaultPlan {
        rules: vec![Rule::new(Fault::Busy { retry_after: None }, Selector::Path("fail-me".into()), When::Always)],
        seed: 1,
    };
    let proxy = FaultProxy::with_plan(azurite.port(), plan).await.unwrap();
    let through = format!("http://127.0.0.1:{}/devstoreaccount1/{}", proxy.port(), store.container());
    let evidence = work.path().join("evidence.jsonl");
    let plans = work.path().join("plans");
    let (code, out, err) = run(ferry_with_key()
        .env("FERRY_JOB_PLAN_LOCATION", &plans)
        .args(["sync", src.to_str().unwrap(), &through, "--delete-destination=true"])
        .args(["--evidence", evidence.to_str().unwrap()]));
    assert_eq!(code, 1, "one upload failed: {out}{err}");
    assert!(err.contains("records written to"), "{err}");

    let lines = records(&evidence);
    let (header, trailer) = (&lines[0], &lines[lines.len() - 1]);
    assert_eq!(header["type"], "header");
    assert_eq!(header["status"], "CompletedWithErrors");
    assert_eq!(header["destination_auth"], "account-key", "how it signed in, not the key: {header}");
    assert!(!header.to_string().contains(ferry_azure::DEVELOPMENT_KEY), "no secret in the evidence");
    let by_name: BTreeMap<String, &serde_json::Value> =
        lines[1..lines.len() - 1].iter().map(|r| (r["destination"].as_str().unwrap().to_owned(), r)).collect();
    assert_eq!(by_name.len(), 6 + 6 + 1 + 3, "one record per object: {by_name:#?}");
    // Copied: each record's size and MD5 are what the Python SDK downloads now.
    let downloaded = blob_md5s(azurite, store.container());
    for i in 0..6 {
        let record = by_name[&format!("new/n{i}.bin")];
        assert_eq!(record["outcome"], "copied", "{record}");
        assert_eq!(record["size"], 1000 + i * 700);
        assert_eq!(hex_of_base64(record["md5"].as_str().unwrap()), downloaded[&format!("new/n{i}.bin")], "{record}");
        assert_eq!(record["attempts"], 1);
        assert!(record["modified"].is_string() && record["finished"].is_string(), "{record}");
    }
    for i in 0..6 {
        let record = by_name[&format!("old/o{i}.bin")];
        assert_eq!((record["outcome"].as_str(), record["reason"].as_str()), (Some("skipped"), Some("up to date")));
    }
    let failed = by_name["fail-me.bin"];
    assert_eq!(failed["outcome"], "failed");
    assert!(failed["error"].as_str().unwrap().contains("ServerBusy"), "{failed}");
    for extra in ["extra/a.txt", "extra/b.txt", "z-extra.txt"] {
        assert_eq!(by_name[extra]["outcome"], "deleted", "{extra}");
        assert!(!downloaded.contains_key(extra), "{extra} is gone");
    }
    assert_eq!(
        (trailer["records"].as_u64(), trailer["copied"].as_u64(), trailer["skipped"].as_u64()),
        (Some(16), Some(6), Some(6))
    );
    assert_eq!((trailer["failed"].as_u64(), trailer["deleted"].as_u64()), (Some(1), Some(3)));

    let check = |path: &std::path::Path, against: &[&str]| {
        run(ferry_with_key().args(["jobs", "evidence", "verify", path.to_str().unwrap()]).args(against))
    };
    let (code, out, err) = check(&evidence, &["--against", &url]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("6 copied objects checked, 6 held"), "{out}");

    // Tampering: an edited line, a removed line, two lines swapped. Each is named.
    let text = std::fs::read_to_string(&evidence).unwrap();
    let original: Vec<&str> = text.lines().collect();
    let tampered = |name: &str, lines: Vec<String>| {
        let path = work.path().join(name);
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        path
    };
    let mut edited: Vec<String> = original.iter().map(|l| (*l).to_owned()).collect();
    edited[3] =
        edited[3].replacen("\"attempts\":1", "\"attempts\":2", 1).replacen("\"attempts\":0", "\"attempts\":2", 1);
    assert_ne!(edited[3], original[3]);
    let (code, _, err) = check(&tampered("edited.jsonl", edited), &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("line 4: its hash does not match its content"), "{err}");
    let mut removed: Vec<String> = original.iter().map(|l| (*l).to_owned()).collect();
    removed.remove(5);
    let (code, _, err) = check(&tampered("removed.jsonl", removed), &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("line 6: it does not follow the line before it"), "{err}");
    let mut swapped: Vec<String> = original.iter().map(|l| (*l).to_owned()).collect();
    swapped.swap(7, 8);
    let (code, _, err) = check(&tampered("swapped.jsonl", swapped), &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("line 8: it does not follow"), "{err}");

    // The destination changes after the job: --against says which object no longer holds.
    store.write("new/n2.bin", Payload::from(&b"replaced"[..]), &WriteOptions::default()).await.unwrap();
    let (code, _, err) = check(&evidence, &["--against", &url]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("1 of 6 copied objects") && err.contains("new/n2.bin"), "{err}");

    // The CSV form of the same job: the same records, read by Python's csv module, and it checks.
    let id = header["job_id"].as_str().unwrap();
    let csv = work.path().join("evidence.csv");
    let (code, _, err) = run(ferry_with_key().env("FERRY_JOB_PLAN_LOCATION", &plans).args([
        "jobs",
        "evidence",
        id,
        "--format",
        "csv",
        "--output",
        csv.to_str().unwrap(),
    ]));
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = check(&csv, &[]);
    assert_eq!(code, 0, "{out}{err}");
    let counted = std::process::Command::new(ferry_testkit::tools::python())
        .args(["-c", "import csv,sys,collections\nrows=list(csv.DictReader(open(sys.argv[1])))\nprint(dict(collections.Counter(r['outcome'] for r in rows if r['type']=='object')))"])
        .arg(&csv)
        .output()
        .unwrap();
    let counted = String::from_utf8(counted.stdout).unwrap();
    assert!(
        counted.contains("'copied': 6") && counted.contains("'skipped': 6") && counted.contains("'deleted': 3"),
        "{counted}"
    );
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(std::fs::metadata(&csv).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(&evidence).unwrap().permissions().mode() & 0o777, 0o600);
}
