//! HEIC originals (issue 15): pictures encoded by x265 through pillow-heif (libheif 1.20), grids
//! and irot/imir wrapped by `tests/support/heif_writer.py`, all made in `foreign_fixtures.py`;
//! decoded by pixflow (libde265 and its own container reader) and checked against libheif's own
//! decode of the same file (libde265 too, but libheif's container reading, transforms, grid
//! assembly and YUV → RGB), which applies irot/imir/clap as browsers do.

use crate::avif::{each_decodes_like_its_reference, every_cut_and_flip_answers_cleanly};
use crate::foreign::made;
use crate::{get, state_over};
use pixflow::config::Config;

/// (file, the largest difference per 8-bit sample allowed from libheif's decode, the largest mean).
/// pixflow upsamples HEVC chroma as libheif does by default (each sample repeated), so the two
/// decodes differ by rounding alone. The 10-bit picture differs by half a level on average:
/// libheif's 8-bit output of it is its 10-bit RGB shifted down (truncated), pixflow's rounded.
const DECODED: &[(&str, u8, f64)] = &[
    ("photo.heic", 1, 0.05),
    ("deep10.heic", 3, 0.6),
    ("gray.heic", 1, 0.05),
    ("grid.heic", 1, 0.05),
    ("alpha.heic", 1, 0.05),
    ("quad.heic", 1, 0.05),
    ("alpha_quad.heic", 1, 0.05),
    ("irot1.heic", 1, 0.05),
    ("irot3.heic", 1, 0.05),
    ("imir1.heic", 1, 0.05),
    ("irot1imir0.heic", 1, 0.05),
];

#[tokio::test]
async fn every_heic_decodes_to_what_libheif_decodes() {
    each_decodes_like_its_reference(made().0, DECODED, "libheif").await;
}

#[tokio::test]
async fn f_json_reads_the_heic_header() {
    let (dir, _) = made();
    let s = state_over(dir, None, Config::default());
    // (file, bit depth, alpha, EXIF orientation, stored size, shown size).
    for (file, depth, alpha, orientation, stored, shown) in [
        ("quad.heic", 8, false, 1, (64, 48), (64, 48)),
        ("deep10.heic", 10, false, 1, (64, 48), (64, 48)),
        ("alpha.heic", 8, true, 1, (64, 48), (64, 48)),
        ("grid.heic", 8, false, 1, (250, 190), (250, 190)),
        // irot turns anticlockwise: one quarter turn is EXIF 8; irot then imir 0 is EXIF 5.
        ("irot1.heic", 8, false, 8, (64, 48), (48, 64)),
        ("irot3.heic", 8, false, 6, (64, 48), (48, 64)),
        ("imir1.heic", 8, false, 2, (64, 48), (64, 48)),
        ("irot1imir0.heic", 8, false, 5, (64, 48), (48, 64)),
    ] {
        let json = get(&s, &format!("/f_json/{file}")).await.json();
        let source = &json["source"];
        assert_eq!(source["format"], "heic", "{file}");
        assert_eq!(source["transformable"], true, "{file}");
        assert_eq!(source["bitDepth"], depth, "{file}: {json}");
        assert_eq!(source["alpha"], alpha, "{file}");
        assert_eq!(source["orientation"], orientation, "{file}: {json}");
        assert_eq!((&source["width"], &source["height"]), (&stored.0.into(), &stored.1.into()), "{file}");
        assert_eq!(
            (&json["output"]["width"], &json["output"]["height"]),
            (&shown.0.into(), &shown.1.into()),
            "{file}: {json}"
        );
    }
}

#[tokio::test]
async fn a_heic_resizes_keeps_its_alpha_and_becomes_a_jpeg_or_png() {
    let (dir, _) = made();
    let s = state_over(dir, None, Config::default());
    let got = get(&s, "/w_32/alpha_quad.heic").await;
    assert_eq!(got.status, 200, "{}", String::from_utf8_lossy(&got.body));
    // Few browsers read HEIC: with no f_ it becomes a PNG when it has alpha…
    assert_eq!(got.header("content-type"), Some("image/png"));
    let img = got.image().to_rgba8();
    assert_eq!(img.dimensions(), (32, 24));
    // …keeping the source's alpha, a gradient from transparent (top left) to opaque.
    assert!(img.get_pixel(0, 0)[3] < 40 && img.get_pixel(31, 23)[3] > 215, "alpha kept");
    // …and a JPEG when it has none.
    let jpeg = get(&s, "/w_32/grid.heic").await;
    assert_eq!(jpeg.header("content-type"), Some("image/jpeg"));
    assert_eq!(jpeg.image().width(), 32);
}

#[tokio::test]
async fn a_broken_heic_is_a_422_and_never_a_500() {
    let (dir, _) = made();
    let s = state_over(dir, None, Config::default());
    let got = get(&s, "/w_32/truncated.heic").await;
    assert_eq!(got.status, 422, "{}", String::from_utf8_lossy(&got.body));
    let statuses = every_cut_and_flip_answers_cleanly(&dir.join("quad.heic"), 5).await;
    eprintln!("broken HEICs: {statuses:?}");
}

#[tokio::test]
async fn the_pixel_limit_holds_before_a_heic_is_decoded() {
    let (dir, _) = made();
    let mut config = Config::default();
    config.limits.max_source_pixels = 250 * 100;
    let s = state_over(dir, None, config);
    // The grid's canvas (250×190) is over the limit; each of its tiles (128×128) is not.
    let got = get(&s, "/w_32/grid.heic").await;
    assert_eq!(got.status, 413, "{}", String::from_utf8_lossy(&got.body));
    // A header that understates (ispe 16×16) is caught by the HEVC sequence parameter set
    // (64×48 = 3,072 pixels) before libde265 is given a byte.
    let mut config = Config::default();
    config.limits.max_source_pixels = 1000;
    let s = state_over(dir, None, config);
    let json = get(&s, "/f_json/liar.heic").await.json();
    assert_eq!((&json["source"]["width"], &json["source"]["height"]), (&16.into(), &16.into()));
    let got = get(&s, "/w_8/liar.heic").await;
    assert_eq!(got.status, 413, "{}", String::from_utf8_lossy(&got.body));
    assert!(String::from_utf8_lossy(&got.body).contains("64"), "names the coded size");
}

#[tokio::test]
async fn hdr_heic_is_tone_mapped_like_hdr_avif() {
    let (dir, _) = made();
    let s = state_over(dir, None, Config::default());
    // The AVIF test's patches (PQ/HLG signal 0.58, 0.75, black, red), tagged PQ and HLG in the
    // HEIC's nclx box by pillow-heif: the reference whites come out near white, not the grey
    // (148, 191) that reading them as sRGB would show.
    let mean = |img: &image::RgbImage, x0: u32, x1: u32| {
        let px: Vec<_> =
            img.enumerate_pixels().filter(|(x, _, _)| (x0..x1).contains(x)).map(|(_, _, p)| p.0).collect();
        [0, 1, 2].map(|c| px.iter().map(|p| f64::from(p[c])).sum::<f64>() / px.len() as f64)
    };
    let pq = get(&s, "/f_png/pq.heic").await.image().to_rgb8();
    let white = mean(&pq, 2, 14);
    eprintln!("pq.heic: reference white {white:?}, black {:?}", mean(&pq, 34, 46));
    assert!(white.iter().all(|&v| (225.0..=252.0).contains(&v)), "PQ reference white: {white:?}");
    assert!(mean(&pq, 34, 46).iter().all(|&v| v < 4.0), "PQ black stays black");
    let hlg = get(&s, "/f_png/hlg.heic").await.image().to_rgb8();
    let white = mean(&hlg, 18, 30);
    eprintln!("hlg.heic: reference white {white:?}");
    assert!(white.iter().all(|&v| (225.0..=252.0).contains(&v)), "HLG reference white: {white:?}");
}
