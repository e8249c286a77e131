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

/// `rect_` (in the auto-oriented image of `size`) clamped to it, then carried through the URL's
/// rotation and flips into the image as shown; `None` when it lies wholly outside.
pub(super) fn rect_shown(
    rect: [u32; 4],
    size: (u32, u32),
    spec: &TransformSpec,
) -> Option<super::geometry::Rect> {
    let [x, y, w, h] = rect;
    if x >= size.0 || y >= size.1 {
        return None;
    }
    let (w, h) = (w.min(size.0 - x), h.min(size.1 - y));
    let (sw, sh) = size;
    // Clockwise rotation of a rectangle inside a sw × sh image.
    let (mut x, mut y, w, h, cw, ch) = match spec.rotation {
        Rotation::R0 => (x, y, w, h, sw, sh),
        Rotation::R90 => (sh - y - h, x, h, w, sh, sw),
        Rotation::R180 => (sw - x - w, sh - y - h, w, h, sw, sh),
        Rotation::R270 => (y, sw - x - w, h, w, sh, sw),
    };
    if spec.flip_h {
        x = cw - x - w;
    }
    if spec.flip_v {
        y = ch - y - h;
    }
    Some(super::geometry::Rect { x, y, width: w, height: h })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::parse_options;
    use crate::transform::geometry::Rect;

    /// The rectangle a pixel-exact rotation of the image would put the region at.
    fn moved(opts: &str) -> Rect {
        rect_shown([10, 20, 30, 40], (100, 200), &parse_options(opts, 8192).unwrap()).unwrap()
    }

    #[test]
    fn a_rect_follows_the_rotation_and_flips_of_the_image_it_was_cut_from() {
        let r = |x, y, width, height| Rect { x, y, width, height };
        assert_eq!(moved(""), r(10, 20, 30, 40));
        assert_eq!(moved("a_90"), r(140, 10, 40, 30)); // 200 × 100 shown: x = 200 − 20 − 40
        assert_eq!(moved("a_180"), r(60, 140, 30, 40));
        assert_eq!(moved("a_270"), r(20, 60, 40, 30));
        assert_eq!(moved("a_hflip"), r(60, 20, 30, 40));
        assert_eq!(moved("a_90,a_vflip"), r(140, 60, 40, 30));
        let spec = parse_options("", 8192).unwrap();
        assert_eq!(rect_shown([90, 190, 50, 50], (100, 200), &spec), Some(r(90, 190, 10, 10)), "clamped");
        assert_eq!(rect_shown([100, 0, 5, 5], (100, 200), &spec), None, "wholly outside");
    }
}
