//! A GIF's block structure, walked without decoding: the one walker behind the repairs
//! (`repair::gif`) and the animation header (`frames::scan`).

/// One block of a GIF, with its byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Block {
    /// An extension introducer (0x21): its label and where it starts and ends.
    Extension { label: u8, start: usize, end: usize },
    /// An image descriptor (0x2C): where it starts, the size of its local colour table, and where
    /// its data ends (`None` when the file is cut inside it).
    Image { start: usize, local_table: usize, end: Option<usize> },
    /// The trailer (0x3B).
    Trailer,
    /// A byte that starts no block: what came before is the image.
    Junk,
}

/// The blocks after the header and the global colour table, in order. The walk ends after
/// `Trailer`, `Junk` or a cut image, and silently where an extension is cut short.
pub(super) struct Blocks<'a> {
    b: &'a [u8],
    i: usize,
    done: bool,
    /// The size of the global colour table in bytes (0: none).
    pub(super) global_table: usize,
}

/// The bytes of the colour table a packed field announces.
fn table(packed: u8) -> usize {
    if packed & 0x80 != 0 {
        3usize << ((packed & 7) + 1)
    } else {
        0
    }
}

/// The blocks of `b`, or `None` when it is too short to be a GIF.
pub(super) fn blocks(b: &[u8]) -> Option<Blocks<'_>> {
    if b.len() < 13 || !b.starts_with(b"GIF8") {
        return None;
    }
    let global_table = table(b[10]);
    Some(Blocks { b, i: 13 + global_table, done: false, global_table })
}

impl Blocks<'_> {
    /// The end of the data sub-blocks starting at `i`, or `None` when the file ends first.
    fn skip_sub_blocks(&self, mut i: usize) -> Option<usize> {
        loop {
            let n = usize::from(*self.b.get(i)?);
            i += 1 + n;
            if n == 0 {
                return Some(i);
            }
        }
    }
}

impl Iterator for Blocks<'_> {
    type Item = Block;

    fn next(&mut self) -> Option<Block> {
        if self.done {
            return None;
        }
        let start = self.i;
        let block = match *self.b.get(start)? {
            0x3B => Block::Trailer,
            0x21 => {
                let label = *self.b.get(start + 1)?;
                let end = self.skip_sub_blocks(start + 2)?;
                self.i = end;
                return Some(Block::Extension { label, start, end });
            }
            0x2C => {
                let Some(&packed) = self.b.get(start + 9) else {
                    self.done = true;
                    return Some(Block::Image { start, local_table: 0, end: None });
                };
                let local_table = table(packed);
                let end = self.skip_sub_blocks(start + 10 + local_table + 1);
                self.done = end.is_none();
                self.i = end.unwrap_or(self.b.len());
                return Some(Block::Image { start, local_table, end });
            }
            _ => Block::Junk,
        };
        self.done = true;
        Some(block)
    }
}
