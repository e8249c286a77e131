//! Grey and CMYK ICC profiles, and 16-bit samples (issue 15, item 5). The originals and their
//! references come from `tests/support/profile_fixtures.py`: other people's profiles (ghostscript's
//! SWOP CMYK profile, icc-profiles-free's grey ones, from Debian) embedded by Pillow, and each
//! file's conversion to sRGB by LittleCMS (Pillow's ImageCms), an independent CMS to qcms.

use crate::avif::{differences, reference};
use crate::{get, state_over};
use pixflow::config::Config;
use std::sync::OnceLock;

fn made() -> &'static std::path::Path {
    static MADE: OnceLock<tempfile::TempDir> = OnceLock::new();
    MADE.get_or_init(|| {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new(root.join("target/tools/venv/bin/python"))
            .arg(root.join("tests/support/profile_fixtures.py"))
            .arg(dir.path())
            .output()
            .expect("scripts/setup installs the venv");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        dir
    })
    .path()
}

/// (file, largest difference per sample from LittleCMS's conversion, largest mean).
const CONVERTED: &[(&str, u8, f64)] = &[
    // qcms's CMYK transform is its own 17-point 4-D table; LittleCMS interpolates the profile's.
    ("cmyk.jpg", 4, 1.0),
    ("gray_linear.png", 1, 0.3),
    ("gray_linear.jpg", 1, 0.3),
    ("gray_gs.png", 1, 0.3),
    ("gray_gs.jpg", 1, 0.3),
];

#[tokio::test]
async fn grey_and_cmyk_profiles_convert_as_littlecms_converts_them() {
    let dir = made();
    let s = state_over(dir, None, Config::default());
    let raw = image::open(dir.join("gray_raw.png")).unwrap().to_rgba8();
    for (file, worst_allowed, mean_allowed) in CONVERTED {
        let got = get(&s, &format!("/f_png/{file}")).await;
        assert_eq!(got.status, 200, "{file}: {}", String::from_utf8_lossy(&got.body));
        let ours = got.image().to_rgba8();
        let (worst, mean) = differences(&ours, &reference(dir, file));
        eprintln!("{file}: worst {worst}, mean {mean:.3}");
        assert!(worst <= *worst_allowed && mean <= *mean_allowed, "{file}: worst {worst}, mean {mean:.3}");
        if file.starts_with("gray_linear") {
            // The linear grey profile moves mid-greys far: the profile was applied, not ignored.
            let (_, unconverted) = differences(&ours, &raw);
            assert!(unconverted > 20.0, "{file}: {unconverted:.1} levels from the raw samples");
        }
    }
}

#[tokio::test]
async fn a_cmyk_jpeg_without_a_profile_is_not_inverted_or_garbled() {
    // Regression: CMYK JPEGs went to the image crate's decoder, whose output here was 84 levels
    // on average from LittleCMS's conversion of the SWOP-tagged file. Without a profile,
    // browsers and Pillow multiply each ink by the black: the same picture to a level or two.
    let dir = made();
    let s = state_over(dir, None, Config::default());
    let ours = get(&s, "/f_png/cmyk_plain.jpg").await.image().to_rgba8();
    let (_, mean) = differences(&ours, &reference(dir, "cmyk_plain.jpg"));
    eprintln!("cmyk_plain.jpg: mean {mean:.2} from Pillow's conversion");
    assert!(mean < 1.0, "cmyk_plain.jpg: {mean:.2} levels from Pillow's conversion");
    // Shrunk in the DCT domain like any JPEG, and the profile still applied.
    let small = get(&s, "/w_32,f_png/cmyk.jpg").await.image().to_rgba8();
    assert_eq!(small.dimensions(), (32, 24));
    let whole =
        image::imageops::resize(&reference(dir, "cmyk.jpg"), 32, 24, image::imageops::FilterType::Triangle);
    let (_, mean) = differences(&small, &whole);
    assert!(mean < 4.0, "cmyk.jpg at 32 px: {mean:.2} levels from LittleCMS's, resized");
}

#[tokio::test]
async fn sixteen_bit_samples_round_to_the_nearest_eight_bit_level() {
    let dir = made();
    let s = state_over(dir, None, Config::default());
    for file in ["deep16.png", "deep16.tif"] {
        let got = get(&s, &format!("/f_png/{file}")).await;
        assert_eq!(got.status, 200, "{file}: {}", String::from_utf8_lossy(&got.body));
        let img = got.image().to_luma8();
        assert_eq!(img.dimensions(), (256, 64));
        let mut off = 0;
        for (x, y, p) in img.enumerate_pixels() {
            // The fixture's 16-bit sample, and its nearest 8-bit level (65535 / 255 = 257).
            let sample = f64::from((x * 256 + y * 4 + 1) & 0xFFFF);
            if p[0] != (sample / 257.0).round() as u8 {
                off += 1;
            }
        }
        assert_eq!(off, 0, "{file}: {off} samples not at their nearest 8-bit level");
    }
}
