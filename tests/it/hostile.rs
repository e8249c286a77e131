//! Hostile URLs and hostile files: each case has its documented status, and none may panic, hang
//! past the deadline or answer 500. Plus back-pressure: excess transforms wait, then 503.

use crate::fixtures;
use crate::{get, state, state_over, state_with};
use http::StatusCode;
use image::{DynamicImage, ImageFormat};
use pixflow::config::Config;
use std::time::{Duration, Instant};

/// (URL, expected status): every way we know to attack the parser and the key.
fn hostile_urls() -> Vec<(String, u16)> {
    let mut v: Vec<(String, u16)> = [
        // Traversal in every encoding.
        ("/w_10/../quadrants.jpg", 400),
        ("/w_10/%2e%2e/quadrants.jpg", 400),
        ("/w_10/%2E%2E/quadrants.jpg", 400),
        ("/w_10/.%2e/quadrants.jpg", 400),
        ("/w_10/%2e%2e%2fquadrants.jpg", 400),
        ("/w_10/..%2Fquadrants.jpg", 400),
        ("/w_10/a/../../quadrants.jpg", 400),
        ("/w_10/./quadrants.jpg", 400),
        ("/w_10/%2e/quadrants.jpg", 400),
        ("/w_10/..%5cquadrants.jpg", 400),
        ("/w_10/%5c..%5cquadrants.jpg", 400),
        ("/w_10/%2fetc/passwd", 400),
        ("/w_10//etc/passwd", 400),
        ("/..%2f..%2fetc%2fpasswd", 400),
        // Double encoding decodes once: a harmless literal name that does not exist.
        ("/w_10/%252e%252e/quadrants.jpg", 404),
        ("/w_10/%252e%252e%252fquadrants.jpg", 404),
        // NUL, control characters, invalid UTF-8.
        ("/w_10/quadrants.jpg%00.png", 400),
        ("/w_10/%00", 400),
        ("/w_10/a%0d%0aSet-Cookie:x", 400),
        ("/w_10/a%1b%5b31m.jpg", 400),
        ("/w_10/a%7f.jpg", 400),
        ("/w_10/%ff%fe.jpg", 400),
        ("/w_10/%c0%ae%c0%ae/quadrants.jpg", 400),
        ("/w_10/%e2%82.jpg", 400),
        ("/w_1%00/quadrants.jpg", 400),
        // Numbers: huge, negative, fractional, exotic.
        ("/w_99999999999999999999/quadrants.jpg", 400),
        ("/w_4294967296/quadrants.jpg", 400),
        ("/w_-1/quadrants.jpg", 400),
        ("/w_1.5/quadrants.jpg", 400),
        ("/w_1e3/quadrants.jpg", 400),
        ("/w_0x10/quadrants.jpg", 400),
        ("/w_%2B10/quadrants.jpg", 400),
        ("/w_%2010/quadrants.jpg", 400),
        ("/h_0/quadrants.jpg", 400),
        ("/q_-5/quadrants.jpg", 400),
        ("/q_1000/quadrants.jpg", 400),
        ("/dpr_4.01/quadrants.jpg", 400),
        ("/dpr_NaN/quadrants.jpg", 400),
        ("/blur_1000000/quadrants.jpg", 400),
        ("/x_-1,c_crop/quadrants.jpg", 400),
        ("/g_-0.1x0.5,c_fill,w_5,h_5/quadrants.jpg", 400),
        ("/w_8192,h_8192,c_scale,dpr_4/quadrants.jpg", 400),
        ("/quadrants.jpg?w=18446744073709551616", 400),
        ("/quadrants.jpg?dpr=Infinity", 400),
        // Duplicated and conflicting options.
        ("/w_10,w_10/quadrants.jpg", 400),
        ("/c_fill,c_fit/quadrants.jpg", 400),
        ("/f_png,f_jpeg/quadrants.jpg", 400),
        ("/gray,e_grayscale/quadrants.jpg", 400),
        ("/w_10/quadrants.jpg?w=10", 400),
        ("/quadrants.jpg?width=1&w=2", 400),
        ("/quadrants.jpg?o=w_1&o=w_2", 400),
        ("/a_90/quadrants.jpg?rot=180", 400),
        // Unknown flags and values.
        ("/w_10,bogus/quadrants.jpg", 404),
        ("/quadrants.jpg?o=w_10,bogus", 400),
        ("/c_/quadrants.jpg", 400),
        ("/w_/quadrants.jpg", 400),
        ("/f_svg/quadrants.jpg", 400),
        ("/e_/quadrants.jpg", 400),
        ("/a_hflip,a_hflip/quadrants.jpg", 400),
        // The reserved namespace and methods.
        ("/_/../quadrants.jpg", 404),
        ("/-/_/health", 400),
        ("/_/nope", 404),
    ]
    .iter()
    .map(|(u, s)| (u.to_string(), *s))
    .collect();
    // 10,000 tokens: a repeat long before the end.
    v.push((format!("/{}/quadrants.jpg", vec!["w_10"; 10_000].join(",")), 400));
    // 10,000 unknown tokens: not options, so the path is a key of over 1024 bytes.
    v.push((format!("/{}/quadrants.jpg", vec!["z_1"; 10_000].join(",")), 400));
    // An 8 KB path.
    v.push((format!("/w_10/{}.jpg", "a/".repeat(4096)), 400));
    v.push((format!("/w_10/{}.jpg", "a".repeat(8192)), 400));
    v
}

#[tokio::test]
async fn hostile_urls_get_their_documented_status() {
    let s = state();
    let cases = hostile_urls();
    assert!(cases.len() >= 60, "{} cases", cases.len());
    let mut wrong = Vec::new();
    for (url, want) in &cases {
        let got = get(&s, url).await;
        if got.status.as_u16() != *want {
            wrong.push(format!("{}: {} (want {want})", &url[..url.len().min(80)], got.status));
        }
        assert!(got.status != StatusCode::INTERNAL_SERVER_ERROR);
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn encode(img: &DynamicImage, f: ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, f).unwrap();
    out.into_inner()
}

/// A JPEG whose SOF0 header claims `w`×`h`.
fn jpeg_claiming(w: u16, h: u16) -> Vec<u8> {
    let mut j = encode(&DynamicImage::ImageRgb8(fixtures::quadrants(16, 16)), ImageFormat::Jpeg);
    let sof = j.windows(2).position(|p| p == [0xFF, 0xC0]).unwrap();
    j[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    j[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    j
}

/// A GIF whose screen and first image claim `w`×`h`.
fn gif_claiming(w: u16, h: u16) -> Vec<u8> {
    let mut g = encode(&DynamicImage::ImageRgb8(fixtures::quadrants(16, 16)), ImageFormat::Gif);
    g[6..8].copy_from_slice(&w.to_le_bytes());
    g[8..10].copy_from_slice(&h.to_le_bytes());
    g
}

/// A WebP (lossless) whose VP8L header claims `w`×`h`.
fn webp_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut b = encode(&DynamicImage::ImageRgb8(fixtures::quadrants(16, 16)), ImageFormat::WebP);
    let at = b.windows(4).position(|p| p == b"VP8L").unwrap() + 8;
    let bits = (w - 1) | ((h - 1) << 14);
    let flags = (u32::from(b[at + 4]) & 0xF0) << 24; // alpha hint and version bits stay
    b[at + 1..at + 5].copy_from_slice(&(bits | flags).to_le_bytes());
    b
}

/// A PNG of `w`×`h` black pixels: tiny compressed, huge decoded.
fn png_bomb(w: u32, h: u32) -> Vec<u8> {
    let img = image::GrayImage::new(w, h);
    encode(&DynamicImage::ImageLuma8(img), ImageFormat::Png)
}

/// A GIF with `n` 1×1 frames.
fn many_frames(n: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    {
        let mut enc = image::codecs::gif::GifEncoder::new(&mut bytes);
        let frames = (0..n).map(|i| {
            let px = image::RgbaImage::from_pixel(1, 1, image::Rgba([(i % 256) as u8, 0, 0, 255]));
            image::Frame::new(px)
        });
        enc.encode_frames(frames).unwrap();
    }
    bytes
}

/// (name, bytes, expected status for `/w_50/{name}`).
fn hostile_files() -> Vec<(String, Vec<u8>, u16)> {
    let q = DynamicImage::ImageRgb8(fixtures::quadrants(120, 80));
    let jpeg = encode(&q, ImageFormat::Jpeg);
    let png = encode(&q, ImageFormat::Png);
    let webp = encode(&q, ImageFormat::WebP);
    let gif = encode(&q, ImageFormat::Gif);
    let mut v: Vec<(String, Vec<u8>, u16)> = Vec::new();
    // Truncated at many offsets: inside the magic → 415, inside the header → 422, in the data → 422.
    for (ext, bytes) in [("jpg", &jpeg), ("png", &png), ("webp", &webp), ("gif", &gif)] {
        for frac in [1usize, 3, 5, 10, 25, 50, 75, 90, 95, 99] {
            let cut = (bytes.len() * frac / 100).max(1);
            v.push((format!("trunc{frac}.{ext}"), bytes[..cut].to_vec(), 0));
        }
    }
    v.push(("zero.jpg".into(), Vec::new(), 415));
    v.push(("zeros.png".into(), vec![0; 4096], 415));
    // JPEG magic in front of a PNG.
    v.push(("wrong-magic.jpg".into(), [&[0xFF, 0xD8, 0xFF][..], &png[3..]].concat(), 422));
    v.push(("html.jpg".into(), b"<html><script>alert(1)</script></html>".to_vec(), 415));
    v.push(("png-magic-only.png".into(), b"\x89PNG\r\n\x1a\n".to_vec(), 422));
    v.push(("png-0x0.png".into(), fixtures::png_claiming(0, 0), 422));
    v.push(("png-65535.png".into(), fixtures::png_claiming(65535, 65535), 413));
    v.push(("png-20000.png".into(), fixtures::png_claiming(20000, 20000), 413));
    v.push(("jpeg-0x0.jpg".into(), jpeg_claiming(0, 0), 422));
    // libjpeg-turbo refuses sides over 65500 while reading the header.
    // libjpeg-turbo refuses this header; the image crate's decoder, tried next as browsers are
    // lenient, reads 65535² from it: over the pixel limit.
    v.push(("jpeg-65535.jpg".into(), jpeg_claiming(65535, 65535), 413));
    v.push(("jpeg-20000.jpg".into(), jpeg_claiming(20000, 20000), 413));
    v.push(("gif-65535.gif".into(), gif_claiming(65535, 65535), 413));
    v.push(("gif-0x0.gif".into(), gif_claiming(0, 0), 422));
    v.push(("webp-16383.webp".into(), webp_claiming(16383, 16383), 413));
    // VP8L's largest size wraps to 0×0 in image-webp's header reader: refused as empty.
    v.push(("webp-16384.webp".into(), webp_claiming(16384, 16384), 422));
    v.push(("png-bomb-64mp.png".into(), png_bomb(8000, 8000), 413));
    // Over --max-frames (1,000), read from the blocks before decoding; f_json still describes it.
    v.push(("gif-10000-frames.gif".into(), many_frames(10_000), 413));
    // Damaged Huffman tables: scribble over the DHT segment's code counts.
    let mut huff = jpeg.clone();
    let dht = huff.windows(2).position(|p| p == [0xFF, 0xC4]).unwrap();
    for b in &mut huff[dht + 5..dht + 21] {
        *b = 0xFF;
    }
    v.push(("bad-huffman.jpg".into(), huff, 422));
    // Scan data scrambled after a valid header.
    let mut noisy = jpeg.clone();
    let sos = noisy.windows(2).position(|p| p == [0xFF, 0xDA]).unwrap();
    let end = noisy.len() - 2;
    for (i, b) in noisy[sos + 20..end].iter_mut().enumerate() {
        *b = (i * 151 % 251) as u8;
    }
    v.push(("noisy-scan.jpg".into(), noisy, 0));
    // An oversized EXIF block (64 KB of junk in APP1) and an oversized ICC profile (1 MB of junk).
    v.push(("huge-exif.jpg".into(), big_segments(&jpeg, 0xE1, b"Exif\0\0", 1), 200));
    v.push(("huge-icc.jpg".into(), big_segments(&jpeg, 0xE2, b"ICC_PROFILE\0", 16), 200));
    // Progressive and CMYK JPEGs, 16-bit PNG: valid, served.
    v.push((
        "progressive.jpg".into(),
        fixtures::progressive_jpeg(&fixtures::quadrants(120, 80), turbojpeg::Subsamp::None),
        200,
    ));
    v.push(("cmyk.jpg".into(), cmyk_jpeg(), 200));
    v.push(("16bit.png".into(), encode(&DynamicImage::ImageRgb16(q.to_rgb16()), ImageFormat::Png), 200));
    v.push((
        "gray-alpha.png".into(),
        encode(&DynamicImage::ImageLumaA8(q.to_luma_alpha8()), ImageFormat::Png),
        200,
    ));
    v
}

/// `jpeg` with `count` extra segments of the biggest size, each starting with `tag`.
fn big_segments(jpeg: &[u8], marker: u8, tag: &[u8], count: usize) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    for i in 0..count {
        let mut payload = tag.to_vec();
        if marker == 0xE2 {
            payload.extend_from_slice(&[(i + 1) as u8, count as u8]);
        }
        payload.resize(65_533, 0xAB);
        out.extend_from_slice(&[0xFF, marker]);
        out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(&payload);
    }
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn cmyk_jpeg() -> Vec<u8> {
    let px: Vec<u8> = (0..120 * 80).flat_map(|i| [(i % 255) as u8, 40, 80, 10]).collect();
    let mut c = turbojpeg::Compressor::new().unwrap();
    c.set_quality(90).unwrap();
    c.set_subsamp(turbojpeg::Subsamp::None).unwrap();
    let img = turbojpeg::Image {
        pixels: px.as_slice(),
        width: 120,
        pitch: 480,
        height: 80,
        format: turbojpeg::PixelFormat::CMYK,
    };
    c.compress_to_vec(img).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_files_get_their_documented_status_within_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let files = hostile_files();
    assert!(files.len() >= 60, "{} files", files.len());
    for (name, bytes, _) in &files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let config = Config { transform_timeout: Duration::from_secs(10), ..Config::default() };
    let s = state_over(dir.path(), None, config);
    let mut wrong = Vec::new();
    for (name, _, want) in &files {
        let started = Instant::now();
        let got = get(&s, &format!("/w_50/{name}")).await;
        let status = got.status.as_u16();
        // 0: a truncation whose outcome depends on where it cut; any refusal but 500 will do.
        let ok = match want {
            0 => [200, 413, 415, 422].contains(&status),
            w => status == *w,
        };
        if !ok || status == 500 {
            wrong.push(format!("{name}: {status} (want {want}) {}", String::from_utf8_lossy(&got.body)));
        }
        assert!(started.elapsed() < Duration::from_secs(11), "{name} took {:?}", started.elapsed());
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let frames = get(&s, "/f_json/gif-10000-frames.gif").await.json();
    assert_eq!(frames["source"]["frames"], 10_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn excess_transforms_wait_then_get_503_with_retry_after() {
    let config = Config { max_transforms: 1, queue_wait: Duration::from_millis(1), ..Config::default() };
    let s = state_with(config);
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move { get(&s, &format!("/w_{},blur_20,f_png/big.jpg", 800 + i)).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        let got = t.await.unwrap();
        if got.status == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(got.header("retry-after"), Some("1"));
            assert_eq!(got.header("cache-control"), Some("no-store"));
        }
        statuses.push(got.status.as_u16());
    }
    assert!(statuses.contains(&200), "{statuses:?}");
    assert!(statuses.contains(&503), "{statuses:?}");
    // Nothing from the refusals was cached: the same URLs succeed once the slot is free.
    for i in 0..6 {
        assert_eq!(get(&s, &format!("/w_{},blur_20,f_png/big.jpg", 800 + i)).await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn a_panic_in_a_transform_is_a_500_for_that_request_only() {
    let s = state();
    let err = pixflow::http::run_guarded(&s, "test", || panic!("a codec bug")).await.unwrap_err();
    assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(err.public_message(), "the image could not be processed", "no internals leak");
    // The slot was released and the process keeps serving.
    for _ in 0..3 {
        assert_eq!(get(&s, "/w_20/quadrants.jpg").await.status, StatusCode::OK);
    }
}
