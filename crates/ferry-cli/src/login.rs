//! Signing in to Microsoft Entra ID from the environment (AzCopy's auto-login): which token
//! source `AZCOPY_AUTO_LOGIN_TYPE` and its variables describe. The flows themselves are in
//! `ferry_azure::entra`.

use std::sync::Arc;

use ferry_azure::TokenSource;
use ferry_azure::entra::{DEFAULT_AUTHORITY, EntraToken, Flow, ManagedId};
use ferry_core::Secret;

use crate::{CliError, Environment};

/// The token source auto-login describes, if `AZCOPY_AUTO_LOGIN_TYPE` is set. One per process:
/// every client of every job shares its cached token.
pub(crate) fn auto_login(
    env: &Environment,
    http: &ferry_azure::HttpConfig,
) -> Result<Option<Arc<dyn TokenSource>>, CliError> {
    let Some(source) = auto_login_source(env, http)? else { return Ok(None) };
    Ok(Some(Arc::new(source.shared_in(&token_dir(env)))))
}

/// Where this user's Ferry processes share access tokens: `FERRY_TOKEN_CACHE_LOCATION`, else
/// `~/.ferry/tokens`.
fn token_dir(env: &Environment) -> std::path::PathBuf {
    if let Some(dir) = env.get("FERRY_TOKEN_CACHE_LOCATION") {
        return dir.into();
    }
    let home = std::env::var_os("HOME").map_or_else(std::env::temp_dir, std::path::PathBuf::from);
    home.join(".ferry").join("tokens")
}

fn auto_login_source(env: &Environment, http: &ferry_azure::HttpConfig) -> Result<Option<EntraToken>, CliError> {
    let Some(kind) = env.get("AZCOPY_AUTO_LOGIN_TYPE") else { return Ok(None) };
    let flow = flow_for(kind.trim(), env).map_err(|e| {
        CliError::usage(format!("auto-login (AZCOPY_AUTO_LOGIN_TYPE={kind}): {}", e.message())).with_hint(
            e.hint().unwrap_or("see the README's Sign-in section for the variables each type reads").to_owned(),
        )
    })?;
    Ok(Some(EntraToken::new(flow, http.clone())?))
}

fn required<'a>(env: &'a Environment, names: &[&str]) -> Result<&'a str, CliError> {
    names.iter().find_map(|n| env.get(n)).ok_or_else(|| CliError::usage(format!("{} is not set", names.join(" or "))))
}

fn flow_for(kind: &str, env: &Environment) -> Result<Flow, CliError> {
    let authority = |names: &[&str]| names.iter().find_map(|n| env.get(n)).unwrap_or(DEFAULT_AUTHORITY).to_owned();
    match kind.to_ascii_uppercase().as_str() {
        "SPN" => {
            if env.get("AZCOPY_SPA_CERT_PATH").is_some() {
                return Err(CliError::usage("certificate sign-in (AZCOPY_SPA_CERT_PATH) is not supported yet")
                    .with_hint("use a client secret (AZCOPY_SPA_CLIENT_SECRET) for now"));
            }
            let client_id = required(env, &["AZCOPY_SPA_APPLICATION_ID"])?.to_owned();
            let tenant = required(env, &["AZCOPY_TENANT_ID"]).map_err(|e| {
                e.with_hint("a service principal signs in to its own tenant: set AZCOPY_TENANT_ID to its id")
            })?;
            let secret = Secret::new(required(env, &["AZCOPY_SPA_CLIENT_SECRET"])?);
            let token_url =
                Flow::token_url(&authority(&["AZCOPY_ACTIVE_DIRECTORY_ENDPOINT"]), tenant).map_err(CliError::usage)?;
            Ok(Flow::ClientSecret { token_url, client_id, secret })
        }
        "WORKLOAD" => {
            let client_id = required(env, &["AZURE_CLIENT_ID", "AZCOPY_SPA_APPLICATION_ID"])?.to_owned();
            let tenant = required(env, &["AZURE_TENANT_ID", "AZCOPY_TENANT_ID"])?;
            let token_file = required(env, &["AZURE_FEDERATED_TOKEN_FILE"])?.into();
            let host = authority(&["AZURE_AUTHORITY_HOST", "AZCOPY_ACTIVE_DIRECTORY_ENDPOINT"]);
            let token_url = Flow::token_url(&host, tenant).map_err(CliError::usage)?;
            Ok(Flow::Workload { token_url, client_id, token_file })
        }
        "MSI" => {
            if env.get("AZCOPY_MSI_OBJECT_ID").is_some() {
                return Err(CliError::usage(
                    "object ID is deprecated and no longer supported for managed identity. Please use client ID or resource ID instead",
                ));
            }
            let id = match (env.get("AZCOPY_MSI_CLIENT_ID"), env.get("AZCOPY_MSI_RESOURCE_STRING")) {
                (Some(c), _) => Some(ManagedId::ClientId(c.to_owned())),
                (None, Some(r)) => Some(ManagedId::ResourceId(r.to_owned())),
                (None, None) => None,
            };
            match (env.get("IDENTITY_ENDPOINT"), env.get("IDENTITY_HEADER")) {
                (Some(endpoint), Some(header)) => {
                    let endpoint = url::Url::parse(endpoint)
                        .map_err(|e| CliError::usage(format!("IDENTITY_ENDPOINT is not a URL: {e}")))?;
                    Ok(Flow::AppService { endpoint, header: Secret::new(header), id })
                }
                _ => {
                    let endpoint =
                        Flow::imds_url(env.get("AZURE_POD_IDENTITY_AUTHORITY_HOST")).map_err(CliError::usage)?;
                    Ok(Flow::Imds { endpoint, id })
                }
            }
        }
        "DEVICE" | "AZCLI" | "PSCRED" => Err(CliError::usage(format!("the `{kind}` sign-in is not supported yet"))
            .with_hint("use SPN, MSI or WORKLOAD, or a SAS")),
        _ => Err(CliError::usage(format!("`{kind}` is not a login type"))
            .with_hint("use SPN, MSI or WORKLOAD (AzCopy's DEVICE, AZCLI and PSCRED are not supported yet)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(pairs: &[(&str, &str)]) -> Result<Flow, CliError> {
        let env = Environment::from_pairs(pairs.iter().copied());
        flow_for(env.get("AZCOPY_AUTO_LOGIN_TYPE").unwrap(), &env)
    }

    #[test]
    fn each_login_type_reads_its_variables() {
        let spn = flow(&[
            ("AZCOPY_AUTO_LOGIN_TYPE", "spn"),
            ("AZCOPY_SPA_APPLICATION_ID", "app"),
            ("AZCOPY_SPA_CLIENT_SECRET", "s3cret"),
            ("AZCOPY_TENANT_ID", "t1"),
            ("AZCOPY_ACTIVE_DIRECTORY_ENDPOINT", "https://127.0.0.1:9"),
        ])
        .unwrap();
        let Flow::ClientSecret { token_url, client_id, .. } = spn else { panic!("{spn:?}") };
        assert_eq!((token_url.as_str(), client_id.as_str()), ("https://127.0.0.1:9/t1/oauth2/v2.0/token", "app"));
        let no_tenant = flow(&[
            ("AZCOPY_AUTO_LOGIN_TYPE", "SPN"),
            ("AZCOPY_SPA_APPLICATION_ID", "app"),
            ("AZCOPY_SPA_CLIENT_SECRET", "s"),
        ])
        .unwrap_err();
        assert!(no_tenant.message().contains("AZCOPY_TENANT_ID"), "{}", no_tenant.message());
        let msi = flow(&[
            ("AZCOPY_AUTO_LOGIN_TYPE", "MSI"),
            ("IDENTITY_ENDPOINT", "http://127.0.0.1:9/msi/token"),
            ("IDENTITY_HEADER", "h"),
            ("AZCOPY_MSI_CLIENT_ID", "c1"),
        ])
        .unwrap();
        assert!(matches!(msi, Flow::AppService { id: Some(ManagedId::ClientId(_)), .. }), "{msi:?}");
        let imds =
            flow(&[("AZCOPY_AUTO_LOGIN_TYPE", "msi"), ("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9")])
                .unwrap();
        let Flow::Imds { endpoint, .. } = imds else { panic!() };
        assert_eq!(endpoint.as_str(), "http://127.0.0.1:9/metadata/identity/oauth2/token");
        assert!(
            flow(&[("AZCOPY_AUTO_LOGIN_TYPE", "MSI"), ("AZCOPY_MSI_OBJECT_ID", "o")])
                .unwrap_err()
                .message()
                .contains("deprecated")
        );
        assert!(flow(&[("AZCOPY_AUTO_LOGIN_TYPE", "bogus")]).is_err());
        let http_authority = flow(&[
            ("AZCOPY_AUTO_LOGIN_TYPE", "WORKLOAD"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/f"),
            ("AZURE_AUTHORITY_HOST", "http://127.0.0.1:9"),
        ])
        .unwrap_err();
        assert!(http_authority.message().contains("https://"), "{}", http_authority.message());
    }
}
