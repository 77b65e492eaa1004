//! Ctrl-C and SIGTERM while a job runs: the first cancels the job (it ends `Cancelled`, with its
//! resume hint); the second stops the process at once, which still leaves a job that resumes
//! (every journal change is a transaction).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ferry_report::Console;
use tokio::sync::Notify;

/// The interrupts of one process.
#[derive(Default)]
pub(crate) struct Interrupts {
    /// Set by the first interrupt: the running job's cancel flag.
    pub(crate) cancel: Arc<AtomicBool>,
    forced: Arc<Notify>,
}

/// Watches for interrupts until dropped.
pub(crate) struct Watch(tokio::task::JoinHandle<()>);

impl Drop for Watch {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Interrupts {
    /// Watches for interrupts while a job runs (until the returned guard is dropped). Commands
    /// that are not jobs do not watch, so an interrupt ends them as it ends any program.
    pub(crate) fn watch(&self, console: Console) -> Watch {
        let (cancel, forced) = (self.cancel.clone(), self.forced.clone());
        Watch(tokio::spawn(async move {
            wait_for_interrupt().await;
            cancel.store(true, Ordering::Relaxed);
            console.warn(
                "cancelling: no new file starts and files in flight stop at their next block; press Ctrl-C again to exit at once",
            );
            wait_for_interrupt().await;
            forced.notify_one();
        }))
    }

    /// Completes on a second interrupt.
    pub(crate) async fn forced(&self) {
        self.forced.notified().await;
    }
}

/// Waits for Ctrl-C or SIGTERM.
async fn wait_for_interrupt() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let term = async {
        match terminate.as_mut() {
            Some(signal) => {
                signal.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}

impl Interrupts {
    /// AzCopy's `--cancel-from-stdin`: a line `cancel` on standard input cancels the running job
    /// as a first Ctrl-C does (for callers that cannot send signals).
    pub(crate) fn cancel_from_stdin(&self, console: Console) {
        let cancel = self.cancel.clone();
        std::thread::spawn(move || {
            for line in std::io::stdin().lines() {
                let Ok(line) = line else { return };
                if line.trim().eq_ignore_ascii_case("cancel") {
                    cancel.store(true, Ordering::Relaxed);
                    console.warn("cancelling (`cancel` on standard input): no new file starts");
                    return;
                }
            }
        });
    }
}

/// A pause that ends at a line holding the word on standard input (AzCopy's `--await-open`).
pub(crate) struct StdinWord(pub(crate) &'static str);

impl ferry_job::Pause for StdinWord {
    fn wait(&self) -> futures::future::BoxFuture<'_, Result<(), String>> {
        Box::pin(async move { await_word(self.0).await.map_err(|e| e.message().to_owned()) })
    }
}

/// AzCopy's `--await-continue`: waits for a line `continue` on standard input.
pub(crate) async fn await_word(word: &'static str) -> Result<(), crate::CliError> {
    let found = tokio::task::spawn_blocking(move || {
        std::io::stdin().lines().map_while(Result::ok).any(|line| line.trim().eq_ignore_ascii_case(word))
    })
    .await
    .unwrap_or(false);
    if found {
        Ok(())
    } else {
        Err(crate::CliError::failed(format!("standard input ended before a line `{word}` (--await-{word})")))
    }
}
