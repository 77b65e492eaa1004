//! The `ferry` binary: parse the command line, start the runtime, run, exit with the status.

use std::process::ExitCode;

fn main() -> ExitCode {
    // Usage errors exit 2 and `--help`/`--version` exit 0 here, before any work starts.
    let cli = ferry_cli::Cli::parse_invoked();
    ferry_cli::init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            ferry_report_fallback(&format!("error: cannot start the async runtime: {e}"));
            return ExitCode::from(ferry_cli::ExitStatus::Failure.code());
        }
    };
    let status = runtime.block_on(ferry_cli::run(cli));
    // A prompt may still be waiting on standard input in a blocking thread (after a second
    // Ctrl-C): do not wait for it.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    ExitCode::from(status.code())
}

/// The one message printed before a reporter exists.
fn ferry_report_fallback(message: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{message}");
}
