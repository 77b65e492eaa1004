//! Who may do what: Shared Key (the same signature as Blob's, over `/account/share/path`) and
//! shared access signatures — a share or file SAS (`sr=s|f`) or an account SAS with the File
//! service (`ss` holding `f`) — checked by signature, time and permission.

use axum::http::{HeaderMap, Method};
use time::OffsetDateTime;

use super::{ACCOUNT, Failure, KEY};

/// The SAS permissions any one of which allows a request: `r` read, `l` list, `d` delete,
/// `c` or `w` to create, `w` to write.
pub(super) fn permissions_for(method: &Method, query: &[(String, String)]) -> &'static str {
    let has = |k: &str, v: &str| query.iter().any(|(a, b)| a == k && b == v);
    match *method {
        Method::GET | Method::HEAD if has("comp", "list") => "l",
        Method::GET | Method::HEAD => "r",
        Method::DELETE => "d",
        Method::PUT if query.iter().all(|(a, _)| a != "comp") => "cw",
        _ => "w",
    }
}

fn key() -> ferry_azure::SharedKey {
    ferry_azure::SharedKey::new(ACCOUNT, &ferry_core::Secret::new(KEY)).expect("the development key is base64")
}

/// Checks the request's credential; `resource` is `/file/ACCOUNT/SHARE[/PATH]` for a SAS.
pub(super) fn check(
    method: &Method,
    url: &url::Url,
    headers: &HeaderMap,
    query: &[(String, String)],
    resource: &str,
) -> Result<(), Failure> {
    if let Some(given) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        let expected = key().authorization(method.as_str(), url, headers);
        if given.trim() != expected {
            return Err(Failure::auth("the Shared Key signature does not match the request"));
        }
        return Ok(());
    }
    let get = |k: &str| query.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str());
    let Some(sig) = get("sig") else {
        return Err(Failure::new(401, "NoAuthenticationInformation", "the request carries no credential"));
    };
    let sp = get("sp").unwrap_or("");
    let (st, se, sv) = (get("st").unwrap_or(""), get("se").unwrap_or(""), get("sv").unwrap_or(""));
    let to_sign = match get("ss") {
        // An account SAS.
        Some(ss) => {
            if !ss.contains('f') {
                return Err(Failure::auth("the account SAS does not cover the File service (ss)"));
            }
            let srt = get("srt").unwrap_or("");
            let (sip, spr, ses) = (get("sip").unwrap_or(""), get("spr").unwrap_or(""), get("ses").unwrap_or(""));
            format!("{ACCOUNT}\n{sp}\n{ss}\n{srt}\n{st}\n{se}\n{sip}\n{spr}\n{sv}\n{ses}\n")
        }
        // A share or file SAS: its resource must contain the request's.
        None => {
            let sr = get("sr").unwrap_or("");
            let share_of = |r: &str| r.splitn(5, '/').take(4).collect::<Vec<_>>().join("/");
            let signed_resource = match sr {
                "s" => share_of(resource),
                "f" => resource.to_owned(),
                _ => return Err(Failure::auth("the SAS names no File resource (sr must be s or f)")),
            };
            let field = |k: &str| get(k).unwrap_or("").to_owned();
            format!(
                "{sp}\n{st}\n{se}\n{signed_resource}\n{}\n{}\n{}\n{sv}\n{}\n{}\n{}\n{}\n{}",
                field("si"),
                field("sip"),
                field("spr"),
                field("rscc"),
                field("rscd"),
                field("rsce"),
                field("rscl"),
                field("rsct")
            )
        }
    };
    if key().sign(&to_sign) != sig {
        return Err(Failure::auth("the SAS signature does not match"));
    }
    let parse = |t: &str| OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok();
    let now = OffsetDateTime::now_utc();
    if parse(se).is_none_or(|e| e < now) || (!st.is_empty() && parse(st).is_none_or(|s| s > now)) {
        return Err(Failure::auth("the SAS is not valid at this time"));
    }
    if !permissions_for(method, query).chars().any(|p| sp.contains(p)) {
        return Err(Failure::new(403, "AuthorizationPermissionMismatch", "the SAS does not grant this operation"));
    }
    Ok(())
}
