//! Results in S3, key-first: `{prefix}{key}/{variant}`, with the source ETag and the variant in
//! the object's metadata.

use super::S3Location;
use crate::cache::{ResultStore, StoreError, StoredResult};
use crate::spec::{Key, Variant};
use async_trait::async_trait;
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;

/// Stores results under `s3://bucket/prefix`.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    location: S3Location,
    cache_control: String,
}

const SOURCE_ETAG: &str = "source-etag";
const VARIANT: &str = "variant";

impl S3Store {
    /// A store over `location`; objects are written with `cache_control`.
    pub fn new(client: aws_sdk_s3::Client, location: S3Location, cache_control: impl Into<String>) -> Self {
        S3Store { client, location, cache_control: cache_control.into() }
    }

    fn folder(&self, key: &Key) -> String {
        format!("{}{}/", self.location.prefix, key)
    }
}

fn fail(what: &str, e: impl std::error::Error) -> StoreError {
    StoreError(format!("{what}: {}", DisplayErrorContext(e)))
}

#[async_trait]
impl ResultStore for S3Store {
    async fn get(&self, key: &Key, variant: &Variant) -> Result<Option<StoredResult>, StoreError> {
        let out = self
            .client
            .get_object()
            .bucket(&self.location.bucket)
            .key(format!("{}{variant}", self.folder(key)))
            .send()
            .await;
        let obj = match out {
            Ok(o) => o,
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => return Ok(None),
            Err(e) => return Err(fail("GetObject", e)),
        };
        let content_type = obj.content_type().unwrap_or("application/octet-stream").to_string();
        let source_etag = obj.metadata().and_then(|m| m.get(SOURCE_ETAG)).cloned().unwrap_or_default();
        let bytes =
            obj.body.collect().await.map_err(|e| StoreError(format!("GetObject body: {e}")))?.into_bytes();
        Ok(Some(StoredResult { bytes, content_type, source_etag }))
    }

    async fn put(&self, key: &Key, variant: &Variant, result: &StoredResult) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(&self.location.bucket)
            .key(format!("{}{variant}", self.folder(key)))
            .body(ByteStream::from(result.bytes.clone()))
            .content_type(&result.content_type)
            .cache_control(&self.cache_control)
            .metadata(SOURCE_ETAG, &result.source_etag)
            .metadata(VARIANT, variant.as_str())
            .send()
            .await
            .map_err(|e| fail("PutObject", e))?;
        Ok(())
    }

    async fn purge(&self, key: &Key) -> Result<usize, StoreError> {
        let folder = self.folder(key);
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.location.bucket)
            .prefix(&folder)
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| fail("ListObjectsV2", e))?;
            // Only this key's variants: a nested key `a.jpg/b.jpg` has its own folder.
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key())
                    .filter(|k| !k[folder.len()..].contains('/'))
                    .map(str::to_string),
            );
        }
        for batch in keys.chunks(1000) {
            let objects = batch
                .iter()
                .map(|k| aws_sdk_s3::types::ObjectIdentifier::builder().key(k).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| fail("DeleteObjects", e))?;
            let delete = aws_sdk_s3::types::Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(|e| fail("DeleteObjects", e))?;
            self.client
                .delete_objects()
                .bucket(&self.location.bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| fail("DeleteObjects", e))?;
        }
        Ok(keys.len())
    }

    fn locate(&self, key: &Key, variant: &Variant) -> Option<String> {
        Some(format!("{}{variant}", self.folder(key)))
    }

    fn describe(&self) -> String {
        format!("s3://{}/{}", self.location.bucket, self.location.prefix)
    }
}
