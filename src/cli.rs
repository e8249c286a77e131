//! The command-line subcommands other than the servers' plumbing.

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
    println!("{} {}x{} {} bytes", out.format.mime(), out.width, out.height, out.bytes.len());
    Ok(())
}

/// `pixflow cost IN --options …`: the estimate from the header and plan, then one run of the
/// transform with every budget lifted, its wall time and the process's peak RSS.
pub(crate) fn cost(input: &Path, options: &str) -> Result<(), String> {
    let limits = Limits {
        max_cost: u64::MAX,
        max_memory: u64::MAX,
        max_upscale: f64::MAX,
        max_output_pixels: u64::MAX,
        ..Limits::default()
    };
    let spec = parse_options(options, limits.max_output_side).map_err(|e| format!("--options: {e}"))?;
    let bytes = std::fs::read(input).map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    let estimate = transform::assess(&bytes, &spec, &limits).map_err(|e| e.to_string())?;
    let idle = peak_rss_kb();
    let started = Instant::now();
    let out = transform::run(&bytes, &spec, &limits, Instant::now() + Duration::from_secs(600))
        .map_err(|e| e.to_string())?;
    let line = serde_json::json!({
        "options": options, "width": out.width, "height": out.height,
        "estimate_cost": estimate.cost, "measured_ms": (started.elapsed().as_secs_f64() * 1e4).round() / 10.0,
        "estimate_mb": estimate.memory >> 20, "peak_rss_mb": peak_rss_kb() >> 10, "idle_rss_mb": idle >> 10,
    });
    println!("{line}");
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

/// The options of each benchmark task (../shared/bench/compare.py describes T1–T8).
fn task_options(task: &str) -> Option<&'static str> {
    Some(match task {
        "T1" => "w_200,h_200,q_80,f_jpeg",
        "T2" => "w_200,h_200,c_fill,q_80,f_webp",
        "T3" => "w_1200,q_80,f_jpeg",
        "T4" => "w_400,h_400,gray,q_80,f_jpeg",
        "T5" => "w_400,h_400,q_80,f_webp",
        "T6" => "w_800,q_60,f_avif",
        // Not shared tasks: T6's size at pixflow's default quality in each format (one quality
        // on JPEG's scale, mapped per format; scripts/calibrate-quality).
        "jpeg-800" => "w_800,f_jpeg",
        "webp-800" => "w_800,f_webp",
        "avif-800" => "w_800,f_avif",
        // Animated GIFs, every frame.
        "T7" => "w_200,h_200,f_gif",
        "T8" => "w_200,h_200,q_80,f_webp",
        // Not a shared task: T2 with the crop placed by g_auto (scripts/gauto-check times it
        // beside T2).
        "T2-gauto" => "w_200,h_200,c_fill,g_auto,q_80,f_webp",
        // Placeholders beside the header read they should cost about as much as.
        "json" => "w_300,h_200,c_fill,f_json",
        "thumbhash" => "w_300,h_200,c_fill,f_thumbhash",
        // Parts of a photo at full scale (no DCT shrink applies): a rect_ region and a c_crop cut,
        // for the region-only decode.
        "rect" => "rect_400:300:600:600,w_600,q_80,f_jpeg",
        "crop" => "c_crop,w_400,h_400,q_80,f_jpeg",
        _ => return None,
    })
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// `pixflow bench TASK LISTFILE REPS [OUTDIR]`: one warm-up pass, REPS timed passes, one JSON
/// line. With `floor`, times [`transform::floor`] instead of the pipeline.
pub(crate) fn bench(
    task: &str,
    list: &Path,
    reps: usize,
    out_dir: Option<&Path>,
    floor: bool,
) -> Result<(), String> {
    let options = task_options(task).ok_or_else(|| format!("unknown task {task} (T1..T8)"))?;
    let limits = Limits::default();
    let mut spec = parse_options(options, limits.max_output_side).map_err(|e| e.to_string())?;
    // The peers are given each encoder's own quality number; so is pixflow here (a URL's `q_N` is
    // on JPEG's scale and mapped per format: transform/quality.rs).
    if let Some(pixflow::spec::Quality::Fixed(q)) = spec.quality {
        spec.quality = Some(pixflow::spec::Quality::Encoder(q));
    }
    let text = std::fs::read_to_string(list).map_err(|e| format!("cannot read {}: {e}", list.display()))?;
    let names: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let files: Vec<Vec<u8>> =
        names.iter().map(|f| std::fs::read(f).map_err(|e| format!("{f}: {e}"))).collect::<Result<_, _>>()?;
    let mut times = vec![Vec::with_capacity(reps); files.len()];
    let mut out_bytes = 0usize;
    for pass in 0..=reps {
        let mut bytes = 0;
        for (i, f) in files.iter().enumerate() {
            let t0 = Instant::now();
            let len = if floor {
                transform::floor(f, &spec, &limits).map_err(|e| format!("{}: {e}", names[i]))?
            } else {
                let out = transform::run(f, &spec, &limits, Instant::now() + Duration::from_secs(600))
                    .map_err(|e| format!("{}: {e}", names[i]))?;
                if let (1, Some(dir)) = (pass, out_dir) {
                    let stem = Path::new(names[i]).file_stem().unwrap_or_default().to_string_lossy();
                    let path = dir.join(format!("{stem}.{}", out.format.as_str()));
                    std::fs::write(&path, &out.bytes).map_err(|e| format!("{}: {e}", path.display()))?;
                }
                out.bytes.len()
            };
            let ms = t0.elapsed().as_secs_f64() * 1e3;
            bytes += len;
            if pass > 0 {
                times[i].push(ms);
            }
        }
        out_bytes = bytes;
    }
    let per_image: Vec<f64> = times
        .iter_mut()
        .map(|t| {
            t.sort_by(f64::total_cmp);
            let m = t.len() / 2;
            if t.is_empty() {
                0.0
            } else if t.len() % 2 == 1 {
                t[m]
            } else {
                (t[m - 1] + t[m]) / 2.0
            }
        })
        .collect();
    let mean = per_image.iter().sum::<f64>() / per_image.len().max(1) as f64;
    let line = serde_json::json!({
        "peer": if floor { "floor" } else { "pixflow" }, "task": task, "n": files.len(), "reps": reps,
        "per_image_ms": per_image.iter().map(|x| (x * 1000.0).round() / 1000.0).collect::<Vec<_>>(),
        "mean_ms": mean, "out_bytes": out_bytes, "peak_rss_kb": peak_rss_kb(),
        "version": concat!("pixflow ", env!("CARGO_PKG_VERSION")),
    });
    println!("{line}");
    Ok(())
}
