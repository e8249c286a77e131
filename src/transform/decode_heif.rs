//! AVIF and HEIC originals: the HEIF container read by [`super::heif`], the pictures by the
//! codec the container names — AV1 through rav1d ([`super::av1`]), HEVC through libde265
//! ([`super::hevc`], the `heic` feature) — then YUV → RGB here. The header (the primary item's
//! `ispe`, `clap`, `irot`/`imir`, alpha, bit depth, ICC) is read before any coded data is
//! decoded, so the pixel limit holds; each picture is also refused before decoding if its own
//! header (the AV1 frame header, the HEVC sequence parameter set) is larger than that limit.
//!
//! What is shown is what browsers show: the clean-aperture crop (`clap`) when it is a whole
//! rectangle, then the rotation (`irot`) and mirror (`imir`), expressed as the EXIF orientation
//! the pipeline already applies; grids (`grid` items, how phones store HEIC photos) assembled
//! from their tiles and cut to the canvas; alpha from the auxiliary alpha item (premultiplied
//! alpha divided out). 10- and 12-bit samples are rounded to 8 bits.
//!
//! Colour: the `nclx` box (else the codec's own colour description) gives the YUV matrix and
//! range; an ICC profile in `colr` goes to the pipeline's ICC conversion like any other format's.
//! Pictures tagged with other primaries (BT.2020, Display P3) or an HDR transfer (PQ, HLG) are
//! converted to sRGB by [`super::cicp`], from the full-precision samples.

use super::av1;
use super::heif::{Heif, Nclx, Picture, Property};
use super::yuv::{full_size, Planes, Upsampling};
use super::TransformError;
use image::{DynamicImage, GrayAlphaImage, RgbaImage};
use std::time::Instant;

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

/// The codec of a HEIF file's pictures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Codec {
    /// AV1: an AVIF.
    Av1,
    /// HEVC: a HEIC.
    Hevc,
}

impl Codec {
    /// The item type of one coded picture.
    fn item_type(self) -> [u8; 4] {
        match self {
            Codec::Av1 => *b"av01",
            Codec::Hevc => *b"hvc1",
        }
    }

    /// The format's name in messages.
    fn name(self) -> &'static str {
        match self {
            Codec::Av1 => "AVIF",
            Codec::Hevc => "HEIC",
        }
    }

    /// How its chroma is brought to full size: as libavif (libyuv's bilinear) and libheif (each
    /// sample repeated, its default) do, so a picture looks as the format's reference library
    /// shows it. For HEIC that is also the closer to the encoded original on the test pictures
    /// (x265 through libheif: mean error 0.85 against bilinear's 1.29 levels).
    fn upsampling(self) -> Upsampling {
        match self {
            Codec::Av1 => Upsampling::Bilinear,
            Codec::Hevc => Upsampling::Nearest,
        }
    }

    fn corrupt(self, what: &str) -> TransformError {
        TransformError::Corrupt(format!("{}: {what}", self.name()))
    }
}

/// The primary item, checked: a still picture or a grid of them.
struct Primary<'a> {
    codec: Codec,
    heif: Heif<'a>,
    id: u32,
    /// The coded size (the grid's canvas for a grid).
    coded: (u32, u32),
    /// The `clap` rectangle, when there is a usable one.
    crop: Option<(u32, u32, u32, u32)>,
}

impl<'a> Primary<'a> {
    fn read(bytes: &'a [u8], codec: Codec) -> Result<Primary<'a>, TransformError> {
        let heif = Heif::parse(bytes)?;
        let id = heif.primary();
        let kind = heif.kind(id).ok_or_else(|| codec.corrupt("the primary item is missing"))?;
        if kind != codec.item_type() && &kind != b"grid" {
            return Err(TransformError::Unsupported(format!(
                "{} primary items of type {:?} are not decoded",
                codec.name(),
                String::from_utf8_lossy(&kind)
            )));
        }
        let coded = heif.coded_size(id)?;
        let crop = heif.clean_aperture(id, coded);
        Ok(Primary { codec, heif, id, coded, crop })
    }

    /// Decodes one coded picture (the primary, a tile, or an alpha item).
    fn picture(&self, id: u32, max_pixels: u64) -> Result<Picture, TransformError> {
        let kind = self.heif.kind(id);
        if kind != Some(self.codec.item_type()) {
            return Err(self.codec.corrupt(&format!(
                "a picture item is of type {:?}",
                String::from_utf8_lossy(&kind.unwrap_or_default())
            )));
        }
        let data = self.heif.data(id)?;
        // The coded picture may be larger than `ispe` by whole coding blocks, never more: a
        // parameter set stating a larger one is refused before the decoder allocates for it.
        let max_pixels = match self.heif.ispe(id).ok() {
            Some((w, h)) => max_pixels.min(u64::from(w + CODING_BLOCK) * u64::from(h + CODING_BLOCK)),
            None => max_pixels,
        };
        let picture = match self.codec {
            Codec::Av1 => av1::decode(&data, max_pixels)?,
            Codec::Hevc => self.hevc(id, &data, max_pixels)?,
        };
        // `ispe` is the picture's size: a coded picture larger than it (whole coding blocks) is
        // cut to it, as libheif does; one smaller than it is not the picture the header states.
        match self.heif.ispe(id).ok() {
            Some((w, h)) if (w, h) != (picture.width, picture.height) => {
                if w > picture.width || h > picture.height {
                    return Err(self.codec.corrupt(&format!(
                        "a {}×{} picture is smaller than its stated {w}×{h}",
                        picture.width, picture.height
                    )));
                }
                Ok(picture.cropped(w, h))
            }
            _ => Ok(picture),
        }
    }

    #[cfg(feature = "heic")]
    fn hevc(&self, id: u32, data: &[u8], max_pixels: u64) -> Result<Picture, TransformError> {
        let config = self.hevc_config(id).ok_or_else(|| self.codec.corrupt("a picture has no hvcC"))?;
        super::hevc::decode(config, data, max_pixels)
    }

    #[cfg(not(feature = "heic"))]
    fn hevc(&self, _: u32, _: &[u8], _: u64) -> Result<Picture, TransformError> {
        Err(TransformError::Unsupported(
            "this build of pixflow decodes no HEIC (the heic feature is off)".into(),
        ))
    }

    /// An item's `hvcC` record.
    fn hevc_config(&self, id: u32) -> Option<&[u8]> {
        self.heif.properties(id).find_map(|p| match p {
            Property::HevcConfig(record) => Some(record.as_slice()),
            _ => None,
        })
    }

    /// Bits per sample, from the codec's configuration, else `pixi`.
    fn bit_depth(&self) -> u8 {
        let first = self.first_coded();
        let configured = match self.codec {
            Codec::Av1 => self.heif.find(first, |q| match q {
                Property::Av1Config { bit_depth, .. } => Some(*bit_depth),
                _ => None,
            }),
            Codec::Hevc => self.hevc_config(first).and_then(|r| r.get(17)).map(|b| (b & 7) + 8),
        };
        configured
            .or_else(|| {
                self.heif.find(self.id, |q| match q {
                    Property::BitsPerChannel(bits) => bits.first().copied(),
                    _ => None,
                })
            })
            .unwrap_or(8)
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
pub(super) fn header(bytes: &[u8], codec: Codec) -> Result<Stated, TransformError> {
    let p = Primary::read(bytes, codec)?;
    let (width, height) = p.crop.map_or(p.coded, |(_, _, w, h)| (w, h));
    let bit_depth = p.bit_depth();
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
pub(super) fn decode(
    bytes: &[u8],
    codec: Codec,
    max_pixels: u64,
    deadline: Instant,
) -> Result<DynamicImage, TransformError> {
    let p = Primary::read(bytes, codec)?;
    let colour = assemble(&p, p.id, max_pixels, deadline)?;
    let nclx = p.nclx();
    let mut image = colour.to_image(nclx);
    if let Some(alpha_id) = p.heif.alpha_of(p.id) {
        let alpha = assemble(&p, alpha_id, max_pixels, deadline)?;
        if (alpha.width, alpha.height) != (colour.width, colour.height) {
            return Err(codec.corrupt("the alpha image's size differs from the colour image's"));
        }
        let premultiplied = p.heif.references_from(p.id, b"prem").contains(&alpha_id);
        image = with_alpha(image, &alpha.alpha_samples(), premultiplied);
    }
    Ok(match p.crop {
        Some((x, y, w, h)) => image.crop_imm(x, y, w, h),
        None => image,
    })
}

fn assemble(p: &Primary, id: u32, max_pixels: u64, deadline: Instant) -> Result<Planes, TransformError> {
    if p.heif.kind(id) != Some(*b"grid") {
        return Ok(full_size(p.picture(id, max_pixels)?, p.codec.upsampling()));
    }
    let (grid, tiles) = p.heif.grid(id)?;
    let canvas_pixels = u64::from(grid.width) * u64::from(grid.height);
    if canvas_pixels > max_pixels {
        return Err(TransformError::TooManyPixels(grid.width, grid.height, max_pixels));
    }
    // A tile is never larger than the canvas it covers.
    let max_pixels = canvas_pixels;
    // A grid may name one tile item many times: each item is decoded once and pasted wherever
    // it stands (a 1-px tile named 65,536 times is one decode, not 65,536).
    let mut distinct: Vec<u32> = Vec::new();
    let mut places: std::collections::HashMap<u32, Vec<usize>> = std::collections::HashMap::new();
    for (n, &tile) in tiles.iter().enumerate() {
        let at = places.entry(tile).or_default();
        if at.is_empty() {
            distinct.push(tile);
        }
        at.push(n);
    }
    if distinct.len() > MAX_TILES {
        return Err(TransformError::OverLimit(format!(
            "the {} grid has {} tiles, over the limit of {MAX_TILES}",
            p.codec.name(),
            distinct.len()
        )));
    }
    // Tiles are decoded on up to TILE_THREADS threads (as libheif does), pasted as they arrive;
    // the bounded channel keeps at most a few decoded tiles waiting. Each worker stops at the
    // deadline between tiles.
    let workers =
        std::thread::available_parallelism().map_or(1, |n| n.get()).min(TILE_THREADS).min(distinct.len());
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel(workers);
        for _ in 0..workers {
            let (tx, next, distinct) = (tx.clone(), &next, &distinct);
            scope.spawn(move || loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&tile) = distinct.get(n) else { break };
                let picture = match super::check(deadline) {
                    Ok(()) => {
                        p.picture(tile, max_pixels).map(|picture| full_size(picture, p.codec.upsampling()))
                    }
                    Err(e) => Err(e),
                };
                let failed = picture.is_err();
                // A closed channel: the assembly failed and stopped listening.
                if tx.send((tile, picture)).is_err() || failed {
                    break;
                }
            });
        }
        drop(tx);
        let mut canvas: Option<Planes> = None;
        let mut tile_size = (0, 0);
        for (tile, picture) in rx {
            let picture = picture?;
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
                        return Err(p.codec.corrupt("a grid's tiles do not cover its canvas"));
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
            if (picture.width, picture.height) != tile_size
                || picture.bit_depth != canvas.bit_depth
                || picture.planes[1].is_empty() != canvas.planes[1].is_empty()
            {
                return Err(p.codec.corrupt("a grid's tiles differ in size, depth or layout"));
            }
            for &n in places.get(&tile).map_or(&[][..], Vec::as_slice) {
                paste(canvas, &picture, n, grid.columns, tile_size);
            }
        }
        canvas.ok_or_else(|| p.codec.corrupt("a grid has no tiles"))
    })
}

/// Copies a decoded tile into its place, the `n`th of a grid `columns` wide, cut to the canvas.
fn paste(canvas: &mut Planes, picture: &Planes, n: usize, columns: u32, tile_size: (u32, u32)) {
    let (x0, y0) = ((n as u32 % columns) * tile_size.0, (n as u32 / columns) * tile_size.1);
    if x0 >= canvas.width || y0 >= canvas.height {
        return;
    }
    let w = tile_size.0.min(canvas.width - x0) as usize;
    for (dst, src) in canvas.planes.iter_mut().zip(picture.planes.iter()) {
        if dst.is_empty() || src.is_empty() {
            continue;
        }
        for row in 0..tile_size.1.min(canvas.height - y0) as usize {
            let d = (y0 as usize + row) * canvas.width as usize + x0 as usize;
            let s = row * tile_size.0 as usize;
            dst[d..d + w].copy_from_slice(&src[s..s + w]);
        }
    }
}

/// The most distinct tiles one grid may have: a 50 MP photo in 256-px tiles has 763; HEIF's own
/// grids of phones have 48.
pub(super) const MAX_TILES: usize = 4096;

/// The largest coding block of AV1 (a superblock) and HEVC (a coding tree block): how far a
/// coded picture may reach past its stated size.
const CODING_BLOCK: u32 = 128;

/// The most threads one grid's tiles are decoded on. A request already holds a transform slot
/// (one per core); a phone's 12 MP HEIC is 48 tiles, and two threads halve its decode when the
/// other core is free, as libheif's own tile threads do.
const TILE_THREADS: usize = 2;

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
}
