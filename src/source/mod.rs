//! Originals: a small [`Source`] trait and its implementations (a local folder, the samples
//! embedded in the binary). Every implementation passes the same contract tests.

mod embedded;
mod local;

pub use embedded::EmbeddedSource;
pub use local::LocalSource;

use crate::spec::Key;
use async_trait::async_trait;
use bytes::Bytes;

/// An original's bytes and the version tag that identifies them.
#[derive(Debug, Clone)]
pub struct Original {
    /// The bytes, exactly as stored.
    pub bytes: Bytes,
    /// A tag that changes whenever the bytes change.
    pub etag: String,
}

/// What a cheap look-up tells about an original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// As [`Original::etag`].
    pub etag: String,
    /// Size in bytes.
    pub len: u64,
}

/// Why an original could not be read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SourceError {
    /// No such key (404).
    #[error("no image at `{0}`")]
    NotFound(String),
    /// Over the source byte limit (413).
    #[error("the source is larger than the {0} byte limit")]
    TooLarge(u64),
    /// The origin did not answer in time (504).
    #[error("the origin timed out: {0}")]
    Timeout(String),
    /// Any other origin failure (502).
    #[error("the origin failed: {0}")]
    Unavailable(String),
}

/// Where originals come from.
#[async_trait]
pub trait Source: Send + Sync + 'static {
    /// The version tag and size, without reading the bytes.
    async fn head(&self, key: &Key) -> Result<Meta, SourceError>;
    /// The bytes, refusing (and not finishing the read of) anything over `max_bytes`.
    async fn get(&self, key: &Key, max_bytes: u64) -> Result<Original, SourceError>;
    /// Keys, sorted, at most `limit` of them when given (one listing page, one bounded walk):
    /// every key for `pixflow warm`, a page for `/_/demo`. Keys pixflow could not serve are left out.
    async fn list(&self, limit: Option<usize>) -> Result<Vec<Key>, SourceError>;
    /// A short description for logs.
    fn describe(&self) -> String;
}
