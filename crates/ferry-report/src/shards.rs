//! `ferry shards status`: where each shard of a run stands.

use ferry_job::{ShardState, ShardStatus};

use crate::console::{Console, OutputFormat};

/// One line per shard and a total; in JSON, one object with every shard.
pub fn shard_status(run_id: &str, shards: &[ShardStatus], console: &Console) {
    let count = |state: ShardState| shards.iter().filter(|s| s.state == state).count();
    match console.format() {
        OutputFormat::Text => {
            let mut text = String::new();
            for s in shards {
                let job = s.job_id.as_deref().map(|j| format!(" (job {j})")).unwrap_or_default();
                text.push_str(&format!("Shard {}: {}{job}\n", s.shard, s.state.as_str()));
            }
            text.push_str(&format!(
                "Run {run_id}: {} shards, {} done, {} failed, {} running, {} missing",
                shards.len(),
                count(ShardState::Done),
                count(ShardState::Failed),
                count(ShardState::Running),
                count(ShardState::Missing)
            ));
            console.end_of_job(&text);
        }
        OutputFormat::Json => {
            let list: Vec<_> = shards
                .iter()
                .map(|s| {
                    serde_json::json!({ "Shard": s.shard.index, "Shards": s.shard.count, "State": s.state.as_str(), "JobId": s.job_id })
                })
                .collect();
            console.end_of_job(&serde_json::json!({ "RunId": run_id, "Shards": list }).to_string());
        }
    }
}

/// `ferry shards plan`: each range with what it held, and the plan's digest.
pub fn shard_plan(plan: &ferry_plan::RangePlan, file: &std::path::Path, console: &Console) {
    match console.format() {
        OutputFormat::Text => {
            let mut text = String::new();
            for s in &plan.shards {
                text.push_str(&format!(
                    "Shard {}/{}: {} ({} objects, {} bytes)\n",
                    s.index,
                    plan.count(),
                    s.range,
                    s.objects,
                    s.bytes
                ));
            }
            text.push_str(&format!(
                "Plan of {} written to {}: {} ranges, digest {}",
                plan.source,
                file.display(),
                plan.count(),
                plan.digest()
            ));
            console.end_of_job(&escape_controls_in(&text));
        }
        OutputFormat::Json => {
            let shards: Vec<_> = plan
                .shards
                .iter()
                .map(|s| serde_json::json!({ "Shard": s.index, "From": s.range.from, "To": s.range.to, "Objects": s.objects, "Bytes": s.bytes }))
                .collect();
            let json =
                serde_json::json!({ "Plan": file.display().to_string(), "Digest": plan.digest(), "Shards": shards });
            console.end_of_job(&json.to_string());
        }
    }
}

/// Names may hold control characters; a terminal shows them escaped.
fn escape_controls_in(text: &str) -> String {
    text.lines().map(crate::escape_controls).collect::<Vec<_>>().join("\n")
}
