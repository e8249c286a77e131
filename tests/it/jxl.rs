//! JPEG XL originals (issue 15): made by libjxl (pillow-jxl-plugin, `foreign_fixtures.py`) —
//! lossy (XYB), with alpha, lossless, grey, 16-bit, and a real photo recompressed from its JPEG —
//! decoded by pixflow (jxl-oxide) and checked pixel by pixel against libjxl's own decode of the
//! same file.

use crate::foreign::made;
use crate::{get, state_over};
use pixflow::config::Config;

/// The files, the largest difference per 8-bit sample allowed from libjxl's decode, and the
/// largest mean difference. The reference for the photo recompressed from a JPEG is pixflow's
/// own decode of that JPEG (libjpeg-turbo, its ICC profile applied, as for the JXL, which keeps
/// it); the two decoders' IDCT and chroma upsampling differ, so only the mean is tight there.
const DECODED: &[(&str, u8, f64)] = &[
    ("photo.jxl", 2, 0.3),
    ("alpha.jxl", 2, 0.3),
    ("lossless.jxl", 0, 0.0),
    ("gray.jxl", 2, 0.3),
    ("deep.jxl", 1, 0.05),
    ("recompressed.jxl", 255, 1.0),
];

/// libjxl's decode as 8-bit RGBA. libjxl hands over the samples as stored; pillow-jxl-plugin
/// tags a 16-bit grey image as linear (its ICC profile reads `Gra_D65_Rel_Lin`), which pixflow
/// shows in sRGB, so those samples go through the sRGB curve here before rounding to 8 bits.
fn reference(path: &std::path::Path, linear: bool) -> image::RgbaImage {
    let img = image::open(path).unwrap();
    if !linear {
        return img.to_rgba8();
    }
    let srgb = |v: u16| {
        let l = f64::from(v) / 65535.0;
        let e = if l <= 0.0031308 { 12.92 * l } else { 1.055 * l.powf(1.0 / 2.4) - 0.055 };
        (e * 255.0).round() as u8
    };
    let grey = img.to_luma16();
    image::RgbaImage::from_fn(grey.width(), grey.height(), |x, y| {
        let v = srgb(grey.get_pixel(x, y)[0]);
        image::Rgba([v, v, v, 255])
    })
}

#[tokio::test]
async fn every_jxl_decodes_to_what_libjxl_decodes() {
    let (dir, sizes) = made();
    let s = state_over(dir, None, Config::default());
    for (file, tolerance, mean_tolerance) in DECODED {
        if sizes.get(*file).is_none() {
            eprintln!("{file}: not made here (the shared corpus is absent): skipped");
            continue;
        }
        let got = get(&s, &format!("/f_png/{file}")).await;
        assert_eq!(got.status, 200, "{file}: {}", String::from_utf8_lossy(&got.body));
        let ours = got.image().to_rgba8();
        let theirs = match *file {
            "recompressed.jxl" => get(&s, "/f_png/recompressed.jpg").await.image().to_rgba8(),
            _ => reference(&dir.join(format!("{file}.ref.png")), *file == "deep.jxl"),
        };
        assert_eq!(ours.dimensions(), theirs.dimensions(), "{file}");
        let (worst, mean) = crate::avif::differences(&ours, &theirs);
        eprintln!("{file}: worst {worst}, mean {mean:.3}");
        assert!(worst <= *tolerance, "{file}: a sample is {worst} away from libjxl's decode");
        assert!(mean <= *mean_tolerance, "{file}: samples are {mean:.3} away on average");
    }
}

#[tokio::test]
async fn f_json_reads_the_jxl_header() {
    let (dir, _) = made();
    let s = state_over(dir, None, Config::default());
    for (file, depth, alpha) in
        [("photo.jxl", 8, false), ("alpha.jxl", 8, true), ("gray.jxl", 8, false), ("deep.jxl", 16, false)]
    {
        let json = get(&s, &format!("/w_32,f_json/{file}")).await.json();
        let source = &json["source"];
        assert_eq!(source["format"], "jxl", "{file}");
        assert_eq!((&source["width"], &source["height"]), (&64.into(), &48.into()), "{file}");
        assert_eq!(source["bitDepth"], depth, "{file}: {json}");
        assert_eq!(source["alpha"], alpha, "{file}");
        assert_eq!((&json["output"]["width"], &json["output"]["height"]), (&32.into(), &24.into()));
    }
}

#[tokio::test]
async fn a_jxl_resizes_and_keeps_its_alpha() {
    let (dir, _) = made();
    let s = state_over(dir, None, Config::default());
    let got = get(&s, "/w_32/alpha.jxl").await;
    assert_eq!(got.status, 200);
    // A source with alpha and no f_ becomes a PNG, as for other formats.
    assert_eq!(got.header("content-type"), Some("image/png"));
    let img = got.image().to_rgba8();
    assert_eq!(img.dimensions(), (32, 24));
    // The encoder's alpha was 128 everywhere.
    assert!(img.pixels().all(|p| p[3].abs_diff(128) <= 2), "alpha kept");
    let opaque = get(&s, "/w_32/photo.jxl").await;
    assert_eq!(opaque.header("content-type"), Some("image/jpeg"));
}

#[tokio::test]
async fn a_truncated_jxl_is_a_422() {
    let (dir, _) = made();
    let s = state_over(dir, None, Config::default());
    let got = get(&s, "/w_32/truncated.jxl").await;
    assert_eq!(got.status, 422, "{}", String::from_utf8_lossy(&got.body));
}

/// Bug: a 20 MP JPEG XL photo, well inside the 50 MP pixel limit, was a 422 "failed to allocate":
/// jxl-oxide's allocations were capped at 8 bytes per pixel of the limit, as for the other
/// decoders, and it holds 32-bit float channels and a render beside them. With the pixel limit at
/// this 6 MP file's own size, the old cap (8 × 6 M + 64 MiB) was short; the cap is now from the
/// image's own size (and the memory estimate counts the same 32 bytes per pixel).
#[tokio::test]
async fn a_large_jxl_within_the_pixel_limit_decodes() {
    let (dir, _) = made();
    let mut config = Config::default();
    config.limits.max_source_pixels = 3000 * 2000;
    let s = state_over(dir, None, config);
    let got = get(&s, "/w_300,f_png/large.jxl").await;
    assert_eq!(got.status, 200, "{}", String::from_utf8_lossy(&got.body));
    let img = got.image().to_luma8();
    assert_eq!(img.dimensions(), (300, 200));
    // The gradient runs top (black) to bottom (white).
    assert!(img.get_pixel(150, 2)[0] < 16 && img.get_pixel(150, 197)[0] > 239);
}
