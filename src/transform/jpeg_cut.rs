//! A small region of a large JPEG decoded alone: when a request needs the full-scale decode
//! (no DCT shrink applies) of a part of the image (`rect_`, `c_crop`, a tight `c_fill`), the
//! JPEG is first cut losslessly in the DCT domain (libjpeg-turbo's `tj3Transform` crop, at MCU
//! boundaries) and only the cut is decoded: the entropy decoding still reads every block, but
//! the inverse DCT, upsampling and colour conversion run on the region alone.

use super::attention;
use super::decode::Header;
use super::geometry::{Plan, Rect};
use crate::spec::{Rotation, TransformSpec};

/// The cut: its bytes, and the header, displayed size and plan re-expressed for it.
pub(super) struct Cut {
    pub(super) bytes: Vec<u8>,
    pub(super) header: Header,
    pub(super) displayed: (u32, u32),
    pub(super) plan: Plan,
}

/// The cut for `plan`, when it pays: a full-scale decode (`eighths` 8) of which the part needed
/// is at most half. `None` otherwise, or when libjpeg-turbo declines (the caller then decodes
/// the whole image as before).
pub(super) fn cut(
    bytes: &[u8],
    header: &Header,
    displayed: (u32, u32),
    plan: &Plan,
    eighths: u8,
    spec: &TransformSpec,
) -> Option<Cut> {
    if eighths != 8 {
        return None;
    }
    // `g_auto` chooses its window inside the frame after decoding: the frame is needed whole.
    let needed = if attention::applies(spec) { plan.frame } else { plan.region };
    let area = |w: u32, h: u32| u64::from(w) * u64::from(h);
    if area(needed.width, needed.height) * 2 > area(displayed.0, displayed.1) {
        return None;
    }
    let stored = (header.width, header.height);
    let map = Dihedral::of(stored, header.orientation, spec);
    let want = map.back(needed);
    let jpeg = turbojpeg::read_header(bytes).ok()?;
    let (mw, mh) = (jpeg.subsamp.mcu_width() as u32, jpeg.subsamp.mcu_height() as u32);
    let (x0, y0) = (want.x / mw * mw, want.y / mh * mh);
    let (x1, y1) = (want.x + want.width, want.y + want.height);
    let crop = turbojpeg::TransformCrop {
        x: x0 as usize,
        y: y0 as usize,
        width: Some((x1 - x0) as usize),
        height: Some((y1 - y0) as usize),
    };
    let mut transform = turbojpeg::Transform::default();
    transform.crop = Some(crop);
    let bytes = turbojpeg::Transformer::new().ok()?.transform_to_vec(&transform, bytes).ok()?;
    let piece = Rect { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
    let shown = map.forward(piece);
    // The plan in the cut's coordinates; the frame (only `g_auto` reads it, and then it is all
    // inside the cut) is clipped to the cut.
    let inside = |r: Rect| {
        let (x0, y0) = (r.x.max(shown.x), r.y.max(shown.y));
        let x1 = (r.x + r.width).min(shown.x + shown.width);
        let y1 = (r.y + r.height).min(shown.y + shown.height);
        Rect { x: x0 - shown.x, y: y0 - shown.y, width: x1.saturating_sub(x0), height: y1.saturating_sub(y0) }
    };
    let plan = Plan { region: inside(plan.region), frame: inside(plan.frame), ..*plan };
    let header = Header { width: piece.width, height: piece.height, ..header.clone() };
    Some(Cut { bytes, header, displayed: (shown.width, shown.height), plan })
}

/// The orientation (EXIF, then `a_`, then the flips) as the map of a pixel of the stored image
/// to the image shown: `shown = m · stored + t`, `m` a signed permutation matrix.
struct Dihedral {
    m: [[i64; 2]; 2],
    t: [i64; 2],
}

impl Dihedral {
    /// The map, found by orienting the stored image's corner coordinates as `orient` orients
    /// the pixels: each step is one of rotate 90/180/270 and flip, applied in `orient`'s order.
    fn of(stored: (u32, u32), exif: u8, spec: &TransformSpec) -> Dihedral {
        let mut d = Dihedral { m: [[1, 0], [0, 1]], t: [0, 0] };
        let mut size = (i64::from(stored.0), i64::from(stored.1));
        let mut step = |op: Op| {
            let (w, h) = size;
            // The new coordinates of (x, y) in a w × h image.
            let (m, t, swapped): ([[i64; 2]; 2], [i64; 2], bool) = match op {
                Op::Rot90 => ([[0, -1], [1, 0]], [h - 1, 0], true),
                Op::Rot180 => ([[-1, 0], [0, -1]], [w - 1, h - 1], false),
                Op::Rot270 => ([[0, 1], [-1, 0]], [0, w - 1], true),
                Op::FlipH => ([[-1, 0], [0, 1]], [w - 1, 0], false),
                Op::FlipV => ([[1, 0], [0, -1]], [0, h - 1], false),
            };
            d = Dihedral {
                m: [
                    [m[0][0] * d.m[0][0] + m[0][1] * d.m[1][0], m[0][0] * d.m[0][1] + m[0][1] * d.m[1][1]],
                    [m[1][0] * d.m[0][0] + m[1][1] * d.m[1][0], m[1][0] * d.m[0][1] + m[1][1] * d.m[1][1]],
                ],
                t: [m[0][0] * d.t[0] + m[0][1] * d.t[1] + t[0], m[1][0] * d.t[0] + m[1][1] * d.t[1] + t[1]],
            };
            if swapped {
                size = (h, w);
            }
        };
        // image's `apply_orientation`, for EXIF 2..=8.
        let exif_ops: &[Op] = match exif {
            2 => &[Op::FlipH],
            3 => &[Op::Rot180],
            4 => &[Op::FlipV],
            5 => &[Op::Rot90, Op::FlipH],
            6 => &[Op::Rot90],
            7 => &[Op::Rot270, Op::FlipH],
            8 => &[Op::Rot270],
            _ => &[],
        };
        exif_ops.iter().for_each(|op| step(*op));
        match spec.rotation {
            Rotation::R0 => {}
            Rotation::R90 => step(Op::Rot90),
            Rotation::R180 => step(Op::Rot180),
            Rotation::R270 => step(Op::Rot270),
        }
        if spec.flip_h {
            step(Op::FlipH);
        }
        if spec.flip_v {
            step(Op::FlipV);
        }
        d
    }

    fn point(&self, m: [[i64; 2]; 2], t: [i64; 2], p: [i64; 2]) -> [i64; 2] {
        [m[0][0] * p[0] + m[0][1] * p[1] + t[0], m[1][0] * p[0] + m[1][1] * p[1] + t[1]]
    }

    /// The rectangle `r` of the stored image, as shown.
    fn forward(&self, r: Rect) -> Rect {
        self.bounds(self.m, self.t, r)
    }

    /// The rectangle `r` of the image shown, in the stored image (the inverse: `m` is orthogonal,
    /// so its inverse is its transpose).
    fn back(&self, r: Rect) -> Rect {
        let mt = [[self.m[0][0], self.m[1][0]], [self.m[0][1], self.m[1][1]]];
        let t = self.point(mt, [0, 0], self.t);
        self.bounds(mt, [-t[0], -t[1]], r)
    }

    /// The bounding box of a rectangle's corner pixels under `m`, `t`.
    fn bounds(&self, m: [[i64; 2]; 2], t: [i64; 2], r: Rect) -> Rect {
        let (x0, y0) = (i64::from(r.x), i64::from(r.y));
        let (x1, y1) = (x0 + i64::from(r.width) - 1, y0 + i64::from(r.height) - 1);
        let a = self.point(m, t, [x0, y0]);
        let b = self.point(m, t, [x1, y1]);
        let (lx, ly) = (a[0].min(b[0]), a[1].min(b[1]));
        let (hx, hy) = (a[0].max(b[0]), a[1].max(b[1]));
        Rect { x: lx as u32, y: ly as u32, width: (hx - lx + 1) as u32, height: (hy - ly + 1) as u32 }
    }
}

#[derive(Clone, Copy)]
enum Op {
    Rot90,
    Rot180,
    Rot270,
    FlipH,
    FlipV,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::parse_options;
    use crate::transform::decode::{decode_turbo, read_header};
    use crate::transform::{geometry, orient, Limits};
    use image::{DynamicImage, GenericImageView, Rgb, RgbImage};

    /// A 300 × 200 picture with detail everywhere (gradients and a grid), as a 4:2:0 JPEG.
    fn photo() -> Vec<u8> {
        let img = RgbImage::from_fn(300, 200, |x, y| {
            let grid = if (x / 7 + y / 5) % 2 == 0 { 40 } else { 0 };
            Rgb([(x * 255 / 300) as u8, (y * 255 / 200) as u8, (((x + y) % 64) * 3 + grid) as u8])
        });
        let mut c = turbojpeg::Compressor::new().unwrap();
        c.set_quality(95).unwrap();
        c.set_subsamp(turbojpeg::Subsamp::Sub2x2).unwrap();
        c.compress_to_vec(turbojpeg::Image {
            pixels: img.as_raw().as_slice(),
            width: 300,
            pitch: 300 * 3,
            height: 200,
            format: turbojpeg::PixelFormat::RGB,
        })
        .unwrap()
    }

    /// Mean and largest per-channel difference of two equally sized images.
    fn difference(a: &DynamicImage, b: &DynamicImage) -> (f64, u8) {
        assert_eq!(a.dimensions(), b.dimensions());
        let (a, b) = (a.to_rgb8(), b.to_rgb8());
        let diffs: Vec<u8> = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| x.abs_diff(*y)).collect();
        let mean = diffs.iter().map(|d| f64::from(*d)).sum::<f64>() / diffs.len() as f64;
        (mean, diffs.into_iter().max().unwrap_or(0))
    }

    #[test]
    fn the_cut_decodes_to_the_same_pixels_in_every_orientation() {
        let bytes = photo();
        let limits = Limits::default();
        for exif in 1..=8u8 {
            for opts in ["", "a_90", "a_180,a_hflip", "a_270,a_vflip"] {
                let spec = parse_options(&format!("{opts},c_crop,x_37,y_21,w_50,h_40"), 8192).unwrap();
                let header = Header {
                    orientation: exif,
                    ..read_header(
                        &bytes,
                        &limits,
                        std::time::Instant::now() + std::time::Duration::from_secs(60),
                    )
                    .unwrap()
                };
                let displayed = orient::displayed_size((header.width, header.height), exif, &spec);
                let plan = geometry::plan(displayed, &spec, 8192).unwrap();
                let r = plan.region;
                let whole = orient::orient(decode_turbo(&bytes, 8, false).unwrap(), exif, &spec)
                    .crop_imm(r.x, r.y, r.width, r.height);
                let cut = cut(&bytes, &header, displayed, &plan, 8, &spec).expect("a small region is cut");
                assert!(
                    cut.header.width * cut.header.height < 300 * 200 / 4,
                    "exif {exif} {opts}: cut too big"
                );
                let part = orient::orient(decode_turbo(&cut.bytes, 8, false).unwrap(), exif, &spec);
                assert_eq!(part.dimensions(), cut.displayed, "exif {exif} {opts}");
                let q = cut.plan.region;
                let part = part.crop_imm(q.x, q.y, q.width, q.height);
                let (mean, max) = difference(&whole, &part);
                // Identical coefficients; only chroma upsampling at the cut's own edge may differ.
                assert!(mean < 1.0 && max < 48, "exif {exif} {opts}: mean {mean:.2}, max {max}");
            }
        }
    }

    #[test]
    fn no_cut_when_the_decode_shrinks_or_the_part_is_most_of_the_image() {
        let bytes = photo();
        let header = read_header(
            &bytes,
            &Limits::default(),
            std::time::Instant::now() + std::time::Duration::from_secs(60),
        )
        .unwrap();
        let small = parse_options("c_crop,w_50,h_40", 8192).unwrap();
        let plan = geometry::plan((300, 200), &small, 8192).unwrap();
        assert!(cut(&bytes, &header, (300, 200), &plan, 4, &small).is_none(), "a DCT-scaled decode");
        let big = parse_options("c_crop,w_290,h_190", 8192).unwrap();
        let plan = geometry::plan((300, 200), &big, 8192).unwrap();
        assert!(cut(&bytes, &header, (300, 200), &plan, 8, &big).is_none(), "most of the image");
        // Not a JPEG after all: the caller decodes as before.
        assert!(cut(
            b"not a jpeg",
            &header,
            (300, 200),
            &geometry::plan((300, 200), &small, 8192).unwrap(),
            8,
            &small
        )
        .is_none());
    }
}
