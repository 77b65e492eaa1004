//! The Blob service's client: Ferry's HTTP client (`ferry-http`) with Azure's headers and
//! authorisation on each attempt, and its error bodies read into errors by meaning.

use std::time::SystemTime;

use ferry_http::{Authorizer, HttpClient, Request};
use ferry_store::StoreError;
use futures::FutureExt;
use futures::future::BoxFuture;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use reqwest::{Method, Response};
use url::Url;

use crate::credential::Credential;
use crate::error::error_from_response;

pub use ferry_http::HttpConfig;

/// The REST API version Ferry speaks.
pub const API_VERSION: &str = "2025-01-05";

/// The service version a listing that starts at a name (`startFrom`) is sent with: the first
/// that has it. (Azurite honours `startFrom` under older versions too; Azure does not.)
pub const START_FROM_VERSION: &str = "2026-02-06";

/// A client for one account: a connection pool, a credential and a configuration.
/// Cloning is cheap and shares the pool.
#[derive(Clone, Debug)]
pub struct BlobClient {
    http: HttpClient,
    credential: Credential,
}

/// Azure's error bodies, read into errors by meaning.
fn classify<'a>(response: Response, target: &'a str) -> BoxFuture<'a, StoreError> {
    error_from_response(response, target).boxed()
}

fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static(""))
}

/// Adds a SAS to a request URL's query.
fn append_sas(url: &mut Url, sas: &ferry_core::SasToken) {
    let query = match url.query() {
        Some(q) if !q.is_empty() => format!("{q}&{}", sas.expose()),
        _ => sas.expose().to_owned(),
    };
    url.set_query(Some(&query));
}

#[async_trait::async_trait]
impl Authorizer for Credential {
    async fn authorize(
        &self,
        method: &Method,
        url: &mut Url,
        headers: &mut HeaderMap,
        target: &str,
    ) -> Result<(), StoreError> {
        // A request that needs a newer service version says so itself.
        headers.entry("x-ms-version").or_insert_with(|| header_value(API_VERSION));
        headers.insert("x-ms-date", header_value(&httpdate::fmt_http_date(SystemTime::now())));
        match self {
            Self::Sas(sas) => append_sas(url, sas),
            Self::RenewableSas(renewer) => append_sas(url, &renewer.current().await?),
            Self::SharedKey(key) => {
                let mut value = header_value(&key.authorization(method.as_str(), url, headers));
                value.set_sensitive(true);
                headers.insert(AUTHORIZATION, value);
            }
            Self::Token(source) => {
                let token = source.token().await.map_err(|e| {
                    StoreError::new(
                        ferry_store::ErrorKind::Unauthenticated,
                        target,
                        format!("could not get a token: {e}"),
                    )
                })?;
                let mut value = header_value(&format!("Bearer {}", token.expose()));
                value.set_sensitive(true);
                headers.insert(AUTHORIZATION, value);
            }
            Self::Anonymous => {}
        }
        Ok(())
    }

    fn unauthorized(&self) -> bool {
        match self {
            Self::Token(source) => source.invalidate(),
            Self::RenewableSas(renewer) => {
                renewer.invalidate();
                true
            }
            _ => false,
        }
    }
}

impl BlobClient {
    /// A client with its own connection pool.
    pub fn new(config: HttpConfig, credential: Credential) -> Result<Self, StoreError> {
        Ok(Self { http: HttpClient::new(config)?, credential })
    }

    /// The same pool and settings with another credential.
    pub fn with_credential(&self, credential: Credential) -> Self {
        Self { credential, ..self.clone() }
    }

    /// The credential in use.
    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// The configuration in use.
    pub fn config(&self) -> &HttpConfig {
        self.http.config()
    }

    /// Reads a listing or block-list body: bounded in size ([`ferry_http::MAX_XML_BODY`]) and in
    /// time (the attempt's response timeout).
    pub async fn read_xml(&self, response: Response, target: &str) -> Result<String, StoreError> {
        self.http.read_small(response, ferry_http::MAX_XML_BODY, target).await
    }

    /// Sends a GET and reads its listing or block-list body, bounded like [`Self::read_xml`]; a
    /// body that breaks off part-way is asked for again ([`ferry_http::HttpClient::get_small`]).
    pub async fn get_xml(&self, request: Request<'_>) -> Result<String, StoreError> {
        self.http.get_small(request, &self.credential, classify, ferry_http::MAX_XML_BODY).await
    }

    /// Sends a request with this client's credential, retrying failures that may pass; an
    /// error answer becomes a [`StoreError`] by meaning. (Public for the other services of the
    /// account that share Blob's signing and error shapes: Azure Files.)
    pub async fn send(&self, request: Request<'_>) -> Result<Response, StoreError> {
        self.http.send(request, &self.credential, classify).await
    }

    /// Sends a GET with this client's credential and receives the body into `sink` if the
    /// answer is the plain success `expect` describes ([`HttpClient::get_into`]).
    pub async fn get_into(
        &self,
        request: Request<'_>,
        expect: ferry_http::Expect,
        sink: std::sync::Arc<dyn ferry_store::PositionalSink>,
    ) -> ferry_http::Direct {
        self.http.get_into(request, &self.credential, expect, sink).await
    }
}
