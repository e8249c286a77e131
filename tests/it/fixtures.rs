//! Generated fixtures, made once per test binary in a temporary folder: a quadrant-coloured image
//! (where crops, gravity, flips and rotations put pixels), a JPEG for each EXIF orientation, a PNG
//! with alpha, each input format, and broken files.

use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub const RED: [u8; 3] = [255, 0, 0];
pub const GREEN: [u8; 3] = [0, 255, 0];
pub const BLUE: [u8; 3] = [0, 0, 255];
pub const YELLOW: [u8; 3] = [255, 255, 0];

/// 200×100: red top-left, green top-right, blue bottom-left, yellow bottom-right.
pub fn quadrants(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        Rgb(match (x < w / 2, y < h / 2) {
            (true, true) => RED,
            (false, true) => GREEN,
            (true, false) => BLUE,
            (false, false) => YELLOW,
        })
    })
}

/// Whether `px` is within `tol` of `want` on every channel.
/// `w` × `h` pixels of xorshift noise from `seed` (one step a pixel, its three low bytes the
/// channels): incompressible, for originals and results that must be large.
pub fn noise(w: u32, h: u32, mut seed: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |_, _| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        image::Rgb([seed as u8, (seed >> 8) as u8, (seed >> 16) as u8])
    })
}

pub fn near(px: [u8; 3], want: [u8; 3], tol: u8) -> bool {
    px.iter().zip(want).all(|(a, b)| a.abs_diff(b) <= tol)
}

/// The colour at the centre of each quadrant: [top-left, top-right, bottom-left, bottom-right].
pub fn quadrant_colours(img: &DynamicImage) -> [[u8; 3]; 4] {
    let rgb = img.to_rgb8();
    let (w, h) = rgb.dimensions();
    let at = |x: u32, y: u32| rgb.get_pixel(x, y).0;
    [at(w / 4, h / 4), at(3 * w / 4, h / 4), at(w / 4, 3 * h / 4), at(3 * w / 4, 3 * h / 4)]
}

pub fn assert_quadrants(img: &DynamicImage, want: [[u8; 3]; 4]) {
    let got = quadrant_colours(img);
    for (g, w) in got.iter().zip(want) {
        assert!(near(*g, w, 40), "quadrants {got:?}, wanted {want:?}");
    }
}

fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A JPEG with an EXIF APP1 segment carrying `orientation`.
pub fn jpeg_with_orientation(img: &DynamicImage, orientation: u16) -> Vec<u8> {
    let jpeg = encode(img, ImageFormat::Jpeg);
    // TIFF header (little-endian), one IFD with one SHORT entry: 0x0112 Orientation.
    let mut tiff = b"II*\0\x08\0\0\0".to_vec();
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&0x0112u16.to_le_bytes());
    tiff.extend_from_slice(&3u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    with_segment(&jpeg, 0xE1, &app1)
}

/// `img` as a progressive JPEG at quality 90 with `subsamp` chroma, by libjpeg-turbo.
pub fn progressive_jpeg(img: &RgbImage, subsamp: turbojpeg::Subsamp) -> Vec<u8> {
    let mut c = turbojpeg::Compressor::new().unwrap();
    c.set_progressive(true).unwrap();
    c.set_quality(90).unwrap();
    c.set_subsamp(subsamp).unwrap();
    let image = turbojpeg::Image {
        pixels: img.as_raw().as_slice(),
        width: img.width() as usize,
        pitch: img.width() as usize * 3,
        height: img.height() as usize,
        format: turbojpeg::PixelFormat::RGB,
    };
    c.compress_to_vec(image).unwrap()
}

/// `jpeg` with one more marker segment right after its SOI.
fn with_segment(jpeg: &[u8], marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A minimal ICC v2 RGB display profile whose red and green primaries are sRGB's swapped: a pixel
/// stored as pure red under it is sRGB green.
pub fn swapped_primaries_icc() -> Vec<u8> {
    let s15 = |v: f64| ((v * 65536.0).round() as i32).to_be_bytes();
    let xyz = |x: f64, y: f64, z: f64| {
        let mut t = b"XYZ \0\0\0\0".to_vec();
        for v in [x, y, z] {
            t.extend_from_slice(&s15(v));
        }
        t
    };
    let curve = || b"curv\0\0\0\0\0\0\0\x01\x02\x33\0\0".to_vec(); // gamma 2.2, padded to 16
    let tags: Vec<(&[u8; 4], Vec<u8>)> = vec![
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.3851, 0.7169, 0.0971)), // sRGB's green colorant
        (b"gXYZ", xyz(0.4361, 0.2225, 0.0139)), // sRGB's red colorant
        (b"bXYZ", xyz(0.1431, 0.0606, 0.7141)),
        (b"rTRC", curve()),
        (b"gTRC", curve()),
        (b"bTRC", curve()),
    ];
    let table_len = 4 + 12 * tags.len();
    let mut offset = 128 + table_len;
    let mut table = (tags.len() as u32).to_be_bytes().to_vec();
    let mut data = Vec::new();
    for (sig, body) in &tags {
        table.extend_from_slice(*sig);
        table.extend_from_slice(&(offset as u32).to_be_bytes());
        table.extend_from_slice(&(body.len() as u32).to_be_bytes());
        data.extend_from_slice(body);
        offset += body.len();
    }
    let mut header = vec![0u8; 128];
    header[0..4].copy_from_slice(&(offset as u32).to_be_bytes());
    header[8..12].copy_from_slice(&[2, 0x10, 0, 0]);
    header[12..16].copy_from_slice(b"mntr");
    header[16..20].copy_from_slice(b"RGB ");
    header[20..24].copy_from_slice(b"XYZ ");
    header[36..40].copy_from_slice(b"acsp");
    header[68..72].copy_from_slice(&s15(0.9642));
    header[72..76].copy_from_slice(&s15(1.0));
    header[76..80].copy_from_slice(&s15(0.8249));
    [header, table, data].concat()
}

/// A JPEG carrying `icc` in an APP2 segment.
pub fn jpeg_with_icc(img: &DynamicImage, icc: &[u8]) -> Vec<u8> {
    let jpeg = encode(img, ImageFormat::Jpeg);
    let mut app2 = b"ICC_PROFILE\0\x01\x01".to_vec();
    app2.extend_from_slice(icc);
    with_segment(&jpeg, 0xE2, &app2)
}

/// A PNG whose header claims `w`×`h` but holds no real pixel data.
pub fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.finalize().to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(b"IEND", &[]);
    out
}

/// The EXIF orientation whose transform undoes `o`.
fn inverse(o: u16) -> u16 {
    match o {
        6 => 8,
        8 => 6,
        other => other,
    }
}

fn write_all(dir: &Path) {
    let q = DynamicImage::ImageRgb8(quadrants(200, 100));
    let put = |name: &str, bytes: &[u8]| std::fs::write(dir.join(name), bytes).unwrap();
    put("quadrants.png", &encode(&q, ImageFormat::Png));
    put("quadrants.jpg", &encode(&q, ImageFormat::Jpeg));
    put("quadrants.gif", &encode(&q, ImageFormat::Gif));
    put("quadrants.bmp", &encode(&q, ImageFormat::Bmp));
    put("quadrants.tiff", &encode(&q, ImageFormat::Tiff));
    put("quadrants.webp", &encode(&q, ImageFormat::WebP));
    let small = DynamicImage::ImageRgb8(quadrants(40, 20));
    put("small.png", &encode(&small, ImageFormat::Png));
    let big = DynamicImage::ImageRgb8(quadrants(1600, 800));
    put("big.jpg", &encode(&big, ImageFormat::Jpeg));
    put("big.png", &encode(&big, ImageFormat::Png));
    // 2572 px is not a multiple of 8: a 1/8-scale decode is 321.5 px rounded up.
    put("odd.jpg", &encode(&DynamicImage::ImageRgb8(quadrants(2572, 1740)), ImageFormat::Jpeg));
    std::fs::create_dir_all(dir.join("orient")).unwrap();
    for o in 1..=8u16 {
        // Stored so that, once oriented, every file shows the same upright quadrants.
        let mut stored = DynamicImage::ImageRgb8(quadrants(80, 40));
        stored.apply_orientation(image::metadata::Orientation::from_exif(inverse(o) as u8).unwrap());
        put(&format!("orient/{o}.jpg"), &jpeg_with_orientation(&stored, o));
    }
    // Left half opaque red, right half fully transparent.
    let alpha =
        RgbaImage::from_fn(
            100,
            50,
            |x, _| {
                if x < 50 {
                    Rgba([255, 0, 0, 255])
                } else {
                    Rgba([0, 0, 255, 0])
                }
            },
        );
    put("alpha.png", &encode(&DynamicImage::ImageRgba8(alpha), ImageFormat::Png));
    let jpeg = encode(&big, ImageFormat::Jpeg);
    put("truncated.jpg", &jpeg[..jpeg.len() / 3]);
    // Cut inside the header, before any frame: nothing a browser could show.
    put("cut-header.jpg", &jpeg[..120]);
    put("huge.png", &png_claiming(20_000, 20_000));
    let red = DynamicImage::ImageRgb8(RgbImage::from_pixel(64, 32, Rgb(RED)));
    put("icc_swapped.jpg", &jpeg_with_icc(&red, &swapped_primaries_icc()));
    put("text.jpg", b"this is not an image, only a text file named .jpg\n");
    put("empty.jpg", b"");
    std::fs::create_dir_all(dir.join("w_200")).unwrap();
    put("w_200/a.png", &encode(&small, ImageFormat::Png));
}

/// The fixture folder, generated on first use.
pub fn dir() -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        write_all(d.path());
        d
    })
    .path()
    .to_path_buf()
}
