//! `ferry sync SRC DST`.

use super::{Ctx, display_command};
use crate::CliError;
use crate::args::{DeleteDestinationArg, DeletePhaseArg, SyncArgs};

pub(super) async fn run(args: &SyncArgs, ctx: &Ctx<'_>) -> Result<(), CliError> {
    let asks = args.delete_destination == DeleteDestinationArg::Prompt && !args.dry_run;
    ctx.needs_full_output(asks, "--delete-destination prompt asks questions")?;
    let (spec, sas) = crate::spec::sync(args, display_command())?;
    let spec = crate::shard::sharded(spec, &args.filters.shards, args.report_dir.as_deref(), ctx.env)?;
    let spec = deferring_deletes(spec, args)?;
    let spec = super::with_evidence(spec, args.evidence.as_deref())?;
    ctx.run_job(&spec, sas).await
}

/// A sharded sync that deletes: by default each shard records its extras for the run's commit
/// (`ferry shards commit`), which needs the report folder; `--delete-phase inline` lets each
/// shard delete the extras among its own names.
fn deferring_deletes(mut spec: ferry_job::JobSpec, args: &SyncArgs) -> Result<ferry_job::JobSpec, CliError> {
    let deletes = args.delete_destination != DeleteDestinationArg::False;
    let Some(run) = spec.shard.clone() else {
        return match args.delete_phase {
            Some(_) => Err(CliError::usage("--delete-phase applies to a sharded sync (--shard or --shards)")),
            None => Ok(spec),
        };
    };
    if !deletes || args.delete_phase == Some(DeletePhaseArg::Inline) {
        return Ok(spec);
    }
    let Some(dir) = &run.report_dir else {
        return Err(CliError::usage(
            "a sharded sync's deletes wait for the run's commit, whose candidates go to --report-dir",
        )
        .with_hint(
            "add --report-dir DIR (shared by the shards and the commit), or --delete-phase inline to delete per shard",
        ));
    };
    if let ferry_job::JobKind::Sync(sync) = &mut spec.kind {
        let file = ferry_job::deletes_file(dir, &run.run_id, run.shard);
        sync.deferred = Some(ferry_job::DeferredDeletes::Record(file));
    }
    Ok(spec)
}
