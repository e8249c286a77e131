//! Size checks of a request that need no source: the box after `dpr` against the side and pixel
//! limits. The origin and the edge form run them before anything is fetched; the plan's own checks
//! (`transform::geometry`) report through the same [`GeometryError`].

use super::{ResizeMode, TransformSpec};

/// Why a spec cannot be applied to this source (both are 400s).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GeometryError {
    /// The result would exceed the output side limit.
    #[error("the result would be {0}x{1} px, over the {2} px side limit (0 = follows the aspect ratio)")]
    TooLarge(u32, u32, u32),
    /// The requested box (after `dpr`) is over the side limit: the token as canonical, its size
    /// in pixels, the limit. The edge words it the same way.
    #[error("the requested size {1} px is over the {2} px limit")]
    RequestTooLarge(String, u32, u32),
    /// `x_`/`y_` lie outside the image.
    #[error("{0} lies outside the {1}x{2} image")]
    OutsideImage(&'static str, u32, u32),
    /// The result would have more pixels than the output limit.
    #[error("the result would be {0}x{1} px, over the limit of {2} output pixels (--max-output-mp)")]
    TooManyOutputPixels(u32, u32, u64),
    /// `pg_` past the last frame: the page asked for, the frames there are.
    #[error("pg_{0}: the source has {1} frame(s)")]
    NoSuchFrame(u32, u32),
    /// The source would be enlarged more than allowed (factor and limit, in hundredths).
    #[error("the result would enlarge the source {:.1} times, over the {} times limit (--max-upscale)", *.0 as f64 / 100.0, *.1 as f64 / 100.0)]
    Enlargement(u64, u64),
}

/// `round(a / b)`, half away from zero, for non-negative values.
pub fn round_div(a: u64, b: u64) -> u64 {
    (2 * a + b) / (2 * b)
}

pub(crate) fn at_least_1(v: u64) -> u32 {
    v.clamp(1, u64::from(u32::MAX)) as u32
}

/// The requested box in pixels: `w` and `h` times `dpr`, rounded (a width from the `Sec-CH-Width`
/// hint is in device pixels already).
pub fn requested_box(spec: &TransformSpec) -> (Option<u32>, Option<u32>) {
    let dpr = u64::from(spec.dpr.map_or(100, |d| d.0));
    let scale = |v: u32| at_least_1(round_div(u64::from(v) * dpr, 100));
    let width = if spec.width_in_device_px() { spec.width } else { spec.width.map(scale) };
    (width, spec.height.map(scale))
}

/// Refuses a request whose box (after `dpr`) is over the side limit, before any source is read.
pub fn check_request(spec: &TransformSpec, max_side: u32) -> Result<(), GeometryError> {
    match requested_box(spec) {
        (Some(w), _) if w > max_side => {
            Err(GeometryError::RequestTooLarge(format!("w_{}", spec.width.unwrap_or(0)), w, max_side))
        }
        (_, Some(h)) if h > max_side => {
            Err(GeometryError::RequestTooLarge(format!("h_{}", spec.height.unwrap_or(0)), h, max_side))
        }
        _ => Ok(()),
    }
}

/// Refuses, before the source is fetched, a box that the result fills exactly (fill, pad, scale)
/// when it is over the output pixel limit.
pub fn check_box_pixels(spec: &TransformSpec, max_output_pixels: u64) -> Result<(), GeometryError> {
    let exact =
        matches!(spec.mode, Some(ResizeMode::Fill | ResizeMode::Pad | ResizeMode::LPad | ResizeMode::Scale));
    match requested_box(spec) {
        (Some(w), Some(h)) if exact && u64::from(w) * u64::from(h) > max_output_pixels => {
            Err(GeometryError::TooManyOutputPixels(w, h, max_output_pixels))
        }
        _ => Ok(()),
    }
}
