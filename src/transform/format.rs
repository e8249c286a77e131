//! Which format to write: `f_auto` from the client's `Accept`, and the default for each source.

use super::decode::SourceFormat;
use crate::spec::Format;

/// What `f_auto` becomes for one client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AutoFormat {
    /// The client accepts AVIF.
    Avif,
    /// The client accepts WebP but not AVIF.
    Webp,
    /// Neither: JPEG, or PNG when the result has transparency (decided from the pixels).
    Legacy,
}

/// Reads an `Accept` header: AVIF beats WebP beats the legacy formats. `q=0` means "not accepted".
pub fn resolve_auto(accept: Option<&str>) -> AutoFormat {
    let accepts = |wanted: &str| {
        accept.into_iter().flat_map(|a| a.split(',')).any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let media = parts.next().unwrap_or("");
            let refused = parts
                .any(|p| p.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()).is_some_and(|q| q <= 0.0));
            media.eq_ignore_ascii_case(wanted) && !refused
        })
    };
    if accepts("image/avif") {
        AutoFormat::Avif
    } else if accepts("image/webp") {
        AutoFormat::Webp
    } else {
        AutoFormat::Legacy
    }
}

/// A requested format made concrete for one client: `f_auto` becomes AVIF or WebP when `Accept`
/// allows, and stays `Auto` (JPEG-or-PNG, which the image alone decides) otherwise.
pub fn resolve_requested(format: Option<Format>, accept: Option<&str>) -> Option<Format> {
    match format {
        Some(Format::Auto) => Some(match resolve_auto(accept) {
            AutoFormat::Avif => Format::Avif,
            AutoFormat::Webp => Format::Webp,
            AutoFormat::Legacy => Format::Auto,
        }),
        other => other,
    }
}

/// The concrete output format. `requested` is `None` (keep the source's), a concrete format, or
/// `Auto` standing for [`AutoFormat::Legacy`] (the other two arrive already resolved).
pub fn output_format(requested: Option<Format>, source: SourceFormat, transparent: bool) -> Format {
    let legacy = if transparent { Format::Png } else { Format::Jpeg };
    match requested {
        Some(Format::Auto) | Some(Format::Json) => legacy,
        Some(f) => f,
        None => match source {
            SourceFormat::Jpeg => Format::Jpeg,
            SourceFormat::Png | SourceFormat::Gif => Format::Png,
            SourceFormat::Webp => Format::Webp,
            SourceFormat::Bmp | SourceFormat::Tiff => legacy,
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
