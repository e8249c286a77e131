//! The URL: raw tokens → a typed, validated [`TransformSpec`] whose `Display` is the canonical form.
//!
//! The canonical form is the cache key everywhere (memory, result store, CloudFront), so it must be
//! unique per variant: aliases resolved, defaults dropped, numbers normalised, tokens sorted.

mod canonical;
mod dialects;
mod edge;
mod hints;
mod key;
pub mod limits;
pub mod negotiate;
mod options;
mod parse;
mod presets;
mod resolve;
mod sign;
mod values;

pub use dialects::imgix;
pub use edge::{edge_paths, origin_form};
pub use hints::Hints;
pub use key::{validate_key, Key};
pub(crate) use parse::decode_form;
pub use parse::{parse_options, parse_post, parse_request, HandlerRequest, ParsedRequest, SpecError};
pub use presets::Presets;
pub use resolve::{resolve, Request, ResolveError, Resolved, Rules, Variant, POST_SIGNED_PATH};
pub use sign::{check_expiry, sign, sign_path, SignError, Signer};

/// How the image is fitted into the requested box (`c_` token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResizeMode {
    /// Fit inside the box, never enlarge (the default).
    Limit,
    /// Fit inside the box, enlarging if needed.
    Fit,
    /// Cover the box, then crop to exactly the box at the gravity.
    Fill,
    /// Like `Fill`, never enlarging.
    LFill,
    /// Fit inside, then pad to exactly the box with the background.
    Pad,
    /// Like `Pad`, never enlarging the image itself.
    LPad,
    /// Exactly the box, aspect ratio ignored.
    Scale,
    /// Cut a region out of the original, no scaling.
    Crop,
}

impl ResizeMode {
    /// The canonical token value.
    pub fn as_str(self) -> &'static str {
        match self {
            ResizeMode::Limit => "limit",
            ResizeMode::Fit => "fit",
            ResizeMode::Fill => "fill",
            ResizeMode::LFill => "lfill",
            ResizeMode::Pad => "pad",
            ResizeMode::LPad => "lpad",
            ResizeMode::Scale => "scale",
            ResizeMode::Crop => "crop",
        }
    }
}

/// Where crops and pads are anchored (`g_` token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gravity {
    /// Compass anchor: horizontal and vertical alignment, each 0 (left/top), 1 (centre), 2 (right/bottom).
    Compass(u8, u8),
    /// Focal point in ten-thousandths of width and height (0..=10000 each).
    Focal(u16, u16),
    /// `g_auto`: the cropping modes place the window where the image is most salient
    /// (`transform::attention`); every other use (padding) is the centre.
    Auto,
}

impl Gravity {
    /// The default: centre.
    pub const CENTER: Gravity = Gravity::Compass(1, 1);
}

/// Output format (`f_` token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// JPEG.
    Jpeg,
    /// PNG.
    Png,
    /// WebP.
    Webp,
    /// AVIF.
    Avif,
    /// GIF (animated when the source is).
    Gif,
    /// The best the client's `Accept` allows; resolved per request.
    Auto,
    /// Metadata about the source and the result, no pixels.
    Json,
    /// The ThumbHash of the result, as base64 text: a placeholder a page paints first.
    Thumbhash,
}

impl Format {
    /// The canonical token value, also the result-store file extension.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Webp => "webp",
            Format::Avif => "avif",
            Format::Gif => "gif",
            Format::Auto => "auto",
            Format::Json => "json",
            Format::Thumbhash => "thumbhash",
        }
    }

    /// The image format a MIME type names (the result store records MIME types).
    pub fn from_mime(mime: &str) -> Option<Format> {
        [Format::Jpeg, Format::Png, Format::Webp, Format::Avif, Format::Gif, Format::Json, Format::Thumbhash]
            .into_iter()
            .find(|f| f.mime() == mime)
    }

    /// Whether the format's encoder takes a quality (JPEG, WebP and AVIF).
    pub fn is_lossy(self) -> bool {
        matches!(self, Format::Jpeg | Format::Webp | Format::Avif)
    }

    /// The MIME type of the encoded image.
    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
            Format::Avif => "image/avif",
            Format::Gif => "image/gif",
            Format::Auto => "application/octet-stream",
            Format::Json => "application/json",
            Format::Thumbhash => "text/plain",
        }
    }
}

/// A right-angle rotation, applied after EXIF orientation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Rotation {
    /// None.
    #[default]
    R0,
    /// 90° clockwise.
    R90,
    /// 180°.
    R180,
    /// 270° clockwise.
    R270,
}

impl Rotation {
    /// Degrees clockwise.
    pub fn degrees(self) -> u16 {
        match self {
            Rotation::R0 => 0,
            Rotation::R90 => 90,
            Rotation::R180 => 180,
            Rotation::R270 => 270,
        }
    }

    /// Whether width and height swap.
    pub fn swaps_axes(self) -> bool {
        matches!(self, Rotation::R90 | Rotation::R270)
    }
}

/// An opaque sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rgb(pub [u8; 3]);

impl Rgb {
    /// The default background.
    pub const WHITE: Rgb = Rgb([255, 255, 255]);
}

/// A decimal with two places, stored in hundredths (`dpr_2.5` is 250).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Centi(pub u32);

impl Centi {
    /// As a float.
    pub fn get(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

/// `dpr_auto[:FALLBACK]` or `w_auto[:CAP]`: a value the client's hint decides (`Sec-CH-DPR`,
/// `Sec-CH-Width`). `hinted` is the hint, already rounded to its step, once resolution (or the
/// edge, which writes it as `dpr_auto-2`, `w_auto:800-700`) has read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Hinted {
    /// What applies without a hint: the dpr in hundredths, or the width in CSS px (also the
    /// width's cap).
    pub given: Option<u32>,
    /// The rounded hint: a dpr step in hundredths (100, 150, 200, 300), or a width in device px.
    pub hinted: Option<u32>,
}

/// Quality: a number, or content-aware.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quality {
    /// 1..=100 on JPEG's scale; each format's encoder gets the quality that looks the same
    /// (`transform/quality.rs`).
    Fixed(u8),
    /// 1..=100 given to the encoder as it is, unmapped. No URL spells it: `pixflow bench` uses
    /// it to run each encoder at the setting the peers are given.
    Encoder(u8),
    /// `q_auto[:LEVEL]`: per image, the quality that reaches the level's SSIMULACRA2 target
    /// (`transform/auto_quality.rs`).
    Auto(AutoLevel),
}

/// The levels of `q_auto`, Cloudinary's names; `good` is `q_auto` alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AutoLevel {
    /// Visually lossless at 1:1.
    Best,
    /// Artifacts not noticeable at normal viewing distance (the default level).
    Good,
    /// Smaller, with artifacts one may see looking for them.
    Eco,
    /// Smallest: previews, placeholders, slow networks.
    Low,
}

impl AutoLevel {
    /// The level as written after `q_auto:`.
    pub fn as_str(self) -> &'static str {
        match self {
            AutoLevel::Best => "best",
            AutoLevel::Good => "good",
            AutoLevel::Eco => "eco",
            AutoLevel::Low => "low",
        }
    }
}

/// A validated transformation. Every field is `None`/default when the URL did not ask for it, and
/// tokens equal to their default parse to the default, so equal specs mean equal variants.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct TransformSpec {
    /// `w_N`.
    pub width: Option<u32>,
    /// `h_N`.
    pub height: Option<u32>,
    /// `c_MODE`; `None` is `limit`.
    pub mode: Option<ResizeMode>,
    /// `g_G`; `None` is centre.
    pub gravity: Option<Gravity>,
    /// `dpr_D` in hundredths; `None` is 1. With `dpr_auto`, the hinted or fallback dpr.
    pub dpr: Option<Centi>,
    /// `dpr_auto[:FALLBACK]`.
    pub auto_dpr: Option<Hinted>,
    /// `w_auto[:CAP]`; `width` then holds the hinted width (device px) or the cap (CSS px).
    pub auto_width: Option<Hinted>,
    /// `q_N`.
    pub quality: Option<Quality>,
    /// `f_F`; `None` keeps the source's format.
    pub format: Option<Format>,
    /// `gray`.
    pub gray: bool,
    /// `blur_N`, sigma in hundredths.
    pub blur: Option<Centi>,
    /// `sharpen` / `sharpen_N`, sigma in hundredths.
    pub sharpen: Option<Centi>,
    /// `a_90|a_180|a_270`.
    pub rotation: Rotation,
    /// `a_hflip`.
    pub flip_h: bool,
    /// `a_vflip`.
    pub flip_v: bool,
    /// `bg_RRGGBB`; `None` is white.
    pub background: Option<Rgb>,
    /// `x_N` for `c_crop`.
    pub x: Option<u32>,
    /// `y_N` for `c_crop`.
    pub y: Option<u32>,
    /// `pg_N`: frame N (1-based) of an animation, as a still.
    pub page: Option<u32>,
    /// `rect_X:Y:W:H`: a region of the auto-oriented original, cut before `a_` and the resize.
    pub rect: Option<[u32; 4]>,
    /// `t_NAME`, kept by name so the canonical form stays short and edge-computable.
    pub preset: Option<String>,
    /// `exp_UNIX`: not part of the canonical form, but of what a signature covers.
    pub expires: Option<u64>,
    /// `format` is what `f_auto` became for this client (set by resolution, or parsed from the
    /// edge's `f_auto-avif`/`f_auto-webp`), so an animated source may still choose animated WebP
    /// over a still AVIF (DESIGN §2 "Animation"). Written `f_auto-…`; signed as `f_auto`.
    pub negotiated: bool,
}

/// The default sharpen sigma (hundredths), written as a bare `sharpen`.
pub const DEFAULT_SHARPEN: Centi = Centi(100);

impl TransformSpec {
    /// True when the URL asked for nothing: the original bytes are served untouched.
    pub fn is_identity(&self) -> bool {
        TransformSpec { expires: None, ..self.clone() } == TransformSpec::default()
    }

    /// True when the URL names one preset and nothing else (an expiry aside): what
    /// `--presets-only` lets through.
    pub fn is_preset_only(&self) -> bool {
        let preset_only =
            TransformSpec { preset: self.preset.clone(), expires: self.expires, ..TransformSpec::default() };
        self.preset.is_some() && *self == preset_only
    }

    /// The spec as its author wrote it: a negotiated format back to `f_auto` (what signatures
    /// cover, whichever client the edge resolved it for).
    pub fn as_authored(&self) -> TransformSpec {
        let mut s = match self.negotiated {
            true => TransformSpec { format: Some(Format::Auto), negotiated: false, ..self.clone() },
            false => self.clone(),
        };
        if let Some(a) = s.auto_dpr.take() {
            s.set_auto_dpr(Hinted { hinted: None, ..a });
        }
        if let Some(a) = s.auto_width.take() {
            s.set_auto_width(Hinted { hinted: None, ..a });
        }
        s
    }

    /// Sets `dpr_auto` and the dpr it means now: the hint, else the fallback, else 1.
    pub fn set_auto_dpr(&mut self, auto: Hinted) {
        self.auto_dpr = Some(auto);
        self.dpr = auto.hinted.or(auto.given).filter(|&d| d != 100).map(Centi);
    }

    /// Sets `w_auto` and the width it means now: the hinted width, else the cap.
    pub fn set_auto_width(&mut self, auto: Hinted) {
        self.auto_width = Some(auto);
        self.width = auto.hinted.or(auto.given);
    }

    /// Whether `width` is already in device pixels (a hinted `w_auto`), so `dpr` does not scale it.
    pub fn width_in_device_px(&self) -> bool {
        self.auto_width.is_some_and(|a| a.hinted.is_some())
    }

    /// Refuses `x_`/`y_` without `c_crop`, the only mode they place.
    pub fn check_crop_coordinates(&self) -> Result<(), SpecError> {
        if (self.x.is_some() || self.y.is_some()) && self.mode != Some(ResizeMode::Crop) {
            return Err(SpecError {
                code: "bad_option",
                token: if self.x.is_some() { "x_" } else { "y_" }.into(),
                message: "x_ and y_ only apply to c_crop".into(),
            });
        }
        Ok(())
    }

    /// Overlays the explicit tokens of `self` on a preset's expansion.
    pub fn over(&self, base: &TransformSpec) -> TransformSpec {
        TransformSpec {
            width: if self.auto_width.is_some() { self.width } else { self.width.or(base.width) },
            height: self.height.or(base.height),
            mode: self.mode.or(base.mode),
            gravity: self.gravity.or(base.gravity),
            dpr: if self.auto_dpr.is_some() { self.dpr } else { self.dpr.or(base.dpr) },
            auto_dpr: self.auto_dpr,
            auto_width: self.auto_width,
            quality: self.quality.or(base.quality),
            format: self.format.or(base.format),
            gray: self.gray || base.gray,
            blur: self.blur.or(base.blur),
            sharpen: self.sharpen.or(base.sharpen),
            rotation: if self.rotation == Rotation::R0 { base.rotation } else { self.rotation },
            flip_h: self.flip_h || base.flip_h,
            flip_v: self.flip_v || base.flip_v,
            background: self.background.or(base.background),
            x: self.x.or(base.x),
            y: self.y.or(base.y),
            page: self.page.or(base.page),
            rect: self.rect.or(base.rect),
            preset: None,
            expires: self.expires,
            negotiated: self.negotiated,
        }
    }
}

#[cfg(test)]
mod tests;
