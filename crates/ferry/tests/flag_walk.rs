//! Every flag of every AzCopy command is recognised (issue #14): the pinned AzCopy binary's own
//! `--help` is read for each command, and each flag it lists (plus the hidden ones AzCopy keeps
//! for scripts, from `shared/reference/azcopy-v10.md`) must parse on Ferry's command line with a
//! value AzCopy accepts. Never "unexpected argument". What Ferry then does with a flag it cannot
//! act on yet (a clear refusal, exit 2) is checked by `refusals.rs`'s tests and below.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use clap::Parser as _;
use common::run;
use ferry_cli::Cli;

/// The commands, with the positional arguments that make a parse complete.
const COMMANDS: &[(&str, &[&str])] = &[
    ("copy", &["a", "b"]),
    ("sync", &["a", "b"]),
    ("remove", &["https://a.blob.core.windows.net/c/x"]),
    ("set-properties", &["https://a.blob.core.windows.net/c/x"]),
    ("list", &["https://a.blob.core.windows.net/c"]),
    ("make", &["https://a.blob.core.windows.net/c"]),
    ("bench", &["https://a.blob.core.windows.net/c"]),
    ("env", &[]),
    ("jobs list", &[]),
    ("jobs show", &["id"]),
    ("jobs resume", &["id"]),
    ("jobs remove", &["id"]),
    ("jobs clean", &[]),
    ("login", &[]),
    ("login status", &[]),
    ("logout", &[]),
    ("completion bash", &[]),
    ("completion zsh", &[]),
    ("doc", &[]),
];

/// Flags AzCopy hides from `--help` but accepts (global ones on every command).
const HIDDEN_GLOBAL: &[&str] =
    &["skip-version-check", "cancel-from-stdin", "retry-status-codes", "request-priority", "memory-profile"];
const HIDDEN: &[(&str, &[&str])] = &[
    (
        "copy",
        &[
            "list-of-files",
            "include",
            "exclude",
            "delete-destination-file",
            "flush-threshold",
            "preserve-smb-info",
            "preserve-smb-permissions",
            "s2s-get-properties-in-backend",
        ],
    ),
    ("sync", &["delete-destination-file", "preserve-smb-info", "preserve-smb-permissions", "include", "exclude"]),
    ("login", &["identity-object-id", "identity", "service-principal"]),
];

/// A value AzCopy accepts for flags that take one (others get `x`).
fn sample(flag: &str) -> &'static str {
    match flag {
        "overwrite" | "preserve-info" | "preserve-smb-info" | "preserve-smb-permissions" => "true",
        "delete-destination-file" | "s2s-get-properties-in-backend" => "true",
        "delete-destination" => "false",
        "from-to" => "LocalBlob",
        "check-md5" => "FailIfDifferent",
        "output-type" => "text",
        "output-level" => "default",
        "log-level" => "INFO",
        "hardlinks" => "follow",
        "trailing-dot" => "Enable",
        "posix-properties-style" => "standard",
        "blob-type" => "BlockBlob",
        "delete-snapshots" => "include",
        "compare-hash" => "None",
        "mode" => "Upload",
        "location" => "Blob",
        "login-type" => "device",
        "permanent-delete" => "none",
        "s2s-handle-invalid-metadata" => "ExcludeIfInvalid",
        "block-blob-tier" | "page-blob-tier" => "None",
        "cap-mbps" | "number-of-folders" | "request-priority" => "0",
        "block-size-mb" | "put-blob-size-mb" | "file-count" | "quota-gb" | "flush-threshold" => "8",
        "with-status" => "All",
        "rehydrate-priority" => "Standard",
        "format" => "default",
        _ => "x",
    }
}

/// Flags AzCopy's help shows with a type (they take a value); the rest are booleans.
fn takes_value(flag: &str, type_word: Option<&str>) -> bool {
    sample(flag) != "x"
        || matches!(type_word, Some("string" | "float" | "uint" | "uint32" | "int" | "strings"))
        || flag == "hash-meta-dir"
        || HIDDEN_GLOBAL.contains(&flag) && flag != "skip-version-check" && flag != "cancel-from-stdin"
        || ["list-of-files", "include", "exclude", "identity-object-id"].contains(&flag)
}

/// The flags `azcopy COMMAND --help` lists (its own and those applying to all commands), each
/// with the type word after it, if any.
fn azcopy_flags(command: &str) -> BTreeMap<String, Option<String>> {
    let out = Command::new(ferry_testkit::tools::azcopy())
        .args(command.split(' '))
        .arg("--help")
        .output()
        .expect("the pinned AzCopy runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut flags = BTreeMap::new();
    let mut in_flags = false;
    for line in text.lines() {
        if line.starts_with("Flags") {
            in_flags = true;
            continue;
        }
        if !in_flags {
            continue;
        }
        let trimmed = line.trim_start();
        let trimmed = trimmed
            .strip_prefix("-h, ")
            .or_else(|| {
                trimmed.get(4..).filter(|_| trimmed.starts_with('-') && trimmed.as_bytes().get(1) != Some(&b'-'))
            })
            .unwrap_or(trimmed);
        if let Some(rest) = trimmed.strip_prefix("--") {
            let mut words = rest.split_whitespace();
            let name = words.next().unwrap().to_owned();
            let type_word = words.next().map(str::to_owned);
            if name != "help" {
                flags.insert(name, type_word);
            }
        }
    }
    flags
}

#[test]
#[allow(clippy::print_stderr)] // the per-command counts are the measurement
fn every_azcopy_flag_of_every_command_parses() {
    let mut counts = Vec::new();
    let mut failures = Vec::new();
    for (command, positionals) in COMMANDS {
        let mut flags = azcopy_flags(command);
        assert!(
            flags.len() >= 9 || command.starts_with("completion"),
            "`azcopy {command} --help` listed only {flags:?}"
        );
        let hidden = HIDDEN.iter().filter(|(c, _)| c == command).flat_map(|(_, f)| f.iter());
        for flag in HIDDEN_GLOBAL.iter().chain(hidden) {
            flags.insert((*flag).to_owned(), None);
        }
        for (flag, type_word) in &flags {
            let mut argv: Vec<String> = vec!["ferry".into()];
            argv.extend(command.split(' ').map(str::to_owned));
            argv.extend(positionals.iter().map(|p| (*p).to_owned()));
            if takes_value(flag, type_word.as_deref()) {
                argv.push(format!("--{flag}={}", sample(flag)));
            } else {
                argv.push(format!("--{flag}"));
            }
            if let Err(e) = Cli::try_parse_from(&argv) {
                failures.push(format!("{}: {}", argv.join(" "), e.to_string().lines().next().unwrap_or_default()));
            }
        }
        counts.push(format!("{command}: {}", flags.len()));
    }
    assert!(failures.is_empty(), "{} flags not recognised:\n{}", failures.len(), failures.join("\n"));
    eprintln!("flags recognised per command: {}", counts.join(", "));
}

/// A recognised flag whose subject Ferry lacks is refused before anything is done: exit 2, the
/// flag named, never "unexpected argument".
#[test]
fn flags_ferry_cannot_act_on_are_refused_by_name() {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("f"), b"data").unwrap();
    let dst = work.path().join("dst");
    for (args, says) in [
        (vec!["copy", "--recursive", "--backup"], "--backup works only on Windows"),
        (vec!["copy", "--recursive", "--include-attributes=A"], "--include-attributes works only on Windows"),
        (vec!["copy", "--recursive", "--hardlinks=preserve"], "--hardlinks applies to Azure Files NFS shares"),
        (vec!["copy", "--recursive", "--include=*.txt"], "--include and --exclude were removed"),
        (vec!["copy", "--recursive", "--request-priority=1"], "--request-priority is not supported yet"),
    ] {
        let mut cmd = common::ferry();
        cmd.args(&args[..1]).arg(&src).arg(&dst).args(&args[1..]);
        let (code, _, err) = run(&mut cmd);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("unexpected argument"), "{err}");
        assert!(!dst.exists(), "{args:?}: nothing is done");
    }
    let (code, out, err) = run(common::ferry().args(["copy"]).arg(&src).arg(&dst).args([
        "--recursive",
        "--trailing-dot=Disable",
        "--s2s-handle-invalid-metadata=RenameIfInvalid",
        "--hardlinks=follow",
        "--check-version",
        "--skip-version-check",
    ]));
    assert_eq!(code, 0, "flags that ask for nothing Ferry lacks are honoured: {err}{out}");
    assert_eq!(std::fs::read(dst.join("src/f")).unwrap(), b"data");
}

/// `--await-open` (AzCopy's debugging hook): the copy lists everything, says so, and opens no
/// file until a line `open` arrives; a file changed in between fails its item (an upload checks
/// that its source did not change since it was listed), and the others arrive.
#[tokio::test(flavor = "multi_thread")]
async fn await_open_pauses_between_the_listing_and_the_first_file() {
    use std::io::{BufRead as _, Write as _};
    let azurite = ferry_testkit::Azurite::shared();
    let container = azurite.new_container("await-open").await.container().to_owned();
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("kept.txt"), b"as listed").unwrap();
    std::fs::write(work.path().join("changed.txt"), b"as listed").unwrap();
    let mut child = common::ferry_with_key()
        .args(["copy", &format!("{}/*", work.path().display()), &azurite.container_url(&container), "--await-open"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let changed = work.path().join("changed.txt");
    let (code, said) = tokio::task::spawn_blocking(move || {
        let mut said = String::new();
        let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
        for line in lines.by_ref() {
            let line = line.unwrap();
            said.push_str(&line);
            said.push('\n');
            if line.contains("--await-open") {
                break;
            }
        }
        assert!(said.contains("listed 2 items; waiting for a line `open`"), "{said}");
        std::fs::write(&changed, b"changed after the listing").unwrap();
        writeln!(child.stdin.take().unwrap(), "open").unwrap();
        said.extend(lines.map(|l| l.unwrap() + "\n"));
        (child.wait().unwrap().code(), said)
    })
    .await
    .unwrap();
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("changed.txt") && said.contains("modified during the transfer"), "{said}");
    let blobs = common::blob_md5s(azurite, &container);
    assert_eq!(blobs.keys().collect::<Vec<_>>(), ["kept.txt"], "{said}");
}

/// Under the name `azcopy` (a link), `--version` answers as AzCopy does, with Ferry's version
/// as build metadata, and `-v` is the same.
#[test]
fn invoked_as_azcopy_the_version_is_azcopys_shape() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("azcopy");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_ferry"), &link).unwrap();
    for flag in ["--version", "-v"] {
        let out = Command::new(&link).arg(flag).output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(text.trim(), format!("azcopy version 10.32.2+ferry.{}", env!("CARGO_PKG_VERSION")));
    }
    let out = common::ferry().arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ferry version "));
    let usage = Command::new(&link).args(["copy", "--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&usage.stdout).contains("Usage: azcopy copy"));
}

/// The completion scripts and the documentation come from the one definition: bash completes
/// a command name through the generated function, and `doc` writes a page per command (Markdown
/// with examples, or man pages).
#[test]
fn completions_and_docs_are_generated_from_the_definition() {
    let ferry_bin = env!("CARGO_BIN_EXE_ferry");
    let script = format!(
        "source <('{ferry_bin}' completion bash) && COMP_WORDS=(ferry set-pr) && COMP_CWORD=1 && _ferry ferry set-pr ferry && echo \"${{COMPREPLY[@]}}\""
    );
    let out = Command::new("bash").arg("-c").arg(&script).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "set-properties set-props");
    for shell in ["zsh", "fish", "powershell"] {
        let (code, text, err) = run(common::ferry().args(["completion", shell]));
        assert_eq!(code, 0, "{err}");
        assert!(text.contains("set-properties") && text.contains("block-blob-tier"), "{shell}");
    }
    let (_, full, _) = run(common::ferry().args(["completion", "fish"]));
    let (_, bare, _) = run(common::ferry().args(["completion", "fish", "--no-descriptions"]));
    assert!(full.contains("Change everything under") && !bare.contains("Change everything under"));

    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(common::ferry().args(["doc", "--output-location"]).arg(dir.path()));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Wrote 32 pages"), "{out}");
    let page = std::fs::read_to_string(dir.path().join("ferry_set-properties.md")).unwrap();
    assert!(page.starts_with("## ferry set-properties\n") && page.contains("### Examples"), "{page}");
    let index = std::fs::read_to_string(dir.path().join("ferry.md")).unwrap();
    assert!(index.contains("(ferry_jobs.md)") && index.contains("(ferry_copy.md)"), "{index}");
    let (code, _, err) = run(common::ferry().args(["doc", "--format", "man", "--output-location"]).arg(dir.path()));
    assert_eq!(code, 0, "{err}");
    let man = std::fs::read_to_string(dir.path().join("ferry-jobs-resume.1")).unwrap();
    assert!(man.starts_with(".ie") || man.contains(".TH ferry-jobs-resume 1"), "{man}");
}

/// AzCopy's test hook `--debug-skip-files`: the copy is cancelled when its listing reaches the
/// named file, leaving a job that `jobs resume` finishes.
#[test]
fn debug_skip_files_cancels_a_job_that_resume_finishes() {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    std::fs::create_dir(&src).unwrap();
    for name in ["a", "b", "c", "d"] {
        std::fs::write(src.join(name), name.repeat(1000)).unwrap();
    }
    let dst = work.path().join("dst");
    let plans = work.path().join("plans");
    let ferry = || {
        let mut cmd = common::ferry();
        cmd.env("FERRY_JOB_PLAN_LOCATION", &plans);
        cmd
    };
    let (code, out, err) =
        run(ferry().args(["copy", &format!("{}/*", src.display())]).arg(&dst).arg("--debug-skip-files=c"));
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("was cancelled") && err.contains("ferry jobs resume"), "{err}");
    let id = common::job_id(&out);
    let (code, out, err) = run(ferry().args(["jobs", "resume", &id]));
    assert_eq!(code, 0, "{out}{err}");
    for name in ["a", "b", "c", "d"] {
        assert_eq!(std::fs::read(dst.join(name)).unwrap(), name.repeat(1000).into_bytes(), "{name}");
    }
}
