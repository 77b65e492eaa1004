//! Local S3 servers for tests, from the pinned Python tools: moto (keeps every key byte for byte,
//! checks no signature) and SeaweedFS (checks SigV4 signatures and presigned URLs' expiry, but
//! folds `a//b` into `a/b`). Each runs in memory or a temporary folder on loopback ports and is
//! stopped with the test binary.

use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use crate::azurite::{answers_http, stop_with_this_process};
use crate::ports::{NotUp, free_port, start_on_fresh_ports, wait_until_ready};

/// The key pair both servers accept (moto any; SeaweedFS this one only).
pub const ACCESS_KEY: &str = "ferrytestkey";
/// The secret of [`ACCESS_KEY`].
pub const SECRET_KEY: &str = "ferrytestsecret";

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// moto's server: byte-exact keys, no signature checks.
    Moto,
    /// SeaweedFS (`weed mini`): checks signatures and presign expiry.
    Seaweed,
}

/// A running S3 server.
#[derive(Debug)]
pub struct S3Server {
    flavor: Flavor,
    port: u16,
    pid: u32,
    _dir: Option<tempfile::TempDir>,
}

impl S3Server {
    /// The moto server shared by every test in this binary.
    pub fn moto() -> &'static S3Server {
        static SHARED: OnceLock<S3Server> = OnceLock::new();
        SHARED.get_or_init(|| Self::start(Flavor::Moto).unwrap_or_else(|e| panic!("cannot start moto: {e}")))
    }

    /// The SeaweedFS server shared by every test in this binary.
    pub fn seaweed() -> &'static S3Server {
        static SHARED: OnceLock<S3Server> = OnceLock::new();
        SHARED.get_or_init(|| Self::start(Flavor::Seaweed).unwrap_or_else(|e| panic!("cannot start SeaweedFS: {e}")))
    }

    /// Starts a new server and waits until it answers.
    pub fn start(flavor: Flavor) -> Result<Self, String> {
        start_on_fresh_ports(&format!("{flavor:?}"), || Self::start_once(flavor))
    }

    fn start_once(flavor: Flavor) -> Result<Self, NotUp> {
        let venv = crate::tools::tools_dir().join("venv/bin");
        let port = free_port()?;
        let log = std::env::temp_dir().join(format!("ferry-s3-{flavor:?}-{}-{port}.log", std::process::id()));
        let log_file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let (mut command, dir) = match flavor {
            Flavor::Moto => {
                let mut c = Command::new(venv.join("moto_server"));
                c.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
                (c, None)
            }
            Flavor::Seaweed => {
                let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
                let config = dir.path().join("s3.json");
                let identities = format!(
                    r#"{{"identities":[{{"name":"ferry","credentials":[{{"accessKey":"{ACCESS_KEY}","secretKey":"{SECRET_KEY}"}}],"actions":["Admin","Read","List","Tagging","Write"]}}]}}"#
                );
                std::fs::write(&config, identities).map_err(|e| e.to_string())?;
                let mut c = Command::new(venv.join("weed"));
                c.arg("mini").arg(format!("-dir={}", dir.path().join("data").display()));
                c.args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-master.telemetry=false", "-webdav=false"]);
                c.args(["-admin.ui=false", "-metricsPort=0", "-s3.port.iceberg=0", "-s3.port.lance=0"]);
                for (flag, grpc) in
                    [("master.port", true), ("volume.port", true), ("filer.port", true), ("s3.port", false)]
                {
                    let p = if flag == "s3.port" { port } else { free_port()? };
                    c.arg(format!("-{flag}={p}"));
                    if grpc {
                        c.arg(format!("-{flag}.grpc={}", free_port()?));
                    }
                }
                c.arg(format!("-s3.port.grpc={}", free_port()?));
                c.arg(format!("-s3.config={}", config.display()));
                (c, Some(dir))
            }
        };
        let mut child = command
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("{flavor:?}: {e}"))?;
        stop_with_this_process(child.id(), "S3 server")?;
        let what = format!("{flavor:?} on port {port}");
        wait_until_ready(&mut child, &what, &log, Duration::from_secs(90), || answers_http(port, "/"))?;
        Ok(Self { flavor, port, pid: child.id(), _dir: dir })
    }

    /// Which server this is.
    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// The S3 port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The endpoint, `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The path-style URL of `bucket` (and `path` in it).
    pub fn url(&self, bucket: &str, path: &str) -> String {
        format!("{}/{bucket}/{path}", self.endpoint())
    }

    /// A bucket name not used before in this process (S3 names: lower case, digits, dashes).
    pub fn unique_bucket(prefix: &str) -> String {
        crate::Azurite::unique_name(prefix)
    }

    /// Runs Python `body` with `s3`, a boto3 client of this server (path-style, the test key),
    /// and `bucket`; returns what it printed. boto3 is an independent S3 client.
    pub fn python(&self, bucket: &str, body: &str) -> String {
        let script = format!(
            "import sys, boto3\nfrom botocore.config import Config\n\
             s3 = boto3.client('s3', endpoint_url=sys.argv[1], aws_access_key_id='{ACCESS_KEY}', aws_secret_access_key='{SECRET_KEY}', region_name='us-east-1', config=Config(s3={{'addressing_style': 'path'}}, signature_version='s3v4'))\n\
             bucket = sys.argv[2]\n{body}"
        );
        let out = Command::new(crate::tools::python())
            .args(["-c", &script, &self.endpoint(), bucket])
            .output()
            .expect("python runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("UTF-8")
    }

    /// Makes `bucket` and puts `objects` (key → bytes) in it with boto3.
    pub fn bucket_with(&self, bucket: &str, objects: &[(&str, &[u8])]) {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let mut puts = String::from("s3.create_bucket(Bucket=bucket)\n");
        for (i, (key, data)) in objects.iter().enumerate() {
            let file = dir.path().join(i.to_string());
            std::fs::write(&file, data).expect("the object's bytes are written");
            puts.push_str(&format!(
                "s3.put_object(Bucket=bucket, Key={key:?}, Body=open({:?}, 'rb').read())\n",
                file.display().to_string()
            ));
        }
        self.python(bucket, &puts);
    }
}
