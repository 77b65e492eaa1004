//! Microsoft Entra ID sign-in, tested on one machine: a test certificate authority (made with the
//! system `openssl`), Azurite in `--oauth basic` mode over HTTPS with a certificate from it, and
//! a loopback stand-in for Entra's token endpoints (`entra_stand_in.py`, beside this crate's
//! manifest) that mints tokens Azurite accepts and logs every request it was asked.
//!
//! Ferry, AzCopy and the Python SDK trust the test CA through `SSL_CERT_FILE` (their own
//! processes'); nothing here changes this process's environment.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

/// A certificate authority and a server certificate for `127.0.0.1` and `localhost`, and a
/// self-signed one for Azurite (which pins the certificate it presents when it fetches a
/// server-side copy's source from itself, so its chain must be that one certificate).
#[derive(Debug)]
pub struct TestCa {
    _dir: tempfile::TempDir,
    /// The CA certificate and the self-signed one (what `SSL_CERT_FILE` names).
    pub ca: PathBuf,
    /// The server certificate, signed by the CA.
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
    /// A self-signed server certificate.
    pub self_signed: PathBuf,
    /// Its private key.
    pub self_signed_key: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) -> Result<(), String> {
    let out = Command::new("openssl").args(args).current_dir(dir).output().map_err(|e| format!("openssl: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("openssl {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr)))
    }
}

impl TestCa {
    /// Makes a new CA and server certificate (P-256 keys, valid for two days).
    pub fn generate() -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let d = dir.path();
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        let mut ca_args = vec!["req", "-x509"];
        ca_args.extend(ec);
        ca_args.extend([
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=Ferry test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        openssl(d, &ca_args)?;
        let mut csr_args = vec!["req"];
        csr_args.extend(ec);
        csr_args.extend(["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]);
        openssl(d, &csr_args)?;
        std::fs::write(
            d.join("server.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .map_err(|e| e.to_string())?;
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.pem",
                "-days",
                "2",
                "-extfile",
                "server.ext",
            ],
        )?;
        let mut own = vec!["req", "-x509"];
        own.extend(ec);
        own.extend([
            "-keyout",
            "own.key",
            "-out",
            "own.pem",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ]);
        openssl(d, &own)?;
        let bundle = [std::fs::read_to_string(d.join("ca.pem")), std::fs::read_to_string(d.join("own.pem"))];
        let bundle: Vec<String> = bundle.into_iter().collect::<Result<_, _>>().map_err(|e| e.to_string())?;
        std::fs::write(d.join("trusted.pem"), bundle.concat()).map_err(|e| e.to_string())?;
        Ok(Self {
            ca: d.join("trusted.pem"),
            cert: d.join("server.pem"),
            key: d.join("server.key"),
            self_signed: d.join("own.pem"),
            self_signed_key: d.join("own.key"),
            _dir: dir,
        })
    }
}

/// How the stand-in answers.
#[derive(Debug, Clone)]
pub struct StandInOptions {
    /// Lifetime of the tokens it issues, in seconds.
    pub lifetime: i64,
    /// The client secret it accepts (any, when `None`).
    pub secret: Option<String>,
    /// The `X-IDENTITY-HEADER` the App Service endpoint wants.
    pub identity_header: String,
    /// Token requests answered 503/500 before it starts issuing.
    pub fail_first: u32,
}

impl Default for StandInOptions {
    fn default() -> Self {
        Self { lifetime: 3600, secret: None, identity_header: "test-identity-header".into(), fail_first: 0 }
    }
}

/// A running Entra stand-in: HTTPS for the authority, HTTP for the managed identity endpoints.
#[derive(Debug)]
pub struct EntraStandIn {
    child: Child,
    dir: tempfile::TempDir,
    https: u16,
    http: u16,
    /// The tenant id in the tokens it issues.
    pub tenant: String,
}

impl EntraStandIn {
    /// Starts one serving TLS with `ca`'s server certificate.
    pub fn start(ca: &TestCa, options: &StandInOptions) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let log = dir.path().join("requests.jsonl");
        let (lifetime, fail_first) = (options.lifetime.to_string(), options.fail_first.to_string());
        let os = std::ffi::OsStr::new;
        let mut args = vec![os("--cert"), ca.cert.as_os_str(), os("--key"), ca.key.as_os_str()];
        args.extend([os("--log"), log.as_os_str(), os("--lifetime"), os(&lifetime)]);
        args.extend([os("--fail-first"), os(&fail_first), os("--identity-header"), os(&options.identity_header)]);
        if let Some(secret) = &options.secret {
            args.extend([os("--secret"), os(secret)]);
        }
        let (child, json) = crate::tools::start_stand_in("entra_stand_in.py", &args, dir.path())?;
        let port = |name: &str| json[name].as_u64().and_then(|p| u16::try_from(p).ok()).unwrap_or_default();
        let tenant = json["tenant"].as_str().unwrap_or_default().to_owned();
        Ok(Self { https: port("https"), http: port("http"), tenant, child, dir })
    }

    /// The authority host (`AZCOPY_ACTIVE_DIRECTORY_ENDPOINT`, `AZURE_AUTHORITY_HOST`).
    pub fn authority(&self) -> String {
        format!("https://127.0.0.1:{}", self.https)
    }

    /// The App Service managed identity endpoint (`IDENTITY_ENDPOINT`).
    pub fn identity_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/msi/token", self.http)
    }

    /// The IMDS host (`AZURE_POD_IDENTITY_AUTHORITY_HOST`).
    pub fn imds_host(&self) -> String {
        format!("http://127.0.0.1:{}", self.http)
    }

    /// A folder holding stand-ins for `az` and `pwsh` (put it first on `PATH`): signed-in
    /// developer tools that hand out this stand-in's managed-identity tokens in their own output
    /// shapes (`stand_ins/developer_tool.py`), logging their arguments for [`Self::tool_calls`].
    pub fn developer_tools(&self) -> Result<PathBuf, String> {
        use std::os::unix::fs::PermissionsExt as _;
        let bin = self.dir.path().join("bin");
        std::fs::create_dir_all(&bin).map_err(|e| e.to_string())?;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("stand_ins").join("developer_tool.py");
        for tool in ["az", "pwsh"] {
            let path = bin.join(tool);
            let text = format!(
                "#!/bin/sh\nexec '{}' '{}' {tool} '{}' '{}' \"$@\"\n",
                crate::tools::python().display(),
                script.display(),
                self.imds_host(),
                self.dir.path().join("tools.jsonl").display()
            );
            std::fs::write(&path, text).map_err(|e| e.to_string())?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).map_err(|e| e.to_string())?;
        }
        Ok(bin)
    }

    /// The developer-tool stand-ins' calls so far: `{"tool": "az", "args": [...]}` each.
    pub fn tool_calls(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.dir.path().join("tools.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Every request it was asked so far, one JSON object each (secrets replaced by lengths).
    pub fn requests(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.dir.path().join("requests.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

impl Drop for EntraStandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
