//! Staying fresh: when an original is replaced or deleted, its stored variants are purged, its
//! version is looked up again, and with `--cloudfront-distribution-id` the edge is invalidated
//! (`/{key}*`), so no cache serves the old bytes for longer than the invalidation takes.

use crate::spec::Key;
use crate::state::AppState;

/// What making `key` fresh did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Freshness {
    /// Stored variants deleted.
    pub purged: usize,
    /// The CloudFront paths invalidated.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invalidated: Vec<String>,
    /// The CloudFront invalidation's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invalidation_id: Option<String>,
    /// What failed (the purge or the invalidation); empty when all went through.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// Purges `key`'s variants and invalidates the edge. Failures are reported, never retried here:
/// a stored variant of an older version is never served anyway (its source ETag no longer
/// matches), so a failed purge costs storage, not correctness.
pub async fn original_changed(state: &AppState, key: &Key) -> Freshness {
    state.forget_version(key).await;
    let mut fresh = Freshness::default();
    match state.store.purge(key).await {
        Ok(n) => fresh.purged = n,
        Err(e) => fresh.errors.push(e.to_string()),
    }
    invalidate(state, key, &mut fresh).await;
    let line = serde_json::to_string(&fresh).unwrap_or_default();
    match fresh.errors.is_empty() {
        true => {
            tracing::info!(%key, outcome = "succeeded", result = %line, "original changed: variants purged")
        }
        false => {
            tracing::warn!(%key, outcome = "failed", result = %line, "original changed: purge incomplete")
        }
    }
    fresh
}

/// Only the edge: the variants are current already (the API stored them), the CDN may not be.
pub async fn invalidate_edge(state: &AppState, key: &Key) -> Freshness {
    let mut fresh = Freshness::default();
    invalidate(state, key, &mut fresh).await;
    fresh
}

#[cfg(feature = "aws")]
async fn invalidate(state: &AppState, key: &Key, fresh: &mut Freshness) {
    let Some(invalidator) = &state.invalidator else { return };
    let paths = crate::spec::edge_paths(key);
    match invalidator.invalidate(&paths).await {
        Ok(id) => {
            fresh.invalidated = paths;
            fresh.invalidation_id = Some(id);
        }
        Err(e) => fresh.errors.push(e),
    }
}

#[cfg(not(feature = "aws"))]
async fn invalidate(_: &AppState, _: &Key, _: &mut Freshness) {}
