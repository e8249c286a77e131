//! Animated GIF writing, one frame at a time: each frame is cut to the rectangle that changed,
//! pixels left unchanged inside it become transparent (long runs that LZW packs well), and the
//! rest gets its own palette — exact when it has 256 colours or fewer, else NeuQuant's
//! (`color_quant`, the quantizer of the `gif` and `image` crates). One frame of lookahead decides
//! each frame's disposal: a frame is cleared ("restore to background") only when the next one
//! shows transparency where it was opaque.

use super::TransformError;
use gif::{DisposalMethod, Encoder, Frame, Repeat};
use image::RgbaImage;
use std::borrow::Cow;
use std::collections::HashMap;

/// NeuQuant's sampling factor: 1 learns from every pixel, 30 from one in 30. 10 is the `gif`
/// crate's speed 10 default; on 200 px thumbnails it costs about a millisecond a frame.
const NEUQUANT_SAMPLE: i32 = 10;

/// A streaming animated-GIF writer.
pub(super) struct GifWriter {
    encoder: Encoder<Vec<u8>>,
    /// What is on screen before `pending` is drawn (after earlier frames and their disposal).
    screen: RgbaImage,
    /// The frame not yet written, with its delay in centiseconds.
    pending: Option<(RgbaImage, u16)>,
    /// Whether no frame has been written yet.
    first: bool,
}

fn opaque(p: &image::Rgba<u8>) -> bool {
    p[3] >= 128
}

/// How far (per channel) a pixel may move and still be left as it is on screen: below what a
/// 256-colour palette resolves, and it stops resampling noise from rewriting unchanged areas.
const UNCHANGED: u8 = 3;

/// Two pixels look the same in a GIF: both transparent, or both opaque with nearly one colour.
fn same(a: &image::Rgba<u8>, b: &image::Rgba<u8>) -> bool {
    match (opaque(a), opaque(b)) {
        (false, false) => true,
        (true, true) => a.0[..3].iter().zip(&b.0[..3]).all(|(x, y)| x.abs_diff(*y) <= UNCHANGED),
        _ => false,
    }
}

#[derive(Clone, Copy)]
struct Rect {
    x: u32,
    y: u32,
    w: u32,
    h: u32,
}

/// The bounding box of the pixels for which `keep(x, y)` holds, or `None`.
fn bbox(width: u32, height: u32, keep: impl Fn(u32, u32) -> bool) -> Option<Rect> {
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    for y in 0..height {
        for x in 0..width {
            if keep(x, y) {
                (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            }
        }
    }
    (x0 != u32::MAX).then(|| Rect { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 })
}

fn union(a: Option<Rect>, b: Option<Rect>) -> Option<Rect> {
    match (a, b) {
        (Some(a), Some(b)) => {
            let (x, y) = (a.x.min(b.x), a.y.min(b.y));
            let (r, bt) = ((a.x + a.w).max(b.x + b.w), (a.y + a.h).max(b.y + b.h));
            Some(Rect { x, y, w: r - x, h: bt - y })
        }
        (a, b) => a.or(b),
    }
}

impl GifWriter {
    /// A writer for `width`×`height` frames; `loop_count` plays (0: forever; 1: once, written
    /// without a loop extension, as such GIFs are stored).
    pub(super) fn new(width: u32, height: u32, loop_count: u32) -> Result<GifWriter, TransformError> {
        let (w, h) = (u16::try_from(width), u16::try_from(height));
        let (Ok(w), Ok(h)) = (w, h) else {
            return Err(TransformError::OverLimit("a GIF is at most 65535 px a side".into()));
        };
        let mut encoder = Encoder::new(Vec::new(), w, h, &[]).map_err(fail)?;
        match loop_count {
            0 => encoder.set_repeat(Repeat::Infinite).map_err(fail)?,
            1 => {}
            n => encoder.set_repeat(Repeat::Finite(u16::try_from(n).unwrap_or(u16::MAX))).map_err(fail)?,
        }
        let screen = RgbaImage::new(width, height);
        Ok(GifWriter { encoder, screen, pending: None, first: true })
    }

    /// Adds a whole-canvas frame shown for `delay_ms`.
    pub(super) fn add(&mut self, frame: RgbaImage, delay_ms: f64) -> Result<(), TransformError> {
        let centis = (delay_ms / 10.0).round().clamp(0.0, 65_535.0) as u16;
        if let Some((previous, previous_delay)) = self.pending.take() {
            let clear = frame.pixels().zip(previous.pixels()).any(|(new, old)| !opaque(new) && opaque(old));
            self.write(previous, previous_delay, clear)?;
        }
        self.pending = Some((frame, centis));
        Ok(())
    }

    /// The encoded file.
    pub(super) fn finish(mut self) -> Result<Vec<u8>, TransformError> {
        if let Some((last, delay)) = self.pending.take() {
            self.write(last, delay, false)?;
        }
        self.encoder.into_inner().map_err(fail)
    }

    /// Writes `target` over the screen; with `clear`, it is disposed to transparency afterwards
    /// (its rectangle then covers every opaque pixel, so the whole screen clears).
    fn write(&mut self, target: RgbaImage, delay: u16, clear: bool) -> Result<(), TransformError> {
        let (w, h) = target.dimensions();
        let changed = bbox(w, h, |x, y| !same(target.get_pixel(x, y), self.screen.get_pixel(x, y)));
        let rect = if self.first {
            // The first frame covers the canvas: decoders differ on what shows outside it.
            Some(Rect { x: 0, y: 0, w, h })
        } else if clear {
            union(changed, bbox(w, h, |x, y| opaque(target.get_pixel(x, y))))
        } else {
            changed
        };
        self.first = false;
        let rect = rect.unwrap_or(Rect { x: 0, y: 0, w: 1, h: 1 });
        // A frame restored to the background names a transparent index, so that decoders which
        // restore to the background colour (Pillow) clear it to transparency, as browsers do.
        let mut frame = self.indexed(&target, rect, clear);
        frame.delay = delay;
        frame.dispose = if clear { DisposalMethod::Background } else { DisposalMethod::Keep };
        self.encoder.write_frame(&frame).map_err(fail)?;
        if clear {
            self.screen.pixels_mut().for_each(|p| *p = image::Rgba([0, 0, 0, 0]));
        } else {
            // What the screen shows now: the pixels drawn, and the old ones where the frame let
            // them through (so a slow drift is compared against what is shown, never accumulates).
            for y in rect.y..rect.y + rect.h {
                for x in rect.x..rect.x + rect.w {
                    let p = *target.get_pixel(x, y);
                    if opaque(&p) && !same(&p, self.screen.get_pixel(x, y)) {
                        self.screen.put_pixel(x, y, p);
                    }
                }
            }
        }
        Ok(())
    }

    /// The rectangle `r` of `target` as palette indices: unchanged and transparent pixels take
    /// the transparent index, the others the nearest palette colour.
    fn indexed(&self, target: &RgbaImage, r: Rect, force_transparent: bool) -> Frame<'static> {
        let shows = |x: u32, y: u32| {
            let p = target.get_pixel(x, y);
            (opaque(p) && !same(p, self.screen.get_pixel(x, y))).then_some(p)
        };
        let mut colours: Vec<u8> = Vec::with_capacity((r.w * r.h * 4) as usize);
        let mut transparent = force_transparent;
        for y in r.y..r.y + r.h {
            for x in r.x..r.x + r.w {
                match shows(x, y) {
                    Some(p) => colours.extend_from_slice(&[p[0], p[1], p[2], 255]),
                    None => transparent = true,
                }
            }
        }
        let room = if transparent { 255 } else { 256 };
        let palette = Palette::new(&colours, room);
        let transparent_index = palette.len() as u8;
        let mut buffer = Vec::with_capacity((r.w * r.h) as usize);
        for y in r.y..r.y + r.h {
            for x in r.x..r.x + r.w {
                buffer.push(match shows(x, y) {
                    Some(p) => palette.index(p),
                    None => transparent_index,
                });
            }
        }
        let mut rgb = palette.rgb();
        if transparent {
            rgb.extend_from_slice(&[0, 0, 0]);
        }
        Frame {
            left: r.x as u16,
            top: r.y as u16,
            width: r.w as u16,
            height: r.h as u16,
            transparent: transparent.then_some(transparent_index),
            palette: Some(rgb),
            buffer: Cow::Owned(buffer),
            ..Frame::default()
        }
    }
}

/// A frame's palette: its exact colours when they fit, else NeuQuant's.
enum Palette {
    Exact(HashMap<[u8; 3], u8>, Vec<u8>),
    Quantized(color_quant::NeuQuant),
}

impl Palette {
    fn new(rgba: &[u8], room: usize) -> Palette {
        let mut exact: HashMap<[u8; 3], u8> = HashMap::new();
        let mut rgb = Vec::new();
        for p in rgba.chunks_exact(4) {
            let key = [p[0], p[1], p[2]];
            if !exact.contains_key(&key) {
                if exact.len() == room {
                    return Palette::Quantized(color_quant::NeuQuant::new(NEUQUANT_SAMPLE, room, rgba));
                }
                exact.insert(key, exact.len() as u8);
                rgb.extend_from_slice(&key);
            }
        }
        Palette::Exact(exact, rgb)
    }

    fn len(&self) -> usize {
        match self {
            Palette::Exact(_, rgb) => rgb.len() / 3,
            Palette::Quantized(q) => q.color_map_rgb().len() / 3,
        }
    }

    fn index(&self, p: &image::Rgba<u8>) -> u8 {
        match self {
            Palette::Exact(map, _) => map.get(&[p[0], p[1], p[2]]).copied().unwrap_or(0),
            Palette::Quantized(q) => q.index_of(&[p[0], p[1], p[2], 255]) as u8,
        }
    }

    fn rgb(&self) -> Vec<u8> {
        match self {
            Palette::Exact(_, rgb) => rgb.clone(),
            Palette::Quantized(q) => q.color_map_rgb(),
        }
    }
}

fn fail(e: impl std::fmt::Display) -> TransformError {
    TransformError::Internal(format!("gif encoder: {e}"))
}
