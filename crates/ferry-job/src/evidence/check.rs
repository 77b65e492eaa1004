//! Checking a job's evidence: the chain line by line, the trailer's totals against the records.

use std::io::BufRead;
use std::path::Path;

use super::chain::{Broken, GENESIS, csv_text, open_json, sha256_hex};
use super::records::{CSV_COLUMNS, Header, Object};
use super::{FORMAT, Totals};
use crate::JobError;

/// What a check of an evidence file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceCheck {
    /// The job it is the evidence of.
    pub job_id: String,
    /// The job's destination, as the header gives it (no SAS).
    pub destination: String,
    /// The records, counted (equal to the trailer's).
    pub totals: Totals,
}

/// One line, opened and its hash checked: what it is, the `prev` it names, and its own hash.
struct Sealed {
    opened: Opened,
    prev: String,
    hash: String,
}

/// A line's number and what opening it gave, or why the file could not be read on.
type NumberedLine = Result<(u64, Result<Sealed, Broken>), JobError>;

/// What a line is.
enum Opened {
    Header(Box<Header>),
    Object(Box<Object>),
    Trailer(Totals),
}

/// The first line that does not hold, as an error of class differences (exit 3).
fn bad(path: &Path, line: u64, why: &str) -> JobError {
    JobError::differences(format!("{} line {line}: {why}", path.display()))
        .with_hint("the evidence does not hold from this line on; write it again from the job's journal (`ferry jobs evidence JOB_ID`) to compare")
}

/// Checks the evidence in `path` (either form): every line chained to the one before, the
/// trailer's totals those of the records. An error (class differences) names the first line
/// that does not hold.
pub fn check_evidence(path: &Path) -> Result<EvidenceCheck, JobError> {
    check_records(path, |_| {})
}

/// [`check_evidence`], calling `each` with every object record in order.
pub(crate) fn check_records(path: &Path, mut each: impl FnMut(&Object)) -> Result<EvidenceCheck, JobError> {
    let file = std::fs::File::open(path)
        .map_err(|e| JobError::usage(format!("cannot read the evidence `{}`: {e}", path.display())))?;
    let mut reader = std::io::BufReader::new(file);
    let first = reader.fill_buf().map_err(|e| JobError::failed(e.to_string()))?.first().copied();
    let mut lines: Box<dyn Iterator<Item = NumberedLine>> =
        if first == Some(b'{') { Box::new(json_lines(reader)) } else { Box::new(csv_rows(reader, path)?) };
    let (mut prev, mut totals, mut header, mut ended) = (GENESIS.to_owned(), Totals::default(), None, false);
    let mut count = 0u64;
    for item in lines.by_ref() {
        let (line, opened) = item?;
        count = line;
        let Sealed { opened, prev: named, hash } = opened.map_err(|b| bad(path, line, &b.explain()))?;
        if named != prev {
            return Err(bad(path, line, &Broken::OutOfChain.explain()));
        }
        prev = hash;
        if ended {
            return Err(bad(path, line, "a line after the trailer"));
        }
        match opened {
            Opened::Header(h) if header.is_none() => header = Some(*h),
            Opened::Header(_) => return Err(bad(path, line, "a second header")),
            _ if header.is_none() => return Err(bad(path, line, "the evidence must begin with its header")),
            Opened::Object(object) => {
                totals.count(&object.outcome, object.size);
                each(&object);
            }
            Opened::Trailer(trailer) if trailer == totals => ended = true,
            Opened::Trailer(trailer) => {
                return Err(bad(
                    path,
                    line,
                    &format!("the trailer's totals ({trailer:?}) are not those of the records ({totals:?})"),
                ));
            }
        }
    }
    let header = header.ok_or_else(|| bad(path, count.max(1), "no header"))?;
    if !ended {
        return Err(bad(path, count + 1, "no trailer: the evidence was cut short (or its end removed)"));
    }
    if header.format != FORMAT {
        return Err(JobError::usage(format!(
            "`{}` is evidence of format {}, not {FORMAT}",
            path.display(),
            header.format
        )));
    }
    Ok(EvidenceCheck { job_id: header.job_id, destination: header.destination, totals })
}

fn json_lines(reader: impl BufRead) -> impl Iterator<Item = NumberedLine> {
    reader.lines().zip(1u64..).map(|(text, line)| {
        let text = text.map_err(|e| JobError::failed(format!("cannot read the evidence: {e}")))?;
        Ok((line, open_json_line(&text)))
    })
}

fn open_json_line(text: &str) -> Result<Sealed, Broken> {
    let (body, hash) = open_json(text)?;
    let value: serde_json::Value = serde_json::from_str(&body).map_err(|e| Broken::Unreadable(e.to_string()))?;
    let prev = value["prev"].as_str().unwrap_or_default().to_owned();
    let unreadable = |e: serde_json::Error| Broken::Unreadable(e.to_string());
    let opened = match value["type"].as_str() {
        Some("header") => Opened::Header(Box::new(serde_json::from_value(value).map_err(unreadable)?)),
        Some("object") => Opened::Object(Box::new(serde_json::from_value(value).map_err(unreadable)?)),
        Some("trailer") => Opened::Trailer(serde_json::from_value(value).map_err(unreadable)?),
        _ => return Err(Broken::Unreadable("no type".into())),
    };
    Ok(Sealed { opened, prev, hash })
}

fn csv_rows(reader: impl BufRead + 'static, path: &Path) -> Result<impl Iterator<Item = NumberedLine>, JobError> {
    let mut csv = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(reader);
    let columns = csv.headers().map_err(|e| bad(path, 1, &e.to_string()))?;
    if columns.iter().ne(CSV_COLUMNS) {
        return Err(bad(path, 1, "the columns are not those of Ferry's evidence"));
    }
    Ok(csv.into_records().map(|record| {
        let record = record.map_err(|e| JobError::differences(format!("cannot read the evidence: {e}")))?;
        let line = record.position().map_or(0, csv::Position::line);
        Ok((line, open_csv_row(&record.iter().collect::<Vec<_>>())))
    }))
}

fn open_csv_row(fields: &[&str]) -> Result<Sealed, Broken> {
    let [sealed @ .., hash] = fields else { return Err(Broken::Unreadable("an empty row".into())) };
    if fields.len() != CSV_COLUMNS.len() {
        return Err(Broken::Unreadable(format!("{} fields, not {}", fields.len(), CSV_COLUMNS.len())));
    }
    if sha256_hex(csv_text(sealed).as_bytes()) != *hash {
        return Err(Broken::Edited);
    }
    let prev = sealed[12].to_owned();
    let unreadable = |e: serde_json::Error| Broken::Unreadable(e.to_string());
    let opened = match sealed[0] {
        "header" => Opened::Header(Box::new(serde_json::from_str(sealed[11]).map_err(unreadable)?)),
        "trailer" => Opened::Trailer(serde_json::from_str(sealed[11]).map_err(unreadable)?),
        "object" => Opened::Object(Box::new(
            Object::from_csv(sealed).ok_or_else(|| Broken::Unreadable("a field does not read".into()))?,
        )),
        other => return Err(Broken::Unreadable(format!("type `{other}`"))),
    };
    Ok(Sealed { opened, prev, hash: (*hash).to_owned() })
}
