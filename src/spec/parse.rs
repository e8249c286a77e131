//! Stage one and two of the URL: split path and query into raw tokens, then match each token by
//! name into a [`TransformSpec`]. Unknown names and bad values are errors naming the token.

use super::key::{validate_key, Key};
use super::presets::Presets;
use super::values::{centi, gravity, uint};
use super::{Format, Gravity, Quality, ResizeMode, Rgb, Rotation, TransformSpec, DEFAULT_SHARPEN};
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
    pub(super) fn new(code: &'static str, token: &str, message: impl Into<String>) -> Self {
        SpecError { code, token: token.to_string(), message: message.into() }
    }

    pub(super) fn bad(token: &str, message: impl Into<String>) -> Self {
        SpecError::new("bad_option", token, message)
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
}

/// Names the path grammar knows; a first segment is options only if every token's name is here.
const PATH_NAMES: &[&str] = &[
    "w", "h", "c", "g", "dpr", "q", "f", "gray", "e", "blur", "sharpen", "a", "bg", "x", "y", "t", "s", "exp",
];

/// Parses a request path (still percent-encoded, starting with `/`) and query string.
pub fn parse_request(path: &str, query: Option<&str>, max_side: u32) -> Result<ParsedRequest, SpecError> {
    let rest = path.strip_prefix('/').unwrap_or(path);
    let mut acc = Accumulator::default();
    let raw_key = match rest.split_once('/') {
        Some(("-", key)) => key,
        Some((first, key)) => {
            let segment = decode(first)?;
            if !segment.is_empty() && segment.split(',').all(|t| PATH_NAMES.contains(&token_name(t))) {
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
    if let Some(q) = query {
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = decode_form(name)?;
            let value = decode_form(value)?;
            acc.query_param(&name, &value, max_side)?;
        }
    }
    let (spec, signature) = acc.finish();
    Ok(ParsedRequest { key, spec, signature })
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

fn token_name(token: &str) -> &str {
    token.split_once('_').map_or(token, |(name, _)| name)
}

fn decode(s: &str) -> Result<String, SpecError> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| SpecError::new("bad_key", s, "percent-encoding does not decode to UTF-8"))
}

fn decode_form(s: &str) -> Result<String, SpecError> {
    decode(&s.replace('+', " "))
}

/// Collects tokens from every place options can come from, refusing repeats.
#[derive(Default)]
struct Accumulator {
    spec: TransformSpec,
    seen: Vec<&'static str>,
    signature: Option<String>,
}

impl Accumulator {
    /// The spec, with options given at their default value dropped — unless a preset is named:
    /// then they override the preset's value (`?preset=thumb&fit=limit`), so they stay.
    fn finish(mut self) -> (TransformSpec, Option<String>) {
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
    fn once(&mut self, slot: &'static str, token: &str) -> Result<(), SpecError> {
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

    fn query_param(&mut self, name: &str, value: &str, max_side: u32) -> Result<(), SpecError> {
        let token = &format!("{name}={value}");
        let canonical = match name {
            "w" | "width" => "w",
            "h" | "height" => "h",
            "fit" => "c",
            "g" | "gravity" => "g",
            "dpr" => "dpr",
            "q" | "quality" => "q",
            "f" | "fm" | "format" => "f",
            "blur" => "blur",
            "bg" => "bg",
            "x" => "x",
            "y" => "y",
            "preset" => "t",
            "s" | "sig" => "s",
            "exp" => "exp",
            "gray" | "grayscale" => {
                return match value {
                    "" | "1" | "true" => self.set_gray(token, true),
                    "0" | "false" => self.set_gray(token, false),
                    _ => Err(SpecError::bad(token, "expected nothing, 1 or true")),
                };
            }
            "sharpen" => return self.set_sharpen(token, Some(value).filter(|v| !v.is_empty())),
            "rot" => {
                return match value {
                    "0" => self.once("rot", token),
                    "90" | "180" | "270" => self.named("a", value, token, max_side),
                    _ => Err(SpecError::bad(token, "rotation must be 0, 90, 180 or 270")),
                };
            }
            "flip" => {
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
                return Ok(());
            }
            "o" => return self.options_param(token, value, max_side),
            // Unknown query parameters (cache busters, tracking) are ignored, as CDNs do.
            _ => return Ok(()),
        };
        self.named(canonical, value, token, max_side)
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

    /// A `name_value` token under its canonical name: one small function per option.
    fn named(&mut self, name: &str, v: &str, token: &str, max_side: u32) -> Result<(), SpecError> {
        match name {
            "w" | "h" => self.side(name, v, token, max_side),
            "c" => self.mode(v, token),
            "g" => {
                let g = gravity(token, v)?;
                self.once("g", token)?;
                self.spec.gravity = Some(g);
                Ok(())
            }
            "dpr" => {
                let d = centi(token, v, 100, 400, "dpr must be 1 to 4, with up to 2 decimals")?;
                self.once("dpr", token)?;
                self.spec.dpr = Some(d);
                Ok(())
            }
            "q" => self.quality(v, token),
            "f" => self.format(v, token),
            "e" => Err(SpecError::bad(token, "unknown effect (e_grayscale is the only one)")),
            "blur" => {
                let s = centi(token, v, 30, 10_000, "blur sigma must be 0.3 to 100")?;
                self.once("blur", token)?;
                self.spec.blur = Some(s);
                Ok(())
            }
            "a" => self.rotate(v, token),
            "bg" => self.background(v, token),
            "x" | "y" => self.coordinate(name, v, token),
            "t" => self.preset(v, token),
            "s" => self.signature_token(v, token),
            "exp" => {
                let exp = uint(token, v, 0, u32::MAX, "expiry must be a unix time")?;
                self.once("exp", token)?;
                self.spec.expires = Some(u64::from(exp));
                Ok(())
            }
            _ => Err(SpecError::new("unknown_option", token, "unknown option")),
        }
    }

    /// `w_N` and `h_N`.
    fn side(&mut self, name: &str, v: &str, token: &str, max_side: u32) -> Result<(), SpecError> {
        let (slot, what) = if name == "w" { ("w", "width") } else { ("h", "height") };
        let n = uint(token, v, 1, max_side, &format!("{what} must be 1 to {max_side}"))?;
        self.once(slot, token)?;
        if slot == "w" {
            self.spec.width = Some(n);
        } else {
            self.spec.height = Some(n);
        }
        Ok(())
    }

    /// `c_MODE`, with the query style's aliases.
    fn mode(&mut self, v: &str, token: &str) -> Result<(), SpecError> {
        let mode = match v {
            "limit" | "scale-down" | "max" => ResizeMode::Limit,
            "fit" | "contain" | "inside" | "clip" => ResizeMode::Fit,
            "fill" | "cover" => ResizeMode::Fill,
            "lfill" => ResizeMode::LFill,
            "pad" => ResizeMode::Pad,
            "lpad" => ResizeMode::LPad,
            "scale" | "stretch" | "squeeze" => ResizeMode::Scale,
            "crop" => ResizeMode::Crop,
            _ => return Err(SpecError::bad(token, "unknown resize mode")),
        };
        self.once("c", token)?;
        self.spec.mode = Some(mode);
        Ok(())
    }

    /// `q_N`.
    fn quality(&mut self, v: &str, token: &str) -> Result<(), SpecError> {
        if v == "auto" {
            return Err(SpecError::new("not_supported", token, "q_auto is not supported yet"));
        }
        let q = uint(token, v, 1, 100, "quality must be 1 to 100")?;
        self.once("q", token)?;
        self.spec.quality = Some(Quality::Fixed(q as u8));
        Ok(())
    }

    /// `f_FORMAT`.
    fn format(&mut self, v: &str, token: &str) -> Result<(), SpecError> {
        let f = match v {
            "jpeg" | "jpg" => Format::Jpeg,
            "png" => Format::Png,
            "webp" => Format::Webp,
            "avif" => Format::Avif,
            "gif" => Format::Gif,
            "auto" => Format::Auto,
            "json" => Format::Json,
            _ => return Err(SpecError::bad(token, "unknown format")),
        };
        self.once("f", token)?;
        self.spec.format = Some(f);
        Ok(())
    }

    /// `a_90`, `a_180`, `a_270`, `a_hflip`, `a_vflip`.
    fn rotate(&mut self, v: &str, token: &str) -> Result<(), SpecError> {
        let (slot, apply): (&'static str, fn(&mut TransformSpec)) = match v {
            "90" => ("rot", |s| s.rotation = Rotation::R90),
            "180" => ("rot", |s| s.rotation = Rotation::R180),
            "270" => ("rot", |s| s.rotation = Rotation::R270),
            "hflip" => ("hflip", |s| s.flip_h = true),
            "vflip" => ("vflip", |s| s.flip_v = true),
            _ => return Err(SpecError::bad(token, "expected a_90, a_180, a_270, a_hflip or a_vflip")),
        };
        self.once(slot, token)?;
        apply(&mut self.spec);
        Ok(())
    }

    /// `bg_RRGGBB` (a leading `#` allowed).
    fn background(&mut self, v: &str, token: &str) -> Result<(), SpecError> {
        let hex = v.strip_prefix('#').unwrap_or(v);
        let rgb = (hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| {
                let n = u32::from_str_radix(hex, 16).unwrap_or(0xffffff);
                Rgb([(n >> 16) as u8, (n >> 8) as u8, n as u8])
            })
            .ok_or_else(|| SpecError::bad(token, "background must be six hex digits RRGGBB"))?;
        self.once("bg", token)?;
        self.spec.background = Some(rgb);
        Ok(())
    }

    /// `x_N` and `y_N` of `c_crop`.
    fn coordinate(&mut self, name: &str, v: &str, token: &str) -> Result<(), SpecError> {
        let slot = if name == "x" { "x" } else { "y" };
        let n = uint(token, v, 0, 1_000_000, &format!("{slot} must be 0 to 1000000"))?;
        self.once(slot, token)?;
        if slot == "x" {
            self.spec.x = Some(n);
        } else {
            self.spec.y = Some(n);
        }
        Ok(())
    }

    /// `t_NAME`.
    fn preset(&mut self, v: &str, token: &str) -> Result<(), SpecError> {
        if !Presets::valid_name(v) {
            return Err(SpecError::bad(token, "preset names are 1-64 of a-z A-Z 0-9 _ -"));
        }
        self.once("t", token)?;
        self.spec.preset = Some(v.to_string());
        Ok(())
    }

    /// `s_SIG`.
    fn signature_token(&mut self, v: &str, token: &str) -> Result<(), SpecError> {
        if v.is_empty()
            || v.len() > 64
            || !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(SpecError::bad(token, "malformed signature"));
        }
        self.once("s", token)?;
        self.signature = Some(v.to_string());
        Ok(())
    }
}
