//! A job's evidence and log, downloaded: streamed as they are written or read, so a job of
//! millions of objects takes no more memory to download than to write.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use crate::Shared;

/// A writer that hands what it is given to a channel, a chunk at a time.
struct ChannelWriter {
    sender: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    pending: Vec<u8>,
}

const CHUNK: usize = 64 * 1024;

impl std::io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if self.pending.len() >= CHUNK {
            self.flush()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.pending));
        self.sender.blocking_send(Ok(chunk)).map_err(|_| std::io::Error::other("the download was abandoned"))
    }
}

fn evidence(shared: &Arc<Shared>, id: String, format: ferry_job::EvidenceFormat, name: &str) -> Response {
    if !ferry_journal::is_job_id(&id) || !shared.options.plans.join(format!("{id}.db")).exists() {
        return (StatusCode::NOT_FOUND, "no such job\n").into_response();
    }
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    let plans = shared.options.plans.clone();
    tokio::task::spawn_blocking(move || {
        let mut out = ChannelWriter { sender: sender.clone(), pending: Vec::new() };
        if let Err(e) = ferry_job::write_evidence(&plans, &id, format, &mut out) {
            let _ = sender.blocking_send(Err(std::io::Error::other(e.message().to_owned())));
        }
    });
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(receiver));
    let kind = match format {
        ferry_job::EvidenceFormat::Jsonl => "application/jsonl; charset=utf-8",
        ferry_job::EvidenceFormat::Csv => "text/csv; charset=utf-8",
    };
    let disposition = format!("attachment; filename=\"{name}\"");
    ([(header::CONTENT_TYPE, kind.to_owned()), (header::CONTENT_DISPOSITION, disposition)], body).into_response()
}

pub(crate) async fn evidence_jsonl(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let name = format!("evidence-{id}.jsonl");
    evidence(&shared, id, ferry_job::EvidenceFormat::Jsonl, &name)
}

pub(crate) async fn evidence_csv(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let name = format!("evidence-{id}.csv");
    evidence(&shared, id, ferry_job::EvidenceFormat::Csv, &name)
}

pub(crate) async fn log(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    if !ferry_journal::is_job_id(&id) {
        return (StatusCode::NOT_FOUND, "no such job\n").into_response();
    }
    match tokio::fs::File::open(shared.options.logs.join(format!("{id}.log"))).await {
        Ok(file) => {
            let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
            ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
        }
        Err(_) => (StatusCode::NOT_FOUND, "this job has no log\n").into_response(),
    }
}
