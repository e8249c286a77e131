//! Which format to write: `f_auto` from the client's `Accept`, and the default for each source.

use super::decode::SourceFormat;
pub use crate::spec::negotiate::{resolve_auto, resolve_requested, AutoFormat};
use crate::spec::{Format, TransformSpec};

/// The concrete output format. `requested` is `None` (keep the source's), a concrete format, or
/// `Auto` standing for [`AutoFormat::Legacy`] (the other two arrive already resolved).
pub fn output_format(requested: Option<Format>, source: SourceFormat, transparent: bool) -> Format {
    let legacy = if transparent { Format::Png } else { Format::Jpeg };
    match requested {
        Some(Format::Auto) | Some(Format::Json) => legacy,
        Some(f) => f,
        None => match source {
            SourceFormat::Jpeg => Format::Jpeg,
            // A drawing stays lossless (imgix and Cloudinary also answer an SVG with a PNG).
            SourceFormat::Png | SourceFormat::Gif | SourceFormat::Svg => Format::Png,
            SourceFormat::Webp => Format::Webp,
            // An AVIF stays AVIF, as a WebP stays WebP: the client that asked for it reads it.
            SourceFormat::Avif => Format::Avif,
            // A HEIC becomes a JPEG (or a PNG with alpha): few browsers other than Safari read HEIC.
            SourceFormat::Bmp | SourceFormat::Tiff | SourceFormat::Jxl | SourceFormat::Heic => legacy,
        },
    }
}

/// Output pixels above which `f_auto` answers an AVIF client with WebP: libaom takes ≈ 0.4 µs a
/// pixel on one core (≈ 1.2 s at this size here), libwebp ≈ 0.1 µs (BENCHMARKS.md), and every
/// client that takes AVIF takes WebP. Cloudflare Images does the same for large images.
pub const AUTO_AVIF_MAX_PIXELS: u64 = 3_000_000;

/// The format a still is written in: [`output_format`], except that `f_auto`'s AVIF gives way to
/// WebP for an output of more than [`AUTO_AVIF_MAX_PIXELS`] — decided from the plan's size, so
/// one variant key always means one format.
pub fn still_format(
    spec: &TransformSpec,
    source: SourceFormat,
    transparent: bool,
    (w, h): (u32, u32),
) -> Format {
    match output_format(spec.format, source, transparent) {
        Format::Avif if spec.negotiated && u64::from(w) * u64::from(h) > AUTO_AVIF_MAX_PIXELS => Format::Webp,
        f => f,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_accept_headers() {
        let chrome = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
        let safari15 = "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5";
        let old = "image/png,image/*;q=0.8,*/*;q=0.5";
        assert_eq!(resolve_auto(Some(chrome)), AutoFormat::Avif);
        assert_eq!(resolve_auto(Some(safari15)), AutoFormat::Webp);
        assert_eq!(resolve_auto(Some(old)), AutoFormat::Legacy);
        assert_eq!(resolve_auto(None), AutoFormat::Legacy);
        assert_eq!(resolve_auto(Some("image/avif;q=0, image/webp")), AutoFormat::Webp);
    }

    #[test]
    fn f_auto_answers_large_outputs_with_webp() {
        let negotiated = TransformSpec { format: Some(Format::Avif), negotiated: true, ..Default::default() };
        let asked = TransformSpec { format: Some(Format::Avif), ..Default::default() };
        let jpeg = SourceFormat::Jpeg;
        assert_eq!(still_format(&negotiated, jpeg, false, (2000, 1500)), Format::Avif);
        assert_eq!(still_format(&negotiated, jpeg, false, (2000, 1501)), Format::Webp);
        assert_eq!(still_format(&asked, jpeg, false, (4000, 3000)), Format::Avif, "f_avif is what it says");
    }

    #[test]
    fn defaults_follow_the_source() {
        assert_eq!(output_format(None, SourceFormat::Gif, false), Format::Png);
        assert_eq!(output_format(None, SourceFormat::Tiff, false), Format::Jpeg);
        assert_eq!(output_format(None, SourceFormat::Bmp, true), Format::Png);
        assert_eq!(output_format(Some(Format::Auto), SourceFormat::Jpeg, false), Format::Jpeg);
        assert_eq!(output_format(Some(Format::Auto), SourceFormat::Png, true), Format::Png);
    }
}
