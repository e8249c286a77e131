//! One integration binary: drives the app in-process (no socket) over generated fixtures.
#![allow(missing_docs, unreachable_pub)]

mod animation;
mod artifacts;
mod avif;
mod avif_output;
mod aws;
mod cache;
mod cli;
mod codecs;
mod contained;
mod contract;
mod dc_only;
mod events;
mod faults;
mod fixtures;
mod foreign;
mod geometry;
mod golden;
mod hardening;
mod heic;
mod hostile;
mod http_semantics;
mod image_handler;
mod imgix;
mod jxl;
mod lambda;
mod oac;
mod profiles;
mod quality;
mod realworld;
mod regression;
mod s3;
mod server_limits;
mod smart;
mod svg;
mod uploads;
mod vectors;
mod writes;

use axum::body::Body;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use pixflow::cache::{DirStore, NoStore, ResultStore};
use pixflow::config::Config;
use pixflow::source::{LocalSource, Source};
use pixflow::{app, AppState};
use std::sync::Arc;
use tower::ServiceExt;

/// A response, collected.
pub struct Got {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Got {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    /// Decodes the body as an image.
    pub fn image(&self) -> image::DynamicImage {
        image::load_from_memory(&self.body)
            .unwrap_or_else(|e| panic!("status {}: not an image: {e}", self.status))
    }
}

/// The fixture folder as a source, with a configuration tweak.
pub fn state_with(config: Config) -> AppState {
    let dir = fixtures::dir();
    let source: Arc<dyn Source> = Arc::new(LocalSource::new(dir).unwrap());
    AppState::new(config, source, Arc::new(NoStore))
}

pub fn state() -> AppState {
    state_with(Config::default())
}

/// A state over a given folder and result store.
pub fn state_over(source_dir: &std::path::Path, store: Option<&std::path::Path>, config: Config) -> AppState {
    let source: Arc<dyn Source> = Arc::new(LocalSource::new(source_dir).unwrap());
    let store: Arc<dyn ResultStore> = match store {
        Some(d) => Arc::new(DirStore::new(d).unwrap()),
        None => Arc::new(NoStore),
    };
    AppState::new(config, source, store)
}

pub async fn request(state: &AppState, method: &str, uri: &str, headers: &[(&str, &str)]) -> Got {
    request_with_body(state, method, uri, headers, Vec::new()).await
}

pub async fn request_with_body(
    state: &AppState,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Got {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = app(state.clone()).oneshot(req.body(Body::from(body)).unwrap()).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes().to_vec();
    Got { status, headers, body }
}

pub async fn get(state: &AppState, uri: &str) -> Got {
    request(state, "GET", uri, &[]).await
}
