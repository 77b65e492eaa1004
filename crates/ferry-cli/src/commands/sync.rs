//! `ferry sync SRC DST`.

use super::{Ctx, display_command};
use crate::CliError;
use crate::args::{DeleteDestinationArg, SyncArgs};

pub(super) async fn run(args: &SyncArgs, ctx: &Ctx<'_>) -> Result<(), CliError> {
    let asks = args.delete_destination == DeleteDestinationArg::Prompt && !args.dry_run;
    ctx.needs_full_output(asks, "--delete-destination prompt asks questions")?;
    let (spec, sas) = crate::spec::sync(args, display_command())?;
    ctx.run_job(&spec, sas).await
}
