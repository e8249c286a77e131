//! How close the DC-only 1/8-scale decode of progressive JPEGs is, and how fast, beside
//! libjpeg-turbo's own 1/8-scale decode. Both are compared with the full-size decode averaged
//! over 8×8 blocks (what a 1/8 scale approximates); prints a table, one row per progressive file.
//!
//! `cargo run --release --example dc_error -- ../shared/corpus/jpeg/*.jpg`

use image::{DynamicImage, RgbImage};
use pixflow::transform::{dc_only, decode::decode_turbo, shrink_png};
use std::time::Instant;

/// The full-size decode averaged over 8×8 blocks, by pixflow's PNG box shrink.
fn box_average(full: &DynamicImage) -> RgbImage {
    let mut png = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new_with_quality(
        &mut png,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::NoFilter,
    );
    full.write_with_encoder(encoder).expect("PNG encoding");
    shrink_png::decode(&png, 8, u64::MAX).expect("PNG decoding").expect("not interlaced").to_rgb8()
}

/// Mean absolute error, largest error, and PSNR in dB.
fn error(a: &DynamicImage, b: &RgbImage) -> (f64, u8, f64) {
    let a = a.to_rgb8();
    let (a, b) = (a.as_raw(), b.as_raw());
    let mean = a.iter().zip(b).map(|(x, y)| f64::from(x.abs_diff(*y))).sum::<f64>() / a.len() as f64;
    let max = a.iter().zip(b).map(|(x, y)| x.abs_diff(*y)).max().unwrap_or(0);
    let mse = a.iter().zip(b).map(|(x, y)| f64::from(x.abs_diff(*y)).powi(2)).sum::<f64>() / a.len() as f64;
    (mean, max, 10.0 * (255.0f64 * 255.0 / mse.max(1e-9)).log10())
}

fn best_ms(f: impl Fn() -> DynamicImage) -> (DynamicImage, f64) {
    let mut best = f64::MAX;
    let mut out = f();
    for _ in 0..5 {
        let t = Instant::now();
        out = f();
        best = best.min(t.elapsed().as_secs_f64() * 1e3);
    }
    (out, best)
}

fn main() {
    println!("| file | size | DC-only ms | libjpeg-turbo 1/8 ms | DC-only vs block mean (mean / max / PSNR) | libjpeg-turbo 1/8 vs block mean |");
    println!("|---|---|---|---|---|---|");
    let (mut sums, mut n) = ([0.0f64; 6], 0.0f64);
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path).expect("readable file");
        if dc_only::decode(&bytes, false).is_none() {
            continue; // baseline, or not covered: libjpeg-turbo decodes it
        }
        let (ours, ours_ms) = best_ms(|| dc_only::decode(&bytes, false).unwrap());
        let (theirs, theirs_ms) = best_ms(|| decode_turbo(&bytes, 1, false).unwrap());
        let full = decode_turbo(&bytes, 8, false).unwrap();
        let reference = box_average(&full);
        let (a, b) = (error(&ours, &reference), error(&theirs, &reference));
        let name = std::path::Path::new(&path).file_name().unwrap().to_string_lossy().to_string();
        println!(
            "| {name} | {}×{} | {ours_ms:.2} | {theirs_ms:.2} | {:.2} / {} / {:.1} dB | {:.2} / {} / {:.1} dB |",
            full.width(), full.height(), a.0, a.1, a.2, b.0, b.1, b.2
        );
        for (s, v) in sums.iter_mut().zip([ours_ms, theirs_ms, a.0, a.2, b.0, b.2]) {
            *s += v;
        }
        n += 1.0;
    }
    let m = sums.map(|s| s / n.max(1.0));
    println!(
        "| mean of {n} files | | {:.2} | {:.2} | {:.2} / – / {:.1} dB | {:.2} / – / {:.1} dB |",
        m[0], m[1], m[2], m[3], m[4], m[5]
    );
}
