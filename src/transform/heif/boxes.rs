//! The byte level of the HEIF reader: boxes (cut short is corrupt, except at the top level),
//! full-box headers, big-endian reads that fail rather than panic past the end, and the item
//! properties pixflow uses, parsed from their boxes.

use super::{corrupt, CleanAperture, Nclx, Property, MAX_ITEMS};
use crate::transform::TransformError;

pub(super) fn property(kind: [u8; 4], body: &[u8]) -> Result<Property, TransformError> {
    let mut c = Cursor::new(body);
    Ok(match &kind {
        b"ispe" => {
            c.u32()?;
            Property::Size(c.u32()?, c.u32()?)
        }
        b"irot" => Property::Rotation(c.u8()? & 3),
        b"imir" => Property::Mirror(c.u8()? & 1),
        b"clap" => {
            let mut fraction = || -> Result<(u32, u32), TransformError> { Ok((c.u32()?, c.u32()?)) };
            let (width, height, h, v) = (fraction()?, fraction()?, fraction()?, fraction()?);
            Property::CleanAperture(CleanAperture {
                width,
                height,
                horizontal_offset: (h.0 as i32, h.1),
                vertical_offset: (v.0 as i32, v.1),
            })
        }
        b"colr" => match &c.fourcc()? {
            b"nclx" => Property::Nclx(Nclx {
                primaries: c.u16()?,
                transfer: c.u16()?,
                matrix: c.u16()?,
                full_range: c.u8()? & 0x80 != 0,
            }),
            b"prof" | b"rICC" => Property::Icc(c.rest().to_vec()),
            _ => Property::Other(kind),
        },
        b"pixi" => {
            c.u32()?;
            let n = c.u8()?;
            Property::BitsPerChannel((0..n).map(|_| c.u8()).collect::<Result<_, _>>()?)
        }
        b"auxC" => {
            c.u32()?;
            let rest = c.rest();
            let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            Property::Auxiliary(String::from_utf8_lossy(&rest[..end]).into_owned())
        }
        b"av1C" => {
            c.u8()?;
            c.u8()?;
            let b = c.u8()?;
            let (high, twelve, mono) = (b & 0x40 != 0, b & 0x20 != 0, b & 0x10 != 0);
            Property::Av1Config {
                bit_depth: if twelve {
                    12
                } else if high {
                    10
                } else {
                    8
                },
                monochrome: mono,
            }
        }
        b"hvcC" => Property::HevcConfig(body.to_vec()),
        _ => Property::Other(kind),
    })
}

/// Boxes as (type, body).
type Boxes<'a> = Vec<([u8; 4], &'a [u8])>;

/// The boxes in `bytes`, in order, as (type, body); one that runs past its parent is corrupt.
pub(super) fn boxes(bytes: &[u8]) -> Result<Boxes<'_>, TransformError> {
    let mut c = Cursor::new(bytes);
    let mut out = Vec::new();
    while !c.rest().is_empty() {
        out.push(next_box(&mut c)?);
        if out.len() > 4 * MAX_ITEMS {
            return Err(corrupt("more boxes than any image holds"));
        }
    }
    Ok(out)
}

/// The boxes in `bytes` up to the first that is cut short.
pub(super) fn boxes_until_cut(bytes: &[u8]) -> Boxes<'_> {
    let mut c = Cursor::new(bytes);
    let mut out = Vec::new();
    while !c.rest().is_empty() && out.len() <= 4 * MAX_ITEMS {
        match next_box(&mut c) {
            Ok(b) => out.push(b),
            Err(_) => break,
        }
    }
    out
}

fn next_box<'a>(c: &mut Cursor<'a>) -> Result<([u8; 4], &'a [u8]), TransformError> {
    let start = c.position;
    let size = u64::from(c.u32()?);
    let kind = c.fourcc()?;
    let size = match size {
        0 => (c.bytes.len() - start) as u64,
        1 => c.u64()?,
        n => n,
    };
    let header = c.position - start;
    let end = usize::try_from(size).ok().and_then(|s| start.checked_add(s)).filter(|&e| e <= c.bytes.len());
    let end = end.filter(|&e| e >= start + header).ok_or_else(|| corrupt("a box runs past its parent"))?;
    let body = &c.bytes[c.position..end];
    c.position = end;
    Ok((kind, body))
}

/// A full box's version, flags and the rest.
pub(super) fn full_box(body: &[u8]) -> Result<(u8, u32, &[u8]), TransformError> {
    let mut c = Cursor::new(body);
    let word = c.u32()?;
    Ok(((word >> 24) as u8, word & 0xFF_FFFF, c.rest()))
}

/// Big-endian reads that fail, rather than panic, past the end.
pub(super) struct Cursor<'a> {
    bytes: &'a [u8],
    pub(super) position: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Cursor<'a> {
        Cursor { bytes, position: 0 }
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], TransformError> {
        let end = self.position.checked_add(N).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| corrupt("a box is cut short"))?;
        let mut out = [0; N];
        out.copy_from_slice(&self.bytes[self.position..end]);
        self.position = end;
        Ok(out)
    }

    pub(super) fn u8(&mut self) -> Result<u8, TransformError> {
        Ok(self.take::<1>()?[0])
    }

    pub(super) fn u16(&mut self) -> Result<u16, TransformError> {
        Ok(u16::from_be_bytes(self.take()?))
    }

    pub(super) fn u32(&mut self) -> Result<u32, TransformError> {
        Ok(u32::from_be_bytes(self.take()?))
    }

    pub(super) fn u64(&mut self) -> Result<u64, TransformError> {
        Ok(u64::from_be_bytes(self.take()?))
    }

    pub(super) fn fourcc(&mut self) -> Result<[u8; 4], TransformError> {
        self.take()
    }

    /// An item id: 16 bits in version 0 boxes, 32 after.
    pub(super) fn id(&mut self, version: u8) -> Result<u32, TransformError> {
        if version == 0 {
            Ok(u32::from(self.u16()?))
        } else {
            self.u32()
        }
    }

    /// An unsigned number of 0, 4 or 8 bytes (`iloc` field sizes).
    pub(super) fn sized(&mut self, size: u8) -> Result<u64, TransformError> {
        match size {
            0 => Ok(0),
            4 => Ok(u64::from(self.u32()?)),
            8 => self.u64(),
            _ => Err(corrupt("an iloc field size other than 0, 4 or 8")),
        }
    }

    pub(super) fn rest(&self) -> &'a [u8] {
        &self.bytes[self.position.min(self.bytes.len())..]
    }
}
