//! A folder of originals on the local disk.

use super::{Listed, Meta, Original, Page, Source, SourceError, Written};
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

impl LocalSource {
    /// The path `key` is written to, its parent folders created, each checked to lie inside the
    /// root (a symbolic link inside the folder must not lead a write out of it).
    fn writable_path(&self, key: &Key) -> Result<PathBuf, SourceError> {
        // A name the file system cannot hold is the key's fault (400), not the folder's (502).
        if key.as_str().split('/').any(|segment| segment.len() > super::NAME_MAX) {
            return Err(SourceError::Unnameable(key.to_string()));
        }
        let path = self.root.join(key.as_str());
        let parent = path.parent().ok_or_else(|| SourceError::Conflict(key.to_string()))?;
        let conflict = |e: io::Error| match e.kind() {
            io::ErrorKind::NotADirectory | io::ErrorKind::AlreadyExists => {
                SourceError::Conflict(key.to_string())
            }
            _ => SourceError::Unavailable(e.to_string()),
        };
        // The deepest folder that exists must resolve inside the root; the ones made below it
        // are new, so they are not links.
        let mut existing = parent;
        while !existing.exists() {
            existing = existing.parent().unwrap_or(&self.root);
        }
        let resolved = existing.canonicalize().map_err(conflict)?;
        if !resolved.starts_with(&self.root) || !resolved.is_dir() {
            return Err(SourceError::Conflict(key.to_string()));
        }
        std::fs::create_dir_all(parent).map_err(conflict)?;
        Ok(path)
    }

    /// Files below `root` with a valid key (no links followed, no upload in progress), in walk
    /// order; a bounded walk that stops once `limit` are found.
    fn walk(root: &Path, limit: usize) -> io::Result<Vec<(Key, PathBuf)>> {
        let mut found = Vec::new();
        let mut dirs = vec![root.to_path_buf()];
        while let Some(dir) = dirs.pop().filter(|_| found.len() < limit) {
            for entry in std::fs::read_dir(&dir)? {
                let entry = entry?;
                let kind = entry.file_type()?;
                if kind.is_dir() {
                    dirs.push(entry.path());
                } else if kind.is_file() && !entry.file_name().to_string_lossy().starts_with(TEMPORARY) {
                    let path = entry.path();
                    let rel = path.strip_prefix(root).map(|p| p.to_string_lossy().into_owned());
                    if let Some(key) = rel.ok().and_then(|r| crate::spec::validate_key(&r).ok()) {
                        found.push((key, path));
                    }
                }
            }
        }
        Ok(found)
    }
}

/// Runs blocking file-system work off the async runtime.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> Result<T, SourceError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| SourceError::Unavailable(e.to_string()))?
        .map_err(|e| SourceError::Unavailable(e.to_string()))
}

/// Uploads are written under this name first and renamed; listings never show one.
const TEMPORARY: &str = ".pixflow-upload-";

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
        blocking(move || {
            let mut keys: Vec<Key> = LocalSource::walk(&root, limit)?.into_iter().map(|(k, _)| k).collect();
            keys.sort_by(|a, b| a.as_str().cmp(b.as_str()));
            keys.truncate(limit);
            Ok(keys)
        })
        .await
    }

    fn describe(&self) -> String {
        format!("folder {}", self.root.display())
    }

    async fn put(
        &self,
        key: &Key,
        bytes: bytes::Bytes,
        _: &str,
        only_if_new: bool,
    ) -> Result<Written, SourceError> {
        let path = self.writable_path(key)?;
        let key = key.clone();
        let write = move || {
            let unavailable = |e: io::Error| SourceError::Unavailable(e.to_string());
            static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let dir = path.parent().expect("writable_path has a parent");
            let tmp = dir.join(format!("{TEMPORARY}{}-{n}", std::process::id()));
            std::fs::write(&tmp, &bytes).map_err(unavailable)?;
            let existed = std::fs::symlink_metadata(&path).is_ok();
            // A hard link is created only where no name exists: `If-None-Match: *` without a race.
            let placed = match only_if_new {
                true => std::fs::hard_link(&tmp, &path).and_then(|()| std::fs::remove_file(&tmp)),
                false => std::fs::rename(&tmp, &path),
            };
            if let Err(e) = placed {
                let _ = std::fs::remove_file(&tmp);
                return Err(match e.kind() {
                    io::ErrorKind::AlreadyExists => SourceError::Exists(key.to_string()),
                    io::ErrorKind::IsADirectory | io::ErrorKind::DirectoryNotEmpty => {
                        SourceError::Conflict(key.to_string())
                    }
                    _ => unavailable(e),
                });
            }
            let meta = std::fs::metadata(&path).map_err(unavailable)?;
            Ok(Written { created: !existed, etag: etag_of(&meta) })
        };
        tokio::task::spawn_blocking(write).await.map_err(|e| SourceError::Unavailable(e.to_string()))?
    }

    async fn delete(&self, key: &Key) -> Result<bool, SourceError> {
        // Resolved first, so a link leading out of the folder is not found here either.
        match self.resolve(key).await {
            Ok(_) => {}
            Err(SourceError::NotFound(_)) => return Ok(false),
            Err(e) => return Err(e),
        }
        // The name is removed, not what a link inside the folder points to.
        match tokio::fs::remove_file(self.root.join(key.as_str())).await {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(SourceError::Unavailable(e.to_string())),
        }
    }

    async fn page(&self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Page, SourceError> {
        let root = self.root.clone();
        let (prefix, after) = (prefix.to_string(), after.unwrap_or("").to_string());
        blocking(move || {
            let mut files: Vec<_> = LocalSource::walk(&root, usize::MAX)?
                .into_iter()
                .filter(|(k, _)| k.as_str().starts_with(&prefix) && k.as_str() > after.as_str())
                .collect();
            files.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
            let more = files.len() > limit;
            files.truncate(limit);
            let next = more.then(|| files.last().map(|(k, _)| k.to_string())).flatten();
            // Only the page's files are looked at, not every file the walk found.
            let items = files
                .into_iter()
                .map(|(key, path)| {
                    let meta = std::fs::symlink_metadata(path)?;
                    Ok(Listed {
                        key: key.to_string(),
                        bytes: meta.len(),
                        etag: etag_of(&meta),
                        last_modified: super::rfc3339(meta.modified().unwrap_or(std::time::UNIX_EPOCH)),
                    })
                })
                .collect::<io::Result<_>>()?;
            Ok(Page { items, next })
        })
        .await
    }
}
