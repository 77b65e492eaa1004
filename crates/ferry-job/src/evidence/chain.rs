//! The hash chain that seals a job's evidence, line by line: each line carries the SHA-256 of
//! the line before it (`prev`) and its own (`hash`, over the line less that field), so a line
//! edited, removed, added or moved breaks the chain at the first place it touches.
//!
//! A JSON line is sealed over its exact text; a CSV row over its fields as Ferry's CSV writer
//! encodes them (so quoting a field differently changes nothing, but changing a field does).

use sha2::{Digest, Sha256};

/// The `prev` of the first line.
pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The SHA-256 of `text`, in lowercase hex.
pub(crate) fn sha256_hex(text: &[u8]) -> String {
    Sha256::digest(text).iter().map(|b| format!("{b:02x}")).collect()
}

/// Seals a JSON object's text (ending in `}`): returns the line with `,"hash":"…"` added and
/// the hash.
pub(crate) fn seal_json(body: &str) -> (String, String) {
    let hash = sha256_hex(body.as_bytes());
    let open = body.strip_suffix('}').unwrap_or(body);
    (format!("{open},\"hash\":\"{hash}\"}}"), hash)
}

/// Why a line does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Broken {
    /// Not a line Ferry writes.
    Unreadable(String),
    /// Its hash is not the hash of its content: it was edited.
    Edited,
    /// Its `prev` is not the hash of the line before it: a line was removed, added or moved.
    OutOfChain,
}

impl Broken {
    /// What it means, for the error.
    pub(crate) fn explain(&self) -> String {
        match self {
            Self::Unreadable(why) => format!("not a line of Ferry's evidence ({why})"),
            Self::Edited => "its hash does not match its content: the line was edited".into(),
            Self::OutOfChain => {
                "it does not follow the line before it: a line was removed, added or moved before it".into()
            }
        }
    }
}

/// Opens a sealed JSON line: the body it was sealed over and its hash, once the hash is checked.
pub(crate) fn open_json(line: &str) -> Result<(String, String), Broken> {
    const TAIL: usize = ",\"hash\":\"\"}".len() + 64;
    let cut = line.len().checked_sub(TAIL).filter(|c| line.is_char_boundary(*c));
    let Some(cut) = cut else { return Err(Broken::Unreadable("too short".into())) };
    let (open, tail) = line.split_at(cut);
    let hash = tail
        .strip_prefix(",\"hash\":\"")
        .and_then(|t| t.strip_suffix("\"}"))
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| Broken::Unreadable("no hash at its end".into()))?;
    let body = format!("{open}}}");
    if sha256_hex(body.as_bytes()) != hash {
        return Err(Broken::Edited);
    }
    Ok((body, hash.to_owned()))
}

/// The text a CSV row is sealed over: its fields (all but the hash) as Ferry's writer encodes
/// them, without the line's end.
pub(crate) fn csv_text(fields: &[&str]) -> String {
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    let _ = writer.write_record(fields);
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).trim_end_matches('\n').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_line_opens_and_any_edit_breaks_it() {
        let (line, hash) = seal_json(r#"{"type":"object","size":3,"prev":"00"}"#);
        assert!(line.ends_with(&format!(",\"hash\":\"{hash}\"}}")));
        assert_eq!(open_json(&line).unwrap().1, hash);
        let edited = line.replace("\"size\":3", "\"size\":4");
        assert_eq!(open_json(&edited), Err(Broken::Edited));
        assert!(matches!(open_json("{}"), Err(Broken::Unreadable(_))));
        assert!(matches!(open_json(&line.replace("\"hash\"", "\"hush\"")), Err(Broken::Unreadable(_))));
    }

    #[test]
    fn csv_rows_are_sealed_over_their_fields() {
        assert_eq!(csv_text(&["a", "b,c", "d\"e"]), "a,\"b,c\",\"d\"\"e\"");
        assert_ne!(csv_text(&["a", "b"]), csv_text(&["a", "c"]));
    }
}
