//! Tokens from a developer tool the user already signed in to: the Azure CLI
//! (`az account get-access-token`, AzCopy's `azcli`) and Azure PowerShell (`Get-AzAccessToken`,
//! AzCopy's `pscred`). The tool is run with its arguments as a list (no shell), its answer read as
//! JSON; the token is cached and shared like any other. A tool that is missing, not signed in, or
//! hung (60 s) is reported as such.

use std::time::Duration;

use ferry_core::{ErrorKind, Secret, StoreError};
use ferry_http::Expiring;

use crate::entra::STORAGE_RESOURCE;

/// How long a tool may take (the Azure CLI's first run can be slow: AzCopy's users saw it killed).
const TOOL_TIMEOUT: Duration = Duration::from_secs(60);

/// A developer tool that hands out tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// The Azure CLI, `az`.
    AzureCli,
    /// Azure PowerShell, through `pwsh`.
    PowerShell,
}

impl Tool {
    /// AzCopy's name for signing in through it (`--login-type`).
    pub fn login_type(self) -> &'static str {
        match self {
            Self::AzureCli => "azcli",
            Self::PowerShell => "pscred",
        }
    }

    fn program(self) -> &'static str {
        match self {
            Self::AzureCli => "az",
            Self::PowerShell => "pwsh",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::AzureCli => "the Azure CLI",
            Self::PowerShell => "Azure PowerShell",
        }
    }

    fn sign_in_hint(self) -> &'static str {
        match self {
            Self::AzureCli => "sign in with `az login` first (and `az account set` for the subscription's tenant)",
            Self::PowerShell => "sign in with `Connect-AzAccount` in PowerShell first",
        }
    }

    fn install_hint(self) -> &'static str {
        match self {
            Self::AzureCli => "install the Azure CLI and sign in with `az login`, or use another --login-type",
            Self::PowerShell => {
                "install PowerShell 7 (`pwsh`) with the Az.Accounts module and sign in with `Connect-AzAccount`, or use another --login-type"
            }
        }
    }

    /// The arguments that ask the tool for a storage token (for `tenant`, when given).
    fn arguments(self, tenant: Option<&str>) -> Vec<String> {
        match self {
            Self::AzureCli => {
                let mut args: Vec<String> =
                    ["account", "get-access-token", "--output", "json", "--resource", STORAGE_RESOURCE]
                        .map(str::to_owned)
                        .into();
                if let Some(tenant) = tenant {
                    args.extend(["--tenant".to_owned(), tenant.to_owned()]);
                }
                args
            }
            Self::PowerShell => {
                let tenant = tenant.map(|t| format!(" -TenantId '{t}'")).unwrap_or_default();
                // A SecureString token (Az.Accounts 5 and later) is turned into text here; older
                // versions give text already. Only the JSON line goes to stdout.
                let script = format!(
                    "$ErrorActionPreference = 'Stop'; \
                     $t = Get-AzAccessToken -ResourceUrl '{STORAGE_RESOURCE}'{tenant} -WarningAction SilentlyContinue; \
                     $s = $t.Token; \
                     if ($s -is [System.Security.SecureString]) {{ $s = [System.Net.NetworkCredential]::new('', $s).Password }}; \
                     [pscustomobject]@{{ accessToken = $s; expires_on = $t.ExpiresOn.ToUnixTimeSeconds() }} | ConvertTo-Json -Compress"
                );
                ["-NoProfile", "-NonInteractive", "-Command"].map(str::to_owned).into_iter().chain([script]).collect()
            }
        }
    }
}

/// Checks a tenant id before it is handed to a tool (it becomes part of PowerShell's command):
/// a GUID or a domain name.
pub fn valid_tenant(tenant: &str) -> bool {
    !tenant.is_empty()
        && tenant.len() <= 253
        && tenant.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

/// Asks `tool` for a storage token.
pub(crate) async fn token(tool: Tool, tenant: Option<&str>) -> Result<Expiring<Secret>, StoreError> {
    let target = tool.name();
    let refused = |why: String| StoreError::new(ErrorKind::Unauthenticated, target, why);
    if let Some(t) = tenant.filter(|t| !valid_tenant(t)) {
        return Err(refused(format!("`{t}` is not a tenant id")).with_hint("give a tenant GUID or domain"));
    }
    let mut command = tokio::process::Command::new(tool.program());
    command.args(tool.arguments(tenant)).stdin(std::process::Stdio::null()).kill_on_drop(true);
    let output = match tokio::time::timeout(TOOL_TIMEOUT, command.output()).await {
        Err(_) => {
            return Err(StoreError::new(
                ErrorKind::Transient,
                target,
                format!("`{}` gave no token within {} s", tool.program(), TOOL_TIMEOUT.as_secs()),
            ));
        }
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(refused(format!("`{}` is not installed (not found on PATH)", tool.program()))
                .with_hint(tool.install_hint()));
        }
        Ok(Err(e)) => return Err(refused(format!("`{}` could not be run: {e}", tool.program()))),
        Ok(Ok(output)) => output,
    };
    if !output.status.success() {
        let said = ferry_core::redact_text(String::from_utf8_lossy(&output.stderr).trim());
        let said: String = said.lines().filter(|l| !l.trim().is_empty()).take(3).collect::<Vec<_>>().join(" / ");
        return Err(refused(format!("`{}` gave no token ({}): {said}", tool.program(), output.status))
            .with_hint(tool.sign_in_hint()));
    }
    parse(tool, &String::from_utf8_lossy(&output.stdout))
}

/// Reads the tool's answer: `accessToken` and `expires_on` (Unix seconds; the Azure CLI has
/// given it since 2.54).
fn parse(tool: Tool, stdout: &str) -> Result<Expiring<Secret>, StoreError> {
    let bad = |why: &str| {
        StoreError::new(ErrorKind::Unauthenticated, tool.name(), format!("`{}` answered {why}", tool.program()))
    };
    let line = stdout.lines().rev().find(|l| l.trim_start().starts_with('{'));
    let json: serde_json::Value = match line.map(serde_json::from_str) {
        Some(Ok(json)) => json,
        // The Azure CLI prints its JSON over several lines.
        _ => serde_json::from_str(stdout).map_err(|_| bad("with something that is not JSON"))?,
    };
    let token =
        json.get("accessToken").and_then(serde_json::Value::as_str).ok_or_else(|| bad("with no accessToken"))?;
    let expires_on = json
        .get("expires_on")
        .and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())))
        .ok_or_else(|| {
            bad("with no expires_on")
                .with_hint("upgrade the Azure CLI to 2.54 or later (it says when its tokens expire)")
        })?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let lifetime = Duration::from_secs(expires_on.saturating_sub(now));
    Ok(Expiring { value: Secret::new(token), expires_at: std::time::Instant::now() + lifetime })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_of_both_tools_are_read() {
        let later = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 3000;
        let az = format!(
            "{{\n  \"accessToken\": \"eyJ.a.b\",\n  \"expiresOn\": \"2026-11-30 18:00:00.000000\",\n  \"expires_on\": {later},\n  \"tokenType\": \"Bearer\"\n}}\n"
        );
        let t = parse(Tool::AzureCli, &az).unwrap();
        assert_eq!(t.value.expose(), "eyJ.a.b");
        assert!(t.expires_at > std::time::Instant::now() + Duration::from_secs(2900));
        let ps = format!("WARNING: something\n{{\"accessToken\":\"p\",\"expires_on\":{later}}}\n");
        assert_eq!(parse(Tool::PowerShell, &ps).unwrap().value.expose(), "p");
        let old = parse(Tool::AzureCli, r#"{"accessToken":"x","expiresOn":"2026-11-30 18:00:00.000000"}"#);
        assert!(old.unwrap_err().hint().unwrap().contains("2.54"));
        assert!(parse(Tool::AzureCli, "Please run 'az login'").is_err());
    }

    #[test]
    fn tenants_cannot_smuggle_commands() {
        assert!(valid_tenant("72f988bf-86f1-41af-91ab-2d7cd011db47"));
        assert!(valid_tenant("contoso.onmicrosoft.com"));
        assert!(!valid_tenant("x'; Remove-Item -Recurse ~; '"));
        assert!(!valid_tenant(""));
    }

    #[test]
    fn the_tenant_is_passed_as_an_argument() {
        let args = Tool::AzureCli.arguments(Some("t1"));
        assert_eq!(args[args.len() - 2..], ["--tenant".to_owned(), "t1".to_owned()]);
        let ps = Tool::PowerShell.arguments(Some("t1"));
        assert!(ps.last().unwrap().contains("-TenantId 't1'"), "{ps:?}");
    }
}
