//! `POST /_/jobs`: variants of originals rendered into a result store, each outcome reported.
//! Besides pixflow's own shape (`sourceKey`/`sourceKeys` + `variants`) it accepts the seed
//! projects' requests as they were written: `{"imageKey"}` and `{"sourceBucket", "sourceKey",
//! "destinationBucket"}`. A bucket must be the source's (for sources) or the result store's (for
//! destinations), or listed in `--allowed-buckets`: pixflow never relays to arbitrary buckets.

use super::super::response;
use crate::error::Error;
use crate::events::variants::{self, VariantResult};
use crate::spec::{parse_options, validate_key, Key, TransformSpec};
use crate::state::AppState;
use axum::body::Body;
use axum::response::Response;
use http::request::Parts;
use http::StatusCode;

/// At most this many originals and variants per job, and this many body bytes.
const MAX_KEYS: usize = 100;
const MAX_VARIANTS: usize = 20;
const MAX_BODY: u64 = 64 * 1024;
/// The longest a job runs: variants not started by then are reported as 504s (a job of 100 keys
/// × 20 heavy variants could otherwise keep a core busy for hours).
pub(crate) const MAX_JOB_TIME: std::time::Duration = std::time::Duration::from_secs(300);

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Job {
    source_key: Option<String>,
    source_keys: Option<Vec<String>>,
    image_key: Option<String>,
    source_bucket: Option<String>,
    destination_bucket: Option<String>,
    variants: Option<Vec<String>>,
}

fn bad(message: impl Into<String>) -> Error {
    Error::BadBody(message.into())
}

/// Runs one job and answers with every variant's outcome.
pub(super) async fn run(state: &AppState, req: &Parts, body: Body) -> Result<Response, Error> {
    let (body, _held) = super::read_body(state, req, body, MAX_BODY).await?;
    let job: Job = serde_json::from_slice(&body).map_err(|e| {
        bad(format!("the body must be a JSON job: {{\"sourceKey\" or \"sourceKeys\", \"variants\"}} ({e})"))
    })?;
    let keys = keys(&job)?;
    let specs = specs(state, job.variants.as_deref())?;
    let target = target(state, job.source_bucket.as_deref(), job.destination_bucket.as_deref())?;
    let bucket = job.destination_bucket.as_deref().or(state.store_bucket());
    let mut results = Vec::new();
    let until = tokio::time::Instant::now() + MAX_JOB_TIME;
    for key in &keys {
        let rendered = variants::render_until(&target, key, &specs, bucket, Some(until)).await;
        rendered.iter().for_each(|v| v.log("job"));
        results.extend(rendered);
    }
    let (status, word) = outcome(&results);
    Ok(response::json_uncached(status, serde_json::json!({ "status": word, "results": results })))
}

/// The keys a job names, each valid, at most [`MAX_KEYS`].
fn keys(job: &Job) -> Result<Vec<Key>, Error> {
    let named: Vec<&String> = match (&job.source_key, &job.source_keys, &job.image_key) {
        (Some(k), None, None) | (None, None, Some(k)) => vec![k],
        (None, Some(ks), None) => ks.iter().collect(),
        _ => return Err(bad("name the originals once: `sourceKey`, `sourceKeys` or `imageKey`")),
    };
    if named.is_empty() || named.len() > MAX_KEYS {
        return Err(bad(format!("a job names 1 to {MAX_KEYS} originals, not {}", named.len())));
    }
    named.into_iter().map(|k| validate_key(k).map_err(Error::from)).collect()
}

/// The variants as options, or the eager ones when none are given.
fn specs(state: &AppState, given: Option<&[String]>) -> Result<Vec<TransformSpec>, Error> {
    let Some(given) = given else {
        return match state.config.eager.is_empty() {
            true => Err(bad("the job gives no `variants` and no --eager variants are configured")),
            false => Ok(state.config.eager.clone()),
        };
    };
    if given.is_empty() || given.len() > MAX_VARIANTS {
        return Err(bad(format!("a job asks for 1 to {MAX_VARIANTS} variants, not {}", given.len())));
    }
    let max_side = state.config.limits.max_output_side;
    given
        .iter()
        .map(|v| match parse_options(v, max_side) {
            Ok(spec) if spec.is_identity() => Err(bad(format!("the variant `{v}` has no options"))),
            Ok(spec) => Ok(spec),
            Err(e) => Err(e.into()),
        })
        .collect()
}

/// The state whose source and result store the job names: this origin's own, or an allowed
/// bucket's (at its root) when the job names one.
fn target(state: &AppState, source: Option<&str>, destination: Option<&str>) -> Result<AppState, Error> {
    let config = &state.config;
    let (own_source, own_store) = (config.source_bucket(), state.store_bucket());
    let allowed = |b: &str| config.allowed_buckets.iter().any(|a| a == b);
    let mut target = state.clone();
    if let Some(bucket) = source.filter(|b| Some(*b) != own_source) {
        if !allowed(bucket) {
            return Err(Error::Bucket(bucket.to_string()));
        }
        target.source = other_bucket_source(state, bucket)?;
    }
    if let Some(bucket) = destination.filter(|b| Some(*b) != own_store) {
        if !allowed(bucket) {
            return Err(Error::Bucket(bucket.to_string()));
        }
        target.store = other_bucket_store(state, bucket)?;
    }
    Ok(target)
}

#[cfg(feature = "aws")]
fn other_bucket_source(
    state: &AppState,
    bucket: &str,
) -> Result<std::sync::Arc<dyn crate::source::Source>, Error> {
    let client = state.s3.clone().ok_or_else(|| Error::Bucket(bucket.to_string()))?;
    let location = crate::aws::S3Location { bucket: bucket.to_string(), prefix: String::new() };
    Ok(std::sync::Arc::new(crate::aws::S3Source::new(client, location)))
}

#[cfg(feature = "aws")]
fn other_bucket_store(
    state: &AppState,
    bucket: &str,
) -> Result<std::sync::Arc<dyn crate::cache::ResultStore>, Error> {
    let client = state.s3.clone().ok_or_else(|| Error::Bucket(bucket.to_string()))?;
    let location = crate::aws::S3Location { bucket: bucket.to_string(), prefix: String::new() };
    Ok(std::sync::Arc::new(crate::aws::S3Store::new(client, location, state.config.cache_control.clone())))
}

#[cfg(not(feature = "aws"))]
fn other_bucket_source(
    _: &AppState,
    bucket: &str,
) -> Result<std::sync::Arc<dyn crate::source::Source>, Error> {
    Err(Error::Bucket(bucket.to_string()))
}

#[cfg(not(feature = "aws"))]
fn other_bucket_store(
    _: &AppState,
    bucket: &str,
) -> Result<std::sync::Arc<dyn crate::cache::ResultStore>, Error> {
    Err(Error::Bucket(bucket.to_string()))
}

/// 200 when every variant is stored, 207 when some are, else the status most of them failed
/// with (the first such on a tie).
fn outcome(results: &[VariantResult]) -> (StatusCode, &'static str) {
    let ok = results.iter().filter(|r| r.succeeded()).count();
    if ok == results.len() {
        return (StatusCode::OK, "succeeded");
    }
    if ok > 0 {
        return (StatusCode::MULTI_STATUS, "partial");
    }
    let mut counts: Vec<(u16, usize)> = Vec::new();
    for r in results {
        match counts.iter_mut().find(|(s, _)| *s == r.status_code) {
            Some((_, n)) => *n += 1,
            None => counts.push((r.status_code, 1)),
        }
    }
    let most = counts.iter().fold((500, 0), |best, &(s, n)| if n > best.1 { (s, n) } else { best });
    (StatusCode::from_u16(most.0).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), "failed")
}
