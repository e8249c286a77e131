//! Entropy-decoding of the scans the 1/8-scale decode needs: every DC scan (first pass and
//! refinements, interleaved or not) and the first AC pass of 2×2-subsampled chroma.

use super::bits::Bits;
use super::huffman::Huffman;
use super::markers::skip_entropy;
use super::Frame;

/// Decodes (DC, and the first AC pass of subsampled chroma) or skips (other AC) one scan whose
/// entropy data starts at `start`; returns where the next marker begins.
pub(super) fn scan(
    bytes: &[u8],
    start: usize,
    header: &[u8],
    frame: &mut Frame,
    quant: &[Option<[u16; 5]>; 4],
    tables: &[Option<Huffman>; 8],
    restart_interval: usize,
) -> Option<usize> {
    let n = usize::from(*header.first()?);
    let spectral = header.get(1 + 2 * n..4 + 2 * n)?;
    let (ss, se, ah, al) = (spectral[0], spectral[1], spectral[2] >> 4, u32::from(spectral[2] & 15));
    if ss != 0 {
        // An AC scan: the first pass of subsampled chroma is decoded, every other one skipped.
        if n == 1 && ss == 1 && se >= 4 && ah == 0 && al <= 13 {
            let id = *header.get(1)?;
            let table = usize::from(header.get(2)? & 15);
            let index = frame.components.iter().position(|c| c.id == id)?;
            let c = &frame.components[index];
            if c.h * 2 == frame.hmax && c.v * 2 == frame.vmax && c.low_ac.is_empty() {
                let q = quant[c.table]?;
                let huffman = tables.get(4 + table)?.as_ref()?;
                let end = low_ac_scan(bytes, start, frame, index, huffman, (se, al), q, restart_interval)?;
                return skip_entropy(bytes, end);
            }
        }
        return skip_entropy(bytes, start);
    }
    if n == 0 || n > frame.components.len() || al > 13 {
        return None;
    }
    let members = dc_members(header, n, ah, frame, quant, tables)?;
    let mut bits = Bits { data: bytes, pos: start, acc: 0, count: 0, at_marker: false };
    // A scan of one component codes its blocks one by one; an interleaved scan codes MCUs.
    let layout: Vec<(usize, usize, usize)> = members
        .iter()
        .map(|&(index, _)| {
            let c = &frame.components[index];
            (c.h, c.v, c.blocks_w)
        })
        .collect();
    let (units_x, units_y) =
        if n == 1 { frame.components[members[0].0].used_blocks(frame) } else { frame.mcus() };
    let mut pred = [0i32; 3];
    let mut block = |bits: &mut Bits<'_>, pred: &mut [i32; 3], k: usize, at: usize| -> Option<()> {
        let (index, table) = members[k];
        let dc = frame.components[index].dc.get_mut(at)?;
        if ah == 0 {
            let size = tables[table].as_ref()?.decode(bits)?;
            pred[k] = pred[k].wrapping_add(bits.extend(size)?);
            *dc = pred[k].wrapping_shl(al);
        } else if bits.bit() {
            *dc |= 1 << al;
        }
        Some(())
    };
    for_each_unit(&mut bits, (units_x, units_y), restart_interval, |bits, x, y, restarted| {
        if restarted {
            pred = [0; 3];
        }
        if n == 1 {
            return block(bits, &mut pred, 0, y * layout[0].2 + x);
        }
        for (k, &(h, v, stride)) in layout.iter().enumerate() {
            for dy in 0..v {
                for dx in 0..h {
                    block(bits, &mut pred, k, (y * v + dy) * stride + x * h + dx)?;
                }
            }
        }
        Some(())
    })?;
    skip_entropy(bytes, bits.pos.min(bytes.len()))
}

/// The first AC pass (band 1..=`se`, point transform `al`) of one 2×2-subsampled component:
/// decodes every coefficient to walk the stream, keeps zigzag 1, 2 and 4 dequantised; returns
/// where the entropy data stopped.
#[allow(clippy::too_many_arguments)]
fn low_ac_scan(
    bytes: &[u8],
    start: usize,
    frame: &mut Frame,
    index: usize,
    huffman: &Huffman,
    (se, al): (u8, u32),
    q: [u16; 5],
    restart_interval: usize,
) -> Option<usize> {
    let (bw, bh) = frame.components[index].used_blocks(frame);
    let c = &mut frame.components[index];
    let mut low = vec![[0i32; 3]; c.blocks_w * c.blocks_h];
    let mut bits = Bits { data: bytes, pos: start, acc: 0, count: 0, at_marker: false };
    let mut eobrun = 0u32;
    for_each_unit(&mut bits, (bw, bh), restart_interval, |bits, x, y, restarted| {
        if restarted {
            eobrun = 0;
        }
        if eobrun > 0 {
            eobrun -= 1;
            return Some(());
        }
        let out = &mut low[y * c.blocks_w + x];
        let mut k = 1u32;
        while k <= u32::from(se) {
            let rs = huffman.decode(bits)?;
            let (r, size) = (u32::from(rs >> 4), rs & 15);
            if size == 0 {
                if r < 15 {
                    eobrun = (1 << r) - 1;
                    if r > 0 {
                        eobrun += bits.extend_raw(r)?;
                    }
                    break;
                }
                k += 16; // ZRL: sixteen zeros
                continue;
            }
            k += r;
            // The refinement scans that carry the low `al` bits are skipped: reconstruct
            // at the middle of the interval the truncated value stands for.
            let v = bits.extend(size)?;
            let half = (1i32 << al) >> 1;
            let v = v.wrapping_shl(al).saturating_add(if v > 0 { half } else { -half });
            match k {
                1 => out[0] = v.saturating_mul(i32::from(q[1])),
                2 => out[1] = v.saturating_mul(i32::from(q[2])),
                4 => out[2] = v.saturating_mul(i32::from(q[4])),
                _ => {}
            }
            k += 1;
        }
        Some(())
    })?;
    c.low_ac = low;
    Some(bits.pos.min(bytes.len()))
}

/// The components of a DC scan (index, DC table), with each first pass's quantiser recorded.
fn dc_members(
    header: &[u8],
    n: usize,
    ah: u8,
    frame: &mut Frame,
    quant: &[Option<[u16; 5]>; 4],
    tables: &[Option<Huffman>; 8],
) -> Option<Vec<(usize, usize)>> {
    let mut members = Vec::with_capacity(n);
    for k in 0..n {
        let id = *header.get(1 + 2 * k)?;
        let index = frame.components.iter().position(|c| c.id == id)?;
        let table = usize::from(header.get(2 + 2 * k)? >> 4);
        let c = &mut frame.components[index];
        if ah == 0 {
            tables.get(table)?.as_ref()?;
            c.quant = Some(quant[c.table]?[0]);
        } else if c.quant.is_none() {
            return None; // a refinement before the first pass
        }
        members.push((index, table));
    }
    Some(members)
}

/// Visits `units` (columns, rows) coding units in order with the restart interval: before every
/// `restart_interval`-th unit the reader resynchronises at its RST marker, and `unit` is told so
/// (`restarted`) to reset its predictions.
fn for_each_unit(
    bits: &mut Bits<'_>,
    (units_x, units_y): (usize, usize),
    restart_interval: usize,
    mut unit: impl FnMut(&mut Bits<'_>, usize, usize, bool) -> Option<()>,
) -> Option<()> {
    for y in 0..units_y {
        for x in 0..units_x {
            let n = y * units_x + x;
            let restarted = restart_interval > 0 && n > 0 && n % restart_interval == 0;
            if restarted {
                bits.restart()?;
            }
            unit(bits, x, y, restarted)?;
        }
    }
    Some(())
}
