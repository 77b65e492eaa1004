//! Turning a Blob URL and the environment into an authorised client.
//!
//! Order, as AzCopy users expect: a SAS in the URL; then a connection string; then
//! `AZURE_STORAGE_ACCOUNT` + `AZURE_STORAGE_KEY`; otherwise anonymous (public containers).
//! The result also says *where* the credential came from, which is what a job journal stores
//! instead of the secret.

use ferry_azure::{BlobClient, ConnectionString, Credential, SharedKey};
use ferry_core::{BlobUrl, Secret};

use crate::{CliError, Environment, Settings};

/// Where a credential came from (a reference that is safe to store and print).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CredentialSource {
    /// The SAS in the URL the user typed.
    UrlSas,
    /// `AZURE_STORAGE_CONNECTION_STRING`.
    ConnectionString,
    /// `AZURE_STORAGE_ACCOUNT` + `AZURE_STORAGE_KEY`.
    AccountKey,
    /// No credential.
    Anonymous,
}

impl CredentialSource {
    /// A stable code for the job journal: `url-sas`, `connection-string`, `account-key`, `anonymous`.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::UrlSas => "url-sas",
            Self::ConnectionString => "connection-string",
            Self::AccountKey => "account-key",
            Self::Anonymous => "anonymous",
        }
    }

    /// For messages: how Ferry is authenticating.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::UrlSas => "the SAS token in the URL",
            Self::ConnectionString => "the connection string in AZURE_STORAGE_CONNECTION_STRING",
            Self::AccountKey => "the account key in AZURE_STORAGE_KEY",
            Self::Anonymous => "anonymous access",
        }
    }
}

/// Chooses the credential for `url`.
pub(crate) fn resolve_credential(url: &BlobUrl, env: &Environment) -> Result<(Credential, CredentialSource), CliError> {
    if let Some(sas) = url.sas() {
        return Ok((Credential::Sas(sas.clone()), CredentialSource::UrlSas));
    }
    if let Some(text) = env.get("AZURE_STORAGE_CONNECTION_STRING") {
        let cs = ConnectionString::parse(text)
            .map_err(|e| CliError::usage(format!("AZURE_STORAGE_CONNECTION_STRING is not usable: {e}")))?;
        if let Some(sas) = cs.sas {
            return Ok((Credential::Sas(sas), CredentialSource::ConnectionString));
        }
        if let (Some(account), Some(key)) = (cs.account, cs.key) {
            if account == url.account() {
                let key = SharedKey::new(account, &key)
                    .map_err(|e| CliError::usage(format!("AZURE_STORAGE_CONNECTION_STRING: {e}")))?;
                return Ok((Credential::SharedKey(key), CredentialSource::ConnectionString));
            }
            tracing::warn!(
                connection_string_account = %account,
                url_account = %url.account(),
                "not using AZURE_STORAGE_CONNECTION_STRING: it is for another account"
            );
        }
    }
    if let (Some(account), Some(key)) = (env.get("AZURE_STORAGE_ACCOUNT"), env.get("AZURE_STORAGE_KEY")) {
        if account == url.account() {
            let key = SharedKey::new(account, &Secret::new(key))
                .map_err(|e| CliError::usage(format!("AZURE_STORAGE_KEY: {e}")))?;
            return Ok((Credential::SharedKey(key), CredentialSource::AccountKey));
        }
        tracing::warn!(
            env_account = %account,
            url_account = %url.account(),
            "not using AZURE_STORAGE_KEY: AZURE_STORAGE_ACCOUNT names another account"
        );
    }
    Ok((Credential::Anonymous, CredentialSource::Anonymous))
}

/// Adds which credential was used to an authentication or permission failure, so the user
/// can tell which of several configured credentials the service refused.
pub(crate) fn explain_auth(err: CliError, source: CredentialSource) -> CliError {
    use ferry_store::ErrorKind;
    match err.store_kind() {
        Some(ErrorKind::Unauthenticated | ErrorKind::PermissionDenied) => {
            err.caused_by(format!("Ferry authenticated with {}", source.describe()))
        }
        _ => err,
    }
}

/// A client for `url` with the resolved credential and the settings' HTTP configuration.
pub(crate) fn client_for(
    url: &BlobUrl,
    settings: &Settings,
    env: &Environment,
) -> Result<(BlobClient, CredentialSource), CliError> {
    let (credential, source) = resolve_credential(url, env)?;
    let client = BlobClient::new(settings.http.clone(), credential)?;
    Ok((client, source))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_azure::DEVELOPMENT_KEY;

    fn url(text: &str) -> BlobUrl {
        BlobUrl::parse(text, false).unwrap()
    }

    #[test]
    fn a_sas_in_the_url_wins() {
        let env = Environment::from_pairs([("AZURE_STORAGE_ACCOUNT", "acct"), ("AZURE_STORAGE_KEY", DEVELOPMENT_KEY)]);
        let (c, s) = resolve_credential(&url("https://acct.blob.core.windows.net/box?sv=1&sig=x"), &env).unwrap();
        assert!(matches!(c, Credential::Sas(_)));
        assert_eq!(s, CredentialSource::UrlSas);
    }

    #[test]
    fn account_key_for_the_same_account_only() {
        let env = Environment::from_pairs([("AZURE_STORAGE_ACCOUNT", "acct"), ("AZURE_STORAGE_KEY", DEVELOPMENT_KEY)]);
        let (_, s) = resolve_credential(&url("https://acct.blob.core.windows.net/box"), &env).unwrap();
        assert_eq!(s, CredentialSource::AccountKey);
        let (c, s) = resolve_credential(&url("https://other.blob.core.windows.net/box"), &env).unwrap();
        assert!(matches!(c, Credential::Anonymous));
        assert_eq!(s, CredentialSource::Anonymous);
    }

    #[test]
    fn connection_strings_give_key_or_sas() {
        let with_key = format!("AccountName=devstoreaccount1;AccountKey={DEVELOPMENT_KEY}");
        let env = Environment::from_pairs([("AZURE_STORAGE_CONNECTION_STRING", with_key.as_str())]);
        let (c, s) = resolve_credential(&url("http://127.0.0.1:1/devstoreaccount1/box"), &env).unwrap();
        assert!(matches!(c, Credential::SharedKey(_)));
        assert_eq!(s, CredentialSource::ConnectionString);
        let env = Environment::from_pairs([(
            "AZURE_STORAGE_CONNECTION_STRING",
            "BlobEndpoint=x;SharedAccessSignature=sv=1&sig=abc",
        )]);
        let (c, _) = resolve_credential(&url("http://127.0.0.1:1/devstoreaccount1/box"), &env).unwrap();
        assert!(matches!(c, Credential::Sas(_)));
    }

    #[test]
    fn a_bad_key_is_a_usage_error() {
        let env = Environment::from_pairs([("AZURE_STORAGE_ACCOUNT", "acct"), ("AZURE_STORAGE_KEY", "not base64 !")]);
        let err = resolve_credential(&url("https://acct.blob.core.windows.net/box"), &env).unwrap_err();
        assert_eq!(err.exit_status(), crate::ExitStatus::Usage);
        assert!(!err.message().contains("not base64 !"), "the key is not echoed");
    }
}
