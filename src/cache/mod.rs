//! Caches: the in-memory cache (single-flight) and the result store (a folder, or off), both
//! keyed by the canonical variant.

mod dir;
mod memory;

pub use dir::{DirStore, NoStore};
pub use memory::{MemoryCache, Rendered};

use crate::spec::{Key, Variant};
use async_trait::async_trait;
use bytes::Bytes;

/// What one rendered variant is keyed by in memory: the original, the variant's identity, and the
/// version of the original it is made from (a new version is a new entry).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VariantKey {
    /// The original's key.
    pub key: Key,
    /// The variant's identity.
    pub variant: Variant,
    /// The original's version (its ETag).
    pub source_version: String,
}

/// One stored result and what it was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResult {
    /// The encoded image.
    pub bytes: Bytes,
    /// Its MIME type.
    pub content_type: String,
    /// The source ETag it was rendered from; a different current ETag makes it stale.
    pub source_etag: String,
}

/// A result-store failure. Serving degrades to a transform; only `purge` reports it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("result store: {0}")]
pub struct StoreError(pub String);

/// Where rendered variants persist between processes. Layout is key-first,
/// `{key}/{variant}`, so all variants of one original share a prefix.
#[async_trait]
pub trait ResultStore: Send + Sync + 'static {
    /// The stored result, if any.
    async fn get(&self, key: &Key, variant: &Variant) -> Result<Option<StoredResult>, StoreError>;
    /// Stores a result, replacing any older one.
    async fn put(&self, key: &Key, variant: &Variant, result: &StoredResult) -> Result<(), StoreError>;
    /// Deletes every variant of `key`; returns how many there were.
    async fn purge(&self, key: &Key) -> Result<usize, StoreError>;
    /// Where a variant is (or would be) stored, for reports; `None` when results are not stored.
    fn locate(&self, key: &Key, variant: &Variant) -> Option<String>;
    /// A short description for logs.
    fn describe(&self) -> String;
}
