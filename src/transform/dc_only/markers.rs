//! The marker walk: SOI to EOI, frame, quantisation and Huffman tables, restart interval;
//! DC scans go to `scans`, AC scans are skipped by finding their end marker.

use super::huffman::Huffman;
use super::scans::scan;
use super::{Component, Frame};

/// Walks the file from SOI to EOI, decoding DC scans and skipping AC scans.
pub(super) fn walk(bytes: &[u8]) -> Option<Frame> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut frame: Option<Frame> = None;
    let mut quant = [None::<[u16; 5]>; 4];
    // DC tables 0..4, AC tables 4..8.
    let mut tables: [Option<Huffman>; 8] = Default::default();
    let mut restart_interval = 0usize;
    let mut adobe_rgb = false;
    let mut i = 2;
    loop {
        while bytes.get(i) == Some(&0xFF) && bytes.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        if *bytes.get(i)? != 0xFF {
            return None;
        }
        let marker = *bytes.get(i + 1)?;
        if marker == 0xD9 {
            break;
        }
        if (0xD0..=0xD7).contains(&marker) || marker == 0x01 {
            i += 2;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([*bytes.get(i + 2)?, *bytes.get(i + 3)?]));
        let body = bytes.get(i + 4..(i + 2 + len).max(i + 4))?;
        let next = i + 2 + len;
        match marker {
            // One frame only: a second could claim a size the header check never saw.
            0xC2 if frame.is_none() => frame = Some(parse_frame(body)?),
            0xC2 => return None,
            // Baseline, extended, lossless, hierarchical or arithmetic-coded: not ours.
            0xC0 | 0xC1 | 0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF | 0xDC => return None,
            0xC4 => parse_huffman(body, &mut tables)?,
            0xDB => parse_quant(body, &mut quant)?,
            0xDD => restart_interval = usize::from(u16::from_be_bytes([*body.first()?, *body.get(1)?])),
            0xEE if body.starts_with(b"Adobe") => adobe_rgb = body.get(11) == Some(&0),
            0xDA => {
                let f = frame.as_mut()?;
                i = scan(bytes, next, body, f, &quant, &tables, restart_interval)?;
                continue;
            }
            _ => {}
        }
        i = next;
    }
    let frame = frame?;
    let ids: Vec<u8> = frame.components.iter().map(|c| c.id).collect();
    if frame.components.len() == 3 && (adobe_rgb || ids == b"RGB") {
        return None;
    }
    // Every component needs its first DC scan; a file without them is left to libjpeg-turbo.
    frame.components.iter().all(|c| c.quant.is_some()).then_some(frame)
}

fn parse_frame(body: &[u8]) -> Option<Frame> {
    let (precision, n) = (*body.first()?, usize::from(*body.get(5)?));
    let height = usize::from(u16::from_be_bytes([body[1], body[2]]));
    let width = usize::from(u16::from_be_bytes([body[3], body[4]]));
    if precision != 8 || !(n == 1 || n == 3) || width == 0 || height == 0 {
        return None;
    }
    let mut components = Vec::with_capacity(n);
    for k in 0..n {
        let c = body.get(6 + 3 * k..9 + 3 * k)?;
        let (h, v) = (usize::from(c[1] >> 4), usize::from(c[1] & 15));
        if !(1..=4).contains(&h) || !(1..=4).contains(&v) || c[2] > 3 {
            return None;
        }
        components.push(Component {
            id: c[0],
            h,
            v,
            table: usize::from(c[2]),
            quant: None,
            low_ac: Vec::new(),
            blocks_w: 0,
            blocks_h: 0,
            dc: Vec::new(),
        });
    }
    let hmax = components.iter().map(|c| c.h).max()?;
    let vmax = components.iter().map(|c| c.v).max()?;
    if components.iter().any(|c| hmax % c.h != 0 || vmax % c.v != 0) {
        return None;
    }
    let mut frame = Frame { width, height, hmax, vmax, components: Vec::new() };
    let (mx, my) = frame.mcus();
    for c in &mut components {
        (c.blocks_w, c.blocks_h) = (mx * c.h, my * c.v);
        c.dc = vec![0; c.blocks_w * c.blocks_h];
    }
    frame.components = components;
    Some(frame)
}

fn parse_quant(mut body: &[u8], quant: &mut [Option<[u16; 5]>; 4]) -> Option<()> {
    while let Some(&pq_tq) = body.first() {
        let (wide, id) = (pq_tq >> 4 == 1, usize::from(pq_tq & 15));
        let entry = |k: usize| -> Option<u16> {
            Some(if wide {
                u16::from_be_bytes([*body.get(1 + 2 * k)?, *body.get(2 + 2 * k)?])
            } else {
                u16::from(*body.get(1 + k)?)
            })
        };
        *quant.get_mut(id)? = Some([entry(0)?, entry(1)?, entry(2)?, entry(3)?, entry(4)?]);
        body = body.get(if wide { 129 } else { 65 }..)?;
    }
    Some(())
}

fn parse_huffman(mut body: &[u8], tables: &mut [Option<Huffman>; 8]) -> Option<()> {
    while let Some(&tc_th) = body.first() {
        let counts: [u8; 16] = body.get(1..17)?.try_into().ok()?;
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        let values = body.get(17..17 + total)?;
        let (class, id) = (usize::from(tc_th >> 4), usize::from(tc_th & 15));
        if class > 1 || id > 3 {
            return None;
        }
        tables[class * 4 + id] = Some(Huffman::new(&counts, values)?);
        body = &body[17 + total..];
    }
    Some(())
}

/// The position of the first marker at or after `from` that is not a restart or stuffed byte.
pub(super) fn skip_entropy(bytes: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let ff = from + memchr::memchr(0xFF, bytes.get(from..)?)?;
        match *bytes.get(ff + 1)? {
            0x00 | 0xD0..=0xD7 | 0xFF => from = ff + 1,
            _ => return Some(ff),
        }
    }
}
