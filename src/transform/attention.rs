//! `g_auto`: where a crop window goes. The saliency measure is libvips' `attention` (edges,
//! skin tones, saturated colour, summed), computed on a copy of the decoded image shrunk to at most
//! [`WORK_SIDE`] px on its long side. The placement differs: libvips blurs the map and centres the
//! window on its brightest point; here every window position is scored by the saliency it holds
//! above the map's 95th percentile — what stands out from the rest of the image — (a summed-area
//! table makes each position one lookup) and the best one wins. Centring on one peak
//! can cut an object that is larger than the blur, or place the window between two; the window sum
//! keeps the most of what is salient. The window leaves the centre only when it holds
//! [`MIN_GAIN_PERCENT`] more saliency than the centred one, so flat or evenly busy images keep the
//! centre crop. Integer arithmetic throughout: the same pixels always give the same window.
//!
//! Faces are not detected (a face is found as skin and edges, like libvips, not recognised).

use super::geometry::{Plan, Rect};
use crate::spec::limits::round_div;
use crate::spec::{Gravity, ResizeMode, TransformSpec};
use fast_image_resize::{images::Image, images::ImageRef, FilterType, PixelType, ResizeAlg, ResizeOptions};
use image::DynamicImage;
use std::borrow::Cow;

/// The saliency map's longest side: at most 256 × 256 sums, a fraction of a millisecond, placing
/// the window to within 1/256 of the image.
const WORK_SIDE: u32 = 256;

/// Saliency counts above this percentile of the map (scripts/gauto-check measured 90, 95 and 98:
/// 95 kept the object in the most generated scenes).
const OUTSTANDING_PERCENTILE: usize = 95;

/// How much more saliency (in percent) the best window must hold than the centred one.
const MIN_GAIN_PERCENT: u64 = 2;

/// A saturated colour: RGB max − min at least this (libvips: LCh chroma over 60).
const SATURATED: i32 = 128;

/// The weight of a skin-tone or saturated pixel, against an edge's Sobel magnitude on a 0–100
/// lightness scale (libvips adds 0/255 masks to the Sobel of Lab's L the same way).
const MASK: u32 = 255;

/// Whether `spec` asks for a content-aware crop: `g_auto` with a mode that cuts a window.
pub(super) fn applies(spec: &TransformSpec) -> bool {
    spec.gravity == Some(Gravity::Auto)
        && matches!(spec.mode, Some(ResizeMode::Fill | ResizeMode::LFill | ResizeMode::Crop))
}

/// The plan with its region moved to the most salient window of `img` (the oriented decode, any
/// scale of the `displayed` size). Coordinates given by `x_`/`y_` stay where they are.
pub(super) fn place(img: &DynamicImage, displayed: (u32, u32), plan: &Plan, spec: &TransformSpec) -> Plan {
    let f = plan.frame;
    if (plan.region.width, plan.region.height) == (f.width, f.height) {
        return *plan;
    }
    if (f.width, f.height) == displayed {
        return place_in(img, displayed, plan, spec);
    }
    // Within a `rect_`: the same search on that part of the decoded image, moved back.
    let scale =
        |v: u32, full: u32, decoded: u32| (u64::from(v) * u64::from(decoded) / u64::from(full)) as u32;
    let (x, y) = (scale(f.x, displayed.0, img.width()), scale(f.y, displayed.1, img.height()));
    let w = scale(f.width, displayed.0, img.width()).clamp(1, img.width() - x.min(img.width() - 1));
    let h = scale(f.height, displayed.1, img.height()).clamp(1, img.height() - y.min(img.height() - 1));
    let part = img.crop_imm(x, y, w, h);
    let region = Rect { x: plan.region.x - f.x, y: plan.region.y - f.y, ..plan.region };
    let local = Plan { region, frame: Rect { x: 0, y: 0, ..f }, ..*plan };
    let placed = place_in(&part, (f.width, f.height), &local, spec);
    super::geometry::within(placed, f)
}

/// [`place`] on an image whose frame is all of it.
fn place_in(img: &DynamicImage, displayed: (u32, u32), plan: &Plan, spec: &TransformSpec) -> Plan {
    let r = plan.region;
    let free_x = r.width < displayed.0 && spec.x.is_none();
    let free_y = r.height < displayed.1 && spec.y.is_none();
    if !(free_x || free_y) || img.width() == 0 || img.height() == 0 {
        return *plan;
    }
    let map = Saliency::of(img);
    let (mw, mh) = (map.width, map.height);
    let to_map =
        |v: u32, total: u32, side: u32| round_div(u64::from(v) * u64::from(side), u64::from(total)) as u32;
    let win = (to_map(r.width, displayed.0, mw).clamp(1, mw), to_map(r.height, displayed.1, mh).clamp(1, mh));
    let start = (to_map(r.x, displayed.0, mw).min(mw - win.0), to_map(r.y, displayed.1, mh).min(mh - win.1));
    let xs = if free_x { 0..=mw - win.0 } else { start.0..=start.0 };
    let ys = if free_y { 0..=mh - win.1 } else { start.1..=start.1 };
    let centred = map.sum(start.0, start.1, win);
    let mut best = (centred, start);
    for y in ys {
        for x in xs.clone() {
            let s = map.sum(x, y, win);
            let nearer = || distance((x, y), start) < distance(best.1, start);
            if s > best.0 || (s == best.0 && nearer()) {
                best = (s, (x, y));
            }
        }
    }
    if best.0 * 100 <= centred * (100 + MIN_GAIN_PERCENT) {
        return *plan;
    }
    let back = |v: u32, total: u32, side: u32, len: u32| {
        (round_div(u64::from(v) * u64::from(total), u64::from(side)) as u32).min(total - len)
    };
    let region = Rect {
        x: if free_x { back(best.1 .0, displayed.0, mw, r.width) } else { r.x },
        y: if free_y { back(best.1 .1, displayed.1, mh, r.height) } else { r.y },
        ..r
    };
    Plan { region, ..*plan }
}

fn distance(a: (u32, u32), b: (u32, u32)) -> u64 {
    let d = |p: u32, q: u32| u64::from(p.abs_diff(q)).pow(2);
    d(a.0, b.0) + d(a.1, b.1)
}

/// A saliency map as a summed-area table: `table[(y * (width + 1)) + x]` is the sum of every value
/// above and left of (x, y).
struct Saliency {
    width: u32,
    height: u32,
    table: Vec<u64>,
}

impl Saliency {
    fn of(img: &DynamicImage) -> Saliency {
        let small = shrink(img);
        let rgba = small.to_rgba8();
        let (w, h) = rgba.dimensions();
        let luma: Vec<i32> = rgba
            .pixels()
            .map(|p| (77 * i32::from(p[0]) + 150 * i32::from(p[1]) + 29 * i32::from(p[2]) + 128) >> 8)
            .collect();
        let values: Vec<u32> = (0..h as usize)
            .flat_map(|y| (0..w as usize).map(move |x| (x, y)))
            .map(|(x, y)| {
                let p = rgba.get_pixel(x as u32, y as u32).0;
                (edge(&luma, w as usize, h as usize, x, y) + colour(p)) * u32::from(p[3]) / 255
            })
            .collect();
        // Only what stands out counts: the value above the map's 95th percentile. A background
        // that is evenly busy (noise) or evenly coloured (a saturated or skin-toned wall) then
        // adds nothing, wherever the window goes.
        let mut sorted = values.clone();
        let rank = sorted.len() * OUTSTANDING_PERCENTILE / 100;
        let floor = *sorted.select_nth_unstable(rank.min(values.len() - 1)).1;
        let stride = w as usize + 1;
        let mut table = vec![0u64; stride * (h as usize + 1)];
        for y in 0..h as usize {
            let mut row = 0u64;
            for x in 0..w as usize {
                row += u64::from(values[y * w as usize + x].saturating_sub(floor));
                table[(y + 1) * stride + x + 1] = table[y * stride + x + 1] + row;
            }
        }
        Saliency { width: w, height: h, table }
    }

    /// The saliency inside the `size` window whose top left is (x, y).
    fn sum(&self, x: u32, y: u32, size: (u32, u32)) -> u64 {
        let stride = self.width as usize + 1;
        let at = |x: u32, y: u32| self.table[y as usize * stride + x as usize];
        let (x1, y1) = (x + size.0, y + size.1);
        at(x1, y1) + at(x, y) - at(x, y1) - at(x1, y)
    }
}

/// The Sobel magnitude |gx| + |gy| of the luma at (x, y), on libvips' 0–100 lightness scale; 0 on
/// the border.
fn edge(luma: &[i32], w: usize, h: usize, x: usize, y: usize) -> u32 {
    if x == 0 || y == 0 || x + 1 == w || y + 1 == h {
        return 0;
    }
    let l = |dx: usize, dy: usize| luma[(y + dy - 1) * w + x + dx - 1];
    let gx = l(2, 0) + 2 * l(2, 1) + l(2, 2) - l(0, 0) - 2 * l(0, 1) - l(0, 2);
    let gy = l(0, 2) + 2 * l(1, 2) + l(2, 2) - l(0, 0) - 2 * l(1, 0) - l(2, 0);
    (gx.unsigned_abs() + gy.unsigned_abs()) * 100 / 255
}

/// Skin tone (the YCbCr box of Chai & Ngan, 1999, away from the darkest tones) and saturated
/// colour, each worth [`MASK`].
fn colour(p: [u8; 4]) -> u32 {
    let (r, g, b) = (i32::from(p[0]), i32::from(p[1]), i32::from(p[2]));
    let y = (77 * r + 150 * g + 29 * b) >> 8;
    let cb = 128 + ((-43 * r - 85 * g + 128 * b) >> 8);
    let cr = 128 + ((128 * r - 107 * g - 21 * b) >> 8);
    let skin = y >= 40 && (77..=127).contains(&cb) && (133..=173).contains(&cr);
    let saturated = r.max(g).max(b) - r.min(g).min(b) >= SATURATED;
    MASK * u32::from(skin) + MASK * u32::from(saturated)
}

/// `img` area-averaged to at most [`WORK_SIDE`] px on its long side (itself when smaller); the
/// decoded image is read in place, never copied whole.
fn shrink(img: &DynamicImage) -> Cow<'_, DynamicImage> {
    let (w, h) = (img.width(), img.height());
    let long = w.max(h);
    if long <= WORK_SIDE {
        return Cow::Borrowed(img);
    }
    let size = |v: u32| (round_div(u64::from(v) * u64::from(WORK_SIDE), u64::from(long)) as u32).max(1);
    let (tw, th) = (size(w), size(h));
    let converted;
    let (pixel_type, src) = match img {
        DynamicImage::ImageLuma8(_) => (PixelType::U8, img),
        DynamicImage::ImageRgb8(_) => (PixelType::U8x3, img),
        DynamicImage::ImageRgba8(_) => (PixelType::U8x4, img),
        other => {
            converted = DynamicImage::ImageRgba8(other.to_rgba8());
            (PixelType::U8x4, &converted)
        }
    };
    let resized = ImageRef::new(w, h, src.as_bytes(), pixel_type).ok().and_then(|from| {
        let mut dst = Image::new(tw, th, pixel_type);
        let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Box));
        fast_image_resize::Resizer::new().resize(&from, &mut dst, &options).ok()?;
        let bytes = dst.into_vec();
        match pixel_type {
            PixelType::U8 => image::GrayImage::from_raw(tw, th, bytes).map(DynamicImage::ImageLuma8),
            PixelType::U8x3 => image::RgbImage::from_raw(tw, th, bytes).map(DynamicImage::ImageRgb8),
            _ => image::RgbaImage::from_raw(tw, th, bytes).map(DynamicImage::ImageRgba8),
        }
    });
    // The resizer refuses nothing it is given here; should it, the nearest-neighbour thumbnail
    // still places the window.
    Cow::Owned(resized.unwrap_or_else(|| src.thumbnail_exact(tw, th)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::parse_options;
    use crate::transform::geometry;
    use image::{Rgb, RgbImage};

    /// A smooth grey gradient with one detailed 40 × 40 patch (a fine checkerboard) at `at`.
    fn scene(size: (u32, u32), at: (u32, u32)) -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(size.0, size.1, |x, y| {
            let inside = (at.0..at.0 + 40).contains(&x) && (at.1..at.1 + 40).contains(&y);
            if inside && (x / 3 + y / 3) % 2 == 0 {
                Rgb([20, 20, 20])
            } else if inside {
                Rgb([230, 230, 230])
            } else {
                let v = (100 + x * 40 / size.0) as u8;
                Rgb([v, v, v])
            }
        }))
    }

    fn region(img: &DynamicImage, opts: &str) -> Rect {
        let spec = parse_options(opts, 8192).unwrap();
        let size = (img.width(), img.height());
        let plan = geometry::plan(size, &spec, 8192).unwrap();
        place(img, size, &plan, &spec).region
    }

    #[test]
    fn the_window_goes_to_the_detailed_object() {
        let img = scene((1200, 400), (1000, 200));
        let r = region(&img, "w_100,h_100,c_fill,g_auto");
        assert_eq!((r.width, r.height, r.y), (400, 400, 0));
        assert!(r.x <= 1000 && r.x + r.width >= 1040, "{r:?}");
        let img = scene((600, 900), (50, 30));
        let r = region(&img, "w_200,h_200,c_crop,g_auto");
        assert!(r.x <= 50 && r.x + 200 >= 90 && r.y <= 30 && r.y + 200 >= 70, "{r:?}");
    }

    #[test]
    fn a_flat_image_keeps_the_centre_and_fixed_coordinates_stay() {
        let flat = DynamicImage::ImageRgb8(RgbImage::from_pixel(900, 300, Rgb([90, 120, 150])));
        assert_eq!(region(&flat, "w_100,h_100,c_fill,g_auto").x, 300);
        let img = scene((600, 900), (100, 800));
        let r = region(&img, "w_200,h_200,c_crop,g_auto,x_10");
        assert_eq!(r.x, 10);
        assert!(r.y + 200 >= 840, "{r:?}");
    }

    #[test]
    fn the_same_pixels_give_the_same_window_at_any_decode_scale() {
        let img = scene((1600, 800), (1300, 500));
        let spec = parse_options("w_100,h_100,c_fill,g_auto", 8192).unwrap();
        let plan = geometry::plan((1600, 800), &spec, 8192).unwrap();
        let full = place(&img, (1600, 800), &plan, &spec).region;
        assert_eq!(full, place(&img, (1600, 800), &plan, &spec).region);
        let half = img.resize_exact(800, 400, image::imageops::FilterType::Triangle);
        let scaled = place(&half, (1600, 800), &plan, &spec).region;
        assert!(full.x.abs_diff(scaled.x) <= 16, "{full:?} vs {scaled:?}");
    }
}
