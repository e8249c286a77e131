//! The app as a Lambda Function URL handler, in `RESPONSE_STREAM` mode so results over Lambda's
//! 6 MB buffered limit arrive whole. Each request runs in a span carrying the Lambda request id.

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
