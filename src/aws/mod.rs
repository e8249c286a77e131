//! AWS: the S3 client built once per process, the S3 source and result store, CloudFront
//! invalidations.

mod cloudfront;
mod s3_source;
mod s3_store;

pub use cloudfront::Invalidator;
pub use s3_source::S3Source;
pub use s3_store::S3Store;

use std::time::Duration;

/// An `s3://bucket/prefix` location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    /// Bucket name.
    pub bucket: String,
    /// Key prefix, empty or ending in `/`.
    pub prefix: String,
}

impl S3Location {
    /// Parses `s3://bucket` or `s3://bucket/prefix`.
    pub fn parse(url: &str) -> Result<S3Location, String> {
        let rest = url.strip_prefix("s3://").ok_or_else(|| format!("`{url}` does not start with s3://"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid = (3..=63).contains(&bucket.len())
            && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !valid {
            return Err(format!("`{bucket}` is not a valid bucket name"));
        }
        let prefix = match prefix.trim_matches('/') {
            "" => String::new(),
            p => format!("{p}/"),
        };
        Ok(S3Location { bucket: bucket.to_string(), prefix })
    }
}

/// Network settings for the S3 client.
#[derive(Debug, Clone)]
pub struct S3Settings {
    /// An S3-compatible endpoint (path-style addressing), e.g. a local test server.
    pub endpoint: Option<String>,
    /// Deadline of one S3 call, retries included.
    pub timeout: Duration,
}

/// The S3 client: credentials and region from the default chain, bounded retries and timeouts.
pub async fn s3_client(settings: &S3Settings) -> aws_sdk_s3::Client {
    let shared = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
    s3_client_from(&shared, settings)
}

/// The S3 client from an explicit SDK configuration (tests pass their own credentials).
pub fn s3_client_from(shared: &aws_config::SdkConfig, settings: &S3Settings) -> aws_sdk_s3::Client {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(settings.timeout.min(Duration::from_secs(3)))
        .operation_attempt_timeout(settings.timeout)
        .operation_timeout(settings.timeout)
        .build();
    let mut b = aws_sdk_s3::config::Builder::from(shared)
        .timeout_config(timeouts)
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(3));
    if let Some(ep) = &settings.endpoint {
        b = b.endpoint_url(ep).force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(b.build())
}

/// Sorts an SDK failure into the status the client should see: a timeout is 504, anything else
/// about reaching the service is 502. `what` names the call for the log.
pub(crate) fn classify<E, R>(
    what: &str,
    err: &aws_sdk_s3::error::SdkError<E, R>,
) -> crate::source::SourceError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use crate::source::SourceError;
    use aws_sdk_s3::error::SdkError;
    let detail = format!("{what}: {}", aws_sdk_s3::error::DisplayErrorContext(err));
    match err {
        SdkError::TimeoutError(_) => SourceError::Timeout(detail),
        SdkError::DispatchFailure(d) if d.is_timeout() => SourceError::Timeout(detail),
        _ => SourceError::Unavailable(detail),
    }
}
