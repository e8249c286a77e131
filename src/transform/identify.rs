//! Originals pixflow names, whether or not it transforms them: AVIF, HEIC/HEIF, JPEG XL, SVG, ICO and
//! a few more, told by their first bytes (the `imagesize` crate's signatures and header readers;
//! SVG by its root element). With no options they are served untouched with their own
//! `Content-Type`; `f_json` names them and gives the size the header states; any other option is
//! a 415 that says so. Unknown bytes stay unknown.

/// A format told from its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Foreign {
    /// The name `f_json` reports (`avif`, `heic`, `jxl`, `svg`, …).
    pub name: &'static str,
    /// The `Content-Type` of a passthrough.
    pub mime: &'static str,
}

/// The MIME type of SVG, whose passthrough also carries DESIGN §2's Content-Security-Policy.
pub const SVG_MIME: &str = "image/svg+xml";

/// The format of `bytes`, when it is one pixflow names but does not decode.
pub fn foreign(bytes: &[u8]) -> Option<Foreign> {
    use imagesize::{Compression, ImageType};
    if svg(bytes) {
        return Some(Foreign { name: "svg", mime: SVG_MIME });
    }
    let (name, mime) = match imagesize::image_type(bytes).ok()? {
        ImageType::Heif(Compression::Av1) => ("avif", "image/avif"),
        ImageType::Heif(Compression::Hevc) => ("heic", "image/heic"),
        ImageType::Heif(_) => ("heif", "image/heif"),
        ImageType::Jxl => ("jxl", "image/jxl"),
        ImageType::Ico => ("ico", "image/vnd.microsoft.icon"),
        ImageType::Psd => ("psd", "image/vnd.adobe.photoshop"),
        ImageType::Qoi => ("qoi", "image/qoi"),
        ImageType::Exr => ("exr", "image/x-exr"),
        ImageType::Hdr => ("hdr", "image/vnd.radiance"),
        ImageType::Dds(_) => ("dds", "image/vnd-ms.dds"),
        ImageType::Ktx2 => ("ktx2", "image/ktx2"),
        // Formats with no signature to speak of (TGA) or that are not pictures people upload.
        _ => return None,
    };
    Some(Foreign { name, mime })
}

/// The size the header states, as the image is shown: for HEIF-family files (AVIF, HEIC) the
/// primary item's `ispe` cut by its `clap` and turned by its `irot` (`heif_size`); for the others
/// `imagesize`'s reading. SVG: none, a vector has no pixel size of its own.
pub fn stated_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if svg(bytes) {
        return None;
    }
    if let Ok(imagesize::ImageType::Heif(_)) = imagesize::image_type(bytes) {
        return heif_size(bytes);
    }
    let size = imagesize::blob_size(bytes).ok()?;
    Some((u32::try_from(size.width).ok()?, u32::try_from(size.height).ok()?))
}

/// The primary item's displayed size in a HEIF-family file, read by the one HEIF reader.
fn heif_size(bytes: &[u8]) -> Option<(u32, u32)> {
    super::heif::Heif::parse(bytes).ok()?.shown_size()
}

/// Whether `bytes` begin like an SVG document: after a byte-order mark, white space, an XML
/// declaration, comments, processing instructions and a doctype (its internal subset skipped
/// unread), the root element is `svg` (or `prefix:svg`). Only the first 4 KB are looked at.
/// How far into a file the SVG root element is looked for.
pub(super) const SVG_SNIFF_BYTES: usize = 64 << 10;

pub(super) fn svg(bytes: &[u8]) -> bool {
    // Room for a prolog, comments and a doctype's internal subset before the root element.
    let head = &bytes[..bytes.len().min(SVG_SNIFF_BYTES)];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let mut rest = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or(""),
    };
    loop {
        rest = rest.trim_start();
        let skip = |open: &str, close: &str, s: &str| {
            s.strip_prefix(open).and_then(|r| r.find(close).map(|i| i + open.len() + close.len()))
        };
        let past = if rest.starts_with("<?") {
            skip("<?", "?>", rest)
        } else if rest.starts_with("<!--") {
            skip("<!--", "-->", rest)
        } else if rest.starts_with("<!DOCTYPE") || rest.starts_with("<!doctype") {
            // The doctype ends at the first `>` outside its `[ … ]` internal subset.
            match (rest.find('['), rest.find('>')) {
                (Some(open), Some(gt)) if open < gt => rest[open..].find("]>").map(|i| open + i + 2),
                (_, Some(gt)) => Some(gt + 1),
                _ => None,
            }
        } else {
            let Some(tag) = rest.strip_prefix('<') else { return false };
            let name: &str =
                tag.split(|c: char| c.is_whitespace() || c == '>' || c == '/').next().unwrap_or("");
            return name == "svg" || name.rsplit_once(':').is_some_and(|(_, local)| local == "svg");
        };
        match past {
            Some(n) if n <= rest.len() => rest = &rest[n..],
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A HEIF `meta` with one item of `ispe` W×H and the given extra properties.
    fn heif(w: u32, h: u32, extra: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
        let bx =
            |kind: &[u8], body: &[u8]| [&((body.len() + 8) as u32).to_be_bytes()[..], kind, body].concat();
        let mut ipco = bx(b"ispe", &[&[0u8; 4][..], &w.to_be_bytes(), &h.to_be_bytes()].concat());
        for (kind, body) in extra {
            ipco.extend(bx(&kind[..], body));
        }
        let n = 1 + extra.len() as u8;
        let ipma =
            [&[0u8; 4][..], &1u32.to_be_bytes(), &1u16.to_be_bytes(), &[n], &(1..=n).collect::<Vec<u8>>()]
                .concat();
        let iprp = [bx(b"ipco", &ipco), bx(b"ipma", &ipma)].concat();
        let meta = [&[0u8; 4][..], &bx(b"pitm", &[0, 0, 0, 0, 0, 1]), &bx(b"iprp", &iprp)].concat();
        [bx(b"ftyp", b"heic\0\0\0\0mif1heic"), bx(b"meta", &meta)].concat()
    }

    #[test]
    fn a_heif_size_is_cut_by_clap_and_turned_by_irot() {
        assert_eq!(heif_size(&heif(64, 64, &[])), Some((64, 64)));
        let clap: Vec<u8> = [64u32, 1, 48, 1, 0, 1, 0, 1].iter().flat_map(|v| v.to_be_bytes()).collect();
        assert_eq!(heif_size(&heif(64, 64, &[(b"clap", clap.clone())])), Some((64, 48)));
        assert_eq!(heif_size(&heif(64, 64, &[(b"clap", clap), (b"irot", vec![1])])), Some((48, 64)));
        assert_eq!(heif_size(&heif(300, 200, &[(b"irot", vec![2])])), Some((300, 200)));
        assert_eq!(stated_size(&heif(300, 200, &[(b"irot", vec![3])])), Some((200, 300)));
    }

    proptest! {
        /// Any bytes after a HEIF signature: a size or none, never a panic.
        #[test]
        fn heif_boxes_of_any_shape_never_panic(tail in prop::collection::vec(any::<u8>(), 0..400), cut in 0usize..200) {
            let mut bytes = heif(64, 48, &[(b"irot", vec![1])]);
            bytes.truncate(bytes.len().saturating_sub(cut));
            bytes.extend(tail);
            let _ = heif_size(&bytes);
            let _ = foreign(&bytes);
        }
    }

    #[test]
    fn svg_is_told_by_its_root_element() {
        for yes in [
            &b"<svg xmlns='http://www.w3.org/2000/svg'/>"[..],
            b"\xEF\xBB\xBF<?xml version='1.0'?>\n<!-- made by hand -->\n<svg>",
            b"<!DOCTYPE svg PUBLIC '-//W3C//DTD SVG 1.1//EN' 'x.dtd'><svg width='1'/>",
            b"<?xml version='1.0'?><!DOCTYPE svg [<!ENTITY a 'b'><!ENTITY c '&a;&a;'>]><svg>&c;</svg>",
            b"  <svg:svg xmlns:svg='http://www.w3.org/2000/svg'></svg:svg>",
        ] {
            assert!(svg(yes), "{}", String::from_utf8_lossy(yes));
        }
        for no in [
            &b"<html><svg></svg></html>"[..],
            b"<svgfoo/>",
            b"<!-- never closed <svg>",
            b"<?xml version='1.0'?><note/>",
            b"svg",
            b"",
            b"\x89PNG\r\n\x1a\n",
        ] {
            assert!(!svg(no), "{}", String::from_utf8_lossy(no));
        }
    }
}
