//! `ferry set-properties URL`.

use super::{Ctx, display_command};
use crate::CliError;
use crate::args::SetPropertiesArgs;

pub(super) async fn run(args: &SetPropertiesArgs, ctx: &Ctx<'_>) -> Result<(), CliError> {
    let (spec, sas) = crate::spec::set_properties(args, display_command())?;
    let spec = crate::shard::sharded(spec, &args.filters.shards, args.report_dir.as_deref(), ctx.env)?;
    ctx.run_job(&spec, sas).await
}
