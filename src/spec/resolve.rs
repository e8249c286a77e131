//! The one resolution step: a parsed request, the rules of the configuration (presets,
//! presets-only, signing, size limits) and the client's `Accept` become the request to render —
//! the spec with presets expanded and `f_auto` resolved, the variant's identity in every cache,
//! and whether the answer varies on `Accept`. In this order: expiry, presets-only, signature,
//! preset expansion, crop coordinates, size limits, format negotiation. GET, POST, `pixflow warm`
//! and the edge form all come here.

use super::hints::{fold, Hints};
use super::limits::{check_box_pixels, check_request, GeometryError};
use super::negotiate::resolve_requested;
use super::sign::{check_expiry, SignError, Signer};
use super::{Format, Key, Presets, SpecError, TransformSpec};
use sha2::{Digest, Sha256};
use std::fmt;

/// What resolution needs from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// The presets; `None` at the edge, which keeps `t_NAME` by name.
    pub presets: Option<&'a Presets>,
    /// Only `t_NAME` URLs are served.
    pub presets_only: bool,
    /// The output side limit.
    pub max_output_side: u32,
    /// The output pixel limit, checked on exact boxes before fetching; `None` at the edge.
    pub max_output_pixels: Option<u64>,
    /// URL signing, when a secret is configured (never at the edge).
    pub signer: Option<&'a Signer>,
    /// `t_NAME` URLs pass unsigned.
    pub allow_unsigned_presets: bool,
}

/// One request to resolve.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The original's key; `None` for an image in a POST body.
    pub key: Option<&'a Key>,
    /// The options as parsed (presets by name).
    pub written: &'a TransformSpec,
    /// `s_`, when given (or an AWS image handler form's `?signature=`).
    pub signature: Option<&'a str>,
    /// For AWS's image handler's forms, the text their own signature scheme covers.
    pub handler_signed: Option<&'a str>,
    /// The client's `Accept`.
    pub accept: Option<&'a str>,
    /// The client's hint headers, for `dpr_auto` and `w_auto`.
    pub hints: Hints<'a>,
    /// Unix time now, for `exp_`.
    pub now: u64,
}

/// What a POST's options are signed over instead of a key.
pub const POST_SIGNED_PATH: &str = "_/transform";

/// Why a request cannot be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// A bad option or an unknown preset (400).
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// Over a size limit (400).
    #[error(transparent)]
    Geometry(#[from] GeometryError),
    /// `--presets-only` and options other than one `t_` (403).
    #[error("only preset URLs (t_NAME) are served here")]
    PresetsOnly,
    /// A missing, wrong or expired signature (403).
    #[error(transparent)]
    Sign(#[from] SignError),
}

/// A variant's identity in the memory cache, the result store and the ETag: the canonical options
/// as written (with `f_auto` resolved), a digest of the preset's definition when the URL names
/// one (so redefining a preset makes new variants), and the format's extension when it is fixed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Variant(String);

impl Variant {
    /// The identity of `written` rendered as `format`, with `preset` the named preset's expansion.
    pub fn new(written: &TransformSpec, format: Option<Format>, preset: Option<&TransformSpec>) -> Variant {
        // A format `f_auto` chose is named as such (`f_auto-avif`): it may answer differently
        // from an explicit `f_avif` (animations), so the two must never share a cache entry.
        let negotiated = written.negotiated || written.format == Some(Format::Auto);
        let canonical = TransformSpec { format, expires: None, negotiated, ..written.clone() };
        let mut name = canonical.to_string();
        if let Some(definition) = preset {
            let digest = Sha256::digest(definition.to_string().as_bytes());
            name.push('~');
            name.extend(digest[..4].iter().map(|b| format!("{b:02x}")));
        }
        if let Some(f) = format.filter(|f| *f != Format::Auto) {
            name.push('.');
            name.push_str(f.as_str());
        }
        Variant(name)
    }

    /// As a string: the result store's file name below the key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A request resolved once; nothing downstream re-reads the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The source key (`None` for a POST).
    pub key: Option<Key>,
    /// The options as written (canonical, presets by name), for signatures and the edge form.
    pub written: TransformSpec,
    /// What to render: presets expanded, `f_auto` resolved to AVIF/WebP, or left as `Auto`
    /// (JPEG-or-PNG, which the pixels decide).
    pub spec: TransformSpec,
    /// The variant's identity.
    pub variant: Variant,
    /// Whether the answer depends on `Accept` (an `f_auto` was resolved).
    pub vary_accept: bool,
    /// The hint headers the answer depends on (a `dpr_auto` or `w_auto` the origin resolved).
    pub vary_hints: Vec<&'static str>,
}

/// Resolves one request under `rules`.
pub fn resolve(req: &Request<'_>, rules: &Rules<'_>) -> Result<Resolved, ResolveError> {
    // The hints are folded into the options first: they are part of the variant's identity (the
    // signature covers the options as authored, `dpr_auto` unresolved).
    let mut folded = req.written.clone();
    let vary_hints = fold(&mut folded, req.hints, rules.max_output_side);
    let (written, accept) = (&folded, req.accept);
    check_expiry(written, req.now)?;
    let preset_only = written.is_preset_only();
    if rules.presets_only && !written.is_identity() && !preset_only {
        return Err(ResolveError::PresetsOnly);
    }
    // Originals (no options) are never signed; preset URLs may be allowed unsigned. A POST always
    // spends CPU, so its options are always signed.
    let exempt =
        req.key.is_some() && (written.is_identity() || (rules.allow_unsigned_presets && preset_only));
    if let Some(signer) = rules.signer.filter(|_| !exempt) {
        match (req.handler_signed, req.key) {
            (Some(text), _) => signer.verify_handler(text, req.signature)?,
            (None, Some(key)) => signer.verify(written, key, req.signature)?,
            (None, None) => signer.verify_path(written, POST_SIGNED_PATH, req.signature)?,
        }
    }
    let (mut spec, preset) = match (rules.presets, &written.preset) {
        (Some(presets), Some(name)) => (presets.expand(written)?, presets.get(name)),
        _ => (written.clone(), None),
    };
    // A preset the edge cannot expand may bring c_crop along; only the origin can tell.
    if spec.preset.is_none() {
        spec.check_crop_coordinates()?;
    }
    check_request(&spec, rules.max_output_side)?;
    if let Some(max) = rules.max_output_pixels {
        check_box_pixels(&spec, max)?;
    }
    let vary_accept = spec.format == Some(Format::Auto);
    spec.format = resolve_requested(spec.format, accept);
    spec.negotiated |= vary_accept;
    let variant = Variant::new(written, spec.format, preset);
    Ok(Resolved { key: req.key.cloned(), written: written.clone(), spec, variant, vary_accept, vary_hints })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{parse_options, validate_key};

    fn rules(presets: &Presets) -> Rules<'_> {
        Rules {
            presets: Some(presets),
            presets_only: false,
            max_output_side: 8192,
            max_output_pixels: Some(40_000_000),
            signer: None,
            allow_unsigned_presets: false,
        }
    }

    fn run(
        key: &Key,
        written: &TransformSpec,
        accept: Option<&str>,
        rules: &Rules<'_>,
    ) -> Result<Resolved, ResolveError> {
        resolve(
            &Request {
                key: Some(key),
                written,
                signature: None,
                handler_signed: None,
                accept,
                hints: Hints::default(),
                now: 0,
            },
            rules,
        )
    }

    #[test]
    fn a_redefined_preset_is_a_new_variant_under_the_same_url() {
        let key = validate_key("a.jpg").unwrap();
        let written = parse_options("t_thumb", 8192).unwrap();
        let one = Presets::parse("thumb=w_40,h_40,c_fill", 8192).unwrap();
        let two = Presets::parse("thumb=w_50,h_50,c_fill", 8192).unwrap();
        let a = run(&key, &written, None, &rules(&one)).unwrap();
        let b = run(&key, &written, None, &rules(&two)).unwrap();
        assert_eq!(a.written, b.written, "the URL's canonical form stays t_thumb");
        assert_ne!(a.variant, b.variant);
        assert!(a.variant.as_str().starts_with("t_thumb~"), "{}", a.variant);
        assert_eq!(b.spec.width, Some(50));
    }

    #[test]
    fn f_auto_resolves_per_client_and_says_it_varies() {
        let key = validate_key("a.jpg").unwrap();
        let written = parse_options("w_100,f_auto", 8192).unwrap();
        let presets = Presets::default();
        let avif = run(&key, &written, Some("image/avif,image/webp"), &rules(&presets)).unwrap();
        let legacy = run(&key, &written, Some("image/png"), &rules(&presets)).unwrap();
        assert_eq!(avif.variant.as_str(), "f_auto-avif,w_100.avif");
        assert_eq!(legacy.variant.as_str(), "f_auto,w_100");
        assert!(avif.vary_accept && legacy.vary_accept);
    }

    #[test]
    fn a_signed_f_auto_verifies_in_the_form_the_edge_resolved_it_to() {
        use crate::spec::{parse_request, Signer};
        let key = validate_key("a.jpg").unwrap();
        let signer = Signer::new("a-secret-of-sixteen+");
        let written = parse_options("w_100,f_auto", 8192).unwrap();
        let sig = crate::spec::sign(b"a-secret-of-sixteen+", &written, &key);
        let presets = Presets::default();
        let signed = Rules { signer: Some(&signer), ..rules(&presets) };
        for origin in ["o=f_auto-avif,w_100", "o=f_auto-webp,w_100", "o=f_auto,w_100"] {
            let parsed = parse_request("/a.jpg", Some(&format!("{origin}&s={sig}")), 8192).unwrap();
            let req = Request {
                key: Some(&key),
                written: &parsed.spec,
                signature: parsed.signature.as_deref(),
                handler_signed: None,
                accept: None,
                hints: Hints::default(),
                now: 0,
            };
            let r = resolve(&req, &signed).unwrap_or_else(|e| panic!("{origin}: {e}"));
            assert!(r.variant.as_str().starts_with("f_auto"), "{origin}: {}", r.variant);
        }
        // An explicit f_avif is another variant, and another signature.
        let explicit = parse_options("w_100,f_avif", 8192).unwrap();
        let req = Request {
            key: Some(&key),
            written: &explicit,
            signature: Some(&sig),
            handler_signed: None,
            accept: None,
            hints: Hints::default(),
            now: 0,
        };
        assert!(resolve(&req, &signed).is_err());
    }

    #[test]
    fn presets_only_refuses_every_other_option() {
        let key = validate_key("a.jpg").unwrap();
        let presets = Presets::parse("thumb=w_40", 8192).unwrap();
        let only = Rules { presets_only: true, ..rules(&presets) };
        let other = parse_options("w_1000,h_1000,c_scale", 8192).unwrap();
        assert_eq!(run(&key, &other, None, &only), Err(ResolveError::PresetsOnly));
        assert!(run(&key, &parse_options("t_thumb", 8192).unwrap(), None, &only).is_ok());
    }
}
