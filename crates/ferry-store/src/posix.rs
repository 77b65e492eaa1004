//! POSIX properties (owner, group, mode, times) kept in blob metadata under AzCopy's names, so
//! files uploaded by either tool come back with them (AzCopy's `--preserve-posix-properties`).
//!
//! Standard style: `posix_owner`, `posix_group` (ids), `permissions` (the whole `st_mode`, in
//! decimal), `modtime`, `posix_atime`, `posix_ctime` (nanoseconds since the epoch),
//! `posix_nlink`, `posix_ino`, `posix_dev`. Azure Managed Lustre's style: `owner`, `group`,
//! `permissions` as four octal digits, `modtime` as `2006-01-02 15:04:05 -0700`.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Which metadata names and forms are used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PosixStyle {
    /// AzCopy's standard names.
    #[default]
    Standard,
    /// Azure Managed Lustre's names.
    Amlfs,
}

/// What a download restores from metadata.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PosixProperties {
    /// Permission bits (`0o7777` at most).
    pub mode: Option<u32>,
    /// Owner and group ids.
    pub owner: Option<(u32, u32)>,
    /// Modification time.
    pub modified: Option<SystemTime>,
}

const AMLFS_TIME: &[time::format_description::FormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day] [hour]:[minute]:[second] [offset_hour sign:mandatory][offset_minute]"
);

fn nanos(seconds: i64, nanoseconds: i64) -> String {
    (i128::from(seconds) * 1_000_000_000 + i128::from(nanoseconds)).to_string()
}

/// The metadata that records `meta` in `style`.
pub fn to_metadata(meta: &std::fs::Metadata, style: PosixStyle) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        out.insert(k.to_owned(), v);
    };
    match style {
        PosixStyle::Standard => {
            put("posix_owner", meta.uid().to_string());
            put("posix_group", meta.gid().to_string());
            put("permissions", meta.mode().to_string());
            put("modtime", nanos(meta.mtime(), meta.mtime_nsec()));
        }
        PosixStyle::Amlfs => {
            put("owner", meta.uid().to_string());
            put("group", meta.gid().to_string());
            put("permissions", format!("{:04o}", meta.mode() & 0o777));
            let modified =
                time::OffsetDateTime::from_unix_timestamp(meta.mtime()).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
            put("modtime", modified.format(AMLFS_TIME).unwrap_or_default());
        }
    }
    put("posix_atime", nanos(meta.atime(), meta.atime_nsec()));
    put("posix_ctime", nanos(meta.ctime(), meta.ctime_nsec()));
    put("posix_nlink", meta.nlink().to_string());
    put("posix_ino", meta.ino().to_string());
    put("posix_dev", meta.dev().to_string());
    out
}

/// What `metadata` says to restore, in either style; a value that does not parse is left out
/// (the file keeps what it would have had without it).
pub fn from_metadata(metadata: &BTreeMap<String, String>) -> PosixProperties {
    let get = |k: &str| metadata.get(k).map(|v| v.trim());
    let amlfs =
        get("owner").is_some() || get("group").is_some() || get("permissions").is_some_and(|p| p.starts_with('0'));
    let mode = get("permissions").and_then(|p| {
        let radix = if amlfs { 8 } else { 10 };
        u32::from_str_radix(p, radix).ok().map(|m| m & 0o7777)
    });
    let id = |standard: &str, lustre: &str| get(standard).or(get(lustre)).and_then(|v| v.parse::<u32>().ok());
    let owner = id("posix_owner", "owner").zip(id("posix_group", "group"));
    let modified = get("modtime").and_then(|t| match t.parse::<i128>() {
        Ok(n) => u64::try_from(n).ok().map(|n| UNIX_EPOCH + Duration::from_nanos(n)),
        Err(_) => time::OffsetDateTime::parse(t, AMLFS_TIME).ok().map(SystemTime::from),
    });
    PosixProperties { mode, owner, modified }
}

/// Whether `key` is one of the names this module writes (kept when a job sets other metadata).
pub fn is_posix_key(key: &str) -> bool {
    matches!(
        key,
        "posix_owner"
            | "posix_group"
            | "owner"
            | "group"
            | "permissions"
            | "modtime"
            | "posix_atime"
            | "posix_ctime"
            | "posix_nlink"
            | "posix_ino"
            | "posix_dev"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_styles_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"x").unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        let standard = to_metadata(&meta, PosixStyle::Standard);
        assert_eq!(standard["permissions"], (0o100_640).to_string());
        let back = from_metadata(&standard);
        assert_eq!(back.mode, Some(0o640));
        assert_eq!(back.owner, Some((meta.uid(), meta.gid())));
        assert_eq!(back.modified, meta.modified().ok());
        let lustre = to_metadata(&meta, PosixStyle::Amlfs);
        assert_eq!(lustre["permissions"], "0640");
        let back = from_metadata(&lustre);
        assert_eq!(back.mode, Some(0o640));
        let whole_seconds = UNIX_EPOCH + Duration::from_secs(u64::try_from(meta.mtime()).unwrap());
        assert_eq!(back.modified, Some(whole_seconds));
        assert_eq!(from_metadata(&BTreeMap::from([("permissions".into(), "x".into())])).mode, None);
    }
}
