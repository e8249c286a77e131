//! The canonical form: each spec written as its sorted tokens, aliases resolved and numbers
//! normalised, so that equal variants are one string everywhere (memory, result store, CloudFront).

use super::{
    AutoLevel, Centi, Format, Gravity, Hinted, Quality, Rgb, Rotation, TransformSpec, DEFAULT_SHARPEN,
};
use std::fmt;

impl TransformSpec {
    /// The canonical tokens, sorted. `exp_` is included only when `with_expiry` (for signing).
    pub fn tokens(&self, with_expiry: bool) -> Vec<String> {
        let mut t = Vec::new();
        match self.rotation {
            Rotation::R0 => {}
            r => t.push(format!("a_{}", r.degrees())),
        }
        if self.flip_h {
            t.push("a_hflip".into());
        }
        if self.flip_v {
            t.push("a_vflip".into());
        }
        if let Some(Rgb([r, g, b])) = self.background {
            t.push(format!("bg_{r:02x}{g:02x}{b:02x}"));
        }
        if let Some(s) = self.blur {
            t.push(format!("blur_{s}"));
        }
        if let Some(m) = self.mode {
            t.push(format!("c_{}", m.as_str()));
        }
        match (self.auto_dpr, self.dpr) {
            (Some(a), _) => t.push(auto_token("dpr", a, |v| Centi(v).to_string())),
            (None, Some(d)) => t.push(format!("dpr_{d}")),
            (None, None) => {}
        }
        if let (true, Some(e)) = (with_expiry, self.expires) {
            t.push(format!("exp_{e}"));
        }
        match (self.format, self.negotiated) {
            (Some(f @ (Format::Avif | Format::Webp)), true) => t.push(format!("f_auto-{}", f.as_str())),
            (Some(f), _) => t.push(format!("f_{}", f.as_str())),
            (None, _) => {}
        }
        if let Some(g) = self.gravity {
            t.push(format!("g_{}", GravityDisplay(g)));
        }
        if self.gray {
            t.push("gray".into());
        }
        if let Some(h) = self.height {
            t.push(format!("h_{h}"));
        }
        if let Some(n) = self.page {
            t.push(format!("pg_{n}"));
        }
        if let Some([x, y, w, h]) = self.rect {
            t.push(format!("rect_{x}:{y}:{w}:{h}"));
        }
        match self.quality {
            Some(Quality::Fixed(q)) => t.push(format!("q_{q}")),
            Some(Quality::Auto(AutoLevel::Good)) => t.push("q_auto".into()),
            Some(Quality::Auto(level)) => t.push(format!("q_auto:{}", level.as_str())),
            Some(Quality::Encoder(_)) | None => {}
        }
        match self.sharpen {
            Some(DEFAULT_SHARPEN) => t.push("sharpen".into()),
            Some(s) => t.push(format!("sharpen_{s}")),
            None => {}
        }
        if let Some(p) = &self.preset {
            t.push(format!("t_{p}"));
        }
        match (self.auto_width, self.width) {
            (Some(a), _) => t.push(auto_token("w", a, |v| v.to_string())),
            (None, Some(w)) => t.push(format!("w_{w}")),
            (None, None) => {}
        }
        if let Some(x) = self.x {
            t.push(format!("x_{x}"));
        }
        if let Some(y) = self.y {
            t.push(format!("y_{y}"));
        }
        t.sort();
        t
    }
}

/// `NAME_auto`, then `:GIVEN` and `-HINTED` when set, each value written by `value`.
fn auto_token(name: &str, a: Hinted, value: impl Fn(u32) -> String) -> String {
    let given = a.given.map(|g| format!(":{}", value(g))).unwrap_or_default();
    let hinted = a.hinted.map(|h| format!("-{}", value(h))).unwrap_or_default();
    format!("{name}_auto{given}{hinted}")
}

impl fmt::Display for Centi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_decimal(f, u64::from(self.0), 2)
    }
}

/// Writes `value / 10^places` with trailing zeros (and a bare point) removed.
fn write_decimal(f: &mut fmt::Formatter<'_>, value: u64, places: u32) -> fmt::Result {
    let scale = 10u64.pow(places);
    let (int, frac) = (value / scale, value % scale);
    if frac == 0 {
        return write!(f, "{int}");
    }
    let digits = format!("{frac:0width$}", width = places as usize);
    write!(f, "{int}.{}", digits.trim_end_matches('0'))
}

struct GravityDisplay(Gravity);

impl fmt::Display for GravityDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Gravity::Compass(h, v) => {
                let name = match (h, v) {
                    (1, 1) => "center",
                    (1, 0) => "north",
                    (1, 2) => "south",
                    (2, 1) => "east",
                    (0, 1) => "west",
                    (2, 0) => "north_east",
                    (0, 0) => "north_west",
                    (2, 2) => "south_east",
                    _ => "south_west",
                };
                f.write_str(name)
            }
            Gravity::Auto => f.write_str("auto"),
            Gravity::Focal(x, y) => {
                write_decimal(f, u64::from(x), 4)?;
                f.write_str("x")?;
                write_decimal(f, u64::from(y), 4)
            }
        }
    }
}

/// The canonical options segment: sorted tokens joined by commas (empty for the identity).
impl fmt::Display for TransformSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.tokens(false).join(","))
    }
}
