//! YUV → RGB for the HEIF codecs' pictures (AV1, HEVC): chroma brought to full size, then the
//! matrix and range of the `nclx` box (or of the codec's own header), from the full-precision
//! samples, with the wide-gamut and HDR conversion of [`super::cicp`] on the way to 8 bits. Own
//! code because the `yuv` crate lacks 10/12-bit 4:0:0, 4:4:4 to RGB and high-depth identity.

use super::heif::{Layout, Nclx, Picture};
use image::{DynamicImage, GrayImage, RgbImage};

/// A picture or a grid of them, as one set of full-size planes.
pub(super) struct Planes {
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) bit_depth: u8,
    /// Y, and Cb/Cr upsampled to full size (empty for monochrome).
    pub(super) planes: [Vec<u16>; 3],
    /// Colour code points from the codec's own header.
    pub(super) cicp: (u16, u16, u16, bool),
}

/// How chroma is brought to full size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Upsampling {
    /// Bilinear, centred samples (libavif/libyuv's, for AV1).
    Bilinear,
    /// Each chroma sample repeated (libheif's default, for HEVC).
    Nearest,
}

/// A decoded picture with its chroma brought to full size.
pub(super) fn full_size(p: Picture, upsampling: Upsampling) -> Planes {
    let (cw, ch) = p.chroma_size();
    let [y, u, v] = p.planes;
    let (sub_x, sub_y) = match p.layout {
        Layout::Yuv420 => (true, true),
        Layout::Yuv422 => (true, false),
        Layout::Yuv444 | Layout::Monochrome => (false, false),
    };
    let up = |plane: Vec<u16>| {
        if plane.is_empty() {
            return plane;
        }
        let (w, h) = (p.width as usize, p.height as usize);
        match (upsampling, sub_x, sub_y) {
            (_, false, false) => plane,
            (Upsampling::Nearest, _, _) => {
                let (cw, step_x, step_y) = (cw as usize, 1 + usize::from(sub_x), 1 + usize::from(sub_y));
                (0..h)
                    .flat_map(|y| {
                        let row = &plane[(y / step_y) * cw..][..cw];
                        (0..w).map(move |x| row[x / step_x])
                    })
                    .collect()
            }
            (Upsampling::Bilinear, _, _) => {
                let plane = if sub_x { double_columns(&plane, cw, ch, p.width) } else { plane };
                if sub_y {
                    double_rows(&plane, p.width, ch, p.height)
                } else {
                    plane
                }
            }
        }
    };
    let (u, v) = (up(u), up(v));
    Planes { width: p.width, height: p.height, bit_depth: p.bit_depth, planes: [y, u, v], cicp: p.cicp }
}

/// Columns doubled to `out_w`: each output sample ¾ of its nearer source sample, ¼ of the other.
fn double_columns(src: &[u16], w: u32, h: u32, out_w: u32) -> Vec<u16> {
    let (w, out_w) = (w as usize, out_w as usize);
    let mut out = Vec::with_capacity(out_w * h as usize);
    for row in src.chunks_exact(w) {
        for x in 0..out_w {
            let near = (x / 2).min(w - 1);
            let far = if x % 2 == 0 { near.saturating_sub(1) } else { (near + 1).min(w - 1) };
            out.push(((3 * u32::from(row[near]) + u32::from(row[far]) + 2) / 4) as u16);
        }
    }
    out
}

/// Rows doubled to `out_h`, as [`double_columns`] does columns.
fn double_rows(src: &[u16], w: u32, h: u32, out_h: u32) -> Vec<u16> {
    let (w, h) = (w as usize, h as usize);
    let mut out = Vec::with_capacity(w * out_h as usize);
    for y in 0..out_h as usize {
        let near = (y / 2).min(h - 1);
        let far = if y % 2 == 0 { near.saturating_sub(1) } else { (near + 1).min(h - 1) };
        let (a, b) = (&src[near * w..(near + 1) * w], &src[far * w..(far + 1) * w]);
        out.extend(a.iter().zip(b).map(|(&a, &b)| ((3 * u32::from(a) + u32::from(b) + 2) / 4) as u16));
    }
    out
}

impl Planes {
    /// 8-bit RGB (or grey for a monochrome picture), by the matrix and range of `nclx` or, when
    /// the container has none, of the codec's own header.
    pub(super) fn to_image(&self, nclx: Option<Nclx>) -> DynamicImage {
        let (matrix, full_range) = match nclx {
            Some(n) => (n.matrix, n.full_range),
            None => (self.cicp.2, self.cicp.3),
        };
        let max = ((1u32 << self.bit_depth) - 1) as usize;
        let (y_offset, y_range) = self.luma_range(full_range);
        let c_range = if full_range { max as f32 } else { 224.0 * f32::from(1u16 << (self.bit_depth - 8)) };
        let half = f32::from(1u16 << (self.bit_depth - 1));
        // Tables from sample value to its contribution, in 0..=255 units.
        let luma: Vec<f32> = (0..=max).map(|s| (s as f32 - y_offset) / y_range * 255.0).collect();
        let chroma: Vec<f32> = (0..=max).map(|s| (s as f32 - half) / c_range * 255.0).collect();
        let n = (self.width * self.height) as usize;
        let [y, u, v] = &self.planes;
        let sample = |plane: &[u16], i: usize| usize::from(plane[i]).min(max);
        let to8 = |x: f32| (x + 0.5).clamp(0.0, 255.0) as u8;
        let converter = nclx.filter(super::cicp::converts).map(|n| super::cicp::Converter::new(&n));
        let emit = |rgb: &mut Vec<u8>, px: [f32; 3]| match &converter {
            None => rgb.extend(px.map(to8)),
            Some(c) => rgb.extend(c.apply(px.map(|v| v / 255.0)).map(|v| to8(v * 255.0))),
        };
        if u.is_empty() {
            // A grey picture with an HDR transfer goes through the same tone curve, one table
            // entry per sample value (a neutral grey stays neutral through the primaries).
            let level: Vec<u8> = match &converter {
                None => luma.iter().map(|&l| to8(l)).collect(),
                Some(c) => luma.iter().map(|&l| to8(c.apply([l / 255.0; 3])[1] * 255.0)).collect(),
            };
            let grey = y.iter().map(|&s| level[usize::from(s).min(max)]).collect();
            return DynamicImage::ImageLuma8(
                GrayImage::from_raw(self.width, self.height, grey).expect("size"),
            );
        }
        let mut rgb = Vec::with_capacity(n * 3);
        match matrix {
            // Identity (GBR): Y is green, Cb blue, Cr red; full samples, no offset on chroma.
            0 => {
                for i in 0..n {
                    emit(&mut rgb, [luma[sample(v, i)], luma[sample(y, i)], luma[sample(u, i)]]);
                }
            }
            // YCgCo: Cb carries Cg, Cr carries Co.
            8 => {
                for i in 0..n {
                    let (yy, cg, co) = (luma[sample(y, i)], chroma[sample(u, i)], chroma[sample(v, i)]);
                    let t = yy - cg;
                    emit(&mut rgb, [t + co, yy + cg, t - co]);
                }
            }
            m => {
                let (kr, kb) = coefficients(m);
                let kg = 1.0 - kr - kb;
                let (cr_r, cb_b) = (2.0 * (1.0 - kr), 2.0 * (1.0 - kb));
                let (cb_g, cr_g) = (-kb * cb_b / kg, -kr * cr_r / kg);
                for i in 0..n {
                    let (yy, cb, cr) = (luma[sample(y, i)], chroma[sample(u, i)], chroma[sample(v, i)]);
                    emit(&mut rgb, [yy + cr_r * cr, yy + cb_g * cb + cr_g * cr, yy + cb_b * cb]);
                }
            }
        }
        DynamicImage::ImageRgb8(RgbImage::from_raw(self.width, self.height, rgb).expect("size"))
    }

    /// Luma's black level and the span from it to white, in samples of this bit depth.
    fn luma_range(&self, full_range: bool) -> (f32, f32) {
        if full_range {
            (0.0, ((1u32 << self.bit_depth) - 1) as f32)
        } else {
            let scale = f32::from(1u16 << (self.bit_depth - 8));
            (16.0 * scale, 219.0 * scale)
        }
    }

    /// The luma plane of an alpha picture as 8-bit alpha (limited range expanded).
    pub(super) fn alpha_samples(&self) -> Vec<u8> {
        let (offset, range) = self.luma_range(self.cicp.3);
        self.planes[0]
            .iter()
            .map(|&a| ((f32::from(a) - offset) / range * 255.0 + 0.5).clamp(0.0, 255.0) as u8)
            .collect()
    }
}

/// Kr and Kb of a matrix-coefficients code point (H.273 table 4); unspecified is BT.601, as
/// libavif reads it.
fn coefficients(matrix: u16) -> (f32, f32) {
    match matrix {
        1 => (0.2126, 0.0722),
        4 => (0.30, 0.11),
        7 => (0.212, 0.087),
        9 | 10 => (0.2627, 0.0593),
        _ => (0.299, 0.114),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chroma_doubling_keeps_flat_areas_and_blends_edges() {
        assert_eq!(double_columns(&[100, 100], 2, 1, 4), vec![100, 100, 100, 100]);
        assert_eq!(double_columns(&[0, 400], 2, 1, 4), vec![0, 100, 300, 400]);
        assert_eq!(double_columns(&[8], 1, 1, 1), vec![8]);
        assert_eq!(double_rows(&[0, 400], 1, 2, 3), vec![0, 100, 300]);
    }

    #[test]
    fn nearest_upsampling_repeats_each_chroma_sample() {
        let picture = Picture {
            width: 3,
            height: 2,
            bit_depth: 8,
            layout: Layout::Yuv420,
            planes: [vec![0; 6], vec![10, 20], vec![30, 40]],
            cicp: (2, 2, 2, false),
        };
        let planes = full_size(picture, Upsampling::Nearest);
        assert_eq!(planes.planes[1], vec![10, 10, 20, 10, 10, 20]);
        assert_eq!(planes.planes[2], vec![30, 30, 40, 30, 30, 40]);
    }
}
