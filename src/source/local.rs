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
                // A segment longer than the file system allows (255 bytes) names no file here.
                io::ErrorKind::InvalidFilename => not_found(),
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

/// A file's version: size, modification time, and what copying cannot preserve — the inode's
/// number and its change time (`cp -p`, `rsync -t` and `tar x` restore the mtime, never the ctime).
fn etag_of(meta: &std::fs::Metadata) -> String {
    use std::os::unix::fs::MetadataExt;
    let nanos = |secs: i64, nsecs: i64| (i128::from(secs) * 1_000_000_000 + i128::from(nsecs)) as u128;
    format!(
        "{:x}-{:x}-{:x}-{:x}",
        meta.len(),
        nanos(meta.mtime(), meta.mtime_nsec()),
        nanos(meta.ctime(), meta.ctime_nsec()),
        meta.ino()
    )
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
        let mut file =
            tokio::fs::File::open(&path).await.map_err(|e| SourceError::Unavailable(e.to_string()))?;
        // Exactly the stated size (a growing Vec could double it, past the memory reserved for
        // it), then one probe: the cap holds even if the file grows between the stat and the read.
        let mut bytes = vec![0u8; meta.len() as usize];
        let unavailable = |e: io::Error| SourceError::Unavailable(e.to_string());
        let mut filled = 0;
        while filled < bytes.len() {
            match file.read(&mut bytes[filled..]).await.map_err(unavailable)? {
                0 => break,
                n => filled += n,
            }
        }
        bytes.truncate(filled);
        let mut probe = [0u8; 1];
        if file.read(&mut probe).await.map_err(unavailable)? > 0 {
            // It grew since the stat: read on, still under the cap.
            bytes.push(probe[0]);
            let rest = max_bytes.saturating_sub(bytes.len() as u64) + 1;
            (&mut file).take(rest).read_to_end(&mut bytes).await.map_err(unavailable)?;
        }
        if bytes.len() as u64 > max_bytes {
            return Err(SourceError::TooLarge(max_bytes));
        }
        Ok(Original { bytes: bytes.into(), etag: etag_of(&meta) })
    }

    async fn list(&self, limit: Option<usize>) -> Result<Vec<Key>, SourceError> {
        let root = self.root.clone();
        let limit = limit.unwrap_or(usize::MAX);
        let walk = move || {
            let mut keys = Vec::new();
            let mut dirs = vec![root.clone()];
            // A bounded walk: it stops at the first `limit` keys found, not after the whole tree.
            while let Some(dir) = dirs.pop().filter(|_| keys.len() < limit) {
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
            keys.truncate(limit);
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
