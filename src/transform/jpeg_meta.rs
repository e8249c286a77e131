//! A JPEG's metadata segments, read before decoding: the ICC profile (APP2 chunks, reassembled)
//! and the EXIF orientation (APP1), which libjpeg-turbo's header read does not give.

/// The EXIF orientation tag of a raw TIFF-structured EXIF block, 1 when absent or odd.
pub(super) fn exif_orientation(tiff: &[u8]) -> u8 {
    let Ok(exif) = exif::Reader::new().read_raw(tiff.to_vec()) else {
        return 1;
    };
    // Some writers store the tag as SLONG or SSHORT instead of SHORT; browsers honour it anyway.
    let value = |f: &exif::Field| match &f.value {
        exif::Value::SLong(v) => v.first().map(|&n| i64::from(n)),
        exif::Value::SShort(v) => v.first().map(|&n| i64::from(n)),
        other => other.get_uint(0).map(i64::from),
    };
    exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY)
        .and_then(value)
        .filter(|v| (1..=8).contains(v))
        .map_or(1, |v| v as u8)
}

/// The marker segments before the first scan, as (marker, body).
fn header_segments(bytes: &[u8]) -> Vec<(u8, &[u8])> {
    let mut found = Vec::new();
    let mut i = 2;
    while i + 4 <= bytes.len() && bytes[i] == 0xFF {
        let marker = bytes[i + 1];
        if marker == 0xD8 || (0xD0..=0xD7).contains(&marker) || marker == 0x01 || marker == 0xFF {
            i += if marker == 0xFF { 1 } else { 2 };
            continue;
        }
        if marker == 0xDA || marker == 0xD9 {
            break; // start of scan: no more metadata segments
        }
        let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        let Some(body) = bytes.get(i + 4..i + 2 + len).filter(|_| len >= 2) else {
            break;
        };
        found.push((marker, body));
        i += 2 + len;
    }
    found
}

/// The ICC profile (APP2 chunks, reassembled) and the EXIF block (APP1) of a JPEG.
pub(super) fn segments(bytes: &[u8]) -> (Option<Vec<u8>>, Option<&[u8]>) {
    let mut icc_chunks: Vec<(u8, &[u8])> = Vec::new();
    let mut exif = None;
    for (marker, body) in header_segments(bytes) {
        match marker {
            0xE1 if body.starts_with(b"Exif\0\0") && exif.is_none() => exif = Some(&body[6..]),
            0xE2 if body.starts_with(b"ICC_PROFILE\0") && body.len() > 14 => {
                icc_chunks.push((body[12], &body[14..]))
            }
            _ => {}
        }
    }
    icc_chunks.sort_by_key(|(seq, _)| *seq);
    let icc =
        (!icc_chunks.is_empty()).then(|| icc_chunks.iter().flat_map(|(_, c)| c.iter().copied()).collect());
    (icc, exif)
}

/// Whether the JPEG has Adobe's APP14 segment, whose CMYK samples are stored inverted (0 is full
/// ink): what Photoshop writes, and how libjpeg-turbo, Pillow and browsers read it.
pub(super) fn adobe(bytes: &[u8]) -> bool {
    header_segments(bytes).iter().any(|(marker, body)| *marker == 0xEE && body.starts_with(b"Adobe"))
}
