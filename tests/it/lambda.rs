//! The Lambda Function URL runtime: AWS's documented event payloads through the handler
//! in-process, the streaming adapter carrying a result over 6 MB, and the built binary under
//! cargo-lambda's runtime emulator.

use crate::fixtures;
use futures_util::StreamExt;
use http::StatusCode;
use pixflow::config::Config;
use pixflow::runtime::lambda::handler;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tower::ServiceExt;

/// A Function URL event (payload format 2.0) as AWS documents it.
fn event(raw_path: &str, raw_query: &str, headers: serde_json::Value) -> String {
    let query: serde_json::Map<String, serde_json::Value> = raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), serde_json::Value::String(v.to_string()))
        })
        .collect();
    serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "cookies": ["session=abc", "theme=dark"],
        "headers": headers,
        "queryStringParameters": if query.is_empty() { serde_json::Value::Null } else { serde_json::Value::Object(query) },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdefghijklmnopqrstuvwxyz0",
            "domainName": "abcdefghijklmnopqrstuvwxyz0.lambda-url.eu-west-1.on.aws",
            "domainPrefix": "abcdefghijklmnopqrstuvwxyz0",
            "http": {
                "method": "GET",
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "Amazon CloudFront"
            },
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "routeKey": "$default",
            "stage": "$default",
            "time": "21/Nov/2026:19:03:58 +0000",
            "timeEpoch": 1_795_000_000_000u64
        },
        "isBase64Encoded": false
    })
    .to_string()
}

fn state() -> pixflow::AppState {
    crate::state_with(Config::default())
}

async fn invoke(raw_path: &str, raw_query: &str, headers: serde_json::Value) -> crate::Got {
    let req = lambda_http::request::from_str(&event(raw_path, raw_query, headers)).expect("a valid event");
    let resp = handler(state()).oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes().to_vec();
    crate::Got { status, headers, body }
}

#[tokio::test]
async fn documented_function_url_events_run_through_the_handler() {
    let headers = serde_json::json!({
        "accept": "image/webp,*/*",
        "host": "abcdefghijklmnopqrstuvwxyz0.lambda-url.eu-west-1.on.aws",
        "x-forwarded-proto": "https"
    });
    let got = invoke("/quadrants.jpg", "w=80&fit=cover&h=40", headers.clone()).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.header("content-type"), Some("image/jpeg"));
    assert_eq!((got.image().width(), got.image().height()), (80, 40));

    // A percent-encoded key reaches the source decoded once.
    let spaced = fixtures::dir().join("with space é.png");
    std::fs::copy(fixtures::dir().join("small.png"), &spaced).unwrap();
    let got = invoke("/w_20/with%20space%20%C3%A9.png", "", headers.clone()).await;
    assert_eq!(got.status, StatusCode::OK, "{}", String::from_utf8_lossy(&got.body));
    assert_eq!(got.image().width(), 20);

    // If-None-Match in the event's lower-case headers.
    let etag = invoke("/w_50/quadrants.jpg", "", headers.clone()).await.header("etag").unwrap().to_string();
    let mut h = headers.clone();
    h["if-none-match"] = serde_json::Value::String(etag);
    assert_eq!(invoke("/w_50/quadrants.jpg", "", h).await.status, StatusCode::NOT_MODIFIED);

    let missing = invoke("/w_50/missing.jpg", "", headers).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.header("content-type"), Some("application/json"));
}

/// A noise PNG that stays over 6 MB when re-encoded, and its URL.
fn large_fixture() -> &'static str {
    // Written once: two tests asking at the same time must not read a half-written file.
    static WRITTEN: std::sync::Once = std::sync::Once::new();
    let path = fixtures::dir().join("noise.png");
    WRITTEN.call_once(|| {
        let mut seed = 0x2545_f491_u32;
        let img = image::RgbImage::from_fn(1800, 1400, |_, _| {
            let mut px = [0u8; 3];
            for c in &mut px {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                *c = seed as u8;
            }
            image::Rgb(px)
        });
        img.save(&path).unwrap();
    });
    "/w_1800,f_png/noise.png"
}

#[tokio::test]
async fn the_streaming_adapter_carries_more_than_6_mb() {
    use lambda_http::lambda_runtime::{Context, LambdaEvent};
    let url = large_fixture();
    let expected = crate::get(&state(), url).await.body;
    assert!(expected.len() > 6 * 1024 * 1024, "fixture result is {} bytes", expected.len());

    let payload: lambda_http::request::LambdaRequest =
        serde_json::from_str(&event(url, "", serde_json::json!({"accept": "*/*"}))).unwrap();
    let adapter = lambda_http::StreamAdapter::from(handler(state()));
    let resp = adapter.oneshot(LambdaEvent::new(payload, Context::default())).await.unwrap();
    assert_eq!(resp.metadata_prelude.status_code, StatusCode::OK);
    assert_eq!(resp.metadata_prelude.headers.get("content-type").unwrap(), "image/png");
    let mut stream = resp.stream;
    let mut got = Vec::new();
    while let Some(chunk) = stream.next().await {
        got.extend_from_slice(&chunk.unwrap());
    }
    assert!(got == expected, "{} bytes streamed, {} expected", got.len(), expected.len());
}

/// cargo-lambda's emulator (runtime API + Function URLs) and the functions it serves, all stopped
/// on drop. `tests/it/artifacts.rs` runs the shipped artifacts behind it too.
pub(crate) struct Emulator {
    pub(crate) port: u16,
    children: Vec<Child>,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A fresh `cargo lambda watch`, serving no function yet.
pub(crate) fn emulator() -> Emulator {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo_lambda = root.join("target/tools/venv/bin/cargo-lambda");
    assert!(cargo_lambda.exists(), "{} is missing: run scripts/setup first", cargo_lambda.display());
    let port = free_port();
    let watch = Command::new(&cargo_lambda)
        .args(["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", &port.to_string()])
        .current_dir(root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start cargo lambda watch");
    let emu = Emulator { port, children: vec![watch] };
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the emulator did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    emu
}

impl Emulator {
    /// Starts `function` (with whatever environment the caller gave it) as the emulator's Lambda
    /// function, adding the runtime's variables and a memory size of `memory_mb`.
    pub(crate) fn serve(&mut self, mut function: Command, memory_mb: u32) {
        let child = function
            .env("AWS_LAMBDA_RUNTIME_API", format!("http://127.0.0.1:{}/.rt", self.port))
            .env("AWS_LAMBDA_FUNCTION_NAME", "_")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory_mb.to_string())
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "test")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the function");
        self.children.push(child);
    }
}

/// The built binary over the fixtures, behind a fresh emulator.
fn start_emulator() -> Emulator {
    let mut emu = emulator();
    let mut function = Command::new(env!("CARGO_BIN_EXE_pixflow"));
    function.env("PIXFLOW_SOURCE", fixtures::dir());
    emu.serve(function, 1024);
    emu
}

fn fetch(emu: &Emulator, path: &str, headers: &[(&str, &str)]) -> (u16, Option<String>, Vec<u8>) {
    let mut req = ureq::get(&format!("http://127.0.0.1:{}/lambda-url/_{path}", emu.port))
        .timeout(Duration::from_secs(60));
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let resp = match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{path}: {e}"),
    };
    let status = resp.status();
    let etag = resp.header("etag").map(str::to_string);
    let mut body = Vec::new();
    resp.into_reader().read_to_end(&mut body).unwrap();
    (status, etag, body)
}

#[test]
fn the_built_binary_serves_function_urls_under_the_runtime_emulator() {
    let url = large_fixture();
    let emu = start_emulator();
    let (status, etag, body) = fetch(&emu, "/w_100/quadrants.jpg", &[]);
    assert_eq!(status, 200);
    assert_eq!(image::load_from_memory(&body).unwrap().width(), 100);
    let etag = etag.expect("an ETag");
    assert_eq!(fetch(&emu, "/w_100/quadrants.jpg", &[("If-None-Match", &etag)]).0, 304);
    assert_eq!(fetch(&emu, "/w_100/missing.jpg", &[]).0, 404);
    let (status, _, big) = fetch(&emu, url, &[]);
    assert_eq!(status, 200);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let expected = rt.block_on(crate::get(&state(), url)).body;
    assert!(
        big.len() > 6 * 1024 * 1024 && big == expected,
        "{} bytes, expected {}",
        big.len(),
        expected.len()
    );
}
