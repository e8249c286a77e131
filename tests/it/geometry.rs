//! Output sizes of every resize mode on sources smaller and larger than the box, and where
//! crops, gravity, flips, rotations and EXIF orientations put pixels.

use crate::fixtures::{assert_quadrants, near, BLUE, GREEN, RED, YELLOW};
use crate::{get, state};
use http::StatusCode;

async fn size(uri: &str) -> (u32, u32) {
    let got = get(&state(), uri).await;
    assert_eq!(got.status, StatusCode::OK, "{uri}: {}", String::from_utf8_lossy(&got.body));
    let img = got.image();
    (img.width(), img.height())
}

#[tokio::test]
async fn modes_on_a_source_larger_than_the_box() {
    // quadrants.png is 200×100.
    for (opts, want) in [
        ("w_80,h_80", (80, 40)),
        ("w_80,h_80,c_fit", (80, 40)),
        ("w_80,h_80,c_fill", (80, 80)),
        ("w_80,h_80,c_lfill", (80, 80)),
        ("w_80,h_80,c_pad", (80, 80)),
        ("w_80,h_80,c_lpad", (80, 80)),
        ("w_80,h_80,c_scale", (80, 80)),
        ("w_80,h_80,c_crop", (80, 80)),
        ("w_50", (50, 25)),
        ("h_30", (60, 30)),
        ("w_50,dpr_2", (100, 50)),
        ("w_33", (33, 17)),
    ] {
        assert_eq!(size(&format!("/{opts}/quadrants.png")).await, want, "{opts}");
    }
}

#[tokio::test]
async fn modes_on_a_source_smaller_than_the_box() {
    // small.png is 40×20.
    for (opts, want) in [
        ("w_100,h_100", (40, 20)),
        ("w_100,h_100,c_fit", (100, 50)),
        ("w_100,h_100,c_fill", (100, 100)),
        ("w_100,h_100,c_lfill", (20, 20)),
        ("w_100,h_100,c_pad", (100, 100)),
        ("w_100,h_100,c_lpad", (100, 100)),
        ("w_100,h_100,c_scale", (100, 100)),
        ("w_100,h_100,c_crop", (40, 20)),
        ("w_100", (40, 20)),
        ("w_100,c_fit", (100, 50)),
    ] {
        assert_eq!(size(&format!("/{opts}/small.png")).await, want, "{opts}");
    }
}

#[tokio::test]
async fn fill_crops_at_the_gravity() {
    let s = state();
    // A square from the left half of 200×100 is all red over blue.
    let west = get(&s, "/w_50,h_50,c_fill,g_west/quadrants.png").await.image();
    assert_quadrants(&west, [RED, RED, BLUE, BLUE]);
    let east = get(&s, "/w_50,h_50,c_fill,g_east/quadrants.png").await.image();
    assert_quadrants(&east, [GREEN, GREEN, YELLOW, YELLOW]);
    let centre = get(&s, "/w_50,h_50,c_fill/quadrants.png").await.image();
    assert_quadrants(&centre, [RED, GREEN, BLUE, YELLOW]);
    let focal = get(&s, "/w_50,h_50,c_fill,g_0.9x0.5/quadrants.png").await.image();
    assert_quadrants(&focal, [GREEN, GREEN, YELLOW, YELLOW]);
}

#[tokio::test]
async fn crop_cuts_a_region_without_scaling() {
    let s = state();
    let img = get(&s, "/c_crop,w_40,h_20,x_150,y_70/quadrants.png").await.image();
    assert_eq!((img.width(), img.height()), (40, 20));
    assert!(near(img.to_rgb8().get_pixel(20, 10).0, YELLOW, 0));
    let img = get(&s, "/c_crop,w_60,h_60,x_180,y_0/quadrants.png").await.image();
    assert_eq!((img.width(), img.height()), (20, 60), "clamped to the image");
    let img = get(&s, "/c_crop,w_20,h_20,g_south_west/quadrants.png").await.image();
    assert!(near(img.to_rgb8().get_pixel(10, 10).0, BLUE, 0));
    let got = get(&s, "/c_crop,w_20,x_200/quadrants.png").await;
    assert_eq!(got.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn pad_fills_with_the_background_at_the_gravity() {
    let s = state();
    let img = get(&s, "/w_100,h_100,c_pad,bg_000000,g_north/quadrants.png").await.image().to_rgb8();
    assert_eq!(img.dimensions(), (100, 100));
    assert!(near(img.get_pixel(10, 10).0, RED, 0));
    assert!(near(img.get_pixel(50, 90).0, [0, 0, 0], 0), "padding below the image");
    let img = get(&s, "/w_100,h_100,c_pad/quadrants.png").await.image().to_rgb8();
    assert!(near(img.get_pixel(50, 5).0, [255, 255, 255], 0), "white padding above by default");
    assert!(near(img.get_pixel(10, 40).0, RED, 0));
}

#[tokio::test]
async fn rotations_and_flips_move_the_quadrants() {
    let s = state();
    let cases = [
        ("a_hflip", [GREEN, RED, YELLOW, BLUE]),
        ("a_vflip", [BLUE, YELLOW, RED, GREEN]),
        ("a_180", [YELLOW, BLUE, GREEN, RED]),
        ("a_90", [BLUE, RED, YELLOW, GREEN]),
        ("a_270", [GREEN, YELLOW, RED, BLUE]),
        ("a_90,a_hflip", [RED, BLUE, GREEN, YELLOW]),
    ];
    for (opts, want) in cases {
        let img = get(&s, &format!("/{opts},f_png/quadrants.png")).await.image();
        assert_quadrants(&img, want);
    }
    // w and h refer to the image as shown: rotated 200×100 is 100×200.
    assert_eq!(size("/a_90,w_50/quadrants.png").await, (50, 100));
}

#[tokio::test]
async fn all_eight_exif_orientations_are_applied_first() {
    let s = state();
    for o in 1..=8 {
        let got = get(&s, &format!("/w_80,f_png/orient/{o}.jpg")).await;
        let img = got.image();
        assert_eq!((img.width(), img.height()), (80, 40), "orientation {o}");
        assert_quadrants(&img, [RED, GREEN, BLUE, YELLOW]);
        // Then the URL's rotation applies on top.
        let img = get(&s, &format!("/a_90,f_png,w_40/orient/{o}.jpg")).await.image();
        assert_eq!((img.width(), img.height()), (40, 80), "orientation {o} + a_90");
        assert_quadrants(&img, [BLUE, RED, YELLOW, GREEN]);
    }
}

#[tokio::test]
async fn dct_scaled_jpeg_keeps_geometry_exact() {
    // big.jpg is 1600×800: a 100 px thumbnail decodes at 1/4 scale, then resizes.
    let s = state();
    let img = get(&s, "/w_100/big.jpg").await.image();
    assert_eq!((img.width(), img.height()), (100, 50));
    assert_quadrants(&img, [RED, GREEN, BLUE, YELLOW]);
    let img = get(&s, "/w_60,h_60,c_fill,g_east/big.jpg").await.image();
    assert_eq!((img.width(), img.height()), (60, 60));
    assert_quadrants(&img, [GREEN, GREEN, YELLOW, YELLOW]);
}

#[tokio::test]
async fn dct_scale_that_rounds_up_stays_inside_the_image() {
    // Regression: 2572×1740 at 1/8 decodes to 322×218, and the full-image region scaled by
    // 322/2572 overshot the right edge by a rounding error, failing with a 500.
    let s = state();
    let img = get(&s, "/w_200,h_200/odd.jpg").await.image();
    assert_eq!((img.width(), img.height()), (200, 135));
    assert_quadrants(&img, [RED, GREEN, BLUE, YELLOW]);
}

#[tokio::test]
async fn png_shrink_on_load_keeps_geometry_exact() {
    // big.png is 1600×800: a 100 px result is box-shrunk by 8 while rows stream, then resized.
    let s = state();
    let img = get(&s, "/w_100/big.png").await.image();
    assert_eq!((img.width(), img.height()), (100, 50));
    assert_quadrants(&img, [RED, GREEN, BLUE, YELLOW]);
    let img = get(&s, "/w_60,h_60,c_fill,g_east/big.png").await.image();
    assert_eq!((img.width(), img.height()), (60, 60));
    assert_quadrants(&img, [GREEN, GREEN, YELLOW, YELLOW]);
}
