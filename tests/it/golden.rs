//! Golden outputs: for a representative set of (fixture, options), the output's format, size and
//! a 4 × 4 grid of mean colours, compared with `tests/golden/outputs.json` within a tolerance (so
//! an encoder update that moves bytes but not pixels passes, and a changed crop, colour or
//! orientation fails). Missing baselines are written only with `BLESS=1`; an existing one is never
//! overwritten — delete it by hand to re-bless, so every change is a reviewed diff.

use crate::{fixtures, get, state};
use serde_json::{json, Value};

const CASES: &[(&str, &str)] = &[
    ("quadrants.jpg", "w_50"),
    ("big.jpg", "w_200,h_200,c_fill"),
    ("big.jpg", "w_160,h_90,c_fill,g_north_west"),
    ("big.png", "w_100,f_webp"),
    ("alpha.png", "w_40,f_png"),
    ("quadrants.png", "a_90,w_30"),
    ("orient/6.jpg", "w_20"),
    ("quadrants.gif", "w_20,f_png"),
    ("small.png", "w_80,h_80,c_pad,bg_203040"),
    ("big.jpg", "w_150,gray,blur_2"),
    ("big.jpg", "w_150,sharpen"),
    ("quadrants.tiff", "w_30,f_jpeg"),
    ("odd.jpg", "w_300,h_100,c_lfill"),
];
const TOLERANCE: i64 = 6;

fn golden_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/outputs.json")
}

/// Format, size and the mean RGBA of each cell of a 4 × 4 grid.
fn summary(content_type: &str, img: &image::DynamicImage) -> Value {
    let rgba = img.to_rgba8();
    let (w, h) = rgba.dimensions();
    let mut grid = Vec::new();
    for gy in 0..4 {
        for gx in 0..4 {
            let (x0, x1) = (gx * w / 4, ((gx + 1) * w / 4).max(gx * w / 4 + 1).min(w));
            let (y0, y1) = (gy * h / 4, ((gy + 1) * h / 4).max(gy * h / 4 + 1).min(h));
            let mut sum = [0u64; 4];
            for y in y0..y1 {
                for x in x0..x1 {
                    for (s, v) in sum.iter_mut().zip(rgba.get_pixel(x, y).0) {
                        *s += u64::from(v);
                    }
                }
            }
            let n = u64::from((x1 - x0) * (y1 - y0));
            grid.push(json!(sum.map(|s| (s + n / 2) / n)));
        }
    }
    json!({ "format": content_type, "width": w, "height": h, "grid": grid })
}

fn differs(want: &Value, got: &Value) -> Option<String> {
    for field in ["format", "width", "height"] {
        if want[field] != got[field] {
            return Some(format!("{field}: {} → {}", want[field], got[field]));
        }
    }
    let cells = want["grid"].as_array()?.iter().zip(got["grid"].as_array()?);
    for (i, (a, b)) in cells.enumerate() {
        let far = a
            .as_array()?
            .iter()
            .zip(b.as_array()?)
            .any(|(x, y)| (x.as_i64().unwrap_or(-999) - y.as_i64().unwrap_or(999)).abs() > TOLERANCE);
        if far {
            return Some(format!("cell {i}: {a} → {b}"));
        }
    }
    None
}

#[tokio::test]
async fn outputs_match_their_golden_summaries() {
    let _ = fixtures::dir();
    let path = golden_path();
    let mut golden: serde_json::Map<String, Value> =
        std::fs::read_to_string(&path).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
    let bless = std::env::var("BLESS").is_ok_and(|v| v == "1");
    let s = state();
    let (mut wrong, mut missing, mut added) = (Vec::new(), Vec::new(), 0);
    for (file, options) in CASES {
        let name = format!("/{options}/{file}");
        let got = get(&s, &name).await;
        assert_eq!(got.status, http::StatusCode::OK, "{name}");
        let summary = summary(got.header("content-type").unwrap_or(""), &got.image());
        match golden.get(&name) {
            Some(want) => wrong.extend(differs(want, &summary).map(|d| format!("{name}: {d}"))),
            None if bless => {
                golden.insert(name, summary);
                added += 1;
            }
            None => missing.push(name),
        }
    }
    if added > 0 {
        // One line a case, so a changed baseline is a one-line diff.
        let lines: Vec<String> =
            golden.iter().map(|(k, v)| format!("  {}: {v}", Value::from(k.as_str()))).collect();
        std::fs::write(&path, format!("{{\n{}\n}}\n", lines.join(",\n"))).unwrap();
    }
    assert!(
        missing.is_empty(),
        "no golden summary for {missing:?}: run with BLESS=1, then review and commit"
    );
    assert!(wrong.is_empty(), "outputs changed:\n{}", wrong.join("\n"));
}
