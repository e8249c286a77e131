//! The app as a Lambda Function URL handler, in `RESPONSE_STREAM` mode so results over Lambda's
//! 6 MB buffered limit arrive whole, and — as a second function of the same artifact
//! (`PIXFLOW_LAMBDA_ROLE=events`) — the S3 event notification handler. Each invocation runs in
//! a span carrying the Lambda request id.

use crate::http::{app, AppState};
use lambda_http::RequestExt;
use tower::ServiceExt;
use tracing::Instrument;

/// The handler: the shared app, with the request id attached to every log line.
pub fn handler(
    state: AppState,
) -> impl tower::Service<
    lambda_http::Request,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone {
    let router = app(state);
    tower::service_fn(move |req: lambda_http::Request| {
        let request_id = req.lambda_context_ref().map(|c| c.request_id.clone()).unwrap_or_default();
        let router = router.clone();
        async move { router.oneshot(req).await }.instrument(tracing::info_span!("request", request_id))
    })
}

/// Serves Function URL invocations until the runtime stops, streaming every response.
pub async fn run(state: AppState) -> Result<(), lambda_http::Error> {
    lambda_http::run_with_streaming_response(handler(state)).await
}

/// The S3 event handler: every record handled (see `events::s3`) and summarised. An invocation
/// fails — so Lambda retries it, at most its configured number of times — only when an origin
/// or store failure could pass; a file that cannot be rendered is a logged outcome, never a
/// retry, so a poisoned original cannot loop.
pub async fn run_events(state: AppState) -> Result<(), lambda_http::Error> {
    let handler = lambda_http::service_fn(move |event: lambda_http::LambdaEvent<serde_json::Value>| {
        let state = state.clone();
        let request_id = event.context.request_id.clone();
        async move { events(&state, event.payload).await }
            .instrument(tracing::info_span!("event", request_id))
    });
    lambda_http::lambda_runtime::run(handler).await
}

/// One S3 notification: the summary returned to Lambda, or an error when a retry could help.
pub async fn events(
    state: &AppState,
    payload: serde_json::Value,
) -> Result<serde_json::Value, lambda_http::Error> {
    let notification: crate::events::s3::Notification = serde_json::from_value(payload).map_err(|e| {
        tracing::error!(error = %e, outcome = "failed", "not an S3 event notification");
        format!("not an S3 event notification: {e}")
    })?;
    let handled = crate::events::s3::handle(state, &notification).await;
    let count = |o: &str| handled.iter().filter(|h| h.outcome == o).count();
    let summary = serde_json::json!({
        "records": handled.len(),
        "succeeded": count("succeeded"),
        "failed": count("failed"),
        "skipped": count("skipped"),
        "results": handled,
    });
    if handled.iter().any(crate::events::s3::Handled::transient) {
        return Err(format!("an origin or store failure; Lambda may retry: {summary}").into());
    }
    Ok(summary)
}
