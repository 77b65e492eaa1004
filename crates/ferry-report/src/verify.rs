//! `ferry verify`'s summary.

use ferry_job::VerifySummary;

use crate::console::{Console, OutputFormat};

/// Prints a verification's summary: AzCopy-style labelled lines, or one JSON object.
pub fn verify_summary(s: &VerifySummary, console: &Console) {
    let status = s.status();
    match console.format() {
        OutputFormat::Text => console.end_of_job(&format!(
            "\nVerify {} summary\nObjects Matched: {}\nMissing at Destination: {}\nExtra at Destination: {}\nSize Mismatches: {}\nHash Mismatches: {}\nUnverifiable: {}\nReport (JSON Lines): {}\nReport (CSV): {}\nFinal Status: {status}",
            s.id,
            s.matched,
            s.missing,
            s.extra,
            s.size_mismatches,
            s.hash_mismatches,
            s.unverifiable,
            s.jsonl.display(),
            s.csv.display()
        )),
        OutputFormat::Json => {
            let content = serde_json::json!({
                "VerifyID": s.id, "Matched": s.matched, "MissingAtDestination": s.missing,
                "ExtraAtDestination": s.extra, "SizeMismatches": s.size_mismatches,
                "HashMismatches": s.hash_mismatches, "Unverifiable": s.unverifiable,
                "ReportJsonLines": s.jsonl, "ReportCsv": s.csv, "Status": status,
            });
            console.end_of_job(&crate::go_escape(&content.to_string()));
        }
    }
}
