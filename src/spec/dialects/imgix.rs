//! imgix's query language, as its machine-readable list (`imgix-url-params`, 11.36) names it: the
//! parameters pixflow reads with imgix's meaning are handled here and in `parse.rs`; every other
//! one is refused as not supported (never silently ignored, so a page that relies on it learns so);
//! names unknown to both are ignored, as CDNs ignore cache busters. Two imgix names mean something
//! else here, as pixflow defined them first: `f` (imgix: an alias of `fit`; here the format) and
//! `exp` (imgix: exposure; here a signed URL's expiry — imgix's `expires` is read as that too).
//! `tests/it/imgix.rs` checks this file against the list itself.

use crate::spec::parse::{Accumulator, SpecError};
use crate::spec::values::fixed;
use crate::spec::{AutoLevel, Format, Gravity, Quality, ResizeMode, Rgb};

/// imgix's parameters and aliases that pixflow does not implement: a 400 "not supported".
pub const UNSUPPORTED: &[&str] = &[
    "annotation",
    "ar",
    "b",
    "ba",
    "background-removal-semi-transparency",
    "background-remove",
    "background-replace",
    "background-replace-negative-prompt",
    "balph",
    "bc",
    "bf",
    "bg-remove",
    "bg-remove-fallback",
    "bg-remove-fg-type",
    "bg-remove-semi-transparency",
    "bg-remove-transparency-threshold",
    "bg-replace",
    "bg-replace-fallback",
    "bg-replace-neg-prompt",
    "bh",
    "blend",
    "blend-align",
    "blend-alpha",
    "blend-clr",
    "blend-color",
    "blend-crop",
    "blend-fit",
    "blend-h",
    "blend-mode",
    "blend-pad",
    "blend-size",
    "blend-w",
    "blend-x",
    "blend-y",
    "blendalign",
    "blendalpha",
    "blendclr",
    "blendcolor",
    "blendcrop",
    "blendfit",
    "blendh",
    "blendmode",
    "blendpad",
    "blendsize",
    "blendw",
    "blendx",
    "blendy",
    "bm",
    "border",
    "border-bottom",
    "border-left",
    "border-radius",
    "border-radius-inner",
    "border-right",
    "border-stroke-color",
    "border-stroke-size",
    "border-top",
    "bp",
    "bri",
    "bs",
    "bw",
    "bx",
    "by",
    "chromasub",
    "colorquant",
    "colors",
    "con",
    "corner-radius",
    "cs",
    "dl",
    "dpi",
    "duotone",
    "duotone-alpha",
    "face-blur",
    "face-pixel",
    "face-pixelate",
    "faceindex",
    "facepad",
    "faces",
    "fill",
    "fill-color",
    "fill-gen-fallback",
    "fill-gen-neg-prompt",
    "fill-gen-pos",
    "fill-gen-prompt",
    "fill-gen-seed",
    "fill-generative-fallback",
    "fill-generative-negative-prompt",
    "fill-generative-position",
    "fill-generative-prompt",
    "fill-generative-seed",
    "fill-gradient-cs",
    "fill-gradient-linear",
    "fill-gradient-linear-direction",
    "fill-gradient-radial",
    "fill-gradient-radial-radius",
    "fill-gradient-radial-x",
    "fill-gradient-radial-y",
    "fill-gradient-type",
    "fillcolor",
    "fp-debug",
    "fps",
    "gam",
    "grid-colors",
    "grid-size",
    "high",
    "htn",
    "hue",
    "interval",
    "inv",
    "invert",
    "iptc",
    "jpeg-progressive",
    "jpg-progressive",
    "license-plate-blur",
    "loop",
    "lossless",
    "lp-blur",
    "m",
    "ma",
    "malph",
    "mark",
    "mark-align",
    "mark-alpha",
    "mark-base",
    "mark-fit",
    "mark-h",
    "mark-if-min-height",
    "mark-if-min-width",
    "mark-pad",
    "mark-rot",
    "mark-scale",
    "mark-tile",
    "mark-w",
    "mark-x",
    "mark-y",
    "markalign",
    "markalpha",
    "markbase",
    "markfit",
    "markh",
    "markpad",
    "markscale",
    "marktile",
    "markw",
    "markx",
    "marky",
    "mask",
    "mask-bg",
    "maskbg",
    "max-h",
    "max-height",
    "max-w",
    "max-width",
    "mb",
    "mf",
    "mh",
    "min-h",
    "min-height",
    "min-w",
    "min-width",
    "mono",
    "monochrome",
    "mp",
    "ms",
    "mtile",
    "mw",
    "mx",
    "my",
    "nr",
    "nrs",
    "object-removal-negative-prompt",
    "object-removal-prompt",
    "object-removal-rect",
    "object-removal-seed",
    "or",
    "orient",
    "pad",
    "pad-bottom",
    "pad-left",
    "pad-right",
    "pad-top",
    "palette",
    "pdf-annotation",
    "prefix",
    "px",
    "rasterize-bypass",
    "reverse",
    "rot-type",
    "rott",
    "rottype",
    "sat",
    "sepia",
    "shad",
    "sharp",
    "skip",
    "svg-sanitize",
    "t",
    "ta",
    "tc",
    "tcl",
    "tf",
    "tl",
    "tp",
    "transparency",
    "trim",
    "trim-alpha",
    "trim-color",
    "trim-md",
    "trim-pad",
    "trim-sd",
    "trim-tol",
    "trimcolor",
    "trimmd",
    "trimpad",
    "trimsd",
    "trimtol",
    "tsh",
    "tsz",
    "tt",
    "txt",
    "txt-align",
    "txt-clip",
    "txt-clr",
    "txt-color",
    "txt-fit",
    "txt-font",
    "txt-lead",
    "txt-line",
    "txt-line-clr",
    "txt-line-color",
    "txt-pad",
    "txt-shad",
    "txt-size",
    "txt-track",
    "txt-width",
    "txt-x",
    "txt-y",
    "txtalign",
    "txtclip",
    "txtclr",
    "txtcolor",
    "txtfit",
    "txtfont",
    "txtlead",
    "txtline",
    "txtlineclr",
    "txtlinecolor",
    "txtpad",
    "txtshad",
    "txtsize",
    "txttrack",
    "txtwidth",
    "txtx",
    "txty",
    "upscale",
    "upscale-fallback",
    "usm",
    "usmrad",
    "vib",
    "video-bitrate",
    "video-clip-duration",
    "video-clip-end",
    "video-clip-start",
    "video-codec",
    "video-generate-subtitles",
    "video-renditions",
    "video-spritesheet-columns",
    "video-spritesheet-format",
    "video-spritesheet-h",
    "video-spritesheet-interval",
    "video-spritesheet-smart-crop",
    "video-spritesheet-w",
    "video-subtitle-translations",
    "video-thumbnail",
    "video-wave",
    "video-wave-align",
    "video-wave-amplitude",
    "video-wave-bg-color",
    "video-wave-color",
    "video-wave-h",
    "video-wave-mode",
    "video-wave-pad",
    "video-wave-scale",
    "video-wave-split",
    "video-wave-thickness",
    "video-wave-w",
    "video-wave-x",
    "video-wave-y",
];

/// imgix's names that pixflow reads (with imgix's meaning, differences in the README).
pub const READ: &[&str] = &[
    "auto", "bg", "blur", "ch", "crop", "dpr", "expires", "fit", "flip", "fm", "fp-x", "fp-y", "fp-z",
    "frame", "h", "height", "page", "q", "rect", "rot", "w", "width",
];

/// imgix's names that pixflow gives its own, earlier meaning.
pub const CONFLICTS: &[&str] = &["exp", "f"];

/// Whether `name` is an imgix parameter pixflow refuses.
pub fn unsupported(name: &str) -> bool {
    UNSUPPORTED.binary_search(&name).is_ok()
}

const COLOUR: &str = "background must be a colour: RGB, ARGB, RRGGBB or AARRGGBB hex, or a CSS colour name";

/// A colour as imgix writes one (`bg`): 3 (RGB), 4 (ARGB), 6 (RRGGBB) or 8 (AARRGGBB) hex digits,
/// a leading `#` allowed, or a CSS colour name (`csscolorparser`'s table, the browsers' list).
/// Backgrounds are opaque here, so an alpha other than `F`/`FF` is not supported.
pub(in crate::spec) fn colour(v: &str, token: &str) -> Result<Rgb, SpecError> {
    let hex = v.strip_prefix('#').unwrap_or(v);
    if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        let d: Vec<u8> = hex.bytes().map(|b| (b as char).to_digit(16).unwrap_or(0) as u8).collect();
        let byte = |i: usize| d[i] * 16 + d[i + 1];
        let (alpha, rgb) = match d.len() {
            3 => (255, [d[0] * 17, d[1] * 17, d[2] * 17]),
            4 => (d[0] * 17, [d[1] * 17, d[2] * 17, d[3] * 17]),
            6 => (255, [byte(0), byte(2), byte(4)]),
            8 => (byte(0), [byte(2), byte(4), byte(6)]),
            _ => return Err(SpecError::bad(token, COLOUR)),
        };
        if alpha != 255 {
            return Err(SpecError::unsupported(
                token,
                "translucent backgrounds are not supported: give an opaque colour",
            ));
        }
        return Ok(Rgb(rgb));
    }
    let name = v.to_ascii_lowercase();
    csscolorparser::NAMED_COLORS
        .get(name.as_str())
        .map(|c| Rgb(*c))
        .ok_or_else(|| SpecError::bad(token, COLOUR))
}

/// A fraction 0 to 1 (`fp-x=0.333333`) in ten-thousandths, rounded half up.
fn unit(v: &str) -> Option<u16> {
    let n = fixed(v, 12)?;
    (n <= 1_000_000_000_000).then(|| ((n + 50_000_000) / 100_000_000) as u16)
}

impl Accumulator {
    /// `fit=`: imgix's modes (DESIGN §2's table), then pixflow's own names (`fit=lpad`).
    pub(in crate::spec) fn query_fit(&mut self, v: &str, token: &str) -> Result<(), SpecError> {
        let mode = match v {
            "crop" => ResizeMode::Fill,
            "fill" => ResizeMode::Pad,
            "min" => ResizeMode::LFill,
            "fillmax" => ResizeMode::LPad,
            "clamp" | "facearea" => {
                return Err(SpecError::unsupported(token, "fit=clamp and fit=facearea are not supported"))
            }
            _ => return self.mode(v, token),
        };
        self.once("c", token)?;
        self.spec.mode = Some(mode);
        Ok(())
    }

    /// `crop=`, a comma list: `top`/`bottom` and `left`/`right` place the window like a compass
    /// gravity; `entropy`/`edges` are `g_auto`; `focalpoint` is the point `fp-x`,`fp-y`. When
    /// several are given, the focal point wins, then `g_auto`, then the compass. `faces` is not
    /// supported; next to another value it is skipped, as imgix falls back when it finds no face.
    pub(in crate::spec) fn query_crop(&mut self, v: &str, token: &str) -> Result<(), SpecError> {
        let why = "crop takes top, bottom, left, right, entropy, edges, focalpoint or faces, comma-separated";
        let (mut side, mut compass, mut auto, mut focal, mut faces) =
            ([1u8, 1u8], false, false, false, false);
        for word in v.split(',') {
            let (axis, at) = match word {
                "left" => (0, 0),
                "right" => (0, 2),
                "top" => (1, 0),
                "bottom" => (1, 2),
                "entropy" | "edges" => {
                    auto = true;
                    continue;
                }
                "focalpoint" => {
                    focal = true;
                    continue;
                }
                "faces" => {
                    faces = true;
                    continue;
                }
                _ => return Err(SpecError::bad(token, why)),
            };
            if side[axis] != 1 && side[axis] != at {
                return Err(SpecError::bad(token, "crop takes one of top and bottom, one of left and right"));
            }
            side[axis] = at;
            compass = true;
        }
        if faces && !(compass || auto || focal) {
            return Err(SpecError::unsupported(
                token,
                "crop=faces is not supported (no face detection); crop=faces,edges falls back to g_auto",
            ));
        }
        self.once("g", token)?;
        self.focal = focal;
        self.spec.gravity =
            Some(if auto && !focal { Gravity::Auto } else { Gravity::Compass(side[0], side[1]) });
        Ok(())
    }

    /// `fp-x`, `fp-y` (axis 0, 1): the focal point of `crop=focalpoint`, imgix's default 0.5.
    /// Without `crop=focalpoint` they do nothing, as in imgix.
    pub(in crate::spec) fn focal_coordinate(
        &mut self,
        axis: usize,
        v: &str,
        token: &str,
    ) -> Result<(), SpecError> {
        let n = unit(v).ok_or_else(|| SpecError::bad(token, "fp-x and fp-y are fractions 0 to 1"))?;
        self.once(["fp-x", "fp-y"][axis], token)?;
        self.fp[axis] = Some(n);
        Ok(())
    }

    /// `fp-z`: imgix's focal zoom; only its default, 1, is supported.
    pub(in crate::spec) fn focal_zoom(&mut self, v: &str, token: &str) -> Result<(), SpecError> {
        match fixed(v, 4) {
            Some(10_000) => self.once("fp-z", token),
            Some(_) => {
                Err(SpecError::unsupported(token, "focal point zoom (fp-z other than 1) is not supported"))
            }
            None => Err(SpecError::bad(token, "fp-z is a number 1 to 100")),
        }
    }

    /// `auto=`, a comma list: `format` is `f_auto` unless `fm` names a format (imgix: `fm` wins);
    /// `compress` is `q_auto` unless `q` names a quality (`q` wins, as imgix's does).
    pub(in crate::spec) fn query_auto(&mut self, v: &str, token: &str) -> Result<(), SpecError> {
        self.once("auto", token)?;
        for word in v.split(',') {
            match word {
                "format" => self.auto_format = true,
                "compress" => self.auto_compress = true,
                "enhance" | "redeye" | "true" => {
                    return Err(SpecError::unsupported(
                        token,
                        "auto=enhance, redeye and true are not supported",
                    ))
                }
                _ => return Err(SpecError::bad(token, "auto takes format and compress, comma-separated")),
            }
        }
        Ok(())
    }

    /// `rot=`: imgix takes any angle; right angles work, others are not supported.
    pub(in crate::spec) fn query_rot(&mut self, v: &str, token: &str) -> Result<(), SpecError> {
        match v {
            "0" => self.once("rot", token),
            "90" | "180" | "270" => self.rotate(v, token),
            _ if fixed(v.strip_prefix('-').unwrap_or(v), 9).is_some() => Err(SpecError::unsupported(
                token,
                "only rotations by 0, 90, 180 or 270 degrees are supported",
            )),
            _ => Err(SpecError::bad(token, "rotation is a number of degrees: 0, 90, 180 or 270")),
        }
    }

    /// `fm=` (and `f=`, `format=`): imgix's formats pixflow writes, `pjpg` as a baseline JPEG and
    /// `png32` as PNG; the others are not supported.
    pub(in crate::spec) fn query_format(&mut self, v: &str, token: &str) -> Result<(), SpecError> {
        match v {
            "pjpg" => self.format("jpeg", token),
            "png32" => self.format("png", token),
            "png8" | "jp2" | "jxr" | "mp4" | "webm" | "blurhash" | "spritesheet" => {
                Err(SpecError::unsupported(token, "this output format is not supported"))
            }
            _ => self.format(v, token),
        }
    }

    /// What `finish` settles once every parameter is read: the focal point of `crop=focalpoint`
    /// `auto=format` where no format is named, and `auto=compress` where no quality is.
    pub(in crate::spec) fn settle_imgix(&mut self) {
        if self.focal {
            let [x, y] = self.fp.map(|c| c.unwrap_or(5_000));
            self.spec.gravity =
                Some(if (x, y) == (5_000, 5_000) { Gravity::CENTER } else { Gravity::Focal(x, y) });
        }
        if self.auto_format && self.spec.format.is_none() {
            self.spec.format = Some(Format::Auto);
        }
        if self.auto_compress && self.spec.quality.is_none() {
            self.spec.quality = Some(Quality::Auto(AutoLevel::Good));
        }
    }
}

/// Whether an imgix width or height is a fraction of the source's (`w=0.5`), which pixflow does
/// not support.
pub(in crate::spec) fn relative_size(v: &str) -> bool {
    v.contains('.') && fixed(v, 12).is_some_and(|n| n <= 1_000_000_000_000)
}
