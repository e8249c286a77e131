//! An upload's check before it is stored: a format pixflow decodes (not one it only names), within
//! the source limits read from its header, and decodable — proven by rendering a small thumbnail
//! through the same pipeline a request would, so nothing is stored that every URL would refuse.

use super::metadata::{self, Source};
use super::{Limits, SourceFormat, TransformError};
use crate::spec::TransformSpec;
use std::time::Instant;

/// What an accepted upload is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspected {
    /// pixflow's name of the format (`jpeg`, `heic`, …), as `f_json` gives it.
    pub format: &'static str,
    /// Its MIME type.
    pub mime: &'static str,
    /// Width as displayed (after EXIF orientation).
    pub width: u32,
    /// Height as displayed.
    pub height: u32,
}

/// The side of the thumbnail that proves an upload decodes: small, so the check costs about one
/// decode at the smallest scale the decoder offers.
const PROOF_SIDE: u32 = 64;

/// Checks `bytes` as an original: 415 for what pixflow cannot decode, 413 over a limit, 422 for
/// a file that does not decode.
pub fn inspect(bytes: &[u8], limits: &Limits, deadline: Instant) -> Result<Inspected, TransformError> {
    // A file pixflow shows through a repair (transform::or_repaired) is accepted as it is.
    super::or_repaired(bytes, |bytes| inspect_as_is(bytes, limits, deadline))
}

fn inspect_as_is(bytes: &[u8], limits: &Limits, deadline: Instant) -> Result<Inspected, TransformError> {
    let identity = TransformSpec::default();
    let described =
        super::decode::guarded("header reader", || metadata::describe(bytes, &identity, limits, deadline))?;
    let info = match described.source {
        Source::Read(info) => info,
        Source::Named(named) => {
            return Err(TransformError::Unsupported(format!(
            "{} originals can be served as they are but not transformed, so they are not accepted as uploads",
            named.format
        )))
        }
    };
    let proof = TransformSpec {
        width: Some(PROOF_SIDE),
        height: Some(PROOF_SIDE),
        format: Some(crate::spec::Format::Png),
        ..TransformSpec::default()
    };
    super::run(bytes, &proof, limits, deadline)?;
    let (width, height) = match info.orientation {
        5..=8 => (info.height, info.width),
        _ => (info.width, info.height),
    };
    Ok(Inspected { format: info.format, mime: SourceFormat::sniff(bytes)?.mime(), width, height })
}
