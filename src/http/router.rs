//! Routing only: the write endpoints (`api`), `POST /_/transform`, the service's own `/_/`
//! endpoints, and every other GET or HEAD to the image path. Errors become their JSON answer
//! here, and HEAD loses its body.

use super::response;
use crate::error::Error;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::response::Response;
use http::{Method, StatusCode};

/// The fallback handler: every path comes here.
pub(super) async fn handle(State(state): State<AppState>, req: Request) -> Response {
    let (req, body) = req.into_parts();
    let head = req.method == Method::HEAD;
    let path = req.uri.path();
    let api = super::api::owns(path);
    // RFC 9112 § 6.1: a message with both framings is an attack on whatever sits between the
    // client and here (request smuggling); it is refused, never read.
    let framed_twice = req.headers.contains_key(http::header::TRANSFER_ENCODING)
        && req.headers.contains_key(http::header::CONTENT_LENGTH);
    let result = if framed_twice {
        Err(Error::BadBody("a request may not carry both Content-Length and Transfer-Encoding".into()))
    } else if api {
        super::api::handle(&state, &req, body).await
    } else if req.method == Method::POST && (path == "/_/transform" || path.starts_with("/_/transform/")) {
        super::post::transform(&state, &req, body).await
    } else if !matches!(req.method, Method::GET | Method::HEAD) {
        Err(Error::Method)
    } else if path == "/_" || path.starts_with("/_/") {
        endpoint(&state, path).await
    } else {
        super::image::serve(&state, &req).await
    };
    let resp = match result {
        Ok(r) => r,
        Err(e) => {
            if e.should_log() {
                tracing::error!(path = %req.uri.path(), error = %e, "request failed");
            } else if let Some(detail) = e.log_detail() {
                tracing::info!(path = %req.uri.path(), %detail, "source refused");
            }
            match api {
                // Nothing about a write is cached, its refusals included.
                true => response::uncached(response::error(&e)),
                false => response::error(&e),
            }
        }
    };
    if head {
        response::without_body(resp)
    } else {
        resp
    }
}

async fn endpoint(state: &AppState, path: &str) -> Result<Response, Error> {
    match path {
        "/_/health" => Ok(response::json(StatusCode::OK, serde_json::json!({ "status": "ok" }))),
        "/_/demo" if state.config.demo => {
            let keys = state.source.list(Some(super::demo::KEYS)).await?;
            Ok(response::html(super::demo::page(&keys)))
        }
        "/_/demo/thumbhash.js" if state.config.demo => Ok(response::script(super::demo::THUMBHASH_JS)),
        _ => Err(Error::NoEndpoint),
    }
}
