//! Secrets never leak: after jobs run with a SAS and with a shared key (at the most verbose log
//! level, with failures, a resume and a verify report), no file Ferry wrote and nothing it printed
//! holds the signature or the key, and its journals and logs are private to the user.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{ferry, job_id, run};
use ferry_store::{Store, WriteOptions};
use ferry_testkit::Azurite;

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%' && i + 3 <= bytes.len())
            .then(|| u8::from_str_radix(&text[i + 1..i + 3], 16).ok())
            .flatten();
        match hex {
            Some(v) => {
                out.push(v);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
#[allow(clippy::too_many_lines)]
async fn no_secret_reaches_a_file_or_the_terminal_and_job_files_are_private() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("secrets").await;
    let container = store.container().to_owned();
    store.write("old/extra.txt", bytes::Bytes::from_static(b"x").into(), &WriteOptions::default()).await.unwrap();
    let work = tempfile::tempdir().unwrap();
    let (logs, plans, reports) = (work.path().join("logs"), work.path().join("plans"), work.path().join("reports"));
    let src = work.path().join("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    for i in 0..20 {
        std::fs::write(src.join(format!("sub/f{i}.txt")), format!("file {i}")).unwrap();
    }
    std::fs::write(src.join("big.bin"), vec![5u8; 3 * 1024 * 1024]).unwrap();

    let sas = azurite.container_sas(&container, "racwdl");
    let read_only = azurite.container_sas(&container, "rl");
    let sig = sas.param("sig").unwrap().to_owned();
    let ro_sig = read_only.param("sig").unwrap().to_owned();
    let with_sas = |path: &str| format!("{}{path}?{}", azurite.container_url(&container), sas.expose());
    let forged = format!(
        "{}?sv=2022-11-02&sr=c&sp=rl&se=2099-01-01T00:00:00Z&sig=FORGEDSIGNATUREVALUE1234",
        azurite.container_url(&container)
    );

    let base = || {
        let mut cmd = ferry();
        cmd.env("FERRY_LOG_LOCATION", &logs)
            .env("FERRY_JOB_PLAN_LOCATION", &plans)
            .env("FERRY_LOG", "debug")
            .env("AZCOPY_LOG_LEVEL", "DEBUG");
        cmd
    };
    let keyed = || {
        let mut cmd = base();
        cmd.env("AZURE_STORAGE_ACCOUNT", "devstoreaccount1").env("AZURE_STORAGE_KEY", ferry_azure::DEVELOPMENT_KEY);
        cmd
    };
    let mut printed = String::new();
    let mut go = |cmd: &mut Command, expect: i32| {
        let (code, out, err) = run(cmd);
        assert_eq!(code, expect, "{cmd:?}\n{out}\n{err}");
        printed.push_str(&out);
        printed.push_str(&err);
        out
    };

    // With a SAS in the URL: upload, list, download, sync with a delete, verify, remove, failures.
    let s = src.to_str().unwrap();
    go(base().args(["copy", &format!("{s}/*"), &with_sas(""), "--recursive", "--put-md5", "--log-level", "DEBUG"]), 0);
    go(base().args(["list", &with_sas(""), "--properties", "ContentMD5"]), 0);
    let down = work.path().join("down");
    go(base().args(["copy", &with_sas("/sub"), down.to_str().unwrap(), "--recursive"]), 0);
    go(base().args(["sync", s, &with_sas(""), "--delete-destination", "true", "--verify"]), 0);
    go(base().args(["verify", s, &with_sas(""), "--report-dir", reports.to_str().unwrap()]), 0);
    go(base().args(["remove", &with_sas("/sub/f0.txt")]), 0);
    go(base().args(["list", &forged]), 1);
    // A write with a read-only SAS fails; its job resumes with a better SAS given again.
    let ro_url = format!("{}/ro?{}", azurite.container_url(&container), read_only.expose());
    let out = go(base().args(["copy", &format!("{s}/*"), &ro_url, "--recursive"]), 1);
    let id = job_id(&out);
    go(base().args(["jobs", "resume", &id, "--destination-sas", sas.expose()]), 0);
    go(base().args(["jobs", "show", &id, "--with-status", "All"]), 0);
    // Spellings the adversarial review found escaping redaction (issue #11): the flag's `=` form
    // with the signature first, `%73ig` for `sig`, and a password in the URL.
    let out = go(
        base().args([
            "copy",
            &format!("{s}/*"),
            &format!("{}/ro2?{}", azurite.container_url(&container), read_only.expose()),
            "--recursive",
        ]),
        1,
    );
    let sig_first: String = {
        let rest: Vec<&str> = sas.expose().split('&').filter(|p| !p.starts_with("sig=")).collect();
        format!("sig={}&{}", sas.param("sig").unwrap(), rest.join("&"))
    };
    go(base().args(["jobs", "resume", &job_id(&out), &format!("--destination-sas={sig_first}")]), 0);
    let spelled = read_only.expose().replace("sig=", "%73ig=");
    go(base().args(["list", &format!("{}?{spelled}", azurite.container_url(&container))]), 0);
    go(
        base().args([
            "list",
            &format!("http://alice:URLPASSWORDSECRET@127.0.0.1:{}/devstoreaccount1/{container}", azurite.port()),
        ]),
        2,
    );
    go(base().args(["jobs", "list", "--output-type", "json"]), 0);
    go(base().args(["env"]).env("AZURE_STORAGE_KEY", ferry_azure::DEVELOPMENT_KEY), 0);

    // With the shared key from the environment.
    let plain = azurite.container_url(&container);
    go(keyed().args(["copy", &format!("{s}/*"), &format!("{plain}/keyed"), "--recursive", "--log-level", "DEBUG"]), 0);
    go(keyed().args(["copy", &format!("{plain}/keyed/*"), work.path().join("kd").to_str().unwrap(), "--recursive"]), 0);
    go(keyed().args(["sync", s, &format!("{plain}/keyed"), "--compare-hash", "MD5"]), 0);
    go(keyed().args(["list", &format!("{plain}/keyed"), "--output-type", "json"]), 0);

    let secrets: Vec<(String, String)> = vec![
        ("SAS signature".into(), sig.clone()),
        ("SAS signature (decoded)".into(), percent_decode(&sig)),
        ("read-only SAS signature".into(), ro_sig.clone()),
        ("read-only SAS signature (decoded)".into(), percent_decode(&ro_sig)),
        ("forged signature".into(), "FORGEDSIGNATUREVALUE1234".into()),
        ("account key".into(), ferry_azure::DEVELOPMENT_KEY.into()),
        ("account key (start)".into(), ferry_azure::DEVELOPMENT_KEY[..24].into()),
        ("Shared Key authorization".into(), "SharedKey devstoreaccount1:".into()),
        ("password in a URL".into(), "URLPASSWORDSECRET".into()),
    ];
    let written: Vec<PathBuf> = [&logs, &plans, &reports].iter().flat_map(|d| files_under(d)).collect();
    assert!(written.iter().any(|p| p.extension().is_some_and(|e| e == "log")), "job logs were written: {written:?}");
    assert!(written.iter().any(|p| p.extension().is_some_and(|e| e == "db")), "journals were written");
    assert!(written.iter().any(|p| p.to_string_lossy().contains("reports")), "a verify report was written");
    let mut leaks = Vec::new();
    for (what, secret) in &secrets {
        if printed.contains(secret.as_str()) {
            leaks.push(format!("{what} printed"));
        }
        for path in &written {
            let bytes = std::fs::read(path).unwrap();
            if let Some(at) = bytes.windows(secret.len()).position(|w| w == secret.as_bytes()) {
                // Show where, with the secret itself masked.
                let around = &bytes[at.saturating_sub(120)..(at + secret.len() + 40).min(bytes.len())];
                let context = String::from_utf8_lossy(around).replace(secret.as_str(), "<SECRET>");
                leaks.push(format!("{what} in {}: …{context}…", path.display()));
            }
        }
    }
    assert!(leaks.is_empty(), "secrets leaked: {leaks:?}");

    // Journals and logs are the user's alone.
    for path in written.iter().filter(|p| !p.starts_with(&reports)) {
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{} is {mode:o}", path.display());
    }
    for dir in [&logs, &plans] {
        let mode = std::fs::metadata(dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{} is {mode:o}", dir.display());
    }
}
