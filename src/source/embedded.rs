//! The sample images compiled into the binary: the default source, so that `pixflow serve` shows
//! pictures on a fresh machine with no folder and no AWS account.

use super::{Meta, Original, Source, SourceError};
use crate::spec::Key;
use async_trait::async_trait;
use bytes::Bytes;

const SAMPLES: &[(&str, &[u8])] = &[
    ("rocket.jpg", include_bytes!("../../samples/rocket.jpg")),
    ("retina.jpg", include_bytes!("../../samples/retina.jpg")),
    ("chelsea.png", include_bytes!("../../samples/chelsea.png")),
    ("coffee.png", include_bytes!("../../samples/coffee.png")),
];

/// The embedded samples (see `samples/ATTRIBUTION.md`).
#[derive(Debug, Clone, Copy, Default)]
pub struct EmbeddedSource;

impl EmbeddedSource {
    /// The sample keys.
    pub fn keys() -> impl Iterator<Item = &'static str> {
        SAMPLES.iter().map(|(k, _)| *k)
    }

    fn find(key: &Key) -> Result<&'static [u8], SourceError> {
        SAMPLES
            .iter()
            .find(|(k, _)| *k == key.as_str())
            .map(|(_, b)| *b)
            .ok_or_else(|| SourceError::NotFound(key.to_string()))
    }
}

/// The bytes never change within one build, so the version and size identify them.
fn etag_of(bytes: &[u8]) -> String {
    format!("embedded-{}-{:x}", env!("CARGO_PKG_VERSION"), bytes.len())
}

#[async_trait]
impl Source for EmbeddedSource {
    async fn head(&self, key: &Key) -> Result<Meta, SourceError> {
        let b = Self::find(key)?;
        Ok(Meta { etag: etag_of(b), len: b.len() as u64 })
    }

    async fn get(&self, key: &Key, max_bytes: u64) -> Result<Original, SourceError> {
        let b = Self::find(key)?;
        if b.len() as u64 > max_bytes {
            return Err(SourceError::TooLarge(max_bytes));
        }
        Ok(Original { bytes: Bytes::from_static(b), etag: etag_of(b) })
    }

    async fn list(&self, limit: Option<usize>) -> Result<Vec<Key>, SourceError> {
        let keys = Self::keys().filter_map(|k| crate::spec::validate_key(k).ok());
        Ok(keys.take(limit.unwrap_or(usize::MAX)).collect())
    }

    fn describe(&self) -> String {
        format!("embedded samples ({})", Self::keys().collect::<Vec<_>>().join(", "))
    }
}
