//! The origin form the CloudFront Function rewrites every accepted URL into:
//! `/{key}?o={canonical}[&s=SIG][&exp=N]`, with `f_auto` resolved from `Accept` (AVIF, WebP, or
//! left as `f_auto` for clients that take neither). The function in `cdk/functions/` computes the
//! same string; `tests/vectors/canonical.json` holds the cases both must agree on.

use super::parse::{parse_request, SpecError};

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
    crate::transform::geometry::check_request(&spec, max_side).map_err(|e| SpecError {
        code: "bad_geometry",
        token: "dpr".into(),
        message: e.to_string(),
    })?;
    // A preset may bring c_crop along; only the origin, which knows presets, can tell.
    if spec.preset.is_none() {
        spec.check_crop_coordinates()?;
    }
    spec.format = crate::transform::format::resolve_requested(spec.format, accept);
    let mut out = format!("/{key}?o={spec}");
    if let Some(sig) = parsed.signature {
        out.push_str(&format!("&s={sig}"));
    }
    if let Some(exp) = spec.expires {
        out.push_str(&format!("&exp={exp}"));
    }
    Ok(out)
}
