//! Locations and Blob URLs: any text parses or is refused, never panics, and a parsed URL's
//! display never shows its SAS signature.
#![no_main]

use ferry_core::{Location, LocationHint, LocationKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    for hint in [LocationHint::Infer, LocationHint::Known(LocationKind::Blob), LocationHint::Known(LocationKind::Local)] {
        if let Ok(Location::Blob(url)) = Location::parse(text, hint) {
            let shown = url.to_string();
            if let Some(sig) = url.sas().and_then(|s| s.param("sig")).filter(|s| s.len() >= 8) {
                assert!(!shown.contains(sig), "the signature leaked into {shown}");
            }
            let _ = (url.container(), url.path(), url.contents_only(), url.with_sas(None).to_string());
        }
    }
});
