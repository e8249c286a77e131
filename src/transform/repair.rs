//! Byte-level repairs of files that browsers show and the `image` crate's decoders refuse, made
//! before decoding and only when the file needs them (otherwise the bytes are borrowed as they are):
//!
//! - a GIF with no colour table at all gets a default one — a grey ramp, so indices read as grey
//!   levels, as Pillow shows such files;
//! - a GIF's unknown extension blocks are dropped (the spec tells decoders to skip them);
//! - an OS/2 2.x BMP header (16 to 64 bytes) becomes the Windows `BITMAPINFOHEADER` it extends,
//!   and a plane count other than 1 (a field Windows ignores) becomes 1;
//! - an APNG whose animation does not decode (frames out of sequence, missing, fewer than
//!   `acTL` says) becomes the plain PNG of its default image, which is what browsers show for it
//!   ([`apng_still`]);
//! - a JPEG with stray bytes between its header segments (an Adobe APP14 one byte short, whose
//!   last byte is left outside it) loses them, as libjpeg skips them with a warning
//!   ([`jpeg_header_strays`]).

use super::gif_blocks::Block;
use std::borrow::Cow;

/// The PNG without its animation chunks (`acTL`, `fcTL`, `fdAT`): the default image alone, as a
/// browser shows an APNG whose animation is broken. `None` when `bytes` is not an APNG.
pub(super) fn apng_still(bytes: &[u8]) -> Option<Vec<u8>> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !bytes.starts_with(SIGNATURE) {
        return None;
    }
    let mut out = SIGNATURE.to_vec();
    let (mut at, mut animated) = (SIGNATURE.len(), false);
    while at + 12 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes")) as usize;
        let end = at.saturating_add(12).saturating_add(len).min(bytes.len());
        let kind = &bytes[at + 4..at + 8];
        match kind {
            b"acTL" | b"fcTL" | b"fdAT" => animated = true,
            _ => out.extend_from_slice(&bytes[at..end]),
        }
        if kind == b"IEND" {
            break;
        }
        at = end;
    }
    animated.then_some(out)
}

/// The JPEG without the stray bytes between its header segments (before the first scan), where
/// a marker's `FF` should be. `None` when there are none (or `bytes` is not a JPEG).
pub(super) fn jpeg_header_strays(bytes: &[u8]) -> Option<Vec<u8>> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut out = bytes[..2].to_vec();
    let (mut at, mut dropped) = (2, false);
    while at + 4 <= bytes.len() {
        if bytes[at] != 0xFF {
            dropped = true;
            at += 1;
            continue;
        }
        let marker = bytes[at + 1];
        if marker == 0xFF {
            at += 1; // fill bytes before a marker are allowed; keep one
            continue;
        }
        let len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        if marker == 0xDA {
            out.extend_from_slice(&bytes[at..]);
            return dropped.then_some(out);
        }
        let end = at.saturating_add(2).saturating_add(len).min(bytes.len());
        out.extend_from_slice(&bytes[at..end]);
        at = end;
    }
    None
}

/// The GIF, repaired if it needs to be.
pub(super) fn gif(bytes: &[u8]) -> Cow<'_, [u8]> {
    match gif_blocks(bytes) {
        Some(fix) if fix.needs_palette || !fix.unknown.is_empty() => Cow::Owned(fix.apply(bytes)),
        _ => Cow::Borrowed(bytes),
    }
}

/// What a GIF needs.
struct GifFix {
    /// No global table and a frame without a local one.
    needs_palette: bool,
    /// Byte ranges of unknown extension blocks.
    unknown: Vec<(usize, usize)>,
}

impl GifFix {
    fn apply(&self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes.len() + 768);
        out.extend_from_slice(&bytes[..13]);
        let mut from = 13;
        if self.needs_palette {
            out[10] |= 0x87; // a global colour table of 256 entries
            out.extend((0..=255u8).flat_map(|v| [v, v, v]));
        }
        for &(start, end) in &self.unknown {
            out.extend_from_slice(&bytes[from..start]);
            from = end;
        }
        out.extend_from_slice(&bytes[from..]);
        out
    }
}

/// Walks the GIF's blocks; `None` when the structure is not one this can reason about (the
/// decoder then reports it as it is).
fn gif_blocks(b: &[u8]) -> Option<GifFix> {
    let blocks = super::gif_blocks::blocks(b)?;
    let global = blocks.global_table;
    let mut fix = GifFix { needs_palette: false, unknown: Vec::new() };
    for block in blocks {
        match block {
            // Trailing junk: what came before is the image.
            Block::Trailer | Block::Junk => return Some(fix),
            Block::Extension { label, start, end } => {
                if !matches!(label, 0xF9 | 0xFE | 0x01 | 0xFF) {
                    fix.unknown.push((start, end));
                }
            }
            Block::Image { local_table, end, .. } => {
                end?;
                fix.needs_palette |= global == 0 && local_table == 0;
            }
        }
    }
    None
}

/// The BMP, with an OS/2 2.x info header rewritten as a Windows one.
pub(super) fn bmp(bytes: &[u8]) -> Cow<'_, [u8]> {
    let Some(header_size) = bytes.get(14..18).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]])) else {
        return Cow::Borrowed(bytes);
    };
    // 12 (OS/2 1.x core), 40 and the Windows extensions are read as they are; 16 to 64 other than
    // those are OS/2 2.x, whose first fields match BITMAPINFOHEADER's.
    let os2 = matches!(header_size, 16..=64) && !matches!(header_size, 40 | 52 | 56);
    // A BITMAPINFOHEADER or later whose plane count is not 1 (the only one the format has):
    // Windows and Pillow ignore the field, the `image` crate refuses the file.
    let planes = bytes.get(26..28).map(|p| u16::from_le_bytes([p[0], p[1]]));
    if header_size >= 40 && !os2 && planes.is_some_and(|p| p != 1) {
        let mut out = bytes.to_vec();
        out[26..28].copy_from_slice(&1u16.to_le_bytes());
        return Cow::Owned(out);
    }
    if !os2 || bytes.len() < 14 + header_size as usize {
        return Cow::Borrowed(bytes);
    }
    let size = header_size as usize;
    let mut info = [0u8; 40];
    info[..size.min(40)].copy_from_slice(&bytes[14..14 + size.min(40)]);
    info[..4].copy_from_slice(&40u32.to_le_bytes());
    // OS/2's compression 3 (Huffman 1D) and 4 (RLE24) have no Windows meaning: left for the
    // decoder to refuse.
    let delta = size as i64 - 40;
    let offset = i64::from(u32::from_le_bytes([bytes[10], bytes[11], bytes[12], bytes[13]])) - delta;
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..14]);
    out[10..14].copy_from_slice(&(offset.max(54) as u32).to_le_bytes());
    let total = (bytes.len() as i64 - delta) as u32;
    out[2..6].copy_from_slice(&total.to_le_bytes());
    out.extend_from_slice(&info);
    out.extend_from_slice(&bytes[14 + size..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gif_that_needs_nothing_is_borrowed() {
        let img = image::RgbaImage::from_pixel(4, 4, image::Rgba([1, 2, 3, 255]));
        let mut out = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgba8(img).write_to(&mut out, image::ImageFormat::Gif).unwrap();
        assert!(matches!(gif(out.get_ref()), Cow::Borrowed(_)));
    }

    #[test]
    fn hostile_gif_structures_end_the_walk_without_panicking() {
        for bytes in
            [&b"GIF89a"[..], b"GIF89a\x01\0\x01\0\0\0\0\x21\xF9\x04", b"GIF89a\x01\0\x01\0\0\0\0\x2C\0"]
        {
            assert!(matches!(gif(bytes), Cow::Borrowed(b) if b == bytes), "left as it is");
        }
        assert!(gif_blocks(b"GIF89a\x01\0\x01\0\0\0\0\x21\xF9\x04").is_none());
    }
}
