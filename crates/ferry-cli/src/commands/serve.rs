//! `ferry serve`: the jobs dashboard, until Ctrl-C.

use super::Ctx;
use crate::CliError;
use crate::args::ServeArgs;

pub(super) async fn run(args: &ServeArgs, ctx: &Ctx<'_>) -> Result<(), CliError> {
    let addr = crate::settings::metrics_addr(&args.addr)
        .map_err(|_| CliError::usage(format!("--addr `{}` is not HOST:PORT or PORT", args.addr)))?;
    let token = ctx.env.get("FERRY_SERVE_TOKEN").map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
    let options = ferry_serve::ServeOptions {
        addr,
        token,
        plans: ctx.settings.plan_dir.clone(),
        logs: ctx.settings.log_dir.clone(),
    };
    let (bound, task) = ferry_serve::serve(options).await.map_err(|e| match e {
        ferry_serve::ServeError::Exposed(_) => CliError::usage(e.to_string())
            .with_hint("set FERRY_SERVE_TOKEN to a long random value, or listen on 127.0.0.1"),
        ferry_serve::ServeError::Listen(..) => CliError::usage(e.to_string()).with_hint("choose another --addr"),
    })?;
    ctx.console.info(&format!("Ferry's dashboard at http://{bound}/ (Ctrl-C stops it)"));
    tokio::select! {
        _ = task => Err(CliError::failed("the dashboard stopped")),
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}
