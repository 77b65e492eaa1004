//! `ferry list` output, as AzCopy 10.32.2 prints it.
//!
//! Text: `NAME; [Prop: value; …] Content Length: SIZE`, and with `--running-tally` a blank line,
//! `File count: N` and `Total file size: SIZE`. JSON: a `ListObject` message per object
//! (properties in AzCopy's fixed field order, empty ones omitted, sizes as strings), a
//! `ListSummary` with the tally, and a closing `EndOfJob`.

use std::io::{self, Write};
use std::str::FromStr;
use std::time::SystemTime;

use base64::Engine as _;
use ferry_core::size::{SizeUnits, format_size};
use ferry_store::Entry;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::console::{OutputFormat, write_line};
use crate::json::{envelope, go_escape};

/// A property `--properties` can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListProperty {
    /// `LastModifiedTime`.
    LastModifiedTime,
    /// `VersionId`.
    VersionId,
    /// `BlobType`.
    BlobType,
    /// `BlobAccessTier`.
    BlobAccessTier,
    /// `ContentType`.
    ContentType,
    /// `ContentEncoding`.
    ContentEncoding,
    /// `ContentMD5`.
    ContentMd5,
    /// `LeaseState`.
    LeaseState,
    /// `LeaseDuration`.
    LeaseDuration,
    /// `LeaseStatus`.
    LeaseStatus,
    /// `ArchiveStatus`.
    ArchiveStatus,
}

/// The names AzCopy accepts, in the order its JSON output uses.
const ALL: [(&str, ListProperty); 11] = [
    ("LastModifiedTime", ListProperty::LastModifiedTime),
    ("VersionId", ListProperty::VersionId),
    ("BlobType", ListProperty::BlobType),
    ("BlobAccessTier", ListProperty::BlobAccessTier),
    ("ContentType", ListProperty::ContentType),
    ("ContentEncoding", ListProperty::ContentEncoding),
    ("ContentMD5", ListProperty::ContentMd5),
    ("LeaseState", ListProperty::LeaseState),
    ("LeaseDuration", ListProperty::LeaseDuration),
    ("LeaseStatus", ListProperty::LeaseStatus),
    ("ArchiveStatus", ListProperty::ArchiveStatus),
];

/// A `--properties` name that is not one of AzCopy's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownProperty(pub String);

impl std::fmt::Display for UnknownProperty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = ALL.iter().map(|(n, _)| *n).collect();
        write!(f, "unknown property `{}`; valid properties are {}", self.0, names.join(", "))
    }
}

impl std::error::Error for UnknownProperty {}

impl FromStr for ListProperty {
    type Err = UnknownProperty;

    /// Accepts AzCopy's names, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ALL.iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(s.trim()))
            .map(|(_, p)| *p)
            .ok_or_else(|| UnknownProperty(s.trim().to_owned()))
    }
}

impl ListProperty {
    /// Parses a `;`-separated list, keeping the user's order (the text output follows it).
    pub fn parse_list(text: &str) -> Result<Vec<Self>, UnknownProperty> {
        text.split(';').filter(|s| !s.trim().is_empty()).map(str::parse).collect()
    }

    fn name(self) -> &'static str {
        ALL.iter().find(|(_, p)| *p == self).map(|(n, _)| *n).unwrap_or_default()
    }

    fn value(self, entry: &Entry, json: bool) -> String {
        let props = entry.props();
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        match self {
            Self::LastModifiedTime => entry.last_modified.map(|t| format_time(t, json)).unwrap_or_default(),
            Self::VersionId => text(&props.version_id),
            Self::BlobType => text(&props.blob_type),
            Self::BlobAccessTier => text(&props.access_tier),
            Self::ContentType => text(&props.headers.content_type),
            Self::ContentEncoding => text(&props.headers.content_encoding),
            Self::ContentMd5 => {
                entry.content_md5.map(|m| base64::engine::general_purpose::STANDARD.encode(m)).unwrap_or_default()
            }
            Self::LeaseState => text(&props.lease_state),
            Self::LeaseDuration => text(&props.lease_duration),
            Self::LeaseStatus => text(&props.lease_status),
            Self::ArchiveStatus => text(&props.archive_status),
        }
    }
}

/// Text: Go's `time.String()` of a GMT time (`2026-11-23 21:08:59 +0000 GMT`); JSON: RFC 3339.
fn format_time(t: SystemTime, json: bool) -> String {
    let t = OffsetDateTime::from(t);
    let result = if json {
        t.format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z"))
    } else {
        t.format(format_description!("[year]-[month]-[day] [hour]:[minute]:[second] +0000 GMT"))
    };
    result.unwrap_or_default()
}

/// Objects and bytes listed so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListTotals {
    /// Objects listed.
    pub count: u64,
    /// Their total size.
    pub bytes: u64,
}

/// Prints a listing as it streams.
pub struct ListReporter<W: Write> {
    out: W,
    format: OutputFormat,
    units: SizeUnits,
    properties: Vec<ListProperty>,
    running_tally: bool,
    totals: ListTotals,
    /// With versions listed: the name and size of the last object, whose later versions
    /// replace it in the tally.
    versions: Option<(String, u64)>,
}

impl ListReporter<io::StdoutLock<'static>> {
    /// A reporter writing to standard output.
    pub fn stdout(format: OutputFormat, units: SizeUnits, properties: Vec<ListProperty>, running_tally: bool) -> Self {
        Self::new(io::stdout().lock(), format, units, properties, running_tally)
    }
}

impl<W: Write> ListReporter<W> {
    /// A reporter writing to `out`.
    pub fn new(
        out: W,
        format: OutputFormat,
        units: SizeUnits,
        properties: Vec<ListProperty>,
        running_tally: bool,
    ) -> Self {
        let versions = properties.contains(&ListProperty::VersionId).then(|| (String::new(), 0));
        Self { out, format, units, properties, running_tally, totals: ListTotals::default(), versions }
    }

    /// Prints one object under the name `shown` (its path relative to what was listed).
    /// With `VersionId` among the properties, the versions of one blob come one after another,
    /// oldest first, and the tally counts the blob once, at its newest size (as AzCopy does).
    pub fn object(&mut self, shown: &str, entry: &Entry) -> io::Result<()> {
        match &mut self.versions {
            Some((last, size)) if last == shown => {
                self.totals.bytes -= *size;
                *size = entry.size;
            }
            Some((last, size)) => {
                (*last, *size) = (shown.to_owned(), entry.size);
                self.totals.count += 1;
            }
            None => self.totals.count += 1,
        }
        self.totals.bytes += entry.size;
        let size = format_size(entry.size, self.units);
        let line = match self.format {
            OutputFormat::Text => {
                let mut line = format!("{};", crate::console::escape_controls(shown));
                for p in &self.properties {
                    line.push_str(&format!(" {}: {};", p.name(), p.value(entry, false)));
                }
                line.push_str(&format!(" Content Length: {size}"));
                line
            }
            OutputFormat::Json => {
                let mut fields = Map::new();
                fields.insert("Path".into(), Value::String(shown.to_owned()));
                for (name, property) in ALL {
                    if self.properties.contains(&property) {
                        let value = property.value(entry, true);
                        if !value.is_empty() {
                            fields.insert(name.into(), Value::String(value));
                        }
                    }
                }
                fields.insert("ContentLength".into(), Value::String(size));
                let content = go_escape(&Value::Object(fields).to_string());
                envelope("ListObject", &content)
            }
        };
        write_line(&mut self.out, &line)
    }

    /// The totals so far.
    pub fn totals(&self) -> ListTotals {
        self.totals
    }

    /// Prints the tally (when asked for) and, in JSON, the closing message.
    pub fn finish(mut self) -> io::Result<ListTotals> {
        let total = format_size(self.totals.bytes, self.units);
        match self.format {
            OutputFormat::Text if self.running_tally => {
                write_line(&mut self.out, "")?;
                write_line(&mut self.out, &format!("File count: {}", self.totals.count))?;
                write_line(&mut self.out, &format!("Total file size: {total}"))?;
            }
            OutputFormat::Text => {}
            OutputFormat::Json => {
                if self.running_tally {
                    let summary =
                        serde_json::json!({ "FileCount": self.totals.count.to_string(), "TotalFileSize": total });
                    write_line(&mut self.out, &envelope("ListSummary", &go_escape(&summary.to_string())))?;
                }
                write_line(&mut self.out, &envelope("EndOfJob", ""))?;
            }
        }
        self.out.flush().or_else(|e| if e.kind() == io::ErrorKind::BrokenPipe { Ok(()) } else { Err(e) })?;
        Ok(self.totals)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_store::ObjectProperties;
    use std::time::{Duration, UNIX_EPOCH};

    fn entry() -> Entry {
        let mut e = Entry::object("dir/b.bin", 2_048_000);
        e.last_modified = Some(UNIX_EPOCH + Duration::from_secs(1_795_468_139));
        e.content_md5 = Some(*b"0123456789abcdef");
        let mut props = ObjectProperties {
            blob_type: Some("BlockBlob".into()),
            access_tier: Some("Hot".into()),
            ..ObjectProperties::default()
        };
        props.headers.content_type = Some("application/octet-stream".into());
        e.properties = Some(Box::new(props));
        e
    }

    fn render(format: OutputFormat, units: SizeUnits, props: &str, tally: bool) -> String {
        let mut buf = Vec::new();
        let mut r = ListReporter::new(&mut buf, format, units, ListProperty::parse_list(props).unwrap(), tally);
        r.object("b.bin", &entry()).unwrap();
        r.object("sp ace#?%+&.txt", &Entry::object("x", 5)).unwrap();
        r.finish().unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn text_matches_azcopy() {
        assert_eq!(
            render(OutputFormat::Text, SizeUnits::Binary, "", false),
            "b.bin; Content Length: 1.95 MiB\nsp ace#?%+&.txt; Content Length: 5.00 B\n"
        );
        assert_eq!(
            render(OutputFormat::Text, SizeUnits::Bytes, "", true),
            "b.bin; Content Length: 2048000\nsp ace#?%+&.txt; Content Length: 5\n\nFile count: 2\nTotal file size: 2048005\n"
        );
    }

    #[test]
    fn text_properties_follow_the_users_order() {
        let out =
            render(OutputFormat::Text, SizeUnits::Decimal, "ContentMD5;BlobType;LastModifiedTime;VersionId", false);
        let first = out.lines().next().unwrap();
        assert_eq!(
            first,
            "b.bin; ContentMD5: MDEyMzQ1Njc4OWFiY2RlZg==; BlobType: BlockBlob; LastModifiedTime: 2026-11-23 21:08:59 +0000 GMT; VersionId: ; Content Length: 2.05 MB"
        );
    }

    #[test]
    fn json_matches_azcopy() {
        let out = render(OutputFormat::Json, SizeUnits::Binary, "ContentMD5;LastModifiedTime;ContentEncoding", true);
        let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0]["MessageType"], "ListObject");
        let content = lines[0]["MessageContent"].as_str().unwrap();
        assert_eq!(
            content,
            r#"{"Path":"b.bin","LastModifiedTime":"2026-11-23T21:08:59Z","ContentMD5":"MDEyMzQ1Njc4OWFiY2RlZg==","ContentLength":"1.95 MiB"}"#
        );
        assert!(out.lines().nth(1).unwrap().contains(r"sp ace#?%+\\u0026.txt"), "Go-style escaping of &");
        assert_eq!(lines[2]["MessageType"], "ListSummary");
        assert_eq!(lines[2]["MessageContent"], r#"{"FileCount":"2","TotalFileSize":"1.95 MiB"}"#);
        assert_eq!(lines[3]["MessageType"], "EndOfJob");
        assert_eq!(lines[3]["MessageContent"], "");
    }

    #[test]
    fn unknown_properties_are_named() {
        let err = ListProperty::parse_list("ContentType;Colour").unwrap_err();
        assert!(err.to_string().contains("`Colour`"), "{err}");
        assert_eq!(ListProperty::parse_list("contentmd5").unwrap(), [ListProperty::ContentMd5]);
    }
}
