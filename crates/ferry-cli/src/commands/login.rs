//! `ferry login`, `ferry login status`, `ferry logout`: AzCopy's words, with a saved sign-in that
//! later processes see (AzCopy's lives in the session keyring, which the next process often
//! does not).

use ferry_azure::TokenSource as _;
use ferry_azure::entra::{DEFAULT_AUTHORITY, EntraToken};
use ferry_report::{OutputFormat, envelope, go_escape};

use super::Ctx;
use crate::CliError;
use crate::args::{LoginArgs, LoginCommand, LoginStatusArgs};
use crate::login::{SavedLogin, login_dir, saved_from_flags};

/// Gets a token through `saved`, as a later command would (the token is then shared).
async fn token_through(saved: &SavedLogin, ctx: &Ctx<'_>) -> Result<(), CliError> {
    let source = EntraToken::new(saved.flow(ctx.env)?, ctx.settings.http.clone())?.shared_in(&login_dir(ctx.env));
    source.token().await.map(drop).map_err(|e| {
        CliError::failed(format!("Failed to perform login command: \n{e}"))
            .with_hint("if the identity or its role was created in the last minutes, wait a few minutes and try again")
    })
}

pub(super) async fn run(args: &LoginArgs, ctx: &Ctx<'_>) -> Result<(), CliError> {
    if let Some(LoginCommand::Status(status)) = &args.status {
        return show_status(status, ctx).await;
    }
    let saved = saved_from_flags(args, ctx.env)?;
    if saved.login_type == "device" {
        sign_in_with_a_device_code(&saved, ctx).await?;
    }
    for secret in ["AZCOPY_SPA_CLIENT_SECRET", "AZCOPY_SPA_CERT_PASSWORD"] {
        if ctx.env.get(secret).is_some() {
            ctx.console.info(&format!("{secret} is read from the environment and never saved; later commands need it again when they need a new token"));
        }
    }
    token_through(&saved, ctx).await?;
    saved.save(ctx.env)?;
    // What was saved is what later commands will use: read it back and get a token through it.
    let again = SavedLogin::load(ctx.env)?
        .filter(|s| s == &saved)
        .ok_or_else(|| CliError::failed("the saved sign-in did not read back as written"))?;
    token_through(&again, ctx).await?;
    let line = match saved.login_type.as_str() {
        "spn" if saved.certificate_path.is_some() => "SPN Auth via cert succeeded.",
        "spn" => "SPN Auth via secret succeeded.",
        "msi" => "Login with identity succeeded.",
        "workload" => "Login with Workload Identity succeeded.",
        "azcli" => "Login with AzCliCreds succeeded",
        "pscred" => "Login with Powershell context succeeded",
        _ => "Login succeeded.",
    };
    ctx.console.end_of_job(&format!("INFO: {line}"));
    Ok(())
}

/// The device-code sign-in: prints where to sign in, waits for it, keeps the refresh token.
async fn sign_in_with_a_device_code(saved: &SavedLogin, ctx: &Ctx<'_>) -> Result<(), CliError> {
    let ferry_azure::entra::Flow::RefreshToken { token_url, client_id, store } = saved.flow(ctx.env)? else {
        unreachable!("a device sign-in's flow")
    };
    if saved.tenant.is_none() {
        ctx.console.end_of_job("INFO: Signing in to the `common` tenant; give --tenant-id to sign in to a specific one (needed for guest accounts)");
    }
    let http = ferry_http::HttpClient::new(ctx.settings.http.clone())?;
    let console = ctx.console;
    let (_, refresh) = ferry_azure::device_code::device_login(&http, &token_url, &client_id, |line| {
        console.end_of_job(&format!("INFO: {line}"))
    })
    .await
    .map_err(|e| CliError::failed(format!("Failed to perform login command: \n{e}")))?;
    if let Some(dir) = store.parent() {
        use std::os::unix::fs::DirBuilderExt as _;
        let _ = std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir);
    }
    ferry_azure::device_code::save_refresh_token(&store, &refresh).map_err(|e| {
        CliError::failed(format!("cannot keep the sign-in in `{}`: {e}", store.display()))
            .with_hint("set FERRY_LOGIN_LOCATION to a folder of yours")
    })
}

async fn show_status(args: &LoginStatusArgs, ctx: &Ctx<'_>) -> Result<(), CliError> {
    let saved = SavedLogin::load(ctx.env)?;
    let valid = match &saved {
        Some(s) => token_through(s, ctx).await.is_ok(),
        None => false,
    };
    let tenant = saved.as_ref().and_then(|s| s.tenant.clone()).unwrap_or_else(|| "common".into());
    let endpoint = saved.as_ref().and_then(|s| s.authority.clone()).unwrap_or_else(|| DEFAULT_AUTHORITY.into());
    let method = saved.as_ref().map(|s| s.login_type.clone()).unwrap_or_default();
    match ctx.console.format() {
        OutputFormat::Text => {
            let mut lines = vec![if valid {
                "INFO: You have successfully refreshed your token. Your login session is still active".to_owned()
            } else {
                format!(
                    "INFO: You are currently not logged in. Please login using '{} login'",
                    crate::version::invoked_name()
                )
            }];
            if valid {
                if args.tenant {
                    lines.push(format!("INFO: Tenant ID: {tenant}"));
                }
                if args.endpoint {
                    lines.push(format!("INFO: Active directory endpoint: {endpoint}"));
                }
                if args.method {
                    lines.push(format!("INFO: Authorized using {method}"));
                }
            }
            ctx.console.end_of_job(&lines.join("\n"));
        }
        OutputFormat::Json => {
            let mut content = serde_json::json!({ "valid": valid });
            if valid && args.tenant {
                content["tenantID"] = tenant.into();
            }
            if valid && args.endpoint {
                content["AADEndpoint"] = endpoint.into();
            }
            if valid && args.method {
                content["authMethod"] = method.into();
            }
            ctx.console.data_raw(&envelope("LoginStatusInfo", &go_escape(&content.to_string())));
        }
    }
    if valid { Ok(()) } else { Err(CliError::failed("no saved sign-in gets a token")) }
}

pub(super) fn logout(ctx: &Ctx<'_>) -> Result<(), CliError> {
    if SavedLogin::forget(ctx.env)? {
        ctx.console.end_of_job("INFO: Logout succeeded.");
        Ok(())
    } else {
        Err(CliError::failed("failed to perform logout command, no cached token found for current user"))
    }
}
