//! The measuring subcommands: `pixflow cost` (the estimate beside a real run) and `pixflow
//! bench` (the benchmark runner ../shared/bench/compare.py calls).

use pixflow::spec::parse_options;
use pixflow::transform::{self, Limits};
use std::path::Path;
use std::time::{Duration, Instant};

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
    let estimate = transform::assess(&bytes, &spec, &limits, Instant::now() + Duration::from_secs(600))
        .map_err(|e| e.to_string())?;
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

/// `pixflow quality-features IMAGE…` (hidden): the q_auto features of each image, one JSON line
/// each, `{"file", "width", "height", …features}`.
pub(crate) fn quality_features(inputs: &[std::path::PathBuf]) -> Result<(), String> {
    for input in inputs {
        let img = image::open(input).map_err(|e| format!("{}: {e}", input.display()))?;
        let f = pixflow::transform::auto_quality::features(&img.to_rgb8());
        let line = serde_json::json!({
            "file": input.display().to_string(), "width": img.width(), "height": img.height(), "features": f,
        });
        println!("{line}");
    }
    Ok(())
}
