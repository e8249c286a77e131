//! A folder of originals on the local disk.

use super::{Meta, Original, Source, SourceError};
use crate::spec::Key;
use async_trait::async_trait;
use std::io;
use std::path::{Path, PathBuf};
use tokio::io::AsyncReadExt;

/// Reads originals from a folder; keys are paths below it. Symbolic links that lead out of the
/// folder are refused.
#[derive(Debug, Clone)]
pub struct LocalSource {
    root: PathBuf,
}

impl LocalSource {
    /// A source over `root`, which must be a readable folder.
    pub fn new(root: impl AsRef<Path>) -> io::Result<Self> {
        let root = root.as_ref().canonicalize()?;
        if !root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{} is not a folder", root.display()),
            ));
        }
        Ok(LocalSource { root })
    }

    /// The file for `key`, resolved and checked to lie inside the root.
    async fn resolve(&self, key: &Key) -> Result<(PathBuf, std::fs::Metadata), SourceError> {
        let not_found = || SourceError::NotFound(key.to_string());
        let path =
            tokio::fs::canonicalize(self.root.join(key.as_str())).await.map_err(|e| match e.kind() {
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => not_found(),
                _ => SourceError::Unavailable(e.to_string()),
            })?;
        if !path.starts_with(&self.root) {
            return Err(not_found());
        }
        let meta = tokio::fs::metadata(&path).await.map_err(|e| SourceError::Unavailable(e.to_string()))?;
        if !meta.is_file() {
            return Err(not_found());
        }
        Ok((path, meta))
    }
}

fn etag_of(meta: &std::fs::Metadata) -> String {
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    format!("{:x}-{:x}", meta.len(), modified)
}

#[async_trait]
impl Source for LocalSource {
    async fn head(&self, key: &Key) -> Result<Meta, SourceError> {
        let (_, meta) = self.resolve(key).await?;
        Ok(Meta { etag: etag_of(&meta), len: meta.len() })
    }

    async fn get(&self, key: &Key, max_bytes: u64) -> Result<Original, SourceError> {
        let (path, meta) = self.resolve(key).await?;
        if meta.len() > max_bytes {
            return Err(SourceError::TooLarge(max_bytes));
        }
        let file = tokio::fs::File::open(&path).await.map_err(|e| SourceError::Unavailable(e.to_string()))?;
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        // The cap holds even if the file grows between the stat and the read.
        file.take(max_bytes + 1)
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| SourceError::Unavailable(e.to_string()))?;
        if bytes.len() as u64 > max_bytes {
            return Err(SourceError::TooLarge(max_bytes));
        }
        Ok(Original { bytes: bytes.into(), etag: etag_of(&meta) })
    }

    async fn list(&self) -> Result<Vec<Key>, SourceError> {
        let root = self.root.clone();
        let walk = move || {
            let mut keys = Vec::new();
            let mut dirs = vec![root.clone()];
            while let Some(dir) = dirs.pop() {
                for entry in std::fs::read_dir(&dir)? {
                    let entry = entry?;
                    let kind = entry.file_type()?;
                    if kind.is_dir() {
                        dirs.push(entry.path());
                    } else if kind.is_file() {
                        let rel = entry.path().strip_prefix(&root).map(|p| p.to_string_lossy().into_owned());
                        if let Ok(key) =
                            rel.map_err(|_| ()).and_then(|r| crate::spec::validate_key(&r).map_err(|_| ()))
                        {
                            keys.push(key);
                        }
                    }
                }
            }
            keys.sort_by(|a: &Key, b| a.as_str().cmp(b.as_str()));
            Ok::<_, io::Error>(keys)
        };
        tokio::task::spawn_blocking(walk)
            .await
            .map_err(|e| SourceError::Unavailable(e.to_string()))?
            .map_err(|e| SourceError::Unavailable(e.to_string()))
    }

    fn describe(&self) -> String {
        format!("folder {}", self.root.display())
    }
}
