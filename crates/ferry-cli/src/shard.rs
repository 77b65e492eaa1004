//! `--shard K/N`, `--shards N`, `--run-id`, `--report-dir`: which shard of a run a command is.

use ferry_job::{INDEX_VARIABLES, JobSpec, ShardRun};
use ferry_plan::Shard;

use crate::args::ShardArgs;
use crate::{CliError, Environment};

/// The shard the flags name, K read from the environment only with `--shards` (a plain command
/// inside someone's array job must not shard itself), and N never from it.
pub(crate) fn shard_of(args: &ShardArgs, env: &Environment) -> Result<Option<(Shard, String)>, CliError> {
    let usage = |e: ferry_plan::ShardError| CliError::usage(format!("--shard: {e}"));
    match (&args.shard, args.shards) {
        (Some(text), _) => Ok(Some((Shard::parse(text).map_err(usage)?, "--shard".to_owned()))),
        (None, Some(count)) => {
            let Some((name, value)) = INDEX_VARIABLES.iter().find_map(|n| env.get(n).map(|v| (*n, v.trim()))) else {
                return Err(CliError::usage(format!("--shards {count} needs this shard's index K")).with_hint(
                    format!(
                        "set one of {} (Kubernetes and Slurm set theirs), or give --shard K/{count}",
                        INDEX_VARIABLES.join(", ")
                    ),
                ));
            };
            let index: u64 = value
                .parse()
                .map_err(|_| CliError::usage(format!("{name}=`{value}` is not a shard index (0, 1, 2, …)")))?;
            let shard = Shard::new(index, count).map_err(|e| {
                CliError::usage(format!("{name}: {e}")).with_hint(format!(
                    "arrays numbered from 1 (--array=1-{count}): pass --shard $(({name}-1))/{count}"
                ))
            })?;
            Ok(Some((shard, name.to_owned())))
        }
        (None, None) => Ok(None),
    }
}

/// `spec` as the shard the flags name, if any: its listings hold only the shard's names, and its
/// job id follows from the run.
pub(crate) fn sharded(
    spec: JobSpec,
    args: &ShardArgs,
    report_dir: Option<&std::path::Path>,
    env: &Environment,
) -> Result<JobSpec, CliError> {
    let Some((shard, index_from)) = shard_of(args, env)? else {
        if report_dir.is_some() {
            return Err(CliError::usage("--report-dir is where a sharded run's evidence goes")
                .with_hint("add --shard K/N or --shards N, with --run-id"));
        }
        return Ok(spec);
    };
    let run_id = args.run_id.clone().ok_or_else(|| {
        CliError::usage(format!("shard {shard} needs --run-id")).with_hint(
            "name the run (for example --run-id nightly-20261130): every shard of it, and every retry, gives the same",
        )
    })?;
    if !ferry_job::valid_run_id(&run_id) {
        return Err(CliError::usage(format!("--run-id `{run_id}` is not a run id"))
            .with_hint("use 1 to 64 letters, digits, `.`, `_` and `-`"));
    }
    Ok(spec.sharded(ShardRun { run_id, shard, index_from, report_dir: report_dir.map(Into::into) }))
}
