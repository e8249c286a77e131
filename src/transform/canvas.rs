//! Canvases: padding to the box, and flattening transparency onto the background.

use crate::spec::Rgb;
use image::{DynamicImage, Rgba, RgbaImage};

/// Puts `img` on a `width`×`height` canvas of `bg` at (`left`, `top`). The result is opaque: the
/// background shows through transparent pixels of the image too.
pub(super) fn pad(img: DynamicImage, width: u32, height: u32, left: u32, top: u32, bg: Rgb) -> DynamicImage {
    let [r, g, b] = bg.0;
    let mut canvas = RgbaImage::from_pixel(width, height, Rgba([r, g, b, 255]));
    image::imageops::overlay(&mut canvas, &img.to_rgba8(), i64::from(left), i64::from(top));
    let out = DynamicImage::ImageRgba8(canvas);
    if img.color().has_color() {
        DynamicImage::ImageRgb8(out.to_rgb8())
    } else {
        DynamicImage::ImageLuma8(out.to_luma8())
    }
}

/// Composites transparent pixels over `bg` (for formats without alpha).
pub(super) fn flatten(img: DynamicImage, bg: Rgb) -> DynamicImage {
    if !img.color().has_alpha() {
        return img;
    }
    let (w, h) = (img.width(), img.height());
    pad(img, w, h, 0, 0, bg)
}
