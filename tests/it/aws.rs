//! pixflow against S3 (the real moto server) and as a Lambda Function URL: documented event
//! payloads in-process, the streaming adapter, and the built binary under cargo-lambda's runtime
//! emulator.

use crate::fixtures;
use crate::s3::{client, moto};
use http::StatusCode;
use pixflow::aws::{S3Location, S3Source, S3Store};
use pixflow::cache::{NoStore, ResultStore};
use pixflow::config::Config;
use pixflow::source::Source;
use pixflow::AppState;
use std::sync::Arc;
use std::time::Duration;

fn s3_state(source: S3Source, store: Option<S3Store>, config: Config) -> AppState {
    let store: Arc<dyn ResultStore> = match store {
        Some(s) => Arc::new(s),
        None => Arc::new(NoStore),
    };
    AppState::new(config, Arc::new(source) as Arc<dyn Source>, store)
}

async fn bucket_with_fixtures() -> String {
    let m = moto();
    let b = m.bucket().await;
    for name in ["quadrants.jpg", "big.jpg", "text.jpg"] {
        m.put(&b, &format!("img/{name}"), &std::fs::read(fixtures::dir().join(name)).unwrap()).await;
    }
    b
}

fn loc(url: &str) -> S3Location {
    S3Location::parse(url).unwrap()
}

/// AWS's image handler's base64 request names its bucket: this origin's source bucket is served,
/// any other is 403 (DESIGN §9).
#[tokio::test]
async fn an_image_handler_request_may_name_only_the_source_bucket() {
    use base64::Engine as _;
    let b = bucket_with_fixtures().await;
    let at = loc(&format!("s3://{b}/img"));
    let config = Config { source: pixflow::config::SourceConfig::S3(at.clone()), ..Config::default() };
    let s = s3_state(S3Source::new(moto().client(), at), None, config);
    let url = |bucket: &str| {
        let json =
            format!(r#"{{"bucket":"{bucket}","key":"quadrants.jpg","edits":{{"resize":{{"width":50}}}}}}"#);
        format!("/{}", base64::engine::general_purpose::STANDARD.encode(json))
    };
    let got = crate::get(&s, &url(&b)).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.image().width(), 50);
    assert_eq!(crate::get(&s, &url("another-bucket")).await.status, StatusCode::FORBIDDEN);
    assert_eq!(crate::get(&s, &format!("/s3:{b}/fit-in/40x40/quadrants.jpg")).await.image().width(), 40);
}

#[tokio::test]
async fn serves_from_s3_with_every_status() {
    let b = bucket_with_fixtures().await;
    let s = s3_state(S3Source::new(moto().client(), loc(&format!("s3://{b}/img"))), None, Config::default());
    let got = crate::get(&s, "/w_100/quadrants.jpg").await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.image().width(), 100);
    let etag = got.header("etag").unwrap().to_string();
    let again = crate::request(&s, "GET", "/w_100/quadrants.jpg", &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert_eq!(crate::get(&s, "/w_100/missing.jpg").await.status, StatusCode::NOT_FOUND);
    assert_eq!(crate::get(&s, "/w_100/text.jpg").await.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let original = crate::get(&s, "/quadrants.jpg").await;
    assert_eq!(original.body, std::fs::read(fixtures::dir().join("quadrants.jpg")).unwrap());
    let small = Config { max_source_bytes: 1000, ..Config::default() };
    let s = s3_state(S3Source::new(moto().client(), loc(&format!("s3://{b}/img"))), None, small);
    assert_eq!(crate::get(&s, "/w_100/big.jpg").await.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_wrong_secret_is_refused_by_the_server_and_answers_502() {
    let b = bucket_with_fixtures().await;
    let m = moto();
    let wrong = client(&m.endpoint, &m.access_key, "not-the-secret", Duration::from_secs(5));
    let s = s3_state(S3Source::new(wrong, loc(&format!("s3://{b}/img"))), None, Config::default());
    let got = crate::get(&s, "/w_100/quadrants.jpg").await;
    assert_eq!(got.status, StatusCode::BAD_GATEWAY);
    assert_eq!(got.header("cache-control"), Some("no-store"));
    assert_eq!(got.json()["error"], "origin_failure");
}

#[tokio::test]
async fn a_server_that_is_down_is_502_and_a_silent_one_504() {
    // Nothing listens on a port held by a socket that is bound but never listens (a port merely
    // released could be taken by another test's server meanwhile, which made this flaky).
    let held = tokio::net::TcpSocket::new_v4().unwrap();
    held.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = held.local_addr().unwrap().port();
    // Refused connections are retried with jittered back-off; the timeout leaves room for all
    // three attempts, so the answer is the refusal (502), not the deadline (504).
    let down = client(&format!("http://127.0.0.1:{port}"), "k", "s", Duration::from_secs(15));
    let s = s3_state(S3Source::new(down, loc("s3://bucket/img")), None, Config::default());
    let got = crate::get(&s, "/w_100/quadrants.jpg").await;
    assert_eq!(got.status, StatusCode::BAD_GATEWAY);
    assert_eq!(s.stats.transforms(), 0);
    drop(held);

    // A server that accepts and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = silent.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(sock);
        }
    });
    let slow = client(&format!("http://{addr}"), "k", "s", Duration::from_millis(700));
    let s = s3_state(S3Source::new(slow, loc("s3://bucket/img")), None, Config::default());
    let got = crate::get(&s, "/w_100/quadrants.jpg").await;
    assert_eq!(got.status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(got.header("cache-control"), Some("no-store"));
    let before = accepted.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(crate::get(&s, "/w_100/quadrants.jpg").await.status, StatusCode::GATEWAY_TIMEOUT);
    assert!(accepted.load(std::sync::atomic::Ordering::SeqCst) > before, "the failure was not cached");
}

#[tokio::test]
async fn results_go_to_s3_key_first_and_a_changed_original_is_rendered_again() {
    let b = bucket_with_fixtures().await;
    let m = moto();
    let src = || S3Source::new(m.client(), loc(&format!("s3://{b}/img")));
    let store =
        || S3Store::new(m.client(), loc(&format!("s3://{b}/results")), "public, max-age=31536000, immutable");
    let first = s3_state(src(), Some(store()), Config::default());
    let a = crate::get(&first, "/w_64,f_webp/quadrants.jpg").await;
    assert_eq!(a.status, StatusCode::OK);
    let obj = m
        .client()
        .head_object()
        .bucket(&b)
        .key("results/quadrants.jpg/f_webp,w_64.webp")
        .send()
        .await
        .unwrap();
    assert_eq!(obj.content_type(), Some("image/webp"));
    assert_eq!(obj.cache_control(), Some("public, max-age=31536000, immutable"));
    assert_eq!(obj.metadata().unwrap().get("variant").map(String::as_str), Some("f_webp,w_64.webp"));
    assert!(obj.metadata().unwrap().contains_key("source-etag"));

    let second = s3_state(src(), Some(store()), Config::default());
    let b2 = crate::get(&second, "/w_64,f_webp/quadrants.jpg").await;
    assert_eq!((b2.body == a.body, second.stats.transforms(), second.stats.store_hits()), (true, 0, 1));

    m.put(&b, "img/quadrants.jpg", &std::fs::read(fixtures::dir().join("big.jpg")).unwrap()).await;
    let third = s3_state(src(), Some(store()), Config::default());
    let c = crate::get(&third, "/w_64,f_webp/quadrants.jpg").await;
    assert_eq!(third.stats.transforms(), 1, "a new ETag means a new render");
    assert_ne!(c.header("etag"), a.header("etag"));

    let purged = store().purge(&pixflow::spec::validate_key("quadrants.jpg").unwrap()).await.unwrap();
    assert_eq!(purged, 1);
}

#[tokio::test]
async fn a_result_store_failure_still_answers_200() {
    let b = bucket_with_fixtures().await;
    let m = moto();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dead = client(&format!("http://127.0.0.1:{port}"), "k", "s", Duration::from_secs(1));
    let s = s3_state(
        S3Source::new(m.client(), loc(&format!("s3://{b}/img"))),
        Some(S3Store::new(dead, loc("s3://nowhere/results"), "x")),
        Config::default(),
    );
    let got = crate::get(&s, "/w_50/quadrants.jpg").await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.image().width(), 50);
}
