//! Animations stay animated (DESIGN §2 "Animation"): Pillow-made fixtures whose frame colours
//! say which frame they are (tests/fixtures/animated/make.py) go through every animated output
//! and a representative set of options, and Pillow — an independent decoder — reads the results
//! back: frame count, delays, loop count, size and each frame's colour.

use super::{get, request, state_over, Got};
use pixflow::config::Config;
use pixflow::AppState;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The fixtures' frame colours and delays (make.py).
const COLOURS: [[u8; 3]; 4] = [[220, 30, 30], [30, 200, 40], [40, 60, 230], [240, 220, 40]];
const DELAYS: [u64; 4] = [100, 200, 50, 0];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/animated")
}

fn state() -> AppState {
    state_over(&fixtures(), None, Config::default())
}

/// Pillow in the test tools' venv (scripts/setup installs it).
fn python() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools/venv/bin/python");
    assert!(p.exists(), "{} is missing: run scripts/setup", p.display());
    p
}

/// Pillow's reading of each file: format, size, loop and per frame its duration and the RGBA
/// samples at `points` (fractions of the size).
fn probe(files: &[PathBuf], points: &[(f64, f64)]) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/probe_frames.py");
    let pts = serde_json::to_string(&points.iter().map(|&(x, y)| [x, y]).collect::<Vec<_>>()).unwrap();
    let out = Command::new(python()).arg(script).arg(pts).args(files).output().expect("python runs");
    assert!(out.status.success(), "probe failed: {}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_array().unwrap().clone()
}

fn near(px: &Value, want: [u8; 3], tol: u8) -> bool {
    let px: Vec<u8> = px.as_array().unwrap().iter().map(|c| c.as_u64().unwrap() as u8).collect();
    px[3] >= 128 && px[..3].iter().zip(want).all(|(a, b)| a.abs_diff(b) <= tol)
}

fn transparent(px: &Value) -> bool {
    px[3].as_u64().unwrap() < 128
}

fn luma([r, g, b]: [u8; 3]) -> [u8; 3] {
    let y = (0.2126 * f64::from(r) + 0.7152 * f64::from(g) + 0.0722 * f64::from(b)).round() as u8;
    [y, y, y]
}

fn durations(p: &Value) -> Vec<u64> {
    p["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["duration"].as_f64().unwrap_or(-1.0).round() as u64)
        .collect()
}

fn save(dir: &Path, name: &str, got: &Got) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, &got.body).unwrap();
    path
}

#[tokio::test]
async fn every_animated_output_keeps_every_frame_through_every_option() {
    let s = state();
    let tmp = tempfile::tempdir().unwrap();
    // Options, and the output size each must give on the 40×30 fixtures.
    let cases: &[(&str, (u64, u64))] = &[
        ("w_20", (20, 15)),
        ("c_fill,h_30,w_30", (30, 30)),
        ("bg_000000,c_pad,h_20,w_50", (50, 20)),
        ("a_90", (30, 40)),
        ("a_hflip,a_vflip", (40, 30)),
        ("gray", (40, 30)),
        ("blur_1", (40, 30)),
        ("sharpen", (40, 30)),
        ("c_crop,h_16,w_20,x_10,y_8", (20, 16)),
        ("c_scale,h_10,w_60", (60, 10)),
        ("dpr_2,w_10", (20, 15)),
        ("c_fill,g_0.9x0.9,h_12,w_12", (12, 12)),
    ];
    let sources =
        [("solid.gif", "image/gif", 0), ("solid.webp", "image/webp", 2), ("solid.apng", "image/png", 3)];
    let formats = ["", "f_gif", "f_webp", "f_png"];
    let mut files = Vec::new();
    let mut expected = Vec::new();
    for (source, own_type, loops) in sources {
        for format in formats {
            for (options, size) in cases {
                let opts =
                    if format.is_empty() { options.to_string() } else { format!("{options},{format}") };
                let got = get(&s, &format!("/{opts}/{source}")).await;
                assert_eq!(got.status, 200, "{opts}/{source}: {}", String::from_utf8_lossy(&got.body));
                let want_type = match format {
                    "" => own_type,
                    f => &format!("image/{}", &f[2..]),
                };
                assert_eq!(got.header("content-type"), Some(want_type), "{opts}/{source}");
                files.push(save(tmp.path(), &format!("{}-{}", files.len(), source), &got));
                expected.push((format!("{opts}/{source}"), *size, loops, options.contains("gray")));
            }
        }
    }
    let probed = probe(&files, &[(0.5, 0.75)]);
    for (p, (what, size, loops, gray)) in probed.iter().zip(&expected) {
        assert_eq!(p["size"], serde_json::json!([size.0, size.1]), "{what}");
        let frames = p["frames"].as_array().unwrap();
        assert_eq!(frames.len(), 4, "{what}: frames");
        assert_eq!(durations(p), DELAYS, "{what}: delays");
        // Pillow leaves `loop` out for a GIF that plays once; every fixture loops here.
        assert_eq!(p["loop"].as_u64(), Some(*loops), "{what}: loop");
        for (i, f) in frames.iter().enumerate() {
            let want = if *gray { luma(COLOURS[i]) } else { COLOURS[i] };
            assert!(
                near(&f["samples"][0], want, 24),
                "{what}: frame {i} is {} not {want:?}",
                f["samples"][0]
            );
        }
    }
}

#[tokio::test]
async fn disposal_and_transparency_survive_each_output() {
    let s = state();
    let tmp = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut names = Vec::new();
    for source in ["squares.gif", "squares.apng", "previous.gif"] {
        for format in ["f_gif", "f_webp", "f_png"] {
            let got = get(&s, &format!("/w_20,{format}/{source}")).await;
            assert_eq!(got.status, 200, "{format}/{source}");
            files.push(save(tmp.path(), &format!("{}-{source}", files.len()), &got));
            names.push((format!("{format}/{source}"), source.starts_with("previous")));
        }
    }
    // The centre of each frame's square (10 px wide at x = 10 i, rows 10..20 of 30).
    let points: Vec<(f64, f64)> = (0..4).map(|i| ((10.0 * i as f64 + 5.0) / 40.0, 0.5)).collect();
    for (p, (what, previous)) in probe(&files, &points).iter().zip(&names) {
        let frames = p["frames"].as_array().unwrap();
        assert_eq!(frames.len(), 4, "{what}");
        for (i, f) in frames.iter().enumerate() {
            let samples = f["samples"].as_array().unwrap();
            assert!(near(&samples[i], COLOURS[i], 24), "{what}: frame {i} square is {}", samples[i]);
            for (j, other) in samples.iter().enumerate().filter(|&(j, _)| j != i) {
                // Disposed: the other squares are gone (transparent), or back to the red base.
                let ok = if *previous { near(other, COLOURS[0], 24) } else { transparent(other) };
                assert!(ok, "{what}: frame {i} still shows square {j}: {other}");
            }
        }
    }
}

#[tokio::test]
async fn stills_of_an_animation_pick_their_frame() {
    let s = state();
    let tmp = tempfile::tempdir().unwrap();
    let page2 = get(&s, "/pg_2/solid.gif").await;
    assert_eq!(page2.status, 200);
    assert_eq!(page2.header("content-type"), Some("image/png"), "a still GIF-sourced frame is a PNG");
    let jpeg = get(&s, "/f_jpeg/solid.webp").await;
    assert_eq!(jpeg.header("content-type"), Some("image/jpeg"));
    let query = get(&s, "/solid.apng?frame=3&fm=webp").await;
    assert_eq!(query.header("content-type"), Some("image/webp"));
    let avif = get(&s, "/f_avif,w_20/solid.gif").await;
    assert_eq!(avif.header("content-type"), Some("image/avif"), "an explicit f_avif is a still");
    let files = [
        save(tmp.path(), "a.png", &page2),
        save(tmp.path(), "b.jpg", &jpeg),
        save(tmp.path(), "c.webp", &query),
    ];
    let p = probe(&files, &[(0.5, 0.75)]);
    for (probe, frame) in p.iter().zip([1, 0, 2]) {
        assert_eq!(probe["frames"].as_array().unwrap().len(), 1);
        assert!(near(&probe["frames"][0]["samples"][0], COLOURS[frame], 24), "{probe}");
    }
    let past = get(&s, "/pg_5/solid.gif").await;
    assert_eq!(past.status, 400);
    assert!(past.json()["message"].as_str().unwrap().contains("4 frame"), "{:?}", past.json());
}

#[tokio::test]
async fn f_auto_gives_animated_webp_to_browsers_that_take_it_and_the_source_format_to_others() {
    let s = state();
    let tmp = tempfile::tempdir().unwrap();
    let chrome = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
    let cases = [
        (chrome, "solid.gif", "image/webp"),
        ("image/webp,*/*", "solid.gif", "image/webp"),
        ("image/png,*/*", "solid.gif", "image/gif"),
        ("image/png,*/*", "solid.webp", "image/gif"),
        ("image/png,*/*", "solid.apng", "image/png"),
    ];
    // The edge's origin form of the same f_auto (tests/vectors): still animated WebP.
    let edge = get(&s, "/solid.gif?o=f_auto-avif,w_20").await;
    assert_eq!(edge.header("content-type"), Some("image/webp"));
    let mut files = vec![save(tmp.path(), "edge.webp", &edge)];
    for (accept, source, want) in cases {
        let got = request(&s, "GET", &format!("/f_auto,w_20/{source}"), &[("accept", accept)]).await;
        assert_eq!(got.status, 200);
        assert_eq!(got.header("content-type"), Some(want), "{accept} {source}");
        assert!(got.header("vary").is_some_and(|v| v.to_ascii_lowercase().contains("accept")));
        files.push(save(tmp.path(), &format!("{}.bin", files.len()), &got));
    }
    for p in probe(&files, &[(0.5, 0.75)]) {
        assert_eq!(p["frames"].as_array().unwrap().len(), 4, "{p}");
    }
}

#[tokio::test]
async fn f_json_reports_frames_duration_and_loop_from_the_header() {
    let s = state();
    let j = get(&s, "/f_json,w_20/solid.gif").await.json();
    assert_eq!(j["source"]["frames"], 4);
    // 100 + 200 + 50 + a 0 ms delay, which browsers play as 100 ms.
    assert_eq!(j["source"]["durationMs"], 450);
    assert_eq!(j["source"]["loop"], 0);
    assert_eq!(j["output"]["format"], "gif");
    assert_eq!(j["output"]["frames"], 4);
    let webp = get(&s, "/f_json/solid.webp").await.json();
    assert_eq!((webp["source"]["frames"].clone(), webp["source"]["loop"].clone()), (4.into(), 2.into()));
    let apng = get(&s, "/f_json,pg_2/solid.apng").await.json();
    assert_eq!((apng["source"]["loop"].clone(), apng["output"]["frames"].clone()), (3.into(), 1.into()));
}

#[tokio::test]
async fn frame_limits_are_read_before_decoding() {
    let mut few_frames = Config::default();
    few_frames.limits.max_frames = 3;
    let got = get(&state_over(&fixtures(), None, few_frames), "/w_20/solid.gif").await;
    assert_eq!(got.status, 413);
    assert!(got.json()["message"].as_str().unwrap().contains("--max-frames"), "{:?}", got.json());
    let mut few_pixels = Config::default();
    few_pixels.limits.max_animation_pixels = 4 * 40 * 30 - 1;
    let got = get(&state_over(&fixtures(), None, few_pixels), "/w_20/solid.webp").await;
    assert_eq!(got.status, 413);
    assert!(got.json()["message"].as_str().unwrap().contains("--max-animation-mp"));
}

/// A frame reaching past the logical screen is clipped to it, as browsers do.
#[tokio::test]
async fn frames_outside_the_logical_screen_are_clipped() {
    let tmp = tempfile::tempdir().unwrap();
    let mut gif = Vec::new();
    {
        let mut e = gif::Encoder::new(&mut gif, 20, 20, &[255, 0, 0, 0, 0, 255]).unwrap();
        e.set_repeat(gif::Repeat::Infinite).unwrap();
        e.write_frame(&gif::Frame {
            width: 20,
            height: 20,
            delay: 10,
            buffer: vec![0; 400].into(),
            ..Default::default()
        })
        .unwrap();
        let off = gif::Frame {
            left: 10,
            top: 10,
            width: 20,
            height: 20,
            delay: 10,
            buffer: vec![1; 400].into(),
            ..Default::default()
        };
        e.write_frame(&off).unwrap();
    }
    std::fs::write(tmp.path().join("off.gif"), gif).unwrap();
    let s = state_over(tmp.path(), None, Config::default());
    let got = get(&s, "/f_gif/off.gif").await;
    assert_eq!(got.status, 200);
    let out = save(tmp.path(), "out.gif", &got);
    let p = &probe(&[out], &[(0.25, 0.25), (0.75, 0.75)])[0];
    assert_eq!(p["size"], serde_json::json!([20, 20]));
    let f = p["frames"].as_array().unwrap();
    assert_eq!(f.len(), 2);
    assert!(near(&f[1]["samples"][0], [255, 0, 0], 0) && near(&f[1]["samples"][1], [0, 0, 255], 0), "{p}");
}

/// The shared corpus's animations (photo pans and zooms, a sticker, Pillow's test files) keep
/// their frames, delays and loop count through `w_100`.
#[tokio::test]
async fn the_shared_animated_corpus_stays_animated() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/animated");
    let Ok(entries) = std::fs::read_dir(&corpus) else {
        eprintln!("{} is absent here: skipped", corpus.display());
        return;
    };
    let s = state_over(&corpus, None, Config::default());
    let tmp = tempfile::tempdir().unwrap();
    let mut sources: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    sources.sort();
    let mut outputs = Vec::new();
    for src in &sources {
        let name = src.file_name().unwrap().to_str().unwrap();
        let got = get(&s, &format!("/w_100/{name}")).await;
        assert_eq!(got.status, 200, "{name}: {}", String::from_utf8_lossy(&got.body));
        outputs.push(save(tmp.path(), name, &got));
    }
    let before = probe(&sources, &[]);
    let after = probe(&outputs, &[]);
    for ((src, a), b) in sources.iter().zip(&before).zip(&after) {
        let what = src.display();
        assert_eq!(b["format"], a["format"], "{what}");
        assert_eq!(b["size"][0], 100, "{what}");
        assert_eq!(b["loop"], a["loop"], "{what}: loop");
        let (da, db) = (durations(a), durations(b));
        if a["format"] == "WEBP" {
            // libwebp's encoder merges a frame identical to the one before into its duration.
            assert_eq!(da.iter().sum::<u64>(), db.iter().sum::<u64>(), "{what}: total duration");
        } else {
            assert_eq!(da, db, "{what}: delays");
        }
    }
}

/// Hostile animations get a clear status quickly: a cut file, a frame claiming 65535×65535 on a
/// small screen, an APNG whose acTL promises more frames than it holds.
#[tokio::test]
async fn hostile_animations_get_a_clear_status() {
    let tmp = tempfile::tempdir().unwrap();
    let solid = std::fs::read(fixtures().join("solid.gif")).unwrap();
    std::fs::write(tmp.path().join("cut.gif"), &solid[..solid.len() * 6 / 10]).unwrap();
    let mut huge = Vec::new();
    {
        let mut e = gif::Encoder::new(&mut huge, 10, 10, &[0, 0, 0, 255, 255, 255]).unwrap();
        for _ in 0..2 {
            e.write_frame(&gif::Frame {
                width: 10,
                height: 10,
                buffer: vec![1; 100].into(),
                ..Default::default()
            })
            .unwrap();
        }
    }
    // Rewrite the second image descriptor's size to 65535×65535 (its data stays 10×10).
    let second = huge.iter().enumerate().filter(|&(_, &b)| b == 0x2C).map(|(i, _)| i).nth(1).unwrap();
    huge[second + 5..second + 9].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
    std::fs::write(tmp.path().join("huge-frame.gif"), &huge).unwrap();
    let mut apng = std::fs::read(fixtures().join("solid.apng")).unwrap();
    let actl = apng.windows(4).position(|w| w == b"acTL").unwrap();
    apng[actl + 4..actl + 8].copy_from_slice(&9u32.to_be_bytes());
    let crc = crc32fast::hash(&apng[actl..actl + 12]);
    apng[actl + 12..actl + 16].copy_from_slice(&crc.to_be_bytes());
    std::fs::write(tmp.path().join("short.apng"), &apng).unwrap();
    let s = state_over(tmp.path(), None, Config::default());
    for (name, want) in [("cut.gif", 422), ("huge-frame.gif", 422), ("short.apng", 200)] {
        let started = std::time::Instant::now();
        let got = get(&s, &format!("/w_20/{name}")).await;
        assert_eq!(got.status, want, "{name}: {}", String::from_utf8_lossy(&got.body));
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{name}");
    }
}

#[tokio::test]
async fn rect_cuts_every_frame_of_an_animation_at_the_same_place() {
    let s = state();
    let whole = get(&s, "/f_json/squares.gif").await.json();
    let frames = whole["source"]["frames"].as_u64().unwrap();
    let (w, h) = (whole["source"]["width"].as_u64().unwrap(), whole["source"]["height"].as_u64().unwrap());
    let cut = get(&s, &format!("/rect_0:0:{}:{}/squares.gif", w / 2, h / 2)).await;
    assert_eq!(cut.status, http::StatusCode::OK);
    let j = get(&s, &format!("/f_json,rect_0:0:{}:{}/squares.gif", w / 2, h / 2)).await.json();
    assert_eq!(j["output"]["frames"].as_u64(), Some(frames), "still animated");
    assert_eq!((j["output"]["width"].as_u64(), j["output"]["height"].as_u64()), (Some(w / 2), Some(h / 2)));
    let decoded = image::codecs::gif::GifDecoder::new(std::io::Cursor::new(&cut.body)).unwrap();
    use image::AnimationDecoder;
    let out: Vec<_> = decoded.into_frames().collect::<Result<_, _>>().unwrap();
    assert_eq!(out.len() as u64, frames);
    assert!(out.iter().all(|f| f.buffer().dimensions() == ((w / 2) as u32, (h / 2) as u32)));
}
