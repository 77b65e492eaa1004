//! The 401 path: a refused credential is dropped and the request replayed once with a fresh
//! one; a credential that cannot be refreshed fails at once. The server is a few lines of
//! TCP: no real service answers 401 on demand.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use ferry_core::{ErrorKind, StoreError};
use ferry_http::{Authorizer, Body, HttpClient, HttpConfig, Request};
use futures::FutureExt;
use reqwest::Method;
use reqwest::header::HeaderMap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

/// Answers 401 to requests whose `authorization` is not `Bearer fresh`, 200 otherwise; counts
/// requests.
async fn server() -> (Url, Arc<AtomicU32>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/box/blob", listener.local_addr().unwrap())).unwrap();
    let count = Arc::new(AtomicU32::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 8192];
                let n = socket.read(&mut buffer).await.unwrap_or(0);
                seen.fetch_add(1, Ordering::SeqCst);
                let request = String::from_utf8_lossy(&buffer[..n]).to_ascii_lowercase();
                let status =
                    if request.contains("authorization: bearer fresh") { "200 OK" } else { "401 Unauthorized" };
                let reply = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = socket.write_all(reply.as_bytes()).await;
            });
        }
    });
    (url, count)
}

/// A token that starts stale; `refreshable` says whether dropping it brings a fresh one.
struct Token {
    fresh: std::sync::atomic::AtomicBool,
    refreshable: bool,
}

#[async_trait::async_trait]
impl Authorizer for Token {
    async fn authorize(&self, _: &Method, _: &mut Url, headers: &mut HeaderMap, _: &str) -> Result<(), StoreError> {
        let value = if self.fresh.load(Ordering::SeqCst) { "Bearer fresh" } else { "Bearer stale" };
        headers.insert("authorization", value.parse().unwrap());
        Ok(())
    }

    fn unauthorized(&self) -> bool {
        if self.refreshable {
            self.fresh.store(true, Ordering::SeqCst);
        }
        self.refreshable
    }
}

fn classify<'a>(response: reqwest::Response, target: &'a str) -> futures::future::BoxFuture<'a, StoreError> {
    async move {
        let kind = if response.status() == 401 { ErrorKind::Unauthenticated } else { ErrorKind::Other };
        StoreError::new(kind, target, format!("HTTP {}", response.status().as_u16()))
    }
    .boxed()
}

#[tokio::test]
async fn a_refused_token_is_refreshed_once_and_the_request_replayed() {
    let (url, count) = server().await;
    let client = HttpClient::new(HttpConfig::default()).unwrap();
    let token = Token { fresh: false.into(), refreshable: true };
    let request = Request::new(Method::PUT, url.clone(), "blob").body(Body::Bytes(bytes::Bytes::from_static(b"x")));
    let response = client.send(request, &token, classify).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(count.load(Ordering::SeqCst), 2, "one refused attempt, one replay");

    let (url, count) = server().await;
    let stuck = Token { fresh: false.into(), refreshable: false };
    let err = client.send(Request::new(Method::GET, url, "blob"), &stuck, classify).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    assert_eq!(count.load(Ordering::SeqCst), 1, "no refresh, no replay, no retry");
}
