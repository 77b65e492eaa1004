//! `ferry serve`: a read-only dashboard over the journals folder — every job with its kind,
//! status, progress (from the heartbeat of jobs running in other processes), counts and
//! throughput; a page per job with its failures, the command that resumes it, and its evidence
//! and log to download; `/metrics` over all jobs. Nothing here changes a job.
//!
//! Loopback only unless given an access token: the pages name the user's files. With a token,
//! every request must carry it (`Authorization: Bearer`, or once as `?token=`, kept in a cookie).

mod data;
mod download;
mod metrics;
mod pages;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// What to serve, where.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Where to listen.
    pub addr: SocketAddr,
    /// The access token requests must carry; required for an address other than loopback.
    pub token: Option<String>,
    /// The journals folder.
    pub plans: PathBuf,
    /// The job logs folder.
    pub logs: PathBuf,
}

/// Why the dashboard cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A non-loopback address without a token.
    #[error("{0} is not a loopback address, and the dashboard names your files: give it an access token")]
    Exposed(SocketAddr),
    /// The address cannot be listened on.
    #[error("cannot listen on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
}

struct Shared {
    options: ServeOptions,
    /// SHA-256 of the token, compared with the SHA-256 of what a request carries (so the
    /// comparison takes the same time whatever the guess).
    token_digest: Option<[u8; 32]>,
}

fn digest(text: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes()).into()
}

/// Starts serving; returns the address bound (the port chosen, for port 0) and the server's task.
pub async fn serve(options: ServeOptions) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), ServeError> {
    if options.token.is_none() && !options.addr.ip().is_loopback() {
        return Err(ServeError::Exposed(options.addr));
    }
    let listener =
        tokio::net::TcpListener::bind(options.addr).await.map_err(|e| ServeError::Listen(options.addr, e))?;
    let bound = listener.local_addr().map_err(|e| ServeError::Listen(options.addr, e))?;
    let token_digest = options.token.as_deref().map(digest);
    let shared = Arc::new(Shared { options, token_digest });
    let app = Router::new()
        .route("/", get(index))
        .route("/jobs/{id}", get(job))
        .route("/jobs/{id}/evidence.jsonl", get(download::evidence_jsonl))
        .route("/jobs/{id}/evidence.csv", get(download::evidence_csv))
        .route("/jobs/{id}/log", get(download::log))
        .route("/metrics", get(metrics::metrics))
        .layer(middleware::from_fn_with_state(shared.clone(), authorize))
        .with_state(shared);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::warn!(error = %e, "the dashboard stopped");
        }
    });
    Ok((bound, task))
}

/// The token a request carries: a bearer header, a cookie, or the query (once, from a link).
fn carried(headers: &HeaderMap, query: Option<&str>) -> (Option<String>, bool) {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.split(';').find_map(|c| c.trim().strip_prefix("ferry_token=").map(str::to_owned)));
    let from_query = query.and_then(|q| q.split('&').find_map(|p| p.strip_prefix("token="))).map(|t| t.to_owned());
    let in_query = from_query.is_some();
    (bearer.or(cookie).or(from_query), in_query)
}

async fn authorize(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let Some(expected) = shared.token_digest else { return next.run(request).await };
    let (token, in_query) = carried(request.headers(), request.uri().query());
    if token.as_deref().map(digest) != Some(expected) {
        return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "an access token is required\n")
            .into_response();
    }
    let mut response = next.run(request).await;
    if in_query && let Some(token) = token {
        // Kept for the links a page holds, so the token need not travel in URLs again.
        let cookie = format!("ferry_token={token}; HttpOnly; SameSite=Strict; Path=/");
        if let Ok(value) = cookie.parse() {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

async fn index(State(shared): State<Arc<Shared>>) -> Response {
    let plans = shared.options.plans.clone();
    let jobs = tokio::task::spawn_blocking(move || data::jobs(&plans)).await.unwrap_or_default();
    pages::index(&jobs, &shared.options.plans.display().to_string()).into_response()
}

/// How many failures a job page lists.
const FAILURES_SHOWN: u64 = 100;

async fn job(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let plans = shared.options.plans.clone();
    let found = tokio::task::spawn_blocking(move || {
        data::job(&plans, &id).map(|(view, journal)| (view, data::failures(&journal, FAILURES_SHOWN)))
    })
    .await;
    match found {
        Ok(Ok((view, failures))) => pages::job(&view, &failures, FAILURES_SHOWN).into_response(),
        _ => (StatusCode::NOT_FOUND, pages::not_found("No such job in this folder.")).into_response(),
    }
}
