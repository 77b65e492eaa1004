//! SMB properties on the wire: times as RFC 3339 with seven fractional digits (100 ns, as the
//! service writes them), attributes as `A | B`, and the headers that carry them.

use std::time::SystemTime;

use ferry_http::Request;
use ferry_store::SmbProperties;
use time::OffsetDateTime;

/// A time as the service writes SMB times: `2026-01-02T03:04:05.1234567Z`.
pub fn format_smb_time(at: SystemTime) -> String {
    let t = OffsetDateTime::from(at).to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond() / 100
    )
}

/// Reads an SMB time (any RFC 3339 time).
pub fn parse_smb_time(text: &str) -> Option<SystemTime> {
    OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339).ok().map(SystemTime::from)
}

/// The largest SDDL sent in a header; a longer one is created in the share first and referred
/// to by its key (the service's limit).
pub(crate) const MAX_HEADER_PERMISSION: usize = 8 * 1024;

/// Adds the SMB headers of `smb` to a Create File or Set File Properties request. Unknown
/// values are left as the service keeps them (`preserve`) on a change, or its defaults on a
/// create. `permission_key` is the destination share's key for the permission, when there is one.
pub(crate) fn with_smb<'a>(
    mut request: Request<'a>,
    smb: Option<&SmbProperties>,
    permission_key: Option<&str>,
    creating: bool,
) -> Request<'a> {
    let keep = if creating { None } else { Some("preserve") };
    let attributes = smb.and_then(|s| s.attributes.as_deref()).map(normalise_attributes);
    if let Some(value) = attributes.as_deref().or(keep) {
        request = request.header("x-ms-file-attributes", value);
    }
    let times = [
        ("x-ms-file-creation-time", smb.and_then(|s| s.creation_time)),
        ("x-ms-file-last-write-time", smb.and_then(|s| s.last_write_time)),
        ("x-ms-file-change-time", smb.and_then(|s| s.change_time)),
    ];
    for (name, at) in times {
        match (at.map(format_smb_time), keep) {
            (Some(text), _) => request = request.header(name, &text),
            (None, Some(keep)) => request = request.header(name, keep),
            (None, None) => {}
        }
    }
    match (permission_key, smb.and_then(|s| s.permission.as_deref())) {
        (Some(key), _) => request = request.header("x-ms-file-permission-key", key),
        (None, Some(sddl)) if sddl.len() <= MAX_HEADER_PERMISSION => {
            request = request.header("x-ms-file-permission", sddl);
        }
        _ if creating => request = request.header("x-ms-file-permission", "inherit"),
        _ => request = request.header("x-ms-file-permission", "preserve"),
    }
    request
}

/// Attributes in the service's spelling, `ReadOnly | Archive`, from any `|`/`,`-separated list;
/// an empty list is `None` (the service's word for no attributes).
pub(crate) fn normalise_attributes(text: &str) -> String {
    let parts: Vec<&str> = text.split(['|', ',']).map(str::trim).filter(|p| !p.is_empty()).collect();
    if parts.is_empty() { "None".to_owned() } else { parts.join(" | ") }
}

/// `attributes` without `ReadOnly` (to delete or replace a read-only file).
pub(crate) fn without_read_only(attributes: &str) -> String {
    let kept: Vec<&str> = attributes
        .split(['|', ','])
        .map(str::trim)
        .filter(|a| !a.is_empty() && !a.eq_ignore_ascii_case("ReadOnly"))
        .collect();
    normalise_attributes(&kept.join("|"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_have_seven_fractional_digits_and_round_trip() {
        let at = SystemTime::UNIX_EPOCH + std::time::Duration::new(1_700_000_000, 123_456_700);
        let text = format_smb_time(at);
        assert_eq!(text, "2023-11-14T22:13:20.1234567Z");
        assert_eq!(parse_smb_time(&text), Some(at));
    }

    #[test]
    fn attributes_are_spelt_as_the_service_does() {
        assert_eq!(normalise_attributes("ReadOnly|Archive"), "ReadOnly | Archive");
        assert_eq!(normalise_attributes(""), "None");
        assert_eq!(without_read_only("ReadOnly | Hidden"), "Hidden");
        assert_eq!(without_read_only("ReadOnly"), "None");
    }
}
