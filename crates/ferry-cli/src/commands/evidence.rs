//! `ferry jobs evidence JOB_ID` and `ferry jobs evidence verify FILE [--against DEST]`.

use super::Ctx;
use crate::CliError;
use crate::args::{EvidenceCommand, EvidenceFormatArg, JobsEvidenceArgs};

pub(super) async fn run(args: &JobsEvidenceArgs, ctx: &Ctx<'_>) -> Result<(), CliError> {
    if let Some(EvidenceCommand::Verify(verify)) = &args.check {
        let check = match verify.against.as_deref() {
            None => (ferry_job::check_evidence(&verify.file)?, None),
            Some(against) => {
                let (destination, sas) = if against.is_empty() {
                    (None, None)
                } else {
                    let location = ferry_core::Location::parse(against, ferry_core::LocationHint::Infer)?;
                    let (endpoint, sas) = ferry_job::Endpoint::from_location(&location);
                    (Some(endpoint), sas)
                };
                let job = ctx.job([None, sas])?;
                let (check, summary) = ferry_job::check_against(&verify.file, destination, &job).await?;
                (check, Some(summary))
            }
        };
        ferry_report::evidence_checked(&verify.file, &check.0, check.1.as_ref(), ctx.console);
        return Ok(());
    }
    let id = args.job_id.as_deref().unwrap_or_default();
    let format = match args.format {
        EvidenceFormatArg::Jsonl => ferry_job::EvidenceFormat::Jsonl,
        EvidenceFormatArg::Csv => ferry_job::EvidenceFormat::Csv,
    };
    let plans = &ctx.settings.plan_dir;
    match &args.output {
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            ferry_job::write_evidence(plans, id, format, &mut out)?;
        }
        Some(path) => {
            let totals = crate::output::write_private(path, |out| ferry_job::write_evidence(plans, id, format, out))?;
            ferry_report::evidence_written(id, &totals, path, ctx.console);
        }
    }
    Ok(())
}
