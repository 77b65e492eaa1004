//! Errors, help and the small commands, end to end: one clear message, the documented exit
//! code, nothing leaked.

mod common;

use common::{ferry, ferry_with_key, run};
use ferry_testkit::Azurite;

#[test]
fn usage_errors_exit_2_and_say_what_is_wrong() {
    let cases: [(&[&str], &str); 7] = [
        (&["list", "ftp://host/x"], "`ftp://` scheme is not supported"),
        (&["list", "./local/dir"], "works on Blob URLs"),
        (&["list", "https://acct.blob.core.windows.net/Bad_Name"], "not a valid container name"),
        (&["list", "https://files.example.com/box"], "--from-to"),
        (&["list", "http://127.0.0.1:1/"], "name the account"),
        (&["list", "https://a.blob.core.windows.net/box", "--properties", "Colour"], "unknown property `Colour`"),
        (&["make", "https://a.blob.core.windows.net/box/blob.txt"], "creates containers"),
    ];
    for (args, expected) in cases {
        let (code, out, err) = run(ferry().args(args));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?} printed to stdout: {out}");
        assert_eq!(err.matches("error:").count(), 1, "one message: {err}");
    }
}

#[test]
fn unknown_flags_and_bad_environment_are_usage_errors() {
    let (code, _, err) = run(ferry().args(["list", "https://a.blob.core.windows.net/box", "--bogus"]));
    assert_eq!(code, 2);
    assert!(err.contains("--bogus"), "{err}");
    let (code, _, err) =
        run(ferry().env("FERRY_MAX_RETRIES", "lots").args(["list", "https://a.blob.core.windows.net/box"]));
    assert_eq!(code, 2);
    assert!(err.contains("FERRY_MAX_RETRIES"), "{err}");
}

#[test]
fn a_refused_connection_names_the_endpoint_and_hides_the_signature() {
    let port = ferry_testkit::azurite::free_port().unwrap();
    let url = format!("http://127.0.0.1:{port}/devstoreaccount1/box?sv=2022-11-02&sig=TOPSECRETSIG");
    let (code, out, err) = run(ferry().args(["list", &url]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("Connection refused") || err.contains("connection failed"), "{err}");
    assert!(err.contains(&format!("hint: could not connect to http://127.0.0.1:{port}")), "{err}");
    assert!(!err.contains("TOPSECRETSIG") && !out.contains("TOPSECRETSIG"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_container_fails_with_a_hint_to_make_it() {
    let azurite = Azurite::shared();
    let (code, _, err) = run(ferry_with_key().args(["list", &azurite.container_url("never-made")]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("never-made") && err.contains("ContainerNotFound"), "{err}");
    assert!(err.contains("hint:") && err.contains("ferry make"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_key_is_an_authentication_failure() {
    let azurite = Azurite::shared();
    let store = azurite.new_container("wrongkeycli").await;
    let (code, _, err) = run(ferry()
        .env("AZURE_STORAGE_ACCOUNT", "devstoreaccount1")
        .env("AZURE_STORAGE_KEY", "d3JvbmcgYnV0IHZhbGlkIGJhc2U2NA==")
        .args(["list", &azurite.container_url(store.container())]));
    assert_eq!(code, 1);
    assert!(err.contains("authentication failed"), "{err}");
    assert!(err.contains("authenticated with the account key in AZURE_STORAGE_KEY"), "{err}");
    assert!(!err.contains("d3JvbmcgYnV0"), "the key is never printed: {err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn make_creates_a_container_and_refuses_an_existing_one() {
    let azurite = Azurite::shared();
    let name = Azurite::unique_name("made");
    let url = azurite.container_url(&name);
    let (code, out, err) = run(ferry_with_key().args(["make", &url]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "Successfully created the resource.\n");
    let (code, out, _) = run(ferry_with_key().args(["list", &url, "--running-tally"]));
    assert_eq!(code, 0);
    assert!(out.contains("File count: 0"), "the new container is there and empty: {out}");
    let (code, _, err) = run(ferry_with_key().args(["mk", &url]));
    assert_eq!(code, 1);
    assert!(err.contains(&format!("the container `{name}` already exists")), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
}

#[test]
fn env_lists_variables_and_redacts_secrets() {
    let (code, out, _) =
        run(ferry().env("AZURE_STORAGE_KEY", "SUPERSECRETKEY").env("AZURE_STORAGE_ACCOUNT", "myaccount").arg("env"));
    assert_eq!(code, 0);
    for var in ferry_cli::ENV_VARS {
        assert!(out.contains(&format!("INFO: Name: {}\n", var.name)), "{}", var.name);
    }
    assert!(out.contains("Name: AZURE_STORAGE_KEY\nCurrent Value: REDACTED\n"), "{out}");
    assert!(out.contains("Name: AZURE_STORAGE_ACCOUNT\nCurrent Value: myaccount\n"), "{out}");
    assert!(!out.contains("SUPERSECRETKEY"));
    let (_, shown, _) = run(ferry().env("AZURE_STORAGE_KEY", "SUPERSECRETKEY").args(["env", "--show-sensitive"]));
    assert!(shown.contains("Current Value: SUPERSECRETKEY"));
}

#[test]
fn version_and_help_work_for_every_command() {
    let (code, out, _) = run(ferry().arg("--version"));
    assert_eq!(code, 0);
    assert_eq!(out.trim(), format!("ferry version {} (AzCopy 10.32.2 command surface)", env!("CARGO_PKG_VERSION")));
    let (code, out, _) = run(ferry().arg("help"));
    assert_eq!(code, 0);
    for command in ["list", "make", "env"] {
        assert!(out.contains(command), "`ferry help` names {command}");
        let (code, help, _) = run(ferry().args([command, "--help"]));
        assert_eq!(code, 0, "{command} --help");
        assert!(help.contains("Examples:"), "{command} --help has examples");
    }
}
