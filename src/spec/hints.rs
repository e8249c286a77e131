//! Client hints: `dpr_auto` takes the device pixel ratio from `Sec-CH-DPR` (else the older `DPR`),
//! `w_auto` the image's display width in device pixels from `Sec-CH-Width` (else `Width`). Each hint
//! is rounded to a few steps before it becomes part of the options — dpr up to 1, 1.5, 2 or 3,
//! width up to the next 100 px — so a cache holds a handful of variants per image, not one per
//! device. The CloudFront Function folds them the same way at the edge (the rounded value is in
//! the URL the cache is keyed on); the origin folds them for requests that come to it directly.

use super::limits::round_div;
use super::{Hinted, TransformSpec};

/// The hint headers of one request, as sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hints<'a> {
    /// `Sec-CH-DPR`, else `DPR`.
    pub dpr: Option<&'a str>,
    /// `Sec-CH-Width`, else `Width`.
    pub width: Option<&'a str>,
}

impl<'a> Hints<'a> {
    /// The hint headers of a request: the `Sec-CH-` names first, the older ones otherwise.
    pub fn from_headers(headers: &'a http::HeaderMap) -> Hints<'a> {
        let first =
            |names: [&str; 2]| names.into_iter().find_map(|n| headers.get(n).and_then(|v| v.to_str().ok()));
        Hints { dpr: first(["sec-ch-dpr", "dpr"]), width: first(["sec-ch-width", "width"]) }
    }
}

/// The dpr steps, in hundredths.
const DPR_STEPS: [u32; 4] = [100, 150, 200, 300];

/// Widths are rounded up to a multiple of this.
const WIDTH_STEP: u32 = 100;

/// A hint's number: decimal digits with an optional fraction (what browsers send), above zero.
/// Anything else is no hint.
fn number(v: &str) -> Option<f64> {
    let v = v.trim();
    let (int, frac) = v.split_once('.').unwrap_or((v, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if v.len() > 24 || !digits(int) || !digits(frac) {
        return None;
    }
    v.parse::<f64>().ok().filter(|n| *n > 0.0)
}

/// The dpr step a `Sec-CH-DPR` value rounds up to (3 for anything above 2).
fn dpr_step(v: &str) -> Option<u32> {
    let d = number(v)? * 100.0;
    Some(DPR_STEPS.into_iter().find(|&s| d <= f64::from(s)).unwrap_or(300))
}

/// The width a `Sec-CH-Width` value rounds up to, in device px.
fn width_step(v: &str) -> Option<u32> {
    let steps = (number(v)? / f64::from(WIDTH_STEP)).ceil().min(1e6) as u32;
    Some(steps.max(1) * WIDTH_STEP)
}

/// Folds `hints` into the `dpr_auto`/`w_auto` of `spec` that no one has resolved yet; a hinted
/// width is at most the `w_auto:CAP` (times the dpr) and the side limit. Returns the headers the
/// answer varies on (those of every unresolved token, hint or not).
pub(super) fn fold(spec: &mut TransformSpec, hints: Hints<'_>, max_side: u32) -> Vec<&'static str> {
    let mut vary = Vec::new();
    if let Some(auto) = spec.auto_dpr.filter(|a| a.hinted.is_none()) {
        vary.extend(["Sec-CH-DPR", "DPR"]);
        if let Some(step) = hints.dpr.and_then(dpr_step) {
            spec.set_auto_dpr(Hinted { hinted: Some(step), ..auto });
        }
    }
    if let Some(auto) = spec.auto_width.filter(|a| a.hinted.is_none()) {
        vary.extend(["Sec-CH-Width", "Width"]);
        if let Some(step) = hints.width.and_then(width_step) {
            let dpr = u64::from(spec.dpr.map_or(100, |d| d.0));
            let cap = auto.given.map_or(max_side, |g| round_div(u64::from(g) * dpr, 100) as u32);
            spec.set_auto_width(Hinted { hinted: Some(step.min(cap).min(max_side)), ..auto });
        }
    }
    vary
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::parse_options;

    #[test]
    fn hints_round_up_to_few_steps_and_junk_is_no_hint() {
        let dpr = |v| dpr_step(v);
        assert_eq!(
            [dpr("0.5"), dpr("1"), dpr("1.25"), dpr("1.7999999523162842"), dpr("2.625"), dpr("9")],
            [Some(100), Some(100), Some(150), Some(200), Some(300), Some(300)]
        );
        assert_eq!(
            [width_step("1"), width_step("412.5"), width_step("800"), width_step("801")],
            [Some(100), Some(500), Some(800), Some(900)]
        );
        for junk in ["", "0", "-2", "2x", "1e3", "NaN", "inf", ".5", "5.", "1,5", &"9".repeat(30)] {
            assert_eq!((dpr_step(junk), width_step(junk)), (None, None), "{junk:?}");
        }
    }

    #[test]
    fn folding_writes_the_hint_into_the_options() {
        let fold_into = |opts: &str, hints: Hints<'_>| {
            let mut spec = parse_options(opts, 8192).unwrap();
            let vary = fold(&mut spec, hints, 8192);
            (spec.to_string(), vary.len())
        };
        let both = Hints { dpr: Some("2.625"), width: Some("730") };
        assert_eq!(fold_into("dpr_auto,w_200", both), ("dpr_auto-3,w_200".into(), 2));
        assert_eq!(fold_into("w_auto", both), ("w_auto-800".into(), 2));
        // The cap is in CSS px: times the dpr in device px.
        assert_eq!(fold_into("w_auto:300", both), ("w_auto:300-300".into(), 2));
        assert_eq!(fold_into("w_auto:300,dpr_auto", both), ("dpr_auto-3,w_auto:300-800".into(), 4));
        assert_eq!(fold_into("w_auto:300,dpr_auto:2", Hints::default()), ("dpr_auto:2,w_auto:300".into(), 4));
        // Already resolved (by the edge): left alone, nothing varies.
        assert_eq!(fold_into("dpr_auto-1.5", both), ("dpr_auto-1.5".into(), 0));
        assert_eq!(fold_into("w_100", both), ("w_100".into(), 0));
    }

    #[test]
    fn a_hinted_width_is_in_device_pixels_and_the_fallbacks_apply_without_hints() {
        use crate::spec::limits::requested_box;
        let mut spec = parse_options("w_auto:400,dpr_auto:2,h_100", 8192).unwrap();
        assert_eq!(requested_box(&spec), (Some(800), Some(200)), "no hints: 400 CSS px at dpr 2");
        fold(&mut spec, Hints { dpr: Some("3"), width: Some("950") }, 8192);
        assert_eq!(requested_box(&spec), (Some(1000), Some(300)), "the hinted width is not scaled again");
        assert_eq!(spec.as_authored().to_string(), "dpr_auto:2,h_100,w_auto:400");
    }
}
