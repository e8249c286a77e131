//! Stage one of the URL: split path and query into raw tokens, read the query style's names and
//! collect every token in an `Accumulator` (one function per option in `options.rs`) into a
//! [`TransformSpec`]. Unknown names and bad values are errors naming the token.

use super::dialects::{aws_handler, imgix};
use super::key::{validate_key, Key};
use super::values::centi;
use super::{Gravity, Hinted, ResizeMode, Rgb, TransformSpec, DEFAULT_SHARPEN};
use percent_encoding::percent_decode_str;

/// A URL that cannot be served, with the token at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{token}: {message}")]
pub struct SpecError {
    /// Machine-readable code for the JSON error body.
    pub code: &'static str,
    /// The offending token or path part, as written.
    pub token: String,
    /// Why it is refused.
    pub message: String,
}

impl SpecError {
    pub(crate) fn new(code: &'static str, token: &str, message: impl Into<String>) -> Self {
        SpecError { code, token: token.to_string(), message: message.into() }
    }

    pub(super) fn bad(token: &str, message: impl Into<String>) -> Self {
        SpecError::new("bad_option", token, message)
    }

    pub(super) fn unsupported(token: &str, message: impl Into<String>) -> Self {
        SpecError::new("not_supported", token, message)
    }
}

/// A parsed request: what to fetch and what to do with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRequest {
    /// The source key, decoded and validated.
    pub key: Key,
    /// The options as written (presets not yet expanded).
    pub spec: TransformSpec,
    /// `s_` / `s=` / `sig=`, when present.
    pub signature: Option<String>,
    /// Query parameters no one defines (cache busters, tracking), as written (`v=2`): ignored
    /// here; the edge forwards them, so a cache buster still busts CloudFront's cache.
    pub ignored: Vec<String>,
    /// Set when the URL is in one of AWS's image handler's forms (`dialects/aws_handler.rs`).
    pub handler: Option<HandlerRequest>,
}

/// What a request in AWS's image handler's forms brings besides its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandlerRequest {
    /// The bucket it names, which must be the source's.
    pub bucket: Option<String>,
    /// The text its `?signature=` covers (the handler's scheme).
    pub signed: String,
}

/// Names the path grammar knows; a first segment is options only if every token's name is here.
const PATH_NAMES: &[&str] = &[
    "w", "h", "c", "g", "dpr", "q", "f", "gray", "e", "blur", "sharpen", "a", "bg", "x", "y", "pg", "rect",
    "t", "s", "exp",
];

/// Parses a request path (still percent-encoded, starting with `/`) and query string.
pub fn parse_request(path: &str, query: Option<&str>, max_side: u32) -> Result<ParsedRequest, SpecError> {
    let rest = path.strip_prefix('/').unwrap_or(path);
    match decode(rest) {
        Ok(decoded) if !rest.starts_with("-/") && aws_handler::recognise(&decoded) => {
            return parse_handler(&decoded, query, max_side);
        }
        _ => {}
    }
    let mut acc = Accumulator::default();
    let raw_key = match rest.split_once('/') {
        Some(("-", key)) => key,
        Some((first, key)) => {
            let segment = decode(first)?;
            if reads_as_options(&segment) {
                for token in segment.split(',') {
                    acc.path_token(token, max_side)?;
                }
                key
            } else {
                rest
            }
        }
        None => rest,
    };
    let key = validate_key(&decode(raw_key)?)?;
    let mut ignored = Vec::new();
    if let Some(q) = query {
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = decode_form(name)?;
            let value = decode_form(value)?;
            if !acc.query_param(&name, &value, max_side)? {
                let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
                ignored.push(format!("{raw_name}={raw_value}"));
            }
        }
    }
    let (spec, signature) = acc.finish();
    Ok(ParsedRequest { key, spec, signature, ignored, handler: None })
}

/// A URL in one of AWS's image handler's forms (`dialects/aws_handler.rs`).
fn parse_handler(path: &str, query: Option<&str>, max_side: u32) -> Result<ParsedRequest, SpecError> {
    let mut pairs = Vec::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        pairs.push((decode_form(name)?, decode_form(value)?));
    }
    let form = aws_handler::parse(path, &pairs, max_side)?;
    let signature = pairs.iter().find(|(n, _)| n == "signature").map(|(_, v)| v.clone());
    let signed = aws_handler::signed_text(path, &pairs);
    Ok(ParsedRequest {
        key: validate_key(&form.key)?,
        spec: form.spec,
        signature,
        ignored: Vec::new(),
        handler: Some(HandlerRequest { bucket: form.bucket, signed }),
    })
}

/// Parses a bare options string (`w_200,h_100`), as in presets and `--options`.
pub fn parse_options(options: &str, max_side: u32) -> Result<TransformSpec, SpecError> {
    let mut acc = Accumulator::default();
    for token in options.split(',').filter(|t| !t.is_empty()) {
        acc.path_token(token, max_side)?;
    }
    let (spec, signature) = acc.finish();
    if let Some(sig) = signature {
        return Err(SpecError::bad(&format!("s_{sig}"), "a signature has no place here"));
    }
    Ok(spec)
}

/// The options of a `POST /_/transform`: a path-style segment (may be empty) and a query string.
/// Returns the spec and the signature, if any.
pub fn parse_post(
    options: &str,
    query: Option<&str>,
    max_side: u32,
) -> Result<(TransformSpec, Option<String>), SpecError> {
    let mut acc = Accumulator::default();
    let segment = decode(options)?;
    for token in segment.split(',').filter(|t| !t.is_empty()) {
        acc.path_token(token, max_side)?;
    }
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        acc.query_param(&decode_form(name)?, &decode_form(value)?, max_side)?;
    }
    Ok(acc.finish())
}

/// Whether the origin would not read `/{key}` as the key `key`: its first folder looks like
/// options (`w_200/a.jpg`), is `-`, or the path looks like an AWS image handler form. Such a key
/// is written `/-/{key}` in the origin form (regression: `/-/w_200/a.jpg` once reached the origin
/// as `/w_200/a.jpg`, options on `a.jpg`).
pub(super) fn misread(key: &str) -> bool {
    aws_handler::looks_like(key)
        || key.split_once('/').is_some_and(|(first, _)| first == "-" || reads_as_options(first))
}

/// Whether a (decoded) first path segment is read as options: every token's name is known.
fn reads_as_options(segment: &str) -> bool {
    !segment.is_empty() && segment.split(',').all(|t| PATH_NAMES.contains(&token_name(t)))
}

fn token_name(token: &str) -> &str {
    token.split_once('_').map_or(token, |(name, _)| name)
}

fn decode(s: &str) -> Result<String, SpecError> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| SpecError::new("bad_key", s, "percent-encoding does not decode to UTF-8"))
}

pub(crate) fn decode_form(s: &str) -> Result<String, SpecError> {
    decode(&s.replace('+', " "))
}

/// Collects tokens from every place options can come from, refusing repeats.
#[derive(Default)]
pub(super) struct Accumulator {
    pub(super) spec: TransformSpec,
    seen: Vec<&'static str>,
    pub(super) signature: Option<String>,
    /// imgix's `ch=Width` / `ch=DPR`: `w` and `dpr` become `w_auto:w` and `dpr_auto:dpr`.
    hint_width: bool,
    hint_dpr: bool,
    /// imgix's `crop=focalpoint` and its `fp-x`, `fp-y` (ten-thousandths), settled in `finish`.
    pub(super) focal: bool,
    pub(super) fp: [Option<u16>; 2],
    /// imgix's `auto=format`: `f_auto` unless a format is named.
    pub(super) auto_format: bool,
    /// imgix's `auto=compress`: `q_auto` unless a quality is named.
    pub(super) auto_compress: bool,
}

impl Accumulator {
    /// The spec, with options given at their default value dropped — unless a preset is named:
    /// then they override the preset's value (`?preset=thumb&fit=limit`), so they stay.
    fn finish(mut self) -> (TransformSpec, Option<String>) {
        self.settle_imgix();
        let s = &mut self.spec;
        if self.hint_width && s.auto_width.is_none() {
            s.set_auto_width(Hinted { given: s.width, hinted: None });
        }
        if self.hint_dpr && s.auto_dpr.is_none() {
            s.set_auto_dpr(Hinted { given: s.dpr.map(|d| d.0).filter(|&d| d != 100), hinted: None });
        }
        if self.spec.preset.is_none() {
            let s = &mut self.spec;
            s.mode = s.mode.filter(|m| *m != ResizeMode::Limit);
            s.gravity = s.gravity.filter(|g| *g != Gravity::CENTER);
            s.dpr = s.dpr.filter(|d| d.0 != 100);
            s.background = s.background.filter(|c| *c != Rgb::WHITE);
        }
        (self.spec, self.signature)
    }

    /// Marks an option as given; a second time is an error.
    pub(super) fn once(&mut self, slot: &'static str, token: &str) -> Result<(), SpecError> {
        if self.seen.contains(&slot) {
            return Err(SpecError::new("repeated_option", token, "this option is given more than once"));
        }
        self.seen.push(slot);
        Ok(())
    }

    fn path_token(&mut self, token: &str, max_side: u32) -> Result<(), SpecError> {
        let (name, value) = match token.split_once('_') {
            Some((n, v)) => (n, Some(v)),
            None => (token, None),
        };
        match (name, value) {
            ("gray", None) => self.set_gray(token, true),
            ("e", Some("grayscale")) => self.set_gray(token, true),
            ("sharpen", None) => self.set_sharpen(token, None),
            ("sharpen", Some(v)) => self.set_sharpen(token, Some(v)),
            // `o=` is a query parameter holding path tokens; it never nests, so the parser's stack
            // depth is fixed whatever the input (a 20 KB `o_o_o_…` once overflowed it).
            ("o", Some(_)) => Err(SpecError::bad(token, "options cannot nest: o= is only a query parameter")),
            (_, None) => Err(SpecError::new("unknown_option", token, "unknown option")),
            (_, Some(v)) => self.named(name, v, token, max_side),
        }
    }

    /// One query parameter; `false` when no one defines its name (it is then ignored).
    fn query_param(&mut self, name: &str, value: &str, max_side: u32) -> Result<bool, SpecError> {
        let token = &format!("{name}={value}");
        let canonical = match name {
            "w" | "width" | "h" | "height" if imgix::relative_size(value) => {
                return Err(SpecError::unsupported(
                    token,
                    "sizes relative to the source (0 to 1) are not supported",
                ));
            }
            "w" | "width" => "w",
            "h" | "height" => "h",
            "g" | "gravity" => "g",
            "dpr" => "dpr",
            "q" | "quality" => "q",
            "blur" if value == "0" => return self.once("blur", token).map(|_| true),
            "blur" => "blur",
            "bg" => "bg",
            "x" => "x",
            "y" => "y",
            "frame" if value.contains('-') => {
                return Err(SpecError::unsupported(
                    token,
                    "frame ranges are not supported: frame=N is one frame",
                ));
            }
            "pg" | "page" | "frame" => "pg",
            "preset" => "t",
            "s" | "sig" => "s",
            "exp" | "expires" => "exp",
            _ => return self.query_special(name, value, token, max_side),
        };
        self.named(canonical, value, token, max_side).map(|_| true)
    }

    /// The query parameters that are more than another name for a path token.
    fn query_special(
        &mut self,
        name: &str,
        value: &str,
        token: &str,
        max_side: u32,
    ) -> Result<bool, SpecError> {
        match name {
            "fit" => self.query_fit(value, token)?,
            "f" | "fm" | "format" => self.query_format(value, token)?,
            "crop" => self.query_crop(value, token)?,
            "fp-x" => self.focal_coordinate(0, value, token)?,
            "fp-y" => self.focal_coordinate(1, value, token)?,
            "fp-z" => self.focal_zoom(value, token)?,
            "auto" => self.query_auto(value, token)?,
            "rot" => self.query_rot(value, token)?,
            "rect" => self.named("rect", &value.replace(',', ":"), token, max_side)?,
            "gray" | "grayscale" => match value {
                "" | "1" | "true" => self.set_gray(token, true)?,
                "0" | "false" => self.set_gray(token, false)?,
                _ => return Err(SpecError::bad(token, "expected nothing, 1 or true")),
            },
            "sharpen" => self.set_sharpen(token, Some(value).filter(|v| !v.is_empty()))?,
            "flip" => self.query_flip(value, token)?,
            "o" => self.options_param(token, value, max_side)?,
            // imgix's client hints; `Save-Data` is not read.
            "ch" => {
                self.once("ch", token)?;
                for hint in value.split(',').map(str::trim) {
                    self.hint_width |= hint.eq_ignore_ascii_case("width");
                    self.hint_dpr |= hint.eq_ignore_ascii_case("dpr");
                }
            }
            _ if imgix::unsupported(name) => {
                return Err(SpecError::unsupported(token, format!("imgix's {name} is not supported")));
            }
            // Names no one defines (cache busters, tracking) are ignored, as CDNs do.
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `flip=h|v|hv`.
    fn query_flip(&mut self, value: &str, token: &str) -> Result<(), SpecError> {
        let (h, v) = match value {
            "h" => (true, false),
            "v" => (false, true),
            "hv" | "vh" => (true, true),
            _ => return Err(SpecError::bad(token, "flip must be h, v or hv")),
        };
        if h {
            self.once("hflip", token)?;
            self.spec.flip_h = true;
        }
        if v {
            self.once("vflip", token)?;
            self.spec.flip_v = true;
        }
        Ok(())
    }

    /// The `o=` form: a whole path-style options segment in one query parameter.
    fn options_param(&mut self, token: &str, value: &str, max_side: u32) -> Result<(), SpecError> {
        if value.is_empty() {
            return Err(SpecError::bad(token, "o= needs options"));
        }
        value.split(',').try_for_each(|t| self.path_token(t, max_side))
    }

    fn set_gray(&mut self, token: &str, on: bool) -> Result<(), SpecError> {
        self.once("gray", token)?;
        self.spec.gray = on;
        Ok(())
    }

    fn set_sharpen(&mut self, token: &str, value: Option<&str>) -> Result<(), SpecError> {
        let sigma = match value {
            None => DEFAULT_SHARPEN,
            Some(v) => centi(token, v, 30, 1000, "sharpen sigma must be 0.3 to 10")?,
        };
        self.once("sharpen", token)?;
        self.spec.sharpen = Some(sigma);
        Ok(())
    }
}
