//! Animation sources: what an animated GIF, WebP or PNG holds, read from its blocks and chunks
//! before any pixel is decoded (frame count, delays, loop count, for the limits and `f_json`),
//! and its frames decoded one at a time, each coalesced onto the whole canvas after the previous
//! frame's disposal and blending (the `image` crate's animation decoders do the compositing).

use super::decode::SourceFormat;
use super::gif_blocks::Block;
use super::{Limits, TransformError};
use image::codecs::{png::PngDecoder, webp::WebPDecoder};
use image::{AnimationDecoder, RgbaImage};
use std::io::Cursor;

/// An animated source, from its header: at least two frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Animation {
    /// Frames.
    pub frames: u32,
    /// Plays, as stored: 0 is forever (a GIF without a loop extension plays once: 1).
    pub loop_count: u32,
    /// Total duration as browsers play it: a delay of 10 ms or less counts as 100 ms.
    pub duration_ms: u64,
}

/// One coalesced frame: the whole canvas, and how long it shows.
pub struct Frame {
    /// The canvas after this frame, RGBA.
    pub image: RgbaImage,
    /// Its delay in milliseconds as stored (a fraction: APNG delays are rational).
    pub delay: (u32, u32),
}

/// The delay browsers use for a stored one: 10 ms or less plays as 100 ms (Chromium, Firefox and
/// Safari agree; many GIFs say 0).
pub fn played_ms(stored_ms: f64) -> f64 {
    if stored_ms <= 10.0 {
        100.0
    } else {
        stored_ms
    }
}

/// The animation in `bytes`, or `None` for a still image (one frame, or a format that does not
/// animate). Walks the container only; damaged tails end the walk, as they end decoding.
pub fn scan(format: SourceFormat, bytes: &[u8]) -> Option<Animation> {
    let (delays, loop_count) = match format {
        SourceFormat::Gif => gif_blocks(bytes),
        SourceFormat::Webp => webp_chunks(bytes),
        SourceFormat::Png => png_chunks(bytes),
        _ => return None,
    };
    let frames = u32::try_from(delays.len()).unwrap_or(u32::MAX);
    (frames > 1).then(|| Animation {
        frames,
        loop_count,
        duration_ms: delays.iter().map(|&d| played_ms(d)).sum::<f64>().round() as u64,
    })
}

/// The frame delays (ms) and the loop count of a GIF, from its blocks.
fn gif_blocks(b: &[u8]) -> (Vec<f64>, u32) {
    let (mut delays, mut loop_count, mut pending_delay) = (Vec::new(), 1, 0.0);
    for block in super::gif_blocks::blocks(b).into_iter().flatten() {
        match block {
            Block::Image { .. } => {
                delays.push(pending_delay);
                pending_delay = 0.0;
            }
            Block::Extension { label: 0xF9, start, .. } => {
                if let Some(d) = b.get(start + 4..start + 6) {
                    pending_delay = f64::from(u16::from_le_bytes([d[0], d[1]])) * 10.0;
                }
            }
            Block::Extension { label: 0xFF, start, .. } => {
                let netscape = b.get(start + 2..start + 14).is_some_and(|h| h == b"\x0BNETSCAPE2.0");
                if let (true, Some(s)) = (netscape, b.get(start + 14..start + 18)) {
                    if s[0] == 3 && s[1] == 1 {
                        loop_count = u32::from(u16::from_le_bytes([s[2], s[3]]));
                    }
                }
            }
            Block::Extension { .. } | Block::Trailer | Block::Junk => {}
        }
    }
    (delays, loop_count)
}

/// The frame durations (ms) and the loop count of a WebP, from its `ANMF` and `ANIM` chunks.
fn webp_chunks(b: &[u8]) -> (Vec<f64>, u32) {
    let (mut delays, mut loop_count) = (Vec::new(), 0);
    let mut i = 12;
    while i + 8 <= b.len() {
        let size = u32::from_le_bytes([b[i + 4], b[i + 5], b[i + 6], b[i + 7]]) as usize;
        let body = b.get(i + 8..).unwrap_or_default();
        match &b[i..i + 4] {
            b"ANIM" if body.len() >= 6 => loop_count = u32::from(u16::from_le_bytes([body[4], body[5]])),
            b"ANMF" if body.len() >= 15 => {
                delays.push(f64::from(u32::from_le_bytes([body[12], body[13], body[14], 0])))
            }
            _ => {}
        }
        i = i.saturating_add(8).saturating_add(size.saturating_add(size & 1));
    }
    (delays, loop_count)
}

/// The frame delays (ms) and the play count of an APNG, from its `acTL` and `fcTL` chunks. A PNG
/// without `acTL` is a still image, whatever else it holds.
fn png_chunks(b: &[u8]) -> (Vec<f64>, u32) {
    let (mut delays, mut plays, mut animated) = (Vec::new(), 0, false);
    let mut i = 8;
    while i + 12 <= b.len() {
        let len = u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as usize;
        let body = b.get(i + 8..i.saturating_add(8).saturating_add(len)).unwrap_or_default();
        match &b[i + 4..i + 8] {
            b"acTL" if body.len() >= 8 => {
                animated = true;
                plays = u32::from_be_bytes([body[4], body[5], body[6], body[7]]);
            }
            b"fcTL" if body.len() >= 26 => {
                let num = f64::from(u16::from_be_bytes([body[20], body[21]]));
                let den = match u16::from_be_bytes([body[22], body[23]]) {
                    0 => 100.0, // the APNG specification: a zero denominator means 1/100 s
                    d => f64::from(d),
                };
                delays.push(num * 1000.0 / den);
            }
            b"IEND" => break,
            _ => {}
        }
        i = i.saturating_add(12).saturating_add(len);
    }
    if !animated {
        delays.clear();
    }
    (delays, plays)
}

/// Refuses an animation over `--max-frames` or `--max-animation-mp` (every frame is a whole
/// canvas once coalesced), before anything is decoded.
pub fn check_limits(anim: &Animation, canvas: (u32, u32), limits: &Limits) -> Result<(), TransformError> {
    if anim.frames > limits.max_frames {
        return Err(TransformError::OverLimit(format!(
            "the animation has {} frames, over the limit of {} (--max-frames)",
            anim.frames, limits.max_frames
        )));
    }
    let pixels = u64::from(anim.frames) * u64::from(canvas.0) * u64::from(canvas.1);
    if pixels > limits.max_animation_pixels {
        return Err(TransformError::OverLimit(format!(
            "the animation has {:.0} MP over all its frames, over the limit of {:.0} MP (--max-animation-mp)",
            pixels as f64 / 1e6,
            limits.max_animation_pixels as f64 / 1e6
        )));
    }
    Ok(())
}

/// The coalesced frames of an animated `bytes`, decoded one at a time as the iterator is pulled.
pub fn decode<'a>(
    bytes: &'a [u8],
    format: SourceFormat,
    limits: &Limits,
) -> Result<Box<dyn Iterator<Item = Result<Frame, TransformError>> + 'a>, TransformError> {
    let mut l = image::Limits::default();
    l.max_alloc = Some(super::decode::max_alloc(limits));
    let frames = match format {
        SourceFormat::Gif => return gif_frames(bytes, limits),
        SourceFormat::Webp => {
            let mut d = WebPDecoder::new(Cursor::new(bytes)).map_err(decode_error)?;
            image::ImageDecoder::set_limits(&mut d, l).map_err(decode_error)?;
            d.into_frames()
        }
        SourceFormat::Png => {
            let mut d = PngDecoder::new(Cursor::new(bytes)).map_err(decode_error)?;
            image::ImageDecoder::set_limits(&mut d, l).map_err(decode_error)?;
            d.apng().map_err(decode_error)?.into_frames()
        }
        other => return Err(TransformError::Internal(format!("{other:?} does not animate"))),
    };
    Ok(Box::new(frames.map(|f| {
        f.map(|f| Frame { delay: f.delay().numer_denom_ms(), image: f.into_buffer() }).map_err(decode_error)
    })))
}

/// GIF frames, coalesced here rather than by the `image` crate: palette indices from the `gif`
/// crate (LZW, deinterlacing) drawn straight onto one persistent canvas, which is several times
/// faster than expanding every frame to RGBA and blending it pixel by pixel. Browsers' rules:
/// the canvas starts transparent, parts of a frame outside the logical screen are clipped, the
/// transparent index leaves the canvas as it was, and disposal restores the frame's rectangle
/// to transparency (background) or to what it was before (previous).
fn gif_frames<'a>(
    bytes: &'a [u8],
    limits: &Limits,
) -> Result<Box<dyn Iterator<Item = Result<Frame, TransformError>> + 'a>, TransformError> {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::Indexed);
    let per_frame = std::num::NonZeroU64::new(super::decode::max_alloc(limits)).map(gif::MemoryLimit::Bytes);
    options.set_memory_limit(per_frame.unwrap_or(gif::MemoryLimit::Unlimited));
    options.allow_unknown_blocks(true);
    options.check_frame_consistency(false);
    let source = Cursor::new(super::repair::gif(bytes));
    let mut decoder = options.read_info(source).map_err(|e| TransformError::Corrupt(format!("GIF: {e}")))?;
    let (w, h) = (u32::from(decoder.width()), u32::from(decoder.height()));
    let global: Vec<u8> = decoder.global_palette().unwrap_or_default().to_vec();
    let mut canvas = RgbaImage::new(w, h);
    let mut done = false;
    Ok(Box::new(std::iter::from_fn(move || {
        if done {
            return None;
        }
        let frame = match decoder.read_next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => return None,
            Err(e) => {
                done = true;
                return Some(Err(TransformError::Corrupt(format!("GIF frame: {e}"))));
            }
        };
        let palette = frame.palette.as_deref().unwrap_or(&global);
        let (fx, fy, fw, fh) =
            (u32::from(frame.left), u32::from(frame.top), u32::from(frame.width), u32::from(frame.height));
        // The part of the frame on the screen.
        let (x1, y1) = ((fx + fw).min(w), (fy + fh).min(h));
        let saved = (frame.dispose == gif::DisposalMethod::Previous).then(|| canvas.clone());
        for y in fy..y1 {
            let start = ((y - fy) * fw) as usize;
            let Some(row) = frame.buffer.get(start..start + x1.saturating_sub(fx) as usize) else { break };
            for (x, &index) in (fx..x1).zip(row) {
                if Some(index) == frame.transparent {
                    continue;
                }
                let i = usize::from(index) * 3;
                // An index past the palette is black, as browsers draw it.
                let rgb = palette.get(i..i + 3).unwrap_or(&[0, 0, 0]);
                canvas.put_pixel(x, y, image::Rgba([rgb[0], rgb[1], rgb[2], 255]));
            }
        }
        let shown = Frame { image: canvas.clone(), delay: (u32::from(frame.delay) * 10, 1) };
        match frame.dispose {
            gif::DisposalMethod::Background => {
                for y in fy.min(h)..y1 {
                    for x in fx.min(w)..x1 {
                        canvas.put_pixel(x, y, image::Rgba([0, 0, 0, 0]));
                    }
                }
            }
            gif::DisposalMethod::Previous => canvas = saved.unwrap_or(canvas.clone()),
            _ => {}
        }
        Some(Ok(shown))
    })))
}

/// Frame `n` (1-based) of an animation as a still; the frames before it are decoded to coalesce it.
pub fn nth(bytes: &[u8], format: SourceFormat, n: u32, limits: &Limits) -> Result<RgbaImage, TransformError> {
    let mut frames = decode(bytes, format, limits)?;
    let mut last = None;
    for _ in 0..n {
        match frames.next() {
            Some(frame) => last = Some(frame?.image),
            None => break,
        }
    }
    last.ok_or_else(|| TransformError::Corrupt("the animation has no frames".into()))
}

fn decode_error(e: image::ImageError) -> TransformError {
    super::decode::decode_error(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_delays_play_as_browsers_play_them() {
        assert_eq!(played_ms(0.0), 100.0);
        assert_eq!(played_ms(10.0), 100.0);
        assert_eq!(played_ms(20.0), 20.0);
    }

    #[test]
    fn a_png_without_actl_is_still_whatever_fctl_it_holds() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        for _ in 0..2 {
            png.extend_from_slice(&26u32.to_be_bytes());
            png.extend_from_slice(b"fcTL");
            png.extend_from_slice(&[0; 26]);
            png.extend_from_slice(&[0; 4]);
        }
        assert_eq!(scan(SourceFormat::Png, &png), None);
    }
}
