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

/// The longest file or folder name a folder source can write (Linux's NAME_MAX).
pub const NAME_MAX: usize = 255;

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
    /// `If-None-Match: *` and the key exists (412).
    #[error("an original already exists at `{0}`")]
    Exists(String),
    /// The key cannot name a file here: a folder is in the way, or a file where a folder must
    /// be (409).
    #[error("`{0}` conflicts with an existing original or folder")]
    Conflict(String),
    /// The key is valid but cannot name a file in this source (400): a segment longer than the
    /// file system's 255-byte name limit.
    #[error("`{0}` cannot name a file here: a segment is longer than {NAME_MAX} bytes")]
    Unnameable(String),
    /// This source cannot be written (405): the embedded samples.
    #[error("this source is read-only: serve a folder or a bucket to write originals")]
    ReadOnly,
}

/// What storing an original did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// True when the key was new, false when an original was replaced.
    pub created: bool,
    /// The stored original's version tag (as [`Meta::etag`] reads it back).
    pub etag: String,
}

/// One listed original.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Listed {
    /// The key.
    pub key: String,
    /// Size in bytes.
    pub bytes: u64,
    /// As [`Meta::etag`].
    pub etag: String,
    /// RFC 3339, UTC.
    pub last_modified: String,
}

/// One page of a listing, in key order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Page {
    /// The originals.
    pub items: Vec<Listed>,
    /// The key to pass as `after` for the next page; `None` on the last page.
    pub next: Option<String>,
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

    /// Stores `bytes` as the original at `key` whole or not at all (readers see the old or the
    /// new bytes, never part); with `only_if_new`, refuses to replace ([`SourceError::Exists`]).
    async fn put(
        &self,
        key: &Key,
        bytes: Bytes,
        content_type: &str,
        only_if_new: bool,
    ) -> Result<Written, SourceError> {
        let _ = (key, bytes, content_type, only_if_new);
        Err(SourceError::ReadOnly)
    }

    /// Deletes the original at `key`; false when there was none.
    async fn delete(&self, key: &Key) -> Result<bool, SourceError> {
        let _ = key;
        Err(SourceError::ReadOnly)
    }

    /// Up to `limit` originals whose keys start with `prefix` and sort after `after`.
    async fn page(&self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Page, SourceError> {
        let _ = (prefix, after, limit);
        Err(SourceError::ReadOnly)
    }
}

/// A time as RFC 3339 UTC to the second (`2026-12-03T15:16:00Z`), for listings.
pub(crate) fn rfc3339(t: std::time::SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}
