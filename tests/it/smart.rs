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
        // 300 × 100: the left half red, the right half blue.
        let halves =
            RgbImage::from_fn(300, 100, |x, _| if x < 150 { Rgb([255, 0, 0]) } else { Rgb([0, 0, 255]) });
        put("halves.png", DynamicImage::ImageRgb8(halves.clone()), ImageFormat::Png);
        put("halves.jpg", DynamicImage::ImageRgb8(halves), ImageFormat::Jpeg);
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

/// The hash a response carries, decoded by the ThumbHash reference decoder: average RGBA (0–1)
/// and the approximate aspect ratio (the hash stores it coarsely: 3:1 reads back as 3.5).
fn decoded(got: &crate::Got) -> ((f32, f32, f32, f32), f32) {
    use base64::Engine;
    assert_eq!(got.status, http::StatusCode::OK, "{}", String::from_utf8_lossy(&got.body));
    assert_eq!(got.header("content-type"), Some("text/plain"));
    let text = std::str::from_utf8(&got.body).unwrap();
    let hash = base64::engine::general_purpose::STANDARD.decode(text).expect("base64");
    assert!(hash.len() <= 25, "a ThumbHash is at most 25 bytes, got {}", hash.len());
    let average = thumbhash::thumb_hash_to_average_rgba(&hash).unwrap();
    let aspect = thumbhash::thumb_hash_to_approximate_aspect_ratio(&hash).unwrap();
    (average, aspect)
}

fn close(got: f32, want: f32, tol: f32) -> bool {
    (got - want).abs() <= tol
}

#[tokio::test]
async fn f_thumbhash_describes_the_image_the_other_options_make() {
    let s = state();
    for file in ["halves.png", "halves.jpg"] {
        // The whole image: half red, half blue, three times as wide as high.
        let ((r, g, b, a), aspect) = decoded(&get(&s, &format!("/f_thumbhash/{file}")).await);
        assert!(close(r, 0.5, 0.08) && close(g, 0.0, 0.08) && close(b, 0.5, 0.08), "{file}: {r} {g} {b}");
        assert!(close(a, 1.0, 0.01) && close(aspect, 3.0, 0.6), "{file}: alpha {a}, aspect {aspect}");
        // A square cut at the west edge is all red; at the east edge all blue.
        let ((r, _, b, _), aspect) =
            decoded(&get(&s, &format!("/f_thumbhash,w_80,h_80,c_fill,g_west/{file}")).await);
        assert!(r > 0.85 && b < 0.15 && close(aspect, 1.0, 0.15), "{file} west: {r} {b} {aspect}");
        let ((r, _, b, _), _) =
            decoded(&get(&s, &format!("/f_thumbhash,w_80,h_80,c_fill,g_east/{file}")).await);
        assert!(b > 0.85 && r < 0.15, "{file} east: {r} {b}");
        // Padding to a tall box with black shows in the hash: a third of the colour, 1:2.
        let ((r, _, b, _), aspect) =
            decoded(&get(&s, &format!("/f_thumbhash,w_300,h_600,c_pad,bg_000000/{file}")).await);
        assert!(
            close(r, 0.083, 0.06) && close(b, 0.083, 0.06) && close(aspect, 0.5, 0.1),
            "{file} pad: {r} {b} {aspect}"
        );
    }
    // A large JPEG goes through the 1/8-scale decode: still its aspect and colours.
    let ((r, g, b, _), aspect) = decoded(&get(&s, "/f_thumbhash/salient.jpg").await);
    assert!(close(aspect, 3.0, 0.6), "aspect {aspect}");
    assert!(b > g && g > r * 0.9, "the blue-grey gradient: {r} {g} {b}");
}

#[tokio::test]
async fn f_thumbhash_is_cached_and_etagged_like_an_image() {
    let s = state();
    let first = get(&s, "/f_thumbhash,w_50/halves.png").await;
    let etag = first.header("etag").expect("an ETag").to_string();
    assert!(first.header("cache-control").is_some_and(|c| c.contains("max-age")));
    let again = get(&s, "/f_thumbhash,w_50/halves.png").await;
    assert_eq!((again.body.clone(), again.header("etag")), (first.body.clone(), Some(etag.as_str())));
    assert!(again.header("server-timing").is_some_and(|t| t.contains("memory")), "served from memory");
    let not_modified =
        crate::request(&s, "GET", "/f_thumbhash,w_50/halves.png", &[("if-none-match", &etag)]).await;
    assert_eq!(not_modified.status, http::StatusCode::NOT_MODIFIED);
    // A different option is a different hash.
    assert_ne!(get(&s, "/f_thumbhash,gray/halves.png").await.body, first.body);
}

async fn width_with(s: &pixflow::AppState, uri: &str, headers: &[(&str, &str)]) -> (u32, Option<String>) {
    let got = crate::request(s, "GET", uri, headers).await;
    assert_eq!(got.status, http::StatusCode::OK, "{uri}: {}", String::from_utf8_lossy(&got.body));
    (got.image().width(), got.header("vary").map(str::to_string))
}

#[tokio::test]
async fn dpr_auto_and_w_auto_take_the_client_hints_rounded_to_steps() {
    let s = state();
    // halves.png is 300 × 100.
    let (w, vary) = width_with(&s, "/dpr_auto,w_100/halves.png", &[("sec-ch-dpr", "2")]).await;
    assert_eq!(w, 200);
    assert_eq!(vary.as_deref(), Some("Sec-CH-DPR, DPR"));
    assert_eq!(
        width_with(&s, "/dpr_auto,w_100/halves.png", &[("dpr", "1.3")]).await.0,
        150,
        "DPR, 1.3 → 1.5"
    );
    assert_eq!(
        width_with(&s, "/dpr_auto,w_100/halves.png", &[("sec-ch-dpr", "1"), ("dpr", "3")]).await.0,
        100,
        "Sec-CH-DPR wins over DPR"
    );
    assert_eq!(width_with(&s, "/dpr_auto,w_100/halves.png", &[]).await.0, 100, "no hint: 1");
    assert_eq!(width_with(&s, "/dpr_auto:2,w_100/halves.png", &[]).await.0, 200, "no hint: the fallback");
    assert_eq!(width_with(&s, "/dpr_auto,w_100/halves.png", &[("sec-ch-dpr", "banana")]).await.0, 100);
    // w_auto: the hint in device px, rounded up to 100, at most the cap.
    let (w, vary) = width_with(&s, "/w_auto/halves.png", &[("sec-ch-width", "130")]).await;
    assert_eq!((w, vary.as_deref()), (200, Some("Sec-CH-Width, Width")));
    assert_eq!(width_with(&s, "/w_auto:120/halves.png", &[("width", "250")]).await.0, 120, "capped");
    assert_eq!(width_with(&s, "/w_auto:120/halves.png", &[]).await.0, 120, "no hint: the cap");
    assert_eq!(width_with(&s, "/w_auto/halves.png", &[]).await.0, 300, "no hint, no cap: the image");
    // imgix's ch=Width,DPR&w=100&dpr=2: w and dpr are the fallbacks; the cap is 100 CSS px at dpr 2.
    let imgix = "/halves.png?ch=Width,DPR&w=100&dpr=2";
    assert_eq!(width_with(&s, imgix, &[]).await.0, 200);
    assert_eq!(width_with(&s, imgix, &[("sec-ch-width", "50"), ("sec-ch-dpr", "2")]).await.0, 100);
    assert_eq!(width_with(&s, imgix, &[("sec-ch-width", "330"), ("sec-ch-dpr", "2")]).await.0, 200);
    // Folded at the edge already: the URL says it all, nothing varies.
    let (w, vary) = width_with(&s, "/halves.png?o=dpr_auto-2,w_100", &[("sec-ch-dpr", "3")]).await;
    assert_eq!((w, vary), (200, None));
}

#[tokio::test]
async fn a_signed_dpr_auto_verifies_whichever_hint_the_edge_folded_in() {
    let secret = "a-secret-of-sixteen+";
    let config = Config { signer: Some(pixflow::spec::Signer::new(secret)), ..Config::default() };
    let s = state_over(&dir(), None, config);
    let key = pixflow::spec::validate_key("halves.png").unwrap();
    let written = pixflow::spec::parse_options("dpr_auto,w_auto:100", 8192).unwrap();
    let sig = pixflow::spec::sign(secret.as_bytes(), &written, &key);
    for (form, want) in [("dpr_auto,w_auto:100", 100), ("dpr_auto-2,w_auto:100-200", 200), ("dpr_auto-3", 0)]
    {
        let got = get(&s, &format!("/halves.png?o={form}&s={sig}")).await;
        if want == 0 {
            assert_eq!(got.status, http::StatusCode::FORBIDDEN, "{form}: other options, other signature");
        } else {
            assert_eq!(got.status, http::StatusCode::OK, "{form}");
            assert_eq!(got.image().width(), want, "{form}");
        }
    }
}

#[test]
fn presets_cannot_hide_a_client_hint() {
    let e = pixflow::spec::Presets::parse("hero=w_auto:800,c_limit", 8192).unwrap_err();
    assert!(e.contains("dpr_auto or w_auto"), "{e}");
}

// rect_ (issue 19): a region of the auto-oriented original, cut before a_ and the resize.

#[tokio::test]
async fn rect_cuts_the_region_first_then_every_other_option_applies_to_it() {
    let s = state();
    let colour = |img: &DynamicImage| img.to_rgb8().get_pixel(img.width() / 2, img.height() / 2).0;
    // halves.png: 300 × 100, red then blue.
    let right = get(&s, "/rect_150:0:150:100/halves.png").await.image();
    assert_eq!((right.width(), right.height(), colour(&right)), (150, 100, [0, 0, 255]));
    let left = get(&s, "/halves.png?rect=0,0,150,100&w=30").await.image();
    assert_eq!((left.width(), left.height(), colour(&left)), (30, 20, [255, 0, 0]));
    // a_ turns the cut region, not the whole image: still all blue, now 100 × 150.
    let turned = get(&s, "/rect_150:0:150:100,a_90/halves.png").await.image();
    assert_eq!((turned.width(), turned.height(), colour(&turned)), (100, 150, [0, 0, 255]));
    // A region reaching past the edge is clamped; one wholly outside is a 400 naming it.
    let clamped = get(&s, "/rect_250:50:500:500/halves.png").await.image();
    assert_eq!((clamped.width(), clamped.height()), (50, 50));
    let outside = get(&s, "/rect_300:0:10:10/halves.png").await;
    assert_eq!(outside.status, http::StatusCode::BAD_REQUEST);
    assert!(
        String::from_utf8_lossy(&outside.body).contains("rect_"),
        "{}",
        String::from_utf8_lossy(&outside.body)
    );
    // Modes, padding and dpr apply to the region.
    let filled = get(&s, "/rect_100:0:100:100,w_40,h_20,c_fill,dpr_2/halves.png").await.image();
    assert_eq!((filled.width(), filled.height()), (80, 40));
    let j = get(&s, "/f_json,rect_100:0:100:100,w_40,h_20,c_fill/halves.png").await.json();
    let r = &j["output"]["region"];
    assert_eq!(
        (r["x"].as_u64(), r["y"].as_u64(), r["width"].as_u64(), r["height"].as_u64()),
        (Some(100), Some(25), Some(100), Some(50))
    );
}

#[tokio::test]
async fn rect_is_in_the_auto_oriented_image_and_g_auto_searches_inside_it() {
    // orient/6.jpg shows upright 80 × 40 quadrants (red, green / blue, yellow) once oriented.
    let shown = crate::get(&crate::state(), "/rect_40:0:40:20/orient/6.jpg").await.image();
    let p = shown.to_rgb8().get_pixel(20, 10).0;
    assert!(crate::fixtures::near(p, crate::fixtures::GREEN, 40), "top right as shown: {p:?}");
    let s = state();
    // The object (x 1000–1120) inside the region: the window moves onto it, within the region.
    let j = get(&s, "/f_json,rect_600:0:600:400,w_100,h_100,c_fill,g_auto/salient.png").await.json();
    let x = j["output"]["region"]["x"].as_u64().unwrap();
    assert!((720..=800).contains(&x), "window at {x}");
    // Outside the region: nothing salient in it, the window stays at the region's centre.
    let j = get(&s, "/f_json,rect_0:0:600:400,w_100,h_100,c_fill,g_auto/salient.png").await.json();
    assert_eq!(j["output"]["region"]["x"].as_u64(), Some(100));
}
