//! The per-format qualities stay calibrated (transform/quality.rs): the same request as JPEG,
//! WebP and AVIF lands at the same SSIMULACRA2, median over photos of the shared corpus, with
//! AVIF and WebP smaller than the JPEG. Each output is decoded by a decoder other than its
//! encoder's library — JPEG and WebP by the `image` crate's own Rust decoders (not libjpeg-turbo
//! or libwebp), AVIF by rav1d (not rav1e) — and scored against the lossless render of the same
//! request (`f_png`), so the score measures what the encoder lost.

use pixflow::spec::parse_options;
use pixflow::transform::{self, Limits};
use ssimulacra2::{compute_frame_ssimulacra2, ColorPrimaries, Rgb, TransferCharacteristic};
use std::path::Path;
use std::time::{Duration, Instant};

const PHOTOS: [&str; 4] =
    ["lomiri_Bridge.jpg", "lomiri_Dragonfly.jpg", "lomiri_Kleiber.jpg", "lomiri_Wine.jpg"];

fn render(bytes: &[u8], options: &str) -> Vec<u8> {
    let spec = parse_options(options, 8192).unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    transform::run(bytes, &spec, &Limits::default(), deadline)
        .unwrap_or_else(|e| panic!("{options}: {e}"))
        .bytes
}

fn rgb(img: image::DynamicImage) -> Rgb {
    let img = img.to_rgb8();
    let (w, h) = (img.width() as usize, img.height() as usize);
    let data = img.pixels().map(|p| p.0.map(|c| f32::from(c) / 255.0)).collect();
    Rgb::new(data, w, h, TransferCharacteristic::SRGB, ColorPrimaries::BT709).unwrap()
}

/// Median score and mean bytes of each format for `size` (options before `q_`/`f_`), at `q`.
fn scores(size: &str, q: Option<u8>) -> Vec<(&'static str, f64, f64)> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/jpeg");
    let q = q.map(|q| format!(",q_{q}")).unwrap_or_default();
    let mut per_format: Vec<(&'static str, Vec<f64>, Vec<usize>)> =
        ["jpeg", "webp", "avif"].iter().map(|f| (*f, Vec::new(), Vec::new())).collect();
    for photo in PHOTOS {
        let source = std::fs::read(corpus.join(photo)).unwrap();
        let reference = image::load_from_memory(&render(&source, &format!("{size},f_png"))).unwrap();
        for (format, score, bytes) in &mut per_format {
            let out = render(&source, &format!("{size}{q},f_{format}"));
            let decoded = match *format {
                // rav1d, through pixflow's AVIF reader, to a lossless PNG.
                "avif" => image::load_from_memory(&render(&out, "f_png")).unwrap(),
                _ => image::load_from_memory(&out).unwrap(),
            };
            score.push(compute_frame_ssimulacra2(rgb(reference.clone()), rgb(decoded)).unwrap());
            bytes.push(out.len());
        }
    }
    per_format
        .into_iter()
        .map(|(f, mut s, b)| {
            s.sort_by(f64::total_cmp);
            let median = (s[s.len() / 2 - 1] + s[s.len() / 2]) / 2.0;
            (f, median, b.iter().sum::<usize>() as f64 / b.len() as f64)
        })
        .collect()
}

fn check(size: &str, q: Option<u8>) {
    // As the other tests over the shared corpus: a checkout without it skips, saying so.
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/jpeg");
    if !corpus.join(PHOTOS[0]).exists() {
        eprintln!("{} is absent here: skipped", corpus.display());
        return;
    }
    let got = scores(size, q);
    let (jpeg_score, jpeg_bytes) = (got[0].1, got[0].2);
    let table: Vec<String> = got.iter().map(|(f, s, b)| format!("{f} {s:.1} {:.1} KB", b / 1024.0)).collect();
    eprintln!("{size} q={q:?}: {table:?}");
    for (format, score, bytes) in &got[1..] {
        assert!(
            (score - jpeg_score).abs() <= 3.0,
            "{size} q={q:?}: {format} drifted from JPEG's score: {table:?}"
        );
        let most = if *format == "avif" { 0.7 } else { 0.9 };
        assert!(*bytes <= most * jpeg_bytes, "{size} q={q:?}: {format} over {most}× JPEG's bytes: {table:?}");
    }
}

#[test]
fn the_default_quality_looks_the_same_in_every_format() {
    check("w_800", None);
}

#[test]
fn a_given_quality_looks_the_same_in_every_format() {
    check("w_400", Some(60));
}
