//! The only reader of flags and environment: defaults, parsing, and validation at start-up with a
//! message naming the bad setting. Every flag has an environment variable of the same name.

use crate::spec::{Presets, Signer};
use crate::transform::{limit_defaults, Limits};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

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
    #[arg(long, env = "PIXFLOW_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// In-memory cache size in MB; 0 turns it off. Default: 256, or a quarter of the function's
    /// memory on Lambda.
    #[arg(long, env = "PIXFLOW_MEMORY_CACHE_MB")]
    pub memory_cache_mb: Option<u64>,
    /// An S3-compatible endpoint (path-style addressing), e.g. a local S3 server.
    #[arg(long, env = "PIXFLOW_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// Deadline of one S3 call, retries included, in seconds.
    #[arg(long, env = "PIXFLOW_S3_TIMEOUT_SECS", default_value_t = 10.0)]
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
    #[arg(long, env = "PIXFLOW_MAX_SOURCE_MB", default_value_t = 50.0)]
    pub max_source_mb: f64,
    /// Largest output side in pixels.
    #[arg(long, env = "PIXFLOW_MAX_OUTPUT_SIDE", default_value_t = limit_defaults::MAX_OUTPUT_SIDE)]
    pub max_output_side: u32,
    /// Largest encoded output in MB.
    #[arg(long, env = "PIXFLOW_MAX_OUTPUT_MB", default_value_t = limit_defaults::MAX_OUTPUT_MB)]
    pub max_output_mb: f64,
    /// Deadline for one transform, in seconds.
    #[arg(long, env = "PIXFLOW_TRANSFORM_TIMEOUT_SECS", default_value_t = 20.0)]
    pub transform_timeout_secs: f64,
    /// Transforms run at once; more wait (default: the number of CPUs).
    #[arg(long, env = "PIXFLOW_MAX_TRANSFORMS")]
    pub max_transforms: Option<usize>,
    /// How long a request waits for a transform slot before 503, in milliseconds.
    #[arg(long, env = "PIXFLOW_QUEUE_WAIT_MS", default_value_t = 10_000)]
    pub queue_wait_ms: u64,
    /// Accept `POST /_/transform` (images sent in the request body). Off: it spends CPU on anyone's bytes.
    #[arg(long, env = "PIXFLOW_ALLOW_POST")]
    pub allow_post: bool,
    /// When set, `POST /_/transform` needs this value in an `X-Api-Key` header.
    #[arg(long, env = "PIXFLOW_POST_API_KEY", hide_env_values = true)]
    pub post_api_key: Option<String>,
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
    #[arg(long, env = "PIXFLOW_CACHE_CONTROL", default_value = "public, max-age=31536000, immutable")]
    pub cache_control: String,
}

/// Where originals are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceConfig {
    /// The samples compiled into the binary.
    Embedded,
    /// A local folder.
    Local(PathBuf),
    /// An S3 bucket and prefix.
    #[cfg(feature = "aws")]
    S3(crate::aws::S3Location),
}

/// Where results are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// Nowhere.
    Off,
    /// A local folder.
    Local(PathBuf),
    /// An S3 bucket and prefix.
    #[cfg(feature = "aws")]
    S3(crate::aws::S3Location),
}

/// The validated configuration, built once per process.
#[derive(Debug, Clone)]
pub struct Config {
    /// Originals.
    pub source: SourceConfig,
    /// Results.
    pub result_store: StoreConfig,
    /// Local server address.
    pub listen: SocketAddr,
    /// Memory cache capacity in bytes.
    pub memory_cache_bytes: u64,
    /// URL signing, when a secret is set.
    pub signer: Option<Signer>,
    /// Unsigned `t_` URLs allowed.
    pub allow_unsigned_presets: bool,
    /// Presets.
    pub presets: Presets,
    /// Pixel and output limits.
    pub limits: Limits,
    /// Largest source file in bytes.
    pub max_source_bytes: u64,
    /// Deadline of one transform.
    pub transform_timeout: Duration,
    /// `Cache-Control` for images.
    pub cache_control: String,
    /// S3-compatible endpoint.
    pub s3_endpoint: Option<String>,
    /// Deadline of one S3 call.
    pub s3_timeout: Duration,
    /// How long a source ETag is trusted.
    pub revalidate: Duration,
    /// `POST /_/transform` is on.
    pub allow_post: bool,
    /// The API key `POST /_/transform` needs, if any.
    pub post_api_key: Option<String>,
    /// `/_/demo` is served (the local server; not on Lambda).
    pub demo: bool,
    /// Transforms run at once.
    pub max_transforms: usize,
    /// Only `t_NAME` URLs are served.
    pub presets_only: bool,
    /// How long a request waits for a transform slot.
    pub queue_wait: Duration,
    /// Connections open at once (`pixflow serve`).
    pub max_connections: usize,
    /// Time allowed for a request's headers.
    pub header_read_timeout: Duration,
    /// Time a connection may idle between requests.
    pub idle_timeout: Duration,
}

/// The defaults of the settings that both the flags and [`Config::default`] use.
pub mod defaults {
    /// `--max-connections`.
    pub const MAX_CONNECTIONS: usize = 1024;
    /// `--header-read-timeout-secs`.
    pub const HEADER_READ_TIMEOUT_SECS: f64 = 10.0;
    /// `--idle-timeout-secs`: CloudFront's own origin keep-alive default.
    pub const IDLE_TIMEOUT_SECS: f64 = 5.0;
}

/// A setting that cannot be used, with its name.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting {setting}: {message}")]
pub struct ConfigError {
    /// The flag, e.g. `--max-source-mp`.
    pub setting: &'static str,
    /// What is wrong.
    pub message: String,
}

fn bad(setting: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError { setting, message: message.into() }
}

fn positive(setting: &'static str, v: f64) -> Result<f64, ConfigError> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(bad(setting, format!("must be a positive number, not {v}")))
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            source: SourceConfig::Embedded,
            result_store: StoreConfig::Off,
            listen: ([127, 0, 0, 1], 8080).into(),
            memory_cache_bytes: 256 << 20,
            signer: None,
            allow_unsigned_presets: false,
            presets: Presets::default(),
            limits: Limits::default(),
            max_source_bytes: 50_000_000,
            transform_timeout: Duration::from_secs(20),
            cache_control: "public, max-age=31536000, immutable".into(),
            s3_endpoint: None,
            s3_timeout: Duration::from_secs(10),
            revalidate: Duration::ZERO,
            allow_post: false,
            post_api_key: None,
            demo: true,
            max_transforms: cpus(),
            queue_wait: Duration::from_secs(10),
            presets_only: false,
            max_connections: defaults::MAX_CONNECTIONS,
            header_read_timeout: Duration::from_secs_f64(defaults::HEADER_READ_TIMEOUT_SECS),
            idle_timeout: Duration::from_secs_f64(defaults::IDLE_TIMEOUT_SECS),
        }
    }
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

impl Config {
    /// Validates `args` into a configuration.
    pub fn from_args(args: &ServeArgs) -> Result<Config, ConfigError> {
        let source = match args.source.as_deref() {
            None | Some("") => SourceConfig::Embedded,
            Some(s) if s.starts_with("s3://") => s3_location("--source", s)?,
            Some(path) => {
                let p = PathBuf::from(path);
                if !p.is_dir() {
                    return Err(bad("--source", format!("`{path}` is not a folder")));
                }
                SourceConfig::Local(p)
            }
        };
        let result_store = match args.result_store.as_str() {
            "off" | "" => StoreConfig::Off,
            s if s.starts_with("s3://") => match s3_location("--result-store", s)? {
                #[cfg(feature = "aws")]
                SourceConfig::S3(l) => StoreConfig::S3(l),
                _ => unreachable!("s3_location returns S3 or an error"),
            },
            path => StoreConfig::Local(PathBuf::from(path)),
        };
        #[cfg(feature = "aws")]
        let is_s3 = matches!(source, SourceConfig::S3(_));
        #[cfg(not(feature = "aws"))]
        let is_s3 = false;
        let listen = args.listen.parse().map_err(|e| {
            bad("--listen", format!("`{}` is not an address like 127.0.0.1:8080 ({e})", args.listen))
        })?;
        if !(16..=65_535).contains(&args.max_output_side) {
            return Err(bad("--max-output-side", "must be 16 to 65535"));
        }
        if !(args.max_upscale.is_finite() && args.max_upscale >= 1.0) {
            return Err(bad("--max-upscale", "must be a number of at least 1"));
        }
        let limits = Limits {
            max_source_pixels: (positive("--max-source-mp", args.max_source_mp)? * 1e6) as u64,
            max_output_side: args.max_output_side,
            max_output_pixels: (positive("--max-output-mp", args.max_output_mp)? * 1e6) as u64,
            max_upscale: args.max_upscale,
            max_cost: match args.max_cost {
                0 => return Err(bad("--max-cost", "must be at least 1")),
                n => n,
            },
            max_memory: match memory_budget_mb(args.max_memory_mb) {
                0 => return Err(bad("--max-memory-mb", "must be at least 1")),
                n => n << 20,
            },
            max_output_bytes: (positive("--max-output-mb", args.max_output_mb)? * 1e6) as u64,
        };
        let presets_text = match args.presets.as_deref() {
            None => String::new(),
            Some(p) if !p.contains('=') => std::fs::read_to_string(p)
                .map_err(|e| bad("--presets", format!("cannot read the presets file `{p}`: {e}")))?,
            Some(inline) => inline.to_string(),
        };
        let presets = Presets::parse(&presets_text, args.max_output_side).map_err(|m| bad("--presets", m))?;
        let signer = match args.secret.as_deref() {
            None => None,
            Some(s) if s.len() < 16 => return Err(bad("--secret", "must be at least 16 characters")),
            Some(s) => Some(Signer::new(s.as_bytes())),
        };
        let demo = match (args.demo, signer.is_some()) {
            (true, true) => {
                return Err(bad("--demo", "the demo page's URLs are unsigned: drop --secret or --demo"))
            }
            (true, false) => true,
            (false, signed) => !signed && source == SourceConfig::Embedded,
        };
        if args.cache_control.contains(['\r', '\n']) {
            return Err(bad("--cache-control", "must be one header line"));
        }
        Ok(Config {
            source,
            result_store,
            listen,
            memory_cache_bytes: memory_cache_mb(args.memory_cache_mb).saturating_mul(1 << 20),
            signer,
            allow_unsigned_presets: args.allow_unsigned_presets,
            presets,
            limits,
            max_source_bytes: (positive("--max-source-mb", args.max_source_mb)? * 1e6) as u64,
            transform_timeout: Duration::from_secs_f64(positive(
                "--transform-timeout-secs",
                args.transform_timeout_secs,
            )?),
            cache_control: args.cache_control.clone(),
            s3_endpoint: args.s3_endpoint.clone(),
            s3_timeout: Duration::from_secs_f64(positive("--s3-timeout-secs", args.s3_timeout_secs)?),
            revalidate: Duration::from_secs(args.revalidate_secs.unwrap_or(if is_s3 { 60 } else { 0 })),
            allow_post: args.allow_post,
            post_api_key: match args.post_api_key.as_deref() {
                Some(k) if k.len() < 16 => {
                    return Err(bad("--post-api-key", "must be at least 16 characters"))
                }
                k => k.map(str::to_string),
            },
            demo,
            max_transforms: match args.max_transforms {
                Some(0) => return Err(bad("--max-transforms", "must be at least 1")),
                Some(n) => n,
                None => cpus(),
            },
            queue_wait: Duration::from_millis(args.queue_wait_ms),
            presets_only: args.presets_only,
            max_connections: match args.max_connections {
                0 => return Err(bad("--max-connections", "must be at least 1")),
                n => n,
            },
            header_read_timeout: Duration::from_secs_f64(positive(
                "--header-read-timeout-secs",
                args.header_read_timeout_secs,
            )?),
            idle_timeout: Duration::from_secs_f64(positive("--idle-timeout-secs", args.idle_timeout_secs)?),
        })
    }
}

/// `s3://bucket/prefix`, when this build has the AWS parts.
fn s3_location(setting: &'static str, url: &str) -> Result<SourceConfig, ConfigError> {
    #[cfg(feature = "aws")]
    return crate::aws::S3Location::parse(url).map(SourceConfig::S3).map_err(|m| bad(setting, m));
    #[cfg(not(feature = "aws"))]
    return Err(bad(
        setting,
        format!("`{url}`: this build has no S3 support (built without the `aws` feature)"),
    ));
}

/// The memory cache size: as given, else a quarter of the Lambda function's memory, else 256 MB.
fn memory_cache_mb(given: Option<u64>) -> u64 {
    let lambda_mb = std::env::var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").ok();
    default_memory_cache_mb(given, lambda_mb.as_deref())
}

/// The memory budget of transforms: as given, else half the Lambda function's memory, else 1 GB.
fn memory_budget_mb(given: Option<u64>) -> u64 {
    let lambda_mb = std::env::var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").ok();
    given.unwrap_or_else(|| {
        lambda_mb.and_then(|m| m.parse::<u64>().ok()).map_or(limit_defaults::MAX_MEMORY_MB, |mb| mb / 2)
    })
}

fn default_memory_cache_mb(given: Option<u64>, lambda_mb: Option<&str>) -> u64 {
    given.unwrap_or_else(|| lambda_mb.and_then(|m| m.parse::<u64>().ok()).map_or(256, |mb| mb / 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_cache_takes_a_quarter_of_the_function_unless_set() {
        assert_eq!(default_memory_cache_mb(None, Some("2048")), 512);
        assert_eq!(default_memory_cache_mb(Some(64), Some("2048")), 64);
        assert_eq!(default_memory_cache_mb(None, None), 256);
        assert_eq!(default_memory_cache_mb(Some(0), None), 0);
    }

    #[test]
    fn s3_sources_revalidate_every_minute_by_default_and_folders_always() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct T {
            #[command(flatten)]
            a: ServeArgs,
        }
        let s3 = Config::from_args(&T::parse_from(["t", "--source", "s3://bucket/p"]).a).unwrap();
        assert_eq!(s3.revalidate, Duration::from_secs(60));
        let dir = Config::from_args(&T::parse_from(["t", "--source", "."]).a).unwrap();
        assert_eq!(dir.revalidate, Duration::ZERO);
        let set =
            Config::from_args(&T::parse_from(["t", "--source", "s3://bucket", "--revalidate-secs", "5"]).a);
        assert_eq!(set.unwrap().revalidate, Duration::from_secs(5));
    }
}
