//! Where S3 credentials and the region come from: the environment, as AzCopy reads them, and
//! (beyond AzCopy) the shared credentials file every AWS tool reads.

use std::path::PathBuf;

use ferry_core::Secret;

use crate::sigv4::Credentials;

/// The variables and files read, for messages and `ferry env`.
pub const SOURCES: &str = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN for temporary credentials), or a profile in ~/.aws/credentials (AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE)";

/// The credentials to sign with: the key pair in `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`
/// (and `AWS_SESSION_TOKEN`), else the profile `AWS_PROFILE` (default `default`) of the shared
/// credentials file (`AWS_SHARED_CREDENTIALS_FILE`, default `~/.aws/credentials`), else none
/// (anonymous: public buckets). A half-given pair is an error, never silently anonymous.
pub fn from_environment(get: &dyn Fn(&str) -> Option<String>) -> Result<Option<Credentials>, String> {
    let var = |name: &str| get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
        (Some(id), Some(secret)) => {
            return Ok(Some(Credentials {
                access_key_id: id,
                secret_access_key: Secret::new(secret),
                session_token: var("AWS_SESSION_TOKEN").map(Secret::new),
            }));
        }
        (Some(_), None) => return Err("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not".to_owned()),
        (None, Some(_)) => return Err("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not".to_owned()),
        (None, None) => {}
    }
    let profile = var("AWS_PROFILE").unwrap_or_else(|| "default".to_owned());
    let explicit = var("AWS_SHARED_CREDENTIALS_FILE").map(PathBuf::from);
    let Some(file) = explicit.clone().or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".aws/credentials"))) else {
        return Ok(None);
    };
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit.is_none() => return Ok(None),
        Err(e) => return Err(format!("cannot read the AWS credentials file {}: {e}", file.display())),
    };
    match profile_in(&text, &profile) {
        Some(credentials) => Ok(Some(credentials)),
        None if var("AWS_PROFILE").is_some() => {
            Err(format!("the AWS credentials file {} has no profile `{profile}` with a key pair", file.display()))
        }
        None => Ok(None),
    }
}

/// The key pair of `[profile]` in an INI-style credentials file.
fn profile_in(text: &str, profile: &str) -> Option<Credentials> {
    let mut in_profile = false;
    let (mut id, mut secret, mut token) = (None, None, None);
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_profile = name.trim() == profile;
            continue;
        }
        let Some((key, value)) = line.split_once('=') else { continue };
        if !in_profile {
            continue;
        }
        let value = value.trim().to_owned();
        match key.trim().to_ascii_lowercase().as_str() {
            "aws_access_key_id" => id = Some(value),
            "aws_secret_access_key" => secret = Some(value),
            "aws_session_token" => token = Some(value),
            _ => {}
        }
    }
    Some(Credentials {
        access_key_id: id?,
        secret_access_key: Secret::new(secret?),
        session_token: token.map(Secret::new),
    })
}

/// The region to sign for when the URL names none: `AWS_REGION`, `AWS_DEFAULT_REGION`, else
/// `us-east-1` (what S3-compatible servers expect).
pub fn region_from_environment(get: &dyn Fn(&str) -> Option<String>) -> String {
    ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .find_map(|name| get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "us-east-1".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn variables_then_profile_then_anonymous() {
        let vars = [("AWS_ACCESS_KEY_ID", "AK"), ("AWS_SECRET_ACCESS_KEY", "SK"), ("AWS_SESSION_TOKEN", "T")];
        let c = from_environment(&env(&vars)).unwrap().unwrap();
        assert_eq!(c.access_key_id, "AK");
        assert_eq!(c.session_token.unwrap().expose(), "T");
        assert!(from_environment(&env(&[("AWS_ACCESS_KEY_ID", "AK")])).is_err());

        let dir = std::env::temp_dir().join(format!("ferry-s3-creds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("credentials");
        std::fs::write(&file, "[default]\naws_access_key_id = D\naws_secret_access_key = DS\n\n[work]\naws_access_key_id=W\naws_secret_access_key=WS\n").unwrap();
        let path = file.to_str().unwrap();
        let vars = [("AWS_SHARED_CREDENTIALS_FILE", path), ("AWS_PROFILE", "work")];
        assert_eq!(from_environment(&env(&vars)).unwrap().unwrap().access_key_id, "W");
        let vars = [("AWS_SHARED_CREDENTIALS_FILE", path)];
        assert_eq!(from_environment(&env(&vars)).unwrap().unwrap().access_key_id, "D");
        let vars = [("AWS_SHARED_CREDENTIALS_FILE", path), ("AWS_PROFILE", "nope")];
        assert!(from_environment(&env(&vars)).unwrap_err().contains("no profile `nope`"));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(from_environment(&env(&[("HOME", "/nonexistent")])).unwrap().is_none());
        assert_eq!(region_from_environment(&env(&[("AWS_DEFAULT_REGION", "eu-west-3")])), "eu-west-3");
        assert_eq!(region_from_environment(&env(&[])), "us-east-1");
    }
}
