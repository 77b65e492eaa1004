//! The Azurite emulator, started once per test binary.
//!
//! It runs in memory on a free loopback port with `--loose`. A small watchdog shell process
//! stops it by its process id as soon as the test binary exits, so no emulator outlives its
//! tests even when they panic or are killed.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

pub use crate::ports::free_port;
use crate::ports::{NotUp, start_on_fresh_ports, wait_until_ready};

use ferry_azure::{
    AzureStore, BlobClient, Credential, DEVELOPMENT_ACCOUNT, DEVELOPMENT_KEY, HttpConfig, SasScope, SharedKey,
    service_sas,
};
use ferry_core::{BlobUrl, SasToken, Secret};
use ferry_store::Store;
use time::OffsetDateTime;

/// A running Azurite blob service.
#[derive(Debug)]
pub struct Azurite {
    port: u16,
    pid: u32,
    /// `http`, or `https` for an instance with a certificate (OAuth mode).
    scheme: &'static str,
}

/// The second account of [`Azurite::start_with_second_account`].
pub const SECOND_ACCOUNT: &str = "ferrysecond";

impl Azurite {
    /// The emulator shared by every test in this binary, started on first use.
    pub fn shared() -> &'static Azurite {
        static SHARED: OnceLock<Azurite> = OnceLock::new();
        SHARED.get_or_init(|| Azurite::start().unwrap_or_else(|e| panic!("cannot start Azurite: {e}")))
    }

    /// Starts a new emulator on a free port and waits until it answers.
    pub fn start() -> Result<Self, String> {
        Self::start_with(&[], "http", &[])
    }

    /// Starts an emulator with a second account, [`SECOND_ACCOUNT`] (same key as the first), for
    /// account-to-account copies: Azurite reads a server-side copy's source only from itself.
    pub fn start_with_second_account() -> Result<Self, String> {
        let accounts = format!("{DEVELOPMENT_ACCOUNT}:{DEVELOPMENT_KEY};{SECOND_ACCOUNT}:{DEVELOPMENT_KEY}");
        Self::start_with(&[], "http", &[("AZURITE_ACCOUNTS", accounts)])
    }

    /// Starts an emulator in `--oauth basic` mode over HTTPS, with `ca`'s server certificate: it
    /// accepts bearer tokens (checking their shape, times, issuer and audience, not signatures or
    /// roles) besides SAS and Shared Key.
    pub fn start_oauth(ca: &crate::entra::TestCa) -> Result<Self, String> {
        // It fetches a server-side copy's source from itself, trusting only the certificate it
        // presents: a self-signed one.
        let (cert, key) = (ca.self_signed.display().to_string(), ca.self_signed_key.display().to_string());
        Self::start_with(&["--oauth", "basic", "--cert", &cert, "--key", &key], "https", &[])
    }

    fn start_with(extra: &[&str], scheme: &'static str, env: &[(&str, String)]) -> Result<Self, String> {
        start_on_fresh_ports("Azurite", || Self::start_once(extra, scheme, env))
    }

    fn start_once(extra: &[&str], scheme: &'static str, env: &[(&str, String)]) -> Result<Self, NotUp> {
        let bin = crate::tools::azurite_bin();
        let port = free_port()?;
        let log = std::env::temp_dir().join(format!("ferry-azurite-{}-{port}.log", std::process::id()));
        let log_file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let mut child = Command::new(&bin)
            .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
            .args(["--inMemoryPersistence", "--silent", "--loose", "--skipApiVersionCheck", "--disableTelemetry"])
            .args(extra)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("NODE_OPTIONS", "--max-old-space-size=8192")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("{}: {e}", bin.display()))?;
        let pid = child.id();
        stop_with_this_process(pid, "Azurite")?;
        let ready = || {
            // Over TLS, a listening port is enough (the first request proves the rest).
            (scheme == "https" && TcpStream::connect(("127.0.0.1", port)).is_ok())
                || answers_http(port, &format!("/{DEVELOPMENT_ACCOUNT}?comp=list"))
        };
        wait_until_ready(&mut child, &format!("Azurite on port {port}"), &log, Duration::from_secs(60), ready)?;
        Ok(Self { port, pid, scheme })
    }

    /// Stops the emulator by its process id.
    pub fn stop(&self) {
        let _ = Command::new("kill").arg(self.pid.to_string()).status();
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// `http://127.0.0.1:PORT/devstoreaccount1` (`https://` in OAuth mode).
    pub fn account_url(&self) -> String {
        format!("{}://127.0.0.1:{}/{DEVELOPMENT_ACCOUNT}", self.scheme, self.port)
    }

    /// The URL of a container (no query).
    pub fn container_url(&self, container: &str) -> String {
        format!("{}/{container}", self.account_url())
    }

    /// The emulator account's shared key.
    pub fn shared_key(&self) -> SharedKey {
        SharedKey::new(DEVELOPMENT_ACCOUNT, &Secret::new(DEVELOPMENT_KEY)).expect("the development key is valid")
    }

    /// A client authorised with the shared key, retrying little so failures show fast.
    pub fn client(&self) -> BlobClient {
        self.client_with(Credential::SharedKey(self.shared_key()))
    }

    /// A client with `credential`.
    pub fn client_with(&self, credential: Credential) -> BlobClient {
        let mut config = HttpConfig::default();
        config.retry.max_retries = 2;
        BlobClient::new(config, credential).expect("a client builds")
    }

    /// A container name unique to this process, starting with `prefix`.
    pub fn unique_name(prefix: &str) -> String {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let clean: String =
            prefix.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
        let mut name = format!("{}-{}-{n}", clean.trim_matches('-'), std::process::id());
        name.truncate(63);
        name.trim_end_matches('-').to_owned()
    }

    /// Creates a new, empty container and returns a store for it (shared-key authorised).
    pub async fn new_container(&self, prefix: &str) -> AzureStore {
        let name = Self::unique_name(prefix);
        let url = BlobUrl::parse(&self.container_url(&name), false).expect("a valid container URL");
        let store = AzureStore::new(self.client(), &url).expect("a container store");
        store.create_root().await.unwrap_or_else(|e| panic!("cannot create container {name}: {e}"));
        store
    }

    /// A container SAS valid for an hour with `permissions`.
    pub fn container_sas(&self, container: &str, permissions: &str) -> SasToken {
        let expiry = OffsetDateTime::now_utc() + Duration::from_secs(3600);
        service_sas(&self.shared_key(), &SasScope::Container(container.to_owned()), permissions, expiry)
    }

    /// A container URL with a SAS, as a user would paste it.
    pub fn container_url_with_sas(&self, container: &str, permissions: &str) -> String {
        format!("{}?{}", self.container_url(container), self.container_sas(container, permissions).expose())
    }
}

/// Starts a watchdog that outlives the test binary and stops `pid` once the binary is gone, so
/// no server outlives its tests even when they panic or are killed.
pub fn stop_with_this_process(pid: u32, what: &str) -> Result<(), String> {
    let me = std::process::id();
    Command::new("sh")
        .arg("-c")
        .arg(format!("while kill -0 {me} 2>/dev/null; do sleep 0.5; done; kill {pid} 2>/dev/null"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(drop)
        .map_err(|e| format!("cannot start the {what} watchdog: {e}"))
}

/// Whether a server on 127.0.0.1:`port` answers a GET of `path` with an HTTP/1.1 status line
/// (any status: it is up).
pub(crate) fn answers_http(port: u16, path: &str) -> bool {
    let Ok(mut conn) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    let mut head = [0u8; 12];
    conn.write_all(request.as_bytes()).is_ok() && conn.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1")
}
