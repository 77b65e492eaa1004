//! `files-emulator PORT`: the test kit's Azure Files emulator on its own, serving the development
//! account at `http://127.0.0.1:PORT/devstoreaccount1/SHARE` until stopped (see
//! `ferry_testkit::files_emulator`). `scripts/files-emulator PORT` builds and runs it.

// A standalone tool: its messages go to standard error.
#![allow(clippy::print_stderr)]

#[tokio::main]
async fn main() {
    let port = std::env::args().nth(1).and_then(|p| p.parse::<u16>().ok());
    let Some(port) = port else {
        eprintln!("usage: files-emulator PORT");
        std::process::exit(2);
    };
    eprintln!(
        "Azure Files emulator: http://127.0.0.1:{port}/{}/SHARE (account key: Azurite's development key)",
        ferry_testkit::files_emulator::ACCOUNT
    );
    if let Err(e) = ferry_testkit::files_emulator::FilesEmulator::serve_forever(port).await {
        eprintln!("files-emulator: {e}");
        std::process::exit(1);
    }
}
