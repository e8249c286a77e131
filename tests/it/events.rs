//! Originals changing on S3 (moto, signatures enforced) and the edge kept fresh (moto's
//! CloudFront API): the write API on a bucket, S3 event notifications as AWS documents them —
//! in-process and through the built binary under cargo-lambda's emulator — and the whole flow
//! upload → eager variants → replace → purge + invalidation → delete → 404 against `pixflow serve`.

use crate::s3::moto;
use crate::{fixtures, request, request_with_body};
use http::StatusCode;
use pixflow::aws::{S3Location, S3Source, S3Store};
use pixflow::config::{Config, SourceConfig, StoreConfig};
use pixflow::spec::parse_options;
use pixflow::AppState;
use std::sync::Arc;

const KEY: &str = "0123456789abcdef-test-key";

fn loc(url: &str) -> S3Location {
    S3Location::parse(url).unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixtures::dir().join(name)).unwrap()
}

/// Originals under `originals/` and results under `results/` of one bucket (so a result's own
/// event must be told from an original's), eager variants, invalidations on.
fn bucket_state(bucket: &str, eager: &[&str]) -> AppState {
    let m = moto();
    let (source, store) = (loc(&format!("s3://{bucket}/originals")), loc(&format!("s3://{bucket}/results")));
    let config = Config {
        source: SourceConfig::S3(source.clone()),
        result_store: StoreConfig::S3(store.clone()),
        api_key: Some(KEY.into()),
        eager: eager.iter().map(|e| parse_options(e, 8192).unwrap()).collect(),
        ..Config::default()
    };
    AppState::new(
        config,
        Arc::new(S3Source::new(m.client(), source)),
        Arc::new(S3Store::new(m.client(), store, "public, max-age=31536000, immutable")),
    )
    .with_s3(m.client())
    .with_invalidator(m.invalidator())
}

/// The keys under `prefix` in `bucket`.
async fn objects(bucket: &str, prefix: &str) -> Vec<String> {
    let out = moto().client().list_objects_v2().bucket(bucket).prefix(prefix).send().await.unwrap();
    out.contents().iter().filter_map(|o| o.key()).map(str::to_string).collect()
}

/// An S3 event notification as AWS documents it ("Event message structure", version 2.1), with
/// the key URL-encoded as S3 sends it.
fn notification(event_name: &str, bucket: &str, encoded_key: &str, etag: &str) -> serde_json::Value {
    serde_json::json!({"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-12-03T12:00:00.000Z",
        "eventName": event_name,
        "userIdentity": {"principalId": "AWS:AIDAJDPLRKLG7UEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "203.0.113.7"},
        "responseElements": {
            "x-amz-request-id": "C3D13FE58DE4C810",
            "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "pixflow-originals",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"}, "arn": format!("arn:aws:s3:::{bucket}")},
            "object": {"key": encoded_key, "size": 1024, "eTag": etag, "sequencer": "0055AED6DCD90281E5"}
        }
    }]})
}

async fn etag_of(bucket: &str, key: &str) -> String {
    let head = moto().client().head_object().bucket(bucket).key(key).send().await.unwrap();
    head.e_tag().unwrap().trim_matches('"').to_string()
}

#[tokio::test]
async fn uploads_to_a_bucket_purge_variants_and_invalidate_the_edge() {
    let m = moto();
    let b = m.bucket().await;
    let s = bucket_state(&b, &["w_40"]);
    let headers = [("x-api-key", KEY)];
    let got = request_with_body(
        &s,
        "PUT",
        "/_/originals/photos/my%20cat+1.jpg",
        &headers,
        fixture("quadrants.jpg"),
    )
    .await;
    assert_eq!(got.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&got.body));
    let head = m.client().head_object().bucket(&b).key("originals/photos/my cat+1.jpg").send().await.unwrap();
    assert_eq!(head.content_type(), Some("image/jpeg"), "stored with the sniffed type");
    assert_eq!(head.e_tag(), got.json()["etag"].as_str());
    assert_eq!(objects(&b, "results/").await, ["results/photos/my cat+1.jpg/w_40"]);
    // The edge path is percent-encoded as the origin form writes the key.
    assert!(m.invalidated_paths().await.contains(&"/photos/my%20cat%2B1.jpg*".to_string()));

    let again =
        request_with_body(&s, "PUT", "/_/originals/photos/my%20cat+1.jpg", &headers, fixture("small.png"))
            .await;
    assert_eq!((again.status, again.json()["purged"].as_u64()), (StatusCode::OK, Some(1)));
    let variant = request(&s, "GET", "/w_40/photos/my%20cat+1.jpg", &[]).await;
    assert_eq!(variant.image().height(), 20, "made from the replacement (40×20)");
    let refused = request_with_body(
        &s,
        "PUT",
        "/_/originals/photos/my%20cat+1.jpg",
        &[("x-api-key", KEY), ("if-none-match", "*")],
        fixture("small.png"),
    )
    .await;
    assert_eq!(refused.status, StatusCode::PRECONDITION_FAILED);

    let listed = request(&s, "GET", "/_/originals?prefix=photos/", &headers).await;
    assert_eq!(listed.json()["items"][0]["key"], "photos/my cat+1.jpg");
    assert_eq!(listed.json()["items"][0]["bytes"].as_u64(), Some(fixture("small.png").len() as u64));

    let mine = |paths: Vec<String>| paths.iter().filter(|p| *p == "/photos/my%20cat%2B1.jpg*").count();
    let before = mine(m.invalidated_paths().await);
    let deleted = request(&s, "DELETE", "/_/originals/photos/my%20cat+1.jpg", &headers).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(objects(&b, "").await.is_empty(), "original and variants gone: {:?}", objects(&b, "").await);
    assert_eq!(mine(m.invalidated_paths().await), before + 1);
    assert_eq!(request(&s, "GET", "/w_40/photos/my%20cat+1.jpg", &[]).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn jobs_on_buckets_take_the_seed_request_and_only_allowed_buckets() {
    let m = moto();
    let (b, other, foreign) = (m.bucket().await, m.bucket().await, m.bucket().await);
    m.put(&b, "originals/a.jpg", &fixture("quadrants.jpg")).await;
    m.put(&other, "a.jpg", &fixture("small.png")).await;
    let mut s = bucket_state(&b, &["w_20,h_20,c_fill"]);
    let mut config = (*s.config).clone();
    config.allowed_buckets = vec![other.clone()];
    s.config = Arc::new(config);
    let post = |body: serde_json::Value| {
        let s = s.clone();
        async move {
            request_with_body(&s, "POST", "/_/jobs", &[("x-api-key", KEY)], body.to_string().into_bytes())
                .await
        }
    };
    // The seed's request, as written: its own bucket names.
    let got =
        post(serde_json::json!({"sourceBucket": b, "sourceKey": "a.jpg", "destinationBucket": b})).await;
    assert_eq!(got.status, StatusCode::OK, "{}", String::from_utf8_lossy(&got.body));
    let r = &got.json()["results"][0];
    assert_eq!(
        (r["destinationBucket"].as_str(), r["destinationKey"].as_str()),
        (Some(b.as_str()), Some("results/a.jpg/c_fill,h_20,w_20"))
    );
    assert_eq!(
        (r["fileSize"].as_u64().is_some(), r["contentType"].as_str(), r["width"].as_u64()),
        (true, Some("image/jpeg"), Some(20))
    );
    assert_eq!(objects(&b, "results/").await, ["results/a.jpg/c_fill,h_20,w_20"]);
    // An allowed bucket, read and written at its root.
    let allowed = post(serde_json::json!({"sourceBucket": other, "sourceKey": "a.jpg", "destinationBucket": other, "variants": ["w_10"]})).await;
    assert_eq!(allowed.status, StatusCode::OK, "{}", String::from_utf8_lossy(&allowed.body));
    assert!(objects(&other, "").await.contains(&"a.jpg/w_10".to_string()));
    for body in [
        serde_json::json!({"sourceBucket": foreign, "sourceKey": "a.jpg", "destinationBucket": b}),
        serde_json::json!({"sourceBucket": b, "sourceKey": "a.jpg", "destinationBucket": foreign}),
    ] {
        let got = post(body.clone()).await;
        assert_eq!(
            (got.status, got.json()["error"].as_str()),
            (StatusCode::FORBIDDEN, Some("other_bucket")),
            "{body}"
        );
    }
    assert!(objects(&foreign, "").await.is_empty());
}

#[tokio::test]
async fn documented_s3_events_render_purge_skip_and_never_loop() {
    let m = moto();
    let b = m.bucket().await;
    let s = bucket_state(&b, &["w_40", "w_20,h_20,c_fill"]);
    // Uploaded straight to S3 (the console, `aws s3 cp`): S3 sends `+` for the space.
    m.put(&b, "originals/photos/my cat.jpg", &fixture("quadrants.jpg")).await;
    let etag = etag_of(&b, "originals/photos/my cat.jpg").await;
    let created = notification("ObjectCreated:Put", &b, "originals/photos/my+cat.jpg", &etag);
    let summary = pixflow::runtime::lambda::events(&s, created.clone()).await.unwrap();
    assert_eq!((summary["succeeded"].as_u64(), summary["failed"].as_u64()), (Some(1), Some(0)), "{summary}");
    assert_eq!(summary["results"][0]["objectKey"], "originals/photos/my cat.jpg");
    let mut stored = objects(&b, "results/").await;
    stored.sort();
    assert_eq!(stored, ["results/photos/my cat.jpg/c_fill,h_20,w_20", "results/photos/my cat.jpg/w_40"]);
    assert!(m.invalidated_paths().await.contains(&"/photos/my%20cat.jpg*".to_string()));
    // The same event again (S3 delivers at least once): the variants of this version are there.
    let again = pixflow::runtime::lambda::events(&s, created).await.unwrap();
    assert_eq!(again["results"][0]["fresh"]["purged"].as_u64(), Some(0), "nothing purged: {again}");
    assert_eq!(again["results"][0]["reason"], "the eager variants of this version are stored already");
    assert_eq!(again["results"][0]["outcome"], "succeeded");

    // A result written to the same bucket is not an original: no rendering of renders.
    let result_event = notification("ObjectCreated:Put", &b, "results/photos/my+cat.jpg/w_40", "x");
    let skipped = pixflow::runtime::lambda::events(&s, result_event).await.unwrap();
    assert_eq!(skipped["skipped"].as_u64(), Some(1), "{skipped}");
    for (bucket, key) in [
        ("another-bucket", "originals/a.jpg"),
        (b.as_str(), "elsewhere/a.jpg"),
        (b.as_str(), "originals/_/x.jpg"),
    ] {
        let other = pixflow::runtime::lambda::events(&s, notification("ObjectCreated:Put", bucket, key, "x"))
            .await
            .unwrap();
        assert_eq!(other["skipped"].as_u64(), Some(1), "{bucket}/{key}: {other}");
    }

    // A poisoned original: a failed outcome, logged, and a successful invocation — so Lambda does
    // not retry it, and nothing is stored from it.
    m.put(&b, "originals/poison.jpg", b"this is not a JPEG").await;
    let poison = notification(
        "ObjectCreated:Put",
        &b,
        "originals/poison.jpg",
        &etag_of(&b, "originals/poison.jpg").await,
    );
    let failed = pixflow::runtime::lambda::events(&s, poison).await.expect("no retry for a bad file");
    assert_eq!(failed["failed"].as_u64(), Some(1));
    assert_eq!(failed["results"][0]["variants"][0]["statusCode"], 415);
    assert!(objects(&b, "results/poison.jpg").await.is_empty());

    // Removed: its variants purged.
    m.client().delete_object().bucket(&b).key("originals/photos/my cat.jpg").send().await.unwrap();
    let removed = notification("ObjectRemoved:Delete", &b, "originals/photos/my+cat.jpg", "");
    let summary = pixflow::runtime::lambda::events(&s, removed).await.unwrap();
    assert_eq!(summary["results"][0]["fresh"]["purged"].as_u64(), Some(2), "{summary}");
    assert!(objects(&b, "results/photos").await.is_empty());
    // Not an S3 notification at all: an error, not a silent success.
    assert!(pixflow::runtime::lambda::events(&s, serde_json::json!({"Records": "x"})).await.is_err());
}

#[test]
fn s3_event_keys_decode_plus_as_space_and_percent_escapes() {
    use pixflow::events::s3::decode_key;
    assert_eq!(decode_key("photos/my+cat.jpg"), "photos/my cat.jpg");
    assert_eq!(decode_key("a%2Bb%C3%A4.jpg"), "a+bä.jpg");
    assert_eq!(decode_key("100%25+sure.png"), "100% sure.png");
}

/// The environment of a pixflow process over `bucket` on moto, as the stack sets it on Lambda.
fn bucket_env(command: &mut std::process::Command, bucket: &str) {
    let m = moto();
    command
        .env_clear()
        .env("PIXFLOW_SOURCE", format!("s3://{bucket}/originals"))
        .env("PIXFLOW_RESULT_STORE", format!("s3://{bucket}/results"))
        .env("PIXFLOW_S3_ENDPOINT", &m.endpoint)
        .env("PIXFLOW_EAGER", "w_40;w_20,h_20,c_fill")
        .env("PIXFLOW_CLOUDFRONT_DISTRIBUTION_ID", &m.distribution_id)
        .env("PIXFLOW_CLOUDFRONT_ENDPOINT", &m.endpoint)
        .env("AWS_ACCESS_KEY_ID", &m.access_key)
        .env("AWS_SECRET_ACCESS_KEY", &m.secret_key)
        .env("AWS_REGION", "us-east-1");
}

/// The artifact as the event function (`PIXFLOW_LAMBDA_ROLE=events`) under cargo-lambda's
/// emulator, invoked through the emulator's Lambda Invoke endpoint with AWS's documented event.
#[test]
fn the_built_binary_handles_s3_events_under_the_runtime_emulator() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let m = moto();
    let b = rt.block_on(m.bucket());
    rt.block_on(m.put(&b, "originals/new photo.jpg", &fixture("quadrants.jpg")));
    let etag = rt.block_on(etag_of(&b, "originals/new photo.jpg"));
    let mut emu = crate::lambda::emulator();
    let mut function = std::process::Command::new(env!("CARGO_BIN_EXE_pixflow"));
    bucket_env(&mut function, &b);
    function.env("PIXFLOW_LAMBDA_ROLE", "events");
    emu.serve(function, 512);
    let invoke = |event: &serde_json::Value| {
        let url = format!("http://127.0.0.1:{}/2015-03-31/functions/_/invocations", emu.port);
        let resp =
            ureq::post(&url).timeout(std::time::Duration::from_secs(60)).send_string(&event.to_string());
        match resp {
            Ok(r) => (r.status(), r.into_string().unwrap()),
            Err(ureq::Error::Status(s, r)) => (s, r.into_string().unwrap()),
            Err(e) => panic!("invoke: {e}"),
        }
    };
    let (status, body) = invoke(&notification("ObjectCreated:Put", &b, "originals/new+photo.jpg", &etag));
    assert_eq!(status, 200, "{body}");
    let summary: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(summary["succeeded"].as_u64(), Some(1), "{summary}");
    let mut stored = rt.block_on(objects(&b, "results/"));
    stored.sort();
    assert_eq!(stored, ["results/new photo.jpg/c_fill,h_20,w_20", "results/new photo.jpg/w_40"]);
    assert!(rt.block_on(m.invalidated_paths()).contains(&"/new%20photo.jpg*".to_string()));
    let (status, body) = invoke(&serde_json::json!({"hello": "world"}));
    assert_eq!(status, 200, "an empty notification is no work: {body}");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&body).unwrap()["records"].as_u64(), Some(0));
}

/// A process killed on drop.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// End to end, as a user meets it: `pixflow serve` over a bucket with `--eager` and invalidations,
/// driven over HTTP — upload → eager variants in the result store → replace → variants purged and
/// an invalidation recorded → delete → 404.
#[test]
fn upload_replace_delete_end_to_end_against_pixflow_serve() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let m = moto();
    let b = rt.block_on(m.bucket());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_pixflow"));
    bucket_env(&mut command, &b);
    command
        .arg("serve")
        .env("PIXFLOW_LISTEN", format!("127.0.0.1:{port}"))
        .env("PIXFLOW_API_KEY", KEY)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let _server = Running(command.spawn().unwrap());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "pixflow serve did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");
    let send = |req: ureq::Request, body: Option<&[u8]>| -> (u16, Vec<u8>) {
        let resp = match body {
            Some(b) => req.send_bytes(b),
            None => req.call(),
        };
        let resp = match resp {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{e}"),
        };
        let status = resp.status();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut resp.into_reader(), &mut bytes).unwrap();
        (status, bytes)
    };
    let put =
        |bytes: &[u8]| send(ureq::put(&url("/_/originals/cats/tom.jpg")).set("x-api-key", KEY), Some(bytes));

    let (status, body) = put(&fixture("quadrants.jpg"));
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let first: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let mut stored = rt.block_on(objects(&b, "results/"));
    stored.sort();
    assert_eq!(stored, ["results/cats/tom.jpg/c_fill,h_20,w_20", "results/cats/tom.jpg/w_40"]);
    let (status, variant) = send(ureq::get(&url("/w_40/cats/tom.jpg")), None);
    assert_eq!((status, image::load_from_memory(&variant).unwrap().height()), (200, 20));

    let invalidations = rt.block_on(m.invalidated_paths()).iter().filter(|p| *p == "/cats/tom.jpg*").count();
    let (status, body) = put(&fixture("big.jpg"));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let second: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(second["purged"].as_u64(), Some(2));
    assert_ne!(second["etag"], first["etag"]);
    let after = rt.block_on(m.invalidated_paths()).iter().filter(|p| *p == "/cats/tom.jpg*").count();
    assert_eq!(after, invalidations + 1, "the replacement invalidated the edge");
    let (_, variant) = send(ureq::get(&url("/w_40/cats/tom.jpg")), None);
    assert_eq!(image::load_from_memory(&variant).unwrap().height(), 20, "1600×800 → 40×20");
    let stored_version = rt.block_on(async {
        let out = m.client().head_object().bucket(&b).key("results/cats/tom.jpg/w_40").send().await.unwrap();
        out.metadata().and_then(|md| md.get("source-etag")).cloned().unwrap()
    });
    assert_eq!(
        Some(stored_version.as_str()),
        second["etag"].as_str(),
        "the stored variant is the new version's"
    );

    let (status, _) = send(ureq::delete(&url("/_/originals/cats/tom.jpg")).set("x-api-key", KEY), None);
    assert_eq!(status, 204);
    assert!(rt.block_on(objects(&b, "")).is_empty());
    assert_eq!(send(ureq::get(&url("/w_40/cats/tom.jpg")), None).0, 404);
    assert_eq!(send(ureq::get(&url("/cats/tom.jpg")), None).0, 404);
}
