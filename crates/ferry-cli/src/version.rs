//! What `--version` says, and the name Ferry was invoked under. Tools that drive AzCopy install a
//! drop-in as `azcopy` and read `azcopy --version` before using it: under that name Ferry answers
//! in AzCopy's shape with the AzCopy release whose surface it matches, its own version appended as
//! SemVer build metadata (`azcopy version 10.32.2+ferry.0.1.0`), which version parsers accept and
//! order as 10.32.2.

/// The AzCopy release whose commands, flags and outputs Ferry matches.
pub const AZCOPY_SURFACE: &str = "10.32.2";

/// Ferry's own version.
pub const FERRY_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The name this process was invoked under (`ferry`, or `azcopy` through a link or a copy),
/// without a directory or a `.exe`.
pub fn invoked_name() -> String {
    let arg0 = std::env::args_os().next().unwrap_or_default();
    name_of(&arg0.to_string_lossy())
}

fn name_of(arg0: &str) -> String {
    let base = arg0.rsplit(['/', '\\']).next().unwrap_or(arg0);
    let base = base.strip_suffix(".exe").unwrap_or(base);
    if base.is_empty() { "ferry".to_owned() } else { base.to_owned() }
}

/// Whether `name` is AzCopy's (so outputs that name the program say `azcopy`).
pub fn is_azcopy(name: &str) -> bool {
    name.to_ascii_lowercase().starts_with("azcopy")
}

/// The version as `--version` prints it after the program's name: `version 0.1.0`, or under
/// AzCopy's name `version 10.32.2+ferry.0.1.0`.
pub fn version_text(name: &str) -> String {
    if is_azcopy(name) {
        format!("version {AZCOPY_SURFACE}+ferry.{FERRY_VERSION}")
    } else {
        format!("version {FERRY_VERSION} (AzCopy {AZCOPY_SURFACE} command surface)")
    }
}

/// The whole line: `azcopy version 10.32.2+ferry.0.1.0`.
pub fn long_version(name: &str) -> String {
    format!("{name} {}", version_text(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions() {
        assert_eq!(name_of("/usr/local/bin/azcopy"), "azcopy");
        assert_eq!(name_of("C:\\tools\\azcopy.exe"), "azcopy");
        assert_eq!(name_of("ferry"), "ferry");
        let line = long_version("azcopy");
        assert_eq!(line, format!("azcopy version 10.32.2+ferry.{FERRY_VERSION}"));
        // What a wrapper's parser reads: the token after "version", a SemVer with build metadata.
        let v = line.split_whitespace().nth(2).unwrap();
        let (core, build) = v.split_once('+').unwrap();
        assert_eq!(core.split('.').map(|p| p.parse::<u32>().unwrap()).collect::<Vec<_>>(), [10, 32, 2]);
        assert!(build.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric())));
        assert!(long_version("ferry").starts_with(&format!("ferry version {FERRY_VERSION}")));
    }
}
