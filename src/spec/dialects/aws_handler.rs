//! The request forms of AWS's Dynamic Image Transformation for CloudFront (formerly Serverless
//! Image Handler), as its 8.0.1 source reads them (`image-request.ts`, `thumbor-mapper.ts`):
//!
//! - the default form, a path that is base64 of `{"bucket", "key", "edits", "outputFormat"}`, whose
//!   `edits` are sharp's (`resize` with sharp's `fit` meanings, `grayscale`, `flip`, `flop`,
//!   `rotate`, `toFormat`, per-format `quality`, `smartCrop`, …);
//! - Thumbor-style paths: `/[unsafe/][s3:BUCKET/][AxB:CxD/][fit-in/][-]Wx[-]H/[halign/][valign/]
//!   [smart/][filters:NAME(ARGS):…/]KEY`, in any order, as the handler's regexes find them.
//!
//! Each maps onto path tokens parsed like any others, so the variant has one canonical form and
//! one cache entry whichever way it was asked for. What has no pixflow equivalent is a 400 naming
//! it (the handler ignores an unknown filter; a page relying on it learns so here). With a secret
//! set, the handler's own scheme signs these forms: `?signature=` is the hex HMAC-SHA256 of the
//! path (and `?` with the other query parameters, sorted, when there are any).

use crate::spec::parse::{parse_options, SpecError};
use crate::spec::TransformSpec;
use base64::engine::{general_purpose::GeneralPurpose, DecodePaddingMode, GeneralPurposeConfig};
use base64::Engine as _;
use serde_json::{Map, Value};

/// A request in one of the handler's forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::spec) struct HandlerForm {
    /// The key, still to be validated.
    pub(in crate::spec) key: String,
    /// The options, as pixflow reads them.
    pub(in crate::spec) spec: TransformSpec,
    /// The bucket the request names (JSON `bucket`, Thumbor `s3:BUCKET`), to be checked against
    /// the source.
    pub(in crate::spec) bucket: Option<String>,
}

/// The handler's query parameters that edit the image (its `QueryParamMapper`): not read here.
const HANDLER_QUERY_EDITS: &[&str] =
    &["format", "fit", "width", "height", "rotate", "flip", "flop", "grayscale", "greyscale", "expires"];

/// Whether a path (percent-decoded, without its leading `/`) is in one of the handler's forms.
pub(in crate::spec) fn recognise(path: &str) -> bool {
    json_request(path).is_some() || path.split_once('/').is_some_and(|(first, _)| thumbor_command(first))
}

/// The handler form of `path` (percent-decoded, without its leading `/`), with the query.
pub(in crate::spec) fn parse(
    path: &str,
    query: &[(String, String)],
    max_side: u32,
) -> Result<HandlerForm, SpecError> {
    if let Some((name, _)) = query.iter().find(|(n, _)| HANDLER_QUERY_EDITS.contains(&n.as_str())) {
        return Err(SpecError::unsupported(
            name,
            "query parameters of AWS's image handler forms are not read; put the edit in the path",
        ));
    }
    let (tokens, key, bucket) = match json_request(path) {
        Some(request) => json_tokens(&request)?,
        None => thumbor_tokens(path)?,
    };
    let spec = parse_options(&tokens.join(","), max_side)?;
    Ok(HandlerForm { key, spec, bucket })
}

/// The text the handler's signature covers: the path, then `?` and the other parameters sorted
/// by name (`name=value`), as `validateRequestSignature` builds it.
pub(in crate::spec) fn signed_text(path: &str, query: &[(String, String)]) -> String {
    let mut rest: Vec<String> =
        query.iter().filter(|(n, _)| n != "signature").map(|(n, v)| format!("{n}={v}")).collect();
    rest.sort();
    match rest.is_empty() {
        true => format!("/{path}"),
        false => format!("/{path}?{}", rest.join("&")),
    }
}

/// The JSON object a default-form path holds: standard base64, padding optional (Node's decoder).
fn json_request(path: &str) -> Option<Map<String, Value>> {
    let base64 = |b: u8| b.is_ascii_alphanumeric() || b == b'+' || b == b'/';
    let body = path.trim_end_matches('=');
    if body.is_empty() || path.len() - body.len() > 2 || !body.bytes().all(base64) {
        return None;
    }
    let engine = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    match serde_json::from_slice(&engine.decode(path).ok()?).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// A path segment that only a Thumbor-style request starts with.
fn thumbor_command(segment: &str) -> bool {
    matches!(segment, "unsafe" | "fit-in" | "adaptive-fit-in" | "full-fit-in" | "trim" | "meta" | "smart")
        || segment.starts_with("filters:")
        || segment.starts_with("s3:")
        || segment.starts_with("trim:")
        || size(segment).is_some()
        || crop(segment).is_some()
}

/// `[-]Wx[-]H` (each side may be 0 or empty: proportional): width, height, h-flip, v-flip.
fn size(segment: &str) -> Option<(u32, u32, bool, bool)> {
    let (w, h) = segment.split_once('x')?;
    let side = |s: &str| -> Option<(u32, bool)> {
        let (flip, digits) = s.strip_prefix('-').map_or((false, s), |d| (true, d));
        if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 6 {
            return None;
        }
        Some((if digits.is_empty() { 0 } else { digits.parse().ok()? }, flip))
    };
    let ((w, hflip), (h, vflip)) = (side(w)?, side(h)?);
    (segment.bytes().any(|b| b.is_ascii_digit())).then_some((w, h, hflip, vflip))
}

/// `AxB:CxD`, the corners of a crop.
fn crop(segment: &str) -> Option<[u32; 4]> {
    let (a, b) = segment.split_once(':')?;
    let corner = |s: &str| -> Option<(u32, u32)> {
        let (x, y) = s.split_once('x')?;
        let n = |d: &str| {
            (!d.is_empty() && d.len() <= 6 && d.bytes().all(|c| c.is_ascii_digit()))
                .then(|| d.parse().ok())?
        };
        Some((n(x)?, n(y)?))
    };
    let ((l, t), (r, btm)) = (corner(a)?, corner(b)?);
    Some([l, t, r, btm])
}

/// Reads `[-]Wx[-]H`, crops, alignment, `smart` and filters off the front of a Thumbor path.
fn thumbor_tokens(path: &str) -> Result<(Vec<String>, String, Option<String>), SpecError> {
    let mut t = Thumbor::default();
    let mut rest = path;
    while let Some((segment, after)) = rest.split_once('/') {
        if !t.command(segment)? {
            break;
        }
        rest = after;
    }
    let key = rest.to_string();
    Ok((t.tokens()?, key, t.bucket))
}

/// What a Thumbor path has said so far.
#[derive(Default)]
struct Thumbor {
    seen: Vec<&'static str>,
    bucket: Option<String>,
    rect: Option<[u32; 4]>,
    fit_in: bool,
    size: Option<(u32, u32)>,
    flips: (bool, bool),
    align: (Option<&'static str>, Option<&'static str>),
    smart: bool,
    filters: Vec<String>,
}

impl Thumbor {
    fn once(&mut self, what: &'static str, segment: &str) -> Result<(), SpecError> {
        if self.seen.contains(&what) {
            return Err(SpecError::new("repeated_option", segment, "this part is given more than once"));
        }
        self.seen.push(what);
        Ok(())
    }

    /// One path segment; `false` when it is not a command (the key starts there).
    fn command(&mut self, segment: &str) -> Result<bool, SpecError> {
        match segment {
            "unsafe" => self.once("unsafe", segment)?,
            "fit-in" => {
                self.once("fit-in", segment)?;
                self.fit_in = true;
            }
            "smart" => {
                self.once("smart", segment)?;
                self.smart = true;
            }
            "left" | "center" | "right" if self.size.is_some() => {
                self.once("halign", segment)?;
                self.align.0 =
                    Some(["left", "center", "right"].into_iter().find(|a| *a == segment).unwrap_or("center"));
            }
            "top" | "middle" | "bottom" if self.size.is_some() => {
                self.once("valign", segment)?;
                self.align.1 =
                    Some(["top", "middle", "bottom"].into_iter().find(|a| *a == segment).unwrap_or("middle"));
            }
            "adaptive-fit-in" | "full-fit-in" | "trim" | "meta" => {
                return Err(SpecError::unsupported(segment, "this Thumbor option is not supported"))
            }
            _ if segment.starts_with("trim:") => {
                return Err(SpecError::unsupported(segment, "this Thumbor option is not supported"))
            }
            _ if segment.starts_with("s3:") => {
                self.once("s3:", segment)?;
                self.bucket = Some(segment[3..].to_string());
            }
            _ if segment.starts_with("filters:") => {
                self.filters.extend(filters(segment)?);
            }
            _ => {
                if let Some([l, t, r, b]) = crop(segment) {
                    self.once("crop", segment)?;
                    if r <= l || b <= t {
                        return Err(SpecError::bad(
                            segment,
                            "the crop's second corner must be right of and below the first",
                        ));
                    }
                    self.rect = Some([l, t, r - l, b - t]);
                } else if let Some((w, h, hflip, vflip)) = size(segment) {
                    self.once("size", segment)?;
                    self.size = Some((w, h));
                    self.flips = (hflip, vflip);
                } else {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// The pixflow tokens for everything read.
    fn tokens(&self) -> Result<Vec<String>, SpecError> {
        let mut out = Vec::new();
        let mut edits = Edits::default();
        if let Some([x, y, w, h]) = self.rect {
            out.push(format!("rect_{x}:{y}:{w}:{h}"));
        }
        // The handler's resize: sharp's default `cover` for WxH, `inside` for fit-in or one side.
        if let Some((w, h)) = self.size {
            edits.width = (w > 0).then_some(w);
            edits.height = (h > 0).then_some(h);
        }
        edits.fit = Some(if self.fit_in || edits.width.is_none() || edits.height.is_none() {
            "inside"
        } else {
            "cover"
        });
        if self.flips.0 {
            out.push("a_hflip".into());
        }
        if self.flips.1 {
            out.push("a_vflip".into());
        }
        let gravity = match (self.smart, self.align) {
            (true, _) => Some("auto".to_string()),
            (false, (None, None)) => None,
            (false, (h, v)) => {
                let h = match h {
                    Some("left") => "west",
                    Some("right") => "east",
                    _ => "",
                };
                let v = match v {
                    Some("top") => "north",
                    Some("bottom") => "south",
                    _ => "",
                };
                match (v, h) {
                    ("", "") => None,
                    ("", h) => Some(h.to_string()),
                    (v, "") => Some(v.to_string()),
                    (v, h) => Some(format!("{v}_{h}")),
                }
            }
        };
        for filter in &self.filters {
            edits.filter(filter)?;
        }
        out.extend(edits.tokens()?);
        if let Some(g) = gravity {
            out.push(format!("g_{g}"));
        }
        Ok(out)
    }
}

/// `filters:a(x):b(y)` as `a(x)`, `b(y)`; the arguments may hold `:` (`watermark(…)`), not `)`.
fn filters(segment: &str) -> Result<Vec<String>, SpecError> {
    let mut out = Vec::new();
    let mut rest = &segment["filters:".len()..];
    while !rest.is_empty() {
        let end = rest.find(')').ok_or_else(|| SpecError::bad(segment, "a filter is NAME(ARGS)"))?;
        let filter = &rest[..=end];
        if !filter.contains('(') {
            return Err(SpecError::bad(segment, "a filter is NAME(ARGS)"));
        }
        out.push(filter.to_string());
        rest = rest[end + 1..].strip_prefix(':').unwrap_or(&rest[end + 1..]);
    }
    Ok(out)
}

/// sharp's edits, gathered from either form before they become tokens.
#[derive(Default)]
struct Edits {
    width: Option<u32>,
    height: Option<u32>,
    fit: Option<&'static str>,
    without_enlargement: bool,
    background: Option<String>,
    position: Option<String>,
    format: Option<String>,
    qualities: Vec<(String, u32)>,
    other: Vec<String>,
}

impl Edits {
    /// One Thumbor filter, as `thumbor-mapper.ts` maps it.
    fn filter(&mut self, filter: &str) -> Result<(), SpecError> {
        let (name, args) = filter.split_once('(').unwrap_or((filter, ""));
        let args = args.trim_end_matches(')');
        let number = |v: &str| -> Result<f64, SpecError> {
            v.trim()
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| SpecError::bad(filter, "expected a number"))
        };
        match name {
            "format" => self.format = Some(args.to_string()),
            "autojpg" => self.format = Some("jpeg".into()),
            "quality" => self.qualities.push((String::new(), number(args)? as u32)),
            "grayscale" => self.other.push("gray".into()),
            "rotate" => self.other.push(rotation(filter, number(args)?)?),
            "blur" => {
                // thumbor's blur(radius[, sigma]): sharp gets sigma, else radius / 2.
                let mut parts = args.split(',');
                let radius = number(parts.next().unwrap_or(""))?;
                let sigma = match parts.next() {
                    Some(s) => number(s)?,
                    None => radius / 2.0,
                };
                self.other.push(format!("blur_{}", decimal(sigma)));
            }
            "sharpen" => {
                // thumbor's sharpen(amount, radius, luminance_only): the handler's sigma 1 + radius / 2.
                let radius = number(args.split(',').nth(1).unwrap_or("0"))?;
                self.other.push(format!("sharpen_{}", decimal(1.0 + radius / 2.0)));
            }
            "fill" => {
                self.fit = Some("contain");
                self.background = Some(css_colour(filter, args)?);
            }
            "background_color" => self.background = Some(css_colour(filter, args)?),
            "no_upscale" => self.without_enlargement = true,
            "upscale" => self.fit = Some("inside"),
            "stretch" if self.fit != Some("inside") => self.fit = Some("fill"),
            "stretch" => {}
            // pixflow always strips metadata; the handler's side effect (no auto-orientation) is
            // not copied: originals are always shown upright.
            "strip_exif" | "strip_icc" => {}
            "animated" if args.eq_ignore_ascii_case("false") => self.other.push("pg_1".into()),
            "animated" => {}
            "smart_crop" => self.position = Some("attention".into()),
            _ => return Err(SpecError::unsupported(filter, "this filter is not supported")),
        }
        Ok(())
    }

    /// The default form's `edits` object.
    fn json(&mut self, edits: &Map<String, Value>) -> Result<(), SpecError> {
        for (name, value) in edits {
            let at = format!("edits.{name}");
            let yes = || value.as_bool().ok_or_else(|| SpecError::bad(&at, "expected true or false"));
            match name.as_str() {
                "resize" => self.resize(value)?,
                "grayscale" | "greyscale" if yes()? => self.other.push("gray".into()),
                "grayscale" | "greyscale" => {}
                "flip" if yes()? => self.other.push("a_vflip".into()),
                "flop" if yes()? => self.other.push("a_hflip".into()),
                "flip" | "flop" => {}
                "rotate" if value.is_null() => {}
                "rotate" => {
                    let n = value.as_f64().ok_or_else(|| SpecError::bad(&at, "expected degrees"))?;
                    self.other.push(rotation(&at, n)?);
                }
                "toFormat" => self.format = Some(string(&at, value)?.to_string()),
                "jpeg" | "png" | "webp" | "avif" | "gif" | "tiff" | "heif" => {
                    let options =
                        value.as_object().ok_or_else(|| SpecError::bad(&at, "expected an object"))?;
                    for (option, v) in options {
                        let at = format!("{at}.{option}");
                        match (option.as_str(), v.as_u64()) {
                            ("quality", Some(q)) => self.qualities.push((name.clone(), q.min(1000) as u32)),
                            ("quality", None) => return Err(SpecError::bad(&at, "expected a whole number")),
                            _ => {
                                return Err(SpecError::unsupported(
                                    &at,
                                    "this encoder option is not supported",
                                ))
                            }
                        }
                    }
                }
                "smartCrop" if value.as_bool() == Some(false) => {}
                "smartCrop" => self.position = Some("attention".into()),
                "flatten" => {
                    let background = value
                        .get("background")
                        .ok_or_else(|| SpecError::bad(&at, "expected a background"))?;
                    self.background = Some(json_colour(&at, background)?);
                }
                "crop" => {
                    let side = |n: &str| value.get(n).and_then(Value::as_u64).map(|v| v.min(1_000_000));
                    match (side("left"), side("top"), side("width"), side("height")) {
                        (Some(x), Some(y), Some(w), Some(h)) if w > 0 && h > 0 => {
                            self.other.push(format!("rect_{x}:{y}:{w}:{h}"))
                        }
                        _ => {
                            return Err(SpecError::bad(
                                &at,
                                "crop is {left, top, width, height} in whole pixels",
                            ))
                        }
                    }
                }
                "animated" if value.as_bool() == Some(false) => self.other.push("pg_1".into()),
                "animated" => {}
                _ => return Err(SpecError::unsupported(&at, "this edit is not supported")),
            }
        }
        Ok(())
    }

    /// `edits.resize`: sharp's width, height, fit, background, withoutEnlargement, position.
    fn resize(&mut self, value: &Value) -> Result<(), SpecError> {
        let resize = value.as_object().ok_or_else(|| SpecError::bad("edits.resize", "expected an object"))?;
        for (name, v) in resize {
            let at = format!("edits.resize.{name}");
            match name.as_str() {
                "width" | "height" if v.is_null() => {}
                "width" | "height" => {
                    let n = v.as_u64().ok_or_else(|| SpecError::bad(&at, "expected whole pixels"))?;
                    let n = (n > 0).then_some(n.min(u64::from(u32::MAX)) as u32);
                    if name == "width" {
                        self.width = n
                    } else {
                        self.height = n
                    }
                }
                "fit" => {
                    self.fit = Some(match string(&at, v)? {
                        "cover" => "cover",
                        "contain" => "contain",
                        "fill" => "fill",
                        "inside" => "inside",
                        "outside" => return Err(SpecError::unsupported(&at, "fit outside is not supported")),
                        _ => {
                            return Err(SpecError::bad(&at, "fit is cover, contain, fill, inside or outside"))
                        }
                    })
                }
                "withoutEnlargement" => {
                    self.without_enlargement =
                        v.as_bool().ok_or_else(|| SpecError::bad(&at, "expected true or false"))?
                }
                "background" => self.background = Some(json_colour(&at, v)?),
                "position" => self.position = Some(string(&at, v)?.to_string()),
                _ => return Err(SpecError::unsupported(&at, "this resize option is not supported")),
            }
        }
        Ok(())
    }

    /// The pixflow tokens: the resize mode from sharp's fit and withoutEnlargement, the gravity
    /// from its position, the format, the quality for that format.
    fn tokens(self) -> Result<Vec<String>, SpecError> {
        let mut out = self.other;
        let sized = self.width.is_some() || self.height.is_some();
        if let Some(w) = self.width {
            out.push(format!("w_{w}"));
        }
        if let Some(h) = self.height {
            out.push(format!("h_{h}"));
        }
        if sized {
            let both = self.width.is_some() && self.height.is_some();
            let fit = if both { self.fit.unwrap_or("cover") } else { "inside" };
            let mode = match (fit, self.without_enlargement) {
                ("cover", false) => "fill",
                ("cover", true) => "lfill",
                ("contain", false) => "pad",
                ("contain", true) => "lpad",
                ("fill", false) => "scale",
                ("inside", false) => "fit",
                ("inside", true) => "limit",
                _ => {
                    return Err(SpecError::unsupported(
                        "edits.resize",
                        "fit fill with withoutEnlargement is not supported",
                    ))
                }
            };
            out.push(format!("c_{mode}"));
        }
        if let Some(bg) = self.background {
            out.push(format!("bg_{bg}"));
        }
        if let Some(position) = &self.position {
            out.push(format!("g_{}", gravity(position)?));
        }
        let format = match self.format.as_deref() {
            None => None,
            Some("jpeg" | "jpg") => Some("jpeg"),
            Some(f @ ("png" | "webp" | "avif" | "gif")) => Some(f),
            Some(f) => {
                return Err(SpecError::unsupported(
                    &format!("toFormat {f}"),
                    "this output format is not supported",
                ))
            }
        };
        // One quality: the output format's, else the only one given (the handler's per-source-format
        // qualities have no equivalent when they differ).
        let quality = match format
            .and_then(|f| self.qualities.iter().find(|(n, _)| n == f || n == "jpg" && f == "jpeg"))
        {
            Some((_, q)) => Some(*q),
            None => {
                let mut qs: Vec<u32> = self.qualities.iter().map(|(_, q)| *q).collect();
                qs.dedup();
                match qs[..] {
                    [] => None,
                    [q] => Some(q),
                    _ => {
                        return Err(SpecError::unsupported(
                            "quality",
                            "different qualities per source format are not supported: give toFormat",
                        ))
                    }
                }
            }
        };
        if let Some(f) = format {
            out.push(format!("f_{f}"));
        }
        if let Some(q) = quality {
            out.push(format!("q_{q}"));
        }
        Ok(out)
    }
}

/// Whether a path (without its leading `/`) might be one of the handler's forms, by its look
/// alone — the rule the CloudFront Function applies (its `HANDLER` pattern) to pass such a URL to
/// the origin as it came, and that both apply to write a key that looks like one as `-/{key}`.
pub(in crate::spec) fn looks_like(path: &str) -> bool {
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let some_digits = |s: &str| !s.is_empty() && digits(s);
    let size_like = |seg: &str| {
        let Some((w, h)) = seg.split_once('x') else { return false };
        let (w, h) = (w.strip_prefix('-').unwrap_or(w), h.strip_prefix('-').unwrap_or(h));
        digits(w) && digits(h) && (!w.is_empty() || !h.is_empty())
    };
    let crop_like = |seg: &str| {
        let corner = |c: &str| c.split_once('x').is_some_and(|(x, y)| some_digits(x) && some_digits(y));
        seg.split_once(':').is_some_and(|(a, b)| corner(a) && corner(b))
    };
    let command = |seg: &str| {
        matches!(seg, "unsafe" | "fit-in" | "adaptive-fit-in" | "full-fit-in" | "trim" | "meta" | "smart")
            || ["filters:", "s3:", "trim:"].iter().any(|p| seg.starts_with(p))
            || size_like(seg)
            || crop_like(seg)
    };
    let base64 = |b: u8| b.is_ascii_alphanumeric() || b == b'+' || b == b'/';
    let body = path.trim_end_matches('=');
    let json_like = path.len() - body.len() <= 2
        && body.len() >= 3
        && body.starts_with("ey")
        && matches!(body.as_bytes()[2], b'I'..=b'L')
        && body.bytes().all(base64);
    json_like || path.split_once('/').is_some_and(|(first, _)| command(first))
}

/// The default form: `bucket`, `key`, `edits`, `outputFormat`.
fn json_tokens(request: &Map<String, Value>) -> Result<(Vec<String>, String, Option<String>), SpecError> {
    let mut edits = Edits::default();
    let (mut key, mut bucket) = (None, None);
    for (name, value) in request {
        match name.as_str() {
            "key" => key = Some(string("key", value)?.to_string()),
            "bucket" => bucket = Some(string("bucket", value)?.to_string()),
            "edits" => {
                edits.json(value.as_object().ok_or_else(|| SpecError::bad("edits", "expected an object"))?)?
            }
            "outputFormat" => edits.format = Some(string("outputFormat", value)?.to_string()),
            _ => return Err(SpecError::unsupported(name, "this part of the request is not supported")),
        }
    }
    let key = key.ok_or_else(|| SpecError::new("bad_key", "key", "the request names no key"))?;
    Ok((edits.tokens()?, key, bucket))
}

fn string<'v>(at: &str, v: &'v Value) -> Result<&'v str, SpecError> {
    v.as_str().ok_or_else(|| SpecError::bad(at, "expected a string"))
}

/// A right angle as an `a_` token (`0` is none, but still a token the parser drops: `a_` has no 0).
fn rotation(at: &str, degrees: f64) -> Result<String, SpecError> {
    match degrees as i64 {
        _ if degrees.fract() != 0.0 => {
            Err(SpecError::unsupported(at, "only rotations by 0, 90, 180 or 270 degrees are supported"))
        }
        0 => Ok(String::new()),
        n @ (90 | 180 | 270) => Ok(format!("a_{n}")),
        _ => Err(SpecError::unsupported(at, "only rotations by 0, 90, 180 or 270 degrees are supported")),
    }
}

/// A number as a pixflow decimal (at most two places).
fn decimal(n: f64) -> String {
    let s = format!("{:.2}", (n * 100.0).round() / 100.0);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// sharp's `position`: its gravities and strategies, as pixflow gravities.
fn gravity(position: &str) -> Result<&'static str, SpecError> {
    Ok(match position {
        "centre" | "center" => "center",
        "top" | "north" => "north",
        "right top" | "northeast" => "north_east",
        "right" | "east" => "east",
        "right bottom" | "southeast" => "south_east",
        "bottom" | "south" => "south",
        "left bottom" | "southwest" => "south_west",
        "left" | "west" => "west",
        "left top" | "northwest" => "north_west",
        "entropy" | "attention" => "auto",
        _ => return Err(SpecError::bad(&format!("position {position}"), "not one of sharp's positions")),
    })
}

/// A colour as the handler's `color` package reads it: CSS hex (3, 4, 6 or 8 digits, alpha
/// last, `#` optional) or a CSS name; opaque only. As `rrggbb`.
fn css_colour(at: &str, v: &str) -> Result<String, SpecError> {
    let v = v.trim();
    let hex = v.strip_prefix('#').unwrap_or(v);
    let parsed = if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        csscolorparser::parse(&format!("#{hex}")).ok()
    } else {
        csscolorparser::NAMED_COLORS
            .get(v.to_ascii_lowercase().as_str())
            .map(|c| csscolorparser::Color::from_rgba8(c[0], c[1], c[2], 255))
    };
    let [r, g, b, a] =
        parsed.ok_or_else(|| SpecError::bad(at, "expected a colour: hex or a CSS name"))?.to_rgba8();
    if a != 255 {
        return Err(SpecError::unsupported(
            at,
            "translucent backgrounds are not supported: give an opaque colour",
        ));
    }
    Ok(format!("{r:02x}{g:02x}{b:02x}"))
}

/// sharp's colour in JSON: a string, or `{r, g, b, alpha}`.
fn json_colour(at: &str, v: &Value) -> Result<String, SpecError> {
    if let Some(s) = v.as_str() {
        return css_colour(at, s);
    }
    let channel = |n: &str| v.get(n).and_then(Value::as_u64).filter(|c| *c <= 255);
    let opaque = v.get("alpha").is_none_or(|a| a.as_f64() == Some(1.0));
    match (channel("r"), channel("g"), channel("b")) {
        (Some(r), Some(g), Some(b)) if opaque => Ok(format!("{r:02x}{g:02x}{b:02x}")),
        (Some(_), Some(_), Some(_)) => Err(SpecError::unsupported(
            at,
            "translucent backgrounds are not supported: give an opaque colour",
        )),
        _ => Err(SpecError::bad(at, "expected a colour: a string or {r, g, b, alpha}")),
    }
}
