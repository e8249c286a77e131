//! S3 event notifications (`ObjectCreated:*`, `ObjectRemoved:*`) on the source bucket: a new or
//! replaced original gets its stored variants purged, the edge invalidated and the eager
//! variants rendered; a removed one is purged and invalidated. Each outcome is one log line.
//!
//! The event is read by pixflow's own four fields rather than `aws_lambda_events`' `S3Event`,
//! which pulls in chrono and refuses records missing fields pixflow never reads (`eventTime`,
//! `userIdentity`, …); the tests feed it the example AWS documents.

use super::{fresh, variants};
use crate::spec::{validate_key, Key};
use crate::state::AppState;

/// A notification: the records S3 delivers (usually one).
#[derive(Debug, serde::Deserialize)]
pub struct Notification {
    /// The records.
    #[serde(rename = "Records", default)]
    pub records: Vec<Record>,
}

/// One record, by the fields pixflow reads.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// `ObjectCreated:Put`, `ObjectRemoved:Delete`, …
    #[serde(default)]
    pub event_name: String,
    /// The bucket and object.
    pub s3: Entity,
}

/// The `s3` member of a record.
#[derive(Debug, serde::Deserialize)]
pub struct Entity {
    /// The bucket.
    pub bucket: Bucket,
    /// The object.
    pub object: Object,
}

/// The bucket of a record.
#[derive(Debug, serde::Deserialize)]
pub struct Bucket {
    /// Its name.
    pub name: String,
}

/// The object of a record.
#[derive(Debug, serde::Deserialize)]
pub struct Object {
    /// The key, URL-encoded as S3 sends it (`+` for a space).
    pub key: String,
    /// The new version's ETag (created events only), without quotes.
    #[serde(rename = "eTag", default)]
    pub etag: Option<String>,
}

/// What became of one record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Handled {
    /// The event's name.
    pub event_name: String,
    /// The object key as decoded.
    pub object_key: String,
    /// `succeeded`, `failed`, or `skipped` (not an original of this source).
    pub outcome: &'static str,
    /// Why it was skipped or failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The purge and invalidation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fresh: Option<fresh::Freshness>,
    /// The eager variants.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<variants::VariantResult>,
}

impl Handled {
    /// Whether a retry could help: the origin or store failed, not the image.
    pub fn transient(&self) -> bool {
        // 502–504: the origin, store or a deadline; 500 is a bug a retry would repeat.
        self.variants.iter().any(|v| v.status_code > 500)
            || self.fresh.as_ref().is_some_and(|f| !f.errors.is_empty())
    }
}

/// An S3 event key decoded: `+` is a space, then percent-escapes (S3's form encoding).
pub fn decode_key(raw: &str) -> String {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

/// Handles every record of a notification, one after another.
pub async fn handle(state: &AppState, notification: &Notification) -> Vec<Handled> {
    let mut out = Vec::new();
    for record in &notification.records {
        let handled = one(state, record).await;
        let line = serde_json::to_string(&handled).unwrap_or_default();
        match handled.outcome {
            "failed" => tracing::warn!(outcome = handled.outcome, result = %line, "S3 event"),
            _ => tracing::info!(outcome = handled.outcome, result = %line, "S3 event"),
        }
        out.push(handled);
    }
    out
}

async fn one(state: &AppState, record: &Record) -> Handled {
    let object_key = decode_key(&record.s3.object.key);
    let mut handled = Handled {
        event_name: record.event_name.clone(),
        object_key: object_key.clone(),
        outcome: "skipped",
        reason: None,
        fresh: None,
        variants: Vec::new(),
    };
    let key = match original_key(state, &record.s3.bucket.name, &object_key) {
        Ok(key) => key,
        Err(why) => {
            handled.reason = Some(why);
            return handled;
        }
    };
    let created = record.event_name.starts_with("ObjectCreated");
    if !created && !record.event_name.starts_with("ObjectRemoved") {
        handled.reason = Some("not an ObjectCreated or ObjectRemoved event".into());
        return handled;
    }
    let _one_writer = state.writes.lock(&key).await;
    let etag = record.s3.object.etag.as_deref().map(|e| e.trim_matches('"').to_string());
    if created && etag.is_some() && already_fresh(state, &key, etag.as_deref().unwrap_or("")).await {
        // Uploaded through pixflow's own API, which purged and rendered already: only the edge
        // (which the API's function cannot reach, see the README) is left to clear.
        handled.fresh = Some(fresh::invalidate_edge(state, &key).await);
        handled.reason = Some("the eager variants of this version are stored already".into());
    } else {
        handled.fresh = Some(fresh::original_changed(state, &key).await);
        if created {
            handled.variants = variants::render(state, &key, &state.config.eager, state.store_bucket()).await;
        }
    }
    let failed = handled.variants.iter().any(|v| !v.succeeded())
        || handled.fresh.as_ref().is_some_and(|f| !f.errors.is_empty());
    handled.outcome = if failed { "failed" } else { "succeeded" };
    handled
}

/// The source key an S3 object is, or why it is not one: another bucket, outside the source
/// prefix, or inside the result store (results written to the source bucket must not trigger
/// more rendering).
fn original_key(state: &AppState, bucket: &str, object_key: &str) -> Result<Key, String> {
    let Some((source_bucket, prefix)) = state.config.source_location() else {
        return Err("the source is not a bucket".into());
    };
    if bucket != source_bucket {
        return Err(format!("bucket {bucket} is not the source bucket"));
    }
    if let Some((store_bucket, store_prefix)) = state.config.store_location() {
        if store_bucket == bucket && object_key.starts_with(store_prefix) {
            return Err("a stored result, not an original".into());
        }
    }
    let Some(relative) = object_key.strip_prefix(prefix) else {
        return Err(format!("outside the source prefix {prefix}"));
    };
    validate_key(relative).map_err(|e| e.to_string())
}

/// Whether every eager variant of `key` is stored, made from the version `etag`.
async fn already_fresh(state: &AppState, key: &Key, etag: &str) -> bool {
    if state.config.eager.is_empty() {
        return false;
    }
    for resolved in variants::requests(state, key, &state.config.eager) {
        let Ok(resolved) = resolved else { return false };
        match state.store.get(key, &resolved.variant).await {
            Ok(Some(stored)) if stored.source_etag.trim_matches('"') == etag => {}
            _ => return false,
        }
    }
    true
}
