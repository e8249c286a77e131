//! Stage two of the URL, one small function per option: a `name_value` token under its canonical
//! name becomes a field of the [`TransformSpec`] being collected, or an error naming the token.

use super::dialects::imgix::colour;
use super::parse::{Accumulator, SpecError};
use super::presets::Presets;
use super::values::{centi, gravity, uint};
use super::{AutoLevel, Format, Hinted, Quality, ResizeMode, Rotation, TransformSpec};

/// The largest `pg_`: far past any frame limit, so the answer for a short animation is the
/// transform's "the source has N frames", not a parse error.
const MAX_PAGE: u32 = 100_000;

/// `auto`, `auto:GIVEN`, `auto-HINTED`, `auto:GIVEN-HINTED` as their parts.
fn auto_parts<'v>(
    v: &'v str,
    token: &str,
    why: &str,
) -> Result<(Option<&'v str>, Option<&'v str>), SpecError> {
    let rest = &v[4..];
    let (head, hinted) = match rest.split_once('-') {
        Some((head, hinted)) => (head, Some(hinted)),
        None => (rest, None),
    };
    let given = match head {
        "" => None,
        _ => {
            Some(head.strip_prefix(':').filter(|g| !g.is_empty()).ok_or_else(|| SpecError::bad(token, why))?)
        }
    };
    Ok((given, hinted))
}

impl Accumulator {
    /// A `name_value` token under its canonical name: one small function per option.
    pub(super) fn named(&mut self, name: &str, v: &str, token: &str, max_side: u32) -> Result<(), SpecError> {
        match name {
            "w" if v.starts_with("auto") => self.auto_width(v, token, max_side),
            "dpr" if v.starts_with("auto") => self.auto_dpr(v, token),
            "w" => {
                self.number("w", v, token, (1, max_side), &format!("width must be 1 to {max_side}"), |s| {
                    &mut s.width
                })
            }
            "h" => {
                self.number("h", v, token, (1, max_side), &format!("height must be 1 to {max_side}"), |s| {
                    &mut s.height
                })
            }
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
            "x" => self.number("x", v, token, (0, 1_000_000), "x must be 0 to 1000000", |s| &mut s.x),
            "y" => self.number("y", v, token, (0, 1_000_000), "y must be 0 to 1000000", |s| &mut s.y),
            "rect" => self.rect(v, token),
            "pg" => self.number("pg", v, token, (1, MAX_PAGE), "page must be 1 to 100000", |s| &mut s.page),
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

    /// An integer option in `range` (`w_`, `h_`, `x_`, `y_`), stored in its `field`.
    fn number(
        &mut self,
        slot: &'static str,
        v: &str,
        token: &str,
        (min, max): (u32, u32),
        why: &str,
        field: fn(&mut TransformSpec) -> &mut Option<u32>,
    ) -> Result<(), SpecError> {
        let n = uint(token, v, min, max, why)?;
        self.once(slot, token)?;
        *field(&mut self.spec) = Some(n);
        Ok(())
    }

    /// `w_auto[:CAP][-HINTED]`: the width from `Sec-CH-Width`, at most CAP (CSS px, also the width
    /// without a hint); `-HINTED` is the rounded hint in device px, as resolution writes it.
    fn auto_width(&mut self, v: &str, token: &str, max_side: u32) -> Result<(), SpecError> {
        let why = format!("w_auto:N takes N 1 to {max_side}");
        let (given, hinted) = auto_parts(v, token, &why)?;
        let px = |n: &str| uint(token, n, 1, max_side, &why);
        let auto = Hinted { given: given.map(px).transpose()?, hinted: hinted.map(px).transpose()? };
        self.once("w", token)?;
        self.spec.set_auto_width(auto);
        Ok(())
    }

    /// `dpr_auto[:FALLBACK][-HINTED]`: the dpr from `Sec-CH-DPR`, rounded up to 1, 1.5, 2 or 3;
    /// FALLBACK (1 to 4) without a hint.
    fn auto_dpr(&mut self, v: &str, token: &str) -> Result<(), SpecError> {
        let why = "dpr_auto takes :D with D 1 to 4, or -1, -1.5, -2 or -3";
        let (given, hinted) = auto_parts(v, token, why)?;
        let given = given.map(|d| centi(token, d, 100, 400, why)).transpose()?.filter(|d| d.0 != 100);
        let hinted = match hinted {
            Some(h) => match centi(token, h, 100, 300, why)?.0 {
                d @ (100 | 150 | 200 | 300) => Some(d),
                _ => return Err(SpecError::bad(token, why)),
            },
            None => None,
        };
        self.once("dpr", token)?;
        self.spec.set_auto_dpr(Hinted { given: given.map(|d| d.0), hinted });
        Ok(())
    }

    /// `rect_X:Y:W:H` (query `rect=x,y,w,h`, imgix): whole pixels, W and H at least 1.
    fn rect(&mut self, v: &str, token: &str) -> Result<(), SpecError> {
        let why = "rect must be X:Y:W:H, whole pixels";
        let parts: Vec<&str> = v.split(':').collect();
        if parts.len() != 4 {
            return Err(SpecError::bad(token, why));
        }
        let mut r = [0u32; 4];
        for (i, p) in parts.iter().enumerate() {
            r[i] = uint(token, p, u32::from(i >= 2), 1_000_000, why)?;
        }
        self.once("rect", token)?;
        self.spec.rect = Some(r);
        Ok(())
    }

    /// `c_MODE`, with the query style's aliases.
    pub(super) fn mode(&mut self, v: &str, token: &str) -> Result<(), SpecError> {
        let mode = match v {
            "limit" | "scale-down" | "max" => ResizeMode::Limit,
            "fit" | "inside" | "clip" => ResizeMode::Fit,
            "fill" | "cover" => ResizeMode::Fill,
            "lfill" => ResizeMode::LFill,
            "pad" | "contain" => ResizeMode::Pad,
            "lpad" => ResizeMode::LPad,
            "scale" | "stretch" | "squeeze" => ResizeMode::Scale,
            "crop" => ResizeMode::Crop,
            _ => return Err(SpecError::bad(token, "unknown resize mode")),
        };
        self.once("c", token)?;
        self.spec.mode = Some(mode);
        Ok(())
    }

    /// `q_N`, `q_auto`, `q_auto:LEVEL`.
    fn quality(&mut self, v: &str, token: &str) -> Result<(), SpecError> {
        let quality = match v.strip_prefix("auto") {
            Some("" | ":good") => Quality::Auto(AutoLevel::Good),
            Some(":best") => Quality::Auto(AutoLevel::Best),
            Some(":eco") => Quality::Auto(AutoLevel::Eco),
            Some(":low") => Quality::Auto(AutoLevel::Low),
            Some(_) => return Err(SpecError::bad(token, "q_auto's levels are best, good, eco and low")),
            None => Quality::Fixed(uint(token, v, 1, 100, "quality must be 1 to 100")? as u8),
        };
        self.once("q", token)?;
        self.spec.quality = Some(quality);
        Ok(())
    }

    /// `f_FORMAT`.
    pub(super) fn format(&mut self, v: &str, token: &str) -> Result<(), SpecError> {
        let f = match v {
            "jpeg" | "jpg" => Format::Jpeg,
            "png" => Format::Png,
            "webp" => Format::Webp,
            "avif" => Format::Avif,
            "gif" => Format::Gif,
            "auto" => Format::Auto,
            "json" => Format::Json,
            "thumbhash" => Format::Thumbhash,
            // The origin form of an `f_auto` the edge resolved (DESIGN §2 "Animation": an animated
            // source may still answer animated WebP to a client offered AVIF).
            "auto-avif" | "auto-webp" => {
                self.spec.negotiated = true;
                if v == "auto-avif" {
                    Format::Avif
                } else {
                    Format::Webp
                }
            }
            _ => return Err(SpecError::bad(token, "unknown format")),
        };
        self.once("f", token)?;
        self.spec.format = Some(f);
        Ok(())
    }

    /// `a_90`, `a_180`, `a_270`, `a_hflip`, `a_vflip`.
    pub(super) fn rotate(&mut self, v: &str, token: &str) -> Result<(), SpecError> {
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

    /// `bg_COLOUR`: imgix's hex forms or a CSS colour name (`imgix::colour`).
    fn background(&mut self, v: &str, token: &str) -> Result<(), SpecError> {
        let rgb = colour(v, token)?;
        self.once("bg", token)?;
        self.spec.background = Some(rgb);
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
