//! Real-world files that browsers or Pillow open and pixflow once refused
//! (`tests/fixtures/realworld`, made by Pillow, libtiff's tiffcp and the small writers of its
//! make.py). Each shows a 48 × 32 scene, left half red and right half blue (grey files: a darker
//! and a lighter half); each must decode with that size and those halves.

use crate::state_over;
use pixflow::config::Config;

const RED: [u8; 3] = [255, 0, 0];
const BLUE: [u8; 3] = [0, 0, 255];

/// The colours of the two halves; `None`: grey, the first darker than the second.
type Halves = Option<([u8; 3], [u8; 3])>;

fn near(px: [u8; 3], want: [u8; 3]) -> bool {
    px.iter().zip(want).all(|(a, b)| a.abs_diff(b) <= 12)
}

#[tokio::test]
async fn every_real_world_shape_decodes_with_its_size_and_colours() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/realworld");
    let s = state_over(&dir, None, Config::default());
    // (file, displayed size, left and right colours; None: grey, left darker than right)
    let colour = Some((RED, BLUE));
    let cases: &[(&str, (u32, u32), Halves)] = &[
        ("bigtiff.tif", (48, 32), colour),
        ("tiled-separate.tif", (48, 32), colour),
        ("strips-separate.tif", (48, 32), colour),
        ("lzw.tif", (48, 32), colour),
        ("lzw-predictor.tif", (48, 32), colour),
        ("deflate.tif", (48, 32), colour),
        ("ycbcr-jpeg.tif", (48, 32), colour),
        ("ycbcr.tif", (48, 32), colour),
        ("cielab.tif", (48, 32), colour),
        ("palette-1.tif", (48, 32), colour),
        ("palette-4.tif", (48, 32), colour),
        ("palette-8.tif", (48, 32), colour),
        ("palette-8-packbits.tif", (48, 32), colour),
        ("grey-2.tif", (48, 32), None),
        ("grey-4.tif", (48, 32), None),
        ("grey-signed-16.tif", (48, 32), None),
        ("grey-alpha.tif", (48, 32), Some(([76, 76, 76], [29, 29, 29]))),
        ("no-colour-table.gif", (48, 32), Some(([40, 40, 40], [220, 220, 220]))),
        ("unknown-extension.gif", (48, 32), colour),
        ("exif-after-idat.png", (48, 32), colour),
        ("extraneous-bytes.jpg", (48, 32), colour),
        ("icc-after-sof.jpg", (48, 32), colour),
        ("app14-short.jpg", (48, 32), colour),
        ("orientation-slong.jpg", (32, 48), colour),
        ("os2-v2.bmp", (48, 32), colour),
    ];
    let mut wrong = Vec::new();
    for (name, size, colours) in cases {
        let got = crate::get(&s, &format!("/f_png,w_{}/{name}", size.0)).await;
        if got.status != http::StatusCode::OK {
            wrong.push(format!("{name}: {} {}", got.status, String::from_utf8_lossy(&got.body)));
            continue;
        }
        let img = got.image().to_rgb8();
        let (w, h) = img.dimensions();
        if (w, h) != *size {
            wrong.push(format!("{name}: {w}x{h}, want {size:?}"));
            continue;
        }
        // Sample each half away from the seam (for the rotated file: top and bottom halves).
        let (a, b) = if w < h {
            (img.get_pixel(w / 2, h / 4).0, img.get_pixel(w / 2, h * 3 / 4).0)
        } else {
            (img.get_pixel(w / 4, h / 2).0, img.get_pixel(w * 3 / 4, h / 2).0)
        };
        let ok = match colours {
            Some((left, right)) => near(a, *left) && near(b, *right),
            None => a[0] == a[1] && a[1] == a[2] && b[0] == b[1] && u16::from(a[0]) + 40 < u16::from(b[0]),
        };
        if !ok {
            wrong.push(format!("{name}: halves {a:?} {b:?}, want {colours:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A JPEG whose data stops half way decodes as far as it goes (the rest grey), as browsers show
/// it; a 12-bit grey TIFF is still refused (the tiff crate does not read 12-bit samples) with 415.
#[tokio::test]
async fn a_premature_end_shows_what_is_there_and_twelve_bit_grey_is_415() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/realworld");
    let s = state_over(&dir, None, Config::default());
    let got = crate::get(&s, "/f_png/premature-end.jpg").await;
    assert_eq!(got.status, http::StatusCode::OK);
    let img = got.image().to_rgb8();
    assert_eq!(img.dimensions(), (48, 32));
    assert!(near(img.get_pixel(4, 2).0, RED), "{:?}", img.get_pixel(4, 2));
    assert_eq!(crate::get(&s, "/f_png/grey-12.tif").await.status, http::StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

/// Bug: APNGs whose animation is broken — frames out of sequence, repeated, missing, fewer than
/// `acTL` states (Pillow's test files) — were 422s. Browsers show such a file's default image,
/// and so does pixflow now, for a still and for an animated output alike: the same pixels as
/// Pillow's decode.
#[tokio::test]
async fn a_broken_apng_shows_its_default_image() {
    let (dir, s) = pillow();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("apng_") && !n.ends_with(".ref.png"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 10);
    for name in names {
        let reference = image::open(dir.join(name.replace(".png", ".ref.png"))).unwrap().to_rgba8();
        for options in ["f_png", "f_webp,q_100"] {
            let got = crate::get(&s, &format!("/{options}/{name}")).await;
            assert_eq!(got.status, 200, "{name} {options}: {}", String::from_utf8_lossy(&got.body));
            let img = got.image().to_rgba8();
            assert_eq!(img.dimensions(), reference.dimensions(), "{name}");
            if options == "f_png" {
                assert!(
                    img.pixels().zip(reference.pixels()).all(|(a, b)| a == b),
                    "{name}: not Pillow's pixels"
                );
            }
        }
    }
}

/// Bug: a JPEG whose Adobe APP14 segment is one byte short (Pillow's `truncated_app14.jpg`) was a
/// 422: the byte left outside the segment stopped libjpeg-turbo's header read and the `image`
/// crate. libjpeg skips such stray bytes with a warning; pixflow now drops them and shows the
/// picture as Pillow does.
#[tokio::test]
async fn a_jpeg_with_a_stray_byte_between_header_segments_decodes() {
    let (dir, s) = pillow();
    let got = crate::get(&s, "/f_png/truncated_app14.jpg").await;
    assert_eq!(got.status, 200, "{}", String::from_utf8_lossy(&got.body));
    let ours = got.image().to_rgb8();
    let theirs = image::open(dir.join("truncated_app14.ref.png")).unwrap().to_rgb8();
    assert_eq!(ours.dimensions(), theirs.dimensions());
    let diff: Vec<f64> =
        ours.as_raw().iter().zip(theirs.as_raw()).map(|(a, b)| f64::from(a.abs_diff(*b))).collect();
    let mean = diff.iter().sum::<f64>() / diff.len() as f64;
    assert!(mean < 2.0, "{mean:.2} levels from Pillow's decode on average");
}

/// Bug: a BMP whose plane count is not 1 (bmpsuite's `badplanes.bmp`, in Pillow's tests) was a
/// 422; Windows and Pillow ignore the field. Made here: a BMP written by the `image` crate with
/// its plane count set to 3.
#[tokio::test]
async fn a_bmp_with_a_wrong_plane_count_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let img = image::RgbImage::from_fn(8, 4, |x, _| image::Rgb([if x < 4 { 250 } else { 10 }, 20, 30]));
    let mut bmp = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bmp, image::ImageFormat::Bmp).unwrap();
    let mut bmp = bmp.into_inner();
    bmp[26..28].copy_from_slice(&3u16.to_le_bytes());
    std::fs::write(dir.path().join("planes.bmp"), &bmp).unwrap();
    let s = crate::state_over(dir.path(), None, pixflow::config::Config::default());
    let got = crate::get(&s, "/f_png/planes.bmp").await;
    assert_eq!(got.status, 200, "{}", String::from_utf8_lossy(&got.body));
    assert_eq!(got.image().to_rgb8(), img);
}

/// Bug: 32-bit integer grey TIFFs (Pillow's `16_bit_binary_pgm.tiff`, signed samples) were a 415.
/// They are read through the `tiff` crate, their top 8 bits kept as for 16-bit grey.
#[tokio::test]
async fn a_32_bit_integer_grey_tiff_decodes() {
    let (_, s) = pillow();
    let got = crate::get(&s, "/f_png/16_bit_binary_pgm.tiff").await;
    assert_eq!(got.status, 200, "{}", String::from_utf8_lossy(&got.body));
    assert_eq!((got.image().width(), got.image().height()), (20, 100));
}

/// Pillow's test files (`tests/fixtures/pillow`, MIT-CMU) and a server over them.
fn pillow() -> (std::path::PathBuf, pixflow::AppState) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pillow");
    let s = crate::state_over(&dir, None, pixflow::config::Config::default());
    (dir, s)
}
