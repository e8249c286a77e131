//! The DC-only 1/8-scale decoder on scan layouts the turbojpeg API cannot write (made by
//! `tests/fixtures/progressive/make.sh` with jpegtran/cjpeg): separate DC scans per component,
//! several successive-approximation passes, restart intervals, greyscale, 4:2:2.

use image::DynamicImage;
use pixflow::transform::{dc_only, decode::decode_turbo};

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/progressive").join(name);
    std::fs::read(path).unwrap()
}

fn max_diff(a: &DynamicImage, b: &DynamicImage) -> u8 {
    assert_eq!((a.width(), a.height(), a.color()), (b.width(), b.height(), b.color()));
    a.as_bytes().iter().zip(b.as_bytes()).map(|(x, y)| x.abs_diff(*y)).max().unwrap()
}

#[test]
fn luma_equals_libjpeg_turbo_for_every_scan_layout() {
    for name in ["separate-dc-restarts.jpg", "gray-restarts.jpg", "h2v1-restarts.jpg"] {
        let jpeg = fixture(name);
        let ours = dc_only::decode(&jpeg, true).unwrap_or_else(|| panic!("{name} is covered"));
        assert_eq!((ours.width(), ours.height()), (26, 18), "{name}: ceil(203/8) x ceil(141/8)");
        assert_eq!(max_diff(&ours, &decode_turbo(&jpeg, 1, true).unwrap()), 0, "{name}");
    }
}

#[test]
fn colour_stays_close_to_libjpeg_turbo() {
    // 4:2:2 chroma is replicated by libjpeg-turbo and interpolated here: close, not equal.
    let jpeg = fixture("h2v1-restarts.jpg");
    let ours = dc_only::decode(&jpeg, false).unwrap();
    assert!(max_diff(&ours, &decode_turbo(&jpeg, 1, false).unwrap()) <= 48);
    // 4:2:0 chroma from the first AC pass (with restarts inside the AC scans): quarter means of
    // each chroma block, close to libjpeg-turbo's 2×2 IDCT.
    let jpeg = fixture("separate-dc-restarts.jpg");
    let ours = dc_only::decode(&jpeg, false).unwrap();
    assert!(max_diff(&ours, &decode_turbo(&jpeg, 1, false).unwrap()) <= 48);
    // A greyscale file asked for colour comes back as grey RGB, as libjpeg-turbo returns it.
    let jpeg = fixture("gray-restarts.jpg");
    let ours = dc_only::decode(&jpeg, false).unwrap();
    assert_eq!(max_diff(&ours, &decode_turbo(&jpeg, 1, false).unwrap()), 0);
}

#[test]
fn a_restart_marker_out_of_place_falls_back() {
    // Corrupting the first RST marker's number leaves the file to libjpeg-turbo.
    let mut jpeg = fixture("separate-dc-restarts.jpg");
    let sos = jpeg.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    let rst =
        sos + jpeg[sos..].windows(2).position(|w| w[0] == 0xFF && (0xD0..=0xD7).contains(&w[1])).unwrap();
    jpeg[rst + 1] = 0xC2;
    assert!(dc_only::decode(&jpeg, false).is_none());
}

#[test]
fn corrupted_bytes_fall_back_or_decode_within_bounds() {
    // Each byte of the file in turn flipped, and the file cut at each 97th byte: the decoder
    // must either hand the file back to libjpeg-turbo or return an image of a bounded size.
    let jpeg = fixture("separate-dc-restarts.jpg");
    let mut decoded = 0;
    for i in 0..jpeg.len() {
        let mut bad = jpeg.clone();
        bad[i] ^= 0xFF;
        if let Some(img) = dc_only::decode(&bad, false) {
            let (w, h) = (img.width(), img.height());
            assert!(w > 0 && h > 0 && u64::from(w) * u64::from(h) <= 8192 * 8192, "byte {i}: {w}x{h}");
            decoded += 1;
        }
    }
    for cut in (0..jpeg.len()).step_by(97) {
        assert!(dc_only::decode(&jpeg[..cut], false).is_none(), "cut at {cut}");
    }
    // Flips inside AC scans are skipped unseen, so many corrupted files still decode.
    assert!(decoded > jpeg.len() / 4, "{decoded} of {} decoded", jpeg.len());
}
