//! Filters: any patterns compile or are refused, and matching any name never panics.
#![no_main]

use ferry_plan::{Filter, FilterSpec};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str, &str, u64)| {
    let (patterns, paths, name, size) = input;
    let spec = FilterSpec {
        include_patterns: FilterSpec::split_list(Some(patterns)),
        exclude_patterns: FilterSpec::split_list(Some(name)),
        include_paths: FilterSpec::split_list(Some(paths)),
        include_regex: FilterSpec::split_list(Some(patterns)),
        include_after: Some(paths.to_owned()),
        ..FilterSpec::default()
    };
    if let Ok(filter) = Filter::new(&spec) {
        let _ = filter.admits(name, size, None);
    }
    let loose = FilterSpec { include_patterns: FilterSpec::split_list(Some(patterns)), ..FilterSpec::default() };
    if let Ok(filter) = Filter::new(&loose) {
        let _ = filter.admits(name, size, Some(std::time::SystemTime::UNIX_EPOCH));
    }
});
