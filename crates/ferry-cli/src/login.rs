//! Signing in to Microsoft Entra ID: from the environment (AzCopy's auto-login), or from the
//! sign-in `ferry login` saved. The saved sign-in says how to sign in (type, tenant, authority,
//! application or identity id) and never holds a secret; the access tokens this user's processes
//! share sit beside it. The flows themselves are in `ferry_azure::entra`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ferry_azure::TokenSource;
use ferry_azure::device_code::AZCOPY_CLIENT_ID;
use ferry_azure::entra::{DEFAULT_AUTHORITY, EntraToken, Flow, ManagedId, Tool};
use ferry_core::Secret;
use serde::{Deserialize, Serialize};

use crate::{CliError, Environment};

/// How to sign in, as `ferry login` saves it: no secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SavedLogin {
    /// AzCopy's login type: `device`, `spn`, `msi`, `azcli`, `pscred` or `workload`.
    pub(crate) login_type: String,
    /// The tenant (spn, workload; device, azcli and pscred when given).
    pub(crate) tenant: Option<String>,
    /// The authority host.
    pub(crate) authority: Option<String>,
    /// The application (client) id (spn, workload).
    pub(crate) application_id: Option<String>,
    /// A user-assigned managed identity's client id.
    pub(crate) identity_client_id: Option<String>,
    /// A user-assigned managed identity's resource id.
    pub(crate) identity_resource_id: Option<String>,
    /// A service principal's certificate (PEM or PKCS#12), instead of a secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) certificate_path: Option<String>,
}

/// The folder of the saved sign-in and the shared tokens: `FERRY_LOGIN_LOCATION`, else
/// `~/.ferry/login`.
pub(crate) fn login_dir(env: &Environment) -> PathBuf {
    if let Some(dir) = env.get("FERRY_LOGIN_LOCATION") {
        return dir.into();
    }
    let home = std::env::var_os("HOME").map_or_else(std::env::temp_dir, PathBuf::from);
    home.join(".ferry").join("login")
}

fn saved_path(env: &Environment) -> PathBuf {
    login_dir(env).join("login.json")
}

/// Where a device sign-in's refresh token is kept (0600, beside the saved sign-in).
pub(crate) fn refresh_token_path(env: &Environment) -> PathBuf {
    login_dir(env).join("refresh-token")
}

impl SavedLogin {
    /// The saved sign-in, if there is one.
    pub(crate) fn load(env: &Environment) -> Result<Option<Self>, CliError> {
        let path = saved_path(env);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
                CliError::failed(format!("the saved sign-in `{}` cannot be read: {e}", path.display()))
                    .with_hint("sign in again with `ferry login`, or remove it with `ferry logout`")
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(CliError::failed(format!("cannot read the saved sign-in `{}`: {e}", path.display()))),
        }
    }

    /// Saves it (0600, written whole then renamed, in a 0700 folder).
    pub(crate) fn save(&self, env: &Environment) -> Result<(), CliError> {
        use std::io::Write as _;
        use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
        let path = saved_path(env);
        let failed = |e: std::io::Error| {
            CliError::failed(format!("cannot save the sign-in in `{}`: {e}", path.display()))
                .with_hint("set FERRY_LOGIN_LOCATION to a folder of yours")
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(failed)?;
        let temp = path.with_extension("tmp");
        let text = serde_json::to_string_pretty(self).expect("a sign-in serialises");
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .and_then(|()| std::fs::rename(&temp, &path))
            .map_err(failed)
    }

    /// Forgets the saved sign-in and the shared tokens; whether there was a sign-in.
    pub(crate) fn forget(env: &Environment) -> Result<bool, CliError> {
        let dir = login_dir(env);
        let existed = match std::fs::remove_file(saved_path(env)) {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(CliError::failed(format!("cannot remove the saved sign-in: {e}"))),
        };
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let ours =
                    name == "refresh-token" || entry.path().extension().is_some_and(|x| x == "json" || x == "lock");
                if ours {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        Ok(existed)
    }

    /// The flow it describes, with the secrets the environment gives (never saved).
    pub(crate) fn flow(&self, env: &Environment) -> Result<Flow, CliError> {
        let authority = self.authority.clone().unwrap_or_else(|| DEFAULT_AUTHORITY.to_owned());
        let need = |value: &Option<String>, what: &str| {
            value
                .clone()
                .ok_or_else(|| CliError::usage(format!("{what} is required for --login-type {}", self.login_type)))
        };
        match self.login_type.as_str() {
            "spn" => {
                let tenant = need(&self.tenant, "--tenant-id")?;
                let token_url = Flow::token_url(&authority, &tenant).map_err(CliError::usage)?;
                let client_id = need(&self.application_id, "--application-id")?;
                if let Some(path) = &self.certificate_path {
                    return certificate_flow(token_url, client_id, path, env);
                }
                let secret = env.get("AZCOPY_SPA_CLIENT_SECRET").map(Secret::new);
                Ok(Flow::ClientSecret { token_url, client_id, secret })
            }
            "workload" => {
                let tenant = need(&self.tenant, "--tenant-id (or AZURE_TENANT_ID)")?;
                let token_url = Flow::token_url(&authority, &tenant).map_err(CliError::usage)?;
                let client_id = need(&self.application_id, "--application-id (or AZURE_CLIENT_ID)")?;
                let token_file = required(env, &["AZURE_FEDERATED_TOKEN_FILE"])?.into();
                Ok(Flow::Workload { token_url, client_id, token_file })
            }
            "msi" => managed_identity(env, self.identity_client_id.clone(), self.identity_resource_id.clone()),
            "device" => {
                let tenant = self.tenant.clone().unwrap_or_else(|| "common".into());
                let token_url = Flow::token_url(&authority, &tenant).map_err(CliError::usage)?;
                let client_id = self.application_id.clone().unwrap_or_else(|| AZCOPY_CLIENT_ID.into());
                Ok(Flow::RefreshToken { token_url, client_id, store: refresh_token_path(env) })
            }
            "azcli" => tool_flow(Tool::AzureCli, self.tenant.as_deref()),
            "pscred" => tool_flow(Tool::PowerShell, self.tenant.as_deref()),
            other => Err(CliError::usage(format!("the saved sign-in has an unknown type `{other}`"))),
        }
    }
}

/// The token source for this process: auto-login when `AZCOPY_AUTO_LOGIN_TYPE` is set, else the
/// saved sign-in, else none. One per process: every client of every job shares its token, and
/// this user's processes share it through the login folder.
pub(crate) fn token_source(
    env: &Environment,
    http: &ferry_azure::HttpConfig,
) -> Result<Option<Arc<dyn TokenSource>>, CliError> {
    let flow = match env.get("AZCOPY_AUTO_LOGIN_TYPE") {
        Some(kind) => Some(auto_login_flow(kind.trim(), env).map_err(|e| {
            let message = format!("auto-login (AZCOPY_AUTO_LOGIN_TYPE={kind}): {}", e.message());
            // A wrong variable is a usage error; a certificate that does not open is a failure.
            let error = match e.class() {
                ferry_job::ErrorClass::Usage => CliError::usage(message),
                _ => CliError::failed(message),
            };
            error.with_hint(
                e.hint().unwrap_or("see the README's sign-in section for the variables each type reads").to_owned(),
            )
        })?),
        None => SavedLogin::load(env)?.map(|saved| saved.flow(env)).transpose()?,
    };
    let Some(flow) = flow else { return Ok(None) };
    let source = EntraToken::new(flow, http.clone())?.shared_in(&login_dir(env));
    Ok(Some(Arc::new(source)))
}

/// A service principal signing in with its certificate (PEM, or PKCS#12 with its password in
/// `AZCOPY_SPA_CERT_PASSWORD`). The file is opened here, so a wrong password or a bad file is
/// reported before anything is asked of Entra.
fn certificate_flow(token_url: url::Url, client_id: String, path: &str, env: &Environment) -> Result<Flow, CliError> {
    let certificate =
        std::path::absolute(path).map_err(|e| CliError::usage(format!("the certificate path `{path}`: {e}")))?;
    let password = env.get("AZCOPY_SPA_CERT_PASSWORD").map(Secret::new);
    ferry_azure::client_certificate::check(&certificate, password.as_ref())?;
    Ok(Flow::ClientCertificate { token_url, client_id, certificate, password })
}

/// Signing in through the Azure CLI or Azure PowerShell; AzCopy's `common` tenant means the
/// tool's own default.
fn tool_flow(tool: Tool, tenant: Option<&str>) -> Result<Flow, CliError> {
    let tenant = tenant.filter(|t| !t.eq_ignore_ascii_case("common"));
    if let Some(t) = tenant.filter(|t| !ferry_azure::developer_tools::valid_tenant(t)) {
        return Err(CliError::usage(format!("`{t}` is not a tenant id")).with_hint("give a tenant GUID or domain"));
    }
    Ok(Flow::Tool { tool, tenant: tenant.map(str::to_owned) })
}

fn required<'a>(env: &'a Environment, names: &[&str]) -> Result<&'a str, CliError> {
    names.iter().find_map(|n| env.get(n)).ok_or_else(|| CliError::usage(format!("{} is not set", names.join(" or "))))
}

/// A managed identity: App Service's endpoint when the platform set it, else the VM's IMDS.
fn managed_identity(
    env: &Environment,
    client_id: Option<String>,
    resource_id: Option<String>,
) -> Result<Flow, CliError> {
    let id = client_id.map(ManagedId::ClientId).or(resource_id.map(ManagedId::ResourceId));
    match (env.get("IDENTITY_ENDPOINT"), env.get("IDENTITY_HEADER")) {
        (Some(endpoint), Some(header)) => {
            let endpoint = url::Url::parse(endpoint)
                .map_err(|e| CliError::usage(format!("IDENTITY_ENDPOINT is not a URL: {e}")))?;
            Ok(Flow::AppService { endpoint, header: Secret::new(header), id })
        }
        _ => {
            let endpoint = Flow::imds_url(env.get("AZURE_POD_IDENTITY_AUTHORITY_HOST")).map_err(CliError::usage)?;
            Ok(Flow::Imds { endpoint, id })
        }
    }
}

/// What `ferry login`'s flags (with the environment's help) describe.
pub(crate) fn saved_from_flags(args: &crate::args::LoginArgs, env: &Environment) -> Result<SavedLogin, CliError> {
    if (args.identity || args.service_principal) && args.login_type != "device" {
        return Err(CliError::usage(
            "you cannot set --service-principal or --identity in conjunction with --login-type. please use --login-type only",
        ));
    }
    let kind = match (args.identity, args.service_principal) {
        (true, _) => "msi".to_owned(),
        (_, true) => "spn".to_owned(),
        _ => args.login_type.to_ascii_lowercase(),
    };
    if args.identity_object_id.is_some() {
        return Err(CliError::usage(
            "object ID is deprecated and no longer supported for managed identity. Please use client ID or resource ID instead",
        ));
    }
    let from_env = |flag: &Option<String>, names: &[&str]| {
        flag.clone().or_else(|| names.iter().find_map(|n| env.get(n)).map(str::to_owned))
    };
    let saved = match kind.as_str() {
        "spn" | "msi" => SavedLogin {
            login_type: kind.clone(),
            tenant: args.tenant_id.clone(),
            authority: args.aad_endpoint.clone(),
            application_id: args.application_id.clone(),
            identity_client_id: args.identity_client_id.clone(),
            identity_resource_id: args.identity_resource_id.clone(),
            certificate_path: args.certificate_path.clone(),
        },
        "workload" => SavedLogin {
            login_type: kind.clone(),
            tenant: from_env(&args.tenant_id, &["AZURE_TENANT_ID"]),
            authority: from_env(&args.aad_endpoint, &["AZURE_AUTHORITY_HOST"]),
            application_id: from_env(&args.application_id, &["AZURE_CLIENT_ID"]),
            ..SavedLogin::default()
        },
        "device" => SavedLogin {
            login_type: kind.clone(),
            tenant: args.tenant_id.clone(),
            authority: args.aad_endpoint.clone(),
            application_id: args.application_id.clone(),
            ..SavedLogin::default()
        },
        "azcli" | "pscred" => {
            SavedLogin { login_type: kind.clone(), tenant: args.tenant_id.clone(), ..SavedLogin::default() }
        }
        other => {
            return Err(CliError::usage(format!("`{other}` is not a login type"))
                .with_hint("use device, spn, msi, azcli, pscred or workload"));
        }
    };
    saved.flow(env)?;
    Ok(saved)
}

/// The flow `AZCOPY_AUTO_LOGIN_TYPE` and its variables describe.
fn auto_login_flow(kind: &str, env: &Environment) -> Result<Flow, CliError> {
    let authority = |names: &[&str]| names.iter().find_map(|n| env.get(n)).unwrap_or(DEFAULT_AUTHORITY).to_owned();
    match kind.to_ascii_uppercase().as_str() {
        "SPN" => {
            let client_id = required(env, &["AZCOPY_SPA_APPLICATION_ID"])?.to_owned();
            let tenant = required(env, &["AZCOPY_TENANT_ID"]).map_err(|e| {
                e.with_hint("a service principal signs in to its own tenant: set AZCOPY_TENANT_ID to its id")
            })?;
            let token_url =
                Flow::token_url(&authority(&["AZCOPY_ACTIVE_DIRECTORY_ENDPOINT"]), tenant).map_err(CliError::usage)?;
            if let Some(path) = env.get("AZCOPY_SPA_CERT_PATH") {
                return certificate_flow(token_url, client_id, path, env);
            }
            let secret = Some(Secret::new(required(env, &["AZCOPY_SPA_CLIENT_SECRET"])?));
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
            let (client, resource) = (env.get("AZCOPY_MSI_CLIENT_ID"), env.get("AZCOPY_MSI_RESOURCE_STRING"));
            managed_identity(env, client.map(str::to_owned), resource.map(str::to_owned))
        }
        "AZCLI" => tool_flow(Tool::AzureCli, env.get("AZCOPY_TENANT_ID")),
        "PSCRED" => tool_flow(Tool::PowerShell, env.get("AZCOPY_TENANT_ID")),
        "DEVICE" => Err(CliError::usage(
            "a device sign-in needs a person at every command, so it is not an auto-login here",
        )
        .with_hint(
            "sign in once with `ferry login` (the device code flow): later commands and processes use that sign-in",
        )),
        _ => Err(CliError::usage(format!("`{kind}` is not a login type"))
            .with_hint("use SPN, MSI, AZCLI, PSCRED or WORKLOAD (DEVICE through `ferry login`)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(pairs: &[(&str, &str)]) -> Result<Flow, CliError> {
        let env = Environment::from_pairs(pairs.iter().copied());
        auto_login_flow(env.get("AZCOPY_AUTO_LOGIN_TYPE").unwrap(), &env)
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

    /// A saved sign-in holds no secret, and is used with the environment's.
    #[test]
    fn a_saved_sign_in_holds_no_secret() {
        let dir = tempfile::tempdir().unwrap();
        let env = Environment::from_pairs([
            ("FERRY_LOGIN_LOCATION", dir.path().to_str().unwrap()),
            ("AZCOPY_SPA_CLIENT_SECRET", "never-saved-4711"),
        ]);
        let saved = SavedLogin {
            login_type: "spn".into(),
            tenant: Some("t1".into()),
            authority: Some("https://127.0.0.1:9".into()),
            application_id: Some("app".into()),
            ..SavedLogin::default()
        };
        saved.save(&env).unwrap();
        let text = std::fs::read_to_string(dir.path().join("login.json")).unwrap();
        assert!(!text.contains("never-saved-4711"), "{text}");
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(dir.path().join("login.json")).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(SavedLogin::load(&env).unwrap(), Some(saved.clone()));
        assert!(matches!(saved.flow(&env).unwrap(), Flow::ClientSecret { secret: Some(_), .. }));
        assert!(SavedLogin::forget(&env).unwrap());
        assert_eq!(SavedLogin::load(&env).unwrap(), None);
        assert!(!SavedLogin::forget(&env).unwrap());
    }
}
