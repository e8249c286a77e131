//! The result store in a local folder (`{dir}/{key}/{variant}`), and the `off` store.

use super::{ResultStore, StoreError, StoredResult};
use crate::spec::{Key, Variant};
use async_trait::async_trait;
use std::path::PathBuf;

/// Results as files. Each file holds a one-line JSON header (content type, source ETag) and then
/// the bytes; it is written to a temporary name and renamed, so readers never see half a file.
#[derive(Debug, Clone)]
pub struct DirStore {
    root: PathBuf,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Header {
    content_type: String,
    source_etag: String,
}

impl DirStore {
    /// A store under `root`, created if missing.
    pub fn new(root: impl Into<PathBuf>) -> std::io::Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(&root)?;
        Ok(DirStore { root })
    }

    fn path(&self, key: &Key, variant: &Variant) -> PathBuf {
        self.root.join(key.as_str()).join(variant.as_str())
    }
}

fn io(e: std::io::Error) -> StoreError {
    StoreError(e.to_string())
}

#[async_trait]
impl ResultStore for DirStore {
    async fn get(&self, key: &Key, variant: &Variant) -> Result<Option<StoredResult>, StoreError> {
        let data = match tokio::fs::read(self.path(key, variant)).await {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let nl = data.iter().position(|&b| b == b'\n').ok_or_else(|| StoreError("malformed entry".into()))?;
        let header: Header = serde_json::from_slice(&data[..nl]).map_err(|e| StoreError(e.to_string()))?;
        let bytes = bytes::Bytes::from(data).slice(nl + 1..);
        Ok(Some(StoredResult { bytes, content_type: header.content_type, source_etag: header.source_etag }))
    }

    async fn put(&self, key: &Key, variant: &Variant, result: &StoredResult) -> Result<(), StoreError> {
        let path = self.path(key, variant);
        let dir = path.parent().ok_or_else(|| StoreError("no parent folder".into()))?;
        tokio::fs::create_dir_all(dir).await.map_err(io)?;
        let header =
            Header { content_type: result.content_type.clone(), source_etag: result.source_etag.clone() };
        let mut data = serde_json::to_vec(&header).map_err(|e| StoreError(e.to_string()))?;
        data.push(b'\n');
        data.extend_from_slice(&result.bytes);
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = dir.join(format!(".tmp-{}-{n}", std::process::id()));
        tokio::fs::write(&tmp, &data).await.map_err(io)?;
        tokio::fs::rename(&tmp, &path).await.map_err(io)
    }

    async fn purge(&self, key: &Key) -> Result<usize, StoreError> {
        let dir = self.root.join(key.as_str());
        let mut entries = match tokio::fs::read_dir(&dir).await {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(io(e)),
        };
        let mut n = 0;
        while let Some(entry) = entries.next_entry().await.map_err(io)? {
            if entry.file_type().await.map_err(io)?.is_file() {
                tokio::fs::remove_file(entry.path()).await.map_err(io)?;
                n += 1;
            }
        }
        let _ = tokio::fs::remove_dir(&dir).await; // keeps nested keys' folders
        Ok(n)
    }

    fn locate(&self, key: &Key, variant: &Variant) -> Option<String> {
        Some(self.path(key, variant).display().to_string())
    }

    fn describe(&self) -> String {
        format!("folder {}", self.root.display())
    }
}

/// No result store (`--result-store off`).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoStore;

#[async_trait]
impl ResultStore for NoStore {
    async fn get(&self, _: &Key, _: &Variant) -> Result<Option<StoredResult>, StoreError> {
        Ok(None)
    }

    async fn put(&self, _: &Key, _: &Variant, _: &StoredResult) -> Result<(), StoreError> {
        Ok(())
    }

    async fn purge(&self, _: &Key) -> Result<usize, StoreError> {
        Ok(0)
    }

    fn locate(&self, _: &Key, _: &Variant) -> Option<String> {
        None
    }

    fn describe(&self) -> String {
        "off".into()
    }
}
