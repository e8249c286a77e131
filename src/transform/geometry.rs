//! Exact output geometry: from the displayed source size and the spec, which region of the source
//! is used, what size it is scaled to, and where it sits on a padded canvas. Pure integer maths;
//! sizes round half away from zero and are never below 1 px.

use crate::spec::limits::at_least_1;
pub use crate::spec::limits::{check_box_pixels, check_request, requested_box, round_div, GeometryError};
use crate::spec::{Gravity, ResizeMode, TransformSpec};

/// A rectangle in source pixels (`f_json` reports one as `output.region`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Rect {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

impl Rect {
    /// Every edge and side multiplied by `k`, rounded.
    pub fn scaled(self, k: f64) -> Rect {
        let at = |v: u32| (f64::from(v) * k).round() as u32;
        Rect { x: at(self.x), y: at(self.y), width: at(self.width), height: at(self.height) }
    }
}

/// A padded canvas and where the scaled image sits on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Canvas {
    /// Canvas width.
    pub width: u32,
    /// Canvas height.
    pub height: u32,
    /// Left offset of the image.
    pub left: u32,
    /// Top offset of the image.
    pub top: u32,
}

/// What to do with the pixels, in displayed (oriented) coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// The part of the source that is used.
    pub region: Rect,
    /// The size that region is scaled to.
    pub scaled: (u32, u32),
    /// Padding, for `pad` and `lpad`.
    pub canvas: Option<Canvas>,
    /// The part of the source the plan works within: the whole image, or `rect_`'s region (as
    /// shown). A `g_auto` window moves only inside it.
    pub frame: Rect,
}

impl Plan {
    /// The output size.
    pub fn output(&self) -> (u32, u32) {
        match self.canvas {
            Some(c) => (c.width, c.height),
            None => self.scaled,
        }
    }

    /// Whether the region is scaled at all.
    pub fn resizes(&self) -> bool {
        self.scaled != (self.region.width, self.region.height)
    }
}

/// Refuses a plan over the output pixel limit or enlarging the source more than `max_upscale`
/// per side (a 100 × 100 source cannot be blown up to 8192 × 8192).
pub fn check_plan_limits(plan: &Plan, max_output_pixels: u64, max_upscale: f64) -> Result<(), GeometryError> {
    let (w, h) = plan.output();
    if u64::from(w) * u64::from(h) > max_output_pixels {
        return Err(GeometryError::TooManyOutputPixels(w, h, max_output_pixels));
    }
    let factor = f64::max(
        f64::from(plan.scaled.0) / f64::from(plan.region.width),
        f64::from(plan.scaled.1) / f64::from(plan.region.height),
    );
    if factor > max_upscale {
        return Err(GeometryError::Enlargement(
            (factor * 100.0).round() as u64,
            (max_upscale * 100.0) as u64,
        ));
    }
    Ok(())
}

/// `plan`, made on a region of the source cut out first (`rect_`, as shown), moved to where that
/// region lies in the whole source.
pub fn within(plan: Plan, frame: Rect) -> Plan {
    let region = Rect { x: plan.region.x + frame.x, y: plan.region.y + frame.y, ..plan.region };
    Plan { region, frame, ..plan }
}

/// Plans `spec` (presets already expanded) on a displayed source of `src` pixels.
pub fn plan(src: (u32, u32), spec: &TransformSpec, max_side: u32) -> Result<Plan, GeometryError> {
    check_request(spec, max_side)?;
    let (sw, sh) = (u64::from(src.0), u64::from(src.1));
    let (bw, bh) = requested_box(spec);
    let gravity = spec.gravity.unwrap_or(Gravity::CENTER);
    let full = Rect { x: 0, y: 0, width: src.0, height: src.1 };
    let mode = spec.mode.unwrap_or(ResizeMode::Limit);

    let plan = if mode == ResizeMode::Crop {
        crop_plan(src, bw, bh, spec, gravity)?
    } else {
        let (bw, bh, one_sided) = match (bw, bh) {
            (None, None) => {
                return check(Plan { region: full, scaled: src, canvas: None, frame: full }, max_side)
            }
            (Some(w), Some(h)) => (w, h, false),
            (Some(w), None) => (w, at_least_1(round_div(sh * u64::from(w), sw)), true),
            (None, Some(h)) => (at_least_1(round_div(sw * u64::from(h), sh)), h, true),
        };
        let fitted = if one_sided { (bw, bh) } else { fit(src, (bw, bh)) };
        let limited = if fitted.0 > src.0 || fitted.1 > src.1 { src } else { fitted };
        let cover = if one_sided { full } else { cover_region(src, (bw, bh), gravity) };
        let padded = |inner: (u32, u32)| Plan {
            frame: full,
            region: full,
            scaled: inner,
            canvas: Some(Canvas {
                width: bw,
                height: bh,
                left: offset(bw.saturating_sub(inner.0), gravity, true),
                top: offset(bh.saturating_sub(inner.1), gravity, false),
            }),
        };
        match mode {
            ResizeMode::Limit => Plan { region: full, scaled: limited, canvas: None, frame: full },
            ResizeMode::Fit => Plan { region: full, scaled: fitted, canvas: None, frame: full },
            ResizeMode::Scale => Plan { region: full, scaled: (bw, bh), canvas: None, frame: full },
            ResizeMode::Fill => Plan { region: cover, scaled: (bw, bh), canvas: None, frame: full },
            ResizeMode::LFill => {
                let scaled = if cover.width > bw || cover.height > bh {
                    (bw, bh)
                } else {
                    (cover.width, cover.height)
                };
                Plan { region: cover, scaled, canvas: None, frame: full }
            }
            ResizeMode::Pad => padded(fitted),
            ResizeMode::LPad => padded(limited),
            ResizeMode::Crop => unreachable!("handled above"),
        }
    };
    check(plan, max_side)
}

fn check(plan: Plan, max_side: u32) -> Result<Plan, GeometryError> {
    let (w, h) = plan.output();
    if w > max_side || h > max_side {
        return Err(GeometryError::TooLarge(w, h, max_side));
    }
    Ok(plan)
}

/// The largest size with the source's aspect that fits inside the box.
fn fit(src: (u32, u32), bx: (u32, u32)) -> (u32, u32) {
    let (sw, sh) = (u64::from(src.0), u64::from(src.1));
    let (bw, bh) = (u64::from(bx.0), u64::from(bx.1));
    if sw * bh >= sh * bw {
        (bx.0, at_least_1(round_div(sh * bw, sw)))
    } else {
        (at_least_1(round_div(sw * bh, sh)), bx.1)
    }
}

/// The largest region with the box's aspect inside the source, placed at the gravity.
fn cover_region(src: (u32, u32), bx: (u32, u32), gravity: Gravity) -> Rect {
    let (sw, sh) = (u64::from(src.0), u64::from(src.1));
    let (bw, bh) = (u64::from(bx.0), u64::from(bx.1));
    let (rw, rh) = if sw * bh >= sh * bw {
        (at_least_1(round_div(sh * bw, bh)).min(src.0), src.1)
    } else {
        (src.0, at_least_1(round_div(sw * bh, bw)).min(src.1))
    };
    place(src, (rw, rh), gravity)
}

/// Places a `size` window inside `src` at the gravity (a focal point is centred, then clamped).
fn place(src: (u32, u32), size: (u32, u32), gravity: Gravity) -> Rect {
    let axis = |total: u32, len: u32, horizontal: bool| match gravity {
        Gravity::Focal(fx, fy) => {
            let f = f64::from(if horizontal { fx } else { fy }) / 10_000.0;
            let start = (f * f64::from(total) - f64::from(len) / 2.0).round();
            start.clamp(0.0, f64::from(total - len)) as u32
        }
        Gravity::Compass(..) | Gravity::Auto => offset(total - len, gravity, horizontal),
    };
    Rect { x: axis(src.0, size.0, true), y: axis(src.1, size.1, false), width: size.0, height: size.1 }
}

/// How far into `slack` spare pixels the gravity puts the start edge.
fn offset(slack: u32, gravity: Gravity, horizontal: bool) -> u32 {
    match gravity {
        Gravity::Compass(h, v) => {
            let a = if horizontal { h } else { v };
            round_div(u64::from(slack) * u64::from(a), 2) as u32
        }
        Gravity::Focal(fx, fy) => {
            let f = u64::from(if horizontal { fx } else { fy });
            round_div(u64::from(slack) * f, 10_000) as u32
        }
        // Before the pixels are seen (and for padding), `g_auto` is the centre.
        Gravity::Auto => round_div(u64::from(slack), 2) as u32,
    }
}

fn crop_plan(
    src: (u32, u32),
    bw: Option<u32>,
    bh: Option<u32>,
    spec: &TransformSpec,
    gravity: Gravity,
) -> Result<Plan, GeometryError> {
    let cw = bw.unwrap_or(src.0).min(src.0);
    let ch = bh.unwrap_or(src.1).min(src.1);
    let mut region = place(src, (cw, ch), gravity);
    if let Some(x) = spec.x {
        if x >= src.0 {
            return Err(GeometryError::OutsideImage("x", src.0, src.1));
        }
        region.x = x;
        region.width = cw.min(src.0 - x);
    }
    if let Some(y) = spec.y {
        if y >= src.1 {
            return Err(GeometryError::OutsideImage("y", src.0, src.1));
        }
        region.y = y;
        region.height = ch.min(src.1 - y);
    }
    let full = Rect { x: 0, y: 0, width: src.0, height: src.1 };
    Ok(Plan { region, scaled: (region.width, region.height), canvas: None, frame: full })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::parse_options;

    fn out(src: (u32, u32), opts: &str) -> (u32, u32) {
        plan(src, &parse_options(opts, 8192).unwrap(), 8192).unwrap().output()
    }

    #[test]
    fn modes_on_a_larger_source() {
        let s = (1000, 500);
        assert_eq!(out(s, "w_200,h_200"), (200, 100));
        assert_eq!(out(s, "w_200,h_200,c_fit"), (200, 100));
        assert_eq!(out(s, "w_200,h_200,c_fill"), (200, 200));
        assert_eq!(out(s, "w_200,h_200,c_lfill"), (200, 200));
        assert_eq!(out(s, "w_200,h_200,c_pad"), (200, 200));
        assert_eq!(out(s, "w_200,h_200,c_lpad"), (200, 200));
        assert_eq!(out(s, "w_200,h_200,c_scale"), (200, 200));
        assert_eq!(out(s, "w_200,h_200,c_crop"), (200, 200));
    }

    #[test]
    fn modes_on_a_smaller_source() {
        let s = (100, 50);
        assert_eq!(out(s, "w_400,h_400"), (100, 50));
        assert_eq!(out(s, "w_400,h_400,c_fit"), (400, 200));
        assert_eq!(out(s, "w_400,h_400,c_fill"), (400, 400));
        assert_eq!(out(s, "w_400,h_400,c_lfill"), (50, 50));
        assert_eq!(out(s, "w_400,h_400,c_pad"), (400, 400));
        assert_eq!(out(s, "w_400,h_400,c_lpad"), (400, 400));
        assert_eq!(out(s, "w_400,h_400,c_scale"), (400, 400));
        assert_eq!(out(s, "w_400,h_400,c_crop"), (100, 50));
    }

    #[test]
    fn one_side_follows_the_aspect_and_rounds_half_away_from_zero() {
        assert_eq!(out((1000, 333), "w_100"), (100, 33));
        assert_eq!(out((1000, 335), "w_100"), (100, 34)); // 33.5 rounds up
        assert_eq!(out((3, 1000), "h_100"), (1, 100)); // 0.3 is never below 1 px
        assert_eq!(out((1000, 500), "w_200,dpr_1.5"), (300, 150));
        assert_eq!(out((1000, 500), "w_333,dpr_1.5"), (500, 250)); // 499.5 → 500
    }

    #[test]
    fn fill_region_follows_gravity() {
        let spec = |o: &str| parse_options(o, 8192).unwrap();
        let p = plan((1000, 500), &spec("w_100,h_100,c_fill,g_west"), 8192).unwrap();
        assert_eq!(p.region, Rect { x: 0, y: 0, width: 500, height: 500 });
        let p = plan((1000, 500), &spec("w_100,h_100,c_fill,g_east"), 8192).unwrap();
        assert_eq!(p.region.x, 500);
        let p = plan((1000, 500), &spec("w_100,h_100,c_fill"), 8192).unwrap();
        assert_eq!(p.region.x, 250);
        let p = plan((1000, 500), &spec("w_100,h_100,c_fill,g_0.9x0.5"), 8192).unwrap();
        assert_eq!(p.region.x, 500); // centred on 900 then clamped to the right edge
        let p = plan((1000, 500), &spec("w_100,h_100,c_fill,g_0.4x0.5"), 8192).unwrap();
        assert_eq!(p.region.x, 150);
    }

    #[test]
    fn pad_places_the_image_at_gravity() {
        let spec = |o: &str| parse_options(o, 8192).unwrap();
        let p = plan((1000, 500), &spec("w_200,h_200,c_pad,g_south"), 8192).unwrap();
        assert_eq!(p.scaled, (200, 100));
        assert_eq!(p.canvas, Some(Canvas { width: 200, height: 200, left: 0, top: 100 }));
        let p = plan((1000, 500), &spec("w_200,h_200,c_pad"), 8192).unwrap();
        assert_eq!(p.canvas.unwrap().top, 50);
    }

    #[test]
    fn crop_with_coordinates_is_clamped_and_checked() {
        let spec = |o: &str| parse_options(o, 8192).unwrap();
        let p = plan((100, 80), &spec("w_50,h_50,c_crop,x_70,y_10"), 8192).unwrap();
        assert_eq!(p.region, Rect { x: 70, y: 10, width: 30, height: 50 });
        assert_eq!(
            plan((100, 80), &spec("w_50,c_crop,x_100"), 8192),
            Err(GeometryError::OutsideImage("x", 100, 80))
        );
    }

    #[test]
    fn output_over_the_side_limit_is_refused() {
        let spec = parse_options("w_8000,c_fit", 8192).unwrap();
        assert_eq!(plan((100, 10_000), &spec, 8192), Err(GeometryError::TooLarge(8000, 800_000, 8192)));
    }
}
