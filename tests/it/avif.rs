//! AVIF originals (issue 15): made by avifenc (libavif 0.11 from Debian, its aom encoder) in
//! `foreign_fixtures.py` — 8/10/12 bit, 4:2:0/4:2:2/4:4:4/4:0:0, limited range, alpha, a 2×2
//! grid, lossless, irot/imir/clap, PQ/HLG/Display P3 — decoded by pixflow (rav1d and its own
//! container reader) and checked against avifdec's decode (libavif + dav1d) of the same file.
//! avifdec does not apply irot/imir/clap, so the turned and cropped files are checked against its
//! decode turned and cropped here by the `image` crate.

use crate::foreign::made;
use crate::{get, state_over};
use pixflow::config::Config;

/// (file, the largest difference per 8-bit sample allowed from avifdec's decode, the largest mean).
/// Lossless files must match exactly; lossy ones differ by chroma upsampling and rounding.
const DECODED: &[(&str, u8, f64)] = &[
    ("lossless.avif", 0, 0.0),
    ("yuv420.avif", 4, 0.5),
    ("limited.avif", 4, 0.5),
    ("deep10.avif", 1, 0.05),
    ("deep12.avif", 2, 0.05),
    ("mono.avif", 0, 0.0),
    ("alpha10.avif", 3, 0.5),
    ("grid.avif", 2, 0.1),
    ("photo.avif", 4, 0.5),
    ("alpha.avif", 4, 0.5),
];

pub(crate) fn reference(dir: &std::path::Path, file: &str) -> image::RgbaImage {
    image::open(dir.join(format!("{file}.ref.png"))).unwrap().to_rgba8()
}

/// The largest and the mean difference per sample between two pictures of one size.
pub(crate) fn differences(ours: &image::RgbaImage, theirs: &image::RgbaImage) -> (u8, f64) {
    assert_eq!(ours.dimensions(), theirs.dimensions());
    let diffs: Vec<u8> = ours.as_raw().iter().zip(theirs.as_raw()).map(|(a, b)| a.abs_diff(*b)).collect();
    let mean = diffs.iter().map(|&d| f64::from(d)).sum::<f64>() / diffs.len() as f64;
    (*diffs.iter().max().unwrap(), mean)
}

/// Each (file, worst, mean) of `table` served as a PNG from `dir`, checked against the reference
/// decode `NAME.ref.png` beside it made by `library`: no sample further than worst, and no more
/// than mean away on average.
pub(crate) async fn each_decodes_like_its_reference(
    dir: &std::path::Path,
    table: &[(&str, u8, f64)],
    library: &str,
) {
    let s = state_over(dir, None, Config::default());
    for (file, tolerance, mean_tolerance) in table {
        let got = get(&s, &format!("/f_png/{file}")).await;
        assert_eq!(got.status, 200, "{file}: {}", String::from_utf8_lossy(&got.body));
        let (worst, mean) = differences(&got.image().to_rgba8(), &reference(dir, file));
        eprintln!("{file}: worst {worst}, mean {mean:.3}");
        assert!(worst <= *tolerance, "{file}: a sample is {worst} away from {library}'s decode");
        assert!(mean <= *mean_tolerance, "{file}: samples are {mean:.3} away on average");
    }
}

#[tokio::test]
async fn every_avif_decodes_to_what_libavif_decodes() {
    each_decodes_like_its_reference(made().0, DECODED, "libavif").await;
}

#[tokio::test]
async fn irot_imir_and_clap_are_applied_as_browsers_show_them() {
    let (dir, sizes) = made();
    let s = state_over(dir, None, Config::default());
    type Turn = fn(&image::RgbaImage) -> image::RgbaImage;
    // (file, the EXIF orientation f_json states, the turn that shows it).
    let cases: &[(&str, u8, Turn)] = &[
        // irot turns anticlockwise: one quarter turn anticlockwise is 270° clockwise.
        ("irot1.avif", 8, |i| image::imageops::rotate270(i)),
        ("irot3.avif", 6, |i| image::imageops::rotate90(i)),
        ("imir1.avif", 2, |i| image::imageops::flip_horizontal(i)),
        // irot first, then imir 0 exchanges top and bottom.
        ("irot1imir0.avif", 5, |i| image::imageops::flip_vertical(&image::imageops::rotate270(i))),
        ("clap.avif", 1, |i| image::imageops::crop_imm(i, 4, 2, 48, 36).to_image()),
    ];
    for (file, orientation, turn) in cases {
        assert!(sizes.get(*file).is_some(), "{file} was made");
        let got = get(&s, &format!("/f_png/{file}")).await;
        assert_eq!(got.status, 200, "{file}: {}", String::from_utf8_lossy(&got.body));
        let expected = turn(&reference(dir, file));
        let (worst, _) = differences(&got.image().to_rgba8(), &expected);
        assert_eq!(worst, 0, "{file}: a lossless file turned as its properties say");
        // f_json, as for a JPEG: the stored size (clap applied) and the orientation; the output
        // is the picture as shown.
        let json = get(&s, &format!("/f_json/{file}")).await.json();
        assert_eq!(json["source"]["orientation"], *orientation, "{file}: {json}");
        let stored = if *file == "clap.avif" { (48, 36) } else { (64, 48) };
        assert_eq!(
            (&json["source"]["width"], &json["source"]["height"]),
            (&stored.0.into(), &stored.1.into())
        );
        assert_eq!(
            (&json["output"]["width"], &json["output"]["height"]),
            (&expected.width().into(), &expected.height().into()),
            "{file}: {json}"
        );
    }
}

#[tokio::test]
async fn f_json_reads_the_avif_header() {
    let (dir, _) = made();
    let s = state_over(dir, None, Config::default());
    for (file, depth, alpha) in [
        ("yuv420.avif", 8, false),
        ("deep10.avif", 10, false),
        ("deep12.avif", 12, false),
        ("alpha10.avif", 10, true),
        ("grid.avif", 8, false),
    ] {
        let json = get(&s, &format!("/w_32,f_json/{file}")).await.json();
        let source = &json["source"];
        assert_eq!(source["format"], "avif", "{file}");
        assert_eq!(source["bitDepth"], depth, "{file}: {json}");
        assert_eq!(source["alpha"], alpha, "{file}");
    }
}

#[tokio::test]
async fn an_avif_resizes_keeps_its_alpha_and_stays_avif() {
    let (dir, _) = made();
    let s = state_over(dir, None, Config::default());
    let got = get(&s, "/w_32,f_png/alpha10.avif").await;
    assert_eq!(got.status, 200);
    let img = got.image().to_rgba8();
    assert_eq!(img.dimensions(), (32, 24));
    // The source's alpha is a left-to-right… top-to-bottom gradient: opaque at the bottom.
    assert!(img.get_pixel(16, 0)[3] < 40 && img.get_pixel(16, 23)[3] > 215, "alpha kept");
    // With no f_, an AVIF stays AVIF.
    let avif = get(&s, "/w_32/yuv420.avif").await;
    assert_eq!(avif.header("content-type"), Some("image/avif"));
}

/// Mean of the 8-bit red, green and blue samples over columns `x0..x1`.
fn patch(img: &image::RgbImage, x0: u32, x1: u32) -> [f64; 3] {
    let mut sum = [0.0; 3];
    let mut n = 0.0;
    for y in 0..img.height() {
        for x in x0..x1 {
            for (s, v) in sum.iter_mut().zip(img.get_pixel(x, y).0) {
                *s += f64::from(v);
            }
            n += 1.0;
        }
    }
    sum.map(|s| s / n)
}

#[tokio::test]
async fn hdr_and_wide_gamut_avif_come_out_in_srgb_neither_washed_out_nor_dark() {
    let (dir, _) = made();
    let s = state_over(dir, None, Config::default());
    // Patches: PQ/HLG signal 0.58 (PQ's 203 cd/m² reference white), 0.75 (HLG's), black, red.
    let pq = get(&s, "/f_png/pq.avif").await.image().to_rgb8();
    let white = patch(&pq, 2, 14);
    eprintln!(
        "pq: reference white {white:?}, hlg level {:?}, black {:?}",
        patch(&pq, 18, 30),
        patch(&pq, 34, 46)
    );
    // Shown as if sRGB, the PQ reference white would be 148 (grey, washed out); tone-mapped, it
    // is near white.
    assert!(white.iter().all(|&v| (225.0..=252.0).contains(&v)), "PQ reference white: {white:?}");
    assert!(patch(&pq, 34, 46).iter().all(|&v| v < 4.0), "PQ black stays black");
    let hlg = get(&s, "/f_png/hlg.avif").await.image().to_rgb8();
    let white = patch(&hlg, 18, 30);
    eprintln!("hlg: reference white {white:?}, 0.58 {:?}", patch(&hlg, 2, 14));
    assert!(white.iter().all(|&v| (225.0..=252.0).contains(&v)), "HLG reference white: {white:?}");
    assert!(patch(&hlg, 2, 14)[0] < white[0], "lower HLG levels stay darker");
    // A monochrome PQ picture goes through the same tone curve (it was left as raw samples).
    let mono = get(&s, "/f_png/pq_mono.avif").await.image().to_rgb8();
    let white = patch(&mono, 2, 14);
    eprintln!("pq_mono: reference white {white:?}");
    assert!(white.iter().all(|&v| (225.0..=252.0).contains(&v)), "monochrome PQ reference white: {white:?}");
    // Display P3's red is outside sRGB: it comes out as sRGB's reddest red.
    let p3 = get(&s, "/f_png/p3.avif").await.image().to_rgb8();
    let red = patch(&p3, 50, 62);
    assert!(red[0] > 248.0 && red[1] < 8.0 && red[2] < 8.0, "P3 red: {red:?}");
    // Its grey patch (148, an SDR transfer) is untouched by the primaries conversion.
    let grey = patch(&p3, 2, 14);
    assert!(grey.iter().all(|&v| (v - 148.0).abs() < 3.0), "P3 grey: {grey:?}");
}

/// Every cut and every flipped byte (each `step`-th) of a real file served at `w_32,f_png`: a
/// picture, a 422, a 415, or a 413 when a flipped byte makes a header claim more pixels than the
/// limit; never a 500 or a crash. Returns how many of each status.
pub(crate) async fn every_cut_and_flip_answers_cleanly(
    original: &std::path::Path,
    step: usize,
) -> std::collections::BTreeMap<u16, usize> {
    let whole = std::fs::read(original).unwrap();
    let ext = original.extension().unwrap().to_str().unwrap();
    let broken = tempfile::tempdir().unwrap();
    let mut names = Vec::new();
    for at in (0..whole.len()).step_by(step) {
        let mut flipped = whole.clone();
        flipped[at] ^= 0xA5;
        let name = format!("flip{at}.{ext}");
        std::fs::write(broken.path().join(&name), flipped).unwrap();
        names.push(name);
        let name = format!("cut{at}.{ext}");
        std::fs::write(broken.path().join(&name), &whole[..at]).unwrap();
        names.push(name);
    }
    let s = state_over(broken.path(), None, Config::default());
    let mut statuses = std::collections::BTreeMap::new();
    for name in names {
        let got = get(&s, &format!("/w_32,f_png/{name}")).await;
        assert!(
            [200, 413, 415, 422].contains(&got.status.as_u16()),
            "{name}: {} {}",
            got.status,
            String::from_utf8_lossy(&got.body)
        );
        *statuses.entry(got.status.as_u16()).or_insert(0) += 1;
    }
    statuses
}

#[tokio::test]
async fn a_broken_avif_is_a_422_and_never_a_500() {
    let (dir, _) = made();
    let s = state_over(dir, None, Config::default());
    let got = get(&s, "/w_32/truncated.avif").await;
    assert_eq!(got.status, 422, "{}", String::from_utf8_lossy(&got.body));
    let statuses = every_cut_and_flip_answers_cleanly(&dir.join("yuv420.avif"), 7).await;
    eprintln!("broken AVIFs: {statuses:?}");
}

#[tokio::test]
async fn the_pixel_limit_holds_before_an_avif_is_decoded() {
    let (dir, _) = made();
    let mut config = Config::default();
    config.limits.max_source_pixels = 256 * 100;
    let s = state_over(dir, None, config);
    // The grid's canvas (256×192) is over the limit; each of its tiles (128×96) is not.
    let got = get(&s, "/w_32/grid.avif").await;
    assert_eq!(got.status, 413, "{}", String::from_utf8_lossy(&got.body));
}

#[tokio::test]
async fn an_avif_icc_profile_is_converted_like_a_pngs() {
    let (dir, sizes) = made();
    if sizes.get("icc.avif").is_none() {
        eprintln!("icc.avif: not made here (the shared corpus is absent): skipped");
        return;
    }
    let s = state_over(dir, None, Config::default());
    // The same lossless samples tagged Adobe RGB (1998), once in an AVIF's colr box and once in a
    // PNG's iCCP chunk: pixflow's ICC step gives the same sRGB picture for both…
    let avif = get(&s, "/f_png/icc.avif").await.image().to_rgba8();
    let png = get(&s, "/f_png/icc.png").await.image().to_rgba8();
    let (worst, mean) = differences(&avif, &png);
    assert!(worst <= 1 && mean < 0.05, "AVIF vs PNG with the same profile: worst {worst}, mean {mean:.3}");
    // …which is not the unconverted samples (avifdec does not convert).
    let (_, unconverted) = differences(&avif, &reference(dir, "icc.avif"));
    eprintln!(
        "icc.avif: vs the PNG worst {worst}, mean {mean:.3}; {unconverted:.2} levels from the raw samples"
    );
    assert!(unconverted > 1.0, "the profile was applied: {unconverted:.3} levels from the raw samples");
}

/// A box: size, type, body.
fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    [&((8 + body.len()) as u32).to_be_bytes()[..], kind, body].concat()
}

/// A full box: version and flags before the body.
fn full(kind: &[u8; 4], version: u8, body: &[u8]) -> Vec<u8> {
    bx(kind, &[&[version, 0, 0, 0][..], body].concat())
}

/// The probe's grid bomb: an AVIF whose `rows` × `columns` grid names one 1×1 tile (`tile`, an
/// AVIF of one pixel whose `av1C` and coded data are reused) in every place. Written here box by
/// box: ISO/IEC 23008-12 § 6.6.2.3 (grid), § 8.11.3 (iloc v1 with an `idat`).
fn repeated_tile_grid(tile: &[u8], rows: u16, columns: u16) -> Vec<u8> {
    let find = |kind: &[u8]| tile.windows(4).position(|w| w == kind).unwrap() - 4;
    let size_at = |at: usize| u32::from_be_bytes(tile[at..at + 4].try_into().unwrap()) as usize;
    let av1c_at = find(b"av1C");
    let av1c = &tile[av1c_at..av1c_at + size_at(av1c_at)];
    let mdat_at = find(b"mdat");
    let coded = &tile[mdat_at + 8..mdat_at + size_at(mdat_at)];
    let (width, height) = (u32::from(columns), u32::from(rows));
    let infe =
        |id: u16, kind: &[u8; 4]| full(b"infe", 2, &[&id.to_be_bytes()[..], &[0, 0], kind, b"\0"].concat());
    let ispe = |w: u32, h: u32| full(b"ispe", 0, &[w.to_be_bytes(), h.to_be_bytes()].concat());
    let count = rows * columns;
    let mut dimg = [1u16.to_be_bytes(), count.to_be_bytes()].concat();
    (0..count).for_each(|_| dimg.extend_from_slice(&2u16.to_be_bytes()));
    let grid = [
        &[0u8, 0, (rows - 1) as u8, (columns - 1) as u8][..],
        &(width as u16).to_be_bytes(),
        &(height as u16).to_be_bytes(),
    ]
    .concat();
    let meta = |tile_offset: u32| {
        let iloc = full(
            b"iloc",
            1,
            &[
                &[0x44u8, 0x00][..],
                &2u16.to_be_bytes(),
                // item 1 (the grid): in the idat; item 2 (the tile): in the file.
                &[0, 1, 0, 1, 0, 0, 0, 1][..],
                &0u32.to_be_bytes(),
                &(grid.len() as u32).to_be_bytes(),
                &[0, 2, 0, 0, 0, 0, 0, 1][..],
                &tile_offset.to_be_bytes(),
                &(coded.len() as u32).to_be_bytes(),
            ]
            .concat(),
        );
        let ipma =
            full(b"ipma", 0, &[&2u32.to_be_bytes()[..], &[0, 1, 1, 0x81], &[0, 2, 2, 0x02, 0x83]].concat());
        full(
            b"meta",
            0,
            &[
                full(b"hdlr", 0, &[&[0u8; 4][..], b"pict", &[0; 12], b"\0"].concat()),
                full(b"pitm", 0, &1u16.to_be_bytes()),
                iloc,
                full(b"iinf", 0, &[&2u16.to_be_bytes()[..], &infe(1, b"grid"), &infe(2, b"av01")].concat()),
                full(b"iref", 0, &bx(b"dimg", &dimg)),
                bx(
                    b"iprp",
                    &[bx(b"ipco", &[ispe(width, height), ispe(1, 1), av1c.to_vec()].concat()), ipma].concat(),
                ),
                bx(b"idat", &grid),
            ]
            .concat(),
        )
    };
    let ftyp = bx(b"ftyp", b"avif\0\0\0\0avifmif1miaf");
    let offset = (ftyp.len() + meta(0).len() + 8) as u32;
    [ftyp, meta(offset), bx(b"mdat", coded)].concat()
}

/// Bug: a 131 KB AVIF whose grid names one 1-px tile 65,280 times decoded that tile 65,280 times
/// (27 CPU-s to the 504, 10 more after). Each tile item is now decoded once and pasted wherever
/// the grid names it, and the assembly stops at the deadline between tiles.
#[tokio::test]
async fn a_grid_that_names_one_tile_many_times_decodes_it_once() {
    let dir = tempfile::tempdir().unwrap();
    image::RgbImage::from_pixel(1, 1, image::Rgb([200, 30, 60])).save(dir.path().join("dot.png")).unwrap();
    let s = state_over(dir.path(), None, Config::default());
    let tile = get(&s, "/f_avif,q_100/dot.png").await;
    assert_eq!(tile.status, 200);
    std::fs::write(dir.path().join("bomb.avif"), repeated_tile_grid(&tile.body, 255, 256)).unwrap();
    std::fs::write(dir.path().join("small.avif"), repeated_tile_grid(&tile.body, 2, 3)).unwrap();
    // The builder's own check: a 2 × 3 grid of the tile reads as 3 × 2 pixels of its colour.
    let small = get(&s, "/f_png/small.avif").await;
    assert_eq!(small.status, 200, "{}", String::from_utf8_lossy(&small.body));
    let started = std::time::Instant::now();
    let got = get(&s, "/f_png/bomb.avif").await;
    let took = started.elapsed();
    assert_eq!(got.status, 200, "{}", String::from_utf8_lossy(&got.body));
    let img = got.image().to_rgb8();
    assert_eq!(img.dimensions(), (256, 255));
    let colour = small.image().to_rgb8().get_pixel(0, 0).0;
    assert!(colour.iter().zip([200u8, 30, 60]).all(|(a, b)| a.abs_diff(b) <= 6), "{colour:?}");
    assert!(img.pixels().all(|p| p.0 == colour), "every place holds the tile");
    assert!(took < std::time::Duration::from_secs(3), "took {took:?}");
}
