//! The bit reader over entropy-coded data.

/// An MSB-first bit reader over entropy-coded data that unstuffs `FF 00` and stops at markers,
/// reading zeros past them as libjpeg does.
pub(super) struct Bits<'a> {
    pub(super) data: &'a [u8],
    pub(super) pos: usize,
    pub(super) acc: u64,
    pub(super) count: u32,
    pub(super) at_marker: bool,
}

impl Bits<'_> {
    pub(super) fn fill(&mut self) {
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

    pub(super) fn peek16(&mut self) -> u32 {
        self.fill();
        (self.acc >> 48) as u32
    }

    pub(super) fn consume(&mut self, n: u32) {
        self.acc <<= n;
        self.count -= n;
    }

    pub(super) fn bit(&mut self) -> bool {
        let b = self.peek16() >> 15 == 1;
        self.consume(1);
        b
    }

    /// The DC difference of magnitude category `size` (JPEG's RECEIVE and EXTEND).
    pub(super) fn extend(&mut self, size: u8) -> Option<i32> {
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
    pub(super) fn extend_raw(&mut self, n: u32) -> Option<u32> {
        if n > 16 {
            return None;
        }
        self.fill();
        let v = (self.acc >> (64 - n)) as u32;
        self.consume(n);
        Some(v)
    }

    /// Drops the partial byte and steps over the RST marker that must come next.
    pub(super) fn restart(&mut self) -> Option<()> {
        self.fill(); // runs up to the marker, so every data byte before it has been read
        if !self.at_marker || !(0xD0..=0xD7).contains(self.data.get(self.pos + 1)?) {
            return None;
        }
        self.pos += 2;
        (self.acc, self.count, self.at_marker) = (0, 0, false);
        Some(())
    }
}
