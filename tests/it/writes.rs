//! The write endpoints on a folder source (DESIGN §8): auth, uploads checked before anything is
//! stored, created/replaced/If-None-Match, eager variants, purges on replace and delete,
//! listings, jobs in every request shape the seed projects sent, and concurrent replacements.

use crate::{fixtures, request, request_with_body, state_over, Got};
use http::StatusCode;
use pixflow::config::Config;
use pixflow::spec::parse_options;
use pixflow::AppState;
use std::path::{Path, PathBuf};

const KEY: &str = "0123456789abcdef-test-key";

struct Site {
    state: AppState,
    originals: tempfile::TempDir,
    results: tempfile::TempDir,
}

fn site(eager: &[&str]) -> Site {
    let (originals, results) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let config = Config {
        api_key: Some(KEY.into()),
        eager: eager.iter().map(|e| parse_options(e, 8192).unwrap()).collect(),
        ..Config::default()
    };
    let state = state_over(originals.path(), Some(results.path()), config);
    Site { state, originals, results }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures::dir().join(name)).unwrap()
}

async fn put(s: &Site, key: &str, body: Vec<u8>, extra: &[(&str, &str)]) -> Got {
    let mut headers = vec![("x-api-key", KEY), ("content-type", "application/octet-stream")];
    headers.extend_from_slice(extra);
    request_with_body(&s.state, "PUT", &format!("/_/originals/{key}"), &headers, body).await
}

async fn job(s: &Site, body: serde_json::Value) -> Got {
    let headers = [("x-api-key", KEY), ("content-type", "application/json")];
    request_with_body(&s.state, "POST", "/_/jobs", &headers, body.to_string().into_bytes()).await
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut dirs = vec![PathBuf::from(dir)];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn write_endpoints_are_404_without_an_api_key_and_401_with_a_wrong_one() {
    let off = state_over(&fixtures::dir(), None, Config::default());
    for (method, path) in [
        ("PUT", "/_/originals/a.jpg"),
        ("GET", "/_/originals"),
        ("DELETE", "/_/originals/a.jpg"),
        ("POST", "/_/jobs"),
    ] {
        let got = request(&off, method, path, &[("x-api-key", KEY)]).await;
        assert_eq!(got.status, StatusCode::NOT_FOUND, "{method} {path} without --api-key");
    }
    let s = site(&[]);
    for given in [None, Some("0123456789abcdef-test-kez"), Some("short")] {
        let headers: Vec<(&str, &str)> = given.map(|k| ("x-api-key", k)).into_iter().collect();
        let got =
            request_with_body(&s.state, "PUT", "/_/originals/a.jpg", &headers, fixture("quadrants.jpg"))
                .await;
        assert_eq!(got.status, StatusCode::UNAUTHORIZED, "{given:?}");
        assert_eq!(got.header("cache-control"), Some("no-store"));
    }
    assert!(files(s.originals.path()).is_empty(), "nothing stored without the key");
    let wrong = request(&s.state, "POST", "/_/originals", &[("x-api-key", KEY)]).await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong.header("allow"), Some("GET, HEAD"));
}

#[tokio::test]
async fn an_upload_is_stored_described_and_served_then_replaced() {
    let s = site(&[]);
    let got = put(&s, "photos/my%20cat.jpg", fixture("orient/6.jpg"), &[]).await;
    assert_eq!(got.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&got.body));
    let j = got.json();
    assert_eq!(j["key"], "photos/my cat.jpg");
    assert_eq!((j["format"].as_str(), j["contentType"].as_str()), (Some("jpeg"), Some("image/jpeg")));
    // Displayed size: orientation 6 turns the stored 40×80 into 80×40.
    assert_eq!((j["width"].as_u64(), j["height"].as_u64()), (Some(80), Some(40)));
    assert_eq!(j["bytes"].as_u64(), Some(fixture("orient/6.jpg").len() as u64));
    assert_eq!(std::fs::read(s.originals.path().join("photos/my cat.jpg")).unwrap(), fixture("orient/6.jpg"));
    let served = request(&s.state, "GET", "/w_40/photos/my%20cat.jpg", &[]).await;
    assert_eq!((served.status, served.image().width(), served.image().height()), (StatusCode::OK, 40, 20));
    assert!(served.header("etag").is_some());

    let again = put(&s, "photos/my%20cat.jpg", fixture("quadrants.png"), &[]).await;
    assert_eq!(again.status, StatusCode::OK, "a replacement is 200");
    assert_eq!(again.json()["format"], "png");
    assert_ne!(again.json()["etag"], j["etag"]);
    let refused = put(&s, "photos/my%20cat.jpg", fixture("small.png"), &[("if-none-match", "*")]).await;
    assert_eq!(refused.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(refused.json()["error"], "exists");
    let new = put(&s, "fresh.png", fixture("small.png"), &[("if-none-match", "*")]).await;
    assert_eq!(new.status, StatusCode::CREATED);
    assert_eq!(files(s.originals.path()), ["fresh.png", "photos/my cat.jpg"]);
}

/// Nothing that every URL would refuse is stored, and nothing partial is left behind.
#[tokio::test]
async fn an_upload_that_is_not_a_servable_image_stores_nothing() {
    let s = site(&[]);
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        ("text.jpg", fixture("text.jpg"), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_image"),
        ("empty.jpg", Vec::new(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_image"),
        ("cut-header.jpg", fixture("cut-header.jpg"), StatusCode::UNPROCESSABLE_ENTITY, "corrupt_image"),
        ("huge.png", fixture("huge.png"), StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
        // An ICO is named (passed through when it is already stored) but never decoded.
        ("icon.ico", ico(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_image"),
    ];
    for (key, body, status, code) in cases {
        let got = put(&s, key, body, &[]).await;
        assert_eq!((got.status, got.json()["error"].as_str()), (status, Some(code)), "{key}");
    }
    // A truncated JPEG is served as browsers show it (the rest grey), so it is accepted.
    assert_eq!(put(&s, "truncated.jpg", fixture("truncated.jpg"), &[]).await.status, StatusCode::CREATED);
    std::fs::remove_file(s.originals.path().join("truncated.jpg")).unwrap();
    let small = Site {
        state: state_over(
            s.originals.path(),
            None,
            Config { max_source_bytes: 1000, api_key: Some(KEY.into()), ..Config::default() },
        ),
        ..site(&[])
    };
    let got = put(&small, "big.jpg", fixture("big.jpg"), &[]).await;
    assert_eq!(got.status, StatusCode::PAYLOAD_TOO_LARGE, "over --max-source-mb");
    assert!(files(s.originals.path()).is_empty(), "{:?}", files(s.originals.path()));
}

/// A 16×16 ICO with one 32-bit BMP image, as Windows writes them.
fn ico() -> Vec<u8> {
    let mut bmp = Vec::new();
    bmp.extend_from_slice(&40u32.to_le_bytes());
    bmp.extend_from_slice(&16i32.to_le_bytes());
    bmp.extend_from_slice(&32i32.to_le_bytes());
    bmp.extend_from_slice(&1u16.to_le_bytes());
    bmp.extend_from_slice(&32u16.to_le_bytes());
    bmp.extend_from_slice(&[0; 24]);
    bmp.extend(std::iter::repeat_n(0x80, 16 * 16 * 4 + 16 * 4));
    let mut ico = vec![0, 0, 1, 0, 1, 0, 16, 16, 0, 0, 1, 0, 32, 0];
    ico.extend_from_slice(&(bmp.len() as u32).to_le_bytes());
    ico.extend_from_slice(&22u32.to_le_bytes());
    ico.extend(bmp);
    ico
}

#[tokio::test]
async fn keys_are_checked_as_image_urls_check_them() {
    let s = site(&[]);
    for (raw, status) in [
        ("a/../b.jpg", StatusCode::BAD_REQUEST),
        ("a/%2E%2E/b.jpg", StatusCode::BAD_REQUEST),
        ("_/x.jpg", StatusCode::BAD_REQUEST),
        ("a//b.jpg", StatusCode::BAD_REQUEST),
        ("%FF.jpg", StatusCode::BAD_REQUEST),
        ("a%5Cb.jpg", StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(put(&s, raw, fixture("small.png"), &[]).await.status, status, "{raw}");
    }
    // A link inside the folder must not lead a write out of it.
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), s.originals.path().join("link")).unwrap();
    let got = put(&s, "link/x.png", fixture("small.png"), &[]).await;
    assert_eq!(got.status, StatusCode::CONFLICT);
    assert!(files(outside.path()).is_empty());
    // A file where a folder must be, and a folder where the file must be.
    assert_eq!(put(&s, "a.png", fixture("small.png"), &[]).await.status, StatusCode::CREATED);
    assert_eq!(put(&s, "a.png/b.png", fixture("small.png"), &[]).await.status, StatusCode::CONFLICT);
    std::fs::create_dir_all(s.originals.path().join("dir/sub")).unwrap();
    assert_eq!(put(&s, "dir", fixture("small.png"), &[]).await.status, StatusCode::CONFLICT);
    let leftovers: Vec<_> =
        files(s.originals.path()).into_iter().filter(|f| f.contains(".pixflow-upload-")).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// The stored variants of `key` in the folder store: (variant, source ETag, width, height).
fn stored(s: &Site, key: &str) -> Vec<(String, String, u32, u32)> {
    let dir = s.results.path().join(key);
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut out: Vec<_> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let data = std::fs::read(&p).unwrap();
            let nl = data.iter().position(|&b| b == b'\n').unwrap();
            let header: serde_json::Value = serde_json::from_slice(&data[..nl]).unwrap();
            let size = imagesize::blob_size(&data[nl + 1..]).unwrap();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, header["source_etag"].as_str().unwrap().to_string(), size.width as u32, size.height as u32)
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn eager_variants_are_rendered_on_upload_and_purged_on_replace_and_delete() {
    let s = site(&["w_40,h_40,c_fill", "w_30,f_auto"]);
    let got = put(&s, "q.jpg", fixture("quadrants.jpg"), &[]).await;
    assert_eq!(got.status, StatusCode::CREATED);
    let etag = got.json()["etag"].as_str().unwrap().to_string();
    let variants = got.json()["variants"].as_array().unwrap().clone();
    // f_auto is rendered in every format the edge asks for: AVIF, WebP and JPEG.
    assert_eq!(variants.len(), 4, "{variants:?}");
    let types: Vec<_> = variants.iter().map(|v| v["contentType"].as_str().unwrap()).collect();
    assert_eq!(types, ["image/jpeg", "image/jpeg", "image/avif", "image/webp"]);
    assert!(variants.iter().all(|v| v["statusCode"] == 200 && v["destinationKey"].is_string()));
    assert_eq!((variants[0]["width"].as_u64(), variants[0]["height"].as_u64()), (Some(40), Some(40)));
    assert_eq!((variants[1]["width"].as_u64(), variants[1]["height"].as_u64()), (Some(30), Some(15)));
    let before = stored(&s, "q.jpg");
    assert_eq!(before.len(), 4);
    assert!(before.iter().all(|(_, e, ..)| *e == etag), "{before:?}");
    // A request for an eager variant is a store hit: no transform.
    let transforms = s.state.stats.transforms();
    let hit = request(&s.state, "GET", "/w_40,h_40,c_fill/q.jpg", &[]).await;
    assert_eq!((hit.status, s.state.stats.transforms()), (StatusCode::OK, transforms));

    // Replaced by a picture of another shape: the old variants are gone, the new ones stored.
    let replaced = put(&s, "q.jpg", fixture("small.png"), &[]).await;
    assert_eq!((replaced.status, replaced.json()["purged"].as_u64()), (StatusCode::OK, Some(4)));
    let new_etag = replaced.json()["etag"].as_str().unwrap().to_string();
    let after = stored(&s, "q.jpg");
    assert_eq!(after.len(), 4);
    assert!(after.iter().all(|(_, e, ..)| *e == new_etag), "{after:?}");
    let served = request(&s.state, "GET", "/w_30/q.jpg", &[]).await;
    assert_eq!(served.image().height(), 15, "40×20 → 30×15");

    let deleted = request(&s.state, "DELETE", "/_/originals/q.jpg", &[("x-api-key", KEY)]).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(stored(&s, "q.jpg").is_empty());
    assert_eq!(request(&s.state, "GET", "/w_40,h_40,c_fill/q.jpg", &[]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(request(&s.state, "GET", "/q.jpg", &[]).await.status, StatusCode::NOT_FOUND);
    let again = request(&s.state, "DELETE", "/_/originals/q.jpg", &[("x-api-key", KEY)]).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn listing_pages_through_originals() {
    let s = site(&[]);
    for k in ["p/3.png", "p/1.png", "p/2.png", "q.png"] {
        assert_eq!(put(&s, k, fixture("small.png"), &[]).await.status, StatusCode::CREATED);
    }
    let list = |q: &str| {
        let uri = format!("/_/originals{q}");
        let state = s.state.clone();
        async move { request(&state, "GET", &uri, &[("x-api-key", KEY)]).await }
    };
    let all = list("").await;
    assert_eq!(all.status, StatusCode::OK);
    let keys = |g: &Got| {
        g.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["key"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&all), ["p/1.png", "p/2.png", "p/3.png", "q.png"]);
    assert!(all.json()["next"].is_null());
    let item = &all.json()["items"][0];
    assert_eq!(item["bytes"].as_u64(), Some(fixture("small.png").len() as u64));
    assert!(item["etag"].is_string() && item["lastModified"].is_string());
    let first = list("?prefix=p%2F&limit=2").await;
    assert_eq!(
        (keys(&first), first.json()["next"].as_str()),
        (vec!["p/1.png".to_string(), "p/2.png".into()], Some("p/2.png"))
    );
    let rest = list("?prefix=p/&limit=2&after=p%2F2.png").await;
    assert_eq!(keys(&rest), ["p/3.png"]);
    assert!(rest.json()["next"].is_null());
    for bad in ["?limit=0", "?limit=1001", "?limit=x", "?bucket=b"] {
        assert_eq!(list(bad).await.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let embedded = AppState::new(
        Config { api_key: Some(KEY.into()), ..Config::default() },
        std::sync::Arc::new(pixflow::source::EmbeddedSource),
        std::sync::Arc::new(pixflow::cache::NoStore),
    );
    let got = request_with_body(
        &embedded,
        "PUT",
        "/_/originals/x.png",
        &[("x-api-key", KEY)],
        fixture("small.png"),
    )
    .await;
    assert_eq!(
        (got.status, got.json()["error"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("read_only"))
    );
}

#[tokio::test]
async fn jobs_render_variants_and_report_each_outcome() {
    let s = site(&["w_20,h_20,c_fill"]);
    for k in ["a.jpg", "b.png"] {
        let src = if k == "a.jpg" { "quadrants.jpg" } else { "small.png" };
        std::fs::write(s.originals.path().join(k), fixture(src)).unwrap();
    }
    let got =
        job(&s, serde_json::json!({"sourceKeys": ["a.jpg", "b.png"], "variants": ["w_50", "w_60,f_webp"]}))
            .await;
    assert_eq!(got.status, StatusCode::OK, "{}", String::from_utf8_lossy(&got.body));
    assert_eq!(got.json()["status"], "succeeded");
    let results = got.json()["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), 4);
    let r = &results[1];
    assert_eq!((r["sourceKey"].as_str(), r["contentType"].as_str()), (Some("a.jpg"), Some("image/webp")));
    assert_eq!((r["width"].as_u64(), r["height"].as_u64()), (Some(60), Some(30)));
    let dest = r["destinationKey"].as_str().unwrap();
    assert!(std::fs::metadata(dest).unwrap().len() > r["fileSize"].as_u64().unwrap(), "header + bytes");
    assert_eq!(r["message"], "ok");

    // The seeds' shapes: an image key alone gets the eager variants.
    let seed = job(&s, serde_json::json!({"imageKey": "b.png"})).await;
    assert_eq!(seed.status, StatusCode::OK);
    assert_eq!(seed.json()["results"][0]["width"].as_u64(), Some(20));
    // Buckets: a folder source has none, so any bucket named is refused.
    let relay = job(
        &s,
        serde_json::json!({"sourceBucket": "theirs", "sourceKey": "a.jpg", "destinationBucket": "mine"}),
    )
    .await;
    assert_eq!((relay.status, relay.json()["error"].as_str()), (StatusCode::FORBIDDEN, Some("other_bucket")));

    let partial =
        job(&s, serde_json::json!({"sourceKeys": ["a.jpg", "missing.jpg"], "variants": ["w_10"]})).await;
    assert_eq!(
        (partial.status, partial.json()["status"].as_str()),
        (StatusCode::MULTI_STATUS, Some("partial"))
    );
    assert_eq!(partial.json()["results"][1]["statusCode"], 404);
    let failed = job(&s, serde_json::json!({"sourceKey": "missing.jpg", "variants": ["w_10"]})).await;
    assert_eq!((failed.status, failed.json()["status"].as_str()), (StatusCode::NOT_FOUND, Some("failed")));

    let many: Vec<String> = (0..101).map(|i| format!("k{i}.jpg")).collect();
    let variants: Vec<String> = (1..=21).map(|i| format!("w_{i}")).collect();
    for body in [
        serde_json::json!({"sourceKeys": many, "variants": ["w_10"]}),
        serde_json::json!({"sourceKey": "a.jpg", "variants": variants}),
        serde_json::json!({"sourceKey": "a.jpg", "variants": []}),
        serde_json::json!({"sourceKey": "a.jpg", "variants": [""]}),
        serde_json::json!({"sourceKey": "a.jpg", "variants": ["w_abc"]}),
        serde_json::json!({"sourceKey": "a.jpg", "sourceKeys": ["b.png"]}),
        serde_json::json!({"sourceKey": "../a.jpg"}),
        serde_json::json!({"sourceKey": "a.jpg", "colour": "red"}),
        serde_json::json!(["a.jpg"]),
    ] {
        let got = job(&s, body.clone()).await;
        assert_eq!(got.status, StatusCode::BAD_REQUEST, "{body}: {}", String::from_utf8_lossy(&got.body));
    }
    let huge =
        request_with_body(&s.state, "POST", "/_/jobs", &[("x-api-key", KEY)], vec![b' '; 70_000]).await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    let no_eager = site(&[]);
    std::fs::write(no_eager.originals.path().join("a.jpg"), fixture("quadrants.jpg")).unwrap();
    assert_eq!(
        job(&no_eager, serde_json::json!({"imageKey": "a.jpg"})).await.status,
        StatusCode::BAD_REQUEST
    );
}

/// Concurrent replacements of one key leave the result store consistent with the last write:
/// every stored variant is made from the original that is there at the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_replacements_leave_the_store_consistent_with_the_last_write() {
    let s = site(&["w_24", "w_16,h_16,c_fill"]);
    let bodies =
        [fixture("quadrants.jpg"), fixture("small.png"), fixture("orient/6.jpg"), fixture("big.jpg")];
    for round in 0..3 {
        let mut tasks = Vec::new();
        for (i, body) in bodies.iter().enumerate() {
            let (state, body) = (s.state.clone(), body.clone());
            tasks.push(tokio::spawn(async move {
                let headers = [("x-api-key", KEY)];
                let got = request_with_body(&state, "PUT", "/_/originals/same.jpg", &headers, body).await;
                (i, got.status)
            }));
        }
        for t in tasks {
            let (i, status) = t.await.unwrap();
            assert!(
                status == StatusCode::CREATED || status == StatusCode::OK,
                "round {round}, body {i}: {status}"
            );
        }
        let original = std::fs::read(s.originals.path().join("same.jpg")).unwrap();
        let last =
            bodies.iter().position(|b| *b == original).expect("the original is one of the uploads, whole");
        let list = request(&s.state, "GET", "/_/originals", &[("x-api-key", KEY)]).await;
        let etag = list.json()["items"][0]["etag"].as_str().unwrap().to_string();
        let variants = stored(&s, "same.jpg");
        assert_eq!(variants.len(), 2, "round {round}: {variants:?}");
        let img = image::load_from_memory(&original).unwrap();
        let shown = if last == 2 { (img.height(), img.width()) } else { (img.width(), img.height()) };
        for (name, source_etag, w, h) in &variants {
            assert_eq!(source_etag, &etag, "round {round}: {name} is from another version");
            if name.starts_with("w_24") {
                let want = (24.0 * shown.1 as f64 / shown.0 as f64).round() as u32;
                assert_eq!((*w, *h), (24, want), "round {round}: made from upload {last}");
            }
        }
    }
}
