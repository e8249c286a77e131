//! Animated encoders behind one interface, fed one whole-canvas frame at a time: GIF
//! (`gif_writer`), WebP (libwebp's animation encoder) and APNG (the `png` crate's).

use super::gif_writer::GifWriter;
use super::webp_anim::AnimEncoder;
use super::TransformError;
use crate::spec::Format;
use image::RgbaImage;
use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

/// An animation being written.
pub(super) enum AnimWriter {
    Gif(GifWriter),
    Webp(AnimEncoder),
    Png(png::Writer<Sink>, Sink),
}

/// How the animation is to be written.
pub(super) struct Settings {
    pub(super) format: Format,
    pub(super) size: (u32, u32),
    pub(super) frames: u32,
    pub(super) loop_count: u32,
    pub(super) quality: u8,
    /// WebP only: lossless rather than lossy.
    pub(super) lossless: bool,
}

/// The APNG writer's output: the writer owns its sink and never hands it back.
#[derive(Clone, Default)]
pub(super) struct Sink(Rc<RefCell<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl AnimWriter {
    pub(super) fn new(s: &Settings) -> Result<AnimWriter, TransformError> {
        let (w, h) = s.size;
        match s.format {
            Format::Gif => Ok(AnimWriter::Gif(GifWriter::new(w, h, s.loop_count)?)),
            Format::Webp => AnimEncoder::new(w, h, s.loop_count, s.quality, s.lossless)
                .map(AnimWriter::Webp)
                .map_err(webp),
            Format::Png => {
                let sink = Sink::default();
                let mut encoder = png::Encoder::new(sink.clone(), w, h);
                encoder.set_color(png::ColorType::Rgba);
                encoder.set_depth(png::BitDepth::Eight);
                encoder.set_compression(png::Compression::Fast);
                encoder.set_animated(s.frames, s.loop_count).map_err(apng)?;
                Ok(AnimWriter::Png(encoder.write_header().map_err(apng)?, sink))
            }
            other => Err(TransformError::Internal(format!("{} does not animate", other.as_str()))),
        }
    }

    /// Adds a frame shown for `delay` (milliseconds, as a fraction).
    pub(super) fn add(&mut self, frame: RgbaImage, (num, den): (u32, u32)) -> Result<(), TransformError> {
        let ms = f64::from(num) / f64::from(den.max(1));
        match self {
            AnimWriter::Gif(g) => g.add(frame, ms),
            AnimWriter::Webp(e) => e.add(frame.as_raw(), ms.round() as u32).map_err(webp),
            AnimWriter::Png(writer, _) => {
                let ms = ms.round().clamp(0.0, 65_535.0) as u16;
                writer.set_frame_delay(ms, 1000).map_err(apng)?;
                writer.write_image_data(frame.as_raw()).map_err(apng)
            }
        }
    }

    /// The encoded file.
    pub(super) fn finish(self) -> Result<Vec<u8>, TransformError> {
        match self {
            AnimWriter::Gif(g) => g.finish(),
            AnimWriter::Webp(e) => e.finish().map_err(webp),
            AnimWriter::Png(writer, sink) => {
                writer.finish().map_err(apng)?;
                Ok(sink.0.take())
            }
        }
    }
}

fn webp(e: String) -> TransformError {
    TransformError::Internal(format!("webp animation encoder: {e}"))
}

fn apng(e: png::EncodingError) -> TransformError {
    TransformError::Internal(format!("apng encoder: {e}"))
}
