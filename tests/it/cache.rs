//! The memory cache's single flight, the result store, staleness and failures never cached.

use crate::{get, state_over};
use http::StatusCode;
use pixflow::config::Config;

fn copy_fixture(name: &str, dir: &std::path::Path, as_name: &str) {
    std::fs::copy(crate::fixtures::dir().join(name), dir.join(as_name)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_identical_misses_run_one_transform() {
    let src = tempfile::tempdir().unwrap();
    copy_fixture("big.jpg", src.path(), "a.jpg");
    let s = state_over(src.path(), None, Config::default());
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { get(&s, "/w_300,h_300,c_fill/a.jpg").await })
        })
        .collect();
    let mut etags = std::collections::HashSet::new();
    for t in tasks {
        let got = t.await.unwrap();
        assert_eq!(got.status, StatusCode::OK);
        etags.insert(got.header("etag").unwrap().to_string());
    }
    assert_eq!(etags.len(), 1);
    assert_eq!(s.stats.transforms(), 1);
    get(&s, "/w_300,h_300,c_fill/a.jpg").await;
    assert_eq!(s.stats.transforms(), 1, "a hit does not transform");
    get(&s, "/w_301,h_300,c_fill/a.jpg").await;
    assert_eq!(s.stats.transforms(), 2);
}

#[tokio::test]
async fn the_result_store_serves_a_new_process_and_notices_a_changed_original() {
    let src = tempfile::tempdir().unwrap();
    let store = tempfile::tempdir().unwrap();
    copy_fixture("quadrants.png", src.path(), "q.png");
    let first = state_over(src.path(), Some(store.path()), Config::default());
    let a = get(&first, "/w_50,f_webp/q.png").await;
    assert_eq!((a.status, first.stats.transforms()), (StatusCode::OK, 1));
    assert!(store.path().join("q.png/f_webp,w_50.webp").is_file(), "key-first layout");

    // A second process: empty memory, same store.
    let second = state_over(src.path(), Some(store.path()), Config::default());
    let b = get(&second, "/w_50,f_webp/q.png").await;
    assert_eq!(b.body, a.body);
    assert_eq!((second.stats.transforms(), second.stats.store_hits()), (0, 1));

    // The original changes: a new ETag, a new transform, never the stale result.
    std::thread::sleep(std::time::Duration::from_millis(20));
    copy_fixture("small.png", src.path(), "q.png");
    let third = state_over(src.path(), Some(store.path()), Config::default());
    let c = get(&third, "/w_50,f_webp/q.png").await;
    assert_eq!(third.stats.transforms(), 1);
    assert_ne!(c.header("etag"), a.header("etag"));
    assert_eq!(c.image().height(), 20, "small.png is 40x20 and never enlarged");
    // And in the process that had the old result in memory.
    let d = get(&first, "/w_50,f_webp/q.png").await;
    assert_eq!(d.header("etag"), c.header("etag"));
}

#[tokio::test]
async fn failures_are_not_cached() {
    let src = tempfile::tempdir().unwrap();
    let store = tempfile::tempdir().unwrap();
    let s = state_over(src.path(), Some(store.path()), Config::default());
    assert_eq!(get(&s, "/w_50/later.png").await.status, StatusCode::NOT_FOUND);
    std::fs::write(src.path().join("later.png"), b"not yet an image").unwrap();
    assert_eq!(get(&s, "/w_50/later.png").await.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(std::fs::read_dir(store.path()).unwrap().count(), 0, "nothing stored from a failure");
    std::thread::sleep(std::time::Duration::from_millis(20));
    copy_fixture("quadrants.png", src.path(), "later.png");
    let ok = get(&s, "/w_50/later.png").await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.image().width(), 50);
}

#[tokio::test]
async fn purge_removes_every_variant_of_a_key() {
    use pixflow::cache::{DirStore, ResultStore};
    let src = tempfile::tempdir().unwrap();
    let store = tempfile::tempdir().unwrap();
    copy_fixture("quadrants.png", src.path(), "q.png");
    let s = state_over(src.path(), Some(store.path()), Config::default());
    for v in ["w_10", "w_20", "w_30,f_jpeg"] {
        assert_eq!(get(&s, &format!("/{v}/q.png")).await.status, StatusCode::OK);
    }
    let dir = DirStore::new(store.path()).unwrap();
    let key = pixflow::spec::validate_key("q.png").unwrap();
    assert_eq!(dir.purge(&key).await.unwrap(), 3);
    assert_eq!(
        dir.get(
            &key,
            &pixflow::spec::Variant::new(&pixflow::spec::parse_options("w_10", 8192).unwrap(), None, None)
        )
        .await
        .unwrap(),
        None
    );
}
