//! Past libjpeg-turbo's floor: the 1/8-scale decode of a progressive JPEG from its DC scans only.
//!
//! At 1/8 scale every 8×8 block becomes one pixel whose value is the block's DC coefficient (its
//! mean), exactly what libjpeg's 1×1 IDCT computes. A progressive file stores the DC coefficients
//! in their own small scans, first, so this walks the markers, entropy-decodes the DC scans
//! (first pass and successive-approximation refinements, interleaved or not, with restart
//! intervals) and skips every AC scan by looking for its end marker instead of decoding it —
//! libjpeg-turbo entropy-decodes all of them even when the 1×1 IDCT ignores the result.
//!
//! For 4:2:0 chroma, whose blocks cover 16×16 pixels, the first AC pass of each chroma component
//! (a small scan) is decoded too, keeping the three lowest coefficients so each block gives the
//! means of its four quarters — chroma at the luma plane's resolution, as libjpeg-turbo's 2×2 IDCT
//! gives it. Other chroma is upsampled by centred linear interpolation (libjpeg's "fancy"
//! upsampling for 2×). Colour is converted with the JFIF equations. Anything else — baseline or arithmetic-coded files, 12-bit
//! samples, CMYK or Adobe RGB, unusual sampling factors, data that ends before the EOI marker —
//! returns `None`, and the caller decodes with libjpeg-turbo as before.

use image::{DynamicImage, GrayImage, RgbImage};

/// Decodes `bytes` at 1/8 scale (`ceil(w/8)` × `ceil(h/8)`), luma only when `gray`; `None` when
/// the file is not a progressive JPEG this decoder covers.
pub fn decode(bytes: &[u8], gray: bool) -> Option<DynamicImage> {
    let frame = walk(bytes)?;
    let planes: Vec<Plane> = frame.components.iter().map(|c| c.plane(&frame)).collect();
    let (w, h) = (frame.width.div_ceil(8), frame.height.div_ceil(8));
    let ratio = |i: usize| {
        let (c, p) = (&frame.components[i], &planes[i]);
        ((frame.hmax / c.h / p.density).max(1), (frame.vmax / c.v / p.density).max(1))
    };
    let (rx, ry) = ratio(0);
    let luma = planes[0].upsample(w, h, rx, ry);
    if gray || planes.len() == 1 {
        let img = GrayImage::from_raw(w as u32, h as u32, luma)?;
        return Some(if gray {
            DynamicImage::ImageLuma8(img)
        } else {
            DynamicImage::ImageRgb8(to_rgb(&img))
        });
    }
    let up = |i: usize| {
        let (rx, ry) = ratio(i);
        planes[i].upsample(w, h, rx, ry)
    };
    let (cb, cr) = (up(1), up(2));
    let mut rgb = Vec::with_capacity(w * h * 3);
    for ((&y, &cb), &cr) in luma.iter().zip(&cb).zip(&cr) {
        let (y, cb, cr) = (f32::from(y), f32::from(cb) - 128.0, f32::from(cr) - 128.0);
        rgb.push(to_u8(y + 1.402 * cr));
        rgb.push(to_u8(y - 0.344_136 * cb - 0.714_136 * cr));
        rgb.push(to_u8(y + 1.772 * cb));
    }
    RgbImage::from_raw(w as u32, h as u32, rgb).map(DynamicImage::ImageRgb8)
}

fn to_u8(v: f32) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

fn to_rgb(gray: &GrayImage) -> RgbImage {
    RgbImage::from_fn(gray.width(), gray.height(), |x, y| {
        let l = gray.get_pixel(x, y).0[0];
        image::Rgb([l, l, l])
    })
}

/// One component's DC coefficients, one per block, in a grid padded to whole MCUs.
struct Component {
    id: u8,
    h: usize,
    v: usize,
    table: usize,
    /// The DC quantiser, latched at the component's first scan as libjpeg does.
    quant: Option<u16>,
    /// For 2×2-subsampled chroma: the three lowest AC coefficients of each block (horizontal,
    /// vertical, diagonal), dequantised, from the component's first AC scan. A 2×2 output per
    /// block then keeps chroma at the luma plane's resolution, as libjpeg-turbo's 2×2 IDCT does.
    low_ac: Vec<[i32; 3]>,
    blocks_w: usize,
    blocks_h: usize,
    dc: Vec<i32>,
}

struct Frame {
    width: usize,
    height: usize,
    hmax: usize,
    vmax: usize,
    components: Vec<Component>,
}

impl Frame {
    fn mcus(&self) -> (usize, usize) {
        (self.width.div_ceil(8 * self.hmax), self.height.div_ceil(8 * self.vmax))
    }
}

/// A component's samples at 1/8 scale (`density` samples per block on each axis).
struct Plane {
    width: usize,
    height: usize,
    density: usize,
    samples: Vec<u8>,
}

impl Component {
    /// The blocks that hold image data (a non-interleaved scan covers exactly these).
    fn used_blocks(&self, f: &Frame) -> (usize, usize) {
        ((f.width * self.h).div_ceil(f.hmax).div_ceil(8), (f.height * self.v).div_ceil(f.vmax).div_ceil(8))
    }

    /// libjpeg's 1×1 IDCT: the dequantised DC over 8, rounded, level-shifted and clamped; or, with
    /// the low AC coefficients, the mean of each quarter of the block.
    fn plane(&self, f: &Frame) -> Plane {
        let (width, height) = self.used_blocks(f);
        let q = i64::from(self.quant.unwrap_or(1));
        let dc = |c: i32| (i64::from(c) * q + 4) >> 3;
        if !self.low_ac.is_empty() {
            // Quarter means of the 8×8 DCT basis: A is the mean of cos((2x+1)π/16) over x = 0..3.
            const A: f32 = 0.640_728;
            let (k1, k2) = (A / (4.0 * std::f32::consts::SQRT_2), A * A / 4.0);
            let (cw, ch) = ((f.width * self.h).div_ceil(f.hmax), (f.height * self.v).div_ceil(f.vmax));
            let (pw, ph) = (cw.div_ceil(4), ch.div_ceil(4));
            let mut samples = Vec::with_capacity(pw * ph);
            for y in 0..ph {
                for x in 0..pw {
                    let b = (y / 2) * self.blocks_w + x / 2;
                    let [h, v, d] = self.low_ac[b].map(|c| c as f32);
                    let sx = if x % 2 == 0 { 1.0 } else { -1.0 };
                    let sy = if y % 2 == 0 { 1.0 } else { -1.0 };
                    let mean = dc(self.dc[b]) as f32 + 128.0 + k1 * (sx * h + sy * v) + k2 * sx * sy * d;
                    samples.push(to_u8(mean));
                }
            }
            return Plane { width: pw, height: ph, density: 2, samples };
        }
        let mut samples = Vec::with_capacity(width * height);
        for row in self.dc.chunks(self.blocks_w).take(height) {
            samples.extend(row[..width].iter().map(|&c| (dc(c) + 128).clamp(0, 255) as u8));
        }
        Plane { width, height, density: 1, samples }
    }
}

impl Plane {
    /// Upsamples by (`rx`, `ry`) to `w` × `h`, interpolating linearly between sample centres.
    fn upsample(&self, w: usize, h: usize, rx: usize, ry: usize) -> Vec<u8> {
        if rx == 1 && ry == 1 {
            let mut out = Vec::with_capacity(w * h);
            for y in 0..h {
                let row = &self.samples[y.min(self.height - 1) * self.width..][..self.width];
                out.extend((0..w).map(|x| row[x.min(self.width - 1)]));
            }
            return out;
        }
        let taps = |n: usize, r: usize, len: usize| -> Vec<(usize, usize, f32)> {
            (0..n)
                .map(|i| {
                    let s = ((i as f32 + 0.5) / r as f32 - 0.5).max(0.0);
                    let i0 = (s as usize).min(len - 1);
                    (i0, (i0 + 1).min(len - 1), s - i0 as f32)
                })
                .collect()
        };
        let (xs, ys) = (taps(w, rx, self.width), taps(h, ry, self.height));
        let mut out = Vec::with_capacity(w * h);
        for &(y0, y1, fy) in &ys {
            let (r0, r1) = (&self.samples[y0 * self.width..], &self.samples[y1 * self.width..]);
            for &(x0, x1, fx) in &xs {
                let top = f32::from(r0[x0]) * (1.0 - fx) + f32::from(r0[x1]) * fx;
                let bottom = f32::from(r1[x0]) * (1.0 - fx) + f32::from(r1[x1]) * fx;
                out.push(to_u8(top * (1.0 - fy) + bottom * fy));
            }
        }
        out
    }
}

/// Walks the file from SOI to EOI, decoding DC scans and skipping AC scans.
fn walk(bytes: &[u8]) -> Option<Frame> {
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

/// Decodes (DC, and the first AC pass of subsampled chroma) or skips (other AC) one scan whose
/// entropy data starts at `start`; returns where the next marker begins.
fn scan(
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
    let mut members = Vec::with_capacity(n);
    for k in 0..n {
        let id = *header.get(1 + 2 * k)?;
        let index = frame.components.iter().position(|c| c.id == id)?;
        let table = usize::from(header.get(2 + 2 * k)? >> 4);
        members.push((index, table));
    }
    for &(index, table) in &members {
        let c = &mut frame.components[index];
        if ah == 0 {
            tables.get(table)?.as_ref()?;
            c.quant = Some(quant[c.table]?[0]);
        } else if c.quant.is_none() {
            return None; // a refinement before the first pass
        }
    }
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
    for y in 0..units_y {
        for x in 0..units_x {
            let unit = y * units_x + x;
            if restart_interval > 0 && unit > 0 && unit % restart_interval == 0 {
                bits.restart()?;
                pred = [0; 3];
            }
            if n == 1 {
                block(&mut bits, &mut pred, 0, y * layout[0].2 + x)?;
                continue;
            }
            for (k, &(h, v, stride)) in layout.iter().enumerate() {
                for dy in 0..v {
                    for dx in 0..h {
                        block(&mut bits, &mut pred, k, (y * v + dy) * stride + x * h + dx)?;
                    }
                }
            }
        }
    }
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
    for y in 0..bh {
        for x in 0..bw {
            let unit = y * bw + x;
            if restart_interval > 0 && unit > 0 && unit % restart_interval == 0 {
                bits.restart()?;
                eobrun = 0;
            }
            if eobrun > 0 {
                eobrun -= 1;
                continue;
            }
            let out = &mut low[y * c.blocks_w + x];
            let mut k = 1u32;
            while k <= u32::from(se) {
                let rs = huffman.decode(&mut bits)?;
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
        }
    }
    c.low_ac = low;
    Some(bits.pos.min(bytes.len()))
}

/// The position of the first marker at or after `from` that is not a restart or stuffed byte.
fn skip_entropy(bytes: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let ff = from + memchr::memchr(0xFF, bytes.get(from..)?)?;
        match *bytes.get(ff + 1)? {
            0x00 | 0xD0..=0xD7 | 0xFF => from = ff + 1,
            _ => return Some(ff),
        }
    }
}

/// An MSB-first bit reader over entropy-coded data that unstuffs `FF 00` and stops at markers,
/// reading zeros past them as libjpeg does.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    acc: u64,
    count: u32,
    at_marker: bool,
}

impl Bits<'_> {
    fn fill(&mut self) {
        while self.count <= 56 {
            let mut byte = 0;
            if !self.at_marker {
                match self.data.get(self.pos) {
                    Some(0xFF) if self.data.get(self.pos + 1) == Some(&0) => {
                        byte = 0xFF;
                        self.pos += 2;
                    }
                    Some(0xFF) | None => self.at_marker = true,
                    Some(&b) => {
                        byte = b;
                        self.pos += 1;
                    }
                }
            }
            self.acc |= u64::from(byte) << (56 - self.count);
            self.count += 8;
        }
    }

    fn peek16(&mut self) -> u32 {
        self.fill();
        (self.acc >> 48) as u32
    }

    fn consume(&mut self, n: u32) {
        self.acc <<= n;
        self.count -= n;
    }

    fn bit(&mut self) -> bool {
        let b = self.peek16() >> 15 == 1;
        self.consume(1);
        b
    }

    /// The DC difference of magnitude category `size` (JPEG's RECEIVE and EXTEND).
    fn extend(&mut self, size: u8) -> Option<i32> {
        if size == 0 {
            return Some(0);
        }
        if size > 16 {
            return None;
        }
        self.fill();
        let n = u32::from(size);
        let v = (self.acc >> (64 - n)) as i32;
        self.consume(n);
        Some(if v < 1 << (n - 1) { v - (1 << n) + 1 } else { v })
    }

    /// `n` raw bits, as an unsigned number (EOB run lengths).
    fn extend_raw(&mut self, n: u32) -> Option<u32> {
        if n > 16 {
            return None;
        }
        self.fill();
        let v = (self.acc >> (64 - n)) as u32;
        self.consume(n);
        Some(v)
    }

    /// Drops the partial byte and steps over the RST marker that must come next.
    fn restart(&mut self) -> Option<()> {
        self.fill(); // runs up to the marker, so every data byte before it has been read
        if !self.at_marker || !(0xD0..=0xD7).contains(self.data.get(self.pos + 1)?) {
            return None;
        }
        self.pos += 2;
        (self.acc, self.count, self.at_marker) = (0, 0, false);
        Some(())
    }
}

/// A canonical Huffman table: a 9-bit lookup for short codes, JPEG's MAXCODE walk for the rest.
struct Huffman {
    /// `(length << 8) | symbol` for codes of at most 9 bits, 0 where none.
    fast: Vec<u16>,
    maxcode: [i32; 17],
    offset: [i32; 17],
    values: Vec<u8>,
}

impl Huffman {
    fn new(counts: &[u8; 16], values: &[u8]) -> Option<Huffman> {
        let mut fast = vec![0u16; 512];
        let (mut maxcode, mut offset) = ([-1i32; 17], [0i32; 17]);
        let (mut code, mut k) = (0i32, 0usize);
        for len in 1..=16usize {
            let count = usize::from(counts[len - 1]);
            offset[len] = k as i32 - code;
            for _ in 0..count {
                if code >= 1 << len {
                    return None; // over-subscribed
                }
                if len <= 9 {
                    let first = (code as usize) << (9 - len);
                    for e in &mut fast[first..first + (1 << (9 - len))] {
                        *e = ((len as u16) << 8) | u16::from(values[k]);
                    }
                }
                code += 1;
                k += 1;
            }
            if count > 0 {
                maxcode[len] = code - 1;
            }
            code <<= 1;
        }
        Some(Huffman { fast, maxcode, offset, values: values.to_vec() })
    }

    fn decode(&self, bits: &mut Bits<'_>) -> Option<u8> {
        let peek = bits.peek16();
        let e = self.fast[(peek >> 7) as usize];
        if e != 0 {
            bits.consume(u32::from(e >> 8));
            return Some(e as u8);
        }
        for len in 10..=16u32 {
            let code = (peek >> (16 - len)) as i32;
            if code <= self.maxcode[len as usize] {
                bits.consume(len);
                return self.values.get((code + self.offset[len as usize]) as usize).copied();
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progressive(img: &RgbImage, subsamp: turbojpeg::Subsamp, progressive: bool) -> Vec<u8> {
        let mut c = turbojpeg::Compressor::new().unwrap();
        c.set_quality(85).unwrap();
        c.set_subsamp(subsamp).unwrap();
        c.set_progressive(progressive).unwrap();
        let image = turbojpeg::Image {
            pixels: img.as_raw().as_slice(),
            width: img.width() as usize,
            pitch: img.width() as usize * 3,
            height: img.height() as usize,
            format: turbojpeg::PixelFormat::RGB,
        };
        c.compress_to_vec(image).unwrap()
    }

    fn scene(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let r = (x * 255 / w) as u8;
            let g = (y * 255 / h) as u8;
            let b = if (x / 37 + y / 23) % 2 == 0 { 40 } else { 200 };
            image::Rgb([r, g, b])
        })
    }

    fn smooth(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, ((x + y) * 127 / (w + h)) as u8])
        })
    }

    /// Largest and mean absolute difference.
    fn diff(a: &DynamicImage, b: &DynamicImage) -> (u8, f64) {
        assert_eq!((a.width(), a.height(), a.color()), (b.width(), b.height(), b.color()));
        let (a, b) = (a.as_bytes(), b.as_bytes());
        let max = a.iter().zip(b).map(|(x, y)| x.abs_diff(*y)).max().unwrap();
        let mean = a.iter().zip(b).map(|(x, y)| f64::from(x.abs_diff(*y))).sum::<f64>() / a.len() as f64;
        (max, mean)
    }

    /// The full-size decode averaged over 8×8 blocks (what a 1/8 scale should approximate), by
    /// the PNG box shrink.
    fn box_average(jpeg: &[u8]) -> DynamicImage {
        let full = super::super::decode::decode_turbo(jpeg, 8, false).unwrap();
        let mut png = Vec::new();
        full.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
        super::super::shrink_png::decode(&png, 8, u64::MAX).unwrap().unwrap()
    }

    #[test]
    fn matches_libjpeg_turbo_luma_and_is_as_close_to_a_full_decode() {
        use turbojpeg::Subsamp::*;
        let turbo = |jpeg: &[u8], gray| super::super::decode::decode_turbo(jpeg, 1, gray).unwrap();
        for (w, h) in [(203, 141), (400, 300), (64, 64), (9, 17)] {
            for s in [None, Sub2x1, Sub2x2, Sub1x2] {
                let jpeg = progressive(&scene(w, h), s, true);
                // Luma is libjpeg's 1×1 IDCT exactly.
                let ours = decode(&jpeg, true).expect("a progressive file decodes");
                assert_eq!(diff(&ours, &turbo(&jpeg, true)), (0, 0.0), "{w}x{h} {s:?} luma");
                // Colour: libjpeg-turbo replicates chroma at 1/8 scale (or, for 4:2:0, runs a 2×2
                // IDCT on the AC coefficients); this interpolates the DC values. On smooth colour
                // both land on the full decode averaged over each block (away from tiny images,
                // where clamping at the edges dominates).
                if w < 100 {
                    continue;
                }
                let jpeg = progressive(&smooth(w, h), s, true);
                let frame = walk(&jpeg).unwrap();
                let quarters = frame.components.iter().map(|c| !c.low_ac.is_empty()).collect::<Vec<_>>();
                assert_eq!(
                    quarters,
                    [false, s == Sub2x2, s == Sub2x2],
                    "{s:?}: chroma AC read for 4:2:0 only"
                );
                let reference = box_average(&jpeg);
                let ours = diff(&decode(&jpeg, false).unwrap(), &reference);
                let theirs = diff(&turbo(&jpeg, false), &reference);
                assert!(
                    ours.1 <= theirs.1 + 0.5 && ours.0 <= theirs.0.max(8),
                    "{w}x{h} {s:?}: ours {ours:?} turbo {theirs:?}"
                );
            }
        }
    }

    #[test]
    fn a_second_frame_header_is_refused() {
        // Regression guard: the pixel limit is checked on the first SOF, so a later one claiming
        // 65535×65535 must not size the coefficient buffers.
        let jpeg = progressive(&scene(64, 48), turbojpeg::Subsamp::Sub2x2, true);
        let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC2]).unwrap();
        let len = usize::from(u16::from_be_bytes([jpeg[sof + 2], jpeg[sof + 3]]));
        let mut huge = jpeg[sof..sof + 2 + len].to_vec();
        huge[5..9].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
        let mut twice = jpeg[..sof + 2 + len].to_vec();
        twice.extend_from_slice(&huge);
        twice.extend_from_slice(&jpeg[sof + 2 + len..]);
        assert!(decode(&jpeg, false).is_some());
        assert!(decode(&twice, false).is_none());
    }

    #[test]
    fn leaves_baseline_and_truncated_files_to_libjpeg_turbo() {
        let baseline = progressive(&scene(64, 48), turbojpeg::Subsamp::Sub2x2, false);
        assert!(decode(&baseline, false).is_none());
        let full = progressive(&scene(64, 48), turbojpeg::Subsamp::Sub2x2, true);
        assert!(decode(&full, false).is_some());
        assert!(decode(&full[..full.len() - 2], false).is_none(), "no EOI");
        assert!(decode(&full[..full.len() / 2], false).is_none());
        assert!(decode(b"\xFF\xD8\xFF\xC2\x00", false).is_none());
    }
}
