//! `ferry copy SRC DST`.

use super::{Ctx, display_command};
use crate::CliError;
use crate::args::{CopyArgs, OverwriteArg};

pub(super) async fn run(args: &CopyArgs, ctx: &Ctx<'_>) -> Result<(), CliError> {
    let (spec, sas) = crate::spec::copy(args, display_command())?;
    let spec = crate::shard::sharded(spec, &args.filters.shards, args.report_dir.as_deref(), ctx.env)?;
    let spec = super::with_evidence(spec, args.evidence.as_deref())?;
    ctx.needs_full_output(args.overwrite == OverwriteArg::Prompt, "--overwrite prompt asks questions")?;
    ctx.needs_full_output(args.dry_run, "--dry-run prints its plan")?;
    ctx.run_job(&spec, sas).await
}
