//! The defaults of the settings that both the flags and `Config::default` use (the limits' own
//! are in `transform::limit_defaults`): one place, so the two cannot drift apart.

/// `--listen`.
pub const LISTEN: &str = "127.0.0.1:8080";
/// `--memory-cache-mb` off Lambda.
pub const MEMORY_CACHE_MB: u64 = 256;
/// `--s3-timeout-secs`.
pub const S3_TIMEOUT_SECS: f64 = 10.0;
/// `--max-source-mb`.
pub const MAX_SOURCE_MB: f64 = 50.0;
/// `--transform-timeout-secs`.
pub const TRANSFORM_TIMEOUT_SECS: f64 = 20.0;
/// `--queue-wait-ms`.
pub const QUEUE_WAIT_MS: u64 = 10_000;
/// `--cache-control`.
pub const CACHE_CONTROL: &str = "public, max-age=31536000, immutable";
/// `--max-connections`.
pub const MAX_CONNECTIONS: usize = 1024;
/// `--header-read-timeout-secs`.
pub const HEADER_READ_TIMEOUT_SECS: f64 = 10.0;
/// `--idle-timeout-secs`: CloudFront's own origin keep-alive default.
pub const IDLE_TIMEOUT_SECS: f64 = 5.0;
