//! SAS tokens and secret redaction: no panic, and redacted text never keeps a signature.
#![no_main]

use ferry_core::{SasToken, redact_text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Some(sas) = SasToken::parse(text) {
        let _ = (sas.expiry(), sas.permissions(), sas.param("sv"));
    }
    let redacted = redact_text(text);
    let probe = format!("https://a.blob.core.windows.net/c?sv=1&sig={text}");
    let probe_redacted = redact_text(&probe);
    let value: String = text.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
    if value.len() >= 8 {
        assert!(!probe_redacted.contains(&format!("sig={value}")), "{probe_redacted}");
    }
    let _ = redacted;
});
