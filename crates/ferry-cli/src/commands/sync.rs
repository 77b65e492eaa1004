//! `ferry sync SRC DST`.

use super::{Ctx, display_command};
use crate::CliError;
use crate::args::{DeleteDestinationArg, DeletePhaseArg, SyncArgs};

pub(super) async fn run(args: &SyncArgs, ctx: &Ctx<'_>) -> Result<(), CliError> {
    let asks = args.delete_destination == DeleteDestinationArg::Prompt && !args.dry_run;
    ctx.needs_full_output(asks, "--delete-destination prompt asks questions")?;
    let (spec, sas) = crate::spec::sync(args, display_command())?;
    let spec = crate::shard::sharded(spec, &args.filters.shards, args.report_dir.as_deref(), ctx.env)?;
    check_delete_phase(args, spec.shard.is_some())?;
    ctx.run_job(&spec, sas).await
}

/// A sharded sync deletes only when told how: `--delete-phase inline` (each shard its own
/// extras, judged by its own listings and guards). The run-level commit is not there yet, so
/// it is refused rather than done per shard without being asked.
fn check_delete_phase(args: &SyncArgs, sharded: bool) -> Result<(), CliError> {
    let deletes = args.delete_destination != DeleteDestinationArg::False;
    match (sharded, args.delete_phase) {
        (false, Some(_)) => Err(CliError::usage("--delete-phase applies to a sharded sync (--shard or --shards)")),
        (true, Some(DeletePhaseArg::Deferred)) | (true, None) if deletes => Err(CliError::usage(
            "a sharded sync's deletes deferred to one commit for the whole run are not supported yet",
        )
        .with_hint("add --delete-phase inline to let each shard delete the extras among its own names, or sync without --delete-destination")),
        _ => Ok(()),
    }
}
