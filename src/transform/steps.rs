//! The steps after decoding, the same for a still and for every frame of an animation: orient,
//! place a `g_auto` window, crop and scale, colour, gray, effects, pad.

use super::{attention, canvas, check, color, effects, geometry, orient, resize, TransformError};
use crate::spec::{Rgb, TransformSpec};
use std::time::Instant;

/// The steps after decoding: one value per request, rendering a still or each frame in turn.
pub(crate) struct Steps<'a> {
    exif: u8,
    displayed: (u32, u32),
    pub(super) plan: &'a geometry::Plan,
    pub(super) spec: &'a TransformSpec,
    pub(super) deadline: Instant,
    /// The plan with a `g_auto` window placed, decided on the first image rendered (an
    /// animation's first frame) so that every frame is cut at the same place.
    placed: std::cell::OnceCell<geometry::Plan>,
}

impl<'a> Steps<'a> {
    pub(super) fn new(
        exif: u8,
        displayed: (u32, u32),
        plan: &'a geometry::Plan,
        spec: &'a TransformSpec,
        deadline: Instant,
    ) -> Self {
        Steps { exif, displayed, plan, spec, deadline, placed: std::cell::OnceCell::new() }
    }

    pub(super) fn render(
        &self,
        img: image::DynamicImage,
        icc: Option<&[u8]>,
    ) -> Result<image::DynamicImage, TransformError> {
        let spec = self.spec;
        let mut img = orient::orient(img, self.exif, spec);
        check(self.deadline)?;
        let plan = match attention::applies(spec) {
            true => self.placed.get_or_init(|| attention::place(&img, self.displayed, self.plan, spec)),
            false => self.plan,
        };
        img = crop_and_scale(img, self.displayed, plan, self.deadline)?;
        // Colour management after the resize, as libvips' thumbnail does: far fewer pixels to convert.
        img = color::to_srgb(img, icc);
        if spec.gray {
            img = color::grayscale(img);
        }
        check(self.deadline)?;
        img = effects::apply(img, spec, self.deadline)?;
        if let Some(c) = self.plan.canvas {
            img = canvas::pad(img, c.width, c.height, c.left, c.top, spec.background.unwrap_or(Rgb::WHITE));
        }
        Ok(img)
    }
}

/// The plan's region scaled to its size. The plan is in full-size displayed pixels; the decoded
/// image may be DCT-scaled, so the region is scaled to it first.
fn crop_and_scale(
    img: image::DynamicImage,
    displayed: (u32, u32),
    plan: &geometry::Plan,
    deadline: Instant,
) -> Result<image::DynamicImage, TransformError> {
    let fx = f64::from(img.width()) / f64::from(displayed.0);
    let fy = f64::from(img.height()) / f64::from(displayed.1);
    let r = plan.region;
    let exact = fx == 1.0 && fy == 1.0 && !plan.resizes();
    if exact {
        let whole = (r.width, r.height) == (img.width(), img.height());
        return Ok(if whole { img } else { img.crop_imm(r.x, r.y, r.width, r.height) });
    }
    let region = resize::Region {
        x: f64::from(r.x) * fx,
        y: f64::from(r.y) * fy,
        width: f64::from(r.width) * fx,
        height: f64::from(r.height) * fy,
    };
    resize::resize(&img, region, plan.scaled, deadline)
}
