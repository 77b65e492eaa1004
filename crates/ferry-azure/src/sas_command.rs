//! SAS tokens that outlive the job: a command (`--source-sas-command`, `--destination-sas-command`)
//! prints a fresh SAS, and Ferry runs it before the current one expires (at half its life, or
//! five minutes before, whichever is sooner) and once more when the service refuses the current
//! one, then replays the refused request: no item fails because a SAS ran out.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use ferry_core::{ErrorKind, SasToken, StoreError};
use ferry_http::{Expiring, TokenCache};

/// Renew this long before expiry at the latest.
const RENEW_BEFORE: Duration = Duration::from_secs(5 * 60);
/// A command gets this long to print a SAS.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// A SAS, renewed by a command.
#[derive(Debug)]
pub struct SasCommand {
    command: String,
    /// `source` or `destination`, for messages.
    role: &'static str,
    cache: TokenCache<SasToken>,
    runs: AtomicU32,
}

/// When a SAS expires (its `se=`), as an instant; an hour from now when it says nothing.
fn expiry_of(sas: &SasToken) -> Instant {
    use time::format_description::well_known::Rfc3339;
    let left = sas
        .expiry()
        .and_then(|se| time::OffsetDateTime::parse(&se, &Rfc3339).ok())
        .map(|at| at - time::OffsetDateTime::now_utc());
    match left {
        Some(left) if left.is_negative() => Instant::now(),
        Some(left) => Instant::now() + Duration::try_from(left).unwrap_or(Duration::ZERO),
        None => Instant::now() + Duration::from_secs(3600),
    }
}

impl SasCommand {
    /// Renews the `role`'s SAS with `command` (run by `sh -c`), starting from `initial` (the SAS
    /// the URL carried, if any).
    pub fn new(command: &str, role: &'static str, initial: Option<SasToken>) -> Arc<Self> {
        let renewer =
            Self { command: command.to_owned(), role, cache: TokenCache::new(RENEW_BEFORE), runs: AtomicU32::new(0) };
        if let Some(sas) = initial {
            renewer.cache.seed(Expiring { expires_at: expiry_of(&sas), value: sas });
        }
        Arc::new(renewer)
    }

    /// How many times the command has run.
    pub fn runs(&self) -> u32 {
        self.runs.load(Ordering::Relaxed)
    }

    /// The SAS to use now (renewed first when it is due).
    pub async fn current(&self) -> Result<SasToken, StoreError> {
        self.cache.get(|| self.mint()).await
    }

    /// The service refused the current SAS: the next request gets a new one.
    pub fn invalidate(&self) {
        self.cache.invalidate();
    }

    /// Runs the command and reads the SAS it prints (a query string, with or without `?`, or a
    /// whole URL).
    async fn mint(&self) -> Result<Expiring<SasToken>, StoreError> {
        let failed = |why: String| {
            StoreError::new(ErrorKind::Unauthenticated, format!("the {} SAS command", self.role), why)
                .with_hint(format!("the command given to --{}-sas-command must print a SAS and exit 0", self.role))
        };
        self.runs.fetch_add(1, Ordering::Relaxed);
        let run = tokio::process::Command::new("sh").arg("-c").arg(&self.command).kill_on_drop(true).output();
        let out = tokio::time::timeout(COMMAND_TIMEOUT, run)
            .await
            .map_err(|_| failed(format!("it printed no SAS within {} s", COMMAND_TIMEOUT.as_secs())))?
            .map_err(|e| failed(format!("it cannot be run: {e}")))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let first = ferry_core::redact_text(stderr.lines().next().unwrap_or_default());
            return Err(failed(format!("it exited with {}: {first}", out.status)));
        }
        let printed = String::from_utf8_lossy(&out.stdout);
        let text = printed.trim();
        let query = text.split_once('?').map_or(text, |(_, q)| q);
        let sas = SasToken::parse(query).ok_or_else(|| failed("what it printed is not a SAS (no sig=)".into()))?;
        tracing::info!(role = self.role, "renewed the SAS with its command");
        Ok(Expiring { expires_at: expiry_of(&sas), value: sas })
    }
}
