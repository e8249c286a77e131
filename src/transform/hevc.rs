//! One HEVC still (a HEIC image or one tile of a grid) decoded by libde265 (LGPL-3.0, the decoder
//! libheif uses by default; built from the sources vendored in libde265-sys2). libde265 is a C++
//! library with a C API, so the calls are wrapped here, and only here; the planes are copied out
//! before the picture is released.
//!
//! libde265 has no size limit of its own, so the picture size is read from the sequence parameter
//! set ([`sps_size`]) and checked against the pixel limit before a byte is handed to the decoder.
#![allow(unsafe_code)]

use super::heif::{Layout, Picture};
use super::TransformError;
use libde265_sys2 as de265;
use std::os::raw::c_int;

/// The `hvcC` record (ISO/IEC 14496-15 § 8.3.3): the parameter sets and how NAL units are framed.
#[derive(Debug)]
struct HevcConfig<'a> {
    /// Bytes of each NAL unit's length prefix in the item data (1, 2 or 4).
    length_size: usize,
    /// The VPS, SPS, PPS (and SEI) NAL units, without start codes.
    nals: Vec<&'a [u8]>,
}

impl<'a> HevcConfig<'a> {
    /// Parses the record; every length is checked against the bytes.
    fn parse(record: &'a [u8]) -> Result<HevcConfig<'a>, TransformError> {
        let byte = |i: usize| record.get(i).copied().ok_or_else(|| corrupt("the hvcC record is cut short"));
        let length_size = usize::from(byte(21)? & 3) + 1;
        if length_size == 3 {
            return Err(corrupt("the hvcC record gives 3-byte NAL lengths"));
        }
        let mut at = 23;
        let mut nals = Vec::new();
        for _ in 0..byte(22)? {
            let count = u16::from_be_bytes([byte(at + 1)?, byte(at + 2)?]);
            at += 3;
            for _ in 0..count {
                let len = usize::from(u16::from_be_bytes([byte(at)?, byte(at + 1)?]));
                let nal = record
                    .get(at + 2..at + 2 + len)
                    .ok_or_else(|| corrupt("an hvcC NAL unit is cut short"))?;
                nals.push(nal);
                at += 2 + len;
            }
        }
        Ok(HevcConfig { length_size, nals })
    }

    /// The picture size its sequence parameter set states, when it has one.
    fn size(&self) -> Option<(u64, u64)> {
        self.nals.iter().find(|nal| is_sps(nal)).and_then(|sps| sps_size(sps))
    }
}

/// Whether a NAL unit is a sequence parameter set (type 33).
fn is_sps(nal: &[u8]) -> bool {
    nal.first().map(|b| (b >> 1) & 0x3F) == Some(33)
}

/// Refuses a picture size of no pixels or over `max_pixels`.
fn check_size((w, h): (u64, u64), max_pixels: u64) -> Result<(), TransformError> {
    if w == 0 || h == 0 {
        return Err(corrupt("the sequence parameter set states no pixels"));
    }
    if w.saturating_mul(h) > max_pixels {
        return Err(TransformError::TooManyPixels(
            u32::try_from(w).unwrap_or(u32::MAX),
            u32::try_from(h).unwrap_or(u32::MAX),
            max_pixels,
        ));
    }
    Ok(())
}

/// `pic_width_in_luma_samples` and `pic_height_in_luma_samples` of a sequence parameter set
/// (H.265 § 7.3.2.2), read past the profile/tier/level structure.
fn sps_size(nal: &[u8]) -> Option<(u64, u64)> {
    let mut r = Bits::new(nal.get(2..)?);
    r.skip(4)?; // sps_video_parameter_set_id
    let sub_layers = r.read(3)? as usize; // sps_max_sub_layers_minus1
    r.skip(1)?; // temporal id nesting
    r.skip(88 + 8)?; // general profile (88 bits) and level
    let mut present = Vec::with_capacity(sub_layers);
    for _ in 0..sub_layers {
        present.push((r.read(1)? == 1, r.read(1)? == 1));
    }
    if sub_layers > 0 {
        r.skip(2 * (8 - sub_layers as u32))?;
    }
    for (profile, level) in present {
        r.skip(if profile { 88 } else { 0 } + if level { 8 } else { 0 })?;
    }
    r.golomb()?; // sps_seq_parameter_set_id
    if r.golomb()? == 3 {
        r.skip(1)?; // separate_colour_plane_flag
    }
    Some((r.golomb()?, r.golomb()?))
}

/// A bit reader over an RBSP: the emulation-prevention bytes (00 00 03) are dropped as read.
struct Bits<'a> {
    bytes: &'a [u8],
    at: usize,
    bit: u32,
    zeros: u8,
    current: u8,
}

impl<'a> Bits<'a> {
    fn new(bytes: &'a [u8]) -> Bits<'a> {
        Bits { bytes, at: 0, bit: 8, zeros: 0, current: 0 }
    }

    fn next_bit(&mut self) -> Option<u64> {
        if self.bit == 8 {
            let mut b = *self.bytes.get(self.at)?;
            self.at += 1;
            if self.zeros >= 2 && b == 3 {
                self.zeros = 0;
                b = *self.bytes.get(self.at)?;
                self.at += 1;
            }
            self.zeros = if b == 0 { self.zeros + 1 } else { 0 };
            self.current = b;
            self.bit = 0;
        }
        let v = (self.current >> (7 - self.bit)) & 1;
        self.bit += 1;
        Some(u64::from(v))
    }

    fn read(&mut self, n: u32) -> Option<u64> {
        (0..n).try_fold(0, |acc, _| Some((acc << 1) | self.next_bit()?))
    }

    fn skip(&mut self, n: u32) -> Option<()> {
        self.read(n.min(64)).and_then(|_| if n > 64 { self.skip(n - 64) } else { Some(()) })
    }

    /// An unsigned Exp-Golomb number; more than 32 leading zeros is not a valid one.
    fn golomb(&mut self) -> Option<u64> {
        let mut zeros = 0;
        while self.next_bit()? == 0 {
            zeros += 1;
            if zeros > 32 {
                return None;
            }
        }
        Some((1 << zeros) - 1 + self.read(zeros)?)
    }
}

/// Owns a libde265 decoder and frees it on every path.
struct Decoder(*mut de265::de265_decoder_context);

impl Drop for Decoder {
    fn drop(&mut self) {
        // SAFETY: the context came from de265_new_decoder and is freed exactly once, here.
        unsafe { de265::de265_free_decoder(self.0) };
    }
}

/// The most `de265_decode` calls one still may take: each decodes at least a slice, and a still
/// has a few hundred at most; the cap makes a stream that never ends a refusal, not a hang.
const MAX_DECODE_CALLS: usize = 100_000;

/// Decodes one HEVC still from its configuration record and its item data (length-prefixed NAL
/// units), refusing a picture whose parameter set states more than `max_pixels`.
pub(super) fn decode(config: &[u8], data: &[u8], max_pixels: u64) -> Result<Picture, TransformError> {
    let config = HevcConfig::parse(config)?;
    let size = config.size().ok_or_else(|| corrupt("no readable sequence parameter set"))?;
    check_size(size, max_pixels)?;
    let mut nals = config.nals.clone();
    let mut rest = data;
    while !rest.is_empty() {
        let (len, tail) =
            rest.split_at_checked(config.length_size).ok_or_else(|| corrupt("a NAL length is cut short"))?;
        let len = len.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        let (nal, tail) = tail.split_at_checked(len).ok_or_else(|| corrupt("a NAL unit is cut short"))?;
        if !nal.is_empty() {
            nals.push(nal); // an empty one has not even a NAL header
        }
        rest = tail;
    }
    // Every parameter set is checked, not only the hvcC's first: a later one (in the record or
    // in the item's own data) replaces it for the pictures after it, and libde265 allocates the
    // size it states.
    for sps in nals.iter().filter(|nal| is_sps(nal)) {
        let stated = sps_size(sps).ok_or_else(|| corrupt("a sequence parameter set does not read"))?;
        check_size(stated, max_pixels)?;
    }
    // libde265's tables are built by its first decoder and freed with its last (under its own
    // lock); one reference held for the life of the process spares a grid's tiles that churn.
    static INIT: std::sync::Once = std::sync::Once::new();
    // SAFETY: de265_init is safe to call from any thread; the reference is never released.
    INIT.call_once(|| unsafe {
        de265::de265_init();
    });
    // SAFETY: de265_new_decoder returns a fresh context or null; the guard frees it.
    let decoder = Decoder(unsafe { de265::de265_new_decoder() });
    if decoder.0.is_null() {
        return Err(TransformError::Internal("the HEVC decoder did not open".into()));
    }
    for nal in nals {
        let len = c_int::try_from(nal.len()).map_err(|_| corrupt("a NAL unit over 2 GB"))?;
        // SAFETY: the context is open; libde265 copies the `len` bytes at `nal` before returning.
        let err =
            unsafe { de265::de265_push_NAL(decoder.0, nal.as_ptr().cast(), len, 0, std::ptr::null_mut()) };
        if err != de265::de265_error::DE265_OK {
            return Err(decode_error(err));
        }
    }
    // SAFETY: the context is open.
    unsafe { de265::de265_flush_data(decoder.0) };
    for _ in 0..MAX_DECODE_CALLS {
        let mut more: c_int = 0;
        // SAFETY: the context is open and `more` is a live local.
        let err = unsafe { de265::de265_decode(decoder.0, &mut more) };
        // SAFETY: the context is open; the picture stays valid until the next de265 call, and
        // it is copied before release_next_picture, the next call.
        let image = unsafe { de265::de265_get_next_picture(decoder.0) };
        if !image.is_null() {
            let picture = unsafe { copy_out(image) };
            unsafe { de265::de265_release_next_picture(decoder.0) };
            return picture;
        }
        if more == 0 || err != de265::de265_error::DE265_OK {
            return Err(if err == de265::de265_error::DE265_OK {
                corrupt("the HEVC data holds no complete picture")
            } else {
                decode_error(err)
            });
        }
    }
    Err(corrupt("the HEVC data did not finish decoding"))
}

/// Copies a decoded picture's planes out.
///
/// # Safety
/// `image` is a picture just returned by `de265_get_next_picture`, not yet released.
unsafe fn copy_out(image: *const de265::de265_image) -> Result<Picture, TransformError> {
    let layout = match de265::de265_get_chroma_format(image) {
        de265::de265_chroma::de265_chroma_mono => Layout::Monochrome,
        de265::de265_chroma::de265_chroma_420 => Layout::Yuv420,
        de265::de265_chroma::de265_chroma_422 => Layout::Yuv422,
        _ => Layout::Yuv444,
    };
    let dimension = |v: c_int| u32::try_from(v).map_err(|_| corrupt("picture size"));
    let width = dimension(de265::de265_get_image_width(image, 0))?;
    let height = dimension(de265::de265_get_image_height(image, 0))?;
    let bit_depth =
        u8::try_from(de265::de265_get_bits_per_pixel(image, 0)).map_err(|_| corrupt("bit depth"))?;
    if !(8..=16).contains(&bit_depth) {
        return Err(TransformError::Unsupported(format!("{bit_depth}-bit HEVC pictures are not read")));
    }
    let code = |v: c_int| u16::try_from(v).unwrap_or(2);
    let mut picture = Picture {
        width,
        height,
        bit_depth,
        layout,
        planes: [Vec::new(), Vec::new(), Vec::new()],
        cicp: (
            code(de265::de265_get_image_colour_primaries(image)),
            code(de265::de265_get_image_transfer_characteristics(image)),
            code(de265::de265_get_image_matrix_coefficients(image)),
            de265::de265_get_image_full_range_flag(image) != 0,
        ),
    };
    let (cw, ch) = picture.chroma_size();
    for (channel, (w, h)) in [(width, height), (cw, ch), (cw, ch)].into_iter().enumerate() {
        if w == 0 {
            continue;
        }
        let c = channel as c_int;
        if dimension(de265::de265_get_image_width(image, c))? != w
            || dimension(de265::de265_get_image_height(image, c))? != h
            || de265::de265_get_bits_per_pixel(image, c) != c_int::from(bit_depth)
        {
            return Err(corrupt("a chroma plane's size or depth does not match the picture's"));
        }
        let mut stride: c_int = 0;
        let data = de265::de265_get_image_plane(image, c, &mut stride);
        let stride = usize::try_from(stride).map_err(|_| corrupt("plane stride"))?;
        if data.is_null() {
            return Err(corrupt("a picture plane is missing"));
        }
        let (w, h) = (w as usize, h as usize);
        let wide = bit_depth > 8;
        let mut out = Vec::with_capacity(w * h);
        for row in 0..h {
            // SAFETY: libde265's planes hold `h` rows of `stride` bytes with `w` samples each
            // (1 byte at 8 bits, 2 native-endian bytes above), alive until the picture is released.
            let start = data.add(row * stride);
            if wide {
                let samples = std::slice::from_raw_parts(start, 2 * w);
                out.extend(samples.chunks_exact(2).map(|s| u16::from_ne_bytes([s[0], s[1]])));
            } else {
                out.extend(std::slice::from_raw_parts(start, w).iter().map(|&s| u16::from(s)));
            }
        }
        picture.planes[channel] = out;
    }
    Ok(picture)
}

fn decode_error(code: de265::de265_error::Type) -> TransformError {
    if code == de265::de265_error::DE265_ERROR_OUT_OF_MEMORY {
        return TransformError::OverLimit("the HEVC picture could not be allocated".into());
    }
    // SAFETY: de265_get_error_text returns a static NUL-terminated string for any code.
    let text = unsafe { std::ffi::CStr::from_ptr(de265::de265_get_error_text(code)) };
    corrupt(&format!("the HEVC decoder refused the data ({})", text.to_string_lossy()))
}

fn corrupt(what: &str) -> TransformError {
    TransformError::Corrupt(format!("HEIC: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_golomb_and_emulation_prevention() {
        // 1 → 0; 010 → 1; 011 → 2; 00100 → 3.
        let mut r = Bits::new(&[0b1010_0110, 0b0100_0000]);
        assert_eq!((r.golomb(), r.golomb(), r.golomb(), r.golomb()), (Some(0), Some(1), Some(2), Some(3)));
        // 00 00 03 01: the 03 is dropped, so the third byte read is 01.
        let mut r = Bits::new(&[0, 0, 3, 1]);
        assert_eq!(r.read(24), Some(1));
        assert_eq!(Bits::new(&[0, 0, 0, 0, 0]).golomb(), None);
    }

    /// A sequence parameter set as far as the picture size: NAL header, one sub-layer, a profile
    /// of zeros but for a set bit every byte (no emulation-prevention pattern), 4:2:0.
    fn sps(width: u64, height: u64) -> Vec<u8> {
        let mut bits: Vec<u8> = Vec::new();
        let mut put = |v: u64, n: u32| (0..n).rev().for_each(|i| bits.push(((v >> i) & 1) as u8));
        put(0, 4); // vps id
        put(0, 3); // one sub-layer
        put(1, 1); // temporal id nesting
        for _ in 0..12 {
            put(1, 8); // profile (88 bits) and level (8)
        }
        let mut golomb = |v: u64| {
            let n = 64 - (v + 1).leading_zeros();
            put(0, n - 1);
            put(v + 1, n);
        };
        golomb(0); // sps id
        golomb(1); // 4:2:0
        golomb(width);
        golomb(height);
        bits.resize(bits.len().div_ceil(8) * 8, 1);
        let mut nal = vec![33 << 1, 1];
        nal.extend(bits.chunks(8).map(|b| b.iter().fold(0u8, |acc, &bit| (acc << 1) | bit)));
        nal
    }

    /// An hvcC record holding `nals`, 4-byte NAL lengths.
    fn hvcc(nals: &[Vec<u8>]) -> Vec<u8> {
        let mut record = vec![1u8; 21];
        record.push(0xFC | 3);
        record.push(nals.len() as u8);
        for nal in nals {
            record.extend_from_slice(&[33, 0, 1]);
            record.extend_from_slice(&(nal.len() as u16).to_be_bytes());
            record.extend_from_slice(nal);
        }
        record
    }

    #[test]
    fn the_sps_reader_reads_the_size_it_was_given() {
        assert_eq!(sps_size(&sps(64, 48)), Some((64, 48)));
        assert_eq!(sps_size(&sps(32768, 32768)), Some((32768, 32768)));
    }

    /// Bug: the hvcC said 64×64 and the item's own NAL units carried another SPS of
    /// 32768×32768, which libde265 decoded (5.46 GB, 13.5 s) past `--max-source-mp`. Every SPS
    /// is now checked before a byte reaches the decoder.
    #[test]
    fn a_second_sequence_parameter_set_in_the_item_data_is_checked_too() {
        let config = hvcc(&[sps(64, 64)]);
        let big = sps(32768, 32768);
        let mut data = (big.len() as u32).to_be_bytes().to_vec();
        data.extend_from_slice(&big);
        match decode(&config, &data, 50_000_000) {
            Err(TransformError::TooManyPixels(32768, 32768, _)) => {}
            other => panic!("expected the pixel limit, got {:?}", other.map(|p| (p.width, p.height))),
        }
        // A second SPS in the record itself is checked as well.
        match decode(&hvcc(&[sps(64, 64), big]), &[], 50_000_000) {
            Err(TransformError::TooManyPixels(32768, 32768, _)) => {}
            other => panic!("expected the pixel limit, got {:?}", other.map(|p| (p.width, p.height))),
        }
    }
}
