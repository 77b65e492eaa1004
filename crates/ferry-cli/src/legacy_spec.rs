//! Journals written before jobs had a typed spec recorded the command line instead (its
//! arguments without SAS, and the folder it ran in). This is the one place that still reads one
//! back: the arguments are parsed as the command line would be, relative paths are taken against
//! the recorded folder (the process's own folder is never changed), and the same functions that
//! make a new job's spec make this one's.

use clap::Parser;
use ferry_job::{CredentialRef, JobKind, JobSpec};

use crate::{Cli, CliError, Command};

/// `arg` made absolute against `cwd` when it is a relative local path.
fn against(cwd: &str, arg: &str) -> String {
    let is_url = arg.contains("://");
    if is_url || arg.starts_with('/') || arg.starts_with('~') || cwd.is_empty() {
        arg.to_owned()
    } else {
        std::path::Path::new(cwd).join(arg).display().to_string()
    }
}

/// The spec of an older journal's job.
pub(crate) fn from_record(record: &ferry_journal::JobSpec) -> Result<JobSpec, CliError> {
    let argv = std::iter::once("ferry".to_owned()).chain(record.args.iter().cloned());
    let cli = Cli::try_parse_from(argv)
        .map_err(|e| CliError::failed(format!("the job's command line cannot be read back: {e}")))?;
    let display = ferry_job::shown_command(record);
    let cwd = record.cwd.as_str();
    let made = match cli.command {
        Command::Copy(mut copy) => {
            copy.source = against(cwd, &copy.source);
            copy.destination = against(cwd, &copy.destination);
            crate::spec::copy(&copy, display)?
        }
        Command::Sync(mut sync) => {
            sync.source = against(cwd, &sync.source);
            sync.destination = against(cwd, &sync.destination);
            crate::spec::sync(&sync, display)?
        }
        Command::Remove(remove) => crate::spec::remove(&remove, display)?,
        _ => {
            return Err(CliError::usage(format!(
                "job {} cannot be resumed: only copy, sync and remove jobs can",
                record.job_id
            )));
        }
    };
    let mut spec = made.0;
    // The arguments had their SAS removed; the record says which URLs carried one.
    let recorded = [&record.source_credential, &record.destination_credential];
    let endpoints = match &mut spec.kind {
        JobKind::Copy(c) => vec![&mut c.source, &mut c.destination],
        JobKind::Sync(s) => vec![&mut s.source, &mut s.destination],
        JobKind::Remove(r) => vec![&mut r.target],
        JobKind::SetProperties(p) => vec![&mut p.target],
    };
    for (endpoint, credential) in endpoints.into_iter().zip(recorded) {
        if credential == "url-sas" {
            endpoint.credential = CredentialRef::UrlSas;
        }
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_are_taken_against_the_recorded_folder() {
        assert_eq!(against("/work", "src/*"), "/work/src/*");
        assert_eq!(against("/work", "/abs"), "/abs");
        assert_eq!(against("/work", "https://a.blob.core.windows.net/c"), "https://a.blob.core.windows.net/c");
        let record = ferry_journal::JobSpec {
            job_id: "d1000000000000000000000000000000".into(),
            args: vec!["copy".into(), "src".into(), "https://a.blob.core.windows.net/box".into(), "--recursive".into()],
            command_line: String::new(),
            cwd: "/data".into(),
            created: 0,
            source_credential: "local".into(),
            destination_credential: "url-sas".into(),
            job: None,
        };
        let spec = from_record(&record).unwrap();
        let JobKind::Copy(copy) = spec.kind else { panic!("a copy") };
        assert_eq!(copy.source.location, "/data/src");
        assert!(copy.recursive);
        assert_eq!(copy.destination.credential, CredentialRef::UrlSas, "the recorded SAS is asked for again");
    }
}
