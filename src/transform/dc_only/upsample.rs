//! From a component's samples at 1/8 scale to the image's size: centred linear interpolation
//! (libjpeg's "fancy" upsampling for 2×).

use super::{to_u8, Plane};

impl Plane {
    /// Upsamples by (`rx`, `ry`) to `w` × `h`, interpolating linearly between sample centres.
    pub(super) fn upsample(&self, w: usize, h: usize, rx: usize, ry: usize) -> Vec<u8> {
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
