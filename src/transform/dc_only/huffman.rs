//! Canonical Huffman tables as JPEG defines them.

use super::bits::Bits;

/// A canonical Huffman table: a 9-bit lookup for short codes, JPEG's MAXCODE walk for the rest.
pub(super) struct Huffman {
    /// `(length << 8) | symbol` for codes of at most 9 bits, 0 where none.
    fast: Vec<u16>,
    maxcode: [i32; 17],
    offset: [i32; 17],
    values: Vec<u8>,
}

impl Huffman {
    pub(super) fn new(counts: &[u8; 16], values: &[u8]) -> Option<Huffman> {
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

    pub(super) fn decode(&self, bits: &mut Bits<'_>) -> Option<u8> {
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
