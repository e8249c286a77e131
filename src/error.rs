//! The one top-level error: every stage's error wraps into it, and only here are kinds mapped to
//! an HTTP status, a public code and message, and a decision whether to log.

use crate::cache::StoreError;
use crate::source::SourceError;
use crate::spec::{SignError, SpecError};
use crate::transform::TransformError;
use http::StatusCode;

/// Anything that ends a request without an image.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// A bad option or key (400).
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// A bad, missing or expired signature (403).
    #[error(transparent)]
    Sign(#[from] SignError),
    /// Fetching the original failed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The transform failed.
    #[error(transparent)]
    Transform(#[from] TransformError),
    /// The result store failed where it cannot be skipped (purge).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Only GET and HEAD are served (405).
    #[error("only GET and HEAD are allowed")]
    Method,
    /// A write endpoint asked with a method it does not answer (405); the methods it does.
    #[error("this endpoint answers {0}")]
    ApiMethod(&'static str),
    /// An unknown `/_/` endpoint (404).
    #[error("no such endpoint")]
    NoEndpoint,
    /// An endpoint that needs the configured API key, without it (401).
    #[error("this endpoint needs a valid X-Api-Key header")]
    ApiKey,
    /// `--presets-only` and a URL with options other than one `t_` (403).
    #[error("only preset URLs (t_NAME) are served here")]
    PresetsOnly,
    /// A bucket this origin may not use (403): an AWS image handler URL naming a bucket other than
    /// the source's, or a job naming one that is not the source, the result store or allowed.
    #[error("the bucket {0} is not one this origin may use")]
    Bucket(String),
    /// Every transform slot stayed busy for the queue wait (503, with Retry-After).
    #[error("too many images are being transformed; retry shortly")]
    Busy,
    /// A request body that cannot be read as what its Content-Type says (400).
    #[error("{0}")]
    BadBody(String),
    /// Wrong API keys from this client, too recently (429, with Retry-After).
    #[error("too many wrong API keys from this client; retry in {0} s")]
    TooManyAttempts(u64),
    /// A request body that did not arrive at the minimum rate (408).
    #[error("the request body arrived too slowly (under {0} bytes a second after a grace period)")]
    SlowBody(u64),
}

impl From<crate::spec::ResolveError> for Error {
    fn from(e: crate::spec::ResolveError) -> Self {
        use crate::spec::ResolveError as R;
        match e {
            R::Spec(e) => Error::Spec(e),
            R::Geometry(e) => Error::Transform(TransformError::Geometry(e)),
            R::PresetsOnly => Error::PresetsOnly,
            R::Sign(e) => Error::Sign(e),
        }
    }
}

impl Error {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::Spec(_) => StatusCode::BAD_REQUEST,
            Error::Sign(_) => StatusCode::FORBIDDEN,
            Error::Source(e) => match e {
                SourceError::NotFound(_) => StatusCode::NOT_FOUND,
                SourceError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
                SourceError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
                SourceError::Unavailable(_) => StatusCode::BAD_GATEWAY,
                SourceError::Exists(_) => StatusCode::PRECONDITION_FAILED,
                SourceError::Conflict(_) => StatusCode::CONFLICT,
                SourceError::ReadOnly => StatusCode::METHOD_NOT_ALLOWED,
                SourceError::Unnameable(_) => StatusCode::BAD_REQUEST,
            },
            Error::Transform(e) => match e {
                TransformError::Unsupported(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                TransformError::Corrupt(_) => StatusCode::UNPROCESSABLE_ENTITY,
                TransformError::TooManyPixels(..)
                | TransformError::OverLimit(_)
                | TransformError::OverBudget(_) => StatusCode::PAYLOAD_TOO_LARGE,
                TransformError::Geometry(_) => StatusCode::BAD_REQUEST,
                TransformError::Deadline => StatusCode::GATEWAY_TIMEOUT,
                TransformError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            Error::Store(_) => StatusCode::BAD_GATEWAY,
            Error::Method | Error::ApiMethod(_) => StatusCode::METHOD_NOT_ALLOWED,
            Error::NoEndpoint => StatusCode::NOT_FOUND,
            Error::ApiKey => StatusCode::UNAUTHORIZED,
            Error::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Error::PresetsOnly => StatusCode::FORBIDDEN,
            Error::Bucket(_) => StatusCode::FORBIDDEN,
            Error::BadBody(_) => StatusCode::BAD_REQUEST,
            Error::SlowBody(_) => StatusCode::REQUEST_TIMEOUT,
            Error::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    /// A stable machine-readable code for the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Spec(e) => e.code,
            Error::Sign(SignError::Missing) => "signature_missing",
            Error::Sign(SignError::Invalid) => "signature_invalid",
            Error::Sign(SignError::Expired) => "expired",
            Error::Source(SourceError::NotFound(_)) => "not_found",
            Error::Source(SourceError::TooLarge(_)) => "source_too_large",
            Error::Source(SourceError::Timeout(_)) => "origin_timeout",
            Error::Source(SourceError::Unavailable(_)) => "origin_failure",
            Error::Source(SourceError::Exists(_)) => "exists",
            Error::Source(SourceError::Conflict(_)) => "conflict",
            Error::Source(SourceError::ReadOnly) => "read_only",
            Error::Source(SourceError::Unnameable(_)) => "bad_key",
            Error::Transform(TransformError::Unsupported(_)) => "unsupported_image",
            Error::Transform(TransformError::Corrupt(_)) => "corrupt_image",
            Error::Transform(TransformError::TooManyPixels(..) | TransformError::OverLimit(_)) => "too_large",
            Error::Transform(TransformError::Geometry(_)) => "bad_geometry",
            Error::Transform(TransformError::OverBudget(_)) => "over_budget",
            Error::Transform(TransformError::Deadline) => "deadline_exceeded",
            Error::Transform(TransformError::Internal(_)) => "internal",
            Error::Store(_) => "result_store_failure",
            Error::Method | Error::ApiMethod(_) => "method_not_allowed",
            Error::NoEndpoint => "not_found",
            Error::ApiKey => "api_key",
            Error::Busy => "busy",
            Error::PresetsOnly => "presets_only",
            Error::Bucket(_) => "other_bucket",
            Error::BadBody(_) => "bad_body",
            Error::SlowBody(_) => "slow_body",
            Error::TooManyAttempts(_) => "too_many_attempts",
        }
    }

    /// The sentence shown to the client: it names the offending token, never internals.
    pub fn public_message(&self) -> String {
        match self {
            Error::Spec(e) => format!("`{}`: {}", e.token, e.message),
            Error::Source(SourceError::Unavailable(_)) => "the origin could not be read".into(),
            Error::Source(SourceError::Timeout(_)) => "the origin did not answer in time".into(),
            Error::Transform(TransformError::Internal(_)) => "the image could not be processed".into(),
            // The decoder's own words (positions, magic numbers, library names) go to the log.
            Error::Transform(TransformError::Corrupt(_)) => {
                "the source image is corrupt or truncated and cannot be decoded".into()
            }
            Error::Store(_) => "the result store could not be reached".into(),
            other => other.to_string(),
        }
    }

    /// Whether the server log should carry it (client mistakes are not logged).
    pub fn should_log(&self) -> bool {
        self.status().is_server_error()
    }

    /// Detail kept for the log only (at info level): what a decoder said about a refused file.
    pub fn log_detail(&self) -> Option<String> {
        match self {
            Error::Transform(TransformError::Corrupt(d) | TransformError::Unsupported(d)) => Some(d.clone()),
            _ => None,
        }
    }
}
