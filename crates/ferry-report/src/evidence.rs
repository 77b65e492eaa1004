//! `ferry jobs evidence`: what was written, and what a check found.

use ferry_job::{AgainstSummary, EvidenceCheck, EvidenceTotals};

use crate::console::{Console, OutputFormat};

fn totals_text(t: &EvidenceTotals) -> String {
    format!(
        "{} records: {} copied ({} bytes), {} skipped, {} failed, {} deleted, {} cancelled, {} pending",
        t.records, t.copied, t.bytes_copied, t.skipped, t.failed, t.deleted, t.cancelled, t.pending
    )
}

/// The evidence of job `id` was written to `file`.
pub fn evidence_written(id: &str, totals: &EvidenceTotals, file: &std::path::Path, console: &Console) {
    match console.format() {
        OutputFormat::Text => {
            console.end_of_job(&format!("Evidence of job {id} written to {}: {}", file.display(), totals_text(totals)))
        }
        OutputFormat::Json => console.end_of_job(
            &serde_json::json!({ "JobId": id, "Evidence": file.display().to_string(), "Totals": totals }).to_string(),
        ),
    }
}

/// The evidence in `file` holds (and, checked against its destination, the destination too).
pub fn evidence_checked(
    file: &std::path::Path,
    check: &EvidenceCheck,
    against: Option<&AgainstSummary>,
    console: &Console,
) {
    match console.format() {
        OutputFormat::Text => {
            let mut text = format!(
                "Evidence {} of job {}: every line chained, the totals agree; {}",
                file.display(),
                check.job_id,
                totals_text(&check.totals)
            );
            if let Some(a) = against {
                text.push_str(&format!(
                    "\nDestination: {} copied objects checked, {} held with the recorded size and MD5",
                    a.checked, a.held
                ));
            }
            console.end_of_job(&text);
        }
        OutputFormat::Json => {
            let against =
                against.map(|a| serde_json::json!({ "Checked": a.checked, "Held": a.held, "Differ": a.differ }));
            console.end_of_job(
                &serde_json::json!({ "Evidence": file.display().to_string(), "JobId": check.job_id, "Intact": true, "Totals": check.totals, "Against": against })
                    .to_string(),
            );
        }
    }
}
