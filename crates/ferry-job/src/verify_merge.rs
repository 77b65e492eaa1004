//! `ferry verify --merge DIR/RUN`: one verification of a run from its shards' verifications.
//!
//! Each sharded verify wrote every name it judged, in name order (`shard-K-of-N.verify.jsonl`).
//! The merge checks that every shard of the run is there, that each name is in the shard its hash
//! (or, for a run split by a range plan, its range) says and in no other (so the shards are disjoint, and covering: each name's one shard was
//! verified), sums the verdicts, and writes one report of the differences in name order — a
//! k-way merge holding one line per shard, so memory does not grow with the names.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use ferry_plan::Shard;

use crate::shards::{RunRecord, evidence};
use crate::verify::{Reports, Row, VerifySummary};
use crate::{JobContext, JobError, JobEvent};

/// The next line of one shard's evidence.
struct Head {
    row: Row,
    shard: u64,
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Head {}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Head {
    /// Reversed (the heap is a max-heap): the smallest name, in the listings' order, first.
    fn cmp(&self, other: &Self) -> Ordering {
        ferry_core::cmp_keys(&other.row.path, &self.row.path).then(other.shard.cmp(&self.shard))
    }
}

type Lines = std::io::Lines<std::io::BufReader<std::fs::File>>;

fn next_row(lines: &mut Lines, shard: u64, path: &Path) -> Result<Option<Head>, JobError> {
    match lines.next() {
        None => Ok(None),
        Some(line) => {
            let line = line.map_err(|e| JobError::failed(format!("cannot read `{}`: {e}", path.display())))?;
            let row: Row = serde_json::from_str(&line)
                .map_err(|e| JobError::failed(format!("`{}` is not a shard's verification ({e})", path.display())))?;
            Ok(Some(Head { row, shard }))
        }
    }
}

/// The rows of every shard's verification of a run, in name order, each with its shard: a k-way
/// merge holding one row per shard. A shard's rows out of order, or a name in two shards, end it
/// with an error of class differences.
pub(crate) struct MergedRows {
    sources: Vec<(Lines, PathBuf)>,
    heap: BinaryHeap<Head>,
    last: Option<String>,
}

impl MergedRows {
    /// Opens the verifications of every shard of `record`'s run under `dir`; a missing one is an
    /// error of class differences.
    pub(crate) fn open(dir: &Path, record: &RunRecord) -> Result<Self, JobError> {
        let run_id = &record.run_id;
        let mut sources = Vec::new();
        let mut missing = Vec::new();
        for k in 0..record.shards {
            let shard = Shard::new(k, record.shards).map_err(|e| JobError::failed(e.to_string()))?;
            let path = evidence(dir, run_id, shard, "verify.jsonl");
            match std::fs::File::open(&path) {
                Ok(file) => sources.push((std::io::BufReader::new(file).lines(), path)),
                Err(_) => missing.push(shard.to_string()),
            }
        }
        if !missing.is_empty() {
            return Err(JobError::differences(format!(
                "run `{run_id}` is not wholly verified: shard {} has no verification",
                missing.join(", ")
            ))
            .with_hint(
                "run the sharded verify for those shards (the same command with their index), then merge again",
            ));
        }
        let mut heap = BinaryHeap::new();
        for (k, (lines, path)) in sources.iter_mut().enumerate() {
            if let Some(head) = next_row(lines, k as u64, path)? {
                heap.push(head);
            }
        }
        Ok(Self { sources, heap, last: None })
    }

    fn advance(&mut self) -> Result<Option<(Row, u64)>, JobError> {
        let Some(Head { row, shard }) = self.heap.pop() else { return Ok(None) };
        if self.last.as_deref() == Some(row.path.as_str()) {
            return Err(JobError::differences(format!("`{}` is in two shards' verifications", row.path))
                .with_hint("the shards of one run must share N and the hash; run them again with the run's command"));
        }
        let (lines, path) = &mut self.sources[usize::try_from(shard).unwrap_or(usize::MAX)];
        if let Some(head) = next_row(lines, shard, path)? {
            // Each shard's names come in order; otherwise the merge could not see a name twice.
            if ferry_core::cmp_keys(&head.row.path, &row.path) != Ordering::Greater {
                return Err(JobError::differences(format!(
                    "`{}` is out of order or repeated in `{}`: not a shard's verification as Ferry writes it",
                    head.row.path,
                    path.display()
                )));
            }
            self.heap.push(head);
        }
        self.last = Some(row.path.clone());
        Ok(Some((row, shard)))
    }
}

impl Iterator for MergedRows {
    type Item = Result<(Row, u64), JobError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.advance().transpose()
    }
}

/// Merges the verification of the run in `run_dir` (`DIR/RUN`): writes the merged reports there
/// and reports the totals; differences, a missing shard or a name out of place are an error of
/// class differences (exit 3).
pub fn merge_verify(run_dir: &Path, ctx: &JobContext) -> Result<VerifySummary, JobError> {
    let (dir, record) = run_of(run_dir)?;
    let run_id = record.run_id.clone();
    // A run split by a range plan: each name belongs to the range that holds it, else to its hash.
    let plan = crate::shards::run_plan(dir, &record)?;
    let rows = MergedRows::open(dir, &record)?;
    let id = format!("merged-{run_id}");
    let mut reports = Reports::create(run_dir, &id)
        .map_err(|e| JobError::failed(format!("cannot write the merged report in `{}`: {e}", run_dir.display())))?;
    let mut counts = std::collections::BTreeMap::<String, u64>::new();
    for item in rows {
        let (row, shard) = item?;
        let owner = match &plan {
            Some(plan) => plan.owner(&row.path),
            None => ferry_plan::shard_hash(&row.path) % record.shards,
        };
        if owner != shard {
            return Err(JobError::differences(format!(
                "`{}` was verified by shard {shard} but belongs to shard {owner} of {}",
                row.path, record.shards
            )));
        }
        *counts.entry(row.reason.to_string()).or_default() += 1;
        if row.reason != "matched" {
            reports.write(&row).map_err(|e| JobError::failed(format!("cannot write the merged report: {e}")))?;
        }
    }
    let (jsonl, csv) =
        reports.finish().map_err(|e| JobError::failed(format!("cannot write the merged report: {e}")))?;
    let count = |reason: &str| counts.get(reason).copied().unwrap_or(0);
    let summary = VerifySummary {
        id,
        matched: count("matched"),
        missing: count("missing at destination"),
        extra: count("extra at destination"),
        size_mismatches: count("size mismatch"),
        hash_mismatches: count("hash mismatch"),
        unverifiable: count("unverifiable"),
        jsonl,
        csv,
    };
    ctx.events.event(&JobEvent::Verified(&summary));
    let differences = summary.differences();
    if differences > 0 {
        return Err(JobError::differences(format!(
            "{differences} differences found across the shards; see the report"
        )));
    }
    Ok(summary)
}

/// The folder and record of the run in `run_dir` (`DIR/RUN`).
pub(crate) fn run_of(run_dir: &Path) -> Result<(&Path, RunRecord), JobError> {
    let run_id = run_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let dir = run_dir.parent().unwrap_or(Path::new("."));
    Ok((dir, RunRecord::read(dir, &run_id)?))
}
