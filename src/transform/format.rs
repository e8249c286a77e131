//! Which format to write: `f_auto` from the client's `Accept`, and the default for each source.

use super::decode::SourceFormat;
pub use crate::spec::negotiate::{resolve_auto, resolve_requested, AutoFormat};
use crate::spec::Format;

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
    fn defaults_follow_the_source() {
        assert_eq!(output_format(None, SourceFormat::Gif, false), Format::Png);
        assert_eq!(output_format(None, SourceFormat::Tiff, false), Format::Jpeg);
        assert_eq!(output_format(None, SourceFormat::Bmp, true), Format::Png);
        assert_eq!(output_format(Some(Format::Auto), SourceFormat::Jpeg, false), Format::Jpeg);
        assert_eq!(output_format(Some(Format::Auto), SourceFormat::Png, true), Format::Png);
    }
}
