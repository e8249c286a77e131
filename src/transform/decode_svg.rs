//! SVG (and gzip-compressed SVGZ) originals, drawn by resvg at the size the output needs: a
//! vector source is sharp at any `w_` (the plan asks for its render size, `planned` in mod.rs).
//!
//! Everything an SVG can reach for is cut off (DESIGN §2 "Inputs"): no file, no network, no
//! external entity; `<image>` only from `data:` URIs holding a PNG, JPEG, GIF or WebP within the
//! pixel limit; no fonts, so text is not drawn; scripts and animation are ignored by usvg. Before
//! usvg sees the document, its cost is bounded: bytes (an SVGZ's inflated size), entity expansion, elements, nesting depth, `<use>` expansion, filter
//! primitives and chains of references (no loops, at most 16 deep). What gets past these runs in
//! the sandbox (sandbox.rs). Each refusal is a 413 that names the limit; XML that does not parse is a 422.

use super::{Limits, TransformError};
use image::{DynamicImage, RgbaImage};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

/// The size of an SVG with neither `width`/`height` nor a `viewBox` (usvg's; browsers would show
/// 300 × 150, a replaced element's default, but such a file has no aspect of its own either).
pub const DEFAULT_SIZE: (u32, u32) = (100, 100);
/// Most elements (and text nodes) in one document.
pub const MAX_NODES: u32 = 50_000;
/// Deepest element nesting.
pub const MAX_DEPTH: usize = 256;
/// Most elements a document has once every `<use>` is expanded.
pub const MAX_EXPANDED_ELEMENTS: u64 = 200_000;
/// Most filter primitives (`fe…` elements).
pub const MAX_FILTER_PRIMITIVES: usize = 64;
/// Largest `numOctaves` of an `feTurbulence` (each octave is a pass over the filter region).
pub const MAX_TURBULENCE_OCTAVES: f64 = 10.0;
/// Largest document, once an SVGZ is inflated.
pub const MAX_BYTES: u64 = 16 << 20;
/// Most characters internal entities may add to a document.
pub const MAX_ENTITY_EXPANSION: u64 = 1 << 20;

/// Whether `bytes` is an SVG or an SVGZ (gzip whose inflated start is an SVG).
pub fn sniff(bytes: &[u8]) -> bool {
    if is_gzip(bytes) {
        let mut head = Vec::new();
        let _ = flate2::read::GzDecoder::new(bytes)
            .take(super::identify::SVG_SNIFF_BYTES as u64)
            .read_to_end(&mut head);
        return super::identify::svg(&head);
    }
    super::identify::svg(bytes)
}

fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// The document's text: an SVGZ inflated (at most `max_bytes`), UTF-8 checked.
pub fn text(bytes: &[u8], max_bytes: u64) -> Result<Cow<'_, [u8]>, TransformError> {
    if !is_gzip(bytes) {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut inflated = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(max_bytes.saturating_add(1))
        .read_to_end(&mut inflated)
        .map_err(|e| TransformError::Corrupt(format!("SVGZ: {e}")))?;
    if inflated.len() as u64 > max_bytes {
        return Err(TransformError::OverLimit(format!("the SVGZ inflates to more than {max_bytes} bytes")));
    }
    Ok(Cow::Owned(inflated))
}

/// A parsed, checked SVG.
pub struct Svg {
    tree: resvg::usvg::Tree,
}

impl Svg {
    /// Parses `bytes` (SVG or SVGZ) within the limits above and `limits`' pixel limit for
    /// embedded rasters.
    pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Svg, TransformError> {
        let text = text(bytes, MAX_BYTES)?;
        let text =
            std::str::from_utf8(&text).map_err(|_| TransformError::Corrupt("the SVG is not UTF-8".into()))?;
        check_entities(text)?;
        // External entities are not resolved: roxmltree asks a resolver, and none is given.
        let options =
            roxmltree::ParsingOptions { allow_dtd: true, nodes_limit: MAX_NODES, ..Default::default() };
        let doc = roxmltree::Document::parse_with_options(text, options).map_err(|e| match e {
            roxmltree::Error::NodesLimitReached => {
                TransformError::OverLimit(format!("the SVG has more than {MAX_NODES} nodes"))
            }
            roxmltree::Error::EntityReferenceLoop(_) => {
                TransformError::OverLimit("the SVG's entities nest too deeply or expand too often".into())
            }
            other => TransformError::Corrupt(format!("SVG: {other}")),
        })?;
        check_structure(&doc)?;
        let max_pixels = limits.max_source_pixels;
        let opt = resvg::usvg::Options {
            resources_dir: None,
            default_size: resvg::usvg::Size::from_wh(DEFAULT_SIZE.0 as f32, DEFAULT_SIZE.1 as f32)
                .expect("a positive size"),
            image_href_resolver: resvg::usvg::ImageHrefResolver {
                resolve_data: Box::new(move |_mime, data, _| embedded_raster(data, max_pixels)),
                resolve_string: Box::new(|href, _| {
                    tracing::info!(href, "an SVG's link to an outside image was not followed");
                    None
                }),
            },
            ..resvg::usvg::Options::default()
        };
        let tree = resvg::usvg::Tree::from_xmltree(&doc, &opt)
            .map_err(|e| TransformError::Corrupt(format!("SVG: {e}")))?;
        Ok(Svg { tree })
    }

    /// The intrinsic size in pixels (CSS px at 96 dpi), rounded up.
    pub fn size(&self) -> (u32, u32) {
        let s = self.tree.size();
        let px = |v: f32| (v.ceil() as u32).max(1);
        (px(s.width()), px(s.height()))
    }

    /// Draws the whole document at `width` × `height` (straight-alpha RGBA).
    pub fn render(&self, width: u32, height: u32) -> Result<DynamicImage, TransformError> {
        let mut pixmap = resvg::tiny_skia::Pixmap::new(width, height)
            .ok_or_else(|| TransformError::OverLimit(format!("an SVG drawn at {width}x{height}")))?;
        let s = self.tree.size();
        let transform =
            resvg::tiny_skia::Transform::from_scale(width as f32 / s.width(), height as f32 / s.height());
        resvg::render(&self.tree, transform, &mut pixmap.as_mut());
        let image = RgbaImage::from_raw(width, height, pixmap.take_demultiplied())
            .ok_or_else(|| TransformError::Internal("SVG buffer size".into()))?;
        Ok(DynamicImage::ImageRgba8(image))
    }
}

/// An `<image>`'s `data:` URI: a raster usvg hands to resvg to decode, when its header states a
/// size within the pixel limit. Anything else (an SVG inside, an unknown format) is not drawn.
fn embedded_raster(data: Arc<Vec<u8>>, max_pixels: u64) -> Option<resvg::usvg::ImageKind> {
    use imagesize::ImageType;
    let size = imagesize::blob_size(&data).ok()?;
    if (size.width as u64).saturating_mul(size.height as u64) > max_pixels {
        tracing::info!(
            width = size.width,
            height = size.height,
            "an SVG's embedded image is over the pixel limit; not drawn"
        );
        return None;
    }
    match imagesize::image_type(&data).ok()? {
        ImageType::Jpeg => Some(resvg::usvg::ImageKind::JPEG(data)),
        ImageType::Png => Some(resvg::usvg::ImageKind::PNG(data)),
        ImageType::Gif => Some(resvg::usvg::ImageKind::GIF(data)),
        ImageType::Webp => Some(resvg::usvg::ImageKind::WEBP(data)),
        _ => None,
    }
}

/// Refuses a document whose internal entities would add more than [`MAX_ENTITY_EXPANSION`]
/// characters ("billion laughs", or one large entity referenced many times). roxmltree bounds
/// the nesting of references, not what they add up to.
fn check_entities(text: &str) -> Result<(), TransformError> {
    let Some(start) = text.find("<!ENTITY") else {
        return Ok(());
    };
    let subset_end = text[start..].find("]>").map_or(text.len(), |i| start + i);
    let mut values: HashMap<&str, &str> = HashMap::new();
    let mut rest = &text[start..subset_end];
    while let Some(i) = rest.find("<!ENTITY") {
        rest = rest[i + 8..].trim_start();
        if rest.starts_with('%') {
            continue; // a parameter entity: roxmltree does not expand them in content
        }
        let name_end = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
        let (name, after) = rest.split_at(name_end);
        let after = after.trim_start();
        let Some(quote) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue; // SYSTEM or PUBLIC: external, never fetched
        };
        let Some(len) = after[1..].find(quote) else {
            break;
        };
        values.insert(name, &after[1..1 + len]);
        rest = &after[1 + len..];
    }
    let mut sizes: HashMap<&str, u64> = HashMap::new();
    let too_much = || {
        TransformError::OverLimit(format!(
            "the SVG's entities expand to more than {MAX_ENTITY_EXPANSION} characters"
        ))
    };
    let mut total = 0u64;
    for name in references(&text[subset_end..]) {
        total = total.saturating_add(expanded(name, &values, &mut sizes, 0).ok_or_else(too_much)?);
        if total > MAX_ENTITY_EXPANSION {
            return Err(too_much());
        }
    }
    Ok(())
}

/// The names of the general entity references (`&name;`) in `text`, character references aside.
fn references(text: &str) -> impl Iterator<Item = &str> {
    text.match_indices('&').filter_map(move |(i, _)| {
        let rest = &text[i + 1..];
        let end = rest.find(';')?;
        let name = &rest[..end];
        (!name.is_empty() && !name.starts_with('#') && !name.contains(char::is_whitespace)).then_some(name)
    })
}

/// The characters `name` expands to, or `None` past the limit (a loop counts as past it).
fn expanded<'a>(
    name: &'a str,
    values: &HashMap<&'a str, &'a str>,
    sizes: &mut HashMap<&'a str, u64>,
    depth: u32,
) -> Option<u64> {
    if let Some(&n) = sizes.get(name) {
        return Some(n);
    }
    let Some(value) = values.get(name) else {
        return Some(name.len() as u64 + 2); // predefined (&amp;) or unknown: stays as it is
    };
    if depth > 16 {
        return None;
    }
    let mut n = value.len() as u64;
    for inner in references(value) {
        n = n.saturating_add(expanded(inner, values, sizes, depth + 1)?);
        if n > MAX_ENTITY_EXPANSION {
            return None;
        }
    }
    sizes.insert(name, n);
    Some(n)
}

/// Refuses a document deeper than [`MAX_DEPTH`], with more filter primitives than
/// [`MAX_FILTER_PRIMITIVES`], a turbulence of too many octaves, or more than
/// [`MAX_EXPANDED_ELEMENTS`] once each `<use>` stands for what it references.
fn check_structure(doc: &roxmltree::Document) -> Result<(), TransformError> {
    let over = |what: String| Err(TransformError::OverLimit(what));
    let mut ids = HashMap::new();
    let mut filters = 0;
    // Depth first with an explicit stack: the depth check must not itself recurse.
    let mut stack = vec![(doc.root_element(), 1usize)];
    while let Some((node, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return over(format!("the SVG nests elements more than {MAX_DEPTH} deep"));
        }
        let tag = node.tag_name().name();
        if tag.starts_with("fe") {
            filters += 1;
            if filters > MAX_FILTER_PRIMITIVES {
                return over(format!("the SVG has more than {MAX_FILTER_PRIMITIVES} filter primitives"));
            }
        }
        if tag == "feTurbulence" {
            let octaves = node.attribute("numOctaves").and_then(|v| v.trim().parse::<f64>().ok());
            if octaves.is_some_and(|o| o > MAX_TURBULENCE_OCTAVES) {
                return over(format!("an feTurbulence has more than {MAX_TURBULENCE_OCTAVES} octaves"));
            }
        }
        if let Some(id) = node.attribute("id") {
            ids.insert(id, node);
        }
        stack.extend(node.children().filter(|c| c.is_element()).map(|c| (c, depth + 1)));
    }
    let mut weights = HashMap::new();
    match weight(doc.root_element(), &ids, &mut weights, 0) {
        Some(n) if n <= MAX_EXPANDED_ELEMENTS => {}
        _ => {
            return over(format!(
                "the SVG's <use> references expand to more than {MAX_EXPANDED_ELEMENTS} elements"
            ))
        }
    }
    let mut depths = HashMap::new();
    match reference_depth(doc.root_element(), &ids, &mut depths, 0) {
        Some(_) => Ok(()),
        None => over(format!(
            "the SVG's references (masks, clip paths, filters, patterns, images) loop or nest more than \
             {MAX_REFERENCE_DEPTH} deep"
        )),
    }
}

/// Deepest chain of references an SVG may have: a mask whose content is masked, a filter whose
/// `feImage` draws a filtered element, … Each level is a layer the size of the drawing (a chain
/// of 250 masks took 985 MB at 1000 px), and usvg follows a loop until its stack overflows.
pub const MAX_REFERENCE_DEPTH: u32 = 16;

/// The ids an element refers to: every `url(#id)` in its attributes (`mask`, `clip-path`,
/// `filter`, `fill`, `stroke`, `marker-*`, and the same inside `style`), and an `href` to `#id`.
fn referenced<'a>(node: roxmltree::Node<'a, '_>) -> impl Iterator<Item = &'a str> {
    node.attributes().flat_map(|a| {
        let value = a.value();
        let href = (a.name() == "href").then(|| value.trim().strip_prefix('#')).flatten();
        let urls = value.match_indices("url(").filter_map(move |(i, _)| {
            let rest = value[i + 4..].trim_start().trim_start_matches(['"', '\'']).strip_prefix('#')?;
            let end = rest.find(|c: char| c == ')' || c == '"' || c == '\'' || c.is_whitespace())?;
            Some(&rest[..end])
        });
        href.into_iter().chain(urls)
    })
}

/// The longest chain of references from `node` or anything under it (memoised by node; `None`
/// for a loop or a chain deeper than [`MAX_REFERENCE_DEPTH`]).
fn reference_depth<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
    ids: &HashMap<&'a str, roxmltree::Node<'a, 'i>>,
    memo: &mut HashMap<roxmltree::NodeId, Option<u32>>,
    chain: u32,
) -> Option<u32> {
    if chain > MAX_REFERENCE_DEPTH {
        return None;
    }
    match memo.get(&node.id()) {
        Some(Some(d)) => return (chain + d <= MAX_REFERENCE_DEPTH).then_some(*d),
        Some(None) => return None, // on the current path: a loop
        None => {}
    }
    memo.insert(node.id(), None);
    let mut depth = 0;
    for id in referenced(node) {
        // A `use` is counted by its expansion (`weight`); what it draws is walked there.
        if let Some(target) = ids.get(id).filter(|_| node.tag_name().name() != "use") {
            depth = depth.max(1 + reference_depth(*target, ids, memo, chain + 1)?);
        }
    }
    for child in node.children().filter(|c| c.is_element()) {
        depth = depth.max(reference_depth(child, ids, memo, chain)?);
    }
    if chain + depth > MAX_REFERENCE_DEPTH {
        return None;
    }
    memo.insert(node.id(), Some(depth));
    Some(depth)
}

/// Elements under `node` with each `<use>` counted as the element it references (memoised by
/// node; `None` past the limit, for a reference cycle or chain deeper than the nesting limit).
fn weight<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
    ids: &HashMap<&'a str, roxmltree::Node<'a, 'i>>,
    memo: &mut HashMap<roxmltree::NodeId, u64>,
    depth: usize,
) -> Option<u64> {
    if let Some(&n) = memo.get(&node.id()) {
        return Some(n);
    }
    if depth > MAX_DEPTH * 2 {
        return None;
    }
    let mut n = 1u64;
    if node.tag_name().name() == "use" {
        let href = node.attributes().find(|a| a.name() == "href").map(|a| a.value());
        if let Some(target) = href.and_then(|h| h.strip_prefix('#')).and_then(|id| ids.get(id)) {
            if node.ancestors().any(|a| a == *target) {
                return None; // a use inside what it references: usvg skips it, but it is a loop
            }
            n = n.saturating_add(weight(*target, ids, memo, depth + 1)?);
        }
    }
    for child in node.children().filter(|c| c.is_element()) {
        n = n.saturating_add(weight(child, ids, memo, depth + 1)?);
        if n > MAX_EXPANDED_ELEMENTS {
            return None;
        }
    }
    memo.insert(node.id(), n);
    Some(n)
}
