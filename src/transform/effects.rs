//! Effects applied at output size: gaussian blur and unsharp mask.

use crate::spec::TransformSpec;
use image::DynamicImage;

/// Applies `blur_` and `sharpen_` in that order.
pub(super) fn apply(mut img: DynamicImage, spec: &TransformSpec) -> DynamicImage {
    if let Some(sigma) = spec.blur {
        img = img.blur(sigma.get() as f32);
    }
    if let Some(sigma) = spec.sharpen {
        img = img.unsharpen(sigma.get() as f32, 0);
    }
    img
}
