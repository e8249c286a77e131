//! Originals in S3: `GetObject` with the byte cap applied while the body streams in.

use super::{classify, S3Location};
use crate::source::{Listed, Meta, Original, Page, Source, SourceError, Written};
use crate::spec::Key;
use async_trait::async_trait;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::operation::head_object::HeadObjectError;

/// Reads originals from `s3://bucket/prefix`.
#[derive(Debug, Clone)]
pub struct S3Source {
    client: aws_sdk_s3::Client,
    location: S3Location,
}

impl S3Source {
    /// A source over `location` using `client`.
    pub fn new(client: aws_sdk_s3::Client, location: S3Location) -> Self {
        S3Source { client, location }
    }

    fn object_key(&self, key: &Key) -> String {
        format!("{}{}", self.location.prefix, key)
    }
}

fn http_status<E, R: HttpStatus>(err: &SdkError<E, R>) -> Option<u16> {
    err.raw_response().map(HttpStatus::status)
}

/// The raw status of an SDK response (S3 answers some errors, like a 403 on HEAD, with no code).
trait HttpStatus {
    fn status(&self) -> u16;
}

impl HttpStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status(&self) -> u16 {
        self.status().as_u16()
    }
}

fn denied(what: &str, key: &Key) -> SourceError {
    tracing::error!(%key, "{what}: access denied; check the function's s3:GetObject permission on the source prefix");
    SourceError::Unavailable(format!("{what}: access denied"))
}

#[async_trait]
impl Source for S3Source {
    async fn head(&self, key: &Key) -> Result<Meta, SourceError> {
        let out =
            self.client.head_object().bucket(&self.location.bucket).key(self.object_key(key)).send().await;
        match out {
            Ok(o) => Ok(Meta {
                etag: o.e_tag().unwrap_or_default().to_string(),
                len: o.content_length().unwrap_or(0).max(0) as u64,
            }),
            Err(e)
                if matches!(e.as_service_error(), Some(HeadObjectError::NotFound(_)))
                    || http_status(&e) == Some(404) =>
            {
                Err(SourceError::NotFound(key.to_string()))
            }
            Err(e) if http_status(&e) == Some(403) => Err(denied("HeadObject", key)),
            Err(e) => Err(classify("HeadObject", &e)),
        }
    }

    async fn get(&self, key: &Key, max_bytes: u64) -> Result<Original, SourceError> {
        let out =
            self.client.get_object().bucket(&self.location.bucket).key(self.object_key(key)).send().await;
        let mut obj = match out {
            Ok(o) => o,
            Err(e)
                if matches!(e.as_service_error(), Some(GetObjectError::NoSuchKey(_)))
                    || http_status(&e) == Some(404) =>
            {
                return Err(SourceError::NotFound(key.to_string()))
            }
            Err(e) if http_status(&e) == Some(403) => return Err(denied("GetObject", key)),
            Err(e) => return Err(classify("GetObject", &e)),
        };
        if obj.content_length().is_some_and(|n| n.max(0) as u64 > max_bytes) {
            return Err(SourceError::TooLarge(max_bytes)); // dropping the body abandons the download
        }
        let etag = obj.e_tag().unwrap_or_default().to_string();
        let mut bytes =
            Vec::with_capacity(obj.content_length().unwrap_or(0).clamp(0, max_bytes as i64) as usize);
        while let Some(chunk) =
            obj.body.try_next().await.map_err(|e| SourceError::Unavailable(format!("GetObject body: {e}")))?
        {
            if (bytes.len() + chunk.len()) as u64 > max_bytes {
                return Err(SourceError::TooLarge(max_bytes));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Original { bytes: bytes.into(), etag })
    }

    async fn list(&self, limit: Option<usize>) -> Result<Vec<Key>, SourceError> {
        let mut request =
            self.client.list_objects_v2().bucket(&self.location.bucket).prefix(&self.location.prefix);
        if let Some(n) = limit {
            // One page: ListObjectsV2 returns keys in order, so this is the first `n`.
            request = request.max_keys(n.clamp(1, 1000) as i32);
        }
        let mut pages = request.into_paginator().send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("ListObjectsV2", &e))?;
            let names = page.contents().iter().filter_map(|o| o.key());
            let relative = names.filter_map(|k| k.strip_prefix(self.location.prefix.as_str()));
            keys.extend(relative.filter_map(|k| crate::spec::validate_key(k).ok()));
            if limit.is_some() {
                break;
            }
        }
        Ok(keys)
    }

    fn describe(&self) -> String {
        format!("s3://{}/{}", self.location.bucket, self.location.prefix)
    }

    /// One `PutObject`: S3 stores an object whole or not at all. A `HeadObject` before it tells
    /// a new key from a replaced one; `If-None-Match: *` is S3's own conditional write.
    async fn put(
        &self,
        key: &Key,
        bytes: bytes::Bytes,
        content_type: &str,
        only_if_new: bool,
    ) -> Result<Written, SourceError> {
        let existed = match self.head(key).await {
            Ok(_) => true,
            Err(SourceError::NotFound(_)) => false,
            Err(e) => return Err(e),
        };
        if existed && only_if_new {
            return Err(SourceError::Exists(key.to_string()));
        }
        let mut request = self
            .client
            .put_object()
            .bucket(&self.location.bucket)
            .key(self.object_key(key))
            .content_type(content_type)
            .body(aws_sdk_s3::primitives::ByteStream::from(bytes));
        if only_if_new {
            request = request.if_none_match("*");
        }
        match request.send().await {
            Ok(out) => Ok(Written { created: !existed, etag: out.e_tag().unwrap_or_default().to_string() }),
            Err(e) if http_status(&e) == Some(412) => Err(SourceError::Exists(key.to_string())),
            Err(e) if http_status(&e) == Some(403) => Err(denied("PutObject", key)),
            Err(e) => Err(classify("PutObject", &e)),
        }
    }

    /// S3's `DeleteObject` answers 204 whether or not the key existed: a `HeadObject` first.
    async fn delete(&self, key: &Key) -> Result<bool, SourceError> {
        match self.head(key).await {
            Ok(_) => {}
            Err(SourceError::NotFound(_)) => return Ok(false),
            Err(e) => return Err(e),
        }
        let out =
            self.client.delete_object().bucket(&self.location.bucket).key(self.object_key(key)).send().await;
        match out {
            Ok(_) => Ok(true),
            Err(e) if http_status(&e) == Some(403) => Err(denied("DeleteObject", key)),
            Err(e) => Err(classify("DeleteObject", &e)),
        }
    }

    async fn page(&self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Page, SourceError> {
        let base = &self.location.prefix;
        let mut request = self
            .client
            .list_objects_v2()
            .bucket(&self.location.bucket)
            .prefix(format!("{base}{prefix}"))
            .max_keys(limit.clamp(1, 1000) as i32);
        if let Some(after) = after {
            request = request.start_after(format!("{base}{after}"));
        }
        let out = request.send().await.map_err(|e| classify("ListObjectsV2", &e))?;
        let relative = |o: &aws_sdk_s3::types::Object| {
            o.key().and_then(|k| k.strip_prefix(base.as_str())).map(str::to_string)
        };
        let items = out
            .contents()
            .iter()
            .filter_map(|o| {
                let key = crate::spec::validate_key(&relative(o)?).ok()?;
                let modified = o.last_modified().and_then(|t| std::time::SystemTime::try_from(*t).ok());
                Some(Listed {
                    key: key.to_string(),
                    bytes: o.size().unwrap_or(0).max(0) as u64,
                    etag: o.e_tag().unwrap_or_default().to_string(),
                    last_modified: crate::source::rfc3339(modified.unwrap_or(std::time::UNIX_EPOCH)),
                })
            })
            .collect();
        // The last key S3 looked at, listed or not, is where the next page starts.
        let next = match out.is_truncated() {
            Some(true) => out.contents().last().and_then(relative),
            _ => None,
        };
        Ok(Page { items, next })
    }
}
