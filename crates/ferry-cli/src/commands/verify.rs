//! `ferry verify SRC DST`: evidence that a destination matches its source (exit 3 when not).

use super::Ctx;
use crate::CliError;
use crate::args::VerifyArgs;

pub(super) async fn run(args: &VerifyArgs, ctx: &Ctx<'_>) -> Result<(), CliError> {
    if let Some(run_dir) = &args.merge {
        return ferry_job::merge_verify(run_dir, &ctx.job([None, None])?).map(drop);
    }
    let (mut spec, sas) = crate::spec::verify(args)?;
    // A verify of one shard compares that shard's names; with --run-id and --report-dir it leaves
    // its evidence for `ferry verify --merge`.
    if let Some(chosen) = crate::shard::shard_of(&args.filters.shards, ctx.env)? {
        spec.filter.shard = Some(chosen.shard);
        spec.filter.range = chosen.plan.as_ref().map(|p| p.range.clone());
        spec.plan = chosen.plan;
        spec.run_id.clone_from(&args.filters.shards.run_id);
    }
    ferry_job::verify(&spec, &ctx.job(sas)?).await.map(drop)
}
