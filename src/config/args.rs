//! The flags of `pixflow serve` and the Lambda runtime, each with an environment variable of the
//! same name; validated into a [`super::Config`] by `Config::from_args`.

use super::defaults;
use crate::transform::limit_defaults;

/// Settings shared by `serve` and the Lambda runtime, as given on the command line or in the
/// environment.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Originals: a local folder (or `s3://bucket/prefix`). Default: the embedded samples.
    #[arg(long, env = "PIXFLOW_SOURCE")]
    pub source: Option<String>,
    /// Rendered results: a local folder, or `off`.
    #[arg(long, env = "PIXFLOW_RESULT_STORE", default_value = "off")]
    pub result_store: String,
    /// Address of the local HTTP server.
    #[arg(long, env = "PIXFLOW_LISTEN", default_value = defaults::LISTEN)]
    pub listen: String,
    /// In-memory cache size in MB; 0 turns it off. Default: 256, or a quarter of the function's
    /// memory on Lambda.
    #[arg(long, env = "PIXFLOW_MEMORY_CACHE_MB")]
    pub memory_cache_mb: Option<u64>,
    /// An S3-compatible endpoint (path-style addressing), e.g. a local S3 server.
    #[arg(long, env = "PIXFLOW_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// Deadline of one S3 call, retries included, in seconds.
    #[arg(long, env = "PIXFLOW_S3_TIMEOUT_SECS", default_value_t = defaults::S3_TIMEOUT_SECS)]
    pub s3_timeout_secs: f64,
    /// How long a source's version (ETag) is trusted before it is looked up again, in seconds.
    /// Default: 0 for a folder (a stat is cheap), 60 for S3 (one HeadObject per key per minute).
    #[arg(long, env = "PIXFLOW_REVALIDATE_SECS")]
    pub revalidate_secs: Option<u64>,
    /// Signing secret; when set, URLs with options must carry a valid `s_` signature.
    #[arg(long, env = "PIXFLOW_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// Let `t_NAME` preset URLs through without a signature.
    #[arg(long, env = "PIXFLOW_ALLOW_UNSIGNED_PRESETS")]
    pub allow_unsigned_presets: bool,
    /// Serve only `t_NAME` URLs (and originals); any other options answer 403.
    #[arg(long, env = "PIXFLOW_PRESETS_ONLY")]
    pub presets_only: bool,
    /// Presets: `name=tokens;name=tokens`, or the path of a file holding them.
    #[arg(long, env = "PIXFLOW_PRESETS")]
    pub presets: Option<String>,
    /// Largest source in megapixels, read from the header before decoding.
    #[arg(long, env = "PIXFLOW_MAX_SOURCE_MP", default_value_t = limit_defaults::MAX_SOURCE_MP)]
    pub max_source_mp: f64,
    /// Largest output in megapixels (width × height).
    #[arg(long, env = "PIXFLOW_MAX_OUTPUT_MP", default_value_t = limit_defaults::MAX_OUTPUT_MP)]
    pub max_output_mp: f64,
    /// Largest enlargement of the source per side (8 = at most eight times wider and taller).
    #[arg(long, env = "PIXFLOW_MAX_UPSCALE", default_value_t = limit_defaults::MAX_UPSCALE)]
    pub max_upscale: f64,
    /// Largest estimated CPU cost of one transform, in cost units (about ms of one core; the
    /// weights are in src/transform/cost.rs).
    #[arg(long, env = "PIXFLOW_MAX_COST", default_value_t = limit_defaults::MAX_COST)]
    pub max_cost: u64,
    /// Memory that transforms, buffered originals and request bodies may hold at once, in MB;
    /// each reserves its estimate before it starts. Default: half the function's memory on
    /// Lambda, else 1024.
    #[arg(long, env = "PIXFLOW_MAX_MEMORY_MB")]
    pub max_memory_mb: Option<u64>,
    /// Largest source file in MB.
    #[arg(long, env = "PIXFLOW_MAX_SOURCE_MB", default_value_t = defaults::MAX_SOURCE_MB)]
    pub max_source_mb: f64,
    /// Largest output side in pixels.
    #[arg(long, env = "PIXFLOW_MAX_OUTPUT_SIDE", default_value_t = limit_defaults::MAX_OUTPUT_SIDE)]
    pub max_output_side: u32,
    /// Largest encoded output in MB.
    #[arg(long, env = "PIXFLOW_MAX_OUTPUT_MB", default_value_t = limit_defaults::MAX_OUTPUT_MB)]
    pub max_output_mb: f64,
    /// Most frames of an animated source (413 past it, read from the file before decoding).
    #[arg(long, env = "PIXFLOW_MAX_FRAMES", default_value_t = limit_defaults::MAX_FRAMES)]
    pub max_frames: u32,
    /// Most megapixels of an animated source, summed over its frames.
    #[arg(long, env = "PIXFLOW_MAX_ANIMATION_MP", default_value_t = limit_defaults::MAX_ANIMATION_MP)]
    pub max_animation_mp: f64,
    /// Deadline for one transform, in seconds.
    #[arg(long, env = "PIXFLOW_TRANSFORM_TIMEOUT_SECS", default_value_t = defaults::TRANSFORM_TIMEOUT_SECS)]
    pub transform_timeout_secs: f64,
    /// Transforms run at once; more wait (default: the number of CPUs).
    #[arg(long, env = "PIXFLOW_MAX_TRANSFORMS")]
    pub max_transforms: Option<usize>,
    /// How long a request waits for a transform slot before 503, in milliseconds.
    #[arg(long, env = "PIXFLOW_QUEUE_WAIT_MS", default_value_t = defaults::QUEUE_WAIT_MS)]
    pub queue_wait_ms: u64,
    /// Accept `POST /_/transform` (images sent in the request body). Off: it spends CPU on anyone's bytes.
    #[arg(long, env = "PIXFLOW_ALLOW_POST")]
    pub allow_post: bool,
    /// When set, `POST /_/transform` needs this value in an `X-Api-Key` header.
    #[arg(long, env = "PIXFLOW_POST_API_KEY", hide_env_values = true)]
    pub post_api_key: Option<String>,
    /// Turns on the write endpoints (`PUT`/`DELETE /_/originals/{key}`, `GET /_/originals`,
    /// `POST /_/jobs`), which then need this value in an `X-Api-Key` header; at least 16
    /// characters. Without it they are 404.
    #[arg(long, env = "PIXFLOW_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Variants rendered as soon as an original arrives (an upload, an S3 event, a job without
    /// variants): options separated by `;`, e.g. `w_200,h_200,c_fill;t_thumb`.
    #[arg(long, env = "PIXFLOW_EAGER")]
    pub eager: Option<String>,
    /// Buckets a job may name besides the source and result buckets, comma-separated.
    #[arg(long, env = "PIXFLOW_ALLOWED_BUCKETS", value_delimiter = ',')]
    pub allowed_buckets: Vec<String>,
    /// A CloudFront distribution to invalidate (`/{key}*`) when an original is replaced or
    /// deleted.
    #[arg(long, env = "PIXFLOW_CLOUDFRONT_DISTRIBUTION_ID")]
    pub cloudfront_distribution_id: Option<String>,
    /// A CloudFront-compatible endpoint for invalidations, e.g. a local AWS emulator.
    #[arg(long, env = "PIXFLOW_CLOUDFRONT_ENDPOINT")]
    pub cloudfront_endpoint: Option<String>,
    /// Serve the `/_/demo` page (a gallery of one page of keys). Default: on for the embedded
    /// samples, off for a folder or bucket; refused with `--secret` (its URLs are unsigned).
    #[arg(long, env = "PIXFLOW_DEMO")]
    pub demo: bool,
    /// Connections `pixflow serve` keeps open at once; more wait to be accepted.
    #[arg(long, env = "PIXFLOW_MAX_CONNECTIONS", default_value_t = defaults::MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Seconds a client has to send a request's headers before the connection is closed.
    #[arg(long, env = "PIXFLOW_HEADER_READ_TIMEOUT_SECS", default_value_t = defaults::HEADER_READ_TIMEOUT_SECS)]
    pub header_read_timeout_secs: f64,
    /// Seconds a keep-alive connection may sit with no request in flight before it is closed.
    #[arg(long, env = "PIXFLOW_IDLE_TIMEOUT_SECS", default_value_t = defaults::IDLE_TIMEOUT_SECS)]
    pub idle_timeout_secs: f64,
    /// `Cache-Control` of successful image responses.
    #[arg(long, env = "PIXFLOW_CACHE_CONTROL", default_value = defaults::CACHE_CONTROL)]
    pub cache_control: String,
}
