//! Turning a Blob URL and the job's secrets into an authorised client.
//!
//! Order, as AzCopy users expect: a SAS in the URL; then a connection string; then
//! `AZURE_STORAGE_ACCOUNT` + `AZURE_STORAGE_KEY`; otherwise anonymous (public containers).
//! The result also says *where* the credential came from, which is what a job journal stores
//! instead of the secret.

use ferry_azure::{BlobClient, ConnectionString, Credential, SharedKey, TokenSource};
use ferry_core::BlobUrl;

use crate::{JobError as CliError, Secrets};

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
    /// A local path: none needed.
    Local,
    /// A Microsoft Entra ID token.
    Entra,
    /// An AWS key pair (environment or shared credentials file).
    AwsKey,
    /// A Google service account's key file (`GOOGLE_APPLICATION_CREDENTIALS`).
    GcsKey,
}

impl CredentialSource {
    /// A stable code for the job journal: `url-sas`, `connection-string`, `account-key`, `anonymous`.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::UrlSas => "url-sas",
            Self::ConnectionString => "connection-string",
            Self::AccountKey => "account-key",
            Self::Anonymous => "anonymous",
            Self::Local => "local",
            Self::Entra => "entra",
            Self::AwsKey => "aws-key",
            Self::GcsKey => "gcs-key",
        }
    }

    /// For messages: how Ferry is authenticating.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::UrlSas => "the SAS token in the URL",
            Self::ConnectionString => "the connection string in AZURE_STORAGE_CONNECTION_STRING",
            Self::AccountKey => "the account key in AZURE_STORAGE_KEY",
            Self::Anonymous => "anonymous access",
            Self::Local => "the local file system",
            Self::Entra => "a Microsoft Entra ID token",
            Self::AwsKey => "the AWS key pair (AWS_ACCESS_KEY_ID, or the shared credentials file)",
            Self::GcsKey => "the service account key in GOOGLE_APPLICATION_CREDENTIALS",
        }
    }
}

/// Blob host suffixes of Azure's public and sovereign clouds: an account key is sent only to
/// `ACCOUNT` followed by one of these (or to a loopback emulator).
const AZURE_BLOB_SUFFIXES: [&str; 4] =
    ["blob.core.windows.net", "blob.core.chinacloudapi.cn", "blob.core.usgovcloudapi.net", "blob.core.cloudapi.de"];

/// Whether `host` is `account`'s own Azure Blob host (`ACCOUNT.blob.core.windows.net`, a sovereign
/// cloud's, or a DNS-zone endpoint `ACCOUNT.zNN.blob.storage.azure.net`), exactly: a host that
/// merely starts with it (`ACCOUNT.blob.core.windows.net.attacker.example`) is not.
fn is_accounts_azure_host(host: &str, account: &str) -> bool {
    let host = host.to_ascii_lowercase();
    let Some(rest) = host.strip_prefix(&account.to_ascii_lowercase()).and_then(|r| r.strip_prefix('.')) else {
        return false;
    };
    let dns_zone = rest.strip_suffix(".blob.storage.azure.net").is_some_and(|zone| {
        zone.strip_prefix('z').is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    });
    // The account's File service has the same suffixes with `file` for `blob`.
    let file = rest.strip_prefix("file.").map(|r| format!("blob.{r}"));
    dns_zone || AZURE_BLOB_SUFFIXES.contains(&rest) || file.is_some_and(|f| AZURE_BLOB_SUFFIXES.contains(&f.as_str()))
}

/// Whether an account key (or an account's SAS) for `account` may go to `url`: that account's
/// own Azure hosts, or a loopback emulator URL that names the account in its path.
fn account_may_receive(url: &BlobUrl, account: &str) -> bool {
    if url.account() != account {
        return false;
    }
    if url.is_loopback() {
        return url.style() == ferry_core::UrlStyle::Path;
    }
    url.service_url().host_str().is_some_and(|host| is_accounts_azure_host(host, account))
}

/// Whether `url` is on the connection string's `BlobEndpoint` (same scheme, host, port and, for
/// an emulator, account path).
fn on_endpoint(url: &BlobUrl, endpoint: &str) -> bool {
    let (Ok(endpoint), ours) = (url::Url::parse(endpoint.trim()), url.service_url()) else {
        return false;
    };
    let host = |u: &url::Url| u.host_str().map(str::to_ascii_lowercase);
    endpoint.scheme() == ours.scheme()
        && host(&endpoint) == host(&ours)
        && endpoint.port_or_known_default() == ours.port_or_known_default()
        && endpoint.path().trim_end_matches('/') == ours.path().trim_end_matches('/')
}

/// Whether the connection string's credential belongs to `url`: its `BlobEndpoint` when it names
/// one, else its account's own hosts. Says why not.
fn connection_string_covers(cs: &ConnectionString, url: &BlobUrl) -> Result<(), String> {
    match (&cs.blob_endpoint, &cs.account) {
        (Some(endpoint), _) if on_endpoint(url, endpoint) => Ok(()),
        (Some(endpoint), _) => Err(format!(
            "its BlobEndpoint is {}, not this URL's endpoint {}",
            ferry_core::redact_text(endpoint),
            url.service_url()
        )),
        (None, Some(account)) if account_may_receive(url, account) => Ok(()),
        (None, Some(account)) => {
            Err(format!("it is for account `{account}`'s own endpoints, not {}", url.service_url()))
        }
        (None, None) => Err("it names neither a BlobEndpoint nor an AccountName".into()),
    }
}

/// Chooses the credential for `url`. A credential from the environment goes only to the endpoint
/// it belongs to: a connection string's to its `BlobEndpoint` (or its account's Azure hosts), an
/// account key to that account's Azure hosts or a loopback emulator. Anything else is anonymous,
/// with a warning that says which credential was not sent and why.
pub(crate) fn resolve_credential(url: &BlobUrl, env: &Secrets) -> Result<(Credential, CredentialSource), CliError> {
    if let Some(sas) = url.sas() {
        return Ok((Credential::Sas(sas.clone()), CredentialSource::UrlSas));
    }
    if let Some(text) = &env.connection_string {
        let cs = ConnectionString::parse(text.expose())
            .map_err(|e| CliError::usage(format!("AZURE_STORAGE_CONNECTION_STRING is not usable: {e}")))?;
        match connection_string_covers(&cs, url) {
            Err(why) => tracing::warn!(
                "not sending AZURE_STORAGE_CONNECTION_STRING's credential to {}: {why}",
                url.service_url()
            ),
            Ok(()) => {
                if let Some(sas) = cs.sas {
                    return Ok((Credential::Sas(sas), CredentialSource::ConnectionString));
                }
                // The endpoint (checked above) is what binds the key; on a custom domain the
                // URL's first label is no account name.
                if let (Some(account), Some(key)) = (cs.account, cs.key) {
                    let key = SharedKey::new(account, &key)
                        .map_err(|e| CliError::usage(format!("AZURE_STORAGE_CONNECTION_STRING: {e}")))?;
                    return Ok((Credential::SharedKey(key), CredentialSource::ConnectionString));
                }
            }
        }
    }
    if let (Some(account), Some(key)) = (env.account.as_deref(), env.account_key.as_ref()) {
        if account_may_receive(url, account) {
            let key = SharedKey::new(account, key).map_err(|e| CliError::usage(format!("AZURE_STORAGE_KEY: {e}")))?;
            return Ok((Credential::SharedKey(key), CredentialSource::AccountKey));
        }
        if account == url.account() {
            tracing::warn!(
                "not signing with AZURE_STORAGE_KEY: {} is not account `{account}`'s Azure endpoint (nor a local emulator); for a custom domain, use a SAS or a connection string whose BlobEndpoint names it",
                url.service_url()
            );
        } else {
            tracing::warn!(
                env_account = %account,
                url_account = %url.account(),
                "not using AZURE_STORAGE_KEY: AZURE_STORAGE_ACCOUNT names another account"
            );
        }
    }
    if let Some(token) = &env.token {
        token_may_go_to(url, &env.trusted_suffixes)?;
        return Ok((Credential::Token(token.clone()), CredentialSource::Entra));
    }
    Ok((Credential::Anonymous, CredentialSource::Anonymous))
}

/// Azure Storage's own host suffixes: a token goes to these (or to suffixes the user trusts).
const TOKEN_HOST_SUFFIXES: [&str; 5] = [
    ".core.windows.net",
    ".core.chinacloudapi.cn",
    ".core.cloudapi.de",
    ".core.usgovcloudapi.net",
    ".storage.azure.net",
];

/// Refuses to send a bearer token over plain `http://` or to a host that is not Azure Storage's
/// (nor one `--trusted-microsoft-suffixes` names; its entries match `host[:port]`, as AzCopy's).
fn token_may_go_to(url: &BlobUrl, trusted: &[String]) -> Result<(), CliError> {
    let service = url.service_url();
    if service.scheme() != "https" {
        return Err(CliError::usage(format!(
            "`{url}` uses plain http://, and a Microsoft Entra ID token is never sent unencrypted"
        ))
        .with_hint("use the https:// URL, or a SAS or account key for a local emulator over http"));
    }
    let host = service.host_str().unwrap_or_default().to_ascii_lowercase();
    let host_port = service.port().map_or_else(|| host.clone(), |p| format!("{host}:{p}"));
    let ours = TOKEN_HOST_SUFFIXES.iter().any(|s| host.ends_with(s));
    let theirs = trusted.iter().any(|s| {
        let s = s.trim_start_matches('*').to_ascii_lowercase();
        !s.is_empty() && (host_port.ends_with(&s) || host.ends_with(&s))
    });
    if ours || theirs {
        return Ok(());
    }
    Err(CliError::usage(format!(
        "not sending a Microsoft Entra ID token to `{host_port}`: it is not an Azure Storage host"
    ))
    .with_hint(format!(
        "if `{host_port}` is yours, trust it with --trusted-microsoft-suffixes '{host_port}'; or use a SAS"
    )))
}

/// Adds which credential was used to an authentication or permission failure, so the user
/// can tell which of several configured credentials the service refused; for a Microsoft Entra ID
/// token (`token`), whose identity it was and which data role the operation needs.
pub(crate) fn explain_auth(err: CliError, source: CredentialSource, token: Option<&dyn TokenSource>) -> CliError {
    use ferry_store::ErrorKind;
    let kind = err.store_kind();
    if !matches!(kind, Some(ErrorKind::Unauthenticated | ErrorKind::PermissionDenied)) {
        return err;
    }
    if source != CredentialSource::Entra {
        return err.caused_by(format!("Ferry authenticated with {}", source.describe()));
    }
    let who = token.and_then(TokenSource::identity).map_or_else(String::new, |id| format!(" ({id})"));
    let err = err.caused_by(format!("Ferry authenticated with a Microsoft Entra ID token{who}"));
    if kind == Some(ErrorKind::PermissionDenied) {
        err.with_hint(
            "the identity lacks a data role here: Storage Blob Data Reader to read and list, Storage Blob Data Contributor to write and delete (or Owner), on the account or container; an account's Owner or Contributor role is not a data role; a new assignment takes up to 10 minutes to apply",
        )
    } else {
        err.with_hint(
            "the token was refused: the service's detail above says why (an expired token, one for another tenant or audience); check AZCOPY_TENANT_ID and the authority",
        )
    }
}

/// A client for `url` (the job's endpoint in `role`) with the resolved credential and the
/// context's HTTP configuration. With a SAS command for `role`, the SAS (the URL's to start with)
/// is renewed by it.
pub(crate) fn client_for(
    url: &BlobUrl,
    role: crate::Role,
    ctx: &crate::JobContext,
) -> Result<(BlobClient, CredentialSource), CliError> {
    let (credential, source) = match ctx.secrets.sas_command(role) {
        Some(command) => {
            let renewer = ferry_azure::sas_command::SasCommand::new(command, role.as_str(), url.sas().cloned());
            (Credential::RenewableSas(renewer), CredentialSource::UrlSas)
        }
        None => resolve_credential(url, &ctx.secrets)?,
    };
    let client = BlobClient::new(ctx.http.clone(), credential)?;
    Ok((client, source))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_azure::DEVELOPMENT_KEY;
    use ferry_core::Secret;

    /// The secrets the command line would read from these variables.
    struct Environment;

    impl Environment {
        fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Secrets {
            let mut secrets = Secrets::default();
            for (name, value) in pairs {
                match name {
                    "AZURE_STORAGE_CONNECTION_STRING" => secrets.connection_string = Some(Secret::new(value)),
                    "AZURE_STORAGE_ACCOUNT" => secrets.account = Some(value.to_owned()),
                    "AZURE_STORAGE_KEY" => secrets.account_key = Some(Secret::new(value)),
                    _ => unreachable!("{name}"),
                }
            }
            secrets
        }
    }

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
            "BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;SharedAccessSignature=sv=1&sig=abc",
        )]);
        let (c, _) = resolve_credential(&url("http://127.0.0.1:1/devstoreaccount1/box"), &env).unwrap();
        assert!(matches!(c, Credential::Sas(_)));
    }

    /// Finding 3: a connection string's SAS went to any host, and an account key signed
    /// requests to any host whose first label was the account.
    #[test]
    fn credentials_go_only_to_their_own_endpoint() {
        let sas = "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;SharedAccessSignature=sv=1&sig=abc";
        let env = Environment::from_pairs([("AZURE_STORAGE_CONNECTION_STRING", sas)]);
        for other in [
            "http://127.0.0.1:10001/devstoreaccount1/box",
            "http://127.0.0.1:10000/otheraccount/box",
            "https://devstoreaccount1.blob.core.windows.net/box",
        ] {
            let (c, s) = resolve_credential(&url(other), &env).unwrap();
            assert!(matches!(c, Credential::Anonymous), "{other}");
            assert_eq!(s, CredentialSource::Anonymous);
        }
        let key = format!("AccountName=acct;AccountKey={DEVELOPMENT_KEY}");
        let env = Environment::from_pairs([
            ("AZURE_STORAGE_CONNECTION_STRING", key.as_str()),
            ("AZURE_STORAGE_ACCOUNT", "acct"),
            ("AZURE_STORAGE_KEY", DEVELOPMENT_KEY),
        ]);
        for foreign in [
            "https://acct.blob.core.windows.net.attacker.example/box",
            "https://acct.blob.evil.example/box",
            "https://acct.z99.blob.storage.azure.net.attacker.example/box",
        ] {
            let (c, _) = resolve_credential(&url(foreign), &env).unwrap();
            assert!(matches!(c, Credential::Anonymous), "{foreign}");
        }
        let custom = BlobUrl::parse("https://files.contoso.example/box", true).unwrap();
        assert!(matches!(resolve_credential(&custom, &env).unwrap().0, Credential::Anonymous), "a custom domain");
        for own in [
            "https://acct.blob.core.windows.net/box",
            "https://ACCT.blob.core.usgovcloudapi.net/box",
            "https://acct.z12.blob.storage.azure.net/box",
        ] {
            let (c, _) = resolve_credential(&url(own), &env).unwrap();
            assert!(matches!(c, Credential::SharedKey(_)), "{own}");
        }
        // A connection string that names a custom domain as its BlobEndpoint is the way to use one.
        let custom_cs =
            format!("BlobEndpoint=https://files.contoso.example;AccountName=acct;AccountKey={DEVELOPMENT_KEY}");
        let env = Environment::from_pairs([("AZURE_STORAGE_CONNECTION_STRING", custom_cs.as_str())]);
        assert!(matches!(resolve_credential(&custom, &env).unwrap().0, Credential::SharedKey(_)));
    }

    #[derive(Debug)]
    struct Fixed;

    #[async_trait::async_trait]
    impl ferry_azure::TokenSource for Fixed {
        async fn token(&self) -> Result<Secret, String> {
            Ok(Secret::new("t"))
        }
    }

    /// A token goes over https only, and only to Azure Storage hosts or trusted ones; a SAS or a
    /// key still comes first.
    #[test]
    fn tokens_go_only_over_https_to_storage_hosts() {
        let mut env = Secrets { token: Some(std::sync::Arc::new(Fixed)), ..Secrets::default() };
        let (c, s) = resolve_credential(&url("https://acct.blob.core.windows.net/box"), &env).unwrap();
        assert!(matches!(c, Credential::Token(_)));
        assert_eq!(s, CredentialSource::Entra);
        let (_, s) = resolve_credential(&url("https://acct.blob.core.windows.net/box?sv=1&sig=x"), &env).unwrap();
        assert_eq!(s, CredentialSource::UrlSas);
        let http = resolve_credential(&url("http://127.0.0.1:10000/devstoreaccount1/box"), &env).unwrap_err();
        assert!(http.message().contains("never sent unencrypted"), "{}", http.message());
        let foreign = resolve_credential(&url("https://127.0.0.1:9443/devstoreaccount1/box"), &env).unwrap_err();
        assert!(foreign.hint().unwrap().contains("--trusted-microsoft-suffixes '127.0.0.1:9443'"));
        let lookalike = resolve_credential(&url("https://acct.blob.core.windows.net.evil.example/box"), &env);
        assert!(lookalike.is_err());
        env.trusted_suffixes = vec![".0.1:9443".into()];
        let (_, s) = resolve_credential(&url("https://127.0.0.1:9443/devstoreaccount1/box"), &env).unwrap();
        assert_eq!(s, CredentialSource::Entra);
    }

    #[derive(Debug)]
    struct Known;

    #[async_trait::async_trait]
    impl ferry_azure::TokenSource for Known {
        async fn token(&self) -> Result<Secret, String> {
            Ok(Secret::new("t"))
        }

        fn identity(&self) -> Option<String> {
            Some("signed in by spn, object id o-1, tenant t-1".into())
        }
    }

    /// A role mismatch under Entra ID names the identity and the data role the operation needs,
    /// not SAS permissions.
    #[test]
    fn a_role_mismatch_names_the_identity_and_the_data_role() {
        use ferry_store::{ErrorKind, StoreError};
        let refused = || -> CliError {
            StoreError::new(ErrorKind::PermissionDenied, "box/a", "HTTP 403 AuthorizationPermissionMismatch")
                .with_hint("a SAS needs the permissions the command uses")
                .into()
        };
        let err = explain_auth(refused(), CredentialSource::Entra, Some(&Known));
        assert!(err.causes().iter().any(|c| c.contains("object id o-1, tenant t-1")), "{:?}", err.causes());
        let hint = err.hint().unwrap();
        assert!(hint.contains("Storage Blob Data Contributor") && hint.contains("10 minutes"), "{hint}");
        assert!(!hint.contains("SAS"), "{hint}");
        let with_key = explain_auth(refused(), CredentialSource::AccountKey, None);
        assert!(with_key.hint().unwrap().contains("SAS"), "other credentials keep their hint");
    }

    #[test]
    fn a_bad_key_is_a_usage_error() {
        let env = Environment::from_pairs([("AZURE_STORAGE_ACCOUNT", "acct"), ("AZURE_STORAGE_KEY", "not base64 !")]);
        let err = resolve_credential(&url("https://acct.blob.core.windows.net/box"), &env).unwrap_err();
        assert_eq!(err.class(), crate::ErrorClass::Usage);
        assert!(!err.message().contains("not base64 !"), "the key is not echoed");
    }
}
