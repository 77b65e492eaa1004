//! Turning a failed HTTP exchange into a [`StoreError`] by meaning, with a hint when the fix is
//! known.

use ferry_store::{ErrorKind, StoreError};

use crate::xml::parse_error;
use ferry_http::parse_retry_after;

/// `AuthorizationFailure` is taken as a refused credential: Azurite answers a bad signature and
/// an expired SAS with it (on a HEAD, with no message to tell them apart), and Azure also uses
/// it for firewall denials, which the hint mentions.
///
/// Maps a status, the service's error code and message to a store error about `target`.
pub(crate) fn error_from_status(
    status: u16,
    code: Option<&str>,
    message: Option<&str>,
    retry_after: Option<&str>,
    target: &str,
) -> StoreError {
    let code_str = code.unwrap_or("");
    let kind = match status {
        404 => ErrorKind::NotFound,
        409 if code_str.ends_with("AlreadyExists") => ErrorKind::AlreadyExists,
        409 => ErrorKind::PreconditionFailed,
        412 => ErrorKind::PreconditionFailed,
        401 => ErrorKind::Unauthenticated,
        403 if code_str.starts_with("AuthorizationPermissionMismatch")
            || code_str.starts_with("AuthorizationResourceTypeMismatch")
            || code_str.starts_with("AuthorizationServiceMismatch")
            || code_str.starts_with("AuthorizationSourceIPMismatch")
            || code_str.starts_with("AuthorizationProtocolMismatch") =>
        {
            ErrorKind::PermissionDenied
        }
        403 => ErrorKind::Unauthenticated,
        429 | 503 => ErrorKind::Throttled,
        408 | 500 | 502 | 504 => ErrorKind::Transient,
        400 | 411 | 413 | 414 | 416 => ErrorKind::InvalidInput,
        405 | 501 => ErrorKind::NotSupported,
        _ => ErrorKind::Other,
    };
    let first_line = message.and_then(|m| m.lines().next()).unwrap_or("").trim();
    let mut text = format!("HTTP {status}");
    if !code_str.is_empty() {
        text.push_str(&format!(" {code_str}"));
    }
    if !first_line.is_empty() {
        text.push_str(&format!(": {}", ferry_core::redact_text(first_line)));
    }
    let mut err =
        StoreError::new(kind, target, text).with_status(status).with_retry_after(parse_retry_after(retry_after));
    if let Some(hint) = hint_for(kind, code_str) {
        err = err.with_hint(hint);
    }
    err
}

fn hint_for(kind: ErrorKind, code: &str) -> Option<&'static str> {
    Some(match (kind, code) {
        (ErrorKind::NotFound, "ContainerNotFound") => {
            "the container does not exist: check its name, or create it with `ferry make URL`"
        }
        (ErrorKind::NotFound, "ShareNotFound") => {
            "the file share does not exist: check its name, or create it with `ferry make URL`"
        }
        (ErrorKind::PermissionDenied, _) => {
            "the credential does not allow this operation: a SAS needs the permissions the command uses (`r` read, `l` list, `w`/`c` write, `d` delete) and, for an account SAS, the right resource types (`srt=sco`)"
        }
        (ErrorKind::Unauthenticated, "NoAuthenticationInformation") => {
            "no credential was sent: append a SAS to the URL, or set AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY (or AZURE_STORAGE_CONNECTION_STRING)"
        }
        (ErrorKind::Unauthenticated, "AuthorizationFailure") => {
            "the service refused the request: check that the SAS is complete and not expired (its `se=` field), that the account key belongs to this account, and that the account's firewall admits this machine"
        }
        (ErrorKind::Unauthenticated, _) => {
            "the service refused the credential: check that the SAS is complete and not expired (its `se=` field), or that the account key belongs to this account"
        }
        _ => return None,
    })
}

/// Reads an error response into a store error (its body read only up to a small bound, and
/// within a deadline: a hostile server may send an endless one).
pub(crate) async fn error_from_response(response: reqwest::Response, target: &str) -> StoreError {
    let status = response.status().as_u16();
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let header_code = header("x-ms-error-code");
    let retry_after = header("retry-after");
    let (source_status, source_code) = (header("x-ms-copy-source-status-code"), header("x-ms-copy-source-error-code"));
    let deadline = std::time::Duration::from_secs(30);
    let body =
        ferry_http::read_text(response, ferry_http::MAX_ERROR_BODY, true, deadline, target).await.unwrap_or_default();
    let (body_code, message) = parse_error(&body);
    let code = header_code.or(body_code);
    let err = error_from_status(status, code.as_deref(), message.as_deref(), retry_after.as_deref(), target);
    if code.as_deref() == Some("CannotVerifyCopySource") {
        return source_unreadable(err, source_status, source_code);
    }
    err
}

/// A server-side copy whose source the service could not read: by meaning, with what the source
/// answered (Azure's `x-ms-copy-source-status-code`/`-error-code`), or that it never answered.
fn source_unreadable(err: StoreError, source_status: Option<String>, source_code: Option<String>) -> StoreError {
    let (message, hint) = match source_status.as_deref() {
        Some("403") => (
            format!(
                "{}; the source refused the service's read (HTTP 403{})",
                err.message(),
                code_suffix(source_code.as_deref())
            ),
            "the source URL's signature was refused or expired: Ferry signs a fresh one and tries again once; if it still fails, check the source credential and this machine's clock",
        ),
        Some(status) => (
            format!(
                "{}; the source answered the service's read with HTTP {status}{}",
                err.message(),
                code_suffix(source_code.as_deref())
            ),
            "check that the source object still exists and is readable",
        ),
        None => (
            format!("{}; the service could not reach the source", err.message()),
            "the destination service cannot reach this source (a private or on-premises endpoint?): Ferry copies through this machine instead, or use --server-side-copy never",
        ),
    };
    // The status that matters is the source's; none when the service never reached it.
    let unreadable = StoreError::new(ferry_store::ErrorKind::SourceUnreadable, err.target(), message).with_hint(hint);
    match source_status.and_then(|s| s.parse().ok()) {
        Some(status) => unreadable.with_status(status),
        None => unreadable,
    }
}

fn code_suffix(code: Option<&str>) -> String {
    code.map(|c| format!(" {c}")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_by_meaning() {
        let cases = [
            (404, "BlobNotFound", ErrorKind::NotFound),
            (409, "ContainerAlreadyExists", ErrorKind::AlreadyExists),
            (409, "BlobAlreadyExists", ErrorKind::AlreadyExists),
            (409, "LeaseIdMissing", ErrorKind::PreconditionFailed),
            (412, "ConditionNotMet", ErrorKind::PreconditionFailed),
            (403, "AuthorizationPermissionMismatch", ErrorKind::PermissionDenied),
            (403, "AuthorizationFailure", ErrorKind::Unauthenticated),
            (403, "AuthenticationFailed", ErrorKind::Unauthenticated),
            (401, "NoAuthenticationInformation", ErrorKind::Unauthenticated),
            (503, "ServerBusy", ErrorKind::Throttled),
            (500, "OperationTimedOut", ErrorKind::Transient),
            (400, "Md5Mismatch", ErrorKind::InvalidInput),
            (501, "NotImplemented", ErrorKind::NotSupported),
        ];
        for (status, code, kind) in cases {
            let e = error_from_status(status, Some(code), Some("msg\nRequestId:x"), None, "box/a");
            assert_eq!(e.kind(), kind, "{status} {code}");
            assert_eq!(e.status(), Some(status));
            assert!(e.to_string().contains(code));
            assert!(!e.to_string().contains("RequestId"), "only the first line is kept");
        }
    }

    #[test]
    fn throttling_keeps_retry_after_and_auth_failures_get_hints() {
        let e = error_from_status(503, Some("ServerBusy"), None, Some("4"), "x");
        assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(4)));
        assert!(e.is_retryable());
        let e = error_from_status(403, Some("AuthenticationFailed"), None, None, "x");
        assert!(e.hint().unwrap().contains("se="));
        let e = error_from_status(403, Some("AuthorizationPermissionMismatch"), None, None, "x");
        assert!(e.hint().unwrap().contains("permissions"));
    }
}
