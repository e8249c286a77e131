//! Orientation: EXIF first, then the URL's `a_` rotation, then its flips, so that `w`/`h` always
//! refer to the image as it is shown.

use crate::spec::{Rotation, TransformSpec};
use image::metadata::Orientation;
use image::DynamicImage;

/// Applies the EXIF orientation (1..=8) and the spec's rotation and flips.
pub(super) fn orient(mut img: DynamicImage, exif: u8, spec: &TransformSpec) -> DynamicImage {
    if let Some(o) = Orientation::from_exif(exif) {
        img.apply_orientation(o);
    }
    img = match spec.rotation {
        Rotation::R0 => img,
        Rotation::R90 => img.rotate90(),
        Rotation::R180 => img.rotate180(),
        Rotation::R270 => img.rotate270(),
    };
    if spec.flip_h {
        img = img.fliph();
    }
    if spec.flip_v {
        img = img.flipv();
    }
    img
}

/// The displayed size of a stored `(w, h)` image after EXIF orientation and rotation.
pub(super) fn displayed_size(stored: (u32, u32), exif: u8, spec: &TransformSpec) -> (u32, u32) {
    let exif_swaps = (5..=8).contains(&exif);
    if exif_swaps != spec.rotation.swaps_axes() {
        (stored.1, stored.0)
    } else {
        stored
    }
}
