//! One contract for every Source and ResultStore implementation: the local folder and S3 (on the
//! real moto server) pass the same tests.

use crate::s3::moto;
use async_trait::async_trait;
use bytes::Bytes;
use pixflow::aws::{S3Location, S3Source, S3Store};
use pixflow::cache::{DirStore, ResultStore, StoredResult};
use pixflow::source::{LocalSource, Source, SourceError};
use pixflow::spec::{validate_key, Key};
use std::sync::Arc;

/// A place originals can be written to, and the Source and ResultStore over it.
#[async_trait]
trait Backend: Send + Sync {
    async fn put_original(&self, key: &str, bytes: &[u8]);
    fn source(&self) -> Arc<dyn Source>;
    fn store(&self) -> Arc<dyn ResultStore>;
}

struct Folder {
    originals: tempfile::TempDir,
    results: tempfile::TempDir,
}

#[async_trait]
impl Backend for Folder {
    async fn put_original(&self, key: &str, bytes: &[u8]) {
        let path = self.originals.path().join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        // A new mtime is part of the version; make sure it moves on coarse clocks.
        std::thread::sleep(std::time::Duration::from_millis(10));
        std::fs::write(path, bytes).unwrap();
    }
    fn source(&self) -> Arc<dyn Source> {
        Arc::new(LocalSource::new(self.originals.path()).unwrap())
    }
    fn store(&self) -> Arc<dyn ResultStore> {
        Arc::new(DirStore::new(self.results.path()).unwrap())
    }
}

struct Bucket {
    bucket: String,
}

#[async_trait]
impl Backend for Bucket {
    async fn put_original(&self, key: &str, bytes: &[u8]) {
        moto().put(&self.bucket, &format!("originals/{key}"), bytes).await;
    }
    fn source(&self) -> Arc<dyn Source> {
        let loc = S3Location::parse(&format!("s3://{}/originals", self.bucket)).unwrap();
        Arc::new(S3Source::new(moto().client(), loc))
    }
    fn store(&self) -> Arc<dyn ResultStore> {
        let loc = S3Location::parse(&format!("s3://{}/results/", self.bucket)).unwrap();
        Arc::new(S3Store::new(moto().client(), loc, "public, max-age=31536000, immutable"))
    }
}

async fn backends() -> Vec<(&'static str, Box<dyn Backend>)> {
    vec![
        (
            "folder",
            Box::new(Folder {
                originals: tempfile::tempdir().unwrap(),
                results: tempfile::tempdir().unwrap(),
            }),
        ),
        ("s3", Box::new(Bucket { bucket: moto().bucket().await })),
    ]
}

fn key(k: &str) -> Key {
    validate_key(k).unwrap()
}

#[tokio::test]
async fn source_get_head_missing_and_cap() {
    for (name, b) in backends().await {
        b.put_original("photos/a b.jpg", b"0123456789").await;
        let src = b.source();
        let got = src.get(&key("photos/a b.jpg"), 100).await.unwrap();
        assert_eq!(&got.bytes[..], b"0123456789", "{name}");
        let head = src.head(&key("photos/a b.jpg")).await.unwrap();
        assert_eq!((head.etag.as_str(), head.len), (got.etag.as_str(), 10), "{name}");
        assert!(
            matches!(src.get(&key("photos/none.jpg"), 100).await, Err(SourceError::NotFound(_))),
            "{name}"
        );
        assert!(matches!(src.head(&key("photos/none.jpg")).await, Err(SourceError::NotFound(_))), "{name}");
        assert!(matches!(src.get(&key("photos/a b.jpg"), 9).await, Err(SourceError::TooLarge(9))), "{name}");
        assert!(src.get(&key("photos/a b.jpg"), 10).await.is_ok(), "{name}: the cap is inclusive");
    }
}

#[tokio::test]
async fn source_etag_changes_with_the_bytes() {
    for (name, b) in backends().await {
        b.put_original("x.png", b"first").await;
        let first = b.source().head(&key("x.png")).await.unwrap().etag;
        b.put_original("x.png", b"second!").await;
        let second = b.source().head(&key("x.png")).await.unwrap().etag;
        assert_ne!(first, second, "{name}");
        assert_eq!(&b.source().get(&key("x.png"), 100).await.unwrap().bytes[..], b"second!", "{name}");
    }
}

fn result(bytes: &'static [u8], etag: &str) -> StoredResult {
    StoredResult {
        bytes: Bytes::from_static(bytes),
        content_type: "image/webp".into(),
        source_etag: etag.into(),
    }
}

#[tokio::test]
async fn store_put_get_purge() {
    for (name, b) in backends().await {
        let store = b.store();
        let k = key("photos/cat.jpg");
        assert_eq!(store.get(&k, &v("w_10")).await.unwrap(), None, "{name}");
        store.put(&k, &v("w_10"), &result(b"ten", "e1")).await.unwrap();
        store.put(&k, &v("w_20,f_webp"), &result(b"twenty", "e1")).await.unwrap();
        // A nested key's variants are not the parent's.
        store.put(&key("photos/cat.jpg/inner.jpg"), &v("w_5"), &result(b"five", "e1")).await.unwrap();
        assert_eq!(store.get(&k, &v("w_10")).await.unwrap(), Some(result(b"ten", "e1")), "{name}");
        store.put(&k, &v("w_10"), &result(b"TEN", "e2")).await.unwrap();
        assert_eq!(store.get(&k, &v("w_10")).await.unwrap(), Some(result(b"TEN", "e2")), "{name}: replaced");
        assert_eq!(store.purge(&k).await.unwrap(), 2, "{name}");
        assert_eq!(store.get(&k, &v("w_10")).await.unwrap(), None, "{name}");
        assert!(store.get(&key("photos/cat.jpg/inner.jpg"), &v("w_5")).await.unwrap().is_some(), "{name}");
        assert_eq!(store.purge(&key("never/stored.jpg")).await.unwrap(), 0, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn store_concurrent_puts_leave_whole_entries() {
    for (name, b) in backends().await {
        let store = b.store();
        let k = key("race.jpg");
        let payloads: [&'static [u8]; 4] = [b"aaaaaaaa", b"bbbbbbbbbbbb", b"cc", b"dddddd"];
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let store = store.clone();
                let k = k.clone();
                let p = payloads[i % 4];
                tokio::spawn(async move { store.put(&k, &v("w_1"), &result(p, "e")).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let got = store.get(&k, &v("w_1")).await.unwrap().unwrap();
        assert!(payloads.contains(&&got.bytes[..]), "{name}: {:?}", got.bytes);
    }
}

/// A variant as the server names it, from its options.
fn v(options: &str) -> pixflow::spec::Variant {
    let spec = pixflow::spec::parse_options(options, 8192).unwrap();
    pixflow::spec::Variant::new(&spec, spec.format, None)
}

/// Writes (the API's `PUT`/`DELETE /_/originals`): created vs replaced, `If-None-Match: *`, the
/// ETag written is the one read back, a deleted key is gone, a second delete finds nothing.
#[tokio::test]
async fn source_put_replace_refuse_and_delete() {
    for (name, b) in backends().await {
        let src = b.source();
        let k = key("up/ä b+c.jpg");
        let first = src.put(&k, Bytes::from_static(b"first"), "image/jpeg", false).await.unwrap();
        assert!(first.created, "{name}");
        assert_eq!(src.head(&k).await.unwrap().etag, first.etag, "{name}");
        let refused = src.put(&k, Bytes::from_static(b"other"), "image/jpeg", true).await;
        assert!(matches!(refused, Err(SourceError::Exists(_))), "{name}: {refused:?}");
        assert_eq!(
            &src.get(&k, 100).await.unwrap().bytes[..],
            b"first",
            "{name}: a refused write changes nothing"
        );
        let second = src.put(&k, Bytes::from_static(b"second!"), "image/jpeg", false).await.unwrap();
        assert!(!second.created, "{name}");
        assert_ne!(second.etag, first.etag, "{name}");
        assert_eq!(&src.get(&k, 100).await.unwrap().bytes[..], b"second!", "{name}");
        let new = src.put(&key("up/new.jpg"), Bytes::from_static(b"n"), "image/jpeg", true).await.unwrap();
        assert!(new.created, "{name}: If-None-Match: * stores a new key");
        assert!(src.delete(&k).await.unwrap(), "{name}");
        assert!(matches!(src.head(&k).await, Err(SourceError::NotFound(_))), "{name}");
        assert!(!src.delete(&k).await.unwrap(), "{name}: nothing left to delete");
    }
}

/// Listing pages: key order, `prefix`, `after`, `limit`, and `next` exactly when more follow.
#[tokio::test]
async fn source_pages_list_in_key_order() {
    for (name, b) in backends().await {
        for k in ["b/2.jpg", "a/1.jpg", "b/1.jpg", "b/3.jpg", "c.jpg"] {
            b.put_original(k, k.as_bytes()).await;
        }
        let src = b.source();
        let keys = |p: &pixflow::source::Page| p.items.iter().map(|i| i.key.clone()).collect::<Vec<_>>();
        let all = src.page("", None, 100).await.unwrap();
        assert_eq!(keys(&all), ["a/1.jpg", "b/1.jpg", "b/2.jpg", "b/3.jpg", "c.jpg"], "{name}");
        assert_eq!(all.next, None, "{name}");
        assert_eq!(all.items[0].bytes, 7, "{name}");
        assert_eq!(all.items[0].etag, src.head(&key("a/1.jpg")).await.unwrap().etag, "{name}");
        assert!(
            all.items[0].last_modified.ends_with('Z') && all.items[0].last_modified.len() == 20,
            "{name}"
        );
        let first = src.page("b/", None, 2).await.unwrap();
        assert_eq!(keys(&first), ["b/1.jpg", "b/2.jpg"], "{name}");
        assert_eq!(first.next.as_deref(), Some("b/2.jpg"), "{name}");
        let rest = src.page("b/", first.next.as_deref(), 2).await.unwrap();
        assert_eq!(keys(&rest), ["b/3.jpg"], "{name}");
        assert_eq!(rest.next, None, "{name}");
    }
}
