//! The command-line subcommands other than the servers' plumbing; the measuring ones (`cost`,
//! `bench`) are in `measure.rs`.

mod measure;

pub(crate) use measure::{bench, cost, quality_features};

use pixflow::config::Config;
use pixflow::spec::{parse_options, parse_request, sign as sign_spec, validate_key, Format};
use pixflow::transform::{self, Limits};
use pixflow::AppState;
use std::path::Path;
use std::time::{Duration, Instant};

/// `pixflow serve`.
pub(crate) fn serve(config: Config) -> Result<(), String> {
    let addr = config.listen;
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    rt.block_on(async {
        let state = AppState::from_config(config)
            .await
            .map_err(|e| format!("cannot open the source or result store: {e}"))?;
        pixflow::runtime::local::serve(state, addr).await.map_err(|e| format!("cannot serve on {addr}: {e}"))
    })
}

/// The Lambda runtime: everything built once per cold start, then one invocation after another.
/// `PIXFLOW_LAMBDA_ROLE=events` makes the artifact the S3 event function instead of the
/// Function URL one.
pub(crate) fn lambda(config: Config) -> Result<(), String> {
    #[cfg(feature = "aws")]
    {
        let events = match std::env::var("PIXFLOW_LAMBDA_ROLE").as_deref() {
            Ok("events") => true,
            Ok("url") | Ok("") | Err(_) => false,
            Ok(other) => return Err(format!("PIXFLOW_LAMBDA_ROLE must be `url` or `events`, not `{other}`")),
        };
        let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
        rt.block_on(async {
            let state = AppState::from_config(config).await.map_err(|e| e.to_string())?;
            match events {
                // Boxed: the two runtimes' futures are deep types, and one `match` over both
                // exceeds the compiler's layout depth.
                true => {
                    Box::pin(pixflow::runtime::lambda::run_events(state)).await.map_err(|e| e.to_string())
                }
                false => Box::pin(pixflow::runtime::lambda::run(state)).await.map_err(|e| e.to_string()),
            }
        })
    }
    #[cfg(not(feature = "aws"))]
    {
        let _ = config;
        Err("this build has no Lambda runtime (built without the `aws` feature)".into())
    }
}

/// `pixflow transform IN OUT --options …`.
pub(crate) fn transform(
    input: &Path,
    output: &Path,
    options: &str,
    encoder_quality: Option<u8>,
) -> Result<(), String> {
    let limits = Limits::default();
    let mut spec = parse_options(options, limits.max_output_side).map_err(|e| format!("--options: {e}"))?;
    if let Some(q) = encoder_quality {
        spec.quality = Some(pixflow::spec::Quality::Encoder(q.clamp(1, 100)));
    }
    if spec.format.is_none() {
        let ext = output.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        spec.format = match ext.as_str() {
            "jpg" | "jpeg" => Some(Format::Jpeg),
            "png" => Some(Format::Png),
            "webp" => Some(Format::Webp),
            "avif" => Some(Format::Avif),
            "gif" => Some(Format::Gif),
            _ => None,
        };
    }
    if spec.preset.is_some() {
        return Err("--options: presets need a server configuration; spell the tokens out".into());
    }
    let bytes = std::fs::read(input).map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    let deadline = Instant::now() + Duration::from_secs(600);
    let out = transform::run(&bytes, &spec, &limits, deadline).map_err(|e| e.to_string())?;
    std::fs::write(output, &out.bytes).map_err(|e| format!("cannot write {}: {e}", output.display()))?;
    let quality = match out.quality {
        Some(g) => match g.score {
            Some(score) => format!(" quality {} ssimulacra2 {score:.2} trials {}", g.quality, g.trials),
            None => format!(" quality {}", g.quality),
        },
        None => String::new(),
    };
    let encode = out.timings.encode.as_secs_f64() * 1e3;
    println!(
        "{} {}x{} {} bytes{quality} encode {encode:.1} ms",
        out.format.mime(),
        out.width,
        out.height,
        out.bytes.len()
    );
    Ok(())
}

/// `pixflow purge KEY`: the stored variants deleted and, with `--cloudfront-distribution-id`,
/// the edge invalidated (what replacing the original through the API does); prints the paths.
pub(crate) fn purge(config: Config, key: &str) -> Result<(), String> {
    let key = validate_key(key).map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    rt.block_on(async {
        let state = AppState::from_config(config).await.map_err(|e| e.to_string())?;
        let fresh = pixflow::events::fresh::original_changed(&state, &key).await;
        eprintln!("deleted {} stored variant(s) of {key} from {}", fresh.purged, state.store.describe());
        match &fresh.invalidation_id {
            Some(id) => eprintln!("CloudFront invalidation {id} created"),
            None => eprintln!("no CloudFront distribution configured: invalidate these paths yourself"),
        }
        for path in pixflow::spec::edge_paths(&key) {
            println!("{path}");
        }
        match fresh.errors.is_empty() {
            true => Ok(()),
            false => Err(fresh.errors.join("; ")),
        }
    })
}

/// One line of `pixflow warm`'s report.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Warmed {
    key: String,
    variant: String,
    status: u16,
    bytes: usize,
    content_type: String,
    destination_key: Option<String>,
}

/// `pixflow warm`: every variant of every key through the app, so results land in the store.
pub(crate) fn warm(
    config: Config,
    variants: &[String],
    keys_file: Option<&Path>,
    concurrency: usize,
) -> Result<(), String> {
    use pixflow::spec::parse_options;
    let max_side = config.limits.max_output_side;
    let specs = variants
        .iter()
        .map(|v| parse_options(v, max_side).map_err(|e| format!("--variant {v}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    rt.block_on(async {
        let state = AppState::from_config(config).await.map_err(|e| e.to_string())?;
        let keys = match keys_file {
            Some(f) => keys_in(f)?,
            None => state.source.list(None).await.map_err(|e| e.to_string())?,
        };
        let jobs = warm_jobs(&state, &keys, &specs)?;
        let bar = indicatif::ProgressBar::new(jobs.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {per_sec} eta {eta} {msg}")
                .map_err(|e| e.to_string())?,
        );
        let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        for (key, spec, accept, variant) in jobs {
            let (state, limit, bar) = (state.clone(), limit.clone(), bar.clone());
            tasks.spawn(async move {
                let _permit = limit.acquire().await;
                let path = format!("/{spec}/{}", key.to_url_path());
                let mut req = http::Request::get(path);
                if let Some(a) = accept {
                    req = req.header("accept", a);
                }
                let req = req.body(axum::body::Body::empty()).expect("a valid request");
                let resp = tower::ServiceExt::oneshot(pixflow::app(state.clone()), req).await.expect("infallible");
                let status = resp.status().as_u16();
                let content_type =
                    resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                let body = http_body_util::BodyExt::collect(resp.into_body()).await.map(|b| b.to_bytes());
                let line = Warmed {
                    key: key.to_string(),
                    destination_key: state.store.locate(&key, &variant).filter(|_| status == 200),
                    variant: variant.to_string(),
                    status,
                    bytes: body.map(|b| b.len()).unwrap_or(0),
                    content_type,
                };
                bar.inc(1);
                bar.suspend(|| println!("{}", serde_json::to_string(&line).unwrap_or_default()));
                line.status == 200
            });
        }
        let (mut ok, mut failed) = (0usize, 0usize);
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok(true) => ok += 1,
                _ => failed += 1,
            }
        }
        bar.finish_and_clear();
        println!("{}", serde_json::json!({ "summary": { "keys": keys.len(), "variants": specs.len(), "ok": ok, "failed": failed } }));
        if failed > 0 {
            Err(format!("{failed} variant(s) failed"))
        } else {
            Ok(())
        }
    })
}

/// The keys listed in `file`, one a line.
fn keys_in(file: &Path) -> Result<Vec<pixflow::spec::Key>, String> {
    std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|k| validate_key(k).map_err(|e| format!("{}: {e}", file.display())))
        .collect()
}

/// One warm job: the key, the variant's options, the `Accept` to send, the stored identity.
type WarmJob =
    (pixflow::spec::Key, pixflow::spec::TransformSpec, Option<&'static str>, pixflow::spec::Variant);

/// Each variant of each key as the server names it (spec::resolve); an `f_auto` variant is
/// warmed in every format the edge asks for: AVIF, WebP, and JPEG-or-PNG.
fn warm_jobs(
    state: &AppState,
    keys: &[pixflow::spec::Key],
    specs: &[pixflow::spec::TransformSpec],
) -> Result<Vec<WarmJob>, String> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let rules = pixflow::spec::Rules { signer: None, ..state.rules() };
    let mut jobs = Vec::new();
    for key in keys {
        for spec in specs {
            for accept in [None, Some("image/avif"), Some("image/webp")] {
                let request = pixflow::spec::Request {
                    key: Some(key),
                    written: spec,
                    signature: None,
                    handler_signed: None,
                    accept,
                    hints: pixflow::spec::Hints::default(),
                    now,
                };
                let resolved =
                    pixflow::spec::resolve(&request, &rules).map_err(|e| format!("--variant {spec}: {e}"))?;
                jobs.push((key.clone(), spec.clone(), accept, resolved.variant));
                if !resolved.vary_accept {
                    break;
                }
            }
        }
    }
    Ok(jobs)
}

/// `pixflow canonical PATH`: the origin form, or `400 <code>` (exit status 1).
pub(crate) fn canonical(path: &str, accept: &str, headers: &[String]) -> Result<(), String> {
    let (p, q) = path.split_once('?').map_or((path, None), |(p, q)| (p, Some(q)));
    let accept = Some(accept).filter(|a| !a.is_empty());
    let mut map = http::HeaderMap::new();
    for h in headers {
        let (name, value) = h.split_once(':').ok_or_else(|| format!("--header {h:?} is not NAME: VALUE"))?;
        let name = http::HeaderName::try_from(name.trim()).map_err(|e| format!("--header {h:?}: {e}"))?;
        let value = http::HeaderValue::try_from(value.trim()).map_err(|e| format!("--header {h:?}: {e}"))?;
        map.append(name, value);
    }
    let hints = pixflow::spec::Hints::from_headers(&map);
    match pixflow::spec::origin_form(p, q, accept, hints, Limits::default().max_output_side) {
        Ok(form) => {
            println!("{form}");
            Ok(())
        }
        Err(e) => Err(format!("400 {}: {e}", e.code)),
    }
}

/// `pixflow sign PATH`.
pub(crate) fn sign(path: &str, secret: &str, expires_in: Option<u64>) -> Result<(), String> {
    let (path_part, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    let parsed = parse_request(path_part, query, 65_535).map_err(|e| e.to_string())?;
    let mut spec = parsed.spec;
    if let Some(secs) = expires_in {
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_err(|e| e.to_string())?;
        spec.expires = Some(now.as_secs() + secs);
    }
    let sig = sign_spec(secret.as_bytes(), &spec, &parsed.key);
    let mut tokens = spec.tokens(true);
    tokens.push(format!("s_{sig}"));
    // The key percent-encoded as the URL path carries it (a space is %20, not a raw space).
    println!("/{}/{}", tokens.join(","), parsed.key.to_url_path());
    Ok(())
}
