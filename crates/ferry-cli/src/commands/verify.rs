//! `ferry verify SRC DST`: evidence that a destination matches its source (exit 3 when not).

use super::Ctx;
use crate::CliError;
use crate::args::VerifyArgs;

pub(super) async fn run(args: &VerifyArgs, ctx: &Ctx<'_>) -> Result<(), CliError> {
    let (mut spec, sas) = crate::spec::verify(args)?;
    // A verify of one shard compares that shard's names (it is not a journaled job: no run id).
    spec.filter.shard = crate::shard::shard_of(&args.filters.shards, ctx.env)?.map(|(shard, _)| shard);
    ferry_job::verify(&spec, &ctx.job(sas)?).await.map(drop)
}
