//! AzCopy's JSON envelope: one line per message,
//! `{"TimeStamp":…,"MessageType":…,"MessageContent":…,"PromptDetails":{…}}`.

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PromptDetails {
    prompt_type: &'static str,
    response_options: Option<Vec<String>>,
    prompt_target: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Envelope<'a> {
    time_stamp: String,
    message_type: &'a str,
    message_content: &'a str,
    prompt_details: PromptDetails,
}

/// Escapes `<`, `>`, `&`, U+2028 and U+2029 in serialised JSON the way Go's encoder does, so
/// Ferry's lines are byte-compatible with AzCopy's. Only valid on JSON text, where these
/// characters can appear only inside strings.
pub fn go_escape(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// One envelope line (without the newline) for a message of `message_type` whose content is
/// `content` (plain text, or a JSON document serialised as a string, as AzCopy does).
pub fn envelope(message_type: &str, content: &str) -> String {
    let envelope = Envelope {
        time_stamp: OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default(),
        message_type,
        message_content: content,
        prompt_details: PromptDetails { prompt_type: "", response_options: None, prompt_target: "" },
    };
    go_escape(&serde_json::to_string(&envelope).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_has_azcopys_shape() {
        let line = envelope("Info", "INFO: hello & <bye>");
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["MessageType"], "Info");
        assert_eq!(value["MessageContent"], "INFO: hello & <bye>");
        assert_eq!(value["PromptDetails"]["ResponseOptions"], serde_json::Value::Null);
        assert!(value["TimeStamp"].as_str().unwrap().ends_with('Z'));
        assert!(line.contains("\\u0026") && line.contains("\\u003c"), "{line}");
        let keys: Vec<&str> = ["TimeStamp", "MessageType", "MessageContent", "PromptDetails"].to_vec();
        let mut last = 0;
        for key in keys {
            let at = line.find(&format!("\"{key}\"")).unwrap();
            assert!(at >= last, "field order");
            last = at;
        }
    }
}
