//! `ferry verify SRC DST`: evidence that a destination matches its source (exit 3 when not).

use super::Ctx;
use crate::CliError;
use crate::args::VerifyArgs;

pub(super) async fn run(args: &VerifyArgs, ctx: &Ctx<'_>) -> Result<(), CliError> {
    let (spec, sas) = crate::spec::verify(args)?;
    ferry_job::verify(&spec, &ctx.job(sas)?).await.map(drop)
}
