//! The only reader of flags and environment: defaults, parsing, and validation at start-up with a
//! message naming the bad setting. Every flag has an environment variable of the same name.

mod args;
pub mod defaults;

pub use args::ServeArgs;

use crate::spec::{Presets, Signer};
use crate::transform::{limit_defaults, Limits};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

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
    /// The write endpoints' API key; they are off (404) without one.
    pub api_key: Option<String>,
    /// Variants rendered when an original arrives, as written (`t_NAME` resolves at render time).
    pub eager: Vec<crate::spec::TransformSpec>,
    /// Buckets jobs may name besides the source and result buckets.
    pub allowed_buckets: Vec<String>,
    /// The CloudFront distribution invalidated when an original changes.
    pub cloudfront_distribution_id: Option<String>,
    /// A CloudFront-compatible endpoint (tests, emulators).
    pub cloudfront_endpoint: Option<String>,
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
            listen: defaults::LISTEN.parse().expect("the default address parses"),
            memory_cache_bytes: defaults::MEMORY_CACHE_MB << 20,
            signer: None,
            allow_unsigned_presets: false,
            presets: Presets::default(),
            limits: Limits::default(),
            max_source_bytes: (defaults::MAX_SOURCE_MB * 1e6) as u64,
            transform_timeout: Duration::from_secs_f64(defaults::TRANSFORM_TIMEOUT_SECS),
            cache_control: defaults::CACHE_CONTROL.into(),
            s3_endpoint: None,
            s3_timeout: Duration::from_secs_f64(defaults::S3_TIMEOUT_SECS),
            revalidate: Duration::ZERO,
            allow_post: false,
            post_api_key: None,
            api_key: None,
            eager: Vec::new(),
            allowed_buckets: Vec::new(),
            cloudfront_distribution_id: None,
            cloudfront_endpoint: None,
            demo: true,
            max_transforms: cpus(),
            queue_wait: Duration::from_millis(defaults::QUEUE_WAIT_MS),
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

/// What the process is for; it decides the settings no flag gives, so that nothing changes a
/// configuration after it is validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `pixflow serve`, and the one-shot subcommands.
    Serve,
    /// The Lambda runtime: no demo page (it is for people running pixflow on their own machine).
    Lambda,
    /// `pixflow warm`: results go to the store, so no memory cache.
    Warm,
}

impl Config {
    /// The source's bucket, when it is one (what AWS's image handler URLs may name).
    pub fn source_bucket(&self) -> Option<&str> {
        self.source_location().map(|(bucket, _)| bucket)
    }

    /// The source's bucket and prefix, when it is a bucket.
    pub fn source_location(&self) -> Option<(&str, &str)> {
        match &self.source {
            #[cfg(feature = "aws")]
            SourceConfig::S3(l) => Some((&l.bucket, &l.prefix)),
            _ => None,
        }
    }

    /// The result store's bucket and prefix, when it is a bucket.
    pub fn store_location(&self) -> Option<(&str, &str)> {
        match &self.result_store {
            #[cfg(feature = "aws")]
            StoreConfig::S3(l) => Some((&l.bucket, &l.prefix)),
            _ => None,
        }
    }

    /// Validates `args` into the configuration of `pixflow serve`.
    pub fn from_args(args: &ServeArgs) -> Result<Config, ConfigError> {
        Config::from_args_as(args, Role::Serve)
    }

    /// Validates `args` into the configuration of a process with `role`.
    pub fn from_args_as(args: &ServeArgs, role: Role) -> Result<Config, ConfigError> {
        let (source, result_store) = locations(args)?;
        #[cfg(feature = "aws")]
        let is_s3 = matches!(source, SourceConfig::S3(_));
        #[cfg(not(feature = "aws"))]
        let is_s3 = false;
        let listen = args.listen.parse().map_err(|e| {
            bad("--listen", format!("`{}` is not an address like 127.0.0.1:8080 ({e})", args.listen))
        })?;
        let limits = limits(args)?;
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
        } && role != Role::Lambda;
        if args.cache_control.contains(['\r', '\n']) {
            return Err(bad("--cache-control", "must be one header line"));
        }
        let eager = eager(args.eager.as_deref(), &presets, args.max_output_side)?;
        Ok(Config {
            source,
            result_store,
            listen,
            memory_cache_bytes: match role {
                Role::Warm => 0,
                _ => memory_cache_mb(args.memory_cache_mb).saturating_mul(1 << 20),
            },
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
            api_key: match args.api_key.as_deref() {
                Some(k) if k.len() < 16 => return Err(bad("--api-key", "must be at least 16 characters")),
                k => k.map(str::to_string),
            },
            eager,
            allowed_buckets: args
                .allowed_buckets
                .iter()
                .map(|b| b.trim().to_string())
                .filter(|b| !b.is_empty())
                .collect(),
            cloudfront_distribution_id: args.cloudfront_distribution_id.clone().filter(|d| !d.is_empty()),
            cloudfront_endpoint: args.cloudfront_endpoint.clone(),
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

/// `--eager`: variants separated by `;`, each parsed as a URL's options; a `t_NAME` must name a
/// configured preset.
fn eager(
    given: Option<&str>,
    presets: &Presets,
    max_side: u32,
) -> Result<Vec<crate::spec::TransformSpec>, ConfigError> {
    let variants = given.unwrap_or("").split(';').map(str::trim).filter(|v| !v.is_empty());
    variants
        .map(|v| {
            let spec =
                crate::spec::parse_options(v, max_side).map_err(|e| bad("--eager", format!("`{v}`: {e}")))?;
            match &spec.preset {
                Some(name) if presets.get(name).is_none() => {
                    Err(bad("--eager", format!("`{v}`: no preset named {name}")))
                }
                _ if spec.is_identity() => Err(bad("--eager", format!("`{v}` has no options"))),
                _ => Ok(spec),
            }
        })
        .collect()
}

/// Where originals come from and results go.
fn locations(args: &ServeArgs) -> Result<(SourceConfig, StoreConfig), ConfigError> {
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
    Ok((source, result_store))
}

/// The per-request limits.
fn limits(args: &ServeArgs) -> Result<Limits, ConfigError> {
    if !(16..=65_535).contains(&args.max_output_side) {
        return Err(bad("--max-output-side", "must be 16 to 65535"));
    }
    if !(args.max_upscale.is_finite() && args.max_upscale >= 1.0) {
        return Err(bad("--max-upscale", "must be a number of at least 1"));
    }
    Ok(Limits {
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
        max_frames: match args.max_frames {
            0 => return Err(bad("--max-frames", "must be at least 1")),
            n => n,
        },
        max_animation_pixels: (positive("--max-animation-mp", args.max_animation_mp)? * 1e6) as u64,
    })
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
    given.unwrap_or_else(|| {
        lambda_mb.and_then(|m| m.parse::<u64>().ok()).map_or(defaults::MEMORY_CACHE_MB, |mb| mb / 4)
    })
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
