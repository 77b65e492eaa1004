//! One module per command: build the spec from the flags, run it through `ferry-job` with the
//! terminal's reporter, return the result. No command module imports another.

mod bench;
mod copy;
mod doc;
mod env;
mod evidence;
mod jobs;
mod list;
mod login;
mod make;
mod prompt;
mod remove;
mod serve;
mod set_properties;
mod shards;
mod sync;
mod verify;

use std::sync::Arc;

use ferry_core::{BlobUrl, Location, LocationHint, SasToken, Secret};
use ferry_job::{Fanout, JobContext, JobSpec, Limits, Secrets, StateDirs};
use ferry_report::{Console, JobLogEvents, OutputLevel, TerminalEvents};

use crate::signals::Interrupts;
use crate::{CliError, Command, Environment, Settings};

/// What every command runs with.
pub struct Ctx<'a> {
    /// Resolved settings.
    pub settings: &'a Settings,
    /// The environment snapshot.
    pub env: &'a Environment,
    /// The terminal.
    pub console: &'a Console,
    pub(crate) interrupts: &'a Interrupts,
    /// The auto-login token source (`AZCOPY_AUTO_LOGIN_TYPE`), or why it cannot be made; an
    /// error surfaces only in commands that need credentials.
    pub(crate) token: Result<Option<Arc<dyn ferry_azure::TokenSource>>, CliError>,
    /// The metrics served while the command runs (`--metrics-addr`).
    pub(crate) metrics: Option<Arc<ferry_metrics::Metrics>>,
}

impl Ctx<'_> {
    /// The context a job runs with: the settings' limits and folders, the environment's
    /// credentials plus `sas` (source, destination), events to the terminal and the job log,
    /// and the terminal to ask.
    pub(crate) fn job(&self, sas: [Option<SasToken>; 2]) -> Result<JobContext, CliError> {
        let (settings, env) = (self.settings, self.env);
        let [source_sas, destination_sas] = sas;
        let (aws, aws_problem) = match ferry_s3::credentials::from_environment(&|n| env.get(n).map(str::to_owned)) {
            Ok(pair) => (pair, None),
            Err(problem) => (None, Some(problem)),
        };
        let secrets = Secrets {
            source_sas,
            destination_sas,
            connection_string: env.get("AZURE_STORAGE_CONNECTION_STRING").map(Secret::new),
            account: env.get("AZURE_STORAGE_ACCOUNT").map(str::to_owned),
            account_key: env.get("AZURE_STORAGE_KEY").map(Secret::new),
            token: self.token.clone()?,
            trusted_suffixes: settings.trusted_suffixes.clone(),
            source_sas_command: settings.source_sas_command.clone(),
            destination_sas_command: settings.destination_sas_command.clone(),
            cpk: None,
            aws,
            aws_problem,
            aws_region: ["AWS_REGION", "AWS_DEFAULT_REGION"]
                .iter()
                .find_map(|n| env.get(n).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)),
            gcs: ferry_gcs::credentials::GcsEnvironment::from_env(&|n| env.get(n).map(str::to_owned)),
        };
        let events = Fanout(vec![Arc::new(TerminalEvents::new(*self.console)), Arc::new(JobLogEvents)]);
        Ok(JobContext {
            cancel: self.interrupts.cancel.clone(),
            events: Arc::new(events),
            limits: Limits {
                objects_in_flight: settings.transfer.objects_in_flight,
                requests_in_flight: settings.transfer.requests_in_flight,
                buffer_bytes: settings.transfer.buffer_bytes,
                cap_mbps: settings.cap_mbps,
                presign_seconds: env.get("FERRY_PRESIGN_SECONDS").and_then(|v| v.trim().parse().ok()),
            },
            dirs: StateDirs {
                plans: settings.plan_dir.clone(),
                logs: settings.log_dir.clone(),
                log_level: settings.log_level.into(),
                log_cap: settings.log_cap,
            },
            http: settings.http.clone(),
            cancel_at: settings.cancel_at.clone(),
            await_open: settings
                .await_open
                .then(|| Arc::new(crate::signals::StdinWord("open")) as Arc<dyn ferry_job::Pause>),
            secrets,
            allow_plain_http: env
                .get("FERRY_ALLOW_HTTP")
                .is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes")),
            prompt: Some(Arc::new(prompt::StdinPrompt::new(*self.console))),
            metrics: self.metrics.clone(),
        })
    }

    /// Runs a new job, watching for Ctrl-C while it runs.
    pub(crate) async fn run_job(&self, spec: &JobSpec, sas: [Option<SasToken>; 2]) -> Result<(), CliError> {
        let job = self.job_for(spec, sas)?;
        let _watch = self.interrupts.watch(*self.console);
        ferry_job::run(spec, &job).await
    }

    /// The context `spec` runs with: [`Self::job`], with its customer-provided encryption
    /// resolved (the key read from `CPK_ENCRYPTION_KEY` now, never from the journal).
    pub(crate) fn job_for(&self, spec: &JobSpec, sas: [Option<SasToken>; 2]) -> Result<JobContext, CliError> {
        let mut job = self.job(sas)?;
        job.secrets.cpk = match &spec.encryption {
            None => None,
            Some(ferry_job::Encryption::Scope(scope)) => Some(ferry_azure::Cpk::Scope(scope.clone())),
            Some(ferry_job::Encryption::KeyFromEnvironment) => {
                let key = self.env.get("CPK_ENCRYPTION_KEY").ok_or_else(|| {
                    CliError::usage("--cpk-by-value needs the key in CPK_ENCRYPTION_KEY (base64 of 32 bytes)")
                })?;
                let cpk = ferry_azure::Cpk::key(key, self.env.get("CPK_ENCRYPTION_KEY_SHA256"))
                    .map_err(|e| CliError::usage(e).with_hint("give the base64 of a 32-byte AES-256 key"))?;
                Some(cpk)
            }
        };
        Ok(job)
    }

    /// Refuses a flag that asks questions or prints a plan when output is turned down.
    pub(crate) fn needs_full_output(&self, asks: bool, what: &str) -> Result<(), CliError> {
        if asks && self.settings.output_level != OutputLevel::Default {
            return Err(CliError::usage(format!(
                "{what}, so it cannot be combined with --output-level essential or quiet"
            )));
        }
        Ok(())
    }
}

/// The command line as shown in the job log (secrets redacted).
fn display_command() -> String {
    std::env::args().map(|a| ferry_core::redact_text(&a)).collect::<Vec<_>>().join(" ")
}

/// Runs one command.
pub async fn dispatch(command: &Command, ctx: &Ctx<'_>) -> Result<(), CliError> {
    match command {
        Command::Copy(args) => copy::run(args, ctx).await,
        Command::Sync(args) => sync::run(args, ctx).await,
        Command::Verify(args) => verify::run(args, ctx).await,
        Command::Remove(args) => remove::run(args, ctx).await,
        Command::SetProperties(args) => set_properties::run(args, ctx).await,
        Command::List(args) => list::run(args, ctx).await,
        Command::Make(args) => make::run(args, ctx).await,
        Command::Env(args) => env::run(args, ctx.console),
        Command::Bench(args) => bench::run(args, ctx).await,
        Command::Serve(args) => serve::run(args, ctx).await,
        Command::Jobs(command) => jobs::run(command, ctx).await,
        Command::Shards(command) => shards::run(command, ctx).await,
        Command::Login(args) => login::run(args, ctx).await,
        Command::Logout => login::logout(ctx),
        Command::Completion(shell) => doc::completion(shell, ctx),
        Command::Doc(args) => doc::doc(args, ctx),
    }
}

/// Parses an argument that must be a Blob URL, for commands that work only on Blob.
fn blob_url(text: &str, hint: LocationHint, command: &str) -> Result<BlobUrl, CliError> {
    match Location::parse(text, hint)? {
        Location::Blob(url) => Ok(url),
        Location::Local(path) => {
            Err(CliError::usage(format!("`ferry {command}` works on Blob URLs, but `{path}` is a local path"))
                .with_hint("give a URL such as https://ACCOUNT.blob.core.windows.net/CONTAINER?SAS"))
        }
        Location::Files(url) => {
            Err(CliError::usage(format!("`ferry {command}` works on Blob URLs, but `{url}` is Azure Files"))
                .with_hint("give a URL such as https://ACCOUNT.blob.core.windows.net/CONTAINER?SAS"))
        }
        other @ (Location::S3(_) | Location::Gcs(_)) => {
            let service = if other.kind() == ferry_core::LocationKind::S3 { "S3" } else { "Google Cloud Storage" };
            Err(CliError::usage(format!("`ferry {command}` works on Blob URLs, but `{other}` is {service}"))
                .with_hint("give a URL such as https://ACCOUNT.blob.core.windows.net/CONTAINER?SAS"))
        }
    }
}

/// `spec` writing its evidence to `file` when it ends (`--evidence`), the path made absolute so
/// a resume from elsewhere writes it to the same place.
fn with_evidence(mut spec: JobSpec, file: Option<&std::path::Path>) -> Result<JobSpec, CliError> {
    if let Some(file) = file {
        let cwd =
            std::env::current_dir().map_err(|e| CliError::failed(format!("cannot read the working folder: {e}")))?;
        spec.evidence = Some(cwd.join(file));
    }
    Ok(spec)
}
