//! `ferry jobs list|show|resume|remove|clean`: queries over the job journals, and resume.

use ferry_journal::{ItemStatus, JobStatus, Journal, JournalError, list_jobs, remove_job};
use ferry_report::{TransferList, job_details, job_list};

use super::Ctx;
use crate::CliError;
use crate::args::{JobsCommand, JobsResumeArgs};

pub(super) async fn run(command: &JobsCommand, ctx: &Ctx<'_>) -> Result<(), CliError> {
    let (plans, console) = (&ctx.settings.plan_dir, ctx.console);
    match command {
        JobsCommand::List(args) => {
            let jobs = list_jobs(plans).map_err(failed)?;
            let wanted: Vec<_> =
                jobs.into_iter().filter(|j| status_matches(j.status, args.with_status.as_deref())).collect();
            job_list(&wanted, console);
            Ok(())
        }
        JobsCommand::Show(args) => show(&args.job_id, args.with_status.as_deref(), ctx),
        JobsCommand::Evidence(args) => super::evidence::run(args, ctx).await,
        JobsCommand::Resume(args) => resume(args, ctx).await,
        JobsCommand::Remove(args) => {
            remove(&args.job_id, ctx)?;
            console.end_of_job(&format!("Successfully removed log and job plan files for job {}.", args.job_id));
            Ok(())
        }
        JobsCommand::Clean(args) => {
            let jobs = list_jobs(plans).map_err(failed)?;
            let mut removed = 0;
            for job in jobs.iter().filter(|j| status_matches(j.status, args.with_status.as_deref())) {
                remove(&job.spec.job_id, ctx)?;
                removed += 1;
            }
            console.end_of_job(&format!("Successfully removed {removed} jobs."));
            Ok(())
        }
    }
}

fn failed(e: JournalError) -> CliError {
    match e {
        JournalError::NoSuchJob(id) => {
            CliError::failed(format!("there is no job `{id}`")).with_hint("`ferry jobs list` shows the jobs there are")
        }
        e @ JournalError::InvalidJobId(_) => {
            CliError::usage(e.to_string()).with_hint("`ferry jobs list` shows the jobs there are")
        }
        other => CliError::failed(other.to_string()),
    }
}

fn status_matches(status: JobStatus, wanted: Option<&str>) -> bool {
    wanted.is_none_or(|w| w.eq_ignore_ascii_case("All") || w.eq_ignore_ascii_case(status.as_str()))
}

fn remove(job_id: &str, ctx: &Ctx<'_>) -> Result<(), CliError> {
    remove_job(&ctx.settings.plan_dir, job_id).map_err(failed)?;
    let log = ctx.settings.log_dir.join(format!("{job_id}.log"));
    match std::fs::remove_file(&log) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(CliError::failed(format!("cannot remove `{}`: {e}", log.display()))),
    }
}

fn show(job_id: &str, with_status: Option<&str>, ctx: &Ctx<'_>) -> Result<(), CliError> {
    let journal = Journal::open(&ctx.settings.plan_dir, job_id).map_err(failed)?;
    let Some(wanted) = with_status else {
        job_details(job_id, &ferry_job::details(&journal).map_err(failed)?, ctx.console);
        return Ok(());
    };
    let filter = if wanted.eq_ignore_ascii_case("All") {
        None
    } else {
        Some(ItemStatus::parse(wanted).ok_or_else(|| {
            CliError::usage(format!("--with-status `{wanted}` is not a transfer status"))
                .with_hint("use Success, Failed, SkippedEntityAlreadyExists, NotStarted, Started, Cancelled or All")
        })?)
    };
    // Printed as read: a journal of a million items is never held in memory.
    let mut list = TransferList::new(job_id, ctx.console);
    journal.each_item(filter, u64::MAX, |item| list.push(&item)).map_err(failed)?;
    // Deletions (a sync's extras, a remove's targets) follow; they have a destination only.
    journal.each_deletion(filter, |item| list.push(&item)).map_err(failed)?;
    list.finish();
    Ok(())
}

/// A SAS given to `jobs resume`: a bare token (with or without `?`) or a whole URL.
fn given_sas(text: Option<&String>, flag: &str) -> Result<Option<ferry_core::SasToken>, CliError> {
    let Some(text) = text else { return Ok(None) };
    let query = text.split_once('?').map_or(text.as_str(), |(_, q)| q);
    ferry_core::SasToken::parse(query).map(Some).ok_or_else(|| {
        CliError::usage(format!("--{flag} is not a SAS token")).with_hint("pass the query string of a SAS URL")
    })
}

/// Resumes a job from its journal: the typed spec it records (or, for an older journal, its
/// recorded command line), with the SAS tokens given now. Only one process runs a job at a time.
async fn resume(args: &JobsResumeArgs, ctx: &Ctx<'_>) -> Result<(), CliError> {
    crate::refusals::resume(args.include.as_deref(), args.exclude.as_deref())?;
    let journal = Journal::open_to_run(&ctx.settings.plan_dir, &args.job_id).map_err(failed)?;
    let spec = match ferry_job::stored_spec(&journal) {
        Some(spec) => spec?,
        None => crate::legacy_spec::from_record(journal.spec())?,
    };
    let sas = [
        given_sas(args.source_sas.as_ref(), "source-sas")?,
        given_sas(args.destination_sas.as_ref(), "destination-sas")?,
    ];
    let job = ctx.job_for(&spec, sas)?;
    ferry_job::check_secrets(&spec, &job.secrets)?;
    ctx.console.info(&format!("Resuming job {}: ferry {}", args.job_id, ferry_job::shown_command(journal.spec())));
    let _watch = ctx.interrupts.watch(*ctx.console);
    ferry_job::resume(journal, &spec, &job).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sas_is_accepted_as_a_token_or_a_url() {
        for given in ["sv=1&sig=x", "?sv=1&sig=x", "https://a.blob.core.windows.net/c?sv=1&sig=x"] {
            let sas = given_sas(Some(&given.to_owned()), "source-sas").unwrap().unwrap();
            assert_eq!(sas.expose(), "sv=1&sig=x", "{given}");
        }
    }
}
