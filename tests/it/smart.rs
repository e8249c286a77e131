//! The page's smart choices (issue 17): `g_auto` crops where the detail is, `f_thumbhash`
//! placeholders, and client hints folded into the options.

use crate::{get, state_over};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use pixflow::config::Config;
use std::path::PathBuf;
use std::sync::OnceLock;

/// A smooth 1200 × 400 gradient with one detailed object: a red and white 20 px checkerboard at
/// x 1000–1120, y 140–260.
fn salient() -> RgbImage {
    RgbImage::from_fn(1200, 400, |x, y| {
        if (1000..1120).contains(&x) && (140..260).contains(&y) {
            if (x / 20 + y / 20) % 2 == 0 {
                Rgb([220, 30, 30])
            } else {
                Rgb([250, 250, 250])
            }
        } else {
            let v = (90 + x / 20) as u8;
            Rgb([v, v + 10, v + 20])
        }
    })
}

fn dir() -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        let put = |name: &str, img: DynamicImage, format: ImageFormat| {
            let mut out = std::io::Cursor::new(Vec::new());
            img.write_to(&mut out, format).unwrap();
            std::fs::write(d.path().join(name), out.into_inner()).unwrap();
        };
        put("salient.jpg", DynamicImage::ImageRgb8(salient()), ImageFormat::Jpeg);
        put("salient.png", DynamicImage::ImageRgb8(salient()), ImageFormat::Png);
        d
    })
    .path()
    .to_path_buf()
}

fn state() -> pixflow::AppState {
    state_over(&dir(), None, Config::default())
}

/// How many clearly red pixels an image has (the object's squares).
fn red_pixels(img: &DynamicImage) -> usize {
    img.to_rgb8().pixels().filter(|p| p[0] > 150 && p[1] < 90 && p[2] < 90).count()
}

#[tokio::test]
async fn g_auto_moves_the_fill_window_onto_the_detailed_object() {
    let s = state();
    for file in ["salient.jpg", "salient.png"] {
        let centre = get(&s, &format!("/w_100,h_100,c_fill/{file}")).await.image();
        let auto = get(&s, &format!("/w_100,h_100,c_fill,g_auto/{file}")).await.image();
        assert_eq!((auto.width(), auto.height()), (100, 100));
        assert_eq!(red_pixels(&centre), 0, "{file}: the centre crop misses the object");
        assert!(red_pixels(&auto) > 300, "{file}: g_auto shows the object ({} red px)", red_pixels(&auto));
        // The window f_json reports: 400 × 400, holding x 1000–1120.
        let j = get(&s, &format!("/f_json,w_100,h_100,c_fill,g_auto/{file}")).await.json();
        let r = &j["output"]["region"];
        let x = r["x"].as_u64().unwrap();
        assert_eq!(
            (r["width"].as_u64(), r["height"].as_u64(), r["y"].as_u64()),
            (Some(400), Some(400), Some(0))
        );
        assert!((720..=800).contains(&x), "{file}: window at x {x}");
    }
}

#[tokio::test]
async fn g_auto_sees_the_image_as_rotated_and_also_places_crops_and_lfill() {
    let s = state();
    // a_90: the object is now at y 1000–1120 of a 400 × 1200 image.
    let j = get(&s, "/f_json,a_90,w_100,h_100,c_fill,g_auto/salient.jpg").await.json();
    let r = &j["output"]["region"];
    assert_eq!(r["x"].as_u64(), Some(0));
    assert!((720..=800).contains(&r["y"].as_u64().unwrap()), "{r}");
    // c_crop: a 300 × 300 window, both axes free.
    let j = get(&s, "/f_json,w_300,h_300,c_crop,g_auto/salient.jpg").await.json();
    let (x, y) = (j["output"]["region"]["x"].as_u64().unwrap(), j["output"]["region"]["y"].as_u64().unwrap());
    assert!(x <= 1000 && x + 300 >= 1120 && y <= 140 && y + 300 >= 260, "crop window at {x},{y}");
    let img = get(&s, "/w_300,h_300,c_crop,g_auto/salient.png").await.image();
    assert!(red_pixels(&img) > 5000);
    // lfill never enlarges: the 400 × 400 window itself, placed on the object.
    let img = get(&s, "/w_500,h_500,c_lfill,g_auto/salient.png").await.image();
    assert_eq!((img.width(), img.height()), (400, 400));
    assert!(red_pixels(&img) > 5000);
    // Modes that do not crop treat g_auto as the centre: a pad is centred.
    let padded = get(&s, "/w_300,h_300,c_pad,g_auto,bg_000000/salient.png").await.image().to_rgb8();
    assert_eq!(padded.get_pixel(150, 2).0, [0, 0, 0], "padding above");
    assert_eq!(padded.get_pixel(150, 297).0, [0, 0, 0], "and below");
}
