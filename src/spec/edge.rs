//! The origin form the CloudFront Function rewrites every accepted URL into:
//! `/{key}?o={canonical}[&s=SIG][&exp=N]`, with `f_auto` resolved from `Accept` (AVIF, WebP, or
//! left as `f_auto` for clients that take neither) and `dpr_auto`/`w_auto` from the client hints.
//! Query parameters no one defines follow it unchanged. The function in `cdk/functions/` computes
//! the same string, and passes every request it cannot rewrite (an error, a form it does not
//! know) to the origin as it came; `tests/vectors/canonical.json` holds the cases both must agree
//! on.

use super::hints::Hints;
use super::limits::GeometryError;
use super::parse::{misread, parse_request, SpecError};
use super::resolve::{resolve, Request, ResolveError, Rules};

/// The origin form of a request, or the error the origin would answer (so the edge can too).
pub fn origin_form(
    path: &str,
    query: Option<&str>,
    accept: Option<&str>,
    hints: Hints<'_>,
    max_side: u32,
) -> Result<String, SpecError> {
    let parsed = parse_request(path, query, max_side)?;
    let key = match misread(parsed.key.as_str()) {
        true => format!("-/{}", parsed.key.to_url_path()),
        false => parsed.key.to_url_path(),
    };
    // Parameters no one defines go along as written: they are part of CloudFront's cache key (a
    // cache buster busts it) and the origin ignores them again.
    let extra: String = parsed.ignored.iter().map(|p| format!("&{p}")).collect();
    if parsed.spec.is_identity() {
        return Ok(match extra.strip_prefix('&') {
            Some(extra) => format!("/{key}?{extra}"),
            None => format!("/{key}"),
        });
    }
    // The edge knows no presets (it keeps `t_NAME` by name) and checks only the side limit.
    let rules = Rules {
        presets: None,
        presets_only: false,
        max_output_side: max_side,
        max_output_pixels: None,
        signer: None,
        allow_unsigned_presets: false,
    };
    // Expiry is the origin's to judge (its clock), so the edge resolves as of time zero.
    let request = Request {
        key: Some(&parsed.key),
        written: &parsed.spec,
        signature: None,
        handler_signed: None,
        accept,
        hints,
        now: 0,
    };
    let resolved = resolve(&request, &rules).map_err(|e| {
        let message = e.to_string();
        match e {
            ResolveError::Spec(e) => e,
            ResolveError::Geometry(GeometryError::RequestTooLarge(token, ..)) => {
                SpecError { code: "bad_geometry", token, message }
            }
            _ => SpecError { code: "bad_geometry", token: String::new(), message },
        }
    })?;
    let spec = resolved.spec;
    let mut out = format!("/{key}?o={spec}");
    if let Some(sig) = parsed.signature {
        out.push_str(&format!("&s={sig}"));
    }
    if let Some(exp) = spec.expires {
        out.push_str(&format!("&exp={exp}"));
    }
    out.push_str(&extra);
    Ok(out)
}

/// The CloudFront invalidation paths that clear every URL made from `key`: its origin forms
/// (`/{key}` and `/{key}?o=…`) are all under `/{key}*`, and a key the path grammar would misread
/// is also cached as `/-/{key}…`. Percent-encoded as the origin form writes them.
pub fn edge_paths(key: &super::Key) -> Vec<String> {
    let path = key.to_url_path();
    let mut paths = vec![format!("/{path}*")];
    if misread(key.as_str()) {
        paths.push(format!("/-/{path}*"));
    }
    paths
}
