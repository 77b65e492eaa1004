//! Keeping secrets out of everything that can be printed.
//!
//! A SAS signature, an account key or a bearer token must never reach a log, a job file, a
//! progress line or an error message. The types here make the safe thing the default: a
//! [`Secret`] prints as `REDACTED`, and a [`RedactedUrl`] prints its query with every sensitive
//! parameter's value replaced.

use std::fmt;

/// The text that stands in for a secret value wherever one would be shown.
pub const REDACTED: &str = "REDACTED";

/// Query parameters whose values are secrets (compared case-insensitively).
///
/// `sig` is the SAS signature; the others are the equivalents of other services and of
/// Entra/OAuth flows, listed so that a URL pasted from anywhere is safe to show.
const SENSITIVE_PARAMS: &[&str] = &[
    "sig",
    "signature",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "x-goog-signature",
    "x-goog-credential",
    "token",
    "access_token",
    "code",
    "client_secret",
    "client_assertion",
    "refresh_token",
    "device_code",
];

/// Whether the query parameter `name` (as written, perhaps percent-encoded) holds a secret.
/// Names are compared decoded and case-insensitively: `SIG` and `%73ig` are the signature too.
fn is_sensitive(name: &str) -> bool {
    let decoded = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
    SENSITIVE_PARAMS.iter().any(|s| s.eq_ignore_ascii_case(decoded.trim()))
}

/// Whether the query parameter `name` (as written) is a SAS signature: `sig`, however it is
/// spelled (`SIG`, `%73ig`), so that no spelling of it escapes being treated as a secret.
pub(crate) fn is_signature_name(name: &str) -> bool {
    percent_encoding::percent_decode_str(name).decode_utf8_lossy().trim().eq_ignore_ascii_case("sig")
}

/// Returns `query` (without its leading `?`) with every sensitive parameter's value replaced by
/// `REDACTED`. Parameter order and non-secret values are kept, so the result is still useful in
/// a bug report.
pub fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_sensitive(name) => format!("{name}={REDACTED}"),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Redacts every URL-like `?query` found in free text, such as an error message from a lower
/// layer that quotes the request URL, and every bare query string that carries a secret (a SAS
/// token given on its own, as to `jobs resume --destination-sas`).
pub fn redact_text(text: &str) -> String {
    let text = redact_userinfo(text);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(q) = rest.find('?') {
        out.push_str(&redact_bare_queries(&rest[..=q]));
        let after = &rest[q + 1..];
        let end = after.find(ends_query).unwrap_or(after.len());
        out.push_str(&redact_query(&after[..end]));
        rest = &after[end..];
    }
    out.push_str(&redact_bare_queries(rest));
    out
}

/// Hides the password of every `scheme://user:password@host` in free text.
fn redact_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let authority_end =
            tail.find(|c: char| c == '/' || c == '?' || c == '#' || ends_query(c)).unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match (authority.rfind('@'), authority.find(':')) {
            (Some(at), Some(colon)) if colon < at => {
                out.push_str(&authority[..=colon]);
                out.push_str(REDACTED);
                out.push_str(&authority[at..]);
            }
            _ => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

fn ends_query(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | ')' | '>' | '<')
}

/// Redacts words that look like a query string (`a=1&sig=…`) holding a sensitive parameter.
fn redact_bare_queries(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let start = rest.find(|c: char| !ends_query(c)).unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        let word_end = rest[start..].find(ends_query).map_or(rest.len(), |e| start + e);
        let mut word = &rest[start..word_end];
        // `--source-sas=sig=…&se=…`: the flag's name is not the first parameter's.
        if word.starts_with('-')
            && let Some((flag, value)) = word.split_once('=')
            && value.contains('=')
        {
            out.push_str(flag);
            out.push('=');
            word = value;
        }
        let sensitive = word.split('&').any(|pair| pair.split_once('=').is_some_and(|(name, _)| is_sensitive(name)));
        if sensitive && !word.contains('?') {
            out.push_str(&redact_query(word));
        } else {
            out.push_str(word);
        }
        rest = &rest[word_end..];
    }
    out
}

/// A URL that never shows its secrets.
///
/// `Display` and `Debug` both print the URL with sensitive query values replaced; the only way
/// to get the real URL is [`RedactedUrl::expose`], which is meant for the HTTP layer alone.
#[derive(Clone, PartialEq, Eq)]
pub struct RedactedUrl(url::Url);

impl RedactedUrl {
    /// Wraps a URL.
    pub fn new(url: url::Url) -> Self {
        Self(url)
    }

    /// The real URL, secrets included. Only the code that sends the request should call this.
    pub fn expose(&self) -> &url::Url {
        &self.0
    }
}

impl From<url::Url> for RedactedUrl {
    fn from(url: url::Url) -> Self {
        Self(url)
    }
}

impl fmt::Display for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = &self.0;
        let mut shown = url.clone();
        shown.set_query(None);
        // Userinfo can carry a password; never show it.
        let _ = shown.set_password(None);
        write!(f, "{shown}")?;
        if let Some(q) = url.query() {
            write!(f, "?{}", redact_query(q))?;
        }
        Ok(())
    }
}

impl fmt::Debug for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedactedUrl({self})")
    }
}

/// A secret string (an account key, a SAS token, a bearer token).
///
/// Printing it in any way shows `REDACTED`. Call [`Secret::expose`] only where the value is used.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_redaction_keeps_non_secrets_and_order() {
        let q = "sv=2022-11-02&se=2030-01-01T00%3A00%3A00Z&sp=rl&sig=abc%2Bdef%3D&sr=c";
        assert_eq!(redact_query(q), "sv=2022-11-02&se=2030-01-01T00%3A00%3A00Z&sp=rl&sig=REDACTED&sr=c");
    }

    #[test]
    fn redaction_is_case_insensitive() {
        assert_eq!(redact_query("SIG=x&X-Amz-Signature=y"), "SIG=REDACTED&X-Amz-Signature=REDACTED");
    }

    #[test]
    fn url_display_and_debug_hide_signature_and_password() {
        let url = url::Url::parse("https://u:pw@a.blob.core.windows.net/c/b?sv=1&sig=TOPSECRET").unwrap();
        let r = RedactedUrl::new(url);
        for shown in [r.to_string(), format!("{r:?}")] {
            assert!(!shown.contains("TOPSECRET"), "{shown}");
            assert!(!shown.contains("pw"), "{shown}");
            assert!(shown.contains("sig=REDACTED"), "{shown}");
        }
        assert!(r.expose().as_str().contains("TOPSECRET"));
    }

    #[test]
    fn free_text_redaction() {
        let text = "error sending request for url (http://127.0.0.1:1/a/c?sv=1&sig=SECRET): refused";
        let out = redact_text(text);
        assert!(!out.contains("SECRET"));
        assert!(out.ends_with("sig=REDACTED): refused"), "{out}");
    }

    /// Finding 11: `--source-sas=sig=…` kept its signature in the job log, a URL's password was
    /// printed in errors, and `SIG=` / `%73ig=` were not recognised as the signature.
    #[test]
    fn flag_equals_form_passwords_and_other_spellings_of_sig_are_redacted() {
        let out = redact_text("ferry jobs resume 1 --source-sas=sig=TOPSECRET&se=2030 --destination-sas=sv=1&sig=S2");
        assert!(!out.contains("TOPSECRET") && !out.contains("S2"), "{out}");
        assert!(out.contains("--source-sas=sig=REDACTED&se=2030"), "{out}");
        let out = redact_text("error: authentication failed `http://alice:PASSW0RD@127.0.0.1:1/acct/c`");
        assert!(!out.contains("PASSW0RD"), "{out}");
        assert!(out.contains("http://alice:REDACTED@127.0.0.1:1/acct/c"), "{out}");
        for q in ["sv=1&SIG=SECRETA4", "sv=1&%73ig=SECRETA4", "sv=1&%53%49%47=SECRETA4"] {
            let out = redact_text(&format!("invalid location `https://a.blob.core.windows.net/c?{q}`"));
            assert!(!out.contains("SECRETA4"), "{out}");
            assert!(!redact_text(q).contains("SECRETA4"), "{q}");
        }
        assert!(is_signature_name("%73ig") && is_signature_name("SIG") && !is_signature_name("ssig"));
    }

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "REDACTED REDACTED");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn a_bare_sas_token_in_text_is_redacted() {
        let text = "ferry jobs resume 1234 --destination-sas sv=2022-11-02&sr=c&sig=c2VjcmV0%3D --x=1";
        let out = redact_text(text);
        assert!(!out.contains("c2VjcmV0"), "{out}");
        assert!(out.contains("sv=2022-11-02&sr=c&sig=REDACTED --x=1"), "{out}");
        assert_eq!(redact_text("a=b c=d"), "a=b c=d");
        assert_eq!(redact_text("sig=abc"), "sig=REDACTED");
    }

    #[test]
    fn a_fuzzed_query_with_nuls_and_a_look_alike_parameter() {
        // Found by `scripts/fuzz` (target `sas`): the signature is hidden, and `ssig`, which is
        // not a signature parameter, is left alone.
        let text = "https://a.blob.core.windows.net/c?sv=1&sig=ssssssssss!\0ss&\0\0\0ssig=sssssssssss";
        let out = redact_text(text);
        assert!(out.starts_with("https://a.blob.core.windows.net/c?sv=1&sig=REDACTED&"), "{out}");
        assert!(out.ends_with("ssig=sssssssssss"), "{out}");
    }
}
