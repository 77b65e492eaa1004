//! `ferry shards status`: a run split over many workers, as its report folder shows it.

use ferry_job::ShardState;

use super::Ctx;
use crate::CliError;
use crate::args::ShardsCommand;

pub(super) fn run(command: &ShardsCommand, ctx: &Ctx<'_>) -> Result<(), CliError> {
    match command {
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
