//! The origin form the CloudFront Function rewrites every accepted URL into:
//! `/{key}?o={canonical}[&s=SIG][&exp=N]`, with `f_auto` resolved from `Accept` (AVIF, WebP, or
//! left as `f_auto` for clients that take neither). The function in `cdk/functions/` computes the
//! same string; `tests/vectors/canonical.json` holds the cases both must agree on.

use super::parse::{parse_request, SpecError};
use super::{Format, ResizeMode};
use crate::transform::geometry::requested_box;

/// The origin form of a request, or the error the origin would answer (so the edge can too).
pub fn origin_form(
    path: &str,
    query: Option<&str>,
    accept: Option<&str>,
    max_side: u32,
) -> Result<String, SpecError> {
    let parsed = parse_request(path, query, max_side)?;
    let mut spec = parsed.spec;
    let key = parsed.key.to_url_path();
    if spec.is_identity() {
        return Ok(format!("/{key}"));
    }
    let (bw, bh) = requested_box(&spec);
    if let Some(side) = [bw, bh].into_iter().flatten().find(|s| *s > max_side) {
        return Err(SpecError {
            code: "bad_geometry",
            token: "dpr".into(),
            message: format!("the requested size {side} px is over the {max_side} px limit"),
        });
    }
    if spec.preset.is_none() && (spec.x.is_some() || spec.y.is_some()) && spec.mode != Some(ResizeMode::Crop)
    {
        return Err(SpecError {
            code: "bad_option",
            token: if spec.x.is_some() { "x_" } else { "y_" }.into(),
            message: "x_ and y_ only apply to c_crop".into(),
        });
    }
    if spec.format == Some(Format::Auto) {
        spec.format = match crate::transform::resolve_auto(accept) {
            crate::transform::AutoFormat::Avif => Some(Format::Avif),
            crate::transform::AutoFormat::Webp => Some(Format::Webp),
            crate::transform::AutoFormat::Legacy => Some(Format::Auto),
        };
    }
    let mut out = format!("/{key}?o={spec}");
    if let Some(sig) = parsed.signature {
        out.push_str(&format!("&s={sig}"));
    }
    if let Some(exp) = spec.expires {
        out.push_str(&format!("&exp={exp}"));
    }
    Ok(out)
}
