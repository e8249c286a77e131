//! Every input format decodes; every output format encodes; defaults follow the source; alpha is
//! kept where the format has it and flattened onto the background where it does not.

use crate::fixtures::{assert_quadrants, near, BLUE, GREEN, RED, YELLOW};
use crate::{get, state};
use http::StatusCode;

#[tokio::test]
async fn every_input_format_decodes() {
    let s = state();
    for ext in ["png", "jpg", "gif", "bmp", "tiff", "webp"] {
        let got = get(&s, &format!("/w_100,f_png/quadrants.{ext}")).await;
        assert_eq!(got.status, StatusCode::OK, "{ext}: {}", String::from_utf8_lossy(&got.body));
        let img = got.image();
        assert_eq!((img.width(), img.height()), (100, 50), "{ext}");
        assert_quadrants(&img, [RED, GREEN, BLUE, YELLOW]);
    }
}

#[tokio::test]
async fn every_output_format_encodes() {
    let s = state();
    for (f, mime, fmt) in [
        ("jpeg", "image/jpeg", Some(image::ImageFormat::Jpeg)),
        ("jpg", "image/jpeg", Some(image::ImageFormat::Jpeg)),
        ("png", "image/png", Some(image::ImageFormat::Png)),
        ("webp", "image/webp", Some(image::ImageFormat::WebP)),
        ("gif", "image/gif", Some(image::ImageFormat::Gif)),
        ("avif", "image/avif", None),
    ] {
        let got = get(&s, &format!("/w_64,f_{f}/quadrants.png")).await;
        assert_eq!(got.status, StatusCode::OK, "{f}");
        assert_eq!(got.header("content-type"), Some(mime), "{f}");
        match fmt {
            Some(fmt) => {
                assert_eq!(image::guess_format(&got.body).unwrap(), fmt);
                assert_eq!(got.image().width(), 64);
            }
            // The image crate here decodes no AVIF: check the container's brand instead.
            None => assert_eq!(&got.body[4..12], b"ftypavif"),
        }
    }
}

#[tokio::test]
async fn default_format_follows_the_source() {
    let s = state();
    for (ext, mime) in [
        ("jpg", "image/jpeg"),
        ("png", "image/png"),
        ("webp", "image/webp"),
        ("gif", "image/png"),
        ("bmp", "image/jpeg"),
        ("tiff", "image/jpeg"),
    ] {
        let got = get(&s, &format!("/w_50/quadrants.{ext}")).await;
        assert_eq!(got.header("content-type"), Some(mime), "{ext}");
    }
    assert_eq!(get(&s, "/w_50/alpha.png").await.header("content-type"), Some("image/png"));
}

#[tokio::test]
async fn alpha_is_kept_or_flattened_onto_the_background() {
    let s = state();
    let png = get(&s, "/w_100/alpha.png").await.image().to_rgba8();
    assert_eq!(png.get_pixel(10, 10).0, [255, 0, 0, 255]);
    assert_eq!(png.get_pixel(90, 10).0[3], 0, "transparent stays transparent");
    let webp = get(&s, "/w_100,f_webp/alpha.png").await.image().to_rgba8();
    assert_eq!(webp.get_pixel(90, 10).0[3], 0, "lossless WebP keeps alpha exactly");
    assert_eq!(webp.get_pixel(10, 10).0, [255, 0, 0, 255]);
    let jpeg = get(&s, "/w_100,f_jpeg,bg_00ff00/alpha.png").await.image().to_rgb8();
    assert!(near(jpeg.get_pixel(90, 10).0, GREEN, 8), "{:?}", jpeg.get_pixel(90, 10));
    assert!(near(jpeg.get_pixel(10, 10).0, RED, 8));
    let white = get(&s, "/w_100,f_jpeg/alpha.png").await.image().to_rgb8();
    assert!(near(white.get_pixel(90, 10).0, [255, 255, 255], 8));
}

#[tokio::test]
async fn gray_blur_and_sharpen_apply() {
    let s = state();
    let gray = get(&s, "/w_100,gray/quadrants.jpg").await.image();
    assert_eq!(gray.color().channel_count(), 1, "a greyscale JPEG has one channel");
    let png = get(&s, "/w_100,gray,f_png/quadrants.png").await.image().to_rgb8();
    let p = png.get_pixel(25, 12).0;
    assert!(p[0] == p[1] && p[1] == p[2], "{p:?}");
    // Blur softens the red/green edge at x = 50; sharp output keeps it hard.
    let edge = |img: &image::RgbImage| img.get_pixel(48, 12).0[1];
    let plain = get(&s, "/w_100,f_png/quadrants.png").await.image().to_rgb8();
    let blurred = get(&s, "/w_100,f_png,blur_5/quadrants.png").await.image().to_rgb8();
    assert!(edge(&blurred) > edge(&plain) + 30, "{} vs {}", edge(&blurred), edge(&plain));
    let sharpened = get(&s, "/w_100,f_png,sharpen_2/quadrants.jpg").await;
    assert_eq!(sharpened.status, StatusCode::OK);
    assert_ne!(sharpened.body, get(&s, "/w_100,f_png/quadrants.jpg").await.body);
}

#[tokio::test]
async fn quality_changes_the_bytes() {
    let s = state();
    let low = get(&s, "/w_400,q_10/big.jpg").await.body.len();
    let high = get(&s, "/w_400,q_95/big.jpg").await.body.len();
    assert!(low < high, "q_10 {low} bytes, q_95 {high} bytes");
}

#[tokio::test]
async fn outputs_carry_no_exif() {
    let s = state();
    let got = get(&s, "/w_40,f_jpeg/orient/6.jpg").await;
    assert!(!got.body.windows(6).any(|w| w == b"Exif\0\0"), "metadata is stripped");
}

#[tokio::test]
async fn icc_profiles_are_converted_to_srgb() {
    let s = state();
    // Stored as pure red, but under a profile whose "red" is sRGB's green.
    let img = get(&s, "/w_32,f_png/icc_swapped.jpg").await.image().to_rgb8();
    let p = img.get_pixel(16, 8).0;
    assert!(p[1] > 180 && p[0] < 90, "expected green after conversion, got {p:?}");
    // The same pixels with no profile stay red.
    let plain = get(&s, "/w_32,f_png/quadrants.jpg").await.image().to_rgb8();
    assert!(near(plain.get_pixel(4, 4).0, RED, 40));
}
