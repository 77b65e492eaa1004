//! Writing a job's evidence from its journal.

use std::io::Write;

use ferry_journal::Journal;
use serde::Serialize;

use super::chain::{GENESIS, csv_text, seal_json, sha256_hex};
use super::records::{CSV_COLUMNS, Header, Object, rfc3339_ms};
use super::{FORMAT, Totals};
use crate::JobError;

/// The two forms evidence takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceFormat {
    /// One JSON object a line.
    Jsonl,
    /// Comma-separated values, with a row of column names first.
    Csv,
}

/// Writes lines, each sealed to the one before.
struct Sealer<'w> {
    out: &'w mut dyn Write,
    format: EvidenceFormat,
    prev: String,
}

/// A JSON line's content: `type` first, the record, then `prev`.
#[derive(Serialize)]
struct Line<'a, T: Serialize> {
    r#type: &'a str,
    #[serde(flatten)]
    record: &'a T,
    prev: &'a str,
}

impl Sealer<'_> {
    fn json<T: Serialize>(&mut self, kind: &str, record: &T) -> std::io::Result<()> {
        let body =
            serde_json::to_string(&Line { r#type: kind, record, prev: &self.prev }).map_err(std::io::Error::other)?;
        let (line, hash) = seal_json(&body);
        writeln!(self.out, "{line}")?;
        self.prev = hash;
        Ok(())
    }

    fn csv(&mut self, mut fields: Vec<String>) -> std::io::Result<()> {
        fields.push(self.prev.clone());
        let text = csv_text(&fields.iter().map(String::as_str).collect::<Vec<_>>());
        let hash = sha256_hex(text.as_bytes());
        writeln!(self.out, "{text},{hash}")?;
        self.prev = hash;
        Ok(())
    }

    /// A header or trailer: its fields as a JSON line, or as JSON in the CSV row's `detail`.
    fn whole<T: Serialize>(&mut self, kind: &str, record: &T, source: &str, destination: &str) -> std::io::Result<()> {
        match self.format {
            EvidenceFormat::Jsonl => self.json(kind, record),
            EvidenceFormat::Csv => {
                let detail = serde_json::to_string(record).map_err(std::io::Error::other)?;
                let mut fields = vec![String::new(); 12];
                (fields[0], fields[1], fields[2], fields[11]) =
                    (kind.into(), source.into(), destination.into(), detail);
                self.csv(fields)
            }
        }
    }

    fn object(&mut self, object: &Object) -> std::io::Result<()> {
        match self.format {
            EvidenceFormat::Jsonl => self.json("object", object),
            EvidenceFormat::Csv => self.csv(object.csv_fields()),
        }
    }
}

/// The header of the job `journal` records.
fn header(journal: &Journal) -> Result<Header, JobError> {
    let record = journal.spec();
    let typed = crate::stored_spec(journal).transpose()?;
    let endpoints = typed.as_ref().map(crate::JobSpec::endpoints).unwrap_or_default();
    let shown = |i: usize| endpoints.get(i).map(|(e, _)| e.location.clone()).unwrap_or_default();
    let (status, _) = journal.job_status().map_err(|e| JobError::failed(e.to_string()))?;
    let times = journal.times().map_err(|e| JobError::failed(e.to_string()))?;
    let now = time::OffsetDateTime::now_utc();
    let identities: Option<serde_json::Value> = times.identity.as_deref().and_then(|j| serde_json::from_str(j).ok());
    let identity = |i: usize| {
        let side = if i == 0 { "source" } else { "destination" };
        identities.as_ref().and_then(|v| v[side].as_str()).map(str::to_owned)
    };
    Ok(Header {
        format: FORMAT.into(),
        job_id: record.job_id.clone(),
        command: record.command_line.clone(),
        status: status.as_str().into(),
        source: shown(0),
        destination: shown(1),
        source_auth: record.source_credential.clone(),
        destination_auth: record.destination_credential.clone(),
        source_identity: identity(0),
        destination_identity: identity(1),
        ferry_version: times.ferry_version.clone(),
        started: times.started_ms.or(Some(record.created * 1000)).and_then(rfc3339_ms),
        ended: times.ended_ms.and_then(rfc3339_ms),
        written: now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        written_by: env!("CARGO_PKG_VERSION").into(),
    })
}

/// Writes the evidence of job `id` (journals in `plans`) to `out`, one journal row at a time,
/// and returns its totals.
pub fn write_evidence(
    plans: &std::path::Path,
    id: &str,
    format: EvidenceFormat,
    out: &mut dyn Write,
) -> Result<Totals, JobError> {
    let journal = Journal::open(plans, id).map_err(|e| JobError::usage(format!("cannot open job {id}: {e}")))?;
    let header = header(&journal)?;
    let io = |e: std::io::Error| JobError::failed(format!("cannot write the evidence: {e}"));
    let mut sealer = Sealer { out, format, prev: GENESIS.to_owned() };
    if format == EvidenceFormat::Csv {
        writeln!(sealer.out, "{}", CSV_COLUMNS.join(",")).map_err(io)?;
    }
    sealer.whole("header", &header, &header.source, &header.destination).map_err(io)?;
    let mut totals = Totals::default();
    let written = journal
        .for_each_record(|row| {
            let object = Object::of(row);
            totals.count(&object.outcome, object.size);
            sealer.object(&object)
        })
        .map_err(|e| JobError::failed(format!("cannot read job {id}'s journal: {e}")))?;
    written.map_err(io)?;
    sealer.whole("trailer", &totals, "", "").map_err(io)?;
    sealer.out.flush().map_err(io)?;
    Ok(totals)
}
