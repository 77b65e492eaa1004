//! `--overwrite prompt` and `--delete-destination prompt`: ask on the terminal before replacing or
//! deleting each destination object.

use std::io::BufRead;

use ferry_report::Console;
use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::sync::Mutex;

/// Asks one question at a time on standard error and reads the answer from standard input:
/// `y` yes, `n` no, `a` yes to all, `l` no to all. The end of input means no to all, so an
/// unattended run never replaces anything it was not told to.
pub(crate) struct StdinPrompt {
    console: Console,
    /// The answer for all remaining questions, once the user gave one.
    for_all: Mutex<Option<bool>>,
}

impl StdinPrompt {
    pub(crate) fn new(console: Console) -> Self {
        Self { console, for_all: Mutex::new(None) }
    }
}

/// Reads one answer: `Some(yes, for_all)`, or `None` at the end of input.
fn read_answer() -> Option<(bool, bool)> {
    let stdin = std::io::stdin();
    loop {
        let mut line = String::new();
        if stdin.lock().read_line(&mut line).ok()? == 0 {
            return None;
        }
        match line.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" => return Some((true, false)),
            "n" | "no" => return Some((false, false)),
            "a" | "all" => return Some((true, true)),
            "l" | "none" => return Some((false, true)),
            _ => {}
        }
    }
}

impl StdinPrompt {
    /// Asks `question` (unless the user already answered for all) and returns yes or no.
    pub(crate) async fn confirm(&self, question: &str) -> bool {
        let mut for_all = self.for_all.lock().await;
        if let Some(answer) = *for_all {
            return answer;
        }
        self.console.ask(&format!("{question} Please confirm with: [Y] Yes [N] No [A] Yes for all [L] No for all: "));
        match tokio::task::spawn_blocking(read_answer).await.ok().flatten() {
            Some((yes, true)) => {
                *for_all = Some(yes);
                yes
            }
            Some((yes, false)) => yes,
            None => {
                *for_all = Some(false);
                false
            }
        }
    }
}

impl ferry_job::Prompt for StdinPrompt {
    fn confirm<'a>(&'a self, question: &'a str) -> BoxFuture<'a, bool> {
        StdinPrompt::confirm(self, question).boxed()
    }
}
