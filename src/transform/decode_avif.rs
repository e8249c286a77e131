//! AVIF originals: the HEIF container read by [`super::heif`], the AV1 pictures by rav1d
//! ([`super::av1`]), then YUV → RGB here. The header (the primary item's `ispe`, `clap`,
//! `irot`/`imir`, alpha, bit depth, ICC) is read before any AV1 data is decoded, so the pixel
//! limit holds; each tile is also refused by the decoder if it is larger than that limit.
//!
//! What is shown is what browsers show: the clean-aperture crop (`clap`) when it is a whole
//! rectangle, then the rotation (`irot`) and mirror (`imir`), expressed as the EXIF orientation
//! the pipeline already applies; grids (`grid` items) assembled from their tiles and cut to the
//! canvas; alpha from the auxiliary alpha item (premultiplied alpha divided out). 10- and 12-bit
//! samples are rounded to 8 bits.
//!
//! Colour: the `nclx` box (else the AV1 sequence header) gives the YUV matrix and range; an ICC
//! profile in `colr` goes to the pipeline's ICC conversion like any other format's. Pictures
//! tagged with other primaries (BT.2020, Display P3) or an HDR transfer (PQ, HLG) are converted
//! to sRGB by [`super::cicp`], from the full-precision samples.

use super::av1::{self, Layout, Picture};
use super::heif::{Heif, Nclx, Property};
use super::TransformError;
use image::{DynamicImage, GrayAlphaImage, GrayImage, RgbImage, RgbaImage};

/// What the header states.
#[derive(Debug, Clone)]
pub(super) struct Stated {
    /// Stored width: after the clean-aperture crop, before rotation.
    pub(super) width: u32,
    /// Stored height.
    pub(super) height: u32,
    /// The rotation and mirror as an EXIF orientation, 1..=8.
    pub(super) orientation: u8,
    /// Whether an alpha item is present.
    pub(super) alpha: bool,
    /// Bits per sample.
    pub(super) bit_depth: u8,
    /// The ICC profile from `colr`.
    pub(super) icc: Option<Vec<u8>>,
}

/// The primary item, checked: a still AV1 picture or a grid of them.
struct Primary<'a> {
    heif: Heif<'a>,
    id: u32,
    /// The coded size (the grid's canvas for a grid).
    coded: (u32, u32),
    /// The `clap` rectangle, when there is a usable one.
    crop: Option<(u32, u32, u32, u32)>,
}

impl<'a> Primary<'a> {
    fn read(bytes: &'a [u8]) -> Result<Primary<'a>, TransformError> {
        let heif = Heif::parse(bytes)?;
        let id = heif.primary();
        let kind = heif.kind(id).ok_or_else(|| corrupt("the primary item is missing"))?;
        if &kind != b"av01" && &kind != b"grid" {
            return Err(TransformError::Unsupported(format!(
                "AVIF primary items of type {:?} are not decoded",
                String::from_utf8_lossy(&kind)
            )));
        }
        let coded = heif.coded_size(id)?;
        let crop = heif.clean_aperture(id, coded);
        Ok(Primary { heif, id, coded, crop })
    }

    /// The first AV1 item: the primary, or a grid's first tile.
    fn first_coded(&self) -> u32 {
        match self.heif.grid(self.id) {
            Ok((_, tiles)) => tiles.first().copied().unwrap_or(self.id),
            Err(_) => self.id,
        }
    }

    fn nclx(&self) -> Option<Nclx> {
        let pick = |p: &Property| match p {
            Property::Nclx(n) => Some(*n),
            _ => None,
        };
        self.heif.find(self.id, pick).or_else(|| self.heif.find(self.first_coded(), pick))
    }
}

/// Reads the header alone.
pub(super) fn header(bytes: &[u8]) -> Result<Stated, TransformError> {
    let p = Primary::read(bytes)?;
    let (width, height) = p.crop.map_or(p.coded, |(_, _, w, h)| (w, h));
    let bit_depth = p
        .heif
        .find(p.first_coded(), |q| match q {
            Property::Av1Config { bit_depth, .. } => Some(*bit_depth),
            _ => None,
        })
        .or_else(|| {
            p.heif.find(p.id, |q| match q {
                Property::BitsPerChannel(bits) => bits.first().copied(),
                _ => None,
            })
        })
        .unwrap_or(8);
    let icc = p.heif.find(p.id, |q| match q {
        Property::Icc(icc) => Some(icc.clone()),
        _ => None,
    });
    Ok(Stated {
        width,
        height,
        orientation: orientation(p.heif.rotation(p.id), p.heif.mirror(p.id)),
        alpha: p.heif.alpha_of(p.id).is_some(),
        bit_depth,
        icc,
    })
}

/// `irot` (anticlockwise quarter turns) then `imir` (0: top↔bottom, 1: left↔right), as the EXIF
/// orientation that shows the same picture.
pub(super) fn orientation(rotation: u8, mirror: Option<u8>) -> u8 {
    match (rotation & 3, mirror) {
        (0, None) => 1,
        (1, None) => 8,
        (2, None) => 3,
        (3, None) => 6,
        (0, Some(1)) | (2, Some(0)) => 2,
        (0, Some(_)) | (2, Some(_)) => 4,
        (1, Some(1)) | (3, Some(0)) => 7,
        (1, Some(_)) | (3, Some(_)) => 5,
        _ => 1,
    }
}

/// Decodes the primary image (clean aperture applied, not rotated: the pipeline orients it).
pub(super) fn decode(bytes: &[u8], max_pixels: u64) -> Result<DynamicImage, TransformError> {
    let p = Primary::read(bytes)?;
    let colour = assemble(&p, p.id, max_pixels)?;
    let nclx = p.nclx();
    let mut image = colour.to_image(nclx);
    if let Some(alpha_id) = p.heif.alpha_of(p.id) {
        let alpha = assemble(&p, alpha_id, max_pixels)?;
        if (alpha.width, alpha.height) != (colour.width, colour.height) {
            return Err(corrupt("the alpha image's size differs from the colour image's"));
        }
        let premultiplied = p.heif.references_from(p.id, b"prem").contains(&alpha_id);
        image = with_alpha(image, &alpha.alpha_samples(), premultiplied);
    }
    Ok(match p.crop {
        Some((x, y, w, h)) => image.crop_imm(x, y, w, h),
        None => image,
    })
}

/// A picture or a grid of them, as one set of full-size planes.
struct Planes {
    width: u32,
    height: u32,
    bit_depth: u8,
    /// Y, and Cb/Cr upsampled to full size (empty for monochrome).
    planes: [Vec<u16>; 3],
    /// Colour code points from the AV1 sequence header.
    cicp: (u16, u16, u16, bool),
}

fn assemble(p: &Primary, id: u32, max_pixels: u64) -> Result<Planes, TransformError> {
    if p.heif.kind(id) != Some(*b"grid") {
        return Ok(full_size(av1::decode(&p.heif.data(id)?, max_pixels)?));
    }
    let (grid, tiles) = p.heif.grid(id)?;
    if u64::from(grid.width) * u64::from(grid.height) > max_pixels {
        return Err(TransformError::TooManyPixels(grid.width, grid.height, max_pixels));
    }
    let mut canvas: Option<Planes> = None;
    let mut tile_size = (0, 0);
    for (n, &tile) in tiles.iter().enumerate() {
        let picture = full_size(av1::decode(&p.heif.data(tile)?, max_pixels)?);
        let canvas = match &mut canvas {
            Some(c) => c,
            None => {
                // HEIF § 6.6.2.3: tiles are all one size, and together just cover the canvas.
                tile_size = (picture.width, picture.height);
                let covers = |tile: u32, count: u32, canvas: u32| {
                    u64::from(tile) * u64::from(count) >= u64::from(canvas)
                        && u64::from(tile) * u64::from(count - 1) < u64::from(canvas)
                };
                if !covers(tile_size.0, grid.columns, grid.width)
                    || !covers(tile_size.1, grid.rows, grid.height)
                {
                    return Err(corrupt("a grid's tiles do not cover its canvas"));
                }
                let n = (grid.width * grid.height) as usize;
                let chroma = if picture.planes[1].is_empty() { 0 } else { n };
                canvas.insert(Planes {
                    width: grid.width,
                    height: grid.height,
                    bit_depth: picture.bit_depth,
                    planes: [vec![0; n], vec![0; chroma], vec![0; chroma]],
                    cicp: picture.cicp,
                })
            }
        };
        if (picture.width, picture.height) != tile_size || picture.bit_depth != canvas.bit_depth {
            return Err(corrupt("a grid's tiles differ in size or depth"));
        }
        let (x0, y0) = ((n as u32 % grid.columns) * tile_size.0, (n as u32 / grid.columns) * tile_size.1);
        let w = tile_size.0.min(grid.width - x0) as usize;
        for (dst, src) in canvas.planes.iter_mut().zip(picture.planes.iter()) {
            if dst.is_empty() || src.is_empty() {
                continue;
            }
            for row in 0..tile_size.1.min(grid.height - y0) as usize {
                let d = (y0 as usize + row) * grid.width as usize + x0 as usize;
                let s = row * tile_size.0 as usize;
                dst[d..d + w].copy_from_slice(&src[s..s + w]);
            }
        }
    }
    canvas.ok_or_else(|| corrupt("a grid has no tiles"))
}

/// A decoded picture with its chroma brought to full size (bilinear, centred samples).
fn full_size(p: Picture) -> Planes {
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
        let plane = if sub_x { double_columns(&plane, cw, ch, p.width) } else { plane };
        if sub_y {
            double_rows(&plane, p.width, ch, p.height)
        } else {
            plane
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
    /// the container has none, of the AV1 sequence header.
    fn to_image(&self, nclx: Option<Nclx>) -> DynamicImage {
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
            let grey = y.iter().map(|&s| to8(luma[usize::from(s).min(max)])).collect();
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
    fn alpha_samples(&self) -> Vec<u8> {
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

fn with_alpha(image: DynamicImage, alpha: &[u8], premultiplied: bool) -> DynamicImage {
    let unmultiply = |c: u8, a: u8| {
        if !premultiplied || a == 255 {
            c
        } else if a == 0 {
            0
        } else {
            ((u32::from(c) * 255 + u32::from(a) / 2) / u32::from(a)).min(255) as u8
        }
    };
    let (w, h) = (image.width(), image.height());
    match image {
        DynamicImage::ImageLuma8(grey) => {
            let pixels = grey.as_raw().iter().zip(alpha).flat_map(|(&g, &a)| [unmultiply(g, a), a]).collect();
            DynamicImage::ImageLumaA8(GrayAlphaImage::from_raw(w, h, pixels).expect("size"))
        }
        other => {
            let rgb = other.into_rgb8();
            let pixels = rgb
                .as_raw()
                .chunks_exact(3)
                .zip(alpha)
                .flat_map(|(c, &a)| [unmultiply(c[0], a), unmultiply(c[1], a), unmultiply(c[2], a), a])
                .collect();
            DynamicImage::ImageRgba8(RgbaImage::from_raw(w, h, pixels).expect("size"))
        }
    }
}

fn corrupt(what: &str) -> TransformError {
    TransformError::Corrupt(format!("AVIF: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_then_mirror_is_the_exif_orientation_that_shows_the_same_picture() {
        // Checked on a 2×1 picture [a b]: irot 1 (90° anticlockwise) shows a above b, which
        // EXIF 8 (rotate 270° clockwise) also shows.
        assert_eq!(orientation(0, None), 1);
        assert_eq!(orientation(1, None), 8);
        assert_eq!(orientation(3, None), 6);
        assert_eq!(orientation(0, Some(1)), 2);
        assert_eq!(orientation(0, Some(0)), 4);
        assert_eq!(orientation(2, Some(1)), 4);
        assert_eq!(orientation(1, Some(1)), 7);
        assert_eq!(orientation(3, Some(1)), 5);
    }

    #[test]
    fn chroma_doubling_keeps_flat_areas_and_blends_edges() {
        assert_eq!(double_columns(&[100, 100], 2, 1, 4), vec![100, 100, 100, 100]);
        assert_eq!(double_columns(&[0, 400], 2, 1, 4), vec![0, 100, 300, 400]);
        assert_eq!(double_columns(&[8], 1, 1, 1), vec![8]);
        assert_eq!(double_rows(&[0, 400], 1, 2, 3), vec![0, 100, 300]);
    }
}
