//! Past libjpeg-turbo's floor: the 1/8-scale decode of a progressive JPEG from its DC scans only.
//!
//! At 1/8 scale every 8×8 block becomes one pixel whose value is the block's DC coefficient (its
//! mean), exactly what libjpeg's 1×1 IDCT computes. A progressive file stores the DC coefficients
//! in their own small scans, first, so this walks the markers, entropy-decodes the DC scans
//! (first pass and successive-approximation refinements, interleaved or not, with restart
//! intervals) and skips every AC scan by looking for its end marker instead of decoding it —
//! libjpeg-turbo entropy-decodes all of them even when the 1×1 IDCT ignores the result.
//!
//! For 4:2:0 chroma, whose blocks cover 16×16 pixels, the first AC pass of each chroma component
//! (a small scan) is decoded too, keeping the three lowest coefficients so each block gives the
//! means of its four quarters — chroma at the luma plane's resolution, as libjpeg-turbo's 2×2 IDCT
//! gives it. Other chroma is upsampled by centred linear interpolation (libjpeg's "fancy"
//! upsampling for 2×). Colour is converted with the JFIF equations. Anything else — baseline or arithmetic-coded files, 12-bit
//! samples, CMYK or Adobe RGB, unusual sampling factors, data that ends before the EOI marker —
//! returns `None`, and the caller decodes with libjpeg-turbo as before.

use image::{DynamicImage, GrayImage, RgbImage};

/// Decodes `bytes` at 1/8 scale (`ceil(w/8)` × `ceil(h/8)`), luma only when `gray`; `None` when
/// the file is not a progressive JPEG this decoder covers.
pub fn decode(bytes: &[u8], gray: bool) -> Option<DynamicImage> {
    let frame = walk(bytes)?;
    let planes: Vec<Plane> = frame.components.iter().map(|c| c.plane(&frame)).collect();
    let (w, h) = (frame.width.div_ceil(8), frame.height.div_ceil(8));
    let ratio = |i: usize| {
        let (c, p) = (&frame.components[i], &planes[i]);
        ((frame.hmax / c.h / p.density).max(1), (frame.vmax / c.v / p.density).max(1))
    };
    let (rx, ry) = ratio(0);
    let luma = planes[0].upsample(w, h, rx, ry);
    if gray || planes.len() == 1 {
        let img = GrayImage::from_raw(w as u32, h as u32, luma)?;
        return Some(if gray {
            DynamicImage::ImageLuma8(img)
        } else {
            DynamicImage::ImageRgb8(to_rgb(&img))
        });
    }
    let up = |i: usize| {
        let (rx, ry) = ratio(i);
        planes[i].upsample(w, h, rx, ry)
    };
    let (cb, cr) = (up(1), up(2));
    let mut rgb = Vec::with_capacity(w * h * 3);
    for ((&y, &cb), &cr) in luma.iter().zip(&cb).zip(&cr) {
        let (y, cb, cr) = (f32::from(y), f32::from(cb) - 128.0, f32::from(cr) - 128.0);
        rgb.push(to_u8(y + 1.402 * cr));
        rgb.push(to_u8(y - 0.344_136 * cb - 0.714_136 * cr));
        rgb.push(to_u8(y + 1.772 * cb));
    }
    RgbImage::from_raw(w as u32, h as u32, rgb).map(DynamicImage::ImageRgb8)
}

fn to_u8(v: f32) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

fn to_rgb(gray: &GrayImage) -> RgbImage {
    RgbImage::from_fn(gray.width(), gray.height(), |x, y| {
        let l = gray.get_pixel(x, y).0[0];
        image::Rgb([l, l, l])
    })
}

mod bits;
mod huffman;
mod markers;
mod scans;
mod upsample;

use markers::walk;

/// One component's DC coefficients, one per block, in a grid padded to whole MCUs.
struct Component {
    id: u8,
    h: usize,
    v: usize,
    table: usize,
    /// The DC quantiser, latched at the component's first scan as libjpeg does.
    quant: Option<u16>,
    /// For 2×2-subsampled chroma: the three lowest AC coefficients of each block (horizontal,
    /// vertical, diagonal), dequantised, from the component's first AC scan. A 2×2 output per
    /// block then keeps chroma at the luma plane's resolution, as libjpeg-turbo's 2×2 IDCT does.
    low_ac: Vec<[i32; 3]>,
    blocks_w: usize,
    blocks_h: usize,
    dc: Vec<i32>,
}

struct Frame {
    width: usize,
    height: usize,
    hmax: usize,
    vmax: usize,
    components: Vec<Component>,
}

impl Frame {
    fn mcus(&self) -> (usize, usize) {
        (self.width.div_ceil(8 * self.hmax), self.height.div_ceil(8 * self.vmax))
    }
}

/// A component's samples at 1/8 scale (`density` samples per block on each axis).
struct Plane {
    width: usize,
    height: usize,
    density: usize,
    samples: Vec<u8>,
}

impl Component {
    /// The blocks that hold image data (a non-interleaved scan covers exactly these).
    fn used_blocks(&self, f: &Frame) -> (usize, usize) {
        ((f.width * self.h).div_ceil(f.hmax).div_ceil(8), (f.height * self.v).div_ceil(f.vmax).div_ceil(8))
    }

    /// libjpeg's 1×1 IDCT: the dequantised DC over 8, rounded, level-shifted and clamped; or, with
    /// the low AC coefficients, the mean of each quarter of the block.
    fn plane(&self, f: &Frame) -> Plane {
        let (width, height) = self.used_blocks(f);
        let q = i64::from(self.quant.unwrap_or(1));
        let dc = |c: i32| (i64::from(c) * q + 4) >> 3;
        if !self.low_ac.is_empty() {
            // Quarter means of the 8×8 DCT basis: A is the mean of cos((2x+1)π/16) over x = 0..3.
            const A: f32 = 0.640_728;
            let (k1, k2) = (A / (4.0 * std::f32::consts::SQRT_2), A * A / 4.0);
            let (cw, ch) = ((f.width * self.h).div_ceil(f.hmax), (f.height * self.v).div_ceil(f.vmax));
            let (pw, ph) = (cw.div_ceil(4), ch.div_ceil(4));
            let mut samples = Vec::with_capacity(pw * ph);
            for y in 0..ph {
                for x in 0..pw {
                    let b = (y / 2) * self.blocks_w + x / 2;
                    let [h, v, d] = self.low_ac[b].map(|c| c as f32);
                    let sx = if x % 2 == 0 { 1.0 } else { -1.0 };
                    let sy = if y % 2 == 0 { 1.0 } else { -1.0 };
                    let mean = dc(self.dc[b]) as f32 + 128.0 + k1 * (sx * h + sy * v) + k2 * sx * sy * d;
                    samples.push(to_u8(mean));
                }
            }
            return Plane { width: pw, height: ph, density: 2, samples };
        }
        let mut samples = Vec::with_capacity(width * height);
        for row in self.dc.chunks(self.blocks_w).take(height) {
            samples.extend(row[..width].iter().map(|&c| (dc(c) + 128).clamp(0, 255) as u8));
        }
        Plane { width, height, density: 1, samples }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progressive(img: &RgbImage, subsamp: turbojpeg::Subsamp, progressive: bool) -> Vec<u8> {
        let mut c = turbojpeg::Compressor::new().unwrap();
        c.set_quality(85).unwrap();
        c.set_subsamp(subsamp).unwrap();
        c.set_progressive(progressive).unwrap();
        let image = turbojpeg::Image {
            pixels: img.as_raw().as_slice(),
            width: img.width() as usize,
            pitch: img.width() as usize * 3,
            height: img.height() as usize,
            format: turbojpeg::PixelFormat::RGB,
        };
        c.compress_to_vec(image).unwrap()
    }

    fn scene(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let r = (x * 255 / w) as u8;
            let g = (y * 255 / h) as u8;
            let b = if (x / 37 + y / 23) % 2 == 0 { 40 } else { 200 };
            image::Rgb([r, g, b])
        })
    }

    fn smooth(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, ((x + y) * 127 / (w + h)) as u8])
        })
    }

    /// Largest and mean absolute difference.
    fn diff(a: &DynamicImage, b: &DynamicImage) -> (u8, f64) {
        assert_eq!((a.width(), a.height(), a.color()), (b.width(), b.height(), b.color()));
        let (a, b) = (a.as_bytes(), b.as_bytes());
        let max = a.iter().zip(b).map(|(x, y)| x.abs_diff(*y)).max().unwrap();
        let mean = a.iter().zip(b).map(|(x, y)| f64::from(x.abs_diff(*y))).sum::<f64>() / a.len() as f64;
        (max, mean)
    }

    /// The full-size decode averaged over 8×8 blocks (what a 1/8 scale should approximate), by
    /// the PNG box shrink.
    fn box_average(jpeg: &[u8]) -> DynamicImage {
        let full = super::super::decode::decode_turbo(jpeg, 8, false).unwrap();
        let mut png = Vec::new();
        full.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
        super::super::shrink_png::decode(&png, 8, u64::MAX).unwrap().unwrap()
    }

    #[test]
    fn matches_libjpeg_turbo_luma_and_is_as_close_to_a_full_decode() {
        use turbojpeg::Subsamp::*;
        let turbo = |jpeg: &[u8], gray| super::super::decode::decode_turbo(jpeg, 1, gray).unwrap();
        for (w, h) in [(203, 141), (400, 300), (64, 64), (9, 17)] {
            for s in [None, Sub2x1, Sub2x2, Sub1x2] {
                let jpeg = progressive(&scene(w, h), s, true);
                // Luma is libjpeg's 1×1 IDCT exactly.
                let ours = decode(&jpeg, true).expect("a progressive file decodes");
                assert_eq!(diff(&ours, &turbo(&jpeg, true)), (0, 0.0), "{w}x{h} {s:?} luma");
                // Colour: libjpeg-turbo replicates chroma at 1/8 scale (or, for 4:2:0, runs a 2×2
                // IDCT on the AC coefficients); this interpolates the DC values. On smooth colour
                // both land on the full decode averaged over each block (away from tiny images,
                // where clamping at the edges dominates).
                if w < 100 {
                    continue;
                }
                let jpeg = progressive(&smooth(w, h), s, true);
                let frame = walk(&jpeg).unwrap();
                let quarters = frame.components.iter().map(|c| !c.low_ac.is_empty()).collect::<Vec<_>>();
                assert_eq!(
                    quarters,
                    [false, s == Sub2x2, s == Sub2x2],
                    "{s:?}: chroma AC read for 4:2:0 only"
                );
                let reference = box_average(&jpeg);
                let ours = diff(&decode(&jpeg, false).unwrap(), &reference);
                let theirs = diff(&turbo(&jpeg, false), &reference);
                assert!(
                    ours.1 <= theirs.1 + 0.5 && ours.0 <= theirs.0.max(8),
                    "{w}x{h} {s:?}: ours {ours:?} turbo {theirs:?}"
                );
            }
        }
    }

    #[test]
    fn a_second_frame_header_is_refused() {
        // Regression guard: the pixel limit is checked on the first SOF, so a later one claiming
        // 65535×65535 must not size the coefficient buffers.
        let jpeg = progressive(&scene(64, 48), turbojpeg::Subsamp::Sub2x2, true);
        let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC2]).unwrap();
        let len = usize::from(u16::from_be_bytes([jpeg[sof + 2], jpeg[sof + 3]]));
        let mut huge = jpeg[sof..sof + 2 + len].to_vec();
        huge[5..9].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
        let mut twice = jpeg[..sof + 2 + len].to_vec();
        twice.extend_from_slice(&huge);
        twice.extend_from_slice(&jpeg[sof + 2 + len..]);
        assert!(decode(&jpeg, false).is_some());
        assert!(decode(&twice, false).is_none());
    }

    #[test]
    fn leaves_baseline_and_truncated_files_to_libjpeg_turbo() {
        let baseline = progressive(&scene(64, 48), turbojpeg::Subsamp::Sub2x2, false);
        assert!(decode(&baseline, false).is_none());
        let full = progressive(&scene(64, 48), turbojpeg::Subsamp::Sub2x2, true);
        assert!(decode(&full, false).is_some());
        assert!(decode(&full[..full.len() - 2], false).is_none(), "no EOI");
        assert!(decode(&full[..full.len() / 2], false).is_none());
        assert!(decode(b"\xFF\xD8\xFF\xC2\x00", false).is_none());
    }
}
