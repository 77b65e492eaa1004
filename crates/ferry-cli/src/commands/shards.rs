//! `ferry shards status|commit`: a run split over many workers, as its report folder shows it,
//! and its deferred deletes.

use ferry_job::ShardState;

use super::Ctx;
use crate::CliError;
use crate::args::ShardsCommand;

pub(super) async fn run(command: &ShardsCommand, ctx: &Ctx<'_>) -> Result<(), CliError> {
    match command {
        ShardsCommand::Commit(args) => {
            let shards = &args.filters.shards;
            if shards.shard.is_some() || shards.shards.is_some() {
                return Err(CliError::usage("the commit is one job for the whole run: leave out --shard and --shards"));
            }
            let (Some(run_id), Some(dir)) = (&shards.run_id, &args.report_dir) else {
                return Err(CliError::usage("`ferry shards commit` needs the run's --run-id and --report-dir"));
            };
            let (spec, sas) = crate::spec::sync(args, super::display_command())?;
            let job = ctx.job_for(&spec, sas)?;
            let _watch = ctx.interrupts.watch(*ctx.console);
            Ok(ferry_job::commit_run(spec, dir, run_id, &job).await?)
        }
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
