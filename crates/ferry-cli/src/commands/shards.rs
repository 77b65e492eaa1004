//! `ferry shards status|commit`: a run split over many workers, as its report folder shows it,
//! and its deferred deletes.

use ferry_job::ShardState;

use super::Ctx;
use crate::CliError;
use crate::args::{BalanceArg, ShardsCommand, ShardsPlanArgs};

pub(super) async fn run(command: &ShardsCommand, ctx: &Ctx<'_>) -> Result<(), CliError> {
    match command {
        ShardsCommand::Commit(args) => {
            let shards = &args.filters.shards;
            if shards.shard.is_some() || shards.shards.is_some() || shards.shard_plan.is_some() {
                return Err(CliError::usage(
                    "the commit is one job for the whole run: leave out --shard, --shards and --shard-plan",
                ));
            }
            let (Some(run_id), Some(dir)) = (&shards.run_id, &args.report_dir) else {
                return Err(CliError::usage("`ferry shards commit` needs the run's --run-id and --report-dir"));
            };
            let (spec, sas) = crate::spec::sync(args, super::display_command())?;
            let job = ctx.job_for(&spec, sas)?;
            let _watch = ctx.interrupts.watch(*ctx.console);
            Ok(ferry_job::commit_run(spec, dir, run_id, &job).await?)
        }
        ShardsCommand::Plan(args) => plan(args, ctx).await,
        ShardsCommand::Status(args) => {
            let shards = ferry_job::run_status(&args.report_dir, &args.run_id)?;
            ferry_report::shard_status(&args.run_id, &shards, ctx.console);
            let undone = shards.iter().filter(|s| s.state != ShardState::Done).count();
            if undone > 0 {
                return Err(CliError::failed(format!("{undone} of {} shards are not done", shards.len())).with_hint(
                    "an array job retries its failed or missing shards: running the same command again resumes each",
                ));
            }
            Ok(())
        }
    }
}

/// `ferry shards plan`: lists the source, writes the plan (private, whole or not at all), and
/// shows its ranges.
async fn plan(args: &ShardsPlanArgs, ctx: &Ctx<'_>) -> Result<(), CliError> {
    let (names, sas) = match (&args.from_reports, &args.source) {
        (Some(run_dir), _) => (ferry_job::PlanNames::Reports(run_dir.clone()), None),
        (None, Some(source)) => {
            let (source, sas) = crate::spec::source_endpoint(source, args.from_to.as_deref())?;
            (ferry_job::PlanNames::Listing(source), sas)
        }
        (None, None) => return Err(CliError::usage("give the run's source, or --from-reports DIR/RUN")),
    };
    let balance = match args.by {
        BalanceArg::Count => ferry_plan::Balance::Count,
        BalanceArg::Bytes => ferry_plan::Balance::Bytes,
    };
    let request = ferry_job::PlanRequest { names, shards: args.shards, balance };
    let plan = ferry_job::plan_ranges(&request, &ctx.job([sas, None])?).await?;
    let text = serde_json::to_string_pretty(&plan).map_err(|e| CliError::failed(e.to_string()))?;
    crate::output::write_private(&args.output, |out| {
        out.write_all(text.as_bytes()).map_err(|e| CliError::failed(format!("cannot write the plan: {e}")))
    })?;
    ferry_report::shard_plan(&plan, &args.output, ctx.console);
    Ok(())
}
