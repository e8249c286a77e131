//! The HEIF container (ISO/IEC 23008-12) that AVIF and HEIC share: which item is the picture,
//! where its coded bytes are, and the properties that say how to show it (size, rotation,
//! mirroring, clean-aperture crop, colour, bit depth, alpha, grid tiles). Read by hand because
//! no crate exposes all of it safely: avif-parse has no transforms, colour or grids, and
//! mp4parse hands the transforms out as raw pointers and has no `clap` or grids.
//!
//! Every count and offset is checked against the file before it is used: a box that claims more
//! than the file holds, an item list longer than [`MAX_ITEMS`] or a grid with more tiles than
//! references is corrupt (422), never an allocation of the claimed size.

use super::TransformError;
use boxes::{boxes, boxes_until_cut, full_box, property, Cursor};

mod boxes;
mod picture;

pub(super) use picture::{Layout, Picture};

/// More items than any camera writes (an iPhone HEIC grid has ≈ 50 tiles and a few thumbnails).
pub(super) const MAX_ITEMS: usize = 4096;

/// One property of an item, as far as pixflow uses it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Property {
    /// `ispe`: the coded size.
    Size(u32, u32),
    /// `irot`: anticlockwise quarter turns, 0..=3.
    Rotation(u8),
    /// `imir`: 0 exchanges top and bottom, 1 left and right.
    Mirror(u8),
    /// `clap`: the clean aperture.
    CleanAperture(CleanAperture),
    /// `colr` of type `nclx`: coding-independent code points.
    Nclx(Nclx),
    /// `colr` of type `prof` or `rICC`: an ICC profile.
    Icc(Vec<u8>),
    /// `pixi`: bits per channel.
    BitsPerChannel(Vec<u8>),
    /// `auxC`: what an auxiliary image is (alpha, depth, …).
    Auxiliary(String),
    /// `av1C`: bit depth and monochrome from the AV1 configuration.
    Av1Config { bit_depth: u8, monochrome: bool },
    /// `hvcC`: the HEVC configuration record, whole.
    HevcConfig(Vec<u8>),
    /// Any other property, by type.
    Other([u8; 4]),
}

/// Colour code points (ITU-T H.273).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Nclx {
    /// Colour primaries (1 BT.709, 9 BT.2020, 12 Display P3, 2 unspecified).
    pub(super) primaries: u16,
    /// Transfer characteristics (13 sRGB, 16 PQ, 18 HLG, …).
    pub(super) transfer: u16,
    /// Matrix coefficients (0 identity/GBR, 1 BT.709, 6 BT.601, 9 BT.2020 NCL, …).
    pub(super) matrix: u16,
    /// Whether luma and chroma use the full sample range.
    pub(super) full_range: bool,
}

/// The `clap` box: a centred rectangle of `width` × `height` moved by the offsets (fractions).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct CleanAperture {
    /// Width, numerator and denominator.
    pub(super) width: (u32, u32),
    /// Height.
    pub(super) height: (u32, u32),
    /// Horizontal offset of the centre.
    pub(super) horizontal_offset: (i32, u32),
    /// Vertical offset of the centre.
    pub(super) vertical_offset: (i32, u32),
}

impl CleanAperture {
    /// The crop rectangle `(x, y, w, h)` in an image of `image_w` × `image_h`, when it is a whole
    /// number of pixels inside the image (MIAF requires that; anything else is ignored, as
    /// libavif does).
    pub(super) fn rect(&self, image_w: u32, image_h: u32) -> Option<(u32, u32, u32, u32)> {
        let whole = |(n, d): (u32, u32)| (d != 0 && n % d == 0).then(|| n / d);
        let (w, h) = (whole(self.width)?, whole(self.height)?);
        // Centre offset from the image centre: x0 = (image_w - w)/2 + offset.
        let offset = |(n, d): (i32, u32), image: u32, size: u32| -> Option<u32> {
            if d == 0 {
                return None;
            }
            // x0 = offset + (image - size) / 2, which must be a whole number of pixels.
            let twice_d = 2 * i64::from(d);
            let exact = (i64::from(image) - i64::from(size)) * i64::from(d) + 2 * i64::from(n);
            (exact >= 0 && exact % twice_d == 0).then(|| u32::try_from(exact / twice_d).ok()).flatten()
        };
        let (x, y) = (offset(self.horizontal_offset, image_w, w)?, offset(self.vertical_offset, image_h, h)?);
        (w > 0 && h > 0 && x.checked_add(w)? <= image_w && y.checked_add(h)? <= image_h)
            .then_some((x, y, w, h))
    }
}

/// An item: its id, type (`av01`, `hvc1`, `grid`, `Exif`, …) and where its bytes are.
#[derive(Debug, Clone)]
struct Item {
    id: u32,
    kind: [u8; 4],
    extents: Vec<(u64, u64)>,
    /// 0: offsets into the file; 1: into the `idat` box.
    construction: u8,
}

/// A parsed HEIF file, borrowing the bytes.
#[derive(Debug)]
pub(super) struct Heif<'a> {
    bytes: &'a [u8],
    /// The `ftyp` major brand.
    pub(super) brand: [u8; 4],
    primary: u32,
    items: Vec<Item>,
    idat: &'a [u8],
    /// (from, type, to): item references.
    references: Vec<(u32, [u8; 4], Vec<u32>)>,
    properties: Vec<Property>,
    /// (item, 1-based property indices).
    associations: Vec<(u32, Vec<u16>)>,
}

/// A grid's layout (`ImageGrid`, HEIF § 6.6.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Grid {
    /// Tile rows.
    pub(super) rows: u32,
    /// Tile columns.
    pub(super) columns: u32,
    /// The canvas the tiles are cut to.
    pub(super) width: u32,
    /// Canvas height.
    pub(super) height: u32,
}

impl<'a> Heif<'a> {
    /// Parses the boxes (no coded data is touched).
    pub(super) fn parse(bytes: &'a [u8]) -> Result<Heif<'a>, TransformError> {
        let mut heif = Heif {
            bytes,
            brand: [0; 4],
            primary: 0,
            items: Vec::new(),
            idat: &[],
            references: Vec::new(),
            properties: Vec::new(),
            associations: Vec::new(),
        };
        let mut saw_meta = false;
        // At the top level a box cut short (a truncated `mdat`) ends the list: the boxes before
        // it still say what the picture is, and decoding finds the missing data.
        for (kind, body) in boxes_until_cut(bytes) {
            match &kind {
                b"ftyp" => heif.brand = Cursor::new(body).fourcc()?,
                b"meta" if !saw_meta => {
                    saw_meta = true;
                    heif.meta(full_box(body)?.2)?;
                }
                _ => {}
            }
        }
        if !saw_meta {
            return Err(corrupt("no meta box"));
        }
        Ok(heif)
    }

    fn meta(&mut self, body: &'a [u8]) -> Result<(), TransformError> {
        for (kind, body) in boxes(body)? {
            match &kind {
                b"pitm" => {
                    let (version, _, rest) = full_box(body)?;
                    self.primary = Cursor::new(rest).id(version)?;
                }
                b"iinf" => self.iinf(body)?,
                b"iloc" => self.iloc(body)?,
                b"idat" => self.idat = body,
                b"iref" => self.iref(body)?,
                b"iprp" => self.iprp(body)?,
                _ => {}
            }
        }
        Ok(())
    }

    fn iinf(&mut self, body: &[u8]) -> Result<(), TransformError> {
        let (version, _, rest) = full_box(body)?;
        let mut c = Cursor::new(rest);
        if version == 0 {
            c.u16()?;
        } else {
            c.u32()?;
        }
        for (kind, body) in boxes(c.rest())? {
            if &kind != b"infe" {
                continue;
            }
            let (version, _, rest) = full_box(body)?;
            if version < 2 {
                continue; // no item type before version 2
            }
            let mut c = Cursor::new(rest);
            let id = if version == 2 { u32::from(c.u16()?) } else { c.u32()? };
            c.u16()?; // protection index
            let kind = c.fourcc()?;
            match self.items.iter_mut().find(|i| i.id == id) {
                Some(item) => item.kind = kind,
                None => self.push_item(Item { id, kind, extents: Vec::new(), construction: 0 })?,
            }
        }
        Ok(())
    }

    fn push_item(&mut self, item: Item) -> Result<(), TransformError> {
        if self.items.len() >= MAX_ITEMS {
            return Err(corrupt("more items than any image holds"));
        }
        self.items.push(item);
        Ok(())
    }

    fn iloc(&mut self, body: &[u8]) -> Result<(), TransformError> {
        let (version, _, rest) = full_box(body)?;
        let mut c = Cursor::new(rest);
        let sizes = c.u16()?;
        let (offset_size, length_size) = ((sizes >> 12) as u8, ((sizes >> 8) & 15) as u8);
        let (base_size, index_size) = (((sizes >> 4) & 15) as u8, (sizes & 15) as u8);
        let count = if version < 2 { u32::from(c.u16()?) } else { c.u32()? };
        for _ in 0..count {
            let id = if version < 2 { u32::from(c.u16()?) } else { c.u32()? };
            let construction = if version >= 1 { (c.u16()? & 15) as u8 } else { 0 };
            c.u16()?; // data reference index
            let base = c.sized(base_size)?;
            let extent_count = c.u16()?;
            let mut extents = Vec::new();
            for _ in 0..extent_count {
                if version >= 1 {
                    c.sized(index_size)?;
                }
                let offset = base.checked_add(c.sized(offset_size)?).ok_or_else(|| corrupt("iloc offset"))?;
                extents.push((offset, c.sized(length_size)?));
            }
            match self.items.iter_mut().find(|i| i.id == id) {
                Some(item) => (item.extents, item.construction) = (extents, construction),
                None => self.push_item(Item { id, kind: [0; 4], extents, construction })?,
            }
        }
        Ok(())
    }

    fn iref(&mut self, body: &[u8]) -> Result<(), TransformError> {
        let (version, _, rest) = full_box(body)?;
        for (kind, body) in boxes(rest)? {
            let mut c = Cursor::new(body);
            let from = c.id(version)?;
            let count = c.u16()?;
            let to = (0..count).map(|_| c.id(version)).collect::<Result<Vec<_>, _>>()?;
            self.references.push((from, kind, to));
        }
        Ok(())
    }

    fn iprp(&mut self, body: &[u8]) -> Result<(), TransformError> {
        for (kind, body) in boxes(body)? {
            match &kind {
                b"ipco" => {
                    for (kind, body) in boxes(body)? {
                        self.properties.push(property(kind, body)?);
                    }
                }
                b"ipma" => {
                    let (version, flags, rest) = full_box(body)?;
                    let mut c = Cursor::new(rest);
                    for _ in 0..c.u32()? {
                        let id = c.id(u8::from(version >= 1))?;
                        let n = c.u8()?;
                        let mut indices = Vec::with_capacity(usize::from(n));
                        for _ in 0..n {
                            let index =
                                if flags & 1 == 1 { c.u16()? & 0x7FFF } else { u16::from(c.u8()? & 0x7F) };
                            indices.push(index);
                        }
                        self.associations.push((id, indices));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn item(&self, id: u32) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }

    /// The primary item's size as shown: its `ispe` (a grid's canvas) cut by a whole-pixel
    /// `clap` and turned by `irot`. What `f_json` states for HEIF-family files.
    pub(super) fn shown_size(&self) -> Option<(u32, u32)> {
        let id = self.primary;
        let coded = self.coded_size(id).or_else(|_| self.ispe(id)).ok()?;
        let (w, h) = self.clean_aperture(id, coded).map_or(coded, |(_, _, w, h)| (w, h));
        Some(if self.rotation(id) & 1 == 1 { (h, w) } else { (w, h) })
    }

    /// An item's `ispe` size.
    pub(super) fn ispe(&self, id: u32) -> Result<(u32, u32), TransformError> {
        self.find(id, |p| match p {
            Property::Size(w, h) => Some((*w, *h)),
            _ => None,
        })
        .ok_or_else(|| corrupt("an image has no ispe (size)"))
    }

    /// An item's coded size: a grid's canvas, else its `ispe`.
    pub(super) fn coded_size(&self, id: u32) -> Result<(u32, u32), TransformError> {
        if self.kind(id) == Some(*b"grid") {
            let (grid, _) = self.grid(id)?;
            return Ok((grid.width, grid.height));
        }
        self.ispe(id)
    }

    /// An item's clean-aperture rectangle `(x, y, w, h)` in its `coded` size, when it has a
    /// usable one ([`CleanAperture::rect`]).
    pub(super) fn clean_aperture(&self, id: u32, coded: (u32, u32)) -> Option<(u32, u32, u32, u32)> {
        self.find(id, |p| match p {
            Property::CleanAperture(c) => Some(*c),
            _ => None,
        })
        .and_then(|c| c.rect(coded.0, coded.1))
    }

    /// An item's `irot`: anticlockwise quarter turns, 0 when absent.
    pub(super) fn rotation(&self, id: u32) -> u8 {
        self.find(id, |p| match p {
            Property::Rotation(r) => Some(*r),
            _ => None,
        })
        .unwrap_or(0)
    }

    /// An item's `imir` mode, when it has one.
    pub(super) fn mirror(&self, id: u32) -> Option<u8> {
        self.find(id, |p| match p {
            Property::Mirror(m) => Some(*m),
            _ => None,
        })
    }

    /// The primary item's id.
    pub(super) fn primary(&self) -> u32 {
        self.primary
    }

    /// An item's type.
    pub(super) fn kind(&self, id: u32) -> Option<[u8; 4]> {
        self.item(id).map(|i| i.kind)
    }

    /// An item's properties, in association order.
    pub(super) fn properties(&self, id: u32) -> impl Iterator<Item = &Property> {
        self.associations
            .iter()
            .filter(move |(item, _)| *item == id)
            .flat_map(|(_, indices)| indices.iter())
            .filter_map(|&i| usize::from(i).checked_sub(1).and_then(|i| self.properties.get(i)))
    }

    /// The first property of an item that `pick` accepts.
    pub(super) fn find<T>(&self, id: u32, pick: impl Fn(&Property) -> Option<T>) -> Option<T> {
        self.properties(id).find_map(pick)
    }

    /// The items that `reference` from `from` points to, in order.
    pub(super) fn references_from(&self, from: u32, reference: &[u8; 4]) -> Vec<u32> {
        self.references
            .iter()
            .filter(|(f, k, _)| *f == from && k == reference)
            .flat_map(|(_, _, to)| to.iter().copied())
            .collect()
    }

    /// The items that point to `to` with `reference`.
    pub(super) fn references_to(&self, to: u32, reference: &[u8; 4]) -> Vec<u32> {
        self.references
            .iter()
            .filter(|(_, k, t)| k == reference && t.contains(&to))
            .map(|(f, _, _)| *f)
            .collect()
    }

    /// The auxiliary item that holds `id`'s alpha channel.
    pub(super) fn alpha_of(&self, id: u32) -> Option<u32> {
        const ALPHA: [&str; 2] =
            ["urn:mpeg:mpegB:cicp:systems:auxiliary:alpha", "urn:mpeg:hevc:2015:auxid:1"];
        self.references_to(id, b"auxl").into_iter().find(|&aux| {
            self.find(aux, |p| match p {
                Property::Auxiliary(kind) => Some(ALPHA.contains(&kind.as_str())),
                _ => None,
            }) == Some(true)
        })
    }

    /// An item's coded bytes: its extents joined (one extent, the common case, is borrowed).
    pub(super) fn data(&self, id: u32) -> Result<std::borrow::Cow<'a, [u8]>, TransformError> {
        let item = self.item(id).ok_or_else(|| corrupt("a referenced item is missing"))?;
        let store = match item.construction {
            0 => self.bytes,
            1 => self.idat,
            _ => {
                return Err(TransformError::Unsupported(
                    "HEIF items built from other items are not read".into(),
                ))
            }
        };
        let slice = |&(offset, length): &(u64, u64)| -> Result<&'a [u8], TransformError> {
            let start = usize::try_from(offset).map_err(|_| corrupt("item offset"))?;
            let end = if length == 0 {
                store.len()
            } else {
                start.saturating_add(usize::try_from(length).map_err(|_| corrupt("item length"))?)
            };
            store.get(start..end).ok_or_else(|| corrupt("an item lies beyond the end of the file"))
        };
        match item.extents.as_slice() {
            [one] => Ok(std::borrow::Cow::Borrowed(slice(one)?)),
            [] => Err(corrupt("an item has no data")),
            many => {
                let mut joined = Vec::new();
                for extent in many {
                    joined.extend_from_slice(slice(extent)?);
                }
                Ok(std::borrow::Cow::Owned(joined))
            }
        }
    }

    /// A `grid` item's layout and its tiles, checked: as many tile references as rows × columns.
    pub(super) fn grid(&self, id: u32) -> Result<(Grid, Vec<u32>), TransformError> {
        let data = self.data(id)?;
        let mut c = Cursor::new(&data);
        c.u8()?; // version
        let flags = c.u8()?;
        let (rows, columns) = (u32::from(c.u8()?) + 1, u32::from(c.u8()?) + 1);
        let (width, height) =
            if flags & 1 == 0 { (u32::from(c.u16()?), u32::from(c.u16()?)) } else { (c.u32()?, c.u32()?) };
        let tiles = self.references_from(id, b"dimg");
        if tiles.len() != (rows * columns) as usize {
            return Err(corrupt("a grid's tile count does not match its rows and columns"));
        }
        Ok((Grid { rows, columns, width, height }, tiles))
    }
}

fn corrupt(what: &str) -> TransformError {
    TransformError::Corrupt(format!("HEIF container: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clap(w: u32, h: u32, x: (i32, u32), y: (i32, u32)) -> CleanAperture {
        CleanAperture { width: (w, 1), height: (h, 1), horizontal_offset: x, vertical_offset: y }
    }

    #[test]
    fn clean_aperture_is_centred_then_moved() {
        // 100×80 centred in 120×100: origin (10, 10).
        assert_eq!(clap(100, 80, (0, 1), (0, 1)).rect(120, 100), Some((10, 10, 100, 80)));
        // Moved by (-10, +10): origin (0, 20).
        assert_eq!(clap(100, 80, (-10, 1), (10, 1)).rect(120, 100), Some((0, 20, 100, 80)));
        // Half-pixel origin (odd difference, no offset) is not a whole rectangle: ignored.
        assert_eq!(clap(99, 80, (0, 1), (0, 1)).rect(120, 100), None);
        // Outside the image: ignored.
        assert_eq!(clap(100, 80, (20, 1), (0, 1)).rect(120, 100), None);
    }

    #[test]
    fn a_box_longer_than_its_parent_is_corrupt() {
        let mut bytes = 100u32.to_be_bytes().to_vec();
        bytes.extend_from_slice(b"meta");
        assert!(matches!(Heif::parse(&bytes), Err(TransformError::Corrupt(_))));
        assert!(matches!(Heif::parse(b""), Err(TransformError::Corrupt(_))));
    }
}
