//! AVIF output (libaom): every answer is decoded by avifdec — libavif with dav1d, not libaom —
//! and compared with the lossless render of the same request (`f_png`): its size, its colour and
//! its alpha (a second, monochrome AV1 picture). The sizes include those libaom's 4:2:0 path
//! has to pad (1 px, odd sides).

use crate::{get, state};

/// `body` in a file of a new temporary folder (removed when the folder is dropped).
fn avif_file(body: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let avif = dir.path().join("out.avif");
    std::fs::write(&avif, body).unwrap();
    (dir, avif)
}

/// `body` decoded by avifdec into RGBA.
fn avifdec(body: &[u8]) -> image::RgbaImage {
    let (dir, avif) = avif_file(body);
    let png = dir.path().join("out.png");
    let out = std::process::Command::new("avifdec")
        .arg(&avif)
        .arg(&png)
        .output()
        .expect("avifdec (Debian's libavif-bin, installed by scripts/setup)");
    assert!(out.status.success(), "avifdec refused the file: {}", String::from_utf8_lossy(&out.stderr));
    image::open(&png).unwrap().to_rgba8()
}

#[tokio::test]
async fn avif_output_decodes_elsewhere_at_every_size_with_its_alpha() {
    let s = state();
    // alpha.png: 100×50, the left half opaque red, the right half fully transparent.
    for (w, h) in [(1, 1), (1, 7), (3, 5), (17, 9), (100, 50)] {
        let uri = |format: &str| format!("/w_{w},h_{h},c_scale,f_{format}/alpha.png");
        let avif = get(&s, &uri("avif")).await;
        assert_eq!(avif.status, 200, "{w}×{h}: {}", String::from_utf8_lossy(&avif.body));
        assert_eq!(avif.header("content-type"), Some("image/avif"));
        let lossless = get(&s, &uri("png")).await.image().to_rgba8();
        let decoded = avifdec(&avif.body);
        assert_eq!(decoded.dimensions(), (w, h), "{w}×{h}");
        let pairs: Vec<_> = decoded.pixels().zip(lossless.pixels()).collect();
        let alpha =
            pairs.iter().map(|(a, b)| f64::from(a[3].abs_diff(b[3]))).sum::<f64>() / pairs.len() as f64;
        assert!(alpha <= 4.0, "{w}×{h}: alpha {alpha:.2} levels away on average");
        // Colour where the render is opaque (under transparency an encoder may write anything).
        let opaque: Vec<_> = pairs.iter().filter(|(_, b)| b[3] == 255).collect();
        if !opaque.is_empty() {
            let colour = opaque
                .iter()
                .map(|(a, b)| (0..3).map(|c| f64::from(a[c].abs_diff(b[c]))).sum::<f64>())
                .sum::<f64>()
                / (3 * opaque.len()) as f64;
            assert!(colour <= 8.0, "{w}×{h}: colour {colour:.2} levels away on average");
        }
        eprintln!("{w}×{h}: {} bytes, alpha {alpha:.2}", avif.body.len());
    }
}

#[tokio::test]
async fn avif_of_a_photo_is_smaller_than_its_jpeg_and_looks_the_same() {
    // big.jpg: 1600×800 quadrants. The calibrated default gives AVIF fewer bytes than the JPEG.
    let s = state();
    let avif = get(&s, "/w_400,f_avif/big.jpg").await;
    let jpeg = get(&s, "/w_400,f_jpeg/big.jpg").await;
    let lossless = get(&s, "/w_400,f_png/big.jpg").await.image().to_rgba8();
    let decoded = avifdec(&avif.body);
    assert_eq!(decoded.dimensions(), lossless.dimensions());
    let mean =
        decoded.as_raw().iter().zip(lossless.as_raw()).map(|(a, b)| f64::from(a.abs_diff(*b))).sum::<f64>()
            / decoded.as_raw().len() as f64;
    assert!(mean <= 3.0, "mean difference {mean:.2}");
    assert!(avif.body.len() < jpeg.body.len(), "AVIF {} vs JPEG {} bytes", avif.body.len(), jpeg.body.len());
}

/// From encoder quality 90 up (`q_95` on JPEG's scale maps there) the chroma is kept whole: the
/// file says 4:4:4 to avifdec, which decodes it; the default stays 4:2:0.
#[tokio::test]
async fn avif_keeps_full_chroma_at_the_top_of_the_scale() {
    let s = state();
    for (uri, format) in [("/w_200,f_avif/big.jpg", "YUV420"), ("/w_200,f_avif,q_95/big.jpg", "YUV444")] {
        let avif = get(&s, uri).await;
        let (_dir, path) = avif_file(&avif.body);
        let info = std::process::Command::new("avifdec").arg("--info").arg(&path).output().unwrap();
        let info = String::from_utf8_lossy(&info.stdout);
        assert!(info.contains(&format!("Format         : {format}")), "{uri}: {info}");
        assert_eq!(avifdec(&avif.body).dimensions(), (200, 100), "{uri}");
    }
}
