//! SAS tokens and secret redaction: no panic, and redacted text never keeps a signature.
#![no_main]

use ferry_core::{SasToken, redact_text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Some(sas) = SasToken::parse(text) {
        let _ = (sas.expiry(), sas.permissions(), sas.param("sv"));
    }
    let _ = redact_text(text);
    // Whatever follows `sig=`, the redacted URL keeps the parameter and hides its value. (A
    // parameter that merely ends in "sig", like `ssig`, is not a signature and stays.)
    let probe = format!("https://a.blob.core.windows.net/c?sv=1&sig={text}");
    let redacted = redact_text(&probe);
    assert!(redacted.starts_with("https://a.blob.core.windows.net/c?sv=1&sig=REDACTED"), "{redacted}");
});
