//! Other services' URL languages mapped onto [`super::TransformSpec`], so a site can move to
//! pixflow without rewriting its pages: imgix's query names (read by the query parser with
//! imgix's meanings) and AWS's image handler's base64 JSON and Thumbor-style paths. Each ends
//! as path tokens or spec fields, so caches see one canonical variant whichever way it was asked.

pub(super) mod aws_handler;
pub mod imgix;
#[cfg(test)]
mod tests;
