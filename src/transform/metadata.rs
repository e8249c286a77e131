//! `f_json`: what the source is and what the options would make of it, from the header alone (GIF
//! and WebP frames are counted by walking their blocks, not by decoding them).

use super::decode::SourceFormat;
use super::{format, Limits, TransformError};
use crate::spec::TransformSpec;

/// The JSON body of an `f_json` answer.
#[derive(Debug, serde::Serialize)]
pub struct Metadata {
    /// The original.
    pub source: SourceInfo,
    /// What the same options without `f_json` would produce.
    pub output: OutputInfo,
}

/// The original as stored.
#[derive(Debug, serde::Serialize)]
pub struct SourceInfo {
    /// Stored width.
    pub width: u32,
    /// Stored height.
    pub height: u32,
    /// `jpeg`, `png`, `webp`, `gif`, `bmp` or `tiff`.
    pub format: &'static str,
    /// Size in bytes.
    pub bytes: usize,
    /// EXIF orientation, 1..=8.
    pub orientation: u8,
    /// Whether the pixel layout has an alpha channel.
    pub alpha: bool,
    /// Frames (animations); 1 for still images.
    pub frames: u32,
}

/// The result the options describe.
#[derive(Debug, serde::Serialize)]
pub struct OutputInfo {
    /// Output width.
    pub width: u32,
    /// Output height.
    pub height: u32,
    /// Output format (for JPEG-or-PNG choices, decided by whether the source has alpha).
    pub format: &'static str,
}

/// Describes `bytes` under `spec`.
pub fn describe(bytes: &[u8], spec: &TransformSpec, limits: &Limits) -> Result<Metadata, TransformError> {
    let (header, _, plan) = super::planned(bytes, spec, limits)?;
    let (width, height) = plan.output();
    // Padding makes an opaque canvas, so only the source's alpha decides JPEG or PNG.
    let out_format = format::output_format(None, header.format, header.alpha && plan.canvas.is_none());
    Ok(Metadata {
        source: SourceInfo {
            width: header.width,
            height: header.height,
            format: source_name(header.format),
            bytes: bytes.len(),
            orientation: header.orientation,
            alpha: header.alpha,
            frames: frames(header.format, bytes),
        },
        output: OutputInfo { width, height, format: out_format.as_str() },
    })
}

fn source_name(f: SourceFormat) -> &'static str {
    match f {
        SourceFormat::Jpeg => "jpeg",
        SourceFormat::Png => "png",
        SourceFormat::Webp => "webp",
        SourceFormat::Gif => "gif",
        SourceFormat::Bmp => "bmp",
        SourceFormat::Tiff => "tiff",
    }
}

fn frames(format: SourceFormat, bytes: &[u8]) -> u32 {
    match format {
        SourceFormat::Gif => gif_frames(bytes).max(1),
        SourceFormat::Webp => webp_frames(bytes).max(1),
        _ => 1,
    }
}

/// Counts GIF image descriptors, skipping colour tables and data sub-blocks.
fn gif_frames(b: &[u8]) -> u32 {
    let table = |packed: u8| if packed & 0x80 != 0 { 3usize << ((packed & 7) + 1) } else { 0 };
    let Some(&packed) = b.get(10) else { return 0 };
    let mut i = 13 + table(packed);
    let skip_sub_blocks = |mut i: usize| {
        while let Some(&len) = b.get(i) {
            i += 1 + usize::from(len);
            if len == 0 {
                break;
            }
        }
        i
    };
    let mut n = 0;
    while let Some(&block) = b.get(i) {
        match block {
            0x2C => {
                n += 1;
                let Some(&packed) = b.get(i + 9) else { break };
                i = skip_sub_blocks(i + 10 + table(packed) + 1);
            }
            0x21 => i = skip_sub_blocks(i + 2),
            _ => break, // 0x3B trailer, or damage
        }
    }
    n
}

/// Counts the `ANMF` chunks of an animated WebP.
fn webp_frames(b: &[u8]) -> u32 {
    let mut i = 12;
    let mut n = 0;
    while i + 8 <= b.len() {
        let size = u32::from_le_bytes([b[i + 4], b[i + 5], b[i + 6], b[i + 7]]) as usize;
        if &b[i..i + 4] == b"ANMF" {
            n += 1;
        }
        i = i.saturating_add(8).saturating_add(size + (size & 1));
    }
    n
}
