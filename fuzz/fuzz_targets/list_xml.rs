//! The service's XML answers (List Blobs, List Containers, Get Block List, errors): any bytes
//! parse or are refused, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    ferry_azure::fuzzing::parse_all(text);
});
