//! `--shard K/N`, `--shards N`, `--shard-plan`, `--run-id`, `--report-dir`: which shard of a run
//! a command is.

use ferry_job::{INDEX_VARIABLES, JobSpec, PlanChoice, ShardRun};
use ferry_plan::{RangePlan, Shard};

use crate::args::ShardArgs;
use crate::{CliError, Environment};

/// The shard a command is: K/N, where K came from, and its range when a plan splits the run.
pub(crate) struct Chosen {
    pub(crate) shard: Shard,
    pub(crate) index_from: String,
    pub(crate) plan: Option<PlanChoice>,
}

/// The shard the flags name, K read from the environment only with `--shards` or
/// `--shard-plan` (a plain command inside someone's array job must not shard itself), and N
/// never from it: from `--shard`, `--shards` or the plan, which must agree.
pub(crate) fn shard_of(args: &ShardArgs, env: &Environment) -> Result<Option<Chosen>, CliError> {
    let plan = args.shard_plan.as_deref().map(read_plan).transpose()?;
    let planned = plan.as_ref().map(RangePlan::count);
    if let (Some(n), Some(m)) = (args.shards, planned)
        && n != m
    {
        return Err(CliError::usage(format!("--shards {n} disagrees with the plan, which has {m} ranges"))
            .with_hint("leave out --shards: the plan says how many shards there are"));
    }
    let usage = |e: ferry_plan::ShardError| CliError::usage(format!("--shard: {e}"));
    let (shard, index_from) = match (&args.shard, args.shards.or(planned)) {
        (Some(text), _) => (Shard::parse(text).map_err(usage)?, "--shard".to_owned()),
        (None, Some(count)) => index_from_environment(count, env)?,
        (None, None) => return Ok(None),
    };
    if let Some(m) = planned.filter(|m| *m != shard.count) {
        return Err(CliError::usage(format!("--shard {shard} disagrees with the plan, which has {m} ranges"))
            .with_hint(format!("give --shard K/{m}")));
    }
    let plan = match (plan, &args.shard_plan) {
        (Some(plan), Some(file)) => PlanChoice::of(&plan, shard.index, file),
        _ => None,
    };
    Ok(Some(Chosen { shard, index_from, plan }))
}

/// K of `count` shards from the first of [`INDEX_VARIABLES`] set.
fn index_from_environment(count: u64, env: &Environment) -> Result<(Shard, String), CliError> {
    let Some((name, value)) = INDEX_VARIABLES.iter().find_map(|n| env.get(n).map(|v| (*n, v.trim()))) else {
        return Err(CliError::usage(format!("{count} shards need this shard's index K")).with_hint(format!(
            "set one of {} (Kubernetes and Slurm set theirs), or give --shard K/{count}",
            INDEX_VARIABLES.join(", ")
        )));
    };
    let index: u64 =
        value.parse().map_err(|_| CliError::usage(format!("{name}=`{value}` is not a shard index (0, 1, 2, …)")))?;
    let shard = Shard::new(index, count).map_err(|e| {
        CliError::usage(format!("{name}: {e}"))
            .with_hint(format!("arrays numbered from 1 (--array=1-{count}): pass --shard $(({name}-1))/{count}"))
    })?;
    Ok((shard, name.to_owned()))
}

/// Reads a range plan, with a clear error for a file that is missing or is not one.
fn read_plan(path: &std::path::Path) -> Result<RangePlan, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("cannot read the shard plan `{}`: {e}", path.display())))?;
    RangePlan::parse(&text).map_err(|e| {
        CliError::usage(format!("`{}`: {e}", path.display()))
            .with_hint("make one with `ferry shards plan SRC --shards M -o PLAN.json`")
    })
}

/// `spec` as the shard the flags name, if any: its listings hold only the shard's names, and its
/// job id follows from the run.
pub(crate) fn sharded(
    spec: JobSpec,
    args: &ShardArgs,
    report_dir: Option<&std::path::Path>,
    env: &Environment,
) -> Result<JobSpec, CliError> {
    let Some(Chosen { shard, index_from, plan }) = shard_of(args, env)? else {
        if report_dir.is_some() {
            return Err(CliError::usage("--report-dir is where a sharded run's evidence goes")
                .with_hint("add --shard K/N or --shards N, with --run-id"));
        }
        return Ok(spec);
    };
    let run_id = run_id_of(args, shard)?;
    Ok(spec.sharded(ShardRun { run_id, shard, index_from, report_dir: report_dir.map(Into::into), plan }))
}

/// `--run-id`, required for a shard.
pub(crate) fn run_id_of(args: &ShardArgs, shard: Shard) -> Result<String, CliError> {
    let run_id = args.run_id.clone().ok_or_else(|| {
        CliError::usage(format!("shard {shard} needs --run-id")).with_hint(
            "name the run (for example --run-id nightly-20261130): every shard of it, and every retry, gives the same",
        )
    })?;
    if !ferry_job::valid_run_id(&run_id) {
        return Err(CliError::usage(format!("--run-id `{run_id}` is not a run id"))
            .with_hint("use 1 to 64 letters, digits, `.`, `_` and `-`"));
    }
    Ok(run_id)
}
