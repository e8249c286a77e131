//! `AppState`: everything a request needs, built once per process (per cold start on Lambda) —
//! the configuration, the source and result store clients, the caches, the transform slots and
//! the memory budget.

use crate::cache::{DirStore, MemoryCache, NoStore, ResultStore};
use crate::config::{Config, SourceConfig, StoreConfig};
use crate::http::budget;
use crate::source::{EmbeddedSource, LocalSource, Source};
use crate::spec::Rules;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Counters that tests and operators can read.
#[derive(Debug, Default)]
pub struct Stats {
    pub(crate) transforms: AtomicU64,
    pub(crate) store_hits: AtomicU64,
}

impl Stats {
    /// Transforms run (cache misses that decoded an original).
    pub fn transforms(&self) -> u64 {
        self.transforms.load(Ordering::Relaxed)
    }

    /// Results served from the result store.
    pub fn store_hits(&self) -> u64 {
        self.store_hits.load(Ordering::Relaxed)
    }
}

/// Everything a request needs, built once per process (per cold start on Lambda).
#[derive(Clone)]
pub struct AppState {
    /// The configuration.
    pub config: Arc<Config>,
    /// Originals.
    pub source: Arc<dyn Source>,
    /// Results.
    pub store: Arc<dyn ResultStore>,
    /// The memory cache.
    pub memory: MemoryCache,
    /// Counters.
    pub stats: Arc<Stats>,
    /// Source versions trusted for `--revalidate-secs` (absent when that is 0).
    pub(crate) versions: Option<moka::future::Cache<crate::spec::Key, crate::source::Meta>>,
    /// Transform slots (`--max-transforms`).
    pub(crate) permits: Arc<tokio::sync::Semaphore>,
    /// The memory budget (`--max-memory-mb`).
    pub(crate) budget: budget::MemoryBudget,
    /// Wrong API keys by client, for their back-off.
    pub(crate) backoff: Arc<crate::http::backoff::Backoff>,
    /// Writes to one key run one at a time (uploads, deletes, their purges and eager variants).
    pub(crate) writes: Arc<KeyLocks>,
    /// The S3 client, when the source or result store is a bucket (jobs naming other buckets).
    #[cfg(feature = "aws")]
    pub(crate) s3: Option<aws_sdk_s3::Client>,
    /// CloudFront invalidations, with `--cloudfront-distribution-id`.
    #[cfg(feature = "aws")]
    pub(crate) invalidator: Option<crate::aws::Invalidator>,
}

/// Striped locks: writes to one key are serialised in this process, so concurrent replacements
/// leave the result store holding the last write's variants. 64 stripes bound the memory.
pub(crate) struct KeyLocks([tokio::sync::Mutex<()>; 64]);

impl Default for KeyLocks {
    fn default() -> Self {
        KeyLocks(std::array::from_fn(|_| tokio::sync::Mutex::new(())))
    }
}

impl KeyLocks {
    /// Waits for the lock of `key`'s stripe.
    pub(crate) async fn lock(&self, key: &crate::spec::Key) -> tokio::sync::MutexGuard<'_, ()> {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(key.as_str());
        self.0[(hash % 64) as usize].lock().await
    }
}

impl AppState {
    /// A state over explicit parts (tests use this with their own source and store).
    pub fn new(config: Config, source: Arc<dyn Source>, store: Arc<dyn ResultStore>) -> Self {
        let memory = MemoryCache::new(config.memory_cache_bytes);
        let versions = (!config.revalidate.is_zero()).then(|| {
            moka::future::Cache::builder().max_capacity(100_000).time_to_live(config.revalidate).build()
        });
        let permits = Arc::new(tokio::sync::Semaphore::new(config.max_transforms.max(1)));
        let budget = budget::MemoryBudget::new(config.limits.max_memory);
        AppState {
            config: Arc::new(config),
            source,
            store,
            memory,
            stats: Arc::default(),
            versions,
            permits,
            budget,
            writes: Arc::default(),
            backoff: Arc::default(),
            #[cfg(feature = "aws")]
            s3: None,
            #[cfg(feature = "aws")]
            invalidator: None,
        }
    }

    /// This state with an S3 client for jobs naming other buckets.
    #[cfg(feature = "aws")]
    pub fn with_s3(mut self, client: aws_sdk_s3::Client) -> Self {
        self.s3 = Some(client);
        self
    }

    /// This state with CloudFront invalidations on changes.
    #[cfg(feature = "aws")]
    pub fn with_invalidator(mut self, invalidator: crate::aws::Invalidator) -> Self {
        self.invalidator = Some(invalidator);
        self
    }

    /// The source's version of `key` is looked up again on next use (it just changed).
    pub(crate) async fn forget_version(&self, key: &crate::spec::Key) {
        if let Some(cache) = &self.versions {
            cache.invalidate(key).await;
        }
    }

    /// The state the configuration describes; clients are built here, once.
    pub async fn from_config(config: Config) -> std::io::Result<Self> {
        #[cfg(feature = "aws")]
        let s3 = {
            let uses_s3 = matches!(config.source, SourceConfig::S3(_))
                || matches!(config.result_store, StoreConfig::S3(_));
            let settings =
                crate::aws::S3Settings { endpoint: config.s3_endpoint.clone(), timeout: config.s3_timeout };
            match uses_s3 {
                true => Some(crate::aws::s3_client(&settings).await),
                false => None,
            }
        };
        let source: Arc<dyn Source> = match &config.source {
            SourceConfig::Embedded => Arc::new(EmbeddedSource),
            SourceConfig::Local(dir) => Arc::new(LocalSource::new(dir)?),
            #[cfg(feature = "aws")]
            SourceConfig::S3(loc) => {
                Arc::new(crate::aws::S3Source::new(s3.clone().expect("built above"), loc.clone()))
            }
        };
        let store: Arc<dyn ResultStore> = match &config.result_store {
            StoreConfig::Off => Arc::new(NoStore),
            StoreConfig::Local(dir) => Arc::new(DirStore::new(dir)?),
            #[cfg(feature = "aws")]
            StoreConfig::S3(loc) => Arc::new(crate::aws::S3Store::new(
                s3.clone().expect("built above"),
                loc.clone(),
                config.cache_control.clone(),
            )),
        };
        #[cfg(feature = "aws")]
        let invalidator = match &config.cloudfront_distribution_id {
            Some(id) => Some(
                crate::aws::Invalidator::new(id, config.cloudfront_endpoint.as_deref(), config.s3_timeout)
                    .await,
            ),
            None => None,
        };
        let state = AppState::new(config, source, store);
        #[cfg(feature = "aws")]
        let state = AppState { s3, invalidator, ..state };
        Ok(state)
    }

    /// The result store's bucket, when it is one (named in job results).
    pub fn store_bucket(&self) -> Option<&str> {
        self.config.store_location().map(|(bucket, _)| bucket)
    }

    /// KiB of the memory budget not reserved now.
    pub fn memory_budget_free_kib(&self) -> usize {
        self.budget.available_kib()
    }

    /// The resolution rules of this configuration (spec::resolve).
    pub fn rules(&self) -> Rules<'_> {
        let c = &self.config;
        Rules {
            presets: Some(&c.presets),
            presets_only: c.presets_only,
            max_output_side: c.limits.max_output_side,
            max_output_pixels: Some(c.limits.max_output_pixels),
            signer: c.signer.as_ref(),
            allow_unsigned_presets: c.allow_unsigned_presets,
        }
    }

    /// The source's current version of `key`, trusted for `--revalidate-secs`.
    pub(crate) async fn source_version(
        &self,
        key: &crate::spec::Key,
    ) -> Result<crate::source::Meta, crate::source::SourceError> {
        match &self.versions {
            None => self.source.head(key).await,
            Some(cache) => {
                cache.try_get_with(key.clone(), self.source.head(key)).await.map_err(|e| (*e).clone())
            }
        }
    }
}
