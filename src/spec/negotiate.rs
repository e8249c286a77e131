//! Content negotiation: what `f_auto` becomes for one client's `Accept`. Part of resolving a
//! request (the edge does it too), so it lives with the URL, not with the pixels.

use super::Format;

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
