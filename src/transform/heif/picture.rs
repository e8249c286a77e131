//! A picture as the HEIF codecs (AV1 through rav1d, HEVC through libde265) hand it over: planes
//! of 16-bit samples copied out of the decoder, so nothing borrowed from C outlives the call.

/// Chroma subsampling of a decoded picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Luma only.
    Monochrome,
    /// Chroma halved both ways.
    Yuv420,
    /// Chroma halved horizontally.
    Yuv422,
    /// Full chroma.
    Yuv444,
}

/// A decoded picture: its planes as 16-bit samples (8-bit pictures widened), tightly packed.
#[derive(Debug, Clone)]
pub(crate) struct Picture {
    /// Width.
    pub(crate) width: u32,
    /// Height.
    pub(crate) height: u32,
    /// Bits per sample: 8, 10 or 12.
    pub(crate) bit_depth: u8,
    /// Chroma layout.
    pub(crate) layout: Layout,
    /// Y, U, V (U and V empty for monochrome).
    pub(crate) planes: [Vec<u16>; 3],
    /// Colour code points from the sequence header: primaries, transfer, matrix, full range.
    pub(crate) cicp: (u16, u16, u16, bool),
}

impl Picture {
    /// The size of the chroma planes.
    pub(crate) fn chroma_size(&self) -> (u32, u32) {
        match self.layout {
            Layout::Monochrome => (0, 0),
            Layout::Yuv420 => (self.width.div_ceil(2), self.height.div_ceil(2)),
            Layout::Yuv422 => (self.width.div_ceil(2), self.height),
            Layout::Yuv444 => (self.width, self.height),
        }
    }

    /// The top-left `width` × `height` of the picture (at most its own size; chroma kept whole
    /// where an odd size leaves half a sample).
    pub(crate) fn cropped(mut self, width: u32, height: u32) -> Picture {
        let (width, height) = (width.min(self.width), height.min(self.height));
        let (cw, _) = self.chroma_size();
        let keep = |plane: &mut Vec<u16>, stride: u32, w: u32, h: u32| {
            if plane.is_empty() {
                return;
            }
            let (stride, w) = (stride as usize, w as usize);
            *plane = plane.chunks_exact(stride).take(h as usize).flat_map(|row| &row[..w]).copied().collect();
        };
        let old_width = self.width;
        (self.width, self.height) = (width, height);
        let (new_cw, new_ch) = self.chroma_size();
        let [y, u, v] = &mut self.planes;
        keep(y, old_width, width, height);
        keep(u, cw, new_cw, new_ch);
        keep(v, cw, new_cw, new_ch);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crop_keeps_the_top_left_of_every_plane() {
        let picture = Picture {
            width: 4,
            height: 2,
            bit_depth: 8,
            layout: Layout::Yuv420,
            planes: [vec![1, 2, 3, 4, 5, 6, 7, 8], vec![10, 20], vec![30, 40]],
            cicp: (2, 2, 2, false),
        };
        let cut = picture.cropped(3, 1);
        assert_eq!((cut.width, cut.height), (3, 1));
        assert_eq!(cut.planes, [vec![1, 2, 3], vec![10, 20], vec![30, 40]]);
    }
}
