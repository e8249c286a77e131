//! The in-memory cache: moka, weighed in bytes, with `try_get_with` so that concurrent identical
//! misses run one render. Errors are never cached.

use super::VariantKey;
use crate::error::Error;
use crate::spec::Format;
use bytes::Bytes;
use std::future::Future;
use std::sync::Arc;

/// A rendered variant as it is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The encoded image.
    pub bytes: Bytes,
    /// Its format.
    pub format: Format,
}

/// The memory cache, or none when its capacity is 0.
#[derive(Clone)]
pub struct MemoryCache {
    inner: Option<moka::future::Cache<VariantKey, Arc<Rendered>>>,
}

impl MemoryCache {
    /// A cache holding up to `capacity_bytes` of rendered images (0 turns it off).
    pub fn new(capacity_bytes: u64) -> Self {
        let inner = (capacity_bytes > 0).then(|| {
            moka::future::Cache::builder()
                .max_capacity(capacity_bytes)
                .weigher(|k: &VariantKey, v: &Arc<Rendered>| {
                    let key_len = k.key.as_str().len() + k.variant.as_str().len() + k.source_version.len();
                    u32::try_from(key_len + v.bytes.len() + 64).unwrap_or(u32::MAX)
                })
                .build()
        });
        MemoryCache { inner }
    }

    /// The cached value for `key`, or the result of `render`, run once for all concurrent callers.
    /// The flag says whether this call rendered it (false: it came from memory).
    pub async fn get_or_render<F>(
        &self,
        key: VariantKey,
        render: F,
    ) -> Result<(Arc<Rendered>, bool), Arc<Error>>
    where
        F: Future<Output = Result<Rendered, Error>>,
    {
        match &self.inner {
            Some(cache) => {
                let entry = cache.entry(key).or_try_insert_with(async { render.await.map(Arc::new) }).await?;
                let fresh = entry.is_fresh();
                Ok((entry.into_value(), fresh))
            }
            None => render.await.map(|r| (Arc::new(r), true)).map_err(Arc::new),
        }
    }

    /// How many entries are held (after pending maintenance).
    pub async fn entry_count(&self) -> u64 {
        match &self.inner {
            Some(c) => {
                c.run_pending_tasks().await;
                c.entry_count()
            }
            None => 0,
        }
    }
}
