//! With an Entra token the File service takes data requests only when they declare
//! `x-ms-file-request-intent: backup`: every request of a store signed with a token carries it
//! (and the token), none signed otherwise does. A recording listener stands in for the service
//! (the emulator has no Entra sign-in), answering each request `201 Created`.

use std::sync::{Arc, Mutex};

use ferry_azure::{BlobClient, Credential, HttpConfig, TokenSource};
use ferry_files::FilesStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug)]
struct Fixed;

#[async_trait::async_trait]
impl TokenSource for Fixed {
    async fn token(&self) -> Result<ferry_core::Secret, String> {
        Ok(ferry_core::Secret::new("a-token"))
    }
}

/// A listener that records the head of each request and answers `201 Created`.
async fn recorder() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/devstoreaccount1/share", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let mut head = Vec::new();
                loop {
                    let Ok(n) = socket.read(&mut buf).await else { return };
                    if n == 0 {
                        return;
                    }
                    head.extend_from_slice(&buf[..n]);
                    if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                        log.lock().unwrap().push(String::from_utf8_lossy(&head[..end]).to_ascii_lowercase());
                        head.drain(..end + 4);
                        let reply = "HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n";
                        if socket.write_all(reply.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    (url, seen)
}

async fn requests_with(credential: Credential) -> Vec<String> {
    let (url, seen) = recorder().await;
    let url = ferry_core::FileUrl::parse(&url, true).unwrap();
    let client = BlobClient::new(HttpConfig::default(), credential).unwrap();
    let store = FilesStore::new(client, url.azure()).unwrap();
    store.create_directory("dir").await.unwrap();
    ferry_store::Store::write_range(&store, "dir/f", 0, bytes::Bytes::from_static(b"abc"), None).await.unwrap();
    seen.lock().unwrap().clone()
}

#[tokio::test]
async fn token_requests_declare_backup_intent() {
    let seen = requests_with(Credential::Token(Arc::new(Fixed))).await;
    assert_eq!(seen.len(), 2, "{seen:?}");
    for head in &seen {
        assert!(head.contains("\r\nx-ms-file-request-intent: backup"), "{head}");
        assert!(head.contains("\r\nauthorization: bearer a-token"), "{head}");
    }
    let key = ferry_azure::SharedKey::new("devstoreaccount1", &ferry_core::Secret::new(ferry_azure::DEVELOPMENT_KEY));
    let seen = requests_with(Credential::SharedKey(key.unwrap())).await;
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen.iter().all(|h| !h.contains("x-ms-file-request-intent")), "{seen:?}");
}
