//! CloudFront invalidations: when an original is replaced or deleted, every URL made from it
//! (`/{key}*` in the origin form the edge caches under) is cleared from the distribution.

use aws_sdk_cloudfront::error::DisplayErrorContext;
use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Creates invalidations on one distribution.
#[derive(Debug, Clone)]
pub struct Invalidator {
    client: aws_sdk_cloudfront::Client,
    distribution: String,
}

impl Invalidator {
    /// An invalidator of `distribution`: credentials from the default chain, bounded retries,
    /// `endpoint` for an emulator.
    pub async fn new(distribution: &str, endpoint: Option<&str>, timeout: Duration) -> Self {
        let shared = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
        Invalidator::from_shared(&shared, distribution, endpoint, timeout)
    }

    /// As [`Invalidator::new`], from an explicit SDK configuration (tests pass their own
    /// credentials).
    pub fn from_shared(
        shared: &aws_config::SdkConfig,
        distribution: &str,
        endpoint: Option<&str>,
        timeout: Duration,
    ) -> Self {
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(timeout.min(Duration::from_secs(3)))
            .operation_timeout(timeout)
            .build();
        let mut b = aws_sdk_cloudfront::config::Builder::from(shared)
            .timeout_config(timeouts)
            .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(3));
        if let Some(ep) = endpoint {
            b = b.endpoint_url(ep);
        }
        Invalidator {
            client: aws_sdk_cloudfront::Client::from_conf(b.build()),
            distribution: distribution.into(),
        }
    }

    /// Invalidates `paths` (already percent-encoded, as CloudFront expects); returns the
    /// invalidation's id.
    pub async fn invalidate(&self, paths: &[String]) -> Result<String, String> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        // Unique per call: CloudFront treats a repeated caller reference as the same request.
        let reference =
            format!("pixflow-{nanos}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let paths = Paths::builder()
            .quantity(paths.len() as i32)
            .set_items(Some(paths.to_vec()))
            .build()
            .map_err(|e| e.to_string())?;
        let batch = InvalidationBatch::builder()
            .paths(paths)
            .caller_reference(reference)
            .build()
            .map_err(|e| e.to_string())?;
        let out = self
            .client
            .create_invalidation()
            .distribution_id(&self.distribution)
            .invalidation_batch(batch)
            .send()
            .await
            .map_err(|e| format!("CreateInvalidation: {}", DisplayErrorContext(e)))?;
        Ok(out.invalidation().map(|i| i.id().to_string()).unwrap_or_default())
    }

    /// The distribution's id.
    pub fn distribution(&self) -> &str {
        &self.distribution
    }
}
